"""Money: Decimal amounts with two places, and the "12.50" strings the API writes."""

from decimal import Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_cents(value: Decimal) -> Decimal:
    """`value` rounded to whole cents (half-even, Decimal's default)."""
    return value.quantize(CENT)


def line_total(unit_price: Decimal, quantity: int) -> Decimal:
    return to_cents(unit_price * quantity)


def from_cents(cents) -> Decimal:
    """An integer count of cents (a database SUM of cents; None as 0) as an amount."""
    return to_cents(Decimal(int(cents or 0)) / 100)


def money_string(value: Decimal) -> str:
    """The API's form of an amount: "12.50"."""
    return format(to_cents(value), "f")
