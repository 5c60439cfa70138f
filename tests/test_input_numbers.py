"""Every numeric input of the OpenAPI document, in the query, the path and the body, refuses
numbers no parser should carry into arithmetic: too big, too small, exponents, NaN/Infinity,
other scripts' digits. The answer is always a 400 naming the field (a 404 for an id in the path,
which then matches no route), never a 500.

The fields are read from the document the app serves, so a numeric field added later is covered.
"""

import re

import pytest

from app import create_app
from app.extensions import limiter
from tests.conftest import assert_problem

_DOC = create_app("testing").test_client().get("/openapi.json").get_json()


def _resolve(node: dict) -> dict:
    while "$ref" in node:
        _, section, kind, name = node["$ref"].split("/")
        node = _DOC[section][kind][name]
    return node


def _numeric(schema: dict) -> str | None:
    """ "integer" or "money" for a numeric schema (money is a decimal string), else None."""
    schema = _resolve(schema)
    if schema.get("type") in ("integer", "number"):
        return "integer" if schema["type"] == "integer" else "money"
    if schema.get("type") == "string" and schema.get("format") == "decimal":
        return "money"
    return None


def numeric_inputs() -> list[tuple[str, str, str, str]]:
    """(operation, location, field path, kind): body fields of list items are "items[].quantity"."""
    found = []
    for path, item in _DOC["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            operation = f"{method.upper()} {path}"
            for p in op.get("parameters", []) + item.get("parameters", []):
                kind = _numeric(p["schema"])
                if kind:
                    found.append((operation, p["in"], p["name"], kind))
            if "application/json" in op.get("requestBody", {}).get("content", {}):  # not the image uploads
                body = _resolve(op["requestBody"]["content"]["application/json"]["schema"])
                for name, prop in body.get("properties", {}).items():
                    prop = _resolve(prop)
                    if prop.get("readOnly"):
                        continue
                    if kind := _numeric(prop):
                        found.append((operation, "body", name, kind))
                    elif prop.get("type") == "array":
                        for sub, subprop in _resolve(prop["items"]).get("properties", {}).items():
                            if kind := _numeric(subprop):
                                found.append((operation, "body", f"{name}[].{sub}", kind))
    return found


NUMERIC_INPUTS = numeric_inputs()
QUERY = [i for i in NUMERIC_INPUTS if i[1] == "query"]
BODY = [i for i in NUMERIC_INPUTS if i[1] == "body"]
PATH = [i for i in NUMERIC_INPUTS if i[1] == "path"]

# Query strings are text: each is refused by every numeric query parameter.
QUERY_VALUES = {
    "huge-exponent": "1e999999999",
    "huge-4400-digits": "9" * 4400,
    "huge-negative": "-" + "9" * 4400,
    "tiny-exponent": "1e-999999999",
    "tiny-long-decimal": "0." + "0" * 5000 + "1",
    "exponent": "1e2",
    "nan": "NaN",
    "infinity": "Infinity",
    "minus-infinity": "-Infinity",
    "arabic-indic-digits": "١٢",
    "fullwidth-digits": "１２",
    "devanagari-digits": "१२",
}
# Raw JSON values: number literals no field can take, non-JSON constants, digits in strings.
BODY_VALUES = {
    "int-4400-digits": "1" + "0" * 4400,
    "negative-int-4400-digits": "-" + "9" * 4400,
    "huge-exponent": "1e999999999",
    "minus-huge-exponent": "-1e999999999",
    "tiny-exponent": "1e-999999999",
    "long-decimal": "0." + "0" * 5000 + "1",
    "float-past-double": "1e400",
    "nan": "NaN",
    "infinity": "Infinity",
    "minus-infinity": "-Infinity",
    "string-exponent": '"1e999999999"',
    "string-nan": '"NaN"',
    "string-arabic-indic-digits": '"١٢"',
    "string-fullwidth-digits": '"１２"',
}


def test_the_document_has_the_numeric_inputs_expected():
    assert ("GET /books", "query", "min_price", "money") in NUMERIC_INPUTS
    assert ("GET /books", "query", "page", "integer") in NUMERIC_INPUTS
    assert ("GET /reports/inventory", "query", "low_stock_threshold", "integer") in NUMERIC_INPUTS
    assert ("POST /books", "body", "price", "money") in NUMERIC_INPUTS
    assert ("POST /orders", "body", "items[].quantity", "integer") in NUMERIC_INPUTS
    assert ("GET /books/{book_id}", "path", "book_id", "integer") in NUMERIC_INPUTS
    assert len(QUERY) >= 15 and len(BODY) >= 15


def _path(template: str) -> str:
    return re.sub(r"\{\w+\}", "1", template)


def _errors_for(errors: dict, field: str):
    if "[]." in field:
        outer, inner = field.split("[].")
        return errors.get(outer, {}).get("0", {}).get(inner)
    return errors.get(field)


@pytest.fixture
def no_limits(monkeypatch):
    monkeypatch.setattr(limiter, "enabled", False)


@pytest.mark.parametrize("value", QUERY_VALUES.values(), ids=QUERY_VALUES.keys())
@pytest.mark.parametrize("operation, location, name, kind", QUERY, ids=[f"{o[0]} {o[2]}" for o in QUERY])
def test_numeric_query_parameters_refuse_odd_numbers_by_name(
    client, admin_headers, operation, location, name, kind, value
):
    method, template = operation.split(" ", 1)

    response = client.open(_path(template), method=method, query_string={name: value}, headers=admin_headers)

    body = assert_problem(response, 400, name)
    assert body["title"] == "Validation failed"
    assert name in body["detail"]


@pytest.mark.parametrize("raw", BODY_VALUES.values(), ids=BODY_VALUES.keys())
@pytest.mark.parametrize("operation, location, name, kind", BODY, ids=[f"{o[0]} {o[2]}" for o in BODY])
def test_numeric_body_fields_refuse_odd_numbers_by_name(
    client, admin_headers, no_limits, operation, location, name, kind, raw
):
    method, template = operation.split(" ", 1)
    if "[]." in name:
        outer, inner = name.split("[].")
        text = f'{{"{outer}": [{{"{inner}": {raw}}}]}}'
    else:
        text = f'{{"{name}": {raw}}}'

    response = client.open(
        _path(template), method=method, data=text, content_type="application/json", headers=admin_headers
    )

    body = assert_problem(response, 400)
    assert body["title"] == "Validation failed"
    assert _errors_for(body["errors"], name), body
    assert name.split("[].")[-1] in body["detail"]


@pytest.mark.parametrize("value", ["١٢", "１２", "9" * 4400, "1e3", "-1"])
@pytest.mark.parametrize("operation, location, name, kind", PATH, ids=[f"{o[0]} {o[2]}" for o in PATH])
def test_numeric_path_parameters_match_no_route_for_odd_numbers(
    client, admin_headers, operation, location, name, kind, value
):
    method, template = operation.split(" ", 1)
    path = re.sub(r"\{\w+\}", lambda m: value if m.group(0) == "{" + name + "}" else "1", template)

    response = client.open(path, method=method, json={}, headers=admin_headers)

    assert_problem(response, 404)


# --- what the refusals say -------------------------------------------------------------------------


def test_a_4301_digit_number_in_any_body_is_400_not_500(client):
    response = client.post("/login", data='{"username": ' + "1" * 4301 + "}", content_type="application/json")

    body = assert_problem(response, 400, "username")
    assert body["errors"]["username"] == ["Number out of range."]


def test_nan_and_infinity_are_refused_as_not_json(client, admin_headers):
    response = client.post(
        "/books",
        data='{"title": "T", "author": "A", "price": NaN}',
        content_type="application/json",
        headers=admin_headers,
    )

    body = assert_problem(response, 400, "price")
    assert body["errors"]["price"] == ["NaN and Infinity are not JSON numbers."]


def test_a_huge_price_string_is_refused_by_name(client, admin_headers):
    response = client.post("/books", json={"title": "T", "author": "A", "price": "1e999999999"}, headers=admin_headers)

    body = assert_problem(response, 400, "price")
    assert body["errors"]["price"] == ["Must be an amount written like 12.50."]


def test_a_huge_min_price_is_refused_by_name(client):
    body = assert_problem(client.get("/books?min_price=1e999999999"), 400, "min_price")

    assert body["detail"] == "min_price is not valid: must be an amount written like 12.50."


@pytest.mark.parametrize("digits", ["١٢", "１２", "١٢.٥٠"])
def test_other_scripts_digits_are_refused_in_money_with_a_clear_message(client, admin_headers, digits):
    response = client.post("/books", json={"title": "T", "author": "A", "price": digits}, headers=admin_headers)

    body = assert_problem(response, 400, "price")
    assert body["errors"]["price"] == ["Must be written with the digits 0-9, like 12.50."]


@pytest.mark.parametrize("digits", ["١٢", "１２"])
def test_other_scripts_digits_are_refused_in_integer_query_parameters(client, digits):
    body = assert_problem(client.get("/books", query_string={"per_page": digits}), 400, "per_page")

    assert body["errors"]["per_page"] == ["Must be written with the digits 0-9."]


def test_a_page_past_any_range_says_the_range(client):
    body = assert_problem(client.get("/books", query_string={"page": "9" * 4400}), 400, "page")

    assert "less than or equal to 10000000" in body["errors"]["page"][0]


@pytest.mark.parametrize("price, stored", [("12.50", "12.50"), (12.5, "12.50"), ("+7", "7.00"), (3, "3.00")])
def test_ordinary_amounts_are_still_read(client, admin_headers, price, stored):
    response = client.post("/books", json={"title": "T", "author": "A", "price": price}, headers=admin_headers)

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["price"] == stored


def test_a_json_number_with_three_decimals_is_refused_not_rounded(client, admin_headers):
    response = client.post(
        "/books",
        data='{"title": "T", "author": "A", "price": 1.005}',
        content_type="application/json",
        headers=admin_headers,
    )

    body = assert_problem(response, 400, "price")
    assert body["errors"]["price"] == ["Must have at most two decimal places."]


def test_a_deep_bad_number_names_its_line(client, customer_headers):
    response = client.post(
        "/orders",
        data='{"items": [{"book_id": 1, "quantity": 1}, {"book_id": 2, "quantity": ' + "9" * 5000 + "}]}",
        content_type="application/json",
        headers=customer_headers,
    )

    body = assert_problem(response, 400, "items")
    assert body["errors"]["items"] == {"1": {"quantity": ["Number out of range."]}}
    assert body["detail"] == "items[1].quantity is not valid: number out of range."
