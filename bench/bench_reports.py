"""Time the admin reports over 200k orders (about 1M order lines) on MariaDB/MySQL.

    .venv/bin/python bench/bench_reports.py [--size 1M|10M] [--orders N] [--books N] [--reuse] [--explain]

Builds its own database (default bookstore_bench_reports: dropped and created again, migrated
with the project's migrations), loads a generated catalogue with the catalogue's bulk seeder and
an 18-month order history with `flask seed --orders`'s bulk path, runs ANALYZE TABLE, summarises
the closed days into the report rollups as `flask rollup` does (timed), then asks
every report for JSON and PNG through the app in-process (Flask test client with an admin's
token: routing, auth, validation, SQL, serialisation and drawing; no network) and prints the
median of 5 runs after one warm-up, as a Markdown table for bench/README.md.
`--reuse` keeps a database already built with the same sizes; `--explain` prints the query plans;
`--write-readme` puts the table into the size's section of "Reports" in bench/README.md.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dbtools import build_history, find_mariadbd, history_sizes, recreate_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUNS = 5
TARGET_SECONDS = 1.0
TARGET_JSON_WALL = 0.050  # a year of daily sales and of popular books, JSON, on an idle machine
SIZES = {"1M": (200_000, 20_000), "10M": (2_000_000, 20_000)}  # orders, books (about 5 lines an order)
README = ROOT / "bench" / "README.md"


def marks(size: str) -> tuple[str, str]:
    """Each size has its own section of bench/README.md, so timing one size keeps the other's table."""
    return (
        f"<!-- bench-reports-{size}:begin (written by bench/bench_reports.py --size {size}) -->",
        f"<!-- bench-reports-{size}:end -->",
    )


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="1M", help="about 1M or 10M order lines")
    parser.add_argument("--orders", type=int, help="orders to generate (default: from --size)")
    parser.add_argument("--books", type=int, help="books to generate (default: from --size)")
    parser.add_argument("--database", help="default: bookstore_bench_reports, with _10m for --size 10M")
    parser.add_argument("--server", default=os.environ.get("BENCH_MYSQL", "mysql://root@127.0.0.1:3306"))
    parser.add_argument("--reuse", action="store_true", help="keep a database already built with these sizes")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN for the report queries")
    parser.add_argument("--write-readme", action="store_true", help="write the table into bench/README.md")
    args = parser.parse_args()
    orders, books = SIZES[args.size]
    args.orders = args.orders or orders
    args.books = args.books or books
    args.database = args.database or "bookstore_bench_reports" + ("_10m" if args.size == "10M" else "")
    if not args.database.startswith("bookstore_bench"):
        parser.error("the benchmark database name must start with bookstore_bench (it is dropped)")
    return args


def summarise(app) -> str:
    """Summarise every closed day into the report rollups as the cron's `flask rollup` does (not its
    refresh of the related books: bench/bench_related.py times that); the time it took, as text."""
    from app.reports.commands import summarise_history

    started = time.perf_counter()
    line = f"{summarise_history()} ({time.perf_counter() - started:.1f} s)"
    print(line, flush=True)
    return line


def fill_live_window(db, sa) -> tuple[int, int, str]:
    """Make the reports read what a shop selling all day has to read live: the orders placed since the
    open day's last closed hour (app/reports/rollup.py, `closed_hour`), at the day's rate so far. A
    history built a while ago (or reused) ends before that hour, so copies of the day's earlier orders
    and their lines are placed in it. Returns (orders of the day before it, orders in it, the hour)."""
    import random

    from app.clock import utcnow
    from app.orders.models import Order, OrderItem
    from app.reports.rollup import closed_hour

    now = utcnow()
    through = closed_hour(now)
    midnight = datetime.combine(through.date(), datetime.min.time())
    count = sa.select(sa.func.count(Order.id))
    before = db.session.execute(count.where(Order.created_at >= midnight, Order.created_at < through)).scalar_one()
    inside = db.session.execute(count.where(Order.created_at >= through)).scalar_one()
    hours = (through - midnight).total_seconds() / 3600
    missing = round(before / hours * (now - through).total_seconds() / 3600) - inside if hours else 0
    if missing > 0:
        rng = random.Random(7)
        orders, items = Order.__table__, OrderItem.__table__
        copied = db.session.execute(
            sa.select(orders).where(orders.c.created_at >= midnight, orders.c.created_at < through).limit(missing)
        ).all()
        next_id = db.session.execute(sa.select(sa.func.max(orders.c.id))).scalar_one() + 1
        new_id = {row.id: next_id + offset for offset, row in enumerate(copied)}
        span = max(1, int((now - through).total_seconds()))
        for row in copied:
            placed = through + timedelta(seconds=rng.randrange(span))
            db.session.execute(
                orders.insert().values(
                    {**row._mapping, "id": new_id[row.id], "created_at": placed, "updated_at": placed}
                )
            )
        lines = db.session.execute(sa.select(items).where(items.c.order_id.in_(list(new_id)))).all()
        if lines:  # one multi-row INSERT of every copied order's lines
            copies = [{**line._mapping, "order_id": new_id[line.order_id]} for line in lines]
            db.session.execute(items.insert(), [{k: v for k, v in c.items() if k != "id"} for c in copies])
        db.session.commit()
        inside += len(copied)
    return before, inside, f"{through:%H:%M}"


def admin_headers(client) -> dict:
    from app.accounts import services
    from app.accounts.models import Account
    from app.extensions import db

    password = "bench-admin-password"
    if db.session.query(Account.id).filter_by(username="benchadmin").first() is None:
        services.create_admin("benchadmin", "benchadmin@bench.example", password)
    response = client.post("/login", json={"username": "benchadmin", "password": password})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def cases(today):
    year = {"from": (today - timedelta(days=365)).isoformat(), "to": today.isoformat()}
    history = {"from": (today - timedelta(days=547)).isoformat(), "to": today.isoformat()}
    return [
        ("sales, a year by day (366 points)", "/reports/sales", {**year, "period": "day"}),
        ("sales, 18 months by week", "/reports/sales", {**history, "period": "week"}),
        ("sales, 18 months by month", "/reports/sales", {**history, "period": "month"}),
        ("sales, last 30 days by day (default)", "/reports/sales", {}),
        ("popular books, a year, top 10", "/reports/popular-books", {**year, "limit": 10}),
        ("popular books, a year, top 100", "/reports/popular-books", {**year, "limit": 100}),
        ("popular books, last 30 days, top 10", "/reports/popular-books", {}),
        ("inventory (threshold 5)", "/reports/inventory", {}),
    ]


def timed(client, headers, path, params) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.get(path, query_string=params, headers=headers)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (path, params, response.get_data(as_text=True)[:500])
    return elapsed, len(response.get_data())


class ServerCpu:
    """CPU seconds the database server spent on this benchmark's connections: MariaDB runs one thread
    per connection and PROCESSLIST gives its OS thread id (TID), so /proc/<server>/task/<TID>/stat has
    the exact figure, whatever else the shared machine and server are doing. None when the server is
    not a local MariaDB process we can read."""

    def __init__(self, url: str, database: str):
        import pymysql
        import sqlalchemy as sa

        server = sa.make_url(url)
        self.database = database
        self.conn = pymysql.connect(
            host=server.host,
            port=server.port or 3306,
            user=server.username,
            password=server.password or "",
            autocommit=True,
        )
        self.pid = find_mariadbd(self.conn)
        self.tick = os.sysconf("SC_CLK_TCK")

    def seconds(self) -> float | None:
        if self.pid is None:
            return None
        with self.conn.cursor() as cur:
            cur.execute("SELECT TID FROM information_schema.PROCESSLIST WHERE DB = %s", (self.database,))
            tids = [row[0] for row in cur.fetchall()]
        total = 0
        for tid in tids:
            try:
                fields = Path(f"/proc/{self.pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                return None
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / self.tick


def explain(db, sa, today) -> None:
    """EXPLAIN the statements the sales (a year by day) and popular-books services send."""
    from app.reports import services

    captured = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        captured.append(cursor.mogrify(statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", capture)
    try:
        year = today - timedelta(days=365)
        services.sales(year, today, "day")
        services.popular_books(year, today, 10)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", capture)
    for statement in captured:
        if not statement.lstrip().upper().startswith("SELECT"):
            continue
        print("\n" + statement)
        for row in db.session.connection().exec_driver_sql("EXPLAIN " + statement).mappings():
            print("  ", {k: v for k, v in row.items() if v is not None})
        db.session.commit()


def main() -> None:
    args = parse_args()
    # config.py reads DATABASE_URL when it is imported: set it before anything imports it.
    os.environ["DATABASE_URL"] = f"{args.server}/{args.database}"
    # Rebuilding a month's book totals at 10M reads for about as long as a request may (DB_READ_TIMEOUT, 15 s
    # by default): 600 s, as docs/operations.md tells operators to give the cron job.
    os.environ.setdefault("DB_READ_TIMEOUT", "600")
    import sqlalchemy as sa

    from config import Config

    url = Config.SQLALCHEMY_DATABASE_URI
    if not url.startswith("mysql") or not url.split("?")[0].endswith("/" + args.database):
        raise SystemExit(f"refusing to benchmark on {url}")

    from app import create_app
    from app.extensions import db

    reuse, built = False, ""
    if args.reuse:
        app = create_app("development")
        with app.app_context():
            books, orders, _ = history_sizes(db.session)
            # fill_live_window adds a few hundred orders to a reused database on each run
            reuse = books == args.books and args.orders <= orders <= args.orders * 1.01
            db.engine.dispose()
        print("reusing the database" if reuse else "the database does not match: rebuilding", flush=True)
    if not reuse:
        recreate_database(url, args.database)
    app = create_app("development")
    app.config["RATELIMIT_ENABLED"] = False
    with app.app_context():
        if reuse:
            from flask_migrate import upgrade

            upgrade(directory=str(ROOT / "migrations"))  # migrations added since the build
        else:
            started = time.perf_counter()
            build_history(db.session, ROOT / "migrations", args.books, args.orders)
            built = f"Built in this run: {time.perf_counter() - started:.0f} s (catalogue, orders, ANALYZE). "
        books, orders, order_lines = history_sizes(db.session)
        version = db.session.execute(sa.text("SELECT VERSION()")).scalar_one()
        db.session.commit()
        print(f"\ndatabase {args.database} on {version}: {books} books, {orders} orders, {order_lines} order lines")
        today = datetime.now(UTC).date()
        summarised = summarise(app)
        # After the summary (minutes on a new database): the live window is the one of the timed reports.
        summarised_today, live, hour = fill_live_window(db, sa)
        for table in ("report_sales_days", "report_book_days", "report_book_months"):
            db.session.execute(sa.text(f"ANALYZE TABLE {table}"))
        db.session.commit()
        if args.explain:
            explain(db, sa, today)
        client = app.test_client()
        headers = admin_headers(client)
        server_cpu = ServerCpu(url, args.database)
        load_before = os.getloadavg()[0]
        lines = [
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, MariaDB {version.split('-')[0]}, {books:,} books, "
            f"{orders:,} orders, {order_lines:,} order lines (18 months); today {summarised_today:,} orders "
            f"placed before {hour} UTC (summarised with the closed days) and {live:,} since (read live: the open day's "
            f"rate over the time since that hour). {built}The rollup summary first (`flask rollup` without the related books): {summarised}. "
            "Per request, after one warm-up: the "
            f"median wall time of {RUNS} (min–max), and the CPU time it took (app process + the database "
            "server's thread for this connection, averaged over the runs).",
            "",
            "| report | JSON wall | JSON CPU (app + db) | PNG wall | PNG CPU (app + db) | PNG size |",
            "|---|---|---|---|---|---|",
        ]
        print("\n" + "\n".join(lines), flush=True)
        slow, over = [], []
        for label, path, params in cases(today):
            row = [label]
            size = 0
            for fmt in ("json", "png"):
                query = {**params, "format": fmt}
                timed(client, headers, path, query)  # warm-up (and opens the pooled connection)
                runs = []
                app_cpu, db_cpu = time.process_time(), server_cpu.seconds()
                for _ in range(RUNS):
                    elapsed, size = timed(client, headers, path, query)
                    runs.append(elapsed)
                app_cpu = (time.process_time() - app_cpu) / RUNS
                db_after = server_cpu.seconds()
                db_cpu = None if db_cpu is None or db_after is None else (db_after - db_cpu) / RUNS
                median = statistics.median(runs)
                if fmt == "json" and "a year" in label and median > TARGET_JSON_WALL:
                    over.append(f"{label} ({median * 1000:.0f} ms)")
                row.append(f"{median * 1000:.0f} ms ({min(runs) * 1000:.0f}–{max(runs) * 1000:.0f})")
                if db_cpu is None:
                    row.append(f"{app_cpu * 1000:.0f} ms + n/a")
                    cost = median
                else:
                    row.append(f"{(app_cpu + db_cpu) * 1000:.0f} ms ({app_cpu * 1000:.0f} + {db_cpu * 1000:.0f})")
                    cost = app_cpu + db_cpu
                if cost > TARGET_SECONDS and "a year" in label and "top 100" not in label:
                    slow.append(f"{label} {fmt}")
            row.append(f"{size / 1024:.0f} KiB")
            lines.append("| " + " | ".join(row) + " |")
            print(lines[-1], flush=True)
        verdict = (
            f"Over the {TARGET_SECONDS:.0f} s target: {', '.join(slow)}."
            if slow
            else f"A year of daily sales and a year of popular books (top 10) take under {TARGET_SECONDS:.0f} s "
            "of CPU (app + database) as JSON and as PNG."
        )
        verdict += (
            f" JSON wall over {TARGET_JSON_WALL * 1000:.0f} ms: {', '.join(over)}."
            if over
            else f" A year of daily sales and of popular books answer JSON in under {TARGET_JSON_WALL * 1000:.0f} ms wall."
        )
        lines += [
            "",
            f"Load average (1 min) of the shared 2-vCPU machine: {load_before:.1f} before, "
            f"{os.getloadavg()[0]:.1f} after; wall times include waiting for a CPU. {verdict}",
        ]
        print("\n" + lines[-1])
        if args.write_readme:
            write_readme(args.size, "\n".join(lines))
        if slow:
            raise SystemExit(1)


def write_readme(size: str, table: str) -> None:
    begin, end = marks(size)
    text = README.read_text()
    if begin not in text or end not in text:
        raise SystemExit(f"{README} has no {begin} … {end} section to write into")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    README.write_text(f"{head}{begin}\n{table}\n{end}{tail}")
    print(f"written into {README}")


if __name__ == "__main__":
    main()
