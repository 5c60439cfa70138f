"""The one way around the ORM: statements compiled once, sent by the driver directly.

`Prepared.run` executes a Core statement inside the request's session transaction (the hot paths:
the token check of every request, order placement). `Reader` runs the catalogue's public reads on
a connection of their own, outside any transaction. Both compile a statement once per dialect and,
on MySQL/MariaDB, hand it to PyMySQL without SQLAlchemy's per-execution work; other dialects (the
SQLite default) go through SQLAlchemy, whose drivers need its type conversions. A database error
comes out of both as SQLAlchemy's exception (`translated`), so the retry loop and the one error
handler treat every path alike. Why: docs/decisions/0006-prepared-hot-path-statements.md.
"""

from contextlib import contextmanager, nullcontext
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy import bindparam, insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from app import dberrors
from app.errors import ServiceUnavailable
from app.extensions import db

READ_TIME_LIMIT = 5  # seconds a catalogue read may run on MariaDB before it is stopped
# Execution option of the catalogue reader's connections on SQLite: their transactions only read, so
# they begin deferred (a WAL snapshot) instead of taking the write lock (app/__init__.py).
READS_ONLY = "bookstore_reads_only"


class Outcome(NamedTuple):
    rowcount: int
    rows: list  # tuples, in the statement's column order
    inserted_id: int | None  # the new row's primary key, after a single-row INSERT


def translated(err: Exception, sql: str, params, engine: sa.Engine, dbapi_connection, *, many: bool = False):
    """The DBAPI error `err` as SQLAlchemy's exception; a lost connection makes the engine replace
    every pooled connection opened before now (as SQLAlchemy does), the server having probably
    restarted."""
    dialect = engine.dialect
    gone = dialect.is_disconnect(err, dbapi_connection, None)
    if gone:
        engine.dispose(close=False)
    return DBAPIError.instance(
        sql,
        params,
        err,
        dialect.loaded_dbapi.Error,
        hide_parameters=engine.hide_parameters,
        connection_invalidated=gone,
        dialect=dialect,
        ismulti=many,
    )


def _execute(dbapi_connection, sql: str, params, many: bool, is_insert: bool) -> Outcome:
    cursor = dbapi_connection.cursor()
    try:
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
        rows = cursor.fetchall() if cursor.description else []
        inserted = cursor.lastrowid if is_insert and not many else None
        return Outcome(cursor.rowcount, rows, inserted)
    finally:
        cursor.close()


class Prepared:
    """A Core statement whose bound parameters all have explicit names (`bindparam("x")`)."""

    def __init__(self, statement):
        self.statement = statement
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None]] = {}

    @classmethod
    def insert(cls, table, *columns: str, **renamed: str) -> "Prepared":
        """INSERT INTO table (columns...) VALUES (:column, ...); `renamed` gives a column a
        parameter of another name (`created_at="now"`)."""
        values = {name: bindparam(name) for name in columns}
        values.update({name: bindparam(param) for name, param in renamed.items()})
        return cls(insert(table).values(values))

    def compiled(self, dialect) -> tuple[str, tuple[str, ...] | None]:
        """The SQL text for `dialect` and, for a positional paramstyle, the parameter names in order."""
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            defaults = [c.key for c in (*compiled.insert_prefetch, *compiled.update_prefetch)]
            if defaults:  # computed by SQLAlchemy's execution context, which is not used here
                raise TypeError(f"A Prepared statement must set {', '.join(defaults)} itself (Python-side defaults).")
            order = tuple(compiled.positiontup) if compiled.positional else None
            found = self._compiled[dialect.name] = (str(compiled), order)
        return found

    def driver_params(self, dialect, params: dict[str, Any] | list[dict[str, Any]]):
        """(sql, params in the driver's form) for `dialect`."""
        sql, order = self.compiled(dialect)
        if order is None:
            return sql, params
        if isinstance(params, list):
            return sql, [tuple(p[name] for name in order) for p in params]
        return sql, tuple(params[name] for name in order)

    def run(self, params: dict[str, Any] | list[dict[str, Any]]) -> Outcome:
        """Execute in the session's transaction; a list of parameter sets is an executemany
        (one multi-row INSERT on PyMySQL)."""
        conn = db.session.connection()
        many = isinstance(params, list)
        self.compiled(conn.dialect)  # refuses a statement that needs Python-side defaults, on every dialect
        if conn.dialect.name != "mysql":
            result = db.session.execute(self.statement, params)
            rows = result.all() if result.returns_rows else []
            inserted = result.inserted_primary_key[0] if self.statement.is_insert and not many else None
            return Outcome(result.rowcount, rows, inserted)
        sql, driver_params = self.driver_params(conn.dialect, params)
        dbapi_connection = conn.connection.dbapi_connection
        try:
            return _execute(dbapi_connection, sql, driver_params, many, self.statement.is_insert)
        except conn.dialect.loaded_dbapi.Error as err:
            failure = translated(err, sql, driver_params, conn.engine, dbapi_connection, many=many)
            if failure.connection_invalidated:
                conn.invalidate(err)
            raise failure from err


class Reader:
    """Public catalogue reads, outside any transaction.

    On MySQL/MariaDB it owns a second pool on the same database: AUTOCOMMIT (a read opens no
    transaction), nothing sent when a connection goes back to the pool, no pre-ping, and on MariaDB
    a statement time limit (READ_TIME_LIMIT). A read that finds its connection dead is retried once
    on a fresh one. Other databases read through the app's engine, marked READS_ONLY: on SQLite a
    read is then a deferred transaction, which in WAL mode never waits for a writer
    (docs/decisions/0018-sqlite-reads-never-take-the-write-lock.md). `bind` points the reads at one
    connection instead (the test suite's outer transaction)."""

    def __init__(self, engine: sa.Engine, time_limit: float):
        self.engine = engine
        self.time_limit = time_limit
        self._bound: Connection | None = None

    @classmethod
    def for_engine(cls, engine: sa.Engine, options: dict, time_limit: float = READ_TIME_LIMIT) -> "Reader":
        if engine.dialect.name != "mysql":
            return cls(engine.execution_options(**{READS_ONLY: True}), time_limit)
        options = {
            **options,
            "isolation_level": "AUTOCOMMIT",
            "skip_autocommit_rollback": True,
            "pool_reset_on_return": None,
            "pool_pre_ping": False,
        }
        reader = sa.create_engine(engine.url, **options)

        @sa.event.listens_for(reader, "connect")
        def _limit_statement_time(dbapi_connection, _record):
            if "mariadb" in dbapi_connection.get_server_info().lower():
                cursor = dbapi_connection.cursor()
                cursor.execute(f"SET SESSION max_statement_time = {float(time_limit)}")
                cursor.close()

        return cls(reader, time_limit)

    def bind(self, connection: Connection | None) -> None:
        """Read through `connection` (None: back to the reader's own pool)."""
        self._bound = connection

    def _too_slow(self, err: DBAPIError) -> ServiceUnavailable:
        return ServiceUnavailable(
            f"The catalogue query took more than {self.time_limit:g} s and was stopped; "
            "narrow it (more or rarer words, a genre, an author).",
            retry_after=max(1, round(self.time_limit)),
        )

    @contextmanager
    def _connection(self):
        if self._bound is not None:
            with nullcontext(self._bound) as conn:
                yield conn
        else:
            with self.engine.connect() as conn:
                yield conn

    def run(self, work):
        """`work(connection)`'s result; a lost connection is retried once, an over-long read is a 503."""
        for attempt in (1, 2):
            try:
                with self._connection() as conn:
                    return work(conn)
            except DBAPIError as err:
                if dberrors.is_statement_timeout(err):
                    raise self._too_slow(err) from err
                if attempt == 2 or not err.connection_invalidated or self._bound is not None:
                    raise
        raise AssertionError("unreachable")

    def fetch_one(self, prepared: Prepared, params: dict[str, Any]):
        """One row (or None) of `prepared`: on MySQL/MariaDB a single statement on a pooled DBAPI
        connection, the leanest read there is."""
        if self._bound is not None or self.engine.dialect.name != "mysql":
            return self.run(lambda conn: conn.execute(prepared.statement, params).first())
        sql, driver_params = prepared.driver_params(self.engine.dialect, params)
        error = self.engine.dialect.loaded_dbapi.Error
        for attempt in (1, 2):
            try:
                raw = self.engine.raw_connection()
            except error as err:  # cannot connect (or a Galera node refuses the session): 503
                raise DBAPIError.instance(sql, driver_params, err, error, connection_invalidated=True) from err
            try:
                rows = _execute(raw.dbapi_connection, sql, driver_params, False, False).rows
                return rows[0] if rows else None
            except error as err:
                failure = translated(err, sql, driver_params, self.engine, raw.dbapi_connection)
                if failure.connection_invalidated:
                    raw.invalidate(err)
                    if attempt == 1:
                        continue
                if dberrors.is_statement_timeout(failure):
                    raise self._too_slow(failure) from err
                raise failure from err
            finally:
                raw.close()
        raise AssertionError("unreachable")


def init_app(app: Flask) -> None:
    """Build the app's catalogue reader (inside the app context)."""
    app.extensions["prepared.reader"] = Reader.for_engine(db.engine, app.config["SQLALCHEMY_ENGINE_OPTIONS"])


def reader() -> Reader:
    """The current app's catalogue reader."""
    return current_app.extensions["prepared.reader"]
