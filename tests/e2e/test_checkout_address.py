"""Checkout and the saved address, in a real browser: an empty address field ships to the saved
default; a shopper without one is told, next to the field, that an address is needed."""

import re
import uuid

from e2e_support import at_path, fill, find, log_in, page_loaded, screenshot, text_in, visible


def _with_one_book_in_the_cart(site, token) -> dict:
    book = next(b for b in site.call("GET", "/books", params={"in_stock": "true", "sort": "-price"})["items"])
    site.call("POST", "/cart", token, json={"book_id": book["id"], "quantity": 1}, expect=200)
    return book


def test_an_empty_address_field_ships_to_the_saved_address(site, browser):
    d = browser
    username, password, registered = site.register("saved")
    saved = registered["customer"]["default_address"]
    token = site.token(username, password)
    _with_one_book_in_the_cart(site, token)

    log_in(d, site, username, password, next_path="/shop/checkout")
    page_loaded(d, "#summary-lines[aria-busy='false']")
    shown = visible(d, "#saved-address-text").text
    assert shown.split("\n") == [saved["name"], saved["line1"], f"{saved['city']} {saved['postal_code']}", "GB"]
    screenshot(d, "checkout-saved-address")
    find(d, "#place-order").click()

    path = at_path(d, r"/shop/orders/\d+")
    order_id = int(re.search(r"\d+", path).group())
    page_loaded(d, "#order[aria-busy='false']")
    label = f"{saved['name']}\n{saved['line1']}\n{saved['city']} {saved['postal_code']}\nUnited Kingdom"
    assert find(d, "#order-address").text == label
    assert site.call("GET", f"/orders/{order_id}", token, expect=200)["shipping_address"] == label


def test_a_shopper_without_a_saved_address_is_asked_for_one(site, browser):
    d = browser
    username, password = f"nowhere{uuid.uuid4().hex[:8]}", "e2e-pass-1234"
    site.call(
        "POST",
        "/register",
        json={"name": "No Where", "email": f"{username}@example.com", "username": username, "password": password},
        expect=201,
    )
    token = site.token(username, password)
    book = _with_one_book_in_the_cart(site, token)

    log_in(d, site, username, password, next_path="/shop/checkout")
    page_loaded(d, "#summary-lines[aria-busy='false']")
    assert not find(d, "#saved-address").is_displayed()
    assert "Required" in find(d, "#checkout-shipping_address-hint").text
    find(d, "#place-order").click()
    error = visible(d, "#checkout-shipping_address-error")
    assert error.text == "Required: the customer has no saved default address."
    assert find(d, "#checkout-shipping_address").get_attribute("aria-invalid") == "true"
    screenshot(d, "checkout-address-needed")
    assert site.call("GET", "/cart", token, expect=200)["items"][0]["book_id"] == book["id"]  # nothing was ordered

    fill(d, "#checkout-shipping_address", "3 Quay Street\nGalway H91 XXXX")
    find(d, "#place-order").click()
    at_path(d, r"/shop/orders/\d+")
    page_loaded(d, "#order[aria-busy='false']")
    text_in(d, "#order-address", "3 Quay Street")
