"""HTTP for the admin reports: JSON by default, `format=csv` for a file, `format=png` for a chart."""

from app.api import Blueprint
from app.auth import ADMIN, requires
from app.books.routes import blp as books_blp
from app.reports import charts, services, stock
from app.reports.formats import (
    CSV_MIMETYPE,
    CSV_SCHEMA,
    DISPOSITION_HEADER,
    PNG_MIMETYPE,
    PNG_SCHEMA,
    csv_response,
    currency,
    png_response,
)
from app.reports.schemas import (
    InventoryArgs,
    InventoryReportSchema,
    PopularArgs,
    PopularBooksReportSchema,
    SalesArgs,
    SalesReportSchema,
    StockHistoryArgs,
    StockHistorySchema,
)

blp = Blueprint(
    "reports",
    __name__,
    url_prefix="/reports",
    description="Admin reports: sales over time, popular books, inventory; as JSON, CSV or a PNG chart. "
    "Cancelled orders never count; an order counts on the UTC date it was placed.",
)

ANSWER = "The report: JSON, or with `format=csv` a CSV file, or with `format=png` a chart of the same numbers."


def documented_formats(view):
    """Document the CSV and PNG bodies of the 200 response next to the JSON one."""
    for content_type, schema in ((CSV_MIMETYPE, CSV_SCHEMA), (PNG_MIMETYPE, PNG_SCHEMA)):
        view = blp.alt_response(
            200,
            schema=schema,
            content_type=content_type,
            description=ANSWER,
            headers=DISPOSITION_HEADER,
            success=True,
        )(view)
    return view


def _size(args: dict) -> charts.Size:
    return charts.Size(width=args["width"], scale=args["scale"])


def _range_name(report: dict) -> str:
    return f"{report['from']}_{report['to']}"


@blp.get("/sales")
@requires(ADMIN)
@blp.arguments(SalesArgs, location="query")
@blp.response(200, SalesReportSchema, description=ANSWER)
@documented_formats
@blp.alt_response(400, response="BAD_REQUEST")
def sales(args):
    """Orders, copies and revenue per day, ISO week or month, every period present (admin)"""
    report = services.sales(args["from_"], args["to"], args["period"])
    if args["format"] == "json":
        return report
    dumped = SalesReportSchema().dump(report)
    name = f"sales_{dumped['period']}_{_range_name(dumped)}"
    if args["format"] == "csv":
        return csv_response(name, ["period_start", "orders", "units", "revenue"], dumped["series"])
    return png_response(name, charts.sales_chart(report, currency(), _size(args)))


@blp.get("/popular-books")
@requires(ADMIN)
@blp.arguments(PopularArgs, location="query")
@blp.response(200, PopularBooksReportSchema, description=ANSWER)
@documented_formats
@blp.alt_response(400, response="BAD_REQUEST")
def popular_books(args):
    """The most sold books in a range, with their revenue (admin)"""
    report = services.popular_books(args["from_"], args["to"], args["limit"])
    if args["format"] == "json":
        return report
    dumped = PopularBooksReportSchema().dump(report)
    name = f"popular-books_{_range_name(dumped)}"
    if args["format"] == "csv":
        return csv_response(name, ["book_id", "title", "author", "units_sold", "revenue"], dumped["items"])
    return png_response(name, charts.popular_chart(report, currency(), _size(args)))


@blp.get("/inventory")
@requires(ADMIN)
@blp.arguments(InventoryArgs, location="query")
@blp.response(200, InventoryReportSchema, description=ANSWER)
@documented_formats
@blp.alt_response(400, response="BAD_REQUEST")
def inventory(args):
    """Titles, copies and stock value; out-of-stock and low-stock lists with the shortfall (admin)"""
    report = services.inventory(args["low_stock_threshold"], args["limit"])
    if args["format"] == "json":
        return report
    dumped = InventoryReportSchema().dump(report)
    name = f"inventory_threshold-{dumped['low_stock_threshold']}"
    if args["format"] == "csv":
        rows = [{"list": "out_of_stock", **i} for i in dumped["out_of_stock"]]
        rows += [{"list": "low_stock", **i} for i in dumped["low_stock"]]
        return csv_response(name, ["list", "book_id", "title", "author", "stock", "shortfall"], rows)
    return png_response(name, charts.inventory_chart(report, currency(), _size(args)))


@books_blp.get("/<int:book_id>/stock-history")
@requires(ADMIN)
@books_blp.arguments(StockHistoryArgs, location="query")
@books_blp.response(200, StockHistorySchema)
@books_blp.alt_response(400, response="BAD_REQUEST")
@books_blp.alt_response(404, response="NOT_FOUND")
def stock_history(args, book_id):
    """Per day: copies added or taken away by an admin and copies sold; the admin's stock changes (admin)"""
    return stock.stock_history(book_id, args["from_"], args["to"])
