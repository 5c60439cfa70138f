"""Concurrent buyers against a real gunicorn (4 processes x 4 threads) on MariaDB: row locks and
conditional updates, not one shared session. Skipped unless TEST_DATABASE_URL is MySQL/MariaDB."""

from collections import Counter

import pytest
import requests
from sqlalchemy import text

from tests.conftest import together
from tests.live import LiveDatabase, LiveServer, mysql_test_url

pytestmark = [
    pytest.mark.mysql_only,
    pytest.mark.skipif(mysql_test_url() is None, reason="needs TEST_DATABASE_URL on MySQL/MariaDB"),
]

BUYERS = 50


@pytest.fixture(scope="module")
def live():
    database = LiveDatabase("orders_live")
    engine = database.create()
    server = LiveServer(database.url, workers=4, threads=4).start()
    tokens = server.register(BUYERS)
    with requests.Session() as s:
        # The admin is made the way the README says: the CLI, never HTTP.
        import subprocess

        from tests.live import ROOT, VENV_BIN

        subprocess.run(
            [
                str(VENV_BIN / "flask"),
                "create-admin",
                "--username",
                "boss",
                "--email",
                "boss@example.com",
                "--password",
                "password-123",
            ],
            cwd=ROOT,
            env={**server.env, "FLASK_APP": "run.py"},
            check=True,
            capture_output=True,
            timeout=60,
        )
        admin = s.post(server.url("/login"), json={"username": "boss", "password": "password-123"}).json()[
            "access_token"
        ]
    yield server, engine, tokens, admin
    server.stop()
    database.drop()


def make_book(engine, stock: int, title: str = "Contested") -> int:
    with engine.connect() as conn:
        result = conn.execute(
            text(
                "INSERT INTO books (title, author, price, stock, is_retired, units_sold, created_at, updated_at) "
                "VALUES (:t, 'Anon', 10.00, :s, 0, 0, UTC_TIMESTAMP(), UTC_TIMESTAMP())"
            ),
            {"t": title, "s": stock},
        )
        return result.lastrowid


def stock(engine, book_id: int) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT stock FROM books WHERE id = :id"), {"id": book_id}).scalar_one()


def ordered_copies(engine, book_id: int, live_only: bool = True) -> int:
    sql = (
        "SELECT COALESCE(SUM(oi.quantity), 0) FROM order_items oi JOIN orders o ON o.id = oi.order_id "
        "WHERE oi.book_id = :id" + (" AND o.status <> 'cancelled'" if live_only else "")
    )
    with engine.connect() as conn:
        return int(conn.execute(text(sql), {"id": book_id}).scalar_one())


def post(server, path, token, json, headers=None):
    return requests.post(
        server.url(path), json=json, timeout=60, headers={"Authorization": f"Bearer {token}", **(headers or {})}
    )


@pytest.mark.slow
def test_fifty_buyers_for_the_last_five_copies(live):
    server, engine, tokens, _ = live
    for round_no in range(20):
        book_id = make_book(engine, 5, title=f"Last five {round_no}")
        responses = together(
            BUYERS, lambda i: post(server, "/orders", tokens[i], {"items": [{"book_id": book_id, "quantity": 1}]})
        )
        codes = Counter(r.status_code for r in responses)
        assert codes == {201: 5, 409: 45}, (round_no, codes)
        assert stock(engine, book_id) == 0
        assert ordered_copies(engine, book_id) == 5
        for r in responses:
            if r.status_code == 409:
                assert r.headers["Content-Type"] == "application/problem+json"
                assert r.json()["shortages"][0]["book_id"] == book_id


def test_twenty_requests_with_one_idempotency_key(live):
    server, engine, tokens, _ = live
    book_id = make_book(engine, 100, title="Idempotent")
    body = {"items": [{"book_id": book_id, "quantity": 3}]}
    responses = together(20, lambda i: post(server, "/orders", tokens[0], body, {"Idempotency-Key": "once-only"}))
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses if r.status_code != 201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") != "true" for r in responses) == 1
    assert stock(engine, book_id) == 97
    assert ordered_copies(engine, book_id) == 3


def test_ten_concurrent_cancels_restock_once(live):
    server, engine, tokens, _ = live
    book_id = make_book(engine, 10, title="Cancel me")
    order = post(server, "/orders", tokens[1], {"items": [{"book_id": book_id, "quantity": 4}]}).json()
    assert stock(engine, book_id) == 6
    responses = together(10, lambda i: post(server, f"/orders/{order['id']}/cancel", tokens[1], None))
    codes = Counter(r.status_code for r in responses)
    assert codes == {200: 1, 409: 9}, codes
    assert stock(engine, book_id) == 10
    with engine.connect() as conn:
        history = (
            conn.execute(
                text("SELECT status FROM order_status_history WHERE order_id = :id ORDER BY id"), {"id": order["id"]}
            )
            .scalars()
            .all()
        )
    assert history == ["pending", "cancelled"]


@pytest.mark.slow
def test_two_hundred_crossing_two_book_orders(live):
    server, engine, tokens, _ = live
    a = make_book(engine, 1000, title="Cross A")
    b = make_book(engine, 1000, title="Cross B")

    def order(i):
        first, second = (a, b) if i % 2 == 0 else (b, a)
        items = [{"book_id": first, "quantity": 1 + i % 3}, {"book_id": second, "quantity": 1 + (i + 1) % 2}]
        return post(server, "/orders", tokens[i % BUYERS], {"items": items})

    responses = together(200, order)
    codes = Counter(r.status_code for r in responses)
    assert codes == {201: 200}, codes
    assert stock(engine, a) == 1000 - ordered_copies(engine, a)
    assert stock(engine, b) == 1000 - ordered_copies(engine, b)
    with engine.connect() as conn:
        mismatched = conn.execute(
            text(
                "SELECT COUNT(*) FROM orders o WHERE o.total <> "
                "(SELECT SUM(line_total) FROM order_items oi WHERE oi.order_id = o.id)"
            )
        ).scalar_one()
    assert mismatched == 0
