"""Saved default addresses and where an order goes: the body's `shipping_address`, else the
customer's `default_address`, else 400 naming `shipping_address`. Runs on SQLite and MariaDB."""

import pytest

from app.books.models import Book
from app.customers.countries import COUNTRIES
from app.extensions import db
from tests.conftest import PASSWORD, address, assert_problem, row_counts

LABEL = "Ada Reader\n12 Baker Street\nLondon NW1 6XE\nUnited Kingdom"


def stock_of(book_id):
    db.session.expire_all()
    return db.session.get(Book, book_id).stock


def register(client, n, **extra):
    body = {"name": f"Reader {n}", "email": f"reader{n}@example.com", "username": f"reader{n}", "password": PASSWORD}
    return client.post("/register", json={**body, **extra})


def login_headers(client, username):
    token = client.post("/login", json={"username": username, "password": PASSWORD}).get_json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


# --- saving it -----------------------------------------------------------------------------------


def test_register_saves_the_default_address_and_every_customer_view_shows_it(client):
    sent = address(line2="Flat 2", phone="+44 20 7946 0000", country="GB")
    r = register(client, 1, default_address=sent)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["customer"]["default_address"] == sent
    headers = login_headers(client, "reader1")
    me = client.get("/me", headers=headers).get_json()
    assert me["customer"]["default_address"] == sent
    customer_id = me["customer"]["id"]
    assert client.get(f"/customers/{customer_id}", headers=headers).get_json()["default_address"] == sent


def test_without_one_the_default_address_is_null(client):
    r = register(client, 2)
    assert r.status_code == 201
    assert r.get_json()["customer"]["default_address"] is None
    r = client.post("/customers", json={"name": "Plain", "email": "plain@example.com"})
    assert r.status_code == 201 and r.get_json()["default_address"] is None


def test_post_customers_takes_a_default_address(client, admin_headers):
    r = client.post(
        "/customers", json={"name": "Grace", "email": "grace@example.com", "default_address": address(country="US")}
    )
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["default_address"]["country"] == "US"
    listed = client.get("/customers", query_string={"q": "grace@"}, headers=admin_headers).get_json()["items"]
    assert listed[0]["default_address"] == address(country="US")


def test_patch_replaces_the_address_whole_and_null_removes_it(client, make):
    account = make.customer(default_address=None)
    headers = make.headers(account)
    path = f"/customers/{account.customer_id}"

    r = client.patch(path, json={"default_address": address(city="Bath", postal_code="BA1 1AA")}, headers=headers)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["default_address"]["city"] == "Bath"

    r = client.patch(path, json={"default_address": address(line1="1 New Road", line2="")}, headers=headers)
    assert r.get_json()["default_address"] == address(line1="1 New Road")
    r = client.patch(path, json={"name": "Renamed"}, headers=headers)
    assert r.get_json()["default_address"] == address(line1="1 New Road")  # PATCH keeps what it is not sent
    assert row_counts()["customer_addresses"] == 1  # replaced in place, not a second default

    r = client.patch(path, json={"default_address": None}, headers=headers)
    assert r.status_code == 200 and r.get_json()["default_address"] is None
    assert row_counts()["customer_addresses"] == 0


def test_put_is_a_full_replace_so_an_omitted_address_is_removed(client, make):
    account = make.customer()
    headers = make.headers(account)
    path = f"/customers/{account.customer_id}"
    body = {"name": "Kept", "email": "kept@example.com"}
    r = client.put(path, json={**body, "default_address": address(city="York")}, headers=headers)
    assert r.get_json()["default_address"]["city"] == "York"
    r = client.put(path, json=body, headers=headers)
    assert r.status_code == 200 and r.get_json()["default_address"] is None


def test_patch_me_sets_the_default_address(client, customer, customer_headers):
    r = client.patch("/me", json={"default_address": address(country="FR", city="Paris")}, headers=customer_headers)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["customer"]["default_address"]["country"] == "FR"
    assert (
        client.get(f"/customers/{customer.customer_id}", headers=customer_headers).get_json()["default_address"]["city"]
        == "Paris"
    )


BAD_ADDRESSES = [
    pytest.param(address(country="XX"), "country", id="not-a-country"),
    pytest.param(address(country="gb"), "country", id="lower-case-country"),
    pytest.param(address(country="GBR"), "country", id="alpha-3-country"),
    pytest.param(address(country=None), "country", id="null-country"),
    pytest.param(address(line1="12 Baker\nStreet"), "line1", id="newline"),
    pytest.param(address(city="Lon\tdon"), "city", id="tab"),
    pytest.param(address(name="Ada\x07"), "name", id="bell"),
    pytest.param(address(line2="Flat\x1b[2J"), "line2", id="escape"),
    pytest.param(address(line1="Baker\u0085Street"), "line1", id="c1-control"),
    pytest.param(address(name="A" * 101), "name", id="name-too-long"),
    pytest.param(address(line1="x" * 101), "line1", id="line1-too-long"),
    pytest.param(address(city="x" * 65), "city", id="city-too-long"),
    pytest.param(address(postal_code="1" * 17), "postal_code", id="postal-code-too-long"),
    pytest.param(address(postal_code="NW1 6XE!"), "postal_code", id="postal-code-punctuation"),
    pytest.param(address(line1="   "), "line1", id="blank-line1"),
    pytest.param(address(phone="call me"), "phone", id="bad-phone"),
    pytest.param({k: v for k, v in address().items() if k != "postal_code"}, "postal_code", id="missing"),
    pytest.param({**address(), "state": "CA"}, "state", id="unknown-field"),
]


@pytest.mark.parametrize("bad, field", BAD_ADDRESSES)
def test_a_bad_address_is_400_naming_the_field_and_changes_nothing(client, make, bad, field):
    account = make.customer()
    headers = make.headers(account)
    before = client.get("/me", headers=headers).get_json()["customer"]
    counts = row_counts()

    for method, path in (("patch", f"/customers/{account.customer_id}"), ("patch", "/me")):
        body = assert_problem(getattr(client, method)(path, json={"default_address": bad}, headers=headers), 400)
        assert field in body["errors"]["default_address"], body
    body = assert_problem(register(client, 99, default_address=bad), 400)
    assert field in body["errors"]["default_address"]

    assert client.get("/me", headers=headers).get_json()["customer"] == before
    assert row_counts() == counts


def test_an_address_that_is_not_an_object_is_400(client, customer, customer_headers):
    r = client.patch("/me", json={"default_address": "12 Baker Street"}, headers=customer_headers)
    assert_problem(r, 400, "default_address")


def test_deleting_the_customer_removes_its_addresses(client, customer, customer_headers):
    assert row_counts()["customer_addresses"] == 1
    r = client.delete(f"/customers/{customer.customer_id}", headers=customer_headers)
    assert r.status_code == 204
    assert row_counts()["customer_addresses"] == 0


# --- where an order goes -------------------------------------------------------------------------


@pytest.fixture
def buyer(make):
    """A customer whose default address formats as LABEL, and its headers."""
    account = make.customer(default_address=address())
    return account, make.headers(account)


@pytest.fixture
def homeless(make):
    """A customer with no saved address, and its headers."""
    account = make.customer(default_address=None)
    return account, make.headers(account)


def order(client, headers, book_id, how, **body):
    if how == "orders":
        return client.post("/orders", json={"items": [{"book_id": book_id, "quantity": 1}], **body}, headers=headers)
    customer_id = client.get("/me", headers=headers).get_json()["customer"]["id"]
    return client.post(f"/customers/{customer_id}/purchase", json={"book_id": book_id, **body}, headers=headers)


HOW = ["orders", "purchase"]


@pytest.mark.parametrize("how", HOW)
def test_the_body_address_wins_over_the_default(client, buyer, book, how):
    a = book()
    r = order(client, buyer[1], a.id, how, shipping_address="  7 Elm Row\nEdinburgh EH7 4AA  ")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["shipping_address"] == "7 Elm Row\nEdinburgh EH7 4AA"


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize(
    "sent", [{}, {"shipping_address": ""}, {"shipping_address": "  \n "}, {"shipping_address": None}]
)
def test_without_a_body_address_the_order_goes_to_the_default(client, buyer, book, how, sent):
    a = book()
    r = order(client, buyer[1], a.id, how, **sent)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["shipping_address"] == LABEL
    assert client.get(f"/orders/{r.get_json()['id']}", headers=buyer[1]).get_json()["shipping_address"] == LABEL


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize(
    "sent", [{}, {"shipping_address": ""}, {"shipping_address": "   "}, {"shipping_address": None}]
)
def test_with_neither_the_order_is_400_naming_shipping_address_and_nothing_changes(client, homeless, book, how, sent):
    a = book(stock=3)
    counts = row_counts()
    body = assert_problem(order(client, homeless[1], a.id, how, **sent), 400, "shipping_address")
    assert "default_address" in body["detail"]
    assert stock_of(a.id) == 3
    assert row_counts() == counts


def test_a_cart_order_without_any_address_keeps_the_cart(client, homeless, book):
    a = book(stock=3)
    client.post("/cart", json={"book_id": a.id, "quantity": 2}, headers=homeless[1])
    assert_problem(client.post("/orders", json={}, headers=homeless[1]), 400, "shipping_address")
    assert client.get("/cart", headers=homeless[1]).get_json()["total_quantity"] == 2
    assert stock_of(a.id) == 3


def test_an_admin_order_for_a_customer_goes_to_that_customers_default(client, buyer, admin_headers, book):
    a = book()
    r = client.post(
        "/orders",
        json={"items": [{"book_id": a.id, "quantity": 1}], "customer_id": buyer[0].customer_id},
        headers=admin_headers,
    )
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["shipping_address"] == LABEL


def test_the_label_has_every_part_and_fits_the_order_column(client, make, book):
    longest = max(COUNTRIES, key=lambda code: len(COUNTRIES[code]))
    biggest = {
        "name": "N" * 100,
        "line1": "1" * 100,
        "line2": "2" * 100,
        "city": "C" * 64,
        "postal_code": "P" * 16,
        "country": longest,
        "phone": "+" + "9" * 19,
    }
    account = make.customer(default_address=biggest)
    r = order(client, make.headers(account), book().id, "orders")
    assert r.status_code == 201, r.get_json()
    label = r.get_json()["shipping_address"]
    assert label.split("\n") == [
        "N" * 100,
        "1" * 100,
        "2" * 100,
        f"{'C' * 64} {'P' * 16}",
        COUNTRIES[longest],
        "Phone: +" + "9" * 19,
    ]
    assert len(label) <= 500


def test_existing_orders_keep_their_address_when_the_default_changes(client, buyer, book):
    first = order(client, buyer[1], book().id, "orders").get_json()
    client.patch("/me", json={"default_address": address(city="Leeds", postal_code="LS1 1AA")}, headers=buyer[1])
    second = order(client, buyer[1], book(title="Emma").id, "orders").get_json()
    assert client.get(f"/orders/{first['id']}", headers=buyer[1]).get_json()["shipping_address"] == LABEL
    assert "Leeds LS1 1AA" in second["shipping_address"]


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize(
    "text",
    [
        pytest.param("x" * 501, id="too-long"),
        pytest.param("12 Baker Street\x07", id="bell"),
        pytest.param("12 Baker\x1b[31m Street", id="escape"),
        pytest.param("12 Baker\x00 Street", id="nul"),
    ],
)
def test_a_bad_shipping_address_text_is_400(client, buyer, book, how, text):
    a = book(stock=3)
    assert_problem(order(client, buyer[1], a.id, how, shipping_address=text), 400, "shipping_address")
    assert stock_of(a.id) == 3


def test_line_breaks_and_tabs_are_fine_in_a_shipping_address_text(client, buyer, book):
    r = order(client, buyer[1], book().id, "orders", shipping_address="Ada\r\n12 Baker Street\tFlat 2")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["shipping_address"] == "Ada\r\n12 Baker Street\tFlat 2"


# --- the document --------------------------------------------------------------------------------


def test_the_document_describes_the_address(client):
    spec = client.get("/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    addr = schemas["Address"]
    assert set(addr["required"]) == {"name", "line1", "city", "postal_code", "country"}
    assert addr["properties"]["country"]["enum"] == sorted(COUNTRIES)
    assert addr["additionalProperties"] is False
    for name in ("Customer", "Register", "MeUpdate", "CustomerFields", "CustomerCreate"):
        assert "default_address" in schemas[name]["properties"], name
    for name in ("OrderCreate", "Purchase"):
        description = schemas[name]["properties"]["shipping_address"]["description"]
        assert "default_address" in description and "400" in description
