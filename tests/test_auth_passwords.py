"""Blank and well-known passwords are refused wherever a password is set; a register 409 names every taken field."""

import pytest

from app.auth import password_weakness
from app.commands import DEMO_ADMIN, DEMO_CUSTOMER
from tests.conftest import PASSWORD, assert_problem, login, row_counts

pytestmark = pytest.mark.owasp("API2")

REFUSED = {
    "common-digits": ("12345678", "most common"),
    "common-word-digit": ("password1", "most common"),
    "common-any-case": ("PassWord1", "most common"),
    "common-padded": ("  qwertyuiop ", "most common"),
    "spaces": ("        ", "blank"),
    "tabs-and-spaces": ("\t \t \t \t \t", "blank"),
}


def _setters(client, make, admin_headers):
    """Every way to set a password: (name, send(password) -> response, field named in errors)."""
    own = make.customer()
    own_headers = make.headers(own)
    other = make.customer()
    registration = {"name": "Pat", "email": "pat@example.com", "username": "pat"}
    return [
        ("register", lambda p: client.post("/register", json={**registration, "password": p}), "password"),
        ("post-customers", lambda p: client.post("/customers", json={**registration, "password": p}), "password"),
        (
            "post-accounts",
            lambda p: client.post("/accounts", json={"username": "pat", "password": p}, headers=admin_headers),
            "password",
        ),
        (
            "put-own-account",
            lambda p: client.put(
                f"/accounts/{own.id}",
                json={"username": own.username, "password": p, "current_password": PASSWORD},
                headers=own_headers,
            ),
            "password",
        ),
        (
            "patch-account-by-admin",
            lambda p: client.patch(f"/accounts/{other.id}", json={"password": p}, headers=admin_headers),
            "password",
        ),
        (
            "put-me-password",
            lambda p: client.put(
                "/me/password", json={"current_password": PASSWORD, "new_password": p}, headers=own_headers
            ),
            "new_password",
        ),
    ]


@pytest.mark.parametrize("password, reason", REFUSED.values(), ids=REFUSED.keys())
def test_every_place_that_sets_a_password_refuses_weak_ones(client, make, admin_headers, password, reason):
    setters = _setters(client, make, admin_headers)
    before = row_counts()

    for name, send, field in setters:
        response = send(password)
        body = assert_problem(response, 400, field)
        assert reason in body["errors"][field][0], (name, body)
    assert row_counts() == before
    assert_problem(login(client, "pat", password), 401)


def test_the_passwords_of_the_demo_data_tests_and_collection_are_accepted(client, make, admin_headers):
    kept = [PASSWORD, DEMO_ADMIN["password"], DEMO_CUSTOMER["password"], "password-123", "another-pass-123"]
    assert [password_weakness(p) for p in kept] == [None] * len(kept)
    setters = dict((name, send) for name, send, _field in _setters(client, make, admin_headers))
    assert setters["register"]("password-123").status_code == 201  # tests/live.py's
    assert setters["put-me-password"]("admin-pass-123").status_code == 204


def test_create_admin_refuses_a_common_password(app):
    runner = app.test_cli_runner()
    before = row_counts()

    result = runner.invoke(
        args=["create-admin", "--username", "boss", "--email", "b@example.com", "--password", "password1"]
    )

    assert result.exit_code != 0
    assert "most common" in result.output
    assert row_counts() == before


def test_create_admin_accepts_a_good_password(app, client):
    result = app.test_cli_runner().invoke(
        args=["create-admin", "--username", "boss", "--email", "b@example.com", "--password", "boss-pass-123"]
    )

    assert result.exit_code == 0, result.output
    assert login(client, "boss", "boss-pass-123").status_code == 200


# --- a 409 names every field that is taken ---------------------------------------------------------


@pytest.mark.parametrize("path", ["/register", "/customers"])
@pytest.mark.parametrize(
    "username, email, fields",
    [
        ("ANN", "ann@example.com", {"username", "email"}),
        ("ann", "other@example.com", {"username"}),
        ("other", "ANN@example.com", {"email"}),
    ],
    ids=["both", "username", "email"],
)
def test_a_sign_up_conflict_names_every_taken_field(client, make, path, username, email, fields):
    make.customer(username="ann", email="ann@example.com")
    before = row_counts()

    response = client.post(path, json={"name": "A", "email": email, "username": username, "password": PASSWORD})

    body = assert_problem(response, 409, *fields)
    assert set(body["errors"]) == fields
    assert row_counts() == before


def test_a_weak_password_is_refused_before_a_conflict_is_told(client, make):
    make.customer(username="ann", email="ann@example.com")

    response = client.post(
        "/register", json={"name": "A", "email": "ann@example.com", "username": "ann", "password": "12345678"}
    )

    body = assert_problem(response, 400, "password")
    assert set(body["errors"]) == {"password"}


def test_a_good_password_still_logs_in_after_a_change(client, make, customer):
    headers = make.headers(customer)

    changed = client.put(
        "/me/password", json={"current_password": PASSWORD, "new_password": "fresh-pass-456"}, headers=headers
    )

    assert changed.status_code == 204
    assert client.get("/me", headers=headers).status_code == 200
    assert login(client, customer.username, "fresh-pass-456").status_code == 200
