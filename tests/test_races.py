"""Races between a guard and the writes it guards, on a real gunicorn (4 processes x 4 threads)
against MariaDB: deleting a customer while they order, deleting a book while it is ordered or put
in carts, cart changes racing each other, removals and checkouts, two admins removing each other.
Every race has one legal outcome, and none answers 5xx. Skipped unless TEST_DATABASE_URL is
MySQL/MariaDB (SQLite serialises every transaction, so these races cannot happen there)."""

import subprocess
import time
from collections import Counter
from dataclasses import dataclass

import pytest
import requests
import sqlalchemy as sa
from sqlalchemy import text

from tests.conftest import bearer, together
from tests.live import ROOT, VENV_BIN, LiveDatabase, LiveServer, mysql_test_url

pytestmark = [
    pytest.mark.mysql_only,
    pytest.mark.skipif(mysql_test_url() is None, reason="needs TEST_DATABASE_URL on MySQL/MariaDB"),
]

PASSWORD = "password-123"
ADDRESS = "1 Race Street, Testville"
ROUNDS = 6


@dataclass
class Live:
    server: LiveServer
    engine: sa.Engine
    admin: dict

    def url(self, path: str) -> str:
        return self.server.url(path)

    def customer(self, name: str) -> tuple[int, int, dict]:
        """A new customer with an account: (customer id, account id, auth headers)."""
        body = {"name": name, "email": f"{name}@example.com", "username": name, "password": PASSWORD}
        r = requests.post(self.url("/register"), json=body, timeout=30)
        assert r.status_code == 201, r.text
        return r.json()["customer"]["id"], r.json()["account"]["id"], self.login(name)

    def login(self, username: str) -> dict:
        r = requests.post(self.url("/login"), json={"username": username, "password": PASSWORD}, timeout=30)
        assert r.status_code == 200, r.text
        return bearer(r.json()["access_token"])

    def book(self, stock: int, title: str = "Contested") -> int:
        with self.engine.connect() as conn:
            return conn.execute(
                text(
                    "INSERT INTO books (title, author, price, stock, is_retired, units_sold, created_at, updated_at) "
                    "VALUES (:t, 'Anon', 10.00, :s, 0, 0, UTC_TIMESTAMP(), UTC_TIMESTAMP())"
                ),
                {"t": title, "s": stock},
            ).lastrowid

    def scalar(self, sql: str, **params):
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def stock(self, book_id: int) -> int:
        return self.scalar("SELECT stock FROM books WHERE id = :b", b=book_id)

    def ordered(self, book_id: int) -> int:
        """Copies of the book in orders that still hold them (not cancelled)."""
        return int(
            self.scalar(
                "SELECT COALESCE(SUM(oi.quantity), 0) FROM order_items oi JOIN orders o ON o.id = oi.order_id "
                "WHERE oi.book_id = :b AND o.status <> 'cancelled'",
                b=book_id,
            )
        )

    def cart_quantity(self, customer_id: int, book_id: int) -> int | None:
        return self.scalar(
            "SELECT quantity FROM cart_items WHERE customer_id = :c AND book_id = :b", c=customer_id, b=book_id
        )


@pytest.fixture(scope="module")
def live():
    database = LiveDatabase("live")
    engine = database.create()
    server = LiveServer(database.url, workers=4, threads=4).start()
    try:
        subprocess.run(
            [str(VENV_BIN / "flask"), "create-admin", "--username", "boss", "--email", "boss@example.com"]
            + ["--password", PASSWORD],
            cwd=ROOT,
            env={**server.env, "FLASK_APP": "run.py"},
            check=True,
            capture_output=True,
            timeout=60,
        )
        live = Live(server, engine, {})
        live.admin = live.login("boss")
        yield live
    finally:
        server.stop()
        database.drop()


def post(live: Live, path: str, headers: dict, body=None, **extra_headers):
    return requests.post(live.url(path), json=body, headers={**headers, **extra_headers}, timeout=60)


def no_server_errors(responses) -> None:
    failed = [(r.request.method, r.request.url, r.status_code, r.text) for r in responses if r.status_code >= 500]
    assert not failed, failed


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    return response.json()


# --- deleting a customer while orders are being placed ---------------------------------------------


def test_deleting_a_customer_while_they_order_leaves_no_orphan_order(live):
    outcomes = Counter()
    for round_no in range(ROUNDS):
        customer_id, _, headers = live.customer(f"leaver{round_no}")
        book_id = live.book(100, title=f"Leaver {round_no}")
        assert post(live, "/cart", headers, {"book_id": book_id}).status_code == 200

        def call(i, customer_id=customer_id, book_id=book_id, headers=headers, round_no=round_no):
            if i == 0:
                return requests.delete(live.url(f"/customers/{customer_id}"), headers=headers, timeout=60)
            if round_no % 2:  # odd rounds: the orders arrive a moment after the delete
                time.sleep(0.01 + 0.003 * i)
            # every fourth checks the cart out; every other one carries an Idempotency-Key
            body = {"shipping_address": ADDRESS}
            if i % 4:
                body["items"] = [{"book_id": book_id, "quantity": 1}]
            key = {"Idempotency-Key": f"leaver-{round_no}-{i}"} if i % 2 else {}
            return post(live, "/orders", headers, body, **key)

        responses = together(21, call)
        no_server_errors(responses)
        deleted, orders = responses[0], responses[1:]
        placed = [r.json()["id"] for r in orders if r.status_code == 201]
        # 400: the cart was already checked out; 401: the account is gone at the token check;
        # 404: the customer record went while the order was being placed
        assert {r.status_code for r in orders} <= {201, 400, 401, 404}, [(r.status_code, r.text) for r in orders]
        for r in orders:
            if r.status_code == 404:
                assert "no longer exists" in r.json()["detail"]
        rows = live.scalar(
            "SELECT COUNT(*) FROM orders o JOIN order_items oi ON oi.order_id = o.id WHERE oi.book_id = :b", b=book_id
        )
        assert rows == len(placed)
        assert live.stock(book_id) == 100 - live.ordered(book_id) == 100 - len(placed)
        orphans = live.scalar(
            "SELECT COUNT(*) FROM orders WHERE customer_id IS NULL AND status IN ('pending', 'paid', 'shipped')"
        )
        assert orphans == 0
        if deleted.status_code == 204:
            outcomes["deleted"] += 1
            assert placed == []
            assert live.scalar("SELECT COUNT(*) FROM customers WHERE id = :c", c=customer_id) == 0
        else:
            outcomes["refused"] += 1
            body = assert_problem(deleted, 409)
            assert "in progress" in body["detail"]
            assert placed
            owners = live.scalar(
                "SELECT COUNT(*) FROM orders WHERE customer_id = :c AND status = 'pending'", c=customer_id
            )
            assert owners == len(placed)
    print("customer delete outcomes:", dict(outcomes))


# --- the cart under concurrency ----------------------------------------------------------------


@pytest.mark.parametrize(
    "stock, each, accepted",
    [(100, 1, 20), (7, 1, 7), (10_000, 10, 10)],
    ids=["all-fit", "stock-runs-out", "line-maximum"],
)
def test_concurrent_additions_to_one_line_all_count(live, stock, each, accepted):
    customer_id, _, headers = live.customer(f"adder-{stock}-{each}")
    book_id = live.book(stock, title=f"Popular {stock}")

    responses = together(20, lambda i: post(live, "/cart", headers, {"book_id": book_id, "quantity": each}))

    no_server_errors(responses)
    codes = Counter(r.status_code for r in responses)
    assert codes == Counter({200: accepted, 409: 20 - accepted}), [r.text for r in responses if r.status_code != 200]
    assert live.cart_quantity(customer_id, book_id) == each * accepted
    for r in responses:
        if r.status_code == 409:
            body = r.json()
            assert ("shortages" in body) or ("quantity" in body["errors"]), body


def test_cart_changes_racing_removals_and_checkouts_never_fail(live):
    customer_id, _, headers = live.customer("juggler")
    for round_no in range(ROUNDS):
        book_id = live.book(1000, title=f"Juggled {round_no}")
        assert post(live, "/cart", headers, {"book_id": book_id}).status_code == 200

        def call(i, book_id=book_id):
            kind = i % 5
            if kind in (0, 1):
                return post(live, "/cart", headers, {"book_id": book_id, "quantity": 1})
            if kind == 2:
                return requests.put(live.url(f"/cart/{book_id}"), json={"quantity": 3}, headers=headers, timeout=60)
            if kind == 3:
                return requests.delete(live.url(f"/cart/{book_id}"), headers=headers, timeout=60)
            return post(live, "/orders", headers, {"shipping_address": ADDRESS})

        responses = together(20, call)

        no_server_errors(responses)
        by_kind = {kind: {r.status_code for r in responses[kind::5]} for kind in range(5)}
        assert by_kind[0] | by_kind[1] <= {200}, responses
        assert by_kind[2] <= {200}
        assert by_kind[3] <= {200, 404}
        assert by_kind[4] <= {201, 400}
        assert live.stock(book_id) == 1000 - live.ordered(book_id)
        quantity = live.cart_quantity(customer_id, book_id)
        assert quantity is None or 1 <= quantity <= 1 + 8 + 3 * 4
        requests.delete(live.url("/cart"), headers=headers, timeout=60)


# --- deleting a book while it is being ordered ---------------------------------------------------


def test_deleting_a_book_while_it_is_ordered_retires_it(live):
    buyers = [live.customer(f"reader{i}") for i in range(16)]
    outcomes = Counter()
    for round_no in range(ROUNDS):
        book_id = live.book(100, title=f"Withdrawn {round_no}")

        def call(i, book_id=book_id):
            if i == 0:
                return requests.delete(live.url(f"/books/{book_id}"), headers=live.admin, timeout=60)
            _, _, headers = buyers[i - 1]
            if i % 4 == 0:
                return post(live, "/cart", headers, {"book_id": book_id, "quantity": 2})
            return post(
                live, "/orders", headers, {"items": [{"book_id": book_id, "quantity": 1}], "shipping_address": ADDRESS}
            )

        responses = together(1 + len(buyers), call)

        no_server_errors(responses)
        assert responses[0].status_code == 204, responses[0].text
        orders = [r for i, r in enumerate(responses) if i and i % 4]
        carts = [r for i, r in enumerate(responses) if i and not i % 4]
        assert {r.status_code for r in orders} <= {201, 409}
        for r in orders:
            if r.status_code == 409:  # the book was gone by then: short, with nothing available
                # the title is null when the book was deleted outright (no order or cart named it then)
                (shortage,) = r.json()["shortages"]
                assert shortage["title"] in (None, f"Withdrawn {round_no}"), shortage
                assert {k: shortage[k] for k in ("book_id", "requested", "available")} == {
                    "book_id": book_id,
                    "requested": 1,
                    "available": 0,
                }
        assert {r.status_code for r in carts} <= {200, 404}
        placed = sum(r.status_code == 201 for r in orders)
        retired = live.scalar("SELECT is_retired FROM books WHERE id = :b", b=book_id)
        if placed or any(r.status_code == 200 for r in carts):
            assert retired == 1
        outcomes["retired" if retired else "deleted"] += 1
        assert live.ordered(book_id) == placed
        if retired is not None:
            assert live.stock(book_id) == 100 - placed
        # a retired or deleted book is in no cart
        assert live.scalar("SELECT COUNT(*) FROM cart_items WHERE book_id = :b", b=book_id) == 0
    print("book delete outcomes:", dict(outcomes))


# --- the last admin --------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", ["customers", "accounts"])
def test_two_admins_deleting_each_other_leave_one(live, resource):
    try:
        for round_no in range(ROUNDS):
            pair = [live.customer(f"{resource}-admin{round_no}-{side}") for side in "ab"]
            with live.engine.connect() as conn:  # these two are the only admins now
                conn.execute(text("UPDATE accounts SET role = 'customer'"))
                conn.execute(
                    text("UPDATE accounts SET role = 'admin' WHERE id IN (:a, :b)"), {"a": pair[0][1], "b": pair[1][1]}
                )

            def call(i, pair=pair):
                customer_id, account_id, _ = pair[1 - i]
                target = customer_id if resource == "customers" else account_id
                return requests.delete(live.url(f"/{resource}/{target}"), headers=pair[i][2], timeout=60)

            responses = together(2, call)

            no_server_errors(responses)
            codes = sorted(r.status_code for r in responses)
            # the loser is refused as the last admin (409), or was removed first (401 at its token check)
            assert codes[0] == 204 and codes[1] in (401, 409), [r.text for r in responses]
            assert live.scalar("SELECT COUNT(*) FROM accounts WHERE role = 'admin' AND is_active = 1") == 1
    finally:
        with live.engine.connect() as conn:
            conn.execute(text("UPDATE accounts SET role = 'admin' WHERE username = 'boss'"))
