from marshmallow import fields, validate

from app.accounts.models import Account
from app.auth import ROLES
from app.customers.schemas import CustomerSchema, DefaultAddress
from app.extensions import ma
from app.fields import Email, NonBlank, Password, Phone, StrictInteger, StrictSchema, Text, Username, UTCDateTime


class StrictBoolean(fields.Boolean):
    """JSON true/false only."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class AccountSchema(ma.SQLAlchemySchema):
    class Meta:
        model = Account
        ordered = True

    id = ma.auto_field(dump_only=True)
    username = ma.auto_field()
    role = ma.auto_field()
    is_active = ma.auto_field()
    customer_id = ma.auto_field()
    created_at = UTCDateTime(dump_only=True)
    updated_at = UTCDateTime(dump_only=True)


class AccountDetailSchema(AccountSchema):
    customer = fields.Nested(CustomerSchema, allow_none=True)


class RegisterSchema(StrictSchema):
    name = NonBlank(120, required=True)
    email = Email(required=True)
    phone = Phone(load_default=None)
    username = Username(required=True)
    password = Password(required=True)
    default_address = DefaultAddress()


class RegisterResultSchema(ma.Schema):
    customer = fields.Nested(CustomerSchema)
    account = fields.Nested(AccountSchema)


class LoginSchema(StrictSchema):
    username = Text(
        required=True,
        validate=validate.Length(min=1, max=254),
        metadata={"description": "The username or the customer's email."},
    )
    password = Password(required=True, check_length=False)
    refresh_cookie = StrictBoolean(
        load_default=False,
        metadata={
            "description": "For the web pages: the refresh token comes as an HttpOnly cookie for POST "
            "/token/refresh instead of in the body. Needs the header `X-Session-Cookie: 1`."
        },
    )


class TokenSchema(ma.Schema):
    access_token = fields.String()
    refresh_token = fields.String(
        metadata={
            "description": "Use it once: POST /token/refresh answers a new one; a second use ends the session. "
            "Left out when it is sent as the pages' cookie."
        }
    )
    token_type = fields.String(metadata={"example": "Bearer"})
    expires_in = fields.Integer(metadata={"description": "Seconds until the access token expires."})


class MeSchema(ma.Schema):
    account = fields.Nested(AccountSchema)
    customer = fields.Nested(CustomerSchema, allow_none=True)


class MeUpdateSchema(StrictSchema):
    name = NonBlank(120)
    email = Email()
    phone = Phone()
    default_address = DefaultAddress()


class PasswordChangeSchema(StrictSchema):
    current_password = Password(required=True, check_length=False)
    new_password = Password(required=True)


class AccountCreateSchema(StrictSchema):
    username = Username(required=True)
    password = Password(required=True)
    customer_id = StrictInteger(allow_none=True, validate=validate.Range(min=1, max=2**31 - 1))
    role = fields.String(validate=validate.OneOf(ROLES), load_default="customer")


class AccountUpdateSchema(StrictSchema):
    """PUT needs `username`; PATCH takes any subset. `role` and `is_active` are for admins."""

    username = Username(required=True)
    password = Password()
    current_password = Password(
        check_length=False, metadata={"description": "Required when changing your own password."}
    )
    role = fields.String(validate=validate.OneOf(ROLES))
    is_active = StrictBoolean()
