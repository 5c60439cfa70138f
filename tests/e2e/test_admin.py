"""The admin panel in a real browser: books, stock, orders, accounts, reports."""

import csv
import io
import time
import uuid

from e2e_support import (
    ADMIN,
    CUSTOMER,
    at_path,
    fill,
    find,
    find_all,
    log_in,
    no_horizontal_scroll,
    retype,
    screenshot,
    text_in,
    visible,
    wait,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select


def charts_loaded(d) -> bool:
    return d.execute_script(
        "const imgs = [...document.querySelectorAll('.chart img')];"
        "return imgs.length === 3 && imgs.every(i => i.complete && i.naturalWidth > 0 && i.src.startsWith('blob:'));"
    )


def test_admin_adds_a_book_restocks_a_low_title_ships_an_order_and_reads_the_reports(site, browser):
    d = browser
    admin = site.admin_token()
    # A title low on stock, and a paid order of ada's waiting to be shipped.
    low = site.call("GET", "/books", params={"q": "Meditations"})["items"][0]
    site.call("PUT", f"/books/{low['id']}/stock", admin, json={"stock": 2}, expect=200)
    ada = site.customer_token()
    ada_me = site.call("GET", "/me", ada)["customer"]
    ada_customer = ada_me["id"]
    in_stock = site.call("GET", "/books", params={"in_stock": "true", "sort": "-price", "per_page": 1})["items"][0]
    order = site.call("POST", "/orders", ada, json={"items": [{"book_id": in_stock["id"], "quantity": 1}]}, expect=201)
    site.call("PATCH", f"/orders/{order['id']}/status", admin, json={"status": "paid"}, expect=200)

    # Logging in as the admin opens the panel on the stock page: the low title is listed.
    log_in(d, site, *ADMIN)
    at_path(d, r"/admin")
    row = visible(d, f"#low-rows tr[data-book-id='{low['id']}']")
    assert "Meditations" in row.text
    assert row.find_element(By.CSS_SELECTOR, "td:nth-child(3)").text == "2"

    # Restock it by 10 from its row.
    retype(row.find_element(By.CSS_SELECTOR, "input[name=quantity]"), "10")
    row.find_element(By.CSS_SELECTOR, "button").click()
    text_in(d, "#page-status", "Restocked “Meditations”: 12 copies in stock now.")
    wait(d, lambda d: not find_all(d, f"#low-rows tr[data-book-id='{low['id']}']"), message="still listed as low")
    assert site.call("GET", f"/books/{low['id']}")["stock"] == 12
    screenshot(d, "admin-stock")

    # Add a book: first with mistakes, each explained next to its field; then right.
    find(d, "nav a[href='/admin/books']").click()
    at_path(d, r"/admin/books")
    find(d, "#new-book-box summary").click()
    fill(d, "#book-new-author", "E2E Author")
    fill(d, "#book-new-price", "12.345")
    fill(d, "#book-new-isbn", "978-0-00-000000-1")
    find(d, "#book-new button[type=submit]").click()
    text_in(d, "#book-new-alert", "Please check what you entered")
    assert find(d, "#book-new-title-error").text == "Fill this in."
    assert find(d, "#book-new-price-error").is_displayed()
    assert find(d, "#book-new-isbn-error").text == "Not a valid ISBN-10 or ISBN-13 (check digit included)."
    screenshot(d, "admin-book-errors")
    title = f"The Testing Handbook {uuid.uuid4().hex[:6]}"
    fill(d, "#book-new-title", title)
    fill(d, "#book-new-price", "14.95")
    fill(d, "#book-new-isbn", "")
    fill(d, "#book-new-stock", "3")
    fill(d, "#book-new-genre", "Science")
    find(d, "#book-new button[type=submit]").click()
    text_in(d, "#page-status", f"Added “{title}” as book")
    assert not find(d, "#book-new-alert").is_displayed()
    fill(d, "#book-search-q", title).send_keys(Keys.ENTER)
    at_path(d, r"/admin/books\?q=.+")
    text_in(d, "#books-rows", title)
    row = visible(d, "#books-rows tr")
    assert title in row.text and "$14.95" in row.text
    book_id = int(row.get_attribute("data-book-id"))
    created = site.call("GET", f"/books/{book_id}", expect=200)
    assert (created["title"], created["price"], created["stock"], created["genre"]) == (title, "14.95", 3, "Science")

    # Edit it: the form comes filled in; a new price is saved.
    row.find_element(By.XPATH, ".//button[text()='Edit']").click()
    visible(d, "#edit-book-box")
    assert find(d, "#book-edit-title").get_attribute("value") == title
    fill(d, "#book-edit-price", "15.50")
    find(d, "#book-edit button[type=submit]").click()
    text_in(d, "#page-status", f"Saved “{title}”.")
    assert site.call("GET", f"/books/{book_id}")["price"] == "15.50"

    # Ship the paid order, found with the status and customer filters.
    find(d, "nav a[href='/admin/orders']").click()
    Select(find(d, "#order-filters-status")).select_by_value("paid")
    fill(d, "#order-filters-customer_id", str(ada_customer)).send_keys(Keys.ENTER)
    at_path(d, rf"/admin/orders\?status=paid&customer_id={ada_customer}")
    row = visible(d, f"#orders-rows tr[data-order-id='{order['id']}']")
    for other in find_all(d, "#orders-rows tr"):
        assert other.get_attribute("data-status") == "paid"
        assert ada_me["name"] in other.text
    row.find_element(By.CSS_SELECTOR, "button[data-status='shipped']").click()
    text_in(d, "#page-status", f"Order {order['id']} is now shipped.")
    row = find(d, f"#orders-rows tr[data-order-id='{order['id']}']")
    assert row.get_attribute("data-status") == "shipped"
    assert [b.text for b in row.find_elements(By.CSS_SELECTOR, "button")] == ["Mark delivered"]
    assert site.call("GET", f"/orders/{order['id']}", admin)["status"] == "shipped"
    screenshot(d, "admin-orders")

    # The reports: three charts fetched with the token and shown from blob: URLs, their tables.
    find(d, "nav a[href='/admin/reports']").click()
    wait(d, charts_loaded, 30, "the three charts did not load")
    widths = d.execute_script("return [...document.querySelectorAll('.chart img')].map(i => i.naturalWidth)")
    assert all(w > 0 for w in widths)
    for key in ("sales", "popular", "inventory"):
        assert find(d, f"#report-{key}").get_attribute("aria-busy") == "false"
        assert not find(d, f"#{key}-alert").is_displayed()
        assert find(d, f"#{key}-chart").get_attribute("alt")
        assert find_all(d, f"#{key}-table table tbody tr"), f"the {key} table is empty"
        assert "format=csv" in find(d, f"#{key}-csv").get_attribute("href")
    assert "copies worth" in find(d, "#inventory-summary").text

    # A CSV link downloads the file (fetched with the token, saved from a blob).
    find(d, "#popular-csv").click()
    text_in(d, "#page-status", "Downloaded popular-books_")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not list(d.downloads.glob("popular-books_*.csv")):
        time.sleep(0.2)
    saved = list(d.downloads.glob("popular-books_*.csv"))
    assert saved, "no CSV was saved"
    rows = list(csv.reader(io.StringIO(saved[0].read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["book_id", "title", "author", "units_sold", "revenue"]
    assert len(rows) > 1
    screenshot(d, "admin-reports")


def test_a_bad_report_range_is_explained_next_to_the_field(site, browser):
    d = browser
    log_in(d, site, *ADMIN, next_path="/admin/reports?from=2026-02-01&to=2026-01-01")
    text_in(d, "#sales-alert", "Please check what you entered")
    assert find(d, "#report-form-from-error").text.startswith("Must not be after")
    assert find(d, "#report-form-from").get_attribute("aria-invalid") == "true"
    assert find(d, "#popular-alert").is_displayed()
    wait(d, lambda d: find(d, "#inventory-chart").get_attribute("src"), message="inventory chart missing")
    assert not find(d, "#inventory-alert").is_displayed()  # it takes no dates
    screenshot(d, "admin-reports-bad-range")


def test_admin_pages_tell_a_customer_they_are_for_admins(site, browser):
    d = browser
    log_in(d, site, *CUSTOMER, next_path="/admin/orders")
    gate = visible(d, "#admin-gate")
    assert "not an administrator account" in gate.text
    assert not find(d, "[data-admin-content]").is_displayed()
    assert not find(d, "#orders-rows").is_displayed()
    screenshot(d, "admin-refused-customer")


def test_the_admin_panel_fits_a_phone(site, phone):
    d = phone
    log_in(d, site, *ADMIN, next_path="/admin/orders")
    visible(d, "#orders-rows tr")
    assert no_horizontal_scroll(d), "the orders page is wider than the phone"
    screenshot(d, "phone-admin-orders")
    d.get(site.url("/admin/reports"))
    wait(d, charts_loaded, 30, "the three charts did not load")
    assert no_horizontal_scroll(d), "the reports page is wider than the phone"
    screenshot(d, "phone-admin-reports")
