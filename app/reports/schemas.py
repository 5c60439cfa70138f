"""Query parameters and answers of the admin reports."""

from datetime import date, timedelta

from marshmallow import Schema, ValidationError, fields, post_load, validate

from app.books.models import STOCK_REASONS
from app.clock import utctoday
from app.fields import QueryInteger, QuerySchema, UTCDateTime
from app.reports.periods import DAY, PERIODS

FORMATS = ("json", "csv", "png")
DEFAULT_DAYS = 30  # from/to default: the 30 days ending today (UTC), both included
MAX_DAY_RANGE = 366  # days in a range at day granularity
MAX_RANGE = 3660  # days in a range at week or month granularity (about ten years)
EARLIEST, LATEST = date(1970, 1, 1), date(2999, 12, 31)
MAX_LIMIT, DEFAULT_LIMIT = 100, 10
MAX_THRESHOLD, DEFAULT_THRESHOLD = 1000, 5
MAX_LIST, DEFAULT_LIST = 1000, 100  # items in each inventory list
MIN_CHART_WIDTH, MAX_CHART_WIDTH, DEFAULT_CHART_WIDTH = 280, 2000, 1000  # CSS pixels
MAX_CHART_SCALE = 3

DATE_RANGE = validate.Range(
    min=EARLIEST, max=LATEST, error=f"Must be a date from {EARLIEST.isoformat()} to {LATEST.isoformat()}."
)


class FormatArgs(QuerySchema):
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(FORMATS),
        metadata={
            "description": "`json` (default), `csv` (a text/csv attachment with a header row) "
            "or `png` (a chart drawn from the same numbers)."
        },
    )
    width = QueryInteger(
        load_default=DEFAULT_CHART_WIDTH,
        validate=validate.Range(min=MIN_CHART_WIDTH, max=MAX_CHART_WIDTH),
        metadata={
            "description": f"`format=png` only: the width the chart is shown at, in CSS pixels, {MIN_CHART_WIDTH} "
            f"to {MAX_CHART_WIDTH} (default {DEFAULT_CHART_WIDTH}); below 800 the text is drawn smaller "
            "and long labels are shortened."
        },
    )
    scale = QueryInteger(
        load_default=1,
        validate=validate.Range(min=1, max=MAX_CHART_SCALE),
        metadata={
            "description": f"`format=png` only: device pixels per CSS pixel, 1 to {MAX_CHART_SCALE} (default 1); "
            "the PNG is `width × scale` pixels wide."
        },
    )


class DatesArgs(QuerySchema):
    from_ = fields.Date(
        data_key="from",
        validate=DATE_RANGE,
        metadata={"description": f"First UTC date included (YYYY-MM-DD). Default: `to` minus {DEFAULT_DAYS - 1} days."},
    )
    to = fields.Date(
        validate=DATE_RANGE, metadata={"description": "Last UTC date included (YYYY-MM-DD). Default: today (UTC)."}
    )

    @post_load
    def _defaults(self, data, **kwargs):
        if data.get("to") is None:
            data["to"] = utctoday()
        if data.get("from_") is None:
            data["from_"] = max(data["to"] - timedelta(days=DEFAULT_DAYS - 1), EARLIEST)
        if data["from_"] > data["to"]:
            raise ValidationError(f"Must not be after `to` ({data['to'].isoformat()}).", field_name="from")
        self.check_range(data)
        return data

    def check_range(self, data: dict) -> None:
        """Further checks of the resolved range (one post_load hook: marshmallow orders hooks by name)."""


class RangeArgs(DatesArgs, FormatArgs):
    pass


class StockHistoryArgs(DatesArgs):
    def check_range(self, data: dict) -> None:
        days = (data["to"] - data["from_"]).days + 1
        if days > MAX_DAY_RANGE:
            raise ValidationError(f"The range spans {days} days; at most {MAX_DAY_RANGE} are allowed.", field_name="to")


class SalesArgs(RangeArgs):
    period = fields.String(
        load_default=DAY,
        validate=validate.OneOf(PERIODS),
        metadata={
            "description": "`day` (default; at most 366 days), `week` (ISO weeks, Monday to Sunday) or "
            "`month`; week and month ranges may span at most 3660 days."
        },
    )

    def check_range(self, data: dict) -> None:
        days = (data["to"] - data["from_"]).days + 1
        limit = MAX_DAY_RANGE if data["period"] == DAY else MAX_RANGE
        if days > limit:
            hint = " Use period=week or period=month, or a shorter range." if data["period"] == DAY else ""
            raise ValidationError(
                f"The range spans {days} days; period={data['period']} allows at most {limit}.{hint}",
                field_name="to",
            )


class PopularArgs(RangeArgs):
    limit = QueryInteger(
        load_default=DEFAULT_LIMIT,
        validate=validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"How many books, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})."},
    )


class InventoryArgs(FormatArgs):
    low_stock_threshold = QueryInteger(
        load_default=DEFAULT_THRESHOLD,
        validate=validate.Range(min=1, max=MAX_THRESHOLD),
        metadata={
            "description": f"A title is low on stock when 0 < stock ≤ this, 1 to {MAX_THRESHOLD} "
            f"(default {DEFAULT_THRESHOLD})."
        },
    )
    limit = QueryInteger(
        load_default=DEFAULT_LIST,
        validate=validate.Range(min=1, max=MAX_LIST),
        metadata={
            "description": f"At most this many items in each list, 1 to {MAX_LIST} (default {DEFAULT_LIST}); "
            "`out_of_stock_count` and `low_stock_count` give the full sizes."
        },
    )


class SalesTotalsSchema(Schema):
    orders = fields.Integer(metadata={"description": "Orders placed (cancelled ones never count)."})
    units = fields.Integer(metadata={"description": "Copies sold."})
    revenue = fields.Decimal(places=2, as_string=True, metadata={"example": "1234.50"})


class SalesPointSchema(Schema):
    period_start = fields.Date(
        metadata={"description": "The day, the Monday of the ISO week, or the first of the month."}
    )
    orders = fields.Integer()
    units = fields.Integer()
    revenue = fields.Decimal(places=2, as_string=True, metadata={"example": "310.00"})


class SalesReportSchema(Schema):
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    period = fields.String(metadata={"enum": list(PERIODS)})
    totals = fields.Nested(SalesTotalsSchema)
    series = fields.List(
        fields.Nested(SalesPointSchema),
        metadata={
            "description": "Every period in the range, oldest first, zeros included. The first and last week or "
            "month may reach past `from` and `to`; only orders placed from `from` to `to` count."
        },
    )


class PopularBookSchema(Schema):
    book_id = fields.Integer()
    title = fields.String()
    author = fields.String()
    units_sold = fields.Integer(metadata={"description": "Copies sold in the range."})
    revenue = fields.Decimal(
        places=2, as_string=True, metadata={"example": "99.90", "description": "At the prices the orders froze."}
    )


class PopularBooksReportSchema(Schema):
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    items = fields.List(
        fields.Nested(PopularBookSchema),
        metadata={"description": "Most copies sold first; ties: higher revenue, then lower book_id."},
    )


class StockItemSchema(Schema):
    book_id = fields.Integer()
    title = fields.String()
    author = fields.String()
    stock = fields.Integer()
    shortfall = fields.Integer(metadata={"description": "Copies needed to bring the stock up to the threshold."})


class InventoryReportSchema(Schema):
    low_stock_threshold = QueryInteger()
    limit = QueryInteger(metadata={"description": "The most items each list holds."})
    titles = fields.Integer(metadata={"description": "Titles in the catalogue (retired books are left out)."})
    total_units = fields.Integer(metadata={"description": "Copies in stock over all titles."})
    inventory_value = fields.Decimal(
        places=2, as_string=True, metadata={"example": "15230.40", "description": "Stock × today's price."}
    )
    out_of_stock_count = fields.Integer(metadata={"description": "Titles out of stock, all of them."})
    out_of_stock = fields.List(
        fields.Nested(StockItemSchema), metadata={"description": "stock = 0, by book_id; the first `limit`."}
    )
    low_stock_count = fields.Integer(metadata={"description": "Titles low on stock, all of them."})
    low_stock = fields.List(
        fields.Nested(StockItemSchema),
        metadata={"description": "0 < stock ≤ threshold, lowest stock first; the first `limit`."},
    )


class StockDaySchema(Schema):
    day = fields.Date()
    added = fields.Integer(metadata={"description": "Copies an admin added that day (restocks, stock set higher)."})
    removed = fields.Integer(metadata={"description": "Copies an admin took away that day (stock set lower)."})
    sold = fields.Integer(
        metadata={"description": "Copies sold in orders placed that day (cancelled ones never count)."}
    )


class StockTotalsSchema(Schema):
    added = fields.Integer()
    removed = fields.Integer()
    sold = fields.Integer()


class StockMovementSchema(Schema):
    at = UTCDateTime()
    change = fields.Integer(metadata={"description": "Copies added (negative: taken away)."})
    stock_after = fields.Integer()
    reason = fields.String(
        metadata={
            "enum": list(STOCK_REASONS),
            "description": "`created` (the book was added with stock), `set` (the stock was set, by "
            "`PUT /books/{id}/stock` or a book edit) or `restock`.",
        }
    )
    account_id = fields.Integer(allow_none=True, metadata={"description": "The admin who made it (null once deleted)."})


class StockHistorySchema(Schema):
    book_id = fields.Integer()
    title = fields.String()
    stock = fields.Integer(metadata={"description": "Copies in stock now."})
    is_retired = fields.Boolean()
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    totals = fields.Nested(StockTotalsSchema)
    days = fields.List(fields.Nested(StockDaySchema), metadata={"description": "Every day of the range, oldest first."})
    movements = fields.List(
        fields.Nested(StockMovementSchema),
        metadata={"description": "The admin's stock changes in the range, newest first (at most 100)."},
    )
