"""The login limits: per client address and the *account* a typed name designates, and per client
address for all its login attempts. Every attempt spends one unit, failing or not; a spent bucket
answers 429 with Retry-After (app/errors.py). Sign-up and profile limits are app/limits.py."""

from flask import current_app, request
from sqlalchemy.exc import SQLAlchemyError

from app.accounts import services
from app.extensions import db, limiter


def _login_key() -> str:
    """The client address and the account the typed name designates, however it is spelled
    (case, accents, full-width letters, the email instead of the username). A name of no account
    has a bucket of its own, as an account would: a bucket that only such names shared would,
    once spent, tell them from the names of real accounts (429 for one, 401 for the other)."""
    try:
        body = request.get_json(silent=True)
    except Exception:  # 413, nesting too deep: the view answers those.
        # A key function that raises makes Flask-Limiter drop its storage for an empty
        # in-memory one (every login count reset, Redis abandoned), so it must not raise.
        body = None
    typed = body.get("username") if isinstance(body, dict) else None
    try:
        account = services.find_login_account(typed)
    except SQLAlchemyError:  # the database is down: the view answers 503
        db.session.rollback()
        account = None
    if account is not None:
        return f"login:{request.remote_addr}:account-{account.id}"
    name = services.login_name(typed[: services.MAX_LOGIN_NAME + 1]) if isinstance(typed, str) else ""
    # ASCII escapes: a lone surrogate or a NUL must not fail the storage (Redis encodes keys).
    return f"login:{request.remote_addr}:name-" + name.encode("unicode_escape").decode("ascii")


def _login_address_key() -> str:
    return f"login-address:{request.remote_addr}"


login_limit = limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], key_func=_login_key)
login_address_limit = limiter.limit(lambda: current_app.config["LOGIN_ADDRESS_RATE_LIMIT"], key_func=_login_address_key)
