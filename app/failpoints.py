"""Test-only failpoints: named places in a use case where a fault test can make the code pause.

Off unless the FAILPOINTS environment variable names them, e.g. `FAILPOINTS=order.before_commit=2.5`
(seconds to sleep there). Fault tests use it to hold an order between taking the stock and the
commit, then kill the worker or the database. Never set it in production.
"""

import time

from flask import current_app


def parse(spec: str) -> dict[str, float]:
    points = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, seconds = item.partition("=")
        try:
            points[name.strip()] = float(seconds or 0)
        except ValueError as exc:
            raise RuntimeError(f"FAILPOINTS: {item!r} is not name=seconds") from exc
    return points


def hit(name: str) -> None:
    seconds = current_app.config.get("FAILPOINTS", {}).get(name)
    if seconds:
        time.sleep(seconds)
