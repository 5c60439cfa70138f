"""Keyset cursors of the catalogue list.

A cursor is base64url(HMAC + JSON [sort, key value, id, position, filter signature]): it cannot be
forged or reused with other filters, and every value in it is the server's own."""

import base64
import binascii
import hashlib
import hmac
import json
from datetime import datetime
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import or_

from app.books.models import Book
from app.books.search import FILTER_NAMES
from app.errors import field_error

MAC_BYTES = 12


def filter_signature(args: dict) -> str:
    """A short digest of the filters in `args`, so a cursor only continues the list it came from."""
    parts = {k: str(args[k]) for k in FILTER_NAMES if args.get(k) not in (None, "")}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def _key() -> bytes:
    return hashlib.sha256(b"books-cursor:" + current_app.config["SECRET_KEY"].encode()).digest()


def _encode_value(key: str, value):
    if key == "price":
        return str(value)
    if key == "created_at":
        return value.isoformat()
    return value


def _decode_value(key: str, value):
    if key == "popularity":
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError
        return value
    if not isinstance(value, str):
        raise ValueError
    if key == "price":
        return Decimal(value)
    if key == "created_at":
        return datetime.fromisoformat(value)
    return value


def encode_cursor(sort: str, value, book_id: int, position: int, signature: str) -> str:
    # UTF-8, not \u escapes: a cursor after a title of 255 emoji stays within the cursor maxLength.
    payload = json.dumps(
        [sort, _encode_value(sort.lstrip("-"), value), book_id, position, signature],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    raw = payload.encode()
    mac = hmac.new(_key(), raw, hashlib.sha256).digest()[:MAC_BYTES]
    return base64.urlsafe_b64encode(mac + raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str, sort: str, signature: str):
    """(key value, id, position) from a cursor made for this sort and these filters; else 400."""
    bad = field_error("cursor", "Not a valid cursor for this query (use next_cursor of the previous page).")
    try:
        blob = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raise bad from None
    mac, raw = blob[:MAC_BYTES], blob[MAC_BYTES:]
    expected = hmac.new(_key(), raw, hashlib.sha256).digest()[:MAC_BYTES]
    if len(mac) != MAC_BYTES or not hmac.compare_digest(mac, expected):
        raise bad
    try:
        cursor_sort, value, book_id, position, cursor_signature = json.loads(raw)
        value = _decode_value(sort.lstrip("-"), value)
    except (ValueError, TypeError, InvalidOperation):
        raise bad from None
    if cursor_sort != sort or cursor_signature != signature:
        raise field_error("cursor", "This cursor belongs to another sort or other filters.")
    if not (isinstance(book_id, int) and isinstance(position, int) and position >= 0):
        raise bad
    return value, book_id, position


def after(column, value, book_id: int, descending: bool):
    """Rows strictly after (value, id) in the sort order, written as `col > v OR (col = v AND id > i)`:
    two adjacent ranges of the sort index (docs/decisions/0004-keyset-condition-as-two-ranges.md)."""
    if descending:
        return or_(column < value, sa.and_(column == value, Book.id < book_id))
    return or_(column > value, sa.and_(column == value, Book.id > book_id))
