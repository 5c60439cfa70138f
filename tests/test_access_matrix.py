"""Who may call what, walked from `app.url_map` (issue 6, item 2; docs/api.md "auth", "roles",
"someone else's object").

Every route has a rule here, and the rule must agree with what the view declares (`_access`, set
by @public / @requires in app/auth.py; pages of the web front are `_web_page` and public; the
OpenAPI document and /docs are public). A route added without a rule fails
`test_every_route_has_a_rule`, and the walk below is parametrized by the url_map itself, so a new
route is walked (or fails for want of a rule) without anyone editing a list of tests.

The walk: every API route × {anonymous, another customer, the owner, an admin}, each in a fresh
world, with a valid request (so that what answers is the access rule, not validation):

    rule       anonymous  another customer  owner  admin
    public     2xx        2xx               2xx    2xx
    customer   401        2xx (own data)    2xx    2xx      any token; acts on the caller's own data
    owner      401        404               2xx    2xx      the path names the owner's object
    admin      401        403               403    2xx
    refresh    401        2xx               2xx    2xx      with that caller's refresh token
"""

import io
import itertools
import re
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import flask_smorest
import pytest
import sqlalchemy as sa
from PIL import Image

from app import create_app
from app.auth import ADMIN as ADMIN_LEVEL
from app.auth import AUTHENTICATED, PUBLIC, REFRESH
from app.books.models import Book
from app.customers.models import Customer
from app.extensions import db, limiter
from app.orders.models import Order
from tests.conftest import PASSWORD, assert_problem, bearer

pytestmark = pytest.mark.usefixtures("no_secrets")

ANON, OTHER, OWNER, ADMIN = "anonymous", "another customer", "owner", "admin"
ROLES = (ANON, OTHER, OWNER, ADMIN)

# The rule of each API route: (METHOD, url_map rule) -> public | customer | owner | admin | refresh.
RULES = {
    ("GET", "/health"): "public",
    ("POST", "/register"): "public",
    ("POST", "/login"): "public",
    ("POST", "/token/refresh"): "refresh",
    ("POST", "/logout"): "customer",
    ("POST", "/logout/all"): "customer",
    ("GET", "/me"): "customer",
    ("PATCH", "/me"): "customer",
    ("PUT", "/me/password"): "customer",
    ("GET", "/accounts"): "admin",
    ("POST", "/accounts"): "admin",
    ("GET", "/accounts/<int:account_id>"): "owner",
    ("PUT", "/accounts/<int:account_id>"): "owner",
    ("PATCH", "/accounts/<int:account_id>"): "owner",
    ("DELETE", "/accounts/<int:account_id>"): "owner",
    ("GET", "/customers"): "admin",
    ("POST", "/customers"): "public",
    ("GET", "/customers/<int:customer_id>"): "owner",
    ("PUT", "/customers/<int:customer_id>"): "owner",
    ("PATCH", "/customers/<int:customer_id>"): "owner",
    ("DELETE", "/customers/<int:customer_id>"): "owner",
    ("POST", "/customers/<int:customer_id>/purchase"): "owner",
    ("GET", "/customers/<int:customer_id>/orders"): "owner",
    ("GET", "/books"): "public",
    ("POST", "/books"): "admin",
    ("GET", "/books/<int:book_id>"): "public",
    ("PUT", "/books/<int:book_id>"): "admin",
    ("PATCH", "/books/<int:book_id>"): "admin",
    ("DELETE", "/books/<int:book_id>"): "admin",
    ("PUT", "/books/<int:book_id>/stock"): "admin",
    ("POST", "/books/<int:book_id>/restock"): "admin",
    ("GET", "/books/<int:book_id>/stock-history"): "admin",
    ("GET", "/books/<int:book_id>/related"): "public",
    ("GET", "/genres"): "public",
    ("PUT", "/books/<int:book_id>/cover"): "admin",
    ("DELETE", "/books/<int:book_id>/cover"): "admin",
    ("GET", "/books/<int:book_id>/cover"): "public",
    ("GET", "/books/<int:book_id>/cover/thumbnail"): "public",
    ("GET", "/covers/<digest:digest>.jpg"): "public",
    ("GET", "/cart"): "customer",
    ("POST", "/cart"): "customer",
    ("DELETE", "/cart"): "customer",
    ("PUT", "/cart/<int:book_id>"): "customer",
    ("DELETE", "/cart/<int:book_id>"): "customer",
    ("POST", "/orders"): "customer",
    ("GET", "/orders"): "customer",
    ("GET", "/orders/<int:order_id>"): "owner",
    ("DELETE", "/orders/<int:order_id>"): "owner",
    ("POST", "/orders/<int:order_id>/cancel"): "owner",
    ("GET", "/orders/<int:order_id>/tracking"): "owner",
    ("PATCH", "/orders/<int:order_id>/status"): "admin",
    ("GET", "/books/<int:book_id>/reviews"): "public",
    ("POST", "/books/<int:book_id>/reviews"): "customer",  # a buyer: the world has each caller buy the book
    ("GET", "/books/<int:book_id>/reviews/mine"): "customer",
    ("GET", "/reviews"): "admin",
    ("GET", "/reviews/<int:review_id>"): "public",
    ("PATCH", "/reviews/<int:review_id>"): "author",
    ("DELETE", "/reviews/<int:review_id>"): "author or admin",
    ("PUT", "/reviews/<int:review_id>/helpful"): "not the author",
    ("DELETE", "/reviews/<int:review_id>/helpful"): "not the author",
    ("POST", "/reviews/<int:review_id>/hide"): "admin",
    ("POST", "/reviews/<int:review_id>/unhide"): "admin",
    ("GET", "/reports/sales"): "admin",
    ("GET", "/reports/popular-books"): "admin",
    ("GET", "/reports/inventory"): "admin",
}
# Not API routes, public: the OpenAPI document, the docs page and its assets, Flask's static files.
DOCS_ENDPOINTS = {"api-docs.openapi_json", "swagger_ui.show", "static"}
DECLARED_LEVEL = {
    "public": PUBLIC,
    "customer": AUTHENTICATED,
    "owner": AUTHENTICATED,
    "admin": ADMIN_LEVEL,
    "refresh": REFRESH,
    "author": AUTHENTICATED,
    "author or admin": AUTHENTICATED,
    "not the author": AUTHENTICATED,
}
EXPECTED = {
    "public": {ANON: "2xx", OTHER: "2xx", OWNER: "2xx", ADMIN: "2xx"},
    "customer": {ANON: 401, OTHER: "2xx", OWNER: "2xx", ADMIN: "2xx"},
    "owner": {ANON: 401, OTHER: 404, OWNER: "2xx", ADMIN: "2xx"},
    "admin": {ANON: 401, OTHER: 403, OWNER: 403, ADMIN: "2xx"},
    "refresh": {ANON: 401, OTHER: "2xx", OWNER: "2xx", ADMIN: "2xx"},
    # A review is public, so someone else's is 403 (not the 404 of a private object).
    "author": {ANON: 401, OTHER: 403, OWNER: "2xx", ADMIN: 403},
    "author or admin": {ANON: 401, OTHER: 403, OWNER: "2xx", ADMIN: "2xx"},
    "not the author": {ANON: 401, OTHER: "2xx", OWNER: 403, ADMIN: "2xx"},
}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class RawBody(NamedTuple):
    """A request body that is not JSON (an image upload)."""

    data: bytes
    content_type: str


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 45), (120, 40, 40)).save(out, "PNG")
    return out.getvalue()


COVER = RawBody(_png(), "image/png")

# url_map as the app builds it (an app of its own: parametrization happens at collection).
_URL_MAP_APP = create_app("testing")


def is_api(app, endpoint: str) -> bool:
    return isinstance(app.blueprints.get(endpoint.rpartition(".")[0]), flask_smorest.Blueprint)


def routes(app):
    """(METHOD, rule, endpoint) of every route of the app."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(rule.methods & set(METHODS)):
            yield method, rule.rule, rule.endpoint


API_ROUTES = [(m, r) for m, r, e in routes(_URL_MAP_APP) if is_api(_URL_MAP_APP, e)]
OTHER_ROUTES = [(m, r, e) for m, r, e in routes(_URL_MAP_APP) if not is_api(_URL_MAP_APP, e)]


def test_every_route_has_a_rule(app):
    missing, disagree = [], []
    for method, rule, endpoint in routes(app):
        view = app.view_functions[endpoint]
        declared = getattr(view, "_access", None)
        if not is_api(app, endpoint):
            if getattr(view, "_web_page", False):
                assert declared == PUBLIC, f"page {rule} must be @public"
            else:
                assert endpoint in DOCS_ENDPOINTS, f"{method} {rule} ({endpoint}) is neither API, page nor docs"
            continue
        if (method, rule) not in RULES:
            missing.append(f"{method} {rule}")
        elif DECLARED_LEVEL[RULES[(method, rule)]] != declared:
            disagree.append(f"{method} {rule}: rule {RULES[(method, rule)]!r}, view declares {declared!r}")
    stale = sorted(f"{m} {r}" for m, r in set(RULES) - {(m, r) for m, r, _ in routes(app)})

    assert not missing, f"routes without an access rule in tests/test_access_matrix.py: {missing}"
    assert not disagree, disagree
    assert not stale, f"rules for routes that no longer exist: {stale}"


# --- the world each cell of the matrix runs in ----------------------------------------------------


class World:
    """An admin, the owner and another customer (each with a cart holding the book), a book in
    stock and, when the route names an order, a pending order of the owner's."""

    counter = itertools.count(1)

    def __init__(self, client, make):
        self.client = client
        self.book = Book(title="Matrix", author="A. Author", price=Decimal("10.00"), stock=20)
        db.session.add(self.book)
        db.session.commit()
        self.accounts = {ADMIN: make.admin(), OWNER: make.customer(), OTHER: make.customer()}
        self.logins = {role: make.login(account) for role, account in self.accounts.items()}
        for role in self.accounts:
            r = client.post("/cart", json={"book_id": self.book.id}, headers=self.headers(role))
            assert r.status_code == 200, r.get_json()
        cover = client.put(
            f"/books/{self.book.id}/cover",
            data=COVER.data,
            content_type=COVER.content_type,
            headers=self.headers(ADMIN),
        )
        assert cover.status_code == 200, cover.get_json()
        self.cover_digest = cover.get_json()["cover_url"].removeprefix("/covers/").removesuffix(".jpg")
        self._order_id = None
        self._review_id = None

    def buy(self, role: str) -> None:
        """A paid order of the book for `role` (which makes them a buyer who may review it)."""
        r = self.client.post(
            "/orders", json={"items": [{"book_id": self.book.id, "quantity": 1}]}, headers=self.headers(role)
        )
        assert r.status_code == 201, r.get_json()
        r = self.client.patch(
            f"/orders/{r.get_json()['id']}/status", json={"status": "paid"}, headers=self.headers(ADMIN)
        )
        assert r.status_code == 200, r.get_json()

    def prepare(self, method: str, rule: str, role: str) -> None:
        """What a valid request of `role` needs beforehand."""
        if (method, rule) == ("POST", "/books/<int:book_id>/reviews") and role != ANON:
            self.buy(role)

    def review_id(self) -> int:
        """A review of the book by the owner."""
        if self._review_id is None:
            self.buy(OWNER)
            r = self.client.post(f"/books/{self.book.id}/reviews", json={"rating": 4}, headers=self.headers(OWNER))
            assert r.status_code == 201, r.get_json()
            self._review_id = r.get_json()["id"]
        return self._review_id

    def headers(self, role: str, token: str = "access_token") -> dict:
        return {} if role == ANON else bearer(self.logins[role][token])

    @property
    def owner(self):
        return self.accounts[OWNER]

    def order_id(self) -> int:
        if self._order_id is None:
            r = self.client.post(
                "/orders", json={"items": [{"book_id": self.book.id, "quantity": 1}]}, headers=self.headers(OWNER)
            )
            assert r.status_code == 201, r.get_json()
            self._order_id = r.get_json()["id"]
        return self._order_id

    def path(self, rule: str) -> str:
        values = {
            "account_id": lambda: self.owner.id,
            "customer_id": lambda: self.owner.customer_id,
            "order_id": self.order_id,
            "book_id": lambda: self.book.id,
            "review_id": self.review_id,
            "digest": lambda: self.cover_digest,
        }
        return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]()), rule)

    def body(self, method: str, rule: str, role: str):
        n = next(self.counter)
        fresh = {"name": f"Fresh {n}", "email": f"fresh{n}@example.com", "username": f"fresh{n}"}
        bodies = {
            ("POST", "/register"): {**fresh, "password": PASSWORD},
            ("POST", "/customers"): {**fresh, "password": PASSWORD},
            ("POST", "/login"): {"username": self.owner.username, "password": PASSWORD},
            ("PATCH", "/me"): {"name": f"Renamed {n}"},
            ("PUT", "/me/password"): {"current_password": PASSWORD, "new_password": "another-password-1"},
            ("POST", "/accounts"): {"username": fresh["username"], "password": PASSWORD},
            ("PUT", "/accounts/<int:account_id>"): {"username": fresh["username"]},
            ("PATCH", "/accounts/<int:account_id>"): {"username": fresh["username"]},
            ("PUT", "/customers/<int:customer_id>"): {"name": fresh["name"], "email": fresh["email"]},
            ("PATCH", "/customers/<int:customer_id>"): {"name": fresh["name"]},
            ("POST", "/customers/<int:customer_id>/purchase"): {"book_id": self.book.id},
            ("POST", "/books"): {"title": f"New {n}", "author": "B. Author", "price": "5.00"},
            ("PUT", "/books/<int:book_id>"): {"title": f"Replaced {n}", "author": "C. Author", "price": "6.00"},
            ("PATCH", "/books/<int:book_id>"): {"title": f"Patched {n}"},
            ("PUT", "/books/<int:book_id>/stock"): {"stock": 7},
            ("POST", "/books/<int:book_id>/restock"): {"quantity": 3},
            ("POST", "/cart"): {"book_id": self.book.id},
            ("PUT", "/cart/<int:book_id>"): {"quantity": 2},
            ("POST", "/orders"): {"items": [{"book_id": self.book.id, "quantity": 1}]},
            ("PATCH", "/orders/<int:order_id>/status"): {"status": "paid"},
            ("POST", "/books/<int:book_id>/reviews"): {"rating": 5, "body": f"Review {n}"},
            ("PATCH", "/reviews/<int:review_id>"): {"rating": 3},
            ("POST", "/reviews/<int:review_id>/hide"): {"reason": "Off topic"},
            ("PUT", "/books/<int:book_id>/cover"): COVER,
        }
        return bodies.get((method, rule))


@pytest.fixture
def world(client, make, monkeypatch):
    monkeypatch.setattr(limiter, "enabled", False)  # 180 cells register and log in from one address
    return World(client, make)


def _owned_by(body: dict, world: World, rule: str) -> bool:
    """The 2xx answer of an owner route is about the owner's object."""
    owner = world.owner
    if rule.startswith("/accounts/"):
        return body["id"] == owner.id
    if rule.startswith("/customers/") and rule.endswith("purchase"):
        return body["customer_id"] == owner.customer_id
    if rule.endswith("/orders"):
        return all(o["customer_id"] == owner.customer_id for o in body["items"])
    if rule.startswith("/customers/"):
        return body["id"] == owner.customer_id
    if rule.endswith("/tracking"):
        return body["order_id"] == world.order_id()
    return body["customer_id"] == owner.customer_id  # orders


@pytest.mark.owasp("API5")
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method, rule", API_ROUTES, ids=[f"{m} {r}" for m, r in API_ROUTES])
def test_access_matrix(client, world, method, rule, role):
    assert (method, rule) in RULES, f"{method} {rule} has no access rule: add it to RULES"
    kind = RULES[(method, rule)]
    expected = EXPECTED[kind][role]
    headers = world.headers(role, "refresh_token" if kind == "refresh" else "access_token")
    world.prepare(method, rule, role)

    body = world.body(method, rule, role)
    sent = {"data": body.data, "content_type": body.content_type} if isinstance(body, RawBody) else {"json": body}
    response = client.open(world.path(rule), method=method, headers=headers, **sent)

    if expected == "2xx":
        assert 200 <= response.status_code < 300, (response.status_code, response.get_json())
        body = response.get_json(silent=True)
        if kind == "owner" and isinstance(body, dict):
            assert _owned_by(body, world, rule), body
        if rule == "/me" and method == "GET":
            assert body["account"]["id"] == world.accounts[role].id
    else:
        assert_problem(response, expected)


def test_the_walk_covers_every_route_and_role():
    walked = {(m, r) for m, r in API_ROUTES}

    assert walked == set(RULES)
    assert len(walked) * len(ROLES) >= 180


@pytest.mark.parametrize("method, rule, endpoint", OTHER_ROUTES, ids=[f"{m} {r}" for m, r, _ in OTHER_ROUTES])
def test_pages_and_docs_are_public(app, client, method, rule, endpoint):
    samples = {
        "/assets/<path:filename>": "/assets/style.css",
        "/docs/<path:path>": "/docs/swagger-ui.css",
        "/static/<path:filename>": "/static/style.css",
    }
    path = samples.get(rule, re.sub(r"<int:\w+>", "1", rule))

    response = client.open(path, method=method)

    if endpoint == "static" and not Path(app.static_folder).is_dir():
        assert_problem(response, 404)  # Flask's static route, with no folder behind it: nothing to serve
    else:
        assert response.status_code == 200, (path, response.status_code)


# --- walking other people's ids ------------------------------------------------------------------

WALK_READS = ["/customers/{}", "/customers/{}/orders", "/orders/{}", "/orders/{}/tracking", "/accounts/{}"]
WALK_WRITES = [
    ("PATCH", "/customers/{}", {"name": "Intruder was here"}),
    ("PUT", "/customers/{}", {"name": "Intruder", "email": "intruder-{}@example.com"}),
    ("DELETE", "/customers/{}", None),
    ("POST", "/customers/{}/purchase", "BOOK"),
    ("PATCH", "/accounts/{}", {"username": "intruder-{}"}),
    ("PUT", "/accounts/{}", {"username": "intruder-{}"}),
    ("DELETE", "/accounts/{}", None),
    ("POST", "/orders/{}/cancel", None),
    ("DELETE", "/orders/{}", None),
]


def _snapshot() -> dict:
    customers = db.session.execute(sa.select(Customer.id, Customer.name, Customer.email)).all()
    orders = db.session.execute(sa.select(Order.id, Order.status, Order.customer_id)).all()
    from app.accounts.models import Account

    accounts = db.session.execute(sa.select(Account.id, Account.username, Account.is_active)).all()
    db.session.commit()
    return {"customers": sorted(customers), "orders": sorted(orders), "accounts": sorted(accounts)}


@pytest.mark.owasp("API1")
def test_walking_ids_as_another_customer_yields_nothing_foreign(client, make, world):
    """An intruder walks ids 1..200 (and the ids the victims really have) over every
    owner-or-admin route: every answer for someone else's id is the same 404 as for an id that
    does not exist, no body carries another customer's data, and nothing changes."""
    intruder = make.customer(name="Mallory")
    headers = make.headers(intruder)
    victims = [world.owner, world.accounts[OTHER], world.accounts[ADMIN]]
    victim_orders = [world.order_id()]
    for victim in victims[1:]:
        r = client.post(
            f"/customers/{victim.customer_id}/purchase", json={"book_id": world.book.id}, headers=world.headers(ADMIN)
        )
        assert r.status_code == 201
        victim_orders.append(r.get_json()["id"])
    own = {intruder.id, intruder.customer_id}
    real_ids = {v.id for v in victims} | {v.customer_id for v in victims} | set(victim_orders)
    ids = sorted(set(range(1, 201)) | real_ids | {i + d for i in real_ids for d in (-1, 1)} - {0})
    foreign = {c.email for c in (db.session.get(Customer, v.customer_id) for v in victims)}
    foreign |= {v.username for v in victims}
    before = _snapshot()

    answers = []  # (route template, id, response)
    for id_ in ids:
        if id_ in own:
            continue  # the intruder's own customer/account id: 200 is right (checked elsewhere)
        for template in WALK_READS:
            answers.append((f"GET {template}", id_, client.get(template.format(id_), headers=headers)))
        for method, template, body in WALK_WRITES:
            if body == "BOOK":
                body = {"book_id": world.book.id}
            elif isinstance(body, dict):
                body = {k: v.format(id_) for k, v in body.items()}
            response = client.open(template.format(id_), method=method, json=body, headers=headers)
            answers.append((f"{method} {template}", id_, response))

    not_404 = [(what.format(id_), r.status_code) for what, id_, r in answers if r.status_code != 404]
    assert not not_404, not_404[:20]
    leaked = [what.format(id_) for what, id_, r in answers if any(n in r.get_data(as_text=True) for n in foreign)]
    assert not leaked, leaked[:20]
    # Someone else's object answers exactly as an id that does not exist (the id aside).
    details = {}
    for what, id_, r in answers:
        details.setdefault(what, set()).add(r.get_json()["detail"].replace(str(id_), "{id}"))
    assert {what: d for what, d in details.items() if len(d) != 1} == {}
    assert real_ids - own <= {id_ for _, id_, _ in answers}
    assert _snapshot() == before
    assert len(answers) >= 200 * (len(WALK_READS) + len(WALK_WRITES)) - 20


def test_lists_show_a_customer_only_their_own(client, make, world):
    intruder = make.customer()
    headers = make.headers(intruder)
    world.order_id()  # the owner has an order

    mine = client.get("/orders", headers=headers)
    filtered = client.get(f"/orders?customer_id={world.owner.customer_id}", headers=headers)

    assert mine.status_code == 200 and mine.get_json()["items"] == []
    assert_problem(filtered, 403)
    assert_problem(client.get("/customers", headers=headers), 403)
    assert_problem(client.get("/accounts", headers=headers), 403)
    cart = client.get("/cart", headers=headers).get_json()
    assert cart["items"] == []  # the owner's cart holds the book; this one is empty
