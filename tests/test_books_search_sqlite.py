"""GET /books?q= on SQLite: the FTS5 trigram index (migration 0012) only narrows the candidates, so
the results are those of the LIKE search it replaced, and the index follows every write.

The expected answer is computed here in Python with SQLite's LIKE rules (a literal substring, case
folded for ASCII letters only), not by the app's SQL."""

import string
from decimal import Decimal

import pytest

pytestmark = pytest.mark.usefixtures("sqlite_only")

ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)

# title, author, description, isbn (digits), retired
BOOKS = [
    ("Émile et l'Été", "Jean Rousseau", "Un traité sur l'éducation. ÉTÉ 1762.", "9782070111111", False),
    ("émile le petit", "Anne Dupré", "été comme hiver", None, False),
    ("The Silent Harbour", "Amelia Hartwell", "A detective returns to the fishing village.", "9781110000011", False),
    ("Harbour Lights", "Tom O'Brien", "Love on the quay, 100% guaranteed.", None, False),
    ("Snake_case Conventions", "Grace Hopper-Smith", "Naming things: under_scores versus camelCase.", None, False),
    ('Quotes "and" Apostrophes', "Séverine Dubois", "Poems about the café.", "9780000000019", False),
    ("ΑΘΗΝΑ Guide", "Νίκος Παππάς", "αθηνα by night", None, False),
    ("Ab Ox", "Xi Li", "ab ox", None, False),
    ("Retired Harbour Tale", "Amelia Hartwell", "Gone from the shop.", None, True),
]
QUERIES = [
    "émile", "Émile", "ÉMILE", "été", "ÉTÉ", "Été", "rousseau", "ROUSSEAU", "harbour", "HARBOUR lights",
    "silent harbour", "amelia", "100%", "0%", "under_", "_case", "snake_case", '"and"', "o'brien", "séverine",
    "SÉVERINE", "café", "CAFÉ", "αθηνα", "ΑΘΗΝΑ", "Αθηνα", "ab", "ox", "x", "ab ox", "978-1-11-000001-1",
    "9781110000011", "00000", "nothing-like-this", "the", "é", "hopper-smith", "traité", "TRAITÉ",
]  # fmt: skip


@pytest.fixture
def sqlite_only(is_mysql):
    if is_mysql:
        pytest.skip("the trigram index is SQLite's; MySQL/MariaDB search with FULLTEXT (test_books_search.py)")


@pytest.fixture
def shelf(book):
    rows = []
    for title, author, description, isbn, retired in BOOKS:
        row = book(title=title, author=author, description=description, isbn=isbn, is_retired=retired,
                   price=Decimal("5.00"))  # fmt: skip
        rows.append(row)
    return rows


def _like(text: str | None, word: str) -> bool:
    return text is not None and word.translate(ASCII_LOWER) in text.translate(ASCII_LOWER)


def _expected(rows, q: str) -> set[int]:
    words = [w.replace("-", "") if w[:1].isdigit() and w.replace("-", "").isdigit() else w for w in q.split()]
    return {
        r.id
        for r in rows
        if not r.is_retired
        and all(any(_like(getattr(r, c), w) for c in ("title", "author", "description", "isbn")) for w in words)
    }


def _found(client, q: str) -> tuple[set[int], int]:
    body = client.get("/books", query_string={"q": q, "per_page": 100}).get_json()
    return {b["id"] for b in body["items"]}, body["total"]


@pytest.mark.parametrize("q", QUERIES)
def test_search_finds_what_like_finds(client, shelf, q):
    ids, total = _found(client, q)
    assert ids == _expected(shelf, q)
    assert total == len(ids)


def test_case_is_folded_for_ascii_letters_only_as_like_does(client, shelf):
    emile_upper, emile_lower = shelf[0].id, shelf[1].id
    assert _found(client, "émile")[0] == {emile_lower}
    assert _found(client, "Émile")[0] == {emile_upper}
    assert _found(client, "HARBOUR")[0] == {shelf[2].id, shelf[3].id}


def test_the_index_follows_creates_changes_and_deletions(client, admin_headers, shelf):
    created = client.post("/books", headers=admin_headers,
                          json={"title": "Marsh Wyrms", "author": "Ida Fen", "price": "7.00"})  # fmt: skip
    assert created.status_code == 201, created.get_json()
    new_id = created.get_json()["id"]
    assert _found(client, "wyrms")[0] == {new_id}

    changed = client.patch(f"/books/{new_id}", headers=admin_headers, json={"title": "Fen Dragons"})
    assert changed.status_code == 200
    assert _found(client, "wyrms") == (set(), 0)
    assert _found(client, "dragons")[0] == {new_id}

    restocked = client.put(f"/books/{new_id}/stock", headers=admin_headers, json={"stock": 3})
    assert restocked.status_code == 200
    assert _found(client, "dragons")[0] == {new_id}

    assert client.delete(f"/books/{new_id}", headers=admin_headers).status_code == 204
    assert _found(client, "dragons") == (set(), 0)
