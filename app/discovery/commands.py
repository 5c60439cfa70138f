"""`flask related`: refresh "customers also bought" (also run by `flask rollup` and `flask seed`)."""

import click

from app.discovery import services


def refresh_related(full: bool = False) -> None:
    """Refresh the related books and say what was done (a ClickException when another refresh runs)."""
    done = services.refresh(full=full)
    if done is None:
        raise click.ClickException("Another refresh of the related books is running; run again later.")
    scope = "every book" if done.full else "the books whose orders changed"
    click.echo(f"Related books: refreshed {done.books} book(s) ({scope}) in {done.seconds:.1f} s.")


@click.command("related")
@click.option("--all", "full", is_flag=True, help="Recompute every book, not only those whose orders changed.")
def related_command(full):
    """Recompute "customers also bought" for the books whose orders changed since the last run."""
    refresh_related(full)
