"""Helpers of the browser tests: the site under test with API shortcuts, waits, screenshots."""

import base64
import uuid
from pathlib import Path
from urllib.parse import quote

import requests
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
WAIT_SECONDS = 15

ADMIN = ("admin", "admin-pass-123")  # made by `flask seed`
CUSTOMER = ("ada", "ada-pass-123")
DESKTOP = (1280, 900)
PHONE = (390, 844)


class Site:
    """The server under test, with API helpers for setting up and checking what the pages did."""

    def __init__(self, server):
        self.server = server
        self.base_url = server.base_url
        self.http = requests.Session()

    def url(self, path: str) -> str:
        return self.base_url + path

    def token(self, username: str, password: str) -> str:
        r = self.http.post(self.url("/login"), json={"username": username, "password": password}, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    def call(self, method: str, path: str, token: str | None = None, expect: int | None = None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        r = self.http.request(method, self.url(path), headers=headers, timeout=20, **kwargs)
        if expect is not None:
            assert r.status_code == expect, f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content and "json" in r.headers.get("Content-Type", "") else r

    def admin_token(self) -> str:
        return self.token(*ADMIN)

    def customer_token(self) -> str:
        return self.token(*CUSTOMER)

    def register(self, prefix: str = "shopper") -> tuple[str, str, dict]:
        """A new customer through the API: (username, password, register answer)."""
        username = f"{prefix}{uuid.uuid4().hex[:8]}"
        password = "e2e-pass-1234"
        body = {
            "name": f"Test {username}",
            "email": f"{username}@example.com",
            "username": username,
            "password": password,
            "default_address": {
                "name": f"Test {username}",
                "line1": "1 Test Street",
                "city": "Testville",
                "postal_code": "T1 1ST",
                "country": "GB",
            },
        }
        answer = self.call("POST", "/register", json=body, expect=201)
        return username, password, answer


def screenshot(driver, name: str) -> Path:
    """Save the whole page, below the fold included, as test-artifacts/e2e/<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    content = metrics["cssContentSize"]
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": content["width"], "height": min(content["height"], 8000), "scale": 1},
        },
    )
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


# --- waiting and reading -------------------------------------------------------------------------


def wait(driver, condition, seconds: float = WAIT_SECONDS, message: str = ""):
    # While a page navigates (after a login, say) Chromium may answer a lookup of an element of the
    # old document with "Node ... does not belong to the document", a plain WebDriverException that
    # WebDriverWait does not ignore by itself: poll again until the new page answers or time runs out.
    return WebDriverWait(driver, seconds, ignored_exceptions=(WebDriverException,)).until(condition, message)


def visible(driver, css: str, seconds: float = WAIT_SECONDS):
    return wait(driver, EC.visibility_of_element_located((By.CSS_SELECTOR, css)), seconds, f"{css} not visible")


def text_in(driver, css: str, text: str, seconds: float = WAIT_SECONDS):
    wait(driver, EC.text_to_be_present_in_element((By.CSS_SELECTOR, css), text), seconds, f"{text!r} not in {css}")
    return driver.find_element(By.CSS_SELECTOR, css)


def find(driver, css: str):
    return driver.find_element(By.CSS_SELECTOR, css)


def find_all(driver, css: str):
    return driver.find_elements(By.CSS_SELECTOR, css)


def retype(box, value: str):
    """Replace what the box holds by typing, as a person would (select all, type over it)."""
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys(value)
    return box


def fill(driver, css: str, value: str):
    return retype(find(driver, css), value)


def at_path(driver, pattern: str, seconds: float = WAIT_SECONDS):
    """Wait until the address (path and query) matches the regular expression."""
    import re

    def matches(d):
        path = d.execute_script("return location.pathname + location.search")
        return re.fullmatch(pattern, path) and path

    return wait(driver, matches, seconds, f"the page never reached {pattern}")


def page_loaded(driver, css: str = "[aria-busy='false']"):
    """The page script marked its region as loaded (aria-busy goes false when the API answered)."""
    return wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, css)))


def log_in(driver, site: Site, username: str, password: str, next_path: str | None = None):
    """Log in through the login page; wait until the page it sends to shows who is signed in."""
    path = "/shop/login" + (f"?next={quote(next_path, safe='/')}" if next_path else "")
    driver.get(site.url(path))
    fill(driver, "#login-username", username)
    fill(driver, "#login-password", password)
    find(driver, "#login button[type=submit]").click()
    text_in(driver, "#account-area", f"Signed in as {username}")


def no_horizontal_scroll(driver) -> bool:
    return driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")


# --- accessibility -------------------------------------------------------------------------------

AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_BLOCKING = ("serious", "critical")


def settled(driver, seconds: float = WAIT_SECONDS):
    """The page script has filled every region it marked busy (aria-busy is true on none)."""
    wait(
        driver,
        lambda d: d.execute_script(
            "return document.readyState === 'complete' && !document.querySelector('[aria-busy=\"true\"]')"
        ),
        seconds,
        "a region stayed aria-busy",
    )


def axe_violations(driver, impacts=AXE_BLOCKING) -> list[dict]:
    """Run axe-core (injected through WebDriver, so the page's CSP does not apply) on the page as it
    is shown now; the violations of the given impacts, each with the elements it found."""
    if not driver.execute_script("return Boolean(window.axe)"):
        driver.execute_script(AXE_SCRIPT.read_text(encoding="utf-8"))
    outcome = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        axe.run(document, { resultTypes: ["violations"] })
          .then((result) => done({ violations: result.violations }))
          .catch((err) => done({ error: String(err) }));
        """
    )
    assert "error" not in outcome, f"axe-core failed: {outcome.get('error')}"
    return [v for v in outcome["violations"] if v.get("impact") in impacts]


def describe_violations(where: str, violations: list[dict]) -> list[str]:
    """One line per violated rule and element, for a failure message."""
    lines = []
    for v in violations:
        for node in v["nodes"][:5]:
            target = " ".join(map(str, node.get("target", [])))
            lines.append(
                f"{where}: [{v['impact']}] {v['id']} ({v['help']}) at {target}: {node.get('failureSummary', '')}"
            )
    return lines
