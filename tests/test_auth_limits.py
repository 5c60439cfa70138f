"""Rate limits count the account, not the typed string; the email/username oracles are limited;
RATELIMIT_ENABLED=false turns every limit off."""

import json
import subprocess
import sys

import pytest

from tests.conftest import PASSWORD, assert_problem, bearer, login
from tests.live import ROOT

pytestmark = pytest.mark.owasp("API4")

# Spellings of "ada" and of its email that designate the same account.
VARIANTS = [
    "ada",
    "ADA",
    " Ada ",
    "ａｄａ",  # full-width
    "a\u0301d\u0308a",  # combining marks
    "ÀDÄ",  # precomposed accents
    "ada@example.com",
    "ADA@Example.COM",
    "ａｄａ",
    "ada",
]


@pytest.fixture
def ada(make):
    return make.customer(username="ada", email="ada@example.com")


def test_every_spelling_of_an_account_logs_in_to_it(client, ada):
    for variant in ("ADA", "ａｄａ", "a\u0301d\u0308a", "ÀDÄ", "ADA@example.com"):
        response = login(client, variant)
        assert response.status_code == 200, (variant, response.get_json())
        me = client.get("/me", headers=bearer(response.get_json()["access_token"])).get_json()
        assert me["account"]["id"] == ada.id


def test_every_spelling_of_an_account_draws_from_one_bucket(client, make, ada):
    bystander = make.customer()
    for variant in VARIANTS:  # 10 = LOGIN_RATE_LIMIT
        assert login(client, variant, "guessing-wrong").status_code == 401, variant

    for variant in ("Ada", "ａｄａ", "ada@EXAMPLE.com"):
        response = login(client, variant)  # the right password, too late
        body = assert_problem(response, 429)
        assert body["type"] == "/problems/rate-limited"
        assert 1 <= int(response.headers["Retry-After"]) <= 61
    assert login(client, bystander.username).status_code == 200


def test_a_name_of_no_account_is_limited_as_an_account_is(client, make, ada):
    """Nothing tells the two apart: a bucket shared by unknown names only would, once spent,
    answer 429 for them and 401 for real accounts."""
    for name in ("ada", "nobody"):
        for _ in range(10):
            assert login(client, name, "guessing-wrong").status_code == 401
    unknown, known = login(client, "NOBODY", "guessing-wrong"), login(client, "ADA", "guessing-wrong")

    assert_problem(unknown, 429)
    assert_problem(known, 429)
    assert unknown.get_json()["detail"] == known.get_json()["detail"]
    assert_problem(login(client, "somebody-else", "guessing-wrong"), 401)
    assert login(client, make.customer().username).status_code == 200


def test_every_attempt_of_an_address_draws_from_one_address_bucket(app, client, ada, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_RATE_LIMIT", "15 per minute")
    for i in range(15):
        assert login(client, f"nobody-{i}", "guessing-wrong").status_code == 401

    response = login(client, "nobody-else", "guessing-wrong")
    body = assert_problem(response, 429)
    assert body["type"] == "/problems/rate-limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 61
    assert_problem(login(client, "ada"), 429)  # the right password of a real account too
    other_address = client.post(
        "/login", json={"username": "ada", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.9.8.7"}
    )
    assert other_address.status_code == 200


def test_an_account_has_one_bucket_per_client_address(client, ada):
    for _ in range(10):
        assert login(client, "ada", "guessing-wrong").status_code == 401
    assert_problem(login(client, "ada"), 429)

    elsewhere = client.post(
        "/login", json={"username": "ADA", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.9.8.7"}
    )

    assert elsewhere.status_code == 200


# --- the routes that tell whether an email or username is taken ----------------------------------


@pytest.fixture
def profile_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "PROFILE_RATE_LIMIT", "4 per hour")


def _probes(customer):
    """One probe on each route that answers whether an email or username is taken."""
    return [
        ("patch", "/me", {"email": "taken@example.com"}),
        ("put", f"/accounts/{customer.id}", {"username": "taken"}),
        ("patch", f"/accounts/{customer.id}", {"username": "taken"}),
        ("put", f"/customers/{customer.customer_id}", {"name": "Me", "email": "taken@example.com"}),
        ("patch", f"/customers/{customer.customer_id}", {"email": "taken@example.com"}),
    ]


def test_email_and_username_probes_share_one_limit_per_account(client, make, customer, customer_headers, profile_limit):
    make.customer(username="taken", email="taken@example.com")
    other = make.customer()
    other_headers = make.headers(other)
    probes = _probes(customer)

    answers = [getattr(client, method)(url, json=body, headers=customer_headers) for method, url, body in probes]

    assert [r.status_code for r in answers] == [409, 409, 409, 409, 429]
    body = assert_problem(answers[-1], 429)
    assert body["type"] == "/problems/rate-limited"
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 3601
    for method, url, body in probes:  # every route is closed now, a harmless change too
        assert_problem(getattr(client, method)(url, json=body, headers=customer_headers), 429)
    me = client.get("/me", headers=customer_headers).get_json()
    assert me["customer"]["email"] == customer.customer.email
    assert client.patch("/me", json={"name": "Other"}, headers=other_headers).status_code == 200


def test_admins_are_not_limited_on_profile_changes(client, make, admin, admin_headers, profile_limit):
    target = make.customer()
    make.customer(username="taken", email="taken@example.com")

    statuses = [
        getattr(client, method)(url, json=body, headers=admin_headers).status_code
        for method, url, body in _probes(target) * 2
    ]

    assert statuses == [409] * 10


# --- RATELIMIT_ENABLED --------------------------------------------------------------------------

# Runs in a fresh interpreter: the settings are read from the environment when config.py is imported.
BOOT_AND_LOGIN = """
import json
from flask_migrate import upgrade
from app import create_app
app = create_app("development")
with app.app_context():
    upgrade(directory="migrations")
client = app.test_client()
body = {"name": "Ann", "email": "ann@example.com", "username": "ann", "password": "password-123"}
statuses = [client.post("/register", json=body).status_code]
statuses += [client.post("/login", json={"username": "ann", "password": "wrong-one"}).status_code for _ in range(5)]
statuses.append(client.post("/login", json={"username": "ann", "password": "password-123"}).status_code)
print(json.dumps(statuses))
"""


@pytest.mark.parametrize(
    "enabled, expected", [("true", [201, 401, 401, 401, 429, 429, 429]), ("false", [201, 401, 401, 401, 401, 401, 200])]
)
def test_the_app_boots_with_rate_limits_on_or_off(tmp_path, enabled, expected):
    env = {
        "PATH": "/usr/bin:/bin",
        "APP_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'limits.db'}",
        "RATELIMIT_ENABLED": enabled,
        "LOGIN_RATE_LIMIT": "3 per minute",
        "BCRYPT_ROUNDS": "4",
        "LOG_LEVEL": "WARNING",
    }

    run = subprocess.run(
        [sys.executable, "-c", BOOT_AND_LOGIN], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout.strip().splitlines()[-1]) == expected
