"""The report rollups stay exact: over random histories (orders on closed days across month
boundaries and today, several statuses, cancellations after the days were summarised, a bulk
backfill), every sales and popular-books answer read through the rollup equals the one the direct
SQL gives from the order tables. Runs on SQLite and MariaDB."""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.books.models import Book
from app.clock import utcnow
from app.extensions import db
from app.orders import services as orders
from app.orders.models import (
    CANCELLABLE,
    CANCELLED,
    DELIVERED,
    PAID,
    PENDING,
    SHIPPED,
    DirtyDay,
    Order,
    OrderItem,
    mark_days_dirty,
)
from app.orders.seed import generate_history
from app.reports import rollup, services
from app.reports.models import BookSalesDay, BookSalesMonth, BookSalesPartial, SalesDay, SalesPartial

STATUSES = (PENDING, PAID, SHIPPED, DELIVERED, CANCELLED)
HISTORY_DAYS = 75  # reaches back over two month boundaries


def make_books(rng, count=30):
    books = [
        Book(
            title=f"Rollup {n}",
            author=f"Author {n}",
            price=Decimal(rng.randint(100, 5000)) / 100,
            stock=10_000,
            units_sold=10_000,
        )
        for n in range(count)
    ]
    db.session.add_all(books)
    db.session.flush()
    return books


def add_orders(rng, books, count, now):
    """`count` orders at random moments of the last HISTORY_DAYS days, today included."""
    placed = []
    for _ in range(count):
        at = now - timedelta(seconds=rng.randrange(HISTORY_DAYS * 86400))
        status = rng.choice(STATUSES)
        order = Order(status=status, created_at=at, updated_at=at, total=Decimal("0.00"))
        picked = rng.choices(books, weights=range(len(books), 0, -1), k=rng.randint(1, 4))
        for book in sorted(set(picked), key=lambda b: b.id):
            quantity = rng.randint(1, 3)
            price = book.price - rng.choice((0, 0, Decimal("0.50")))  # some lines at an older price
            order.items.append(
                OrderItem(
                    book_id=book.id, title=book.title, unit_price=price, quantity=quantity, line_total=price * quantity
                )
            )
        order.total = sum((i.line_total for i in order.items), Decimal("0.00"))
        db.session.add(order)
        placed.append(order)
    db.session.commit()
    return placed


def ranges(rng, today, count=8):
    """Random ranges: closed only, reaching today, reaching past today, one day, month-aligned."""
    found = [
        (today - timedelta(days=HISTORY_DAYS), today),
        (today.replace(day=1) - timedelta(days=40), today.replace(day=1) - timedelta(days=1)),
        (today, today),
        (today - timedelta(days=1), today + timedelta(days=2)),
    ]
    for _ in range(count):
        start = today - timedelta(days=rng.randint(0, HISTORY_DAYS + 5))
        found.append((start, min(start + timedelta(days=rng.randint(0, 80)), today + timedelta(days=3))))
    return found


def assert_rollup_matches_direct(rng, today):
    for start, end in ranges(rng, today):
        for period in ("day", "week", "month"):
            assert services.sales(start, end, period) == services.sales(start, end, period, direct=True), (
                start,
                end,
                period,
            )
        for limit in (1, 3, 100):
            assert services.popular_books(start, end, limit) == services.popular_books(
                start, end, limit, direct=True
            ), (start, end, limit)


def cancel_some(rng, placed, share):
    cancellable = [o for o in placed if o.status in CANCELLABLE]
    for order in rng.sample(cancellable, int(len(cancellable) * share)):
        orders.cancel(order)


@pytest.mark.parametrize("seed", range(4))
def test_rollup_answers_equal_the_direct_sql_through_cancellations_and_a_backfill(app, seed, monkeypatch):
    rng = random.Random(seed)
    if seed % 2:  # each bucket's top 1, 4, 16, ... rows: the pruned search has to widen or give up
        monkeypatch.setattr(rollup, "TOP_K_FACTOR", 1)
        monkeypatch.setattr(rollup, "TOP_K_MIN", 1)
        monkeypatch.setattr(rollup, "TOP_K_MAX", 16)
    now = utcnow()
    today = rollup.first_open_day(now)
    books = make_books(rng)
    placed = add_orders(rng, books, 150, now)

    assert_rollup_matches_direct(rng, today)
    summarised = db.session.execute(select(func.count(SalesDay.day))).scalar_one()
    assert summarised >= HISTORY_DAYS  # the reports summarised the closed days they read
    assert db.session.execute(select(func.count(BookSalesMonth.month))).scalar_one() > 0

    cancel_some(rng, placed, 0.5)  # cancellations of orders on days already summarised
    assert db.session.execute(select(func.count(DirtyDay.id))).scalar_one() > 0
    assert_rollup_matches_direct(rng, today)
    assert db.session.execute(select(DirtyDay.day).where(DirtyDay.day < today)).first() is None

    generate_history(60, now=now, seed=seed)  # a bulk backfill onto summarised days
    assert_rollup_matches_direct(rng, today)


def test_a_cancellation_after_the_summary_leaves_the_report(client, admin_headers, customer_headers, book):
    """Through HTTP: an order placed on a closed day, summarised, then cancelled, no longer counts."""
    title = book(price="12.00", stock=5)
    placed = client.post("/orders", json={"items": [{"book_id": title.id, "quantity": 2}]}, headers=customer_headers)
    assert placed.status_code == 201
    order_id = placed.get_json()["id"]
    closed = rollup.first_open_day() - timedelta(days=3)
    db.session.execute(
        Order.__table__.update().where(Order.id == order_id).values(created_at=datetime.combine(closed, time(12, 0)))
    )
    db.session.commit()
    params = {"from": closed.isoformat(), "to": closed.isoformat()}

    before = client.get("/reports/sales", query_string=params, headers=admin_headers).get_json()
    assert before["totals"] == {"orders": 1, "units": 2, "revenue": "24.00"}
    assert db.session.get(SalesDay, closed).orders == 1  # the closed day is summarised now

    assert client.post(f"/orders/{order_id}/cancel", headers=customer_headers).status_code == 200

    after = client.get("/reports/sales", query_string=params, headers=admin_headers).get_json()
    assert after["totals"] == {"orders": 0, "units": 0, "revenue": "0.00"}
    books = client.get("/reports/popular-books", query_string=params, headers=admin_headers).get_json()
    assert books["items"] == []


def test_flask_rollup_summarises_every_closed_day_once(app):
    rng = random.Random(7)
    now = utcnow()
    add_orders(rng, make_books(rng), 40, now)
    runner = app.test_cli_runner()

    first = runner.invoke(args=["rollup"])
    again = runner.invoke(args=["rollup"])

    assert first.exit_code == 0, first.output
    oldest = db.session.execute(select(func.min(Order.created_at))).scalar_one().date()
    closed = (rollup.first_open_day() - oldest).days
    assert f"Summarised {closed} day(s)" in first.output
    assert "Summarised 0 day(s)" in again.output  # nothing missing or dirty the second time
    assert db.session.execute(select(func.count(BookSalesDay.day))).scalar_one() > 0
    assert_rollup_matches_direct(rng, rollup.first_open_day(now))


def order_at(books, at, status=PAID, quantity=1):
    """One order placed at `at` with `quantity` copies of each of `books`."""
    order = Order(status=status, created_at=at, updated_at=at, total=Decimal("0.00"))
    for book in books:
        order.items.append(
            OrderItem(
                book_id=book.id,
                title=book.title,
                unit_price=book.price,
                quantity=quantity,
                line_total=book.price * quantity,
            )
        )
    order.total = sum((i.line_total for i in order.items), Decimal("0.00"))
    db.session.add(order)
    db.session.commit()
    return order


def assert_popular_books_match(start, end, limits=(1, 2, 3, 5, 100)):
    for limit in limits:
        assert services.popular_books(start, end, limit) == services.popular_books(start, end, limit, direct=True), (
            start,
            end,
            limit,
        )


def test_an_edge_month_is_its_month_rows_less_the_days_outside_the_range(app):
    """A range holding most of a complete month reads that month's rows less the day rows of its other
    days; that stays exact when one of those other days was made dirty by a cancellation and not
    summarised again (the month rows hold the same stale day rows)."""
    rng = random.Random(5)
    books = make_books(rng, 6)
    month = (rollup.first_open_day().replace(day=1) - timedelta(days=32)).replace(day=1)
    last = rollup.month_end(month)
    noon = time(12, 0)
    early = order_at(books[:2], datetime.combine(month + timedelta(days=1), noon), quantity=3)
    order_at(books[1:3], datetime.combine(month + timedelta(days=3), noon), quantity=2)
    order_at(books[2:5], datetime.combine(month + timedelta(days=9), noon))
    order_at(books[4:], datetime.combine(last, noon), quantity=2)
    order_at(books[3:4], datetime.combine(rollup.first_open_day(), time.min))  # today, read live
    start, end = month + timedelta(days=5), last - timedelta(days=1)

    assert_popular_books_match(start, end)
    plan = rollup.book_plan(start, end)
    assert plan.months == [month] and plan.days == [] and plan.live is None
    assert plan.minus == [(month, start - timedelta(days=1)), (last, last)]

    orders.cancel(early)  # its day is outside the range: the range's days stay clean
    assert db.session.execute(select(DirtyDay.day)).scalars().all() == [early.created_at.date()]
    assert not rollup.needs_summary(start, end)
    assert_popular_books_match(start, end)
    assert_popular_books_match(start, rollup.first_open_day())  # the month, whole months, today
    assert_popular_books_match(month + timedelta(days=20), month + timedelta(days=25))  # day rows only


def test_a_book_sold_only_today_is_found_past_the_stored_tops(app, monkeypatch):
    """Books sold only on the open day are no candidates of the stored buckets: the open day's lines
    are summed for every book and such a book ranks by its open-day copies plus the bound, so the
    search widens until it is exact."""
    monkeypatch.setattr(rollup, "TOP_K_FACTOR", 1)
    monkeypatch.setattr(rollup, "TOP_K_MIN", 1)
    monkeypatch.setattr(rollup, "TOP_K_MAX", 16)
    rng = random.Random(9)
    books = make_books(rng, 40)
    now = utcnow()
    add_orders(rng, books[:30], 200, now)
    today = rollup.first_open_day(now)
    newcomer = books[35]
    order_at([newcomer], datetime.combine(today, time.min), quantity=3)
    order_at([newcomer, books[36]], datetime.combine(today, time.min), quantity=2)
    for start in (today - timedelta(days=HISTORY_DAYS), today - timedelta(days=3), today):
        assert_popular_books_match(start, today, limits=(1, 2, 3, 5, 10, 20, 100))


def test_the_summariser_reads_at_most_a_week_of_lines_per_statement():
    """A month of a large history in one grouped read outlasted the connections' read timeout: runs
    of missing days are cut into pieces of at most RUN_DAYS days, gaps still split them."""
    start = datetime(2026, 1, 1).date()
    days = [start + timedelta(days=i) for i in range(20)] + [start + timedelta(days=i) for i in range(22, 24)]
    runs = rollup._runs(days)
    assert runs == [
        (start, start + timedelta(days=6)),
        (start + timedelta(days=7), start + timedelta(days=13)),
        (start + timedelta(days=14), start + timedelta(days=19)),
        (start + timedelta(days=22), start + timedelta(days=23)),
    ]
    assert all((high - low).days < rollup.RUN_DAYS for low, high in runs)


def test_the_open_days_closed_hours_are_summarised_once_an_hour_and_stay_exact(app, monkeypatch):
    """The first open day is read from its partial summary up to its last closed hour and live after.
    The summary is corrected when the hour moves on (the new hour's lines added) or a cancellation
    marks the day (the order's lines taken off), made again after a backfill or on a new day, and
    every answer equals the direct SQL's, at an hour's edge and over midnight too."""
    monkeypatch.setattr(rollup, "TOP_K_FACTOR", 1)  # small tops: the partial bucket's bound must hold
    monkeypatch.setattr(rollup, "TOP_K_MIN", 1)
    monkeypatch.setattr(rollup, "TOP_K_MAX", 16)
    rng = random.Random(11)
    books = make_books(rng, 16)
    today = utcnow().date()
    clock = {"now": datetime.combine(today, time(15, 30))}
    monkeypatch.setattr(rollup, "utcnow", lambda: clock["now"])

    def at(hour, minute=0, second=0, day=today):
        return datetime.combine(day, time(hour, minute, second))

    yesterday = today - timedelta(days=1)
    order_at(books[:3], at(23, 59, 59, yesterday), quantity=2)
    morning = order_at(books[2:5], at(0), quantity=3)
    order_at(books[4:6], at(9, 15))
    order_at(books[6:7], at(14, 59, 59), quantity=4)  # the last second of the summarised hours
    order_at(books[7:9], at(15), quantity=2)  # the first of the live ones
    order_at(books[8:9], at(15, 10), status=CANCELLED)
    for _ in range(20):
        order_at(rng.sample(books[:10], 2), at(rng.randrange(15)), quantity=rng.randint(1, 3))

    def partial():
        return db.session.execute(select(SalesPartial.day, SalesPartial.through)).all()

    def markers():
        return db.session.execute(select(func.count(DirtyDay.id)).where(DirtyDay.day == today)).scalar_one()

    def units_of(book):
        return db.session.execute(
            select(BookSalesPartial.units).where(BookSalesPartial.book_id == book.id)
        ).scalar_one_or_none()

    def assert_exact():
        for start, end in ((today, today), (today - timedelta(days=3), today), (today - timedelta(days=40), today)):
            for period in ("day", "week", "month"):
                assert services.sales(start, end, period) == services.sales(start, end, period, direct=True)
            assert_popular_books_match(start, end, limits=(1, 2, 3, 5, 10))

    assert_exact()
    assert partial() == [(today, at(15))]
    plan = rollup.book_plan(today, today)
    assert plan.partial == today and plan.live == (at(15), today)

    only = order_at([books[13]], at(11), quantity=2)
    mark_days_dirty([today])  # a backfill: the summary is made again
    assert_exact()
    assert units_of(books[13]) == 2 and markers() == 0

    orders.cancel(morning)  # placed in the summarised hours: its lines come off the summary
    orders.cancel(only)  # the only copies of books[13]: its row goes
    assert markers() == 2
    assert_exact()
    assert partial() == [(today, at(15))] and markers() == 0
    assert units_of(books[13]) is None

    order_at([books[12]], at(15, 5), quantity=9)  # live: the summary stays as it is
    late = order_at([books[14]], at(15, 40), quantity=3)
    assert_exact()
    assert units_of(books[12]) is None

    clock["now"] = at(16, 45)  # the next hour closed: its lines are added
    orders.cancel(late)  # placed after the summary's end: nothing to take off
    assert_exact()
    assert partial() == [(today, at(16))] and markers() == 0
    assert units_of(books[12]) == 9 and units_of(books[14]) is None

    clock["now"] = at(0, 5, day=today + timedelta(days=1))  # the day is still open until 00:10
    assert_exact()
    assert partial() == [(today, at(23))]

    clock["now"] = at(0, 20, day=today + timedelta(days=1))  # closed: summarised whole, no partial yet
    assert_exact()
    assert rollup.book_plan(today, today + timedelta(days=1)).partial is None
    assert db.session.get(SalesDay, today) is not None


def test_flask_rollup_summarises_the_open_days_closed_hours(app, monkeypatch):
    now = datetime.combine(utcnow().date(), time(10, 20))
    monkeypatch.setattr(rollup, "utcnow", lambda: now)
    books = make_books(random.Random(2), 3)
    order_at(books, now.replace(hour=8), quantity=2)
    result = app.test_cli_runner().invoke(args=["rollup"])
    assert result.exit_code == 0, result.output
    assert f"{now.date()} is summarised up to 10:00 UTC." in result.output
    row = db.session.get(SalesPartial, now.date())
    assert (row.through, row.orders, row.units) == (now.replace(hour=10, minute=0), 1, 6)
    assert db.session.execute(select(func.count()).select_from(BookSalesPartial)).scalar_one() == 3
