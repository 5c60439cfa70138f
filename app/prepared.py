"""Statements of the hot paths (the token check of every request, order placement), compiled once
and sent on the connection of the request's session transaction.

Running a statement through `Session.execute` costs SQLAlchemy a cache key, a compiled-cache
lookup, an execution context and a result object every time: on MySQL/MariaDB that was more CPU
than the driver and the database together spent on an order (bench/README.md, "Orders"). A
`Prepared` statement is written once as a Core construct, compiled once per dialect, and on
MySQL/MariaDB handed to PyMySQL on the session's own DBAPI connection, so it is part of the
session's transaction and is committed or rolled back with it. PyMySQL converts the Python values
(Decimal, datetime, date, None) itself.

Other dialects (SQLite, the embedded default) go through `Session.execute`: their drivers need
SQLAlchemy's type conversions, and throughput is not what the embedded default is for. Either way
the caller gets the same `Outcome`, and a database error surfaces as SQLAlchemy's exception
(OperationalError, IntegrityError...) so the retry loop and the error handler treat both alike.
"""

from typing import Any, NamedTuple

from sqlalchemy import bindparam, insert
from sqlalchemy.exc import DBAPIError

from app.extensions import db


class Outcome(NamedTuple):
    rowcount: int
    rows: list  # tuples, in the statement's column order
    inserted_id: int | None  # the new row's primary key, after a single-row INSERT


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

    def run(self, params: dict[str, Any] | list[dict[str, Any]]) -> Outcome:
        """Execute in the session's transaction; a list of parameter sets is an executemany
        (one multi-row INSERT on PyMySQL)."""
        conn = db.session.connection()
        dialect = conn.dialect
        sql, order = self.compiled(dialect)
        many = isinstance(params, list)
        if dialect.name != "mysql":
            result = db.session.execute(self.statement, params)
            rows = result.all() if result.returns_rows else []
            inserted = result.inserted_primary_key[0] if self.statement.is_insert and not many else None
            return Outcome(result.rowcount, rows, inserted)
        if order is not None:
            params = [tuple(p[name] for name in order) for p in params] if many else tuple(params[n] for n in order)
        dbapi_connection = conn.connection.dbapi_connection
        try:
            cursor = dbapi_connection.cursor()
            try:
                if many:
                    cursor.executemany(sql, params)
                else:
                    cursor.execute(sql, params)
                rows = cursor.fetchall() if cursor.description else []
                inserted = cursor.lastrowid if self.statement.is_insert and not many else None
                return Outcome(cursor.rowcount, rows, inserted)
            finally:
                cursor.close()
        except dialect.loaded_dbapi.Error as err:
            gone = dialect.is_disconnect(err, dbapi_connection, None)
            if gone:
                # As SQLAlchemy does on a disconnect: every pooled connection opened before now
                # is replaced at its next checkout (the server probably restarted), then this one.
                conn.engine.pool._invalidate(conn.connection, err)
                conn.invalidate(err)
            raise DBAPIError.instance(
                sql,
                params,
                err,
                dialect.loaded_dbapi.Error,
                hide_parameters=conn.engine.hide_parameters,
                connection_invalidated=gone,
                dialect=dialect,
                ismulti=many,
            ) from err
