"""Admin reports: sales over time, popular books, inventory.

Every number is aggregated by the database (GROUP BY); Python only lays the days over the list
of periods so that periods without orders show as zeros. Closed days are read from the rollup
(app/reports/rollup.py), today from the order tables. Cancelled orders never count;
revenue is the sum of the order lines' frozen totals (unit price × quantity when placed). An
order counts on the UTC date it was placed: the range [from 00:00, to + 1 day 00:00).
"""

from datetime import date
from decimal import Decimal

from sqlalchemy import case, func, select, union_all

from app.books.models import Book
from app.extensions import db
from app.reports import rollup
from app.reports.periods import buckets, floor, sum_cents

CENT = Decimal("0.01")


def _money(value_in_cents) -> Decimal:
    return (Decimal(int(value_in_cents or 0)) / 100).quantize(CENT)


def _done(rows):
    """End the read transaction (the pool does not reset connections: see config.engine_options)."""
    db.session.commit()
    return rows


def sales(start: date, end: date, period: str, *, direct: bool = False) -> dict:
    """Closed days come from the rollup, the open ones from the order tables (`direct`: every day
    from the order tables, as the exactness tests compare)."""
    days = rollup.direct_day_totals(start, end) if direct else rollup.day_totals(start, end)
    _done(None)
    periods = {day: [0, 0, 0] for day in buckets(start, end, period)}
    for day, figures in days.items():
        point = periods[floor(day, period)]
        for i, value in enumerate(figures):
            point[i] += value
    series = [
        {"period_start": day, "orders": orders, "units": units, "revenue": _money(cents)}
        for day, (orders, units, cents) in periods.items()
    ]
    totals = {
        "orders": sum(p["orders"] for p in series),
        "units": sum(p["units"] for p in series),
        "revenue": sum((p["revenue"] for p in series), Decimal("0.00")),
    }
    return {"from_": start, "to": end, "period": period, "totals": totals, "series": series}


def popular_books(start: date, end: date, limit: int, *, direct: bool = False) -> dict:
    if direct:
        rows = rollup.direct_book_totals(start, end).subquery()
    else:
        parts = rollup.book_totals(start, end)
        if not parts:
            return _done({"from_": start, "to": end, "items": []})
        rows = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    book_id, units_col, cents_col = rows.c
    units = func.sum(units_col).label("units_sold")
    revenue = func.sum(cents_col).label("revenue")
    top = (
        select(book_id.label("book_id"), units, revenue)
        .group_by(book_id)
        .order_by(units.desc(), revenue.desc(), book_id)
        .limit(limit)
        .subquery()
    )
    found = _done(
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
            "revenue": _money(r.revenue),
        }
        for r in found
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
        "inventory_value": _money(value),
        "out_of_stock_count": int(out_count),
        "out_of_stock": [item(r) for r in out],
        "low_stock_count": int(low_count),
        "low_stock": [item(r) for r in low],
    }
