"""Report rollups under concurrency on MariaDB, against a real gunicorn: reports that summarise the
same cold days at once all succeed with the same exact answer, and cancellations committed while
reports run are all counted out afterwards. Skipped unless TEST_DATABASE_URL is MySQL/MariaDB."""

import random
import subprocess
from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
import requests
from sqlalchemy import text

from tests.conftest import together
from tests.live import ROOT, VENV_BIN, LiveDatabase, LiveServer, mysql_test_url

pytestmark = [
    pytest.mark.mysql_only,
    pytest.mark.skipif(mysql_test_url() is None, reason="needs TEST_DATABASE_URL on MySQL/MariaDB"),
]

DAYS = 40


@pytest.fixture(scope="module")
def live():
    database = LiveDatabase("rollup_live")
    engine = database.create()
    server = LiveServer(database.url, workers=2, threads=4).start()
    subprocess.run(
        [str(VENV_BIN / "flask"), "create-admin", "--username", "boss", "--email", "boss@example.com"]
        + ["--password", "password-123"],
        cwd=ROOT,
        env={**server.env, "FLASK_APP": "run.py"},
        check=True,
        capture_output=True,
        timeout=60,
    )
    token = requests.post(server.url("/login"), json={"username": "boss", "password": "password-123"}).json()
    yield server, engine, {"Authorization": f"Bearer {token['access_token']}"}
    server.stop()
    database.drop()


def history(engine, rng, start: datetime | None = None, seconds: int = DAYS * 86400, count: int = 120) -> list[dict]:
    """`count` orders over `seconds` from `start` (default: the last DAYS closed days), written straight
    to the tables (their days marked dirty for the rollups); returns them."""
    start = start or datetime.now(UTC).replace(tzinfo=None, microsecond=0) - timedelta(days=DAYS + 1)
    placed = []
    with engine.begin() as conn:
        books = []
        for n in range(5):
            books.append(
                conn.execute(
                    text(
                        "INSERT INTO books (title, author, price, stock, is_retired, units_sold, created_at, "
                        "updated_at) VALUES (:t, 'Anon', :p, 1000, 0, 1000, UTC_TIMESTAMP(), UTC_TIMESTAMP())"
                    ),
                    {"t": f"Live {n}", "p": Decimal(5 + n)},
                ).lastrowid
            )
        for _ in range(count):
            at = start + timedelta(seconds=rng.randrange(seconds))
            lines = {book: rng.randint(1, 3) for book in rng.sample(books, rng.randint(1, 3))}
            total = sum(Decimal(5 + books.index(b)) * q for b, q in lines.items())
            status = rng.choice(("pending", "paid", "delivered"))
            order_id = conn.execute(
                text("INSERT INTO orders (status, total, created_at, updated_at) VALUES (:s, :t, :at, :at)"),
                {"s": status, "t": total, "at": at},
            ).lastrowid
            for book, quantity in lines.items():
                price = Decimal(5 + books.index(book))
                conn.execute(
                    text(
                        "INSERT INTO order_items (order_id, book_id, title, unit_price, quantity, line_total) "
                        "VALUES (:o, :b, 'x', :p, :q, :lt)"
                    ),
                    {"o": order_id, "b": book, "p": price, "q": quantity, "lt": price * quantity},
                )
            placed.append({"id": order_id, "day": at.date(), "status": status, "lines": lines, "total": total})
        for day in sorted({o["day"] for o in placed}):  # a backfill marks its days, as the seeder does
            conn.execute(text("INSERT INTO report_dirty_days (day) VALUES (:day)"), {"day": day})
    return placed


def expected_totals(orders) -> dict:
    counted = [o for o in orders if o["status"] != "cancelled"]
    return {
        "orders": len(counted),
        "units": sum(sum(o["lines"].values()) for o in counted),
        "revenue": str(sum((o["total"] for o in counted), Decimal("0.00"))),
    }


def expected_books(orders) -> dict:
    units = defaultdict(int)
    for order in orders:
        if order["status"] != "cancelled":
            for book, quantity in order["lines"].items():
                units[book] += quantity
    return dict(units)


def cancel_while_reporting(server, admin, orders, report) -> None:
    """Cancel 12 of `orders` (marked cancelled in the list) while 4 reports run, all at once."""
    cancellable = [o for o in orders if o["status"] in ("pending", "paid")][:12]

    def cancel_or_report(i):
        if i < len(cancellable):
            url = server.url(f"/orders/{cancellable[i]['id']}/status")
            return requests.patch(url, json={"status": "cancelled"}, headers=admin, timeout=60)
        return report(i)

    during = together(len(cancellable) + 4, cancel_or_report)

    assert [r.status_code for r in during] == [200] * len(during), [r.text for r in during if r.status_code != 200]
    for order in cancellable:
        order["status"] = "cancelled"


def test_concurrent_reports_and_cancels_keep_the_rollup_exact(live):
    server, engine, admin = live
    orders = history(engine, random.Random(11))
    first = min(o["day"] for o in orders).isoformat()
    last = max(o["day"] for o in orders).isoformat()
    params = {"from": first, "to": last}

    def report(i):
        path = "/reports/sales" if i % 2 == 0 else "/reports/popular-books"
        return requests.get(server.url(path), params=params, headers=admin, timeout=60)

    answers = together(8, report)  # eight requests find the same cold days and summarise them

    assert [r.status_code for r in answers] == [200] * 8, [r.text for r in answers if r.status_code != 200]
    assert all(r.json() == answers[0].json() for r in answers[0::2])
    assert all(r.json() == answers[1].json() for r in answers[1::2])
    assert answers[0].json()["totals"] == expected_totals(orders)
    assert {i["book_id"]: i["units_sold"] for i in answers[1].json()["items"]} == expected_books(orders)
    with engine.connect() as conn:
        summarised = conn.execute(text("SELECT COUNT(*), COUNT(DISTINCT day) FROM report_sales_days")).one()
    assert summarised[0] == summarised[1] >= DAYS  # every day once

    cancel_while_reporting(server, admin, orders, report)
    after = report(0).json()
    assert after["totals"] == expected_totals(orders)
    books = report(1).json()
    assert {i["book_id"]: i["units_sold"] for i in books["items"]} == expected_books(orders)


def test_a_report_waiting_on_a_long_summary_answers_from_the_order_tables(live):
    """While `flask rollup` (here: another connection) holds the summariser lock, a report over a
    dirty day waits a bounded time, then answers exactly from the orders instead of failing."""
    server, engine, admin = live
    history(engine, random.Random(12))
    with engine.connect() as conn:
        days = conn.execute(text("SELECT MIN(DATE(created_at)), MAX(DATE(created_at)) FROM orders")).one()
    params = {"from": days[0].isoformat(), "to": days[1].isoformat()}
    summarised = requests.get(server.url("/reports/sales"), params=params, headers=admin, timeout=60).json()
    with engine.connect() as holder:
        assert holder.execute(text("SELECT GET_LOCK(CONCAT(DATABASE(), '.report_rollup'), 0)")).scalar() == 1
        holder.execute(text("INSERT INTO report_dirty_days (day) VALUES (:day)"), {"day": days[0]})
        waited = requests.get(server.url("/reports/sales"), params=params, headers=admin, timeout=60)
        holder.execute(text("SELECT RELEASE_LOCK(CONCAT(DATABASE(), '.report_rollup'))"))

    assert waited.status_code == 200, waited.text
    assert waited.json() == summarised
    with engine.connect() as conn:  # the dirty day is still marked: the next report summarises it
        assert conn.execute(text("SELECT COUNT(*) FROM report_dirty_days")).scalar() == 1
    assert requests.get(server.url("/reports/sales"), params=params, headers=admin, timeout=60).json() == summarised
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM report_dirty_days")).scalar() == 0


def test_the_open_days_summary_stays_exact_under_concurrent_reports_and_cancels(live):
    """Today's orders (summarised up to the last closed hour, read live after it): eight reports at once
    make the partial summary once, cancellations committed while reports run are taken off it, and the
    answers equal what the orders say. Before 01:10 UTC today has no closed hour and all of it is read
    live (tests/test_reports_rollup.py covers every hour with a fixed clock)."""
    server, engine, admin = live
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    through = (now - timedelta(minutes=10)).replace(minute=0, second=0)
    midnight = datetime.combine(through.date(), time.min)
    orders = history(
        engine, random.Random(13), start=midnight, seconds=max(1, int((now - midnight).total_seconds())), count=60
    )
    params = {"from": through.date().isoformat(), "to": through.date().isoformat()}

    def report(i):
        path = "/reports/sales" if i % 2 == 0 else "/reports/popular-books"
        return requests.get(server.url(path), params=params, headers=admin, timeout=60)

    answers = together(8, report)

    assert [r.status_code for r in answers] == [200] * 8, [r.text for r in answers if r.status_code != 200]
    assert all(r.json() == answers[0].json() for r in answers[0::2])
    assert answers[0].json()["totals"] == expected_totals(orders)
    assert {i["book_id"]: i["units_sold"] for i in answers[1].json()["items"]} == expected_books(orders)

    cancel_while_reporting(server, admin, orders, report)
    assert report(0).json()["totals"] == expected_totals(orders)
    assert {i["book_id"]: i["units_sold"] for i in report(1).json()["items"]} == expected_books(orders)
    if through > midnight:
        with engine.connect() as conn:  # the partial summary accounted for every cancellation
            day = through.date()
            assert (
                conn.execute(text("SELECT through FROM report_sales_partial WHERE day = :d"), {"d": day}).scalar()
                == through
            )
            assert conn.execute(text("SELECT COUNT(*) FROM report_dirty_days WHERE day = :d"), {"d": day}).scalar() == 0
