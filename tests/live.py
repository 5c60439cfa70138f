"""A real server for tests that need real concurrency: its own MariaDB database, built by the
migrations, and gunicorn with several worker processes and threads on a free loopback port."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
import sqlalchemy as sa

from config import normalise_database_url

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def mysql_test_url() -> sa.URL | None:
    raw = os.environ.get("TEST_DATABASE_URL", "")
    if not raw.startswith(("mysql", "mariadb")):
        return None
    return sa.make_url(normalise_database_url(raw))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveDatabase:
    """A private database next to the test database: created, migrated, dropped.

    `base` names another server and database prefix (default: TEST_DATABASE_URL)."""

    def __init__(self, suffix: str, base: sa.URL | None = None):
        base = base if base is not None else mysql_test_url()
        assert base is not None
        self.url = base.set(database=f"{base.database}_{suffix}")
        self.server = sa.create_engine(base.set(database=""))

    def create(self) -> sa.Engine:
        with self.server.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{self.url.database}`")
            conn.exec_driver_sql(
                f"CREATE DATABASE `{self.url.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
        env = {**os.environ, "DATABASE_URL": self.url.render_as_string(hide_password=False), "FLASK_APP": "run.py"}
        subprocess.run(
            [str(VENV_BIN / "flask"), "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120
        )
        self.engine = sa.create_engine(self.url, isolation_level="AUTOCOMMIT")
        return self.engine

    def drop(self) -> None:
        self.engine.dispose()
        with self.server.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{self.url.database}`")
        self.server.dispose()


class LiveServer:
    """gunicorn serving run:app against `db_url`."""

    def __init__(self, db_url: sa.URL, workers: int = 4, threads: int = 4, extra_env: dict | None = None):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DATABASE_URL": db_url.render_as_string(hide_password=False),
            "APP_ENV": "production",
            "SECRET_KEY": "live-test-secret-key-" + "s" * 32,
            "JWT_SECRET_KEY": "live-test-jwt-secret-key-" + "j" * 32,
            "BCRYPT_ROUNDS": "4",
            "LOGIN_RATE_LIMIT": "100000 per minute",
            "LOGIN_ADDRESS_RATE_LIMIT": "100000 per minute",
            "REGISTER_RATE_LIMIT": "100000 per minute",
            "LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        self.args = [
            str(VENV_BIN / "gunicorn"),
            "-c",
            "gunicorn.conf.py",
            "-w",
            str(workers),
            "--threads",
            str(threads),
            "-b",
            f"127.0.0.1:{self.port}",
            "--no-control-socket",
            "--graceful-timeout",
            "20",
            "--timeout",
            "60",
            "run:app",
        ]
        self.proc = None

    def start(self, timeout: float = 30) -> "LiveServer":
        (ROOT / "instance").mkdir(exist_ok=True)
        self.log = open(ROOT / "instance" / f"live-{self.port}.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}; see {self.log.name}")
            try:
                if requests.get(self.base_url + "/health", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not become healthy in time")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()

    # --- small client helpers ---------------------------------------------------------------------

    def url(self, path: str) -> str:
        return self.base_url + path

    def register(self, n: int, prefix: str = "buyer") -> list[str]:
        """Register n customers (each with a default address) and return an access token for each."""
        tokens = []
        with requests.Session() as s:
            for i in range(n):
                name = f"{prefix}{i}"
                r = s.post(
                    self.url("/register"),
                    json={
                        "name": name,
                        "email": f"{name}@example.com",
                        "username": name,
                        "password": "password-123",
                        "default_address": {
                            "name": name,
                            "line1": f"{i + 1} Test Street",
                            "city": "Testville",
                            "postal_code": "T1 1ST",
                            "country": "GB",
                        },
                    },
                    timeout=10,
                )
                assert r.status_code in (201, 409), r.text
                r = s.post(self.url("/login"), json={"username": name, "password": "password-123"}, timeout=10)
                assert r.status_code == 200, r.text
                tokens.append(r.json()["access_token"])
        return tokens
