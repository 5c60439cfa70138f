#!/usr/bin/env python3
"""Tail latency on the embedded default: the catalogue reads on SQLite with an order stream beside them.

    .venv/bin/python bench/bench_sqlite.py            # or: make bench-sqlite
    .venv/bin/python bench/bench_sqlite.py --help     # books, duration, clients, server shape

What one run does, in a temporary directory removed at the end:

1. A fresh SQLite file (`DATABASE_URL=sqlite:///<tmp>/bench.db`), migrated (`flask db upgrade`) and
   seeded with the demo catalogue (`flask seed`) plus `--books` generated books (`flask seed --books N`).
2. gunicorn with gunicorn.conf.py on a free port, `APP_ENV=production`, no Redis (`REDIS_URL` empty:
   the embedded default), `--workers` x `--threads` (default 4 x 2, the shape docs/operations.md gives).
   `--writers` customers are registered and logged in through the API.
3. One load-generator process (asyncio, so it takes little of the CPUs the server runs on) drives
   `--clients` readers, each with one keep-alive connection, sending back to back a random choice
   of: the first page (`GET /books`), a page jump (`GET /books?page=N`, N random over the whole
   catalogue) and a search (`GET /books?q=<word>`, a word drawn from the catalogue's own titles and
   authors). Beside them, `--writers` customers place orders (`POST /orders`, one line of a random
   one of 200 books given ample stock) at `--orders-per-second` in total, paced, for the same time.
   After a warm-up of `--warmup` seconds, `--duration` seconds are measured, with the CPU time that
   gunicorn, the load generator and every other process of the machine used meanwhile.
4. Per endpoint: requests, p50/p90/p99/max in ms and how many took over 250 ms; statuses other than
   the expected ones are counted as errors. The targets (issue 16): p99 under 4 x p50 for the list
   page, the page jump and the search, and no request over 250 ms. `--reps` runs, each on a fresh
   server over the same file, with `uptime`'s load average noted before each.
5. Comparisons run back to back on the same file, so that the machine's other load falls on both
   alike: `--shapes 4x2,4x4` alternates gunicorn shapes; `--baseline DIR` alternates another checkout
   (e.g. `git archive <commit> | tar -x -C DIR`, with a `.venv` link) as "before" with this one as
   "after". Each prints a table of the medians. `--mix list,page` leaves out a kind of read.

Exit status: 1 on errors (a 5xx or an unexpected status); a missed target is printed as MISS and
makes the exit status 2 only with --strict.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

from appserver import AppServer, app_env

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SLOW_MS = 250.0
P99_OVER_P50 = 4.0
READS = ("list", "page", "search")
LABELS = {
    "list": "GET /books",
    "page": "GET /books?page=N",
    "search": "GET /books?q=…",
    "order": "POST /orders",
}
WORD = re.compile(r"[A-Za-z]{4,}")
ORDERABLE = 200  # books the writers order from


def log(msg: str) -> None:
    print(msg, flush=True)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def flask(env: dict, *args: str) -> None:
    done = subprocess.run([str(VENV_BIN / "flask"), "--app", "run", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}")


def build_database(workdir: Path, books: int) -> str:
    url = f"sqlite:///{workdir / 'bench.db'}"
    env = app_env(url, "sqlite", {"APP_ENV": "development"})
    flask(env, "db", "upgrade")
    flask(env, "seed")
    if books:
        flask(env, "seed", "--books", str(books))
    return url


def catalogue_facts(db_path: Path) -> dict:
    """Live book count, the books the writers order (stock raised) and words to search for."""
    conn = sqlite3.connect(db_path)
    total = conn.execute("SELECT COUNT(*) FROM books WHERE is_retired = 0").fetchone()[0]
    rng = random.Random(16)
    ids = [r[0] for r in conn.execute("SELECT id FROM books WHERE is_retired = 0 ORDER BY id")]
    # Enough stock that no order of the run is refused: every order is a write.
    orderable = sorted(rng.sample(ids, min(ORDERABLE, len(ids))))
    conn.execute(f"UPDATE books SET stock = 1000000 WHERE id IN ({','.join('?' * len(orderable))})", orderable)
    conn.commit()
    sample = conn.execute("SELECT title, author FROM books WHERE is_retired = 0 ORDER BY id").fetchall()
    conn.close()
    words = sorted({w.lower() for title, author in rng.sample(sample, min(300, len(sample)))
                    for w in WORD.findall(f"{title} {author}")})  # fmt: skip
    return {"total": total, "orderable": orderable, "words": words}


def register_customers(server: AppServer, count: int) -> list[str]:
    tokens = []
    for i in range(count):
        username = f"benchsqlite{os.getpid()}c{i}"
        password = f"bench-pass-{i:04d}"
        address = {"name": f"Bench {i}", "line1": f"{i + 1} Bench Street", "city": "Benchton",
                   "postal_code": "BE1 1CH", "country": "GB"}  # fmt: skip
        status, body = server.call("POST", "/register", {"name": f"Bench Customer {i}", "username": username,
                                   "email": f"{username}@bench.example", "password": password,
                                   "default_address": address})  # fmt: skip
        if status != 201:
            raise RuntimeError(f"register answered {status}: {body}")
        status, body = server.call("POST", "/login", {"username": username, "password": password})
        if status != 200:
            raise RuntimeError(f"login answered {status}: {body}")
        tokens.append(body["access_token"])
    return tokens


class Connection:
    """One keep-alive HTTP/1.1 connection, asyncio streams: the whole load generator is one process,
    so it takes as little of the machine's CPUs from the server as it can."""

    def __init__(self, port: int):
        self.port = port
        self.streams = None

    async def request(self, method: str, path: str, body: bytes = b"", headers: str = "") -> tuple[float, int]:
        """(milliseconds, status) of one request, connecting again if the server closed the connection."""
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}"
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        started = time.perf_counter()
        if self.streams is None:
            self.streams = await asyncio.open_connection("127.0.0.1", self.port)
        reader, writer = self.streams
        writer.write(head.encode() + b"\r\n" + body)
        status_line = await reader.readline()
        if not status_line:  # closed while idle (keep-alive timeout): once more on a new connection
            self.streams = None
            return await self.request(method, path, body, headers)
        length, close = 0, False
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and b"close" in value.lower():
                close = True
        await reader.readexactly(length)
        elapsed = (time.perf_counter() - started) * 1000
        if close:
            writer.close()
            self.streams = None
        return elapsed, int(status_line.split()[1])


async def reader(port: int, facts: dict, seed: int, measure_from: float, stop_at: float, samples: list) -> None:
    rng = random.Random(seed)
    pages = max(1, facts["total"] // 20)
    conn = Connection(port)
    while (now := time.monotonic()) < stop_at:
        kind = rng.choice(facts["mix"])
        if kind == "list":
            path = "/books"
        elif kind == "page":
            path = f"/books?page={rng.randint(2, pages)}"
        else:
            path = f"/books?q={rng.choice(facts['words'])}"
        ms, status = await conn.request("GET", path)
        if now >= measure_from:
            samples.append((kind, ms, status))


async def writer(port: int, token: str, books: list[int], interval: float, seed: int, start_at: float,
                 measure_from: float, stop_at: float, samples: list) -> None:  # fmt: skip
    rng = random.Random(seed)
    conn = Connection(port)
    headers = f"Authorization: Bearer {token}\r\n"
    next_at = start_at + rng.random() * interval
    while True:
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        if next_at >= stop_at:
            break
        body = json.dumps({"items": [{"book_id": rng.choice(books), "quantity": 1}]}).encode()
        ms, status = await conn.request("POST", "/orders", body, headers)
        if next_at >= measure_from:
            samples.append(("order", ms, status))
        next_at += interval


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile of sorted `values`."""
    if not values:
        return float("nan")
    rank = max(1, min(len(values), round(pct / 100 * len(values) + 0.5)))
    return values[rank - 1]


def summarise(samples: list[tuple[str, float, int]], seconds: float) -> dict:
    summary = {}
    for kind in (*READS, "order"):
        ms = sorted(s[1] for s in samples if s[0] == kind)
        expected = 201 if kind == "order" else 200
        summary[kind] = {
            "n": len(ms),
            "rps": len(ms) / seconds,
            "p50": percentile(ms, 50),
            "p90": percentile(ms, 90),
            "p99": percentile(ms, 99),
            "max": ms[-1] if ms else float("nan"),
            "slow": sum(1 for x in ms if x > SLOW_MS),
            "errors": sum(1 for s in samples if s[0] == kind and s[2] != expected),
        }
    return summary


def server_cpu(master_pid: int) -> float:
    """CPU seconds used so far by gunicorn's master and its workers (utime + stime, from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [master_pid]
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def busy_cpu_seconds() -> float:
    """CPU seconds all CPUs of the machine have spent busy so far (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


async def load(args, facts: dict, tokens: list[str], port: int, server_pid: int) -> tuple[list, dict]:
    start_at = time.monotonic() + 0.2
    measure_from = start_at + args.warmup
    stop_at = measure_from + args.duration
    samples: list = []
    tasks = [reader(port, facts, 1000 + i, measure_from, stop_at, samples) for i in range(args.clients)]
    interval = args.writers / args.orders_per_second if args.orders_per_second > 0 else 0
    if interval:
        tasks += [writer(port, tokens[i], facts["orderable"], interval, 2000 + i, start_at, measure_from, stop_at,
                         samples) for i in range(args.writers)]  # fmt: skip

    async def meter():
        await asyncio.sleep(max(0.0, measure_from - time.monotonic()))
        before = (server_cpu(server_pid), time.process_time(), busy_cpu_seconds())
        await asyncio.sleep(max(0.0, stop_at - time.monotonic()))
        after = (server_cpu(server_pid), time.process_time(), busy_cpu_seconds())
        return [b - a for a, b in zip(before, after, strict=True)]

    *_, (server, client, busy) = await asyncio.gather(*tasks, meter())
    return samples, {"server": server, "client": client, "others": max(0.0, busy - server - client)}


def run_once(args, facts: dict, tokens: list[str], port: int, server_pid: int) -> tuple[dict, dict]:
    samples, cpu = asyncio.run(load(args, facts, tokens, port, server_pid))
    summary = summarise(samples, args.duration)
    requests = sum(s["n"] for s in summary.values())
    cpu["server_ms_per_request"] = cpu["server"] * 1000 / requests if requests else float("nan")
    return summary, cpu


def fmt(x: float) -> str:
    return "—" if x != x else (f"{x:.0f}" if x >= 100 else f"{x:.1f}")


def table(summary: dict) -> list[str]:
    lines = ["| endpoint | requests/s | p50 ms | p90 ms | p99 ms | max ms | > 250 ms | p99/p50 | errors |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for kind, s in summary.items():
        ratio = s["p99"] / s["p50"] if s["n"] else float("nan")
        lines.append(f"| {LABELS[kind]} | {s['rps']:.1f} | {fmt(s['p50'])} | {fmt(s['p90'])} | {fmt(s['p99'])} "
                     f"| {fmt(s['max'])} | {s['slow']} | {ratio:.1f} | {s['errors']} |")  # fmt: skip
    return lines


def verdict(summary: dict) -> list[str]:
    misses = []
    for kind in READS:
        s = summary[kind]
        if not s["n"]:
            continue  # not in --mix
        if s["p99"] >= P99_OVER_P50 * s["p50"]:
            misses.append(f"{LABELS[kind]}: p99 {fmt(s['p99'])} ms is not under 4 x p50 ({fmt(s['p50'])} ms)")
    slow = sum(s["slow"] for s in summary.values())
    if slow:
        misses.append(f"{slow} request(s) over {SLOW_MS:.0f} ms")
    return misses


def comparison(results: dict) -> list[str]:
    names = " / ".join(results)
    lines = [f"| endpoint | requests/s {names} | p50 ms {names} | p99 ms {names} | max ms {names} | > 250 ms {names} |",
             "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    first = next(iter(results.values()))[0]
    for kind in (*READS, "order"):
        if not first[kind]["n"]:
            continue
        cells = []
        for key in ("rps", "p50", "p99", "max", "slow"):
            values = [statistics.median(run[kind][key] for run in runs) for runs in results.values()]
            cells.append(" / ".join(str(round(x)) if key == "slow" else fmt(x) for x in values))
        lines.append(f"| {LABELS[kind]} | {' | '.join(cells)} |")
    return lines


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return (f"{os.cpu_count()} vCPU ({cpu}), Linux {platform.release()}, Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}, gunicorn {version('gunicorn')}")  # fmt: skip


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--books", type=int, default=5000, help="generated books on top of the demo catalogue")
    p.add_argument("--duration", type=float, default=30.0, help="measured seconds per run")
    p.add_argument("--warmup", type=float, default=5.0, help="seconds of load before measuring")
    p.add_argument("--clients", type=int, default=8, help="reader processes (keep-alive, back to back)")
    p.add_argument("--writers", type=int, default=2, help="customers placing orders")
    p.add_argument("--orders-per-second", type=float, default=10.0, help="orders per second, all writers together")
    p.add_argument("--workers", type=int, default=4, help="gunicorn workers (docs/operations.md: 4 on 2 CPUs)")
    p.add_argument("--threads", type=int, default=2, help="gunicorn threads per worker")
    p.add_argument("--mix", default=",".join(READS), help="the reads sent, comma-separated (list,page,search)")
    p.add_argument("--reps", type=int, default=2, help="runs, each on a fresh server")
    p.add_argument("--shapes", help="several gunicorn shapes served alternately, e.g. 4x2,2x4 (workers x threads)")
    p.add_argument(
        "--baseline",
        metavar="DIR",
        help="another checkout (e.g. `git archive` of main) served "
        "alternately with this one on the same file: before / after",
    )
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="extra setting for the server")
    p.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (database, server log)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    extra_env = dict(item.split("=", 1) for item in args.env)
    workdir = Path(tempfile.mkdtemp(prefix="bench-sqlite-"))
    failed = missed = False
    try:
        log(f"Machine: {machine()}")
        log(f"Building {workdir / 'bench.db'}: demo catalogue + {args.books} generated books ...")
        database_url = build_database(workdir, args.books)
        facts = catalogue_facts(workdir / "bench.db")
        facts["mix"] = [kind for kind in args.mix.split(",") if kind in READS] or list(READS)
        log(f"{facts['total']} live books, {len(facts['words'])} search words, {len(facts['orderable'])} orderable")
        shape = f"gunicorn {args.workers} workers x {args.threads} threads"
        log(f"Load: {args.clients} reader clients back to back, {args.writers} customers ordering "
            f"{args.orders_per_second:g}/s in total; {args.warmup:g} s warm-up, {args.duration:g} s measured; {shape}"
            + (f"; {' '.join(args.env)}" if args.env else ""))  # fmt: skip
        tokens = []
        shapes = (
            [tuple(int(n) for n in shape.split("x")) for shape in args.shapes.split(",")]
            if args.shapes
            else [(args.workers, args.threads)]
        )
        builds = [(f"{w}x{t}" if len(shapes) > 1 else "after", ROOT, w, t) for w, t in shapes]
        if args.baseline:
            builds = [("before", Path(args.baseline).resolve(), *shapes[0]), ("after", ROOT, *shapes[0])]
            log(f"Alternating two checkouts on the same file: before = {builds[0][1]}, after = {ROOT}")
        elif len(builds) > 1:
            log(f"Alternating gunicorn shapes (workers x threads) on the same file: {args.shapes}")
        results = {name: [] for name, *_ in builds}
        for rep in range(1, args.reps + 1):
            for name, root, workers, threads in builds:
                server = AppServer(
                    cwd=root,
                    env=app_env(database_url, "sqlite", extra_env),
                    workdir=workdir,
                    workers=workers,
                    threads=threads,
                )
                try:
                    if not tokens:
                        tokens = register_customers(server, args.writers)
                    load = load_average()
                    summary, cpu = run_once(args, facts, tokens, server.port, server.proc.pid)
                finally:
                    server.stop()
                label = f"{name}, " if len(builds) > 1 else ""
                log(f"\nRun {rep}/{args.reps} ({label}load average before: {load}; during the run, in CPUs busy: "
                    f"gunicorn {cpu['server'] / args.duration:.2f}, load generator {cpu['client'] / args.duration:.2f}, "
                    f"other processes {cpu['others'] / args.duration:.2f}; gunicorn "
                    f"{cpu['server_ms_per_request']:.1f} ms CPU per request)\n")  # fmt: skip
                log("\n".join(table(summary)))
                misses = verdict(summary)
                log("\n" + ("\n".join(f"MISS {m}" for m in misses) if misses else "All targets met."))
                failed |= any(s["errors"] for s in summary.values())
                missed |= bool(misses) and name == "after"
                results[name].append(summary)
        if len(builds) > 1:
            log(f"\n{' / '.join(results)}, median over the runs:\n")
            log("\n".join(comparison(results)))
    finally:
        if args.keep:
            log(f"Kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if failed:
        return 1
    return 2 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
