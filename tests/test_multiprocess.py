"""Two gunicorn instances (two ports, 2 processes x 4 threads each) over one MariaDB database and
one Redis database, as behind a load balancer: a logout through one is refused by the other, the
login rate limit is one count across both, and 50 buyers of the last 5 copies spread across both
still get exactly 5 orders.

Skipped unless TEST_DATABASE_URL is MySQL/MariaDB and Redis answers at 127.0.0.1:6379. Redis
database 12 is this module's own: flushed before and after.
"""

import uuid
from collections import Counter

import pytest
import redis
import requests
from sqlalchemy import text

from tests.conftest import address, together
from tests.live import LiveDatabase, LiveServer, mysql_test_url

REDIS_URL = "redis://127.0.0.1:6379/12"
PASSWORD = "password-123"
BUYERS = 50
COPIES = 5
ROUNDS = 3


def _redis_reason() -> str | None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as err:
        return f"Redis does not answer at {REDIS_URL}: {err}"
    return None


pytestmark = [
    pytest.mark.slow,
    pytest.mark.mysql_only,
    pytest.mark.skipif(mysql_test_url() is None, reason="needs TEST_DATABASE_URL on MySQL/MariaDB"),
    pytest.mark.skipif(_redis_reason() is not None, reason=_redis_reason() or ""),
]


@pytest.fixture(scope="module")
def pair():
    """Two servers, one database, one Redis; a low login limit so the shared count shows."""
    store = redis.Redis.from_url(REDIS_URL)
    store.flushdb()
    database = LiveDatabase("multiproc")
    engine = database.create()
    env = {"REDIS_URL": REDIS_URL, "LOGIN_RATE_LIMIT": "5 per minute"}
    servers = []
    try:
        for _ in range(2):
            servers.append(LiveServer(database.url, workers=2, threads=4, extra_env=env).start())
        yield servers, engine, store
    finally:
        for server in servers:
            server.stop()
        database.drop()
        store.flushdb()
        store.close()


def register(server: LiveServer, prefix: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    body = {
        "name": name,
        "email": f"{name}@example.com",
        "username": name,
        "password": PASSWORD,
        "default_address": address(name=name),
    }
    response = requests.post(server.url("/register"), json=body, timeout=10)
    assert response.status_code == 201, response.text
    return name


def login(server: LiveServer, name: str, password: str = PASSWORD) -> requests.Response:
    return requests.post(server.url("/login"), json={"username": name, "password": password}, timeout=10)


def me(server: LiveServer, token: str) -> int:
    return requests.get(server.url("/me"), headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code


def test_a_token_revoked_through_one_server_is_refused_by_the_other(pair):
    (a, b), _, _ = pair
    name = register(a, "revoke")
    for first, other in ((a, b), (b, a)):  # each way round
        tokens = login(first, name).json()
        access = tokens["access_token"]
        before = together(8, lambda i, access=access: me((first, other)[i % 2], access))

        logout = requests.post(first.url("/logout"), headers={"Authorization": f"Bearer {access}"}, timeout=10)

        after = together(8, lambda i, access=access: me((other, first)[i % 2], access))
        refresh = requests.post(
            other.url("/token/refresh"), headers={"Authorization": f"Bearer {tokens['refresh_token']}"}, timeout=10
        )
        assert before == [200] * 8
        assert logout.status_code == 204
        assert after == [401] * 8
        assert refresh.status_code == 401


def test_the_login_limit_is_one_count_across_both_servers(pair):
    (a, b), _, store = pair
    name = register(a, "limited")

    first_five = [login((a, b)[i % 2], name, "wrong-password").status_code for i in range(5)]
    sixth = login(b, name, "wrong-password")
    seventh = login(a, name)  # the right password, on the other server: still limited

    assert first_five == [401] * 5
    for response in (sixth, seventh):
        assert response.status_code == 429, response.text
        assert response.headers["Content-Type"] == "application/problem+json"
        assert 1 <= int(response.headers["Retry-After"]) <= 61  # the window, rounded up from Redis's TTL
    assert any("login:" in key.decode() for key in store.scan_iter()), "the count is not in Redis"


def test_fifty_buyers_for_the_last_five_copies_across_both_servers(pair):
    servers, engine, _ = pair
    tokens = [
        login(servers[i % 2], register(servers[i % 2], f"buyer{i}")).json()["access_token"] for i in range(BUYERS)
    ]
    winners_by_server = Counter()
    for round_no in range(ROUNDS):
        with engine.connect() as conn:
            book = conn.execute(
                text(
                    "INSERT INTO books (title, author, price, stock, is_retired, units_sold, created_at, updated_at)"
                    " VALUES (:t, 'Anon', 10.00, :s, 0, 0, UTC_TIMESTAMP(), UTC_TIMESTAMP())"
                ),
                {"t": f"Last copies {round_no}", "s": COPIES},
            ).lastrowid

        def buy(i, book=book):
            server = servers[i % 2]
            return server, requests.post(
                server.url("/orders"),
                json={"items": [{"book_id": book, "quantity": 1}]},
                headers={"Authorization": f"Bearer {tokens[i]}"},
                timeout=60,
            )

        results = together(BUYERS, buy)
        codes = Counter(r.status_code for _, r in results)
        assert codes == {201: COPIES, 409: BUYERS - COPIES}, (round_no, codes)
        for server, response in results:
            if response.status_code == 201:
                winners_by_server[server.port] += 1
            else:
                assert response.headers["Content-Type"] == "application/problem+json"
                assert response.json()["shortages"] == [
                    {"book_id": book, "title": f"Last copies {round_no}", "requested": 1, "available": 0}
                ]
        with engine.connect() as conn:
            stock = conn.execute(text("SELECT stock FROM books WHERE id = :id"), {"id": book}).scalar_one()
            ordered = conn.execute(
                text(
                    "SELECT COALESCE(SUM(quantity), 0), COUNT(DISTINCT order_id) FROM order_items WHERE book_id = :id"
                ),
                {"id": book},
            ).one()
        assert stock == 0
        assert (int(ordered[0]), ordered[1]) == (COPIES, COPIES)
    print(
        f"\n[multiprocess] {ROUNDS} rounds x {BUYERS} buyers for {COPIES} copies: "
        f"{ROUNDS * COPIES} orders, winners per server port {dict(winners_by_server)}"
    )
