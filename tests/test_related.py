"""Customers also bought: GET /books/{id}/related and its precomputed table (`flask related`).

The table is compared with the direct SQL (a plain GROUP BY over the order lines, ranked here)
after random order histories with cancellations, and an incremental refresh with a full one."""

import random
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.books.models import Book
from app.clock import utcnow
from app.discovery import services
from app.discovery.models import BookRelated, RelatedRefresh
from app.extensions import db
from app.orders.models import Order, OrderItem
from tests.conftest import assert_problem

DIRECT = sa.text(
    "SELECT a.book_id, b.book_id, COUNT(*) FROM order_items a "
    "JOIN order_items b ON b.order_id = a.order_id AND b.book_id <> a.book_id "
    "JOIN orders o ON o.id = a.order_id WHERE o.status <> 'cancelled' GROUP BY a.book_id, b.book_id"
)


def place(client, headers, *book_ids) -> int:
    r = client.post("/orders", json={"items": [{"book_id": i, "quantity": 1} for i in book_ids]}, headers=headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def refresh(full: bool = False):
    done = services.refresh(full=full)
    assert done is not None
    db.session.expire_all()
    return done


def related(client, book_id, **params) -> list[int]:
    r = client.get(f"/books/{book_id}/related", query_string=params)
    assert r.status_code == 200, r.get_json()
    return [item["id"] for item in r.get_json()["items"]]


@pytest.fixture
def books(book):
    """Six books with plenty of stock."""
    return [book(title=f"Related {i}", stock=100) for i in range(6)]


def test_books_most_often_ordered_together_come_first(client, customer_headers, books):
    a, b, c, d, *_ = books
    place(client, customer_headers, a.id, b.id, c.id)
    place(client, customer_headers, a.id, c.id)
    place(client, customer_headers, a.id, c.id, d.id)
    place(client, customer_headers, b.id, d.id)  # without a: not counted for a
    assert related(client, a.id) == []  # nothing until the refresh
    refresh()
    # c: 3 orders with a; b and d: 1 each, tie broken by the smaller id; a itself never.
    assert related(client, a.id) == [c.id, b.id, d.id]
    assert related(client, d.id) == [a.id, b.id, c.id]


def test_the_answer_is_the_catalogue_book_document(client, customer_headers, books):
    a, b = books[:2]
    place(client, customer_headers, a.id, b.id)
    refresh()
    item = client.get(f"/books/{a.id}/related").get_json()["items"][0]
    assert item == client.get(f"/books/{b.id}").get_json()


def test_cancelled_orders_do_not_count(client, customer_headers, books):
    a, b, c = books[:3]
    place(client, customer_headers, a.id, b.id)
    cancelled = place(client, customer_headers, a.id, c.id)
    second = place(client, customer_headers, a.id, c.id)
    refresh()
    assert related(client, a.id) == [c.id, b.id]
    assert client.post(f"/orders/{cancelled}/cancel", headers=customer_headers).status_code == 200
    assert client.post(f"/orders/{second}/cancel", headers=customer_headers).status_code == 200
    refresh()  # incremental: the cancellation changed these books' orders
    assert related(client, a.id) == [b.id]
    assert related(client, c.id) == []


def test_out_of_stock_books_come_last_and_retired_ones_are_not_shown(client, customer_headers, admin_headers, books):
    a, b, c, d = books[:4]
    for _ in range(3):
        place(client, customer_headers, a.id, b.id)
    for _ in range(2):
        place(client, customer_headers, a.id, c.id)
    place(client, customer_headers, a.id, d.id)
    refresh()
    assert related(client, a.id) == [b.id, c.id, d.id]
    assert client.put(f"/books/{b.id}/stock", json={"stock": 0}, headers=admin_headers).status_code == 200
    assert related(client, a.id) == [c.id, d.id, b.id]  # read live: no refresh needed
    assert client.delete(f"/books/{c.id}", headers=admin_headers).status_code == 204  # ordered: retired
    assert related(client, a.id) == [d.id, b.id]
    assert_problem(client.get(f"/books/{c.id}/related"), 404)  # a retired book is 404 here too


def test_limit_bounds_and_default(client, customer_headers, book):
    books = [book(title=f"Many {i}", stock=10) for i in range(24)]
    place(client, customer_headers, *[b.id for b in books])
    refresh()
    first = books[0].id
    assert len(related(client, first)) == 6
    assert len(related(client, first, limit=1)) == 1
    assert related(client, first, limit=20) == [b.id for b in books[1:21]]
    for bad in ("0", "21", "x", "-1", "1.5", ""):
        assert_problem(client.get(f"/books/{first}/related", query_string={"limit": bad}), 400, "limit")


@pytest.mark.parametrize("book_id", [999_999_999, 2**31, 0])
def test_unknown_book_is_404(client, book_id):
    assert_problem(client.get(f"/books/{book_id}/related"), 404)


def test_a_read_is_two_statements(client, customer_headers, books):
    a, b = books[0].id, books[1].id
    place(client, customer_headers, a, b)
    refresh()
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engines[None], "before_cursor_execute", record)
    try:
        assert related(client, a) == [b]
    finally:
        sa.event.remove(db.engines[None], "before_cursor_execute", record)
    assert len(statements) == 2, statements


# --- exactness: the table against the direct SQL ------------------------------------------------------


def expected_rows(keep: int) -> set[tuple[int, int, int]]:
    """What the table must hold: each book's `keep` most co-ordered books, ties by related id."""
    per_book: dict[int, list] = {}
    for book_id, other, orders in db.session.execute(DIRECT):
        per_book.setdefault(book_id, []).append((-orders, other))
    rows = set()
    for book_id, pairs in per_book.items():
        rows |= {(book_id, other, -neg) for neg, other in sorted(pairs)[:keep]}
    return rows


def table_rows() -> set[tuple[int, int, int]]:
    rows = db.session.execute(sa.select(BookRelated.book_id, BookRelated.related_id, BookRelated.orders)).all()
    db.session.commit()
    return {tuple(r) for r in rows}


def random_orders(rng: random.Random, book_ids: list[int], n: int, when: datetime) -> list[int]:
    """n orders of 1 to 5 distinct books (a few books much likelier), some cancelled, written directly."""
    weights = [8 if i < 3 else 1 for i in range(len(book_ids))]
    ids = []
    for _ in range(n):
        chosen = set()
        for _ in range(rng.randint(1, 5)):
            chosen.add(rng.choices(book_ids, weights)[0])
        status = rng.choice(["pending", "paid", "shipped", "delivered", "cancelled"])
        order = Order(customer_id=None, status=status, total=Decimal("0"), created_at=when, updated_at=when)
        order.items = [
            OrderItem(book_id=b, title="t", unit_price=Decimal("1.00"), quantity=1, line_total=Decimal("1.00"))
            for b in sorted(chosen)
        ]
        db.session.add(order)
        db.session.flush()
        ids.append(order.id)
    db.session.commit()
    return ids


def cancel_some(rng: random.Random, order_ids: list[int], n: int) -> None:
    for order_id in rng.sample(order_ids, n):
        db.session.execute(
            sa.update(Order)
            .where(Order.id == order_id, Order.status.in_(("pending", "paid")))
            .values(status="cancelled", updated_at=utcnow())
        )
    db.session.commit()


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("keep", [2, 40])
def test_table_equals_the_direct_sql_and_incremental_equals_full(book, monkeypatch, seed, keep):
    monkeypatch.setattr(services, "KEEP", keep)
    rng = random.Random(seed)
    book_ids = [book(title=f"Exact {i}", stock=5).id for i in range(12)]
    long_ago = utcnow() - timedelta(days=30)
    first = random_orders(rng, book_ids, 60, long_ago)
    refresh()
    assert table_rows() == expected_rows(keep)

    # Changes after the refresh: new orders, cancellations of old ones, and a backfill dated long ago.
    later = random_orders(rng, book_ids, 25, utcnow())
    cancel_some(rng, first + later, 15)
    random_orders(rng, book_ids[6:], 10, long_ago - timedelta(days=300))
    done = refresh()
    assert not done.full and 0 < done.books <= len(book_ids)
    incremental = table_rows()
    assert incremental == expected_rows(keep)
    assert refresh(full=True).full
    assert table_rows() == incremental


def test_incremental_refresh_touches_only_books_whose_orders_changed(client, customer_headers, books):
    a, b, c, d = books[:4]
    place(client, customer_headers, a.id, b.id)
    place(client, customer_headers, c.id, d.id)
    assert refresh().full  # the first refresh recomputes everything
    assert refresh().books == 4  # placed within GRACE of the last start: looked at once more
    old = datetime(2020, 1, 1)
    db.session.execute(sa.update(Order).values(created_at=old, updated_at=old))
    db.session.commit()
    assert refresh().books == 0
    place(client, customer_headers, a.id, c.id)
    done = refresh()
    assert done.books == 2 and not done.full
    assert related(client, a.id) == [b.id, c.id]
    assert related(client, c.id) == [a.id, d.id]


def test_refresh_state_is_recorded(books, customer_headers, client):
    place(client, customer_headers, books[0].id, books[1].id)
    refresh()
    state = db.session.get(RelatedRefresh, services.STATE_ID)
    last = db.session.execute(sa.select(sa.func.max(Order.id))).scalar_one()
    assert state.last_order_id == last and state.finished_at >= state.started_at


def test_cli_refresh_and_rollup_run_it(app, client, customer_headers, books):
    a, b = books[:2]
    place(client, customer_headers, a.id, b.id)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["related", "--all"])
    assert result.exit_code == 0, result.output
    assert "every book" in result.output
    assert related(client, a.id) == [b.id]
    c = db.session.get(Book, books[2].id)
    place(client, customer_headers, a.id, c.id)
    place(client, customer_headers, a.id, c.id)
    result = runner.invoke(args=["rollup"])
    assert result.exit_code == 0, result.output
    assert "Related books: refreshed" in result.output
    assert related(client, a.id) == [c.id, b.id]


@pytest.mark.mysql_only
def test_mariadb_reads_one_book_s_rows_by_the_primary_key(client, is_mysql, customer_headers, books):
    if not is_mysql:
        pytest.skip("EXPLAIN of MariaDB")
    a, b = books[0].id, books[1].id
    place(client, customer_headers, a, b)
    refresh()
    captured = []

    def record(conn, cursor, statement, parameters, *args):
        captured.append((statement, parameters))

    connection = db.engines[None]
    sa.event.listen(connection, "before_cursor_execute", record)
    try:
        assert related(client, a) == [b]
    finally:
        sa.event.remove(connection, "before_cursor_execute", record)
    [(statement, parameters)] = [c for c in captured if "book_related" in c[0]]
    plan = connection.exec_driver_sql("EXPLAIN " + statement, parameters).mappings().all()
    access = {row["table"]: (row["type"], row["key"]) for row in plan}
    assert access["book_related"] == ("ref", "PRIMARY"), plan
    assert access["books"] == ("eq_ref", "PRIMARY"), plan
