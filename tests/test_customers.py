"""Customer records (docs/api.md "Customers", without purchase and orders)."""

import pytest

from tests.conftest import PASSWORD, assert_problem, row_counts

pytestmark = pytest.mark.usefixtures("no_secrets")


def new_customer(**overrides) -> dict:
    body = {"name": "Cleo Reader", "email": "cleo@example.com", "phone": "+1 (555) 010-0199"}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


# --- POST /customers (public) -------------------------------------------------------------------


def test_create_customer_without_account(client, admin_headers):
    response = client.post("/customers", json=new_customer())

    assert response.status_code == 201
    body = response.get_json()
    assert body["name"] == "Cleo Reader"
    assert body["email"] == "cleo@example.com"
    assert body["phone"] == "+1 (555) 010-0199"
    assert body["account"] is None
    assert body["created_at"].endswith("Z") and body["updated_at"].endswith("Z")
    assert response.headers["Location"] == f"/customers/{body['id']}"
    shown = client.get(response.headers["Location"], headers=admin_headers).get_json()
    assert (shown["id"], shown["email"]) == (body["id"], "cleo@example.com")


def test_create_customer_with_account_that_can_log_in(client, make):
    response = client.post("/customers", json=new_customer(username="Cleo", password=PASSWORD))

    assert response.status_code == 201
    body = response.get_json()
    assert body["account"]["username"] == "cleo"
    assert body["account"]["role"] == "customer"
    assert body["account"]["customer_id"] == body["id"]
    me = client.get("/me", headers=make.headers("cleo")).get_json()
    assert me["customer"]["id"] == body["id"]


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"email": "CLEO@example.com"}, "email"),
        ({"email": "other@example.com", "username": "taken", "password": PASSWORD}, "username"),
    ],
    ids=["email", "username"],
)
def test_create_customer_duplicate_is_409_and_writes_nothing(client, make, overrides, field):
    make.customer(email="cleo@example.com", username="taken")
    before = row_counts()

    response = client.post("/customers", json=new_customer(**overrides))

    assert_problem(response, 409, field)
    assert row_counts() == before


BAD_CUSTOMERS = [
    ("missing-name", {"name": ...}, "name"),
    ("missing-email", {"email": ...}, "email"),
    ("name-number", {"name": 5}, "name"),
    ("name-list", {"name": ["Cleo"]}, "name"),
    ("email-number", {"email": 5}, "email"),
    ("phone-number", {"phone": 5550100199}, "phone"),
    ("bad-email", {"email": "cleo-at-example.com"}, "email"),
    ("bad-email-double-at", {"email": "cleo@@example.com"}, "email"),
    ("name-blank", {"name": "\t "}, "name"),
    ("name-121", {"name": "é" * 121}, "name"),
    ("email-255", {"email": "c" * 243 + "@example.com"}, "email"),
    ("phone-6", {"phone": "555 01"}, "phone"),
    ("phone-21", {"phone": "+" + "1" * 20}, "phone"),
    ("phone-letters", {"phone": "555-CLEO-00"}, "phone"),
    ("unknown-role", {"role": "admin"}, "role"),
    ("unknown-id", {"id": 99}, "id"),
    ("unknown-created_at", {"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
    ("username-without-password", {"username": "cleo"}, "password"),
    ("password-without-username", {"password": PASSWORD}, "username"),
    ("username-empty", {"username": "", "password": PASSWORD}, "username"),
    ("username-2", {"username": "cl", "password": PASSWORD}, "username"),
    ("username-51", {"username": "c" * 51, "password": PASSWORD}, "username"),
    ("username-with-at", {"username": "cleo@home", "password": PASSWORD}, "username"),
    ("username-number", {"username": 12345, "password": PASSWORD}, "username"),
    ("password-short", {"username": "cleo", "password": "short"}, "password"),
    ("password-73-bytes", {"username": "cleo", "password": "p" * 73}, "password"),
    ("name-NUL", {"name": "Cleo\x00Reader"}, "name"),
]


@pytest.mark.parametrize("overrides, field", [b[1:] for b in BAD_CUSTOMERS], ids=[b[0] for b in BAD_CUSTOMERS])
def test_create_customer_bad_input_is_400_and_writes_nothing(client, overrides, field):
    before = row_counts()

    response = client.post("/customers", json=new_customer(**overrides))

    assert_problem(response, 400, field)
    assert row_counts() == before


@pytest.mark.parametrize("field", ["name", "email", "phone"])
def test_create_customer_lone_surrogate_is_400(client, field):
    raw = '{"name": "Cleo", "email": "cleo@example.com", "phone": "5550100199"}'
    raw = raw.replace(f'"{field}": "', f'"{field}": "\\ud800', 1)
    before = row_counts()

    response = client.post("/customers", data=raw, content_type="application/json")

    assert_problem(response, 400, field)
    assert row_counts() == before


@pytest.mark.parametrize(
    "data, content_type, status",
    [
        ("name=Cleo&email=cleo@example.com", "application/x-www-form-urlencoded", 415),
        ("<customer/>", "application/xml", 415),
        ('{"name": "Cleo" "email": "cleo@example.com"}', "application/json", 400),
    ],
    ids=["form", "xml", "malformed"],
)
def test_create_customer_non_json_or_malformed_writes_nothing(client, data, content_type, status):
    before = row_counts()

    response = client.post("/customers", data=data, content_type=content_type)

    assert_problem(response, status)
    assert row_counts() == before


def test_customer_name_keeps_emoji(client, admin_headers):
    created = client.post("/customers", json=new_customer(name="Ōe 🐉 Kenzaburō")).get_json()

    shown = client.get(f"/customers/{created['id']}", headers=admin_headers).get_json()

    assert shown["name"] == "Ōe 🐉 Kenzaburō"


# --- GET /customers (admin) ---------------------------------------------------------------------


def test_list_customers_is_a_page_with_link_header(client, make, admin_headers):
    for _ in range(4):
        make.customer()  # + the admin's own customer record = 5

    response = client.get("/customers?per_page=2&page=2", headers=admin_headers)

    assert response.status_code == 200
    body = response.get_json()
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (2, 2, 5, 3)
    assert len(body["items"]) == 2
    assert set(body["items"][0]) >= {"id", "name", "email", "phone", "created_at", "updated_at"}
    links = response.headers["Link"]
    for rel, page in (("first", 1), ("prev", 1), ("next", 3), ("last", 3)):
        assert f'page={page}&per_page=2>; rel="{rel}"' in links
    ids = [
        c["id"]
        for p in (1, 2, 3)
        for c in client.get(f"/customers?per_page=2&page={p}", headers=admin_headers).get_json()["items"]
    ]
    assert len(ids) == len(set(ids)) == 5


def test_list_customers_default_page_and_past_the_end(client, make, admin_headers):
    make.customer()

    first = client.get("/customers", headers=admin_headers)
    beyond = client.get("/customers?page=9", headers=admin_headers)

    assert (first.get_json()["page"], first.get_json()["per_page"], first.get_json()["total"]) == (1, 20, 2)
    assert 'rel="next"' not in first.headers["Link"]
    assert beyond.status_code == 200
    assert beyond.get_json()["items"] == []


def test_list_customers_q_matches_name_or_email_case_insensitively(client, make, admin_headers):
    make.customer(name="Zadie Smith", email="zs@example.com")
    make.customer(name="Other Person", email="ZADIE.fan@example.com")
    make.customer(name="Nobody", email="nobody@example.com")

    response = client.get("/customers?q=ZADIE&per_page=1", headers=admin_headers)

    body = response.get_json()
    assert body["total"] == 2
    assert body["items"][0]["name"] == "Zadie Smith"
    assert "q=ZADIE" in response.headers["Link"]
    both = client.get("/customers?q=zadie", headers=admin_headers).get_json()["items"]
    assert {c["name"] for c in both} == {"Zadie Smith", "Other Person"}


@pytest.mark.parametrize("q", ["%", "_", "\\", "'"])
def test_list_customers_q_wildcards_are_literal(client, make, admin_headers, q):
    make.customer(name=f"Odd {q} Name")
    make.customer(name="Plain Name")

    items = client.get("/customers", query_string={"q": q}, headers=admin_headers).get_json()["items"]

    assert [c["name"] for c in items] == [f"Odd {q} Name"]


@pytest.mark.parametrize(
    "query, field",
    [
        ("per_page=101", "per_page"),
        ("per_page=0", "per_page"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=two", "page"),
        ("per_page=1.5", "per_page"),
        ("q=" + "x" * 101, "q"),
    ],
)
def test_list_customers_bad_query_is_400(client, admin_headers, query, field):
    assert_problem(client.get(f"/customers?{query}", headers=admin_headers), 400, field)


def test_list_customers_is_for_admins(client, customer_headers):
    assert_problem(client.get("/customers", headers=customer_headers), 403)
    assert_problem(client.get("/customers"), 401)


# --- GET/PUT/PATCH/DELETE /customers/{id} -------------------------------------------------------


def test_customer_reads_own_record_and_admin_reads_any(client, customer, customer_headers, admin_headers):
    own = client.get(f"/customers/{customer.customer_id}", headers=customer_headers)
    by_admin = client.get(f"/customers/{customer.customer_id}", headers=admin_headers)

    assert own.status_code == by_admin.status_code == 200
    assert own.get_json()["id"] == by_admin.get_json()["id"] == customer.customer_id
    assert own.get_json()["email"] == by_admin.get_json()["email"]


def test_put_replaces_the_profile_and_clears_an_omitted_phone(client, make):
    account = make.customer(phone="+44 20 7946 0000")
    headers = make.headers(account)

    response = client.put(
        f"/customers/{account.customer_id}", json={"name": "New Name", "email": "NEW@example.com"}, headers=headers
    )

    assert response.status_code == 200
    body = response.get_json()
    assert (body["name"], body["email"], body["phone"]) == ("New Name", "new@example.com", None)
    assert client.get(f"/customers/{account.customer_id}", headers=headers).get_json()["phone"] is None


def test_patch_changes_only_what_is_sent(client, make, admin_headers):
    account = make.customer(name="Old Name", phone="+44 20 7946 0000")

    response = client.patch(f"/customers/{account.customer_id}", json={"name": "Fresh"}, headers=admin_headers)

    assert response.status_code == 200
    body = response.get_json()
    assert (body["name"], body["phone"]) == ("Fresh", "+44 20 7946 0000")


def test_put_without_required_fields_is_400_and_changes_nothing(client, customer, customer_headers):
    url = f"/customers/{customer.customer_id}"
    before = client.get(url, headers=customer_headers).get_json()

    response = client.put(url, json={"name": "Only Name"}, headers=customer_headers)

    assert_problem(response, 400, "email")
    assert client.get(url, headers=customer_headers).get_json() == before


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"email": "bad"}, "email"),
        ({"email": 1}, "email"),
        ({"phone": "abc"}, "phone"),
        ({"username": "new-name"}, "username"),
        ({"id": 1}, "id"),
        ({"account": None}, "account"),
    ],
    ids=["name-blank", "name-long", "email-bad", "email-number", "phone-bad", "username", "id", "account"],
)
def test_patch_bad_input_is_400_and_changes_nothing(client, customer, customer_headers, body, field):
    url = f"/customers/{customer.customer_id}"
    before = client.get(url, headers=customer_headers).get_json()

    response = client.patch(url, json=body, headers=customer_headers)

    assert_problem(response, 400, field)
    assert client.get(url, headers=customer_headers).get_json() == before


def test_patch_non_json_is_415_and_malformed_is_400(client, customer, customer_headers):
    url = f"/customers/{customer.customer_id}"

    assert_problem(client.patch(url, data="name=x", content_type="text/plain", headers=customer_headers), 415)
    assert_problem(client.patch(url, data="{", content_type="application/json", headers=customer_headers), 400)


def test_update_to_a_taken_email_is_409(client, make, customer, customer_headers):
    make.customer(email="taken@example.com")
    url = f"/customers/{customer.customer_id}"
    before = client.get(url, headers=customer_headers).get_json()

    response = client.patch(url, json={"email": "Taken@Example.com"}, headers=customer_headers)

    assert_problem(response, 409, "email")
    assert client.get(url, headers=customer_headers).get_json() == before


def test_keeping_your_own_email_is_not_a_conflict(client, customer, customer_headers):
    url = f"/customers/{customer.customer_id}"
    email = client.get(url, headers=customer_headers).get_json()["email"]

    response = client.put(url, json={"name": "Same Email", "email": email.upper()}, headers=customer_headers)

    assert response.status_code == 200
    assert response.get_json()["email"] == email


def test_delete_customer_removes_its_account(client, make, customer, customer_headers, admin_headers):
    response = client.delete(f"/customers/{customer.customer_id}", headers=customer_headers)

    assert response.status_code == 204
    assert response.get_data() == b""
    assert_problem(client.get(f"/customers/{customer.customer_id}", headers=admin_headers), 404)
    assert_problem(client.get(f"/accounts/{customer.id}", headers=admin_headers), 404)
    assert_problem(client.get("/me", headers=customer_headers), 401)
    assert_problem(client.post("/login", json={"username": customer.username, "password": PASSWORD}), 401)


def test_admin_deletes_a_customer_without_account(client, admin_headers):
    created = client.post("/customers", json=new_customer()).get_json()

    assert client.delete(f"/customers/{created['id']}", headers=admin_headers).status_code == 204
    assert_problem(client.get(f"/customers/{created['id']}", headers=admin_headers), 404)
    # the email is free again
    assert client.post("/customers", json=new_customer()).status_code == 201


# --- ownership ----------------------------------------------------------------------------------


def _other_customer(make):
    victim = make.customer(name="Victim", email="victim@example.com")
    attacker = make.customer()
    return victim, make.headers(attacker)


@pytest.mark.parametrize(
    "method, body",
    [
        ("get", None),
        ("put", {"name": "Pwned", "email": "pwned@example.com"}),
        ("patch", {"name": "Pwned"}),
        ("delete", None),
    ],
)
def test_someone_elses_customer_is_404_and_untouched(client, make, admin_headers, method, body):
    victim, attacker_headers = _other_customer(make)
    url = f"/customers/{victim.customer_id}"

    response = getattr(client, method)(url, json=body, headers=attacker_headers)

    missing = client.get("/customers/999999", headers=attacker_headers)
    assert_problem(response, 404)
    assert response.get_json()["title"] == missing.get_json()["title"]
    after = client.get(url, headers=admin_headers).get_json()
    assert (after["name"], after["email"]) == ("Victim", "victim@example.com")


def test_unknown_customer_is_404_for_admin(client, admin_headers):
    assert_problem(client.get("/customers/999999", headers=admin_headers), 404)
    assert_problem(client.patch("/customers/999999", json={"name": "x"}, headers=admin_headers), 404)
    assert_problem(client.delete("/customers/999999", headers=admin_headers), 404)


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_customer_routes_need_a_token(client, customer, method):
    response = getattr(client, method)(f"/customers/{customer.customer_id}", json={"name": "x"})

    assert_problem(response, 401)
