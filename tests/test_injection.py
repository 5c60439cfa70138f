"""SQL injection, XSS and unicode payloads in every string parameter (issue 6, item 4).

The string parameters are read from the OpenAPI document (query strings, headers, body fields,
the fields of a body's list items), so a new one is covered without editing this file. Every
payload list in tests/payloads/ goes into each of them, one at a time, in an otherwise valid
request by a caller allowed to make it:

- never a 5xx; a refusal is problem+json and writes nothing;
- an accepted free-text value (names, titles, addresses, ...) comes back exactly as sent (trimmed:
  the API trims text), as JSON;
- a time-based payload (SLEEP, BENCHMARK, pg_sleep, WAITFOR, randomblob) answers in under 1 s;
- a search or filter returns no book or customer that a literal search for the same text would
  not (exactly the literal result where the database can say so);
- emoji and other non-BMP text round-trip byte for byte through the database.
"""

import itertools
import json
import re
import time
import urllib.parse
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from app import create_app
from app.books.models import Book
from app.customers.models import Customer
from app.extensions import db, limiter
from tests.conftest import PASSWORD, assert_problem, bearer, row_counts

PAYLOAD_DIR = Path(__file__).resolve().parent / "payloads"


def load(name: str) -> list[str]:
    text = (PAYLOAD_DIR / f"{name}.txt").read_text(encoding="utf-8")
    return [line for line in text.split("\n") if line != ""]


SQL, SQL_TIME, XSS, UNICODE = load("sql"), load("sql_time"), load("xss"), load("unicode")
PAYLOADS = SQL + SQL_TIME + XSS + UNICODE
# Sent as raw JSON text: they cannot be stored (a lone surrogate is not UTF-8) or are refused in
# text (NUL; a password may hold any character bcrypt hashes, NUL included).
LONE_SURROGATES = ['"\\ud800"', '"abc\\udfff"']
NUL = '"nul\\u0000byte"'
# Fields whose accepted value must come back as sent (other strings are validated shapes:
# emails, usernames, phones, prices, dates, enums).
FREE_TEXT = {"name", "title", "author", "genre", "description", "shipping_address"}
SLOW = 1.0  # seconds: SLEEP(3) and friends would take at least 3


# --- the string parameters, from the document -------------------------------------------------------

_DOC = create_app("testing").test_client().get("/openapi.json").get_json()


def _resolve(node: dict) -> dict:
    while "$ref" in node:
        _, section, kind, name = node["$ref"].split("/")
        node = _DOC[section][kind][name]
    return node


def string_parameters() -> dict[str, list[tuple[str, str]]]:
    """ "METHOD /path" -> [(location, name), ...]; body fields of list items are "items[].name"."""
    found = {}
    for path, item in _DOC["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            params = []
            for p in op.get("parameters", []) + item.get("parameters", []):
                if _resolve(p["schema"]).get("type") == "string":
                    params.append((p["in"], p["name"]))
            if "application/json" in op.get("requestBody", {}).get("content", {}):  # not the image uploads
                body = _resolve(op["requestBody"]["content"]["application/json"]["schema"])
                for name, prop in body.get("properties", {}).items():
                    prop = _resolve(prop)
                    if prop.get("type") == "string" and not prop.get("readOnly"):
                        params.append(("body", name))
                    elif prop.get("type") == "array":
                        for sub, subprop in _resolve(prop["items"]).get("properties", {}).items():
                            if _resolve(subprop).get("type") == "string":
                                params.append(("body", f"{name}[].{sub}"))
            if params:
                found[f"{method.upper()} {path}"] = params
    return found


STRING_PARAMETERS = string_parameters()


def test_the_document_declares_the_string_parameters_expected():
    total = sum(len(p) for p in STRING_PARAMETERS.values())

    assert total >= 70
    assert ("query", "q") in STRING_PARAMETERS["GET /books"]
    assert ("header", "Idempotency-Key") in STRING_PARAMETERS["POST /orders"]
    assert ("body", "shipping_address") in STRING_PARAMETERS["POST /customers/{customer_id}/purchase"]


# --- the world the requests act on --------------------------------------------------------------


class World:
    counter = itertools.count(1)

    def __init__(self, client, make):
        self.client = client
        self.book = Book(title="Workbench", author="W. Author", price=Decimal("5.00"), stock=10_000)
        db.session.add(self.book)
        db.session.commit()
        self.admin, self.customer, self.subject = make.admin(), make.customer(), make.customer()
        self.tokens = {"admin": make.login(self.admin)["access_token"]}
        self.tokens["customer"] = make.login(self.customer)["access_token"]
        self.password = PASSWORD
        response = client.post(
            "/orders", json={"items": [{"book_id": self.book.id, "quantity": 1}]}, headers=self.headers("customer")
        )
        assert response.status_code == 201
        self.order_id = response.get_json()["id"]
        self._bought_and_reviewed(client)

    def _bought_and_reviewed(self, client):
        """The customer bought two more books in a paid order: one to review under test, one reviewed."""
        self.unreviewed = Book(title="Unreviewed", author="W. Author", price=Decimal("5.00"), stock=10)
        reviewed = Book(title="Reviewed", author="W. Author", price=Decimal("5.00"), stock=10)
        db.session.add_all([self.unreviewed, reviewed])
        db.session.commit()
        items = [{"book_id": self.unreviewed.id, "quantity": 1}, {"book_id": reviewed.id, "quantity": 1}]
        order = client.post("/orders", json={"items": items}, headers=self.headers("customer"))
        assert order.status_code == 201
        paid = client.patch(
            f"/orders/{order.get_json()['id']}/status", json={"status": "paid"}, headers=self.headers("admin")
        )
        assert paid.status_code == 200
        review = client.post(f"/books/{reviewed.id}/reviews", json={"rating": 4}, headers=self.headers("customer"))
        assert review.status_code == 201
        self.review_id = review.get_json()["id"]

    def headers(self, role: str) -> dict:
        return bearer(self.tokens[role]) if role in self.tokens else {}

    def base(self, operation: str) -> tuple[str, dict | None]:
        """(caller, a valid body) for the operation; usernames and emails fresh on every call."""
        n = next(self.counter)
        person = {"name": f"Person {n}", "email": f"p{n}@example.com", "username": f"p{n}", "password": PASSWORD}
        book = {"title": f"Book {n}", "author": "Some Author", "price": "3.00"}
        line = {"items": [{"book_id": self.book.id, "quantity": 1}]}
        bases = {
            "POST /register": ("anonymous", person),
            "POST /customers": ("anonymous", person),
            "POST /login": ("anonymous", {"username": self.customer.username, "password": self.password}),
            "PATCH /me": ("customer", {"name": "Base"}),
            "PUT /me/password": ("customer", {"current_password": self.password, "new_password": "new-password-1"}),
            "POST /accounts": ("admin", {"username": f"acct{n}", "password": PASSWORD}),
            "PUT /accounts/{account_id}": ("admin", {"username": f"acct{n}"}),
            "PATCH /accounts/{account_id}": ("admin", {"username": f"acct{n}"}),
            "PUT /customers/{customer_id}": ("admin", {"name": "Base", "email": f"c{n}@example.com"}),
            "PATCH /customers/{customer_id}": ("admin", {"name": "Base"}),
            "POST /books": ("admin", book),
            "PUT /books/{book_id}": ("admin", book),
            "PATCH /books/{book_id}": ("admin", {"title": f"Book {n}"}),
            "POST /orders": ("customer", line),
            "POST /customers/{customer_id}/purchase": ("customer", {"book_id": self.book.id}),
            "PATCH /orders/{order_id}/status": ("admin", {"status": "paid"}),
            "POST /books/{book_id}/reviews": ("customer", {"rating": 5}),
            "PATCH /reviews/{review_id}": ("customer", {"rating": 3}),
            "POST /reviews/{review_id}/hide": ("admin", {"reason": "Off topic"}),
        }
        if operation in bases:
            return bases[operation]
        return ("admin", None)  # the GET lists and reports

    def path(self, template: str) -> str:
        ids = {
            "account_id": self.subject.id,
            "customer_id": self.customer.customer_id,
            "book_id": self.book.id,
            "order_id": self.order_id,
            "review_id": self.review_id,
        }
        if template == "/books/{book_id}/reviews":
            ids["book_id"] = self.unreviewed.id  # the first accepted review is stored, the rest are 409
        if template.startswith(("/customers/{customer_id}", "/accounts")) and not template.endswith("purchase"):
            ids["customer_id"] = self.subject.customer_id  # the admin edits a bystander, not the caller
        return re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), template)


@pytest.fixture
def world(client, make, monkeypatch):
    monkeypatch.setattr(limiter, "enabled", False)  # hundreds of sign-ups and logins from one address
    return World(client, make)


def _find(value, key):
    """The first value of `key` anywhere in a JSON document."""
    if isinstance(value, dict):
        if key in value:
            return value[key]
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            found = _find(item, key)
            if found is not None:
                return found
    return None


def send(client, world: World, operation: str, location: str, name: str, payload: str, raw: bool = False):
    method, template = operation.split(" ", 1)
    role, body = world.base(operation)
    headers = world.headers(role)
    query = {}
    if location == "path":  # a text path parameter (a cover's digest), percent-encoded
        template = template.replace("{" + name + "}", urllib.parse.quote(payload, safe=""))
    elif location == "query":
        query[name] = payload
    elif location == "header":
        headers = {**headers, name: payload}
    elif "[]." in name:
        outer, inner = name.split("[].")
        body = {**body, outer: [{**body[outer][0], inner: "PAYLOAD"}]}
    else:
        body = {**(body or {}), name: "PAYLOAD"}
    kwargs = {"query_string": query, "headers": headers}
    if body is not None:
        text = json.dumps(body)
        value = payload if raw else json.dumps(payload)
        kwargs.update(data=text.replace('"PAYLOAD"', value), content_type="application/json")
    return client.open(world.path(template), method=method, **kwargs)


@pytest.mark.slow
@pytest.mark.parametrize("operation", sorted(STRING_PARAMETERS))
def test_payloads_in_every_string_parameter(client, world, operation, no_secrets):
    writes = not operation.startswith("GET ")
    checked = 0
    for location, name in STRING_PARAMETERS[operation]:
        if location == "header":
            candidates = [p for p in PAYLOADS if p.isascii()]  # HTTP header values are Latin-1 at most
        else:
            candidates = PAYLOADS
        for payload in candidates:
            before = row_counts() if writes else None
            started = time.monotonic()
            response = send(client, world, operation, location, name, payload)
            elapsed = time.monotonic() - started
            what = f"{operation} {location}:{name}={payload!r}"

            assert response.status_code < 500, (what, response.get_data(as_text=True))
            assert elapsed < SLOW, (what, elapsed)
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            if response.status_code >= 400:
                assert response.mimetype == "application/problem+json", what
                if writes:
                    assert row_counts() == before, what
            elif response.status_code != 204:
                assert response.mimetype in ("application/json", "text/csv", "image/png"), what
                if name in FREE_TEXT and location == "body" and response.mimetype == "application/json":
                    assert _find(response.get_json(), name) == payload.strip(), what
            if operation == "PUT /me/password" and name == "new_password" and response.status_code == 204:
                world.password = payload  # the next request's current_password
            checked += 1
        if location == "body":
            for raw in LONE_SURROGATES if "password" in name else [*LONE_SURROGATES, NUL]:
                before = row_counts()
                response = send(client, world, operation, location, name, raw, raw=True)
                assert_problem(response, 400)
                assert row_counts() == before
    assert checked >= len(PAYLOADS) * 0.5


# --- searches return nothing a literal search would not ------------------------------------------

SEARCH_BOOKS = [
    ("Guide to ' OR 1=1 -- and other tricks", "Bobby Tables", "Security", "Why '; DROP TABLE books; -- fails"),
    ("100% pure_data", "Percy Underscore", "Data", "50%' OR '%'='50 and more"),
    ("Dune", "Frank Herbert", "Science Fiction", "A desert planet"),
    ("Emma", "Jane Austen", "Classics", "Matchmaking in Highbury"),
    ("Union Select", "admin'--", "Security", "UNION SELECT username, password_hash FROM accounts"),
    ("Backslash \\ Book", "Esc Ape", "Data", "\\' quoted"),
    ("Odd Genres", "O'Reilly ' OR '1'='1", "' OR 1=1 --", "a genre that reads like an attack"),
    ("Wildcards", "Percent % Sign", "%", "a genre of one percent sign"),
]


def _literal_books(live: list[Book], field: str, value: str) -> set[int]:
    """What a literal search means (docs/api.md): every word of q appears in title, author, description
    or isbn; author is a substring; genre is equal; all case-insensitive."""
    value = value.strip()
    if field == "q":
        words = value.lower().split()
        return {
            b.id
            for b in live
            if all(
                any(w in (getattr(b, c) or "").lower() for c in ("title", "author", "description", "isbn"))
                for w in words
            )
        }
    if field == "author":
        return {b.id for b in live if value.lower() in b.author.lower()}
    return {b.id for b in live if (b.genre or "").lower() == value.lower()}


def _like_only(q: str, is_mysql: bool) -> bool:
    """On MariaDB the indexable tokens of the words (3+ word characters) go through the FULLTEXT
    index, which does not see this test's uncommitted books: only a q without any can be expected
    to find them (its words are checked with LIKE alone)."""
    return not is_mysql or not any(len(token) >= 3 for token in re.findall(r"\w+", q))


@pytest.mark.parametrize("field", ["q", "author", "genre"])
def test_book_searches_return_no_more_than_a_literal_search(client, field, is_mysql):
    books = [
        Book(title=t, author=a, genre=g, description=d, price=Decimal("1.00"), stock=1) for t, a, g, d in SEARCH_BOOKS
    ]
    retired = Book(
        title="Retired ' OR 1=1 --", author="admin'--", genre="Security", price=Decimal("1.00"), is_retired=True
    )
    db.session.add_all([*books, retired])
    db.session.commit()
    live = [b for b in db.session.execute(sa.select(Book).where(Book.is_retired.is_(False))).scalars()]
    found_something = 0

    for payload in SQL + SQL_TIME:
        response = client.get("/books", query_string={field: payload, "per_page": 100})
        if response.status_code == 400:
            continue  # a value the parameter refuses (e.g. longer than allowed)
        assert response.status_code == 200, (payload, response.get_json())
        ids = {b["id"] for b in response.get_json()["items"]}
        expected = _literal_books(live, field, payload)

        assert ids <= expected, (field, payload, ids - expected)
        assert retired.id not in ids
        assert response.get_json()["total"] == len(ids)
        if field != "q" or _like_only(payload.strip(), is_mysql):
            assert ids == expected, (field, payload, expected - ids)
        found_something += bool(ids)
    assert found_something >= 2  # the sentinels are found by their literal text


def test_customer_search_returns_no_more_than_a_literal_search(client, make, admin_headers, monkeypatch):
    monkeypatch.setattr(limiter, "enabled", False)
    make.customer(name="O'Brien ' OR 1=1 --", email="obrien@example.com")
    make.customer(name="100% Percent_Under", email="percent@example.com")
    customers = db.session.execute(sa.select(Customer)).scalars().all()
    db.session.commit()

    for payload in SQL + SQL_TIME:
        response = client.get("/customers", query_string={"q": payload, "per_page": 100}, headers=admin_headers)
        if response.status_code == 400:
            continue
        ids = {c["id"] for c in response.get_json()["items"]}
        q = payload.strip().lower()
        expected = {c.id for c in customers if q in c.name.lower() or q in c.email.lower()}
        assert ids == expected, (payload, ids ^ expected)


# --- byte-exact round trips -----------------------------------------------------------------------


# One-line text refuses control characters (a tab too) and bidirectional overrides/isolates; the
# payloads holding them are refused by name, every other one is stored.
ONE_LINE_REFUSED = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def test_unicode_payloads_with_controls_are_refused_by_name(client, admin_headers):
    refused = [p for p in UNICODE if ONE_LINE_REFUSED.search(p)]
    assert {"\u202eevil\u202c", "Tab\there"} <= set(refused)
    for text in refused:
        book = client.post("/books", json={"title": text, "author": "A", "price": "1.00"}, headers=admin_headers)
        assert_problem(book, 400)
        assert list(book.get_json()["errors"]) == ["title"], text


def test_non_bmp_text_round_trips_byte_for_byte(client, make, admin_headers, is_mysql):
    names = [p for p in UNICODE if len(p.strip()) == len(p) and len(p) <= 120 and not ONE_LINE_REFUSED.search(p)]
    made = []
    for n, text in enumerate(names):
        registered = client.post(
            "/register", json={"name": text, "email": f"u{n}@example.com", "username": f"uni{n}", "password": PASSWORD}
        )
        book = client.post("/books", json={"title": text, "author": text, "price": "1.00"}, headers=admin_headers)
        assert registered.status_code == 201, (text, registered.get_json())
        assert book.status_code == 201, (text, book.get_json())
        made.append((text, registered.get_json()["customer"]["id"], book.get_json()["id"]))

    for text, customer_id, book_id in made:
        me = client.get(f"/customers/{customer_id}", headers=admin_headers)
        book = client.get(f"/books/{book_id}")
        stored_name = db.session.get(Customer, customer_id).name
        stored_title = db.session.execute(sa.select(Book.title).where(Book.id == book_id)).scalar_one()

        assert me.get_json()["name"].encode("utf-8") == text.encode("utf-8")
        assert book.get_json()["title"].encode("utf-8") == text.encode("utf-8")
        assert stored_name.encode("utf-8") == stored_title.encode("utf-8") == text.encode("utf-8")
    db.session.commit()
    assert any(max(map(ord, text)) > 0xFFFF for text, _, _ in made)  # non-BMP among them
    if is_mysql:
        charsets = db.session.execute(
            sa.text(
                "SELECT DISTINCT character_set_name FROM information_schema.columns "
                "WHERE table_schema = DATABASE() AND table_name IN ('books', 'customers') "
                "AND character_set_name IS NOT NULL"
            )
        ).scalars()
        assert set(charsets) == {"utf8mb4"}


def test_an_emoji_title_is_found_by_its_emoji(client, admin_headers):
    created = client.post(
        "/books", json={"title": "Snakes 🐍 and 📚", "author": "Ms Emoji", "price": "2.00"}, headers=admin_headers
    )
    assert created.status_code == 201

    found = client.get("/books", query_string={"q": "🐍"}).get_json()["items"]

    assert [b["title"] for b in found] == ["Snakes 🐍 and 📚"]
