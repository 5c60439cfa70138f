"""The OpenAPI document and the offline /docs page (docs/api.md "Service")."""

import re

import flask_smorest
import pytest
from openapi_spec_validator import validate

from app.auth import ADMIN, PUBLIC
from tests.conftest import assert_problem

pytestmark = pytest.mark.usefixtures("no_secrets")

METHODS = {"get", "put", "post", "patch", "delete"}
NOT_API = {"static", "api-docs.openapi_json", "swagger_ui.show"}


@pytest.fixture(scope="module")
def spec(app):
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def operations(spec):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield path, method, op


def resolve(spec, node):
    while "$ref" in node:
        *_, section, name = node["$ref"].split("/")
        node = spec["components"][section][name]
    return node


def api_routes(app):
    """(openapi path, method, access level) for every route of the API's blueprints (flask-smorest
    ones: plain Flask blueprints such as web pages stay out of the document on purpose)."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_API or not isinstance(
            app.blueprints.get(rule.endpoint.rpartition(".")[0]), flask_smorest.Blueprint
        ):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        access = getattr(app.view_functions[rule.endpoint], "_access", None)
        for method in sorted(rule.methods & {m.upper() for m in METHODS}):
            yield path, method.lower(), access


def test_document_is_valid_openapi_3(spec):
    validate(spec)  # raises on any violation of the OpenAPI 3.0 schema

    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "Bookstore API"
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }


def test_every_route_declares_who_may_call_it(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in NOT_API:
            view = app.view_functions[rule.endpoint]
            assert getattr(view, "_access", None), f"{rule.rule} has neither @public nor @requires"


def test_every_api_route_is_documented(app, spec):
    routes = list(api_routes(app))

    assert len(routes) >= 20
    for path, method, _access in routes:
        assert method in spec["paths"].get(path, {}), f"{method.upper()} {path} is missing from /openapi.json"


def test_every_operation_has_a_summary_and_a_tag(spec):
    for path, method, op in operations(spec):
        assert op.get("summary", "").strip(), f"{method.upper()} {path} has no summary"
        assert op.get("tags"), f"{method.upper()} {path} has no tag"


def test_security_and_auth_errors_follow_the_access_level(app, spec):
    for path, method, access in api_routes(app):
        op = spec["paths"][path][method]
        responses = op["responses"]
        if access == PUBLIC:
            assert not op.get("security"), f"public {method.upper()} {path} asks for a token"
            continue
        assert op.get("security") == [{"bearerAuth": []}], f"{method.upper()} {path} documents no security"
        assert "401" in responses, f"{method.upper()} {path} does not document 401"
        if access == ADMIN:
            assert "403" in responses, f"admin-only {method.upper()} {path} does not document 403"


def test_every_operation_documents_its_client_errors(spec):
    for path, method, op in operations(spec):
        responses = op["responses"]
        name = f"{method.upper()} {path}"
        if path == "/health":
            assert "503" in responses
            continue
        assert any(code.startswith("4") for code in responses), f"{name} documents no 4xx"
        if "requestBody" in op or any(p["in"] == "query" for p in op.get("parameters", [])):
            assert "400" in responses, f"{name} takes input but does not document 400"
        if "{" in path:
            assert "404" in responses, f"{name} has a path id but does not document 404"


def test_error_responses_are_problem_json(spec):
    for path, method, op in operations(spec):
        for code, response in op["responses"].items():
            if not code.startswith(("4", "5")):
                continue
            content = resolve(spec, response)["content"]
            assert list(content) == ["application/problem+json"], f"{method.upper()} {path} {code}"
            schema = resolve(spec, content["application/problem+json"]["schema"])
            assert {"type", "title", "status", "detail"} <= set(schema["properties"])
    validation = spec["components"]["schemas"]["ValidationProblem"]
    assert "errors" in validation["properties"]


@pytest.mark.parametrize("name", ["TOO_MANY_REQUESTS", "SERVICE_UNAVAILABLE"])
def test_429_and_503_document_retry_after(spec, name):
    assert "Retry-After" in spec["components"]["responses"][name]["headers"]


def test_request_bodies_refuse_unknown_fields(spec):
    bodies = 0
    for path, method, op in operations(spec):
        if "requestBody" not in op:
            continue
        bodies += 1
        for media_type, content in op["requestBody"]["content"].items():
            schema = resolve(spec, content["schema"])
            if schema.get("format") == "binary":
                continue  # an image upload's raw bytes
            assert schema.get("additionalProperties") is False, (
                f"{method.upper()} {path} {media_type} allows unknown fields"
            )
    assert bodies >= 10


def test_register_body_matches_the_rules(spec):
    body = spec["paths"]["/register"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    schema = resolve(spec, body)
    props = schema["properties"]

    assert set(schema["required"]) == {"name", "email", "username", "password"}
    assert "role" not in props and "is_active" not in props
    assert props["password"]["writeOnly"] is True
    assert props["password"]["minLength"] == 8
    assert props["name"]["maxLength"] == 120
    assert (props["email"]["format"], props["email"]["maxLength"]) == ("email", 254)
    assert props["username"]["pattern"]


def test_no_documented_response_shows_a_password(spec):
    for name, schema in spec["components"]["schemas"].items():
        for field, prop in schema.get("properties", {}).items():
            if "password" in field:
                assert prop.get("writeOnly") is True, f"{name}.{field} could appear in a response"


@pytest.mark.parametrize("path", ["/accounts", "/customers"])
def test_lists_document_paging_and_the_link_header(spec, path):
    op = spec["paths"][path]["get"]
    params = {p["name"]: p for p in op["parameters"]}
    ok = resolve(spec, op["responses"]["200"])

    assert params["page"]["schema"]["minimum"] == 1
    assert (params["per_page"]["schema"]["minimum"], params["per_page"]["schema"]["maximum"]) == (1, 100)
    assert params["per_page"]["schema"]["default"] == 20
    page = resolve(spec, ok["content"]["application/json"]["schema"])
    assert set(page["properties"]) == {"items", "page", "per_page", "total", "pages"}
    assert "Link" in ok["headers"]


@pytest.mark.parametrize("path", ["/register", "/login", "/customers", "/accounts", "/me/password"])
def test_documented_required_fields_are_the_ones_the_api_requires(spec, client, admin_headers, path):
    """The document comes from the schemas that validate: leaving out each documented required field is a 400 naming it."""
    method = "put" if path == "/me/password" else "post"
    body = spec["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    required = set(resolve(spec, body).get("required", []))

    response = getattr(client, method)(path, json={}, headers=admin_headers)

    problem = assert_problem(response, 400)
    assert required and set(problem["errors"]) == required


# --- /docs --------------------------------------------------------------------------------------


def test_docs_redirects_to_the_page(client):
    response = client.get("/docs")

    assert response.status_code in (301, 308)
    assert response.headers["Location"].endswith("/docs/")


def test_docs_page_loads_only_assets_served_by_the_app(client):
    response = client.get("/docs/")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "SwaggerUIBundle" in html
    assert '"/openapi.json"' in html
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html), "the page pulls something from the internet"
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    scripts = [a for a in assets if a.endswith(".js")]
    styles = [a for a in assets if a.endswith(".css")]
    assert scripts and styles
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert len(served.get_data()) > 0, asset
        if asset.endswith(".js"):
            assert served.mimetype in ("text/javascript", "application/javascript"), asset
        if asset.endswith(".css"):
            assert served.mimetype == "text/css", asset
    bundle = client.get(next(s for s in scripts if "bundle" in s)).get_data()
    assert len(bundle) > 100_000  # the real Swagger UI, not a stub


def test_docs_content_security_policy_allows_only_this_origin(client):
    policy = client.get("/docs/").headers["Content-Security-Policy"]

    assert "default-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert "http" not in policy
