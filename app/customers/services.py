"""Customers: create, list, read, update, delete, with ownership checked in one place."""

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import selectinload

from app.auth import ROLE_ADMIN
from app.customers.addresses import lock_customer_with_address, set_default_address
from app.customers.models import Customer
from app.errors import Conflict, NotFound
from app.extensions import db
from app.pagination import paginate
from app.prepared import Prepared

PROFILE_FIELDS = ("name", "email", "phone")

_customers = Customer.__table__
_LOCK_CUSTOMER = Prepared(select(_customers.c.id).where(_customers.c.id == bindparam("customer_id")).with_for_update())


def _gone(customer_id: int) -> NotFound:
    return NotFound(f"Customer {customer_id} no longer exists.")


def lock_customer(customer_id: int) -> None:
    """Lock the customer row until the transaction ends; 404 when the customer is gone.

    Every change to a customer's cart or orders takes this lock first, and deleting the customer
    takes it first too: the two never deadlock, and each change either commits before the delete
    looks at what the customer has, or waits and then finds the customer gone."""
    if not _LOCK_CUSTOMER.run({"customer_id": customer_id}).rows:
        raise _gone(customer_id)


def lock_customer_for_order(customer_id: int) -> str | None:
    """For an order: a shared lock on the customer row (the delete's exclusive lock and the order
    wait for each other; a customer's orders do not), read with the default address (as text)."""
    exists, address = lock_customer_with_address(customer_id)
    if not exists:
        raise _gone(customer_id)
    return address


def _email_taken(email: str, exclude_id: int | None = None) -> bool:
    stmt = select(Customer.id).where(Customer.email == email)
    if exclude_id is not None:
        stmt = stmt.where(Customer.id != exclude_id)
    return db.session.execute(stmt.limit(1)).first() is not None


def _email_conflict(email: str) -> Conflict:
    return Conflict(f"The email {email!r} is already registered.", errors={"email": ["Already registered."]})


def new_customer(data: dict) -> Customer:
    """Add (not commit) a customer; the caller's use case commits."""
    if _email_taken(data["email"]):
        raise _email_conflict(data["email"])
    customer = Customer(name=data["name"], email=data["email"], phone=data.get("phone"))
    db.session.add(customer)
    if data.get("default_address") is not None:
        set_default_address(customer, data["default_address"])
    return customer


def apply_changes(customer: Customer, data: dict) -> None:
    if "email" in data and data["email"] != customer.email and _email_taken(data["email"], customer.id):
        raise _email_conflict(data["email"])
    for field in PROFILE_FIELDS:
        if field in data:
            setattr(customer, field, data[field])
    if "default_address" in data:
        set_default_address(customer, data["default_address"])


def list_customers(args: dict):
    stmt = select(Customer).options(selectinload(Customer.default_address), selectinload(Customer.account))
    count = select(func.count(Customer.id))
    if args.get("q"):
        needle = args["q"].lower()
        cond = or_(
            func.lower(Customer.name).contains(needle, autoescape=True),
            func.lower(Customer.email).contains(needle, autoescape=True),
        )
        stmt, count = stmt.where(cond), count.where(cond)
    return paginate(stmt.order_by(Customer.id), args, count_stmt=count)


def get_customer_for(actor, customer_id: int) -> Customer:
    """The customer if the caller may see it (its own, or any for an admin); else 404."""
    if actor.role != ROLE_ADMIN and actor.customer_id != customer_id:
        raise NotFound(f"Customer {customer_id} not found.")
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"Customer {customer_id} not found.")
    return customer


def update_customer(customer: Customer, data: dict, *, replace: bool) -> Customer:
    if replace:
        data = {"phone": None, "default_address": None, **data}
    apply_changes(customer, data)
    db.session.commit()
    return customer
