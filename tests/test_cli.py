"""The two commands: `flask create-admin` and `flask seed`."""

import pytest

from app.commands import DEMO_ADMIN, DEMO_CUSTOMER
from tests.conftest import PASSWORD, assert_problem, bearer, login, row_counts

pytestmark = pytest.mark.usefixtures("no_secrets")

ADMIN_PASSWORD = "admin-secret-pass"


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_create_admin_with_options_makes_a_working_admin(runner, client):
    result = runner.invoke(
        args=["create-admin", "--username", "Boss", "--email", "Boss@Example.com", "--password", ADMIN_PASSWORD]
    )

    assert result.exit_code == 0, result.output
    assert "boss" in result.output
    assert ADMIN_PASSWORD not in result.output
    response = login(client, "boss@example.com", ADMIN_PASSWORD)
    assert response.status_code == 200
    headers = bearer(response.get_json()["access_token"])
    me = client.get("/me", headers=headers).get_json()
    assert me["account"]["role"] == "admin"
    assert me["customer"]["email"] == "boss@example.com"
    assert client.get("/accounts", headers=headers).status_code == 200


def test_create_admin_prompts_for_what_is_missing_and_hides_the_password(runner, client):
    result = runner.invoke(
        args=["create-admin", "--username", "boss"], input=f"boss@example.com\n{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n"
    )

    assert result.exit_code == 0, result.output
    assert "Email:" in result.output
    assert "Password:" in result.output and "Repeat for confirmation:" in result.output
    assert ADMIN_PASSWORD not in result.output
    assert login(client, "boss", ADMIN_PASSWORD).status_code == 200


def test_create_admin_prompts_for_everything(runner, client):
    result = runner.invoke(args=["create-admin"], input=f"boss\nboss@example.com\n{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n")

    assert result.exit_code == 0, result.output
    assert "Username:" in result.output
    assert login(client, "boss", ADMIN_PASSWORD).status_code == 200


def test_create_admin_asks_again_when_the_passwords_differ(runner, client):
    result = runner.invoke(
        args=["create-admin", "--username", "boss", "--email", "boss@example.com"],
        input=f"{ADMIN_PASSWORD}\ntypo-typo-typo\n{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert login(client, "boss", ADMIN_PASSWORD).status_code == 200


@pytest.mark.parametrize(
    "args, message",
    [
        (["--username", "boss", "--email", "not-an-email", "--password", ADMIN_PASSWORD], "email"),
        (["--username", "b", "--email", "boss@example.com", "--password", ADMIN_PASSWORD], "username"),
        (["--username", "boss@home", "--email", "boss@example.com", "--password", ADMIN_PASSWORD], "username"),
        (["--username", "boss", "--email", "boss@example.com", "--password", "short"], "password"),
        (["--username", "boss", "--email", "boss@example.com", "--password", "p" * 73], "72 bytes"),
        (["--username", "boss", "--email", "boss@example.com", "--password", "é" * 37], "72 bytes"),
    ],
    ids=["bad-email", "short-username", "username-with-at", "short-password", "73-bytes", "74-bytes-37-chars"],
)
def test_create_admin_bad_values_are_refused_and_write_nothing(runner, args, message):
    before = row_counts()

    result = runner.invoke(args=["create-admin", *args])

    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert row_counts() == before


@pytest.mark.parametrize(
    "args, message",
    [
        (["--username", "TAKEN", "--email", "fresh@example.com"], "taken"),
        (["--username", "fresh", "--email", "Taken@Example.com"], "already registered"),
    ],
    ids=["username", "email"],
)
def test_create_admin_duplicates_are_refused_and_write_nothing(runner, make, args, message):
    make.customer(username="taken", email="taken@example.com")
    before = row_counts()

    result = runner.invoke(args=["create-admin", *args, "--password", ADMIN_PASSWORD])

    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert row_counts() == before


def test_seed_makes_the_demo_accounts_the_readme_prints(runner, client):
    result = runner.invoke(args=["seed"])

    assert result.exit_code == 0, result.output
    assert f"{DEMO_ADMIN['username']} / {DEMO_ADMIN['password']}" in result.output
    assert f"{DEMO_CUSTOMER['username']} / {DEMO_CUSTOMER['password']}" in result.output
    admin = login(client, DEMO_ADMIN["username"], DEMO_ADMIN["password"])
    customer = login(client, DEMO_CUSTOMER["username"], DEMO_CUSTOMER["password"])
    assert admin.status_code == customer.status_code == 200
    admin_headers = bearer(admin.get_json()["access_token"])
    assert client.get("/accounts", headers=admin_headers).status_code == 200
    me = client.get("/me", headers=bearer(customer.get_json()["access_token"])).get_json()
    assert (me["account"]["role"], me["customer"]["email"]) == ("customer", DEMO_CUSTOMER["email"])


def test_seed_twice_changes_nothing_the_second_time(runner):
    first = runner.invoke(args=["seed"])
    after_first = row_counts()

    second = runner.invoke(args=["seed"])

    assert first.exit_code == second.exit_code == 0, second.output
    assert "demo admin: created" in first.output and "demo customer: created" in first.output
    assert "demo admin: kept" in second.output and "demo customer: kept" in second.output
    assert row_counts() == after_first


def test_seed_keeps_a_demo_password_someone_changed(runner, client, no_secrets):
    assert runner.invoke(args=["seed"]).exit_code == 0
    token = login(client, DEMO_CUSTOMER["username"], DEMO_CUSTOMER["password"]).get_json()["access_token"]
    changed = client.put(
        "/me/password",
        json={"current_password": DEMO_CUSTOMER["password"], "new_password": PASSWORD},
        headers=bearer(token),
    )
    assert changed.status_code == 204

    assert runner.invoke(args=["seed"]).exit_code == 0

    assert login(client, DEMO_CUSTOMER["username"], PASSWORD).status_code == 200


def test_seed_when_a_demo_email_is_already_used_reports_it_and_goes_on(runner, client, make):
    make.customer(username="someone-else", email=DEMO_CUSTOMER["email"])
    before = row_counts()

    result = runner.invoke(args=["seed"])

    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert f"demo customer: not created (The email '{DEMO_CUSTOMER['email']}' is already registered.)" in result.output
    assert f"Demo customer: {DEMO_CUSTOMER['username']} /" not in result.output
    assert_problem(login(client, DEMO_CUSTOMER["username"], DEMO_CUSTOMER["password"]), 401)
    assert login(client, DEMO_ADMIN["username"], DEMO_ADMIN["password"]).status_code == 200
    after = row_counts()
    assert (after["customers"], after["accounts"]) == (before["customers"] + 1, before["accounts"] + 1)  # the admin
