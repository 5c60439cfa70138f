"""axe-core on every page of the web front, at desktop and phone widths, signed in as the role the
page is for: no serious or critical violation.

The pages are read from the app's URL map (every `web.` rule but the assets), so a page added
later is walked without editing this file; a path parameter gets a real id (a book, an order of
the signed-in customer, ...), and a page with an id is walked once more with an id that does not
exist, to check its "not found" state too."""

import pytest
from e2e_support import (
    ADMIN,
    DESKTOP,
    PHONE,
    axe_violations,
    describe_violations,
    log_in,
    screenshot,
    settled,
)

MISSING_ID = 999_999_999


def page_rules(app) -> list[str]:
    rules = [r.rule for r in app.url_map.iter_rules() if r.endpoint.startswith("web.") and r.endpoint != "web.asset"]
    assert rules, "the web blueprint has no pages"
    return sorted(rules)


def _ids(site, token: str) -> dict:
    """A real value for every path parameter a page may take, owned by the signed-in customer."""
    book = site.call("GET", "/books", params={"in_stock": "true", "per_page": 1}, expect=200)["items"][0]
    site.call("POST", "/cart", token, json={"book_id": book["id"], "quantity": 1}, expect=200)
    order = site.call("POST", "/orders", token, json={}, expect=201)
    me = site.call("GET", "/me", token, expect=200)
    return {
        "book_id": book["id"],
        "order_id": order["id"],
        "customer_id": me["customer"]["id"],
        "account_id": me["account"]["id"],
    }


def _paths(rules: list[str], ids: dict) -> list[str]:
    """Each rule with its parameters filled in; a page with an id also with one that is missing."""
    paths = []
    for rule in rules:
        if "<" not in rule:
            paths.append(rule)
            continue
        real, missing = rule, rule
        for part in rule.split("<")[1:]:
            converter = part.split(">", 1)[0]
            name = converter.split(":")[-1]
            assert name in ids, f"no id to walk {rule} with: add {name!r} to _ids()"
            real = real.replace(f"<{converter}>", str(ids[name]))
            missing = missing.replace(f"<{converter}>", str(MISSING_ID))
        paths += [real, missing]
    return paths


def _walk(driver, site, paths: list[str], label: str) -> list[str]:
    failures = []
    for path in paths:
        driver.get(site.url(path))
        settled(driver)
        failures += describe_violations(f"{path} ({label})", axe_violations(driver))
    return failures


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_page_has_no_serious_accessibility_violation(site, app, request, size):
    driver = request.getfixturevalue("browser" if size == DESKTOP else "phone")
    label = "desktop" if size == DESKTOP else "phone"
    rules = page_rules(app)
    shop = [r for r in rules if not r.startswith("/admin")]
    admin = [r for r in rules if r.startswith("/admin")]

    username, password, _answer = site.register("axe")
    ids = _ids(site, site.token(username, password))
    failures = []

    # Signed out: the pages a visitor sees first.
    failures += _walk(driver, site, ["/", "/shop/login", "/shop/register", "/shop/cart"], f"{label}, signed out")

    log_in(driver, site, username, password)
    failures += _walk(driver, site, _paths(shop, ids), f"{label}, customer")
    screenshot(driver, f"axe-{label}-customer-last")

    log_in(driver, site, *ADMIN)
    failures += _walk(driver, site, _paths(admin, ids), f"{label}, admin")
    screenshot(driver, f"axe-{label}-admin-last")

    assert not failures, "axe-core found serious or critical violations:\n" + "\n".join(failures)


def test_the_walk_covers_every_page_of_the_web_blueprint(app):
    rules = page_rules(app)
    paths = _paths(rules, {"book_id": 1, "order_id": 2, "customer_id": 3, "account_id": 4})

    assert "/shop/account" in rules and "/admin" in rules
    assert "/shop/books/1" in paths and f"/shop/books/{MISSING_ID}" in paths
    assert not any("<" in p for p in paths)
    assert not any(p.startswith("/assets") for p in paths)
