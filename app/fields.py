"""Shared marshmallow fields and base schemas: the rules every body follows."""

import re
from decimal import Decimal, InvalidOperation

import marshmallow as ma
from marshmallow import fields, validate
from werkzeug.routing import IntegerConverter

from app.clock import utc_iso
from app.extensions import api


class StrictSchema(ma.Schema):
    """Request bodies: unknown fields are refused (this is what stops `role` or `price`)."""

    class Meta:
        unknown = ma.RAISE


class QuerySchema(ma.Schema):
    """Query strings: unknown parameters are ignored, as browsers and proxies add their own."""

    class Meta:
        unknown = ma.EXCLUDE


class Text(fields.String):
    """A string that must encode as UTF-8 (a lone surrogate cannot be stored) and has no NUL."""

    default_error_messages = {
        "encoding": "Must be valid Unicode text.",
        "control": "Must not contain control characters.",
    }

    def __init__(self, *args, strip: bool = True, **kwargs):
        self.strip = strip
        super().__init__(*args, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise self.make_error("encoding") from exc
        if "\x00" in value:
            raise self.make_error("control")
        for validator in self.validators:
            if isinstance(validator, validate.Length):
                # The documented maxLength counts what is sent: 121 characters of which one is a
                # space are refused, not trimmed to 120 and stored (the usual check, after the
                # strip, still refuses a name of blanks).
                validator(value)
        return value.strip() if self.strip else value


def NonBlank(max_length: int, **kwargs) -> Text:
    """A required-looking text field: trimmed, 1..max_length characters."""
    return Text(validate=validate.Length(min=1, max=max_length), **kwargs)


class Email(Text):
    default_error_messages = {"invalid": "Not a valid email address."}

    def __init__(self, **kwargs):
        # A list, not validate.And: apispec documents the Length (maxLength) only from a list.
        kwargs.setdefault("validate", [validate.Length(max=254), validate.Email()])
        kwargs["metadata"] = {"format": "email", **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).lower()


USERNAME_RE = re.compile(r"^[A-Za-z0-9._-]{3,50}$")


def Username(**kwargs) -> Text:
    """3 to 50 of letters, digits, `.`, `_`, `-` (no `@`: a login name with `@` is taken for an email)."""
    return Text(
        validate=validate.Regexp(USERNAME_RE, error="3 to 50 letters, digits, dots, underscores or hyphens."), **kwargs
    )


PHONE_RE = re.compile(r"^(?=.{7,20}$)\+?[0-9 ()\-]+$")  # 7 to 20 characters, the + included


def Phone(**kwargs) -> Text:
    return Text(
        allow_none=True,
        validate=validate.Regexp(PHONE_RE, error="Must be 7 to 20 characters of digits, spaces and + - ( )."),
        **kwargs,
    )


class Password(fields.String):
    """8 to 72 bytes of UTF-8 (bcrypt ignores or refuses anything beyond 72 bytes)."""

    default_error_messages = {
        "short": "Must be at least 8 characters.",
        "long": "Must be at most 72 bytes in UTF-8.",
        "encoding": "Must be valid Unicode text.",
    }

    def __init__(self, *args, check_length: bool = True, **kwargs):
        self.check_length = check_length
        if check_length:
            kwargs["metadata"] = {
                "minLength": 8,
                "description": "8 to 72 bytes of UTF-8.",
                **kwargs.get("metadata", {}),
            }
        super().__init__(*args, load_only=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        try:
            encoded = value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise self.make_error("encoding") from exc
        if self.check_length:
            if len(value) < 8:
                raise self.make_error("short")
            if len(encoded) > 72:
                raise self.make_error("long")
        elif len(encoded) > 1024:
            raise self.make_error("long")
        return value


class StrictInteger(fields.Integer):
    """Integers in JSON bodies: 1.5 and "2" are refused, and so are booleans."""

    def __init__(self, *args, **kwargs):
        kwargs["strict"] = True
        super().__init__(*args, **kwargs)

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class Money(fields.Decimal):
    """Money in, as a number or a string; at most two decimals; written as "12.50"."""

    default_error_messages = {
        "places": "Must have at most two decimal places.",
        "positive": "Must be greater than 0.",
        "range": "Must be less than 100000000.",
    }

    def __init__(self, *args, positive: bool = True, **kwargs):
        self.positive = positive
        kwargs.setdefault("metadata", {}).setdefault("example", "12.50")
        super().__init__(*args, places=2, as_string=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        try:
            raw = Decimal(str(value)) if isinstance(value, (int, float, str)) else None
        except (InvalidOperation, ValueError):
            raw = None
        if raw is None or not raw.is_finite():
            raise self.make_error("invalid")
        if raw.as_tuple().exponent < -2 and raw != raw.quantize(Decimal("0.01")):
            raise self.make_error("places")
        if self.positive and raw <= 0:
            raise self.make_error("positive")
        if abs(raw) >= Decimal("100000000"):
            raise self.make_error("range")
        return raw.quantize(Decimal("0.01"))


class IdConverter(IntegerConverter):
    """`<int:…>` in URLs: at most 10 digits. A longer id matches no route, so every method
    answers 404, where the database driver would fail on it (SQLite: OverflowError → 500).
    (A bound checked after matching would make Werkzeug answer 405 for PUT/PATCH/DELETE.)"""

    regex = r"\d{1,10}"


# Money is written as a string ("12.50"), so the OpenAPI document calls it a string, not the
# number apispec assumes for a Decimal (whose bounds, serialised as strings, made it invalid).
api.register_field(Money, "string", "decimal")

# Amounts the API writes (totals, line totals, revenue): a string with two decimals.
DECIMAL_STRING_PATTERN = r"^-?[0-9]+\.[0-9]{2}$"


def decimal_strings(converter, field, **kwargs) -> dict:
    """apispec attribute function (bound to the field converter): a plain `Decimal(as_string=True)` is written as a string, not
    the number apispec assumes (Money, which also reads numbers, has its own mapping above)."""
    if isinstance(field, fields.Decimal) and not isinstance(field, Money) and field.as_string:
        doc = {"type": "string", "format": "decimal"}
        if field.places == Decimal("0.01"):
            doc["pattern"] = DECIMAL_STRING_PATTERN
        return doc
    return {}


class UTCDateTime(fields.DateTime):
    """Naive UTC datetimes from the database, written as ISO 8601 with `Z`."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return utc_iso(value)
