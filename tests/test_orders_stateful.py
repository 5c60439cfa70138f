"""A Hypothesis state machine drives the shop through HTTP (register, cart, order, cancel, restock,
ship) and checks after every step that no copy is created or lost:

    initial stock + restocks == stock + copies in live (not cancelled) orders, and stock >= 0.
"""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from app.books.models import Book
from app.extensions import db, limiter
from app.orders.models import CANCELLED, Order, OrderItem
from tests.conftest import PASSWORD, address, bearer

BOOKS = 3


class Shop(RuleBasedStateMachine):
    client = None
    admin_headers = None
    run_id = 0

    customers = Bundle("customers")
    orders = Bundle("orders")

    @initialize()
    def stock_the_shelves(self):
        Shop.run_id += 1
        self.book_ids = []
        self.initial = {}
        self.restocked = dict.fromkeys(range(BOOKS), 0)
        for i in range(BOOKS):
            r = self.client.post(
                "/books",
                json={"title": f"Stateful {Shop.run_id}-{i}", "author": "Machine", "price": "4.25", "stock": 2 + i},
                headers=self.admin_headers,
            )
            assert r.status_code == 201, r.get_json()
            self.book_ids.append(r.get_json()["id"])
            self.initial[r.get_json()["id"]] = 2 + i
        self.restocked = dict.fromkeys(self.book_ids, 0)
        self.n_customers = 0

    @rule(target=customers)
    def register(self):
        self.n_customers += 1
        name = f"sm{Shop.run_id}x{self.n_customers}"
        r = self.client.post(
            "/register",
            json={
                "name": name,
                "email": f"{name}@example.com",
                "username": name,
                "password": PASSWORD,
                "default_address": address(name=name),
            },
        )
        assert r.status_code == 201, r.get_json()
        token = self.client.post("/login", json={"username": name, "password": PASSWORD}).get_json()["access_token"]
        return bearer(token)

    @rule(customer=customers, book=st.integers(0, BOOKS - 1), quantity=st.integers(1, 4))
    def add_to_cart(self, customer, book, quantity):
        r = self.client.post("/cart", json={"book_id": self.book_ids[book], "quantity": quantity}, headers=customer)
        assert r.status_code in (200, 409), r.get_json()

    @rule(target=orders, customer=customers)
    def order_the_cart(self, customer):
        r = self.client.post("/orders", json={}, headers=customer)
        assert r.status_code in (201, 400, 409), r.get_json()
        return (r.get_json()["id"], customer) if r.status_code == 201 else None

    @rule(target=orders, customer=customers, book=st.integers(0, BOOKS - 1), quantity=st.integers(1, 5))
    def order_items(self, customer, book, quantity):
        items = [{"book_id": self.book_ids[book], "quantity": quantity}]
        r = self.client.post("/orders", json={"items": items}, headers=customer)
        assert r.status_code in (201, 409), r.get_json()
        return (r.get_json()["id"], customer) if r.status_code == 201 else None

    @rule(order=orders)
    def cancel(self, order):
        if order is None:
            return
        order_id, customer = order
        r = self.client.post(f"/orders/{order_id}/cancel", headers=customer)
        assert r.status_code in (200, 409), r.get_json()

    @rule(order=orders)
    def ship(self, order):
        if order is None:
            return
        for status in ("paid", "shipped"):
            r = self.client.patch(f"/orders/{order[0]}/status", json={"status": status}, headers=self.admin_headers)
            assert r.status_code in (200, 409), r.get_json()

    @rule(book=st.integers(0, BOOKS - 1), quantity=st.integers(1, 3))
    def restock(self, book, quantity):
        book_id = self.book_ids[book]
        r = self.client.post(f"/books/{book_id}/restock", json={"quantity": quantity}, headers=self.admin_headers)
        assert r.status_code == 200, r.get_json()
        self.restocked[book_id] += quantity

    @invariant()
    def no_copy_created_or_lost(self):
        if not getattr(self, "book_ids", None):
            return
        db.session.expire_all()
        stock = dict(db.session.execute(select(Book.id, Book.stock).where(Book.id.in_(self.book_ids))).all())
        in_orders = dict(
            db.session.execute(
                select(OrderItem.book_id, func.sum(OrderItem.quantity))
                .join(Order, Order.id == OrderItem.order_id)
                .where(OrderItem.book_id.in_(self.book_ids), Order.status != CANCELLED)
                .group_by(OrderItem.book_id)
            ).all()
        )
        db.session.commit()
        for book_id in self.book_ids:
            assert stock[book_id] >= 0
            assert self.initial[book_id] + self.restocked[book_id] == stock[book_id] + int(in_orders.get(book_id, 0))


@pytest.fixture
def no_rate_limits():
    """Hundreds of sign-ups from one address: the register limit would turn them into 429s."""
    limiter.enabled = False
    yield
    limiter.enabled = True


@pytest.mark.slow
def test_stock_is_conserved_through_any_sequence(client, admin_headers, no_rate_limits):
    Shop.client = client
    Shop.admin_headers = admin_headers
    run_state_machine_as_test(
        Shop,
        settings=settings(
            max_examples=30,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


def test_the_invariant_would_catch_a_lost_copy(client, admin_headers):
    """The state machine's check is not vacuous: a copy that vanishes is noticed."""
    Shop.client = client
    Shop.admin_headers = admin_headers
    machine = Shop()
    machine.stock_the_shelves()
    book = db.session.get(Book, machine.book_ids[0])
    book.stock -= 1
    book.price = Decimal("4.25")
    db.session.commit()
    with pytest.raises(AssertionError):
        machine.no_copy_created_or_lost()
