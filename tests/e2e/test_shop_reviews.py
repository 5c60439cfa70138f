"""Reviews in a real browser: a buyer (an order placed and marked paid through the API) reviews a
book on its page and the stars and count change there and on its card; a signed-in non-buyer gets no
form but the reason (and the API refuses them); a visitor is asked to log in."""

import uuid

from e2e_support import ADMIN, fill, find, log_in, page_loaded, screenshot, text_in, visible, wait
from selenium.webdriver.common.by import By

REVIEW = 'First line <b>not bold</b>\nSecond line <script>alert("x")</script> 📚'


def _fresh_book(site) -> dict:
    title = f"Reviewed in the browser {uuid.uuid4().hex[:8]}"
    body = {"title": title, "author": "Rhea Viewer", "price": "7.00", "stock": 10}
    return site.call("POST", "/books", token=site.admin_token(), json=body, expect=201)


def _buyer(site, book_id: int) -> tuple[str, str, str]:
    """A new customer whose order of the book an admin has marked paid: (username, password, token)."""
    username, password, _ = site.register("buyer")
    token = site.token(username, password)
    order = site.call("POST", "/orders", token=token, json={"items": [{"book_id": book_id, "quantity": 1}]}, expect=201)
    site.call("PATCH", f"/orders/{order['id']}/status", token=site.admin_token(), json={"status": "paid"}, expect=200)
    return username, password, token


def _rating_words(driver) -> str:
    return find(driver, "#book-rating .rating-summary").get_attribute("aria-label")


def test_a_buyer_reviews_a_book_and_its_average_changes(site, browser):
    d = browser
    book = _fresh_book(site)
    _, _, first_token = _buyer(site, book["id"])
    site.call("POST", f"/books/{book['id']}/reviews", token=first_token, json={"rating": 5}, expect=201)
    username, password, _ = _buyer(site, book["id"])

    log_in(d, site, username, password, next_path=f"/shop/books/{book['id']}")
    page_loaded(d, "#reviews[aria-busy='false']")
    visible(d, "#review-form")
    wait(d, lambda d: _rating_words(d) == "5 out of 5, 1 review", message="the first review's 5 stars")

    d.find_element(By.CSS_SELECTOR, "label[for='review-form-rating-4']").click()
    fill(d, "#review-form-title", "Good, not perfect")
    fill(d, "#review-form-body", REVIEW)
    find(d, "#review-submit").click()

    visible(d, "#own-review")
    wait(d, lambda d: _rating_words(d) == "4.5 out of 5, 2 reviews", message="the average after the review")
    assert find(d, "#review-form").is_displayed() is False
    text_in(d, "#review-count", "2 reviews")
    own = find(d, "#own-review .review-text")
    assert own.get_attribute("textContent") == REVIEW  # shown as text, exactly as written
    assert not d.find_elements(By.CSS_SELECTOR, "#reviews b, #reviews script")
    listed = [li for li in d.find_elements(By.CSS_SELECTOR, "#review-list .review") if "Good, not perfect" in li.text]
    assert listed and not listed[0].find_elements(By.CSS_SELECTOR, "button.helpful")  # not on one's own review

    # Edit it down to 2 stars: the average follows.
    find(d, "#review-edit").click()
    visible(d, "#review-form")
    d.find_element(By.CSS_SELECTOR, "label[for='review-form-rating-2']").click()
    find(d, "#review-submit").click()
    wait(d, lambda d: _rating_words(d) == "3.5 out of 5, 2 reviews", message="the average after the edit")
    screenshot(d, "reviews-buyer")

    # The card in the catalogue shows the same stars and count.
    d.get(site.url(f"/?q={book['title'].split()[-1]}"))
    card = visible(d, f".book-card[data-book-id='{book['id']}'] .rating-summary")
    assert card.get_attribute("aria-label") == "3.5 out of 5, 2 reviews"
    assert site.call("GET", f"/books/{book['id']}")["rating_average"] == "3.50"


def test_a_non_buyer_cannot_review(site, browser):
    d = browser
    book = _fresh_book(site)
    username, password, _ = site.register("browser")

    log_in(d, site, username, password, next_path=f"/shop/books/{book['id']}")
    page_loaded(d, "#reviews[aria-busy='false']")
    text_in(d, "#review-not-buyer", "You can review this book once you have bought it")

    assert not find(d, "#review-form").is_displayed()
    assert find(d, "#book-rating").text == "No reviews yet"
    refused = site.call(
        "POST", f"/books/{book['id']}/reviews", token=site.token(username, password), json={"rating": 5}
    )
    assert refused["status"] == 403
    assert "once you have bought it" in refused["detail"]
    screenshot(d, "reviews-non-buyer")


def test_a_visitor_is_asked_to_log_in_to_review(site, browser):
    d = browser
    book = _fresh_book(site)

    d.get(site.url(f"/shop/books/{book['id']}"))
    page_loaded(d, "#reviews[aria-busy='false']")
    link = visible(d, "#review-login")

    assert "/shop/login?next=" in link.get_attribute("href")
    assert not find(d, "#review-form").is_displayed()


def test_an_admin_hides_a_review_with_a_reason_and_unhides_it(site, browser):
    d = browser
    book = _fresh_book(site)
    for rating in (5, 1):
        _, _, token = _buyer(site, book["id"])
        site.call("POST", f"/books/{book['id']}/reviews", token=token, json={"rating": rating}, expect=201)

    log_in(d, site, *ADMIN, next_path=f"/shop/books/{book['id']}")
    page_loaded(d, "#reviews[aria-busy='false']")
    wait(d, lambda d: _rating_words(d) == "3 out of 5, 2 reviews", message="both reviews counted")
    one_star = [
        li
        for li in d.find_elements(By.CSS_SELECTOR, "#review-list .review")
        if "1 out of 5" in li.get_attribute("innerHTML")
    ]
    assert len(one_star) == 1
    one_star[0].find_element(By.XPATH, ".//button[normalize-space()='Hide…']").click()
    reason = one_star[0].find_element(By.CSS_SELECTOR, "input[name=reason]")
    reason.send_keys("Abusive language")
    one_star[0].find_element(By.XPATH, ".//button[normalize-space()='Hide review']").click()

    wait(d, lambda d: _rating_words(d) == "5 out of 5, 1 review", message="the hidden review left the average")
    text_in(d, "#review-hidden-list", "Hidden: Abusive language")
    assert len(d.find_elements(By.CSS_SELECTOR, "#review-list .review")) == 1
    screenshot(d, "reviews-admin-hidden")

    find(d, "#review-hidden-list button").click()
    wait(d, lambda d: _rating_words(d) == "3 out of 5, 2 reviews", message="unhidden, counted again")
    wait(d, lambda d: not find(d, "#review-moderation").is_displayed(), message="no hidden review left")
