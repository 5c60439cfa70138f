"""Security headers on every response and the CORS allow-list (issue 6, item 4; OWASP API8).

- `X-Content-Type-Options: nosniff` on every answer: API, errors of every kind, docs, pages.
- `Cache-Control: no-store` (and `Vary: Authorization`) on every answer to a request with a token,
  and on the login's token answer.
- A Content-Security-Policy everywhere: /docs gets the one its Swagger UI needs (this origin only),
  the JSON API `default-src 'none'`.
- No `Server` version: in process (Werkzeug's test client adds none), and against a real gunicorn
  (`gunicorn run:app` sends `Server: gunicorn`, without its version: checked below, as is gunicorn's
  own answer to a malformed request).
- CORS only for the exact origins in CORS_ORIGINS: an allowed origin gets
  `Access-Control-Allow-Origin` (on preflights too), any other origin gets none; no credentials.
"""

import os
import re
import socket
import subprocess

import pytest
import requests
import sqlalchemy as sa

from app import API_CSP, DOCS_CSP, create_app
from app.auth import PUBLIC
from config import TestingConfig
from tests.conftest import PASSWORD, bearer
from tests.live import ROOT, VENV_BIN, LiveServer

pytestmark = pytest.mark.owasp("API8")

ALLOWED = "https://shop.example.com"
FOREIGN = ["https://evil.example.net", "https://shop.example.com.evil.net", "http://shop.example.com", "null"]
VERSION_RE = re.compile(r"\d+\.\d+|werkzeug|python", re.I)


def url_for_rule(rule: str) -> str:
    return re.sub(r"<(?:int:)?\w+>", "1", re.sub(r"<path:\w+>", "style.css", rule))


def every_route(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, rule.rule, getattr(app.view_functions[rule.endpoint], "_access", PUBLIC)


def assert_hardened(response, what: str = "") -> None:
    headers = response.headers
    assert headers.get("X-Content-Type-Options") == "nosniff", (what, dict(headers))
    assert "Content-Security-Policy" in headers, what
    assert "X-Powered-By" not in headers, what
    assert not VERSION_RE.search(headers.get("Server", "")), (what, headers.get("Server"))


# --- in process ----------------------------------------------------------------------------------


def test_every_route_answers_with_the_security_headers(app, client, customer_headers):
    seen = 0
    for method, rule, access in every_route(app):
        for headers in ({}, customer_headers):
            response = client.open(url_for_rule(rule), method=method, json={}, headers=headers)
            assert_hardened(response, f"{method} {rule} {response.status_code}")
            if headers:
                assert "no-store" in response.headers.get("Cache-Control", ""), f"{method} {rule}"
                assert "Authorization" in response.headers.get("Vary", ""), f"{method} {rule}"
            seen += 1
    assert seen >= 2 * 60


def test_error_answers_of_every_kind_carry_them(client, customer_headers, monkeypatch):
    from app.books import reads

    def explode(book_id):
        raise RuntimeError("boom")

    monkeypatch.setattr(reads, "read_book", explode)
    answers = {
        400: client.post("/login", data="{not json", content_type="application/json"),
        401: client.get("/me"),
        403: client.get("/accounts", headers=customer_headers),
        404: client.get("/no/such/thing"),
        405: client.delete("/health"),
        413: client.patch(
            "/me", data="x" * (1024 * 1024 + 1), content_type="application/json", headers=customer_headers
        ),
        415: client.post("/register", data="a=b", content_type="application/x-www-form-urlencoded"),
        500: client.get("/books/1"),
    }

    for status, response in answers.items():
        assert response.status_code == status
        assert_hardened(response, status)
        assert response.headers["Content-Security-Policy"] == API_CSP
        assert response.mimetype == "application/problem+json"


def test_a_token_answer_is_never_stored(client, customer):
    login = client.post("/login", json={"username": customer.username, "password": PASSWORD})
    refreshed = client.post("/token/refresh", headers=bearer(login.get_json()["refresh_token"]))

    assert login.status_code == 200 and refreshed.status_code == 200
    assert "no-store" in login.headers["Cache-Control"]
    assert "no-store" in refreshed.headers["Cache-Control"]


def test_anonymous_public_answers_may_be_cached(client):
    response = client.get("/books")

    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


@pytest.mark.parametrize("path", ["/docs/", "/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js", "/openapi.json"])
def test_docs_have_a_policy_of_this_origin_only(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert_hardened(response, path)
    policy = response.headers["Content-Security-Policy"]
    if path.startswith("/docs"):
        assert policy == DOCS_CSP
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["frame-ancestors"] == "'none'"
    assert "http" not in policy and "*" not in policy


# --- CORS ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cors_client(app):
    config = type("CorsTesting", (TestingConfig,), {"CORS_ORIGINS": [ALLOWED, "https://admin.example.com:8443"]})
    cors_app = create_app(config)
    return cors_app.test_client()


def preflight(client, origin: str, method: str = "POST", path: str = "/orders"):
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "Authorization, Content-Type, Idempotency-Key",
        },
    )


def test_an_allowed_origin_gets_the_allow_headers(cors_client):
    simple = cors_client.get("/health", headers={"Origin": ALLOWED})
    refused = cors_client.get("/me", headers={"Origin": ALLOWED})  # errors must be readable too
    pre = preflight(cors_client, ALLOWED)

    for response in (simple, refused):
        assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
        assert "Origin" in response.headers["Vary"]
        assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Link" in simple.headers["Access-Control-Expose-Headers"]
    assert refused.status_code == 401
    assert pre.status_code == 200
    assert pre.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in pre.headers["Access-Control-Allow-Methods"]
    allowed_headers = {h.strip().lower() for h in pre.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key"} <= allowed_headers
    assert (
        cors_client.get("/health", headers={"Origin": "https://admin.example.com:8443"}).headers.get(
            "Access-Control-Allow-Origin"
        )
        == "https://admin.example.com:8443"
    )


@pytest.mark.parametrize("origin", FOREIGN)
def test_a_foreign_origin_gets_no_allow_header(cors_client, origin):
    simple = cors_client.get("/health", headers={"Origin": origin})
    pre = preflight(cors_client, origin, "DELETE", "/accounts/1")

    for response in (simple, pre):
        assert not [h for h, _ in response.headers.items() if h.lower().startswith("access-control-allow")], dict(
            response.headers
        )


def test_without_cors_origins_no_origin_is_allowed(client):
    assert client.application.config["CORS_ORIGINS"] == []

    for origin in (ALLOWED, *FOREIGN):
        response = client.get("/health", headers={"Origin": origin})
        assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize(
    "origins", [["*"], ["https://*.example.com"], ["https://shop.example.com/"], ["shop.example.com"]]
)
def test_cors_origins_must_be_exact_origins(origins):
    config = type("LooseCors", (TestingConfig,), {"CORS_ORIGINS": origins})

    with pytest.raises(RuntimeError, match="CORS_ORIGINS"):
        create_app(config)


# --- a real gunicorn -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    """`gunicorn run:app` (production settings, tests/live.py) on a migrated SQLite file, with
    CORS_ORIGINS set in its environment as an operator would."""
    url = sa.make_url(f"sqlite:///{tmp_path_factory.mktemp('headers') / 'bookstore.db'}")
    env = {**os.environ, "DATABASE_URL": url.render_as_string(hide_password=False), "FLASK_APP": "run.py"}
    env.pop("TEST_DATABASE_URL", None)
    subprocess.run(
        [str(VENV_BIN / "flask"), "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120
    )
    server = LiveServer(url, workers=1, threads=2, extra_env={"CORS_ORIGINS": f"{ALLOWED}, https://other.example.org"})
    server.start()
    yield server
    server.stop()


def test_gunicorn_sends_no_server_version(gunicorn):
    answers = [
        requests.get(gunicorn.url("/health"), timeout=10),
        requests.get(gunicorn.url("/no-such-page"), timeout=10),
        requests.delete(gunicorn.url("/health"), timeout=10),
        requests.get(gunicorn.url("/docs/"), timeout=10),
        requests.post(gunicorn.url("/login"), data="{", headers={"Content-Type": "application/json"}, timeout=10),
    ]

    for response in answers:
        assert_hardened(response, f"{response.request.method} {response.url} {response.status_code}")
        assert response.headers.get("Server", "gunicorn") == "gunicorn"  # the name only, never a version
    assert answers[3].headers["Content-Security-Policy"] == DOCS_CSP


def test_gunicorn_own_error_answer_leaks_no_version(gunicorn):
    """A request gunicorn refuses before the app sees it (a malformed request line)."""
    with socket.create_connection(("127.0.0.1", gunicorn.port), timeout=10) as sock:
        sock.sendall(b"GARBAGE / HTTP/9.9\r\n\r\n")
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk

    head, _, body = raw.partition(b"\r\n\r\n")
    status, _, headers = head.decode("latin-1").partition("\r\n")
    assert status.startswith("HTTP/1.1 400"), head
    assert not VERSION_RE.search(headers), headers
    assert b"Traceback" not in body and not VERSION_RE.search(body.decode("latin-1")), body


def test_gunicorn_authenticated_answers_are_not_stored(gunicorn):
    user = {"name": "Hedy", "email": "hedy@example.com", "username": "hedy", "password": PASSWORD}
    assert requests.post(gunicorn.url("/register"), json=user, timeout=10).status_code == 201
    login = requests.post(gunicorn.url("/login"), json={"username": "hedy", "password": PASSWORD}, timeout=10)
    me = requests.get(gunicorn.url("/me"), headers=bearer(login.json()["access_token"]), timeout=10)

    assert "no-store" in login.headers["Cache-Control"]
    assert me.status_code == 200
    assert "no-store" in me.headers["Cache-Control"]
    assert_hardened(me, "GET /me")


def test_gunicorn_cors_allow_list_from_the_environment(gunicorn):
    allowed = requests.get(gunicorn.url("/health"), headers={"Origin": ALLOWED}, timeout=10)
    pre = requests.options(
        gunicorn.url("/orders"),
        headers={"Origin": "https://other.example.org", "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    foreign = [requests.get(gunicorn.url("/health"), headers={"Origin": o}, timeout=10) for o in FOREIGN]
    foreign_pre = requests.options(
        gunicorn.url("/orders"), headers={"Origin": FOREIGN[0], "Access-Control-Request-Method": "POST"}, timeout=10
    )

    assert allowed.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert pre.headers["Access-Control-Allow-Origin"] == "https://other.example.org"
    assert "POST" in pre.headers["Access-Control-Allow-Methods"]
    for response in [*foreign, foreign_pre]:
        assert "Access-Control-Allow-Origin" not in response.headers


def test_no_response_sets_a_cookie(client, customer_headers):
    """The API is stateless: no session cookie on a page, a login, an authenticated call or an error."""
    responses = [
        client.get("/"),
        client.post("/login", json={"username": "nobody", "password": "wrong-password"}),
        client.get("/me", headers=customer_headers),
        client.get("/no/such/route"),
    ]
    for response in responses:
        assert "Set-Cookie" not in response.headers
