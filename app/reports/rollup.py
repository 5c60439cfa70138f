"""The report rollups: closed days summarised once, today read live (docs/decisions/0014-report-rollups.md).

A day is closed once `GRACE` has passed after its end: no order placed on it can still commit (a
placement takes its timestamp when its transaction starts). The summariser reads the direct report
SQL (`direct_day_totals`, `direct_book_totals`, also what the exactness tests compare against) for
the closed days that are missing or dirty, and replaces their rows in one transaction, rebuilding
the book rows of each complete month it touched. Summarisers run one at a time (a named lock on
MySQL/MariaDB, the write lock on SQLite) and each starts a fresh snapshot after taking the lock, so
a slower summariser can never overwrite a newer summary with an older one.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, func, insert, select, text

from app.errors import ServiceUnavailable
from app.extensions import db
from app.fields import utcnow
from app.orders.models import CANCELLED, STATUSES, Order, OrderItem
from app.orders.services import run_transaction
from app.reports.models import BookSalesDay, BookSalesMonth, DirtyDay, SalesDay
from app.reports.periods import DAY, MONTH, floor, period_start, sum_cents

# Spelled as an IN list (not `!= 'cancelled'`) so the (status, created_at) index serves the range.
COUNTED = tuple(s for s in STATUSES if s != CANCELLED)
GRACE = timedelta(minutes=10)
LOCK_SECONDS = 60
ONE_DAY = timedelta(days=1)


def first_open_day(now: datetime | None = None) -> date:
    """Days before this one are closed (summarised once); this day and later ones are read live."""
    return ((now or utcnow()) - GRACE).date()


def month_end(day: date) -> date:
    first = day.replace(day=1)
    return date(first.year + first.month // 12, first.month % 12 + 1, 1) - ONE_DAY


def placed_between(start: date, end: date):
    """Counted orders placed on the UTC dates start..end, both included."""
    return (
        Order.status.in_(COUNTED),
        Order.created_at >= datetime.combine(start, time.min),
        Order.created_at < datetime.combine(end + ONE_DAY, time.min),
    )


# --- the direct SQL ------------------------------------------------------------------------------


def direct_day_totals(start: date, end: date) -> dict[date, tuple[int, int, int]]:
    """{day: (orders, units, revenue in cents)} for the days start..end with counted orders, from
    the order tables: two grouped reads (orders from the orders index alone, copies and revenue
    from the lines), which cost about half of one COUNT(DISTINCT) over the join on MariaDB."""
    day = period_start(Order.created_at, DAY)
    placed = placed_between(start, end)
    orders = db.session.execute(select(day, func.count(Order.id)).where(*placed).group_by(day)).all()
    lines = db.session.execute(
        select(day, func.sum(OrderItem.quantity), sum_cents(OrderItem.line_total))
        .select_from(Order)
        .join(OrderItem, OrderItem.order_id == Order.id)
        .where(*placed)
        .group_by(day)
    ).all()
    sold = {_as_date(d): (int(units or 0), int(cents or 0)) for d, units, cents in lines}
    return {_as_date(d): (int(n), *sold.get(_as_date(d), (0, 0))) for d, n in orders}


def direct_book_totals(start: date, end: date, by_day: bool = False):
    """SELECT of (book_id, units, revenue in cents) per book over start..end from the order
    tables; with `by_day`, per (day, book) with the day first."""
    keys = [period_start(Order.created_at, DAY), OrderItem.book_id] if by_day else [OrderItem.book_id]
    return (
        select(*keys, func.sum(OrderItem.quantity).label("units"), sum_cents(OrderItem.line_total).label("cents"))
        .select_from(Order)
        .join(OrderItem, OrderItem.order_id == Order.id)
        .where(*placed_between(start, end))
        .group_by(*keys)
    )


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# --- reading the rollup --------------------------------------------------------------------------


def needs_summary(start: date, end: date) -> bool:
    """True when a closed day in start..end has no summary or a dirty one (in this snapshot)."""
    present = db.session.execute(
        select(func.count(SalesDay.day)).where(SalesDay.day >= start, SalesDay.day <= end)
    ).scalar_one()
    if present != (end - start).days + 1:
        return True
    return db.session.execute(select(DirtyDay.id).where(DirtyDay.day >= start, DirtyDay.day <= end).limit(1)).first()


def ensure_summarised(start: date, end: date) -> None:
    """Summarise the closed days of start..end that need it (and the rest of their months), so
    the reads that follow find every closed day of the range summarised."""
    if start > end or not needs_summary(start, end):
        return
    summarise(start.replace(day=1), month_end(end))


def day_totals(start: date, end: date) -> dict[date, tuple[int, int, int]]:
    """What `direct_day_totals` answers, read from the rollup for closed days and live after."""
    cutoff = first_open_day()
    closed_end = min(end, cutoff - ONE_DAY)
    ensure_summarised(start, closed_end)
    found = {}
    if start <= closed_end:
        rows = db.session.execute(
            select(SalesDay.day, SalesDay.orders, SalesDay.units, SalesDay.revenue_cents).where(
                SalesDay.day >= start, SalesDay.day <= closed_end, SalesDay.orders > 0
            )
        ).all()
        found = {_as_date(d): (orders, units, int(cents)) for d, orders, units, cents in rows}
    if max(start, cutoff) <= end:
        found.update(direct_day_totals(max(start, cutoff), end))
    return found


def book_totals(start: date, end: date):
    """A SELECT of (book_id, units, cents) rows whose sums per book are what `direct_book_totals`
    answers: month rows for the whole closed months, day rows for the closed days around them,
    the order tables for the open days."""
    cutoff = first_open_day()
    closed_end = min(end, cutoff - ONE_DAY)
    ensure_summarised(start, closed_end)
    parts = []
    if start <= closed_end:
        first_month = start if start.day == 1 else month_end(start) + ONE_DAY
        last_month_end = closed_end if closed_end == month_end(closed_end) else floor(closed_end, MONTH) - ONE_DAY
        last_month = floor(last_month_end, MONTH)
        day_ranges = [(start, closed_end)]
        if first_month <= last_month_end:
            m = BookSalesMonth
            parts.append(
                select(m.book_id, m.units, m.revenue_cents).where(m.month >= first_month, m.month <= last_month)
            )
            day_ranges = [(start, first_month - ONE_DAY), (last_month_end + ONE_DAY, closed_end)]
        for low, high in day_ranges:
            if low <= high:
                d = BookSalesDay
                parts.append(select(d.book_id, d.units, d.revenue_cents).where(d.day >= low, d.day <= high))
    if max(start, cutoff) <= end:
        parts.append(direct_book_totals(max(start, cutoff), end))
    return parts


# --- summarising ---------------------------------------------------------------------------------


@contextmanager
def _one_summariser() -> Iterator[None]:
    """Summarisers run one at a time; the caller's transaction is ended first, so the work after
    the lock reads a snapshot taken after the previous summariser committed."""
    db.session.commit()
    if db.engine.dialect.name != "mysql":  # SQLite: BEGIN IMMEDIATE already serialises writers
        yield
        return
    name = "CONCAT(DATABASE(), '.report_rollup')"
    got = db.session.execute(text(f"SELECT GET_LOCK({name}, :seconds)"), {"seconds": LOCK_SECONDS}).scalar()
    db.session.commit()
    if got != 1:
        raise ServiceUnavailable("The reports are being summarised; retry shortly.", retry_after=5)
    try:
        yield
    finally:
        db.session.rollback()
        db.session.execute(text(f"SELECT RELEASE_LOCK({name})"))
        db.session.commit()


def summarise(start: date, end: date) -> int:
    """Summarise the closed days of start..end that are missing or dirty; returns how many."""
    end = min(end, first_open_day() - ONE_DAY)
    if start > end:
        return 0
    with _one_summariser():
        return run_transaction(_summarise, start, end)


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Sorted days as runs of consecutive days (first, last)."""
    runs = []
    for day in days:
        if runs and runs[-1][1] + ONE_DAY == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _summarise(start: date, end: date) -> int:
    session = db.session
    markers = session.execute(select(DirtyDay.id, DirtyDay.day).where(DirtyDay.day >= start, DirtyDay.day <= end)).all()
    present = {
        _as_date(d)
        for d in session.execute(select(SalesDay.day).where(SalesDay.day >= start, SalesDay.day <= end)).scalars()
    }
    dirty = {_as_date(d) for _, d in markers}
    wanted = sorted(
        day
        for day in (start + timedelta(days=i) for i in range((end - start).days + 1))
        if day in dirty or day not in present
    )
    for low, high in _runs(wanted):
        totals = direct_day_totals(low, high)
        books = session.execute(direct_book_totals(low, high, by_day=True)).all()
        session.execute(delete(SalesDay).where(SalesDay.day >= low, SalesDay.day <= high))
        session.execute(delete(BookSalesDay).where(BookSalesDay.day >= low, BookSalesDay.day <= high))
        days = [low + timedelta(days=i) for i in range((high - low).days + 1)]
        session.execute(
            insert(SalesDay),
            [
                dict(zip(("day", "orders", "units", "revenue_cents"), (day, *totals.get(day, (0, 0, 0))), strict=True))
                for day in days
            ],
        )
        rows = [
            {"day": _as_date(day), "book_id": book_id, "units": int(units), "revenue_cents": int(cents)}
            for day, book_id, units, cents in books
        ]
        for i in range(0, len(rows), 10_000):
            session.execute(insert(BookSalesDay), rows[i : i + 10_000])
    if markers:
        ids = [marker_id for marker_id, _ in markers]
        for i in range(0, len(ids), 1000):
            session.execute(delete(DirtyDay).where(DirtyDay.id.in_(ids[i : i + 1000])))
    for month in sorted({floor(day, MONTH) for day in wanted}):
        _rebuild_month(month)
    session.commit()
    return len(wanted)


def _rebuild_month(month: date) -> None:
    """Book rows for the month from its day rows when every day of it is summarised, else none."""
    last = month_end(month)
    session = db.session
    session.execute(delete(BookSalesMonth).where(BookSalesMonth.month == month))
    days = session.execute(
        select(func.count(SalesDay.day)).where(SalesDay.day >= month, SalesDay.day <= last)
    ).scalar_one()
    if days != (last - month).days + 1:
        return
    d = BookSalesDay
    rows = session.execute(
        select(d.book_id, func.sum(d.units), func.sum(d.revenue_cents))
        .where(d.day >= month, d.day <= last)
        .group_by(d.book_id)
    ).all()
    if rows:
        session.execute(
            insert(BookSalesMonth),
            [
                {"month": month, "book_id": book_id, "units": int(units), "revenue_cents": int(cents)}
                for book_id, units, cents in rows
            ],
        )
