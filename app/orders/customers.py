"""The customer use cases that need the orders: a customer's page with its purchases, and
deleting a customer (never while an order of theirs is in progress)."""

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from app.accounts.services import guard_last_admin
from app.customers.models import Customer
from app.customers.services import get_customer_for
from app.errors import Conflict, NotFound
from app.extensions import db
from app.money import ZERO
from app.orders.models import CANCELLED, IN_PROGRESS, Order
from app.orders.services import purchase_history
from app.transactions import run_transaction


def customer_with_history(actor, customer_id: int) -> Customer:
    """The customer (self or admin, else 404) with `purchase_history` and `order_totals`."""
    customer = get_customer_for(actor, customer_id)
    customer.purchase_history = purchase_history(customer.id)
    customer.order_totals = order_totals(customer.id)
    return customer


def order_totals(customer_id: int) -> dict:
    """How many orders the customer placed, how many were cancelled, and what the others came to."""
    cancelled = Order.status == CANCELLED
    orders, cancelled_count, spent = db.session.execute(
        select(
            func.count(Order.id),
            func.count(case((cancelled, 1))),
            func.sum(case((cancelled, None), else_=Order.total)),
        ).where(Order.customer_id == customer_id)
    ).one()
    return {"orders": orders, "cancelled": cancelled_count, "spent": spent if spent is not None else ZERO}


def delete_customer(actor, customer_id: int) -> None:
    """Delete the customer (self or admin, else 404) with its account and cart."""
    get_customer_for(actor, customer_id)
    run_transaction(_delete_customer, customer_id)


def _delete_customer(customer_id: int) -> None:
    """Lock the customer row (and its account) first, then check: an order or a cart change for
    this customer locks the row first too (`lock_customer`), so each one either commits before the
    checks look, and they see it, or waits and then finds the customer gone. The checks therefore
    read with locking (current) reads, never the request's snapshot."""
    customer = db.session.execute(
        select(Customer)
        .options(joinedload(Customer.account))
        .where(Customer.id == customer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if customer is None:
        db.session.rollback()
        raise NotFound(f"Customer {customer_id} not found.")
    _no_order_in_progress(customer)
    if customer.account is not None:
        guard_last_admin(customer.account)
        db.session.delete(customer.account)
    db.session.delete(customer)
    db.session.commit()


def _no_order_in_progress(customer: Customer) -> None:
    busy = db.session.execute(
        select(func.count(Order.id))
        .where(Order.customer_id == customer.id, Order.status.in_(IN_PROGRESS))
        .with_for_update()
    ).scalar_one()
    if busy:
        orders = "1 order" if busy == 1 else f"{busy} orders"
        raise Conflict(
            f"Customer {customer.id} has {orders} in progress (pending, paid or shipped); cancel or deliver them first."
        )
