"""The report rollups: closed days summarised once, today read live (docs/decisions/0014-report-rollups.md).

A day is closed once `GRACE` has passed after its end: no order placed on it can still commit (a
placement takes its timestamp when its transaction starts). The summariser reads the direct report
SQL (`direct_day_totals`, `direct_book_totals`, also what the exactness tests compare against) for
the closed days that are missing or dirty, and replaces their rows in one transaction, rebuilding
the book rows of each complete month it touched. Summarisers run one at a time (a named lock on
MySQL/MariaDB, the write lock on SQLite) and each starts a fresh snapshot after taking the lock, so
a slower summariser can never overwrite a newer summary with an older one.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, func, insert, literal, select, union_all

from app.clock import utcnow
from app.extensions import db
from app.orders.models import CANCELLED, STATUSES, DirtyDay, Order, OrderItem
from app.orders.services import run_transaction
from app.reports.models import BookSalesDay, BookSalesMonth, SalesDay
from app.reports.periods import DAY, MONTH, buckets, floor, period_start, sum_cents
from app.transactions import one_at_a_time

# Spelled as an IN list (not `!= 'cancelled'`) so the (status, created_at) index serves the range.
COUNTED = tuple(s for s in STATUSES if s != CANCELLED)
GRACE = timedelta(minutes=10)
LOCK_SECONDS = 10  # under the connections' read timeout (DB_READ_TIMEOUT, 15 s by default)
ONE_DAY = timedelta(days=1)
# Each bucket's top K rows: K starts at max(3 x limit, 30) and grows fourfold up to 4,000 (then every row).
TOP_K_FACTOR, TOP_K_MIN, TOP_K_MAX = 3, 30, 4000
MAX_BUCKETS = 150
DAY_K_DIVISOR = 10


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
    dirty = select(DirtyDay.id).where(DirtyDay.day >= start, DirtyDay.day <= end).limit(1)
    return db.session.execute(dirty).first() is not None


def ensure_summarised(start: date, end: date) -> bool:
    """Summarise the closed days of start..end that need it (and the rest of their months), so
    the reads that follow find every closed day of the range summarised; False when another
    summariser is busy for longer than LOCK_SECONDS (the caller then reads the order tables)."""
    if start > end or not needs_summary(start, end):
        return True
    return summarise(start.replace(day=1), month_end(end)) is not None


def day_totals(start: date, end: date) -> dict[date, tuple[int, int, int]]:
    """What `direct_day_totals` answers, read from the rollup for closed days and live after."""
    cutoff = first_open_day()
    closed_end = min(end, cutoff - ONE_DAY)
    if not ensure_summarised(start, closed_end):
        return direct_day_totals(start, end)
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


@dataclass(frozen=True)
class Source:
    """Book rows for low..high: rollup rows of `table` (a bucket per day or per month start), or,
    with no table, the order tables' lines grouped by book (one bucket)."""

    table: type | None
    low: date
    high: date

    @property
    def key(self):
        return self.table.month if self.table is BookSalesMonth else self.table.day

    def buckets(self) -> list[date]:
        if self.table is BookSalesMonth:
            return buckets(self.low, self.high, MONTH)
        return [self.low + timedelta(days=i) for i in range((self.high - self.low).days + 1)]

    def rows(self):
        """SELECT (book_id, units, cents) of every row of the source."""
        if self.table is None:
            return direct_book_totals(self.low, self.high)
        t = self.table
        return select(t.book_id, t.units, t.revenue_cents).where(self.key >= self.low, self.key <= self.high)


def book_sources(start: date, end: date) -> list[Source]:
    """Where the per-book sums over start..end come from: month rows for the whole closed months,
    day rows for the closed days around them, the order tables for the open days."""
    cutoff = first_open_day()
    closed_end = min(end, cutoff - ONE_DAY)
    if not ensure_summarised(start, closed_end):
        return [Source(None, start, end)]
    sources = []
    if start <= closed_end:
        first_month = start if start.day == 1 else month_end(start) + ONE_DAY
        last_month_end = closed_end if closed_end == month_end(closed_end) else floor(closed_end, MONTH) - ONE_DAY
        day_ranges = [(start, closed_end)]
        if first_month <= last_month_end:
            sources.append(Source(BookSalesMonth, first_month, floor(last_month_end, MONTH)))
            day_ranges = [(start, first_month - ONE_DAY), (last_month_end + ONE_DAY, closed_end)]
        sources += [Source(BookSalesDay, low, high) for low, high in day_ranges if low <= high]
    if max(start, cutoff) <= end:
        sources.append(Source(None, max(start, cutoff), end))
    return sources


def _rank(item):
    book_id, (units, cents) = item
    return (-units, -cents, book_id)


def _bucket_k(source: "Source", k: int) -> int:
    """A day bucket's K is a tenth of a month's: a day's K-th value is small anyway, and a day's
    long tail of one-copy sales would otherwise fill the candidates with books that never win."""
    return k if source.table is BookSalesMonth else max(1, k // DAY_K_DIVISOR)


def _bucket_tops(stored: list["Source"], k: int):
    """SELECT (bucket, book_id, units): the rows selling most copies in each bucket (`_bucket_k`)."""
    tops = []
    for source in stored:
        t = source.table
        for bucket in source.buckets():
            name = literal(f"{t.__tablename__}:{bucket.isoformat()}").label("bucket")
            query = select(name, t.book_id, t.units).where(source.key == bucket).order_by(t.units.desc())
            sub = query.limit(_bucket_k(source, k)).subquery()
            tops.append(select(sub.c.bucket, sub.c.book_id, sub.c.units))
    return union_all(*tops) if len(tops) > 1 else tops[0]


def top_books(start: date, end: date, limit: int) -> list[tuple[int, int, int]]:
    """The `limit` best-selling books over start..end as (book_id, units, cents), most copies
    first, then higher revenue, then lower id: what the direct SQL answers.

    Summing every (bucket, book) row of a year reads about 12 times the catalogue, so the top is
    found from each bucket's top K rows instead (Fagin's threshold algorithm): a book outside every
    bucket's top K sold at most the sum of the buckets' K-th values; when the `limit`-th candidate
    sold strictly more than that, no other book can reach the top, else K grows."""
    sources = book_sources(start, end)
    live = {}
    for source in sources:
        if source.table is None:
            live = {b: (int(u), int(c or 0)) for b, u, c in db.session.execute(source.rows())}
    ranked_live = sorted(live.items(), key=_rank)
    stored = [s for s in sources if s.table is not None]
    k = max(TOP_K_FACTOR * limit, TOP_K_MIN)
    if sum(len(s.buckets()) for s in stored) > MAX_BUCKETS:  # decades: sum every row instead
        k = TOP_K_MAX + 1
    while stored and k <= TOP_K_MAX:
        found: dict[str, list[int]] = {}
        candidates = {b for b, _ in ranked_live[:k]}
        for bucket, book_id, units in db.session.execute(_bucket_tops(stored, k)):
            found.setdefault(bucket, []).append(int(units))
            candidates.add(book_id)
        full = {f"{s.table.__tablename__}:{b.isoformat()}": _bucket_k(s, k) for s in stored for b in s.buckets()}
        bound = sum(min(values) for bucket, values in found.items() if len(values) >= full[bucket])
        if len(ranked_live) >= k:
            bound += ranked_live[k - 1][1][0]
        totals = _stored_totals(stored, candidates)
        ranked = sorted(((b, _plus(totals.get(b), live.get(b))) for b in candidates), key=_rank)
        if len(ranked) >= limit and ranked[limit - 1][1][0] > bound or bound == 0:
            return [(b, u, c) for b, (u, c) in ranked[:limit]]
        k *= 4
    totals = _stored_totals(stored, None)
    ranked = sorted(((b, _plus(totals.get(b), live.get(b))) for b in totals.keys() | live.keys()), key=_rank)
    return [(b, u, c) for b, (u, c) in ranked[:limit]]


def _plus(a, b) -> tuple[int, int]:
    a, b = a or (0, 0), b or (0, 0)
    return (a[0] + b[0], a[1] + b[1])


def _stored_totals(stored: list[Source], books: set[int] | None) -> dict[int, tuple[int, int]]:
    """{book_id: (units, cents)} summed over the rollup sources, for `books` (None: every book)."""
    if not stored:
        return {}
    parts = []
    for source in stored:
        rows = source.rows()
        if books is not None:
            rows = rows.where(source.table.book_id.in_(sorted(books)))
        parts.append(rows)
    union = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    book_id, units, cents = union.c
    query = select(book_id, func.sum(units), func.sum(cents)).group_by(book_id)
    return {b: (int(u), int(c)) for b, u, c in db.session.execute(query)}


# --- summarising ---------------------------------------------------------------------------------


def summarise(start: date, end: date) -> int | None:
    """Summarise the closed days of start..end that are missing or dirty; returns how many, or
    None when another summariser is busy (a long `flask rollup` month)."""
    end = min(end, first_open_day() - ONE_DAY)
    if start > end:
        return 0
    with one_at_a_time("report_rollup", LOCK_SECONDS) as mine:
        if not mine:
            return None
        try:
            return run_transaction(_summarise, start, end)
        finally:
            db.session.rollback()  # nothing is left open on the session's connection


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
