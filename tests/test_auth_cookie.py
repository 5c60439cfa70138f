"""The web pages' refresh cookie (docs/decisions/0019-refresh-token-cookie-for-the-pages.md): asked
for at login, read only by POST /token/refresh behind its CSRF check, rotated, cleared at logout;
and POST /logout/all, which ends every session of the account."""

import pytest

from app import create_app
from config import TestingConfig
from tests.conftest import PASSWORD, assert_problem, bearer

pytestmark = pytest.mark.owasp("API2")

COOKIE = "bookstore_refresh"
PAGE = {"X-Session-Cookie": "1"}
FRONT_END = "https://shop.example.com"


def _cookie_login(client, account, headers=PAGE):
    return client.post(
        "/login", json={"username": account.username, "password": PASSWORD, "refresh_cookie": True}, headers=headers
    )


def _set_cookie(response) -> str:
    (header,) = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{COOKIE}=")]
    return header


def _attributes(header: str) -> dict:
    parts = [p.strip() for p in header.split(";")]
    return {p.split("=", 1)[0].lower(): (p.split("=", 1)[1] if "=" in p else True) for p in parts[1:]}


def _stored(client):
    return client.get_cookie(COOKIE, path="/token/refresh")


def _cookie_refresh(client, headers=PAGE):
    return client.post("/token/refresh", headers=headers)


def test_a_cookie_login_sets_an_httponly_secure_strict_cookie_on_the_refresh_path_only(client, customer):
    response = _cookie_login(client, customer)

    assert response.status_code == 200
    body = response.get_json()
    assert "refresh_token" not in body and body["access_token"] and body["token_type"] == "Bearer"
    assert response.headers["Cache-Control"] == "no-store"
    header = _set_cookie(response)
    attributes = _attributes(header)
    assert attributes["path"] == "/token/refresh"
    assert attributes["httponly"] is True and attributes["secure"] is True
    assert attributes["samesite"] == "Strict"
    assert int(attributes["max-age"]) == 30 * 24 * 3600
    assert _stored(client) is not None
    assert client.get("/me", headers=bearer(body["access_token"])).status_code == 200


def test_a_plain_login_sets_no_cookie_and_answers_both_tokens(client, customer):
    response = client.post("/login", json={"username": customer.username, "password": PASSWORD})

    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert {"access_token", "refresh_token"} <= response.get_json().keys()


def test_a_cookie_login_needs_the_page_header(client, customer):
    refused = _cookie_login(client, customer, headers={})

    assert_problem(refused, 403)
    assert "Set-Cookie" not in refused.headers


def test_refresh_from_the_cookie_rotates_it_and_answers_an_access_token(client, customer):
    _cookie_login(client, customer)
    first = _stored(client).value

    response = _cookie_refresh(client)

    assert response.status_code == 200
    body = response.get_json()
    assert "refresh_token" not in body
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get("/me", headers=bearer(body["access_token"])).status_code == 200
    second = _stored(client).value
    assert second and second != first
    assert _cookie_refresh(client).status_code == 200  # the rotated cookie works in its turn


def test_a_reused_cookie_ends_the_session_and_clears_the_cookie(client, customer):
    _cookie_login(client, customer)
    old = _stored(client).value
    rotated = _cookie_refresh(client).get_json()

    client.set_cookie(COOKIE, old, path="/token/refresh")
    reuse = _cookie_refresh(client)

    body = assert_problem(reuse, 401)
    assert "used already" in body["detail"]
    assert int(_attributes(_set_cookie(reuse))["max-age"]) == 0
    assert _stored(client) is None
    assert client.get("/me", headers=bearer(rotated["access_token"])).status_code == 401


def test_the_cookie_refresh_needs_the_page_header(client, customer):
    _cookie_login(client, customer)

    refused = _cookie_refresh(client, headers={})

    body = assert_problem(refused, 403)
    assert "X-Session-Cookie" in body["detail"]
    assert _stored(client) is not None  # a refused cross-site attempt does not sign the visitor out
    assert _cookie_refresh(client).status_code == 200


@pytest.mark.parametrize("origin", ["https://evil.example", "http://localhost.evil.example", "null"])
def test_the_cookie_refresh_from_another_origin_is_refused(client, customer, origin):
    _cookie_login(client, customer)

    refused = _cookie_refresh(client, headers={**PAGE, "Origin": origin})

    assert_problem(refused, 403)
    assert _cookie_refresh(client, headers={**PAGE, "Origin": "http://localhost"}).status_code == 200


def test_the_cookie_authenticates_no_other_route(client, customer):
    _cookie_login(client, customer)
    token = _stored(client).value

    # Even sent to every path (as a cookie with a wider path would be), it opens nothing else.
    client.set_cookie(COOKIE, token, path="/")
    for method, path in (("GET", "/me"), ("GET", "/cart"), ("GET", "/orders"), ("POST", "/logout")):
        response = client.open(path, method=method, headers=PAGE)
        assert_problem(response, 401)


def test_a_bearer_refresh_token_is_used_before_the_cookie(client, make, customer):
    _cookie_login(client, customer)
    cookie_before = _stored(client).value
    other = make.login(customer)

    response = client.post("/token/refresh", headers=bearer(other["refresh_token"]))

    assert response.status_code == 200
    assert "refresh_token" in response.get_json()
    assert "Set-Cookie" not in response.headers
    assert _stored(client).value == cookie_before


def test_an_access_token_in_the_cookie_is_refused(client, make, customer):
    access = make.login(customer)["access_token"]
    client.set_cookie(COOKIE, access, path="/token/refresh")

    assert_problem(_cookie_refresh(client), 401)
    assert _stored(client) is None


def test_logout_clears_the_cookie_and_ends_its_session(client, customer):
    access = _cookie_login(client, customer).get_json()["access_token"]
    token = _stored(client).value

    response = client.post("/logout", headers=bearer(access))

    assert response.status_code == 204
    attributes = _attributes(_set_cookie(response))
    assert int(attributes["max-age"]) == 0 and attributes["path"] == "/token/refresh"
    assert _stored(client) is None
    client.set_cookie(COOKIE, token, path="/token/refresh")
    assert_problem(_cookie_refresh(client), 401)


def test_logout_all_ends_every_session_of_the_account_only(client, make, customer):
    other_customer = make.customer()
    phone = make.login(customer)
    laptop = make.login(customer)
    bystander = make.login(other_customer)
    page_access = _cookie_login(client, customer).get_json()["access_token"]

    response = client.post("/logout/all", headers=bearer(laptop["access_token"]))

    assert response.status_code == 204
    assert int(_attributes(_set_cookie(response))["max-age"]) == 0
    for tokens in (phone, laptop):
        assert_problem(client.get("/me", headers=bearer(tokens["access_token"])), 401)
        assert_problem(client.post("/token/refresh", headers=bearer(tokens["refresh_token"])), 401)
    assert_problem(client.get("/me", headers=bearer(page_access)), 401)
    assert client.get("/me", headers=bearer(bystander["access_token"])).status_code == 200
    # A new login works at once.
    fresh = make.login(customer)
    assert client.get("/me", headers=bearer(fresh["access_token"])).status_code == 200


def test_logout_all_takes_no_refresh_token(client, make, customer):
    issued = make.login(customer)

    assert_problem(client.post("/logout/all", headers=bearer(issued["refresh_token"])), 401)
    assert client.get("/me", headers=bearer(issued["access_token"])).status_code == 200


def test_refresh_cookie_must_be_a_boolean(client, customer):
    response = client.post(
        "/login",
        json={"username": customer.username, "password": PASSWORD, "refresh_cookie": "yes"},
        headers=PAGE,
    )

    assert_problem(response, 400, "refresh_cookie")


def test_an_allowed_cross_origin_front_end_cannot_use_the_cookie(client, customer):
    """CORS_ORIGINS lets other front ends call the API with bearer tokens, never with the cookie:
    the preflight does not allow the page header or credentials, and the Origin check refuses it
    (before the token is even read)."""
    _cookie_login(client, customer)
    config = type("CorsTesting", (TestingConfig,), {"CORS_ORIGINS": [FRONT_END]})
    cors_client = create_app(config).test_client()
    cors_client.set_cookie(COOKIE, _stored(client).value, path="/token/refresh")

    preflight = cors_client.options(
        "/token/refresh",
        headers={
            "Origin": FRONT_END,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "X-Session-Cookie",
        },
    )
    allowed = {h.strip().lower() for h in preflight.headers.get("Access-Control-Allow-Headers", "").split(",")}
    assert "x-session-cookie" not in allowed
    assert "Access-Control-Allow-Credentials" not in preflight.headers

    body = assert_problem(_cookie_refresh(cors_client, headers={**PAGE, "Origin": FRONT_END}), 403)
    assert "this site's own pages" in body["detail"]
