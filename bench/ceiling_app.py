"""The ceiling: a minimal raw WSGI app that answers the benchmark's catalogue requests with the
same SELECT and the same JSON as the real app, and nothing else (no framework, no validation,
no ORM, no pool). One persistent PyMySQL autocommit connection per worker process.

Served by gunicorn with the same flags as the app:  gunicorn bench.ceiling_app:app
Environment: BENCH_DB (host, port, user, database as a mysql:// URL).

Routes mirror the app's for the benchmark's requests only:
  /books/<id>                         one book
  /books?scenario=<name>&...          a list page; the harness sends the same parameters it
                                      sends the app plus `scenario`, which picks the SQL below.
  /genres                             the genres with live books and the live total
List totals are counted once per process and kept (the app keeps them for a few seconds).
"""

import base64
import json
import os
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import parse_qs, urlsplit

import pymysql

COLUMNS = (
    "id, title, author, genre, description, isbn, price, stock, published_year, units_sold, created_at, updated_at,"
    " rating_count, rating_sum"
)
FULLTEXT = "MATCH (title, author, description, isbn) AGAINST (%s IN BOOLEAN MODE)"

# scenario -> (index hint, WHERE after is_retired = 0, ORDER BY, count WHERE): the app's SELECTs.
KEYSET = " AND (title > %(title)s OR (title = %(title)s AND id > %(id)s))"
LISTS = {
    "first": (" FORCE INDEX (ix_books_live_title)", "", "title, id", ""),
    "filter_sort": (
        " FORCE INDEX (ix_books_live_genre_price)",
        " AND genre = %(genre)s",
        "price DESC, id DESC",
        " AND genre = %(genre)s",
    ),
    "search": (
        "",
        " AND " + FULLTEXT.replace("%s", "%(against)s"),
        "title, id",
        " AND " + FULLTEXT.replace("%s", "%(against)s"),
    ),
    "cursor_deep": (" FORCE INDEX (ix_books_live_title)", KEYSET, "title, id", ""),
    "page50": (" FORCE INDEX (ix_books_live_title)", KEYSET, "title, id", ""),
    "new_arrivals": (" FORCE INDEX (ix_books_live_created_at)", "", "created_at DESC, id DESC", ""),
    "bestsellers": (
        " FORCE INDEX (ix_books_live_units_sold)",
        " AND units_sold > 0",
        "units_sold DESC, id DESC",
        " AND units_sold > 0",
    ),
}

_conn = None
_totals: dict = {}


def connection():
    global _conn
    if _conn is None:
        url = urlsplit(os.environ["BENCH_DB"])
        _conn = pymysql.connect(
            host=url.hostname, port=url.port or 3306, user=url.username or "root", password=url.password or "",
            database=url.path.lstrip("/"), charset="utf8mb4", autocommit=True,
        )  # fmt: skip
    return _conn


def _iso(value) -> str:
    return value.replace(microsecond=0).isoformat() + "Z"


def book_json(row) -> dict:
    book_id, title, author, genre, description, isbn, price, stock, year, _sold, created, updated, reviews, stars = row
    average = None
    if reviews:
        average = str((Decimal(stars) / reviews).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    return {
        "id": book_id, "title": title, "author": author, "genre": genre, "description": description, "isbn": isbn,
        "price": str(Decimal(price).quantize(Decimal("0.01"))), "stock": stock, "in_stock": stock > 0,
        "published_year": year, "rating_average": average, "rating_count": reviews,
        "created_at": _iso(created), "updated_at": _iso(updated),
    }  # fmt: skip


def _respond(start_response, status: str, body: dict):
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    with connection().cursor() as cur:
        if path == "/genres":
            cur.execute("SELECT genre, books FROM book_counts WHERE books > 0 ORDER BY genre")
            rows = cur.fetchall()
            items = [{"genre": genre, "books": books} for genre, books in rows if genre != ""]
            return _respond(start_response, "200 OK", {"items": items, "total_books": sum(r[1] for r in rows)})
        if path.startswith("/books/"):
            cur.execute(f"SELECT {COLUMNS} FROM books WHERE id = %s AND is_retired = 0", (int(path[7:]),))
            row = cur.fetchone()
            if row is None:
                return _respond(start_response, "404 Not Found", {"status": 404, "detail": "not found"})
            return _respond(start_response, "200 OK", book_json(row))
        args = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        hint, where, order, count_where = LISTS[args["scenario"]]
        per_page = int(args.get("per_page", 20))
        params = {k: args[k] for k in ("genre", "against", "title", "id") if k in args}
        if "id" in params:
            params["id"] = int(params["id"])
        key = (args["scenario"], params.get("genre"), params.get("against"))
        if key not in _totals:
            cur.execute(f"SELECT COUNT(*) FROM books WHERE is_retired = 0{count_where}", params)
            _totals[key] = cur.fetchone()[0]
        cur.execute(
            f"SELECT {COLUMNS} FROM books{hint} WHERE is_retired = 0{where} ORDER BY {order} LIMIT {per_page + 1}",
            params,
        )
        rows = cur.fetchall()
    total = _totals[key]
    more = len(rows) > per_page
    rows = rows[:per_page]
    cursor = None
    if more:
        cursor = base64.urlsafe_b64encode(json.dumps([rows[-1][1], rows[-1][0]]).encode()).decode()
    body = {
        "items": [book_json(r) for r in rows], "page": int(args.get("page", 1)), "per_page": per_page,
        "total": total, "pages": -(-total // per_page), "next_cursor": cursor,
    }  # fmt: skip
    return _respond(start_response, "200 OK", body)
