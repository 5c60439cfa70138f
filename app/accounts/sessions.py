"""Who is calling: the token check of every authenticated request and the account behind it.

One prepared SELECT answers both questions of every authenticated request (is the token or its
login session revoked, and who is the account?); `current_user` is then a small `Principal`, and
the ORM account is loaded only by the routes that show or change it (`current_account()`)."""

from dataclasses import dataclass

from flask import g
from flask_jwt_extended import current_user
from sqlalchemy import bindparam, exists, select

from app.accounts.models import Account, RevokedToken
from app.errors import NotFound
from app.extensions import db
from app.prepared import Prepared


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


_accounts, _revoked = Account.__table__, RevokedToken.__table__
_PRINCIPAL = Prepared(
    select(
        _accounts.c.id,
        _accounts.c.role,
        _accounts.c.is_active,
        _accounts.c.customer_id,
        _accounts.c.token_version,
        _accounts.c.kept_session,
        exists().where(_revoked.c.jti.in_([bindparam("jti"), bindparam("sid")])).label("revoked"),
    ).where(_accounts.c.id == bindparam("account_id"))
)


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
    rows = _PRINCIPAL.run({"jti": jti, "sid": sid or jti, "account_id": account_id}).rows
    principal = Principal(*(rows[0][:6])) if rows else None
    g._auth_principal = (account_id, principal)
    return bool(rows and rows[0][6])


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
    account = db.session.get(Account, current_user.id)
    if account is None:  # deleted since the token check of this very request
        raise NotFound("Your account no longer exists.")
    return account


def init_jwt(manager) -> None:
    """Flask-JWT-Extended's identity, revocation and user lookup are this module's."""
    manager.user_identity_loader(_identity)
    manager.token_in_blocklist_loader(_is_revoked)
    manager.user_lookup_loader(_load_principal)
