"""Catalogue use cases: browse and search, read one book, and the admin writes.

Reads that serve the public catalogue (`read_book`, `list_books`) run as Core statements on an
AUTOCOMMIT connection: on MySQL/MariaDB a detail request is exactly one SELECT, with no
transaction to end (no ROLLBACK on close, none on return to the pool). Writes go through the
session and commit once per use case.
"""

import base64
import binascii
import hashlib
import hmac
import importlib
import json
import re
import threading
import time
from datetime import datetime
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import delete, false, func, or_, select, update
from sqlalchemy.dialects.mysql import match
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from app.books.models import FULLTEXT_COLUMNS, MAX_STOCK, Book, BookCount
from app.errors import Conflict, NotFound, ServiceUnavailable, field_error
from app.extensions import db
from app.fields import utcnow
from app.pagination import envelope

OPTIONAL_FIELDS = ("genre", "description", "isbn", "published_year")
WRITABLE_FIELDS = ("title", "author", "price", "stock", *OPTIONAL_FIELDS)
SORT_COLUMNS = {
    "title": Book.title,
    "author": Book.author,
    "price": Book.price,
    "created_at": Book.created_at,
    "popularity": Book.units_sold,
}
FILTER_NAMES = ("q", "author", "genre", "min_price", "max_price", "in_stock")
MAX_DB_ID = 2**31 - 1

# The columns the API shows, plus units_sold (the popularity cursor needs it).
_COLUMNS = tuple(c for c in Book.__table__.c if c.key != "is_retired")
_LIVE = Book.is_retired == false()


# --- Reading outside the session ------------------------------------------------------------


def _autocommit_engine(engine: sa.Engine) -> sa.Engine:
    """A second pool on the same database for catalogue reads.

    MySQL/MariaDB: AUTOCOMMIT, so a read opens no transaction, and `skip_autocommit_rollback`
    with no reset on return, so nothing is sent when the connection goes back to the pool.
    No pre-ping either (one more round trip per request): a connection that went away is
    detected by the read itself, invalidated, and the read retried once (see `_read`).
    Other databases (SQLite in development) simply use the app's engine.
    """
    if engine.dialect.name != "mysql":
        return engine
    extensions = current_app.extensions
    reader = extensions.get("books.reader")
    if reader is None or reader.url != engine.url:
        options = dict(current_app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options.update(
            isolation_level="AUTOCOMMIT",
            skip_autocommit_rollback=True,
            pool_reset_on_return=None,
            pool_pre_ping=False,
        )
        reader = sa.create_engine(engine.url, **options)
        sa.event.listen(reader, "connect", _limit_statement_time)
        extensions["books.reader"] = reader
    return reader


READ_TIME_LIMIT = 5  # seconds; the slowest legitimate catalogue read at 1M books takes well under 1 s
MARIADB_STATEMENT_TIMEOUT = 1969


def _limit_statement_time(dbapi_connection, _record) -> None:
    """MariaDB: no catalogue read may run longer than READ_TIME_LIMIT (a search for a very common
    word over a huge catalogue is stopped, not left to hold a connection and the server)."""
    if "mariadb" in dbapi_connection.get_server_info().lower():
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET SESSION max_statement_time = {READ_TIME_LIMIT}")
        cursor.close()


def _too_slow(err: DBAPIError) -> bool:
    args = getattr(err.orig, "args", None)
    return bool(args) and args[0] == MARIADB_STATEMENT_TIMEOUT


def _read(work):
    """Run `work(connection)` for a read-only use case and return its result."""
    bind = db.engine
    if isinstance(bind, Connection):
        # The app is bound to one connection inside an outer transaction (the test suite):
        # read through it, so the read sees that transaction's rows.
        return work(bind)
    engine = _autocommit_engine(bind)
    for attempt in (1, 2):
        try:
            with engine.connect() as conn:
                return work(conn)
        except DBAPIError as err:
            if _too_slow(err):
                raise ServiceUnavailable(
                    f"The catalogue query took more than {READ_TIME_LIMIT} s and was stopped; "
                    "narrow it (more or rarer words, a genre, an author).",
                    retry_after=READ_TIME_LIMIT,
                ) from err
            if attempt == 2 or not err.connection_invalidated:
                raise
    raise AssertionError("unreachable")


# --- Small per-process cache for counts and page boundaries ---------------------------------


class _TTLCache:
    """Counts and page boundaries for a few seconds (BOOKS_LIST_CACHE_SECONDS; 0 disables).

    Writes made through this process clear it at once; writes made by other processes
    (or stock taken by orders) show in `total` within that many seconds.
    """

    MAX_ENTRIES = 4096

    def __init__(self):
        self._data: dict = {}
        self._lock = threading.Lock()

    def get(self, key):
        entry = self._data.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key, value, ttl: float) -> None:
        if ttl <= 0:
            return
        with self._lock:
            if len(self._data) >= self.MAX_ENTRIES:
                now = time.monotonic()
                self._data = {k: v for k, v in self._data.items() if v[0] >= now}
                if len(self._data) >= self.MAX_ENTRIES:
                    self._data.clear()
            self._data[key] = (time.monotonic() + ttl, value)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


_cache = _TTLCache()


def _cache_ttl() -> float:
    return float(current_app.config.get("BOOKS_LIST_CACHE_SECONDS", 10))


def catalogue_changed() -> None:
    """Forget cached counts and page boundaries (called after every catalogue write here)."""
    _cache.clear()


# --- One book ---------------------------------------------------------------------------------


def _not_found(book_id: int) -> NotFound:
    return NotFound(f"Book {book_id} not found.")


def get_book_or_404(book_id: int) -> Book:
    """The book (not retired) as an ORM object in the session, or NotFound."""
    if not 0 < book_id <= MAX_DB_ID:
        raise _not_found(book_id)
    book = db.session.execute(select(Book).where(Book.id == book_id, _LIVE)).scalar_one_or_none()
    if book is None:
        raise _not_found(book_id)
    return book


_BOOK_BY_ID = select(*_COLUMNS).where(Book.id == sa.bindparam("book_id"), _LIVE)
_compiled_book_by_id: dict = {}


def _fetch_one_raw(engine: sa.Engine, sql: str, params: dict):
    """One statement on a pooled DBAPI connection of the AUTOCOMMIT engine: the leanest read
    there is (no Connection/Result objects). A connection found dead is dropped and the read
    retried once; errors surface as SQLAlchemy's, so the one error handler maps them (503 ...)."""
    dbapi_error = engine.dialect.loaded_dbapi.Error
    for attempt in (1, 2):
        try:
            raw = engine.raw_connection()
        except dbapi_error as err:  # cannot connect (or a Galera node refuses the session): 503
            raise DBAPIError.instance(sql, params, err, dbapi_error, connection_invalidated=True) from err
        try:
            cursor = raw.cursor()
            try:
                cursor.execute(sql, params)
                return cursor.fetchone()
            finally:
                cursor.close()
        except dbapi_error as err:
            gone = engine.dialect.is_disconnect(err, raw.dbapi_connection, None)
            if gone:
                raw.invalidate(err)
            if attempt == 1 and gone:
                continue
            raise DBAPIError.instance(sql, params, err, dbapi_error, connection_invalidated=gone) from err
        finally:
            raw.close()
    raise AssertionError("unreachable")


def read_book(book_id: int):
    """The public read of one book: exactly one SELECT and no transaction (see the module doc).
    A row of `_COLUMNS` (id, title, author, genre, description, isbn, price, stock, ...)."""
    if not 0 < book_id <= MAX_DB_ID:
        raise _not_found(book_id)
    bind = db.engine
    if isinstance(bind, Connection) or bind.dialect.name != "mysql":
        row = _read(lambda conn: conn.execute(_BOOK_BY_ID, {"book_id": book_id}).first())
    else:
        engine = _autocommit_engine(bind)
        sql = _compiled_book_by_id.get(engine.dialect.name)
        if sql is None:
            sql = _compiled_book_by_id[engine.dialect.name] = str(_BOOK_BY_ID.compile(dialect=engine.dialect))
        row = _fetch_one_raw(engine, sql, {"book_id": book_id})
    if row is None:
        raise _not_found(book_id)
    return row


# --- The catalogue list -----------------------------------------------------------------------


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(column, word: str):
    return column.like(f"%{_escape_like(word)}%", escape="\\")


_ISBN_WORD = re.compile(r"^[0-9][0-9-]{8,}[0-9Xx]$")
_FT_TOKEN = re.compile(r"\w+")


def _search_words(q: str) -> list[str]:
    """The words of `q`; a hyphenated ISBN becomes its digits (ISBNs are stored without hyphens)."""
    words = []
    for word in q.split():
        if "-" in word and _ISBN_WORD.match(word):
            word = word.replace("-", "").upper()
        words.append(word)
    return words


def _word_matches(word: str):
    """`word` appears (case-insensitively, literally) in one of the searchable columns."""
    return or_(*(_contains(getattr(Book, name), word) for name in FULLTEXT_COLUMNS))


_ft_settings: dict = {}


def _fulltext_settings(conn) -> tuple[int, int, frozenset]:
    """The server's token sizes and stopwords (read once per process, in one statement)."""
    if "min" not in _ft_settings:
        rows = conn.execute(
            sa.text(
                "SELECT @@innodb_ft_min_token_size, @@innodb_ft_max_token_size, @@innodb_ft_enable_stopword, s.value "
                "FROM (SELECT 1) AS one LEFT JOIN information_schema.INNODB_FT_DEFAULT_STOPWORD AS s ON 1 = 1"
            )
        ).all()
        _ft_settings["stop"] = frozenset(r[3].lower() for r in rows if r[2] and r[3] is not None)
        _ft_settings["max"] = int(rows[0][1])
        _ft_settings["min"] = int(rows[0][0])
    return _ft_settings["min"], _ft_settings["max"], _ft_settings["stop"]


def _search_conditions(conn, q: str) -> list:
    words = _search_words(q)
    if not words:
        return []
    if conn.dialect.name != "mysql":
        return [_word_matches(word) for word in words]
    # MySQL/MariaDB: FULLTEXT in boolean mode. The query is rebuilt from the word characters of
    # each word (what the index tokenizes), so no operator or quote from the user reaches it.
    min_token, max_token, stopwords = _fulltext_settings(conn)
    terms, exact = [], []
    for word in words:
        tokens = _FT_TOKEN.findall(word)
        indexable = [t for t in tokens if min_token <= len(t) <= max_token and t.lower() not in stopwords]
        terms.extend(indexable)
        if len(tokens) != 1 or tokens != indexable or tokens[0] != word:
            exact.append(word)  # short, long, a stopword, or with punctuation: checked literally too
    conditions = []
    if terms:
        against = " ".join(f"+{t}*" for t in dict.fromkeys(terms))
        conditions.append(match(*(getattr(Book, n) for n in FULLTEXT_COLUMNS), against=against).in_boolean_mode())
    conditions.extend(_word_matches(word) for word in exact)
    return conditions


def _filter_conditions(conn, args: dict) -> list:
    conditions = [_LIVE]
    if args.get("q"):
        conditions.extend(_search_conditions(conn, args["q"]))
    if args.get("author"):
        conditions.append(_contains(Book.author, args["author"]))
    if args.get("genre"):
        if conn.dialect.name == "mysql":  # the column's collation is case-insensitive: the index is used
            conditions.append(Book.genre == args["genre"])
        else:
            conditions.append(func.lower(Book.genre) == args["genre"].lower())
    if args.get("min_price") is not None:
        conditions.append(Book.price >= args["min_price"])
    if args.get("max_price") is not None:
        conditions.append(Book.price <= args["max_price"])
    if args.get("in_stock") is True:
        conditions.append(Book.stock > 0)
    elif args.get("in_stock") is False:
        conditions.append(Book.stock == 0)
    return conditions


def _count_statement(args: dict, conditions: list):
    """The total: from the trigger-maintained per-genre counts when only `genre` (or nothing)
    filters the list, a read of a few rows at any catalogue size; else a COUNT of the filter."""
    if not any(args.get(name) not in (None, "") for name in FILTER_NAMES if name != "genre"):
        stmt = select(func.coalesce(func.sum(BookCount.books), 0))
        if args.get("genre"):
            stmt = stmt.where(BookCount.genre == args["genre"])  # case-insensitive column on both databases
        return stmt
    return select(func.count()).select_from(Book).where(*conditions)


def _no_hint(stmt):
    return stmt


def _sort_index_hint(conn, args: dict, sort: str):
    """MySQL/MariaDB: name the sort index when it covers the whole filter.

    Measured at 1M books: for `is_retired = 0 AND title >= :t AND (title > :t OR id > :i)
    ORDER BY title, id LIMIT 21` MariaDB 10.11 picks `ref` access on `is_retired` with index
    condition pushdown, i.e. it walks the index from its start (700,022 entries, 60 ms for a
    cursor 70 % deep) instead of the range that starts at the cursor (22 entries, 0.4 ms).
    FORCE INDEX makes it take the range. Filters the sort index does not cover (q, author,
    prices) are left to the optimizer."""
    if conn.dialect.name != "mysql":
        return _no_hint
    if any(args.get(name) not in (None, "") for name in FILTER_NAMES if name not in ("genre", "in_stock")):
        return _no_hint
    key = SORT_COLUMNS[sort.lstrip("-")].key
    name = f"ix_books_live_genre_{key}" if args.get("genre") else f"ix_books_live_{key}"
    return lambda stmt: stmt.with_hint(Book, f"FORCE INDEX ({name})", dialect_name="mysql")


def _filter_signature(args: dict) -> str:
    parts = {k: str(args[k]) for k in FILTER_NAMES if args.get(k) not in (None, "")}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


# Cursors: base64url(JSON [sort, key value, id, position, filter signature]) + an HMAC, so a
# cursor cannot be forged or reused with other filters, and every value in it is ours.


def _cursor_key() -> bytes:
    return hashlib.sha256(b"books-cursor:" + current_app.config["SECRET_KEY"].encode()).digest()


def _encode_value(key: str, value):
    if key == "price":
        return str(value)
    if key == "created_at":
        return value.isoformat()
    return value


def _decode_value(key: str, value):
    if key == "price":
        if not isinstance(value, str):
            raise ValueError
        return Decimal(value)
    if key == "created_at":
        if not isinstance(value, str):
            raise ValueError
        return datetime.fromisoformat(value)
    if key == "popularity":
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError
        return value
    if not isinstance(value, str):
        raise ValueError
    return value


def encode_cursor(sort: str, value, book_id: int, position: int, signature: str) -> str:
    key = sort.lstrip("-")
    payload = json.dumps([sort, _encode_value(key, value), book_id, position, signature], separators=(",", ":"))
    raw = payload.encode()
    mac = hmac.new(_cursor_key(), raw, hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(mac + raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str, sort: str, signature: str):
    """(key value, id, position) from a cursor made for this sort and these filters; else 400."""
    bad = field_error("cursor", "Not a valid cursor for this query (use next_cursor of the previous page).")
    try:
        blob = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raise bad from None
    mac, raw = blob[:12], blob[12:]
    if len(mac) != 12 or not hmac.compare_digest(mac, hmac.new(_cursor_key(), raw, hashlib.sha256).digest()[:12]):
        raise bad
    try:
        cursor_sort, value, book_id, position, cursor_signature = json.loads(raw)
        value = _decode_value(sort.lstrip("-"), value)
    except (ValueError, TypeError, InvalidOperation):
        raise bad from None
    if cursor_sort != sort or cursor_signature != signature:
        raise field_error("cursor", "This cursor belongs to another sort or other filters.")
    if not (isinstance(book_id, int) and isinstance(position, int) and position >= 0):
        raise bad
    return value, book_id, position


def _after(column, value, book_id: int, descending: bool):
    """Keyset condition: rows strictly after (value, id) in the sort order.

    Written as `col > v OR (col = v AND id > i)`: with the sort index named (see
    `_sort_index_hint`) MariaDB turns it into two adjacent ranges of that index and reads
    exactly the page. (`col >= v AND (col > v OR id > i)` reads every row sharing the value v
    first: 1,440 rows for a price shared by many books; a row constructor `(col, id) > (v, i)`
    reads the whole index.)"""
    if descending:
        return or_(column < value, sa.and_(column == value, Book.id < book_id))
    return or_(column > value, sa.and_(column == value, Book.id > book_id))


def list_books(args: dict):
    sort = args["sort"]
    descending = sort.startswith("-")
    column = SORT_COLUMNS[sort.lstrip("-")]
    order = (column.desc(), Book.id.desc()) if descending else (column.asc(), Book.id.asc())
    per_page = args["per_page"]
    signature = _filter_signature(args)
    ttl = _cache_ttl()

    start = None  # (value, id) the page starts after, when known
    if args.get("cursor"):
        value, after_id, position = decode_cursor(args["cursor"], sort, signature)
        start = (value, after_id)
    else:
        position = (args.get("page", 1) - 1) * per_page
        if position:
            start = _cache.get(("boundary", signature, sort, position))

    def work(conn):
        conditions = _filter_conditions(conn, args)
        total = _cache.get(("count", signature))
        if total is None:
            total = int(conn.execute(_count_statement(args, conditions)).scalar_one())  # SUM is a DECIMAL
            _cache.put(("count", signature), total, ttl)
        hint = _sort_index_hint(conn, args, sort)
        if start is not None:
            stmt = select(*_COLUMNS).where(*conditions, _after(column, *start, descending))
            stmt = hint(stmt.order_by(*order).limit(per_page + 1))
        elif position:
            # A jump to a page: walk the (covering) sort index for the ids only (deferred join), and
            # take the row before the page too, so the next request for this page is a keyset read.
            ids = select(Book.id).where(*conditions).order_by(*order).limit(per_page + 2).offset(position - 1)
            ids = hint(ids).subquery()
            stmt = select(*_COLUMNS).join(ids, Book.id == ids.c.id).order_by(*order)
        else:
            stmt = hint(select(*_COLUMNS).where(*conditions).order_by(*order).limit(per_page + 1))
        rows = conn.execute(stmt).all()
        if start is None and position and rows:
            before, rows = rows[0], rows[1:]
            _cache.put(("boundary", signature, sort, position), (getattr(before, column.key), before.id), ttl)
        return total, rows

    total, rows = _read(work)
    has_more = len(rows) > per_page
    rows = rows[:per_page]
    next_cursor = None
    if has_more:
        last = rows[-1]
        end = position + len(rows)
        key_value = getattr(last, column.key)
        next_cursor = encode_cursor(sort, key_value, last.id, end, signature)
        _cache.put(("boundary", signature, sort, end), (key_value, last.id), ttl)
    page = position // per_page + 1
    return envelope(rows, page, per_page, total, next_cursor=next_cursor)


# --- Admin writes -----------------------------------------------------------------------------


def _check_isbn_free(isbn: str | None, exclude_id: int | None = None) -> None:
    if not isbn:
        return
    stmt = select(Book.id, Book.is_retired).where(Book.isbn == isbn)
    if exclude_id is not None:
        stmt = stmt.where(Book.id != exclude_id)
    found = db.session.execute(stmt.limit(1)).first()
    if found is not None:
        detail = "belongs to a retired book" if found.is_retired else f"is already used by book {found.id}"
        raise Conflict(f"ISBN {isbn} {detail}.", errors={"isbn": ["Already in the catalogue."]})


def create_book(data: dict) -> Book:
    _check_isbn_free(data.get("isbn"))
    book = Book(**{k: data[k] for k in WRITABLE_FIELDS if k in data})
    if book.stock is None:
        book.stock = 0
    db.session.add(book)
    db.session.commit()
    catalogue_changed()
    return book


def update_book(book_id: int, data: dict, *, replace: bool) -> Book:
    """PUT (`replace`): optional fields left out are cleared, stock is kept unless given. PATCH: only what is given."""
    book = get_book_or_404(book_id)
    if replace:
        data = {**dict.fromkeys(OPTIONAL_FIELDS), **data}
    if data.get("isbn") and data["isbn"] != book.isbn:
        _check_isbn_free(data["isbn"], exclude_id=book.id)
    for field in WRITABLE_FIELDS:
        if field in data:
            setattr(book, field, data[field])
    db.session.commit()
    catalogue_changed()
    return book


def set_stock(book_id: int, stock: int) -> Book:
    book = get_book_or_404(book_id)
    book.stock = stock
    db.session.commit()
    catalogue_changed()
    return book


def restock(book_id: int, quantity: int) -> Book:
    """Add copies with one conditional UPDATE (no read-then-write race with buyers)."""
    if not 0 < book_id <= MAX_DB_ID:
        raise _not_found(book_id)
    result = db.session.execute(
        update(Book)
        .where(Book.id == book_id, _LIVE, Book.stock <= MAX_STOCK - quantity)
        .values(stock=Book.stock + quantity, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        get_book_or_404(book_id)  # 404 when it is not there (or retired)
        db.session.rollback()
        raise field_error("quantity", f"The stock would exceed {MAX_STOCK}.")
    book = db.session.execute(
        select(Book).where(Book.id == book_id).execution_options(populate_existing=True)
    ).scalar_one()
    db.session.commit()
    catalogue_changed()
    return book


def _reference_table(module: str, name: str, table_name: str):
    """The cart/order line table (book_id column), from its model when that module exists,
    else from the database when the table exists there, else None."""
    try:
        return getattr(importlib.import_module(module), name).__table__
    except (ImportError, AttributeError):
        if sa.inspect(db.session.connection()).has_table(table_name):
            return sa.table(table_name, sa.column("book_id"))
        return None


def _is_referenced(table, book_id: int) -> bool:
    if table is None:
        return False
    return db.session.execute(select(table.c.book_id).where(table.c.book_id == book_id).limit(1)).first() is not None


def delete_book(book_id: int) -> str:
    """Delete a book; one that was ever ordered or sits in a cart is retired instead:
    hidden from the catalogue, taken out of every cart, kept for order history and reports.
    Returns "deleted" or "retired"."""
    if not 0 < book_id <= MAX_DB_ID:
        raise _not_found(book_id)
    # Lock the row first: an order placed concurrently takes the same row lock for its stock.
    book = db.session.execute(select(Book).where(Book.id == book_id, _LIVE).with_for_update()).scalar_one_or_none()
    if book is None:
        db.session.rollback()
        raise _not_found(book_id)
    order_items = _reference_table("app.orders.models", "OrderItem", "order_items")
    cart_items = _reference_table("app.cart.models", "CartItem", "cart_items")
    if _is_referenced(order_items, book_id) or _is_referenced(cart_items, book_id):
        book.is_retired = True
        if cart_items is not None:
            db.session.execute(delete(cart_items).where(cart_items.c.book_id == book_id))
        outcome = "retired"
    else:
        db.session.delete(book)
        outcome = "deleted"
    db.session.commit()
    catalogue_changed()
    return outcome
