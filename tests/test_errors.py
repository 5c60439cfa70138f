"""The one error path: every failure is RFC 9457 problem+json (docs/api.md "Conventions")."""

import io
import json
import logging

import pytest
from flask_jwt_extended import create_access_token

from app import create_app
from app.accounts import services as account_services
from app.customers import services as customer_services
from config import TestingConfig, engine_options
from tests.conftest import PASSWORD, assert_problem, bearer, row_counts

pytestmark = pytest.mark.usefixtures("no_secrets")

MIB = 1024 * 1024
SECRET_DETAIL = "boom: the internals say password=hunter2 at 0xdeadbeef"


def registration(**overrides) -> dict:
    body = {"name": "Ann", "email": "ann@example.com", "username": "ann", "password": PASSWORD}
    body.update(overrides)
    return body


# --- Werkzeug's errors --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/no-such-thing", "/accounts/abc", "/customers/1/nope", "/docs/missing.js"])
def test_unknown_path_is_404_problem(client, path):
    response = client.get(path)

    body = assert_problem(response, 404)
    assert body["title"] == "Not Found"
    assert "<html" not in response.get_data(as_text=True).lower()


ID_PATHS = ["/accounts/{}", "/customers/{}", "/orders/{}", "/books/{}"]


@pytest.mark.parametrize("path", ID_PATHS)
@pytest.mark.parametrize("id_", [2**31, 9_999_999_999])
@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_ids_past_int_reach_the_database_safely_and_are_404(client, admin_headers, path, id_, method):
    response = getattr(client, method)(path.format(id_), json={}, headers=admin_headers)

    if response.status_code == 405:  # this path has no such method, whatever the id
        assert method.upper() not in response.headers["Allow"]
    else:
        assert_problem(response, 404)


@pytest.mark.parametrize("path", ID_PATHS)
@pytest.mark.parametrize("id_", [10**10, 2**63, 10**25])
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_ids_of_more_than_10_digits_match_no_route(client, admin_headers, path, id_, method):
    response = getattr(client, method)(path.format(id_), json={}, headers=admin_headers)

    body = assert_problem(response, 404)
    assert body["detail"].startswith("No resource at")


@pytest.mark.parametrize(
    "method, path, allowed",
    [("delete", "/health", "GET"), ("put", "/login", "POST"), ("get", "/register", "POST"), ("post", "/me", "GET")],
)
def test_wrong_method_is_405_problem_with_allow(client, method, path, allowed):
    response = getattr(client, method)(path)

    body = assert_problem(response, 405)
    assert allowed in response.headers["Allow"]
    assert method.upper() in body["detail"]


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml", None],
    ids=["text", "form", "xml", "none"],
)
def test_non_json_body_is_415_and_writes_nothing(client, content_type):
    before = row_counts()

    response = client.post("/register", data="name=Ann&email=ann@example.com", content_type=content_type)

    body = assert_problem(response, 415)
    assert "application/json" in body["detail"]
    assert row_counts() == before


def test_non_json_body_is_415_on_an_authenticated_route(client, customer_headers):
    response = client.patch("/me", data="<name>x</name>", content_type="application/xml", headers=customer_headers)

    assert_problem(response, 415)


def test_json_with_charset_parameter_is_accepted(client):
    response = client.post("/register", data=json.dumps(registration()), content_type="application/json; charset=utf-8")

    assert response.status_code == 201


def _padded_registration(size: int) -> str:
    raw = json.dumps(registration())
    return raw[:-1] + " " * (size - len(raw)) + "}"


def test_body_over_1_mib_is_413_and_writes_nothing(client):
    raw = _padded_registration(MIB + 1)
    before = row_counts()

    response = client.post("/register", data=raw, content_type="application/json")

    body = assert_problem(response, 413)
    assert str(MIB) in body["detail"]
    assert row_counts() == before


def test_body_of_exactly_1_mib_is_read(client):
    response = client.post("/register", data=_padded_registration(MIB), content_type="application/json")

    assert response.status_code == 201


def test_body_over_1_mib_is_413_at_login_and_on_authenticated_routes(client, customer_headers):
    big = '{"name": "' + "x" * MIB + '"}'

    assert_problem(client.post("/login", data=big, content_type="application/json"), 413)
    assert_problem(client.patch("/me", data=big, content_type="application/json", headers=customer_headers), 413)


def _chunked(client, path, body: bytes, method="POST", **kwargs):
    """A streamed body without Content-Length, as gunicorn hands it over (input terminated)."""
    return client.open(
        path,
        method=method,
        input_stream=io.BytesIO(body),
        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json", **kwargs.pop("headers", {})},
        environ_overrides={"wsgi.input_terminated": True},
        **kwargs,
    )


def test_streamed_body_over_1_mib_is_413_and_writes_nothing(client, customer_headers):
    before = row_counts()

    register = _chunked(client, "/register", _padded_registration(MIB + 1).encode())
    patch_me = _chunked(client, "/me", b'{"name": "' + b"x" * MIB + b'"}', "PATCH", headers=customer_headers)

    assert_problem(register, 413)
    assert_problem(patch_me, 413)
    assert row_counts() == before


def test_streamed_body_under_the_limit_is_read(client):
    response = _chunked(client, "/register", json.dumps(registration()).encode())

    assert response.status_code == 201


def test_oversized_or_deep_bodies_do_not_reset_the_login_limit(client, customer):
    for _ in range(9):
        assert client.post("/login", json={"username": customer.username, "password": "wrong-guess"}).status_code == 401
    assert_problem(client.post("/login", data="[" * 100_000 + "]" * 100_000, content_type="application/json"), 400)
    assert_problem(client.post("/login", data="x" * (MIB + 1), content_type="application/json"), 413)

    tenth = client.post("/login", json={"username": customer.username, "password": "wrong-guess"})
    eleventh = client.post("/login", json={"username": customer.username, "password": PASSWORD})

    assert_problem(tenth, 401)
    assert_problem(eleventh, 429)


@pytest.mark.parametrize(
    "raw",
    [
        '{"name": "Ann", ',
        "{'name': 'Ann'}",
        '{"name": "Ann"}}',
        "",
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 50_000 + "1" + "}" * 50_000,
    ],
    ids=["truncated", "single-quotes", "trailing-brace", "empty", "deep-array", "deep-object"],
)
def test_malformed_json_is_400_problem_and_writes_nothing(client, raw):
    before = row_counts()

    response = client.post("/register", data=raw, content_type="application/json")

    body = assert_problem(response, 400)
    assert body["type"] == "/problems/validation-error"
    assert isinstance(body["errors"], dict) and body["errors"]
    assert row_counts() == before


@pytest.mark.parametrize(
    "raw",
    [b'{"name": "\xff\xfe"}', '{"name": "Ann"}'.encode("utf-16"), b'{"name": "\xed\xa0\x80"}'],
    ids=["latin1-bytes", "utf-16", "utf-8-encoded-surrogate"],
)
def test_body_that_is_not_utf8_is_400(client, raw):
    response = client.post("/register", data=raw, content_type="application/json")

    assert_problem(response, 400)


# Every body of the auth, accounts and customers routes: (method, path, caller, a text field).
BODY_ROUTES = [
    ("post", "/register", None, "name"),
    ("post", "/login", None, "username"),
    ("patch", "/me", "customer", "name"),
    ("put", "/me/password", "customer", "current_password"),
    ("post", "/accounts", "admin", "username"),
    ("put", "/accounts/{account}", "customer", "username"),
    ("patch", "/accounts/{account}", "customer", "username"),
    ("post", "/customers", None, "name"),
    ("put", "/customers/{customer}", "customer", "name"),
    ("patch", "/customers/{customer}", "customer", "name"),
]
BAD_BODIES = {
    "text": ("name=Ann", "text/plain", 415),
    "form": ("name=Ann", "application/x-www-form-urlencoded", 415),
    "malformed": ('{"name": "Ann",}', "application/json", 400),
    "surrogate": ('{"FIELD": "x\\udc00y"}', "application/json", 400),
}


@pytest.mark.parametrize("kind", list(BAD_BODIES))
@pytest.mark.parametrize(
    "method, path, caller, field", BODY_ROUTES, ids=[f"{m.upper()} {p}" for m, p, *_ in BODY_ROUTES]
)
def test_every_body_refuses_non_json_malformed_json_and_lone_surrogates(
    client, customer, customer_headers, admin_headers, method, path, caller, field, kind
):
    data, content_type, status = BAD_BODIES[kind]
    data = data.replace("FIELD", field)
    url = path.format(account=customer.id, customer=customer.customer_id)
    headers = {"customer": customer_headers, "admin": admin_headers}.get(caller, {})
    before = row_counts(), client.get("/me", headers=customer_headers).get_json()

    response = getattr(client, method)(url, data=data, content_type=content_type, headers=headers)

    assert_problem(response, status, *([field] if kind == "surrogate" else []))
    assert (row_counts(), client.get("/me", headers=customer_headers).get_json()) == before


def test_validation_problem_names_every_bad_field(client):
    response = client.post("/register", json={"name": "", "email": "nope", "password": "short", "role": "admin"})

    body = assert_problem(response, 400, "name", "email", "password", "username", "role")
    assert body["title"] == "Validation failed"
    assert all(isinstance(m, list) and all(isinstance(x, str) for x in m) for m in body["errors"].values())
    for field in ("email", "name", "password"):
        assert field in body["detail"]


@pytest.mark.parametrize(
    "raw, field",
    [
        ('{"customer_id": 1e400}', "customer_id"),
        ('{"customer_id": NaN}', "customer_id"),
        ('{"customer_id": -Infinity}', "customer_id"),
        ('{"customer_id": 99999999999999999999999}', "customer_id"),
    ],
    ids=["huge-float", "nan", "minus-infinity", "huge-int"],
)
def test_odd_json_numbers_are_400(client, admin_headers, raw, field):
    body = raw[:-1] + f', "username": "staff", "password": "{PASSWORD}"}}'

    response = client.post("/accounts", data=body, content_type="application/json", headers=admin_headers)

    assert_problem(response, 400, field)


# --- IntegrityError: the database's unique constraint behind the services' own checks -----------


def test_duplicate_email_that_slips_past_the_check_is_409(client, monkeypatch):
    """Two sign-ups racing: both pass the lookup, the unique index stops the second."""
    assert client.post("/register", json=registration()).status_code == 201
    monkeypatch.setattr(customer_services, "_email_taken", lambda *a, **k: False)
    before = row_counts()

    response = client.post("/register", json=registration(username="other"))

    body = assert_problem(response, 409)
    assert body["type"] == "/problems/conflict"
    assert row_counts() == before
    assert client.post("/login", json={"username": "other", "password": PASSWORD}).status_code == 401


def test_duplicate_username_that_slips_past_the_check_is_409(client, monkeypatch):
    assert client.post("/register", json=registration()).status_code == 201
    monkeypatch.setattr(account_services, "_username_taken", lambda *a, **k: False)
    before = row_counts()

    response = client.post("/register", json=registration(email="other@example.com"))

    assert_problem(response, 409)
    assert row_counts() == before


# --- a second app: a test-only failing route, and a database that cannot be reached -------------


class UnreachableDatabaseConfig(TestingConfig):
    # Nothing listens on port 1: the connection is refused at once.
    SQLALCHEMY_DATABASE_URI = "mysql+pymysql://root@127.0.0.1:1/bookstore?charset=utf8mb4"
    SQLALCHEMY_ENGINE_OPTIONS = engine_options(SQLALCHEMY_DATABASE_URI)


@pytest.fixture(scope="module")
def down_app(app):
    """A separate app instance on an unreachable database, with one route that fails."""
    down = create_app(UnreachableDatabaseConfig)

    def explode():
        raise RuntimeError(SECRET_DETAIL)

    down.add_url_rule("/_test/explode", "test_explode", explode, methods=["GET", "POST"])
    down.view_functions["test_explode"]._access = "public"
    return down


@pytest.fixture
def down(down_app):
    return down_app.test_client()


def test_unexpected_error_is_500_with_a_request_id_and_no_details(down, caplog):
    with caplog.at_level(logging.ERROR, logger="app.errors"):
        response = down.get("/_test/explode")

    body = assert_problem(response, 500)
    text = response.get_data(as_text=True)
    assert body["type"] == "/problems/internal-error"
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert len(body["request_id"]) >= 16
    assert "hunter2" not in text and "boom" not in text and "Traceback" not in text and "RuntimeError" not in text
    logged = [r for r in caplog.records if body["request_id"] in r.getMessage()]
    assert logged and logged[0].exc_info and SECRET_DETAIL in str(logged[0].exc_info[1])


def test_500_keeps_the_callers_request_id(down):
    response = down.post("/_test/explode", json={}, headers={"X-Request-ID": "trace-abc.123"})

    assert_problem(response, 500)
    assert response.get_json()["request_id"] == "trace-abc.123"
    assert response.headers["X-Request-ID"] == "trace-abc.123"


@pytest.mark.parametrize("incoming", ["has space", "x" * 65, "<script>", "semi;colon"])
def test_unsafe_request_ids_are_replaced(down, incoming):
    response = down.get("/_test/explode", headers={"X-Request-ID": incoming})

    rid = response.get_json()["request_id"]
    assert rid != incoming
    assert rid == response.headers["X-Request-ID"]


def test_failures_are_logged_without_the_passwords_in_the_request(down, caplog):
    caplog.set_level(logging.DEBUG)

    down.post("/register", json=registration())
    down.post("/login", json={"username": "ann", "password": PASSWORD})
    down.post("/_test/explode", json={"password": PASSWORD, "new_password": PASSWORD})

    assert any(r.levelno >= logging.WARNING for r in caplog.records)  # the failures were logged
    assert PASSWORD not in caplog.text
    assert "$2b$" not in caplog.text


def test_health_says_database_unreachable_with_503(down):
    response = down.get("/health")

    body = assert_problem(response, 503)
    assert body["database"] == "unreachable"
    assert 1 <= int(response.headers["Retry-After"]) <= 60


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("post", "/login", {"username": "ann", "password": PASSWORD}),
        ("post", "/register", registration()),
        ("post", "/customers", {"name": "Ann", "email": "ann@example.com"}),
    ],
    ids=["login", "register", "create-customer"],
)
def test_database_down_is_503_with_a_short_retry_after(down, method, path, body):
    response = getattr(down, method)(path, json=body)

    problem = assert_problem(response, 503)
    assert problem["type"] == "/problems/service-unavailable"
    assert response.headers["Retry-After"] == "5"
    assert "pymysql" not in response.get_data(as_text=True).lower()


@pytest.mark.parametrize("path", ["/me", "/accounts", "/customers/1"])
def test_database_down_with_a_valid_token_is_503_not_401(down_app, down, path):
    with down_app.app_context():
        token = create_access_token(identity="1", additional_claims={"sid": "s1"})

    response = down.get(path, headers=bearer(token))

    assert_problem(response, 503)
    assert int(response.headers["Retry-After"]) >= 1


def test_health_is_ok_when_the_database_answers(client):
    response = client.get("/health")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_success_responses_carry_no_retry_after(client, customer):
    registered = client.post("/register", json=registration())
    logged_in = client.post("/login", json={"username": customer.username, "password": PASSWORD})

    assert registered.status_code == 201 and logged_in.status_code == 200
    assert "Retry-After" not in registered.headers
    assert "Retry-After" not in logged_in.headers


# --- JWT failures through the same path ---------------------------------------------------------


@pytest.mark.parametrize("header", ["Bearer a.b.c", "Bearer " + "x" * 5000, "Token abc"])
def test_token_errors_are_401_problem_not_422(client, header):
    response = client.get("/me", headers={"Authorization": header})

    assert_problem(response, 401)
    assert "msg" not in response.get_json()


def test_a_query_the_database_refuses_is_500_not_503(app, client, admin_headers, monkeypatch):
    """A schema that lags behind the code (unknown column) is this deployment's fault: 500, logged,
    with a request id — not a 503 that would send clients into retry loops."""
    from sqlalchemy import text

    from app.extensions import db

    def broken_count(args):
        db.session.execute(text("SELECT no_such_column FROM accounts"))

    monkeypatch.setattr("app.accounts.services.list_accounts", broken_count)
    body = assert_problem(client.get("/accounts", headers=admin_headers), 500)
    assert body["request_id"]
    assert "no_such_column" not in json.dumps(body)


# --- one title for every 400, and a detail a person can read --------------------------------------

VALIDATION_400S = {
    "body-fields": ("POST", "/register", {"json": {"name": "", "email": "nope"}}),
    "malformed-json": ("POST", "/login", {"data": '{"username": ', "content_type": "application/json"}),
    "not-utf8": ("POST", "/login", {"data": b'{"username": "\xff"}', "content_type": "application/json"}),
    "no-body": ("PATCH", "/me", {}),
    "bad-number": ("POST", "/login", {"data": '{"username": NaN}', "content_type": "application/json"}),
    "query": ("GET", "/books?page=0", {}),
    "query-cross-field": ("GET", "/books?min_price=5&max_price=1", {}),
    "service-field-error": ("GET", "/books?cursor=AAAAAAAA", {}),
    "service-bad-request": ("POST", "/orders", {"json": {}}),
}


@pytest.mark.parametrize("method, path, kwargs", VALIDATION_400S.values(), ids=VALIDATION_400S.keys())
def test_every_400_has_the_validation_title_and_a_sentence_for_detail(client, customer_headers, method, path, kwargs):
    response = client.open(path, method=method, headers=customer_headers, **kwargs)

    body = assert_problem(response, 400)
    assert (body["type"], body["title"]) == ("/problems/validation-error", "Validation failed")
    assert body["detail"].endswith(".") and body["detail"][:1].isalnum()
    assert "invalid fields:" not in body["detail"] and "_schema" not in body["detail"]


def test_one_bad_field_is_named_with_its_reason(client):
    body = assert_problem(client.get("/books?min_price=-1"), 400, "min_price")

    assert body["detail"] == "min_price is not valid: must be 0 or more."
    assert body["errors"] == {"min_price": ["Must be 0 or more."]}


def test_several_bad_fields_are_listed_in_one_sentence(client):
    response = client.post("/register", json={"name": "", "email": "nope", "password": "short"})

    body = assert_problem(response, 400, "email", "name", "password", "username")
    assert body["detail"] == (
        "4 fields are not valid: email, name, password and username. `errors` gives the reason for each."
    )


def test_a_missing_field_reads_as_required(client, admin_headers):
    body = assert_problem(client.post("/books/1/restock", json={}, headers=admin_headers), 400, "quantity")

    assert body["detail"] == "quantity is required."


def test_a_body_that_is_not_json_says_so(client):
    response = client.post("/login", data="{", content_type="application/json")

    body = assert_problem(response, 400)
    assert body["detail"] == "The body is not valid JSON."
    assert body["errors"] == {"_schema": ["The body is not valid JSON."]}
