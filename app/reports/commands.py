"""`flask rollup`: summarise the closed days (and the open day's closed hours) for the reports and
refresh the related books (run it from cron, e.g. hourly)."""

from datetime import timedelta

import click
from sqlalchemy import func, select

from app.discovery.commands import refresh_related
from app.extensions import db
from app.orders.models import Order
from app.reports import rollup


def summarise_history(start=None, end=None) -> str | None:
    """Summarise every closed day from `start` (default: the first order's) to `end` (default: the last
    closed day) that has no summary or a dirty one, a month per transaction; what was done, as text
    (None when there are no orders). `flask rollup` and bench/bench_reports.py run it."""
    first = start or db.session.execute(select(func.min(Order.created_at))).scalar()
    db.session.commit()
    if first is None:
        return None
    first = first.date() if hasattr(first, "date") else first
    last = rollup.first_open_day() - timedelta(days=1)
    if end:
        last = min(end, last)
    month, written = first.replace(day=1), 0
    while month <= last:
        # One month per transaction: a report waits for at most one month's summary, not all of them.
        done = rollup.summarise(max(month, first), min(rollup.month_end(month), last))
        if done is None:
            raise click.ClickException("Another summariser is busy; run again later.")
        written += done
        month = rollup.month_end(month) + timedelta(days=1)
    message = f"Summarised {written} day(s) from {first} to {last}."
    through = rollup.summarise_open_day()
    if through is not None:
        message += f" {through.date()} is summarised up to {through:%H:%M} UTC."
    return message


@click.command("rollup")
@click.option(
    "--from", "start", type=click.DateTime(formats=["%Y-%m-%d"]), help="First day (default: the first order's)."
)
@click.option("--to", "end", type=click.DateTime(formats=["%Y-%m-%d"]), help="Last day (default: the last closed day).")
def rollup_command(start, end):
    """Summarise every closed day that has no summary or a dirty one, a month at a time, and the open
    day's closed hours; then refresh "customers also bought" for the books whose orders changed."""
    message = summarise_history(start.date() if start else None, end.date() if end else None)
    if message is None:
        click.echo("No orders: nothing to summarise.")
        return
    click.echo(message)
    refresh_related()
