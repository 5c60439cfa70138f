"""The storefront in a real browser: sign-up, search, cart, checkout, tracking; escaping; errors in
words next to their fields; the keyboard; a phone-sized screen."""

import re
import uuid
from decimal import Decimal

from e2e_support import (
    CUSTOMER,
    at_path,
    fill,
    find,
    find_all,
    log_in,
    no_horizontal_scroll,
    page_loaded,
    screenshot,
    text_in,
    visible,
    wait,
)
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys


def money(value) -> str:
    return f"${Decimal(value):,.2f}"


def test_shopper_registers_searches_buys_two_books_and_tracks_the_order(site, browser):
    d = browser
    username = f"reader{uuid.uuid4().hex[:8]}"
    password = "reading-is-fun-42"

    # Register: the form signs the new customer in and goes to the catalogue.
    d.get(site.url("/shop/register"))
    fill(d, "#register-name", "Rita Reader")
    fill(d, "#register-email", f"{username}@example.com")
    fill(d, "#register-username", username)
    fill(d, "#register-password", password)
    find(d, "#register button[type=submit]").click()
    at_path(d, r"/")
    text_in(d, "#account-area", f"Signed in as {username}")

    # Search for an author with several books in stock.
    box = fill(d, "#search-q", "Doyle")
    box.send_keys(Keys.ENTER)
    at_path(d, r"/\?q=Doyle(&.*)?")
    wait(d, lambda d: len(find_all(d, "#results .book-card")) >= 2, message="fewer than two results")
    assert "found" in find(d, "#result-count").text
    for card in find_all(d, "#results .book-card"):
        assert "doyle" in card.find_element(By.CSS_SELECTOR, ".byline").text.lower()

    # Two books into the cart, each from its card's button.
    cards = [c for c in find_all(d, "#results .book-card") if c.find_element(By.CSS_SELECTOR, "button").is_enabled()]
    assert len(cards) >= 2, "the search should show two books in stock"
    chosen = []
    for n, card in enumerate(cards[:2], start=1):
        book_id = int(card.get_attribute("data-book-id"))
        chosen.append(site.call("GET", f"/books/{book_id}", expect=200))
        card.find_element(By.CSS_SELECTOR, "button.add-to-cart").click()
        text_in(d, "#page-status", f"View cart ({n} item")
    assert find(d, "#cart-count").text == "2"

    # The cart: two lines; a quantity change updates the line and the total at once.
    find(d, "nav a[href='/shop/cart']").click()
    at_path(d, r"/shop/cart")
    page_loaded(d, "#cart[aria-busy='false']")
    assert len(find_all(d, "#cart-lines tr")) == 2
    first = chosen[0] if chosen[0]["stock"] >= 2 else chosen[1]
    other = chosen[1] if first is chosen[0] else chosen[0]
    expected_total = Decimal(first["price"]) * 2 + Decimal(other["price"])
    qty = fill(d, f"input.qty[data-book-id='{first['id']}']", "2")
    qty.send_keys(Keys.TAB)  # a change event: the cart is saved and its totals come back
    text_in(d, "#cart-total", money(expected_total))
    assert find(d, "#cart-total-quantity").text == "3 copies"
    line_total = find(d, f"tr[data-book-id='{first['id']}'] .line-total").text
    assert line_total == money(Decimal(first["price"]) * 2)

    # Checkout with an address, then the order page with its tracking.
    find(d, "#to-checkout").click()
    at_path(d, r"/shop/checkout")
    text_in(d, "#summary-total", money(expected_total))
    fill(d, "#checkout-shipping_address", "12 Baker Street\nLondon NW1 6XE")
    find(d, "#place-order").click()
    path = at_path(d, r"/shop/orders/\d+")
    order_id = int(re.search(r"\d+", path).group())
    text_in(d, "#page-status", f"Order {order_id} is placed")
    page_loaded(d, "#order[aria-busy='false']")
    assert find(d, "#order-status").text == "Pending"
    assert find(d, "#expected-delivery").text.startswith("Expected delivery: ")
    steps = [li.text for li in find_all(d, "#order-timeline li")]
    assert [s.split("\n")[0] for s in steps] == ["Pending", "Paid", "Shipped", "Delivered"]
    assert "not yet" in steps[1]
    assert len(find_all(d, "#order-lines tr")) == 2
    assert find(d, "#order-total").text == money(expected_total)
    assert find(d, "#order-address").text == "12 Baker Street\nLondon NW1 6XE"
    assert find(d, "#cancel-order").is_displayed()
    assert not find(d, "#cart-count").is_displayed()  # the cart was ordered and emptied

    # The API agrees: one pending order with those lines, at those prices.
    token = site.token(username, password)
    order = site.call("GET", f"/orders/{order_id}", token, expect=200)
    assert order["status"] == "pending"
    assert {(i["book_id"], i["quantity"]) for i in order["items"]} == {(first["id"], 2), (other["id"], 1)}
    assert Decimal(order["total"]) == expected_total
    tracking = site.call("GET", f"/orders/{order_id}/tracking", token, expect=200)
    screenshot(d, "shopper-order-tracking")

    # "My orders" lists it, newest first.
    find(d, "nav a[href='/shop/orders']").click()
    row = visible(d, f"#orders-rows tr[data-order-id='{order_id}']")
    assert "Pending" in row.text and money(expected_total) in row.text
    assert tracking["expected_delivery_date"]


def test_shopper_cancels_an_order_from_its_tracking_page(site, browser):
    d = browser
    username, password, _ = site.register("canceller")
    token = site.token(username, password)
    book = next(b for b in site.call("GET", "/books", params={"in_stock": "true", "sort": "-price"})["items"])
    order = site.call("POST", "/orders", token, json={"items": [{"book_id": book["id"], "quantity": 1}]}, expect=201)

    log_in(d, site, username, password, next_path=f"/shop/orders/{order['id']}")
    page_loaded(d, "#order[aria-busy='false']")
    find(d, "#cancel-order").click()
    alert = wait(d, lambda d: d.switch_to.alert, message="no confirmation asked")
    assert f"Cancel order {order['id']}?" in alert.text
    alert.accept()
    text_in(d, "#page-status", f"Order {order['id']} is cancelled.")
    assert find(d, "#order-status").text == "Cancelled"
    assert "cancelled" in find(d, "#order-delivery").text
    assert not find(d, "#cancel-order").is_displayed()
    assert site.call("GET", f"/orders/{order['id']}", token)["status"] == "cancelled"
    screenshot(d, "shopper-cancelled-order")


def test_a_title_made_of_markup_is_shown_as_text(site, browser):
    d = browser
    admin = site.admin_token()
    title = "<script>alert(1)</script>"
    author = f"Mallory <img src=x onerror=alert(2)> {uuid.uuid4().hex[:6]}"
    book = site.call(
        "POST",
        "/books",
        admin,
        json={"title": title, "author": author, "price": "6.66", "stock": 3, "description": "<b>not bold</b>"},
        expect=201,
    )

    # In the catalogue, found by its author.
    d.get(site.url("/?author=" + author.split()[-1]))
    card = visible(d, f"#results .book-card[data-book-id='{book['id']}']")
    assert card.find_element(By.CSS_SELECTOR, ".book-title").text == title
    assert card.find_element(By.CSS_SELECTOR, ".byline").text == author
    assert not find_all(d, "#results script, #results img, #results b")

    # On its own page, and in the window title.
    card.find_element(By.CSS_SELECTOR, ".book-title a").click()
    text_in(d, "#book-title", title)
    assert find(d, "#book-description").text == "<b>not bold</b>"
    assert title in d.title
    assert not find_all(d, "main script, main img, main b")

    # In a cart and in the admin's book list too.
    log_in(d, site, *CUSTOMER, next_path=f"/shop/books/{book['id']}")
    visible(d, "#add-to-cart button").click()
    text_in(d, "#page-status", f"“{title}”")
    d.get(site.url("/shop/cart"))
    link = visible(d, f"tr[data-book-id='{book['id']}'] .line-title")
    assert link.text == title
    find(d, f"tr[data-book-id='{book['id']}'] button.danger-link").click()  # leave ada's cart as it was
    wait(d, lambda d: not find_all(d, f"tr[data-book-id='{book['id']}']"))
    try:
        d.switch_to.alert
        raise AssertionError("a script from the data ran")
    except NoAlertPresentException:
        pass
    d.get(site.url("/?author=" + author.split()[-1]))
    visible(d, f"#results .book-card[data-book-id='{book['id']}']")
    screenshot(d, "escaped-title")


def test_errors_are_shown_in_words_next_to_their_fields(site, browser):
    d = browser
    d.get(site.url("/shop/register"))
    fill(d, "#register-name", "   ")
    fill(d, "#register-email", "not-an-email")
    fill(d, "#register-username", "ada")
    fill(d, "#register-password", "short")
    find(d, "#register button[type=submit]").click()

    alert = visible(d, "#register-alert")
    # In words: a headline, no field names, and each reason next to its field.
    assert "Please check what you entered" in alert.text
    assert "see the notes next to them" in alert.text
    assert "email" not in alert.text and "fields" not in alert.text
    assert find(d, "#register-email-error").text == "Enter an email address like name@example.com."
    assert find(d, "#register-email").get_attribute("aria-invalid") == "true"
    assert find(d, "#register-password-error").is_displayed()
    assert find(d, "#register-name-error").is_displayed()
    assert not find(d, "#register-phone-error").is_displayed()
    # The first field in error has the focus, and its message is announced with it.
    focused = d.switch_to.active_element
    assert focused.get_attribute("aria-invalid") == "true"
    assert "error" in focused.get_attribute("aria-describedby")

    # Fixed, except that the username is taken: a 409 with the API's detail, the old errors gone.
    fill(d, "#register-name", "Ada Again")
    fill(d, "#register-email", f"ada{uuid.uuid4().hex[:6]}@example.com")
    fill(d, "#register-password", "long-enough-password")
    find(d, "#register button[type=submit]").click()
    text_in(d, "#register-alert", "Already in use")
    assert "The username 'ada' is taken." in find(d, "#register-alert").text
    assert find(d, "#register-username-error").text == "This username is already in use; choose another."
    assert not find(d, "#register-email-error").is_displayed()
    assert [e.get_attribute("name") for e in find_all(d, "#register [aria-invalid='true']")] == ["username"]
    screenshot(d, "register-taken")

    # A bad filter on the catalogue is explained next to the filter.
    d.get(site.url("/?min_price=-3&max_price=abc"))
    visible(d, "#search-alert")
    assert find(d, "#search-min_price-error").text == "Must be 0 or more."
    assert find(d, "#search-max_price-error").text == "Must be an amount written like 12.50."
    assert find(d, "#search-max_price").get_attribute("value") == "abc"  # what was asked stays in view
    screenshot(d, "search-errors")

    # A wrong password says so, in the API's words.
    d.get(site.url("/shop/login"))
    fill(d, "#login-username", "ada")
    fill(d, "#login-password", "not-her-password")
    find(d, "#login button[type=submit]").click()
    text_in(d, "#login-alert", "Could not sign you in")
    assert "Invalid username or password." in find(d, "#login-alert").text
    assert not find_all(d, "#login-alert a")  # no "Log in" link on the login page itself
    screenshot(d, "login-error")


def test_the_shop_works_from_the_keyboard(site, browser):
    d = browser
    d.get(site.url("/shop/login"))
    # The username box has the focus; type, tab, type, Enter.
    active = d.switch_to.active_element
    assert active.get_attribute("id") == "login-username"
    active.send_keys(CUSTOMER[0], Keys.TAB)
    d.switch_to.active_element.send_keys(CUSTOMER[1], Keys.ENTER)
    text_in(d, "#account-area", f"Signed in as {CUSTOMER[0]}")

    # The first Tab reaches the skip link; focus is drawn.
    d.get(site.url("/?in_stock=true&sort=-price"))
    visible(d, "#results .book-card")
    d.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    skip = d.switch_to.active_element
    assert skip.text == "Skip to content"
    assert d.execute_script("return getComputedStyle(document.activeElement).outlineStyle") != "none"

    # Tab on to the first "Add to cart" button and press Enter.
    for _ in range(40):
        d.switch_to.active_element.send_keys(Keys.TAB)
        if "add-to-cart" in (d.switch_to.active_element.get_attribute("class") or ""):
            break
    button = d.switch_to.active_element
    assert "add-to-cart" in button.get_attribute("class"), "Tab never reached an Add to cart button"
    assert d.execute_script("return getComputedStyle(document.activeElement).outlineStyle") != "none"
    button.send_keys(Keys.ENTER)
    text_in(d, "#page-status", "Added 1 copy of")
    assert d.switch_to.active_element == button, "the focus left the button it was on"
    screenshot(d, "keyboard-add-to-cart")

    # Leave ada's cart empty for the other tests.
    token = site.customer_token()
    site.call("DELETE", "/cart", token, expect=204)


def test_the_shop_fits_a_phone(site, phone):
    d = phone
    log_in(d, site, *CUSTOMER)
    d.get(site.url("/?q=Doyle"))
    visible(d, "#results .book-card")
    assert no_horizontal_scroll(d), "the catalogue is wider than the phone"
    widths = d.execute_script(
        "return [...document.querySelectorAll('#results .book-card')].map(c => c.getBoundingClientRect().width)"
    )
    inner = d.execute_script("return window.innerWidth")
    assert all(w > inner * 0.8 for w in widths), "on a phone the cards take the whole width"
    screenshot(d, "phone-browse")

    card = next(c for c in find_all(d, "#results .book-card") if c.find_element(By.CSS_SELECTOR, "button").is_enabled())
    card.find_element(By.CSS_SELECTOR, "button").click()
    text_in(d, "#page-status", "Added")
    d.get(site.url("/shop/cart"))
    page_loaded(d, "#cart[aria-busy='false']")
    visible(d, "#cart-lines tr")
    assert no_horizontal_scroll(d), "the cart is wider than the phone"
    # The table is stacked: each cell on its own line, labelled.
    label = d.execute_script("return getComputedStyle(document.querySelector('#cart-lines td'), '::before').content")
    assert label == '"Book"'
    screenshot(d, "phone-cart")
    site.call("DELETE", "/cart", site.customer_token(), expect=204)


def test_an_expired_access_token_is_refreshed_once_and_a_dead_session_says_so(site, browser):
    d = browser
    log_in(d, site, *CUSTOMER)
    # No token is kept where a script could read it: only who is signed in.
    stored = d.execute_script("return JSON.stringify({...localStorage}) + JSON.stringify({...sessionStorage})")
    assert "eyJ" not in stored and "token" not in stored.lower()
    assert "bookstore_refresh" not in d.execute_script("return document.cookie")

    # The orders page gets an access token from the cookie and shows the orders.
    d.get(site.url("/shop/orders"))
    visible(d, "#orders-rows tr")

    # The login session ended elsewhere: the cookie is refused, the page says so in words, with a
    # way back in, and forgets who was signed in.
    site.call("POST", "/logout/all", site.customer_token(), expect=204)
    d.get(site.url("/shop/cart"))
    alert = visible(d, "#page-alert")
    assert "Your session has ended. Log in again to go on." in alert.text
    assert alert.find_element(By.LINK_TEXT, "Log in").get_attribute("href").endswith("/shop/login?next=%2Fshop%2Fcart")
    assert d.execute_script("return localStorage.length") == 0
    text_in(d, "#account-area", "Log in")
    screenshot(d, "session-ended")
