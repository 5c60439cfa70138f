#!/usr/bin/env python3
"""Write the Postman collection (v2.1) of the Bookstore API.

    python postman/build_collection.py           # writes postman/bookstore.postman_collection.json
    python postman/build_collection.py --check   # exit 1 if the committed file is not what this writes

The collection is generated so that every request carries its `pm.test` assertions written the same
way; edit this file, not the JSON. Run order matters: "Auth & Accounts" logs in the demo admin and
customer and stores their tokens in collection variables that the later folders use. Every name or
email a request creates gets a fresh random suffix in its pre-request script, so the collection can
be run again and again on the same seeded database (mind REGISTER_RATE_LIMIT: 30 per hour per
client address by default, and one run sends 13 requests to /register and POST /customers).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "bookstore.postman_collection.json"
SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
NAMESPACE = uuid.UUID("5b0f5c1e-8d0c-4a53-9a55-1f0c3b1e7a10")


# --- JavaScript snippets --------------------------------------------------------------------------


def js(code: str) -> list[str]:
    """A script as Postman stores it: a list of lines."""
    return textwrap.dedent(code).strip("\n").split("\n")


def test(name: str, body: str) -> str:
    inner = textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
    return f"pm.test({json.dumps(name)}, function () {{\n{inner}\n}});"


def status(code: int) -> str:
    return test(f"status is {code}", f"pm.response.to.have.status({code});")


def problem(code: int, *fields: str) -> str:
    """The status, the problem+json shape, and (for 400/409) the fields named in `errors`."""
    parts = [
        status(code),
        test(
            f"{code} is problem+json",
            f"""
            pm.expect(pm.response.headers.get("Content-Type")).to.include("application/problem+json");
            const p = pm.response.json();
            pm.expect(p).to.include.keys("type", "title", "status", "detail");
            pm.expect(p.status).to.eql({code});
            """,
        ),
    ]
    if fields:
        checks = "\n".join(f"pm.expect(p.errors).to.have.property({json.dumps(f)});" for f in fields)
        parts.append(
            test(
                f"errors name {', '.join(fields)}",
                f"""
                const p = pm.response.json();
                pm.expect(p.errors, "errors").to.be.an("object");
                {checks}
                """,
            )
        )
    return "\n".join(parts)


def unauthorized() -> str:
    return (
        problem(401)
        + "\n"
        + test(
            "WWW-Authenticate asks for a bearer token",
            'pm.expect(pm.response.headers.get("WWW-Authenticate")).to.match(/^Bearer/);',
        )
    )


def envelope(per_page: int | None = None) -> str:
    check_per_page = f"pm.expect(body.per_page).to.eql({per_page});" if per_page else ""
    return test(
        "a pagination envelope with a Link header",
        f"""
        const body = pm.response.json();
        pm.expect(body).to.have.all.keys("items", "page", "per_page", "total", "pages");
        pm.expect(body.items).to.be.an("array");
        pm.expect(body.items.length).to.be.at.most(body.per_page);
        {check_per_page}
        pm.expect(body.pages).to.eql(Math.ceil(body.total / body.per_page));
        const link = pm.response.headers.get("Link");
        pm.expect(link).to.include('rel="first"');
        pm.expect(link).to.include('rel="last"');
        """,
    )


def location(pattern: str) -> str:
    pattern = pattern.replace("/", "\\/")
    return test(
        "Location points at the new object",
        f'pm.expect(pm.response.headers.get("Location")).to.match(/{pattern}$/);',
    )


def no_content() -> str:
    return status(204) + "\n" + test("the body is empty", 'pm.expect(pm.response.text()).to.eql("");')


def store_tokens(prefix: str) -> str:
    """Assert a token answer and keep its tokens as `<prefix>Token` and `<prefix>RefreshToken`."""
    return test(
        "access and refresh tokens are stored",
        f"""
        const body = pm.response.json();
        pm.expect(body.token_type).to.eql("Bearer");
        pm.expect(body.expires_in).to.be.a("number").and.to.be.above(0);
        pm.expect(body.access_token.split(".")).to.have.lengthOf(3);
        pm.expect(body.refresh_token.split(".")).to.have.lengthOf(3);
        pm.collectionVariables.set("{prefix}Token", body.access_token);
        pm.collectionVariables.set("{prefix}RefreshToken", body.refresh_token);
        """,
    )


def fresh(*pairs: tuple[str, str]) -> list[str]:
    """A pre-request script giving collection variables new values built from a random suffix."""
    lines = ["const suffix = Date.now().toString(36) + Math.floor(Math.random() * 1e9).toString(36);"]
    lines += [f'pm.collectionVariables.set("{name}", {expr});' for name, expr in pairs]
    return lines


COLLECTION_TESTS = js(
    r"""
    // Runs after every request of the collection, before the request's own tests.
    pm.test("[every response] no password or password hash is disclosed", function () {
        const text = pm.response.text();
        pm.expect(text).to.not.match(/\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}/);
        pm.expect(text).to.not.include("password_hash");
        let sent = null;
        try {
            sent = JSON.parse(pm.variables.replaceIn((pm.request.body && pm.request.body.raw) || "null"));
        } catch {
            sent = null;
        }
        ["password", "new_password", "current_password"].forEach(function (key) {
            if (sent && typeof sent[key] === "string" && sent[key].length >= 8) {
                pm.expect(text).to.not.include(sent[key]);
            }
        });
    });
    if (pm.response.code >= 400) {
        pm.test("[every error] is RFC 9457 problem+json", function () {
            pm.expect(pm.response.headers.get("Content-Type")).to.include("application/problem+json");
            const p = pm.response.json();
            pm.expect(p).to.include.keys("type", "title", "status", "detail");
            pm.expect(p.status).to.eql(pm.response.code);
        });
    }
    """
)


# --- requests -------------------------------------------------------------------------------------


def _id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def _url(path: str) -> dict:
    path, _, query = path.partition("?")
    url: dict = {
        "raw": "{{baseUrl}}" + path + (f"?{query}" if query else ""),
        "host": ["{{baseUrl}}"],
        "path": [p for p in path.split("/") if p],
    }
    if query:
        url["query"] = [{"key": k, "value": v} for k, _, v in (pair.partition("=") for pair in query.split("&"))]
    return url


def _raw_json(body) -> str:
    """JSON text; a string value "{{=name}}" becomes a bare {{name}} (a number variable)."""
    text = json.dumps(body, indent=2, ensure_ascii=False)
    return re.sub(r'"\{\{=(\w+)\}\}"', r"{{\1}}", text)


def request(
    name: str,
    method: str,
    path: str,
    *,
    token: str | None = None,
    json_body=None,
    raw: str | None = None,
    content_type: str | None = None,
    headers: dict | None = None,
    tests: str,
    prerequest: list[str] | None = None,
    description: str = "",
) -> dict:
    """One request. `token` names the collection variable holding the bearer token (None: anonymous)."""
    header = [{"key": k, "value": v} for k, v in (headers or {}).items()]
    req: dict = {"method": method, "header": header, "url": _url(path)}
    if token:
        req["auth"] = {"type": "bearer", "bearer": [{"key": "token", "value": "{{" + token + "}}", "type": "string"}]}
    else:
        req["auth"] = {"type": "noauth"}
    if json_body is not None or raw is not None:
        text = _raw_json(json_body) if json_body is not None else raw
        header.append({"key": "Content-Type", "value": content_type or "application/json"})
        body: dict = {"mode": "raw", "raw": text}
        if (content_type or "application/json") == "application/json":
            body["options"] = {"raw": {"language": "json"}}
        req["body"] = body
    if description:
        req["description"] = description
    events = []
    if prerequest:
        events.append({"listen": "prerequest", "script": {"type": "text/javascript", "exec": prerequest}})
    events.append({"listen": "test", "script": {"type": "text/javascript", "exec": tests.split("\n")}})
    return {"name": name, "event": events, "request": req, "response": []}


def folder(name: str, description: str, items: list[dict]) -> dict:
    for item in items:
        item["id"] = _id(name, item["name"])
    return {"name": name, "description": description, "item": items}


# --- folders --------------------------------------------------------------------------------------


def service_folder() -> dict:
    return folder(
        "Service",
        "Health, the OpenAPI document, the offline docs, and how unknown paths and methods answer.",
        [
            request(
                "Health",
                "GET",
                "/health",
                tests=status(200)
                + "\n"
                + test(
                    "the service and its database are up",
                    'pm.expect(pm.response.json()).to.eql({status: "ok", database: "ok"});',
                ),
            ),
            request(
                "OpenAPI document",
                "GET",
                "/openapi.json",
                tests=status(200)
                + "\n"
                + test(
                    "an OpenAPI 3 document describing the API",
                    """
                    const doc = pm.response.json();
                    pm.expect(doc.openapi).to.match(/^3\\./);
                    ["/register", "/login", "/token/refresh", "/logout", "/me", "/me/password",
                     "/accounts", "/accounts/{account_id}", "/customers", "/customers/{customer_id}",
                     "/health"].forEach(function (path) {
                        pm.expect(doc.paths, path).to.have.property(path);
                    });
                    pm.expect(doc.components.securitySchemes).to.have.property("bearerAuth");
                    """,
                ),
            ),
            request(
                "Interactive docs (offline)",
                "GET",
                "/docs/",
                tests=status(200)
                + "\n"
                + test(
                    "an HTML page that loads its assets from this server",
                    """
                    pm.expect(pm.response.headers.get("Content-Type")).to.include("text/html");
                    const html = pm.response.text();
                    pm.expect(html.toLowerCase()).to.include("swagger");
                    pm.expect(html).to.not.match(/<script[^>]+src="https?:/);
                    """,
                ),
            ),
            request("Unknown path → 404", "GET", "/no-such-thing", tests=problem(404)),
            request(
                "Wrong method → 405 with Allow",
                "DELETE",
                "/health",
                tests=problem(405)
                + "\n"
                + test("Allow lists GET", 'pm.expect(pm.response.headers.get("Allow")).to.include("GET");'),
            ),
            request(
                "X-Request-ID is echoed",
                "GET",
                "/health",
                headers={"X-Request-ID": "postman-{{$timestamp}}"},
                tests=status(200)
                + "\n"
                + test(
                    "the response carries the request id that was sent",
                    'pm.expect(pm.response.headers.get("X-Request-ID")).to.match(/^postman-\\d+$/);',
                ),
            ),
        ],
    )


def auth_folder() -> dict:
    login_admin = request(
        "Login as the demo admin",
        "POST",
        "/login",
        json_body={"username": "{{adminUsername}}", "password": "{{adminPassword}}"},
        tests=status(200) + "\n" + store_tokens("admin"),
        description="Stores `adminToken` and `adminRefreshToken` for the requests that follow.",
    )
    login_customer = request(
        "Login as the demo customer",
        "POST",
        "/login",
        json_body={"username": "{{customerUsername}}", "password": "{{customerPassword}}"},
        tests=status(200) + "\n" + store_tokens("customer"),
        description="Stores `customerToken` and `customerRefreshToken` for the requests that follow.",
    )
    me_admin = request(
        "Me (admin)",
        "GET",
        "/me",
        token="adminToken",
        tests=status(200)
        + "\n"
        + test(
            "the admin account, ids stored",
            """
            const body = pm.response.json();
            pm.expect(body.account.role).to.eql("admin");
            pm.expect(body.account.username).to.eql(pm.variables.get("adminUsername"));
            pm.collectionVariables.set("adminAccountId", body.account.id);
            pm.collectionVariables.set("adminCustomerId", body.account.customer_id);
            """,
        ),
    )
    me_customer = request(
        "Me (customer)",
        "GET",
        "/me",
        token="customerToken",
        tests=status(200)
        + "\n"
        + test(
            "the customer account and profile, ids stored",
            """
            const body = pm.response.json();
            pm.expect(body.account.role).to.eql("customer");
            pm.expect(body.customer.id).to.eql(body.account.customer_id);
            pm.expect(body.customer.email).to.include("@");
            pm.collectionVariables.set("customerAccountId", body.account.id);
            pm.collectionVariables.set("customerCustomerId", body.customer.id);
            pm.collectionVariables.set("customerEmail", body.customer.email);
            """,
        ),
    )
    login_email = request(
        "Login with the email instead of the username",
        "POST",
        "/login",
        json_body={"username": "{{customerEmail}}", "password": "{{customerPassword}}"},
        tests=status(200)
        + "\n"
        + test("tokens are issued", 'pm.expect(pm.response.json().access_token).to.be.a("string");'),
    )
    wrong_password = request(
        "Login — wrong password → 401",
        "POST",
        "/login",
        json_body={"username": "{{customerUsername}}", "password": "not-the-password"},
        tests=problem(401)
        + "\n"
        + test(
            "no token in the answer",
            """
            const body = pm.response.json();
            pm.expect(body).to.not.have.property("access_token");
            pm.collectionVariables.set("badLoginDetail", body.detail);
            """,
        ),
    )
    unknown_user = request(
        "Login — unknown user → the same 401",
        "POST",
        "/login",
        json_body={"username": "nobody-{{$timestamp}}", "password": "not-the-password"},
        tests=problem(401)
        + "\n"
        + test(
            "indistinguishable from a wrong password",
            'pm.expect(pm.response.json().detail).to.eql(pm.collectionVariables.get("badLoginDetail"));',
        ),
    )
    register = request(
        "Register a customer",
        "POST",
        "/register",
        prerequest=fresh(
            ("newUsername", '"PM_User_" + suffix'),
            ("newEmail", '"pm.user." + suffix + "@example.com"'),
            ("newPassword", '"first-pass-" + suffix'),
            ("newPassword2", '"second-pass-" + suffix'),
        ),
        json_body={
            "name": "Postman Reader",
            "email": "{{newEmail}}",
            "phone": "+1 555 010 0000",
            "username": "{{newUsername}}",
            "password": "{{newPassword}}",
            "default_address": {
                "name": "Postman Reader",
                "line1": "1 Postman Street",
                "city": "Testville",
                "postal_code": "T1 1ST",
                "country": "GB",
            },
        },
        tests=status(201)
        + "\n"
        + location("/accounts/\\d+")
        + "\n"
        + test(
            "the customer and its account; the username is lower-cased",
            """
            const body = pm.response.json();
            pm.expect(body.customer.email).to.eql(pm.collectionVariables.get("newEmail"));
            pm.expect(body.account.username).to.eql(pm.collectionVariables.get("newUsername").toLowerCase());
            pm.expect(body.account.role).to.eql("customer");
            pm.expect(body.account.is_active).to.eql(true);
            pm.expect(body.account.customer_id).to.eql(body.customer.id);
            pm.expect(body.account.created_at).to.match(/^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$/);
            pm.expect(body.account).to.not.have.property("password");
            pm.expect(body.customer.default_address).to.eql({name: "Postman Reader", line1: "1 Postman Street",
                line2: null, city: "Testville", postal_code: "T1 1ST", country: "GB", phone: null});
            pm.collectionVariables.set("newAccountId", body.account.id);
            pm.collectionVariables.set("newCustomerId", body.customer.id);
            """,
        ),
    )
    dup_username = request(
        "Register — username taken → 409",
        "POST",
        "/register",
        json_body={
            "name": "Someone Else",
            "email": "other.{{$timestamp}}{{$randomInt}}@example.com",
            "username": "{{newUsername}}",
            "password": "another-pass-123",
        },
        tests=problem(409, "username"),
    )
    dup_email = request(
        "Register — email taken → 409",
        "POST",
        "/register",
        json_body={
            "name": "Someone Else",
            "email": "{{newEmail}}",
            "username": "other_{{$timestamp}}{{$randomInt}}",
            "password": "another-pass-123",
        },
        tests=problem(409, "email"),
    )
    register_role = request(
        "Register — role cannot be chosen → 400",
        "POST",
        "/register",
        json_body={
            "name": "Would Be Admin",
            "email": "wannabe.{{$timestamp}}{{$randomInt}}@example.com",
            "username": "wannabe_{{$timestamp}}{{$randomInt}}",
            "password": "wannabe-pass-123",
            "role": "admin",
        },
        tests=problem(400, "role"),
    )
    register_invalid = request(
        "Register — invalid fields → 400 naming each",
        "POST",
        "/register",
        json_body={"name": "", "email": "not-an-email", "username": "x", "password": "short"},
        tests=problem(400, "name", "email", "username", "password"),
    )
    register_text = request(
        "Register — a body that is not JSON → 415",
        "POST",
        "/register",
        raw="name=Ann&username=ann",
        content_type="text/plain",
        tests=problem(415),
    )
    register_malformed = request(
        "Register — malformed JSON → 400",
        "POST",
        "/register",
        raw='{"name": "Ann", "email": ',
        tests=problem(400),
    )
    login_new = request(
        "Login as the new customer (username in any case)",
        "POST",
        "/login",
        json_body={"username": "{{newUsername}}", "password": "{{newPassword}}"},
        tests=status(200)
        + "\n"
        + store_tokens("new")
        + "\n"
        + test(
            "this login session is kept as firstToken",
            'pm.collectionVariables.set("firstToken", pm.response.json().access_token);',
        ),
    )
    me_no_token = request("Me — no token → 401", "GET", "/me", tests=unauthorized())
    me_bad_token = request(
        "Me — a token that is not a JWT → 401",
        "GET",
        "/me",
        headers={"Authorization": "Bearer not.a.token"},
        tests=unauthorized(),
    )
    me_new = request(
        "Me (new customer)",
        "GET",
        "/me",
        token="newToken",
        tests=status(200)
        + "\n"
        + test(
            "the account and customer just registered",
            """
            const body = pm.response.json();
            pm.expect(String(body.account.id)).to.eql(pm.collectionVariables.get("newAccountId"));
            pm.expect(String(body.customer.id)).to.eql(pm.collectionVariables.get("newCustomerId"));
            """,
        ),
    )
    patch_me = request(
        "Update my profile",
        "PATCH",
        "/me",
        token="newToken",
        json_body={"name": "Postman Reader II", "phone": "+44 20 7946 0001"},
        tests=status(200)
        + "\n"
        + test(
            "the changed fields, the others kept",
            """
            const c = pm.response.json().customer;
            pm.expect(c.name).to.eql("Postman Reader II");
            pm.expect(c.phone).to.eql("+44 20 7946 0001");
            pm.expect(c.email).to.eql(pm.collectionVariables.get("newEmail"));
            """,
        ),
    )
    patch_me_unknown = request(
        "Update my profile — an unknown field → 400",
        "PATCH",
        "/me",
        token="newToken",
        json_body={"username": "renamed"},
        tests=problem(400, "username"),
    )
    wrong_current = request(
        "Change password — wrong current password → 400",
        "PUT",
        "/me/password",
        token="newToken",
        json_body={"current_password": "not-my-password", "new_password": "{{newPassword2}}"},
        tests=problem(400, "current_password"),
    )
    change_password = request(
        "Change password",
        "PUT",
        "/me/password",
        token="newToken",
        json_body={"current_password": "{{newPassword}}", "new_password": "{{newPassword2}}"},
        tests=no_content(),
    )
    login_new2 = request(
        "Login with the new password",
        "POST",
        "/login",
        json_body={"username": "{{newUsername}}", "password": "{{newPassword2}}"},
        tests=status(200) + "\n" + store_tokens("new"),
    )
    first_still_valid = request(
        "A new login revokes nothing: the first session still works",
        "GET",
        "/me",
        token="firstToken",
        tests=status(200)
        + "\n"
        + test(
            "the same account",
            'pm.expect(String(pm.response.json().account.id)).to.eql(pm.collectionVariables.get("newAccountId"));',
        ),
    )
    refresh = request(
        "Refresh: a new access token and a new refresh token",
        "POST",
        "/token/refresh",
        token="newRefreshToken",
        tests=status(200)
        + "\n"
        + test(
            "the refresh token rotates",
            'pm.expect(pm.response.json().refresh_token).to.not.eql(pm.collectionVariables.get("newRefreshToken"));',
        )
        + "\n"
        + store_tokens("new"),
    )
    refresh_with_access = request(
        "Refresh — an access token is refused → 401",
        "POST",
        "/token/refresh",
        token="newToken",
        tests=unauthorized(),
    )
    list_accounts = request(
        "List accounts (admin)",
        "GET",
        "/accounts?page=1&per_page=2",
        token="adminToken",
        tests=status(200)
        + "\n"
        + envelope(per_page=2)
        + "\n"
        + test(
            "at least the two demo accounts and the new one",
            """
            const body = pm.response.json();
            pm.expect(body.total).to.be.at.least(3);
            pm.expect(body.items[0]).to.include.keys("id", "username", "role", "is_active", "customer_id");
            pm.expect(pm.response.headers.get("Link")).to.include('rel="next"');
            """,
        ),
    )
    list_accounts_customer = request(
        "List accounts — a customer → 403", "GET", "/accounts", token="customerToken", tests=problem(403)
    )
    list_accounts_anonymous = request("List accounts — no token → 401", "GET", "/accounts", tests=unauthorized())
    list_accounts_big = request(
        "List accounts — per_page=101 → 400",
        "GET",
        "/accounts?per_page=101",
        token="adminToken",
        tests=problem(400, "per_page"),
    )
    list_accounts_zero = request(
        "List accounts — page=0 → 400", "GET", "/accounts?page=0", token="adminToken", tests=problem(400, "page")
    )
    list_accounts_past = request(
        "List accounts — a page past the end is empty, not 404",
        "GET",
        "/accounts?page=100000&per_page=100",
        token="adminToken",
        tests=status(200)
        + "\n"
        + test(
            "no items, the totals still right",
            """
            const body = pm.response.json();
            pm.expect(body.items).to.eql([]);
            pm.expect(body.page).to.eql(100000);
            pm.expect(body.total).to.be.above(0);
            pm.expect(pm.response.headers.get("Link")).to.include('rel="prev"');
            """,
        ),
    )
    create_account = request(
        "Create an account (admin)",
        "POST",
        "/accounts",
        token="adminToken",
        prerequest=fresh(("staffUsername", '"pm_staff_" + suffix'), ("staffPassword", '"staff-pass-" + suffix')),
        json_body={"username": "{{staffUsername}}", "password": "{{staffPassword}}", "role": "customer"},
        tests=status(201)
        + "\n"
        + location("/accounts/\\d+")
        + "\n"
        + test(
            "an active account without a customer",
            """
            const body = pm.response.json();
            pm.expect(body.username).to.eql(pm.collectionVariables.get("staffUsername"));
            pm.expect(body.role).to.eql("customer");
            pm.expect(body.customer_id).to.eql(null);
            pm.collectionVariables.set("staffAccountId", body.id);
            """,
        ),
    )
    create_account_dup = request(
        "Create an account — username taken → 409",
        "POST",
        "/accounts",
        token="adminToken",
        json_body={"username": "{{customerUsername}}", "password": "whatever-pass-1"},
        tests=problem(409, "username"),
    )
    create_account_customer = request(
        "Create an account — a customer → 403",
        "POST",
        "/accounts",
        token="customerToken",
        json_body={"username": "x_{{$timestamp}}", "password": "whatever-pass-1"},
        tests=problem(403),
    )
    get_own_account = request(
        "Get my account",
        "GET",
        "/accounts/{{newAccountId}}",
        token="newToken",
        tests=status(200)
        + "\n"
        + test(
            "the account with its customer nested",
            """
            const body = pm.response.json();
            pm.expect(String(body.id)).to.eql(pm.collectionVariables.get("newAccountId"));
            pm.expect(String(body.customer.id)).to.eql(pm.collectionVariables.get("newCustomerId"));
            """,
        ),
    )
    get_other_account = request(
        "Get someone else's account → 404",
        "GET",
        "/accounts/{{adminAccountId}}",
        token="newToken",
        tests=problem(404),
    )
    self_promote = request(
        "Update my account — role is for admins → 403",
        "PATCH",
        "/accounts/{{newAccountId}}",
        token="newToken",
        json_body={"role": "admin"},
        tests=problem(403),
    )
    own_password_no_current = request(
        "Update my account — a new password needs current_password → 400",
        "PATCH",
        "/accounts/{{newAccountId}}",
        token="newToken",
        json_body={"password": "third-pass-123"},
        tests=problem(400, "current_password"),
    )
    demote_last_admin = request(
        "Demote the last admin → 409",
        "PATCH",
        "/accounts/{{adminAccountId}}",
        token="adminToken",
        json_body={"role": "customer"},
        tests=problem(409),
        description="The seeded database has one admin; the API keeps at least one active admin.",
    )
    replace_account = request(
        "Replace an account (admin) — PUT sends the username",
        "PUT",
        "/accounts/{{staffAccountId}}",
        token="adminToken",
        json_body={"username": "{{staffUsername}}"},
        tests=status(200)
        + "\n"
        + test(
            "the username is the one sent",
            'pm.expect(pm.response.json().username).to.eql(pm.collectionVariables.get("staffUsername").toLowerCase());',
        ),
    )
    deactivate = request(
        "Deactivate an account (admin)",
        "PATCH",
        "/accounts/{{staffAccountId}}",
        token="adminToken",
        json_body={"is_active": False},
        tests=status(200) + "\n" + test("is_active is false", "pm.expect(pm.response.json().is_active).to.eql(false);"),
    )
    login_deactivated = request(
        "Login — a deactivated account → the same 401",
        "POST",
        "/login",
        json_body={"username": "{{staffUsername}}", "password": "{{staffPassword}}"},
        tests=problem(401)
        + "\n"
        + test(
            "indistinguishable from a wrong password",
            'pm.expect(pm.response.json().detail).to.eql(pm.collectionVariables.get("badLoginDetail"));',
        ),
    )
    delete_account = request(
        "Delete an account (admin)", "DELETE", "/accounts/{{staffAccountId}}", token="adminToken", tests=no_content()
    )
    get_deleted_account = request(
        "Get the deleted account → 404", "GET", "/accounts/{{staffAccountId}}", token="adminToken", tests=problem(404)
    )
    logout = request("Logout", "POST", "/logout", token="newToken", tests=no_content())
    me_after_logout = request("Me after logout → 401", "GET", "/me", token="newToken", tests=unauthorized())
    refresh_after_logout = request(
        "Refresh after logout → 401 (the whole login session is revoked)",
        "POST",
        "/token/refresh",
        token="newRefreshToken",
        tests=unauthorized(),
    )
    login_reuse = request(
        "Login again, for the refresh reuse check",
        "POST",
        "/login",
        json_body={"username": "{{newUsername}}", "password": "{{newPassword2}}"},
        tests=status(200) + "\n" + store_tokens("reuse"),
    )
    rotate = request(
        "Refresh once: the refresh token sent is used up",
        "POST",
        "/token/refresh",
        token="reuseRefreshToken",
        tests=status(200) + "\n" + store_tokens("rotated"),
    )
    reuse = request(
        "Refresh token used twice → 401, and its login session ends",
        "POST",
        "/token/refresh",
        token="reuseRefreshToken",
        tests=unauthorized(),
    )
    rotated_after_reuse = request(
        "The session's newest refresh token after the reuse → 401",
        "POST",
        "/token/refresh",
        token="rotatedRefreshToken",
        tests=unauthorized(),
    )
    access_after_reuse = request(
        "The session's newest access token after the reuse → 401",
        "GET",
        "/me",
        token="rotatedToken",
        tests=unauthorized(),
    )
    other_session = request(
        "Logout leaves the other login session alone",
        "GET",
        "/me",
        token="firstToken",
        tests=status(200)
        + "\n"
        + test(
            "the first session still answers",
            'pm.expect(String(pm.response.json().account.id)).to.eql(pm.collectionVariables.get("newAccountId"));',
        ),
    )
    return folder(
        "Auth & Accounts",
        "Register, login (username or email), refresh, logout, /me, password change and admin account "
        "management, with their failure cases. Run first: it stores the admin and customer tokens.",
        [
            login_admin,
            login_customer,
            me_admin,
            me_customer,
            login_email,
            wrong_password,
            unknown_user,
            register,
            dup_username,
            dup_email,
            register_role,
            register_invalid,
            register_text,
            register_malformed,
            login_new,
            me_no_token,
            me_bad_token,
            me_new,
            patch_me,
            patch_me_unknown,
            wrong_current,
            change_password,
            login_new2,
            first_still_valid,
            refresh,
            refresh_with_access,
            list_accounts,
            list_accounts_customer,
            list_accounts_anonymous,
            list_accounts_big,
            list_accounts_zero,
            list_accounts_past,
            create_account,
            create_account_dup,
            create_account_customer,
            get_own_account,
            get_other_account,
            self_promote,
            own_password_no_current,
            demote_last_admin,
            replace_account,
            deactivate,
            login_deactivated,
            delete_account,
            get_deleted_account,
            logout,
            me_after_logout,
            refresh_after_logout,
            other_session,
            login_reuse,
            rotate,
            reuse,
            rotated_after_reuse,
            access_after_reuse,
        ],
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


ISBN13_PRE_REQUEST = js(
    """
    // A fresh, valid ISBN-13 (979 + 9 random digits + check digit), so the collection can run again.
    let digits = "979";
    for (let i = 0; i < 9; i++) { digits += Math.floor(Math.random() * 10); }
    let sum = 0;
    for (let i = 0; i < 12; i++) { sum += Number(digits[i]) * (i % 2 ? 3 : 1); }
    const isbn = digits + ((10 - (sum % 10)) % 10);
    pm.collectionVariables.set("bookIsbn", isbn);
    pm.collectionVariables.set("bookIsbnHyphenated", isbn.slice(0, 3) + "-" + isbn.slice(3, 4) + "-" +
        isbn.slice(4, 8) + "-" + isbn.slice(8, 12) + "-" + isbn.slice(12));
    """
)


def _every_item(check: str, *, nonempty: bool = True) -> str:
    """A test body: `check` (JS using `b`) holds for every item of the page (and there is one)."""
    guard = "pm.expect(items.length, 'items').to.be.above(0);\n" if nonempty else ""
    return f"""
    const items = pm.response.json().items;
    {guard}items.forEach(function (b) {{ {check} }});
    """


def _ordered(key: str, descending: bool = False) -> str:
    op = ">=" if descending else "<="
    return f"""
    const items = pm.response.json().items;
    const key = function (x) {{ return {key}; }};
    pm.expect(items.length).to.be.above(1);
    for (let i = 1; i < items.length; i++) {{
        pm.expect(key(items[i - 1]) {op} key(items[i]), "item " + i + " in order").to.eql(true);
    }}
    """


def books_folder() -> dict:
    items: list[dict] = []
    add = items.append
    book_body = {"title": "Nope", "author": "Nobody", "price": "1.00"}

    # --- public browse and search
    add(
        request(
            "Browse the catalogue (public)",
            "GET",
            "/books",
            tests=status(200)
            + "\n"
            + test(
                "the first page of 20, every book in full, with next_cursor and a Link header",
                """
                const body = pm.response.json();
                pm.expect(body).to.include.all.keys("items", "page", "per_page", "total", "pages", "next_cursor");
                pm.expect(body.page).to.eql(1);
                pm.expect(body.per_page).to.eql(20);
                pm.expect(body.total).to.be.a("number");
                pm.expect(body.pages).to.eql(Math.ceil(body.total / body.per_page));
                pm.expect(body.next_cursor === null || typeof body.next_cursor === "string").to.eql(true);
                const link = pm.response.headers.get("Link");
                pm.expect(link).to.include('rel="first"');
                pm.expect(link).to.include('rel="last"');
                body.items.forEach(function (b) {
                    pm.expect(b).to.include.all.keys("id", "title", "author", "genre", "description", "isbn", "price",
                        "stock", "in_stock", "published_year", "created_at", "updated_at");
                    pm.expect(b.price).to.match(/^\\d+\\.\\d{2}$/);
                    pm.expect(b.in_stock).to.eql(b.stock > 0);
                    pm.expect(b.created_at).to.match(/Z$/);
                    pm.expect(b.updated_at).to.match(/Z$/);
                });
                pm.collectionVariables.set("booksTotal", body.total);
                """,
            )
            + "\n"
            + test("sorted by title", _ordered("x.title.toLowerCase()")),
            description="`flask seed` loads a demo catalogue of 25 books, so the lists are never empty.",
        )
    )
    add(
        request(
            "The first page of 2, keeping next_cursor",
            "GET",
            "/books?per_page=2",
            tests=status(200)
            + "\n"
            + test(
                "two books and a cursor",
                """
                const body = pm.response.json();
                pm.expect(body.items).to.have.lengthOf(2);
                pm.expect(body.next_cursor).to.be.a("string");
                pm.collectionVariables.set("booksCursor", body.next_cursor);
                pm.collectionVariables.set("booksFirstPageIds", JSON.stringify(body.items.map(function (b) { return b.id; })));
                """,
            ),
        )
    )
    add(
        request(
            "The next page by cursor",
            "GET",
            "/books?per_page=2&cursor={{booksCursor}}",
            tests=status(200)
            + "\n"
            + test(
                "page 2, none of the books of page 1",
                """
                const body = pm.response.json();
                pm.expect(body.page).to.eql(2);
                pm.expect(body.items.length).to.be.within(1, 2);
                const first = JSON.parse(pm.collectionVariables.get("booksFirstPageIds"));
                body.items.forEach(function (b) { pm.expect(first).to.not.include(b.id); });
                """,
            ),
        )
    )
    add(
        request(
            "A cursor together with page → 400",
            "GET",
            "/books?per_page=2&page=2&cursor={{booksCursor}}",
            tests=problem(400, "cursor"),
        )
    )
    add(request("A forged cursor → 400", "GET", "/books?cursor=garbage", tests=problem(400, "cursor")))
    add(
        request(
            "Search: q=austen",
            "GET",
            "/books?q=austen",
            tests=status(200)
            + "\n"
            + test(
                "every book mentions Austen",
                _every_item(
                    'pm.expect([b.title, b.author, b.description || "", b.isbn || ""].join(" ").toLowerCase())'
                    '.to.include("austen");'
                ),
            ),
        )
    )
    add(
        request(
            "Search: every word must match",
            "GET",
            "/books?q=pride%20prejudice",
            tests=status(200)
            + "\n"
            + test(
                "Pride and Prejudice is found",
                """
                const titles = pm.response.json().items.map(function (b) { return b.title; });
                pm.expect(titles).to.include("Pride and Prejudice");
                """,
            ),
        )
    )
    add(
        request(
            "Search: % is a literal character, not a wildcard",
            "GET",
            "/books?q=%25",
            tests=status(200)
            + "\n"
            + test(
                "fewer books than the whole catalogue",
                'pm.expect(pm.response.json().total).to.be.below(Number(pm.collectionVariables.get("booksTotal")));',
            ),
        )
    )
    add(
        request(
            "Search: operators are plain text (no 500)",
            "GET",
            "/books?q=%2Bpride%20-austen%20%22",
            tests=status(200) + "\n" + test("a list", 'pm.expect(pm.response.json().items).to.be.an("array");'),
        )
    )
    add(
        request(
            "Filter by genre (any case)",
            "GET",
            "/books?genre=romance",
            tests=status(200)
            + "\n"
            + test("every book is Romance", _every_item('pm.expect(b.genre.toLowerCase()).to.eql("romance");')),
        )
    )
    add(
        request(
            "Filter by author (substring, any case)",
            "GET",
            "/books?author=BRONT",
            tests=status(200)
            + "\n"
            + test(
                "every author contains 'bront'",
                _every_item('pm.expect(b.author.toLowerCase()).to.include("bront");'),
            ),
        )
    )
    add(
        request(
            "Filter by price range",
            "GET",
            "/books?min_price=5&max_price=10&per_page=100",
            tests=status(200)
            + "\n"
            + test("every price within 5–10", _every_item("pm.expect(parseFloat(b.price)).to.be.within(5, 10);")),
        )
    )
    add(
        request(
            "Filter: in stock",
            "GET",
            "/books?in_stock=true&per_page=100",
            tests=status(200) + "\n" + test("every book in stock", _every_item("pm.expect(b.in_stock).to.eql(true);")),
        )
    )
    add(
        request(
            "Filter: sold out",
            "GET",
            "/books?in_stock=false&per_page=100",
            tests=status(200)
            + "\n"
            + test(
                "every book has stock 0",
                _every_item("pm.expect(b.stock).to.eql(0);", nonempty=False),
            ),
        )
    )
    add(
        request(
            "Sort by price, descending",
            "GET",
            "/books?sort=-price&per_page=100",
            tests=status(200) + "\n" + test("prices never go up", _ordered("parseFloat(x.price)", descending=True)),
        )
    )
    add(
        request(
            "Sort by price, ascending",
            "GET",
            "/books?sort=price&per_page=100",
            tests=status(200) + "\n" + test("prices never go down", _ordered("parseFloat(x.price)")),
        )
    )
    for sort in ("-popularity", "created_at", "author"):
        add(
            request(
                f"Sort by {sort}",
                "GET",
                f"/books?sort={sort}",
                tests=status(200)
                + "\n"
                + test("a page of books", "pm.expect(pm.response.json().items.length).to.be.above(0);"),
            )
        )
    for name, query, field in (
        ("an unknown sort", "sort=bogus", "sort"),
        ("per_page=101", "per_page=101", "per_page"),
        ("per_page=0", "per_page=0", "per_page"),
        ("page=0", "page=0", "page"),
        ("a negative min_price", "min_price=-1", "min_price"),
        ("min_price above max_price", "min_price=20&max_price=10", "max_price"),
        ("in_stock=maybe", "in_stock=maybe", "in_stock"),
        ("min_price past any number (1e999999999)", "min_price=1e999999999", "min_price"),
        ("page in Arabic-Indic digits", "page=%D9%A1%D9%A2", "page"),
        ("a control character in q", "q=dune%1B", "q"),
    ):
        add(request(f"Bad parameter: {name} → 400", "GET", f"/books?{query}", tests=problem(400, field)))
    add(
        request(
            "A page past the end → empty, not 404",
            "GET",
            "/books?page=9999",
            tests=status(200)
            + "\n"
            + test(
                "no items, the same total",
                """
                const body = pm.response.json();
                pm.expect(body.items).to.eql([]);
                pm.expect(body.next_cursor).to.eql(null);
                pm.expect(String(body.total)).to.eql(pm.collectionVariables.get("booksTotal"));
                """,
            ),
        )
    )

    # --- admin create, read, update
    add(request("Create a book — no token → 401", "POST", "/books", json_body=book_body, tests=unauthorized()))
    add(
        request(
            "Create a book — a customer → 403",
            "POST",
            "/books",
            token="customerToken",
            json_body=book_body,
            tests=problem(403),
        )
    )
    add(
        request(
            "Create a book (admin)",
            "POST",
            "/books",
            token="adminToken",
            prerequest=fresh(("bookTitle", '"Postman Handbook " + suffix'), ("bookWord", "suffix"))
            + ISBN13_PRE_REQUEST,
            json_body={
                "title": "{{bookTitle}}",
                "author": "Pat Postman",
                "price": 12.5,
                "stock": 3,
                "genre": "Testing",
                "description": "How to test a REST API from end to end.",
                "isbn": "{{bookIsbnHyphenated}}",
                "published_year": 2024,
            },
            tests=status(201)
            + "\n"
            + location("/books/\\d+")
            + "\n"
            + test(
                "money as a string, the ISBN normalised, id stored",
                """
                const book = pm.response.json();
                pm.expect(book.title).to.eql(pm.collectionVariables.get("bookTitle"));
                pm.expect(book.price).to.eql("12.50");
                pm.expect(book.stock).to.eql(3);
                pm.expect(book.in_stock).to.eql(true);
                pm.expect(book.isbn).to.eql(pm.collectionVariables.get("bookIsbn"));
                pm.expect(book.published_year).to.eql(2024);
                pm.expect(book.created_at).to.match(/Z$/);
                pm.collectionVariables.set("bookId", book.id);
                pm.collectionVariables.set("bookJson", JSON.stringify(book));
                """,
            ),
        )
    )
    add(
        request(
            "Get the book (public)",
            "GET",
            "/books/{{bookId}}",
            tests=status(200)
            + "\n"
            + test(
                "the same as the create answer",
                'pm.expect(pm.response.json()).to.eql(JSON.parse(pm.collectionVariables.get("bookJson")));',
            ),
        )
    )
    add(
        request(
            "Create a book — ISBN already in the catalogue → 409",
            "POST",
            "/books",
            token="adminToken",
            json_body={**book_body, "isbn": "{{bookIsbn}}"},
            tests=problem(409, "isbn"),
        )
    )
    for name, body, fields in (
        ("more than two decimals", {**book_body, "price": "1.005"}, ("price",)),
        ("price 0", {**book_body, "price": 0}, ("price",)),
        ("a bad ISBN check digit", {**book_body, "isbn": "9780306406158"}, ("isbn",)),
        ("negative stock, stock as a string", {**book_body, "stock": -1, "published_year": "1965"},
         ("stock", "published_year")),
        ("units_sold (unknown field)", {**book_body, "units_sold": 5}, ("units_sold",)),
        ("no title, no author", {"price": "1.00"}, ("title", "author")),
    ):  # fmt: skip
        add(
            request(
                f"Create a book — {name} → 400",
                "POST",
                "/books",
                token="adminToken",
                json_body=body,
                tests=problem(400, *fields),
            )
        )
    add(
        request(
            "Create a book — a body that is not JSON → 415",
            "POST",
            "/books",
            token="adminToken",
            raw="title=Dune&author=Frank Herbert&price=9.50",
            content_type="text/plain",
            tests=problem(415),
        )
    )
    add(
        request(
            "Search: the new book by two of its words",
            "GET",
            "/books?q=postman {{bookWord}}",
            tests=status(200)
            + "\n"
            + test(
                "exactly the new book",
                """
                const body = pm.response.json();
                pm.expect(body.total).to.eql(1);
                pm.expect(String(body.items[0].id)).to.eql(pm.collectionVariables.get("bookId"));
                """,
            ),
        )
    )
    add(
        request(
            "Search: by the hyphenated ISBN",
            "GET",
            "/books?q={{bookIsbnHyphenated}}",
            tests=status(200)
            + "\n"
            + test(
                "the new book",
                'pm.expect(String(pm.response.json().items[0].id)).to.eql(pm.collectionVariables.get("bookId"));',
            ),
        )
    )
    add(
        request(
            "Search: _ is literal too",
            "GET",
            "/books?q=_{{bookWord}}",
            tests=status(200) + "\n" + test("nothing matches", "pm.expect(pm.response.json().total).to.eql(0);"),
        )
    )
    add(
        request(
            "Change the price (PATCH, admin)",
            "PATCH",
            "/books/{{bookId}}",
            token="adminToken",
            json_body={"price": "11.00"},
            tests=status(200)
            + "\n"
            + test(
                "the price changed, the rest kept",
                """
                const book = pm.response.json();
                pm.expect(book.price).to.eql("11.00");
                pm.expect(book.title).to.eql(pm.collectionVariables.get("bookTitle"));
                pm.expect(book.genre).to.eql("Testing");
                pm.expect(book.isbn).to.eql(pm.collectionVariables.get("bookIsbn"));
                """,
            ),
        )
    )
    add(
        request(
            "PATCH title to null → 400",
            "PATCH",
            "/books/{{bookId}}",
            token="adminToken",
            json_body={"title": None},
            tests=problem(400, "title"),
        )
    )
    add(
        request(
            "Replace the book (PUT): omitted optional fields cleared, stock kept",
            "PUT",
            "/books/{{bookId}}",
            token="adminToken",
            json_body={"title": "{{bookTitle}}", "author": "Pat Postman", "price": "12.00"},
            tests=status(200)
            + "\n"
            + test(
                "replaced",
                """
                const book = pm.response.json();
                pm.expect(book.price).to.eql("12.00");
                pm.expect(book.genre).to.eql(null);
                pm.expect(book.description).to.eql(null);
                pm.expect(book.isbn).to.eql(null);
                pm.expect(book.published_year).to.eql(null);
                pm.expect(book.stock).to.eql(3);
                """,
            ),
        )
    )
    add(
        request(
            "Replace the book without author and price → 400",
            "PUT",
            "/books/{{bookId}}",
            token="adminToken",
            json_body={"title": "{{bookTitle}}"},
            tests=problem(400, "author", "price"),
        )
    )
    for method, body in (("PUT", {**book_body}), ("PATCH", {"price": "0.01"}), ("DELETE", None)):
        add(
            request(
                f"{method} a book — a customer → 403",
                method,
                "/books/{{bookId}}",
                token="customerToken",
                json_body=body,
                tests=problem(403),
            )
        )
        add(
            request(
                f"{method} a book — no token → 401",
                method,
                "/books/{{bookId}}",
                json_body=body,
                tests=unauthorized(),
            )
        )

    # --- stock
    add(
        request(
            "Set the stock to 0 (admin)",
            "PUT",
            "/books/{{bookId}}/stock",
            token="adminToken",
            json_body={"stock": 0},
            tests=status(200)
            + "\n"
            + test(
                "sold out",
                """
                const book = pm.response.json();
                pm.expect(book.stock).to.eql(0);
                pm.expect(book.in_stock).to.eql(false);
                """,
            ),
        )
    )
    add(
        request(
            "Set the stock to -1 → 400",
            "PUT",
            "/books/{{bookId}}/stock",
            token="adminToken",
            json_body={"stock": -1},
            tests=problem(400, "stock"),
        )
    )
    add(
        request(
            "The stock is unchanged by the refused request",
            "GET",
            "/books/{{bookId}}",
            tests=status(200) + "\n" + test("still 0", "pm.expect(pm.response.json().stock).to.eql(0);"),
        )
    )
    for quantity, expected in ((5, 5), (2, 7)):
        add(
            request(
                f"Restock {quantity} copies (admin)",
                "POST",
                "/books/{{bookId}}/restock",
                token="adminToken",
                json_body={"quantity": quantity},
                tests=status(200)
                + "\n"
                + test(
                    f"stock {expected}",
                    f"""
                    const book = pm.response.json();
                    pm.expect(book.stock).to.eql({expected});
                    pm.expect(book.in_stock).to.eql(true);
                    """,
                ),
            )
        )
    add(
        request(
            "Restock 0 copies → 400",
            "POST",
            "/books/{{bookId}}/restock",
            token="adminToken",
            json_body={"quantity": 0},
            tests=problem(400, "quantity"),
        )
    )
    add(
        request(
            'Restock "2" (a string) → 400',
            "POST",
            "/books/{{bookId}}/restock",
            token="adminToken",
            json_body={"quantity": "2"},
            tests=problem(400, "quantity"),
        )
    )
    for name, method, path, body in (
        ("Set the stock", "PUT", "/books/{{bookId}}/stock", {"stock": 100}),
        ("Restock", "POST", "/books/{{bookId}}/restock", {"quantity": 1}),
    ):
        add(request(f"{name} — a customer → 403", method, path, token="customerToken", json_body=body,
                    tests=problem(403)))  # fmt: skip
        add(request(f"{name} — no token → 401", method, path, json_body=body, tests=unauthorized()))
    add(
        request(
            "Set the stock of an unknown book → 404",
            "PUT",
            "/books/99999999/stock",
            token="adminToken",
            json_body={"stock": 1},
            tests=problem(404),
        )
    )

    # --- delete and retire
    add(
        request(
            "Delete a book never ordered (admin)",
            "DELETE",
            "/books/{{bookId}}",
            token="adminToken",
            tests=no_content(),
        )
    )
    add(request("The deleted book → 404", "GET", "/books/{{bookId}}", tests=problem(404)))
    add(request("Delete it again → 404", "DELETE", "/books/{{bookId}}", token="adminToken", tests=problem(404)))
    add(
        request(
            "Create a book to retire (admin)",
            "POST",
            "/books",
            token="adminToken",
            prerequest=fresh(("retireTitle", '"Postman Retiree " + suffix')),
            json_body={"title": "{{retireTitle}}", "author": "Pat Postman", "price": "5.00", "stock": 2},
            tests=status(201)
            + "\n"
            + test("id stored", 'pm.collectionVariables.set("retireId", pm.response.json().id);'),
        )
    )
    add(
        request(
            "Put it in the customer's cart",
            "POST",
            "/cart",
            token="customerToken",
            json_body={"book_id": "{{=retireId}}"},
            tests=status(200)
            + "\n"
            + test(
                "the line is there",
                """
                const id = Number(pm.collectionVariables.get("retireId"));
                pm.expect(pm.response.json().items.some(function (l) { return l.book_id === id; })).to.eql(true);
                """,
            ),
        )
    )
    add(
        request(
            "Delete it: it sits in a cart, so it is retired (204)",
            "DELETE",
            "/books/{{retireId}}",
            token="adminToken",
            tests=no_content(),
        )
    )
    add(request("The retired book → 404", "GET", "/books/{{retireId}}", tests=problem(404)))
    add(
        request(
            "The retired book left the cart",
            "GET",
            "/cart",
            token="customerToken",
            tests=status(200)
            + "\n"
            + test(
                "no line for it",
                """
                const id = Number(pm.collectionVariables.get("retireId"));
                pm.expect(pm.response.json().items.some(function (l) { return l.book_id === id; })).to.eql(false);
                """,
            ),
        )
    )
    add(
        request(
            "The retired book is not in search results",
            "GET",
            "/books?q={{retireTitle}}",
            tests=status(200)
            + "\n"
            + test(
                "not listed",
                """
                const id = Number(pm.collectionVariables.get("retireId"));
                pm.expect(pm.response.json().items.some(function (b) { return b.id === id; })).to.eql(false);
                """,
            ),
        )
    )
    add(
        request(
            "A retired book cannot go in the cart → 404",
            "POST",
            "/cart",
            token="customerToken",
            json_body={"book_id": "{{=retireId}}"},
            tests=problem(404),
        )
    )
    add(request("An unknown book → 404", "GET", "/books/99999999", tests=problem(404)))
    return folder(
        "Book Management",
        "The catalogue: public browse, search, filters, sorting and cursor paging; admin create, "
        "replace, update, stock, restock, delete and retire, with the failure cases.",
        items,
    )


def _today_plus(days_var: str) -> str:
    """JS expression: today's UTC date plus {{days_var}} days, as YYYY-MM-DD."""
    return f'new Date(Date.now() + Number(pm.variables.get("{days_var}")) * 86400000).toISOString().slice(0, 10)'


def cart_folder() -> dict:
    line = "pm.response.json().items"
    make_book = request(
        "Create a book to shop for (admin)",
        "POST",
        "/books",
        token="adminToken",
        prerequest=fresh(("cartBookTitle", '"Postman Cart Book " + suffix')),
        json_body={"title": "{{cartBookTitle}}", "author": "Postman Author", "price": "10.00", "stock": 3},
        tests=status(201)
        + "\n"
        + location("/books/\\d+")
        + "\n"
        + test(
            "3 copies at 10.00, id stored",
            """
            const book = pm.response.json();
            pm.expect(book.price).to.eql("10.00");
            pm.expect(book.stock).to.eql(3);
            pm.expect(book.in_stock).to.eql(true);
            pm.collectionVariables.set("cartBookId", book.id);
            """,
        ),
    )
    clear = request("Empty the cart (start clean)", "DELETE", "/cart", token="customerToken", tests=no_content())
    empty = request(
        "The empty cart",
        "GET",
        "/cart",
        token="customerToken",
        tests=status(200)
        + "\n"
        + test(
            "no lines, zero totals",
            'pm.expect(pm.response.json()).to.eql({items: [], total_quantity: 0, total: "0.00"});',
        ),
    )
    add2 = request(
        "Add 2 copies",
        "POST",
        "/cart",
        token="customerToken",
        json_body={"book_id": "{{=cartBookId}}", "quantity": 2},
        tests=status(200)
        + "\n"
        + test(
            "one line of 2 at today's price",
            """
            const cart = pm.response.json();
            pm.expect(cart.items).to.have.lengthOf(1);
            const l = cart.items[0];
            pm.expect(String(l.book_id)).to.eql(pm.collectionVariables.get("cartBookId"));
            pm.expect(l.title).to.eql(pm.collectionVariables.get("cartBookTitle"));
            pm.expect(l.author).to.eql("Postman Author");
            pm.expect(l.unit_price).to.eql("10.00");
            pm.expect(l.quantity).to.eql(2);
            pm.expect(l.line_total).to.eql("20.00");
            pm.expect(l.available).to.eql(true);
            pm.expect(cart.total).to.eql("20.00");
            pm.expect(cart.total_quantity).to.eql(2);
            """,
        ),
    )
    add1 = request(
        "Add 1 more (adds to the line)",
        "POST",
        "/cart",
        token="customerToken",
        json_body={"book_id": "{{=cartBookId}}"},
        tests=status(200)
        + "\n"
        + test(
            "quantity 3, total 30.00",
            f"""
            pm.expect({line}[0].quantity).to.eql(3);
            pm.expect(pm.response.json().total).to.eql("30.00");
            """,
        ),
    )
    add_short = request(
        "Add more than the stock → 409 with shortages",
        "POST",
        "/cart",
        token="customerToken",
        json_body={"book_id": "{{=cartBookId}}", "quantity": 1},
        tests=problem(409)
        + "\n"
        + test(
            "insufficient-stock problem naming the book",
            """
            const p = pm.response.json();
            pm.expect(p.type).to.eql("/problems/insufficient-stock");
            pm.expect(p.shortages).to.have.lengthOf(1);
            pm.expect(String(p.shortages[0].book_id)).to.eql(pm.collectionVariables.get("cartBookId"));
            pm.expect(p.shortages[0].requested).to.eql(4);
            pm.expect(p.shortages[0].available).to.eql(3);
            """,
        ),
    )
    add_unknown = request(
        "Add an unknown book → 404",
        "POST",
        "/cart",
        token="customerToken",
        json_body={"book_id": 99999999},
        tests=problem(404),
    )
    add_fraction = request(
        "Add 1.5 copies → 400",
        "POST",
        "/cart",
        token="customerToken",
        json_body={"book_id": "{{=cartBookId}}", "quantity": 1.5},
        tests=problem(400, "quantity"),
    )
    add_price = request(
        "Add with a price of one's own → 400 (unknown field)",
        "POST",
        "/cart",
        token="customerToken",
        json_body={"book_id": "{{=cartBookId}}", "price": "0.01"},
        tests=problem(400, "price"),
    )
    set_one = request(
        "Set the quantity to 1",
        "PUT",
        "/cart/{{cartBookId}}",
        token="customerToken",
        json_body={"quantity": 1},
        tests=status(200)
        + "\n"
        + test(
            "quantity 1, total 10.00",
            f"""
            pm.expect({line}[0].quantity).to.eql(1);
            pm.expect(pm.response.json().total).to.eql("10.00");
            """,
        ),
    )
    anonymous = request("The cart without a token → 401", "GET", "/cart", tests=unauthorized())
    no_customer_account = request(
        "An account with no customer record (admin makes one)",
        "POST",
        "/accounts",
        token="adminToken",
        prerequest=fresh(("loneUsername", '"pm_lone_" + suffix'), ("lonePassword", '"lone-pass-" + suffix')),
        json_body={"username": "{{loneUsername}}", "password": "{{lonePassword}}"},
        tests=status(201) + "\n" + test("no customer_id", "pm.expect(pm.response.json().customer_id).to.eql(null);"),
    )
    lone_login = request(
        "Login as that account",
        "POST",
        "/login",
        json_body={"username": "{{loneUsername}}", "password": "{{lonePassword}}"},
        tests=status(200) + "\n" + store_tokens("lone"),
    )
    lone_cart = request(
        "The cart of an account with no customer → 403", "GET", "/cart", token="loneToken", tests=problem(403)
    )
    remove = request(
        "Remove the line",
        "DELETE",
        "/cart/{{cartBookId}}",
        token="customerToken",
        tests=status(200)
        + "\n"
        + test(
            "the whole cart, now empty",
            """
            const cart = pm.response.json();
            pm.expect(cart.items).to.eql([]);
            pm.expect(cart.total).to.eql("0.00");
            """,
        ),
    )
    remove_again = request(
        "Remove it again → 404", "DELETE", "/cart/{{cartBookId}}", token="customerToken", tests=problem(404)
    )
    return folder(
        "Cart",
        "The demo customer's cart: adding, stock limits, setting and removing lines, and the failure "
        "cases. Creates its own book (3 copies at 10.00) as admin.",
        [
            make_book,
            clear,
            empty,
            add2,
            add1,
            add_short,
            add_unknown,
            add_fraction,
            add_price,
            set_one,
            anonymous,
            no_customer_account,
            lone_login,
            lone_cart,
            remove,
            remove_again,
        ],
    )


ADA_ADDRESS = {
    "name": "Ada Reader",
    "line1": "221B Baker Street",
    "city": "London",
    "postal_code": "NW1 6XE",
    "country": "GB",
    "phone": "+44 20 7946 0000",
}


def orders_folder() -> dict:
    order_body = "{}"
    save_my_address = request(
        "Save my default address (PATCH /me): orders without a shipping_address go there",
        "PATCH",
        "/me",
        token="customerToken",
        json_body={"default_address": ADA_ADDRESS},
        tests=status(200)
        + "\n"
        + test("saved", 'pm.expect(pm.response.json().customer.default_address.line1).to.eql("221B Baker Street");'),
    )
    fill_cart = request(
        "Put 1 copy in the cart",
        "POST",
        "/cart",
        token="customerToken",
        json_body={"book_id": "{{=cartBookId}}", "quantity": 1},
        tests=status(200)
        + "\n"
        + test(
            "one copy in the cart",
            """
            const cart = pm.response.json();
            pm.expect(cart.total_quantity).to.eql(1);
            pm.expect(cart.total).to.eql("10.00");
            """,
        ),
    )
    place = request(
        "Order the cart (with an Idempotency-Key)",
        "POST",
        "/orders",
        token="customerToken",
        prerequest=['pm.collectionVariables.set("orderKey", pm.variables.replaceIn("{{$guid}}"));'],
        headers={"Idempotency-Key": "{{orderKey}}"},
        raw=order_body,
        tests=status(201)
        + "\n"
        + location("/orders/\\d+")
        + "\n"
        + test(
            "a pending order at the frozen price, id stored",
            f"""
            const order = pm.response.json();
            pm.expect(order.status).to.eql("pending");
            pm.expect(String(order.customer_id)).to.eql(pm.collectionVariables.get("customerCustomerId"));
            pm.expect(order.items).to.have.lengthOf(1);
            pm.expect(String(order.items[0].book_id)).to.eql(pm.collectionVariables.get("cartBookId"));
            pm.expect(order.items[0].unit_price).to.eql("10.00");
            pm.expect(order.items[0].quantity).to.eql(1);
            pm.expect(order.items[0].line_total).to.eql("10.00");
            pm.expect(order.total).to.eql("10.00");
            pm.expect(order.created_at).to.match(/Z$/);
            pm.expect(order.expected_delivery_date).to.eql({_today_plus("processingDays")});
            pm.expect(order.status_history).to.have.lengthOf(1);
            pm.expect(order.status_history[0].status).to.eql("pending");
            // No shipping_address in the body: the saved default, as a label.
            pm.expect(order.shipping_address).to.eql(
                "Ada Reader\\n221B Baker Street\\nLondon NW1 6XE\\nUnited Kingdom\\nPhone: +44 20 7946 0000");
            pm.expect(pm.response.headers.get("Idempotent-Replayed")).to.eql(undefined);
            pm.collectionVariables.set("orderId", order.id);
            """,
        ),
    )
    cart_emptied = request(
        "The cart was emptied by the order",
        "GET",
        "/cart",
        token="customerToken",
        tests=status(200) + "\n" + test("no lines", "pm.expect(pm.response.json().items).to.eql([]);"),
    )
    replay = request(
        "The same request again (same key) → the first answer, replayed",
        "POST",
        "/orders",
        token="customerToken",
        headers={"Idempotency-Key": "{{orderKey}}"},
        raw=order_body,
        tests=status(201)
        + "\n"
        + test(
            "Idempotent-Replayed and the same order",
            """
            pm.expect(pm.response.headers.get("Idempotent-Replayed")).to.eql("true");
            pm.expect(String(pm.response.json().id)).to.eql(pm.collectionVariables.get("orderId"));
            """,
        ),
    )
    replay_other_body = request(
        "The same key with another body → 409",
        "POST",
        "/orders",
        token="customerToken",
        headers={"Idempotency-Key": "{{orderKey}}"},
        json_body={"items": [{"book_id": "{{=cartBookId}}", "quantity": 1}]},
        tests=problem(409),
    )
    too_many = request(
        "Order 1000 copies of one line → 400",
        "POST",
        "/orders",
        token="customerToken",
        json_body={"items": [{"book_id": "{{=cartBookId}}", "quantity": 1000}]},
        tests=problem(400, "items"),
    )
    short = request(
        "Order more than the stock → 409, nothing ordered",
        "POST",
        "/orders",
        token="customerToken",
        json_body={"items": [{"book_id": "{{=cartBookId}}", "quantity": 50}]},
        tests=problem(409)
        + "\n"
        + test(
            "shortages name the book, 2 copies left",
            """
            const p = pm.response.json();
            pm.expect(p.type).to.eql("/problems/insufficient-stock");
            pm.expect(String(p.shortages[0].book_id)).to.eql(pm.collectionVariables.get("cartBookId"));
            pm.expect(p.shortages[0].requested).to.eql(50);
            pm.expect(p.shortages[0].available).to.eql(2);
            pm.expect(p.shortages[0].title).to.be.a("string");
            pm.expect(p.detail).to.include("has only 2 copies left (you asked for 50 copies)");
            """,
        ),
    )
    empty_cart = request(
        "Order an empty cart → 400",
        "POST",
        "/orders",
        token="customerToken",
        raw=order_body,
        tests=problem(400, "items"),
    )
    price_field = request(
        "Order with a total of one's own → 400 (unknown field)",
        "POST",
        "/orders",
        token="customerToken",
        json_body={"items": [{"book_id": "{{=cartBookId}}", "quantity": 1}], "total": "0.01"},
        tests=problem(400, "total"),
    )
    my_orders = request(
        "My orders, newest first",
        "GET",
        "/orders",
        token="customerToken",
        tests=status(200)
        + "\n"
        + envelope()
        + "\n"
        + test(
            "the new order first, only my orders",
            """
            const body = pm.response.json();
            pm.expect(String(body.items[0].id)).to.eql(pm.collectionVariables.get("orderId"));
            const mine = pm.collectionVariables.get("customerCustomerId");
            body.items.forEach(function (o) { pm.expect(String(o.customer_id)).to.eql(mine); });
            """,
        ),
    )
    get_order = request(
        "The order",
        "GET",
        "/orders/{{orderId}}",
        token="customerToken",
        tests=status(200)
        + "\n"
        + test(
            "all its fields",
            """
            const order = pm.response.json();
            pm.expect(order).to.include.keys("id", "customer_id", "status", "items", "total", "shipping_address",
                "created_at", "expected_delivery_date", "status_history");
            pm.expect(String(order.id)).to.eql(pm.collectionVariables.get("orderId"));
            """,
        ),
    )
    tracking = request(
        "Track the order",
        "GET",
        "/orders/{{orderId}}/tracking",
        token="customerToken",
        tests=status(200)
        + "\n"
        + test(
            "status, dates and history",
            """
            const t = pm.response.json();
            pm.expect(t).to.have.all.keys("order_id", "status", "placed_at", "expected_delivery_date", "history");
            pm.expect(String(t.order_id)).to.eql(pm.collectionVariables.get("orderId"));
            pm.expect(t.status).to.eql("pending");
            pm.expect(t.history[0].status).to.eql("pending");
            """,
        ),
    )
    other_customer = request(
        "Someone else's order → 404",
        "GET",
        "/orders/{{orderId}}",
        token="firstToken",
        tests=problem(404),
        description="firstToken is the customer registered in Auth & Accounts (a session that was not logged out).",
    )
    anonymous = request("An order without a token → 401", "GET", "/orders/{{orderId}}", tests=unauthorized())
    pay = request(
        "Mark it paid (admin)",
        "PATCH",
        "/orders/{{orderId}}/status",
        token="adminToken",
        json_body={"status": "paid"},
        tests=status(200)
        + "\n"
        + test(
            "paid, with history",
            """
            const order = pm.response.json();
            pm.expect(order.status).to.eql("paid");
            pm.expect(order.status_history.map(function (h) { return h.status; })).to.eql(["pending", "paid"]);
            """,
        ),
    )
    back_to_pending = request(
        "Back to pending → 409 (illegal transition)",
        "PATCH",
        "/orders/{{orderId}}/status",
        token="adminToken",
        json_body={"status": "pending"},
        tests=problem(409)
        + "\n"
        + test(
            "illegal-status-transition",
            'pm.expect(pm.response.json().type).to.eql("/problems/illegal-status-transition");',
        ),
    )
    customer_status = request(
        "A customer changing the status → 403",
        "PATCH",
        "/orders/{{orderId}}/status",
        token="customerToken",
        json_body={"status": "shipped"},
        tests=problem(403),
    )
    bad_status = request(
        "An unknown status → 400",
        "PATCH",
        "/orders/{{orderId}}/status",
        token="adminToken",
        json_body={"status": "lost"},
        tests=problem(400, "status"),
    )
    ship = request(
        "Ship it (admin)",
        "PATCH",
        "/orders/{{orderId}}/status",
        token="adminToken",
        json_body={"status": "shipped"},
        tests=status(200)
        + "\n"
        + test(
            "shipped; delivery expected SHIPPING_DAYS after today",
            f"""
            const order = pm.response.json();
            pm.expect(order.status).to.eql("shipped");
            pm.expect(order.expected_delivery_date).to.eql({_today_plus("shippingDays")});
            """,
        ),
    )
    cancel_shipped = request(
        "Cancel a shipped order → 409",
        "POST",
        "/orders/{{orderId}}/cancel",
        token="customerToken",
        tests=problem(409)
        + "\n"
        + test(
            "illegal-status-transition, in words",
            """
            const p = pm.response.json();
            pm.expect(p.type).to.eql("/problems/illegal-status-transition");
            pm.expect(p.detail).to.eql("Order " + pm.collectionVariables.get("orderId") +
                " is shipped; it can only become delivered.");
            """,
        ),
    )
    purchase = request(
        "One-click purchase",
        "POST",
        "/customers/{{customerCustomerId}}/purchase",
        token="customerToken",
        json_body={"book_id": "{{=cartBookId}}", "quantity": 1, "shipping_address": "1 Postman Street, Testville"},
        tests=status(201)
        + "\n"
        + location("/orders/\\d+")
        + "\n"
        + test(
            "a pending order for one copy, id stored",
            """
            const order = pm.response.json();
            pm.expect(order.status).to.eql("pending");
            pm.expect(order.total).to.eql("10.00");
            pm.expect(order.shipping_address).to.eql("1 Postman Street, Testville");
            pm.collectionVariables.set("purchaseOrderId", order.id);
            """,
        ),
    )
    forget_address = request(
        "Remove my default address (PATCH /me, null)",
        "PATCH",
        "/me",
        token="customerToken",
        json_body={"default_address": None},
        tests=status(200)
        + "\n"
        + test("none saved", "pm.expect(pm.response.json().customer.default_address).to.eql(null);"),
    )
    purchase_nowhere = request(
        "One-click purchase with a blank address and none saved → 400 naming shipping_address",
        "POST",
        "/customers/{{customerCustomerId}}/purchase",
        token="customerToken",
        json_body={"book_id": "{{=cartBookId}}", "shipping_address": "  "},
        tests=problem(400, "shipping_address"),
    )
    restore_address = request(
        "Save my default address again",
        "PATCH",
        "/me",
        token="customerToken",
        json_body={"default_address": ADA_ADDRESS},
        tests=status(200),
    )
    purchase_other = request(
        "One-click purchase for someone else → 404",
        "POST",
        "/customers/{{newCustomerId}}/purchase",
        token="customerToken",
        json_body={"book_id": "{{=cartBookId}}"},
        tests=problem(404),
    )
    stock_after = request(
        "The stock after two orders",
        "GET",
        "/books/{{cartBookId}}",
        tests=status(200) + "\n" + test("3 - 2 = 1 copy left", "pm.expect(pm.response.json().stock).to.eql(1);"),
    )
    cancel = request(
        "Cancel the purchase",
        "POST",
        "/orders/{{purchaseOrderId}}/cancel",
        token="customerToken",
        tests=status(200)
        + "\n"
        + test(
            "cancelled, with history",
            """
            const order = pm.response.json();
            pm.expect(order.status).to.eql("cancelled");
            pm.expect(order.status_history.map(function (h) { return h.status; })).to.eql(["pending", "cancelled"]);
            """,
        ),
    )
    stock_back = request(
        "The stock is given back",
        "GET",
        "/books/{{cartBookId}}",
        tests=status(200) + "\n" + test("2 copies again", "pm.expect(pm.response.json().stock).to.eql(2);"),
    )
    cancel_again = request(
        "Cancel it again (DELETE) → 409",
        "DELETE",
        "/orders/{{purchaseOrderId}}",
        token="customerToken",
        tests=problem(409)
        + "\n"
        + test(
            "already cancelled",
            """
            const id = pm.collectionVariables.get("purchaseOrderId");
            pm.expect(pm.response.json().detail).to.eql("Order " + id + " is already cancelled.");
            """,
        ),
    )
    history = request(
        "Purchase history on the customer record",
        "GET",
        "/customers/{{customerCustomerId}}",
        token="customerToken",
        tests=status(200)
        + "\n"
        + test(
            "the shipped order is there, the cancelled one is not",
            """
            const h = pm.response.json().purchase_history;
            pm.expect(h).to.be.an("array");
            const orderId = Number(pm.collectionVariables.get("orderId"));
            const cancelled = Number(pm.collectionVariables.get("purchaseOrderId"));
            const line = h.find(function (x) { return x.order_id === orderId; });
            pm.expect(line, "line of the shipped order").to.be.an("object");
            pm.expect(line).to.have.all.keys("order_id", "book_id", "title", "price", "quantity", "purchased_at");
            pm.expect(line.price).to.eql("10.00");
            pm.expect(line.quantity).to.eql(1);
            pm.expect(h.some(function (x) { return x.order_id === cancelled; })).to.eql(false);
            """,
        ),
    )
    customer_orders = request(
        "A customer's orders",
        "GET",
        "/customers/{{customerCustomerId}}/orders?per_page=5",
        token="customerToken",
        tests=status(200)
        + "\n"
        + envelope(per_page=5)
        + "\n"
        + test(
            "newest first: the cancelled purchase, then the shipped order",
            """
            const items = pm.response.json().items;
            pm.expect(String(items[0].id)).to.eql(pm.collectionVariables.get("purchaseOrderId"));
            pm.expect(String(items[1].id)).to.eql(pm.collectionVariables.get("orderId"));
            """,
        ),
    )
    admin_filter = request(
        "All shipped orders (admin)",
        "GET",
        "/orders?status=shipped&per_page=100",
        token="adminToken",
        tests=status(200)
        + "\n"
        + envelope(per_page=100)
        + "\n"
        + test(
            "only shipped orders, ours among them",
            """
            const items = pm.response.json().items;
            items.forEach(function (o) { pm.expect(o.status).to.eql("shipped"); });
            const orderId = Number(pm.collectionVariables.get("orderId"));
            pm.expect(items.some(function (o) { return o.id === orderId; })).to.eql(true);
            """,
        ),
    )
    admin_bad_filter = request(
        "Filter by an unknown status → 400",
        "GET",
        "/orders?status=lost",
        token="adminToken",
        tests=problem(400, "status"),
    )
    retire = request(
        "Delete a book that was ordered → it is retired (204)",
        "DELETE",
        "/books/{{cartBookId}}",
        token="adminToken",
        tests=no_content(),
    )
    retired_gone = request(
        "The retired book is gone from the catalogue → 404", "GET", "/books/{{cartBookId}}", tests=problem(404)
    )
    retired_in_history = request(
        "The order still shows the retired book",
        "GET",
        "/orders/{{orderId}}",
        token="customerToken",
        tests=status(200)
        + "\n"
        + test(
            "title and price frozen in the order",
            """
            const item = pm.response.json().items[0];
            pm.expect(String(item.book_id)).to.eql(pm.collectionVariables.get("cartBookId"));
            pm.expect(item.title).to.eql(pm.collectionVariables.get("cartBookTitle"));
            pm.expect(item.unit_price).to.eql("10.00");
            """,
        ),
    )
    retired_cart = request(
        "A retired book cannot go in the cart → 404",
        "POST",
        "/cart",
        token="customerToken",
        json_body={"book_id": "{{=cartBookId}}"},
        tests=problem(404),
    )
    retired_order = request(
        "Ordering a retired book → 409, available 0",
        "POST",
        "/orders",
        token="customerToken",
        json_body={"items": [{"book_id": "{{=cartBookId}}", "quantity": 1}]},
        tests=problem(409)
        + "\n"
        + test(
            "short with available 0",
            """
            const p = pm.response.json();
            pm.expect(p.type).to.eql("/problems/insufficient-stock");
            pm.expect(p.shortages[0].available).to.eql(0);
            """,
        ),
    )
    return folder(
        "Order Management",
        "Placing orders from the cart and from items (to the saved default address), Idempotency-Key replays, "
        "stock shortages, "
        "tracking, the status flow (admin), one-click purchase, cancellation, purchase history, and "
        "retiring an ordered book. Uses the book the Cart folder created.",
        [
            save_my_address,
            fill_cart,
            place,
            cart_emptied,
            replay,
            replay_other_body,
            too_many,
            short,
            empty_cart,
            price_field,
            my_orders,
            get_order,
            tracking,
            other_customer,
            anonymous,
            pay,
            back_to_pending,
            customer_status,
            bad_status,
            ship,
            cancel_shipped,
            purchase,
            forget_address,
            purchase_nowhere,
            restore_address,
            purchase_other,
            stock_after,
            cancel,
            stock_back,
            cancel_again,
            history,
            customer_orders,
            admin_filter,
            admin_bad_filter,
            retire,
            retired_gone,
            retired_in_history,
            retired_cart,
            retired_order,
        ],
    )


def reports_folder() -> dict:
    items: list[dict] = []
    add = items.append
    today = "new Date().toISOString().slice(0, 10)"
    add(
        request(
            "Sales by day, last 30 days (admin)",
            "GET",
            "/reports/sales",
            token="adminToken",
            tests=status(200)
            + "\n"
            + test(
                "30 daily points ending today, totals that add up",
                f"""
                const r = pm.response.json();
                pm.expect(r).to.have.all.keys("from", "to", "period", "totals", "series");
                pm.expect(r.period).to.eql("day");
                pm.expect(r.to).to.eql({today});
                pm.expect(r.series).to.have.lengthOf(30);
                pm.expect(r.series[0].period_start).to.eql(r.from);
                pm.expect(r.series[29].period_start).to.eql(r.to);
                let orders = 0, units = 0, cents = 0;
                r.series.forEach(function (p) {{
                    pm.expect(p).to.have.all.keys("period_start", "orders", "units", "revenue");
                    pm.expect(p.revenue).to.match(/^\\d+\\.\\d\\d$/);
                    orders += p.orders; units += p.units; cents += Math.round(parseFloat(p.revenue) * 100);
                }});
                pm.expect(orders).to.eql(r.totals.orders);
                pm.expect(units).to.eql(r.totals.units);
                pm.expect(cents).to.eql(Math.round(parseFloat(r.totals.revenue) * 100));
                """,
            )
            + "\n"
            + test(
                "today counts the order shipped in Order Management (not the cancelled one)",
                "pm.expect(pm.response.json().series[29].orders).to.be.at.least(1);",
            ),
        )
    )
    add(
        request(
            "Sales by month over a given range",
            "GET",
            "/reports/sales?from=2025-01-15&to=2025-03-10&period=month",
            token="adminToken",
            tests=status(200)
            + "\n"
            + test(
                "three months, each starting on the 1st",
                """
                const r = pm.response.json();
                pm.expect(r.from).to.eql("2025-01-15");
                pm.expect(r.period).to.eql("month");
                pm.expect(r.series.map(function (p) { return p.period_start; }))
                    .to.eql(["2025-01-01", "2025-02-01", "2025-03-01"]);
                """,
            ),
        )
    )
    add(
        request(
            "Sales as CSV",
            "GET",
            "/reports/sales?format=csv",
            token="adminToken",
            tests=status(200)
            + "\n"
            + test(
                "a CSV attachment with a header row and one row per day",
                """
                pm.expect(pm.response.headers.get("Content-Type")).to.include("text/csv");
                pm.expect(pm.response.headers.get("Content-Disposition")).to.match(/^attachment; filename=".+\\.csv"$/);
                const lines = pm.response.text().trim().split(/\\r?\\n/);
                pm.expect(lines[0]).to.eql("period_start,orders,units,revenue");
                pm.expect(lines).to.have.lengthOf(31);
                """,
            ),
        )
    )
    add(
        request(
            "Sales as a PNG chart",
            "GET",
            "/reports/sales?format=png&period=week",
            token="adminToken",
            tests=status(200)
            + "\n"
            + test(
                "a PNG image",
                """
                pm.expect(pm.response.headers.get("Content-Type")).to.include("image/png");
                pm.expect(pm.response.stream.slice(1, 4).toString()).to.eql("PNG");
                """,
            ),
        )
    )
    for name, query, field in (
        ("from after to", "from=2025-02-01&to=2025-01-01", "from"),
        ("a date that does not exist", "to=2025-02-30", "to"),
        ("period=year", "period=year", "period"),
        ("format=xml", "format=xml", "format"),
    ):
        add(
            request(
                f"Sales — {name} → 400",
                "GET",
                f"/reports/sales?{query}",
                token="adminToken",
                tests=problem(400, field),
            )
        )
    add(
        request(
            "Popular books (admin)",
            "GET",
            "/reports/popular-books?limit=5",
            token="adminToken",
            tests=status(200)
            + "\n"
            + test(
                "at most 5, most copies sold first",
                """
                const r = pm.response.json();
                pm.expect(r).to.have.all.keys("from", "to", "items");
                pm.expect(r.items.length).to.be.within(1, 5);
                for (let i = 0; i < r.items.length; i++) {
                    const b = r.items[i];
                    pm.expect(b).to.have.all.keys("book_id", "title", "author", "units_sold", "revenue");
                    pm.expect(b.revenue).to.match(/^\\d+\\.\\d\\d$/);
                    if (i) { pm.expect(b.units_sold).to.be.at.most(r.items[i - 1].units_sold); }
                }
                """,
            ),
        )
    )
    add(
        request(
            "Popular books — limit=101 → 400",
            "GET",
            "/reports/popular-books?limit=101",
            token="adminToken",
            tests=problem(400, "limit"),
        )
    )
    add(
        request(
            "Inventory (admin)",
            "GET",
            "/reports/inventory?low_stock_threshold=10",
            token="adminToken",
            tests=status(200)
            + "\n"
            + test(
                "totals and the two lists, each item in the right one",
                """
                const r = pm.response.json();
                pm.expect(r).to.include.all.keys("titles", "total_units", "inventory_value", "out_of_stock", "low_stock");
                pm.expect(r.titles).to.be.above(0);
                pm.expect(r.inventory_value).to.match(/^\\d+\\.\\d\\d$/);
                r.out_of_stock.forEach(function (b) {
                    pm.expect(b).to.have.all.keys("book_id", "title", "author", "stock", "shortfall");
                    pm.expect(b.stock).to.eql(0);
                });
                r.low_stock.forEach(function (b) {
                    pm.expect(b.stock).to.be.within(1, 10);
                    pm.expect(b.shortfall).to.eql(10 - b.stock);
                });
                """,
            ),
        )
    )
    add(
        request(
            "Inventory as CSV",
            "GET",
            "/reports/inventory?format=csv",
            token="adminToken",
            tests=status(200)
            + "\n"
            + test(
                "a CSV with a header row",
                """
                pm.expect(pm.response.headers.get("Content-Type")).to.include("text/csv");
                pm.expect(pm.response.text().split(/\\r?\\n/)[0]).to.eql("list,book_id,title,author,stock,shortfall");
                """,
            ),
        )
    )
    add(
        request(
            "Inventory — threshold 0 → 400",
            "GET",
            "/reports/inventory?low_stock_threshold=0",
            token="adminToken",
            tests=problem(400, "low_stock_threshold"),
        )
    )
    add(request("Reports — a customer → 403", "GET", "/reports/sales", token="customerToken", tests=problem(403)))
    add(request("Reports — no token → 401", "GET", "/reports/inventory", tests=unauthorized()))
    return folder(
        "Reports",
        "Admin reports: sales per day, week or month, popular books and inventory, as JSON, CSV and PNG; "
        "bad parameters and rights. Runs after Order Management, whose shipped order counts today.",
        items,
    )


# --- the collection -------------------------------------------------------------------------------


def build() -> dict:
    return {
        "info": {
            "_postman_id": _id("bookstore-api"),
            "name": "Bookstore API",
            "description": (
                "The Bookstore REST API, folder by folder, with tests on every request.\n\n"
                "Select the environment `Bookstore (local)` (postman/bookstore.postman_environment.json), "
                "start the API (`make run`), and run the whole collection in order: the first folder "
                "logs in the seeded demo admin and customer and keeps their tokens in collection "
                "variables. `make postman` does all of that against a throwaway server with newman.\n\n"
                "Generated by postman/build_collection.py — edit that file, not this one."
            ),
            "schema": SCHEMA,
        },
        "auth": {"type": "noauth"},
        "event": [{"listen": "test", "script": {"type": "text/javascript", "exec": COLLECTION_TESTS}}],
        "variable": [],
        "item": [
            service_folder(),
            auth_folder(),
            customers_folder(),
            books_folder(),
            cart_folder(),
            orders_folder(),
            reports_folder(),
        ],
    }


def _declare_variables(collection: dict) -> dict:
    """Declare, empty, every collection variable a script sets (Postman shows them in the editor)."""
    scripts = []

    def walk(node):
        for event in node.get("event", []):
            scripts.extend(event["script"]["exec"])
        for child in node.get("item", []):
            walk(child)

    walk(collection)
    names = sorted(set(re.findall(r'pm\.collectionVariables\.set\("(\w+)"', "\n".join(scripts))))
    collection["variable"] = [{"key": name, "value": "", "type": "string"} for name in names]
    return collection


def render() -> str:
    return json.dumps(_declare_variables(build()), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed collection is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT.name} is not what build_collection.py writes: run `make postman-build`.", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    collection = build()
    requests = sum(len(f["item"]) for f in collection["item"])
    print(f"wrote {OUTPUT.relative_to(HERE.parent)}: {len(collection['item'])} folders, {requests} requests")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
