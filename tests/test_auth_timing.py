"""A failing login takes as long whatever the reason: the time must not tell whether an account exists."""

import statistics
import time

import pytest

from tests.conftest import PASSWORD, login

# bcrypt cost for this test only: one check then takes ~15 ms, well above the noise of a request
# on a loaded machine, so a second check (or none) would show as a ratio near 2 (or near 0).
ROUNDS = 8
ATTEMPTS = 30  # rounds of one attempt of each kind, so a burst of load hits every kind alike
MAX_RATIO = 1.3


@pytest.fixture
def costly_bcrypt(app, monkeypatch):
    monkeypatch.setitem(app.config, "BCRYPT_ROUNDS", ROUNDS)
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "100000 per minute")
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_RATE_LIMIT", "100000 per minute")


@pytest.mark.owasp("API2")
def test_every_failing_login_costs_the_same_as_a_wrong_password(client, make, admin_headers, costly_bcrypt):
    account = make.customer(email="timed@example.com")
    retired = make.customer()
    response = client.patch(f"/accounts/{retired.id}", json={"is_active": False}, headers=admin_headers)
    assert response.status_code == 200
    attempts = {
        "wrong password": (account.username, "not-the-password"),
        "unknown username": ("nobody-at-all", "not-the-password"),
        "unknown email": ("nobody@example.com", "not-the-password"),
        "deactivated account": (retired.username, PASSWORD),
        "password over 72 bytes": (account.username, "x" * 100),
    }
    for username, password in attempts.values():  # warm-up: caches, the first dummy hash
        assert login(client, username, password).status_code == 401
    ratios = {kind: [] for kind in attempts}

    for i in range(ATTEMPTS):
        kinds = list(attempts) if i % 2 else list(reversed(attempts))
        took = {}
        for kind in kinds:
            started = time.perf_counter()
            response = login(client, *attempts[kind])
            took[kind] = time.perf_counter() - started
            assert response.status_code == 401, (kind, response.get_json())
        for kind in attempts:  # against the wrong password of the same round, under the same load
            ratios[kind].append(took[kind] / took["wrong password"])

    medians = {kind: round(statistics.median(values), 2) for kind, values in ratios.items()}
    assert all(1 / MAX_RATIO <= median <= MAX_RATIO for median in medians.values()), medians
