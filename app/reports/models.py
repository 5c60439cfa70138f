"""What the reports add to the schema: an index on a table the orders own, and the rollup tables.

`ix_order_items_report` covers the order lines' join to their order and everything the reports
read from a line, so the direct report SQL walks this index only, never the table rows.

The rollups (docs/decisions/0014-report-rollups.md) hold closed days (before today, UTC) summarised
once: `report_sales_days` one row per summarised day (zeros included, so a missing row means "not
summarised yet"), `report_book_days` per (day, book), `report_book_months` per (month, book) for
months whose every day is summarised. A change to a closed day's counted orders (a cancellation, a
backfill) adds its day to `report_dirty_days` in the same transaction; the summariser rewrites the
day and deletes the markers it saw. The first open day's closed hours (before the hour GRACE ago) are
summarised too: `report_sales_partial` (one row: the day and the end of what is summarised) and
`report_book_partial` per book, brought up to date when the hour moves on or a marker of that day
appears (app/reports/rollup.py). No foreign keys: an insert here must never lock a book row that
order placement is updating.
"""

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.orders.models import OrderItem

REPORT_INDEX = Index(
    "ix_order_items_report", OrderItem.order_id, OrderItem.book_id, OrderItem.quantity, OrderItem.line_total
)


class SalesDay(db.Model):
    __tablename__ = "report_sales_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    orders: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Integer)
    revenue_cents: Mapped[int] = mapped_column(BigInteger)


class BookSalesDay(db.Model):
    """Keyed by book first (a book's rows over a range are one index range); (day, units) gives a
    day's best sellers in order."""

    __tablename__ = "report_book_days"
    __table_args__ = (Index("ix_report_book_days_day_units", "day", "units"),)

    book_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    units: Mapped[int] = mapped_column(Integer)
    revenue_cents: Mapped[int] = mapped_column(BigInteger)


class BookSalesMonth(db.Model):
    __tablename__ = "report_book_months"
    __table_args__ = (Index("ix_report_book_months_month_units", "month", "units"),)

    book_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    month: Mapped[date] = mapped_column(Date, primary_key=True)  # the first of the month
    units: Mapped[int] = mapped_column(Integer)
    revenue_cents: Mapped[int] = mapped_column(BigInteger)


class SalesPartial(db.Model):
    """The first open day's counted orders placed before `through` (the start of an hour at least GRACE
    ago), as of the dirty markers of the day it deleted: at most one row."""

    __tablename__ = "report_sales_partial"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    through: Mapped[datetime] = mapped_column(DateTime)
    orders: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Integer)
    revenue_cents: Mapped[int] = mapped_column(BigInteger)


class BookSalesPartial(db.Model):
    """Per book, what `SalesPartial` sums: the best sellers of the day's closed hours."""

    __tablename__ = "report_book_partial"
    __table_args__ = (Index("ix_report_book_partial_day_units", "day", "units"),)

    book_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    units: Mapped[int] = mapped_column(Integer)
    revenue_cents: Mapped[int] = mapped_column(BigInteger)
