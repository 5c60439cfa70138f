"""Remembered titles and prices (app/orders/known_books.py): an order of a book this process has
sold before takes the stock without reading the title and price back, and still records exactly
what the row holds when its stock is taken, whatever was edited in between. Both databases."""

from decimal import Decimal

import pytest
from sqlalchemy import event

from app.books.models import Book
from app.extensions import db
from app.orders.known_books import KnownBooks, known_books
from tests.conftest import assert_problem


def place(client, headers, *lines):
    return client.post("/orders", json={"items": [{"book_id": b, "quantity": q} for b, q in lines]}, headers=headers)


class TitleReads:
    """Counts the SELECTs of titles and prices an order sends (MariaDB: the server's counter of the
    test's connection, which serves the requests; SQLite: SQLAlchemy's cursor events)."""

    def __init__(self, is_mysql: bool):
        self.is_mysql = is_mysql
        self.statements: list[str] = []

    def _record(self, _conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT"):
            self.statements.append(statement)

    def selects(self, call) -> tuple[object, int]:
        conn = db.session.connection()
        if self.is_mysql:
            before = conn.exec_driver_sql("SHOW SESSION STATUS LIKE 'Com_select'").one()[1]
            result = call()
            after = conn.exec_driver_sql("SHOW SESSION STATUS LIKE 'Com_select'").one()[1]
            return result, int(after) - int(before) - 1  # less the SHOW itself
        self.statements.clear()
        event.listen(db.engines[None], "before_cursor_execute", self._record)
        try:
            result = call()
        finally:
            event.remove(db.engines[None], "before_cursor_execute", self._record)
        return result, len(self.statements)


@pytest.fixture
def reads(is_mysql):
    return TitleReads(is_mysql)


def edit(book_id: int, **values) -> None:
    db.session.execute(db.update(Book).where(Book.id == book_id).values(**values))
    db.session.commit()


def line_of(response) -> dict:
    assert response.status_code == 201, response.get_json()
    (line,) = response.get_json()["items"]
    return line


def test_a_second_order_of_a_book_reads_no_title_and_price(client, customer_headers, book, reads):
    a = book(title="Remembered", price=Decimal("12.50"), stock=10)
    first, first_selects = reads.selects(lambda: place(client, customer_headers, (a.id, 1)))
    second, second_selects = reads.selects(lambda: place(client, customer_headers, (a.id, 2)))
    assert line_of(first)["title"] == line_of(second)["title"] == "Remembered"
    assert line_of(second) == {**line_of(first), "quantity": 2, "line_total": "25.00"}
    assert second_selects == first_selects - 1  # the title and price read is the one left out
    assert known_books().get(a.id) == ("Remembered", Decimal("12.50"))
    db.session.expire_all()
    assert db.session.get(Book, a.id).stock == 7


def test_a_new_price_is_recorded_not_the_remembered_one(client, customer_headers, book):
    a = book(title="Priced", price=Decimal("10.00"), stock=10)
    assert line_of(place(client, customer_headers, (a.id, 1)))["unit_price"] == "10.00"
    edit(a.id, price=Decimal("10.01"))
    assert line_of(place(client, customer_headers, (a.id, 1)))["unit_price"] == "10.01"
    assert known_books().get(a.id) == ("Priced", Decimal("10.01"))
    assert line_of(place(client, customer_headers, (a.id, 1)))["unit_price"] == "10.01"


@pytest.mark.parametrize(
    ("before", "after"),
    [("the hobbit", "The Hobbit"), ("Cafe Society", "Café Society"), ("Straße", "Strasse")],
)
def test_a_title_edit_the_collation_calls_equal_is_recorded(client, customer_headers, book, before, after):
    """The title column's case- and accent-insensitive collation would match the remembered title;
    the byte comparison does not."""
    a = book(title=before, stock=10)
    assert line_of(place(client, customer_headers, (a.id, 1)))["title"] == before
    edit(a.id, title=after)
    assert line_of(place(client, customer_headers, (a.id, 1)))["title"] == after
    order = place(client, customer_headers, (a.id, 1))
    assert line_of(order)["title"] == after


def test_a_remembered_book_that_is_short_or_retired_is_refused_and_nothing_changes(client, customer_headers, book):
    short = book(title="Short", stock=3)
    retired = book(title="Retiring", stock=3)
    for b in (short, retired):
        line_of(place(client, customer_headers, (b.id, 1)))
    edit(retired.id, is_retired=True)
    body = assert_problem(place(client, customer_headers, (short.id, 3)), 409)
    assert body["shortages"] == [{"book_id": short.id, "title": "Short", "requested": 3, "available": 2}]
    assert_problem(place(client, customer_headers, (short.id, 1), (retired.id, 1)), 409)
    db.session.expire_all()
    assert [db.session.get(Book, b.id).stock for b in (short, retired)] == [2, 2]


def test_a_multi_line_order_mixes_remembered_and_new_books(client, customer_headers, book):
    old = book(title="Old", price=Decimal("5.00"), stock=10)
    line_of(place(client, customer_headers, (old.id, 1)))
    new = book(title="New", price=Decimal("7.25"), stock=10)
    response = place(client, customer_headers, (new.id, 2), (old.id, 1))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert [(i["title"], i["unit_price"], i["quantity"]) for i in body["items"]] == [
        ("Old", "5.00", 1),
        ("New", "7.25", 2),
    ]
    assert body["total"] == "19.50"


def test_the_memory_forgets_the_least_recently_sold_book_first():
    known = KnownBooks(max_entries=2)
    known.remember([(1, "One", Decimal("1.00")), (2, "Two", Decimal("2.00"))])
    assert known.get(1) == ("One", Decimal("1.00"))  # 1 is now the most recently used
    known.remember([(3, "Three", Decimal("3.00"))])
    assert known.get(2) is None
    assert known.get(1) == ("One", Decimal("1.00")) and known.get(3) == ("Three", Decimal("3.00"))
