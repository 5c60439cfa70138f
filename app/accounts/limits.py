"""The rate limits of sign-up, login and the routes that tell whether an email or username is taken.

Each is a Flask-Limiter decorator whose key names what is counted: the client address for
sign-ups, the client address and the *account* for logins (and the address alone for all its
login attempts), the calling account for profile changes. Every attempt spends one unit, failing or not; a spent bucket answers 429 with
Retry-After (app/errors.py).
"""

from flask import current_app, request
from flask_jwt_extended import current_user
from sqlalchemy.exc import SQLAlchemyError

from app.accounts import services
from app.auth import ROLE_ADMIN
from app.extensions import db, limiter


def _register_key() -> str:
    return f"register:{request.remote_addr}"


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


def _profile_key() -> str:
    return f"profile:{current_user.id}"


def _is_admin() -> bool:
    return current_user.role == ROLE_ADMIN


register_limit = limiter.shared_limit(
    lambda: current_app.config["REGISTER_RATE_LIMIT"], scope="register", key_func=_register_key
)

login_limit = limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], key_func=_login_key)
login_address_limit = limiter.limit(lambda: current_app.config["LOGIN_ADDRESS_RATE_LIMIT"], key_func=_login_address_key)

# Below @requires on PATCH /me, PUT/PATCH /accounts/{id} and PUT/PATCH /customers/{id}: a 409 or
# 200 there tells whether an email or username is taken. Admins are exempt: they can list every
# account and customer anyway, so the answer tells them nothing new.
profile_limit = limiter.shared_limit(
    lambda: current_app.config["PROFILE_RATE_LIMIT"], scope="profile", key_func=_profile_key, exempt_when=_is_admin
)
