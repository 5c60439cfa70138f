from marshmallow import ValidationError, fields, validate, validates_schema

from app.customers.models import Customer
from app.extensions import ma
from app.fields import Email, NonBlank, Password, Phone, StrictSchema, Text, Username, UTCDateTime
from app.pagination import PageArgs


class CustomerSchema(ma.SQLAlchemySchema):
    class Meta:
        model = Customer
        ordered = True

    id = ma.auto_field(dump_only=True)
    name = ma.auto_field()
    email = ma.auto_field()
    phone = ma.auto_field()
    created_at = UTCDateTime(dump_only=True)
    updated_at = UTCDateTime(dump_only=True)


class CustomerFieldsSchema(StrictSchema):
    """name, email, phone: required as for a new customer (PUT); PATCH loads it partially."""

    name = NonBlank(120, required=True)
    email = Email(required=True)
    phone = Phone(load_default=None)


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
    account = fields.Nested("AccountSchema", allow_none=True, dump_only=True)


class CustomerDetailSchema(CustomerSchema):
    purchase_history = fields.List(
        fields.Nested("PurchaseLineSchema"),
        metadata={
            "description": "Books bought, newest first (the 100 most recent lines; cancelled orders left out). "
            "Every order is at /customers/{id}/orders."
        },
    )
