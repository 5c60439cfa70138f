"""The public catalogue reads: one book, and the list with search, filters, sort and paging.

They run on the catalogue reader (app/prepared.py): on MySQL/MariaDB a detail request is exactly
one SELECT with no transaction to end. Counts and page boundaries are kept for a few seconds
(BOOKS_LIST_CACHE_SECONDS) by each server process."""

import threading

import sqlalchemy as sa
from cachetools import TLRUCache
from flask import current_app
from sqlalchemy import select

from app.books.cursors import after, decode_cursor, encode_cursor, filter_signature
from app.books.models import Book
from app.books.search import LIVE, SORT_COLUMNS, count_statement, filter_conditions, sort_index_hint
from app.errors import NotFound
from app.pagination import envelope
from app.prepared import Prepared, reader

MAX_DB_ID = 2**31 - 1

# The columns the API shows, plus units_sold (the popularity cursor needs it); BOOK_ROW_FIELDS order.
COLUMNS = tuple(c for c in Book.__table__.c if c.key != "is_retired")

_BOOK_BY_ID = Prepared(select(*COLUMNS).where(Book.id == sa.bindparam("book_id"), LIVE))


class ListCache:
    """Counts and page boundaries, each kept for the TTL it was stored with; writes made through
    this process clear it, writes of other processes show within the TTL."""

    def __init__(self, maxsize: int = 4096):
        self._entries = TLRUCache(maxsize, ttu=lambda _key, value, now: now + value[0])
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            entry = self._entries.get(key)
        return None if entry is None else entry[1]

    def put(self, key, value, ttl: float) -> None:
        if ttl > 0:
            with self._lock:
                self._entries[key] = (ttl, value)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


list_cache = ListCache()


def catalogue_changed() -> None:
    """Forget cached counts and page boundaries (after every catalogue write of this process)."""
    list_cache.clear()


def not_found(book_id: int) -> NotFound:
    return NotFound(f"Book {book_id} not found.")


def read_book(book_id: int):
    """A live book's row in COLUMNS order (id, title, author, genre, ...), or 404."""
    if not 0 < book_id <= MAX_DB_ID:
        raise not_found(book_id)
    row = reader().fetch_one(_BOOK_BY_ID, {"book_id": book_id})
    if row is None:
        raise not_found(book_id)
    return row


def list_books(args: dict):
    sort = args["sort"]
    descending = sort.startswith("-")
    column = SORT_COLUMNS[sort.lstrip("-")]
    order = (column.desc(), Book.id.desc()) if descending else (column.asc(), Book.id.asc())
    per_page = args["per_page"]
    signature = filter_signature(args)
    ttl = float(current_app.config["BOOKS_LIST_CACHE_SECONDS"])

    start = None  # (value, id) the page starts after, when known
    if args.get("cursor"):
        value, after_id, position = decode_cursor(args["cursor"], sort, signature)
        start = (value, after_id)
    else:
        position = (args.get("page", 1) - 1) * per_page
        if position:
            start = list_cache.get(("boundary", signature, sort, position))

    def work(conn):
        conditions = filter_conditions(conn, args)
        total = list_cache.get(("count", signature))
        if total is None:
            total = int(
                conn.execute(count_statement(args, conditions, conn.dialect.name)).scalar_one()
            )  # SUM is a DECIMAL
            list_cache.put(("count", signature), total, ttl)
        hint = sort_index_hint(conn, args, sort)
        if start is not None:
            stmt = select(*COLUMNS).where(*conditions, after(column, *start, descending))
            stmt = hint(stmt.order_by(*order).limit(per_page + 1))
        elif position:
            # A jump to a page walks the (covering) sort index for the ids only (deferred join), and
            # takes the row before the page too, so the next request for this page is a keyset read.
            ids = select(Book.id).where(*conditions).order_by(*order).limit(per_page + 2).offset(position - 1)
            ids = hint(ids).subquery()
            stmt = select(*COLUMNS).join(ids, Book.id == ids.c.id).order_by(*order)
        else:
            stmt = hint(select(*COLUMNS).where(*conditions).order_by(*order).limit(per_page + 1))
        rows = conn.execute(stmt).all()
        if start is None and position and rows:
            before, rows = rows[0], rows[1:]
            list_cache.put(("boundary", signature, sort, position), (getattr(before, column.key), before.id), ttl)
        return total, rows

    total, rows = reader().run(work)
    has_more = len(rows) > per_page
    rows = rows[:per_page]
    next_cursor = None
    if has_more:
        last = rows[-1]
        end = position + len(rows)
        key_value = getattr(last, column.key)
        next_cursor = encode_cursor(sort, key_value, last.id, end, signature)
        list_cache.put(("boundary", signature, sort, end), (key_value, last.id), ttl)
    page = position // per_page + 1
    return envelope(rows, page, per_page, total, next_cursor=next_cursor)
