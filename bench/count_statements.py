"""SQL statements and rows read per catalogue request, as MariaDB counts them for the app's own
database connection (its SESSION status), so no other client of the server can blur them.

    .venv/bin/python bench/count_statements.py --database bookstore_bench_1m --paths paths.json

paths.json: {"scenario": ["/books/1", ...], ...}. Prints JSON: per scenario, the counters of the first
request after the app's list caches were cleared ("cold") and the mean of the next 100 ("warm").
The app runs in this process (Flask test client); its catalogue reads go through one pooled
AUTOCOMMIT connection, whose `SHOW SESSION STATUS` is read before and after (what one SHOW itself
adds is measured and subtracted).
"""

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COUNTERS = ("Com_select", "Com_rollback", "Com_commit", "Questions")
HANDLER = ("Handler_read_first", "Handler_read_key", "Handler_read_last", "Handler_read_next",
           "Handler_read_prev", "Handler_read_rnd", "Handler_read_rnd_next")  # fmt: skip
# Index entries that index condition pushdown examined and rejected are in no Handler_read_*.
ICP = ("Handler_icp_attempts", "Handler_icp_match")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--paths", required=True)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--server", default=os.environ.get("BENCH_MYSQL", "mysql://root@127.0.0.1:3306"))
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = f"{args.server}/{args.database}"  # read by config.py at import
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    from app import create_app
    from app.books import reads
    from app.prepared import reader as catalogue_reader

    app = create_app("development")
    if os.environ.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]  # the cursors in the paths were signed with it
    client = app.test_client()
    names = COUNTERS + HANDLER + ICP
    show = f"SHOW SESSION STATUS WHERE Variable_name IN ({', '.join(repr(n) for n in names)})"
    results = {}
    with app.app_context():
        reader = catalogue_reader().engine

        def status() -> dict:
            raw = reader.raw_connection()  # the pool's only connection: requests run one at a time
            try:
                cursor = raw.cursor()
                cursor.execute(show)
                values = {name: int(value) for name, value in cursor.fetchall()}
                cursor.close()
            finally:
                raw.close()
            return values

        def get(path: str) -> None:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code, response.get_data(as_text=True)[:300])

        def measure(paths: list[str], count: int) -> dict:
            before = status()
            for i in range(count):
                get(paths[i % len(paths)])
            after = status()
            delta = {k: after[k] - before[k] - overhead[k] for k in names}
            return {
                "select": delta["Com_select"] / count,
                "rollback": delta["Com_rollback"] / count,
                "commit": delta["Com_commit"] / count,
                "statements": delta["Questions"] / count,
                "rows_read": (
                    sum(delta[k] for k in HANDLER) + delta["Handler_icp_attempts"] - delta["Handler_icp_match"]
                )
                / count,
            }

        status()  # opens the connection
        first, second = status(), status()
        overhead = {k: second[k] - first[k] for k in names}
        scenarios = json.loads(Path(args.paths).read_text())
        for paths in scenarios.values():  # the full-text settings are read once per process
            get(paths[0])
        for name, paths in scenarios.items():
            reads.catalogue_changed()
            cold = measure(paths, 1)
            get(paths[0])
            warm = measure(paths, args.requests)
            results[name] = {"cold": cold, "warm": {k: round(v, 2) for k, v in warm.items()}}
    print(json.dumps(results))


if __name__ == "__main__":
    main()
