"""The embedded default on a real SQLite file: WAL with a busy timeout, catalogue reads that never
take the write lock, writers that still do (docs/decisions/0018-sqlite-reads-never-take-the-write-lock.md).

Each test uses an app of its own on a migrated file in tmp_path and real connections to it; they do
not use the suite's database, so they run the same whichever TEST_DATABASE_URL is set."""

import sqlite3
from concurrent.futures import ThreadPoolExecutor, wait
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from app.books.models import Book
from app.extensions import db
from config import TestingConfig, engine_options
from tests.conftest import MIGRATIONS

READ_DEADLINE = 10  # seconds; a read queued behind the writer would wait the 30 s busy timeout


@pytest.fixture
def file_db(tmp_path):
    """(app, path) on a migrated SQLite file holding one book."""
    path = tmp_path / "bookstore.db"
    url = f"sqlite:///{path}"
    config = type("FileConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url,
                                                   "SQLALCHEMY_ENGINE_OPTIONS": engine_options(url)})  # fmt: skip
    file_app = create_app(config)
    with file_app.app_context():
        upgrade(directory=MIGRATIONS)
        with db.engine.begin() as conn:
            conn.execute(sa.insert(Book).values(title="Quiet Harbour", author="Ann Writer", price=Decimal("9.99"),
                                                stock=5, description="A lighthouse keeper."))  # fmt: skip
    yield file_app, path
    with file_app.app_context():
        db.engine.dispose()


def _book_id(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT id FROM books").fetchone()[0]


def test_a_file_database_runs_in_wal_with_a_busy_timeout(file_db):
    file_app, path = file_db
    with file_app.app_context(), db.engine.connect() as conn:
        pragma = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in
                  ("journal_mode", "busy_timeout", "synchronous", "foreign_keys")}  # fmt: skip
    assert pragma == {"journal_mode": "wal", "busy_timeout": 30000, "synchronous": 1, "foreign_keys": 1}
    with sqlite3.connect(path) as other:  # WAL is a property of the file: every connection sees it
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_catalogue_reads_begin_deferred_and_writes_take_the_write_lock(file_db):
    file_app, path = file_db
    book_id = _book_id(path)
    with file_app.app_context():
        begins = []

        @sa.event.listens_for(db.engine, "before_cursor_execute")
        def _record(_conn, _cursor, statement, *_args):
            if statement.startswith("BEGIN"):
                begins.append(statement)

        client = file_app.test_client()
        for path_ in ("/books", "/books?q=harbour", f"/books/{book_id}"):
            assert client.get(path_).status_code == 200
        reads = list(begins)
        begins.clear()
        registered = client.post("/register", json={"name": "Writer", "email": "w@example.com",
                                                    "username": "writer1", "password": "correct-horse-battery"})  # fmt: skip
        sa.event.remove(db.engine, "before_cursor_execute", _record)
    assert registered.status_code == 201, registered.get_json()
    assert reads == ["BEGIN"] * 3
    assert begins and set(begins) == {"BEGIN IMMEDIATE"}


def test_catalogue_reads_do_not_wait_for_a_writer_and_see_only_what_it_committed(file_db):
    file_app, path = file_db
    book_id = _book_id(path)
    client = file_app.test_client()
    writer = sqlite3.connect(path, isolation_level=None, timeout=0)
    writer.execute("BEGIN IMMEDIATE")  # holds the write lock, as an order being placed does
    writer.execute("UPDATE books SET title = 'Stormy Harbour', stock = 4 WHERE id = ?", (book_id,))

    def read_all():
        return [client.get(p) for p in ("/books", "/books?q=harbour", "/books?q=stormy", f"/books/{book_id}")]

    pool = ThreadPoolExecutor(1)
    future = pool.submit(read_all)
    try:
        done, _ = wait([future], timeout=READ_DEADLINE)
    finally:
        writer.execute("COMMIT")
        pool.shutdown()
    assert done, f"the catalogue reads waited for the writer's transaction (more than {READ_DEADLINE} s)"
    listing, harbour, stormy, detail = (r.get_json() for r in future.result())
    assert [b["title"] for b in listing["items"]] == ["Quiet Harbour"]
    assert [b["title"] for b in harbour["items"]] == ["Quiet Harbour"]
    assert stormy["total"] == 0 and stormy["items"] == []
    assert (detail["title"], detail["stock"]) == ("Quiet Harbour", 5)

    committed = client.get("/books?q=stormy").get_json()  # the search index followed the committed update
    assert [(b["id"], b["title"], b["stock"]) for b in committed["items"]] == [(book_id, "Stormy Harbour", 4)]
    assert client.get("/books?q=quiet").get_json()["total"] == 0
    writer.close()
