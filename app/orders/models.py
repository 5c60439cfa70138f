from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import db
from app.money import CENT

PENDING, PAID, SHIPPED, DELIVERED, CANCELLED = "pending", "paid", "shipped", "delivered", "cancelled"
STATUSES = (PENDING, PAID, SHIPPED, DELIVERED, CANCELLED)
IN_PROGRESS = (PENDING, PAID, SHIPPED)
CANCELLABLE = (PENDING, PAID)

# The only legal moves: status -> statuses it may become.
TRANSITIONS = {
    PENDING: {PAID, CANCELLED},
    PAID: {SHIPPED, CANCELLED},
    SHIPPED: {DELIVERED},
    DELIVERED: set(),
    CANCELLED: set(),
}


def next_statuses(status: str) -> list[str]:
    """The statuses an order in `status` may move to, in flow order: what every client reads
    (the order document's `next_statuses`) instead of keeping its own copy of TRANSITIONS."""
    return [s for s in STATUSES if s in TRANSITIONS[status]]


def way_ahead(status: str) -> list[str]:
    """The statuses still ahead of an order on its way to delivery (cancelling is never a step)."""
    ahead = []
    forward = [s for s in next_statuses(status) if s != CANCELLED]
    while forward:
        ahead.append(forward[0])
        forward = [s for s in next_statuses(forward[0]) if s != CANCELLED]
    return ahead


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES!r}".replace(",)", ")"), name="status"),
        CheckConstraint("total >= 0", name="total_not_negative"),
        Index("ix_orders_customer_created", "customer_id", "created_at", "id"),
        Index("ix_orders_status_created", "status", "created_at", "id"),
        Index("ix_orders_created", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Kept (as null) when the customer is deleted after the order finished.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    shipping_address: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    shipped_at: Mapped[datetime | None]
    expected_delivery_date: Mapped[date | None] = mapped_column(Date)

    items: Mapped[list["OrderItem"]] = relationship(
        back_populates="order", order_by="OrderItem.book_id", cascade="all, delete-orphan"
    )
    status_history: Mapped[list["OrderStatusChange"]] = relationship(
        order_by="OrderStatusChange.id", cascade="all, delete-orphan"
    )


# The largest total the column holds (Numeric(12, 2): 9,999,999,999.99); a bigger order is refused.
MAX_ORDER_TOTAL = Decimal(10) ** (Order.total.type.precision - Order.total.type.scale) - CENT


class OrderItem(db.Model):
    """A line of an order, with the title and unit price frozen when it was placed."""

    __tablename__ = "order_items"
    __table_args__ = (
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        UniqueConstraint("order_id", "book_id", name="uq_order_items_order_book"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id"), index=True)
    title: Mapped[str] = mapped_column(String(255))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    quantity: Mapped[int] = mapped_column(Integer)
    line_total: Mapped[Decimal] = mapped_column(Numeric(12, 2))

    order: Mapped[Order] = relationship(back_populates="items")


class OrderStatusChange(db.Model):
    __tablename__ = "order_status_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class IdempotencyKey(db.Model):
    """A stored 2xx answer to a POST carrying an Idempotency-Key, scoped to account and endpoint."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("account_id", "endpoint", "key", name="uq_idempotency_keys_scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    endpoint: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(Text)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class DirtyDay(db.Model):
    """A day whose counted orders changed after it was summarised for the reports (a cancellation,
    with its order; a backfill, without); several markers per day may exist. The report rollups
    summarise such days again, or correct the open day's partial summary by the cancelled orders, and
    delete the markers they saw (docs/decisions/0014-report-rollups.md). No foreign key (see
    app/reports/models.py)."""

    __tablename__ = "report_dirty_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    order_id: Mapped[int | None] = mapped_column(Integer)


def mark_order_day_dirty(order_id: int) -> None:
    """Inside the caller's transaction (a cancellation): the day the order was placed needs summarising
    again."""
    placed_on = func.date(Order.created_at, type_=Date)
    db.session.execute(
        insert(DirtyDay).from_select(["day", "order_id"], select(placed_on, Order.id).where(Order.id == order_id))
    )


def mark_days_dirty(days) -> None:
    """Inside the caller's transaction: these days need summarising again (a backfill wrote them)."""
    rows = [{"day": day} for day in sorted(set(days))]
    if rows:
        db.session.execute(insert(DirtyDay), rows)
