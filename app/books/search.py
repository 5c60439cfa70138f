"""The catalogue's WHERE clause: search words, filters, the total's statement and the sort index."""

import re

import sqlalchemy as sa
from sqlalchemy import false, func, or_, select
from sqlalchemy.dialects.mysql import match

from app.books.models import FULLTEXT_COLUMNS, Book, BookCount

SORT_COLUMNS = {
    "title": Book.title,
    "author": Book.author,
    "price": Book.price,
    "created_at": Book.created_at,
    "popularity": Book.units_sold,
}
FILTER_NAMES = ("q", "author", "genre", "min_price", "max_price", "in_stock", "sold")
LIVE = Book.is_retired == false()
# LIVE for SQLite with a unary `+`, its documented way of keeping an index from serving a term.
_LIVE_UNINDEXED = sa.text(f"+{Book.__tablename__}.is_retired = 0")

_ISBN_WORD = re.compile(r"^[0-9][0-9-]{8,}[0-9Xx]$")
_FT_TOKEN = re.compile(r"\w+")

# SQLite: the FTS5 trigram index of migration 0012 (rowid = books.id), and the shortest word it finds.
SQLITE_SEARCH_INDEX = sa.table("books_search", sa.column("rowid"))
TRIGRAM = 3


def search_words(q: str) -> list[str]:
    """The words of `q`; a hyphenated ISBN becomes its digits (ISBNs are stored without hyphens)."""
    words = []
    for word in q.split():
        if "-" in word and _ISBN_WORD.match(word):
            word = word.replace("-", "").upper()
        words.append(word)
    return words


def _word_matches(word: str):
    """`word` appears (case-insensitively, literally) in one of the searchable columns."""
    return or_(*(getattr(Book, name).contains(word, autoescape=True) for name in FULLTEXT_COLUMNS))


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


def _sqlite_candidates(words: list[str]):
    """SQLite: the books whose searchable columns hold every word of three characters or more, from
    the trigram index; it folds case more widely than LIKE, so the LIKE of each word still decides."""
    indexed = [word for word in words if len(word) >= TRIGRAM]
    if not indexed:
        return None
    # Each word is one FTS5 string (a double quote doubled inside it), so no word is read as syntax.
    phrases = " ".join('"' + word.replace('"', '""') + '"' for word in indexed)
    matching = sa.literal_column(SQLITE_SEARCH_INDEX.name).op("MATCH")(phrases)
    return Book.id.in_(select(SQLITE_SEARCH_INDEX.c.rowid).where(matching))


def _search_conditions(conn, q: str) -> list:
    words = search_words(q)
    if not words:
        return []
    if conn.dialect.name != "mysql":
        conditions = [_word_matches(word) for word in words]
        candidates = _sqlite_candidates(words) if conn.dialect.name == "sqlite" else None
        return conditions if candidates is None else [candidates, *conditions]
    # MySQL/MariaDB: FULLTEXT in boolean mode, the query rebuilt from the word characters of each
    # word (what the index tokenizes), so no operator or quote from the user reaches it.
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


def filter_conditions(conn, args: dict) -> list:
    """The WHERE clause of a catalogue list: live books matching every filter in `args`."""
    conditions = [LIVE]
    if args.get("q"):
        conditions.extend(_search_conditions(conn, args["q"]))
    if args.get("author"):
        conditions.append(Book.author.contains(args["author"], autoescape=True))
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
    if args.get("sold") is True:
        conditions.append(Book.units_sold > 0)
    elif args.get("sold") is False:
        conditions.append(Book.units_sold == 0)
    return conditions


def _filtered_beyond(args: dict, allowed: tuple[str, ...]) -> bool:
    return any(args.get(name) not in (None, "") for name in FILTER_NAMES if name not in allowed)


def count_statement(args: dict, conditions: list, dialect: str):
    """The total: from the trigger-maintained per-genre counts when only `genre` (or nothing)
    filters the list, a read of a few rows at any catalogue size; else a COUNT of the filter
    (docs/decisions/0018-sqlite-reads-never-take-the-write-lock.md for SQLite's search)."""
    if not _filtered_beyond(args, ("genre",)):
        stmt = select(func.coalesce(func.sum(BookCount.books), 0))
        if args.get("genre"):
            stmt = stmt.where(BookCount.genre == args["genre"])  # case-insensitive column on both databases
        return stmt
    if dialect == "sqlite" and any(len(word) >= TRIGRAM for word in search_words(args.get("q") or "")):
        # The same filter with LIVE written so that no index serves it: SQLite then counts the trigram
        # index's candidates by rowid instead of walking an index of every book.
        conditions = [_LIVE_UNINDEXED if condition is LIVE else condition for condition in conditions]
    return select(func.count()).select_from(Book).where(*conditions)


def _no_hint(stmt):
    return stmt


def sort_index_hint(conn, args: dict, sort: str):
    """MySQL/MariaDB: name the sort index when it covers the whole filter, so the optimizer reads
    the range that starts at a cursor instead of the index from its start
    (docs/decisions/0003-force-the-sort-index.md). `in_stock` and `sold` are checked along the
    named index (`sold` is a range of it for `sort=popularity`: the bestsellers list). Filters the
    index does not cover are left to the optimizer."""
    if conn.dialect.name != "mysql" or _filtered_beyond(args, ("genre", "in_stock", "sold")):
        return _no_hint
    key = SORT_COLUMNS[sort.lstrip("-")].key
    name = f"ix_books_live_genre_{key}" if args.get("genre") else f"ix_books_live_{key}"
    return lambda stmt: stmt.with_hint(Book, f"FORCE INDEX ({name})", dialect_name="mysql")
