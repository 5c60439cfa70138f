"""The cart: one per customer, lines unique per book, totals computed live in Decimal."""

from decimal import Decimal

from sqlalchemy import delete, select

from app.books.models import Book
from app.books.writes import get_book_or_404
from app.cart.models import CartItem
from app.errors import TYPE_OUT_OF_STOCK, Conflict, Forbidden, NotFound
from app.extensions import db

CENT = Decimal("0.01")


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
    total = Decimal("0.00")
    quantity = 0
    for row in rows:
        line_total = (row.price * row.quantity).quantize(CENT)
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
    return {"items": items, "total_quantity": quantity, "total": total.quantize(CENT)}


def _line(customer_id: int, book_id: int) -> CartItem | None:
    return db.session.execute(
        select(CartItem).where(CartItem.customer_id == customer_id, CartItem.book_id == book_id)
    ).scalar_one_or_none()


def _check_stock(book: Book, wanted: int) -> None:
    if wanted > book.stock:
        raise Conflict(
            f"Only {book.stock} copies of book {book.id} are in stock; the cart would hold {wanted}.",
            type=TYPE_OUT_OF_STOCK,
            title="Not enough stock",
            shortages=[{"book_id": book.id, "requested": wanted, "available": book.stock}],
        )


def add(customer_id: int, book_id: int, quantity: int, max_line: int) -> dict:
    book = get_book_or_404(book_id)
    line = _line(customer_id, book_id)
    wanted = quantity + (line.quantity if line else 0)
    if wanted > max_line:
        raise Conflict(
            f"A cart line holds at most {max_line} copies; it would hold {wanted}.",
            errors={"quantity": [f"The line would exceed {max_line} copies."]},
        )
    _check_stock(book, wanted)
    _put_line(line, customer_id, book_id, wanted)
    db.session.commit()
    return view(customer_id)


def _put_line(line: CartItem | None, customer_id: int, book_id: int, quantity: int) -> None:
    """The cart line for the book now holds `quantity` copies (made when there was none)."""
    if line is None:
        db.session.add(CartItem(customer_id=customer_id, book_id=book_id, quantity=quantity))
    else:
        line.quantity = quantity


def set_quantity(customer_id: int, book_id: int, quantity: int) -> dict:
    line = _line(customer_id, book_id)
    if quantity == 0:
        if line is None:
            raise NotFound(f"Book {book_id} is not in the cart.")
        db.session.delete(line)
    else:
        book = get_book_or_404(book_id)
        _check_stock(book, quantity)
        _put_line(line, customer_id, book_id, quantity)
    db.session.commit()
    return view(customer_id)


def remove(customer_id: int, book_id: int) -> dict:
    line = _line(customer_id, book_id)
    if line is None:
        raise NotFound(f"Book {book_id} is not in the cart.")
    db.session.delete(line)
    db.session.commit()
    return view(customer_id)


def clear(customer_id: int) -> None:
    db.session.execute(delete(CartItem).where(CartItem.customer_id == customer_id))
    db.session.commit()
