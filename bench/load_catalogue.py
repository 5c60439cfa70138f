"""Create a fresh benchmark database and load N generated books through the bulk seeder.

    .venv/bin/python bench/load_catalogue.py --books 1000000 [--database bookstore_bench]

Drops and recreates the database (it must be a benchmark database of its own), migrates it with
the project's migrations, runs the same bulk path as `flask seed --books N`, then ANALYZE TABLE.
Prints the load time.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--books", type=int, required=True)
    parser.add_argument("--database", default="bookstore_bench")
    parser.add_argument("--server", default=os.environ.get("BENCH_MYSQL", "mysql://root@127.0.0.1:3306"))
    args = parser.parse_args()
    if not (args.database.startswith("bookstore_bench") or "_bench_" in args.database):
        parser.error("the benchmark database name must start with bookstore_bench or hold _bench_ (it is dropped)")

    # config.py reads DATABASE_URL when it is imported: set it before anything imports it.
    os.environ["DATABASE_URL"] = f"{args.server}/{args.database}"
    import sqlalchemy as sa
    from dbtools import recreate_database

    from config import Config

    url = Config.SQLALCHEMY_DATABASE_URI
    if not url.startswith("mysql") or not url.split("?")[0].endswith("/" + args.database):
        raise SystemExit(f"refusing to load into {url}")

    recreate_database(url, args.database)

    from flask_migrate import upgrade

    from app import create_app
    from app.books.seed import bulk_load
    from app.extensions import db

    app = create_app("production" if os.environ.get("SECRET_KEY") else "development")
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        started = time.perf_counter()
        inserted = bulk_load(args.books)
        loaded = time.perf_counter() - started
        db.session.execute(sa.text("ANALYZE TABLE books"))
        db.session.commit()
        print(f"loaded {inserted} books in {loaded:.1f} s", flush=True)


if __name__ == "__main__":
    main()
