"""Passwords (bcrypt), JWT loaders that answer 401 problem+json, and role decorators."""

import functools
from copy import deepcopy
from dataclasses import dataclass
from functools import wraps

import bcrypt
from flask import current_app, g
from flask_jwt_extended import current_user, verify_jwt_in_request
from sqlalchemy import bindparam, exists, select

from app.errors import Forbidden, NotFound, problem
from app.extensions import db, jwt
from app.prepared import Prepared

BCRYPT_MAX_BYTES = 72

ROLE_CUSTOMER = "customer"
ROLE_ADMIN = "admin"
ROLES = (ROLE_CUSTOMER, ROLE_ADMIN)

# Access levels a route declares (the access matrix test reads them).
PUBLIC = "public"
AUTHENTICATED = "authenticated"
ADMIN = "admin"
REFRESH = "refresh"


def password_too_long(password: str) -> bool:
    return len(password.encode("utf-8")) > BCRYPT_MAX_BYTES


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


@jwt.unauthorized_loader
def _missing_token(reason):
    return _unauthorized("Authentication required: send 'Authorization: Bearer <access token>'.")


@jwt.invalid_token_loader
def _invalid_token(reason):
    return _unauthorized("The token is invalid.")


@jwt.expired_token_loader
def _expired_token(header, payload):
    return _unauthorized("The token has expired.")


@jwt.revoked_token_loader
def _revoked_token(header, payload):
    return _unauthorized("The token has been revoked.")


@jwt.needs_fresh_token_loader
def _needs_fresh(header, payload):
    return _unauthorized("A fresh token is required.")


@jwt.user_lookup_error_loader
def _user_lookup_error(header, payload):
    return _unauthorized("The account behind this token no longer exists or is deactivated.")


@jwt.token_verification_failed_loader
def _verification_failed(header, payload):
    return _unauthorized("The token is invalid.")


@jwt.user_identity_loader
def _identity(account):
    return str(account.id) if hasattr(account, "id") else str(account)


def _account_id(payload) -> int | None:
    try:
        return int(payload["sub"])
    except (KeyError, TypeError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: `current_user` on every authenticated request. The ORM account is loaded
    only by the routes that show or change it (`current_account()`)."""

    id: int
    role: str
    is_active: bool
    customer_id: int | None
    token_version: int
    kept_session: str | None

    def session_valid(self, claims: dict) -> bool:
        """Tokens carry the version they were issued under; a password change bumps it, which
        ends every other login session. The session that made the change lives on."""
        return claims.get("ver", 0) == self.token_version or (
            self.kept_session is not None and claims.get("sid") == self.kept_session
        )


@functools.cache
def _principal_statement() -> Prepared:
    from app.accounts.models import Account, RevokedToken

    accounts, revoked = Account.__table__, RevokedToken.__table__
    is_revoked = exists().where(revoked.c.jti.in_([bindparam("jti"), bindparam("sid")]))
    return Prepared(
        select(
            accounts.c.id,
            accounts.c.role,
            accounts.c.is_active,
            accounts.c.customer_id,
            accounts.c.token_version,
            accounts.c.kept_session,
            is_revoked.label("revoked"),
        ).where(accounts.c.id == bindparam("account_id"))
    )


@jwt.token_in_blocklist_loader
def _is_revoked(header, payload) -> bool:
    """One SELECT answers both questions of every authenticated request: is this token (or its
    login session) revoked, and who is the account? The answer is kept for the user lookup."""
    jti, sid = payload.get("jti"), payload.get("sid")
    account_id = _account_id(payload)
    if jti is None or account_id is None:
        return True
    if payload.get("type") == "refresh" and sid:
        # A refresh token already used is refused by the refresh itself, which then ends the
        # whole session (reuse detection): only the session's revocation is looked up here.
        jti = sid
    rows = _principal_statement().run({"jti": jti, "sid": sid or jti, "account_id": account_id}).rows
    principal = Principal(*(rows[0][:6])) if rows else None
    g._auth_principal = (account_id, principal)
    return bool(rows and rows[0][6])


@jwt.user_lookup_loader
def _load_principal(header, payload):
    account_id = _account_id(payload)
    if account_id is None:
        return None
    cached = g.pop("_auth_principal", None)
    if cached is None or cached[0] != account_id:  # the blocklist check always runs first
        return None
    principal = cached[1]
    if principal is None or not principal.is_active or not principal.session_valid(payload):
        return None
    return principal


def current_account():
    """The caller's account as an ORM object, for the routes that show or change it."""
    from app.accounts.models import Account

    account = db.session.get(Account, current_user.id)
    if account is None:  # deleted since the token check of this very request
        raise NotFound("Your account no longer exists.")
    return account


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


def requires(level: str = AUTHENTICATED, *, any_token: bool = False):
    """Require a valid token (access, or refresh for REFRESH) and, for ADMIN, the admin role.

    `any_token=True` takes an access or a refresh token alike (POST /logout ends a session
    with whichever token the client still holds)."""

    def decorator(func):
        @wraps(func)
        def wrapper(*args, **kwargs):
            verify_jwt_in_request(refresh=(level == REFRESH), verify_type=not any_token)
            if level == ADMIN and current_user.role != ROLE_ADMIN:
                raise Forbidden("This operation is for administrators only.")
            return func(*args, **kwargs)

        _document(wrapper, level)
        return wrapper

    return decorator


def public(func):
    """Mark a route as open to anonymous callers (the access matrix test reads this)."""
    func._access = PUBLIC
    return func
