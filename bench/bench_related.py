"""Time "customers also bought" over 200k orders (about 1M order lines) on MariaDB/MySQL.

    .venv/bin/python bench/bench_related.py [--database bookstore_bench_related] [--orders N] [--books N]
                                            [--reuse] [--write-readme]

Builds its own database (dropped and created again, migrated with the project's migrations), loads
20,000 books with the catalogue's bulk seeder and an 18-month order history with `flask seed
--orders`'s bulk path (the same data as bench/bench_reports.py), runs ANALYZE TABLE, then times:

* `flask related --all` (every book recomputed) and `flask related` with nothing new (the cost of
  finding the changed books), then after 1,000 more orders (the incremental refresh);
* GET /books/{id}/related through the app in process (Flask test client: routing, validation, the
  SQL on the catalogue reader, the documents; no network), 300 random ordered books for `limit=6`
  and for `limit=20`: median, p95 and p99 wall time;

and prints the plans (EXPLAIN) of the read and of one refresh batch, as Markdown for bench/README.md
(`--write-readme` puts it between the related-bench markers). `--reuse` keeps a database already
built with the same sizes (and the orders earlier runs added).
"""

import argparse
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

from dbtools import build_history, history_sizes, recreate_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

README = ROOT / "bench" / "README.md"
BEGIN_MARK = "<!-- bench-related:begin (written by bench/bench_related.py) -->"
END_MARK = "<!-- bench-related:end -->"
READS = 300
TARGET = 0.050
NEW_ORDERS = 1000


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--books", type=int, default=20_000)
    parser.add_argument("--database", default="bookstore_bench_related")
    parser.add_argument("--server", default=os.environ.get("BENCH_MYSQL", "mysql://root@127.0.0.1:3306"))
    parser.add_argument("--reuse", action="store_true", help="keep a database already built with these sizes")
    parser.add_argument("--write-readme", action="store_true", help="write the results into bench/README.md")
    args = parser.parse_args()
    if not (args.database.startswith("bookstore_bench") or "_bench" in args.database):
        parser.error("the benchmark database name must start with bookstore_bench or hold _bench (it is dropped)")
    return args


def cli(app, *args) -> tuple[float, str]:
    started = time.perf_counter()
    result = app.test_cli_runner().invoke(args=["related", *args])
    assert result.exit_code == 0, result.output
    seconds = time.perf_counter() - started
    print(f"flask related {' '.join(args)}: {result.output.strip()} ({seconds:.1f} s)", flush=True)
    return seconds, result.output.strip()


def percentiles(times: list[float]) -> dict:
    times = sorted(times)
    return {
        "median": statistics.median(times),
        "p95": times[int(len(times) * 0.95) - 1],
        "p99": times[int(len(times) * 0.99) - 1],
        "max": times[-1],
    }


def reads(client, book_ids: list[int], limit: int, sa) -> dict:
    """Wall and app CPU time per request, and the wall time of its related-books SELECT sent again
    on its own (one raw PyMySQL connection): what the database itself takes."""
    from app.prepared import reader

    times, cpu, empty, sent = [], [], 0, []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "book_related" in statement:
            sent.append(cursor.mogrify(statement, parameters))

    engine = reader().engine
    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        for book_id in book_ids:
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(f"/books/{book_id}/related?limit={limit}")
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
            assert response.status_code == 200, response.get_json()
            empty += not response.get_json()["items"]
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    raw = engine.raw_connection()
    sql_times = []
    try:
        cursor = raw.cursor()
        for statement in sent:
            started = time.perf_counter()
            cursor.execute(statement)
            cursor.fetchall()
            sql_times.append(time.perf_counter() - started)
    finally:
        raw.close()
    return {**percentiles(times), "cpu": statistics.median(cpu), "sql": percentiles(sql_times), "empty": empty}


def plans(db, sa, book_id: int) -> str:
    """EXPLAIN of the read (as the app sends it) and of one refresh batch of 500 books."""
    from app.discovery import services
    from app.prepared import reader

    captured = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        captured.append(cursor.mogrify(statement, parameters))

    engine = reader().engine
    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        services.related_books(book_id, 6)
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    first = sorted(db.session.execute(sa.text("SELECT DISTINCT book_id FROM order_items LIMIT 500")).scalars())
    batch = services.ranked_related(first).compile(db.engine, compile_kwargs={"literal_binds": True})
    out = []
    for title, statement in (("the read (`limit=6`)", captured[-1]), ("one refresh batch (500 books)", str(batch))):
        shown = re.sub(r"IN \((\d+), [\d, ]+, (\d+)\)", r"IN (\1, …, \2)", " ".join(statement.split()))
        out.append(f"{title}:\n\n```\n{shown}\n")
        rows = db.session.connection().exec_driver_sql("EXPLAIN " + statement).mappings().all()
        for row in rows:
            keep = ("id", "select_type", "table", "type", "key", "key_len", "ref", "rows", "Extra")
            out.append("  ".join(f"{k}={row[k]}" for k in keep if row.get(k) is not None))
        out.append("```\n")
        db.session.commit()
    return "\n".join(out)


def main() -> None:
    args = parse_args()
    url = f"{args.server}/{args.database}"
    os.environ["DATABASE_URL"] = url  # read by config.py at import
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import sqlalchemy as sa

    from app import create_app
    from app.extensions import db

    app = create_app("development")
    with app.app_context():
        built = history_sizes(db.session)
        if not (args.reuse and built[0] == args.books and built[1] >= args.orders):
            db.engine.dispose()
            recreate_database(url, args.database)
            build_history(db.session, ROOT / "migrations", args.books, args.orders)
        books, orders, lines = history_sizes(db.session)
        load_before = os.getloadavg()[0]
        full_seconds, full_text = cli(app, "--all")
        pairs = db.session.execute(sa.text("SELECT COUNT(*), COUNT(DISTINCT book_id) FROM book_related")).one()
        db.session.commit()
        idle_seconds, _ = cli(app)
        from app.orders.seed import generate_history

        generate_history(NEW_ORDERS, seed=int(time.time()))
        incremental_seconds, incremental_text = cli(app)
        ordered = list(db.session.execute(sa.text("SELECT DISTINCT book_id FROM order_items")).scalars())
        db.session.commit()
        rng = random.Random(7)
        sample = rng.sample(ordered, min(READS, len(ordered)))
        client = app.test_client()
        reads(client, sample[:20], 6, sa)  # warm-up: pools, compiled statements
        results = {limit: reads(client, sample, limit, sa) for limit in (6, 20)}
        load_after = os.getloadavg()[0]
        plan_text = plans(db, sa, sample[0])

    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines_out = [
        f"{stamp}, {books:,} books, {orders:,} orders, {lines:,} order lines; load average (1 min) of the shared "
        f"2-vCPU machine {load_before:.1f} before, {load_after:.1f} after (wall times include waiting for a CPU: "
        "to be measured again on a quiet machine).",
        "",
        "| refresh | wall | what it did |",
        "|---|---:|---|",
        f"| `flask related --all` | {full_seconds:.1f} s | {full_text} → {pairs[0]:,} rows for {pairs[1]:,} books |",
        f"| `flask related`, nothing new | {idle_seconds:.2f} s | finding the changed books (orders of the last "
        "10 minutes are looked at again) |",
        f"| `flask related` after {NEW_ORDERS:,} more orders | {incremental_seconds:.1f} s | {incremental_text} |",
        "",
        f"| GET /books/{{id}}/related, {READS} random ordered books | median | p95 | p99 | max | app CPU, median "
        "| its SELECT alone: median / p99 | empty answers |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for limit, r in results.items():
        lines_out.append(
            f"| `limit={limit}` | {r['median'] * 1000:.1f} ms | {r['p95'] * 1000:.1f} ms | {r['p99'] * 1000:.1f} ms "
            f"| {r['max'] * 1000:.1f} ms | {r['cpu'] * 1000:.1f} ms "
            f"| {r['sql']['median'] * 1000:.2f} / {r['sql']['p99'] * 1000:.2f} ms | {r['empty']} |"
        )
    worst = max(r["p99"] for r in results.values())
    lines_out += [
        "",
        f"p99 {'under' if worst < TARGET else 'OVER'} the 50 ms target ({worst * 1000:.1f} ms).",
        "",
        "Plans (MariaDB EXPLAIN):",
        "",
        plan_text,
    ]
    report = "\n".join(lines_out)
    print(report)
    if args.write_readme:
        text = README.read_text()
        start, end = text.index(BEGIN_MARK) + len(BEGIN_MARK), text.index(END_MARK)
        README.write_text(text[:start] + "\n" + report + "\n" + text[end:])
        print(f"wrote {README}")


if __name__ == "__main__":
    main()
