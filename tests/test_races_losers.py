"""What the loser of each race gets, on SQLite and MariaDB alike: the interleavings that
tests/test_races.py provokes with real threads on a live server, replayed here one step after the
other. A request that passed its token check before the customer, the account or the book went
is refused with a clear 404 problem, and nothing of it remains."""

import pytest
from sqlalchemy import func, select

from app.books.models import Book
from app.cart import services as cart
from app.cart.models import CartItem
from app.errors import NotFound
from app.extensions import db
from app.orders import services as orders
from app.orders.models import IdempotencyKey, Order
from tests.conftest import assert_problem

ADDRESS = "1 Late Street"


def _count(model) -> int:
    count = db.session.execute(select(func.count()).select_from(model)).scalar_one()
    db.session.commit()
    return count


def _stock(book_id: int) -> int:
    stock = db.session.execute(select(Book.stock).where(Book.id == book_id)).scalar_one()
    db.session.commit()
    return stock


def _delete_customer(client, make, account) -> int:
    """Delete the customer record (and its account) over HTTP, as a concurrent request would."""
    customer_id = account.customer_id
    assert client.delete(f"/customers/{customer_id}", headers=make.headers(account)).status_code == 204
    return customer_id


@pytest.mark.parametrize("from_cart", [False, True], ids=["items", "cart"])
def test_an_order_for_a_customer_deleted_meanwhile_is_404_and_takes_nothing(client, make, customer, book, from_cart):
    a = book(stock=5)
    orders_before = _count(Order)
    customer_id = _delete_customer(client, make, customer)

    with pytest.raises(NotFound, match=f"Customer {customer_id} no longer exists"):
        orders.place_order(customer_id, None if from_cart else [{"book_id": a.id, "quantity": 2}], ADDRESS)
    db.session.rollback()  # as the error handler does

    assert _stock(a.id) == 5
    assert _count(Order) == orders_before


def test_an_order_whose_account_was_deleted_meanwhile_is_404_and_stores_no_key(client, make, customer, book):
    a = book(stock=5)
    headers = make.headers(customer)
    assert client.delete(f"/accounts/{customer.id}", headers=headers).status_code == 204  # the customer stays
    idem = orders.Idempotency(customer.id, "/orders", "late-key", "0" * 64)

    with pytest.raises(NotFound, match="Your account no longer exists"):
        orders.place_order(customer.customer_id, [{"book_id": a.id, "quantity": 2}], ADDRESS, idem)
    db.session.rollback()

    assert _stock(a.id) == 5
    assert _count(IdempotencyKey) == 0


@pytest.mark.parametrize(
    "change",
    [
        lambda customer_id, book_id: cart.add(customer_id, book_id, 1, 100),
        lambda customer_id, book_id: cart.set_quantity(customer_id, book_id, 2),
        lambda customer_id, book_id: cart.remove(customer_id, book_id),
    ],
    ids=["add", "set", "remove"],
)
def test_a_cart_change_for_a_customer_deleted_meanwhile_is_404(client, make, customer, book, change):
    a = book(stock=5)
    customer_id = _delete_customer(client, make, customer)

    with pytest.raises(NotFound, match=f"Customer {customer_id} no longer exists"):
        change(customer_id, a.id)
    db.session.rollback()

    assert _count(CartItem) == 0


def test_a_book_retired_before_the_cart_change_is_404(client, customer_headers, admin_headers, book):
    a = book(stock=5)
    client.post("/cart", json={"book_id": a.id}, headers=customer_headers)
    assert client.delete(f"/books/{a.id}", headers=admin_headers).status_code == 204  # in a cart: retired

    for response in (
        client.post("/cart", json={"book_id": a.id}, headers=customer_headers),
        client.put(f"/cart/{a.id}", json={"quantity": 2}, headers=customer_headers),
        client.delete(f"/cart/{a.id}", headers=customer_headers),
    ):
        assert_problem(response, 404)
    assert client.get("/cart", headers=customer_headers).get_json()["items"] == []
    assert _count(CartItem) == 0


def test_a_book_ordered_before_the_delete_is_retired_and_stays_ordered(client, customer_headers, admin_headers, book):
    a = book(stock=5)
    r = client.post(
        "/orders",
        json={"items": [{"book_id": a.id, "quantity": 1}], "shipping_address": ADDRESS},
        headers=customer_headers,
    )
    assert r.status_code == 201

    assert client.delete(f"/books/{a.id}", headers=admin_headers).status_code == 204

    assert_problem(client.get(f"/books/{a.id}"), 404)
    order = client.get(f"/orders/{r.get_json()['id']}", headers=customer_headers).get_json()
    assert [(line["book_id"], line["quantity"]) for line in order["items"]] == [(a.id, 1)]
    # the later buyer finds it short, with nothing available
    r = client.post(
        "/orders",
        json={"items": [{"book_id": a.id, "quantity": 1}], "shipping_address": ADDRESS},
        headers=customer_headers,
    )
    assert assert_problem(r, 409)["shortages"] == [{"book_id": a.id, "title": a.title, "requested": 1, "available": 0}]


def test_a_customer_who_ordered_before_the_delete_is_kept(client, make, customer, book, admin_headers):
    a = book(stock=5)
    headers = make.headers(customer)
    r = client.post(
        "/orders", json={"items": [{"book_id": a.id, "quantity": 1}], "shipping_address": ADDRESS}, headers=headers
    )
    assert r.status_code == 201

    body = assert_problem(client.delete(f"/customers/{customer.customer_id}", headers=admin_headers), 409)

    assert "in progress" in body["detail"]
    assert client.get(f"/orders/{r.get_json()['id']}", headers=headers).get_json()["customer_id"] == (
        customer.customer_id
    )
