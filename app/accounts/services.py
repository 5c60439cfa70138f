"""Accounts and sessions: register, login, tokens, profile, admin account management."""

import unicodedata
import uuid
from datetime import UTC, datetime

from flask import current_app, request
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Account, RevokedToken
from app.accounts.sessions import Principal
from app.auth import (
    BEARER_CHALLENGE,
    ROLE_ADMIN,
    ROLE_CUSTOMER,
    check_password,
    hash_password,
    password_weakness,
)
from app.clock import utcnow
from app.customers import services as customer_services
from app.customers.models import Customer
from app.errors import Conflict, Forbidden, NotFound, Unauthorized, field_error
from app.extensions import db
from app.pagination import paginate

BAD_CREDENTIALS = "Invalid username or password."
MAX_LOGIN_NAME = 254  # LoginSchema's limit: the longest email
_LOGIN_LOOKUP = "bookstore.login_account"  # where find_login_account keeps its answer for the request


def _username_taken(username: str, exclude_id: int | None = None) -> bool:
    stmt = select(Account.id).where(Account.username == username)
    if exclude_id is not None:
        stmt = stmt.where(Account.id != exclude_id)
    return db.session.execute(stmt.limit(1)).first() is not None


def require_good_password(password: str, field: str = "password") -> None:
    """400 naming `field` for a password anyone could guess; every place a password is set calls it."""
    weakness = password_weakness(password)
    if weakness is not None:
        raise field_error(field, weakness)


def _username_conflict(username: str) -> Conflict:
    return Conflict(f"The username {username!r} is taken.", errors={"username": ["Already taken."]})


def new_account(username: str, password: str, role: str = ROLE_CUSTOMER, customer: Customer | None = None):
    require_good_password(password)
    username = username.lower()
    if _username_taken(username):
        raise _username_conflict(username)
    account = Account(username=username, password_hash=hash_password(password), role=role, is_active=True)
    account.customer = customer
    db.session.add(account)
    return account


def new_customer_with_account(data: dict, role: str = ROLE_CUSTOMER) -> tuple[Customer, Account]:
    """Add (not commit) a customer and its account; a 409 names every field that is taken."""
    require_good_password(data["password"])
    username = data["username"].lower()
    taken = [_username_conflict(username)] if _username_taken(username) else []
    try:
        customer = customer_services.new_customer(data)
    except Conflict as err:
        taken.insert(0, err)
    if taken:
        errors = {field: messages for err in taken for field, messages in (err.errors or {}).items()}
        raise Conflict(" ".join(err.detail for err in taken), errors=errors)
    return customer, new_account(data["username"], data["password"], role=role, customer=customer)


def register(data: dict) -> tuple[Customer, Account]:
    customer, account = new_customer_with_account(data)
    db.session.commit()
    return customer, account


def create_customer(data: dict) -> Customer:
    """POST /customers: a customer, with its login account when a username and password are given."""
    if data.get("username"):
        customer, _account = new_customer_with_account(data)
    else:
        customer = customer_services.new_customer(data)
    db.session.commit()
    return customer


def create_admin(username: str, email: str, password: str) -> Account:
    """The CLI's `create-admin`: an admin account with its own customer record."""
    data = {"name": username, "email": email, "phone": None, "username": username, "password": password}
    _customer, account = new_customer_with_account(data, role=ROLE_ADMIN)
    db.session.commit()
    return account


# --- sessions -----------------------------------------------------------------------------------


def _expires_in() -> int:
    return int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds())


def login_name(typed: str) -> str:
    """What a typed login name is looked up as. A username is folded to the letters it is stored
    in (lower-case ASCII): case, accents and full-width forms fall away, on every database, as
    MariaDB's utf8mb4_unicode_ci already does. An email (it has an `@`) is only lower-cased, as
    it is stored."""
    name = typed.strip()
    if "@" in name:
        return name.lower()
    return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)).casefold()


def find_login_account(typed) -> Account | None:
    """The account a login name designates, or None. Looked up once per request: the login rate
    limit keys on it before the view runs, and the login then uses it."""
    if not isinstance(typed, str) or not 0 < len(typed) <= MAX_LOGIN_NAME or "\x00" in typed:
        return None
    try:
        name = login_name(typed)
        name.encode("utf-8")
    except UnicodeError:  # a lone surrogate: the schema refuses it
        return None
    cached = request.environ.get(_LOGIN_LOOKUP)
    if cached is not None and cached[0] == name:
        return cached[1]
    stmt = select(Account)
    if "@" in name:
        stmt = stmt.join(Customer, Account.customer_id == Customer.id).where(Customer.email == name)
    else:
        stmt = stmt.where(Account.username == name)
    account = db.session.execute(stmt.limit(1)).scalars().first()
    request.environ[_LOGIN_LOOKUP] = (name, account)
    return account


def _token_pair(account, claims: dict) -> dict:
    return {
        "access_token": create_access_token(identity=account, additional_claims=claims),
        "refresh_token": create_refresh_token(identity=account, additional_claims=claims),
        "token_type": "Bearer",
        "expires_in": _expires_in(),
    }


def login(username: str, password: str) -> dict:
    """Username or email; a wrong user, a wrong password and a deactivated account look alike,
    and each costs one bcrypt check."""
    account = find_login_account(username)
    ok = check_password(password, account.password_hash if account else None)
    if not ok or not account.is_active:
        raise Unauthorized(BAD_CREDENTIALS)
    return _token_pair(account, {"sid": uuid.uuid4().hex, "role": account.role, "ver": account.token_version})


def refresh(account: Principal, claims: dict) -> dict:
    """Use up the refresh token sent and answer a new pair in the same session.

    The token's id is recorded as used (a row in revoked_tokens, whose jti is unique); a second
    use finds it there, or fails on the unique key when two uses race, and ends the session: one
    of the two is a stolen copy, and nobody can tell which (OAuth 2.1, refresh token rotation)."""
    sid = claims.get("sid")
    db.session.add(RevokedToken(jti=claims["jti"], expires_at=_token_expiry(claims)))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        if sid:
            _revoke({sid: _session_expiry()})
        detail = "This refresh token was used already; its login session has ended."
        raise Unauthorized(detail, headers=dict(BEARER_CHALLENGE)) from None
    pair = _token_pair(account, {"sid": sid, "role": account.role, "ver": account.token_version})
    db.session.commit()
    return pair


def _token_expiry(claims: dict) -> datetime:
    """When the token itself expires (a revocation of it is kept until then)."""
    return datetime.fromtimestamp(claims["exp"], UTC).replace(tzinfo=None)


def _session_expiry() -> datetime:
    """When a login session started now would end at the latest (its refresh tokens' lifetime)."""
    return utcnow() + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]


def _revoke(keys: dict) -> None:
    """Add revocations (jti or sid → expiry) that are not there yet, and commit."""
    existing = set(db.session.execute(select(RevokedToken.jti).where(RevokedToken.jti.in_(keys))).scalars())
    for key, expires_at in keys.items():
        if key not in existing:
            db.session.add(RevokedToken(jti=key, expires_at=expires_at))
    try:
        db.session.commit()
    except IntegrityError:
        # A simultaneous logout or reuse revoked it first: revoked either way.
        db.session.rollback()


def logout(claims: dict) -> None:
    """Revoke the presented token and its login session (so its refresh token too)."""
    keys = {claims["jti"]: _token_expiry(claims)}
    if claims.get("sid"):
        keys[claims["sid"]] = _session_expiry()
    _revoke(keys)


def logout_everywhere(account: Account) -> None:
    """Every token of the account, on every device, stops working: the version they carry is
    no longer the account's (app/accounts/sessions.py)."""
    account.end_other_sessions(keep_sid=None)
    db.session.commit()


def purge_expired_revocations() -> int:
    result = db.session.execute(RevokedToken.__table__.delete().where(RevokedToken.expires_at < utcnow()))
    db.session.commit()
    return result.rowcount


# --- profile ------------------------------------------------------------------------------------


def update_me(account: Account, data: dict) -> Account:
    if account.customer is None:
        raise Forbidden("This account has no customer profile to update.")
    customer_services.apply_changes(account.customer, data)
    db.session.commit()
    return account


def change_password(account: Account, current_password: str, new_password: str, current_sid: str | None) -> None:
    """Set a new password; every other login session of the account ends, this one lives on."""
    if not check_password(current_password, account.password_hash):
        raise field_error("current_password", "Does not match the current password.")
    require_good_password(new_password, "new_password")
    account.password_hash = hash_password(new_password)
    account.end_other_sessions(keep_sid=current_sid)
    db.session.commit()


# --- admin management ---------------------------------------------------------------------------


def list_accounts(args: dict):
    stmt = select(Account).order_by(Account.id)
    return paginate(stmt, args, count_stmt=select(func.count(Account.id)))


def get_account_for(actor: Principal, account_id: int) -> Account:
    """The account if the caller may see it (itself, or any for an admin); else 404."""
    if actor.role != ROLE_ADMIN and actor.id != account_id:
        raise NotFound(f"Account {account_id} not found.")
    account = db.session.get(Account, account_id)
    if account is None:
        raise NotFound(f"Account {account_id} not found.")
    return account


def create_account(data: dict) -> Account:
    customer = None
    if data.get("customer_id") is not None:
        customer = db.session.get(Customer, data["customer_id"])
        if customer is None:
            raise NotFound(f"Customer {data['customer_id']} not found.")
        if customer.account is not None:
            raise Conflict("This customer already has an account.", errors={"customer_id": ["Already has an account."]})
    account = new_account(data["username"], data["password"], role=data.get("role", ROLE_CUSTOMER), customer=customer)
    db.session.commit()
    return account


def guard_last_admin(account: Account) -> None:
    """409 if `account` is the last active admin.

    The active admin rows are read with FOR UPDATE and stay locked until the caller commits:
    two admins demoting or deleting each other at once are serialised, and the second sees the
    first's change (on MariaDB a plain count let both pass and left no admin). SQLite writers
    are serialised already (BEGIN IMMEDIATE)."""
    if account.role != ROLE_ADMIN:
        return
    active_admins = set(
        db.session.execute(
            select(Account.id).where(Account.role == ROLE_ADMIN, Account.is_active.is_(True)).with_for_update()
        ).scalars()
    )
    if active_admins <= {account.id}:
        raise Conflict("This is the last active admin account; make another admin first.")


def update_account(actor: Principal, account: Account, data: dict, current_sid: str | None = None) -> Account:
    """A password set here ends the account's sessions (all of them when an admin resets it);
    so does a deactivation."""
    admin_fields = {"role", "is_active"} & data.keys()
    if admin_fields and actor.role != ROLE_ADMIN:
        raise Forbidden(f"Only an admin may change {', '.join(sorted(admin_fields))}.")
    if "password" in data:
        require_good_password(data["password"])
    if "password" in data and actor.id == account.id:
        if "current_password" not in data:
            raise field_error("current_password", "Required to change your own password.")
        if not check_password(data["current_password"], account.password_hash):
            raise field_error("current_password", "Does not match the current password.")
    demoted = data.get("role", account.role) != ROLE_ADMIN or data.get("is_active", True) is False
    if demoted:
        guard_last_admin(account)
    if "username" in data:
        username = data["username"].lower()
        if username != account.username and _username_taken(username, exclude_id=account.id):
            raise _username_conflict(username)
        account.username = username
    if "password" in data:
        account.password_hash = hash_password(data["password"])
        account.end_other_sessions(keep_sid=current_sid if actor.id == account.id else None)
    if "role" in data:
        account.role = data["role"]
    if "is_active" in data:
        if account.is_active and not data["is_active"]:
            # Deactivation ends every session: reactivating the account later revives none.
            account.end_other_sessions(keep_sid=None)
        account.is_active = data["is_active"]
    db.session.commit()
    return account


def delete_account(account: Account) -> None:
    guard_last_admin(account)
    db.session.delete(account)
    db.session.commit()
