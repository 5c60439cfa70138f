"""Covers in a real browser: an admin uploads one on /admin/books, and the shop shows it on the card
and the book page (desktop and phone); the book's admin page shows it and removes it; a refused file
is explained next to the control."""

import uuid

from e2e_support import ADMIN, find, log_in, screenshot, text_in, visible, wait
from PIL import Image
from selenium.webdriver.common.by import By

LOADED = "const i = arguments[0]; return i.complete && i.naturalWidth > 0 ? [i.naturalWidth, i.naturalHeight] : null;"


def loaded_size(driver, element):
    return wait(driver, lambda d: d.execute_script(LOADED, element), message="the image never loaded")


def test_an_admin_uploads_a_cover_and_the_shop_shows_it(site, browser, tmp_path):
    d = browser
    admin = site.admin_token()
    title = f"Covered {uuid.uuid4().hex[:8]}"
    book = site.call("POST", "/books", admin, json={"title": title, "author": "P. Ainter", "price": "7.00", "stock": 3}, expect=201)  # fmt: skip
    picture = tmp_path / "cover.png"
    Image.new("RGB", (800, 1200), (30, 110, 60)).save(picture)
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("these are notes, not pixels")

    # The admin finds the book and opens its editor: no cover yet.
    log_in(d, site, *ADMIN)
    d.get(site.url(f"/admin/books?q={title}"))
    row = visible(d, f"#books-rows tr[data-book-id='{book['id']}']")
    row.find_element(By.XPATH, ".//button[text()='Edit']").click()
    text_in(d, "#cover-state", "This book has no cover yet.")
    assert not find(d, "#cover-remove").is_displayed()

    # A file that is not an image is refused by the API, in words, next to the form.
    find(d, "#cover-form-file").send_keys(str(not_an_image))
    find(d, "#cover-form button[type=submit]").click()
    alert = text_in(d, "#cover-form-alert", "not a JPEG, PNG or WebP image")
    assert alert.is_displayed()
    assert site.call("GET", f"/books/{book['id']}")["cover_url"] is None

    # Choosing the picture shows a preview; uploading it saves it.
    find(d, "#cover-form-file").send_keys(str(picture))
    preview = visible(d, "#cover-preview img")
    assert preview.get_attribute("src").startswith("blob:")
    assert loaded_size(d, preview) == [800, 1200]
    find(d, "#cover-form button[type=submit]").click()
    text_in(d, "#page-status", f"New cover saved for “{title}”.")
    saved = site.call("GET", f"/books/{book['id']}")
    assert saved["cover_url"] and saved["cover_thumbnail_url"]
    current = visible(d, "#cover-preview img")
    assert current.get_attribute("src").endswith(saved["cover_url"])
    assert loaded_size(d, current) == [600, 900]
    screenshot(d, "covers-admin")

    # The shop: the card shows the lazy thumbnail, the book page the cover, both with their alt text.
    d.get(site.url(f"/?q={title}"))
    card_image = visible(d, f".book-card[data-book-id='{book['id']}'] img.cover")
    assert card_image.get_attribute("alt") == f"Cover of {title}"
    assert card_image.get_attribute("loading") == "lazy"
    assert card_image.get_attribute("src").endswith(saved["cover_thumbnail_url"])
    assert loaded_size(d, card_image) == [200, 300]
    screenshot(d, "covers-card")
    d.get(site.url(f"/shop/books/{book['id']}"))
    page_image = visible(d, "#book-cover img")
    assert page_image.get_attribute("alt") == f"Cover of {title}"
    assert page_image.get_attribute("src").endswith(saved["cover_url"])
    assert loaded_size(d, page_image) == [600, 900]
    screenshot(d, "covers-book-page")

    # The book's own admin page shows the same cover, and removing it there brings back the placeholder.
    d.get(site.url(f"/admin/books/{book['id']}"))
    on_book_page = visible(d, "#cover-preview img")
    assert on_book_page.get_attribute("src").endswith(saved["cover_url"])
    assert loaded_size(d, on_book_page) == [600, 900]
    visible(d, "#cover-remove").click()
    text_in(d, "#page-status", f"Removed the cover of “{title}”.")
    assert site.call("GET", f"/books/{book['id']}")["cover_url"] is None
    d.get(site.url(f"/?q={title}"))
    placeholder = visible(d, f".book-card[data-book-id='{book['id']}'] .cover-placeholder")
    assert placeholder.get_attribute("aria-hidden") == "true"


def test_the_demo_covers_show_on_a_phone(site, phone):
    d = phone
    d.get(site.url("/?q=Dracula"))
    card_image = visible(d, ".book-card img.cover")
    d.execute_script("arguments[0].scrollIntoView()", card_image)

    assert card_image.get_attribute("alt") == "Cover of Dracula"
    assert loaded_size(d, card_image) == [200, 300]
    width = d.execute_script("return arguments[0].getBoundingClientRect().width", card_image)
    assert 0 < width <= 390
    book_id = card_image.find_element(By.XPATH, "./ancestor::li").get_attribute("data-book-id")
    d.get(site.url(f"/shop/books/{book_id}"))
    page_image = visible(d, "#book-cover img")
    assert loaded_size(d, page_image) == [600, 900]
    screenshot(d, "covers-phone-book-page")
