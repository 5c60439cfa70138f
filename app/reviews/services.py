"""The review use cases: who may review (a buyer), one review per customer and book, the author's
edits, helpful votes and moderation. Each commits once; the rating sums and helpful counts follow
through the triggers of migration 0009, inside the same transaction."""

from sqlalchemy import and_, delete, exists, false, insert, select, true
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload

from app.auth import ROLE_ADMIN
from app.books.models import Book
from app.books.writes import get_book_or_404, locked_book
from app.clock import utcnow
from app.errors import Conflict, Forbidden, NotFound
from app.extensions import db
from app.orders.models import DELIVERED, PAID, SHIPPED, Order, OrderItem
from app.pagination import paginate
from app.reviews.models import HelpfulVote, Review
from app.transactions import run_transaction

# Orders in these statuses make their customer a buyer of their books; pending and cancelled do not.
PURCHASED = (PAID, SHIPPED, DELIVERED)
NOT_A_BUYER = "You can review this book once you have bought it (a paid, shipped or delivered order must hold it)."


def _customer_id(actor) -> int:
    if actor.customer_id is None:
        raise Forbidden("This account has no customer record, so it has no orders and cannot review.")
    return actor.customer_id


def _is_admin(actor) -> bool:
    return actor is not None and actor.role == ROLE_ADMIN


def _is_author(actor, review: Review) -> bool:
    return actor is not None and actor.customer_id is not None and actor.customer_id == review.customer_id


def has_bought(customer_id: int, book_id: int) -> bool:
    """Whether a paid, shipped or delivered order of the customer holds the book."""
    bought = exists().where(
        OrderItem.book_id == book_id,
        Order.id == OrderItem.order_id,
        Order.customer_id == customer_id,
        Order.status.in_(PURCHASED),
    )
    return bool(db.session.execute(select(bought)).scalar())


def _review_of(customer_id: int, book_id: int) -> Review | None:
    return db.session.execute(
        select(Review).where(Review.book_id == book_id, Review.customer_id == customer_id)
    ).scalar_one_or_none()


def _already_reviewed(review_id: int | None) -> Conflict:
    return Conflict(
        "You have already reviewed this book; change or delete that review instead.",
        review_id=review_id,
    )


def _reloaded(review_id: int) -> Review:
    """The review as the database holds it now (the triggers change helpful_count behind the ORM)."""
    return db.session.execute(
        select(Review).where(Review.id == review_id).execution_options(populate_existing=True)
    ).scalar_one()


# --- writing -----------------------------------------------------------------------------------


def create_review(actor, book_id: int, data: dict) -> Review:
    customer_id = _customer_id(actor)
    return run_transaction(_create_review, customer_id, book_id, data)


def _create_review(customer_id: int, book_id: int, data: dict) -> Review:
    # The book row first, exclusively: the insert's foreign-key check would take it shared and the
    # trigger would then need it exclusive, and two such upgrades of one row deadlock.
    locked_book(book_id)
    if not has_bought(customer_id, book_id):
        db.session.rollback()
        raise Forbidden(NOT_A_BUYER)
    existing = _review_of(customer_id, book_id)
    if existing is not None:
        db.session.rollback()
        raise _already_reviewed(existing.id)
    review = Review(book_id=book_id, customer_id=customer_id, **data)
    db.session.add(review)
    try:
        db.session.commit()
    except IntegrityError:
        # A simultaneous first review of the same customer won the unique key.
        db.session.rollback()
        twin = _review_of(customer_id, book_id)
        db.session.rollback()
        raise _already_reviewed(twin.id if twin else None) from None
    return _reloaded(review.id)


def _visible_to(actor, review: Review | None, review_id: int) -> Review:
    if review is None or (review.is_hidden and not (_is_author(actor, review) or _is_admin(actor))):
        raise NotFound(f"Review {review_id} not found.")
    return review


def get_review_for(actor, review_id: int) -> Review:
    """A visible review for anyone; a hidden one for its author and admins only; else 404."""
    return _visible_to(actor, db.session.get(Review, review_id), review_id)


def _locked_review_for(actor, review_id: int) -> Review:
    """get_review_for with the review row locked first (exclusively: the triggers write it or its book next)."""
    review = db.session.execute(
        select(Review)
        .options(lazyload(Review.customer))  # a joined customer row would be locked too
        .where(Review.id == review_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    try:
        return _visible_to(actor, review, review_id)
    except NotFound:
        db.session.rollback()
        raise


def update_review(actor, review_id: int, data: dict) -> Review:
    """Only the author changes a review (a hidden one stays hidden until a moderator unhides it)."""
    return run_transaction(_update_review, actor, review_id, data)


def _update_review(actor, review_id: int, data: dict) -> Review:
    review = _locked_review_for(actor, review_id)
    if not _is_author(actor, review):
        db.session.rollback()
        raise Forbidden("Only its author may change a review.")
    for field in ("rating", "title", "body"):
        if field in data:
            setattr(review, field, data[field])
    db.session.commit()
    return _reloaded(review.id)


def delete_review(actor, review_id: int) -> None:
    run_transaction(_delete_review, actor, review_id)


def _delete_review(actor, review_id: int) -> None:
    review = _locked_review_for(actor, review_id)
    if not (_is_author(actor, review) or _is_admin(actor)):
        db.session.rollback()
        raise Forbidden("Only its author or an administrator may delete a review.")
    db.session.execute(delete(Review).where(Review.id == review.id))
    db.session.commit()


# --- helpful votes -----------------------------------------------------------------------------


def _locked_votable(actor, review_id: int) -> tuple[int, Review]:
    customer_id = _customer_id(actor)
    review = _locked_review_for(actor, review_id)
    if review.is_hidden:
        db.session.rollback()
        raise NotFound(f"Review {review_id} not found.")
    if review.customer_id == customer_id:
        db.session.rollback()
        raise Forbidden("You cannot mark your own review as helpful.")
    return customer_id, review


def _insert_vote(customer_id: int, review_id: int):
    values = {"review_id": review_id, "customer_id": customer_id, "created_at": utcnow()}
    dialect = db.session.get_bind().dialect.name
    if dialect == "mysql":
        # A repeat is a no-op update: the AFTER INSERT trigger counts only a new vote.
        return mysql_insert(HelpfulVote).values(values).on_duplicate_key_update(review_id=review_id)
    if dialect == "sqlite":
        return sqlite_insert(HelpfulVote).values(values).on_conflict_do_nothing()
    return insert(HelpfulVote).values(values)


def vote_helpful(actor, review_id: int) -> Review:
    """Idempotent: a second vote of the same customer changes nothing."""
    return run_transaction(_vote_helpful, actor, review_id)


def _vote_helpful(actor, review_id: int) -> Review:
    customer_id, review = _locked_votable(actor, review_id)
    db.session.execute(_insert_vote(customer_id, review.id))
    db.session.commit()
    return _reloaded(review.id)


def withdraw_helpful(actor, review_id: int) -> Review:
    """Idempotent: withdrawing a vote never given changes nothing."""
    return run_transaction(_withdraw_helpful, actor, review_id)


def _withdraw_helpful(actor, review_id: int) -> Review:
    customer_id, review = _locked_votable(actor, review_id)
    db.session.execute(
        delete(HelpfulVote).where(HelpfulVote.review_id == review.id, HelpfulVote.customer_id == customer_id)
    )
    db.session.commit()
    return _reloaded(review.id)


# --- moderation --------------------------------------------------------------------------------


def hide_review(actor, review_id: int, reason: str) -> Review:
    return run_transaction(_set_hidden, actor, review_id, reason)


def unhide_review(actor, review_id: int) -> Review:
    return run_transaction(_set_hidden, actor, review_id, None)


def _set_hidden(actor, review_id: int, reason: str | None) -> Review:
    """Hide with `reason`, or show again when it is None; hiding again only replaces the reason."""
    review = _locked_review_for(actor, review_id)
    if reason is not None and not review.is_hidden:
        review.hidden_at = utcnow()
    elif reason is None:
        review.hidden_at = None
    review.is_hidden = reason is not None
    review.hidden_reason = reason
    db.session.commit()
    return _reloaded(review.id)


# --- reading -----------------------------------------------------------------------------------

ORDERS = {
    "newest": (Review.created_at.desc(), Review.id.desc()),
    "helpful": (Review.helpful_count.desc(), Review.created_at.desc(), Review.id.desc()),
}


def list_book_reviews(book_id: int, args: dict):
    """A live book's visible reviews; the total is the book's rating_count (the same rows, kept by triggers)."""
    get_book_or_404(book_id)
    stmt = select(Review).where(Review.book_id == book_id, Review.is_hidden == false()).order_by(*ORDERS[args["sort"]])
    result = paginate(stmt, args, count_stmt=select(Book.rating_count).where(Book.id == book_id))
    db.session.commit()
    return result


def list_reviews(args: dict):
    """Every review (admin), newest first, filtered by `hidden` and `book_id`."""
    conditions = []
    if args.get("hidden") is not None:
        conditions.append(Review.is_hidden == (true() if args["hidden"] else false()))
    if args.get("book_id") is not None:
        conditions.append(Review.book_id == args["book_id"])
    stmt = select(Review).where(and_(True, *conditions)).order_by(Review.created_at.desc(), Review.id.desc())
    result = paginate(stmt, args)
    db.session.commit()
    return result


def my_review(actor, book_id: int) -> dict:
    """Whether the caller may review the book, and their review of it (hidden or not)."""
    customer_id = _customer_id(actor)
    get_book_or_404(book_id)
    review = _review_of(customer_id, book_id)
    purchased = has_bought(customer_id, book_id)
    db.session.commit()
    return {"can_review": purchased and review is None, "purchased": purchased, "review": review}
