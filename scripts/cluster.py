"""A 3-node MariaDB Galera cluster on loopback, one gunicorn app instance per node, HAProxy in front.

    python scripts/cluster.py up      (make cluster-up)    start everything, print the addresses
    python scripts/cluster.py down    (make cluster-down)  stop everything and remove the directory
    python scripts/cluster.py status                       each node's wsrep state

Layout (ports from --base-port, default 14000; node i = 1..3, app i talks to node i):

    clients ──► HAProxy :base (HTTP, GET /health checks) ──► gunicorn app i :base+100+i ──► node i
    node i: SQL :base+10i, group (gcomm) :base+10i+1, IST :base+10i+2, SST (rsync) :base+10i+3

The nodes run as the `mysql` user (rsync SST is refused to root) in data directories it owns under
--dir (default /tmp/bookstore-cluster-<base>). Every app instance gets the same SECRET_KEY,
JWT_SECRET_KEY and REDIS_URL (CLUSTER_REDIS_URL, default redis://127.0.0.1:6379/5, emptied by
`down`), and DB_WSREP_SYNC_WAIT=3 so that its reads and its conditional UPDATEs (the stock) wait
for the writes the cluster already committed on other nodes. The tests (tests/test_cluster.py) and
the benchmark (bench/bench_cluster.py) use the Cluster class directly.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pymysql
import requests

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
MARIADBD = Path("/usr/sbin/mariadbd")
PROVIDER = Path("/usr/lib/galera/libgalera_smm.so")
HAPROXY = Path("/usr/sbin/haproxy")
PR_SET_PDEATHSIG = 1
DATABASE = "bookstore_galera"
SECRET_KEY = "cluster-secret-key-" + "s" * 32
JWT_SECRET_KEY = "cluster-jwt-secret-key-" + "j" * 32
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"
HAPROXY_503 = json.dumps(
    {
        "type": "/problems/service-unavailable",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "No app server is available; retry shortly.",
    }
).replace('"', '\\"')


def missing_tools() -> list[str]:
    """Debian packages this cluster needs and the machine lacks."""
    need = []
    if not MARIADBD.exists() or not shutil.which("mariadb-install-db"):
        need.append("mariadb-server")
    if not PROVIDER.exists():
        need.append("galera-4")
    if not shutil.which("rsync"):
        need.append("rsync")
    if not HAPROXY.exists():
        need.append("haproxy")
    return need


def unavailable_reason() -> str | None:
    """Why the cluster cannot run here, or None when it can."""
    need = missing_tools()
    if need:
        return f"missing Debian packages: {' '.join(need)} (apt-get install -y {' '.join(need)})"
    if os.geteuid() != 0:
        return "the Galera nodes are started as the mysql user, which needs root"
    try:
        pwd.getpwnam("mysql")
    except KeyError:
        return "there is no mysql user (it comes with mariadb-server)"
    return None


def install_missing() -> None:
    """apt-get install what is missing, as .ci/run does for its own tools."""
    need = missing_tools()
    if not need:
        return
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print(f"[cluster] installing Debian packages: {' '.join(need)}", flush=True)
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *need], check=True, env=env)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """When the test process dies without cleaning up, the kernel kills its servers too."""
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _wait(what: str, check, timeout: float, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")


BUYER_PASSWORD = "password-123"


class Node:
    def __init__(self, cluster: Cluster, index: int):
        self.cluster = cluster
        self.index = index
        self.name = f"node{index}"
        self.dir = cluster.dir / self.name
        self.datadir = self.dir / "data"
        self.socket = self.dir / "mariadbd.sock"
        self.error_log = self.dir / "error.log"
        self.cnf = self.dir / "my.cnf"
        base = cluster.base_port + 10 * index
        self.port, self.group_port, self.ist_port, self.sst_port = base, base + 1, base + 2, base + 3
        self.proc: subprocess.Popen | None = None

    def write_config(self) -> None:
        group = ",".join(f"127.0.0.1:{n.group_port}" for n in self.cluster.nodes)
        provider_options = ";".join(
            [
                f"gmcast.listen_addr=tcp://127.0.0.1:{self.group_port}",
                f"ist.recv_addr=127.0.0.1:{self.ist_port}",
                "gcache.size=128M",
                # A node that stops answering is evicted after a few seconds, not the default 15.
                "evs.suspect_timeout=PT4S",
                "evs.inactive_timeout=PT8S",
                "evs.install_timeout=PT8S",
            ]
        )
        self.cnf.write_text(
            f"""[mysqld]
user=mysql
datadir={self.datadir}
socket={self.socket}
pid-file={self.dir / "mariadbd.pid"}
log-error={self.error_log}
port={self.port}
bind-address=127.0.0.1
skip-name-resolve
performance_schema=OFF
max_connections=300
innodb_buffer_pool_size=64M
innodb_log_file_size=48M
character-set-server=utf8mb4
collation-server=utf8mb4_unicode_ci
binlog_format=ROW
default_storage_engine=InnoDB
innodb_autoinc_lock_mode=2
wsrep_on=ON
wsrep_provider={PROVIDER}
wsrep_cluster_name=bookstore_galera_{self.cluster.base_port}
wsrep_cluster_address=gcomm://{group}
wsrep_node_name={self.name}
wsrep_node_address=127.0.0.1:{self.group_port}
wsrep_node_incoming_address=127.0.0.1:{self.port}
wsrep_sst_method=rsync
wsrep_sst_receive_address=127.0.0.1:{self.sst_port}
wsrep_provider_options="{provider_options}"
wsrep_slave_threads=2
"""
        )

    def prepare(self, install: bool) -> None:
        self.datadir.mkdir(parents=True, exist_ok=True)
        self.write_config()
        if install:
            subprocess.run(
                [
                    shutil.which("mariadb-install-db"),
                    f"--defaults-file={self.cnf}",
                    "--user=mysql",
                    # root@127.0.0.1 with an empty password (not unix_socket): the app connects over TCP.
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                ],
                check=True,
                capture_output=True,
                timeout=120,
            )
        subprocess.run(["chown", "-R", "mysql:mysql", str(self.dir)], check=True)

    def start(self, bootstrap: bool = False) -> None:
        assert not self.running(), f"{self.name} is already running"
        args = [str(MARIADBD), f"--defaults-file={self.cnf}"]
        if bootstrap:
            args.append("--wsrep-new-cluster")
        self.proc = self.cluster.spawn(
            args,
            self.dir / "mariadbd.out",
        )

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def connect(self, database: str | None = None, timeout: float = 3) -> pymysql.Connection:
        return pymysql.connect(
            host="127.0.0.1",
            port=self.port,
            user="root",
            password="",
            database=database,
            connect_timeout=timeout,
            read_timeout=30,
            autocommit=True,
        )

    def status(self) -> dict[str, str]:
        """wsrep status variables, or {} when the node does not answer."""
        try:
            conn = self.connect(timeout=1)
        except pymysql.err.MySQLError:
            return {}
        try:
            with conn.cursor() as cur:
                cur.execute("SHOW GLOBAL STATUS LIKE 'wsrep_%'")
                return dict(cur.fetchall())
        except pymysql.err.MySQLError:
            return {}
        finally:
            conn.close()

    def synced(self, size: int | None = None) -> bool:
        status = self.status()
        if status.get("wsrep_local_state_comment") != "Synced" or status.get("wsrep_ready") != "ON":
            return False
        return size is None or status.get("wsrep_cluster_size") == str(size)

    def wait_synced(self, size: int | None = None, timeout: float = 180) -> None:
        try:
            _wait(f"{self.name} to be Synced", lambda: self.synced(size), timeout)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n{self.error_tail()}") from None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.running():
            self.proc.send_signal(sig)
            if sig == signal.SIGKILL:
                self.proc.wait(timeout=30)

    def stop(self) -> None:
        """A clean shutdown (SIGTERM), falling back to SIGKILL."""
        if self.running():
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGCONT)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)

    def isolate(self, on: bool) -> None:
        """Cut (or restore) this node's group traffic: a network partition of one node."""
        with contextlib.closing(self.connect()) as conn, conn.cursor() as cur:
            cur.execute(f"SET GLOBAL wsrep_provider_options='gmcast.isolate={1 if on else 0}'")

    def error_tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.error_log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no error log)"

    def url(self, database: str = DATABASE) -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/{database}?charset=utf8mb4"


class App:
    """One gunicorn instance serving run:app against one node."""

    def __init__(self, cluster: Cluster, index: int, node: Node):
        self.cluster = cluster
        self.index = index
        self.name = f"app{index}"
        self.node = node
        self.port = cluster.base_port + 100 + index
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.node.url(self.cluster.database),
            "APP_ENV": "production",
            "SECRET_KEY": SECRET_KEY,
            "JWT_SECRET_KEY": JWT_SECRET_KEY,
            "REDIS_URL": self.cluster.redis_url,
            "TRUSTED_PROXIES": "1",
            "DB_WSREP_SYNC_WAIT": "3",
            "BCRYPT_ROUNDS": os.environ.get("CLUSTER_BCRYPT_ROUNDS", "4"),
            "LOGIN_RATE_LIMIT": "100000 per minute",
            "REGISTER_RATE_LIMIT": "100000 per minute",
            "LOGIN_ADDRESS_RATE_LIMIT": "100000 per minute",
            "PROFILE_RATE_LIMIT": "100000 per minute",
            "LOG_LEVEL": "WARNING",
            **self.cluster.app_env,
        }

    def start(self) -> None:
        assert not self.running(), f"{self.name} is already running"
        self.proc = self.cluster.spawn(
            [
                str(VENV_BIN / "gunicorn"),
                "-c",
                str(ROOT / "gunicorn.conf.py"),
                "-w",
                str(self.cluster.workers),
                "--threads",
                "4",
                "-b",
                f"127.0.0.1:{self.port}",
                "--no-control-socket",
                "--graceful-timeout",
                "20",
                "--timeout",
                "60",
                "run:app",
            ],
            self.cluster.dir / f"{self.name}.log",
            cwd=ROOT,
            env=self.env(),
        )

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def healthy(self) -> bool:
        try:
            return requests.get(self.base_url + "/health", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def wait_healthy(self, timeout: float = 60) -> None:
        def ready():
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}")
            return self.healthy()

        _wait(f"{self.name} to answer /health", ready, timeout)

    def stop(self) -> None:
        """SIGTERM: gunicorn stops accepting and lets the requests in flight finish."""
        if self.running():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)


class Cluster:
    def __init__(
        self,
        base_port: int = 14000,
        directory: Path | None = None,
        size: int = 3,
        apps: int | None = None,
        workers: int = 2,
        tied: bool = True,
        redis_url: str | None = None,
        database: str = DATABASE,
        app_env: dict | None = None,
    ):
        self.base_port = base_port
        self.dir = Path(directory or f"/tmp/bookstore-cluster-{base_port}")
        self.tied = tied
        self.workers = workers
        self.database = database
        self.redis_url = redis_url or os.environ.get("CLUSTER_REDIS_URL", DEFAULT_REDIS_URL)
        self.app_env = app_env or {}
        self.nodes = [Node(self, i) for i in range(1, size + 1)]
        self.apps = [App(self, i, self.nodes[(i - 1) % size]) for i in range(1, (apps or size) + 1)]
        self.http_port = base_port
        self.base_url = f"http://127.0.0.1:{self.http_port}"
        self.haproxy_socket = self.dir / "haproxy.sock"
        self.haproxy: subprocess.Popen | None = None

    def spawn(self, args: list[str], log_path: Path, **kwargs) -> subprocess.Popen:
        """A process of the cluster, its output appended to `log_path`; tied to this process when
        the cluster is (the tests'), in a session of its own otherwise (`make cluster-up`'s)."""
        with open(log_path, "a") as log:
            return subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=not self.tied,
                preexec_fn=_die_with_parent if self.tied else None,  # noqa: PLW1509
                **kwargs,
            )

    # --- whole cluster -----------------------------------------------------------------------------

    def up(self) -> Cluster:
        began = time.monotonic()
        if self.dir.exists():
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True)
        self.dir.chmod(0o755)
        for i, node in enumerate(self.nodes):
            node.prepare(install=i == 0)
        first, *others = self.nodes
        first.start(bootstrap=True)
        first.wait_synced()
        for node in others:
            node.start()
        for node in self.nodes:
            node.wait_synced(size=len(self.nodes))
        self.formed_after = time.monotonic() - began
        self.create_database()
        for app in self.apps:
            app.start()
        for app in self.apps:
            app.wait_healthy()
        self.start_haproxy()
        self.save_state()
        return self

    def logs(self) -> list[Path]:
        """Every log of the cluster: each app instance's (gunicorn and app), HAProxy's, each node's error log."""
        return sorted(path for path in self.dir.glob("*.log")) + [node.error_log for node in self.nodes]

    def keep_logs(self, destination: Path, tail: int = 40) -> str:
        """Copy every log to `destination` (before `down` removes the cluster's directory) and return
        the last `tail` lines of each, for a failed run to show where it went wrong."""
        destination.mkdir(parents=True, exist_ok=True)
        shown = []
        for path in self.logs():
            if not path.exists():
                continue
            name = path.name if path.parent == self.dir else f"{path.parent.name}-{path.name}"
            shutil.copyfile(path, destination / name)
            lines = path.read_text(errors="replace").splitlines()[-tail:]
            shown.append(f"--- {name} (last {len(lines)} lines) ---\n" + "\n".join(lines))
        return "\n".join(shown)

    def down(self) -> None:
        if self.haproxy is not None and self.haproxy.poll() is None:
            self.haproxy.terminate()
            self.haproxy.wait(timeout=30)
        for app in self.apps:
            app.stop()
        for node in reversed(self.nodes):
            node.stop()
        if self.redis_url:
            with contextlib.suppress(Exception):
                import redis

                redis.Redis.from_url(self.redis_url).flushdb()
        shutil.rmtree(self.dir, ignore_errors=True)

    def create_database(self) -> None:
        with contextlib.closing(self.nodes[0].connect()) as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{self.database}`")
            cur.execute(f"CREATE DATABASE `{self.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        env = {**os.environ, "DATABASE_URL": self.nodes[0].url(self.database), "FLASK_APP": "run.py"}
        subprocess.run(
            [str(VENV_BIN / "flask"), "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=180
        )

    # --- HAProxy -----------------------------------------------------------------------------------

    def haproxy_config(self) -> str:
        servers = "\n".join(f"    server {app.name} 127.0.0.1:{app.port} check" for app in self.apps)
        return f"""global
    maxconn 4000
    stats socket {self.haproxy_socket} mode 600 level admin

defaults
    mode http
    timeout connect 2s
    timeout client 90s
    timeout server 90s
    # A request that could not be sent to one instance (refused, reset on connect) goes to another.
    retries 3
    option redispatch
    option forwardfor
    # While the group evicts a dead node (evs.suspect_timeout, 4 s) every node holds its commits and
    # causal reads: a slow /health then is not a dead instance, so checks wait 10 s before failing.
    timeout check 10s
    # HAProxy's own 503 (no instance up) speaks the API's problem+json, with Retry-After.
    http-error status 503 content-type application/problem+json hdr Retry-After 5 string "{HAPROXY_503}"

frontend http
    bind 127.0.0.1:{self.http_port}
    default_backend apps

backend apps
    balance roundrobin
    option httpchk GET /health
    http-check expect status 200
    default-server inter 2s fall 3 rise 2
{servers}
"""

    def start_haproxy(self) -> None:
        cfg = self.dir / "haproxy.cfg"
        cfg.write_text(self.haproxy_config())
        self.haproxy = self.spawn(
            [str(HAPROXY), "-f", str(cfg), "-db"],
            self.dir / "haproxy.log",
        )

        def ready():
            try:
                return requests.get(self.base_url + "/health", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        _wait("HAProxy to answer /health", ready, 30)

    def make_book(self, stock: int, title: str) -> int:
        """A book inserted on node 1 (replicated to the others): its id."""
        with contextlib.closing(self.nodes[0].connect(self.database)) as conn, conn.cursor() as cur:
            cur.execute(
                "INSERT INTO books (title, author, price, stock, is_retired, units_sold, created_at, updated_at) "
                "VALUES (%s, 'Anon', 10.00, %s, 0, 0, UTC_TIMESTAMP(), UTC_TIMESTAMP())",
                (title, stock),
            )
            return cur.lastrowid

    def sign_up(self, name: str, *, existing_ok: bool = False) -> str:
        """A customer (with a saved address) signed up and logged in through HAProxy: its access token."""
        account = {
            "name": name,
            "email": f"{name}@example.com",
            "username": name,
            "password": BUYER_PASSWORD,
            "default_address": {
                "name": name,
                "line1": "1 Cluster Road",
                "city": "Galera",
                "postal_code": "10001",
                "country": "FI",
            },
        }
        r = requests.post(self.base_url + "/register", json=account, timeout=60)
        if r.status_code != 201 and not (existing_ok and r.status_code == 409):
            raise RuntimeError(f"sign-up of {name}: {r.status_code} {r.text}")
        r = requests.post(self.base_url + "/login", json={"username": name, "password": BUYER_PASSWORD}, timeout=60)
        if r.status_code != 200:
            raise RuntimeError(f"login of {name}: {r.status_code} {r.text}")
        return r.json()["access_token"]

    def haproxy_command(self, command: str) -> str:
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(self.haproxy_socket))
            s.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def set_app_state(self, app: App, state: str) -> None:
        """state: ready, drain or maint (HAProxy's server states)."""
        self.haproxy_command(f"set server apps/{app.name} state {state}")

    def app_sessions(self, app: App) -> int:
        """Requests HAProxy currently has open on this app instance."""
        for line in self.haproxy_command("show stat").splitlines():
            fields = line.split(",")
            if len(fields) > 4 and fields[0] == "apps" and fields[1] == app.name:
                return int(fields[4] or 0)
        return 0

    # --- the CLI's memory ------------------------------------------------------------------------

    def save_state(self) -> None:
        state = {
            "nodes": {n.name: n.proc.pid for n in self.nodes if n.proc},
            "apps": {a.name: a.proc.pid for a in self.apps if a.proc},
            "haproxy": self.haproxy.pid if self.haproxy else None,
        }
        (self.dir / "state.json").write_text(json.dumps(state, indent=2))


def _kill_pid(pid: int | None, timeout: float = 60) -> None:
    if not pid:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGCONT)
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def cli_down(cluster: Cluster) -> None:
    """Stop what `up` started (its pids are in state.json), then remove the directory."""
    state_file = cluster.dir / "state.json"
    if state_file.exists():
        state = json.loads(state_file.read_text())
        _kill_pid(state.get("haproxy"))
        for pid in state.get("apps", {}).values():
            _kill_pid(pid)
        for pid in reversed(list(state.get("nodes", {}).values())):
            _kill_pid(pid)
    cluster.down()
    print(f"[cluster] stopped and removed {cluster.dir}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--base-port", type=int, default=int(os.environ.get("CLUSTER_BASE_PORT", "14000")))
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    cluster = Cluster(base_port=args.base_port, directory=args.dir, tied=False)
    if args.command == "down":
        cli_down(cluster)
        return 0
    if args.command == "status":
        for node in cluster.nodes:
            s = node.status()
            print(
                f"{node.name} :{node.port}  {s.get('wsrep_local_state_comment', 'down')}"
                f"  cluster_size={s.get('wsrep_cluster_size', '-')}  status={s.get('wsrep_cluster_status', '-')}"
            )
        return 0
    install_missing()
    reason = unavailable_reason()
    if reason:
        print(f"[cluster] cannot start: {reason}", file=sys.stderr)
        return 1
    if (cluster.dir / "state.json").exists():
        print(f"[cluster] {cluster.dir} holds a running cluster: make cluster-down first", file=sys.stderr)
        return 1
    began = time.monotonic()
    try:
        cluster.up()
    except Exception:
        print(f"[cluster] failed; logs are in {cluster.dir}", file=sys.stderr)
        raise
    print(f"[cluster] up in {time.monotonic() - began:.0f}s (nodes formed a cluster in {cluster.formed_after:.0f}s)")
    print(f"  HTTP through HAProxy: {cluster.base_url}")
    for app in cluster.apps:
        print(f"  {app.name}: {app.base_url} -> {app.node.name} (mysql://root@127.0.0.1:{app.node.port}/{DATABASE})")
    print(f"  logs and data: {cluster.dir};  stop with: make cluster-down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
