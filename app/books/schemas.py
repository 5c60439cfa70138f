"""Shapes of a book, its write bodies and the catalogue query string."""

import re
from decimal import ROUND_HALF_UP, Decimal

import marshmallow as ma
from marshmallow import ValidationError, fields, validate, validates_schema

from app.books.cover_images import cover_url
from app.books.models import AUTHOR_MAX, DESCRIPTION_MAX, GENRE_MAX, MAX_STOCK, TITLE_MAX
from app.clock import utc_iso, utctoday
from app.fields import Money, NonBlank, QueryInteger, QuerySchema, StrictInteger, StrictSchema, Text, UTCDateTime
from app.money import CENT
from app.pagination import DEFAULT_PER_PAGE, MAX_PER_PAGE

# Query text limits: with them every documented /books query fits gunicorn's request line
# (gunicorn.conf.py works the sum out; tests/test_input_limits.py checks it from the OpenAPI document).
Q_MAX = 200
AUTHOR_QUERY_MAX = 100
CURSOR_MAX = 2048
CURSOR_RE = re.compile(r"^[A-Za-z0-9_-]+$")  # URL-safe base64: no character needs percent-encoding
SORT_KEYS = ("title", "author", "price", "created_at", "popularity")
SORTS = SORT_KEYS + tuple("-" + key for key in SORT_KEYS)
MIN_YEAR = 1000
YEAR_AHEAD = 2  # announced titles may carry next year's (or the one after) date

_ISBN_CHARS = re.compile(r"[\s-]")


def isbn10_to_13(isbn10: str) -> str:
    core = "978" + isbn10[:9]
    return core + isbn13_check_digit(core)


def isbn13_check_digit(first12: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def isbn10_valid(value: str) -> bool:
    if not re.fullmatch(r"[0-9]{9}[0-9X]", value):
        return False
    total = sum((10 - i) * (10 if ch == "X" else int(ch)) for i, ch in enumerate(value))
    return total % 11 == 0


def isbn13_valid(value: str) -> bool:
    return bool(re.fullmatch(r"97[89][0-9]{10}", value)) and isbn13_check_digit(value[:12]) == value[12]


def normalise_isbn(raw: str) -> str | None:
    """ISBN-10 or ISBN-13 (hyphens and spaces allowed) → ISBN-13 digits; None when invalid."""
    value = _ISBN_CHARS.sub("", raw).upper()
    if len(value) == 10 and isbn10_valid(value):
        return isbn10_to_13(value)
    if len(value) == 13 and isbn13_valid(value):
        return value
    return None


class Isbn(Text):
    """ISBN-10 or ISBN-13, checksum verified, stored and returned as the 13 digits."""

    default_error_messages = {"isbn": "Not a valid ISBN-10 or ISBN-13 (check digit included)."}

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if len(value) > 20:
            raise self.make_error("isbn")
        normalised = normalise_isbn(value)
        if normalised is None:
            raise self.make_error("isbn")
        return normalised


class PublishedYear(StrictInteger):
    default_error_messages = {"year": "Must be a year between {min} and {max}."}

    def _validated(self, value):
        value = super()._validated(value)
        latest = utctoday().year + YEAR_AHEAD
        if not MIN_YEAR <= value <= latest:
            raise self.make_error("year", min=MIN_YEAR, max=latest)
        return value


def StockCount(**kwargs) -> StrictInteger:
    return StrictInteger(validate=validate.Range(min=0, max=MAX_STOCK), **kwargs)


class BookSchema(ma.Schema):
    """A book as the API shows it."""

    id = fields.Integer(dump_only=True)
    title = fields.String()
    author = fields.String()
    genre = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    isbn = fields.String(allow_none=True, metadata={"description": "ISBN-13, digits only.", "example": "9780141439518"})
    price = Money()
    stock = fields.Integer(metadata={"description": "Copies available."})
    in_stock = fields.Function(lambda book: book.stock > 0, dump_only=True, metadata={"type": "boolean"})
    published_year = fields.Integer(allow_none=True)
    rating_average = fields.Function(
        lambda book: rating_average(book.rating_count, book.rating_sum),
        dump_only=True,
        allow_none=True,
        metadata={
            "type": "string",
            "format": "decimal",
            "pattern": r"^[1-5]\.[0-9]{2}$",
            "description": "Mean rating of the visible reviews, two decimals (half up), like 4.25; null when none.",
            "example": "4.25",
        },
    )
    rating_count = fields.Integer(dump_only=True, metadata={"description": "Visible reviews."})
    created_at = UTCDateTime(dump_only=True)
    updated_at = UTCDateTime(dump_only=True)
    cover_url = fields.Function(
        lambda book: cover_url(book.cover_digest),
        dump_only=True,
        allow_none=True,
        metadata={
            "type": "string",
            "nullable": True,
            "description": "The cover image (WebP, at most 600×900), at a URL that never changes; null when none.",
            "example": "/covers/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.webp",
        },
    )
    cover_thumbnail_url = fields.Function(
        lambda book: cover_url(book.cover_thumbnail_digest),
        dump_only=True,
        allow_none=True,
        metadata={
            "type": "string",
            "nullable": True,
            "description": "The cover's thumbnail (WebP, at most 200×300), at a URL that never changes; null when none.",
        },
    )


def rating_average(count: int, total: int) -> str | None:
    """The mean of `count` ratings summing to `total`, written like a price ("4.25"); None for none."""
    if not count:
        return None
    return str((Decimal(total) / count).quantize(CENT, rounding=ROUND_HALF_UP))


BOOK_ROW_FIELDS = (
    "id",
    "title",
    "author",
    "genre",
    "description",
    "isbn",
    "price",
    "stock",
    "published_year",
    "units_sold",
    "created_at",
    "updated_at",
    "rating_count",
    "rating_sum",
    "cover_digest",
    "cover_thumbnail_digest",
)  # fmt: skip  (the column order of app.books.reads.COLUMNS)


def book_document(row) -> dict:
    """What `BookSchema().dump(row)` returns, built directly from a row in `BOOK_ROW_FIELDS` order.

    The read of one book is the hottest path of the API and marshmallow is most of its cost;
    tests keep the two identical for every kind of value."""
    book_id, title, author, genre, description, isbn, price, stock, year, _sold, created, updated, *extra = row
    reviews, stars, cover, thumb = extra
    return {
        "id": book_id,
        "title": title,
        "author": author,
        "genre": genre,
        "description": description,
        "isbn": isbn,
        "price": f"{price:.2f}",
        "stock": stock,
        "in_stock": stock > 0,
        "published_year": year,
        "rating_average": rating_average(reviews, stars),
        "rating_count": reviews,
        "created_at": utc_iso(created),
        "updated_at": utc_iso(updated),
        "cover_url": cover_url(cover),
        "cover_thumbnail_url": cover_url(thumb),
    }


class BookPageSchema(ma.Schema):
    items = fields.List(fields.Nested(BookSchema))
    page = QueryInteger()
    per_page = QueryInteger()
    total = fields.Integer(metadata={"description": "Matching books (may lag writes by a few seconds)."})
    pages = fields.Integer()
    next_cursor = fields.String(
        allow_none=True,
        metadata={"description": "Pass as `cursor` to fetch the next page at constant cost; null on the last page."},
    )


class BookWriteSchema(StrictSchema):
    """POST (stock defaults to 0), PUT (full replace; stock kept unless given), PATCH (partial)."""

    title = NonBlank(TITLE_MAX, required=True)
    author = NonBlank(AUTHOR_MAX, required=True)
    price = Money(required=True)
    stock = StockCount(metadata={"description": "Copies available (POST: 0 when omitted; PUT: kept when omitted)."})
    genre = Text(allow_none=True, validate=validate.Length(min=1, max=GENRE_MAX))
    description = Text(allow_none=True, multiline=True, validate=validate.Length(min=1, max=DESCRIPTION_MAX))
    isbn = Isbn(allow_none=True, metadata={"description": "ISBN-10 or ISBN-13; hyphens allowed; stored as ISBN-13."})
    published_year = PublishedYear(allow_none=True)


class StockSchema(StrictSchema):
    stock = StockCount(required=True)


class RestockSchema(StrictSchema):
    quantity = StrictInteger(required=True, validate=validate.Range(min=1, max=MAX_STOCK))


class QueryBoolean(fields.Boolean):
    truthy = {"true"}
    falsy = {"false"}
    default_error_messages = {"invalid": "Must be true or false."}


class QueryMoney(Money):
    """A price bound in a query string: ≥ 0, at most two decimals."""

    def __init__(self, **kwargs):
        super().__init__(positive=False, validate=validate.Range(min=Decimal(0), error="Must be 0 or more."), **kwargs)


class BookListArgs(QuerySchema):
    q = Text(
        validate=validate.Length(max=Q_MAX),
        metadata={"description": "Words that must all appear in the title, author, description or ISBN."},
    )
    author = Text(validate=validate.Length(max=AUTHOR_QUERY_MAX), metadata={"description": "Substring of the author."})
    genre = Text(validate=validate.Length(max=GENRE_MAX), metadata={"description": "Exact genre (any case)."})
    min_price = QueryMoney()
    max_price = QueryMoney()
    in_stock = QueryBoolean(metadata={"description": "`true`: stock > 0; `false`: sold out."})
    sold = QueryBoolean(
        metadata={
            "description": "`true`: sold at least one copy; `false`: never sold. "
            "`sold=true&sort=-popularity` is the bestsellers list."
        }
    )
    sort = fields.String(
        load_default="title",
        validate=validate.OneOf(SORTS),
        metadata={
            "description": "A key, `-key` for descending; ties are broken by id. `popularity` is units sold "
            "(cancelled orders give theirs back); `-created_at` is the new arrivals list (newest added first)."
        },
    )
    page = QueryInteger(validate=validate.Range(min=1, max=10_000_000), metadata={"description": "From 1 (default 1)."})
    per_page = QueryInteger(
        load_default=DEFAULT_PER_PAGE,
        validate=validate.Range(min=1, max=MAX_PER_PAGE),
        metadata={"description": f"Items per page, 1 to {MAX_PER_PAGE}."},
    )
    cursor = Text(
        validate=[
            validate.Length(min=1, max=CURSOR_MAX),
            validate.Regexp(CURSOR_RE, error="Not a valid cursor (use next_cursor of the previous page)."),
        ],
        metadata={"description": "`next_cursor` of the previous page (instead of `page`)."},
    )

    @validates_schema
    def _consistent(self, data, **kwargs):
        if "cursor" in data and "page" in data:
            raise ValidationError("Use either cursor or page, not both.", field_name="cursor")
        low, high = data.get("min_price"), data.get("max_price")
        if low is not None and high is not None and low > high:
            raise ValidationError("Must not be less than min_price.", field_name="max_price")
