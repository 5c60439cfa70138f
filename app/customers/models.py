from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import db


class Customer(db.Model):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    account: Mapped["Account | None"] = relationship(back_populates="customer", uselist=False)  # noqa: F821
    # The database's ON DELETE CASCADE removes the addresses with the customer.
    addresses: Mapped[list["CustomerAddress"]] = relationship(
        back_populates="customer", passive_deletes=True, order_by="CustomerAddress.id"
    )
    default_address: Mapped["CustomerAddress | None"] = relationship(
        primaryjoin="and_(Customer.id == CustomerAddress.customer_id, CustomerAddress.is_default.is_(True))",
        uselist=False,
        viewonly=True,
    )


class CustomerAddress(db.Model):
    """A saved postal address; a customer has at most one with `is_default` (the services keep it so)."""

    __tablename__ = "customer_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    name: Mapped[str] = mapped_column(String(100))
    line1: Mapped[str] = mapped_column(String(100))
    line2: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str] = mapped_column(String(64))
    postal_code: Mapped[str] = mapped_column(String(16))
    country: Mapped[str] = mapped_column(String(2))
    phone: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="addresses")
