"""HTTP for the catalogue: public browse, search and read; admin writes and stock."""

from flask import current_app
from flask_jwt_extended import current_user

from app.api import Blueprint
from app.auth import ADMIN, public, requires
from app.books import reads, writes
from app.books.schemas import (
    BookListArgs,
    BookPageSchema,
    BookSchema,
    BookWriteSchema,
    RestockSchema,
    StockSchema,
    book_document,
)

blp = Blueprint("books", __name__, url_prefix="/books", description="The catalogue: browse, search, stock.")


@blp.get("")
@public
@blp.arguments(BookListArgs, location="query")
@blp.response(200, BookPageSchema)
def list_books(args):
    """Browse and search the catalogue (page or cursor paging)"""
    body, status, headers = reads.list_books(args)
    # The items are built like GET /books/{id}'s document (the same as BookSchema, tested), not
    # by marshmallow: dumping 20 to 100 books was most of the cost of a page.
    body["items"] = [book_document(row) for row in body["items"]]
    response = current_app.json.response(body)
    response.status_code = status
    response.headers.update(headers)
    return response


@blp.post("")
@requires(ADMIN)
@blp.arguments(BookWriteSchema)
@blp.response(201, BookSchema)
@blp.alt_response(409, response="CONFLICT")
def create_book(data):
    """Add a book (admin)"""
    book = writes.create_book(data, by=current_user.id)
    return book, 201, {"Location": f"/books/{book.id}"}


@blp.get("/<int:book_id>")
@public
@blp.response(200, BookSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_book(book_id):
    """One book; a retired book is 404"""
    # Built without marshmallow (the same document as BookSchema, see book_document): this is
    # the hottest read of the API.
    return current_app.json.response(book_document(reads.read_book(book_id)))


@blp.put("/<int:book_id>")
@requires(ADMIN)
@blp.arguments(BookWriteSchema)
@blp.response(200, BookSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def replace_book(data, book_id):
    """Replace a book's fields; optional ones left out are cleared, stock is kept unless given (admin)"""
    return writes.update_book(book_id, data, replace=True, by=current_user.id)


@blp.patch("/<int:book_id>")
@requires(ADMIN)
@blp.arguments(BookWriteSchema(partial=True))
@blp.response(200, BookSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def update_book(data, book_id):
    """Change some fields of a book (admin)"""
    return writes.update_book(book_id, data, replace=False, by=current_user.id)


@blp.put("/<int:book_id>/stock")
@requires(ADMIN)
@blp.arguments(StockSchema)
@blp.response(200, BookSchema)
@blp.alt_response(404, response="NOT_FOUND")
def set_stock(data, book_id):
    """Set the number of copies in stock (admin)"""
    return writes.set_stock(book_id, data["stock"], by=current_user.id)


@blp.post("/<int:book_id>/restock")
@requires(ADMIN)
@blp.arguments(RestockSchema)
@blp.response(200, BookSchema)
@blp.alt_response(404, response="NOT_FOUND")
def restock(data, book_id):
    """Add copies to the stock (admin)"""
    return writes.restock(book_id, data["quantity"], by=current_user.id)
