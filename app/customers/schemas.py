import re

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from app.customers.countries import COUNTRIES
from app.customers.models import Customer
from app.extensions import ma
from app.fields import Email, NonBlank, Password, Phone, StrictSchema, Text, Username, UTCDateTime
from app.pagination import PageArgs

# The length of orders.shipping_address; the field limits below keep a formatted address within it.
SHIPPING_ADDRESS_MAX = 500


def AddressText(**kwargs) -> Text:
    """A shipping address as free text: line breaks and tabs are fine, other control characters are not."""
    return Text(multiline=True, **kwargs)


POSTAL_CODE_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9 -]{0,14}[A-Za-z0-9])?$")


class AddressSchema(StrictSchema):
    """A postal address; sent whole (null removes a saved one)."""

    class Meta:
        ordered = True

    name = Text(required=True, validate=validate.Length(min=1, max=100), metadata={"description": "Recipient."})
    line1 = Text(required=True, validate=validate.Length(min=1, max=100), metadata={"example": "12 Baker Street"})
    line2 = Text(allow_none=True, load_default=None, validate=validate.Length(max=100))
    city = Text(required=True, validate=validate.Length(min=1, max=64))
    postal_code = Text(
        required=True,
        validate=validate.Regexp(POSTAL_CODE_RE, error="1 to 16 letters, digits, spaces or hyphens."),
        metadata={"maxLength": 16, "example": "NW1 6XE"},
    )
    country = fields.String(
        required=True,
        validate=validate.OneOf(sorted(COUNTRIES), error="Must be an ISO 3166-1 alpha-2 country code, e.g. GB."),
        metadata={"description": "ISO 3166-1 alpha-2 code, upper case.", "example": "GB"},
    )
    phone = Phone(load_default=None, metadata={"description": "For the carrier."})

    @post_load
    def _no_blank_line2(self, data, **kwargs):
        if data.get("line2") == "":
            data["line2"] = None
        return data


class CustomerSchema(ma.SQLAlchemySchema):
    class Meta:
        model = Customer
        ordered = True

    id = ma.auto_field(dump_only=True)
    name = ma.auto_field()
    email = ma.auto_field()
    phone = ma.auto_field()
    default_address = fields.Nested(
        AddressSchema,
        allow_none=True,
        dump_only=True,
        metadata={"description": "Where orders go when they name no `shipping_address`; null when none is saved."},
    )
    created_at = UTCDateTime(dump_only=True)
    updated_at = UTCDateTime(dump_only=True)


class WholeNested(fields.Nested):
    """A nested object that is always complete: a partial (PATCH) load of the outer body does not
    make the inner fields optional."""

    def _deserialize(self, value, attr, data, partial=None, **kwargs):
        return super()._deserialize(value, attr, data, partial=None, **kwargs)


def DefaultAddress(**kwargs) -> fields.Nested:
    return WholeNested(
        AddressSchema,
        allow_none=True,
        metadata={
            "description": "The saved default shipping address, sent whole; null removes it. "
            "Orders without a `shipping_address` go there."
        },
        **kwargs,
    )


class CustomerFieldsSchema(StrictSchema):
    """name, email, phone, default_address: required as for a new customer (PUT); PATCH loads it partially."""

    name = NonBlank(120, required=True)
    email = Email(required=True)
    phone = Phone(load_default=None)
    default_address = DefaultAddress()


class CustomerCreateSchema(CustomerFieldsSchema):
    username = Username(metadata={"description": "With `password`, also makes the login account."})
    password = Password()

    @validates_schema
    def _both_or_neither(self, data, **kwargs):
        if ("username" in data) != ("password" in data):
            missing = "password" if "username" in data else "username"
            raise ValidationError("Required when the other of username/password is given.", field_name=missing)


class CustomerListArgs(PageArgs):
    q = Text(validate=validate.Length(max=100), metadata={"description": "Matches name or email."})


class CustomerWithAccountSchema(CustomerSchema):
    account = fields.Nested(
        "AccountSchema",
        allow_none=True,
        dump_only=True,
        metadata={"description": "The customer's login account (username, role, active), or null without one."},
    )


class OrderTotalsSchema(Schema):
    orders = fields.Integer(metadata={"description": "Orders placed, cancelled ones included."})
    cancelled = fields.Integer(metadata={"description": "Of those, cancelled."})
    spent = fields.Decimal(
        places=2,
        as_string=True,
        metadata={"example": "42.50", "description": "The totals of the orders not cancelled."},
    )


class CustomerDetailSchema(CustomerWithAccountSchema):
    order_totals = fields.Nested(OrderTotalsSchema)
    purchase_history = fields.List(
        fields.Nested("PurchaseLineSchema"),
        metadata={
            "description": "Books bought, newest first (the 100 most recent lines; cancelled orders left out). "
            "Every order is at /customers/{id}/orders."
        },
    )
