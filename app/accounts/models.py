from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import db


class Account(db.Model):
    """A login. One per customer at most; an admin made by the CLI has a customer record too."""

    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("role IN ('customer', 'admin')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    password_hash: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20), default="customer")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), unique=True)
    # Tokens carry the version they were issued under; a password change bumps it, which ends
    # every other login session. The session that made the change (kept_session) lives on.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    kept_session: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def end_other_sessions(self, keep_sid: str | None) -> None:
        self.token_version += 1
        self.kept_session = keep_sid

    customer: Mapped["Customer | None"] = relationship(back_populates="account")  # noqa: F821

    def __repr__(self) -> str:  # never shows the hash
        return f"<Account {self.id} {self.username!r} {self.role}>"


class RevokedToken(db.Model):
    """A revoked token id (jti) or login session id (sid); every server process reads this table."""

    __tablename__ = "revoked_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    jti: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime] = mapped_column(default=utcnow)
