"""Accounts and sessions: register, login, tokens, profile, admin account management."""

import uuid
from datetime import UTC, datetime

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Account, RevokedToken
from app.auth import ROLE_ADMIN, ROLE_CUSTOMER, Principal, check_password, hash_password
from app.clock import utcnow
from app.customers import services as customer_services
from app.customers.models import Customer
from app.errors import Conflict, Forbidden, NotFound, Unauthorized, field_error
from app.extensions import db
from app.pagination import paginate

BAD_CREDENTIALS = "Invalid username or password."


def _username_taken(username: str, exclude_id: int | None = None) -> bool:
    stmt = select(Account.id).where(Account.username == username)
    if exclude_id is not None:
        stmt = stmt.where(Account.id != exclude_id)
    return db.session.execute(stmt.limit(1)).first() is not None


def new_account(username: str, password: str, role: str = ROLE_CUSTOMER, customer: Customer | None = None):
    username = username.lower()
    if _username_taken(username):
        raise Conflict(f"The username {username!r} is taken.", errors={"username": ["Already taken."]})
    account = Account(username=username, password_hash=hash_password(password), role=role, is_active=True)
    account.customer = customer
    db.session.add(account)
    return account


def register(data: dict) -> tuple[Customer, Account]:
    customer = customer_services.new_customer(data)
    account = new_account(data["username"], data["password"], customer=customer)
    db.session.commit()
    return customer, account


def create_admin(username: str, email: str, password: str) -> Account:
    """The CLI's `create-admin`: an admin account with its own customer record."""
    customer = customer_services.new_customer({"name": username, "email": email, "phone": None})
    account = new_account(username, password, role=ROLE_ADMIN, customer=customer)
    db.session.commit()
    return account


# --- sessions -----------------------------------------------------------------------------------


def _expires_in() -> int:
    return int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds())


def login(username: str, password: str) -> dict:
    """Username or email; a wrong user, a wrong password and a deactivated account look alike."""
    name = username.strip().lower()
    stmt = select(Account)
    if "@" in name:
        stmt = stmt.join(Customer, Account.customer_id == Customer.id).where(Customer.email == name)
    else:
        stmt = stmt.where(Account.username == name)
    account = db.session.execute(stmt).scalars().first()
    ok = check_password(password, account.password_hash if account else None)
    if not ok or not account.is_active:
        raise Unauthorized(BAD_CREDENTIALS)
    sid = uuid.uuid4().hex
    claims = {"sid": sid, "role": account.role, "ver": account.token_version}
    return {
        "access_token": create_access_token(identity=account, additional_claims=claims),
        "refresh_token": create_refresh_token(identity=account, additional_claims=claims),
        "token_type": "Bearer",
        "expires_in": _expires_in(),
    }


def refresh(account: Principal, claims: dict) -> dict:
    new_claims = {"sid": claims.get("sid"), "role": account.role, "ver": account.token_version}
    return {
        "access_token": create_access_token(identity=account, additional_claims=new_claims),
        "token_type": "Bearer",
        "expires_in": _expires_in(),
    }


def logout(claims: dict) -> None:
    """Revoke the presented token and its login session (so its refresh token too)."""
    refresh_expiry = utcnow() + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]
    token_expiry = datetime.fromtimestamp(claims["exp"], UTC).replace(tzinfo=None)
    keys = {claims["jti"]: token_expiry}
    if claims.get("sid"):
        keys[claims["sid"]] = refresh_expiry
    existing = set(db.session.execute(select(RevokedToken.jti).where(RevokedToken.jti.in_(keys))).scalars())
    for key, expires_at in keys.items():
        if key not in existing:
            db.session.add(RevokedToken(jti=key, expires_at=expires_at))
    try:
        db.session.commit()
    except IntegrityError:
        # A simultaneous logout with the same token revoked it first: revoked either way.
        db.session.rollback()


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
    """A password set here ends the account's sessions (all of them when an admin resets it)."""
    admin_fields = {"role", "is_active"} & data.keys()
    if admin_fields and actor.role != ROLE_ADMIN:
        raise Forbidden(f"Only an admin may change {', '.join(sorted(admin_fields))}.")
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
            raise Conflict(f"The username {username!r} is taken.", errors={"username": ["Already taken."]})
        account.username = username
    if "password" in data:
        account.password_hash = hash_password(data["password"])
        account.end_other_sessions(keep_sid=current_sid if actor.id == account.id else None)
    if "role" in data:
        account.role = data["role"]
    if "is_active" in data:
        account.is_active = data["is_active"]
    db.session.commit()
    return account


def delete_account(account: Account) -> None:
    guard_last_admin(account)
    db.session.delete(account)
    db.session.commit()
