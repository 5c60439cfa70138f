"""What every folder of the Postman collection is made of: the JavaScript snippets of its tests
(status, problem+json, envelopes, tokens) and the request/folder builders with stable ids."""

from __future__ import annotations

import json
import re
import textwrap
import uuid

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


def today_plus(days_var: str) -> str:
    """JS expression: today's UTC date plus {{days_var}} days, as YYYY-MM-DD."""
    return f'new Date(Date.now() + Number(pm.variables.get("{days_var}")) * 86400000).toISOString().slice(0, 10)'
