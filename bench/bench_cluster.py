"""Order placement and catalogue reads through HAProxy on a 1-node and a 3-node Galera cluster.

Both layouts have the same three gunicorn instances behind HAProxy; with 1 node they all talk to it,
with 3 nodes app i talks to node i (scripts/cluster.py). Each cell runs `--clients` threads for
`--duration` seconds:

    hot     every client buys 1 copy of the same book (stock large enough): every pair of orders
            on different nodes touches the same row, so they conflict at certification
    spread  each client buys 1 copy of its own book: no row is shared

and reports orders/s, p50/p99 latency, the answers (201/409/503), the certification conflicts the
nodes counted (wsrep_local_cert_failures + wsrep_local_bf_aborts: each one is a retry in
run_transaction) and, on the hot book, the same run with DB_CONFLICT_RETRIES=3 (the old count) and
with DB_WSREP_SYNC_WAIT=1 (only reads wait for causality; the cluster default is 3: UPDATEs too).
Then GET /books is read through each app instance (so from each node) for the catalogue rate.

    make bench-cluster BENCH_CLUSTER_ARGS="--duration 10 --clients 16"
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.cluster import Cluster, install_missing, unavailable_reason  # noqa: E402

README = ROOT / "bench" / "README.md"
BEGIN, END = "<!-- cluster:begin -->", "<!-- cluster:end -->"


def register(cl: Cluster, n: int) -> list[str]:
    return [cl.sign_up(f"bench{i}", existing_ok=True) for i in range(n)]


def conflicts(cl: Cluster) -> int:
    total = 0
    for node in cl.nodes:
        s = node.status()
        total += int(s.get("wsrep_local_cert_failures", 0)) + int(s.get("wsrep_local_bf_aborts", 0))
    return total


def run(cl: Cluster, clients: int, duration: float, request) -> dict:
    """`clients` threads calling request(i, session) for `duration` s: rate, latency and answers."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    codes: list[Counter] = [Counter() for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)
    stop = threading.Event()

    def worker(i: int) -> None:
        with requests.Session() as s:
            barrier.wait()
            while not stop.is_set():
                began = time.perf_counter()
                try:
                    code = request(i, s).status_code
                except requests.RequestException:
                    code = "error"
                latencies[i].append(time.perf_counter() - began)
                codes[i][code] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    before = conflicts(cl)
    barrier.wait()
    began = time.perf_counter()
    time.sleep(duration)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    all_latencies = sorted(x for part in latencies for x in part)
    answers = sum(codes, Counter())
    return {
        "rate": len(all_latencies) / elapsed,
        "p50": 1000 * statistics.median(all_latencies),
        "p99": 1000 * all_latencies[int(0.99 * (len(all_latencies) - 1))],
        "codes": answers,
        "conflicts": conflicts(cl) - before,
        "requests": len(all_latencies),
    }


def orders(cl: Cluster, tokens: list[str], book_for) -> callable:
    def request(i: int, s: requests.Session):
        return s.post(
            cl.base_url + "/orders",
            json={"items": [{"book_id": book_for(i), "quantity": 1}]},
            headers={"Authorization": f"Bearer {tokens[i]}"},
            timeout=60,
        )

    return request


def restart_apps(cl: Cluster, env: dict) -> None:
    cl.app_env = env
    for app in cl.apps:
        cl.set_app_state(app, "maint")
        app.stop()
        app.start()
        app.wait_healthy()
        cl.set_app_state(app, "ready")
    time.sleep(2)


def measure_layout(size: int, args) -> dict:
    cl = Cluster(
        base_port=args.base_port,
        directory=Path(tempfile.mkdtemp(prefix="bookstore_galera_bench_")),
        size=size,
        apps=3,
        tied=True,
    )
    result = {}
    try:
        cl.up()
        tokens = register(cl, args.clients)
        for n in range(200):
            cl.make_book(1000, f"Catalogue {n}")
        hot = cl.make_book(10_000_000, "Hot")
        own = [cl.make_book(10_000_000, f"Spread {i}") for i in range(args.clients)]
        run(cl, args.clients, 2, orders(cl, tokens, lambda i: own[i]))  # warm-up
        result["spread"] = run(cl, args.clients, args.duration, orders(cl, tokens, lambda i: own[i]))
        result["hot"] = run(cl, args.clients, args.duration, orders(cl, tokens, lambda i: hot))
        if size > 1:
            restart_apps(cl, {"DB_CONFLICT_RETRIES": "3"})
            result["hot, 3 retries"] = run(cl, args.clients, args.duration, orders(cl, tokens, lambda i: hot))
            restart_apps(cl, {"DB_WSREP_SYNC_WAIT": "1"})
            result["hot, sync_wait 1"] = run(cl, args.clients, args.duration, orders(cl, tokens, lambda i: hot))
            restart_apps(cl, {})
        for app in cl.apps:
            url = app.base_url + "/books?per_page=20&sort=title"
            result[f"read {app.name}"] = run(
                cl, args.clients, args.duration / 2, lambda i, s, u=url: s.get(u, timeout=60)
            )
    finally:
        cl.down()
    return result


def fmt_codes(codes: Counter) -> str:
    return ", ".join(f"{n} × {code}" for code, n in sorted(codes.items(), key=lambda kv: str(kv[0])))


def table(results: dict[int, dict], args) -> str:
    lines = [
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: load average (1 min) {args.load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after (the machine is shared: other work competes for its CPUs).",
        "",
        f"{args.clients} client threads for {args.duration:.0f} s per cell through HAProxy, three gunicorn instances "
        f"(2 workers × 4 threads each), {os.cpu_count()} CPUs shared by clients, apps and nodes.",
        "",
        "| nodes | load | requests/s | p50 ms | p99 ms | answers | certification conflicts (retries) |",
        "|---|---|---:|---:|---:|---|---:|",
    ]
    for size, cells in results.items():
        for name, c in cells.items():
            if name.startswith("read"):
                continue
            lines.append(
                f"| {size} | {name} | {c['rate']:.0f} | {c['p50']:.0f} | {c['p99']:.0f} | {fmt_codes(c['codes'])} "
                f"| {c['conflicts']} |"
            )
    lines += ["", "| nodes | catalogue GET /books through | requests/s | p50 ms | p99 ms |", "|---|---|---:|---:|---:|"]
    for size, cells in results.items():
        for name, c in cells.items():
            if name.startswith("read"):
                app = name.split()[1]
                where = f"{app} (node{app[-1]})" if size > 1 else f"{app} (node1)"
                lines.append(f"| {size} | {where} | {c['rate']:.0f} | {c['p50']:.0f} | {c['p99']:.0f} |")
    return "\n".join(lines)


def write_readme(text: str) -> None:
    readme = README.read_text()
    block = f"{BEGIN}\n{text}\n{END}"
    if BEGIN in readme:
        readme = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, readme, flags=re.S)
    else:
        readme += f"\n## Cluster\n\n{block}\n"
    README.write_text(readme)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--base-port", type=int, default=16000)
    parser.add_argument("--sizes", default="1,3")
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()
    install_missing()
    reason = unavailable_reason()
    if reason:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 1
    args.load_before = os.getloadavg()[0]
    results = {}
    for size in (int(s) for s in args.sizes.split(",")):
        print(f"--- {size} node(s)", flush=True)
        results[size] = measure_layout(size, args)
        for name, c in results[size].items():
            print(
                f"{name:16} {c['rate']:7.0f}/s p50 {c['p50']:5.0f} ms p99 {c['p99']:5.0f} ms "
                f"{fmt_codes(c['codes'])}  conflicts {c['conflicts']}",
                flush=True,
            )
    text = table(results, args)
    print(text)
    if not args.no_readme:
        write_readme(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
