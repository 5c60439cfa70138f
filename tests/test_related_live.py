"""The related-books refresh on a real MariaDB server, with several connections: it never locks the
order tables (an order placed while a refresh's transaction is open does not wait), and one
refresh runs at a time (`flask related` gives up while another holds the lock)."""

import os
import subprocess
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.discovery.models import BookRelated
from app.discovery.services import ranked_related
from app.orders.models import Order, OrderItem
from tests.live import ROOT, VENV_BIN, LiveDatabase, mysql_test_url

pytestmark = [
    pytest.mark.mysql_only,
    pytest.mark.skipif(mysql_test_url() is None, reason="needs TEST_DATABASE_URL on MySQL/MariaDB"),
]


@pytest.fixture(scope="module")
def live():
    database = LiveDatabase("related_live")
    engine = database.create()
    yield database, engine
    database.drop()


def add_books(engine, n: int) -> list[int]:
    with engine.connect() as conn:
        first = conn.execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM books")).scalar() + 1
        for i in range(n):
            conn.execute(
                sa.text("INSERT INTO books (title, author, price, stock, created_at, updated_at) "
                        "VALUES (:t, 'Live', 5.00, 10, NOW(), NOW())"),
                {"t": f"Live {first + i}"},
            )  # fmt: skip
    return list(range(first, first + n))


def add_order(conn, book_ids: list[int]) -> int:
    order_id = conn.execute(
        sa.insert(Order).values(status="paid", total=Decimal("0"), created_at=sa.func.now(), updated_at=sa.func.now())
    ).inserted_primary_key[0]
    conn.execute(
        sa.insert(OrderItem),
        [
            {"order_id": order_id, "book_id": b, "title": "t", "unit_price": 1, "quantity": 1, "line_total": 1}
            for b in book_ids
        ],
    )
    return order_id


def flask_related(database, *args) -> subprocess.CompletedProcess:
    env = {"DATABASE_URL": database.url.render_as_string(hide_password=False), "FLASK_APP": "run.py"}
    return subprocess.run(
        [str(VENV_BIN / "flask"), "related", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_order_placed_during_a_refresh_does_not_wait(live):
    _, engine = live
    a, b, c = add_books(engine, 3)
    with engine.connect() as conn:
        read_order = add_order(conn, [a, b])
    refresher = engine.connect().execution_options(isolation_level="REPEATABLE READ")
    buyer = engine.connect().execution_options(isolation_level="REPEATABLE READ")
    try:
        with refresher.begin():
            # What one refresh batch does inside its transaction, left open.
            rows = refresher.execute(ranked_related([a, b, c])).all()
            refresher.execute(sa.delete(BookRelated).where(BookRelated.book_id.in_([a, b, c])))
            refresher.execute(
                sa.insert(BookRelated), [{"book_id": x, "related_id": y, "orders": n} for x, y, n in rows]
            )
            with buyer.begin():
                buyer.execute(sa.text("SET SESSION innodb_lock_wait_timeout = 1"))
                add_order(buyer, [a, c])  # a lock wait here would fail with error 1205 after 1 s
                # Cancelling an order the refresh has read does not wait either.
                buyer.execute(sa.update(Order).where(Order.id == read_order).values(status="cancelled"))
    finally:
        refresher.close()
        buyer.close()
    assert {(x, y) for x, y, _ in rows} == {(a, b), (b, a)}


def test_one_refresh_at_a_time(live):
    database, engine = live
    a, b = add_books(engine, 2)
    with engine.connect() as conn:
        add_order(conn, [a, b])
    with engine.connect() as holder:
        assert holder.execute(sa.text("SELECT GET_LOCK(CONCAT(DATABASE(), '.book_related'), 0)")).scalar() == 1
        busy = flask_related(database)
        holder.execute(sa.text("SELECT RELEASE_LOCK(CONCAT(DATABASE(), '.book_related'))"))
    assert busy.returncode != 0 and "Another refresh" in busy.stderr
    done = flask_related(database, "--all")
    assert done.returncode == 0, done.stderr
    with engine.connect() as conn:
        got = conn.execute(sa.text("SELECT related_id FROM book_related WHERE book_id = :a"), {"a": a}).scalars().all()
    assert b in got
