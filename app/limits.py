"""The rate limits that need no account lookup: sign-up per client address; profile changes that
could tell whether an email or username is taken, and review writes, per calling account. Each is a
Flask-Limiter decorator; a spent bucket answers 429 with Retry-After (app/errors.py). The login limits, keyed by
the account a typed name designates, are app/accounts/limits.py."""

from flask import current_app, request
from flask_jwt_extended import current_user

from app.auth import ROLE_ADMIN
from app.extensions import limiter


def _register_key() -> str:
    return f"register:{request.remote_addr}"


def _profile_key() -> str:
    return f"profile:{current_user.id}"


def _is_admin() -> bool:
    return current_user.role == ROLE_ADMIN


register_limit = limiter.shared_limit(
    lambda: current_app.config["REGISTER_RATE_LIMIT"], scope="register", key_func=_register_key
)

# Below @requires on PATCH /me, PUT/PATCH /accounts/{id} and PUT/PATCH /customers/{id}: a 409 or
# 200 there tells whether an email or username is taken. Admins are exempt: they can list every
# account and customer anyway, so the answer tells them nothing new.
profile_limit = limiter.shared_limit(
    lambda: current_app.config["PROFILE_RATE_LIMIT"], scope="profile", key_func=_profile_key, exempt_when=_is_admin
)


def _review_key() -> str:
    return f"review:{current_user.id}"


# Below @requires on every review write (create, change, delete, helpful votes): one count per
# calling account, so one account cannot flood a book's reviews or inflate helpful counts.
review_limit = limiter.shared_limit(
    lambda: current_app.config["REVIEW_RATE_LIMIT"], scope="review", key_func=_review_key
)
