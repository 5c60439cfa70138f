"""Reviews of books by the customers who bought them, and their helpful votes.

`books.rating_count` / `books.rating_sum` (visible reviews) and `reviews.helpful_count` are kept
exact by triggers (migration 0009) whoever writes these tables, as `book_counts` is: an insert, a
change of rating, a hide or unhide, a delete, a vote or its withdrawal. A customer's delete removes
their votes and reviews through a trigger on `customers` first, because MariaDB fires no trigger
for rows a foreign key's ON DELETE CASCADE removes."""

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.customers.models import Customer
from app.extensions import db

RATING_MIN, RATING_MAX = 1, 5
TITLE_MAX = 120
BODY_MAX = 5_000
REASON_MAX = 500
MYSQL_TABLE = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}


class Review(db.Model):
    __tablename__ = "reviews"
    __table_args__ = (
        CheckConstraint(f"rating BETWEEN {RATING_MIN} AND {RATING_MAX}", name="rating_range"),
        CheckConstraint("helpful_count >= 0", name="helpful_count_non_negative"),
        # One review per customer and book: two simultaneous first reviews meet here (409).
        UniqueConstraint("book_id", "customer_id", name="uq_reviews_book_customer"),
        # A book's visible reviews newest first, and most helpful first (GET /books/{id}/reviews).
        Index("ix_reviews_book_visible_created", "book_id", "is_hidden", "created_at", "id"),
        Index("ix_reviews_book_visible_helpful", "book_id", "is_hidden", "helpful_count", "created_at", "id"),
        # The moderation list (GET /reviews?hidden=…), newest first.
        Index("ix_reviews_hidden_created", "is_hidden", "created_at", "id"),
        Index("ix_reviews_customer", "customer_id"),
        MYSQL_TABLE,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    rating: Mapped[int] = mapped_column(SmallInteger)
    title: Mapped[str | None] = mapped_column(String(TITLE_MAX))
    body: Mapped[str | None] = mapped_column(Text)
    helpful_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    is_hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    hidden_reason: Mapped[str | None] = mapped_column(String(REASON_MAX))
    hidden_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship(lazy="joined", innerjoin=True)

    @property
    def author_name(self) -> str:
        """What the public sees of the author: the first name and the last name's initial ("Ada L.")."""
        words = self.customer.name.split()
        if len(words) < 2:
            return words[0] if words else "A customer"
        return f"{words[0]} {words[-1][0]}."


class HelpfulVote(db.Model):
    """One customer found one review helpful (at most once: the primary key)."""

    __tablename__ = "review_helpful_votes"
    __table_args__ = (Index("ix_review_helpful_votes_customer", "customer_id"), MYSQL_TABLE)

    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
