"""Cart: one per customer, live totals in Decimal, stock checks, ownership."""

from decimal import Decimal

import pytest

from app.extensions import db
from tests.conftest import assert_problem


def test_empty_cart(client, customer_headers):
    r = client.get("/cart", headers=customer_headers)
    assert r.status_code == 200
    assert r.get_json() == {"items": [], "total_quantity": 0, "total": "0.00"}


def test_add_accumulates_and_totals_are_exact(client, customer_headers, book):
    a = book(price=Decimal("0.10"), stock=50)
    b = book(title="Emma", author="Jane Austen", price=Decimal("0.20"), stock=50)
    client.post("/cart", json={"book_id": a.id, "quantity": 1}, headers=customer_headers)
    client.post("/cart", json={"book_id": a.id, "quantity": 2}, headers=customer_headers)
    r = client.post("/cart", json={"book_id": b.id}, headers=customer_headers)
    assert r.status_code == 200
    cart = r.get_json()
    lines = {line["book_id"]: line for line in cart["items"]}
    assert lines[a.id]["quantity"] == 3
    assert lines[a.id]["line_total"] == "0.30"
    assert lines[a.id]["unit_price"] == "0.10"
    assert lines[b.id]["quantity"] == 1
    assert lines[b.id]["title"] == "Emma" and lines[b.id]["author"] == "Jane Austen"
    assert cart["total"] == "0.50"  # 0.1 * 3 + 0.2 in floats would be 0.5000000000000001
    assert cart["total_quantity"] == 4
    assert all(line["available"] for line in cart["items"])


def test_more_than_stock_is_409_and_changes_nothing(client, customer_headers, book):
    a = book(stock=2)
    client.post("/cart", json={"book_id": a.id, "quantity": 2}, headers=customer_headers)
    r = client.post("/cart", json={"book_id": a.id, "quantity": 1}, headers=customer_headers)
    body = assert_problem(r, 409)
    assert body["shortages"] == [{"book_id": a.id, "title": a.title, "requested": 3, "available": 2}]
    assert client.get("/cart", headers=customer_headers).get_json()["items"][0]["quantity"] == 2


def test_unknown_and_retired_books_are_404(client, customer_headers, book):
    a = book(is_retired=True)
    assert_problem(client.post("/cart", json={"book_id": a.id}, headers=customer_headers), 404)
    assert_problem(client.post("/cart", json={"book_id": 999999}, headers=customer_headers), 404)


def test_available_turns_false_when_stock_drops(client, customer_headers, book):
    a = book(stock=3)
    client.post("/cart", json={"book_id": a.id, "quantity": 3}, headers=customer_headers)
    a.stock = 1
    db.session.commit()
    line = client.get("/cart", headers=customer_headers).get_json()["items"][0]
    assert line["available"] is False


def test_put_sets_and_zero_removes(client, customer_headers, book):
    a = book(stock=5)
    client.post("/cart", json={"book_id": a.id}, headers=customer_headers)
    r = client.put(f"/cart/{a.id}", json={"quantity": 4}, headers=customer_headers)
    assert r.status_code == 200 and r.get_json()["items"][0]["quantity"] == 4
    assert_problem(client.put(f"/cart/{a.id}", json={"quantity": 6}, headers=customer_headers), 409)
    r = client.put(f"/cart/{a.id}", json={"quantity": 0}, headers=customer_headers)
    assert r.status_code == 200 and r.get_json()["items"] == []


def test_delete_line_and_clear(client, customer_headers, book):
    a, b = book(), book(title="Emma")
    client.post("/cart", json={"book_id": a.id}, headers=customer_headers)
    client.post("/cart", json={"book_id": b.id}, headers=customer_headers)
    r = client.delete(f"/cart/{a.id}", headers=customer_headers)
    assert [line["book_id"] for line in r.get_json()["items"]] == [b.id]
    assert_problem(client.delete(f"/cart/{a.id}", headers=customer_headers), 404)
    r = client.delete("/cart", headers=customer_headers)
    assert r.status_code == 204 and r.data == b""
    assert client.get("/cart", headers=customer_headers).get_json()["items"] == []


def test_carts_are_private(client, make, book):
    a = book()
    alice, bob = make.customer(), make.customer()
    client.post("/cart", json={"book_id": a.id}, headers=make.headers(alice))
    assert client.get("/cart", headers=make.headers(bob)).get_json()["items"] == []


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "book_id"),
        ({"book_id": "1"}, "book_id"),
        ({"book_id": 1.5}, "book_id"),
        ({"book_id": True}, "book_id"),
        ({"book_id": 1, "quantity": 0}, "quantity"),
        ({"book_id": 1, "quantity": -1}, "quantity"),
        ({"book_id": 1, "quantity": 1.5}, "quantity"),
        ({"book_id": 1, "quantity": "2"}, "quantity"),
        ({"book_id": 1, "quantity": 101}, "quantity"),
        ({"book_id": 1, "price": "0.01"}, "price"),
        ({"book_id": 2**40}, "book_id"),
    ],
)
def test_bad_cart_bodies_are_400(client, customer_headers, book, body, field):
    book()
    assert_problem(client.post("/cart", json=body, headers=customer_headers), 400, field)
    assert client.get("/cart", headers=customer_headers).get_json()["items"] == []


def test_cart_needs_a_token(client):
    assert_problem(client.get("/cart"), 401)
    assert_problem(client.post("/cart", json={"book_id": 1}), 401)


def test_account_without_customer_gets_403(client, make, admin_headers):
    r = client.post("/accounts", json={"username": "nocust", "password": "password-123"}, headers=admin_headers)
    assert r.status_code == 201
    r = client.post("/login", json={"username": "nocust", "password": "password-123"})
    headers = {"Authorization": f"Bearer {r.get_json()['access_token']}"}
    assert_problem(client.get("/cart", headers=headers), 403)
    assert_problem(client.post("/orders", json={}, headers=headers), 403)


@pytest.mark.parametrize(
    "stock, detail",
    [
        (2, "Only 2 copies of “Dune” are in stock; the cart would hold 3."),
        (1, "Only 1 copy of “Dune” is in stock; the cart would hold 3."),
        (0, "“Dune” is out of stock."),
    ],
)
def test_out_of_stock_names_the_book_and_counts_copies(client, customer_headers, book, stock, detail):
    a = book(title="Dune", stock=stock)
    body = assert_problem(client.post("/cart", json={"book_id": a.id, "quantity": 3}, headers=customer_headers), 409)
    assert body["detail"] == detail
    assert body["type"] == "/problems/insufficient-stock"
    assert body["shortages"] == [{"book_id": a.id, "title": a.title, "requested": 3, "available": stock}]
    assert client.get("/cart", headers=customer_headers).get_json()["items"] == []


def test_a_line_holds_at_most_100_copies_and_a_refusal_changes_nothing(client, customer_headers, book):
    a = book(stock=500)
    assert client.post("/cart", json={"book_id": a.id, "quantity": 60}, headers=customer_headers).status_code == 200
    body = assert_problem(client.post("/cart", json={"book_id": a.id, "quantity": 41}, headers=customer_headers), 409)
    assert body["errors"] == {"quantity": ["The line would exceed 100 copies."]}
    assert client.get("/cart", headers=customer_headers).get_json()["items"][0]["quantity"] == 60
    r = client.post("/cart", json={"book_id": a.id, "quantity": 40}, headers=customer_headers)
    assert r.get_json()["items"][0]["quantity"] == 100


def test_put_makes_the_line_when_it_is_not_there_and_checks_the_stock(client, customer_headers, book):
    a = book(stock=3)
    r = client.put(f"/cart/{a.id}", json={"quantity": 2}, headers=customer_headers)
    assert r.status_code == 200 and [(i["book_id"], i["quantity"]) for i in r.get_json()["items"]] == [(a.id, 2)]
    body = assert_problem(client.put(f"/cart/{a.id}", json={"quantity": 4}, headers=customer_headers), 409)
    assert body["shortages"] == [{"book_id": a.id, "title": a.title, "requested": 4, "available": 3}]
    assert client.get("/cart", headers=customer_headers).get_json()["items"][0]["quantity"] == 2
    assert_problem(client.put("/cart/999999", json={"quantity": 1}, headers=customer_headers), 404)
    assert_problem(client.put(f"/cart/{a.id + 1000}", json={"quantity": 0}, headers=customer_headers), 404)
