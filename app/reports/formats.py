"""The non-JSON answers of the reports: CSV files and PNG charts, built from the dumped report.

The CSV rows are the JSON rows, field for field and in the same text form ("12.50", "2025-01-06"),
with one exception: a text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets
a leading `'` so a spreadsheet does not run it as a formula (OWASP "CSV injection").
"""

import csv
import io

from flask import current_app

CSV_MIMETYPE = "text/csv"
PNG_MIMETYPE = "image/png"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

CSV_SCHEMA = {"type": "string", "description": "CSV (RFC 4180) with a header row."}
PNG_SCHEMA = {"type": "string", "format": "binary", "description": "A PNG chart."}
DISPOSITION_HEADER = {
    "Content-Disposition": {
        "description": '`attachment; filename="…"` for CSV, `inline; filename="…"` for PNG.',
        "schema": {"type": "string"},
    }
}


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value


def csv_text(header: list[str], rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(row[key]) for key in header])
    return buffer.getvalue()


def _file_response(body, mimetype: str, disposition: str, filename: str):
    response = current_app.response_class(body, status=200, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


def csv_response(filename: str, header: list[str], rows: list[dict]):
    return _file_response(csv_text(header, rows), CSV_MIMETYPE, "attachment", filename + ".csv")


def png_response(filename: str, png: bytes):
    return _file_response(png, PNG_MIMETYPE, "inline", filename + ".png")


def currency() -> str:
    """ISO 4217 code of the store's prices (the API's money strings carry none); `CURRENCY`, default USD."""
    return current_app.config.get("CURRENCY") or "USD"
