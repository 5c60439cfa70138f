"""What gunicorn itself refuses (a request line or headers over gunicorn.conf.py's limits, a
request that is not HTTP/1.1) is answered as problem+json, like every answer of the app.

app.server.ProblemWorker lets gunicorn write its HTML error page into a stand-in socket, reads the
status from it and writes problem details instead. The guard tests below fail when a gunicorn
upgrade changes how that page is written; the live tests run gunicorn with the config file.
"""

import json
import os
import socket
import subprocess
from importlib.metadata import version

import pytest
import requests
import sqlalchemy as sa
from gunicorn.config import Config
from gunicorn.glogging import Logger
from gunicorn.http.errors import InvalidHTTPVersion, InvalidRequestLine, LimitRequestHeaders, LimitRequestLine
from gunicorn.workers.gthread import ThreadWorker

from app.server import CapturedSocket, ProblemWorker, status_of
from tests.live import ROOT, VENV_BIN, LiveServer
from tests.test_input_limits import gunicorn_setting

REFUSALS = {
    "request-line": (LimitRequestLine(9000, 8190), 414, "URI Too Long"),
    "headers": (LimitRequestHeaders("limit request headers fields size"), 431, "Request Header Fields Too Large"),
    "http-version": (InvalidHTTPVersion((9, 9)), 400, "Bad Request"),
    "request-line-syntax": (InvalidRequestLine("GARBAGE"), 400, "Bad Request"),
}


def _worker(cls):
    worker = cls.__new__(cls)  # handle_error needs only the settings and the logger
    worker.cfg = Config()
    worker.cfg.set("limit_request_line", gunicorn_setting("limit_request_line"))
    worker.log = Logger(worker.cfg)
    return worker


def _split(raw: bytes) -> tuple[str, dict, bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return status, headers, body


# --- guards: gunicorn still writes the page the worker reads -------------------------------------


def test_gunicorn_is_the_version_the_worker_was_checked_against():
    assert version("gunicorn") == "27.0.1"  # on an upgrade: rerun this file, then move the pin here


@pytest.mark.parametrize("exc, status, reason", REFUSALS.values(), ids=REFUSALS.keys())
def test_gunicorn_writes_its_refusal_as_a_status_line_the_worker_reads(exc, status, reason):
    captured = CapturedSocket(None)

    ThreadWorker.handle_error(_worker(ThreadWorker), None, captured, ("127.0.0.1", 1), exc)

    assert status_of(captured.data) == (status, reason)
    assert b"Content-Type: text/html" in captured.data  # the page the worker replaces


@pytest.mark.parametrize("exc, status, reason", REFUSALS.values(), ids=REFUSALS.keys())
def test_the_worker_answers_gunicorns_refusals_as_problem_json(exc, status, reason):
    ours, theirs = socket.socketpair()
    with ours, theirs:
        _worker(ProblemWorker).handle_error(None, ours, ("127.0.0.1", 1), exc)
        ours.shutdown(socket.SHUT_WR)
        raw = theirs.recv(65536)

    line, headers, body = _split(raw)
    problem = json.loads(body)
    assert line == f"HTTP/1.1 {status} {reason}"
    assert headers["Content-Type"] == "application/problem+json"
    assert int(headers["Content-Length"]) == len(body)
    assert (problem["status"], problem["title"], problem["type"]) == (status, reason, "about:blank")
    assert problem["detail"]


# --- a real gunicorn started with gunicorn.conf.py -----------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    url = sa.make_url(f"sqlite:///{tmp_path_factory.mktemp('limits') / 'bookstore.db'}")
    env = {**os.environ, "DATABASE_URL": url.render_as_string(hide_password=False), "FLASK_APP": "run.py"}
    env.pop("TEST_DATABASE_URL", None)
    subprocess.run(
        [str(VENV_BIN / "flask"), "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120
    )
    live = LiveServer(url, workers=1, threads=2)
    assert live.args[1:3] == ["-c", "gunicorn.conf.py"]
    live.start()
    yield live
    live.stop()


def _exchange(server, raw: bytes) -> tuple[str, dict, bytes]:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return _split(data)


def _assert_problem(answer, status: int) -> dict:
    line, headers, body = answer
    assert line.startswith(f"HTTP/1.1 {status} "), (line, body[:200])
    assert headers["Content-Type"] == "application/problem+json", headers
    problem = json.loads(body)
    assert problem["status"] == status
    return problem


def test_an_over_long_request_line_is_414_problem_json(server):
    answer = _exchange(server, b"GET /books?q=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")

    problem = _assert_problem(answer, 414)
    assert "8190 bytes" in problem["detail"]


def test_an_oversized_header_is_431_problem_json(server):
    answer = _exchange(server, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n")

    _assert_problem(answer, 431)


def test_too_many_headers_are_431_problem_json(server):
    fields = b"".join(b"X-H%d: 1\r\n" % i for i in range(120))

    _assert_problem(_exchange(server, b"GET /health HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n"), 431)


def test_a_request_that_is_not_http_is_400_problem_json(server):
    _assert_problem(_exchange(server, b"GARBAGE / HTTP/9.9\r\n\r\n"), 400)


def test_the_longest_documented_search_reaches_the_app(server):
    """Every free-text parameter at its maxLength in 4-byte characters, a cursor of 2048: the app
    answers it (400: the cursor is not one it made), gunicorn does not refuse it."""
    emoji = "%F0%9F%98%80"
    query = f"q={emoji * 200}&author={emoji * 100}&genre={emoji * 50}&cursor={'A' * 2048}&min_price=1&max_price=2"

    answer = _exchange(server, f"GET /books?{query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())

    problem = _assert_problem(answer, 400)
    assert list(problem["errors"]) == ["cursor"]


@pytest.mark.slow
def test_schemathesis_against_gunicorn_finds_no_undocumented_status(server, tmp_path):
    """The schemathesis CLI over HTTP, every operation, as a customer: what gunicorn answers
    itself (414, 431, 400 for a header it cannot read) is documented and problem+json too."""
    user = {"name": "Fuzz", "email": "fuzz@example.com", "username": "fuzzer", "password": "password-123"}
    assert requests.post(server.url("/register"), json=user, timeout=10).status_code == 201
    credentials = {"username": user["username"], "password": user["password"]}
    token = requests.post(server.url("/login"), json=credentials, timeout=10).json()["access_token"]

    run = subprocess.run(
        [
            str(VENV_BIN / "schemathesis"),
            "run",
            server.url("/openapi.json"),
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--max-examples",
            "10",
            "--seed",
            "20261203",
            "--no-shrink",
            "--request-timeout",
            "20",
            "--warnings",
            "off",
        ],
        cwd=tmp_path,  # its cache directory goes there, not into the repository
        capture_output=True,
        text=True,
        timeout=900,
    )

    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "No issues found" in run.stdout
