"""The admin's catalogue writes: create, update, stock, restock. Each commits once and forgets the
cached counts of this process; a change to the stock is recorded as a StockMovement in the same
transaction. Deleting a book needs the carts and orders that name it:
app/orders/catalogue.py."""

from sqlalchemy import select, update

from app.books.models import CREATED, MAX_STOCK, RESTOCK, SET, Book, StockMovement
from app.books.reads import MAX_DB_ID, catalogue_changed, not_found
from app.books.search import LIVE
from app.clock import utcnow
from app.errors import Conflict, field_error
from app.extensions import db

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


def _record(book_id: int, change: int, stock_after: int, reason: str, by: int | None) -> None:
    """Inside the caller's transaction: the stock of the book changed by `change` (none: nothing)."""
    if change:
        db.session.add(
            StockMovement(book_id=book_id, change=change, stock_after=stock_after, reason=reason, account_id=by)
        )


def create_book(data: dict, by: int | None = None) -> Book:
    _check_isbn_free(data.get("isbn"))
    book = Book(**{k: data[k] for k in WRITABLE_FIELDS if k in data})
    if book.stock is None:
        book.stock = 0
    db.session.add(book)
    db.session.flush()
    _record(book.id, book.stock, book.stock, CREATED, by)
    db.session.commit()
    catalogue_changed()
    return book


def update_book(book_id: int, data: dict, *, replace: bool, by: int | None = None) -> Book:
    """PUT (`replace`): optional fields left out are cleared, stock is kept unless given. PATCH: only what is given."""
    book = locked_book(book_id)
    before = book.stock
    if replace:
        data = {**dict.fromkeys(OPTIONAL_FIELDS), **data}
    if data.get("isbn") and data["isbn"] != book.isbn:
        _check_isbn_free(data["isbn"], exclude_id=book.id)
    for field in WRITABLE_FIELDS:
        if field in data:
            setattr(book, field, data[field])
    _record(book.id, book.stock - before, book.stock, SET, by)
    db.session.commit()
    catalogue_changed()
    return book


def locked_book(book_id: int) -> Book:
    """The live book, its row locked until the commit and read current (not from an older snapshot
    or the session's identity map), or 404: what every change to one book starts with."""
    if not 0 < book_id <= MAX_DB_ID:
        raise not_found(book_id)
    book = db.session.execute(
        select(Book).where(Book.id == book_id, LIVE).with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if book is None:
        db.session.rollback()
        raise not_found(book_id)
    return book


def set_stock(book_id: int, stock: int, by: int | None = None) -> Book:
    book = locked_book(book_id)
    change = stock - book.stock
    book.stock = stock
    _record(book.id, change, stock, SET, by)
    db.session.commit()
    catalogue_changed()
    return book


def restock(book_id: int, quantity: int, by: int | None = None) -> Book:
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
    _record(book.id, quantity, book.stock, RESTOCK, by)
    db.session.commit()
    catalogue_changed()
    return book
