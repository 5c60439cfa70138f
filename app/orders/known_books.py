"""The titles and prices of the books this app process has sold, so that an order need not read
them back after taking the stock.

An order line records the book's title and price as they are when its stock is taken. The stock
UPDATE of a remembered book also requires the row to still hold the remembered title (compared
byte for byte: the column's collation calls "cafe" and "Café" equal) and price, so when it
matches, the remembered values are the row's at the moment it was locked: exactly what reading
them back would give. When it does not match (the book was edited since, or is short), the plain
conditional UPDATE runs, the title and price are read back after it as before, and remembered.
Why: docs/decisions/0021-remembered-titles-and-prices.md.
"""

import threading
from decimal import Decimal

from cachetools import LRUCache
from flask import current_app

EXTENSION = "orders.known_books"


class KnownBooks:
    """book id -> (title, price), the least recently sold forgotten first; one per app and process."""

    MAX_ENTRIES = 20_000  # about 12 MB with 255-character titles; a catalogue's best sellers fit many times over

    def __init__(self, max_entries: int = MAX_ENTRIES):
        self._entries: LRUCache = LRUCache(max_entries)
        self._lock = threading.Lock()

    def get(self, book_id: int) -> tuple[str, Decimal] | None:
        with self._lock:
            return self._entries.get(book_id)

    def remember(self, rows) -> None:
        """`rows` of (book id, title, price), as the order just read them."""
        with self._lock:
            for book_id, title, price in rows:
                self._entries[book_id] = (title, price)


def known_books() -> KnownBooks:
    """The current app's memory of titles and prices (made on first use)."""
    return current_app.extensions.setdefault(EXTENSION, KnownBooks())
