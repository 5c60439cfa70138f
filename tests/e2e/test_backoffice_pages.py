"""The back office in a real browser, at desktop and phone widths: the dashboard, an order's page
and its packing slip, the customers list and a customer's page, a book's page with its stock
history, and the report charts at phone width."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from e2e_support import (
    ADMIN,
    at_path,
    find,
    find_all,
    log_in,
    no_horizontal_scroll,
    page_loaded,
    retype,
    screenshot,
    text_in,
    visible,
    wait,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

SIZES = ["browser", "phone"]


@pytest.fixture(params=SIZES)
def screen(request):
    """The same test in a desktop window and in a phone's viewport."""
    driver = request.getfixturevalue(request.param)
    driver.size_name = "desktop" if request.param == "browser" else "phone"
    return driver


def usd(amount: str) -> str:
    return f"${Decimal(amount):,.2f}"


def buttons(d, css: str) -> list[str]:
    return [b.text for b in find_all(d, f"{css} button")]


def paid_order(site, quantity: int = 1) -> tuple[dict, dict]:
    """A paid order of a newly registered customer: (order, the customer's register answer)."""
    username, password, registered = site.register("buyer")
    token = site.token(username, password)
    book = site.call("GET", "/books", params={"in_stock": "true", "sort": "-price", "per_page": 1})["items"][0]
    order = site.call(
        "POST", "/orders", token, json={"items": [{"book_id": book["id"], "quantity": quantity}]}, expect=201
    )
    site.call("PATCH", f"/orders/{order['id']}/status", site.admin_token(), json={"status": "paid"}, expect=200)
    return order, registered


def test_the_dashboard_shows_the_api_numbers(site, screen):
    d = screen
    admin = site.admin_token()
    order, _ = paid_order(site)
    log_in(d, site, *ADMIN)
    at_path(d, r"/admin")
    page_loaded(d, "#dashboard-sales[aria-busy='false']")
    now = datetime.now(UTC).date()
    monday = now - timedelta(days=now.weekday())
    report = site.call(
        "GET", "/reports/sales", admin, params={"from": monday.isoformat(), "to": now.isoformat()}, expect=200
    )
    assert find(d, "#today-revenue").text == usd(report["series"][-1]["revenue"])
    assert find(d, "#today-orders").text == str(report["series"][-1]["orders"])
    assert find(d, "#week-revenue").text == usd(report["totals"]["revenue"])
    assert find(d, "#week-orders").text == str(report["totals"]["orders"])
    assert report["totals"]["orders"] >= 1

    # Waiting orders: the oldest first, with their customer and age, as the API lists them.
    for status in ("pending", "paid"):
        waiting = site.call(
            "GET", "/orders", admin, params={"status": status, "sort": "oldest", "per_page": 5, "embed": "customer"}
        )
        shown = [int(r.get_attribute("data-order-id")) for r in find_all(d, f"#{status}-rows tr")]
        assert shown == [o["id"] for o in waiting["items"]]
        if waiting["items"]:
            first = find(d, f"#{status}-rows tr")
            assert waiting["items"][0]["customer"]["name"] in first.text
            assert any(unit in first.text for unit in ("minute", "hour", "day"))
    # The latest orders start with the one just paid, linked to its admin page.
    latest = visible(d, "#latest-rows tr")
    assert latest.get_attribute("data-order-id") == str(order["id"])
    assert latest.find_element(By.CSS_SELECTOR, "a").get_attribute("href").endswith(f"/admin/orders/{order['id']}")
    visible(d, "#inventory-stats dd")
    assert no_horizontal_scroll(d)
    screenshot(d, f"backoffice-dashboard-{d.size_name}")


def test_an_admin_ships_an_order_from_its_page_and_prints_the_packing_slip(site, screen):
    d = screen
    order, registered = paid_order(site, quantity=2)
    customer = registered["customer"]
    # The orders list finds it by the buyer's email and names the buyer; the order opens its page.
    log_in(d, site, *ADMIN, next_path=f"/admin/orders?q={customer['email']}")
    row = visible(d, f"#orders-rows tr[data-order-id='{order['id']}']")
    assert len(find_all(d, "#orders-rows tr")) == 1 and customer["name"] in row.text
    row.find_element(By.LINK_TEXT, f"Order {order['id']}").click()
    at_path(d, rf"/admin/orders/{order['id']}")
    page_loaded(d, "#admin-order[aria-busy='false']")
    assert find(d, "#customer-name").text == customer["name"]
    assert find(d, "#customer-email").text == customer["email"]
    assert "1 Test Street" in find(d, "#order-address").text
    assert find(d, "#order-total").text == usd(order["total"])
    assert order["items"][0]["title"] in find(d, "#order-lines").text
    assert buttons(d, "#order-actions") == ["Mark shipped", "Cancel order"]

    # Cancel asks first; saying no changes nothing.
    find(d, "#order-actions button[data-status='cancelled']").click()
    alert = wait(d, lambda d: d.switch_to.alert)
    assert f"Cancel order {order['id']}?" in alert.text
    alert.dismiss()
    assert site.call("GET", f"/orders/{order['id']}", site.admin_token())["status"] == "paid"

    find(d, "#order-actions button[data-status='shipped']").click()
    text_in(d, "#page-status", f"Order {order['id']} is now shipped.")
    wait(d, lambda d: buttons(d, "#order-actions") == ["Mark delivered"], message="the moves were not redrawn")
    assert [li.text.split(" ")[0] for li in find_all(d, "#order-history li")] == ["Pending", "Paid", "Shipped"]
    assert "Expected delivery" in find(d, "#order-delivery").text
    assert site.call("GET", f"/orders/{order['id']}", site.admin_token())["status"] == "shipped"
    assert no_horizontal_scroll(d)
    screenshot(d, f"backoffice-order-{d.size_name}")

    # The packing slip: address, titles and quantities; printing hides the site's header.
    find(d, "#packing-slip-link").click()
    at_path(d, rf"/admin/orders/{order['id']}/packing-slip")
    page_loaded(d, "#packing-slip[aria-busy='false']")
    assert "1 Test Street" in find(d, "#slip-address").text
    line = find(d, "#slip-lines tr")
    assert line.text.startswith("2 ") and order["items"][0]["title"] in line.text
    assert find(d, "#slip-count").text == "2"
    d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert not find(d, ".site-header").is_displayed()
        assert not find(d, "#print-slip").is_displayed()
        assert find(d, "#slip-address").is_displayed()
        screenshot(d, f"backoffice-packing-slip-{d.size_name}")
    finally:
        d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def test_the_customers_list_shows_accounts_and_a_customer_page_deactivates_and_reactivates(site, screen):
    d = screen
    username, password, registered = site.register("member")
    customer_id = registered["customer"]["id"]
    log_in(d, site, *ADMIN, next_path=f"/admin/customers?q={username}")
    row = visible(d, f"#customers-rows tr[data-customer-id='{customer_id}']")
    assert len(find_all(d, "#customers-rows tr")) == 1
    for text in (registered["customer"]["name"], f"{username}@example.com", username, "customer", "Active"):
        assert text in row.text
    row.find_element(By.LINK_TEXT, registered["customer"]["name"]).click()
    at_path(d, rf"/admin/customers/{customer_id}")
    page_loaded(d, "#admin-customer[aria-busy='false']")
    assert find(d, "#customer-heading").text == registered["customer"]["name"]
    assert find(d, "#account-username").text == username
    assert find(d, "#totals-orders").text == "0"

    # Change the role and back.
    Select(find(d, "#role-form-role")).select_by_value("admin")
    find(d, "#role-form button[type=submit]").click()
    text_in(d, "#page-status", f"{username} is now an admin.")
    assert find(d, "#account-role").text == "admin"
    Select(find(d, "#role-form-role")).select_by_value("customer")
    find(d, "#role-form button[type=submit]").click()
    text_in(d, "#page-status", f"{username} is now a customer.")

    # Deactivate (after a confirmation): the login is refused; reactivate: it works again.
    find(d, "#account-toggle").click()
    alert = wait(d, lambda d: d.switch_to.alert)
    assert username in alert.text
    alert.accept()
    text_in(d, "#page-status", f"{username} is deactivated.")
    assert "Deactivated" in find(d, "#account-state").text
    assert find(d, "#account-toggle").text == "Reactivate account"
    r = site.http.post(site.url("/login"), json={"username": username, "password": password}, timeout=10)
    assert r.status_code == 401
    find(d, "#account-toggle").click()
    text_in(d, "#page-status", f"{username} is active again.")
    assert find(d, "#account-state").text == "Active"
    r = site.http.post(site.url("/login"), json={"username": username, "password": password}, timeout=10)
    assert r.status_code == 200
    assert no_horizontal_scroll(d)
    screenshot(d, f"backoffice-customer-{d.size_name}")


def test_a_books_page_draws_its_stock_history_after_a_restock_and_a_sale(site, screen):
    d = screen
    admin = site.admin_token()
    title = f"Stock Chart {datetime.now(UTC).strftime('%H%M%S%f')}"
    book = site.call(
        "POST", "/books", admin, json={"title": title, "author": "E2E", "price": "8.00", "stock": 2}, expect=201
    )
    log_in(d, site, *ADMIN, next_path=f"/admin/books/{book['id']}")
    page_loaded(d, "#stock-history[aria-busy='false']")
    assert find(d, "#book-heading").text == title
    restock = find(d, "#stock-forms form:nth-of-type(2)")
    retype(restock.find_element(By.CSS_SELECTOR, "input[name=quantity]"), "5")
    restock.find_element(By.CSS_SELECTOR, "button").click()
    text_in(d, "#page-status", f"Restocked “{title}”: 7 copies in stock now.")
    text_in(d, "#book-stock", "7 copies")

    # A customer buys 3; the page shows the sale after a reload.
    username, password, _ = site.register("reader")
    site.call(
        "POST",
        "/orders",
        site.token(username, password),
        json={"items": [{"book_id": book["id"], "quantity": 3}]},
        expect=201,
    )
    d.refresh()
    page_loaded(d, "#stock-history[aria-busy='false']")
    today = datetime.now(UTC).date().isoformat()
    bar = wait(d, lambda d: find_all(d, f"#history-chart g[data-day='{today}']"), message="no column for today")[0]
    assert bar.find_element(By.CSS_SELECTOR, "rect.bar-added").get_attribute("data-added") == "7"
    assert bar.find_element(By.CSS_SELECTOR, "rect.bar-sold").get_attribute("data-sold") == "3"
    assert "7 copies added" in find(d, "#history-summary").text and "3 copies sold" in find(d, "#history-summary").text
    rows = [r.text for r in find_all(d, "#movements-rows tr")]
    assert "Restocked" in rows[0] and "+5" in rows[0]
    assert "Added with the book" in rows[1] and "+2" in rows[1]
    assert find(d, "#book-stock").text == "4 copies"
    assert find(d, "#history-chart svg").size["width"] <= d.execute_script("return window.innerWidth")
    assert no_horizontal_scroll(d)
    screenshot(d, f"backoffice-book-{d.size_name}")


def test_report_charts_are_drawn_for_the_phone_width_and_the_page_never_scrolls_sideways(site, phone):
    d = phone
    log_in(d, site, *ADMIN, next_path="/admin/reports")
    wait(
        d,
        lambda d: d.execute_script(
            "const imgs = [...document.querySelectorAll('.chart img')];"
            "return imgs.length === 3 && imgs.every(i => i.complete && i.naturalWidth > 0 && i.src.startsWith('blob:'));"
        ),
        30,
        "the three charts did not load",
    )
    sizes = d.execute_script(
        "return [...document.querySelectorAll('.chart img')].map(i => [i.naturalWidth, i.clientWidth, window.devicePixelRatio])"
    )
    for natural, shown, ratio in sizes:
        assert shown <= 390
        # Drawn for the box it sits in, at the screen's density: no shrunken 1000-pixel picture.
        assert abs(natural - shown * ratio) <= 4 * ratio, (natural, shown, ratio)
    for key in ("sales", "popular", "inventory"):
        region = find(d, f"#{key}-table")
        assert region.get_attribute("role") == "region" and region.get_attribute("tabindex") == "0"
    assert no_horizontal_scroll(d)
    screenshot(d, "backoffice-reports-phone")
