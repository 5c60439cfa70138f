"""Period bucketing and money sums that give the same answer on SQLite and MySQL/MariaDB.

`period_start(column, period)` is a SQL expression for the first day of the period a naive-UTC
DATETIME falls in: the day itself, the Monday of its ISO week, or the first of its month. Each
dialect gets its own spelling (no bound parameters, so the SELECT and the GROUP BY render the
same text):

    period  SQLite                                   MySQL / MariaDB
    day     date(c)                                  DATE(c)
    week    date(c, 'weekday 0', '-6 days')          DATE(c) - INTERVAL WEEKDAY(c) DAY
    month   date(c, 'start of month')                DATE(c) - INTERVAL (DAYOFMONTH(c) - 1) DAY

(SQLite's 'weekday 0' moves forward to the next Sunday, or stays on a Sunday; six days back is
that week's Monday.) SQLite answers a 'YYYY-MM-DD' string, MySQL a DATE: `as_date` reads both.

`sum_cents(expression)` is the SUM of a money expression in whole cents. SQLite stores NUMERIC
values as floating point, so a plain SUM of prices can drift by fractions of a cent; rounding each
value to integer cents first makes the sum exact there too. MySQL's DECIMAL is exact already.

`buckets(start, end, period)` lists every period start in the range, in Python, so a report can
show the periods without orders as zeros (the gaps are filled over this list, never over orders).
"""

from datetime import date, datetime, timedelta

from sqlalchemy import BigInteger, Date
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal

DAY, WEEK, MONTH = "day", "week", "month"
PERIODS = (DAY, WEEK, MONTH)


class period_start(FunctionElement):  # noqa: N801  (reads like the SQL function it stands for)
    """First day of the day/ISO week/month that a DATETIME column falls in."""

    type = Date()
    inherit_cache = True
    # The period is part of the statement cache key: a day and a week query must not share SQL.
    _traverse_internals = [*FunctionElement._traverse_internals, ("period", InternalTraversal.dp_string)]

    def __init__(self, column: ColumnElement, period: str):
        if period not in PERIODS:
            raise ValueError(f"unknown period {period!r}")
        self.period = period
        super().__init__(column)


@compiles(period_start)
def _period_start_default(element, compiler, **kw):  # MySQL / MariaDB
    column = compiler.process(list(element.clauses)[0], **kw)
    if element.period == DAY:
        return f"DATE({column})"
    if element.period == WEEK:
        return f"(DATE({column}) - INTERVAL WEEKDAY({column}) DAY)"
    return f"(DATE({column}) - INTERVAL (DAYOFMONTH({column}) - 1) DAY)"


@compiles(period_start, "sqlite")
def _period_start_sqlite(element, compiler, **kw):
    column = compiler.process(list(element.clauses)[0], **kw)
    if element.period == DAY:
        return f"date({column})"
    if element.period == WEEK:
        return f"date({column}, 'weekday 0', '-6 days')"
    return f"date({column}, 'start of month')"


class sum_cents(FunctionElement):  # noqa: N801
    """SUM of a money expression, in whole cents (an exact integer on every dialect)."""

    type = BigInteger()
    inherit_cache = True


@compiles(sum_cents)
def _sum_cents_default(element, compiler, **kw):  # DECIMAL arithmetic is exact
    return f"SUM(({compiler.process(list(element.clauses)[0], **kw)}) * 100)"


@compiles(sum_cents, "sqlite")
def _sum_cents_sqlite(element, compiler, **kw):
    # Round every value to integer cents, then TOTAL(): exact below 2**53 cents, and unlike
    # SUM() it never fails with "integer overflow" (it answers a float holding the integer).
    return f"TOTAL(CAST(ROUND(({compiler.process(list(element.clauses)[0], **kw)}) * 100) AS INTEGER))"


def as_date(value) -> date:
    """A period start as the database answered it (DATE, DATETIME or 'YYYY-MM-DD')."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def floor(day: date, period: str) -> date:
    """The start of the period `day` falls in (the Python twin of `period_start`)."""
    if period == WEEK:
        return day - timedelta(days=day.weekday())
    if period == MONTH:
        return day.replace(day=1)
    return day


def _next(start: date, period: str) -> date:
    if period == DAY:
        return start + timedelta(days=1)
    if period == WEEK:
        return start + timedelta(days=7)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def buckets(start: date, end: date, period: str) -> list[date]:
    """Every period start from the period holding `start` to the one holding `end`, in order."""
    result = []
    current = floor(start, period)
    while current <= end:
        result.append(current)
        current = _next(current, period)
    return result
