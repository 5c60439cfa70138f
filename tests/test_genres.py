"""Browsing: GET /genres (the trigger-kept per-genre counts), the new arrivals (`sort=-created_at`)
and the bestsellers (`sold=true&sort=-popularity`) lists, and the index each list is read on."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import event

from app.extensions import db
from tests.conftest import assert_problem

T0 = datetime(2026, 1, 1, 12, 0, 0)


def _genres(client) -> dict:
    r = client.get("/genres")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert set(body) == {"items", "total_books"}
    return body


def _counts(client) -> dict:
    return {item["genre"].lower(): item["books"] for item in _genres(client)["items"]}


def _add(client, admin_headers, **fields) -> int:
    body = {"title": "A Book", "author": "An Author", "price": "10.00", "stock": 3, **fields}
    r = client.post("/books", json=body, headers=admin_headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def test_genre_counts_follow_create_retire_delete_and_genre_change(client, admin_headers, customer_headers):
    before, total = _counts(client), _genres(client)["total_books"]

    def delta():
        now = _counts(client)
        return {
            g: now.get(g, 0) - before.get(g, 0) for g in set(now) | set(before) if now.get(g, 0) != before.get(g, 0)
        }

    a = _add(client, admin_headers, genre="Zz Fantasy")
    b = _add(client, admin_headers, genre="zz fantasy")  # the same genre in another case
    c = _add(client, admin_headers, genre="Zz Poetry")
    d = _add(client, admin_headers)  # no genre: in the total, not in the list
    assert delta() == {"zz fantasy": 2, "zz poetry": 1}
    assert _genres(client)["total_books"] == total + 4

    assert client.patch(f"/books/{b}", json={"genre": "Zz Poetry"}, headers=admin_headers).status_code == 200
    assert delta() == {"zz fantasy": 1, "zz poetry": 2}

    # A book in a cart is retired by DELETE; one never ordered is deleted: both leave the counts.
    assert client.post("/cart", json={"book_id": a}, headers=customer_headers).status_code == 200
    assert client.delete(f"/books/{a}", headers=admin_headers).status_code == 204
    assert client.delete(f"/books/{c}", headers=admin_headers).status_code == 204
    assert delta() == {"zz poetry": 1}
    assert "zz fantasy" not in _counts(client)  # a genre with no live book is not listed
    assert client.delete(f"/books/{d}", headers=admin_headers).status_code == 204
    assert _genres(client)["total_books"] == total + 1


def test_genres_are_listed_by_name_in_any_case(client, admin_headers):
    for genre in ("zz beta", "ZZ Alpha", "zz gamma", "Zz Delta"):
        _add(client, admin_headers, genre=genre)
    names = [item["genre"] for item in _genres(client)["items"] if item["genre"].lower().startswith("zz ")]
    assert names == ["ZZ Alpha", "zz beta", "Zz Delta", "zz gamma"]


def test_a_genre_link_lists_the_counted_books(client, admin_headers):
    for _ in range(3):
        _add(client, admin_headers, genre="Zz Linked")
    count = _counts(client)["zz linked"]
    r = client.get("/books", query_string={"genre": "zz linked", "per_page": 100})
    assert r.get_json()["total"] == count == len(r.get_json()["items"]) == 3


# --- new arrivals and bestsellers --------------------------------------------------------------------


@pytest.fixture
def shelf(book):
    """Six books: added a minute apart, with units sold 0, 5, 0, 9, 5, 1 (one of them retired)."""
    sold = [0, 5, 0, 9, 5, 1]
    rows = [
        book(title=f"Shelf {i}", genre="Zz Shelf", units_sold=n, created_at=T0 + timedelta(minutes=i), stock=i % 3)
        for i, n in enumerate(sold)
    ]
    retired = book(title="Shelf retired", genre="Zz Shelf", units_sold=50, created_at=T0 + timedelta(hours=1))
    retired.is_retired = True
    db.session.commit()
    return rows


def _ids(client, **params) -> list[int]:
    r = client.get("/books", query_string={"genre": "zz shelf", "per_page": 100, **params})
    assert r.status_code == 200, r.get_json()
    return [item["id"] for item in r.get_json()["items"]]


def test_new_arrivals_are_newest_added_first(client, shelf):
    assert _ids(client, sort="-created_at") == [b.id for b in reversed(shelf)]


def test_bestsellers_leave_out_books_never_sold_and_break_ties_by_id(client, shelf):
    expected = sorted((b for b in shelf if b.units_sold > 0), key=lambda b: (b.units_sold, b.id), reverse=True)
    assert _ids(client, sold="true", sort="-popularity") == [b.id for b in expected]
    r = client.get("/books", query_string={"genre": "zz shelf", "sold": "true", "sort": "-popularity"})
    assert r.get_json()["total"] == 4
    assert sorted(_ids(client, sold="false")) == sorted(b.id for b in shelf if b.units_sold == 0)


def test_bestsellers_cursor_walk_visits_each_once(client, shelf):
    seen, cursor = [], None
    while True:
        params = {"genre": "zz shelf", "sold": "true", "sort": "-popularity", "per_page": 1}
        if cursor:
            params["cursor"] = cursor
        body = client.get("/books", query_string=params).get_json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == _ids(client, sold="true", sort="-popularity")
    # A cursor of the bestsellers does not continue another list.
    first = client.get(
        "/books", query_string={"genre": "zz shelf", "sold": "true", "sort": "-popularity", "per_page": 1}
    )
    other = {"genre": "zz shelf", "sort": "-popularity", "cursor": first.get_json()["next_cursor"]}
    assert_problem(client.get("/books", query_string=other), 400, "cursor")


@pytest.mark.parametrize("value", ["x", "1", "TRUE", ""])
def test_sold_takes_true_or_false_only(client, value):
    assert_problem(client.get("/books", query_string={"sold": value}), 400, "sold")


# --- the index each list is read on (MariaDB) ------------------------------------------------------------


class Captured:
    """The SELECTs sent while a request runs, with their parameters."""

    def __init__(self, bind):
        self.bind, self.statements = bind, []

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append((statement, parameters))

    def __enter__(self):
        event.listen(self.bind, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc):
        event.remove(self.bind, "before_cursor_execute", self._record)


@pytest.mark.mysql_only
@pytest.mark.parametrize(
    "query, index",
    [
        ({"sold": "true", "sort": "-popularity"}, "ix_books_live_units_sold"),
        ({"sold": "true", "sort": "-popularity", "genre": "zz shelf"}, "ix_books_live_genre_units_sold"),
        ({"sort": "-created_at"}, "ix_books_live_created_at"),
        ({"sort": "-created_at", "genre": "zz shelf"}, "ix_books_live_genre_created_at"),
    ],
)
def test_mariadb_reads_the_lists_on_their_sort_index_without_a_sort(client, is_mysql, shelf, query, index):
    if not is_mysql:
        pytest.skip("EXPLAIN of MariaDB")
    connection = db.engines[None]
    with Captured(connection) as captured:
        first = client.get("/books", query_string={**query, "per_page": 2})
    cursor = first.get_json()["next_cursor"]
    with Captured(connection) as captured_next:
        assert client.get("/books", query_string={**query, "per_page": 2, "cursor": cursor}).status_code == 200
    pages = [s for s in captured.statements + captured_next.statements if "ORDER BY" in s[0]]
    assert len(pages) == 2, captured.statements
    for statement, parameters in pages:
        plan = connection.exec_driver_sql("EXPLAIN " + statement, parameters).mappings().all()
        assert [row["key"] for row in plan] == [index], plan
        assert "filesort" not in (plan[0]["Extra"] or ""), plan


def test_genres_is_one_small_read(client):
    with Captured(db.engines[None]) as captured:
        assert client.get("/genres").status_code == 200
    assert [s for s, _ in captured.statements if "book_counts" in s] and len(captured.statements) == 1
