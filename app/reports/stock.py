"""A book's stock history for the admin: per day, the copies an admin added or took away (the
stock movements app/books/writes.py records) and the copies sold (the counted order lines, as the
sales report counts them: cancelled orders never count, an order counts on the UTC date it was
placed)."""

from datetime import date, datetime, time, timedelta

from sqlalchemy import case, func, select

from app.books.models import Book, StockMovement
from app.books.reads import MAX_DB_ID, not_found
from app.extensions import db
from app.orders.models import Order, OrderItem
from app.reports.periods import DAY, as_date, buckets, period_start
from app.reports.rollup import placed_between

MAX_MOVEMENTS = 100  # the newest movements listed one by one


def stock_history(book_id: int, start: date, end: date) -> dict:
    """{book, range, totals, days (every day, zeros included), movements (newest first)}."""
    book = db.session.get(Book, book_id) if 0 < book_id <= MAX_DB_ID else None
    if book is None:
        raise not_found(book_id)
    since, until = datetime.combine(start, time.min), datetime.combine(end + timedelta(days=1), time.min)
    in_range = (StockMovement.book_id == book_id, StockMovement.at >= since, StockMovement.at < until)
    moved_on = period_start(StockMovement.at, DAY)
    moved = db.session.execute(
        select(
            moved_on,
            func.sum(case((StockMovement.change > 0, StockMovement.change), else_=0)),
            func.sum(case((StockMovement.change < 0, -StockMovement.change), else_=0)),
        )
        .where(*in_range)
        .group_by(moved_on)
    ).all()
    sold_on = period_start(Order.created_at, DAY)
    sold = db.session.execute(
        select(sold_on, func.sum(OrderItem.quantity))
        .select_from(OrderItem)
        .join(Order, Order.id == OrderItem.order_id)
        .where(OrderItem.book_id == book_id, *placed_between(start, end))
        .group_by(sold_on)
    ).all()
    movements = db.session.execute(
        select(
            StockMovement.at,
            StockMovement.change,
            StockMovement.stock_after,
            StockMovement.reason,
            StockMovement.account_id,
        )
        .where(*in_range)
        .order_by(StockMovement.at.desc(), StockMovement.id.desc())
        .limit(MAX_MOVEMENTS)
    ).all()
    days = {day: {"day": day, "added": 0, "removed": 0, "sold": 0} for day in buckets(start, end, DAY)}
    for day, added, removed in moved:
        days[as_date(day)].update(added=int(added or 0), removed=int(removed or 0))
    for day, units in sold:
        days[as_date(day)]["sold"] = int(units or 0)
    series = list(days.values())
    totals = {key: sum(d[key] for d in series) for key in ("added", "removed", "sold")}
    answer = {
        "book_id": book.id,
        "title": book.title,
        "stock": book.stock,
        "is_retired": book.is_retired,
        "from_": start,
        "to": end,
        "totals": totals,
        "days": series,
        "movements": [row._asdict() for row in movements],
    }
    db.session.commit()  # ends the read transaction (the pool does not reset connections)
    return answer
