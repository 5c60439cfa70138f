"""Saved addresses: a customer's default shipping address, and its text as an order stores it."""

from sqlalchemy import bindparam, select

from app.clock import utcnow
from app.customers.countries import COUNTRIES
from app.customers.models import Customer, CustomerAddress
from app.extensions import db
from app.prepared import Prepared

ADDRESS_FIELDS = ("name", "line1", "line2", "city", "postal_code", "country", "phone")


def format_address(name, line1, line2, city, postal_code, country, phone) -> str:
    """The address as a shipping label: recipient, street lines, city and postal code, country, phone."""
    lines = [name, line1, line2, f"{city} {postal_code}", COUNTRIES.get(country, country)]
    if phone:
        lines.append(f"Phone: {phone}")
    return "\n".join(line for line in lines if line)


def set_default_address(customer: Customer, data: dict | None) -> None:
    """Save `data` as the customer's default address (None removes it); the caller commits."""
    current = None
    if customer.id is not None:
        # The customer's row lock makes two concurrent changes take turns, so there stays one default.
        db.session.execute(select(Customer.id).where(Customer.id == customer.id).with_for_update())
        current = db.session.execute(_default_of(customer.id)).scalar_one_or_none()
        if data is None and current is None:
            return
        customer.updated_at = utcnow()
    if data is None:
        db.session.delete(current)
    elif current is not None:
        for field in ADDRESS_FIELDS:
            setattr(current, field, data.get(field))
    else:
        customer.addresses.append(
            CustomerAddress(is_default=True, **{field: data.get(field) for field in ADDRESS_FIELDS})
        )
    db.session.flush()
    # The viewonly `default_address` is read again from the rows just written.
    db.session.expire(customer, ["default_address", "addresses"])


def _default_of(customer_id: int):
    return select(CustomerAddress).where(
        CustomerAddress.customer_id == customer_id, CustomerAddress.is_default.is_(True)
    )


_addresses = CustomerAddress.__table__
_customers = Customer.__table__
# The first statement of every order: a shared lock on the customer's row (a delete of the customer,
# which locks it exclusively, waits for the orders in flight or they for it; two orders of one
# customer do not wait for each other) and its default address, in one round trip.
_LOCK_WITH_ADDRESS = Prepared(
    select(_customers.c.id, *(_addresses.c[field] for field in ADDRESS_FIELDS))
    .select_from(
        _customers.outerjoin(
            _addresses, (_addresses.c.customer_id == _customers.c.id) & _addresses.c.is_default.is_(True)
        )
    )
    .where(_customers.c.id == bindparam("customer_id"))
    .with_for_update(read=True)
)


def lock_customer_with_address(customer_id: int) -> tuple[bool, str | None]:
    """Share-lock the customer row until the transaction ends, and read its default address:
    (whether the customer exists, the address formatted for an order or None)."""
    rows = _LOCK_WITH_ADDRESS.run({"customer_id": customer_id}).rows
    if not rows:
        return False, None
    address = rows[0][1:]
    return True, (format_address(*address) if address[0] is not None else None)


# The demo history's label for each customer (app/orders/seed.py).
_DEFAULT_ADDRESS = Prepared(
    select(*(_addresses.c[field] for field in ADDRESS_FIELDS)).where(
        _addresses.c.customer_id == bindparam("customer_id"), _addresses.c.is_default.is_(True)
    )
)


def default_address_text(customer_id: int) -> str | None:
    """The customer's default address formatted for an order, or None when there is none."""
    rows = _DEFAULT_ADDRESS.run({"customer_id": customer_id}).rows
    return format_address(*rows[0]) if rows else None
