"""Customer Management: customers, their saved address, purchase history, one-click purchase."""

from __future__ import annotations

from folders.common import (
    envelope,
    folder,
    fresh,
    location,
    no_content,
    problem,
    request,
    status,
    test,
    unauthorized,
)


def customers_folder() -> dict:
    create_with_account = request(
        "Create a customer with an account (public)",
        "POST",
        "/customers",
        prerequest=fresh(
            ("cust1Username", '"pm_cust_" + suffix'),
            ("cust1Email", '"pm.cust." + suffix + "@example.com"'),
            ("cust1Password", '"cust-pass-" + suffix'),
        ),
        json_body={
            "name": "Grace Postman",
            "email": "{{cust1Email}}",
            "phone": "+1 (555) 010-0002",
            "username": "{{cust1Username}}",
            "password": "{{cust1Password}}",
        },
        tests=status(201)
        + "\n"
        + location("/customers/\\d+")
        + "\n"
        + test(
            "the customer with its account nested",
            """
            const body = pm.response.json();
            pm.expect(body.email).to.eql(pm.collectionVariables.get("cust1Email"));
            pm.expect(body.account.username).to.eql(pm.collectionVariables.get("cust1Username"));
            pm.expect(body.account.customer_id).to.eql(body.id);
            pm.collectionVariables.set("cust1Id", body.id);
            pm.collectionVariables.set("cust1AccountId", body.account.id);
            """,
        ),
    )
    create_plain = request(
        "Create a customer without an account (public)",
        "POST",
        "/customers",
        prerequest=fresh(("cust2Email", '"PM.Plain." + suffix + "@Example.com"')),
        json_body={"name": "Plain Customer", "email": "{{cust2Email}}"},
        tests=status(201)
        + "\n"
        + location("/customers/\\d+")
        + "\n"
        + test(
            "no account; the email is lower-cased",
            """
            const body = pm.response.json();
            pm.expect(body.account).to.eql(null);
            pm.expect(body.phone).to.eql(null);
            pm.expect(body.email).to.eql(pm.collectionVariables.get("cust2Email").toLowerCase());
            pm.collectionVariables.set("cust2Email", body.email);
            pm.collectionVariables.set("cust2Id", body.id);
            """,
        ),
    )
    create_dup = request(
        "Create a customer — email taken → 409",
        "POST",
        "/customers",
        json_body={"name": "Copy Cat", "email": "{{cust2Email}}"},
        tests=problem(409, "email"),
    )
    create_half_account = request(
        "Create a customer — username without password → 400",
        "POST",
        "/customers",
        json_body={
            "name": "Half Account",
            "email": "half.{{$timestamp}}@example.com",
            "username": "half_{{$timestamp}}",
        },
        tests=problem(400, "password"),
    )
    create_invalid = request(
        "Create a customer — blank name, bad phone, wrong type → 400",
        "POST",
        "/customers",
        json_body={"name": "   ", "email": 42, "phone": "call me maybe"},
        tests=problem(400, "name", "email", "phone"),
    )
    create_text = request(
        "Create a customer — a body that is not JSON → 415",
        "POST",
        "/customers",
        raw="<customer><name>X</name></customer>",
        content_type="application/xml",
        tests=problem(415),
    )
    list_customers = request(
        "List customers (admin)",
        "GET",
        "/customers?per_page=5",
        token="adminToken",
        tests=status(200) + "\n" + envelope(per_page=5),
    )
    search = request(
        "Search customers by email (admin)",
        "GET",
        "/customers?q={{cust2Email}}",
        token="adminToken",
        tests=status(200)
        + "\n"
        + envelope()
        + "\n"
        + test(
            "exactly the matching customer",
            """
            const body = pm.response.json();
            pm.expect(body.total).to.eql(1);
            pm.expect(String(body.items[0].id)).to.eql(pm.collectionVariables.get("cust2Id"));
            """,
        ),
    )
    search_none = request(
        "Search with no match → an empty page (pages = 0)",
        "GET",
        "/customers?q=no-such-customer-{{$timestamp}}",
        token="adminToken",
        tests=status(200)
        + "\n"
        + test(
            "empty",
            """
            const body = pm.response.json();
            pm.expect(body.items).to.eql([]);
            pm.expect(body.total).to.eql(0);
            pm.expect(body.pages).to.eql(0);
            """,
        ),
    )
    list_customer = request(
        "List customers — a customer → 403", "GET", "/customers", token="customerToken", tests=problem(403)
    )
    list_anonymous = request("List customers — no token → 401", "GET", "/customers", tests=unauthorized())
    get_own = request(
        "Get my customer record",
        "GET",
        "/customers/{{customerCustomerId}}",
        token="customerToken",
        tests=status(200)
        + "\n"
        + test(
            "my record",
            """
            const body = pm.response.json();
            pm.expect(String(body.id)).to.eql(pm.collectionVariables.get("customerCustomerId"));
            pm.expect(body.email).to.eql(pm.collectionVariables.get("customerEmail"));
            pm.expect(body).to.include.keys("name", "phone", "created_at", "updated_at");
            """,
        ),
    )
    get_other = request(
        "Get someone else's customer record → 404",
        "GET",
        "/customers/{{cust2Id}}",
        token="customerToken",
        tests=problem(404),
    )
    get_admin = request(
        "Get any customer (admin)",
        "GET",
        "/customers/{{cust2Id}}",
        token="adminToken",
        tests=status(200)
        + "\n"
        + test(
            "that customer", 'pm.expect(String(pm.response.json().id)).to.eql(pm.collectionVariables.get("cust2Id"));'
        ),
    )
    put = request(
        "Replace a customer (admin, PUT clears omitted phone)",
        "PUT",
        "/customers/{{cust2Id}}",
        token="adminToken",
        json_body={"name": "Plain Customer Renamed", "email": "{{cust2Email}}"},
        tests=status(200)
        + "\n"
        + test(
            "replaced",
            """
            const body = pm.response.json();
            pm.expect(body.name).to.eql("Plain Customer Renamed");
            pm.expect(body.phone).to.eql(null);
            """,
        ),
    )
    put_missing = request(
        "Replace a customer — missing required fields → 400",
        "PUT",
        "/customers/{{cust2Id}}",
        token="adminToken",
        json_body={"phone": "+1 555 010 0003"},
        tests=problem(400, "name", "email"),
    )
    patch_bad_email = request(
        "Update a customer — invalid email → 400",
        "PATCH",
        "/customers/{{cust2Id}}",
        token="adminToken",
        json_body={"email": "nobody@"},
        tests=problem(400, "email"),
    )
    patch_taken_email = request(
        "Update a customer — email of another customer → 409",
        "PATCH",
        "/customers/{{cust2Id}}",
        token="adminToken",
        json_body={"email": "{{customerEmail}}"},
        tests=problem(409, "email"),
    )
    login_cust1 = request(
        "Login as the customer created above",
        "POST",
        "/login",
        json_body={"username": "{{cust1Username}}", "password": "{{cust1Password}}"},
        tests=status(200)
        + "\n"
        + test("token stored", 'pm.collectionVariables.set("cust1Token", pm.response.json().access_token);'),
    )
    patch_own = request(
        "Update my customer record (PATCH)",
        "PATCH",
        "/customers/{{cust1Id}}",
        token="cust1Token",
        json_body={"phone": "+1 555 010 0004"},
        tests=status(200)
        + "\n"
        + test(
            "phone changed, name kept",
            """
            const body = pm.response.json();
            pm.expect(body.phone).to.eql("+1 555 010 0004");
            pm.expect(body.name).to.eql("Grace Postman");
            """,
        ),
    )
    save_address = request(
        "Save a default address (PATCH)",
        "PATCH",
        "/customers/{{cust1Id}}",
        token="cust1Token",
        json_body={
            "default_address": {
                "name": "Grace Postman",
                "line1": "7 Harbour Road",
                "line2": "Unit 3",
                "city": "Arlington",
                "postal_code": "22201",
                "country": "US",
                "phone": "+1 555 010 0004",
            }
        },
        tests=status(200)
        + "\n"
        + test(
            "the address, whole",
            """
            const a = pm.response.json().default_address;
            pm.expect(a).to.eql({name: "Grace Postman", line1: "7 Harbour Road", line2: "Unit 3", city: "Arlington",
                postal_code: "22201", country: "US", phone: "+1 555 010 0004"});
            """,
        ),
    )
    bad_address = request(
        "A default address with a bad country, a line break in line1 and no city → 400",
        "PATCH",
        "/customers/{{cust1Id}}",
        token="cust1Token",
        json_body={
            "default_address": {"name": "Grace", "line1": "7 Harbour\nRoad", "postal_code": "22201", "country": "USA"}
        },
        tests=problem(400, "default_address")
        + "\n"
        + test(
            "each field named",
            """
            const e = pm.response.json().errors.default_address;
            pm.expect(e).to.have.all.keys("line1", "city", "country");
            """,
        ),
    )
    remove_address = request(
        "Remove the default address (null)",
        "PATCH",
        "/customers/{{cust1Id}}",
        token="cust1Token",
        json_body={"default_address": None},
        tests=status(200) + "\n" + test("none saved", "pm.expect(pm.response.json().default_address).to.eql(null);"),
    )
    delete_other = request(
        "Delete someone else's customer record → 404",
        "DELETE",
        "/customers/{{cust2Id}}",
        token="cust1Token",
        tests=problem(404),
    )
    delete_admin = request(
        "Delete a customer (admin)", "DELETE", "/customers/{{cust2Id}}", token="adminToken", tests=no_content()
    )
    get_deleted = request(
        "Get the deleted customer → 404", "GET", "/customers/{{cust2Id}}", token="adminToken", tests=problem(404)
    )
    delete_self = request(
        "Delete my own customer record (and account)",
        "DELETE",
        "/customers/{{cust1Id}}",
        token="cust1Token",
        tests=no_content(),
    )
    token_of_deleted = request(
        "The deleted account's token → 401", "GET", "/me", token="cust1Token", tests=unauthorized()
    )
    return folder(
        "Customer Management",
        "Customer records: public sign-up with or without an account, admin listing and search, "
        "ownership (someone else's record is 404), updates, the saved default address, and deletion.",
        [
            create_with_account,
            create_plain,
            create_dup,
            create_half_account,
            create_invalid,
            create_text,
            list_customers,
            search,
            search_none,
            list_customer,
            list_anonymous,
            get_own,
            get_other,
            get_admin,
            put,
            put_missing,
            patch_bad_email,
            patch_taken_email,
            login_cust1,
            patch_own,
            save_address,
            bad_address,
            remove_address,
            delete_other,
            delete_admin,
            get_deleted,
            delete_self,
            token_of_deleted,
        ],
    )
