"""Browsing aids in a real browser: the home page's genre links with counts, new arrivals and
bestsellers (at desktop and phone width), and "Customers also bought" on a book page once orders
holding the book with others are placed and `flask related` has run."""

import subprocess
import sys
import uuid
from pathlib import Path

from e2e_support import ROOT, at_path, find, find_all, no_horizontal_scroll, page_loaded, screenshot, visible, wait
from selenium.webdriver.common.by import By

VENV_BIN = Path(sys.executable).parent


def card_ids(driver, css: str) -> list[int]:
    return [int(card.get_attribute("data-book-id")) for card in find_all(driver, f"{css} .book-card")]


def test_home_shows_genre_links_with_counts_new_arrivals_and_bestsellers(site, browser):
    d = browser
    d.get(site.url("/"))
    page_loaded(d, "#discovery[aria-busy='false']")
    genres = site.call("GET", "/genres", expect=200)["items"]
    links = find_all(d, "#genre-list a")
    # The link reads "<genre> <n> books" (the word "books" for screen readers only).
    assert [" ".join(a.text.split()) for a in links] == [
        f"{g['genre']} {g['books']} book{'s' if g['books'] != 1 else ''}" for g in genres
    ]
    assert [a.find_element(By.CSS_SELECTOR, ".count").text for a in links] == [str(g["books"]) for g in genres]
    assert find(d, "#genre-nav").get_attribute("aria-labelledby") == "genres-heading"

    newest = site.call("GET", "/books?sort=-created_at&per_page=4", expect=200)["items"]
    best = site.call("GET", "/books?sold=true&sort=-popularity&per_page=4", expect=200)["items"]
    assert best, "the seeded order history sells some books"
    assert card_ids(d, "#new-arrivals-books") == [b["id"] for b in newest]
    assert card_ids(d, "#bestsellers-books") == [b["id"] for b in best]
    # Headings in order: the page's h1, a section's h2, its cards' h3.
    assert find(d, "#new-arrivals h2").text == "New arrivals"
    assert find(d, "#bestsellers h2").text == "Bestsellers"
    assert len(find_all(d, "#new-arrivals-books h3.book-title")) == len(newest)
    assert not find_all(d, "#discovery h2.book-title")
    screenshot(d, "discovery-home")

    # A genre link filters the catalogue by that genre; the shelves make way for the results.
    first = genres[0]
    links[0].click()
    at_path(d, r"/\?genre=.+")
    page_loaded(d, "#results[aria-busy='false']")
    wait(d, lambda d: find(d, "#result-count").text.startswith(f"{first['books']} book"), message="genre count")
    assert not find(d, "#discovery").is_displayed()
    assert find(d, "#search-genre").get_attribute("value") == first["genre"]


def test_home_shelves_fit_a_phone(site, phone):
    d = phone
    d.get(site.url("/"))
    page_loaded(d, "#discovery[aria-busy='false']")
    visible(d, "#genre-list a")
    visible(d, "#bestsellers-books .book-card")
    assert no_horizontal_scroll(d)
    screenshot(d, "discovery-home-phone")


def _refresh_related(site) -> str:
    env = {**site.server.env, "FLASK_APP": "run.py"}
    done = subprocess.run(
        [str(VENV_BIN / "flask"), "related"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_related_books_appear_after_orders(site, browser):
    d = browser
    admin = site.admin_token()
    tag = uuid.uuid4().hex[:6]
    ids = [
        site.call(
            "POST",
            "/books",
            admin,
            201,
            json={"title": f"Pair {tag} {n}", "author": "E2E", "price": "5.00", "stock": 20},
        )["id"]
        for n in range(3)
    ]
    a, b, c = ids
    d.get(site.url(f"/shop/books/{a}"))
    page_loaded(d, "#related[aria-busy='false']")
    assert not find(d, "#related").is_displayed()  # nobody ordered it yet: no section

    username, password, _ = site.register("pairs")
    token = site.token(username, password)
    for books in ([a, b], [a, b, c], [b, c]):
        items = [{"book_id": i, "quantity": 1} for i in books]
        site.call("POST", "/orders", token, 201, json={"items": items})
    assert "refreshed" in _refresh_related(site)

    d.get(site.url(f"/shop/books/{a}"))
    page_loaded(d, "#related[aria-busy='false']")
    visible(d, "#related")
    assert find(d, "#related h2").text == "Customers also bought"
    assert card_ids(d, "#related-books") == [b, c]  # b in two of a's orders, c in one
    titles = [t.text for t in find_all(d, "#related-books h3.book-title")]
    assert titles == [f"Pair {tag} 1", f"Pair {tag} 2"]
    screenshot(d, "discovery-related")
