"""What a database error means, in one place: the error handler, the retry loop and the catalogue
reader all classify errors here."""

from sqlalchemy.exc import DBAPIError

# MySQL/MariaDB error numbers.
UNAVAILABLE = frozenset({1040, 1047, 1053, 1927, 2002, 2003, 2006, 2013, 2055, 4031})  # 1047: a non-primary Galera node
LOCK_CONFLICT = frozenset({1205, 1213})  # lock wait timeout, deadlock (and a Galera certification failure)
CHECK_VIOLATION = frozenset({3819, 4025})
BAD_VALUE = frozenset({1264, 1292, 1366, 1406, 1690})
DUPLICATE_KEY = 1062
MISSING_PARENT = 1452  # cannot add or update a child row: its parent row is gone
STATEMENT_TIMEOUT = 1969  # MariaDB's max_statement_time

SQLITE_LOCKED = "database is locked"
SQLITE_UNAVAILABLE = ("unable to open database", "disk i/o error", "database disk image is malformed")


def error_code(err: DBAPIError) -> int | None:
    """The server's error number (MySQL/MariaDB), or None."""
    args = getattr(getattr(err, "orig", None), "args", None)
    if args and isinstance(args[0], int):
        return args[0]
    return None


def message(err: DBAPIError) -> str:
    return str(getattr(err, "orig", err)).lower()


def is_lock_conflict(err: DBAPIError) -> bool:
    """A deadlock or lock wait timeout (MySQL/MariaDB) or a busy SQLite file: retrying may succeed."""
    return error_code(err) in LOCK_CONFLICT or SQLITE_LOCKED in message(err)


def is_missing_reference(err: DBAPIError) -> bool:
    """An INSERT or UPDATE named a parent row that does not exist (deleted meanwhile)."""
    return error_code(err) == MISSING_PARENT or "foreign key constraint failed" in message(err)


def is_statement_timeout(err: DBAPIError) -> bool:
    return error_code(err) == STATEMENT_TIMEOUT


def is_check_violation(err: DBAPIError) -> bool:
    return error_code(err) in CHECK_VIOLATION or "check constraint" in message(err)


def is_bad_value(err: DBAPIError) -> bool:
    return error_code(err) in BAD_VALUE


def is_unreachable(err: DBAPIError) -> bool:
    """The database cannot serve us now (503), as opposed to a query the server refused (500).

    MySQL client errors (2000-2999: cannot connect, server gone, lost connection) and a few
    server states are unavailability; a server error such as 1054 (unknown column: the schema
    needs `flask db upgrade`) is a fault of this deployment."""
    if err.connection_invalidated or err.__class__.__name__ == "InterfaceError":
        return True
    code = error_code(err)
    if code is not None:
        return code in UNAVAILABLE or 2000 <= code < 3000
    return err.__class__.__name__ == "OperationalError" and any(m in message(err) for m in SQLITE_UNAVAILABLE)
