"""What people read: problem details that name books by title and count copies right, status
changes explained, the order-total limit refused up front, and the out-of-stock 409 documented.
Runs on SQLite and MariaDB."""

from decimal import Decimal

import pytest

from app.books.models import Book
from app.extensions import db
from tests.conftest import assert_problem, row_counts

TOP_PRICE = Decimal("99999999.99")  # the highest price a book may have


def stock_of(book_id):
    db.session.expire_all()
    return db.session.get(Book, book_id).stock


def place(client, headers, *lines):
    items = [{"book_id": book_id, "quantity": quantity} for book_id, quantity in lines]
    return client.post("/orders", json={"items": items}, headers=headers)


# --- shortages ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stock, asked, text",
    [
        (1, 2, "“Dune” has only 1 copy left (you asked for 2 copies)"),
        (2, 3, "“Dune” has only 2 copies left (you asked for 3 copies)"),
        (0, 1, "“Dune” is sold out (you asked for 1 copy)"),
    ],
)
def test_a_shortage_names_the_title_and_counts_copies(client, customer_headers, book, stock, asked, text):
    dune = book(stock=stock)
    body = assert_problem(place(client, customer_headers, (dune.id, asked)), 409)
    assert body["detail"] == f"Not enough stock, so nothing was ordered: {text}."
    assert body["shortages"] == [{"book_id": dune.id, "title": "Dune", "requested": asked, "available": stock}]
    assert "book " not in body["detail"] and "1 copies" not in body["detail"]


def test_the_one_click_purchase_shortage_reads_the_same(client, customer, customer_headers, book):
    dune = book(stock=1)
    r = client.post(
        f"/customers/{customer.customer_id}/purchase",
        json={"book_id": dune.id, "quantity": 3},
        headers=customer_headers,
    )
    body = assert_problem(r, 409)
    assert "“Dune” has only 1 copy left (you asked for 3 copies)" in body["detail"]
    assert body["shortages"][0]["title"] == "Dune"


# --- status changes -------------------------------------------------------------------------------


def _order_in(client, customer_headers, admin_headers, book, steps):
    order = place(client, customer_headers, (book(stock=5).id, 1)).get_json()
    for step in steps:
        r = client.patch(f"/orders/{order['id']}/status", json={"status": step}, headers=admin_headers)
        assert r.status_code == 200, r.get_json()
    return order["id"]


@pytest.mark.parametrize(
    "steps, wanted, text",
    [
        (["cancelled"], "cancelled", "Order {id} is already cancelled."),
        (["paid"], "paid", "Order {id} is already paid."),
        (["paid", "shipped"], "cancelled", "Order {id} is shipped; it can only become delivered."),
        (["paid", "shipped"], "pending", "Order {id} is shipped; it can only become delivered."),
        ([], "shipped", "Order {id} is pending; it can only become paid or cancelled."),
        (["paid", "shipped", "delivered"], "cancelled", "Order {id} is delivered; its status can no longer change."),
        (["cancelled"], "paid", "Order {id} is cancelled; its status can no longer change."),
    ],
)
def test_a_refused_status_change_says_why(client, customer_headers, admin_headers, book, steps, wanted, text):
    order_id = _order_in(client, customer_headers, admin_headers, book, steps)
    r = client.patch(f"/orders/{order_id}/status", json={"status": wanted}, headers=admin_headers)
    body = assert_problem(r, 409)
    assert body["detail"] == text.format(id=order_id)
    assert "cannot become" not in body["detail"]


@pytest.mark.parametrize("how", ["post-cancel", "delete"])
def test_cancelling_twice_says_already_cancelled(client, customer_headers, admin_headers, book, how):
    order_id = _order_in(client, customer_headers, admin_headers, book, ["cancelled"])
    if how == "delete":
        r = client.delete(f"/orders/{order_id}", headers=customer_headers)
    else:
        r = client.post(f"/orders/{order_id}/cancel", headers=customer_headers)
    assert assert_problem(r, 409)["detail"] == f"Order {order_id} is already cancelled."


def test_an_isbn_conflict_names_the_book_that_has_it(client, admin_headers, book):
    dune = book(isbn="9780306406157")
    r = client.post(
        "/books", json={"title": "Copy", "author": "X", "price": "1.00", "isbn": "9780306406157"}, headers=admin_headers
    )
    body = assert_problem(r, 409, "isbn")
    assert body["detail"] == f"ISBN 9780306406157 is already used by “Dune” (book {dune.id})."


# --- the order total --------------------------------------------------------------------------------


def test_the_largest_total_the_column_holds_is_accepted(client, customer_headers, book):
    dear = book(price=TOP_PRICE, stock=100)
    cheap = book(title="Emma", price=Decimal("0.99"), stock=1)
    r = place(client, customer_headers, (dear.id, 100), (cheap.id, 1))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["total"] == "9999999999.99"
    assert client.get(f"/orders/{r.get_json()['id']}", headers=customer_headers).get_json()["total"] == "9999999999.99"


@pytest.mark.parametrize("from_cart", [False, True], ids=["items", "cart"])
def test_a_total_beyond_the_limit_is_refused_before_anything_is_stored(client, customer_headers, book, from_cart):
    dear = book(price=TOP_PRICE, stock=100)
    cheap = book(title="Emma", price=Decimal("1.00"), stock=1)
    lines = ((dear.id, 100), (cheap.id, 1))  # 9,999,999,999.00 + 1.00
    if from_cart:
        for book_id, quantity in lines:
            client.post("/cart", json={"book_id": book_id, "quantity": quantity}, headers=customer_headers)
    counts = row_counts()
    r = (
        client.post("/orders", json={}, headers=customer_headers)
        if from_cart
        else place(client, customer_headers, *lines)
    )
    body = assert_problem(r, 400, "items")
    assert body["detail"] == (
        "The order would total 10,000,000,000.00, and one order may total at most 9,999,999,999.99: "
        "split it into smaller orders. Nothing was ordered."
    )
    assert stock_of(dear.id) == 100 and stock_of(cheap.id) == 1
    assert row_counts() == counts  # no order, no line, the cart as it was


def test_the_limit_is_documented(client):
    spec = client.get("/openapi.json").get_json()
    description = spec["components"]["schemas"]["OrderCreate"]["properties"]["items"]["description"]
    assert "9,999,999,999.99" in description


# --- the out-of-stock 409 in the document -----------------------------------------------------------


def _resolve(spec, node):
    while "$ref" in node:
        *_, section, name = node["$ref"].split("/")
        node = spec["components"][section][name]
    return node


@pytest.mark.parametrize(
    "path, method",
    [
        ("/orders", "post"),
        ("/customers/{customer_id}/purchase", "post"),
        ("/cart", "post"),
        ("/cart/{book_id}", "put"),
    ],
)
def test_the_409_documents_shortages(client, path, method):
    spec = client.get("/openapi.json").get_json()
    response = _resolve(spec, spec["paths"][path][method]["responses"]["409"])
    schema = _resolve(spec, response["content"]["application/problem+json"]["schema"])
    assert {"type", "title", "status", "detail"} <= set(schema["required"])
    shortages = schema["properties"]["shortages"]
    assert shortages["type"] == "array"
    item = _resolve(spec, shortages["items"])
    assert {"book_id", "requested", "available"} <= set(item["required"])
    assert set(item["properties"]) == {"book_id", "title", "requested", "available"}
    assert "insufficient-stock" in response["description"]
