"""The customer's account in a real browser, at desktop and phone widths: details, password, signing
out everywhere, staying signed in across reloads and tabs (the refresh cookie, two tabs refreshing
at once), buy again, local times with their zone, refused input in words next to the field, and
the "not found" pages."""

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from e2e_support import (
    at_path,
    axe_violations,
    fill,
    find,
    find_all,
    log_in,
    page_loaded,
    screenshot,
    settled,
    text_in,
    visible,
    wait,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

COOKIE = "bookstore_refresh"


@pytest.fixture(params=["browser", "phone"], ids=["desktop", "phone"])
def d(request):
    """The test's browser, once at desktop and once at phone size."""
    return request.getfixturevalue(request.param)


@pytest.fixture
def shopper(site):
    username, password, answer = site.register("acct")
    return {"username": username, "password": password, **answer}


def shot(d, name: str):
    """The screenshot of a test run at both sizes, one file per size."""
    size = "phone" if d.execute_script("return window.innerWidth") < 600 else "desktop"
    return screenshot(d, f"{name}-{size}")


def _accept_confirmation(d):
    wait(d, lambda d: d.switch_to.alert, message="no confirmation asked").accept()


def _signed_in(d, username):
    text_in(d, "#account-area", f"Signed in as {username}")


def _refresh_cookie(d):
    """The refresh cookie as Chromium keeps it (WebDriver lists only the current path's cookies)."""
    cookies = d.execute_cdp_cmd("Network.getAllCookies", {})["cookies"]
    return next((c for c in cookies if c["name"] == COOKIE), None)


def _new_book(site, admin_token, stock):
    body = {"title": f"Account test {uuid.uuid4().hex[:8]}", "author": "E2E Author", "price": "10.00", "stock": stock}
    return site.call("POST", "/books", admin_token, json=body, expect=201)


def test_the_customer_edits_details_and_address(site, d, shopper):
    log_in(d, site, shopper["username"], shopper["password"])
    find(d, "#account-area a[href='/shop/account']").click()
    at_path(d, r"/shop/account")
    page_loaded(d, "#account[aria-busy='false']")
    assert find(d, "#details-email").get_attribute("value") == shopper["customer"]["email"]
    assert find(d, "#address-default_address\\.city").get_attribute("value") == "Testville"

    # A refused email: the reason in words next to the field, nothing saved.
    fill(d, "#details-email", "not-an-email")
    find(d, "#details button[type=submit]").click()
    error = visible(d, "#details-email-error")
    assert error.text == "Enter an email address like name@example.com."
    assert find(d, "#details-email").get_attribute("aria-invalid") == "true"
    assert "email" not in find(d, "#details-alert").text.lower().replace("email address", "")
    shot(d, "account-refused-email")

    email = f"{shopper['username']}.new@example.com"
    fill(d, "#details-name", "Renamed Reader")
    fill(d, "#details-email", email)
    fill(d, "#details-phone", "+44 20 7946 0000")
    find(d, "#details button[type=submit]").click()
    text_in(d, "#page-status", "Your details are saved.")
    assert not find(d, "#details-email-error").is_displayed()
    fill(d, "#address-default_address\\.city", "Newtown")
    fill(d, "#address-default_address\\.country", "fr")
    find(d, "#address button[type=submit]").click()
    text_in(d, "#page-status", "Your address is saved.")

    token = site.token(shopper["username"], shopper["password"])
    me = site.call("GET", "/me", token, expect=200)["customer"]
    assert (me["name"], me["email"], me["phone"]) == ("Renamed Reader", email, "+44 20 7946 0000")
    assert (me["default_address"]["city"], me["default_address"]["country"]) == ("Newtown", "FR")
    shot(d, "account-saved")


def test_the_customer_changes_the_password_and_logs_in_with_the_new_one(site, d, shopper):
    elsewhere = site.token(shopper["username"], shopper["password"])
    log_in(d, site, shopper["username"], shopper["password"])
    d.get(site.url("/shop/account"))
    page_loaded(d, "#account[aria-busy='false']")

    fill(d, "#password-current_password", "not-the-password")
    fill(d, "#password-new_password", "a-brand-new-secret-9")
    find(d, "#password button[type=submit]").click()
    assert visible(d, "#password-current_password-error").text == "That is not your current password."

    new_password = "a-brand-new-secret-9"
    fill(d, "#password-current_password", shopper["password"])
    fill(d, "#password-new_password", new_password)
    find(d, "#password button[type=submit]").click()
    text_in(d, "#page-status", "Your password is changed.")
    # The other session ended; this one lives on, across a reload too.
    site.call("GET", "/me", elsewhere, expect=401)
    d.refresh()
    page_loaded(d, "#account[aria-busy='false']")
    _signed_in(d, shopper["username"])

    find(d, "#account-area button").click()  # Log out
    at_path(d, r"/")
    text_in(d, "#account-area", "Log in")
    assert _refresh_cookie(d) is None
    log_in(d, site, shopper["username"], new_password)
    _signed_in(d, shopper["username"])
    shot(d, "account-new-password")


def test_the_session_survives_a_reload_and_a_new_tab_and_two_tabs_refreshing_at_once(site, d, shopper):
    log_in(d, site, shopper["username"], shopper["password"])
    cookie = _refresh_cookie(d)
    assert cookie is not None, "Chromium did not keep the Secure cookie over http://127.0.0.1"
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/token/refresh"
    assert COOKIE not in d.execute_script("return document.cookie")

    d.refresh()
    _signed_in(d, shopper["username"])
    d.get(site.url("/shop/orders"))
    visible(d, "#orders-empty")

    first = d.current_window_handle
    d.switch_to.new_window("tab")
    second = d.current_window_handle
    d.get(site.url("/shop/cart"))
    page_loaded(d, "#cart[aria-busy='false']")
    _signed_in(d, shopper["username"])
    assert find(d, "#cart-empty").is_displayed()

    # Both tabs load (and so refresh from the one cookie) at the same moment, several times: the
    # tabs take turns, so no refresh token is presented twice and the session lives on.
    for _ in range(3):
        d.switch_to.window(first)
        d.execute_script("setTimeout(() => location.reload(), 50)")
        d.switch_to.window(second)
        d.execute_script("setTimeout(() => location.reload(), 50)")
        for handle, region in ((second, "#cart-empty"), (first, "#orders-empty")):
            d.switch_to.window(handle)
            wait(d, lambda d: d.execute_script("return document.readyState") == "complete")
            visible(d, region)
            _signed_in(d, shopper["username"])
    assert not find_all(d, "#page-alert:not([hidden])")
    d.switch_to.window(second)
    d.refresh()
    page_loaded(d, "#cart[aria-busy='false']")
    _signed_in(d, shopper["username"])
    shot(d, "account-two-tabs")


def test_signing_out_everywhere_ends_the_other_tabs_and_devices(site, d, shopper):
    other_device = site.token(shopper["username"], shopper["password"])
    log_in(d, site, shopper["username"], shopper["password"])
    first = d.current_window_handle
    d.switch_to.new_window("tab")
    d.get(site.url("/shop/orders"))
    visible(d, "#orders-empty")
    second = d.current_window_handle

    d.switch_to.window(first)
    d.get(site.url("/shop/account"))
    page_loaded(d, "#account[aria-busy='false']")
    find(d, "#logout-all").click()
    _accept_confirmation(d)
    at_path(d, r"/shop/login\?signed_out=everywhere")
    text_in(d, "#page-status", "You are signed out on every device.")
    assert _refresh_cookie(d) is None
    site.call("GET", "/me", other_device, expect=401)

    # The other tab follows at once, and finds itself signed out when it next loads.
    d.switch_to.window(second)
    text_in(d, "#account-area", "Log in")
    d.get(site.url("/shop/cart"))
    text_in(d, "#cart", "Log in to see your cart")
    shot(d, "account-signed-out-everywhere")


def test_buy_again_puts_the_lines_back_and_says_what_was_short_or_retired(site, d, shopper):
    admin = site.admin_token()
    token = site.token(shopper["username"], shopper["password"])
    plenty, short, retired = _new_book(site, admin, 10), _new_book(site, admin, 10), _new_book(site, admin, 10)
    for book, quantity in ((plenty, 2), (short, 3), (retired, 1)):
        site.call("POST", "/cart", token, json={"book_id": book["id"], "quantity": quantity}, expect=200)
    order = site.call("POST", "/orders", token, json={}, expect=201)
    site.call("PUT", f"/books/{short['id']}/stock", admin, json={"stock": 1}, expect=200)
    site.call("DELETE", f"/books/{retired['id']}", admin, expect=204)

    log_in(d, site, shopper["username"], shopper["password"])
    d.get(site.url("/shop/orders"))
    row = visible(d, f"#orders-rows tr[data-order-id='{order['id']}']")
    assert plenty["title"] in row.text and "and 1 other book" in row.text
    assert "$60.00" in row.text

    row.find_element(By.LINK_TEXT, f"Order {order['id']}").click()
    page_loaded(d, "#order[aria-busy='false']")
    find(d, "#buy-again").click()
    report = visible(d, "#buy-again-report")
    text_in(d, "#page-status", "2 of 3 books of this order went into your cart")
    assert f"“{plenty['title']}”: 2 copies added." in report.text
    assert f"“{short['title']}”: only 1 in stock, so your cart now holds 1." in report.text
    assert f"“{retired['title']}” is no longer sold, so it was left out." in report.text
    assert find(d, "#cart-count").text == "3"
    cart = site.call("GET", "/cart", token, expect=200)
    assert {line["book_id"]: line["quantity"] for line in cart["items"]} == {plenty["id"]: 2, short["id"]: 1}
    shot(d, "account-buy-again")


def test_times_are_shown_in_the_viewers_zone_with_the_zone_named(site, d, shopper):
    token = site.token(shopper["username"], shopper["password"])
    book = _new_book(site, site.admin_token(), 5)
    site.call("POST", "/cart", token, json={"book_id": book["id"], "quantity": 1}, expect=200)
    order = site.call("POST", "/orders", token, json={}, expect=201)
    d.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "Asia/Tokyo"})

    log_in(d, site, shopper["username"], shopper["password"])
    d.get(site.url(f"/shop/orders/{order['id']}"))
    page_loaded(d, "#order[aria-busy='false']")
    placed = find(d, "#order-delivery time")
    at = datetime.fromisoformat(order["created_at"].replace("Z", "+00:00")).astimezone(ZoneInfo("Asia/Tokyo"))
    assert placed.get_attribute("datetime") == order["created_at"]
    assert "GMT+9" in placed.text
    assert f"{at.hour % 12 or 12}:{at.minute:02d}" in placed.text
    assert at.strftime("%b") in placed.text and str(at.day) in placed.text
    assert "UTC" not in find(d, "#order").text
    d.get(site.url("/shop/orders"))
    assert "GMT+9" in visible(d, f"#orders-rows tr[data-order-id='{order['id']}'] time").text
    shot(d, "account-local-time")


def test_a_refused_cart_quantity_is_explained_next_to_it_and_put_back(site, d, shopper):
    token = site.token(shopper["username"], shopper["password"])
    book = _new_book(site, site.admin_token(), 50)
    site.call("POST", "/cart", token, json={"book_id": book["id"], "quantity": 2}, expect=200)

    log_in(d, site, shopper["username"], shopper["password"])
    d.get(site.url("/shop/cart"))
    page_loaded(d, "#cart[aria-busy='false']")
    box = fill(d, f"input.qty[data-book-id='{book['id']}']", "500")
    box.send_keys(Keys.TAB)
    error = visible(d, f"tr[data-book-id='{book['id']}'] .field-error")
    assert error.text == "Choose a quantity from 0 to 100."
    assert "greater than" not in find(d, "#main").text and "quantity is not valid" not in find(d, "#main").text
    assert find(d, f"input.qty[data-book-id='{book['id']}']").get_attribute("value") == "2"
    assert find(d, "#page-alert").text.startswith("Please check what you entered")

    # The next change that works replaces the message.
    box = fill(d, f"input.qty[data-book-id='{book['id']}']", "3")
    box.send_keys(Keys.TAB)
    text_in(d, "#page-status", "Updated")
    assert not find(d, "#page-alert").is_displayed()
    shot(d, "account-refused-quantity")
    site.call("DELETE", "/cart", token, expect=204)


def test_a_missing_book_or_order_has_a_not_found_page_with_a_way_back(site, d, shopper):
    d.get(site.url("/shop/books/987654321"))
    heading = text_in(d, "#not-found h1", "Book not found")
    assert heading.is_displayed()
    assert not find(d, "#page-alert").is_displayed()
    assert d.title.startswith("Book not found")
    back = find(d, "#not-found a")
    assert back.text == "Back to all books"
    shot(d, "not-found-book")
    assert not axe_violations(d)
    back.click()
    at_path(d, r"/")

    log_in(d, site, shopper["username"], shopper["password"])
    d.get(site.url("/shop/orders/987654321"))
    text_in(d, "#not-found h1", "Order not found")
    settled(d)
    find(d, "#not-found a").click()
    at_path(d, r"/shop/orders")
