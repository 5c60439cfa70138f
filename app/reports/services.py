"""Admin reports: sales over time, popular books, inventory.

Every number is aggregated by the database (GROUP BY); Python only lays the days over the list
of periods so that periods without orders show as zeros. Closed days and today's closed hours are
read from the rollup (app/reports/rollup.py), the orders since from the order tables. Cancelled orders never count;
revenue is the sum of the order lines' frozen totals (unit price × quantity when placed). An
order counts on the UTC date it was placed: the range [from 00:00, to + 1 day 00:00).
"""

from datetime import date

from sqlalchemy import case, func, select

from app.books.models import Book
from app.extensions import db
from app.money import ZERO, from_cents
from app.orders.models import Order, OrderItem
from app.reports import rollup
from app.reports.periods import buckets, floor, sum_cents


def _done(rows):
    """End the read transaction (the pool does not reset connections: see config.engine_options)."""
    db.session.commit()
    return rows


def sales(start: date, end: date, period: str, *, direct: bool = False) -> dict:
    """Closed days and today's closed hours come from the rollup, the rest from the order tables
    (`direct`: every day from the order tables, as the exactness tests compare)."""
    days = rollup.direct_day_totals(start, end) if direct else rollup.day_totals(start, end)
    _done(None)
    periods = {day: [0, 0, 0] for day in buckets(start, end, period)}
    for day, figures in days.items():
        point = periods[floor(day, period)]
        for i, value in enumerate(figures):
            point[i] += value
    series = [
        {"period_start": day, "orders": orders, "units": units, "revenue": from_cents(cents)}
        for day, (orders, units, cents) in periods.items()
    ]
    totals = {
        "orders": sum(p["orders"] for p in series),
        "units": sum(p["units"] for p in series),
        "revenue": sum((p["revenue"] for p in series), ZERO),
    }
    return {"from_": start, "to": end, "period": period, "totals": totals, "series": series}


def popular_books(start: date, end: date, limit: int, *, direct: bool = False) -> dict:
    """The top `limit` books: from the rollup and the lines since today's last closed hour (`direct`:
    from the order tables)."""
    if direct:
        units = func.sum(OrderItem.quantity).label("units_sold")
        revenue = sum_cents(OrderItem.line_total)
        rows = db.session.execute(
            select(OrderItem.book_id, units, revenue)
            .join(Order, Order.id == OrderItem.order_id)
            .where(*rollup.placed_between(start, end))
            .group_by(OrderItem.book_id)
            .order_by(units.desc(), revenue.desc(), OrderItem.book_id)
            .limit(limit)
        ).all()
    else:
        rows = rollup.top_books(start, end, limit)
    books = {}
    if rows:
        found = db.session.execute(select(Book.id, Book.title, Book.author).where(Book.id.in_([r[0] for r in rows])))
        books = {b.id: b for b in found}
    _done(None)
    items = [
        {
            "book_id": book_id,
            "title": books[book_id].title,
            "author": books[book_id].author,
            "units_sold": int(units),
            "revenue": from_cents(cents),
        }
        for book_id, units, cents in rows
        if book_id in books
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
