"""The app on a 3-node MariaDB Galera cluster (scripts/cluster.py): one gunicorn instance per node,
HAProxy in front, one Redis database, the same secrets everywhere.

Started once for the module (about 20 s) and only when asked: `make test-cluster` (CLUSTER_TESTS=1),
which .ci/run does in its own stage. Outside CI the tests are skipped when the Galera provider,
rsync or HAProxy are missing, or when not root (the nodes run as the mysql user)."""

import contextlib
import os
import random
import signal
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from scripts.cluster import Cluster, install_missing, unavailable_reason
from tests.conftest import together

pytestmark = [pytest.mark.cluster, pytest.mark.mysql_only]

BUYERS = 50


def _skip_reason() -> str | None:
    if not os.environ.get("CLUSTER_TESTS"):
        return "the Galera cluster tests run with `make test-cluster` (CLUSTER_TESTS=1)"
    if os.environ.get("CI"):
        install_missing()
    return unavailable_reason()


# Where a failed run's cluster logs are kept (the cluster's own directory is removed at teardown).
KEPT_LOGS = Path(os.environ.get("CLUSTER_TEST_LOGS", "test-artifacts/cluster-logs"))


@pytest.fixture(scope="module")
def cluster(request):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    base = int(os.environ.get("CLUSTER_TEST_BASE_PORT", "15000"))
    directory = Path(tempfile.mkdtemp(prefix="bookstore_galera_"))
    cl = Cluster(base_port=base, directory=directory, tied=True)
    failed_before = request.session.testsfailed
    ready = False
    try:
        cl.up()
        cl.tokens = register(cl, BUYERS)
        ready = True
        yield cl
    finally:
        if not ready or request.session.testsfailed > failed_before:
            keep_logs(request, cl)
        cl.down()


def keep_logs(request, cl: Cluster) -> None:
    """A test failed (or the cluster did not come up, or its customers could not sign up): keep every
    log and print their tails."""
    destination = KEPT_LOGS / time.strftime("%Y%m%d-%H%M%S")
    tails = cl.keep_logs(destination)
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    write = reporter.write_line if reporter is not None else print
    write(f"\n[cluster] a cluster test failed: every log is kept in {destination.resolve()}")
    for line in tails.splitlines():
        write(line)


def register(cl: Cluster, n: int) -> list[str]:
    """n customers signed up through HAProxy, 10 at a time; an access token for each."""

    with ThreadPoolExecutor(max_workers=10) as pool:
        return list(pool.map(lambda i: cl.sign_up(f"buyer{i}"), range(n)))


# --- SQL on the nodes -------------------------------------------------------------------------------


def sql(node, statement: str, args=None) -> list[tuple]:
    """One statement on one node, causally consistent: it waits for what the cluster committed."""
    with contextlib.closing(node.connect(node.cluster.database)) as conn, conn.cursor() as cur:
        cur.execute("SET SESSION wsrep_sync_wait = 1")
        cur.execute(statement, args)
        return list(cur.fetchall())


def stock_on(node, book_id: int) -> int:
    return sql(node, "SELECT stock FROM books WHERE id = %s", (book_id,))[0][0]


def ordered_on(node, book_id: int) -> int:
    rows = sql(
        node,
        "SELECT COALESCE(SUM(oi.quantity), 0) FROM order_items oi JOIN orders o ON o.id = oi.order_id "
        "WHERE oi.book_id = %s AND o.status <> 'cancelled'",
        (book_id,),
    )
    return int(rows[0][0])


def order_snapshot(node, order_ids: list[int]) -> dict[int, tuple]:
    """Each order with its lines and status history, as stored on this node."""
    if not order_ids:
        return {}
    marks = ",".join(["%s"] * len(order_ids))
    orders = sql(node, f"SELECT id, customer_id, status, total FROM orders WHERE id IN ({marks})", order_ids)
    lines = sql(
        node,
        f"SELECT order_id, book_id, quantity, unit_price FROM order_items WHERE order_id IN ({marks}) "
        "ORDER BY order_id, book_id",
        order_ids,
    )
    history = sql(node, f"SELECT order_id, status FROM order_status_history WHERE order_id IN ({marks})", order_ids)
    snapshot = {row[0]: (row[1:], [], []) for row in orders}
    for line in lines:
        snapshot[line[0]][1].append(line[1:])
    for change in history:
        snapshot[change[0]][2].append(change[1])
    return snapshot


# --- HTTP -------------------------------------------------------------------------------------------


def order(base_url: str, token: str, book_id: int, quantity: int = 1, key: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = key
    return requests.post(
        base_url + "/orders",
        json={"items": [{"book_id": book_id, "quantity": quantity}]},
        headers=headers,
        timeout=90,
    )


def app_url(cl: Cluster, i: int) -> str:
    return cl.apps[i % len(cl.apps)].base_url


def assert_unavailable(r: requests.Response) -> None:
    assert r.status_code == 503, r.text
    assert r.headers["Content-Type"] == "application/problem+json"
    assert int(r.headers["Retry-After"]) > 0


# --- 1-3: correctness across nodes --------------------------------------------------------------


def test_fifty_buyers_over_three_nodes_for_the_last_five_copies(cluster):
    for round_no in range(3):
        book_id = cluster.make_book(5, f"Last five, round {round_no}")
        responses = together(BUYERS, lambda i: order(app_url(cluster, i), cluster.tokens[i], book_id))  # noqa: B023
        codes = Counter(r.status_code for r in responses)
        assert codes == {201: 5, 409: 45}, (round_no, codes, [r.text for r in responses if r.status_code >= 500])
        for node in cluster.nodes:
            assert stock_on(node, book_id) == 0, node.name
            assert ordered_on(node, book_id) == 5, node.name
    # The catalogue counts kept by triggers on node1 reach the other nodes as rows, and agree.
    counts = [sql(node, "SELECT genre, books FROM book_counts ORDER BY genre") for node in cluster.nodes]
    live = sql(cluster.nodes[1], "SELECT COALESCE(genre, ''), COUNT(*) FROM books WHERE NOT is_retired GROUP BY 1")
    assert counts[0] == counts[1] == counts[2] == sorted(live)


def test_one_idempotency_key_sent_through_three_nodes_at_once(cluster):
    book_id = cluster.make_book(100, "Idempotent everywhere")
    token = cluster.tokens[0]
    responses = together(20, lambda i: order(app_url(cluster, i), token, book_id, 3, key="galera-once"))
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses if r.status_code != 201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") != "true" for r in responses) == 1
    for node in cluster.nodes:
        assert stock_on(node, book_id) == 97, node.name
        assert ordered_on(node, book_id) == 3, node.name


def test_logout_through_one_instance_is_refused_by_every_other(cluster):
    r = requests.post(cluster.base_url + "/login", json={"username": "buyer7", "password": "password-123"}, timeout=30)
    token = r.json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    for app in cluster.apps:
        assert requests.get(app.base_url + "/me", headers=auth, timeout=30).status_code == 200, app.name
    assert requests.post(cluster.apps[0].base_url + "/logout", headers=auth, timeout=30).status_code in (200, 204)
    for app in cluster.apps[1:]:
        r = requests.get(app.base_url + "/me", headers=auth, timeout=30)
        assert r.status_code == 401, (app.name, r.text)


# --- 4-6: failures ---------------------------------------------------------------------------------


class Shoppers:
    """`n` clients placing orders through `base_url` until stopped; every answer is kept."""

    def __init__(self, cl: Cluster, n: int, book_ids: list[int], base_url: str | None = None):
        self.cl, self.n, self.book_ids = cl, n, book_ids
        self.base_url = base_url or cl.base_url
        self.answers: list[tuple[int, dict, dict]] = []
        self.failures: list[str] = []
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.shop, args=(i,)) for i in range(n)]

    def shop(self, i: int) -> None:
        rng = random.Random(i)
        while not self.stopping.is_set():
            book_id = (
                self.book_ids[i % len(self.book_ids)] if len(self.book_ids) >= self.n else rng.choice(self.book_ids)
            )
            try:
                r = order(self.base_url, self.cl.tokens[i], book_id, rng.randint(1, 2))
            except requests.RequestException as exc:
                with self.lock:
                    self.failures.append(repr(exc))
                continue
            body = r.json() if r.headers.get("Content-Type", "").endswith("json") else {"text": r.text}
            with self.lock:
                self.answers.append((r.status_code, r.headers, body))

    def __enter__(self) -> "Shoppers":
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=120)

    def codes(self) -> Counter:
        return Counter(code for code, _, _ in self.answers)

    def placed(self) -> dict[int, dict]:
        return {body["id"]: body for code, _, body in self.answers if code == 201}


def wait_until(what: str, check, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_node_killed_under_load_loses_no_acknowledged_order(cluster):
    initial = 100_000
    books = [cluster.make_book(initial, f"Kill test {i}") for i in range(4)]
    victim = cluster.nodes[2]
    survivors = cluster.nodes[:2]
    with Shoppers(cluster, 8, books) as shoppers:
        time.sleep(3)
        victim.kill(signal.SIGKILL)
        time.sleep(8)
    assert not shoppers.failures, shoppers.failures[:5]
    codes = shoppers.codes()
    assert set(codes) <= {201, 409, 503}, codes
    assert codes[201] > 0, codes
    for code, headers, body in shoppers.answers:
        if code == 503:
            assert int(headers.get("Retry-After", "0")) > 0, body
    placed = shoppers.placed()
    snapshots = [order_snapshot(node, list(placed)) for node in survivors]
    assert set(snapshots[0]) == set(placed), "an acknowledged order is missing on node1"
    assert snapshots[0] == snapshots[1], "node1 and node2 disagree"
    for oid, body in placed.items():
        _, lines, history = snapshots[0][oid]
        assert [(b, q) for b, q, _ in lines] == [(i["book_id"], i["quantity"]) for i in body["items"]], oid
        assert history == ["pending"], oid

    log_before = victim.error_log.read_text(errors="replace")
    victim.start()
    victim.wait_synced(size=3, timeout=180)
    rejoin_log = victim.error_log.read_text(errors="replace")[len(log_before) :]
    assert "IST received" in rejoin_log, "the node did not catch up by incremental state transfer"
    assert order_snapshot(victim, list(placed)) == snapshots[0], "the rejoined node did not catch up"
    for book_id in books:
        for node in cluster.nodes:
            assert stock_on(node, book_id) + ordered_on(node, book_id) == initial, (node.name, book_id)
    # The app instance of the restarted node answers again once its pool reconnects.
    wait_until("app3 healthy", cluster.apps[2].healthy)


def test_a_partitioned_node_refuses_and_the_majority_keeps_selling(cluster):
    minority, majority = cluster.nodes[2], cluster.nodes[:2]
    minority_app = cluster.apps[2]
    book_id = cluster.make_book(50, "Partition")
    assert order(minority_app.base_url, cluster.tokens[1], book_id).status_code == 201
    minority.isolate(True)
    try:
        wait_until("node3 to leave the primary component", lambda: minority.status().get("wsrep_ready") == "OFF", 60)
        for node in majority:
            node.wait_synced(size=2, timeout=60)
        # Through the minority: no sale, and no stale catalogue either.
        assert_unavailable(order(minority_app.base_url, cluster.tokens[2], book_id))
        assert_unavailable(requests.get(f"{minority_app.base_url}/books/{book_id}", timeout=60))
        # Through the majority: sales go on.
        for i, app in enumerate(cluster.apps[:2]):
            assert order(app.base_url, cluster.tokens[3 + i], book_id).status_code == 201, app.name
        for node in majority:
            assert stock_on(node, book_id) == 47
    finally:
        minority.isolate(False)
    minority.wait_synced(size=3, timeout=120)
    assert stock_on(minority, book_id) == 47
    wait_until("app3 healthy", minority_app.healthy)
    r = requests.get(f"{minority_app.base_url}/books/{book_id}", timeout=30)
    assert r.status_code == 200 and r.json()["stock"] == 47


def test_rolling_restart_of_the_app_instances_under_load(cluster):
    books = [cluster.make_book(100_000, f"Rolling {i}") for i in range(6)]
    with Shoppers(cluster, 6, books) as shoppers:
        for app in cluster.apps:
            time.sleep(1)
            cluster.set_app_state(app, "maint")
            wait_until(f"{app.name} drained", lambda: cluster.app_sessions(app) == 0, 60)  # noqa: B023
            app.stop()
            app.start()
            app.wait_healthy()
            cluster.set_app_state(app, "ready")
        time.sleep(1)
    assert not shoppers.failures, shoppers.failures[:5]
    codes = shoppers.codes()
    assert codes[201] > 0 and set(codes) == {201}, codes
