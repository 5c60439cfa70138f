"""Books: admin writes, validation, stock, retire semantics, rights, one-book reads, the seeder."""

import itertools
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.books import reads, writes
from app.books.models import Book
from app.extensions import db
from tests.conftest import assert_problem

_n = itertools.count(1)


def _isbn13(first12: str) -> str:
    from app.books.schemas import isbn13_check_digit

    return first12 + isbn13_check_digit(first12)


@pytest.fixture
def make_book():
    """make_book(**overrides) -> the created Book (through the service, like POST /books)."""

    def factory(**overrides):
        n = next(_n)
        data = {"title": f"Book {n}", "author": f"Author {n}", "price": Decimal("10.00"), "stock": 5}
        data.update(overrides)
        return writes.create_book(data)

    return factory


def _stored(book_id):
    db.session.expire_all()
    return db.session.get(Book, book_id)


# --- create -------------------------------------------------------------------------------------


def test_create_book_returns_201_location_and_the_book(client, admin_headers):
    body = {
        "title": "  Dune ",
        "author": "Frank Herbert",
        "price": 9.5,
        "stock": 3,
        "genre": "Science Fiction",
        "description": "Spice, sand and prophecy.",
        "isbn": "0-441-17271-7",
        "published_year": 1965,
    }
    r = client.post("/books", json=body, headers=admin_headers)
    assert r.status_code == 201, r.get_json()
    book = r.get_json()
    assert r.headers["Location"] == f"/books/{book['id']}"
    assert book["title"] == "Dune"  # trimmed
    assert book["price"] == "9.50"
    assert book["isbn"] == "9780441172719"  # ISBN-10 stored as ISBN-13
    assert book["stock"] == 3 and book["in_stock"] is True
    assert book["published_year"] == 1965
    assert book["created_at"].endswith("Z") and book["updated_at"].endswith("Z")
    assert set(book) == {
        "id", "title", "author", "genre", "description", "isbn", "price", "stock", "in_stock",
        "published_year", "rating_average", "rating_count", "created_at", "updated_at",
        "published_year", "created_at", "updated_at", "cover_url", "cover_thumbnail_url",
    }  # fmt: skip
    assert book["rating_average"] is None and book["rating_count"] == 0
    assert client.get(r.headers["Location"]).get_json() == book


def test_create_book_defaults(client, admin_headers):
    r = client.post("/books", json={"title": "T", "author": "A", "price": "12"}, headers=admin_headers)
    assert r.status_code == 201
    book = r.get_json()
    assert book["stock"] == 0 and book["in_stock"] is False
    assert book["price"] == "12.00"
    assert book["genre"] is None and book["isbn"] is None and book["description"] is None


VALID = {"title": "T", "author": "A", "price": "10.00"}


@pytest.mark.parametrize(
    "change, field",
    [
        ({"title": None}, "title"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 256}, "title"),
        ({"title": 5}, "title"),
        ({"title": "bad \ud800 text"}, "title"),
        ({"author": "x" * 256}, "author"),
        ({"price": 0}, "price"),
        ({"price": "-1.00"}, "price"),
        ({"price": "1.005"}, "price"),
        ({"price": "abc"}, "price"),
        ({"price": True}, "price"),
        ({"price": "100000000"}, "price"),
        ({"price": "NaN"}, "price"),
        ({"stock": -1}, "stock"),
        ({"stock": 1.5}, "stock"),
        ({"stock": "2"}, "stock"),
        ({"stock": True}, "stock"),
        ({"stock": 10**12}, "stock"),
        ({"isbn": "9780306406158"}, "isbn"),  # wrong check digit
        ({"isbn": "0306406153"}, "isbn"),  # wrong ISBN-10 check digit
        ({"isbn": "12345"}, "isbn"),
        ({"isbn": "1234567890123"}, "isbn"),  # not 978/979
        ({"isbn": ""}, "isbn"),
        ({"genre": ""}, "genre"),
        ({"genre": "g" * 51}, "genre"),
        ({"description": "d" * 10_001}, "description"),
        ({"published_year": 999}, "published_year"),
        ({"published_year": 3000}, "published_year"),
        ({"published_year": "1999"}, "published_year"),
        ({"units_sold": 5}, "units_sold"),
        ({"is_retired": True}, "is_retired"),
        ({"in_stock": True}, "in_stock"),
        ({"id": 7}, "id"),
    ],
)
def test_create_book_rejects_bad_fields(client, admin_headers, change, field):
    before = db.session.execute(sa.select(sa.func.count()).select_from(Book)).scalar_one()
    r = client.post("/books", json={**VALID, **change}, headers=admin_headers)
    assert_problem(r, 400, field)
    assert db.session.execute(sa.select(sa.func.count()).select_from(Book)).scalar_one() == before


@pytest.mark.parametrize("missing", ["title", "author", "price"])
def test_create_book_requires_fields(client, admin_headers, missing):
    body = {k: v for k, v in VALID.items() if k != missing}
    assert_problem(client.post("/books", json=body, headers=admin_headers), 400, missing)


@pytest.mark.parametrize(
    "isbn, stored",
    [
        ("978-0-306-40615-7", "9780306406157"),
        ("0306406152", "9780306406157"),
        ("080442957X", "9780804429573"),
        ("080442957x", "9780804429573"),
        ("979 10 90636 07 1", "9791090636071"),
    ],
)
def test_isbn_forms_are_normalised(client, admin_headers, isbn, stored):
    r = client.post("/books", json={**VALID, "isbn": isbn}, headers=admin_headers)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["isbn"] == stored


def test_duplicate_isbn_is_409_in_any_form(client, admin_headers, make_book):
    make_book(isbn="9780306406157")
    r = client.post("/books", json={**VALID, "isbn": "0-306-40615-2"}, headers=admin_headers)
    body = assert_problem(r, 409)
    assert "isbn" in body["errors"]


def test_not_json_and_malformed_bodies(client, admin_headers):
    r = client.post("/books", data="title=x", headers={**admin_headers, "Content-Type": "text/plain"})
    assert_problem(r, 415)
    r = client.post("/books", data="{bad json", headers={**admin_headers, "Content-Type": "application/json"})
    assert_problem(r, 400)


# --- read one -------------------------------------------------------------------------------------


def test_get_book_public(client, make_book):
    book = make_book(title="Emma", author="Jane Austen", price=Decimal("8.99"), stock=0)
    r = client.get(f"/books/{book.id}")
    assert r.status_code == 200
    body = r.get_json()
    assert body["title"] == "Emma" and body["price"] == "8.99" and body["in_stock"] is False


@pytest.mark.parametrize("path", ["/books/999999", "/books/0", "/books/99999999999999999999999", "/books/abc"])
def test_get_unknown_book_is_404(client, path):
    assert_problem(client.get(path), 404)


# --- replace and patch ----------------------------------------------------------------------------


def test_put_replaces_and_clears_omitted_optional_fields_but_keeps_stock(client, admin_headers, make_book):
    book = make_book(genre="Poetry", description="Old", isbn="9780306406157", published_year=1990, stock=7)
    r = client.put(f"/books/{book.id}", json={"title": "New", "author": "Someone", "price": "5"}, headers=admin_headers)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["title"], body["author"], body["price"]) == ("New", "Someone", "5.00")
    assert body["genre"] is None and body["description"] is None
    assert body["isbn"] is None and body["published_year"] is None
    assert body["stock"] == 7
    r = client.put(f"/books/{book.id}", json={**VALID, "stock": 2}, headers=admin_headers)
    assert r.get_json()["stock"] == 2


def test_put_requires_the_post_fields(client, admin_headers, make_book):
    book = make_book(title="Keep")
    r = client.put(f"/books/{book.id}", json={"title": "Only a title"}, headers=admin_headers)
    assert_problem(r, 400, "author", "price")
    assert _stored(book.id).title == "Keep"


def test_patch_changes_only_what_is_given(client, admin_headers, make_book):
    book = make_book(genre="Poetry", stock=4, price=Decimal("3.00"))
    r = client.patch(f"/books/{book.id}", json={"price": "4.25"}, headers=admin_headers)
    assert r.status_code == 200
    body = r.get_json()
    assert body["price"] == "4.25" and body["genre"] == "Poetry" and body["stock"] == 4
    assert body["title"] == book.title
    r = client.patch(f"/books/{book.id}", json={"genre": None}, headers=admin_headers)
    assert r.get_json()["genre"] is None


@pytest.mark.parametrize(
    "body, field",
    [({"title": None}, "title"), ({"price": None}, "price"), ({"price": "0"}, "price"), ({"stock": -1}, "stock"),
     ({"isbn": "123"}, "isbn"), ({"colour": "red"}, "colour")],
)  # fmt: skip
def test_patch_rejects_bad_fields_and_changes_nothing(client, admin_headers, make_book, body, field):
    book = make_book(title="Same", price=Decimal("3.00"), stock=4)
    assert_problem(client.patch(f"/books/{book.id}", json=body, headers=admin_headers), 400, field)
    stored = _stored(book.id)
    assert (stored.title, stored.price, stored.stock) == ("Same", Decimal("3.00"), 4)


def test_patch_isbn_conflict_is_409(client, admin_headers, make_book):
    make_book(isbn="9780306406157")
    other = make_book()
    assert_problem(client.patch(f"/books/{other.id}", json={"isbn": "9780306406157"}, headers=admin_headers), 409)
    # Re-sending a book's own ISBN is not a conflict.
    mine = make_book(isbn="9780804429573")
    r = client.patch(f"/books/{mine.id}", json={"isbn": "080442957X"}, headers=admin_headers)
    assert r.status_code == 200


def test_write_to_unknown_book_is_404(client, admin_headers):
    assert_problem(client.put("/books/424242", json=VALID, headers=admin_headers), 404)
    assert_problem(client.patch("/books/424242", json={"title": "x"}, headers=admin_headers), 404)
    assert_problem(client.delete("/books/424242", headers=admin_headers), 404)
    assert_problem(client.put("/books/424242/stock", json={"stock": 1}, headers=admin_headers), 404)
    assert_problem(client.post("/books/424242/restock", json={"quantity": 1}, headers=admin_headers), 404)


# --- stock -------------------------------------------------------------------------------------------


def test_set_stock(client, admin_headers, make_book):
    book = make_book(stock=5)
    r = client.put(f"/books/{book.id}/stock", json={"stock": 0}, headers=admin_headers)
    assert r.status_code == 200
    assert r.get_json()["stock"] == 0 and r.get_json()["in_stock"] is False
    r = client.put(f"/books/{book.id}/stock", json={"stock": 12}, headers=admin_headers)
    assert r.get_json()["stock"] == 12 and r.get_json()["in_stock"] is True


@pytest.mark.parametrize(
    "body, field",
    [({"stock": -1}, "stock"), ({"stock": "3"}, "stock"), ({"stock": 2.5}, "stock"), ({"stock": None}, "stock"),
     ({}, "stock"), ({"stock": 1, "extra": 1}, "extra")],
)  # fmt: skip
def test_set_stock_rejects_bad_values_and_keeps_the_stock(client, admin_headers, make_book, body, field):
    book = make_book(stock=5)
    assert_problem(client.put(f"/books/{book.id}/stock", json=body, headers=admin_headers), 400, field)
    assert _stored(book.id).stock == 5


def test_restock_adds_copies(client, admin_headers, make_book):
    book = make_book(stock=2)
    r = client.post(f"/books/{book.id}/restock", json={"quantity": 3}, headers=admin_headers)
    assert r.status_code == 200
    assert r.get_json()["stock"] == 5
    r = client.post(f"/books/{book.id}/restock", json={"quantity": 1}, headers=admin_headers)
    assert r.get_json()["stock"] == 6


@pytest.mark.parametrize("quantity", [0, -1, 1.5, "2", None, True])
def test_restock_rejects_bad_quantities(client, admin_headers, make_book, quantity):
    book = make_book(stock=2)
    r = client.post(f"/books/{book.id}/restock", json={"quantity": quantity}, headers=admin_headers)
    assert_problem(r, 400, "quantity")
    assert _stored(book.id).stock == 2


def test_restock_beyond_the_maximum_is_400(client, admin_headers, make_book):
    from app.books.models import MAX_STOCK

    book = make_book(stock=MAX_STOCK - 1)
    assert_problem(
        client.post(f"/books/{book.id}/restock", json={"quantity": 2}, headers=admin_headers), 400, "quantity"
    )
    assert _stored(book.id).stock == MAX_STOCK - 1


def test_database_refuses_a_negative_stock(make_book):
    """The CHECK constraint is the backstop behind the validation."""
    book = make_book(stock=1)
    with pytest.raises(sa.exc.DBAPIError), db.session.begin_nested():
        db.session.execute(sa.update(Book).where(Book.id == book.id).values(stock=-1))
    assert _stored(book.id).stock == 1


# --- delete and retire ------------------------------------------------------------------------------


def _in_list(client, book_id) -> bool:
    items = client.get("/books?per_page=100").get_json()["items"]
    return any(item["id"] == book_id for item in items)


def test_delete_a_book_never_ordered_removes_it(client, admin_headers, make_book):
    book = make_book()
    r = client.delete(f"/books/{book.id}", headers=admin_headers)
    assert r.status_code == 204 and r.data == b""
    assert _stored(book.id) is None
    assert_problem(client.get(f"/books/{book.id}"), 404)
    assert_problem(client.delete(f"/books/{book.id}", headers=admin_headers), 404)


def test_delete_a_book_in_a_cart_retires_it_and_empties_the_carts(client, admin_headers, customer_headers, make_book):
    book = make_book(stock=5)
    keep = make_book(stock=5)
    assert client.post("/cart", json={"book_id": book.id, "quantity": 2}, headers=customer_headers).status_code == 200
    assert client.post("/cart", json={"book_id": keep.id}, headers=customer_headers).status_code == 200
    assert _in_list(client, book.id)

    assert client.delete(f"/books/{book.id}", headers=admin_headers).status_code == 204

    stored = _stored(book.id)
    assert stored is not None and stored.is_retired  # kept for history
    assert_problem(client.get(f"/books/{book.id}"), 404)
    assert not _in_list(client, book.id)
    cart = client.get("/cart", headers=customer_headers).get_json()
    assert [line["book_id"] for line in cart["items"]] == [keep.id]
    # A retired book cannot be changed, restocked or added to a cart.
    assert_problem(client.patch(f"/books/{book.id}", json={"title": "x"}, headers=admin_headers), 404)
    assert_problem(client.post(f"/books/{book.id}/restock", json={"quantity": 1}, headers=admin_headers), 404)
    assert_problem(client.put(f"/books/{book.id}/stock", json={"stock": 1}, headers=admin_headers), 404)
    assert_problem(client.delete(f"/books/{book.id}", headers=admin_headers), 404)
    assert_problem(client.post("/cart", json={"book_id": book.id}, headers=customer_headers), 404)


def test_delete_an_ordered_book_retires_it_and_keeps_the_order(client, admin_headers, customer_headers, make_book):
    book = make_book(title="Ordered once", stock=5, price=Decimal("7.50"))
    r = client.post("/orders", json={"items": [{"book_id": book.id, "quantity": 1}]}, headers=customer_headers)
    assert r.status_code == 201, r.get_json()
    order_id = r.get_json()["id"]

    assert client.delete(f"/books/{book.id}", headers=admin_headers).status_code == 204

    assert _stored(book.id).is_retired
    assert_problem(client.get(f"/books/{book.id}"), 404)
    order = client.get(f"/orders/{order_id}", headers=customer_headers).get_json()
    assert order["items"][0]["book_id"] == book.id and order["items"][0]["title"] == "Ordered once"


def test_isbn_of_a_retired_book_stays_taken(client, admin_headers, customer_headers, make_book):
    book = make_book(isbn="9780306406157", stock=1)
    client.post("/cart", json={"book_id": book.id}, headers=customer_headers)
    assert client.delete(f"/books/{book.id}", headers=admin_headers).status_code == 204
    body = assert_problem(client.post("/books", json={**VALID, "isbn": "9780306406157"}, headers=admin_headers), 409)
    assert "retired" in body["detail"]


# --- rights on every write -----------------------------------------------------------------------------

WRITES = [
    ("post", "/books", VALID),
    ("put", "/books/{id}", VALID),
    ("patch", "/books/{id}", {"title": "Changed"}),
    ("delete", "/books/{id}", None),
    ("put", "/books/{id}/stock", {"stock": 99}),
    ("post", "/books/{id}/restock", {"quantity": 9}),
]


@pytest.mark.parametrize("method, path, body", WRITES)
def test_anonymous_writes_are_401_and_change_nothing(client, make_book, method, path, body):
    book = make_book(title="Untouched", stock=5)
    r = getattr(client, method)(path.format(id=book.id), json=body)
    assert_problem(r, 401)
    stored = _stored(book.id)
    assert (stored.title, stored.stock, stored.is_retired) == ("Untouched", 5, False)
    assert db.session.execute(sa.select(sa.func.count()).select_from(Book)).scalar_one() == 1


@pytest.mark.parametrize("method, path, body", WRITES)
def test_customer_writes_are_403_and_change_nothing(client, customer_headers, make_book, method, path, body):
    book = make_book(title="Untouched", stock=5)
    r = getattr(client, method)(path.format(id=book.id), json=body, headers=customer_headers)
    assert_problem(r, 403)
    stored = _stored(book.id)
    assert (stored.title, stored.stock, stored.is_retired) == ("Untouched", 5, False)
    assert db.session.execute(sa.select(sa.func.count()).select_from(Book)).scalar_one() == 1


@pytest.mark.parametrize("method, path, body", WRITES)
def test_admin_writes_succeed(client, admin_headers, make_book, method, path, body):
    book = make_book(title="Untouched", stock=5)
    r = getattr(client, method)(path.format(id=book.id), json=body, headers=admin_headers)
    assert r.status_code in (200, 201, 204), r.get_json()


def test_every_books_route_declares_its_access(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("books."):  # the catalogue's own (reviews of a book: test_access_matrix.py)
            view = app.view_functions[rule.endpoint]
            assert getattr(view, "_access", None) in ("public", "admin"), rule.rule


def test_reads_are_public(client, make_book):
    book = make_book()
    assert client.get("/books").status_code == 200
    assert client.get(f"/books/{book.id}").status_code == 200


# --- the seeder -------------------------------------------------------------------------------------------


def test_demo_catalogue_is_idempotent(app):
    from app.books.seed import DEMO_BOOKS, load_demo_catalogue

    created, kept = load_demo_catalogue(echo=lambda *_: None)
    assert (created, kept) == (len(DEMO_BOOKS), 0)
    created, kept = load_demo_catalogue(echo=lambda *_: None)
    assert (created, kept) == (0, len(DEMO_BOOKS))
    books = db.session.execute(sa.select(Book)).scalars().all()
    assert len(books) == len(DEMO_BOOKS)
    assert {"Jane Austen", "Charles Dickens", "Leo Tolstoy"} <= {b.author for b in books}


def test_generated_catalogue_is_valid_and_varied(client, app):
    from app.books.schemas import isbn13_valid
    from app.books.seed import bulk_load

    assert bulk_load(300, batch=120, echo=lambda *_: None) == 300
    assert bulk_load(50, batch=120, echo=lambda *_: None) == 50  # continues the ISBN serials
    books = db.session.execute(sa.select(Book)).scalars().all()
    assert len(books) == 350
    isbns = [b.isbn for b in books if b.isbn]
    assert len(isbns) == len(set(isbns)) and all(isbn13_valid(i) for i in isbns)
    assert len({b.genre for b in books}) >= 12
    assert len({b.author for b in books}) >= 200
    assert len({b.price for b in books}) >= 20 and all(b.price > 0 for b in books)
    assert any(b.stock == 0 for b in books) and any(b.stock > 10 for b in books)
    assert min(len(b.description.split()) for b in books) >= 25
    # Every generated book passes the API's own validation (it could have been POSTed).
    from app.books.schemas import BookWriteSchema

    schema = BookWriteSchema()
    for b in books[:50]:
        schema.load({"title": b.title, "author": b.author, "price": str(b.price), "stock": b.stock,
                     "genre": b.genre, "description": b.description, "isbn": b.isbn,
                     "published_year": b.published_year})  # fmt: skip
    r = client.get("/books?per_page=5&sort=-popularity")
    assert r.get_json()["total"] == 350


def test_flask_seed_loads_the_demo_catalogue(app):
    from app.books.seed import seed_books

    seed_books(books=None)
    seed_books(books=None)
    assert db.session.execute(sa.select(sa.func.count()).select_from(Book)).scalar_one() == 25
    seed_books(books=10)
    assert db.session.execute(sa.select(sa.func.count()).select_from(Book)).scalar_one() == 35


# --- the maintained counts ---------------------------------------------------------------------------


def _counts():
    from app.books.models import BookCount

    db.session.expire_all()
    maintained = {
        row.genre.lower(): row.books for row in db.session.execute(sa.select(BookCount)).scalars() if row.books
    }
    counted = dict(
        db.session.execute(
            sa.select(sa.func.lower(sa.func.coalesce(Book.genre, "")), sa.func.count())
            .where(Book.is_retired.is_(False))
            .group_by(sa.func.lower(sa.func.coalesce(Book.genre, "")))
        ).all()
    )
    return maintained, counted


def test_per_genre_counts_stay_exact_through_every_write(client, admin_headers, customer_headers, make_book):
    a = make_book(genre="Poetry")
    b = make_book(genre="poetry")  # the same genre, any case
    c = make_book(genre=None)
    d = make_book(genre="History", stock=1)
    maintained, counted = _counts()
    assert maintained == counted == {"poetry": 2, "": 1, "history": 1}
    client.patch(f"/books/{a.id}", json={"genre": "History"}, headers=admin_headers)
    client.patch(f"/books/{b.id}", json={"genre": "POETRY"}, headers=admin_headers)
    client.put(f"/books/{c.id}", json={**VALID, "genre": "Drama"}, headers=admin_headers)
    client.put(f"/books/{d.id}/stock", json={"stock": 0}, headers=admin_headers)
    client.post("/cart", json={"book_id": b.id}, headers=customer_headers)
    assert client.delete(f"/books/{b.id}", headers=admin_headers).status_code == 204  # retired
    assert client.delete(f"/books/{d.id}", headers=admin_headers).status_code == 204  # deleted
    maintained, counted = _counts()
    assert maintained == counted == {"history": 1, "drama": 1}
    body = client.get("/books?per_page=1").get_json()
    assert body["total"] == 2
    assert client.get("/books?genre=HISTORY").get_json()["total"] == 1
    assert client.get("/books?genre=poetry").get_json()["total"] == 0


def test_counts_follow_the_bulk_load(client):
    from app.books.seed import bulk_load

    bulk_load(200, batch=64, echo=lambda *_: None)
    maintained, counted = _counts()
    assert maintained == counted and sum(maintained.values()) == 200
    assert client.get("/books").get_json()["total"] == 200
    genre = next(iter(maintained))
    assert client.get("/books", query_string={"genre": genre}).get_json()["total"] == maintained[genre]


# --- the hand-built document of GET /books/{id} equals BookSchema's -----------------------------------


def _rated(book, count: int, total: int):
    """The book with the rating columns the review triggers keep, set directly."""
    db.session.execute(sa.update(Book).where(Book.id == book.id).values(rating_count=count, rating_sum=total))
    db.session.commit()
    return _stored(book.id)


def _rows(books):
    return [db.session.execute(sa.select(*reads.COLUMNS).where(Book.id == b.id)).one() for b in books]


def test_book_document_is_what_book_schema_dumps(make_book):
    from app.books.schemas import BOOK_ROW_FIELDS, BookSchema, book_document

    assert tuple(c.key for c in reads.COLUMNS) == BOOK_ROW_FIELDS
    books = [
        make_book(stock=0, price=Decimal("0.10")),
        make_book(
            genre="Poetry",
            description='Ünïcödé ✓ "quoted"',
            isbn="9780306406157",
            published_year=1850,
            stock=7,
            price=Decimal("99999999.99"),
        ),  # fmt: skip
        _rated(make_book(), 3, 13),  # 4.33
        _rated(make_book(), 8, 33),  # 4.125, written 4.13 (half up)
        make_book(cover_digest="a" * 64, cover_thumbnail_digest="b" * 64),
    ]
    for book in books:
        row = db.session.execute(sa.select(*reads.COLUMNS).where(Book.id == book.id)).one()
        assert book_document(row) == BookSchema().dump(row) == BookSchema().dump(book)
    assert [book_document(r)["rating_average"] for r in _rows(books)] == [None, None, "4.33", "4.13", None]
