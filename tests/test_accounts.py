"""Login accounts: the admin list and create, self/admin read, update and delete (docs/api.md "Auth and accounts")."""

import json
import subprocess

import pytest
import requests
from sqlalchemy import text

from tests.conftest import PASSWORD, assert_problem, bearer, login, row_counts, together
from tests.live import ROOT, VENV_BIN, LiveDatabase, LiveServer, mysql_test_url

pytestmark = pytest.mark.usefixtures("no_secrets")

OTHER_PASSWORD = "another-good-password"


# --- GET /accounts ------------------------------------------------------------------------------


def test_list_accounts_is_a_page_with_link_header(client, make, admin, admin_headers):
    for _ in range(4):
        make.customer()  # 5 accounts with the admin

    response = client.get("/accounts?per_page=2", headers=admin_headers)

    assert response.status_code == 200
    body = response.get_json()
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (1, 2, 5, 3)
    assert body["items"][0]["username"] == admin.username
    assert set(body["items"][0]) == {"id", "username", "role", "is_active", "customer_id", "created_at", "updated_at"}
    links = response.headers["Link"]
    assert '<http://localhost/accounts?page=1&per_page=2>; rel="first"' in links
    assert '<http://localhost/accounts?page=2&per_page=2>; rel="next"' in links
    assert '<http://localhost/accounts?page=3&per_page=2>; rel="last"' in links
    assert 'rel="prev"' not in links
    last = client.get("/accounts?per_page=2&page=3", headers=admin_headers)
    assert len(last.get_json()["items"]) == 1
    assert 'rel="next"' not in last.headers["Link"]
    assert '<http://localhost/accounts?page=2&per_page=2>; rel="prev"' in last.headers["Link"]


@pytest.mark.parametrize(
    "query, field",
    [
        ("per_page=101", "per_page"),
        ("per_page=0", "per_page"),
        ("page=0", "page"),
        ("page=x", "page"),
        ("per_page=", "per_page"),
        ("page=99999999999", "page"),
    ],
)
def test_list_accounts_bad_page_is_400(client, admin_headers, query, field):
    assert_problem(client.get(f"/accounts?{query}", headers=admin_headers), 400, field)


def test_list_accounts_per_page_100_is_allowed(client, admin_headers):
    response = client.get("/accounts?per_page=100", headers=admin_headers)

    assert response.status_code == 200
    assert response.get_json()["per_page"] == 100


def test_accounts_admin_routes_are_403_for_customers_and_401_anonymous(client, customer_headers):
    before = row_counts()

    assert_problem(client.get("/accounts", headers=customer_headers), 403)
    assert_problem(
        client.post("/accounts", json={"username": "x-y-z", "password": PASSWORD}, headers=customer_headers), 403
    )
    assert_problem(client.get("/accounts"), 401)
    assert_problem(client.post("/accounts", json={"username": "x-y-z", "password": PASSWORD}), 401)
    assert row_counts() == before


# --- POST /accounts -----------------------------------------------------------------------------


def test_admin_creates_a_staff_account_without_customer(client, admin_headers):
    response = client.post("/accounts", json={"username": "Staff.One", "password": PASSWORD}, headers=admin_headers)

    assert response.status_code == 201
    body = response.get_json()
    assert (body["username"], body["role"], body["is_active"], body["customer"]) == (
        "staff.one",
        "customer",
        True,
        None,
    )
    assert response.headers["Location"] == f"/accounts/{body['id']}"
    assert login(client, "staff.one").status_code == 200


def test_admin_creates_an_account_for_an_existing_customer(client, make, admin_headers):
    customer = client.post("/customers", json={"name": "No Login", "email": "nologin@example.com"}).get_json()

    response = client.post(
        "/accounts",
        json={"username": "nologin", "password": PASSWORD, "customer_id": customer["id"]},
        headers=admin_headers,
    )

    assert response.status_code == 201
    body = response.get_json()
    assert body["customer_id"] == customer["id"]
    assert body["customer"]["email"] == "nologin@example.com"
    me = client.get("/me", headers=make.headers("nologin@example.com")).get_json()
    assert me["customer"]["id"] == customer["id"]


def test_admin_creates_another_admin(client, make, admin_headers):
    response = client.post(
        "/accounts", json={"username": "second-admin", "password": PASSWORD, "role": "admin"}, headers=admin_headers
    )

    assert response.get_json()["role"] == "admin"
    assert client.get("/accounts", headers=make.headers("second-admin")).status_code == 200


def test_create_account_conflicts(client, make, admin_headers):
    owner = make.customer()
    before = row_counts()

    taken_name = client.post(
        "/accounts", json={"username": owner.username.upper(), "password": PASSWORD}, headers=admin_headers
    )
    second_account = client.post(
        "/accounts",
        json={"username": "second-login", "password": PASSWORD, "customer_id": owner.customer_id},
        headers=admin_headers,
    )
    no_customer = client.post(
        "/accounts", json={"username": "orphan", "password": PASSWORD, "customer_id": 999999}, headers=admin_headers
    )

    assert_problem(taken_name, 409, "username")
    assert_problem(second_account, 409, "customer_id")
    assert_problem(no_customer, 404)
    assert row_counts() == before


BAD_ACCOUNTS = [
    ("missing-username", {"username": ...}, "username"),
    ("missing-password", {"password": ...}, "password"),
    ("customer_id-1.5", {"customer_id": 1.5}, "customer_id"),
    ("customer_id-string", {"customer_id": "2"}, "customer_id"),
    ("customer_id-bool", {"customer_id": True}, "customer_id"),
    ("customer_id-0", {"customer_id": 0}, "customer_id"),
    ("customer_id-overflow", {"customer_id": 2**31}, "customer_id"),
    ("role-unknown", {"role": "superuser"}, "role"),
    ("role-number", {"role": 1}, "role"),
    ("unknown-is_active", {"is_active": False}, "is_active"),
    ("unknown-password_hash", {"password_hash": "$2b$04$abc"}, "password_hash"),
    ("username-51", {"username": "a" * 51}, "username"),
    ("username-with-at", {"username": "staff@shop"}, "username"),
    ("password-short", {"password": "1234567"}, "password"),
    ("password-73-bytes", {"password": "€" * 24 + "x"}, "password"),
    ("username-surrogate", {"username": "st\ud800ff"}, "username"),
    ("username-emoji", {"username": "staff📚"}, "username"),
]


@pytest.mark.parametrize("overrides, field", [b[1:] for b in BAD_ACCOUNTS], ids=[b[0] for b in BAD_ACCOUNTS])
def test_create_account_bad_input_is_400_and_writes_nothing(client, admin_headers, overrides, field):
    body = {k: v for k, v in {"username": "staff", "password": PASSWORD, **overrides}.items() if v is not ...}
    before = row_counts()

    response = client.post("/accounts", data=json.dumps(body), content_type="application/json", headers=admin_headers)

    assert_problem(response, 400, field)
    assert row_counts() == before


def test_create_account_non_json_is_415(client, admin_headers):
    response = client.post("/accounts", data="username=staff", content_type="text/plain", headers=admin_headers)

    assert_problem(response, 415)


# --- GET /accounts/{id} -------------------------------------------------------------------------


def test_read_own_account_with_its_customer(client, customer, customer_headers):
    response = client.get(f"/accounts/{customer.id}", headers=customer_headers)

    assert response.status_code == 200
    body = response.get_json()
    assert body["username"] == customer.username
    assert body["customer"]["id"] == customer.customer_id


def test_admin_reads_any_account(client, customer, admin_headers):
    response = client.get(f"/accounts/{customer.id}", headers=admin_headers)

    assert response.get_json()["username"] == customer.username


def test_unknown_account_is_404(client, admin_headers):
    assert_problem(client.get("/accounts/999999", headers=admin_headers), 404)


# --- PUT / PATCH /accounts/{id} -----------------------------------------------------------------


def test_rename_own_account(client, customer, customer_headers):
    old_name = customer.username

    response = client.patch(f"/accounts/{customer.id}", json={"username": "Renamed"}, headers=customer_headers)

    assert response.status_code == 200
    assert response.get_json()["username"] == "renamed"
    assert login(client, "renamed").status_code == 200
    assert_problem(login(client, old_name), 401)


def test_put_account_needs_username(client, customer, customer_headers):
    response = client.put(f"/accounts/{customer.id}", json={}, headers=customer_headers)

    assert_problem(response, 400, "username")


def test_put_account_replaces_username(client, customer, customer_headers):
    response = client.put(f"/accounts/{customer.id}", json={"username": "put-name"}, headers=customer_headers)

    assert response.get_json()["username"] == "put-name"


def test_own_password_change_needs_the_current_password(client, customer, customer_headers, no_secrets):
    no_secrets.add(OTHER_PASSWORD)
    url = f"/accounts/{customer.id}"

    without = client.patch(url, json={"password": OTHER_PASSWORD}, headers=customer_headers)
    wrong = client.patch(
        url, json={"password": OTHER_PASSWORD, "current_password": "not-it-at-all"}, headers=customer_headers
    )
    right = client.patch(url, json={"password": OTHER_PASSWORD, "current_password": PASSWORD}, headers=customer_headers)

    assert_problem(without, 400, "current_password")
    assert_problem(wrong, 400, "current_password")
    assert right.status_code == 200
    assert login(client, customer.username, OTHER_PASSWORD).status_code == 200
    assert_problem(login(client, customer.username), 401)


def test_admin_sets_someone_elses_password_without_theirs(client, customer, admin_headers, no_secrets):
    no_secrets.add(OTHER_PASSWORD)

    response = client.patch(f"/accounts/{customer.id}", json={"password": OTHER_PASSWORD}, headers=admin_headers)

    assert response.status_code == 200
    assert login(client, customer.username, OTHER_PASSWORD).status_code == 200


def test_admin_own_password_change_needs_the_current_password(client, admin, admin_headers):
    response = client.patch(f"/accounts/{admin.id}", json={"password": OTHER_PASSWORD}, headers=admin_headers)

    assert_problem(response, 400, "current_password")
    assert login(client, admin.username).status_code == 200


@pytest.mark.parametrize(
    "body",
    [{"role": "admin"}, {"role": "customer"}, {"is_active": False}, {"is_active": True}],
    ids=["promote", "role-same", "deactivate", "is_active-same"],
)
def test_customer_sending_role_or_is_active_is_403_and_changes_nothing(client, customer, customer_headers, body):
    url = f"/accounts/{customer.id}"
    before = client.get(url, headers=customer_headers).get_json()

    patched = client.patch(url, json={"username": "sneaky", **body}, headers=customer_headers)
    put = client.put(url, json={"username": "sneaky", **body}, headers=customer_headers)

    assert_problem(patched, 403)
    assert_problem(put, 403)
    assert client.get(url, headers=customer_headers).get_json() == before
    assert_problem(client.get("/accounts", headers=customer_headers), 403)


def test_admin_promotes_a_customer_and_it_takes_effect_at_once(client, customer, customer_headers, admin_headers):
    response = client.patch(f"/accounts/{customer.id}", json={"role": "admin"}, headers=admin_headers)

    assert response.get_json()["role"] == "admin"
    assert client.get("/accounts", headers=customer_headers).status_code == 200


def test_rename_to_a_taken_username_is_409(client, make, customer, customer_headers):
    other = make.customer()

    response = client.patch(f"/accounts/{customer.id}", json={"username": other.username}, headers=customer_headers)

    assert_problem(response, 409, "username")
    assert login(client, customer.username).status_code == 200


@pytest.mark.parametrize(
    "body, field",
    [
        ({"username": "ab"}, "username"),
        ({"username": "u" * 51}, "username"),
        ({"username": 12345}, "username"),
        ({"username": "a\ud800bc"}, "username"),
        ({"password": "short", "current_password": PASSWORD}, "password"),
        ({"password": "p" * 73, "current_password": PASSWORD}, "password"),
        ({"customer_id": 2}, "customer_id"),
        ({"email": "new@example.com"}, "email"),
    ],
    ids=[
        "username-short",
        "username-long",
        "username-number",
        "username-surrogate",
        "password-short",
        "password-73-bytes",
        "customer_id",
        "email",
    ],
)
def test_patch_account_bad_input_is_400_and_changes_nothing(client, customer, customer_headers, body, field):
    url = f"/accounts/{customer.id}"
    before = client.get(url, headers=customer_headers).get_json()

    response = client.patch(url, data=json.dumps(body), content_type="application/json", headers=customer_headers)

    assert_problem(response, 400, field)
    assert client.get(url, headers=customer_headers).get_json() == before


@pytest.mark.parametrize("value", ["false", 0, None, "no"])
def test_is_active_must_be_a_json_boolean(client, customer, admin_headers, value):
    response = client.patch(f"/accounts/{customer.id}", json={"is_active": value}, headers=admin_headers)

    assert_problem(response, 400, "is_active")
    assert login(client, customer.username).status_code == 200


# --- DELETE /accounts/{id} ----------------------------------------------------------------------


def test_delete_own_account_keeps_the_customer(client, customer, customer_headers, admin_headers):
    response = client.delete(f"/accounts/{customer.id}", headers=customer_headers)

    assert response.status_code == 204
    assert response.get_data() == b""
    assert_problem(login(client, customer.username), 401)
    kept = client.get(f"/customers/{customer.customer_id}", headers=admin_headers)
    assert kept.status_code == 200
    assert_problem(client.get(f"/accounts/{customer.id}", headers=admin_headers), 404)


def test_admin_deletes_an_account(client, customer, admin_headers):
    assert client.delete(f"/accounts/{customer.id}", headers=admin_headers).status_code == 204

    assert_problem(login(client, customer.username), 401)


# --- ownership ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, body",
    [("get", None), ("put", {"username": "hijacked"}), ("patch", {"username": "hijacked"}), ("delete", None)],
)
def test_someone_elses_account_is_404_and_untouched(client, make, admin_headers, method, body):
    victim, attacker = make.customer(), make.customer()
    attacker_headers = make.headers(attacker)

    response = getattr(client, method)(f"/accounts/{victim.id}", json=body, headers=attacker_headers)

    assert_problem(response, 404)
    assert client.get(f"/accounts/{victim.id}", headers=admin_headers).get_json()["username"] == victim.username
    assert login(client, victim.username).status_code == 200


def test_customer_cannot_reach_an_admin_account(client, admin, customer_headers):
    assert_problem(client.get(f"/accounts/{admin.id}", headers=customer_headers), 404)
    assert_problem(client.patch(f"/accounts/{admin.id}", json={"is_active": False}, headers=customer_headers), 404)


# --- the last admin -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, url, body",
    [
        ("patch", "/accounts/{id}", {"role": "customer"}),
        ("patch", "/accounts/{id}", {"is_active": False}),
        ("put", "/accounts/{id}", {"username": "still-me", "role": "customer"}),
        ("delete", "/accounts/{id}", None),
        ("delete", "/customers/{customer_id}", None),
    ],
    ids=["demote", "deactivate", "put-demote", "delete-account", "delete-customer"],
)
def test_the_last_admin_cannot_be_removed(client, admin, admin_headers, method, url, body):
    url = url.format(id=admin.id, customer_id=admin.customer_id)

    response = getattr(client, method)(url, json=body, headers=admin_headers)

    assert_problem(response, 409)
    me = client.get("/me", headers=admin_headers).get_json()["account"]
    assert (me["role"], me["is_active"]) == ("admin", True)


def test_an_admin_can_step_down_when_another_is_active(client, make, admin, admin_headers):
    other = make.admin()

    response = client.patch(f"/accounts/{admin.id}", json={"role": "customer"}, headers=admin_headers)

    assert response.get_json()["role"] == "customer"
    assert_problem(client.get("/accounts", headers=admin_headers), 403)
    # now `other` is the last one
    other_headers = make.headers(other)
    assert_problem(client.delete(f"/accounts/{other.id}", headers=other_headers), 409)


def test_a_deactivated_admin_does_not_count(client, make, admin, admin_headers):
    other = make.admin()
    assert client.patch(f"/accounts/{other.id}", json={"is_active": False}, headers=admin_headers).status_code == 200

    assert_problem(client.patch(f"/accounts/{admin.id}", json={"role": "customer"}, headers=admin_headers), 409)


# --- on a real server: several processes and real row locks (MariaDB only) ----------------------

needs_mariadb = pytest.mark.skipif(mysql_test_url() is None, reason="needs TEST_DATABASE_URL on MySQL/MariaDB")
ROUNDS = 25


@pytest.fixture(scope="module")
def two_live_admins():
    database = LiveDatabase("accounts_live")
    engine = database.create()
    server = LiveServer(database.url, workers=4, threads=4).start()
    try:
        for name in ("first-admin", "second-admin"):
            subprocess.run(
                [
                    str(VENV_BIN / "flask"),
                    "create-admin",
                    "--username",
                    name,
                    "--email",
                    f"{name}@example.com",
                    "--password",
                    PASSWORD,
                ],
                cwd=ROOT,
                env={**server.env, "FLASK_APP": "run.py"},
                check=True,
                capture_output=True,
                timeout=60,
            )
        admins = []
        for name in ("first-admin", "second-admin"):
            body = requests.post(server.url("/login"), json={"username": name, "password": PASSWORD}, timeout=10).json()
            me = requests.get(server.url("/me"), headers=bearer(body["access_token"]), timeout=10).json()
            admins.append((me["account"]["id"], bearer(body["access_token"])))
        yield server, engine, admins
    finally:
        server.stop()
        database.drop()


def _active_admins(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT COUNT(*) FROM accounts WHERE role = 'admin' AND is_active = 1")).scalar_one()


def _restore_admins(engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("UPDATE accounts SET role = 'admin', is_active = 1"))


@pytest.mark.parametrize(
    "change, target",
    [({"is_active": False}, "other"), ({"role": "customer"}, "self"), ({"role": "customer"}, "other")],
    ids=["deactivate-each-other", "both-step-down", "demote-each-other"],
)
@pytest.mark.slow
@pytest.mark.mysql_only
@needs_mariadb
def test_two_admins_at_once_never_leave_no_admin(two_live_admins, change, target):
    server, engine, admins = two_live_admins
    for _ in range(ROUNDS):
        _restore_admins(engine)
        calls = []
        for i, (own_id, headers) in enumerate(admins):
            target_id = own_id if target == "self" else admins[1 - i][0]
            url = server.url(f"/accounts/{target_id}")
            calls.append(lambda url=url, headers=headers: requests.patch(url, json=change, headers=headers, timeout=30))

        responses = together(len(calls), lambda i: calls[i]())

        codes = sorted(r.status_code for r in responses)
        assert _active_admins(engine) == 1, codes
        # the loser is refused as the last admin (409), or is already no admin: a customer
        # cannot see the other account (404), a deactivated account's token is refused (401)
        assert codes[0] == 200 and codes[1] in (401, 404, 409), codes
