"""The HTTP floor of order placement: a bare WSGI function that places an order with exactly the raw
ceiling's transaction (bench/bench_orders.py `place_conditional`) and nothing else: no framework, no
token verification (the customer comes from the token's unverified `sub`), no validation, no ORM, no
pool. Served by the same HTTP server and shape as the app, it shows what HTTP itself costs on this
machine: the share of the ceiling that any app behind that server could reach.

    gunicorn -w 4 --threads 2 bench.floor_app:app      (BENCH_DB=mysql://user@host:port/database)

POST /orders {"items": [{"book_id": n, ...}, ...]} -> 201 {"id": ..., "items": [...]} (one copy per
line, as the benchmark orders) or 409 when a book is short; GET /health -> 200. Titles and prices are
read once per process, as the ceiling knows them in advance.
"""

import base64
import json
import os
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pymysql

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_orders import Short, place_conditional  # noqa: E402  (the ceiling's own transaction)

_local = threading.local()
_shared: dict = {}
_lock = threading.Lock()


def _connect():
    url = urlsplit(os.environ["BENCH_DB"])
    return pymysql.connect(
        host=url.hostname,
        port=url.port or 3306,
        user=url.username or "root",
        password=os.environ.get("MYSQL_PWD", ""),
        database=url.path.lstrip("/"),
        autocommit=False,
        init_command="SET SESSION innodb_lock_wait_timeout=5, time_zone='+00:00'",
    )


def _connection():
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = _connect()
    return conn


def _tables() -> tuple[dict, dict]:
    """(book id -> (title, price), account id -> customer id), read once per process."""
    with _lock:
        if not _shared:
            conn = _connect()
            with conn.cursor() as cur:
                cur.execute("SELECT id, title, price FROM books")
                _shared["books"] = {row[0]: (row[1], row[2]) for row in cur.fetchall()}
                cur.execute("SELECT id, customer_id FROM accounts")
                _shared["customers"] = dict(cur.fetchall())
            conn.close()
    return _shared["books"], _shared["customers"]


def _account_of(environ) -> int:
    token = environ.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ")
    payload = token.split(".")[1]
    return int(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"])


def _answer(start_response, status: str, body: dict):
    data = json.dumps(body, separators=(",", ":")).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def app(environ, start_response):
    if environ["PATH_INFO"] == "/health":
        return _answer(start_response, "200 OK", {"status": "ok"})
    length = int(environ.get("CONTENT_LENGTH") or 0)
    items = json.loads(environ["wsgi.input"].read(length))["items"]
    books, customers = _tables()
    chosen = [item["book_id"] for item in items]
    conn = _connection()
    try:
        order_id = place_conditional(conn, customers[_account_of(environ)], chosen, 1, books)
    except Short:
        return _answer(start_response, "409 Conflict", {"status": 409})
    lines = [{"book_id": b, "title": books[b][0], "unit_price": str(books[b][1]), "quantity": 1} for b in chosen]
    return _answer(start_response, "201 Created", {"id": order_id, "status": "pending", "items": lines})
