"""What the back office reads from the API: the next statuses of an order (the one flow), the
buyer embedded in orders, customers with their account and order totals, the stock history of a
book (stock movements and sales per day) and report charts drawn for a given width. Runs on SQLite
and MariaDB."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app.books.models import StockMovement
from app.extensions import db
from app.orders.models import STATUSES, TRANSITIONS
from tests.conftest import assert_problem
from tests.test_reports import png_size


def today():
    return datetime.now(UTC).date()


def place(client, headers, book_id, quantity=1):
    r = client.post("/orders", json={"items": [{"book_id": book_id, "quantity": quantity}]}, headers=headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def move(client, headers, order_id, status):
    return client.patch(f"/orders/{order_id}/status", json={"status": status}, headers=headers)


# --- the order's next statuses -------------------------------------------------------------------


def test_every_order_document_names_its_next_statuses_from_the_one_flow(client, customer_headers, admin_headers, book):
    b = book(stock=10)
    placed = place(client, customer_headers, b.id)
    assert placed["next_statuses"] == ["paid", "cancelled"]
    order_id = placed["id"]
    assert client.get(f"/orders/{order_id}", headers=customer_headers).get_json()["next_statuses"] == [
        "paid",
        "cancelled",
    ]
    walk = {"paid": ["shipped", "cancelled"], "shipped": ["delivered"], "delivered": []}
    for status, expected in walk.items():
        r = move(client, admin_headers, order_id, status)
        assert r.status_code == 200, r.get_json()
        assert r.get_json()["next_statuses"] == expected
        listed = client.get("/orders", headers=customer_headers).get_json()["items"][0]
        assert listed["id"] == order_id and listed["next_statuses"] == expected


@pytest.mark.parametrize("status", STATUSES)
def test_next_statuses_are_exactly_the_moves_the_api_accepts(status):
    from app.orders.models import next_statuses

    assert set(next_statuses(status)) == TRANSITIONS[status]
    assert next_statuses(status) == [s for s in STATUSES if s in next_statuses(status)]


def test_a_refused_move_names_the_allowed_ones_in_flow_order(client, customer_headers, admin_headers, book):
    order_id = place(client, customer_headers, book(stock=3).id)["id"]
    r = move(client, admin_headers, order_id, "delivered")
    assert_problem(r, 409)
    assert r.get_json()["allowed"] == ["paid", "cancelled"]
    assert "it can only become paid or cancelled" in r.get_json()["detail"]


def test_a_cancelled_order_has_no_next_status(client, customer_headers, book):
    order_id = place(client, customer_headers, book(stock=3).id)["id"]
    r = client.post(f"/orders/{order_id}/cancel", headers=customer_headers)
    assert r.status_code == 200 and r.get_json()["next_statuses"] == []


# --- the buyer embedded in orders ----------------------------------------------------------------


def test_embed_customer_gives_every_listed_order_its_buyer(client, make, admin_headers, book):
    b = book(stock=10)
    ada = make.customer(name="Ada Lovelace", email="ada.l@example.com")
    bob = make.customer(name="Bob Marley", email="bob.m@example.com")
    place(client, make.headers(ada), b.id)
    place(client, make.headers(bob), b.id)
    page = client.get("/orders", query_string={"embed": "customer"}, headers=admin_headers).get_json()
    buyers = {(o["customer"]["name"], o["customer"]["email"]) for o in page["items"]}
    assert buyers == {("Ada Lovelace", "ada.l@example.com"), ("Bob Marley", "bob.m@example.com")}
    assert all(o["customer"]["id"] == o["customer_id"] for o in page["items"])
    plain = client.get("/orders", headers=admin_headers).get_json()["items"]
    assert all("customer" not in o for o in plain)


def test_embed_customer_on_one_order_and_for_its_owner(client, make, admin_headers, book):
    ada = make.customer(name="Ada Lovelace", email="ada.l@example.com")
    headers = make.headers(ada)
    order_id = place(client, headers, book(stock=2).id)["id"]
    for who in (admin_headers, headers):
        r = client.get(f"/orders/{order_id}", query_string={"embed": "customer"}, headers=who)
        assert r.status_code == 200
        assert r.get_json()["customer"] == {"id": ada.customer_id, "name": "Ada Lovelace", "email": "ada.l@example.com"}


@pytest.mark.parametrize("value", ["", "account", "customer,items", "CUSTOMER"])
def test_an_unknown_embed_is_refused(client, admin_headers, value):
    assert_problem(client.get("/orders", query_string={"embed": value}, headers=admin_headers), 400, "embed")
    assert_problem(client.get("/orders/1", query_string={"embed": value}, headers=admin_headers), 400, "embed")


# --- customers with their account and order totals -----------------------------------------------


def test_the_customer_list_carries_each_customers_account(client, make, admin, admin_headers):
    ada = make.customer(name="Ada Lovelace")
    client.patch(f"/accounts/{ada.id}", json={"is_active": False}, headers=admin_headers)
    page = client.get("/customers", query_string={"q": "lovelace"}, headers=admin_headers).get_json()
    [row] = page["items"]
    assert row["name"] == "Ada Lovelace"
    assert row["account"]["username"] == ada.username
    assert row["account"]["role"] == "customer" and row["account"]["is_active"] is False


def test_a_customer_without_an_account_is_listed_with_none(client, admin_headers):
    r = client.post("/customers", json={"name": "Walk In", "email": "walkin@example.com"}, headers=admin_headers)
    assert r.status_code == 201, r.get_json()
    [row] = client.get("/customers", query_string={"q": "walkin"}, headers=admin_headers).get_json()["items"]
    assert row["account"] is None


def test_one_customer_shows_the_account_and_the_order_totals(client, make, admin_headers, book):
    ada = make.customer()
    headers = make.headers(ada)
    b = book(price=Decimal("12.50"), stock=10)
    place(client, headers, b.id, 2)
    place(client, headers, b.id, 1)
    cancelled = place(client, headers, b.id, 4)["id"]
    client.post(f"/orders/{cancelled}/cancel", headers=headers)
    body = client.get(f"/customers/{ada.customer_id}", headers=admin_headers).get_json()
    assert body["account"]["username"] == ada.username
    assert body["order_totals"] == {"orders": 3, "cancelled": 1, "spent": "37.50"}
    own = client.get(f"/customers/{ada.customer_id}", headers=headers).get_json()
    assert own["order_totals"] == body["order_totals"]


def test_order_totals_of_a_customer_without_orders_are_zero(client, customer, admin_headers):
    body = client.get(f"/customers/{customer.customer_id}", headers=admin_headers).get_json()
    assert body["order_totals"] == {"orders": 0, "cancelled": 0, "spent": "0.00"}


# --- stock movements and the stock history -------------------------------------------------------


def movements(book_id):
    db.session.expire_all()
    rows = db.session.query(StockMovement).filter_by(book_id=book_id).order_by(StockMovement.id).all()
    return [(m.reason, m.change, m.stock_after) for m in rows]


def test_every_admin_stock_change_is_recorded_with_who_made_it(client, admin, admin_headers):
    r = client.post(
        "/books", json={"title": "Emma", "author": "Jane Austen", "price": "5.00", "stock": 4}, headers=admin_headers
    )
    book_id = r.get_json()["id"]
    client.post(f"/books/{book_id}/restock", json={"quantity": 6}, headers=admin_headers)
    client.put(f"/books/{book_id}/stock", json={"stock": 3}, headers=admin_headers)
    client.patch(f"/books/{book_id}", json={"stock": 8}, headers=admin_headers)
    client.patch(f"/books/{book_id}", json={"title": "Emma (again)"}, headers=admin_headers)
    client.put(f"/books/{book_id}/stock", json={"stock": 8}, headers=admin_headers)
    assert movements(book_id) == [("created", 4, 4), ("restock", 6, 10), ("set", -7, 3), ("set", 5, 8)]
    db.session.expire_all()
    assert {m.account_id for m in db.session.query(StockMovement).filter_by(book_id=book_id)} == {admin.id}


def test_a_refused_restock_records_nothing(client, admin_headers, book):
    from app.books.models import MAX_STOCK

    b = book(stock=MAX_STOCK - 1)
    assert_problem(client.post(f"/books/{b.id}/restock", json={"quantity": 5}, headers=admin_headers), 400, "quantity")
    assert movements(b.id) == []


def test_the_stock_history_counts_restocks_and_sales_per_day(client, customer_headers, admin_headers, book):
    b = book(stock=2)
    client.post(f"/books/{b.id}/restock", json={"quantity": 5}, headers=admin_headers)
    client.put(f"/books/{b.id}/stock", json={"stock": 6}, headers=admin_headers)
    place(client, customer_headers, b.id, 2)
    cancelled = place(client, customer_headers, b.id, 1)["id"]
    client.post(f"/orders/{cancelled}/cancel", headers=customer_headers)
    day = today()
    r = client.get(
        f"/books/{b.id}/stock-history",
        query_string={"from": (day - timedelta(days=6)).isoformat(), "to": day.isoformat()},
        headers=admin_headers,
    )
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["book_id"] == b.id and body["stock"] == 4
    assert len(body["days"]) == 7 and body["days"][-1]["day"] == day.isoformat()
    assert body["days"][-1] == {"day": day.isoformat(), "added": 5, "removed": 1, "sold": 2}
    assert all(d == {"day": d["day"], "added": 0, "removed": 0, "sold": 0} for d in body["days"][:-1])
    assert body["totals"] == {"added": 5, "removed": 1, "sold": 2}
    assert [(m["reason"], m["change"], m["stock_after"]) for m in body["movements"]] == [
        ("set", -1, 6),
        ("restock", 5, 7),
    ]


def test_the_stock_history_defaults_to_the_last_30_days(client, admin_headers, book):
    body = client.get(f"/books/{book().id}/stock-history", headers=admin_headers).get_json()
    assert body["to"] == today().isoformat() and len(body["days"]) == 30


@pytest.mark.parametrize(
    "params,field",
    [
        ({"from": "2025-02-01", "to": "2025-01-01"}, "from"),
        ({"from": "2024-01-01", "to": "2025-06-01"}, "to"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2025-13-01"}, "to"),
    ],
)
def test_a_bad_stock_history_range_is_refused(client, admin_headers, book, params, field):
    assert_problem(
        client.get(f"/books/{book().id}/stock-history", query_string=params, headers=admin_headers), 400, field
    )


def test_the_stock_history_is_for_admins_and_existing_books(client, customer_headers, admin_headers, book):
    b = book()
    assert_problem(client.get(f"/books/{b.id}/stock-history", headers=customer_headers), 403)
    assert_problem(client.get("/books/999999/stock-history", headers=admin_headers), 404)


# --- charts for the width they are shown at ------------------------------------------------------


@pytest.mark.parametrize("path", ["/reports/sales", "/reports/popular-books", "/reports/inventory"])
@pytest.mark.parametrize("width,scale", [(360, 1), (360, 2), (280, 3), (1400, 1)])
def test_a_chart_is_drawn_for_the_width_and_scale_asked(client, admin_headers, path, width, scale):
    r = client.get(path, query_string={"format": "png", "width": width, "scale": scale}, headers=admin_headers)
    drawn_width, _ = png_size(r)
    assert drawn_width == width * scale


@pytest.mark.parametrize(
    "params,field",
    [
        ({"width": 100}, "width"),
        ({"width": 5000}, "width"),
        ({"scale": 0}, "scale"),
        ({"scale": 4}, "scale"),
        ({"width": "wide"}, "width"),
    ],
)
def test_a_chart_size_out_of_bounds_is_refused(client, admin_headers, params, field):
    r = client.get("/reports/sales", query_string={"format": "png", **params}, headers=admin_headers)
    assert_problem(r, 400, field)


def test_tracking_lists_the_steps_reached_then_those_ahead(client, customer_headers, admin_headers, book):
    order_id = place(client, customer_headers, book(stock=5).id)["id"]

    def steps():
        return client.get(f"/orders/{order_id}/tracking", headers=customer_headers).get_json()["steps"]

    assert steps() == ["pending", "paid", "shipped", "delivered"]
    move(client, admin_headers, order_id, "paid")
    assert steps() == ["pending", "paid", "shipped", "delivered"]
    client.post(f"/orders/{order_id}/cancel", headers=customer_headers)
    assert steps() == ["pending", "paid", "cancelled"]


def test_orders_waiting_longest_come_first_with_sort_oldest(client, customer_headers, admin_headers, book):
    b = book(stock=10)
    ids = [place(client, customer_headers, b.id)["id"] for _ in range(3)]
    query = {"status": "pending", "sort": "oldest"}
    oldest = client.get("/orders", query_string=query, headers=admin_headers).get_json()["items"]
    newest = client.get("/orders", query_string={"status": "pending"}, headers=admin_headers).get_json()["items"]
    assert [o["id"] for o in oldest] == ids and [o["id"] for o in newest] == ids[::-1]
    assert_problem(client.get("/orders", query_string={"sort": "price"}, headers=admin_headers), 400, "sort")


def test_an_admin_finds_orders_by_part_of_the_buyers_name_or_email(client, make, admin_headers, book):
    b = book(stock=10)
    ada = make.customer(name="Ada Lovelace", email="countess@example.com")
    bob = make.customer(name="Bob Marley", email="bob.m@example.com")
    ada_order = place(client, make.headers(ada), b.id)["id"]
    place(client, make.headers(bob), b.id)
    for needle in ("lovelace", "COUNTESS@", "Ada L"):
        page = client.get("/orders", query_string={"q": needle}, headers=admin_headers).get_json()
        assert [o["id"] for o in page["items"]] == [ada_order] and page["total"] == 1
    page = client.get("/orders", query_string={"q": "50%_"}, headers=admin_headers).get_json()
    assert page["items"] == [] and page["total"] == 0
    assert_problem(client.get("/orders", query_string={"q": "x" * 101}, headers=admin_headers), 400, "q")


def test_a_customer_may_not_search_orders_by_buyer(client, customer_headers):
    assert_problem(client.get("/orders", query_string={"q": "ada"}, headers=customer_headers), 403)
