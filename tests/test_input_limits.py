"""Every request that keeps to the documented limits fits gunicorn's request line.

The worst case of each GET operation is computed from the OpenAPI document: every query
parameter present at its longest, each character of free text sent as a percent-encoded 4-byte
UTF-8 character (12 bytes), each character of ASCII-only values percent-encoded (3 bytes); only a
value whose pattern allows nothing but unreserved characters (the cursor) is counted as sent
(a client has no reason to escape them). That total must not pass gunicorn.conf.py's limit.
"""

import ast
import re
from pathlib import Path

import pytest

from app import create_app

ROOT = Path(__file__).resolve().parent.parent
_DOC = create_app("testing").test_client().get("/openapi.json").get_json()
UNRESERVED_ONLY = {"^[A-Za-z0-9_-]+$"}
ASCII_PATTERN = re.compile(r"^\^[\[\]A-Za-z0-9_.+\\()|?*-]*\$$")  # a pattern built of ASCII classes only


def gunicorn_setting(name: str):
    tree = ast.parse((ROOT / "gunicorn.conf.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise LookupError(name)


def longest_value_bytes(schema: dict) -> int:
    """The most bytes one value of this parameter can take on the request line."""
    kind = schema.get("type")
    if "enum" in schema:
        return 3 * max(len(str(v)) for v in schema["enum"])
    if kind == "integer":
        return 3 * max(len(str(schema["minimum"])), len(str(schema["maximum"])))
    if kind == "boolean":
        return 3 * len("false")
    if kind == "string" and schema.get("format") == "date":
        return 3 * len("2026-12-31")
    if kind == "string":
        length = schema["maxLength"]
        pattern = schema.get("pattern")
        if pattern in UNRESERVED_ONLY:
            return length
        if pattern and ASCII_PATTERN.match(pattern):
            return 3 * length
        return 12 * length
    raise AssertionError(f"no bound known for {schema}")


def worst_request_lines() -> dict[str, int]:
    lines = {}
    for path, item in _DOC["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            params = op.get("parameters", []) + item.get("parameters", [])
            target = re.sub(r"\{\w+\}", "9" * 10, path)  # ids: at most 10 digits
            query = [p for p in params if p["in"] == "query"]
            query_bytes = sum(len(p["name"]) + 2 + longest_value_bytes(p["schema"]) for p in query)
            lines[f"{method.upper()} {path}"] = len(f"{method.upper()} {target}? HTTP/1.1") + query_bytes
    return lines


WORST = worst_request_lines()


def test_every_free_text_query_parameter_has_a_max_length():
    for path, item in _DOC["paths"].items():
        for method, op in item.items():
            for p in op.get("parameters", []) if method != "parameters" else []:
                schema = p["schema"]
                if p["in"] in ("query", "header") and schema.get("type") == "string":
                    bounded = "enum" in schema or schema.get("format") == "date" or "maxLength" in schema
                    assert bounded, (method, path, p["name"], schema)


def test_the_longest_documented_request_fits_the_request_line_limit():
    limit = gunicorn_setting("limit_request_line")

    assert 0 < limit <= 8190  # 0 would mean "no limit" to gunicorn; 8190 is its most
    assert max(WORST.values()) <= limit, sorted(WORST.items(), key=lambda kv: -kv[1])[:3]
    assert WORST["GET /books"] == max(WORST.values()) >= 6000  # the catalogue search is the long one


def test_the_worst_case_counts_free_text_at_12_bytes_a_character():
    q = next(p for p in _DOC["paths"]["/books"]["get"]["parameters"] if p["name"] == "q")

    assert longest_value_bytes(q["schema"]) == 12 * q["schema"]["maxLength"]


@pytest.mark.parametrize("sort", ["title", "-author"])
def test_a_cursor_after_the_longest_title_or_author_fits_its_max_length(client, admin_headers, sort):
    cursor_max = next(p for p in _DOC["paths"]["/books"]["get"]["parameters"] if p["name"] == "cursor")["schema"]
    for n in range(2):  # 255 emoji (4 bytes each in UTF-8), and 255 escaped quotes
        text = ("😀" if n == 0 else '"') * 255
        created = client.post("/books", json={"title": text, "author": text, "price": "1.00"}, headers=admin_headers)
        assert created.status_code == 201, created.get_json()

    first = client.get("/books", query_string={"sort": sort, "per_page": 1}).get_json()
    cursor = first["next_cursor"]
    after = client.get("/books", query_string={"sort": sort, "per_page": 1, "cursor": cursor})

    assert len(cursor) <= cursor_max["maxLength"]
    assert after.status_code == 200, after.get_json()
    assert after.get_json()["items"][0]["id"] != first["items"][0]["id"]
