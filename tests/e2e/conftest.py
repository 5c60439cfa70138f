"""Browser tests: Debian's headless Chromium, driven by Selenium through Debian's chromedriver,
against a real server started here (gunicorn on a free loopback port, serving a fresh SQLite
database in a temporary directory, migrated and seeded like `make run`).

Every test saves a screenshot of the page it ends on under test-artifacts/e2e/, and fails if the
browser logged a script error or a Content-Security-Policy violation."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from e2e_support import CHROMEDRIVER, CHROMIUM, DESKTOP, PHONE, ROOT, Site, screenshot
from live import LiveServer

VENV_BIN = Path(sys.executable).parent

CHROME_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-search-engine-choice-screen",
    "--lang=en-US",
)

# Console messages that are expected: the browser logs every 4xx/5xx answer it receives, and the
# tests provoke some on purpose (a taken username, bad input).
EXPECTED_CONSOLE = re.compile(r"Failed to load resource: the server responded with a status of (4\d\d|503)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test keeps a screenshot of every browser it used, as the page was when it failed."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    for n, driver in enumerate(getattr(item, "e2e_drivers", [])):
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"FAILED-{item.name}-{n}")
        try:
            path = screenshot(driver, name)
        except Exception as exc:  # a crashed browser cannot take one; the failure itself still shows
            report.sections.append(("screenshot", f"none: {exc}"))
        else:
            report.sections.append(("screenshot", str(path)))


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def chromium():
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.skip(
            f"browser tests need Debian's Chromium and its driver: {' and '.join(missing)} missing "
            "(apt-get install -y chromium chromium-driver)"
        )
    return CHROMIUM


@pytest.fixture(scope="session")
def site(chromium, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("e2e-site")
    db_url = sa.make_url(f"sqlite:///{workdir / 'bookstore.db'}")
    env = {
        # Nothing from .env may point the server elsewhere (dotenv never overrides a set variable).
        "REDIS_URL": "",
        "CORS_ORIGINS": "",
        "TRUSTED_PROXIES": "0",
        "CURRENCY": "USD",
        "BOOKS_LIST_CACHE_SECONDS": "0",
    }
    server = LiveServer(db_url, workers=2, threads=4, extra_env=env)
    cli_env = {**server.env, "FLASK_APP": "run.py"}
    for args in (["db", "upgrade"], ["seed"]):
        done = subprocess.run(
            [str(VENV_BIN / "flask"), *args],
            cwd=ROOT,
            env=cli_env,
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    server.start()
    try:
        yield Site(server)
    finally:
        server.stop()


def _chrome(tmp_path: Path, size: tuple[int, int]):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={tmp_path / 'chrome-profile'}")
    if size == PHONE:
        # Chromium keeps a window at least 500 px wide: a phone's viewport needs device emulation.
        options.add_experimental_option(
            "mobileEmulation", {"deviceMetrics": {"width": size[0], "height": size[1], "pixelRatio": 2, "touch": True}}
        )
    else:
        options.add_argument(f"--window-size={size[0]},{size[1]}")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.downloads = downloads
    return driver


def _check_console(driver) -> list[str]:
    problems = []
    for entry in driver.get_log("browser"):
        if entry["level"] != "SEVERE" and "Content Security Policy" not in entry["message"]:
            continue
        if EXPECTED_CONSOLE.search(entry["message"]):
            continue
        problems.append(entry["message"])
    return problems


def _session(request, tmp_path, size):
    driver = _chrome(tmp_path, size)
    request.node.e2e_drivers = [*getattr(request.node, "e2e_drivers", []), driver]
    try:
        yield driver
        problems = _check_console(driver)
        assert not problems, "the browser logged errors:\n" + "\n".join(problems)
    finally:
        driver.quit()


@pytest.fixture
def browser(site, tmp_path, request):
    """A fresh Chromium (empty profile: no cookie, empty storage) at desktop size."""
    yield from _session(request, tmp_path, DESKTOP)


@pytest.fixture
def phone(site, tmp_path, request):
    """A fresh Chromium with a phone-sized window."""
    yield from _session(request, tmp_path, PHONE)
