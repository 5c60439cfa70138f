"""app/prepared.py: hot-path statements compiled once and run on the session's own connection
(PyMySQL directly on MariaDB, Session.execute elsewhere) behave like any session statement."""

from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import bindparam, event, insert, select, update

from app.accounts.models import RevokedToken
from app.books.models import Book
from app.clock import utcnow
from app.extensions import db
from app.prepared import Outcome, Prepared

_books = Book.__table__
_SET_STOCK = Prepared(
    update(_books).where(_books.c.id == bindparam("book_id")).values(stock=bindparam("stock"), updated_at=sa.func.now())
)
_STOCK_OF = Prepared(select(_books.c.id, _books.c.stock, _books.c.price).where(_books.c.id == bindparam("book_id")))
_REVOKE = Prepared.insert(RevokedToken.__table__, "jti", expires_at="at", revoked_at="at")


def _stock(book_id: int) -> int:
    return db.session.execute(select(Book.stock).where(Book.id == book_id)).scalar_one()


def test_outcome_rows_rowcount_and_inserted_id(app, book):
    row = book(stock=7, price=Decimal("12.50"))
    found = _STOCK_OF.run({"book_id": row.id})
    assert isinstance(found, Outcome)
    assert [tuple(r) for r in found.rows] == [(row.id, 7, Decimal("12.50"))]
    assert _SET_STOCK.run({"book_id": row.id, "stock": 3}).rowcount == 1
    assert _SET_STOCK.run({"book_id": 2**31 - 1, "stock": 3}).rowcount == 0
    inserted = _REVOKE.run({"jti": "prepared-inserted-id", "at": utcnow()})
    assert inserted.rowcount == 1
    assert db.session.get(RevokedToken, inserted.inserted_id).jti == "prepared-inserted-id"
    assert found.inserted_id is None
    db.session.rollback()


def test_a_list_of_parameter_sets_inserts_every_row(app):
    now = utcnow()
    _REVOKE.run([{"jti": f"prepared-many-{i}", "at": now} for i in range(3)])
    stored = db.session.execute(select(RevokedToken.jti).where(RevokedToken.jti.like("prepared-many-%"))).scalars()
    assert sorted(stored) == ["prepared-many-0", "prepared-many-1", "prepared-many-2"]
    db.session.rollback()


def test_statements_commit_and_roll_back_with_the_session(app, book):
    row = book(stock=10)
    _SET_STOCK.run({"book_id": row.id, "stock": 4})
    assert _stock(row.id) == 4  # the session sees it: same connection, same transaction
    db.session.rollback()
    assert _stock(row.id) == 10
    _SET_STOCK.run({"book_id": row.id, "stock": 5})
    db.session.commit()
    db.session.rollback()  # nothing left to undo
    assert _stock(row.id) == 5


def test_database_errors_arrive_as_sqlalchemy_errors_and_the_session_recovers(app, book):
    row = book(stock=10)
    _REVOKE.run({"jti": "prepared-duplicate", "at": utcnow()})
    with pytest.raises(sa.exc.IntegrityError):
        _REVOKE.run({"jti": "prepared-duplicate", "at": utcnow()})
    db.session.rollback()
    assert _SET_STOCK.run({"book_id": row.id, "stock": 2}).rowcount == 1
    db.session.commit()
    assert _stock(row.id) == 2


def test_python_side_column_defaults_must_be_given(app):
    """updated_at has an onupdate default that only SQLAlchemy's execution context computes."""
    forgetful = Prepared(update(_books).where(_books.c.id == bindparam("book_id")).values(stock=bindparam("stock")))
    with pytest.raises(TypeError, match="updated_at"):
        forgetful.run({"book_id": 1, "stock": 1})
    with pytest.raises(TypeError, match="revoked_at"):
        Prepared(insert(RevokedToken.__table__).values(jti=bindparam("jti"), expires_at=bindparam("at"))).run(
            {"jti": "x", "at": utcnow()}
        )


def _session_counters(conn) -> dict[str, int]:
    names = ("Com_select", "Com_update", "Com_insert", "Com_delete", "Com_commit", "Com_rollback")
    rows = conn.exec_driver_sql(
        "SHOW SESSION STATUS WHERE Variable_name IN (" + ", ".join(f"'{n}'" for n in names) + ")"
    ).all()
    return {name: int(value) for name, value in rows}


@pytest.mark.mysql_only
@pytest.mark.parametrize("lines", [1, 3])
def test_mariadb_order_placement_statements_go_straight_to_the_driver(
    client, is_mysql, book, customer, customer_headers, lines
):
    """Counted by the server on the test's connection (which serves the requests): the token
    check and the whole placement are 3 SELECTs, one UPDATE per line and 3 INSERTs, and none of
    them passes through SQLAlchemy's execution path (only the test's SAVEPOINTs do)."""
    if not is_mysql:
        pytest.skip("server counters are MySQL/MariaDB's")
    books = [book(title=f"Prepared {i}", stock=5) for i in range(lines)]
    conn = db.session.connection()
    through_sqlalchemy = []

    def record(_conn, _cursor, statement, *_args):
        through_sqlalchemy.append(statement)

    before = _session_counters(conn)
    event.listen(db.engines[None], "before_cursor_execute", record)
    try:
        response = client.post(
            "/orders", json={"items": [{"book_id": b.id, "quantity": 1} for b in books]}, headers=customer_headers
        )
    finally:
        event.remove(db.engines[None], "before_cursor_execute", record)
    assert response.status_code == 201, response.get_json()
    after = _session_counters(conn)
    delta = {name: after[name] - before[name] for name in before}
    assert delta == {
        "Com_select": 3,  # the principal (account + revoked), the customer lock with its address, titles and prices
        "Com_update": lines,
        "Com_insert": 3,  # order, its lines (one multi-row INSERT), first history row
        "Com_delete": 0,
        "Com_commit": 0,  # the app's commit is a RELEASE SAVEPOINT inside the test's transaction
        "Com_rollback": 0,
    }, delta
    assert [s for s in through_sqlalchemy if "SAVEPOINT" not in s.upper()] == []


@pytest.mark.mysql_only
def test_mariadb_a_connection_killed_under_a_statement_replaces_the_pool(is_mysql):
    """As SQLAlchemy's own execution path does: the statement fails as a disconnect (so the
    error handler answers 503), and the idle pooled connections opened before it are not handed
    out again (the server may have restarted under all of them)."""
    if not is_mysql:
        pytest.skip("MariaDB's KILL")
    from app import create_app

    other = create_app("testing")  # its own engine and pool on the test database
    with other.app_context():
        engine = db.engine
        try:
            with engine.connect() as a, engine.connect() as b:
                idle_ids = {c.exec_driver_sql("SELECT CONNECTION_ID()").scalar_one() for c in (a, b)}
            victim = db.session.execute(sa.text("SELECT CONNECTION_ID()")).scalar_one()
            with engine.connect() as killer:
                killer.exec_driver_sql(f"KILL {int(victim)}")
            with pytest.raises(sa.exc.OperationalError) as caught:
                _STOCK_OF.run({"book_id": 1})
            assert caught.value.connection_invalidated
            db.session.rollback()
            assert db.session.execute(sa.text("SELECT 1")).scalar_one() == 1  # a fresh connection
            fresh = db.session.execute(sa.text("SELECT CONNECTION_ID()")).scalar_one()
            db.session.rollback()
            with engine.connect() as again:
                reused = again.exec_driver_sql("SELECT CONNECTION_ID()").scalar_one()
            assert fresh not in idle_ids and reused not in idle_ids, (idle_ids, fresh, reused)
        finally:
            db.session.remove()
            engine.dispose()
