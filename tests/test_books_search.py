"""GET /books: search, filters, sorts (ties and descending), page and cursor paging, statement counts.

The catalogue of this module is committed for real (and deleted at the end): MariaDB's FULLTEXT
index only sees committed rows, so the per-test rolled-back transaction cannot hold it.
"""

import base64
import json
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from app.books import reads
from app.books.models import Book
from app.books.schemas import isbn13_check_digit
from app.extensions import db
from app.prepared import READ_TIME_LIMIT, reader
from tests.conftest import assert_problem

T0 = datetime(2024, 1, 1, 12, 0, 0)


def _isbn(n: int) -> str:
    first12 = f"978111{n:06d}"
    return first12 + isbn13_check_digit(first12)


# key, title, author, genre, price, stock, units_sold, minutes after T0, description
SPECS = [
    ("silent", "The Silent Harbour", "Amelia Hartwell", "Mystery", "12.50", 3, 40, 1,
     "A detective returns to the fishing village of Kilbridge."),
    ("lights", "Harbour Lights", "Tom O'Brien", "Romance", "8.00", 0, 5, 2, "Love on the quay, 100% guaranteed."),
    ("snake", "Snake_case Conventions", "Grace Hopper-Smith", "Science", "30.00", 10, 12, 3,
     "Naming things in code: under_scores versus camelCase."),
    ("plus", "Plus+Minus-Tilde~", "Operator Jones", "Science", "15.00", 1, 0, 4,
     "Boolean operators explained. Serial " + "abc123" * 15 + "."),
    ("fox", "Fox and Box", "Ann Ox", "Children's", "5.99", 20, 100, 5, "A fox in a box."),
    ("twin1", "Twin", "Zed Author", "Fantasy", "10.00", 2, 7, 6, "First twin."),
    ("twin2", "Twin", "Zed Author", "Fantasy", "10.00", 2, 7, 6, "Second twin."),
    ("twin3", "Twin", "Zed Author", "Fantasy", "10.00", 2, 7, 6, "Third twin."),
    ("dragons", "Dragons of Eldmoor", "Amelia Hartwell", "Fantasy", "14.00", 6, 70, 7, "Wyrms over the marsh."),
    ("quotes", 'Quotes "and" Apostrophes', "Séverine Dubois", "Poetry", "22.00", 0, 3, 8,
     "Poems about the café and the ocean."),
    ("winter", "Winter Orchard", "Kenji Nakamura", "Fiction", "18.25", 7, 55, 9,
     "Three generations tend an orchard in the mountains."),
    ("percent", "Percent Signs", "Pat Percent", "Business", "9.99", 4, 1, 10, "Margins of 50% and more."),
]  # fmt: skip
RETIRED = ("retired", "Retired Harbour Tale", "Amelia Hartwell", "Mystery", "11.00", 5, 2, 11, "Gone from the shop.")


@pytest.fixture(scope="module")
def catalogue(app):
    """{key: row dict with id} for the live books; the retired one under "retired"."""
    engine = db.engine
    assert isinstance(engine, sa.Engine), "module fixture must run outside the per-test transaction"
    rows = {}
    with engine.begin() as conn:
        for n, (key, title, author, genre, price, stock, sold, minutes, description) in enumerate([*SPECS, RETIRED]):
            values = {
                "title": title, "author": author, "genre": genre, "price": Decimal(price), "stock": stock,
                "units_sold": sold, "description": description, "isbn": _isbn(n), "published_year": 2000 + n,
                "is_retired": key == "retired", "created_at": T0 + timedelta(minutes=minutes),
                "updated_at": T0 + timedelta(minutes=minutes),
            }  # fmt: skip
            book_id = conn.execute(sa.insert(Book).values(**values)).inserted_primary_key[0]
            rows[key] = {**values, "id": book_id}
    yield rows
    with engine.begin() as conn:
        conn.execute(sa.delete(Book).where(Book.id.in_([r["id"] for r in rows.values()])))


@pytest.fixture
def ids(catalogue):
    return {key: row["id"] for key, row in catalogue.items()}


def _live(catalogue):
    return [row for key, row in catalogue.items() if key != "retired"]


def _titles(response):
    assert response.status_code == 200, response.get_json()
    return sorted(item["title"] for item in response.get_json()["items"])


def _search(client, q, **params):
    return _titles(client.get("/books", query_string={"q": q, "per_page": 100, **params}))


def _by_key(catalogue, *keys):
    return sorted(catalogue[k]["title"] for k in keys)


# --- search -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "q, keys",
    [
        ("harbour", ["silent", "lights"]),  # title; never the retired "Retired Harbour Tale"
        ("HARBOUR", ["silent", "lights"]),
        ("hartwell", ["silent", "dragons"]),  # author
        ("kilbridge detective", ["silent"]),  # description, every word must appear
        ("detective Hartwell", ["silent"]),  # words from different columns
        ("harbour love", ["lights"]),
        ("orchard", ["winter"]),
        ("mountains orchard three", ["winter"]),
        ("café", ["quotes"]),
        ("fox", ["fox"]),
        ("ox", ["fox"]),  # shorter than the full-text minimum: matched literally
        ("fox ox", ["fox"]),
        ("the", ["silent", "lights", "quotes", "winter", "dragons"]),  # a full-text stopword: matched literally
        ("o'brien", ["lights"]),
        ("under_scores", ["snake"]),
        ("nosuchwordanywhere", []),
        ("retired", []),
        ("harbour nosuchword", []),
        ("abc123" * 15, ["plus"]),  # longer than the full-text index keeps: matched literally
        ("serial " + "abc123" * 15, ["plus"]),
    ],
)
def test_search_matches_every_word_in_title_author_description_or_isbn(client, catalogue, q, keys):
    assert _search(client, q) == _by_key(catalogue, *keys)


@pytest.mark.parametrize(
    "q, keys",
    [
        ("100%", ["lights"]),
        ("50%", ["percent"]),
        ("%", ["lights", "percent"]),  # `%` is literal, not "anything"
        ("_", ["snake"]),  # `_` is literal, not "any character"
        ("Snake_case", ["snake"]),
        ("plus+minus-tilde~", ["plus"]),
        ('"and"', ["quotes"]),
        ("+harbour", []),  # `+`, `-`, `*`, quotes are not search operators
        ("harbour*", []),
        ("-lights", []),
        ('"unbalanced', []),
        ("(harbour)", []),
        ("harbour @2", []),
        ("~ < > ( ) * + - @", []),
        ("\\", []),
        ("' OR 1=1 --", []),
    ],
)
def test_search_treats_wildcards_quotes_and_operators_literally(client, catalogue, q, keys):
    assert _search(client, q) == _by_key(catalogue, *keys)


def test_search_by_isbn_plain_or_hyphenated(client, catalogue):
    isbn = catalogue["winter"]["isbn"]
    assert _search(client, isbn) == _by_key(catalogue, "winter")
    hyphenated = f"{isbn[:3]}-{isbn[3:4]}-{isbn[4:9]}-{isbn[9:12]}-{isbn[12]}"
    assert _search(client, hyphenated) == _by_key(catalogue, "winter")


def test_blank_q_is_no_search(client, catalogue):
    assert client.get("/books?q=&per_page=100").get_json()["total"] == len(_live(catalogue))


# --- filters -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, keys",
    [
        ({"author": "hartwell"}, ["silent", "dragons"]),
        ({"author": "HART"}, ["silent", "dragons"]),
        ({"author": "o'brien"}, ["lights"]),
        ({"author": "%"}, []),
        ({"author": "_"}, []),
        ({"genre": "fantasy"}, ["twin1", "twin2", "twin3", "dragons"]),
        ({"genre": "FANTASY"}, ["twin1", "twin2", "twin3", "dragons"]),
        ({"genre": "Fant"}, []),
        ({"genre": "Children's"}, ["fox"]),
        ({"min_price": "22"}, ["snake", "quotes"]),
        ({"max_price": "8.00"}, ["lights", "fox"]),
        ({"min_price": "10", "max_price": "10.00"}, ["twin1", "twin2", "twin3"]),
        ({"min_price": "0"}, [k for k, *_ in SPECS]),
        ({"in_stock": "false"}, ["lights", "quotes"]),
        ({"in_stock": "true", "genre": "science"}, ["snake", "plus"]),
        ({"in_stock": "true", "max_price": "9.99", "author": "a"}, ["fox", "percent"]),
        ({"q": "harbour", "in_stock": "true"}, ["silent"]),
        ({"q": "twin", "genre": "fantasy", "min_price": "10"}, ["twin1", "twin2", "twin3"]),
    ],
)
def test_filters(client, catalogue, params, keys):
    r = client.get("/books", query_string={"per_page": 100, **params})
    assert _titles(r) == _by_key(catalogue, *keys)
    assert r.get_json()["total"] == len(keys)


def test_in_stock_true_lists_only_books_with_copies(client, catalogue):
    items = client.get("/books?in_stock=true&per_page=100").get_json()["items"]
    assert items and all(item["stock"] > 0 and item["in_stock"] for item in items)
    assert len(items) == sum(1 for row in _live(catalogue) if row["stock"] > 0)


@pytest.mark.parametrize(
    "params, field",
    [
        ({"sort": "bogus"}, "sort"),
        ({"sort": "-"}, "sort"),
        ({"sort": "id"}, "sort"),
        ({"sort": "units_sold"}, "sort"),
        ({"min_price": "-1"}, "min_price"),
        ({"min_price": "abc"}, "min_price"),
        ({"min_price": "1.001"}, "min_price"),
        ({"max_price": "NaN"}, "max_price"),
        ({"max_price": "1e400"}, "max_price"),
        ({"min_price": "20", "max_price": "10"}, "max_price"),
        ({"in_stock": "maybe"}, "in_stock"),
        ({"in_stock": "1"}, "in_stock"),
        ({"page": "0"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page": "abc"}, "page"),
        ({"page": "1.5"}, "page"),
        ({"per_page": "0"}, "per_page"),
        ({"per_page": "101"}, "per_page"),
        ({"per_page": "x"}, "per_page"),
        ({"q": "x" * 201}, "q"),
        ({"genre": "g" * 51}, "genre"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": ""}, "cursor"),
        ({"q": "bad \x00 byte"}, "q"),
    ],
)
def test_bad_parameters_are_400_naming_them(client, catalogue, params, field):
    assert_problem(client.get("/books", query_string=params), 400, field)


# --- sorts -----------------------------------------------------------------------------------------

SORT_FIELDS = {"title": "title", "author": "author", "price": "price", "created_at": "created_at",
               "popularity": "units_sold"}  # fmt: skip


def _expected_ids(catalogue, sort, **filters):
    key = SORT_FIELDS[sort.lstrip("-")]
    rows = _live(catalogue)
    if "genre" in filters:
        rows = [r for r in rows if r["genre"].lower() == filters["genre"].lower()]
    ordered = sorted(rows, key=lambda r: (r[key], r["id"]), reverse=sort.startswith("-"))
    return [r["id"] for r in ordered]


ALL_SORTS = [*SORT_FIELDS, *("-" + s for s in SORT_FIELDS)]


@pytest.mark.parametrize("sort", ALL_SORTS)
def test_sort_with_id_tie_break_both_directions(client, catalogue, sort):
    r = client.get("/books", query_string={"sort": sort, "per_page": 100})
    assert [item["id"] for item in r.get_json()["items"]] == _expected_ids(catalogue, sort)


def test_default_sort_is_title_then_id(client, catalogue, ids):
    items = client.get("/books?per_page=100").get_json()["items"]
    assert [i["id"] for i in items] == _expected_ids(catalogue, "title")
    twins = [i["id"] for i in items if i["title"] == "Twin"]
    assert twins == sorted([ids["twin1"], ids["twin2"], ids["twin3"]])


@pytest.mark.parametrize("sort", ["price", "-price", "popularity", "-created_at"])
def test_filter_and_sort_together(client, catalogue, sort):
    r = client.get("/books", query_string={"sort": sort, "genre": "fantasy", "per_page": 100})
    assert [item["id"] for item in r.get_json()["items"]] == _expected_ids(catalogue, sort, genre="fantasy")


# --- page paging -----------------------------------------------------------------------------------------


def test_page_paging_edges(client, catalogue):
    total = len(_live(catalogue))  # 12
    expected = _expected_ids(catalogue, "title")
    seen = []
    for page in (1, 2, 3):
        r = client.get(f"/books?per_page=5&page={page}")
        body = r.get_json()
        assert (body["page"], body["per_page"], body["total"], body["pages"]) == (page, 5, total, 3)
        seen += [i["id"] for i in body["items"]]
    assert seen == expected
    last = client.get("/books?per_page=5&page=3").get_json()
    assert len(last["items"]) == 2 and last["next_cursor"] is None
    past = client.get("/books?per_page=5&page=4")
    assert past.status_code == 200
    assert past.get_json()["items"] == [] and past.get_json()["total"] == total
    assert past.get_json()["next_cursor"] is None
    full = client.get("/books?per_page=100").get_json()
    assert len(full["items"]) == total and full["pages"] == 1
    assert all(type(full[k]) is int for k in ("page", "per_page", "total", "pages"))
    for item in full["items"][:3]:  # a list item is exactly the book's own document
        assert item == client.get(f"/books/{item['id']}").get_json()


def test_link_header(client, catalogue):
    link = client.get("/books?per_page=5&page=2&genre=").headers["Link"]
    for rel, page in (("first", 1), ("prev", 1), ("next", 3), ("last", 3)):
        assert f'page={page}&per_page=5>; rel="{rel}"' in link
    first = client.get("/books?per_page=5").headers["Link"]
    assert 'rel="prev"' not in first and 'rel="next"' in first


def test_empty_result_envelope(client, catalogue):
    r = client.get("/books?q=nosuchwordanywhere")
    assert r.get_json() == {"items": [], "page": 1, "per_page": 20, "total": 0, "pages": 0, "next_cursor": None}


# --- cursor paging -----------------------------------------------------------------------------------------


def _walk_cursor(client, **params):
    pages, body = [], client.get("/books", query_string=params).get_json()
    pages.append(body)
    while body["next_cursor"]:
        body = client.get("/books", query_string={**params, "cursor": body["next_cursor"]}).get_json()
        assert "items" in body, body
        pages.append(body)
        assert len(pages) < 50
    return pages


@pytest.mark.parametrize("sort", ALL_SORTS)
def test_cursor_walk_visits_every_book_once_in_order(client, catalogue, sort):
    pages = _walk_cursor(client, sort=sort, per_page=5)
    ids = [item["id"] for page in pages for item in page["items"]]
    assert ids == _expected_ids(catalogue, sort)
    assert [page["page"] for page in pages] == [1, 2, 3]
    assert pages[-1]["next_cursor"] is None
    assert all(page["total"] == len(ids) for page in pages)


@pytest.mark.parametrize("sort", ALL_SORTS)
def test_cursor_walk_one_by_one_through_ties(client, catalogue, sort):
    """Page boundaries inside a run of equal sort values (the three "Twin" books) lose nothing."""
    pages = _walk_cursor(client, sort=sort, per_page=1)
    assert [item["id"] for page in pages for item in page["items"]] == _expected_ids(catalogue, sort)
    assert [page["page"] for page in pages] == list(range(1, len(pages) + 1))


def test_cursor_walk_with_filters(client, catalogue):
    pages = _walk_cursor(client, sort="-price", genre="FANTASY", per_page=1)
    ids = [item["id"] for page in pages for item in page["items"]]
    assert ids == _expected_ids(catalogue, "-price", genre="fantasy")


def test_cursor_and_page_paging_agree(client, catalogue):
    by_page = client.get("/books?sort=-popularity&per_page=4&page=2").get_json()
    first = client.get("/books?sort=-popularity&per_page=4").get_json()
    by_cursor = client.get(f"/books?sort=-popularity&per_page=4&cursor={first['next_cursor']}").get_json()
    assert by_cursor["items"] == by_page["items"]
    assert by_cursor["page"] == 2


def test_bad_cursors_are_400(client, catalogue):
    cursor = client.get("/books?per_page=3").get_json()["next_cursor"]
    assert cursor
    # with page
    assert_problem(client.get(f"/books?per_page=3&page=2&cursor={cursor}"), 400, "cursor")
    # made for another sort or other filters
    assert_problem(client.get(f"/books?per_page=3&sort=price&cursor={cursor}"), 400, "cursor")
    assert_problem(client.get(f"/books?per_page=3&genre=fantasy&cursor={cursor}"), 400, "cursor")
    # tampered: same payload shape, changed values, so the signature no longer matches
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    payload = json.loads(raw[12:])
    payload[2] = 1
    forged = base64.urlsafe_b64encode(raw[:12] + json.dumps(payload).encode()).rstrip(b"=").decode()
    assert_problem(client.get(f"/books?per_page=3&cursor={forged}"), 400, "cursor")
    for junk in ("!!!", "AAAA", cursor[:-2], "x" * 3000):
        assert_problem(client.get("/books", query_string={"cursor": junk}), 400, "cursor")


# --- cost per request -----------------------------------------------------------------------------------------


class StatementCounter:
    def __init__(self, bind):
        self.bind, self.statements = bind, []

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)

    def __enter__(self):
        event.listen(self.bind, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc):
        event.remove(self.bind, "before_cursor_execute", self._record)


@pytest.mark.parametrize(
    "query",
    ["/books?per_page=100", "/books?per_page=100&q=harbour&in_stock=true", "/books?per_page=2&sort=-price&page=3",
     "/books?genre=fantasy&sort=popularity&per_page=1", "/books?q=the+ox&author=a"],
)  # fmt: skip
def test_a_list_page_is_at_most_three_statements(client, catalogue, query):
    with StatementCounter(db.engines[None]) as counter:
        r = client.get(query)
    assert r.status_code == 200
    assert 1 <= len(counter.statements) <= 3, counter.statements
    if r.get_json()["next_cursor"]:
        with StatementCounter(db.engines[None]) as counter:
            r = client.get(query.split("&page=")[0] + "&cursor=" + r.get_json()["next_cursor"])
        assert r.status_code == 200, r.get_json()
        assert 1 <= len(counter.statements) <= 3, counter.statements


def test_get_one_book_is_one_statement(client, ids):
    with StatementCounter(db.engines[None]) as counter:
        r = client.get(f"/books/{ids['winter']}")
    assert r.status_code == 200 and r.get_json()["title"] == "Winter Orchard"
    assert len(counter.statements) == 1, counter.statements


def test_retired_book_is_404_to_the_public(client, ids):
    assert_problem(client.get(f"/books/{ids['retired']}"), 404)


@pytest.fixture
def real_engine():
    """Serve requests from the app's real engine (not the per-test connection) for one test."""
    connection = db.engines[None]
    db.engines[None] = connection.engine
    reader().bind(None)
    try:
        yield connection.engine
    finally:
        db.engines[None] = connection
        reader().bind(connection)


def _server_counters(engine) -> dict:
    with reader().engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SHOW SESSION STATUS WHERE Variable_name IN ('Com_select', 'Com_rollback', 'Com_commit', 'Questions')"
        ).all()
    return {name: int(value) for name, value in rows}


@pytest.mark.mysql_only
def test_mariadb_sees_one_select_and_no_rollback_per_book_read(client, is_mysql, ids, real_engine):
    """Measured by the server itself: its own per-connection counters, on the pooled read connection."""
    if not is_mysql:
        pytest.skip("server counters are MySQL/MariaDB's")
    assert client.get(f"/books/{ids['silent']}").status_code == 200  # opens the read connection
    before = _server_counters(real_engine)
    for key in ("silent", "winter", "fox", "lights", "snake"):
        assert client.get(f"/books/{ids[key]}").get_json()["id"] == ids[key]
    assert_problem(client.get(f"/books/{ids['retired']}"), 404)
    after = _server_counters(real_engine)
    delta = {name: after[name] - before[name] for name in before}
    # 6 requests → 6 SELECTs; Questions counts every statement received, plus the one SHOW.
    assert delta == {"Com_select": 6, "Com_rollback": 0, "Com_commit": 0, "Questions": 7}, delta


@pytest.mark.mysql_only
def test_mariadb_list_page_is_two_selects_and_no_rollback(client, is_mysql, catalogue, real_engine):
    if not is_mysql:
        pytest.skip("server counters are MySQL/MariaDB's")
    client.get("/books?q=harbour")  # opens the read connection, reads the full-text settings once
    before = _server_counters(real_engine)
    body = client.get("/books?per_page=100&sort=-popularity&q=harbour").get_json()
    after = _server_counters(real_engine)
    assert [i["title"] for i in body["items"]] == ["The Silent Harbour", "Harbour Lights"]
    delta = {name: after[name] - before[name] for name in before}
    assert delta == {"Com_select": 2, "Com_rollback": 0, "Com_commit": 0, "Questions": 3}, delta


@pytest.fixture
def list_cache(app):
    app.config["BOOKS_LIST_CACHE_SECONDS"] = 60
    reads.catalogue_changed()
    yield
    app.config["BOOKS_LIST_CACHE_SECONDS"] = 0
    reads.catalogue_changed()


def test_cached_counts_and_page_boundaries_give_the_same_pages(client, catalogue, list_cache, admin_headers):
    expected = _expected_ids(catalogue, "-price")
    with StatementCounter(db.engines[None]) as cold:
        first = client.get("/books?sort=-price&per_page=3&page=3").get_json()
    assert len(cold.statements) == 2  # count + the page (a jump: deferred join from the index)
    with StatementCounter(db.engines[None]) as warm:
        again = client.get("/books?sort=-price&per_page=3&page=3").get_json()
    assert len(warm.statements) == 1  # count cached, page read by keyset from the cached boundary
    assert "JOIN" in cold.statements[1].upper() and "JOIN" not in warm.statements[0].upper()
    assert [i["id"] for i in first["items"]] == [i["id"] for i in again["items"]] == expected[6:9]
    walked = [
        i["id"] for p in (1, 2, 3, 4) for i in client.get(f"/books?sort=-price&per_page=3&page={p}").get_json()["items"]
    ]
    assert walked == expected
    # A write through this process forgets the cached counts at once.
    before = client.get("/books?per_page=1").get_json()["total"]
    r = client.post("/books", json={"title": "Cache Buster", "author": "A", "price": "1.00"}, headers=admin_headers)
    assert r.status_code == 201
    assert client.get("/books?per_page=1").get_json()["total"] == before + 1


@pytest.mark.mysql_only
def test_mariadb_catalogue_reads_are_time_limited(client, is_mysql, catalogue, real_engine, monkeypatch):
    if not is_mysql:
        pytest.skip("MariaDB's max_statement_time")
    with reader().engine.connect() as conn:
        assert float(conn.exec_driver_sql("SELECT @@max_statement_time").scalar()) == READ_TIME_LIMIT

    # A read stopped by the limit is a 503 problem with Retry-After, not a 500.
    def too_slow(conn):
        conn.exec_driver_sql("SET STATEMENT max_statement_time = 0.001 FOR SELECT SLEEP(1) FROM books")

    monkeypatch.setattr(reads, "filter_conditions", lambda conn, args: too_slow(conn))
    r = client.get("/books?q=anything")
    body = assert_problem(r, 503)
    assert r.headers["Retry-After"] == str(READ_TIME_LIMIT) and "narrow" in body["detail"]
