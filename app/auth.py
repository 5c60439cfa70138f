"""Passwords (bcrypt), the 401 problems of token failures, roles and the route decorators that
declare who may call a route."""

import functools
from copy import deepcopy
from functools import wraps

import bcrypt
from flask import current_app
from flask_jwt_extended import current_user, get_jwt, verify_jwt_in_request

from app import refresh_cookie
from app.errors import Forbidden, problem

BCRYPT_MAX_BYTES = 72

ROLE_CUSTOMER = "customer"
ROLE_ADMIN = "admin"
ROLES = (ROLE_CUSTOMER, ROLE_ADMIN)

# Access levels a route declares (the access matrix test reads them).
PUBLIC = "public"
AUTHENTICATED = "authenticated"
ADMIN = "admin"
REFRESH = "refresh"


def hash_password(password: str) -> str:
    rounds = current_app.config["BCRYPT_ROUNDS"]
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=rounds)).decode("ascii")


@functools.cache
def _dummy_hash(rounds: int) -> bytes:
    """A hash of a random password at the configured cost, made once: a failing login with no
    stored hash to check spends one bcrypt check on it."""
    return bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(rounds=rounds))


def check_password(password: str, password_hash: str | None) -> bool:
    """Every call costs exactly one bcrypt check, whether or not there is a hash to check and
    however long the password is, so a failing login does not tell why it failed."""
    encoded = password.encode("utf-8")
    stored = password_hash.encode("ascii") if password_hash else _dummy_hash(current_app.config["BCRYPT_ROUNDS"])
    matched = bcrypt.checkpw(encoded[:BCRYPT_MAX_BYTES], stored)
    return matched and password_hash is not None and len(encoded) <= BCRYPT_MAX_BYTES


@functools.cache
def _common_passwords() -> frozenset[str]:
    # Imported on first use: zxcvbn's lists cost 12 MB and 0.2 s, which only a password change needs.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_weakness(password: str) -> str | None:
    """Why a new password is refused, or None. The length (8 to 72 bytes) is the schema's rule;
    these are the rules a length check misses."""
    if not password.strip():
        return "Must not be blank or only spaces."
    if password.strip().lower() in _common_passwords():
        return "Is one of the most common passwords (the zxcvbn list of 30,000); choose another."
    return None


# --- Flask-JWT-Extended: every failure is a 401 problem ---------------------------------------


# On every 401 about a token: RFC 6750 asks the client for a bearer token.
BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="bookstore"'}


def _unauthorized(detail: str):
    return problem(401, detail, headers=BEARER_CHALLENGE)


def _missing_token(reason):
    return _unauthorized("Authentication required: send 'Authorization: Bearer <access token>'.")


def _invalid_token(reason):
    return _unauthorized("The token is invalid.")


def _expired_token(header, payload):
    return _unauthorized("The token has expired.")


def _revoked_token(header, payload):
    return _unauthorized("The token has been revoked.")


def _needs_fresh(header, payload):
    return _unauthorized("A fresh token is required.")


def _user_lookup_error(header, payload):
    return _unauthorized("The account behind this token no longer exists or is deactivated.")


def _verification_failed(header, payload):
    return _unauthorized("The token is invalid.")


def init_jwt_errors(manager) -> None:
    """Every token failure Flask-JWT-Extended detects is a 401 problem (its default is a 422)."""
    manager.unauthorized_loader(_missing_token)
    manager.invalid_token_loader(_invalid_token)
    manager.expired_token_loader(_expired_token)
    manager.revoked_token_loader(_revoked_token)
    manager.needs_fresh_token_loader(_needs_fresh)
    manager.user_lookup_error_loader(_user_lookup_error)
    manager.token_verification_failed_loader(_verification_failed)


# --- Route decorators ---------------------------------------------------------------------------


def _document(wrapper, level: str):
    """Record security and the 401/403 responses in the view's OpenAPI doc info."""
    doc = deepcopy(getattr(wrapper, "_apidoc", {}))
    doc.setdefault("manual_doc", {})["security"] = [{"bearerAuth": []}]
    responses = doc.setdefault("response", {}).setdefault("responses", {})
    responses.setdefault(401, []).append("UNAUTHORIZED")
    if level == ADMIN:
        responses.setdefault(403, []).append("FORBIDDEN")
    wrapper._apidoc = doc
    wrapper._access = level


def requires(level: str = AUTHENTICATED, *, any_token: bool = False, cookie: bool = False):
    """Require a valid token (access, or refresh for REFRESH) and, for ADMIN, the admin role.

    `any_token=True` takes an access or a refresh token alike (POST /logout ends a session
    with whichever token the client still holds). `cookie=True` (the refresh route only) takes
    the pages' refresh cookie when no bearer token is sent, after its CSRF check."""

    def decorator(func):
        @wraps(func)
        def wrapper(*args, **kwargs):
            if cookie and refresh_cookie.sent():
                refresh_cookie.check_request()
                refresh_cookie.refreshing()
                verify_jwt_in_request(refresh=True, locations=["cookies"])
            else:
                verify_jwt_in_request(refresh=(level == REFRESH), verify_type=not any_token, locations=["headers"])
            if level == ADMIN and current_user.role != ROLE_ADMIN:
                raise Forbidden("This operation is for administrators only.")
            return func(*args, **kwargs)

        _document(wrapper, level)
        return wrapper

    return decorator


def optional_caller():
    """On a @public route that shows more to some callers: the caller when a valid access token is
    sent (an invalid one is still a 401), None when none is sent."""
    verify_jwt_in_request(optional=True)
    return current_user if get_jwt() else None


def public(func):
    """Mark a route as open to anonymous callers (the access matrix test reads this)."""
    func._access = PUBLIC
    return func
