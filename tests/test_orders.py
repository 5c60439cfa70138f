"""Orders: placement (items, cart, one-click), all-or-nothing stock, idempotency, the status flow,
cancellation with restock, tracking, listings, purchase history. Runs on SQLite and MariaDB."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app.books.models import Book
from app.extensions import db
from app.orders.models import STATUSES, TRANSITIONS
from tests.conftest import assert_problem


def stock_of(book_id):
    db.session.expire_all()
    return db.session.get(Book, book_id).stock


def units_sold_of(book_id):
    db.session.expire_all()
    return db.session.get(Book, book_id).units_sold


def place(client, headers, items, **extra):
    return client.post("/orders", json={"items": items, **extra}, headers=headers)


def today():
    return datetime.now(UTC).date()


# --- placing -------------------------------------------------------------------------------------


def test_place_from_items_freezes_prices_and_takes_stock(client, customer, customer_headers, book):
    a = book(price=Decimal("12.50"), stock=5)
    b = book(title="Emma", price=Decimal("0.10"), stock=5)
    r = place(
        client,
        customer_headers,
        [{"book_id": b.id, "quantity": 3}, {"book_id": a.id, "quantity": 2}],
        shipping_address="1 Main St, Springfield",
    )
    assert r.status_code == 201, r.get_json()
    order = r.get_json()
    assert r.headers["Location"] == f"/orders/{order['id']}"
    assert order["customer_id"] == customer.customer_id
    assert order["status"] == "pending"
    assert order["total"] == "25.30"
    assert order["shipping_address"] == "1 Main St, Springfield"
    items = {i["book_id"]: i for i in order["items"]}
    assert items[a.id] == {
        "book_id": a.id,
        "title": "Dune",
        "unit_price": "12.50",
        "quantity": 2,
        "line_total": "25.00",
    }
    assert items[b.id]["line_total"] == "0.30"
    assert [h["status"] for h in order["status_history"]] == ["pending"]
    assert order["created_at"].endswith("Z")
    assert order["expected_delivery_date"] == (today() + timedelta(days=5)).isoformat()
    assert stock_of(a.id) == 3 and stock_of(b.id) == 2
    assert units_sold_of(a.id) == 2

    # A later price change does not touch the order.
    a.price = Decimal("99.00")
    db.session.commit()
    again = client.get(f"/orders/{order['id']}", headers=customer_headers).get_json()
    assert again["total"] == "25.30"


def test_money_is_exact_to_the_cent(client, customer_headers, book):
    a = book(price=Decimal("0.10"), stock=100)
    b = book(title="B", price=Decimal("0.20"), stock=100)
    c = book(title="C", price=Decimal("33.33"), stock=100)
    r = place(
        client,
        customer_headers,
        [{"book_id": a.id, "quantity": 1}, {"book_id": b.id, "quantity": 1}, {"book_id": c.id, "quantity": 3}],
    )
    assert r.get_json()["total"] == "100.29", r.get_json()


def test_short_line_is_409_with_shortages_and_nothing_changes(client, customer_headers, book):
    a = book(stock=5)
    b = book(title="Emma", stock=1)
    retired = book(title="Gone", is_retired=True, stock=10)
    r = place(
        client,
        customer_headers,
        [
            {"book_id": a.id, "quantity": 2},
            {"book_id": b.id, "quantity": 2},
            {"book_id": retired.id, "quantity": 1},
            {"book_id": 987654, "quantity": 1},
        ],
    )
    body = assert_problem(r, 409)
    assert body["type"] == "/problems/insufficient-stock"
    assert sorted(body["shortages"], key=lambda s: s["book_id"]) == sorted(
        [
            {"book_id": b.id, "title": "Emma", "requested": 2, "available": 1},
            {"book_id": retired.id, "title": "Gone", "requested": 1, "available": 0},
            {"book_id": 987654, "title": None, "requested": 1, "available": 0},
        ],
        key=lambda s: s["book_id"],
    )
    assert body["detail"] == (
        "Not enough stock, so nothing was ordered: “Emma” has only 1 copy left (you asked for 2 copies); "
        "“Gone” is no longer sold; book 987654 does not exist."
    )
    assert stock_of(a.id) == 5 and stock_of(b.id) == 1
    assert units_sold_of(a.id) == 0
    assert client.get("/orders", headers=customer_headers).get_json()["total"] == 0


def test_order_from_cart_empties_it(client, customer_headers, book):
    a, b = book(stock=3), book(title="Emma", stock=3)
    client.post("/cart", json={"book_id": a.id, "quantity": 2}, headers=customer_headers)
    client.post("/cart", json={"book_id": b.id, "quantity": 1}, headers=customer_headers)
    r = client.post("/orders", json={}, headers=customer_headers)
    assert r.status_code == 201, r.get_json()
    assert {(i["book_id"], i["quantity"]) for i in r.get_json()["items"]} == {(a.id, 2), (b.id, 1)}
    assert client.get("/cart", headers=customer_headers).get_json()["items"] == []
    assert stock_of(a.id) == 1


def test_short_cart_order_keeps_the_cart(client, customer_headers, book):
    a = book(stock=3)
    client.post("/cart", json={"book_id": a.id, "quantity": 3}, headers=customer_headers)
    a.stock = 1
    db.session.commit()
    assert_problem(client.post("/orders", json={}, headers=customer_headers), 409)
    assert client.get("/cart", headers=customer_headers).get_json()["items"][0]["quantity"] == 3


def test_empty_cart_order_is_400(client, customer_headers):
    assert_problem(client.post("/orders", json={}, headers=customer_headers), 400, "items")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"items": []}, "items"),
        ({"items": [{"book_id": 1}]}, "items"),
        ({"items": [{"book_id": 1, "quantity": 0}]}, "items"),
        ({"items": [{"book_id": 1, "quantity": 1.5}]}, "items"),
        ({"items": [{"book_id": 1, "quantity": "2"}]}, "items"),
        ({"items": [{"book_id": 1, "quantity": 1, "price": "0.01"}]}, "items"),
        ({"items": [{"book_id": 1, "quantity": 1}, {"book_id": 1, "quantity": 2}]}, "items"),
        ({"items": [{"book_id": 1, "quantity": 1}], "total": "0.01"}, "total"),
        ({"items": "all"}, "items"),
        ({"shipping_address": "x" * 501}, "shipping_address"),
        ({"status": "paid"}, "status"),
    ],
)
def test_bad_order_bodies_are_400_and_change_nothing(client, customer_headers, book, body, field):
    a = book(stock=5)
    before = stock_of(a.id)
    assert_problem(client.post("/orders", json=body, headers=customer_headers), 400, field)
    assert stock_of(a.id) == before


def test_one_click_purchase(client, customer, customer_headers, book):
    a = book(stock=2, price=Decimal("5.00"))
    r = client.post(f"/customers/{customer.customer_id}/purchase", json={"book_id": a.id}, headers=customer_headers)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["items"][0]["quantity"] == 1 and r.get_json()["total"] == "5.00"
    r = client.post(
        f"/customers/{customer.customer_id}/purchase", json={"book_id": a.id, "quantity": 2}, headers=customer_headers
    )
    assert_problem(r, 409)
    assert stock_of(a.id) == 1


def test_purchase_for_someone_else_is_404(client, make, book):
    a = book()
    alice, bob = make.customer(), make.customer()
    r = client.post(f"/customers/{alice.customer_id}/purchase", json={"book_id": a.id}, headers=make.headers(bob))
    assert_problem(r, 404)
    assert stock_of(a.id) == 10


def test_admin_places_for_a_customer_and_customers_cannot(client, make, customer, admin_headers, book):
    a = book()
    r = place(client, admin_headers, [{"book_id": a.id, "quantity": 1}], customer_id=customer.customer_id)
    assert r.status_code == 201 and r.get_json()["customer_id"] == customer.customer_id
    other = make.customer()
    r = place(client, make.headers(other), [{"book_id": a.id, "quantity": 1}], customer_id=customer.customer_id)
    assert_problem(r, 403)
    r = place(client, admin_headers, [{"book_id": a.id, "quantity": 1}], customer_id=999999)
    assert_problem(r, 404)
    assert stock_of(a.id) == 9


# --- idempotency ---------------------------------------------------------------------------------


def test_idempotency_key_replays_the_first_answer(client, customer_headers, book):
    a = book(stock=5)
    headers = {**customer_headers, "Idempotency-Key": "order-123"}
    first = place(client, headers, [{"book_id": a.id, "quantity": 2}])
    second = place(client, headers, [{"book_id": a.id, "quantity": 2}])
    assert first.status_code == second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert second.get_json() == first.get_json()
    assert second.headers["Location"] == first.headers["Location"]
    assert stock_of(a.id) == 3
    assert client.get("/orders", headers=customer_headers).get_json()["total"] == 1


def test_idempotency_key_with_another_body_is_409(client, customer_headers, book):
    a = book(stock=5)
    headers = {**customer_headers, "Idempotency-Key": "k1"}
    place(client, headers, [{"book_id": a.id, "quantity": 1}])
    assert_problem(place(client, headers, [{"book_id": a.id, "quantity": 2}]), 409)
    assert stock_of(a.id) == 4


def test_idempotency_keys_are_scoped_per_account_and_endpoint(client, make, book):
    a = book(stock=5)
    alice, bob = make.customer(), make.customer()
    for who in (alice, bob):
        r = place(client, {**make.headers(who), "Idempotency-Key": "same"}, [{"book_id": a.id, "quantity": 1}])
        assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers
    r = client.post(
        f"/customers/{alice.customer_id}/purchase",
        json={"book_id": a.id},
        headers={**make.headers(alice), "Idempotency-Key": "same"},
    )
    assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers
    assert stock_of(a.id) == 2


def test_failed_attempts_are_not_stored(client, customer_headers, book):
    a = book(stock=1)
    headers = {**customer_headers, "Idempotency-Key": "retry-me"}
    assert_problem(place(client, headers, [{"book_id": a.id, "quantity": 2}]), 409)
    a.stock = 5
    db.session.commit()
    r = place(client, headers, [{"book_id": a.id, "quantity": 2}])
    assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_bad_idempotency_key_is_400(client, customer_headers, book, key):
    a = book()
    r = place(client, {**customer_headers, "Idempotency-Key": key}, [{"book_id": a.id, "quantity": 1}])
    assert_problem(r, 400, "Idempotency-Key")
    assert stock_of(a.id) == 10


# --- status flow ---------------------------------------------------------------------------------


def _order_in(client, customer_headers, admin_headers, book, status):
    a = book(stock=10)
    order = place(client, customer_headers, [{"book_id": a.id, "quantity": 2}]).get_json()
    path = {
        "pending": [],
        "paid": ["paid"],
        "shipped": ["paid", "shipped"],
        "delivered": ["paid", "shipped", "delivered"],
        "cancelled": ["cancelled"],
    }[status]
    for step in path:
        r = client.patch(f"/orders/{order['id']}/status", json={"status": step}, headers=admin_headers)
        assert r.status_code == 200, r.get_json()
    return order["id"], a.id


MATRIX = [(src, dst) for src in STATUSES for dst in STATUSES]


@pytest.mark.parametrize("src, dst", MATRIX)
def test_status_matrix(client, customer_headers, admin_headers, book, src, dst):
    order_id, book_id = _order_in(client, customer_headers, admin_headers, book, src)
    before = stock_of(book_id)
    r = client.patch(f"/orders/{order_id}/status", json={"status": dst}, headers=admin_headers)
    if dst in TRANSITIONS[src]:
        assert r.status_code == 200, r.get_json()
        assert r.get_json()["status"] == dst
        assert r.get_json()["status_history"][-1]["status"] == dst
        assert stock_of(book_id) == before + (2 if dst == "cancelled" else 0)
    else:
        body = assert_problem(r, 409)
        assert body["type"] == "/problems/illegal-status-transition"
        assert stock_of(book_id) == before


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("how", ["post-cancel", "delete"])
def test_cancel_matrix(client, customer_headers, admin_headers, book, status, how):
    order_id, book_id = _order_in(client, customer_headers, admin_headers, book, status)
    before = stock_of(book_id)
    if how == "delete":
        r = client.delete(f"/orders/{order_id}", headers=customer_headers)
    else:
        r = client.post(f"/orders/{order_id}/cancel", headers=customer_headers)
    if status in ("pending", "paid"):
        assert r.status_code == 200, r.get_json()
        assert r.get_json()["status"] == "cancelled"
        assert r.get_json()["expected_delivery_date"] is None
        assert stock_of(book_id) == before + 2
        assert units_sold_of(book_id) == 0
    else:
        assert_problem(r, 409)
        assert stock_of(book_id) == before


def test_history_and_expected_delivery_follow_the_flow(app, client, customer_headers, admin_headers, book):
    order_id, _ = _order_in(client, customer_headers, admin_headers, book, "shipped")
    tracking = client.get(f"/orders/{order_id}/tracking", headers=customer_headers).get_json()
    assert tracking["order_id"] == order_id and tracking["status"] == "shipped"
    assert [h["status"] for h in tracking["history"]] == ["pending", "paid", "shipped"]
    assert all(h["at"].endswith("Z") for h in tracking["history"])
    assert tracking["expected_delivery_date"] == (today() + timedelta(days=app.config["SHIPPING_DAYS"])).isoformat()
    assert tracking["placed_at"].endswith("Z")


def test_processing_days_are_configurable(app, client, customer_headers, book):
    a = book()
    app.config["PROCESSING_DAYS"] = 9
    try:
        order = place(client, customer_headers, [{"book_id": a.id, "quantity": 1}]).get_json()
    finally:
        app.config["PROCESSING_DAYS"] = 5
    assert order["expected_delivery_date"] == (today() + timedelta(days=9)).isoformat()


def test_status_change_is_admin_only(client, customer_headers, admin_headers, book):
    order_id, _ = _order_in(client, customer_headers, admin_headers, book, "pending")
    assert_problem(client.patch(f"/orders/{order_id}/status", json={"status": "paid"}, headers=customer_headers), 403)
    assert_problem(
        client.patch(f"/orders/{order_id}/status", json={"status": "lost"}, headers=admin_headers), 400, "status"
    )


# --- reading -------------------------------------------------------------------------------------


def test_orders_are_private(client, make, book):
    a = book()
    alice, bob = make.customer(), make.customer()
    order = place(client, make.headers(alice), [{"book_id": a.id, "quantity": 1}]).get_json()
    bob_headers = make.headers(bob)
    for path in (f"/orders/{order['id']}", f"/orders/{order['id']}/tracking"):
        assert_problem(client.get(path, headers=bob_headers), 404)
    assert_problem(client.post(f"/orders/{order['id']}/cancel", headers=bob_headers), 404)
    assert_problem(client.delete(f"/orders/{order['id']}", headers=bob_headers), 404)
    assert client.get("/orders", headers=bob_headers).get_json()["items"] == []
    assert_problem(client.get(f"/customers/{alice.customer_id}/orders", headers=bob_headers), 404)
    assert stock_of(a.id) == 9


def test_listing_newest_first_with_admin_filters(client, make, admin_headers, book):
    a = book(stock=50)
    alice, bob = make.customer(), make.customer()
    ids = [place(client, make.headers(alice), [{"book_id": a.id, "quantity": 1}]).get_json()["id"] for _ in range(3)]
    bob_order = place(client, make.headers(bob), [{"book_id": a.id, "quantity": 1}]).get_json()["id"]
    client.patch(f"/orders/{ids[0]}/status", json={"status": "paid"}, headers=admin_headers)

    mine = client.get("/orders", headers=make.headers(alice)).get_json()
    assert [o["id"] for o in mine["items"]] == sorted(ids, reverse=True)
    everyone = client.get("/orders?per_page=100", headers=admin_headers).get_json()
    assert {bob_order, *ids} <= {o["id"] for o in everyone["items"]}
    paid = client.get("/orders?status=paid", headers=admin_headers).get_json()
    assert [o["id"] for o in paid["items"]] == [ids[0]]
    by_customer = client.get(f"/orders?customer_id={bob.customer_id}", headers=admin_headers).get_json()
    assert [o["id"] for o in by_customer["items"]] == [bob_order]
    d = today().isoformat()
    assert client.get(f"/orders?from={d}&to={d}", headers=admin_headers).get_json()["total"] == 4
    tomorrow = (today() + timedelta(days=1)).isoformat()
    assert client.get(f"/orders?from={tomorrow}", headers=admin_headers).get_json()["total"] == 0
    r = client.get(f"/customers/{alice.customer_id}/orders?per_page=2", headers=make.headers(alice))
    assert r.get_json()["total"] == 3 and r.get_json()["pages"] == 2 and 'rel="next"' in r.headers["Link"]


@pytest.mark.parametrize(
    "query, field",
    [
        ("status=lost", "status"),
        ("from=2026-13-01", "from"),
        ("to=yesterday", "to"),
        ("from=2026-02-01&to=2026-01-01", "from"),
        ("per_page=101", "per_page"),
        ("page=0", "page"),
    ],
)
def test_bad_listing_parameters_are_400(client, admin_headers, query, field):
    assert_problem(client.get(f"/orders?{query}", headers=admin_headers), 400, field)


def test_customer_cannot_filter_by_another_customer(client, make, customer_headers):
    other = make.customer()
    assert_problem(client.get(f"/orders?customer_id={other.customer_id}", headers=customer_headers), 403)


def test_purchase_history_leaves_out_cancelled_orders(client, customer, customer_headers, book):
    a = book(price=Decimal("7.00"))
    b = book(title="Emma", price=Decimal("3.50"))
    first = place(client, customer_headers, [{"book_id": a.id, "quantity": 1}]).get_json()
    second = place(client, customer_headers, [{"book_id": b.id, "quantity": 2}]).get_json()
    cancelled = place(client, customer_headers, [{"book_id": a.id, "quantity": 4}]).get_json()
    client.post(f"/orders/{cancelled['id']}/cancel", headers=customer_headers)
    detail = client.get(f"/customers/{customer.customer_id}", headers=customer_headers).get_json()
    history = detail["purchase_history"]
    assert [(h["order_id"], h["book_id"], h["price"], h["quantity"]) for h in history] == [
        (second["id"], b.id, "3.50", 2),
        (first["id"], a.id, "7.00", 1),
    ]
    assert history[0]["title"] == "Emma" and history[0]["purchased_at"].endswith("Z")


def test_deleting_a_customer_with_an_order_in_progress_is_409(client, customer, customer_headers, admin_headers, book):
    order_id, _ = _order_in(client, customer_headers, admin_headers, book, "shipped")
    assert_problem(client.delete(f"/customers/{customer.customer_id}", headers=admin_headers), 409)
    client.patch(f"/orders/{order_id}/status", json={"status": "delivered"}, headers=admin_headers)
    r = client.delete(f"/customers/{customer.customer_id}", headers=admin_headers)
    assert r.status_code == 204
    kept = client.get(f"/orders/{order_id}", headers=admin_headers).get_json()
    assert kept["customer_id"] is None and kept["status"] == "delivered"


def test_purge_expired_keeps_fresh_keys_and_drops_old_ones(app, client, customer_headers, book):
    from app.orders.models import IdempotencyKey

    a = book(stock=5)
    place(client, {**customer_headers, "Idempotency-Key": "old"}, [{"book_id": a.id, "quantity": 1}])
    place(client, {**customer_headers, "Idempotency-Key": "fresh"}, [{"book_id": a.id, "quantity": 1}])
    old = db.session.query(IdempotencyKey).filter_by(key="old").one()
    old.created_at = old.created_at - timedelta(hours=app.config["IDEMPOTENCY_KEY_TTL_HOURS"] + 1)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["purge-expired"])
    assert result.exit_code == 0, result.output
    assert "1 idempotency key" in result.output
    assert [k.key for k in db.session.query(IdempotencyKey).all()] == ["fresh"]
    # The purged key is free again: the same request now places a new order.
    r = place(client, {**customer_headers, "Idempotency-Key": "old"}, [{"book_id": a.id, "quantity": 1}])
    assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers


def test_the_placement_answer_is_the_stored_order(client, customer_headers, book):
    """POST /orders builds its answer from what it wrote; it must equal a fresh read of the order."""
    a = book(price=Decimal("12.50"), stock=5, title="Ünïcode 📚 title")
    b = book(title="Emma", price=Decimal("0.10"), stock=5)
    placed = place(
        client,
        customer_headers,
        [{"book_id": b.id, "quantity": 3}, {"book_id": a.id, "quantity": 1}],
        shipping_address=None,
    )
    assert placed.status_code == 201
    stored = client.get(f"/orders/{placed.get_json()['id']}", headers=customer_headers)
    assert placed.get_json() == stored.get_json()
