"""A use case's transaction, run again when it loses a lock conflict: the one retry policy of every
domain that writes rows others write concurrently (customers, books, cart, orders); and the one
way periodic jobs (report rollups, related books) run one at a time."""

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import current_app
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from app.dberrors import is_lock_conflict
from app.errors import ServiceUnavailable
from app.extensions import db

log = logging.getLogger(__name__)

# Retries after a deadlock, lock wait timeout or Galera certification conflict (DB_CONFLICT_RETRIES),
# each after a full-jitter sleep below min(cap, base * 2**attempt): bench/README.md, "Cluster".
BACKOFF_BASE = 0.01
BACKOFF_CAP = 0.2


def run_transaction(work: Callable, *args, **kwargs):
    """Run `work` (which commits) and retry it on a deadlock or lock wait timeout, then 503."""
    retries = current_app.config["DB_CONFLICT_RETRIES"]
    for attempt in range(retries + 1):
        try:
            return work(*args, **kwargs)
        except OperationalError as err:
            db.session.rollback()
            if not is_lock_conflict(err):
                raise
            if attempt == retries:
                log.warning("giving up after %d lock conflicts in %s", attempt + 1, work.__name__)
                raise ServiceUnavailable(
                    "The store is busy with conflicting changes; retry shortly.", retry_after=1
                ) from err
            time.sleep(random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt + 1))))
    raise AssertionError("unreachable")


@contextmanager
def one_at_a_time(job: str, wait_seconds: float) -> Iterator[bool]:
    """Yield True once this process may run `job`, False when another process kept it for
    `wait_seconds`. On MySQL/MariaDB a named lock (per database) held on a connection of its own (the
    session returns its connection to the pool at each commit), taken after the caller's transaction
    ended and released after the job, so each run reads a snapshot taken after the previous one
    committed. SQLite's BEGIN IMMEDIATE already serialises writers."""
    db.session.commit()
    engine = db.engine
    if engine.dialect.name != "mysql" or not isinstance(engine, Engine):  # tests: one shared connection
        yield True
        return
    name = "CONCAT(DATABASE(), :job)"
    with engine.connect() as lock:
        params = {"job": "." + job, "seconds": wait_seconds}
        got = lock.execute(text(f"SELECT GET_LOCK({name}, :seconds)"), params).scalar()
        try:
            yield got == 1
        finally:
            if got == 1:
                lock.execute(text(f"SELECT RELEASE_LOCK({name})"), params)
            lock.rollback()
