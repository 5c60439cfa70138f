"""Text fields hold text a reader sees as it is stored: no control characters, no bidirectional
overrides or isolates (U+202E makes "txt.exe" display as "exe.txt"). One-line fields (names,
titles, authors, genres, emails, login names, search words) refuse every C0/C1 control character,
line and paragraph separators included; multi-line free text (a book's description, a shipping
address) keeps tab, CR and LF. Emoji, ZWJ sequences and the direction marks stay accepted."""

import pytest

from app.extensions import limiter
from tests.conftest import PASSWORD, assert_problem

REFUSED_EVERYWHERE = {
    "soh": "\x01",
    "escape": "\x1b",
    "delete": "\x7f",
    "c1-nel": "\x85",
    "c1-csi": "\x9b",
    "rlo": "\u202e",
    "lro": "\u202d",
    "rle": "\u202b",
    "pdf": "\u202c",
    "rli": "\u2067",
    "fsi": "\u2068",
    "pdi": "\u2069",
}
LINE_BREAKS = {"tab": "\t", "lf": "\n", "cr": "\r", "line-separator": "\u2028", "paragraph-separator": "\u2029"}


def _book(n: int = 0, **fields) -> dict:
    return {"title": f"Book {n}", "author": "An Author", "price": "3.00", **fields}


def _person(n: int = 0, **fields) -> dict:
    return {
        "name": f"Person {n}",
        "email": f"p{n}@example.com",
        "username": f"person{n}",
        "password": PASSWORD,
        **fields,
    }


@pytest.fixture(autouse=True)
def _no_limits(monkeypatch):
    monkeypatch.setattr(limiter, "enabled", False)


ONE_LINE_BODIES = [
    ("POST", "/books", "title", _book),
    ("POST", "/books", "author", _book),
    ("POST", "/books", "genre", _book),
    ("POST", "/register", "name", _person),
    ("POST", "/register", "email", _person),
    ("POST", "/customers", "name", _person),
    ("POST", "/login", "username", lambda **f: {"username": "someone", "password": PASSWORD, **f}),
]


def _sample(field: str, char: str) -> str:
    return f"ab{char}c@example.com" if field == "email" else f"Eve{char}lyn"


@pytest.mark.parametrize("char", [*REFUSED_EVERYWHERE.values(), *LINE_BREAKS.values()],
                         ids=[*REFUSED_EVERYWHERE, *LINE_BREAKS])  # fmt: skip
@pytest.mark.parametrize(
    "method, path, field, base", ONE_LINE_BODIES, ids=[f"{p} {f}" for _, p, f, _ in ONE_LINE_BODIES]
)
def test_one_line_text_refuses_control_and_bidi_characters(client, admin_headers, method, path, field, base, char):
    response = client.open(path, method=method, json=base(**{field: _sample(field, char)}), headers=admin_headers)

    body = assert_problem(response, 400, field)
    assert body["title"] == "Validation failed"


def test_the_message_names_the_character(client, admin_headers):
    response = client.post("/books", json=_book(title="\u202eevil"), headers=admin_headers)

    body = assert_problem(response, 400, "title")
    assert body["errors"]["title"] == ["Must not contain control characters or bidirectional overrides (found U+202E)."]


@pytest.mark.parametrize("name", ["q", "author", "genre"])
@pytest.mark.parametrize("char", ["\x01", "\x1b", "\u202e", "\n"], ids=["soh", "escape", "rlo", "lf"])
def test_search_text_refuses_control_and_bidi_characters(client, name, char):
    assert_problem(client.get("/books", query_string={name: f"dune{char}"}), 400, name)


def test_customer_search_refuses_control_characters(client, admin_headers):
    assert_problem(client.get("/customers", query_string={"q": "a\x1bb"}, headers=admin_headers), 400, "q")


@pytest.mark.parametrize("char", REFUSED_EVERYWHERE.values(), ids=REFUSED_EVERYWHERE.keys())
def test_a_description_refuses_control_and_bidi_characters(client, admin_headers, char):
    response = client.post("/books", json=_book(description=f"Line one{char}"), headers=admin_headers)

    assert_problem(response, 400, "description")


def test_a_description_keeps_tabs_and_line_breaks(client, admin_headers):
    text = "First line\n\tindented\r\nlast line"

    response = client.post("/books", json=_book(description=text), headers=admin_headers)

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["description"] == text


def test_a_shipping_address_keeps_its_lines_and_refuses_overrides(client, book, customer_headers):
    item = book(stock=5)
    lines = [{"book_id": item.id, "quantity": 1}]

    refused = client.post(
        "/orders", json={"items": lines, "shipping_address": "1 Main St\u202e"}, headers=customer_headers
    )
    placed = client.post(
        "/orders", json={"items": lines, "shipping_address": "1 Main St\nSpringfield"}, headers=customer_headers
    )

    assert_problem(refused, 400, "shipping_address")
    assert placed.status_code == 201, placed.get_json()
    assert placed.get_json()["shipping_address"] == "1 Main St\nSpringfield"


@pytest.mark.parametrize(
    "title",
    [
        "👩‍👩‍👧‍👦 Family",  # ZWJ sequence
        "🏳️‍🌈 and 🇫🇷",  # variation selector, ZWJ, regional indicators
        "كتاب\u200f 2024",  # RIGHT-TO-LEFT MARK
        "abc\u200edef",  # LEFT-TO-RIGHT MARK
        "١٢٣ \u061c",  # ARABIC LETTER MARK, Arabic-Indic digits in text
        "A\u200bB\u200cC",  # zero-width space and non-joiner
    ],
    ids=["zwj-family", "flags", "rlm", "lrm", "alm", "zero-width"],
)
def test_emoji_sequences_and_direction_marks_are_kept(client, admin_headers, title):
    response = client.post("/books", json=_book(title=title), headers=admin_headers)

    assert response.status_code == 201, response.get_json()
    assert client.get(f"/books/{response.get_json()['id']}").get_json()["title"] == title
