"""A use case's transaction, run again when it loses a lock conflict (`run_transaction`), and
`missing_reference`: the database refused a row naming a parent that was deleted meanwhile.

Every domain that writes rows others write concurrently (customers, books, cart, orders) uses
this one module, so there is one list of lock errors and one retry policy.
"""

import logging
import random
import time
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from app.errors import MYSQL_LOCK_CONFLICT, ServiceUnavailable
from app.extensions import db

log = logging.getLogger(__name__)

MAX_RETRIES = 3
MYSQL_MISSING_PARENT = 1452  # cannot add or update a child row: its parent row is gone


def _code(err: DBAPIError) -> int | None:
    args = getattr(err.orig, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def lock_conflict(err: OperationalError) -> bool:
    """A deadlock or lock wait timeout (MySQL/MariaDB), or a busy SQLite: worth running again."""
    return _code(err) in MYSQL_LOCK_CONFLICT or "database is locked" in str(err.orig).lower()


def missing_reference(err: IntegrityError) -> bool:
    """An INSERT or UPDATE named a parent row that does not exist (deleted meanwhile)."""
    return _code(err) == MYSQL_MISSING_PARENT or "foreign key constraint failed" in str(err.orig).lower()


def run_transaction(work: Callable, *args, **kwargs):
    """Run `work` (which commits) and retry it on a deadlock or lock wait timeout, then 503."""
    for attempt in range(MAX_RETRIES + 1):
        try:
            return work(*args, **kwargs)
        except OperationalError as err:
            db.session.rollback()
            if not lock_conflict(err):
                raise
            if attempt == MAX_RETRIES:
                log.warning("giving up after %d lock conflicts in %s", attempt + 1, work.__name__)
                raise ServiceUnavailable(
                    "The store is busy with conflicting changes; retry shortly.", retry_after=1
                ) from err
            time.sleep(random.uniform(0.005, 0.02) * (2**attempt))
    raise AssertionError("unreachable")
