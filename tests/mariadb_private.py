"""A private MariaDB server for fault tests: its own data directory under a temporary directory,
its own loopback port and socket, started with `--no-defaults` so no system option file (and
nothing of the shared server on 3306) is read or touched. A test may SIGKILL it and start it
again on the same data directory, which is what crash recovery is about.

    server = PrivateMariaDB()
    server.install()            # mariadb-install-db into <tmp>/data
    server.start()              # mariadbd; returns once it accepts connections
    server.url("some_db")       # SQLAlchemy URL (root, no password, 127.0.0.1:<port>)
    server.kill()               # SIGKILL: no shutdown, no flush beyond what InnoDB already wrote
    server.start()              # crash recovery on the same data directory and port
    server.destroy()            # stop it and remove the directory
"""

import contextlib
import ctypes
import getpass
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pymysql
import sqlalchemy as sa

from tests.live import free_port

MARIADBD = Path("/usr/sbin/mariadbd")
INSTALL_DB = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")

PR_SET_PDEATHSIG = 1


def unavailable_reason() -> str | None:
    """Why a private server cannot be started here, or None when it can."""
    if not MARIADBD.exists():
        return f"{MARIADBD} is not installed (apt-get install mariadb-server)"
    if INSTALL_DB is None:
        return "mariadb-install-db is not installed (apt-get install mariadb-server)"
    return None


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """If the test process dies without cleaning up, the kernel kills the server too."""
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class PrivateMariaDB:
    def __init__(self, prefix: str = "bookstore_faults_mariadb_"):
        self.dir = Path(tempfile.mkdtemp(prefix=prefix))
        self.datadir = self.dir / "data"
        self.socket = self.dir / "mariadbd.sock"
        self.pid_file = self.dir / "mariadbd.pid"
        self.error_log = self.dir / "mariadbd.err"
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        # mariadbd refuses to run as root unless told to; as another user it runs as that user.
        self.user_args = [f"--user={getpass.getuser()}"] if os.geteuid() == 0 else []

    # --- lifecycle -----------------------------------------------------------------------------

    def install(self) -> None:
        subprocess.run(
            [
                INSTALL_DB,
                "--no-defaults",
                f"--datadir={self.datadir}",
                *self.user_args,
                # root@localhost/127.0.0.1 with an empty password (not unix_socket): tests connect over TCP.
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self, timeout: float = 60) -> float:
        """Start mariadbd on the data directory; return the seconds until it accepted a connection."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        began = time.monotonic()
        self.log = open(self.dir / f"mariadbd-{self.starts}.out", "w")  # noqa: SIM115
        self.starts += 1
        self.proc = subprocess.Popen(
            [
                str(MARIADBD),
                "--no-defaults",
                f"--datadir={self.datadir}",
                f"--port={self.port}",
                f"--socket={self.socket}",
                "--bind-address=127.0.0.1",
                f"--pid-file={self.pid_file}",
                f"--log-error={self.error_log}",
                *self.user_args,
                "--skip-name-resolve",
                "--skip-log-bin",
                "--performance-schema=OFF",
                "--max-connections=300",
                "--innodb-buffer-pool-size=64M",
                # Durable commits (the default, stated): an acknowledged order must survive SIGKILL.
                "--innodb-flush-log-at-trx-commit=1",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_unicode_ci",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - the tests start it from the main thread
        )
        deadline = began + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mariadbd exited with {self.proc.returncode}:\n{self.error_tail()}")
            if self.answers():
                return time.monotonic() - began
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"mariadbd did not accept connections within {timeout}s:\n{self.error_tail()}")

    def answers(self) -> bool:
        try:
            pymysql.connect(host="127.0.0.1", port=self.port, user="root", password="", connect_timeout=1).close()
        except pymysql.err.MySQLError:
            return False
        return True

    def kill(self) -> None:
        """SIGKILL: the process vanishes mid-write, as in a power cut of the database process."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)
        self._close_log()

    def stop(self) -> None:
        """A clean shutdown (SIGTERM), falling back to SIGKILL."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        self._close_log()

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _close_log(self) -> None:
        if getattr(self, "log", None) and not self.log.closed:
            self.log.close()

    # --- helpers -------------------------------------------------------------------------------

    def url(self, database: str = "") -> sa.URL:
        return sa.URL.create(
            "mysql+pymysql",
            username="root",
            password="",
            host="127.0.0.1",
            port=self.port,
            database=database or None,
            query={"charset": "utf8mb4"},
        )

    def error_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.error_log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no error log)"

    def __enter__(self) -> "PrivateMariaDB":
        return self

    def __exit__(self, *exc) -> None:
        self.destroy()
