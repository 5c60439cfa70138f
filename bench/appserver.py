"""Shared by the benchmark scripts that serve the app: gunicorn (with the project's gunicorn.conf.py) or
Granian on a free loopback port, started in a session of its own and waited for on /health."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

VENV_BIN = Path(sys.executable).parent


def app_env(database_url: str, name: str, extra: dict | None = None) -> dict:
    """The environment of a benchmarked app: production settings, throwaway secrets named after the
    benchmark, limits no load generator reaches, no Redis (counts per process), plus `extra`."""
    env = dict(
        os.environ,
        APP_ENV="production",
        DATABASE_URL=database_url,
        SECRET_KEY=f"bench-{name}-secret-key-" + "s" * 40,
        JWT_SECRET_KEY=f"bench-{name}-jwt-secret-key-" + "j" * 40,
        JWT_ACCESS_MINUTES="120",
        BCRYPT_ROUNDS="4",
        LOGIN_RATE_LIMIT="100000 per minute",
        LOGIN_ADDRESS_RATE_LIMIT="100000 per minute",
        REGISTER_RATE_LIMIT="100000 per hour",
        LOG_LEVEL="WARNING",
        REDIS_URL="",
    )
    env.update(extra or {})
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_command(
    kind: str, port: int, workers: int, threads: int, worker_class: str, log_path: Path, target: str = "run:app"
) -> list:
    """The command line of one server of the WSGI app `target`: gunicorn with the project's gunicorn.conf.py,
    or Granian's WSGI mode (HTTP/1, no websockets) with the same processes x threads shape."""
    if kind == "gunicorn":
        return [str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--no-control-socket", "-w", str(workers),
                *(["-k", worker_class] if worker_class else []), "--threads", str(threads),
                "-b", f"127.0.0.1:{port}", "--backlog", "256", "--error-logfile", str(log_path), target]  # fmt: skip
    if kind == "granian":
        return [str(VENV_BIN / "granian"), "--interface", "wsgi", "--http", "1", "--no-ws",
                "--workers", str(workers), "--blocking-threads", str(threads),
                "--host", "127.0.0.1", "--port", str(port), "--backlog", "256", "--log-level", "warning", target]  # fmt: skip
    raise ValueError(f"unknown server {kind!r}")


class AppServer:
    def __init__(
        self, *, cwd: Path, env: dict, workdir: Path, workers: int, threads: int, worker_class: str = "",
        kind: str = "gunicorn", target: str = "run:app",
    ):  # fmt: skip
        self.kind = kind
        self.port = free_port()
        self.log_path = workdir / f"{kind}-{target.replace(':', '-')}.log"
        cmd = server_command(kind, self.port, workers, threads, worker_class, self.log_path, target)
        self.log_file = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=self.log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited: {self.log_tail()}")
            try:
                if self.call("GET", "/health")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.kind} did not answer /health: {self.log_tail()}")

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text()[-3000:]
        except OSError:
            return ""

    def call(self, method: str, path: str, body=None, token: str | None = None):
        """One request on a connection of its own: (status, the JSON answer or None)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response.status, (json.loads(data) if data else None)

    def worker_pids(self) -> list[int]:
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True, check=False
        ).stdout
        return [int(p) for p in out.split()]

    def stop(self) -> None:
        """SIGTERM to the master and its workers (a graceful stop for both servers), SIGKILL after 20 s."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log_file.close()
