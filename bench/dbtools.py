"""Shared by the benchmark scripts: a fresh, empty utf8mb4 database of their own on MariaDB, the server's
process, and the catalogue and order history the report benchmarks build."""

import re
from pathlib import Path

import pymysql
import sqlalchemy as sa


def recreate_database(url: str, name: str) -> None:
    """Drop and create `name` on the server `url` points at (the benchmarks' own databases only)."""
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise SystemExit(f"unsafe database name {name!r}")
    server = sa.make_url(url)
    conn = pymysql.connect(
        host=server.host,
        port=server.port or 3306,
        user=server.username,
        password=server.password or "",
        autocommit=True,
    )
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    conn.close()


def find_mariadbd(conn) -> int | None:
    """The server we are connected to: its pid file, else the first mariadbd/mysqld process."""
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT @@pid_file")
            (pid_file,) = cur.fetchone()
        pid = int(Path(pid_file).read_text().split()[0])
        if Path(f"/proc/{pid}/stat").exists():
            return pid
    except (OSError, ValueError, IndexError, pymysql.MySQLError):
        pass
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("mariadbd", "mysqld"):
                    return int(entry.name)
            except OSError:
                continue
    return None


def history_sizes(session) -> tuple[int, int, int]:
    """(books, orders, order lines) in a benchmark database; zeros while it has no tables yet."""
    try:
        row = session.execute(
            sa.text(
                "SELECT (SELECT COUNT(*) FROM books), (SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM order_items)"
            )
        ).one()
    except sa.exc.DBAPIError:
        session.rollback()
        return (0, 0, 0)
    session.commit()
    return tuple(row)


def build_history(session, migrations: Path, books: int, orders: int) -> None:
    """In an app context: migrate, load `books` and `orders` by the seeders' bulk paths, ANALYZE."""
    # Imported here: the app package is importable only once the script has put the project on sys.path.
    import time

    from flask_migrate import upgrade

    from app.books.seed import bulk_load
    from app.orders.seed import generate_history

    upgrade(directory=str(migrations))
    started = time.perf_counter()
    bulk_load(books)
    print(f"catalogue: {books} books in {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    generate_history(orders)
    print(f"history: {orders} orders in {time.perf_counter() - started:.1f} s", flush=True)
    for table in ("books", "orders", "order_items", "order_status_history"):
        session.execute(sa.text(f"ANALYZE TABLE {table}"))
    session.commit()
