"""The web front, server side: every page renders, loads only what the app serves, carries a strict
Content-Security-Policy of its own, labels its fields, and stays out of the OpenAPI document; its
scripts never turn data into markup. (What the pages do in a browser: tests/e2e.)"""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from app import API_CSP, WEB_CSP
from app.auth import PUBLIC
from app.web.routes import STATIC_DIR

PAGES = [
    "/",
    "/shop/books/1",
    "/shop/register",
    "/shop/login",
    "/shop/cart",
    "/shop/checkout",
    "/shop/orders",
    "/shop/orders/1",
    "/shop/account",
    "/admin",
    "/admin/books",
    "/admin/orders",
    "/admin/customers",
    "/admin/reports",
    "/admin/orders/1",
    "/admin/orders/1/packing-slip",
    "/admin/customers/1",
    "/admin/books/1",
]
SCRIPTS = sorted(p.relative_to(STATIC_DIR).as_posix() for p in STATIC_DIR.rglob("*.js"))


class Page(HTMLParser):
    """What a test needs from a page: its tags with their attributes, and inline script text."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.inline_script = ""
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.inline_script += data.strip()

    def all(self, tag: str) -> list[dict]:
        return [attrs for name, attrs in self.tags if name == tag]


def render(client, path: str) -> Page:
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.mimetype == "text/html"
    return Page(response.get_data(as_text=True))


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_with_the_strict_policy_of_the_pages(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"] == WEB_CSP
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_pages_policy_allows_this_origin_only_and_no_inline_code():
    directives = dict(d.strip().split(" ", 1) for d in WEB_CSP.split(";"))

    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["img-src"] == "'self' blob: data:"  # the charts are shown from blob: URLs
    assert directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in WEB_CSP and "http" not in WEB_CSP and "*" not in WEB_CSP


@pytest.mark.parametrize("path", ["/health", "/books", "/openapi.json", "/books/999999", "/no/such/path"])
def test_the_api_keeps_its_own_policy(client, path):
    assert client.get(path).headers["Content-Security-Policy"] == API_CSP


@pytest.mark.parametrize("path", PAGES)
def test_pages_load_only_assets_served_by_the_app_and_no_inline_code(client, path):
    page = render(client, path)

    scripts = page.all("script")
    assert scripts and all(s.get("src") for s in scripts), "inline <script>"
    assert page.inline_script == ""
    assert [s.get("type") for s in scripts] == ["module"]
    assets = (
        [a["src"] for a in scripts]
        + [a["href"] for a in page.all("link")]
        + [a["src"] for a in page.all("img") if a.get("src")]
    )
    stylesheets = [a["href"] for a in page.all("link") if a.get("rel") == "stylesheet"]
    assert stylesheets == ["/assets/style.css"]  # one stylesheet for every page
    for asset in assets:
        assert asset.startswith("/assets/"), f"{asset} is not served by the app"
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert served.get_data(), asset
    for _tag, attrs in page.tags:
        assert "style" not in attrs, "inline style (the policy would block it)"
        assert not any(name.startswith("on") for name in attrs), "inline event handler"
        for name in ("href", "src", "action"):
            value = attrs.get(name) or ""
            assert not re.match(r"^(https?:)?//", value), f"{value} leaves the site"


@pytest.mark.parametrize(
    ("asset", "mimetype"),
    [("style.css", "text/css"), ("favicon.svg", "image/svg+xml")] + [(f"{s}", "text/javascript") for s in SCRIPTS],
)
def test_assets_are_served_with_their_type_and_revalidated(client, asset, mimetype):
    response = client.get(f"/assets/{asset}")

    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.headers["ETag"]
    assert "max-age=0" in response.headers["Cache-Control"]
    again = client.get(f"/assets/{asset}", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("path", ["/assets/nope.css", "/assets/../routes.py", "/assets/%2e%2e/routes.py", "/assets/js"])
def test_nothing_outside_the_assets_is_served(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_the_scripts_never_turn_data_into_markup():
    for script in SCRIPTS:
        source = (STATIC_DIR / script).read_text(encoding="utf-8")
        for sink in (
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "new Function",
            'setAttribute("on',
        ):
            assert sink not in source, f"{script} uses {sink}"
        for target in re.findall(r"""import[^'"]*from\s+["']([^"']+)["']""", source):
            assert target.startswith("./"), f"{script} imports {target} from elsewhere"


@pytest.mark.parametrize("path", PAGES)
def test_every_field_has_a_label_and_pages_have_landmarks(client, path):
    page = render(client, path)

    labelled = {attrs.get("for") for attrs in page.all("label")}
    for tag in ("input", "select", "textarea"):
        for attrs in page.all(tag):
            if attrs.get("type") == "hidden":
                continue
            assert attrs.get("id") in labelled, f"<{tag} name={attrs.get('name')}> has no label"
    assert page.all("html")[0]["lang"] == "en"
    assert any(m.get("name") == "viewport" for m in page.all("meta"))
    assert page.all("main") and page.all("nav") and page.all("h1")
    assert any(a.get("href") == "#main" for a in page.all("a")), "no skip link"
    ids = [attrs["id"] for _, attrs in page.tags if "id" in attrs]
    assert len(ids) == len(set(ids)), "duplicate ids"


def test_what_the_address_asks_is_escaped_in_the_page(client):
    response = client.get('/?q=<script>alert(1)</script>&author="><img src=x onerror=alert(2)>')
    html = response.get_data(as_text=True)

    assert "<script>alert(1)" not in html
    assert "<img src=x" not in html
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in html


def test_a_page_passes_its_object_id_to_its_script(client):
    assert 'data-book-id="42"' in client.get("/shop/books/42").get_data(as_text=True)
    assert 'data-order-id="7"' in client.get("/shop/orders/7").get_data(as_text=True)
    assert 'data-order-id="8"' in client.get("/admin/orders/8").get_data(as_text=True)
    assert 'data-order-id="8"' in client.get("/admin/orders/8/packing-slip").get_data(as_text=True)
    assert 'data-customer-id="9"' in client.get("/admin/customers/9").get_data(as_text=True)
    assert 'data-book-id="10"' in client.get("/admin/books/10").get_data(as_text=True)
    assert client.get("/shop/books/abc").status_code == 404


def test_pages_are_public_views_marked_as_pages_and_stay_out_of_the_openapi_document(app, client):
    web_rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("web.")]
    spec_paths = set(client.get("/openapi.json").get_json()["paths"])

    assert len(web_rules) == len(PAGES) + 1  # the pages and the assets
    for rule in web_rules:
        view = app.view_functions[rule.endpoint]
        assert view._access == PUBLIC
        assert view._web_page is True
        assert rule.methods <= {"GET", "HEAD", "OPTIONS"}
        assert re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule) not in spec_paths
    for name, view in app.view_functions.items():
        if not name.startswith("web.") and name not in {"static"}:
            assert not getattr(view, "_web_page", False), f"{name} is an API operation marked as a page"


def test_no_page_collides_with_an_api_path(app):
    rules = list(app.url_map.iter_rules())
    page_paths = {r.rule for r in rules if r.endpoint.startswith("web.")}
    api_paths = {r.rule for r in rules if not r.endpoint.startswith("web.")}

    assert not page_paths & api_paths


def test_static_files_are_all_used():
    """Every file under static/ is referenced by a template or a script (nothing stale is shipped)."""
    templates = Path(STATIC_DIR).parent / "templates"
    corpus = "".join(p.read_text(encoding="utf-8") for p in templates.rglob("*.html"))
    corpus += "".join(p.read_text(encoding="utf-8") for p in STATIC_DIR.rglob("*.js"))
    for path in STATIC_DIR.rglob("*"):
        if path.is_file():
            name = path.relative_to(STATIC_DIR).as_posix()
            assert name in corpus or path.name in corpus, f"{name} is never used"
