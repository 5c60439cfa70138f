"""Catalogue benchmark: the app against a raw PyMySQL WSGI ceiling, at several catalogue sizes.

    .venv/bin/python bench/run_catalogue.py [--sizes 10000,100000,1000000] [--reps 3] [--duration 5]
                                            [--connections 8] [--workers 2] [--write-readme]
                                            [--database-prefix bookstore_bench]

For each size it (re)uses a MariaDB database of its own, `<prefix>_<size>` (loaded by
bench/load_catalogue.py when missing or of another size), serves the app (`gunicorn run:app`) and
bench/ceiling_app.py with the same gunicorn flags, warms both (and the buffer pool), then:

* counts, per request to the app, the SQL statements and rows read, from MariaDB's own global
  counters (Com_select, Com_rollback, Com_commit, Questions and the Handler_read_* sum) over 100
  sequential requests, three times, keeping the smallest (other clients of the server only add);
* runs wrk (1 thread, --connections, --duration) alternating app and ceiling, --reps times, and
  takes the median requests/s, p50 and p99 of each.

Prints one Markdown table per size, a check of the issue's targets, and with --write-readme puts
them into bench/README.md between the catalogue markers. Raw results go to bench/results/.
"""

import argparse
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
SERVER = os.environ.get("BENCH_MYSQL", "mysql://root@127.0.0.1:3306")
SECRET = secrets.token_urlsafe(48)

SCENARIOS = [
    ("detail", "GET /books/{id}"),
    ("first", "GET /books (first page)"),
    ("filter_sort", "GET /books?genre=Fantasy&sort=-price"),
    ("search", "GET /books?q=<isbn> (selective search)"),
    ("cursor_deep", "GET /books?cursor=<50-95% deep>"),
    ("page50", "GET /books?page=50"),
    ("new_arrivals", "GET /books?sort=-created_at (new arrivals)"),
    ("bestsellers", "GET /books?sold=true&sort=-popularity (bestsellers)"),
    ("genres", "GET /genres"),
    ("search_common", "GET /books?q=harbour (common word; not a target)"),
]
TARGETED = [name for name, _ in SCENARIOS if name != "search_common"]
README_START = "<!-- catalogue-bench:start -->"
README_END = "<!-- catalogue-bench:end -->"


def mysql_connect(database=None):
    import pymysql

    url = urllib.parse.urlsplit(SERVER)
    return pymysql.connect(host=url.hostname, port=url.port or 3306, user=url.username or "root",
                           password=url.password or "", database=database, autocommit=True, charset="utf8mb4")  # fmt: skip


def ensure_loaded(size: int, prefix: str) -> str:
    database = f"{prefix}_{size // 1000}k" if size < 1_000_000 else f"{prefix}_{size // 1_000_000}m"
    try:
        conn = mysql_connect(database)
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*), (SELECT SUM(books) FROM book_counts) FROM books")
            count, counted = cur.fetchone()
            if counted != count:  # made before the maintained counts existed
                count = None
        conn.close()
    except Exception:
        count = None
    if count != size:
        print(f"[{size}] loading {database} ...", flush=True)
        started = time.perf_counter()
        # Without the SECRET_KEY make_paths sets for the servers: the loader then runs in development.
        env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
        subprocess.run([PYTHON, str(BENCH / "load_catalogue.py"), "--books", str(size), "--database", database],
                       check=True, stdout=subprocess.DEVNULL, env=env)  # fmt: skip
        print(f"[{size}] loaded in {time.perf_counter() - started:.0f} s", flush=True)
    return database


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(target: str, port: int, env: dict, workers: int, log: Path) -> subprocess.Popen:
    cmd = [GUNICORN, "-c", "gunicorn.conf.py", target, "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
           "--threads", "1", "--keep-alive", "5", "--backlog", "256",
           "--no-control-socket", "--log-level", "warning"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)  # fmt: skip
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"{target} exited; see {log}") from None
            time.sleep(0.2)
    raise SystemExit(f"{target} did not start; see {log}")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def make_paths(database: str, size: int, rng: random.Random) -> dict:
    """Request paths per scenario for the app and for the ceiling (same data, same SQL)."""
    os.environ.setdefault("DATABASE_URL", f"{SERVER}/{database}")
    os.environ["SECRET_KEY"] = SECRET
    sys.path.insert(0, str(ROOT))
    from app import create_app
    from app.books import cursors

    flask_app = create_app("development")
    flask_app.config["SECRET_KEY"] = SECRET
    conn = mysql_connect(database)
    paths: dict = {}
    with conn.cursor() as cur:
        cur.execute("SELECT MIN(id), MAX(id), COUNT(*) FROM books WHERE is_retired = 0")
        low, high, count = cur.fetchone()
        assert high - low + 1 == count, "bench expects a freshly loaded catalogue (contiguous ids)"
        ids = rng.sample(range(low, high + 1), 1000)
        paths["detail"] = ([f"/books/{i}" for i in ids], [f"/books/{i}" for i in ids])
        paths["first"] = (["/books"], ["/books?scenario=first"])
        paths["filter_sort"] = (["/books?genre=Fantasy&sort=-price"],
                                ["/books?scenario=filter_sort&genre=Fantasy"])  # fmt: skip
        cur.execute(f"SELECT isbn FROM books WHERE id IN ({','.join(map(str, ids[:100]))}) AND isbn IS NOT NULL")
        isbns = [r[0] for r in cur.fetchall()]
        paths["search"] = ([f"/books?q={i}" for i in isbns],
                           [f"/books?scenario=search&against=%2B{i}*" for i in isbns])  # fmt: skip
        paths["search_common"] = (["/books?q=harbour"], ["/books?scenario=search&against=%2Bharbour*"])
        app_cursor, ceiling_cursor = [], []
        with flask_app.test_request_context():
            signature = cursors.filter_signature({})
            for _ in range(20):
                position = rng.randrange(size // 2, size * 95 // 100)
                cur.execute("SELECT title, id FROM books WHERE is_retired = 0 ORDER BY title, id LIMIT 1 OFFSET %s",
                            (position - 1,))  # fmt: skip
                title, book_id = cur.fetchone()
                token = cursors.encode_cursor("title", title, book_id, position, signature)
                app_cursor.append(f"/books?cursor={token}")
                ceiling_cursor.append("/books?" + urllib.parse.urlencode(
                    {"scenario": "cursor_deep", "title": title, "id": book_id}))  # fmt: skip
        paths["cursor_deep"] = (app_cursor, ceiling_cursor)
        cur.execute("SELECT title, id FROM books WHERE is_retired = 0 ORDER BY title, id LIMIT 1 OFFSET 979")
        title, book_id = cur.fetchone()
        paths["new_arrivals"] = (["/books?sort=-created_at"], ["/books?scenario=new_arrivals"])
        paths["bestsellers"] = (["/books?sold=true&sort=-popularity"], ["/books?scenario=bestsellers"])
        paths["genres"] = (["/genres"], ["/genres"])
        paths["page50"] = (["/books?page=50"],
                           ["/books?" + urllib.parse.urlencode({"scenario": "page50", "title": title, "id": book_id,
                                                                "page": 50})])  # fmt: skip
    conn.close()
    return paths


def write_paths(paths: list[str], directory: Path, name: str) -> Path:
    path = directory / f"{name}.txt"
    path.write_text("\n".join(paths) + "\n")
    return path


def wrk(port: int, path_file: Path, duration: float, connections: int) -> dict:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{int(duration)}s", "--latency", "--timeout", "5s",
         "-s", str(BENCH / "rotate.lua"), f"http://127.0.0.1:{port}", "--", str(path_file)],
        capture_output=True, text=True, check=True, timeout=duration + 60,
    )  # fmt: skip
    text = out.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))

    def latency(pct: str) -> float:
        value, unit = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = re.search(r"Socket errors:.*", text)
    return {"rps": rps, "p50": latency("50"), "p99": latency("99"), "non2xx": int(bad.group(1)) if bad else 0,
            "socket_errors": errors.group(0) if errors else ""}  # fmt: skip


def wait_idle(database: str, limit: float = 60) -> None:
    """Wait until no statement of ours runs on the server: a run's last requests (a slow search)
    must not spill into the next run."""
    conn = mysql_connect()
    deadline = time.time() + limit
    try:
        with conn.cursor() as cur:
            while time.time() < deadline:
                cur.execute(
                    "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                    "WHERE DB = %s AND COMMAND = 'Query' AND ID <> CONNECTION_ID()",
                    (database,),
                )
                if cur.fetchone()[0] == 0:
                    return
                time.sleep(0.2)
    finally:
        conn.close()


def count_statements(database: str, paths: dict, workdir: Path) -> dict:
    """Per-request statements and rows read, from the app's own connection (bench/count_statements.py)."""
    file = workdir / "count-paths.json"
    file.write_text(json.dumps({name: app_paths for name, (app_paths, _) in paths.items()}))
    out = subprocess.run(
        [PYTHON, str(BENCH / "count_statements.py"), "--database", database, "--paths", str(file)],
        capture_output=True, text=True, check=True, cwd=ROOT,
        env={**os.environ, "SECRET_KEY": SECRET, "BENCH_MYSQL": SERVER},
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def warm_buffer_pool(database: str) -> None:
    """Read every index the benchmark uses once (the table itself is warmed by the warm-up runs)."""
    conn = mysql_connect(database)
    with conn.cursor() as cur:
        for index in ("ix_books_live_title", "ix_books_live_genre_price", "ix_books_live_price",
                      "ix_books_live_created_at", "ix_books_live_units_sold"):  # fmt: skip
            cur.execute(f"SELECT COUNT(*) FROM books FORCE INDEX ({index}) WHERE is_retired = 0")
            cur.fetchall()
    conn.close()


def bench_size(size: int, args, workdir: Path) -> dict:
    database = ensure_loaded(size, args.database_prefix)
    rng = random.Random(size)
    paths = make_paths(database, size, rng)
    warm_buffer_pool(database)
    app_port, ceiling_port = free_port(), free_port()
    env = {"DATABASE_URL": f"{SERVER}/{database}", "APP_ENV": "production", "SECRET_KEY": SECRET,
           "JWT_SECRET_KEY": secrets.token_urlsafe(48), "LOG_LEVEL": "WARNING",
           "BENCH_DB": f"{SERVER}/{database}"}  # fmt: skip
    app_proc = start_server("run:app", app_port, env, args.workers, workdir / f"app-{size}.log")
    ceiling_proc = start_server("bench.ceiling_app:app", ceiling_port, env, args.workers,
                                workdir / f"ceiling-{size}.log")  # fmt: skip
    results: dict = {}
    try:
        files = {}
        for name, _ in SCENARIOS:
            app_paths, ceiling_paths = paths[name]
            files[name] = (write_paths(app_paths, workdir, f"{size}-{name}-app"),
                           write_paths(ceiling_paths, workdir, f"{size}-{name}-ceiling"))  # fmt: skip
            # Warm-up: connections, caches, the pages of the buffer pool these requests touch.
            for port, file in ((app_port, files[name][0]), (ceiling_port, files[name][1])):
                wrk(port, file, args.warmup, args.connections)
                wait_idle(database)
        counted = count_statements(database, paths, workdir)
        for name, _ in SCENARIOS:
            results[name] = {"sql": counted[name]["warm"], "sql_cold": counted[name]["cold"], "app": [], "ceiling": []}
        for rep in range(args.reps):
            for name, _ in SCENARIOS:
                for side, port, file in (("app", app_port, files[name][0]), ("ceiling", ceiling_port, files[name][1])):
                    results[name][side].append(wrk(port, file, args.duration, args.connections))
                    wait_idle(database)
            print(f"[{size}] repetition {rep + 1}/{args.reps} done", flush=True)
    finally:
        stop_server(app_proc)
        stop_server(ceiling_proc)
    for name in results:
        for side in ("app", "ceiling"):
            runs = results[name][side]
            results[name][side + "_median"] = {k: statistics.median(r[k] for r in runs) for k in ("rps", "p50", "p99")}
            results[name][side + "_non2xx"] = sum(r["non2xx"] for r in runs)
    return results


def table(size: int, results: dict) -> str:
    lines = [
        f"**{size:,} books**",
        "",
        "| request | app req/s | ceiling req/s | ratio | app p50 ms | app p99 ms | ceiling p50 / p99 ms "
        "| SELECTs / req | ROLLBACKs / req | statements / req | rows read / req | first request: statements / rows |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, label in SCENARIOS:
        r = results[name]
        app, ceiling, sql = r["app_median"], r["ceiling_median"], r["sql"]
        lines.append(
            f"| {label} | {app['rps']:.0f} | {ceiling['rps']:.0f} | {app['rps'] / ceiling['rps']:.0%} "
            f"| {app['p50']:.2f} | {app['p99']:.2f} | {ceiling['p50']:.2f} / {ceiling['p99']:.2f} "
            f"| {sql['select']:g} | {sql['rollback']:g} | {sql['statements']:g} | {sql['rows_read']:g} "
            f"| {r['sql_cold']['statements']:g} / {r['sql_cold']['rows_read']:g} |"
        )
    return "\n".join(lines)


def checks(all_results: dict, per_page: int = 20) -> str:
    sizes = sorted(all_results)
    small, big = sizes[0], sizes[-1]
    out = []
    detail = all_results[big]["detail"]
    for size in sizes:
        d = all_results[size]["detail"]
        ratio = d["app_median"]["rps"] / d["ceiling_median"]["rps"]
        out.append(f"- GET /books/{{id}} at {size:,}: {ratio:.0%} of the ceiling (target ≥ 50%), "
                   f"{d['sql']['select']:g} SELECT and {d['sql']['rollback']:g} ROLLBACK per request (target 1 and 0)")  # fmt: skip
    for name in TARGETED:
        keep = all_results[big][name]["app_median"]["rps"] / all_results[small][name]["app_median"]["rps"]
        rows = all_results[big][name]["sql"]["rows_read"]
        p99 = all_results[big][name]["app_median"]["p99"]
        ok = keep >= 0.8 and rows <= 2 * per_page and p99 < 50
        out.append(f"- {name} at {big:,}: {keep:.0%} of its req/s at {small:,} (target ≥ 80%), {rows:g} rows read "
                   f"(target ≤ {2 * per_page}), p99 {p99:.1f} ms (target < 50) — {'met' if ok else 'NOT met'}")  # fmt: skip
    errors = sum(r[s] for res in all_results.values() for r in res.values() for s in ("app_non2xx", "ceiling_non2xx"))
    out.append(f"- non-2xx responses during the runs: {errors}")
    del detail
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--write-readme", action="store_true")
    parser.add_argument("--database-prefix", default="bookstore_bench", help="databases <prefix>_10k, _100k, _1m")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install -y wrk)")
    sizes = [int(s) for s in args.sizes.split(",")]
    results_dir = BENCH / "results"
    results_dir.mkdir(exist_ok=True)
    all_results = {}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-catalogue-") as tmp:
        for size in sizes:
            all_results[size] = bench_size(size, args, Path(tmp))
            print(table(size, all_results[size]) + "\n", flush=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (results_dir / f"catalogue-{stamp}.json").write_text(json.dumps(all_results, indent=1))
    setup = (f"wrk 1 thread, {args.connections} connections, {args.duration:g} s per run after a {args.warmup:g} s warm-up; "
             f"gunicorn -c gunicorn.conf.py (gthread) --workers {args.workers} --threads 1 --keep-alive 5 for both; "
             f"{args.reps} repetitions alternating app and ceiling, medians; {os.cpu_count()} CPUs shared by "
             f"wrk, gunicorn and MariaDB and shared with other work: load average {load_before[0]:.1f} at the start, "
             f"{os.getloadavg()[0]:.1f} at the end.")  # fmt: skip
    report = "\n\n".join([setup, *(table(s, all_results[s]) for s in sizes), checks(all_results)])
    print(checks(all_results))
    if args.write_readme:
        readme = BENCH / "README.md"
        text = readme.read_text()
        start, end = text.index(README_START) + len(README_START), text.index(README_END)
        readme.write_text(text[:start] + "\n" + report + "\n" + text[end:])
        print(f"wrote {readme}")


if __name__ == "__main__":
    main()
