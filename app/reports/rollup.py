"""The report rollups: closed days summarised once, today read live (docs/decisions/0014-report-rollups.md).

A day is closed once `GRACE` has passed after its end: no order placed on it can still commit (a
placement takes its timestamp when its transaction starts). The summariser reads the direct report
SQL (`direct_day_totals`, `direct_book_totals`, also what the exactness tests compare against) for
the closed days that are missing or dirty, and replaces their rows in one transaction, rebuilding
the book rows of each complete month it touched. Summarisers run one at a time (a named lock on
MySQL/MariaDB, the write lock on SQLite) and each starts a fresh snapshot after taking the lock, so
a slower summariser can never overwrite a newer summary with an older one.

The first open day is summarised apart up to its last closed hour (`closed_hour`: the start of the
hour GRACE ago), so a report reads at most about an hour of order lines live however much the day
has sold. That partial summary is brought up to date when the hour moves on or a marker of the day
appears, by adding the new hour's lines and taking the cancelled orders' off (`_summarise_partial`).
A report checks the partial summary and the closed days one after the other; each may commit a
summary, so the reads that follow see every change committed before the last check (a cancel
committed in between is counted out by the next report, as for the closed days).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, delete, false, func, insert, literal, literal_column, or_, select, union_all, update

from app.clock import utcnow
from app.extensions import db
from app.orders.models import CANCELLED, STATUSES, DirtyDay, Order, OrderItem
from app.orders.services import run_transaction
from app.reports.models import BookSalesDay, BookSalesMonth, BookSalesPartial, SalesDay, SalesPartial
from app.reports.periods import DAY, MONTH, buckets, floor, period_start, sum_cents
from app.transactions import one_at_a_time

# Spelled as an IN list (not `!= 'cancelled'`) so the (status, created_at) index serves the range.
COUNTED = tuple(s for s in STATUSES if s != CANCELLED)
GRACE = timedelta(minutes=10)
LOCK_SECONDS = 10  # under the connections' read timeout (DB_READ_TIMEOUT, 15 s by default)
# Days summarised by one pair of grouped reads: a month of a 10M-line history read in one statement
# took longer than DB_READ_TIMEOUT (15 s); a week is about a quarter of that, whatever the history's length.
RUN_DAYS = 7
ONE_DAY = timedelta(days=1)
# Each bucket's top K rows: K starts at max(TOP_K_FACTOR x limit, TOP_K_MIN) and grows fourfold up to
# TOP_K_MAX (then every row is summed).
TOP_K_FACTOR, TOP_K_MIN, TOP_K_MAX = 2, 20, 4000
MAX_BUCKETS = 150
DAY_K_DIVISOR = 10


def closed_hour(now: datetime | None = None) -> datetime:
    """Orders placed before this moment (the start of the hour GRACE ago) are all committed: what they
    count for changes only by a cancellation or a backfill, which marks their day dirty."""
    return ((now or utcnow()) - GRACE).replace(minute=0, second=0, microsecond=0)


def first_open_day(now: datetime | None = None) -> date:
    """Days before this one are closed (summarised once); this day and later ones are read live, but
    for this day's closed hours (`closed_hour`), summarised apart."""
    return closed_hour(now).date()


def month_end(day: date) -> date:
    first = day.replace(day=1)
    return date(first.year + first.month // 12, first.month % 12 + 1, 1) - ONE_DAY


def placed_between(start: date, end: date, since: datetime | None = None, until: datetime | None = None):
    """Counted orders placed on the UTC dates start..end, both included; from `since` on and before
    `until` when given."""
    return (
        Order.status.in_(COUNTED),
        Order.created_at >= (since or datetime.combine(start, time.min)),
        Order.created_at < (until or datetime.combine(end + ONE_DAY, time.min)),
    )


# --- the direct SQL ------------------------------------------------------------------------------


def direct_day_totals(
    start: date, end: date, since: datetime | None = None, until: datetime | None = None
) -> dict[date, tuple[int, int, int]]:
    """{day: (orders, units, revenue in cents)} for the days start..end with counted orders (placed from
    `since` and before `until` when given), from the order tables: two grouped reads (orders from the
    orders index alone, copies and revenue from the lines), which cost about half of one
    COUNT(DISTINCT) over the join on MariaDB."""
    day = period_start(Order.created_at, DAY)
    placed = placed_between(start, end, since, until)
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


def direct_book_totals(
    start: date, end: date, by_day: bool = False, since: datetime | None = None, until: datetime | None = None
):
    """SELECT of (book_id, units, revenue in cents) per book over start..end (from `since`, before
    `until`) from the order tables; with `by_day`, per (day, book) with the day first."""
    keys = [period_start(Order.created_at, DAY), OrderItem.book_id] if by_day else [OrderItem.book_id]
    return (
        select(*keys, func.sum(OrderItem.quantity).label("units"), sum_cents(OrderItem.line_total).label("cents"))
        .select_from(Order)
        .join(OrderItem, OrderItem.order_id == Order.id)
        .where(*placed_between(start, end, since, until))
        .group_by(*keys)
    )


def _insert_rows(model, rows: list[dict]) -> None:
    """Insert `rows` into `model`'s table, 10,000 per statement."""
    for i in range(0, len(rows), 10_000):
        db.session.execute(insert(model), rows[i : i + 10_000])


def _delete_markers(ids: list[int]) -> None:
    """Delete the dirty markers `ids` (the ones a summary accounted for), 1,000 per statement."""
    for i in range(0, len(ids), 1000):
        db.session.execute(delete(DirtyDay).where(DirtyDay.id.in_(ids[i : i + 1000])))


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# --- reading the rollup --------------------------------------------------------------------------


def _summary_state(start: date, end: date) -> tuple[bool, dict[date, int]]:
    """In one read of this snapshot: whether a closed day in start..end has no summary or a dirty one,
    and how many days of the first and the last month of the range are summarised."""
    first, last = floor(start, MONTH), floor(end, MONTH)
    day = SalesDay.day

    def days(low, high):
        return func.count(case((and_(day >= low, day <= high), 1)))

    dirty = select(DirtyDay.id).where(DirtyDay.day >= start, DirtyDay.day <= end).limit(1).scalar_subquery()
    present, first_days, last_days, marker = db.session.execute(
        select(days(start, end), days(first, month_end(first)), days(last, month_end(last)), dirty).where(
            day >= first, day <= month_end(last)
        )
    ).one()
    return present != (end - start).days + 1 or marker is not None, {first: first_days, last: last_days}


def needs_summary(start: date, end: date) -> bool:
    """True when a closed day in start..end has no summary or a dirty one (in this snapshot)."""
    return _summary_state(start, end)[0]


def ensure_summarised(start: date, end: date) -> bool:
    """Summarise the closed days of start..end that need it (and the rest of their months), so
    the reads that follow find every closed day of the range summarised; False when another
    summariser is busy for longer than LOCK_SECONDS (the caller then reads the order tables)."""
    if start > end or not needs_summary(start, end):
        return True
    return summarise(start.replace(day=1), month_end(end)) is not None


def _partial_fresh(day: date, through: datetime) -> bool:
    """In one read of this snapshot: whether the partial summary is `day`'s up to `through` and no dirty
    marker of the day was added since it was made (it deletes the markers it accounts for)."""
    dirty = select(DirtyDay.id).where(DirtyDay.day == day).limit(1).scalar_subquery()
    row = db.session.execute(select(SalesPartial.through, dirty).where(SalesPartial.day == day)).first()
    return row is not None and row[0] == through and row[1] is None


def open_part(start: date, end: date, now: datetime) -> tuple[date, datetime] | None:
    """(day, through) when start..end holds the first open day and its closed hours are summarised (made
    or corrected now if they need it): read them from the partial summary and the day's lines from
    `through` on. None when the day has no closed hour yet, is outside the range, or another
    summariser is busy for longer than LOCK_SECONDS (the caller then reads the whole day's lines)."""
    through = closed_hour(now)
    day = through.date()
    if not start <= day <= end or through == datetime.combine(day, time.min):
        return None
    if _partial_fresh(day, through):
        return day, through
    with one_at_a_time("report_rollup", LOCK_SECONDS) as mine:
        if not mine:
            return None
        try:
            run_transaction(_summarise_partial, day, through)
        finally:
            db.session.rollback()  # the reads that follow start a snapshot holding the summary
    return day, through


def summarise_open_day(now: datetime | None = None) -> datetime | None:
    """Summarise the first open day's closed hours if they need it (`flask rollup`, so that no report
    waits for it): the end of the summary, or None when the day has no closed hour yet (or another
    summariser is busy)."""
    now = now or utcnow()
    day = first_open_day(now)
    part = open_part(day, day, now)
    return part[1] if part else None


def _summarise_partial(day: date, through: datetime) -> None:
    """Bring the partial summary to `day`'s counted orders placed before `through`, in this snapshot.

    The markers of the day it finds are the changes it does not hold yet: it made (or last corrected)
    the summary in a snapshot without them and deleted every marker it saw then. So it corrects the
    summary of the same day instead of reading the day again: less the lines of each cancelled order
    placed before its old end (counted then, cancelled since), plus the lines placed from its old end
    to `through`; it reads the day's lines again only for another day, a marker without an order (a
    backfill), or an order it cannot find. Each run costs about an hour of lines, not the whole day."""
    session = db.session
    if _partial_fresh(day, through):  # another summariser made it while this one waited for the lock
        return
    found = session.execute(select(SalesPartial.day, SalesPartial.through)).first()
    markers = session.execute(
        select(DirtyDay.id, DirtyDay.order_id, Order.created_at)
        .outerjoin(Order, Order.id == DirtyDay.order_id)
        .where(DirtyDay.day == day)
    ).all()
    if found is None or found[0] != day or found[1] > through or any(placed is None for _, _, placed in markers):
        _rewrite_partial(day, through)
    else:
        since = found[1]
        cancelled = sorted({order_id for _, order_id, placed in markers if placed < since})
        _correct_partial(day, since, through, cancelled)
    _delete_markers([marker_id for marker_id, _, _ in markers])
    session.commit()


def _rewrite_partial(day: date, through: datetime) -> None:
    """Replace the partial summary (of any day) by `day`'s counted orders placed before `through`."""
    session = db.session
    orders, units, cents = direct_day_totals(day, day, until=through).get(day, (0, 0, 0))
    books = session.execute(direct_book_totals(day, day, until=through)).all()
    session.execute(delete(SalesPartial))
    session.execute(delete(BookSalesPartial))
    session.execute(
        insert(SalesPartial).values(day=day, through=through, orders=orders, units=units, revenue_cents=cents)
    )
    _insert_rows(
        BookSalesPartial,
        [{"day": day, "book_id": book_id, "units": int(u), "revenue_cents": int(c)} for book_id, u, c in books],
    )


def _correct_partial(day: date, since: datetime, through: datetime, cancelled: list[int]) -> None:
    """The partial summary of `day` up to `since`, less the lines of the `cancelled` orders (counted in
    it, cancelled since), plus the counted lines placed from `since` to `through`."""
    session = db.session
    change: dict[int, list[int]] = {}  # book id -> [units, cents] to add
    orders = units = cents = 0
    if cancelled:
        lines = (
            select(OrderItem.book_id, func.sum(OrderItem.quantity), sum_cents(OrderItem.line_total))
            .where(OrderItem.order_id.in_(cancelled))
            .group_by(OrderItem.book_id)
        )
        for book_id, u, c in session.execute(lines):
            change[book_id] = [-int(u), -int(c)]
        orders, units, cents = -len(cancelled), sum(u for u, _ in change.values()), sum(c for _, c in change.values())
    if through > since:
        added = direct_day_totals(day, day, since=since, until=through).get(day, (0, 0, 0))
        orders, units, cents = orders + added[0], units + added[1], cents + added[2]
        for book_id, u, c in session.execute(direct_book_totals(day, day, since=since, until=through)):
            delta = change.setdefault(book_id, [0, 0])
            delta[0] += int(u)
            delta[1] += int(c)
    p = BookSalesPartial
    books = sorted(change)
    stored = {}
    for i in range(0, len(books), 1000):
        part = books[i : i + 1000]
        rows = session.execute(select(p.book_id, p.units, p.revenue_cents).where(p.day == day, p.book_id.in_(part)))
        stored.update({book_id: (int(u), int(c)) for book_id, u, c in rows})
        session.execute(delete(p).where(p.day == day, p.book_id.in_(part)))
    rows = []
    for book_id in books:
        old_units, old_cents = stored.get(book_id, (0, 0))
        new_units, new_cents = old_units + change[book_id][0], old_cents + change[book_id][1]
        if new_units:  # a book whose every counted copy was cancelled has no row, as in a rewrite
            rows.append({"day": day, "book_id": book_id, "units": new_units, "revenue_cents": new_cents})
    _insert_rows(p, rows)
    session.execute(
        update(SalesPartial)
        .where(SalesPartial.day == day)
        .values(
            through=through,
            orders=SalesPartial.orders + orders,
            units=SalesPartial.units + units,
            revenue_cents=SalesPartial.revenue_cents + cents,
        )
    )


def _split(start: date, end: date) -> tuple[tuple[date, datetime] | None, date, date]:
    """For start..end, at one moment (so the partial summary's day and the first open day agree): the
    partial summary to read (`open_part`), the first open day, and the last closed day of the range."""
    now = utcnow()
    partial = open_part(start, end, now)
    cutoff = first_open_day(now)
    return partial, cutoff, min(end, cutoff - ONE_DAY)


def day_totals(start: date, end: date) -> dict[date, tuple[int, int, int]]:
    """What `direct_day_totals` answers, read from the rollup for closed days, the first open day's
    closed hours from its partial summary, and live after."""
    partial, cutoff, closed_end = _split(start, end)
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
        since = partial[1] if partial else None
        found.update(direct_day_totals(max(start, cutoff), end, since))
    if partial:
        row = db.session.execute(
            select(SalesPartial.orders, SalesPartial.units, SalesPartial.revenue_cents).where(
                SalesPartial.day == partial[0]
            )
        ).one()
        summed = tuple(int(a) + int(b) for a, b in zip(row, found.get(partial[0], (0, 0, 0)), strict=True))
        if summed[0]:
            found[partial[0]] = summed
    return found


@dataclass
class BookPlan:
    """How the per-book sums over a range are read. Exact sums: the month rows of `months` (whole
    months, and edge months of which the range holds more than half), minus the day rows of the
    `minus` ranges (the rest of those edge months), plus the day rows of the `days` ranges (the other
    closed days), plus the partial summary of the first open day `partial` (its closed hours), plus
    the order lines of the open days `live` (from a moment: the end of the partial summary, or the
    first open day's start). Each month of `months` (the whole month bounds its part of the range),
    each day of `days` and the partial day are buckets whose top K rows give the candidates and the
    bound of `top_books`."""

    months: list[date] = field(default_factory=list)
    minus: list[tuple[date, date]] = field(default_factory=list)
    days: list[tuple[date, date]] = field(default_factory=list)
    partial: date | None = None
    live: tuple[datetime, date] | None = None

    def buckets(self, k: int) -> list[tuple[type, date, int]]:
        """(table, bucket, K) for each bucket. A day's K is a tenth of a month's: a day's K-th value
        is small anyway, and a day's long tail of one-copy sales would otherwise fill the candidates
        with books that never win."""
        day_k = max(1, k // DAY_K_DIVISOR)
        found = [(BookSalesMonth, month, k) for month in self.months]
        for low, high in self.days:
            found += [(BookSalesDay, low + timedelta(days=i), day_k) for i in range((high - low).days + 1)]
        if self.partial is not None:
            found.append((BookSalesPartial, self.partial, day_k))
        return found


def book_plan(start: date, end: date) -> BookPlan | None:
    """The plan for start..end, after summarising its closed days if they need it; None when another
    summariser is busy for longer than LOCK_SECONDS (the caller then reads the order tables)."""
    partial, cutoff, closed_end = _split(start, end)
    plan = BookPlan()
    if max(start, cutoff) <= end:
        plan.live = (partial[1] if partial else datetime.combine(max(start, cutoff), time.min), end)
        plan.partial = partial[0] if partial else None
    if start > closed_end:
        return plan
    needs, summarised = _summary_state(start, closed_end)
    if needs:
        if summarise(floor(start, MONTH), month_end(closed_end)) is None:
            return None
        summarised = _summary_state(start, closed_end)[1]
    for month in buckets(start, closed_end, MONTH):
        last = month_end(month)
        low, high = max(start, month), min(closed_end, last)
        inside, length = (high - low).days + 1, (last - month).days + 1
        if inside == length:
            plan.months.append(month)  # every day summarised: its month rows are the sum of its day rows
        elif summarised.get(month) == length and 2 * inside > length:
            # Month rows exist and always equal the sum of the month's stored day rows, stale or not.
            plan.months.append(month)
            plan.minus += [(a, b) for a, b in ((month, low - ONE_DAY), (high + ONE_DAY, last)) if a <= b]
        else:
            plan.days.append((low, high))
    return plan


def _tops(plan: BookPlan, k: int) -> tuple[set[int], int] | None:
    """In one read: the books in the top K rows of any bucket, and the sum of the K-th values of the
    buckets holding K rows or more (no other book sold more than that over the stored days); None if
    a list came back cut (GROUP_CONCAT's length limit)."""
    wanted = plan.buckets(k)
    parts = []
    for i, (table, bucket, size) in enumerate(wanted):
        key = table.month if table is BookSalesMonth else table.day
        top = select(table.book_id, table.units).where(key == bucket).order_by(table.units.desc()).limit(size)
        top = top.subquery()
        parts.append(select(literal(i).label("bucket"), top.c.book_id, top.c.units))
    rows = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    query = select(rows.c.bucket, func.count(), func.min(rows.c.units), func.group_concat(rows.c.book_id))
    candidates, bound = set(), 0
    for bucket, count, least, ids in db.session.execute(query.group_by(rows.c.bucket)):
        found = {int(b) for b in str(ids).split(",")}
        if len(found) != count:
            return None
        candidates |= found
        if count >= wanted[int(bucket)][2]:
            bound += int(least)
    return candidates, bound


def _ranked(plan: BookPlan, books: set[int] | None, bound: int, count: int) -> list[tuple[int, int, int, int, int]]:
    """One grouped read over the plan's parts: the first `count` books as (book_id, units, cents,
    score, exact). The stored rows are read for `books` only (None: every book), the open days' lines
    for every book. A book of `books` is exact and scores its units; any other book scores its open
    days' units plus `bound` (the most it may have sold on the stored days). Ordered by score, the
    inexact first among equal scores, then revenue, then id. Each part is summed per book first (the
    stored rows come in primary-key order, book first), so the union holds one row per book and part."""
    m, d = BookSalesMonth, BookSalesDay
    stored = literal_column("1").label("stored")
    parts = []
    if plan.months:
        parts.append(
            select(m.book_id, func.sum(m.units).label("units"), func.sum(m.revenue_cents).label("cents"), stored)
            .where(m.month >= plan.months[0], m.month <= plan.months[-1])
            .group_by(m.book_id)
        )
    if plan.minus or plan.days:  # one read of the day rows, the `minus` ones counted negative
        minus = or_(*(and_(d.day >= low, d.day <= high) for low, high in plan.minus)) if plan.minus else false()
        sign = case((minus, -1), else_=1)
        ranges = [and_(d.day >= low, d.day <= high) for low, high in plan.minus + plan.days]
        parts.append(
            select(d.book_id, func.sum(d.units * sign).label("units"), func.sum(d.revenue_cents * sign).label("cents"))
            .add_columns(stored)
            .where(or_(*ranges))
            .group_by(d.book_id)
        )
    if plan.partial is not None:
        p = BookSalesPartial
        parts.append(
            select(p.book_id, func.sum(p.units).label("units"), func.sum(p.revenue_cents).label("cents"), stored)
            .where(p.day == plan.partial)
            .group_by(p.book_id)
        )
    ids = None if books is None else sorted(books)
    if ids is not None:
        parts = [part.where(part.selected_columns[0].in_(ids)) for part in parts]
    if plan.live:
        since, end = plan.live
        live = direct_book_totals(since.date(), end, since=since)
        parts.append(live.add_columns(literal_column("0").label("stored")))
    rows = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    units, cents = func.sum(rows.c.units), func.sum(rows.c.cents)
    if ids is None or bound == 0:
        score, exact, order = units, literal_column("1"), [units.desc()]
    else:
        exact = func.max(rows.c.stored)  # a candidate has stored rows in the range (read), no other book has
        score = units + (1 - exact) * bound
        order = [score.desc(), exact]
    query = (
        select(rows.c.book_id, units, cents, score, exact)
        .group_by(rows.c.book_id)
        .having(units > 0)
        .order_by(*order, cents.desc(), rows.c.book_id)
        .limit(count)
    )
    return [tuple(int(v) for v in row) for row in db.session.execute(query)]


def top_books(start: date, end: date, limit: int) -> list[tuple[int, int, int]]:
    """The `limit` best-selling books over start..end as (book_id, units, cents), most copies
    first, then higher revenue, then lower id: what the direct SQL answers.

    Summing every (bucket, book) row of a year reads about 12 times the catalogue, so the top is
    found from each bucket's top K rows instead (Fagin's threshold algorithm): a book outside every
    bucket's top K sold at most the sum of the buckets' K-th values (the bound) on the stored days.
    The second read sums the candidates exactly, and the open days' lines of every book (read once)
    with the bound added for a book that is not a candidate (its score: the most it may have sold);
    when the `limit` best are candidates and the `limit`-th sold strictly more than the bound and
    than any other book's score, no other book can reach the top. Else K grows, and past TOP_K_MAX
    every row is summed."""
    plan = book_plan(start, end)
    if plan is None:  # from the order tables only
        plan = BookPlan(live=(datetime.combine(start, time.min), end))
    k = max(TOP_K_FACTOR * limit, TOP_K_MIN)
    if len(plan.buckets(k)) > MAX_BUCKETS:  # decades: sum every row instead
        k = TOP_K_MAX + 1
    while plan.buckets(k) and k <= TOP_K_MAX:
        tops = _tops(plan, k)
        if tops is None:
            break
        candidates, bound = tops
        rows = _ranked(plan, candidates, bound, limit + 1)
        best = [(b, u, c) for b, u, c, _, _ in rows[:limit]]
        if bound == 0:  # every stored row was a candidate: every sum is exact
            return best
        # An inexact book ranks before the exact ones of its score: any inexact book not read scores
        # less than the last row read (and a book not read at all sold at most `bound`).
        beaten = max([bound] + [score for _, _, _, score, exact in rows[limit:] if not exact])
        if len(best) == limit and all(exact for *_, exact in rows[:limit]) and best[-1][1] > beaten:
            return best
        k *= 4
    return [(b, u, c) for b, u, c, _, _ in _ranked(plan, None, 0, limit)]


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


def _runs(days: list[date], longest: int = RUN_DAYS) -> list[tuple[date, date]]:
    """Sorted days as runs of consecutive days (first, last), each at most `longest` days."""
    runs = []
    for day in days:
        if runs and runs[-1][1] + ONE_DAY == day and (day - runs[-1][0]).days < longest:
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
        _insert_rows(BookSalesDay, rows)
    _delete_markers([marker_id for marker_id, _ in markers])
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
