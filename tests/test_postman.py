"""The Postman collection covers the API: every operation of /openapi.json is requested at least once,
and the committed collection is what its generator writes."""

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLLECTION = ROOT / "postman" / "bookstore.postman_collection.json"


def _requests() -> list[tuple[str, str]]:
    """(METHOD, path) of every request in the collection, query string left out."""
    found = []

    def walk(node):
        for item in node.get("item", []):
            if "request" in item:
                request = item["request"]
                url = request["url"]["raw"] if isinstance(request["url"], dict) else request["url"]
                path = url.replace("{{baseUrl}}", "").split("?", 1)[0]
                found.append((request["method"].upper(), path))
            walk(item)

    walk(json.loads(COLLECTION.read_text()))
    return found


def _pattern(template: str) -> re.Pattern:
    """/books/{book_id} matches /books/{{bookId}}, /books/7 and the like."""
    parts = re.split(r"\{[^/{}]+\}", template)
    return re.compile("^" + "[^/]+".join(re.escape(part) for part in parts) + "$")


def test_every_operation_of_the_openapi_document_is_in_the_collection(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    requests = _requests()
    missing = []
    for template, operations in paths.items():
        pattern = _pattern(template)
        for method in operations:
            if method.upper() not in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
                continue
            if not any(m == method.upper() and pattern.match(path) for m, path in requests):
                missing.append(f"{method.upper()} {template}")
    assert not missing, f"operations with no request in the Postman collection: {missing}"


def test_the_committed_collection_is_what_the_generator_writes():
    result = subprocess.run(
        [sys.executable, str(ROOT / "postman" / "build_collection.py"), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
