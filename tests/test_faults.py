"""Faults on a private MariaDB (tests/mariadb_private.py: its own mariadbd, port and data directory,
so the shared server is never touched) behind a real gunicorn:

(a) the database SIGKILLed under a load of order placements and started again on the same data
    directory: every acknowledged order is there, whole; nothing half-written; every failure was a
    503 with Retry-After; /health is 200 again within 5 s of the database being back;
(b) a gunicorn worker SIGKILLed while an order is held (test-only failpoint) between taking the
    stock and the commit: the transaction is rolled back, the master starts a new worker, the retry
    with the same Idempotency-Key places the order once;
(c) SIGTERM to the gunicorn master while orders are held there: every one completes with 201.

Skipped unless TEST_DATABASE_URL is MySQL/MariaDB (the suite's MariaDB run) and mariadbd is installed.
The figures each test measured are printed (pytest -s shows them).
"""

import os
import random
import signal
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from sqlalchemy import text

from tests.live import LiveDatabase, LiveServer, mysql_test_url
from tests.mariadb_private import PrivateMariaDB, unavailable_reason

pytestmark = [
    pytest.mark.slow,
    pytest.mark.mysql_only,
    pytest.mark.skipif(
        mysql_test_url() is None,
        reason="fault tests run with the MariaDB suite: set TEST_DATABASE_URL=mysql://... "
        "(they start a private mariadbd of their own)",
    ),
    pytest.mark.skipif(unavailable_reason() is not None, reason=f"no private MariaDB: {unavailable_reason()}"),
]

DB_PREFIX = "bookstore_test_faults"


@pytest.fixture(scope="module")
def mariadb():
    server = PrivateMariaDB()
    try:
        server.install()
        server.start()
        yield server
    finally:
        server.destroy()


@pytest.fixture
def live_db(mariadb, request):
    """A migrated database of this test's own on the private server."""
    database = LiveDatabase(request.node.name.removeprefix("test_")[:30], base=mariadb.url(DB_PREFIX))
    database.create()
    yield database
    # The private server may have been restarted: pooled connections are stale.
    database.engine.dispose()
    database.server.dispose()
    if mariadb.answers():
        database.drop()


@pytest.fixture
def servers():
    """Every LiveServer a test starts is stopped at its end, whatever happened."""
    started = []
    yield started
    for server in started:
        server.stop()


# --- data helpers -----------------------------------------------------------------------------------


def fresh_engine(database: LiveDatabase, isolation: str = "AUTOCOMMIT") -> sa.Engine:
    return sa.create_engine(database.url, isolation_level=isolation, pool_pre_ping=True)


def make_books(engine: sa.Engine, count: int, stock: int, title: str) -> list[int]:
    ids = []
    with engine.connect() as conn:
        for i in range(count):
            ids.append(
                conn.execute(
                    text(
                        "INSERT INTO books (title, author, price, stock, is_retired, units_sold, created_at, updated_at)"
                        " VALUES (:t, 'Anon', :p, :s, 0, 0, UTC_TIMESTAMP(), UTC_TIMESTAMP())"
                    ),
                    {"t": f"{title} {i}", "p": Decimal("7.25") + i, "s": stock},
                ).lastrowid
            )
    return ids


def stocks(engine: sa.Engine, ids: list[int]) -> dict[int, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, stock FROM books WHERE id IN :ids").bindparams(sa.bindparam("ids", expanding=True)),
            {"ids": ids},
        )
        return dict(rows.all())


def count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


@dataclass
class Audit:
    """What is in the database, and every sign of a half-written order."""

    orders: dict[int, dict] = field(default_factory=dict)  # id -> {"total", "items": {book_id: (qty, price, line)}}
    without_lines: list[int] = field(default_factory=list)
    without_history: list[int] = field(default_factory=list)
    total_mismatch: list[int] = field(default_factory=list)
    stock_mismatch: dict[int, tuple] = field(default_factory=dict)  # book -> (stock, ordered, units_sold, initial)
    keys: dict[str, int | None] = field(default_factory=dict)

    @property
    def half_written(self) -> dict:
        found = {
            "orders without lines": self.without_lines,
            "orders without status history": self.without_history,
            "orders whose total is not the sum of their lines": self.total_mismatch,
            "books whose stock + ordered copies != initial stock": self.stock_mismatch,
        }
        return {name: what for name, what in found.items() if what}


def audit(engine: sa.Engine, initial: dict[int, int]) -> Audit:
    result = Audit()
    with engine.connect() as conn:
        for order_id, total in conn.execute(text("SELECT id, total FROM orders")):
            result.orders[order_id] = {"total": total, "items": {}}
        for order_id, book_id, qty, price, line in conn.execute(
            text("SELECT order_id, book_id, quantity, unit_price, line_total FROM order_items")
        ):
            result.orders[order_id]["items"][book_id] = (qty, price, line)
        with_history = set(conn.execute(text("SELECT DISTINCT order_id FROM order_status_history")).scalars())
        ordered = Counter()
        for order_id, order in result.orders.items():
            if not order["items"]:
                result.without_lines.append(order_id)
            if order_id not in with_history:
                result.without_history.append(order_id)
            if order["total"] != sum((line for _, _, line in order["items"].values()), Decimal("0.00")):
                result.total_mismatch.append(order_id)
            for book_id, (qty, _, _) in order["items"].items():
                ordered[book_id] += qty
        for book_id, stock, units_sold in conn.execute(text("SELECT id, stock, units_sold FROM books")):
            if book_id in initial and (stock + ordered[book_id] != initial[book_id] or units_sold != ordered[book_id]):
                result.stock_mismatch[book_id] = (stock, ordered[book_id], units_sold, initial[book_id])
        result.keys = dict(conn.execute(text("SELECT `key`, order_id FROM idempotency_keys")).all())
    return result


def matches(order_in_db: dict, body: dict) -> bool:
    """The order row and its lines are what the 201 said."""
    items = {
        item["book_id"]: (item["quantity"], Decimal(item["unit_price"]), Decimal(item["line_total"]))
        for item in body["items"]
    }
    return order_in_db["items"] == items and order_in_db["total"] == Decimal(body["total"])


def dirty_stocks(database: LiveDatabase, ids: list[int]) -> dict[int, int]:
    """Stock as an uncommitted transaction left it (READ UNCOMMITTED): shows an order held in flight."""
    engine = fresh_engine(database, "READ UNCOMMITTED")
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, stock FROM books WHERE id IN :ids").bindparams(sa.bindparam("ids", expanding=True)),
                {"ids": ids},
            )
            return dict(rows.all())
    finally:
        engine.dispose()


def wait_until(condition, timeout: float, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def children(pid: int) -> set[int]:
    """Live (non-zombie) child processes of pid, from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and state != "Z":
            found.add(int(entry.name))
    return found


def order(server: LiveServer, token: str, items: list[dict], key: str | None = None, timeout: float = 60):
    headers = {"Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = key
    # A new connection per request: no kept-alive socket that the server may close under us.
    return requests.post(
        server.url("/orders"), json={"items": items}, headers={**headers, "Connection": "close"}, timeout=timeout
    )


def figures(label: str, **values) -> None:
    print(f"\n[faults] {label}: " + ", ".join(f"{k}={v}" for k, v in values.items()))


# --- (a) the database killed under load ---------------------------------------------------------------

CLIENTS = 8
BOOKS = 6
INITIAL_STOCK = 100_000
KILL_AFTER = 2.0  # seconds of load before the SIGKILL
DOWN_FOR = 1.0  # seconds the database stays dead
LOAD_SECONDS = 6.0  # at least; the load also runs 1.5 s past the recovery


@dataclass
class Attempt:
    key: str
    items: list[dict]
    client: int
    sent: float
    status: int | None = None
    headers: dict = field(default_factory=dict)
    body: dict | None = None
    error: str | None = None


def _send(server, token, attempt: Attempt) -> Attempt:
    try:
        response = order(server, token, attempt.items, attempt.key, timeout=30)
    except requests.RequestException as err:  # the app itself must never drop a connection
        attempt.error = repr(err)
        return attempt
    attempt.status = response.status_code
    attempt.headers = dict(response.headers)
    try:
        attempt.body = response.json()
    except ValueError:
        attempt.body = {"raw": response.text[:500]}
    return attempt


def test_database_sigkill_under_order_load(mariadb, live_db, servers):
    server = LiveServer(live_db.url, workers=2, threads=4)
    servers.append(server.start())
    tokens = server.register(CLIENTS, prefix="loader")
    engine = fresh_engine(live_db)
    books = make_books(engine, BOOKS, INITIAL_STOCK, "Crash")
    engine.dispose()

    t0 = time.monotonic()
    stop_at = [t0 + LOAD_SECONDS]

    def client(i: int) -> list[Attempt]:
        rng = random.Random(i)
        done = []
        while time.monotonic() < stop_at[0]:
            picks = sorted(rng.sample(books, rng.randint(1, 3)), key=lambda _: rng.random())
            items = [{"book_id": b, "quantity": rng.randint(1, 3)} for b in picks]
            attempt = _send(server, tokens[i], Attempt(uuid.uuid4().hex, items, i, time.monotonic() - t0))
            done.append(attempt)
            if attempt.status != 201:
                time.sleep(0.05)  # a client that backs off a little (Retry-After says 5)
        return done

    with ThreadPoolExecutor(CLIENTS) as pool:
        futures = [pool.submit(client, i) for i in range(CLIENTS)]
        time.sleep(max(0.0, t0 + KILL_AFTER - time.monotonic()))
        mariadb.kill()
        killed_at = time.monotonic() - t0
        time.sleep(DOWN_FOR)
        restart_at = time.monotonic() - t0
        ready_after = mariadb.start()  # crash recovery on the same data directory
        ready_at = restart_at + ready_after

        def healthy():
            try:
                return requests.get(server.url("/health"), timeout=5).status_code == 200
            except requests.RequestException:
                return False

        wait_until(healthy, timeout=30, interval=0.02, what="/health 200 after the restart")
        health_at = time.monotonic() - t0
        stop_at[0] = max(stop_at[0], t0 + health_at + 1.5)
        attempts = [a for f in futures for a in f.result()]

    # Every request was answered: 201, or 503 problem+json with Retry-After. Nothing else.
    statuses = Counter(a.status if a.error is None else "connection error" for a in attempts)
    wrong = [a for a in attempts if a.status not in (201, 503)]
    assert not wrong, f"{statuses}; e.g. {wrong[:3]}"
    unavailable = [a for a in attempts if a.status == 503]
    for a in unavailable:
        assert a.headers.get("Content-Type") == "application/problem+json", a
        assert int(a.headers["Retry-After"]) >= 1, a
    assert unavailable, "the database was killed, yet no request failed: the fault did not happen under load"
    assert any(a.status == 201 and a.sent < killed_at for a in attempts), "no order before the kill"
    assert any(a.status == 201 and a.sent > ready_at for a in attempts), "no order after the restart"
    assert health_at - ready_at <= 5, f"/health 200 {health_at - ready_at:.2f}s after the database was back"

    # What a careful client does with a 503: the same request with the same Idempotency-Key.
    replayed = placed_on_retry = 0
    for a in unavailable:
        for _ in range(10):
            retry = _send(server, tokens[a.client], Attempt(a.key, a.items, a.client, 0))
            if retry.status != 503:
                break
            time.sleep(0.2)
        assert retry.status == 201, retry
        a.status, a.body = 201, retry.body
        if retry.headers.get("Idempotent-Replayed") == "true":
            replayed += 1  # the commit had happened; only its answer was lost with the connection
        else:
            placed_on_retry += 1

    # Compare what the clients were told with what survived the crash.
    acknowledged = {a.body["id"]: a for a in attempts}
    engine = fresh_engine(live_db)
    try:
        found = audit(engine, dict.fromkeys(books, INITIAL_STOCK))
    finally:
        engine.dispose()
    acked_in_load = sum(1 for a in attempts if a.status == 201) - len(unavailable)
    figures(
        "(a) database SIGKILL under load",
        requests=len(attempts),
        acknowledged_201=acked_in_load,
        unavailable_503=len(unavailable),
        other=len(wrong),
        retried_503_replayed=replayed,
        retried_503_placed=placed_on_retry,
        orders_expected=len(acknowledged),
        orders_found=len(found.orders),
        killed_at=f"{killed_at:.2f}s",
        db_ready_after_restart=f"{ready_after:.2f}s",
        health_200_after_db_ready=f"{health_at - ready_at:.2f}s",
        health_200_after_restart_began=f"{health_at - restart_at:.2f}s",
    )
    assert not found.half_written, found.half_written
    missing = sorted(set(acknowledged) - set(found.orders))
    assert not missing, f"acknowledged orders lost in the crash: {missing}"
    unacknowledged = sorted(set(found.orders) - set(acknowledged))
    assert not unacknowledged, f"orders nobody was told about: {unacknowledged}"
    different = [oid for oid, a in acknowledged.items() if not matches(found.orders[oid], a.body)]
    assert not different, f"orders unlike their 201: {different}"
    assert len(acknowledged) == len({a.key for a in attempts}), "one order per Idempotency-Key"
    assert found.keys == {a.key: a.body["id"] for a in attempts}


# --- (b) a worker killed with an order held before its commit -----------------------------------------

HOLD_B = 4.0


def test_worker_sigkill_while_an_order_is_held_before_commit(live_db, servers):
    server = LiveServer(live_db.url, workers=1, threads=4, extra_env={"FAILPOINTS": f"order.before_commit={HOLD_B}"})
    servers.append(server.start())
    [token] = server.register(1, prefix="held")
    engine = fresh_engine(live_db)
    [book] = make_books(engine, 1, 10, "Held")
    master = server.proc.pid
    [worker] = children(master)
    key = uuid.uuid4().hex
    items = [{"book_id": book, "quantity": 2}]

    with ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(order, server, token, items, key)
        wait_until(lambda: dirty_stocks(live_db, [book])[book] == 8, timeout=20, what="the order to take the stock")
        assert stocks(engine, [book]) == {book: 10}, "committed before the kill: the failpoint did not hold it"
        os.kill(worker, signal.SIGKILL)
        killed = time.monotonic()
        with pytest.raises(requests.ConnectionError):
            in_flight.result()

    # The dead worker's connection closed; MariaDB rolled its transaction back.
    wait_until(lambda: dirty_stocks(live_db, [book])[book] == 10, timeout=10, what="the rollback")
    rolled_back = time.monotonic() - killed
    assert stocks(engine, [book]) == {book: 10}
    for table in ("orders", "order_items", "order_status_history", "idempotency_keys"):
        assert count(engine, table) == 0, f"{table} kept a row of the killed order"
    found = audit(engine, {book: 10})
    assert not found.half_written, found.half_written

    # The master replaces the worker; the client's retry with the same key places the order once.
    new_workers = wait_until(lambda: children(master) - {worker}, timeout=30, what="a new worker")
    respawned = time.monotonic() - killed
    assert server.proc.poll() is None, "the master died with its worker"
    retry = order(server, token, items, key)
    assert retry.status_code == 201, retry.text
    assert retry.headers.get("Idempotent-Replayed") is None  # nothing had been stored under the key
    assert stocks(engine, [book]) == {book: 8}
    found = audit(engine, {book: 10})
    assert not found.half_written, found.half_written
    assert list(found.orders) == [retry.json()["id"]] and matches(found.orders[retry.json()["id"]], retry.json())
    figures(
        "(b) worker SIGKILL with an order held before commit",
        killed_worker=worker,
        new_worker=sorted(new_workers),
        rolled_back_after=f"{rolled_back:.2f}s",
        new_worker_after=f"{respawned:.2f}s",
        orders_after_kill=0,
        orders_after_retry=len(found.orders),
        stock="10 -> 10 -> 8",
    )
    engine.dispose()


# --- (c) SIGTERM with slow requests in flight ---------------------------------------------------------

HELD_C = 6
HOLD_C = 5.0


def test_sigterm_lets_orders_in_flight_finish(live_db, servers):
    # Threads enough in either worker for every held order: none waits in a queue.
    server = LiveServer(
        live_db.url, workers=2, threads=HELD_C, extra_env={"FAILPOINTS": f"order.before_commit={HOLD_C}"}
    )
    servers.append(server.start())
    tokens = server.register(HELD_C, prefix="slow")
    engine = fresh_engine(live_db)
    books = make_books(engine, HELD_C, 10, "Slow")  # one book each: no order waits on another's row lock

    with ThreadPoolExecutor(HELD_C) as pool:
        futures = [pool.submit(order, server, tokens[i], [{"book_id": books[i], "quantity": 1}]) for i in range(HELD_C)]
        wait_until(lambda: set(dirty_stocks(live_db, books).values()) == {9}, timeout=30, what="every order to be held")
        committed_before = count(engine, "orders")
        server.proc.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        responses = [f.result() for f in futures]
        finished = time.monotonic() - signalled
    exit_code = server.proc.wait(timeout=30)

    assert committed_before == 0, "an order committed before the SIGTERM: it was not in flight"
    assert [r.status_code for r in responses] == [201] * HELD_C, [r.text for r in responses]
    assert exit_code == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url("/health"), timeout=5)  # and it did stop
    found = audit(engine, dict.fromkeys(books, 10))
    assert not found.half_written, found.half_written
    assert sorted(found.orders) == sorted(r.json()["id"] for r in responses)
    assert all(matches(found.orders[r.json()["id"]], r.json()) for r in responses)
    assert stocks(engine, books) == dict.fromkeys(books, 9)
    figures(
        "(c) SIGTERM to the master with held orders",
        in_flight=HELD_C,
        completed_201=sum(r.status_code == 201 for r in responses),
        orders_found=len(found.orders),
        all_answered_after=f"{finished:.2f}s",
        master_exit=exit_code,
    )
    engine.dispose()
