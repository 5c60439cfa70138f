"""CLI: `flask create-admin`, `flask seed`, `flask purge-expired`, `flask rollup` and `flask related`."""

import click
from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import select

from app.accounts import services as account_services
from app.accounts.models import Account
from app.accounts.schemas import RegisterSchema
from app.books.seed import seed_books
from app.discovery.commands import refresh_related, related_command
from app.errors import APIError
from app.extensions import db
from app.orders.seed import seed_orders
from app.orders.services import purge_idempotency_keys
from app.reports.commands import rollup_command
from app.reviews.seed import seed_reviews

DEMO_ADMIN = {"username": "admin", "email": "admin@bookstore.example", "password": "admin-pass-123"}
DEMO_CUSTOMER = {
    "name": "Ada Reader",
    "email": "ada@bookstore.example",
    "phone": "+44 20 7946 0000",
    "username": "ada",
    "password": "ada-pass-123",
    "default_address": {
        "name": "Ada Reader",
        "line1": "221B Baker Street",
        "city": "London",
        "postal_code": "NW1 6XE",
        "country": "GB",
        "phone": "+44 20 7946 0000",
    },
}


def _validated(schema, data: dict) -> dict:
    try:
        return schema.load(data)
    except ValidationError as err:
        raise click.BadParameter("; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in err.messages.items())) from None


@click.command("create-admin")
@click.option("--username", prompt=True)
@click.option("--email", prompt=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_admin(username, email, password):
    """Make an admin account (the only way to make one)."""
    data = _validated(RegisterSchema(), {"name": username, "email": email, "username": username, "password": password})
    try:
        account = account_services.create_admin(data["username"], data["email"], data["password"])
    except APIError as err:
        db.session.rollback()  # the customer row may already be flushed
        raise click.ClickException(err.detail or "could not create the admin") from None
    click.echo(f"Admin {account.username!r} created (account id {account.id}).")


def _ensure_account(spec: dict, admin: bool) -> str:
    exists = db.session.execute(select(Account.id).where(Account.username == spec["username"])).first()
    if exists:
        return "kept"
    try:
        if admin:
            account_services.create_admin(spec["username"], spec["email"], spec["password"])
        else:
            account_services.register(RegisterSchema().load(spec))
    except APIError as err:  # e.g. a real customer already has the demo email
        db.session.rollback()
        return f"not created ({err.detail})"
    return "created"


@click.command("seed")
@click.option(
    "--books", default=None, type=click.IntRange(min=0), help="How many generated books (default: a demo catalogue)."
)
@click.option("--orders", default=None, type=click.IntRange(min=0), help="How many generated orders.")
def seed(books, orders):
    """Load demo data; running it again changes nothing that is already there."""
    steps = [("demo admin", DEMO_ADMIN, True), ("demo customer", DEMO_CUSTOMER, False)]
    with click.progressbar(steps, label="Accounts", item_show_func=lambda s: s and s[0]) as bar:
        results = [(name, spec, _ensure_account(spec, admin)) for name, spec, admin in bar]
    for name, _spec, outcome in results:
        click.echo(f"  {name}: {outcome}")
    seed_books(books)
    seed_orders(orders, demo_username=DEMO_CUSTOMER["username"])
    seed_reviews()
    refresh_related()
    for name, spec, outcome in results:
        if outcome in ("created", "kept"):
            click.echo(f"{name.capitalize()}: {spec['username']} / {spec['password']}")
    current_app.logger.info("seed finished")


@click.command("purge-expired")
def purge_expired():
    """Delete revocations of tokens that have expired anyway and idempotency keys past retention."""
    revoked = account_services.purge_expired_revocations()
    keys = purge_idempotency_keys(current_app.config["IDEMPOTENCY_KEY_TTL_HOURS"])
    click.echo(f"Removed {revoked} expired token revocation(s) and {keys} idempotency key(s).")


def register_commands(app):
    app.cli.add_command(create_admin)
    app.cli.add_command(seed)
    app.cli.add_command(purge_expired)
    app.cli.add_command(rollup_command)
    app.cli.add_command(related_command)
