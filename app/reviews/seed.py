"""`flask seed`'s review step (after the orders'): reviews by the customers of delivered orders, so
the demo shop shows ratings. Only when there is no review yet; running it again changes nothing."""

import random

import click
from sqlalchemy import insert, select

from app.books.models import Book
from app.clock import utcnow
from app.extensions import db
from app.orders.models import DELIVERED, Order, OrderItem
from app.reviews.models import Review

MAX_REVIEWS = 300
SHARE = 0.4  # of the delivered (customer, book) pairs that get a review
# (rating, title, body): what a shop's reviews look like, mostly happy, some not.
SAMPLES = (
    (5, "Could not put it down", "Read it in two evenings.\nThe ending stayed with me for days."),
    (5, "A classic for a reason", None),
    (4, "Very good", "Slow start, but worth it from the second part on."),
    (4, None, "Well written, and the edition is lovely."),
    (3, "Fine", "Some chapters drag; others are brilliant."),
    (2, "Not for me", "I expected more from the reviews I had read."),
    (5, None, None),
    (4, "Recommended", "Bought a second copy as a gift."),
)


def seed_reviews(*, seed: int = 1618, echo=click.echo) -> int:
    if db.session.execute(select(Review.id).limit(1)).first():
        echo("  demo reviews: kept (there are reviews already)")
        db.session.rollback()
        return 0
    pairs = db.session.execute(
        select(Order.customer_id, OrderItem.book_id)
        .join(OrderItem, OrderItem.order_id == Order.id)
        .join(Book, Book.id == OrderItem.book_id)
        .where(Order.status == DELIVERED, Order.customer_id.is_not(None), Book.is_retired.is_(False))
        .distinct()
        .order_by(Order.customer_id, OrderItem.book_id)
        .limit(MAX_REVIEWS * 4)
    ).all()
    rng = random.Random(seed)
    now = utcnow()
    rows = []
    for customer_id, book_id in pairs:
        if rng.random() >= SHARE or len(rows) == MAX_REVIEWS:
            continue
        rating, title, body = rng.choice(SAMPLES)
        rows.append(
            {
                "book_id": book_id,
                "customer_id": customer_id,
                "rating": rating,
                "title": title,
                "body": body,
                "helpful_count": 0,
                "is_hidden": False,
                "created_at": now,
                "updated_at": now,
            }
        )
    if rows:
        db.session.execute(insert(Review), rows)  # the triggers add them to the books' ratings
    db.session.commit()
    echo(f"  demo reviews: {len(rows)} by the customers of delivered orders")
    return len(rows)
