"""The admin's catalogue writes: create, update, stock, restock, delete or retire. Each commits once
and forgets the cached counts of this process."""

import importlib

import sqlalchemy as sa
from sqlalchemy import delete, select, update

from app.books.models import MAX_STOCK, Book
from app.books.reads import MAX_DB_ID, catalogue_changed, not_found
from app.books.search import LIVE
from app.clock import utcnow
from app.errors import Conflict, field_error
from app.extensions import db
from app.transactions import run_transaction

OPTIONAL_FIELDS = ("genre", "description", "isbn", "published_year")
WRITABLE_FIELDS = ("title", "author", "price", "stock", *OPTIONAL_FIELDS)


def get_book_or_404(book_id: int) -> Book:
    """The book (not retired) as an ORM object in the session, or NotFound."""
    if not 0 < book_id <= MAX_DB_ID:
        raise not_found(book_id)
    book = db.session.execute(select(Book).where(Book.id == book_id, LIVE)).scalar_one_or_none()
    if book is None:
        raise not_found(book_id)
    return book


def _check_isbn_free(isbn: str | None, exclude_id: int | None = None) -> None:
    if not isbn:
        return
    stmt = select(Book.id, Book.title, Book.is_retired).where(Book.isbn == isbn)
    if exclude_id is not None:
        stmt = stmt.where(Book.id != exclude_id)
    found = db.session.execute(stmt.limit(1)).first()
    if found is not None:
        detail = (
            "belongs to a retired book" if found.is_retired else f"is already used by “{found.title}” (book {found.id})"
        )
        raise Conflict(f"ISBN {isbn} {detail}.", errors={"isbn": ["Already in the catalogue."]})


def create_book(data: dict) -> Book:
    _check_isbn_free(data.get("isbn"))
    book = Book(**{k: data[k] for k in WRITABLE_FIELDS if k in data})
    if book.stock is None:
        book.stock = 0
    db.session.add(book)
    db.session.commit()
    catalogue_changed()
    return book


def update_book(book_id: int, data: dict, *, replace: bool) -> Book:
    """PUT (`replace`): optional fields left out are cleared, stock is kept unless given. PATCH: only what is given."""
    book = get_book_or_404(book_id)
    if replace:
        data = {**dict.fromkeys(OPTIONAL_FIELDS), **data}
    if data.get("isbn") and data["isbn"] != book.isbn:
        _check_isbn_free(data["isbn"], exclude_id=book.id)
    for field in WRITABLE_FIELDS:
        if field in data:
            setattr(book, field, data[field])
    db.session.commit()
    catalogue_changed()
    return book


def set_stock(book_id: int, stock: int) -> Book:
    book = get_book_or_404(book_id)
    book.stock = stock
    db.session.commit()
    catalogue_changed()
    return book


def restock(book_id: int, quantity: int) -> Book:
    """Add copies with one conditional UPDATE (no read-then-write race with buyers)."""
    if not 0 < book_id <= MAX_DB_ID:
        raise not_found(book_id)
    result = db.session.execute(
        update(Book)
        .where(Book.id == book_id, LIVE, Book.stock <= MAX_STOCK - quantity)
        .values(stock=Book.stock + quantity, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        get_book_or_404(book_id)  # 404 when it is not there (or retired)
        db.session.rollback()
        raise field_error("quantity", f"The stock would exceed {MAX_STOCK}.")
    book = db.session.execute(
        select(Book).where(Book.id == book_id).execution_options(populate_existing=True)
    ).scalar_one()
    db.session.commit()
    catalogue_changed()
    return book


def _reference_table(module: str, name: str, table_name: str):
    """The cart/order line table (book_id column), from its model when that module exists,
    else from the database when the table exists there, else None."""
    try:
        return getattr(importlib.import_module(module), name).__table__
    except (ImportError, AttributeError):
        if sa.inspect(db.session.connection()).has_table(table_name):
            return sa.table(table_name, sa.column("book_id"))
        return None


def _referenced(table, book_id: int, *, lock_all: bool = False) -> bool:
    """Whether lines of `table` name the book, by a locking (current) read: a plain SELECT reads
    the request's snapshot and misses lines committed since. `lock_all` locks every such line."""
    if table is None:
        return False
    stmt = select(table.c.book_id).where(table.c.book_id == book_id).with_for_update()
    return bool(db.session.execute(stmt if lock_all else stmt.limit(1)).all())


def delete_book(book_id: int) -> str:
    """Delete a book; one that was ever ordered or sits in a cart is retired instead:
    hidden from the catalogue, taken out of every cart, kept for order history and reports.
    Returns "deleted" or "retired"."""
    if not 0 < book_id <= MAX_DB_ID:
        raise not_found(book_id)
    outcome = run_transaction(_delete_book, book_id)
    catalogue_changed()
    return outcome


def _delete_book(book_id: int) -> str:
    # Locks in the order a checkout takes them (cart lines, then the book), so neither waits for
    # the other in a cycle; an order or cart change either commits before the lines are checked,
    # or waits and then finds the book retired or gone.
    cart_items = _reference_table("app.cart.models", "CartItem", "cart_items")
    in_carts = _referenced(cart_items, book_id, lock_all=True)
    book = db.session.execute(
        select(Book).where(Book.id == book_id, LIVE).with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if book is None:
        db.session.rollback()
        raise not_found(book_id)
    order_items = _reference_table("app.orders.models", "OrderItem", "order_items")
    if in_carts or _referenced(order_items, book_id):
        book.is_retired = True
        if cart_items is not None:
            db.session.execute(delete(cart_items).where(cart_items.c.book_id == book_id))
        outcome = "retired"
    else:
        db.session.delete(book)
        outcome = "deleted"
    db.session.commit()
    return outcome
