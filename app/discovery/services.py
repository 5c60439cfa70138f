"""Browsing aids: the genre list with counts, and "customers also bought".

The public reads run on the catalogue reader (app/prepared.py), like the catalogue's own. The
related books are precomputed into `book_related` by `refresh` (`flask related`, also run by
`flask rollup` and `flask seed`), never by order placement
(docs/decisions/0017-related-books-table.md).
"""

import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, bindparam, case, delete, func, insert, select, union
from sqlalchemy.orm import aliased

from app.books.models import Book, BookCount
from app.books.reads import COLUMNS, MAX_DB_ID, not_found
from app.books.search import LIVE
from app.clock import utcnow
from app.discovery.models import KEEP, BookRelated, RelatedRefresh
from app.extensions import db
from app.orders.models import CANCELLED, STATUSES, Order, OrderItem
from app.prepared import reader
from app.transactions import one_at_a_time, run_transaction

COUNTED = tuple(s for s in STATUSES if s != CANCELLED)
# An order takes its timestamps when its transaction starts: one that commits after a refresh read
# the orders is still found by the next refresh if it committed within GRACE of starting.
GRACE = timedelta(minutes=10)
BATCH = 500  # books rewritten per transaction
LOCK_SECONDS = 10
STATE_ID = 1


# --- genres --------------------------------------------------------------------------------------

_GENRES = select(BookCount.genre, BookCount.books).where(BookCount.books > 0).order_by(BookCount.genre)


def genres() -> dict:
    """Genres with live books, by name in the column's case-insensitive order, and the live total."""
    rows = reader().run(lambda conn: conn.execute(_GENRES).all())
    return {
        "items": [{"genre": genre, "books": books} for genre, books in rows if genre != ""],
        "total_books": sum(books for _, books in rows),
    }


# --- customers also bought: the read -------------------------------------------------------------

_LIVE_BOOK = select(Book.id).where(Book.id == bindparam("book_id"), LIVE)
_RELATED = (
    select(*COLUMNS)
    .select_from(BookRelated)
    .join(Book, Book.id == BookRelated.related_id)
    .where(BookRelated.book_id == bindparam("book_id"), LIVE)
    .order_by(case((Book.stock > 0, 0), else_=1), BookRelated.orders.desc(), BookRelated.related_id)
)


def related_books(book_id: int, limit: int) -> list:
    """Rows (in COLUMNS order) of the live books most often ordered with this live book: in stock
    first, then by shared orders, then by id; 404 for an unknown or retired book."""
    if not 0 < book_id <= MAX_DB_ID:
        raise not_found(book_id)

    def work(conn):
        if conn.execute(_LIVE_BOOK, {"book_id": book_id}).first() is None:
            return None
        return conn.execute(_RELATED.limit(limit), {"book_id": book_id}).all()

    rows = reader().run(work)
    if rows is None:
        raise not_found(book_id)
    return rows


# --- customers also bought: the refresh ----------------------------------------------------------


def ranked_related(book_ids: list[int]):
    """SELECT (book_id, related_id, orders) of the KEEP books most often in the same counted order
    as each of `book_ids` (ties: the smaller related id first), computed by the database."""
    mine, other = aliased(OrderItem), aliased(OrderItem)
    together = func.count()
    rank = func.row_number().over(partition_by=mine.book_id, order_by=(together.desc(), other.book_id))
    grouped = (
        select(mine.book_id, other.book_id.label("related_id"), together.label("orders"), rank.label("rank"))
        .select_from(mine)
        .join(Order, Order.id == mine.order_id)
        .join(other, and_(other.order_id == mine.order_id, other.book_id != mine.book_id))
        .where(mine.book_id.in_(book_ids), Order.status.in_(COUNTED))
        .group_by(mine.book_id, other.book_id)
        .subquery()
    )
    return select(grouped.c.book_id, grouped.c.related_id, grouped.c.orders).where(grouped.c.rank <= KEEP)


@dataclass
class Refreshed:
    books: int  # books whose rows were rewritten
    full: bool
    seconds: float


def _all_books() -> set[int]:
    """Every book in an order line, and every book that has rows now (they may have to go)."""
    stmt = union(select(OrderItem.book_id).distinct(), select(BookRelated.book_id).distinct())
    return set(db.session.execute(stmt).scalars())


def _changed_books(state: RelatedRefresh) -> set[int]:
    """Books in an order placed or cancelled since the last refresh (GRACE earlier, see above), or
    written after it with an earlier date (a backfill: its id is larger than any seen then)."""
    since = state.started_at - GRACE
    items = select(OrderItem.book_id).distinct().join(Order, Order.id == OrderItem.order_id)
    statements = (
        select(OrderItem.book_id).distinct().where(OrderItem.order_id > state.last_order_id),
        items.where(Order.created_at >= since),
        items.where(Order.status == CANCELLED, Order.updated_at >= since),
    )
    return {book_id for stmt in statements for book_id in db.session.execute(stmt).scalars()}


def _rewrite(book_ids: list[int]) -> None:
    """Replace these books' rows with what the order tables say now (one transaction); the rows are
    read first (a plain, non-locking read) so the order tables are never locked by the refresh."""
    rows = db.session.execute(ranked_related(book_ids)).all()
    db.session.execute(delete(BookRelated).where(BookRelated.book_id.in_(book_ids)))
    if rows:
        db.session.execute(insert(BookRelated), [{"book_id": b, "related_id": r, "orders": n} for b, r, n in rows])
    db.session.commit()


def refresh(full: bool = False) -> Refreshed | None:
    """Rewrite the related books of every book whose orders changed since the last refresh (all
    books with `full`, or when none ran yet); None when another refresh is running."""
    clock = time.perf_counter()
    with one_at_a_time("book_related", LOCK_SECONDS) as mine:
        if not mine:
            return None
        try:
            started = utcnow()
            state = db.session.get(RelatedRefresh, STATE_ID)
            last_order_id = db.session.execute(select(func.coalesce(func.max(Order.id), 0))).scalar_one()
            full = full or state is None
            books = sorted(_all_books() if full else _changed_books(state))
            db.session.commit()
            for i in range(0, len(books), BATCH):
                run_transaction(_rewrite, books[i : i + BATCH])
            run_transaction(_record, started, last_order_id)
        finally:
            db.session.rollback()  # nothing is left open on the session's connection
    return Refreshed(books=len(books), full=full, seconds=time.perf_counter() - clock)


def _record(started, last_order_id: int) -> None:
    state = db.session.get(RelatedRefresh, STATE_ID)
    if state is None:
        state = RelatedRefresh(id=STATE_ID)
        db.session.add(state)
    state.started_at, state.last_order_id, state.finished_at = started, last_order_id, utcnow()
    db.session.commit()
