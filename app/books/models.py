"""The catalogue table.

Every list the API offers is a filter plus a sort with `id` as tie-break; each has an index
that starts with `is_retired` (always `= 0` in the catalogue) so one index range answers
filter + order + LIMIT without a sort or a scan. `units_sold` is maintained by the orders code
so `sort=popularity` needs no scan of order lines. MySQL/MariaDB also get a FULLTEXT index
over the searchable columns (created on that dialect only).
"""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    Text,
    false,
)
from sqlalchemy.dialects.mysql import MEDIUMBLOB
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db

TITLE_MAX = 255
AUTHOR_MAX = 255
GENRE_MAX = 50
DESCRIPTION_MAX = 10_000
ISBN_MAX = 13
MAX_STOCK = 1_000_000_000  # fits INT with room for a restock
FULLTEXT_COLUMNS = ("title", "author", "description", "isbn")
FULLTEXT_INDEX = "ft_books_search"
DIGEST_LEN = 64  # SHA-256 in hex
COVER_KINDS = ("cover", "thumbnail")

# Sort keys offered by GET /books and the column behind each.
SORT_COLUMNS = ("title", "author", "price", "created_at", "units_sold")


def _sort_indexes():
    """(is_retired, key, id) for every sort, and (is_retired, genre, key, id) for genre + every sort."""
    indexes = []
    for key in SORT_COLUMNS:
        indexes.append(Index(f"ix_books_live_{key}", "is_retired", key, "id"))
        indexes.append(Index(f"ix_books_live_genre_{key}", "is_retired", "genre", key, "id"))
    return tuple(indexes)


class Book(db.Model):
    __tablename__ = "books"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_non_negative"),
        CheckConstraint("units_sold >= 0", name="units_sold_non_negative"),
        CheckConstraint("price > 0", name="price_positive"),
        *_sort_indexes(),
        Index(FULLTEXT_INDEX, *FULLTEXT_COLUMNS, mysql_prefix="FULLTEXT").ddl_if(dialect="mysql"),
        {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    author: Mapped[str] = mapped_column(String(AUTHOR_MAX))
    genre: Mapped[str | None] = mapped_column(String(GENRE_MAX))
    description: Mapped[str | None] = mapped_column(Text)
    # Stored normalised as ISBN-13 (digits only); unique when present (NULLs do not collide).
    isbn: Mapped[str | None] = mapped_column(String(ISBN_MAX), unique=True)
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    stock: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    published_year: Mapped[int | None] = mapped_column(SmallInteger)
    is_retired: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    units_sold: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Visible reviews and the sum of their ratings, kept by triggers on `reviews` (migration 0009).
    rating_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rating_sum: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The digests of the stored cover and thumbnail (book_covers), kept here so the catalogue's
    # lists build the cover URLs from the books rows alone.
    cover_digest: Mapped[str | None] = mapped_column(String(DIGEST_LEN))
    cover_thumbnail_digest: Mapped[str | None] = mapped_column(String(DIGEST_LEN))

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    def __repr__(self) -> str:
        return f"<Book {self.id} {self.title!r}>"


# Why a book's stock changed by the admin's hand (sales and cancellations are the order lines').
CREATED, SET, RESTOCK = "created", "set", "restock"
STOCK_REASONS = (CREATED, SET, RESTOCK)


class StockMovement(db.Model):
    """One change an admin made to a book's stock, written in the same transaction as the change:
    `change` copies (negative when the stock was set lower), the stock after it, and who did it."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        CheckConstraint(f"reason IN {STOCK_REASONS!r}", name="stock_reason"),
        Index("ix_stock_movements_book_at", "book_id", "at", "id"),
        {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Deleted with the book (a book is deleted only when no order or cart ever named it).
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id", ondelete="CASCADE"))
    change: Mapped[int] = mapped_column(Integer)
    stock_after: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # Kept (as null) when the account is deleted.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))


class BookCount(db.Model):
    """Live (not retired) books per genre ('' for none), maintained by triggers on `books`
    (migration 0002) whoever writes it; stock changes never touch it."""

    __tablename__ = "book_counts"
    __table_args__ = ({"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"},)

    genre: Mapped[str] = mapped_column(
        String(GENRE_MAX).with_variant(String(GENRE_MAX, collation="NOCASE"), "sqlite"), primary_key=True
    )
    books: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class BookCover(db.Model):
    """A book's cover image as served: the normalised `cover` and its `thumbnail`, each addressed by
    the SHA-256 of its bytes (docs/decisions/0015-covers-in-the-database.md)."""

    __tablename__ = "book_covers"
    __table_args__ = (
        CheckConstraint("kind IN ('cover', 'thumbnail')", name="cover_kind_known"),
        {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"},
    )

    book_id: Mapped[int] = mapped_column(ForeignKey("books.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    digest: Mapped[str] = mapped_column(String(DIGEST_LEN), index=True)
    media_type: Mapped[str] = mapped_column(String(20))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary().with_variant(MEDIUMBLOB(), "mysql", "mariadb"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
