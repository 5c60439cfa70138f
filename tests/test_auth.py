"""Sign-up, login, tokens, logout, /me and the caller's own password (docs/api.md "Auth and accounts")."""

import base64
import json
import time
import uuid
from datetime import timedelta

import jwt as pyjwt
import pytest
import requests
from flask_jwt_extended import create_access_token, create_refresh_token

from tests.conftest import PASSWORD, assert_problem, bearer, login, row_counts, together
from tests.live import LiveDatabase, LiveServer, mysql_test_url

pytestmark = pytest.mark.usefixtures("no_secrets")

NEW_PASSWORD = "a-brand-new-secret"


def registration(**overrides) -> dict:
    body = {
        "name": "Ann Reader",
        "email": "ann@example.com",
        "phone": "+44 20 7946 0018",
        "username": "ann",
        "password": PASSWORD,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


# --- register -----------------------------------------------------------------------------------


def test_register_creates_customer_and_account_that_can_log_in(client, make):
    response = client.post("/register", json=registration())

    assert response.status_code == 201
    body = response.get_json()
    assert body["customer"]["name"] == "Ann Reader"
    assert body["customer"]["email"] == "ann@example.com"
    assert body["customer"]["phone"] == "+44 20 7946 0018"
    assert body["customer"]["created_at"].endswith("Z")
    assert body["account"]["username"] == "ann"
    assert body["account"]["role"] == "customer"
    assert body["account"]["is_active"] is True
    assert body["account"]["customer_id"] == body["customer"]["id"]
    assert "password" not in body["account"]
    assert response.headers["Location"] == f"/accounts/{body['account']['id']}"

    me = client.get("/me", headers=make.headers("ann")).get_json()
    assert me["account"]["id"] == body["account"]["id"]
    assert me["customer"] == body["customer"]


def test_register_normalises_username_email_and_whitespace(client):
    response = client.post(
        "/register", json=registration(name="  Ann  ", email="Ann@Example.COM", username="Ann.Reader", phone=...)
    )

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["customer"]["name"] == "Ann"
    assert body["customer"]["email"] == "ann@example.com"
    assert body["customer"]["phone"] is None
    assert body["account"]["username"] == "ann.reader"
    assert login(client, "ANN.READER").status_code == 200


def test_register_password_of_exactly_72_bytes_works_and_one_byte_more_does_not_log_in(client):
    password = "é" * 36  # 72 bytes in UTF-8
    assert client.post("/register", json=registration(password=password)).status_code == 201

    assert login(client, "ann", password).status_code == 200
    refused = login(client, "ann", password + "x")
    assert_problem(refused, 401)


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"username": "ANN", "email": "other@example.com"}, "username"),
        ({"username": "other", "email": "ANN@example.com"}, "email"),
    ],
    ids=["username-taken", "email-taken"],
)
def test_register_duplicate_is_409_and_writes_nothing(client, overrides, field):
    assert client.post("/register", json=registration()).status_code == 201
    before = row_counts()

    response = client.post("/register", json=registration(**overrides))

    assert_problem(response, 409, field)
    assert row_counts() == before


BAD_REGISTRATIONS = [
    ("missing-name", {"name": ...}, "name"),
    ("missing-email", {"email": ...}, "email"),
    ("missing-username", {"username": ...}, "username"),
    ("missing-password", {"password": ...}, "password"),
    ("name-number", {"name": 123}, "name"),
    ("name-null", {"name": None}, "name"),
    ("email-list", {"email": ["ann@example.com"]}, "email"),
    ("phone-number", {"phone": 442079460018}, "phone"),
    ("username-null", {"username": None}, "username"),
    ("password-number", {"password": 12345678}, "password"),
    ("unknown-role", {"role": "admin"}, "role"),
    ("unknown-is_active", {"is_active": True}, "is_active"),
    ("unknown-id", {"id": 1}, "id"),
    ("email-no-at", {"email": "ann.example.com"}, "email"),
    ("email-no-domain", {"email": "ann@"}, "email"),
    ("email-space", {"email": "ann reader@example.com"}, "email"),
    ("name-blank", {"name": "   "}, "name"),
    ("name-121", {"name": "n" * 121}, "name"),
    ("email-255", {"email": "a" * 243 + "@example.com"}, "email"),
    ("phone-21", {"phone": "1" * 21}, "phone"),
    ("phone-letters", {"phone": "call me maybe"}, "phone"),
    ("username-51", {"username": "u" * 51}, "username"),
    ("username-2", {"username": "ab"}, "username"),
    ("username-with-at", {"username": "ann@home"}, "username"),
    ("username-with-space", {"username": "ann reader"}, "username"),
    ("password-7", {"password": "short-7"}, "password"),
    ("password-73-bytes", {"password": "p" * 73}, "password"),
    ("password-74-bytes-37-chars", {"password": "é" * 37}, "password"),
    ("name-NUL", {"name": "Ann\x00"}, "name"),
]


@pytest.mark.parametrize("overrides, field", [b[1:] for b in BAD_REGISTRATIONS], ids=[b[0] for b in BAD_REGISTRATIONS])
def test_register_bad_input_is_400_and_writes_nothing(client, overrides, field):
    before = row_counts()

    response = client.post("/register", json=registration(**overrides))

    body = assert_problem(response, 400, field)
    assert body["type"] == "/problems/validation-error"
    assert row_counts() == before


@pytest.mark.parametrize("field", ["name", "email", "phone", "username", "password"])
def test_register_lone_surrogate_is_400_and_writes_nothing(client, field):
    body = json.dumps(registration())
    original = json.dumps(registration()[field])
    raw = body.replace(original, '"ab\\ud800cdefgh"', 1)
    assert "\\ud800" in raw
    before = row_counts()

    response = client.post("/register", data=raw, content_type="application/json")

    assert_problem(response, 400, field)
    assert row_counts() == before


@pytest.mark.parametrize(
    "data, content_type, status",
    [
        ("name=Ann&email=ann@example.com", "application/x-www-form-urlencoded", 415),
        ("Ann, ann@example.com", "text/plain", 415),
        ('{"name": "Ann", "email": ', "application/json", 400),
        ("[]", "application/json", 400),
        ("null", "application/json", 400),
        ('"ann"', "application/json", 400),
    ],
    ids=["form", "text", "malformed", "array", "null", "string"],
)
def test_register_non_json_or_malformed_body_writes_nothing(client, data, content_type, status):
    before = row_counts()

    response = client.post("/register", data=data, content_type=content_type)

    assert_problem(response, status)
    assert row_counts() == before


def test_register_keeps_emoji_and_accents(client, make):
    name = "Zoë 📚 Reader 🦉"
    assert client.post("/register", json=registration(name=name)).status_code == 201

    me = client.get("/me", headers=make.headers("ann")).get_json()

    assert me["customer"]["name"] == name


def test_register_rate_limit_is_429_with_retry_after_and_shared_with_post_customers(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "REGISTER_RATE_LIMIT", "2 per hour")
    assert client.post("/register", json=registration(username="one", email="one@example.com")).status_code == 201
    assert client.post("/customers", json={"name": "Two", "email": "two@example.com"}).status_code == 201
    before = row_counts()

    refused = client.post("/register", json=registration(username="three", email="three@example.com"))
    refused_too = client.post("/customers", json={"name": "Four", "email": "four@example.com"})

    for response in (refused, refused_too):
        body = assert_problem(response, 429)
        assert body["type"] == "/problems/rate-limited"
        assert 1 <= int(response.headers["Retry-After"]) <= 3600 + 1  # rounded up to whole seconds
    assert row_counts() == before


# --- login --------------------------------------------------------------------------------------


def test_login_by_username_gives_working_bearer_tokens(client, customer):
    response = login(client, customer.username)

    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 15 * 60
    assert body["access_token"] != body["refresh_token"]
    assert response.headers["Cache-Control"] == "no-store"  # tokens must not be cached
    me = client.get("/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.get_json()["account"]["username"] == customer.username


def test_login_by_email_in_any_case(client, make):
    account = make.customer(email="mixed@example.com")

    response = login(client, "  MIXED@Example.com ")

    assert response.status_code == 200
    me = client.get("/me", headers=bearer(response.get_json()["access_token"])).get_json()
    assert me["account"]["id"] == account.id


def _deactivate(client, admin_headers, account):
    response = client.patch(f"/accounts/{account.id}", json={"is_active": False}, headers=admin_headers)
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize(
    "case",
    ["wrong-password", "unknown-user", "unknown-email", "deactivated", "password-73-bytes", "empty-password"],
)
def test_login_failures_all_look_the_same(client, make, admin_headers, case):
    account = make.customer(email="known@example.com")
    wrong = login(client, account.username, "not-the-password")
    username, password = {
        "wrong-password": (account.username, "another-wrong-one"),
        "unknown-user": ("nobody-here", PASSWORD),
        "unknown-email": ("nobody@example.com", PASSWORD),
        "deactivated": (account.username, PASSWORD),
        "password-73-bytes": (account.username, PASSWORD + "x" * (73 - len(PASSWORD))),
        "empty-password": (account.username, ""),
    }[case]
    if case == "deactivated":
        _deactivate(client, admin_headers, account)

    response = login(client, username, password)

    assert_problem(response, 401)
    assert response.get_json() == wrong.get_json()
    assert response.get_json()["detail"] == "Invalid username or password."


@pytest.mark.parametrize(
    "body, field",
    [
        ({"password": PASSWORD}, "username"),
        ({"username": "ann"}, "password"),
        ({"username": 42, "password": PASSWORD}, "username"),
        ({"username": "ann", "password": ["x"]}, "password"),
        ({"username": "ann", "password": PASSWORD, "remember": True}, "remember"),
        ({"username": "", "password": PASSWORD}, "username"),
        ({"username": "a\ud800", "password": PASSWORD}, "username"),
    ],
    ids=["no-username", "no-password", "username-number", "password-list", "unknown-field", "blank", "surrogate"],
)
def test_login_bad_body_is_400(client, body, field):
    raw = json.dumps(body)  # keeps "\ud800" as an escape, as a client would send it

    response = client.post("/login", data=raw, content_type="application/json")

    assert_problem(response, 400, field)


def test_login_non_json_is_415_and_malformed_json_is_400(client):
    assert_problem(client.post("/login", data="username=ann&password=x", content_type="text/plain"), 415)
    assert_problem(client.post("/login", data='{"username": "ann",', content_type="application/json"), 400)


def test_login_rate_limit_is_429_with_retry_after_per_username(client, make):
    target, bystander = make.customer(), make.customer()
    for _ in range(10):
        assert login(client, target.username, "guessing-wrong").status_code == 401

    limited = login(client, target.username, "guessing-wrong")
    right_password_too = login(client, target.username)

    for response in (limited, right_password_too):
        body = assert_problem(response, 429)
        assert body["type"] == "/problems/rate-limited"
        assert 1 <= int(response.headers["Retry-After"]) <= 60 + 1  # rounded up to whole seconds
    assert login(client, bystander.username).status_code == 200


@pytest.mark.parametrize("kind", ["decorators only", "default limit", "blueprint limit"])
def test_unlimited_routes_skip_the_limiter_unless_other_limits_exist(kind):
    """create_app drops Flask-Limiter's before-request check (login and register check their own
    limits); a default limit in the configuration or a limit on a blueprint keeps it, and then
    that limit applies to the routes it covers."""
    from flask import Blueprint, Flask
    from flask_limiter import Limiter

    from app import _limit_only_decorated_routes

    app = Flask("limits")
    app.config.update(RATELIMIT_STORAGE_URI="memory://")
    if kind == "default limit":
        app.config["RATELIMIT_DEFAULT"] = "2 per minute"
    limiter = Limiter(key_func=lambda: "one-client")
    limiter.init_app(app)

    def open_view():
        return "open"

    def guarded_view():
        return "guarded"

    pages = Blueprint("pages", __name__)
    pages.add_url_rule("/open", "open", open_view)
    if kind == "blueprint limit":
        limiter.limit("2 per minute")(pages)
    app.register_blueprint(pages)
    app.add_url_rule("/guarded", "guarded", limiter.limit("1 per minute")(guarded_view))
    _limit_only_decorated_routes(app, limiter)
    client = app.test_client()
    open_statuses = [client.get("/open").status_code for _ in range(3)]
    assert open_statuses == ([200, 200, 200] if kind == "decorators only" else [200, 200, 429])
    assert [client.get("/guarded").status_code for _ in range(2)] == [200, 429]


def test_login_rate_limit_counts_the_username_in_any_case(client, customer):
    for i in range(10):
        name = customer.username.upper() if i % 2 else customer.username
        assert login(client, name, "guessing-wrong").status_code == 401

    assert_problem(login(client, f" {customer.username.upper()} ", "guessing-wrong"), 429)


# --- tokens -------------------------------------------------------------------------------------


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict, dict, str]:
    header, payload, signature = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
        signature,
    )


def _bad_token(kind: str, app, client, make, customer, admin) -> str:
    issued = make.login(customer.username)
    access = issued["access_token"]
    header, payload, signature = _parts(access)
    if kind == "garbage":
        return "not.a.token"
    if kind == "tampered-signature":
        return access[:-4] + ("AAAA" if not access.endswith("AAAA") else "BBBB")
    if kind == "forged-admin-subject":
        return f"{_b64(header)}.{_b64({**payload, 'sub': str(admin.id), 'role': 'admin'})}.{signature}"
    if kind == "alg-none":
        return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(payload)}."
    if kind == "other-key":
        return pyjwt.encode(payload, "some-other-secret-key-of-32-bytes!", algorithm="HS256")
    if kind == "hs512-right-key":
        return pyjwt.encode(payload, app.config["JWT_SECRET_KEY"], algorithm="HS512")
    if kind == "expired":
        return create_access_token(identity=str(customer.id), expires_delta=timedelta(seconds=-30))
    if kind == "refresh-as-access":
        return issued["refresh_token"]
    raise AssertionError(kind)


BAD_TOKENS = [
    "garbage",
    "tampered-signature",
    "forged-admin-subject",
    "alg-none",
    "other-key",
    "hs512-right-key",
    "expired",
    "refresh-as-access",
]


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the HS512 forgery
@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_bad_access_token_is_401_problem(app, client, make, customer, admin, kind):
    token = _bad_token(kind, app, client, make, customer, admin)

    response = client.get("/me", headers=bearer(token))

    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # the same token cannot reach an admin route either (401, not 403: it proves nothing)
    assert_problem(client.get("/accounts", headers=bearer(token)), 401)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer"}, {"Authorization": "Bearer "}, {"Authorization": f"Basic {'YW5uOng='}"}],
    ids=["none", "empty-bearer", "blank-bearer", "basic"],
)
def test_missing_token_is_401_problem(client, headers):
    response = client.get("/me", headers=headers)

    body = assert_problem(response, 401)
    assert "Bearer" in body["detail"] or body["detail"] == "The token is invalid."
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_refresh_gives_a_working_access_token(client, make, customer):
    issued = make.login(customer.username)

    response = client.post("/token/refresh", headers=bearer(issued["refresh_token"]))

    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["refresh_token"] != issued["refresh_token"]
    assert response.headers["Cache-Control"] == "no-store"
    assert body["token_type"] == "Bearer"
    me = client.get("/me", headers=bearer(body["access_token"]))
    assert me.get_json()["account"]["id"] == customer.id


def test_access_token_at_refresh_is_401(client, make, customer):
    issued = make.login(customer.username)

    assert_problem(client.post("/token/refresh", headers=bearer(issued["access_token"])), 401)


def test_expired_refresh_token_is_401(client, customer):
    token = create_refresh_token(identity=str(customer.id), expires_delta=timedelta(seconds=-30))

    assert_problem(client.post("/token/refresh", headers=bearer(token)), 401)


def test_logout_revokes_the_token_its_refresh_token_and_tokens_refreshed_from_it(client, make, customer):
    issued = make.login(customer.username)
    refreshed = client.post("/token/refresh", headers=bearer(issued["refresh_token"])).get_json()["access_token"]
    other_session = make.login(customer.username)["access_token"]

    response = client.post("/logout", headers=bearer(issued["access_token"]))

    assert response.status_code == 204
    assert response.get_data() == b""
    assert_problem(client.get("/me", headers=bearer(issued["access_token"])), 401)
    assert_problem(client.post("/token/refresh", headers=bearer(issued["refresh_token"])), 401)
    assert_problem(client.get("/me", headers=bearer(refreshed)), 401)
    assert_problem(client.post("/logout", headers=bearer(issued["access_token"])), 401)
    assert client.get("/me", headers=bearer(other_session)).status_code == 200


def test_logout_with_the_refresh_token_ends_the_session(client, make, customer):
    issued = make.login(customer.username)

    response = client.post("/logout", headers=bearer(issued["refresh_token"]))

    assert response.status_code == 204
    assert_problem(client.post("/token/refresh", headers=bearer(issued["refresh_token"])), 401)
    assert_problem(client.get("/me", headers=bearer(issued["access_token"])), 401)


def test_deactivated_account_tokens_are_refused_and_reactivation_restores_login(client, make, customer, admin_headers):
    issued = make.login(customer.username)

    _deactivate(client, admin_headers, customer)

    assert_problem(client.get("/me", headers=bearer(issued["access_token"])), 401)
    assert_problem(client.post("/token/refresh", headers=bearer(issued["refresh_token"])), 401)
    response = client.patch(f"/accounts/{customer.id}", json={"is_active": True}, headers=admin_headers)
    assert response.get_json()["is_active"] is True
    assert login(client, customer.username).status_code == 200


def test_deleted_account_tokens_are_refused(client, customer, customer_headers):
    assert client.delete(f"/accounts/{customer.id}", headers=customer_headers).status_code == 204

    assert_problem(client.get("/me", headers=customer_headers), 401)


# --- /me ----------------------------------------------------------------------------------------


def test_me_shows_account_and_customer(client, make):
    account = make.customer(name="Mo Reader", phone="+1 555 0100")

    response = client.get("/me", headers=make.headers(account))

    assert response.status_code == 200
    body = response.get_json()
    assert body["account"]["username"] == account.username
    assert body["account"]["role"] == "customer"
    assert body["customer"]["name"] == "Mo Reader"
    assert body["customer"]["phone"] == "+1 555 0100"
    assert body["customer"]["id"] == account.customer_id


def test_patch_me_updates_the_profile(client, customer, customer_headers):
    response = client.patch(
        "/me", json={"name": "New Name", "email": "New@Example.com", "phone": None}, headers=customer_headers
    )

    assert response.status_code == 200
    assert response.get_json()["customer"]["email"] == "new@example.com"
    again = client.get("/me", headers=customer_headers).get_json()["customer"]
    assert (again["name"], again["email"], again["phone"]) == ("New Name", "new@example.com", None)
    assert login(client, "new@example.com").status_code == 200


def test_patch_me_email_taken_is_409_and_changes_nothing(client, make, customer, customer_headers):
    make.customer(email="taken@example.com")
    before = client.get("/me", headers=customer_headers).get_json()

    response = client.patch("/me", json={"name": "Changed", "email": "TAKEN@example.com"}, headers=customer_headers)

    assert_problem(response, 409, "email")
    assert client.get("/me", headers=customer_headers).get_json() == before


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": ""}, "name"),
        ({"name": "n" * 121}, "name"),
        ({"name": 7}, "name"),
        ({"email": "nope"}, "email"),
        ({"email": None}, "email"),
        ({"phone": "12"}, "phone"),
        ({"phone": "☎" * 8}, "phone"),
        ({"role": "admin"}, "role"),
        ({"username": "someone"}, "username"),
        ({"password": "whatever-123"}, "password"),
    ],
    ids=[
        "name-blank",
        "name-long",
        "name-number",
        "email-bad",
        "email-null",
        "phone-short",
        "phone-symbols",
        "role",
        "username",
        "password",
    ],
)
def test_patch_me_bad_input_is_400_and_changes_nothing(client, customer_headers, body, field):
    before = client.get("/me", headers=customer_headers).get_json()

    response = client.patch("/me", json=body, headers=customer_headers)

    assert_problem(response, 400, field)
    assert client.get("/me", headers=customer_headers).get_json() == before


def test_patch_me_non_json_is_415_and_surrogate_is_400(client, customer_headers):
    assert_problem(client.patch("/me", data="name=x", content_type="text/plain", headers=customer_headers), 415)
    surrogate = client.patch(
        "/me", data='{"name": "\\ud800"}', content_type="application/json", headers=customer_headers
    )
    assert_problem(surrogate, 400, "name")


def test_patch_me_without_customer_profile_is_403(client, make, admin_headers):
    created = client.post("/accounts", json={"username": "staff", "password": PASSWORD}, headers=admin_headers)
    assert created.get_json()["customer"] is None
    headers = make.headers("staff")

    assert client.get("/me", headers=headers).get_json()["customer"] is None
    assert_problem(client.patch("/me", json={"name": "Staff"}, headers=headers), 403)


# --- PUT /me/password ---------------------------------------------------------------------------


def test_change_password(client, customer, customer_headers, no_secrets):
    no_secrets.add(NEW_PASSWORD)

    response = client.put(
        "/me/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}, headers=customer_headers
    )

    assert response.status_code == 204
    assert response.get_data() == b""
    assert_problem(login(client, customer.username), 401)
    assert login(client, customer.username, NEW_PASSWORD).status_code == 200


@pytest.mark.parametrize(
    "body, field",
    [
        ({"current_password": "wrong-password", "new_password": NEW_PASSWORD}, "current_password"),
        ({"current_password": PASSWORD + "x" * 80, "new_password": NEW_PASSWORD}, "current_password"),
        ({"new_password": NEW_PASSWORD}, "current_password"),
        ({"current_password": PASSWORD}, "new_password"),
        ({"current_password": PASSWORD, "new_password": "short"}, "new_password"),
        ({"current_password": PASSWORD, "new_password": "x" * 73}, "new_password"),
        ({"current_password": PASSWORD, "new_password": 12345678}, "new_password"),
        ({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "username": "x"}, "username"),
    ],
    ids=[
        "wrong-current",
        "current-too-long",
        "no-current",
        "no-new",
        "new-short",
        "new-73-bytes",
        "new-number",
        "unknown-field",
    ],
)
def test_change_password_bad_input_is_400_and_keeps_the_old_password(client, customer, customer_headers, body, field):
    response = client.put("/me/password", json=body, headers=customer_headers)

    assert_problem(response, 400, field)
    assert login(client, customer.username).status_code == 200
    assert login(client, customer.username, NEW_PASSWORD).status_code == 401


def test_change_password_ends_the_other_sessions_only(client, customer):
    this = login(client, customer.username).get_json()
    other = login(client, customer.username).get_json()

    response = client.put(
        "/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(this["access_token"]),
    )

    assert response.status_code == 204
    assert client.get("/me", headers=bearer(this["access_token"])).status_code == 200
    assert client.post("/token/refresh", headers=bearer(this["refresh_token"])).status_code == 200
    assert_problem(client.get("/me", headers=bearer(other["access_token"])), 401)
    assert_problem(client.post("/token/refresh", headers=bearer(other["refresh_token"])), 401)
    fresh = login(client, customer.username, NEW_PASSWORD).get_json()
    assert client.get("/me", headers=bearer(fresh["access_token"])).status_code == 200


def test_admin_password_reset_ends_every_session_of_that_account(client, customer, admin_headers):
    tokens = login(client, customer.username).get_json()

    response = client.patch(f"/accounts/{customer.id}", json={"password": NEW_PASSWORD}, headers=admin_headers)

    assert response.status_code == 200
    assert_problem(client.get("/me", headers=bearer(tokens["access_token"])), 401)
    assert_problem(client.post("/token/refresh", headers=bearer(tokens["refresh_token"])), 401)
    assert client.get("/me", headers=admin_headers).status_code == 200


def test_change_password_needs_a_token(client):
    response = client.put("/me/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})

    assert_problem(response, 401)


# --- on a real server: several processes share revocations and (with Redis) the login limit ------

needs_mariadb = pytest.mark.skipif(mysql_test_url() is None, reason="needs TEST_DATABASE_URL on MySQL/MariaDB")
REDIS_URL = "redis://127.0.0.1:6379/3"


@pytest.fixture(scope="module")
def live_server():
    """gunicorn, 4 processes x 4 threads, on its own MariaDB database, rate limits counted in Redis."""
    database = LiveDatabase("auth_live")
    database.create()
    server = LiveServer(
        database.url, workers=4, threads=4, extra_env={"REDIS_URL": REDIS_URL, "LOGIN_RATE_LIMIT": "10 per minute"}
    ).start()
    try:
        yield server
    finally:
        server.stop()
        database.drop()


def _live_user(server, prefix: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:12]}"  # fresh in Redis too, where counts outlive the database
    body = {"name": name, "email": f"{name}@example.com", "username": name, "password": PASSWORD}
    assert requests.post(server.url("/register"), json=body, timeout=10).status_code == 201
    return name


@pytest.mark.mysql_only
@needs_mariadb
def test_a_revoked_token_is_refused_by_every_server_process(live_server):
    name = _live_user(live_server, "revoke")
    issued = requests.post(live_server.url("/login"), json={"username": name, "password": PASSWORD}, timeout=10).json()
    headers = bearer(issued["access_token"])
    before = together(16, lambda _: requests.get(live_server.url("/me"), headers=headers, timeout=10).status_code)

    assert requests.post(live_server.url("/logout"), headers=headers, timeout=10).status_code == 204

    after = together(32, lambda _: requests.get(live_server.url("/me"), headers=headers, timeout=10).status_code)
    refresh = requests.post(live_server.url("/token/refresh"), headers=bearer(issued["refresh_token"]), timeout=10)
    assert set(before) == {200}
    assert set(after) == {401}
    assert refresh.status_code == 401


@pytest.mark.mysql_only
@needs_mariadb
def test_logging_out_twice_at_once_is_never_a_conflict(live_server):
    name = _live_user(live_server, "double")
    token = requests.post(live_server.url("/login"), json={"username": name, "password": PASSWORD}, timeout=10).json()

    codes = together(
        8, lambda _: requests.post(live_server.url("/logout"), headers=bearer(token["access_token"]), timeout=10)
    )

    statuses = sorted(r.status_code for r in codes)
    assert 204 in statuses and set(statuses) <= {204, 401}, statuses


@pytest.mark.mysql_only
@needs_mariadb
def test_with_redis_the_login_limit_counts_across_processes(live_server):
    name = _live_user(live_server, "limited")

    def attempt(password):  # a new connection each time: the requests spread over the workers
        return requests.post(live_server.url("/login"), json={"username": name, "password": password}, timeout=10)

    first_ten = together(10, lambda _: attempt("wrong-password").status_code)
    eleventh = attempt(PASSWORD)

    assert first_ten == [401] * 10
    assert eleventh.status_code == 429
    assert eleventh.headers["Content-Type"] == "application/problem+json"
    assert 1 <= int(eleventh.headers["Retry-After"]) <= 61


# --- remembered tokens (app/tokens.py): a verified token is not decoded again, yet still checked -----


def test_a_remembered_token_still_expires(client, customer):
    token = create_access_token(identity=str(customer.id), expires_delta=timedelta(seconds=2))
    assert client.get("/me", headers=bearer(token)).status_code == 200
    assert client.get("/me", headers=bearer(token)).status_code == 200  # answered from the cache
    time.sleep(2.1)
    response = client.get("/me", headers=bearer(token))
    assert_problem(response, 401)
    assert "expired" in response.get_json()["detail"]


def test_a_remembered_token_vouches_for_no_altered_copy(client, make, customer, admin):
    access = make.login(customer)["access_token"]
    assert client.get("/me", headers=bearer(access)).status_code == 200
    header, payload, signature = access.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    altered = [
        access[:-4] + ("AAAA" if not access.endswith("AAAA") else "BBBB"),
        f"{header}.{_b64({**claims, 'sub': str(admin.id), 'role': 'admin'})}.{signature}",
        f"{header}.{_b64({**claims, 'exp': claims['exp'] + 3600})}.{signature}",
    ]
    for token in altered:
        assert_problem(client.get("/me", headers=bearer(token)), 401)
    assert client.get("/me", headers=bearer(access)).status_code == 200


def test_a_remembered_token_is_refused_once_the_key_changes(app, client, make, customer, monkeypatch):
    access = make.login(customer)["access_token"]
    assert client.get("/me", headers=bearer(access)).status_code == 200
    monkeypatch.setitem(app.config, "JWT_SECRET_KEY", "a-different-signing-key-of-32-bytes-or-more")
    assert_problem(client.get("/me", headers=bearer(access)), 401)


def test_a_remembered_token_is_refused_once_revoked(client, make, customer):
    access = make.login(customer)["access_token"]
    assert client.get("/me", headers=bearer(access)).status_code == 200
    assert client.post("/logout", headers=bearer(access)).status_code == 204
    assert_problem(client.get("/me", headers=bearer(access)), 401)
