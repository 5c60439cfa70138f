"""Deleting a book from the catalogue: a book that an order or a cart names is retired instead
(hidden from the catalogue, taken out of every cart, kept for order history and reports)."""

from sqlalchemy import delete, select

from app.books.reads import MAX_DB_ID, catalogue_changed, not_found
from app.books.writes import locked_book
from app.cart.models import CartItem
from app.extensions import db
from app.orders.models import OrderItem
from app.transactions import run_transaction


def _referenced(model, book_id: int, *, lock_all: bool = False) -> bool:
    """Whether lines of `model` name the book, by a locking (current) read: a plain SELECT reads
    the request's snapshot and misses lines committed since. `lock_all` locks every such line."""
    stmt = select(model.book_id).where(model.book_id == book_id).with_for_update()
    return bool(db.session.execute(stmt if lock_all else stmt.limit(1)).all())


def delete_book(book_id: int) -> str:
    """Delete or retire the book; returns "deleted" or "retired"."""
    if not 0 < book_id <= MAX_DB_ID:
        raise not_found(book_id)
    outcome = run_transaction(_delete_book, book_id)
    catalogue_changed()
    return outcome


def _delete_book(book_id: int) -> str:
    # Locks in the order a checkout takes them (cart lines, then the book), so neither waits for
    # the other in a cycle; an order or cart change either commits before the lines are checked,
    # or waits and then finds the book retired or gone.
    in_carts = _referenced(CartItem, book_id, lock_all=True)
    book = locked_book(book_id)
    if in_carts or _referenced(OrderItem, book_id):
        book.is_retired = True
        db.session.execute(delete(CartItem).where(CartItem.book_id == book_id))
        outcome = "retired"
    else:
        db.session.delete(book)
        outcome = "deleted"
    db.session.commit()
    return outcome
