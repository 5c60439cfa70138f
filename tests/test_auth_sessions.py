"""Refresh tokens rotate; one used twice ends its login session; deactivation ends every session."""

import jwt as pyjwt
import pytest
import requests
import sqlalchemy as sa

from app.extensions import db
from tests.conftest import PASSWORD, assert_problem, bearer, login, together
from tests.live import LiveDatabase, LiveServer, mysql_test_url

pytestmark = pytest.mark.owasp("API2")


def _refresh(client, refresh_token):
    return client.post("/token/refresh", headers=bearer(refresh_token))


def _works(client, access_token) -> bool:
    status = client.get("/me", headers=bearer(access_token)).status_code
    assert status in (200, 401)
    return status == 200


def test_refresh_answers_a_new_pair_and_the_new_refresh_token_works(client, make, customer):
    issued = make.login(customer)

    first = _refresh(client, issued["refresh_token"])
    second = _refresh(client, first.get_json()["refresh_token"])

    assert first.status_code == 200 and second.status_code == 200
    tokens = [issued, first.get_json(), second.get_json()]
    assert len({t["refresh_token"] for t in tokens}) == 3
    assert len({t["access_token"] for t in tokens}) == 3
    assert second.get_json()["token_type"] == "Bearer"
    assert second.get_json()["expires_in"] == 15 * 60
    assert all(_works(client, t["access_token"]) for t in tokens)


def test_a_refresh_token_used_twice_ends_its_whole_session(client, make, customer):
    issued = make.login(customer)
    other_session = make.login(customer)
    rotated = _refresh(client, issued["refresh_token"]).get_json()

    reuse = _refresh(client, issued["refresh_token"])

    body = assert_problem(reuse, 401)
    assert "used already" in body["detail"]
    assert reuse.headers["WWW-Authenticate"].startswith("Bearer")
    assert not _works(client, issued["access_token"])
    assert not _works(client, rotated["access_token"])
    assert_problem(_refresh(client, rotated["refresh_token"]), 401)
    assert _works(client, other_session["access_token"])  # the account's other logins live on
    assert _refresh(client, other_session["refresh_token"]).status_code == 200


def test_the_latest_refresh_token_used_twice_ends_the_session_too(client, make, customer):
    issued = make.login(customer)
    rotated = _refresh(client, issued["refresh_token"]).get_json()
    again = _refresh(client, rotated["refresh_token"]).get_json()

    assert_problem(_refresh(client, rotated["refresh_token"]), 401)

    assert not _works(client, again["access_token"])
    assert_problem(_refresh(client, again["refresh_token"]), 401)


def test_logout_with_a_rotated_token_ends_the_session(client, make, customer):
    issued = make.login(customer)
    rotated = _refresh(client, issued["refresh_token"]).get_json()

    assert client.post("/logout", headers=bearer(rotated["access_token"])).status_code == 204

    assert not _works(client, issued["access_token"])
    assert_problem(_refresh(client, rotated["refresh_token"]), 401)


def test_deactivation_ends_every_session_and_reactivation_revives_none(client, make, customer, admin_headers):
    before = [make.login(customer) for _ in range(2)]
    refreshed = _refresh(client, before[1]["refresh_token"]).get_json()

    assert client.patch(f"/accounts/{customer.id}", json={"is_active": False}, headers=admin_headers).status_code == 200
    assert client.patch(f"/accounts/{customer.id}", json={"is_active": True}, headers=admin_headers).status_code == 200

    for tokens in (*before, refreshed):
        assert not _works(client, tokens["access_token"])
        assert_problem(_refresh(client, tokens["refresh_token"]), 401)
    after = login(client, customer.username)
    assert after.status_code == 200
    assert _works(client, after.get_json()["access_token"])


def test_a_patch_that_keeps_an_account_active_ends_no_session(client, make, customer, admin_headers):
    issued = make.login(customer)

    assert client.patch(f"/accounts/{customer.id}", json={"is_active": True}, headers=admin_headers).status_code == 200

    assert _works(client, issued["access_token"])


# --- on a real server: concurrent uses of one refresh token ---------------------------------------

needs_mariadb = pytest.mark.skipif(mysql_test_url() is None, reason="needs TEST_DATABASE_URL on MySQL/MariaDB")


@pytest.fixture(scope="module")
def live_server():
    """gunicorn, 4 processes x 4 threads, on its own MariaDB database."""
    database = LiveDatabase("sessions")
    database.create()
    server = LiveServer(database.url, workers=4, threads=4).start()
    try:
        yield server
    finally:
        server.stop()
        database.drop()


def _live_login(server, n: int) -> dict:
    name = f"rotate{n}"
    body = {"name": name, "email": f"{name}@example.com", "username": name, "password": PASSWORD}
    assert requests.post(server.url("/register"), json=body, timeout=10).status_code == 201
    response = requests.post(server.url("/login"), json={"username": name, "password": PASSWORD}, timeout=10)
    assert response.status_code == 200
    return response.json()


@pytest.mark.mysql_only
@needs_mariadb
@pytest.mark.parametrize("round_", range(5))
def test_concurrent_uses_of_one_refresh_token_have_one_legal_outcome(live_server, round_):
    issued = _live_login(live_server, round_)
    headers = bearer(issued["refresh_token"])

    responses = together(8, lambda _: requests.post(live_server.url("/token/refresh"), headers=headers, timeout=30))

    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) <= 1 and set(statuses) <= {200, 401}, statuses
    handed_out = [r.json() for r in responses if r.status_code == 200]
    for tokens in (issued, *handed_out):  # reuse ended the session: every token of it is refused
        me = requests.get(live_server.url("/me"), headers=bearer(tokens["access_token"]), timeout=10)
        again = requests.post(live_server.url("/token/refresh"), headers=bearer(tokens["refresh_token"]), timeout=10)
        assert (me.status_code, again.status_code) == (401, 401)


@pytest.fixture
def committing(app):
    """For this test the app uses the real engine, so each thread gets its own connection and
    transaction, as in a server; what the test commits is deleted afterwards."""
    engines = db.engines
    isolated = engines[None]
    db.session.remove()
    engines[None] = isolated.engine
    made = []
    try:
        yield made
    finally:
        db.session.remove()
        with isolated.engine.begin() as conn:
            for account_id, customer_id, revoked in made:
                for jti in revoked:
                    conn.execute(sa.text("DELETE FROM revoked_tokens WHERE jti = :jti"), {"jti": jti})
                conn.execute(sa.text("DELETE FROM accounts WHERE id = :id"), {"id": account_id})
                conn.execute(sa.text("DELETE FROM customers WHERE id = :id"), {"id": customer_id})
        engines[None] = isolated


@pytest.mark.mysql_only
@needs_mariadb
def test_concurrent_uses_of_one_refresh_token_in_process(committing, app, client, make):
    account = make.customer()
    issued = make.login(account)
    claims = pyjwt.decode(issued["refresh_token"], options={"verify_signature": False})
    committing.append((account.id, account.customer_id, (claims["sid"], claims["jti"])))

    def use(_):
        with app.test_client() as own:
            response = own.post("/token/refresh", headers=bearer(issued["refresh_token"]))
            return response.status_code, response.get_json()

    outcomes = together(6, use)

    statuses = sorted(status for status, _ in outcomes)
    assert statuses.count(200) <= 1 and set(statuses) <= {200, 401}, statuses
    db.session.remove()  # this thread's requests share one session: end its snapshot, as a request's teardown does
    for tokens in [issued] + [body for status, body in outcomes if status == 200]:
        assert not _works(client, tokens["access_token"])
        assert_problem(_refresh(client, tokens["refresh_token"]), 401)
