"""The cart: one per customer, lines unique per book, totals computed live in Decimal.

Every change is one statement on the line (an upsert that adds or sets the quantity in SQL, or a
DELETE), retried when it loses a deadlock; no line is read, changed in Python and written back,
so concurrent changes never overwrite each other.
"""

from sqlalchemy import delete, select
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from app.books.models import Book
from app.books.reads import MAX_DB_ID
from app.books.wording import copies, quoted
from app.cart.models import CartItem
from app.clock import utcnow
from app.customers.services import lock_customer
from app.dberrors import is_missing_reference
from app.errors import TYPE_OUT_OF_STOCK, Conflict, Forbidden, NotFound
from app.extensions import db
from app.money import ZERO, to_cents
from app.money import line_total as money_line_total
from app.transactions import run_transaction


def customer_id_of(account) -> int:
    """The cart and orders belong to a customer; an account without one cannot have them."""
    if account.customer_id is None:
        raise Forbidden("This account has no customer record, so it has no cart or orders.")
    return account.customer_id


def view(customer_id: int) -> dict:
    rows = db.session.execute(
        select(CartItem.book_id, CartItem.quantity, Book.title, Book.author, Book.price, Book.stock)
        .join(Book, Book.id == CartItem.book_id)
        .where(CartItem.customer_id == customer_id, Book.is_retired.is_(False))
        .order_by(CartItem.id)
    ).all()
    items = []
    total = ZERO
    quantity = 0
    for row in rows:
        line_total = money_line_total(row.price, row.quantity)
        items.append(
            {
                "book_id": row.book_id,
                "title": row.title,
                "author": row.author,
                "unit_price": row.price,
                "quantity": row.quantity,
                "line_total": line_total,
                "available": row.stock >= row.quantity,
            }
        )
        total += line_total
        quantity += row.quantity
    db.session.commit()  # end the read transaction explicitly
    return {"items": items, "total_quantity": quantity, "total": to_cents(total)}


_cart = CartItem.__table__
_books = Book.__table__


def _out_of_stock(book_id: int, title: str, stock: int, wanted: int) -> Conflict:
    if stock == 0:
        detail = f"{quoted(title)} is out of stock."
    else:
        verb = "is" if stock == 1 else "are"
        detail = f"Only {copies(stock)} of {quoted(title)} {verb} in stock; the cart would hold {wanted}."
    return Conflict(
        detail,
        type=TYPE_OUT_OF_STOCK,
        title="Not enough stock",
        shortages=[{"book_id": book_id, "title": title, "requested": wanted, "available": stock}],
    )


def _upsert(customer_id: int, book_id: int, quantity: int, *, add: bool):
    """INSERT the line, or on the (customer, book) key add `quantity` to it (`add`) or set it:
    one statement, so concurrent changes of one line never overwrite each other."""
    now = utcnow()
    values = {
        "customer_id": customer_id,
        "book_id": book_id,
        "quantity": quantity,
        "created_at": now,
        "updated_at": now,
    }
    if db.session.connection().dialect.name == "mysql":
        stmt = mysql_insert(_cart).values(values)
        new = stmt.inserted
        return stmt.on_duplicate_key_update(
            quantity=_cart.c.quantity + new.quantity if add else new.quantity, updated_at=new.updated_at
        )
    stmt = sqlite_insert(_cart).values(values)
    new = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=["customer_id", "book_id"],
        set_={"quantity": _cart.c.quantity + new.quantity if add else new.quantity, "updated_at": new.updated_at},
    )


def _change_line(customer_id: int, book_id: int, quantity: int, max_line: int | None) -> None:
    """Add `quantity` copies to the line (`max_line` given) or set it to `quantity`, then check
    the line against the book, the line maximum and the stock in the same transaction, which
    holds the line's row lock: over either limit, the change is rolled back with a 409.

    Locks are taken in the order every cart and order write takes them (customer, cart line,
    book), so a checkout and a cart change of one customer queue instead of deadlocking."""
    if not 0 < book_id <= MAX_DB_ID:
        raise NotFound(f"Book {book_id} not found.")
    lock_customer(customer_id)
    try:
        db.session.execute(_upsert(customer_id, book_id, quantity, add=max_line is not None))
    except IntegrityError as err:
        db.session.rollback()
        if is_missing_reference(err):  # a new line for a book that does not exist
            raise NotFound(f"Book {book_id} not found.") from err
        raise
    # A locking (current) read: a plain SELECT would see the book as the transaction's snapshot
    # has it; shared, so carts of other customers adding the same book do not queue on it.
    line = db.session.execute(
        select(_cart.c.quantity, _books.c.stock, _books.c.title, _books.c.is_retired)
        .join_from(_cart, _books, _books.c.id == _cart.c.book_id)
        .where(_cart.c.customer_id == customer_id, _cart.c.book_id == book_id)
        .with_for_update(read=True)
    ).one()
    if line.is_retired:
        db.session.rollback()
        raise NotFound(f"Book {book_id} not found.")
    if max_line is not None and line.quantity > max_line:
        db.session.rollback()
        raise Conflict(
            f"A cart line holds at most {max_line} copies; it would hold {line.quantity}.",
            errors={"quantity": [f"The line would exceed {max_line} copies."]},
        )
    if line.quantity > line.stock:
        db.session.rollback()
        raise _out_of_stock(book_id, line.title, line.stock, line.quantity)
    db.session.commit()


def add(customer_id: int, book_id: int, quantity: int, max_line: int) -> dict:
    run_transaction(_change_line, customer_id, book_id, quantity, max_line)
    return view(customer_id)


def set_quantity(customer_id: int, book_id: int, quantity: int) -> dict:
    if quantity == 0:
        return remove(customer_id, book_id)
    run_transaction(_change_line, customer_id, book_id, quantity, None)
    return view(customer_id)


def _remove_line(customer_id: int, book_id: int) -> None:
    lock_customer(customer_id)
    removed = db.session.execute(
        delete(_cart).where(_cart.c.customer_id == customer_id, _cart.c.book_id == book_id)
    ).rowcount
    if removed == 0:
        db.session.rollback()
        raise NotFound(f"Book {book_id} is not in the cart.")
    db.session.commit()


def remove(customer_id: int, book_id: int) -> dict:
    run_transaction(_remove_line, customer_id, book_id)
    return view(customer_id)


def _clear(customer_id: int) -> None:
    lock_customer(customer_id)
    db.session.execute(delete(_cart).where(_cart.c.customer_id == customer_id))
    db.session.commit()


def clear(customer_id: int) -> None:
    run_transaction(_clear, customer_id)
