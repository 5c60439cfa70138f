"""Admin reports: sales over time, popular books, inventory.

Every number is aggregated by the database (GROUP BY); Python only lays the grouped rows over
the list of periods so that periods without orders show as zeros. Cancelled orders never count;
revenue is the sum of the order lines' frozen totals (unit price × quantity when placed). An
order counts on the UTC date it was placed: the range [from 00:00, to + 1 day 00:00).
"""

from datetime import date, datetime, time, timedelta

from sqlalchemy import case, func, select

from app.books.models import Book
from app.extensions import db
from app.money import ZERO, from_cents
from app.orders.models import CANCELLED, STATUSES, Order, OrderItem
from app.reports import models as _indexes  # noqa: F401  (the report index is part of the metadata)
from app.reports.periods import as_date, buckets, period_start, sum_cents

# Spelled as an IN list (not `!= 'cancelled'`) so the (status, created_at) index serves the range.
COUNTED = tuple(s for s in STATUSES if s != CANCELLED)


def _placed_between(start: date, end: date):
    return (
        Order.status.in_(COUNTED),
        Order.created_at >= datetime.combine(start, time.min),
        Order.created_at < datetime.combine(end + timedelta(days=1), time.min),
    )


def _done(rows):
    """End the read transaction (the pool does not reset connections: see config.engine_options)."""
    db.session.commit()
    return rows


def sales(start: date, end: date, period: str) -> dict:
    # Two grouped reads in one transaction (one snapshot): orders per period from the orders
    # index alone, copies and revenue per period from the lines. One query with
    # COUNT(DISTINCT orders.id) over the join costs about twice as much on MariaDB.
    bucket = period_start(Order.created_at, period)
    placed = _placed_between(start, end)
    orders = dict(db.session.execute(select(bucket, func.count(Order.id)).where(*placed).group_by(bucket)).all())
    rows = _done(
        db.session.execute(
            select(
                bucket.label("period_start"),
                func.sum(OrderItem.quantity).label("units"),
                sum_cents(OrderItem.line_total).label("revenue"),
            )
            .select_from(Order)
            .join(OrderItem, OrderItem.order_id == Order.id)
            .where(*placed)
            .group_by(bucket)
        ).all()
    )
    counts = {as_date(day): int(n) for day, n in orders.items()}
    found = {as_date(r.period_start): r for r in rows}
    series = []
    for day in buckets(start, end, period):
        row = found.pop(day, None)
        series.append(
            {
                "period_start": day,
                "orders": counts.pop(day, 0),
                "units": int(row.units or 0) if row else 0,
                "revenue": from_cents(row.revenue) if row else ZERO,
            }
        )
    if found or counts:  # a period outside the list would mean the SQL and Python periods disagree
        raise RuntimeError(f"periods {sorted({*found, *counts})} from the database are not in the series")
    totals = {
        "orders": sum(p["orders"] for p in series),
        "units": sum(p["units"] for p in series),
        "revenue": sum((p["revenue"] for p in series), ZERO),
    }
    return {"from_": start, "to": end, "period": period, "totals": totals, "series": series}


def popular_books(start: date, end: date, limit: int) -> dict:
    units = func.sum(OrderItem.quantity).label("units_sold")
    revenue = sum_cents(OrderItem.line_total).label("revenue")
    top = (
        select(OrderItem.book_id, units, revenue)
        .join(Order, Order.id == OrderItem.order_id)
        .where(*_placed_between(start, end))
        .group_by(OrderItem.book_id)
        .order_by(units.desc(), revenue.desc(), OrderItem.book_id)
        .limit(limit)
        .subquery()
    )
    rows = _done(
        db.session.execute(
            select(top.c.book_id, Book.title, Book.author, top.c.units_sold, top.c.revenue)
            .join(Book, Book.id == top.c.book_id)
            .order_by(top.c.units_sold.desc(), top.c.revenue.desc(), top.c.book_id)
        ).all()
    )
    items = [
        {
            "book_id": r.book_id,
            "title": r.title,
            "author": r.author,
            "units_sold": int(r.units_sold),
            "revenue": from_cents(r.revenue),
        }
        for r in rows
    ]
    return {"from_": start, "to": end, "items": items}


def inventory(threshold: int, limit: int) -> dict:
    """The figures over the whole catalogue; each list cut at `limit` items, with its full count."""
    live = Book.is_retired.is_(False)
    is_low = (Book.stock > 0) & (Book.stock <= threshold)
    titles, total_units, value, out_count, low_count = db.session.execute(
        select(
            func.count(Book.id),
            func.coalesce(func.sum(Book.stock), 0),
            sum_cents(Book.stock * Book.price),
            func.count(case((Book.stock == 0, 1))),
            func.count(case((is_low, 1))),
        ).where(live)
    ).one()
    columns = (Book.id, Book.title, Book.author, Book.stock)
    out = db.session.execute(select(*columns).where(live, Book.stock == 0).order_by(Book.id).limit(limit)).all()
    low = _done(
        db.session.execute(select(*columns).where(live, is_low).order_by(Book.stock, Book.id).limit(limit)).all()
    )

    def item(r):
        return {
            "book_id": r.id,
            "title": r.title,
            "author": r.author,
            "stock": r.stock,
            "shortfall": threshold - r.stock,
        }

    return {
        "low_stock_threshold": threshold,
        "limit": limit,
        "titles": int(titles),
        "total_units": int(total_units),
        "inventory_value": from_cents(value),
        "out_of_stock_count": int(out_count),
        "out_of_stock": [item(r) for r in out],
        "low_stock_count": int(low_count),
        "low_stock": [item(r) for r in low],
    }
