"""Schemathesis against the app's own /openapi.json, in process (issue 6, item 1).

Every operation of the document, positive and negative data (schemathesis' examples, coverage and
fuzzing phases), with a customer's or an admin's bearer token on each generated request (or none,
when schemathesis takes it away on purpose), checked for: no server error, status codes, content
types and bodies as documented, invalid data refused, and authentication actually enforced
(`ignored_auth` sends the same request again without and with a bad token).

Each operation is one pytest item with its own rolled-back world: an admin and a customer, each
with a cart, orders and a paid order with a review, a bystander customer with an order, two customers without orders, and a few
books. Three in four positive cases naming a `book_id`, `customer_id`, `order_id`, `account_id` or `review_id`
(in the path or the body) are pointed at one of those objects, chosen from the generated number
so that a case replays the same way: the documented success answers are reached and checked, not
only 404s.

The seed is fixed (20261124) unless SCHEMATHESIS_SEED says otherwise (`random`, or a number to replay a
run); it is printed with the tally.

Every request is counted; the last test asserts at least MIN_REQUESTS, with both positive and
negative ones and both roles, and writes the tally per operation and status to the terminal.
"""

import io
import os
from collections import Counter

import pytest
import schemathesis
from flask import request_started
from hypothesis import HealthCheck, settings
from PIL import Image
from schemathesis.checks import load_all_checks
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi import checks as openapi_checks
from schemathesis.transport.serialization import Binary

from app import create_app
from app.books.covers import set_cover_image
from app.books.models import Book
from app.extensions import db, limiter
from tests.conftest import PASSWORD, assert_problem, bearer

pytestmark = pytest.mark.slow

MIN_REQUESTS = 2500
# Examples per operation in the fuzzing phase (the examples and coverage phases add their own).
# SCHEMATHESIS_MAX_EXAMPLES lowers it where a slower database needs it; the count test still
# asks for MIN_REQUESTS.
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "60"))

load_all_checks()
CHECKS = [
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.negative_data_rejection,
    openapi_checks.ignored_auth,
]
# Operations that get the admin's token three times in four: the admin-only ones, and the ones on
# objects (books, accounts) that the customer may not change or that are mostly someone else's.
MOSTLY_ADMIN_PREFIXES = ("/reports", "/books/{book_id}", "/accounts")
MOSTLY_ADMIN = {"GET /accounts", "POST /accounts", "GET /customers", "POST /books", "PATCH /orders/{order_id}/status"}
ROLE_MARK = "role-placeholder."


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 60), (30, 90, 150)).save(out, "PNG")
    return out.getvalue()


COVER_PNG = _png()


class Tally:
    def __init__(self):
        self.total = 0
        self.by_mode = Counter()
        self.by_role = Counter()
        self.by_status = Counter()
        self.server_errors = 0
        self.sent = 0

    def add(self, case, role: str, status: int) -> None:
        self.total += 1
        self.by_mode[case.meta.generation.mode.value if case.meta else "explicit"] += 1
        self.by_role[role] += 1
        self.by_status[(f"{case.method.upper()} {case.operation.path}", status)] += 1
        self.server_errors += status >= 500

    def report(self) -> str:
        operations = sorted({label for label, _ in self.by_status})
        lines = [
            f"schemathesis: {self.total} generated requests ({dict(self.by_mode)}; tokens: {dict(self.by_role)}), "
            f"{self.server_errors} server errors, {len(operations)} method/path pairs, "
            f"{self.sent} HTTP requests received by the app (with ignored_auth's probes and setup), "
            f"seed {schema.config.seed}"
        ]
        for label in operations:
            statuses = {s: n for (op, s), n in sorted(self.by_status.items()) if op == label}
            lines.append(f"  {label}: {sum(statuses.values())} {statuses}")
        return "\n".join(lines)


TALLY = Tally()
WORLD: dict = {}

# The document as the app serves it. It is read from an app of its own at import time (the test
# session's app only exists once the fixtures run); every request goes to the session's app.
schema = schemathesis.openapi.from_wsgi("/openapi.json", create_app("testing"))
schema.config.generation.update(max_examples=MAX_EXAMPLES)
# A fixed seed by default, so CI runs are reproducible (the "every operation answered 2xx" check
# must not depend on luck); SCHEMATHESIS_SEED=random explores new data, SCHEMATHESIS_SEED=<n> replays.
_SEED = os.environ.get("SCHEMATHESIS_SEED", "20261124")
if _SEED != "random":
    schema.config.seed = int(_SEED)


def pick_role(operation, turn=Counter()) -> str:
    """Round robin: MOSTLY_ADMIN operations get the admin three times in four (the fourth: a
    customer, who must get 403 or 404), the others alternate."""
    turn[operation.label] += 1
    n = turn[operation.label]
    if operation.label in MOSTLY_ADMIN or operation.path.startswith(MOSTLY_ADMIN_PREFIXES):
        return "customer" if n % 4 == 0 else "admin"
    return "admin" if n % 2 else "customer"


@schema.auth(refresh_interval=None)
class Tokens:
    """A customer's or an admin's bearer token on every generated case.

    Schemathesis builds some cases (the coverage phase) while collecting, before any account
    exists, so this writes a placeholder naming the role, and the test swaps in that role's live
    token just before the call. Cases built to go without credentials get none from here."""

    def get(self, case, context):
        return pick_role(case.operation)

    def set(self, case, role, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {ROLE_MARK}{role}"}


class World:
    """What the generated requests act on, made through the API the way clients make it."""

    def __init__(self, make, client):
        self.make = make
        self.client = client
        books = [Book(title=f"Fuzz book {n}", author="A. Writer", price="9.99", stock=50) for n in range(8)]
        books.append(Book(title="Sold out", author="B. Writer", price="12.50", stock=0))
        db.session.add_all(books)
        db.session.commit()
        self.book_ids = [b.id for b in books]
        self.cover_digests = []  # three books have a cover (the others answer 404 for theirs)
        for book_id in self.book_ids[:3]:
            document = set_cover_image(book_id, Image.new("RGB", (60, 90), (book_id % 255, 90, 160)))
            self.cover_digests += [document.cover_digest, document.cover_thumbnail_digest]
        bystander = make.customer()
        self.bystander_order = self._order(make.headers(bystander), self.book_ids[0])
        leavers = [make.customer(), make.customer()]  # no orders: deleting these succeeds
        self.others = {
            "account": [bystander.id, *(a.id for a in leavers)],
            "customer": [bystander.customer_id, *(a.customer_id for a in leavers)],
        }
        self.refresh()

    def refresh(self):
        """(Re)make the admin and the customer, with a cart and two orders: a generated request may
        have logged a token out, changed a password, or deactivated or deleted an account."""
        self.admin = self.make.admin()
        self.customer = self.make.customer()
        logins = {role: self.make.login(account) for role, account in self.principals()}
        self.tokens = {role: login["access_token"] for role, login in logins.items()}
        self.refresh_tokens = {role: login["refresh_token"] for role, login in logins.items()}
        headers = bearer(self.tokens["customer"])
        self.orders = [self._order(headers, self.book_ids[1]), self._order(headers, self.book_ids[2])]
        self.reviews = [self._bought_and_reviewed(bearer(token)) for token in self.tokens.values()]
        for token in self.tokens.values():
            for book_id in self.book_ids[3:7]:
                response = self.client.post("/cart", json={"book_id": book_id}, headers=bearer(token))
                assert response.status_code == 200, response.get_json()

    def principals(self):
        return (("admin", self.admin), ("customer", self.customer))

    def _order(self, headers, book_id) -> int:
        response = self.client.post("/orders", json={"items": [{"book_id": book_id, "quantity": 1}]}, headers=headers)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    def _bought_and_reviewed(self, headers) -> int:
        """A paid order of two books, the second one reviewed: a review to read, vote on, edit, hide
        or delete, and a book its buyer may still review."""
        items = [{"book_id": book_id, "quantity": 1} for book_id in self.book_ids[4:6]]
        order = self.client.post("/orders", json={"items": items}, headers=headers)
        assert order.status_code == 201, order.get_json()
        paid = self.client.patch(
            f"/orders/{order.get_json()['id']}/status", json={"status": "paid"}, headers=bearer(self.tokens["admin"])
        )
        assert paid.status_code == 200, paid.get_json()
        review = self.client.post(f"/books/{self.book_ids[5]}/reviews", json={"rating": 4}, headers=headers)
        assert review.status_code == 201, review.get_json()
        return review.get_json()["id"]

    def still_valid(self) -> bool:
        return all(self.client.get("/me", headers=bearer(t)).status_code == 200 for t in self.tokens.values())

    def known_ids(self, name: str) -> list[int]:
        if name == "book_id":
            return self.book_ids
        if name == "order_id":
            return [*self.orders, self.bystander_order]
        if name == "review_id":
            return self.reviews
        key = "account" if name == "account_id" else "customer"
        own = [a.id if key == "account" else a.customer_id for _, a in self.principals()]
        return [*own, *self.others[key]]

    def authorize(self, case) -> str:
        """Swap the placeholder the auth hook wrote for the live token of that role."""
        value = (case.headers or {}).get("Authorization", "")
        if value.startswith(f"Bearer {ROLE_MARK}"):
            role = value.removeprefix(f"Bearer {ROLE_MARK}")
            tokens = self.refresh_tokens if case.operation.label == "POST /token/refresh" else self.tokens
            case.headers["Authorization"] = f"Bearer {tokens[role]}"
            return role
        return "generated" if value else "none"

    def aim(self, case) -> None:
        """Point most positive cases at objects that exist: ids in the path and the body (three
        generated numbers in four), and the credentials of a login or a password change and cart
        quantities within stock (bodies of even length)."""
        if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
            return
        body = case.body
        lines = body.get("items") if isinstance(body, dict) else None
        for container in [case.path_parameters, body, *(lines if isinstance(lines, list) else [])]:
            if not isinstance(container, dict):
                continue
            for name in ("book_id", "customer_id", "order_id", "account_id", "review_id"):
                value = container.get(name)
                if isinstance(value, int) and not isinstance(value, bool) and value % 4:
                    known = self.known_ids(name)
                    container[name] = known[value % len(known)]
        if case.operation.label == "GET /covers/{digest}.jpg":
            digest = case.path_parameters.get("digest")
            # A generated digest is 64 hex digits: its first one picks (three times in four) a stored image.
            if isinstance(digest, str) and digest[:1] in set("0123456789abcdef") and int(digest[0], 16) % 4:
                case.path_parameters["digest"] = self.cover_digests[int(digest[0], 16) % len(self.cover_digests)]
        if case.operation.label == "PUT /books/{book_id}/cover" and len(repr(body)) % 2 == 0:
            # Generated bytes never decode as an image: half of these cases send a real one (in place,
            # so the case keeps its generated, schema-valid shape).
            upload = body.get("file") if isinstance(body, dict) else body
            if isinstance(upload, Binary):
                upload.data = COVER_PNG
        if not isinstance(body, dict) or len(repr(body)) % 2:
            return
        if case.operation.label in ("POST /cart", "PUT /cart/{book_id}") and isinstance(body.get("quantity"), int):
            # Within the fuzz books' stock (50): half of these cases can succeed, whatever the seed.
            body["quantity"] = 1 + body["quantity"] % 50
        if case.operation.label == "POST /login":
            principal = self.admin if len(repr(body)) % 4 else self.customer
            body.update(username=principal.username, password=PASSWORD)
        elif case.operation.label == "PUT /me/password":
            body["current_password"] = PASSWORD


def _count_request(sender, **extra):
    TALLY.sent += 1


@pytest.fixture
def world(app, make, client, monkeypatch):
    monkeypatch.setattr(limiter, "enabled", False)  # generated requests must not turn into 429s
    with request_started.connected_to(_count_request, app):
        WORLD["world"] = World(make, client)
        yield WORLD["world"]
    WORLD.clear()


# Requests after whose success the principals' tokens may no longer work.
SESSION_CHANGING = ("/logout", "/me/password", "/accounts/", "/customers/")


@schema.parametrize()
@settings(
    deadline=None,
    # The world is made once per operation and shared by its examples on purpose.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_document(case, app, world):
    role = world.authorize(case)
    world.aim(case)

    response = case.call_and_validate(checks=CHECKS, app=app)

    TALLY.add(case, role, response.status_code)
    assert response.status_code < 500, response.text
    if (
        case.method != "GET"
        and 200 <= response.status_code < 300
        and case.formatted_path.startswith(SESSION_CHANGING)
        and not world.still_valid()
    ):
        world.refresh()


# --- what the fuzzing found, pinned down ---------------------------------------------------------


@pytest.mark.parametrize("path, method", [("/me", "patch"), ("/orders", "post"), ("/cart", "post")])
def test_a_missing_json_body_is_400_not_an_empty_object(client, customer_headers, path, method):
    before = client.get("/me", headers=customer_headers).get_json()

    response = getattr(client, method)(path, headers=customer_headers)

    body = assert_problem(response, 400, "_schema")
    assert body["errors"]["_schema"] == ["A JSON body is required."]
    assert client.get("/me", headers=customer_headers).get_json() == before


def test_documented_max_length_counts_the_characters_sent(client):
    base = {"email": "long@example.com", "username": "longname", "password": PASSWORD}

    too_long = client.post("/register", json={**base, "name": "\x1d" + "*" * 120})
    blank_padded = client.post("/register", json={**base, "name": " " + "n" * 120})
    fits = client.post("/register", json={**base, "name": " " + "n" * 118 + " "})

    assert_problem(too_long, 400, "name")
    assert_problem(blank_padded, 400, "name")
    assert fits.status_code == 201
    assert fits.get_json()["customer"]["name"] == "n" * 118


def test_an_order_line_without_book_id_is_400_not_500(client, customer_headers):
    response = client.post("/orders", json={"items": [{"quantity": 1}]}, headers=customer_headers)

    body = assert_problem(response, 400, "items")
    assert "book_id" in str(body["errors"]["items"])


def test_amounts_are_documented_as_the_strings_they_are(client):
    spec = client.get("/openapi.json").get_json()
    schemas = spec["components"]["schemas"]

    for name, field in [("Order", "total"), ("Cart", "total"), ("SalesTotals", "revenue"), ("OrderItem", "unit_price")]:
        prop = schemas[name]["properties"][field]
        assert (prop["type"], prop["format"]) == ("string", "decimal"), (name, field)
        assert prop["pattern"] == r"^-?[0-9]+\.[0-9]{2}$"
    assert schemas["Problem"]["additionalProperties"] is True  # RFC 9457 extension members


def test_fuzzing_sent_enough_requests_of_every_kind(capsys):
    """Runs after the operations above (file order; keep it last): the count is over all of them."""
    report = TALLY.report()
    with capsys.disabled():  # shown in every run, passed or not
        print("\n" + report)

    assert TALLY.total >= MIN_REQUESTS, report
    assert TALLY.server_errors == 0, report
    assert min(TALLY.by_mode[GenerationMode.POSITIVE.value], TALLY.by_mode[GenerationMode.NEGATIVE.value]) >= 500
    assert min(TALLY.by_role["admin"], TALLY.by_role["customer"], TALLY.by_role["none"]) >= 200
    documented = {
        f"{m.upper()} {path}" for path, item in schema.raw_schema["paths"].items() for m in item if m != "parameters"
    }
    reached = {label for label, status in TALLY.by_status if 200 <= status < 300}
    assert documented - reached == set(), f"operations never answered 2xx: {sorted(documented - reached)}"
