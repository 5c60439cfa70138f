"""Shared marshmallow fields and base schemas: the rules every body follows."""

import re
from decimal import Decimal, InvalidOperation

import marshmallow as ma
from marshmallow import fields, validate
from werkzeug.routing import BaseConverter, IntegerConverter

from app.clock import utc_iso
from app.extensions import api
from app.money import CENT


class StrictSchema(ma.Schema):
    """Request bodies: unknown fields are refused (this is what stops `role` or `price`)."""

    class Meta:
        unknown = ma.RAISE


class QuerySchema(ma.Schema):
    """Query strings: unknown parameters are ignored, as browsers and proxies add their own."""

    class Meta:
        unknown = ma.EXCLUDE


# Characters no text field accepts: C0 and C1 controls (DEL included) and the bidirectional
# embeddings, overrides and isolates, which reorder what a reader sees (a name that displays as
# "Alice" but sorts, matches and is stored as something else). The marks U+200E, U+200F and
# U+061C stay allowed: they only set the direction of the characters beside them, and mixed
# right-to-left and left-to-right titles need them.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_FORBIDDEN_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029" + BIDI_CONTROLS + "]")
# Multi-line free text (a description, an address) keeps tab, line feed and carriage return.
_FORBIDDEN_MULTI_LINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f" + BIDI_CONTROLS + "]")


class Text(fields.String):
    """A string that encodes as UTF-8 (a lone surrogate cannot be stored) with no control
    character and no bidirectional override; `multiline=True` keeps tab, CR and LF."""

    default_error_messages = {
        "encoding": "Must be valid Unicode text.",
        "control": "Must not contain control characters or bidirectional overrides (found {char}).",
        "control_multiline": "Must not contain control characters other than tab and line breaks, "
        "nor bidirectional overrides (found {char}).",
    }

    def __init__(self, *args, strip: bool = True, multiline: bool = False, **kwargs):
        self.strip = strip
        self.multiline = multiline
        super().__init__(*args, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise self.make_error("encoding") from exc
        found = (_FORBIDDEN_MULTI_LINE if self.multiline else _FORBIDDEN_ONE_LINE).search(value)
        if found:
            raise self.make_error(
                "control_multiline" if self.multiline else "control", char=f"U+{ord(found.group()):04X}"
            )
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


ASCII_DIGITS_MESSAGE = "Must be written with the digits 0-9."
_QUERY_INTEGER = re.compile(r"[+-]?[0-9]+")
QUERY_INTEGER_MAX_DIGITS = 20


class QueryInteger(fields.Integer):
    """An integer in a query string: ASCII digits only (int() would also read "١٢" or "１２"),
    no exponent, no decimals; its Range validator answers for a value past its bounds."""

    default_error_messages = {
        "invalid": "Not a valid integer.",
        "digits": ASCII_DIGITS_MESSAGE,
    }

    def _validated(self, value):
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.make_error("invalid", input=value)
        if isinstance(value, int):
            return value
        if not _QUERY_INTEGER.fullmatch(value):
            if any(ch.isdigit() for ch in value) and _QUERY_INTEGER.fullmatch(_ascii_digits(value)):
                raise self.make_error("digits")
            raise self.make_error("invalid", input=value)
        digits = value.lstrip("+-").lstrip("0")
        if len(digits) > QUERY_INTEGER_MAX_DIGITS:
            # Out of every documented range: a stand-in of the same sign lets the field's Range
            # validator say so, without converting thousands of digits.
            return -(10**QUERY_INTEGER_MAX_DIGITS) if value.startswith("-") else 10**QUERY_INTEGER_MAX_DIGITS
        return int(value)


def _ascii_digits(value: str) -> str:
    """The same text with every Unicode decimal digit replaced by its ASCII digit."""
    return "".join(str(int(ch)) if ch.isdecimal() else ch for ch in value)


MONEY_MAX = Decimal("100000000")
MONEY_MAX_LENGTH = 24  # "-99999999.99" with room for trailing zeros; no amount needs more characters
_MONEY_STRING = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


class Money(fields.Decimal):
    """Money in, as a number or a string of digits 0-9 with at most two decimals; written as "12.50".

    A string takes no exponent ("1e3") and no other script's digits ("١٢", "１２"): amounts are
    written as the API writes them. Every check runs before any arithmetic on the value."""

    default_error_messages = {
        "invalid": "Must be an amount written like 12.50.",
        "digits": "Must be written with the digits 0-9, like 12.50.",
        "places": "Must have at most two decimal places.",
        "positive": "Must be greater than 0.",
        "range": "Must be less than 100000000.",
    }

    def __init__(self, *args, positive: bool = True, **kwargs):
        self.positive = positive
        metadata = kwargs.setdefault("metadata", {})
        metadata.setdefault("example", "12.50")
        metadata.setdefault("maxLength", MONEY_MAX_LENGTH)
        metadata.setdefault("pattern", r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")
        super().__init__(*args, places=2, as_string=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        raw = self._to_decimal(value)
        if not raw.is_finite():
            raise self.make_error("invalid")
        if abs(raw) >= MONEY_MAX:
            raise self.make_error("range")
        if raw.as_tuple().exponent < -2 and raw != raw.quantize(CENT):
            raise self.make_error("places")
        if self.positive and raw <= 0:
            raise self.make_error("positive")
        return raw.quantize(CENT)

    def _to_decimal(self, value) -> Decimal:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, str):
            if len(value) > MONEY_MAX_LENGTH:
                raise self.make_error("invalid")
            if not _MONEY_STRING.fullmatch(value):
                if any(ch.isdigit() for ch in value) and _MONEY_STRING.fullmatch(_ascii_digits(value)):
                    raise self.make_error("digits")
                raise self.make_error("invalid")
            return Decimal(value)
        if isinstance(value, (int, float, Decimal)):
            try:
                return Decimal(str(value)) if isinstance(value, float) else Decimal(value)
            except (InvalidOperation, ValueError):
                raise self.make_error("invalid") from None
        raise self.make_error("invalid")


class IdConverter(IntegerConverter):
    """`<int:…>` in URLs: at most 10 ASCII digits. A longer id matches no route, so every method
    answers 404, where the database driver would fail on it (SQLite: OverflowError → 500).
    (A bound checked after matching would make Werkzeug answer 405 for PUT/PATCH/DELETE.)"""

    regex = r"[0-9]{1,10}"  # not \d, which also matches "١٢" and "１２"


class DigestConverter(BaseConverter):
    """`<digest:…>` in URLs: a SHA-256 in lower-case hex; anything else matches no route (404)."""

    regex = r"[0-9a-f]{64}"


api.register_converter(
    DigestConverter,
    lambda _converter: {"type": "string", "pattern": "^[0-9a-f]{64}$", "minLength": 64, "maxLength": 64},
)


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
        if field.places == CENT:
            doc["pattern"] = DECIMAL_STRING_PATTERN
        return doc
    return {}


class UTCDateTime(fields.DateTime):
    """Naive UTC datetimes from the database, written as ISO 8601 with `Z`."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return utc_iso(value)
