"""HTTP for browsing aids: the genres with their counts, and "customers also bought"."""

from flask import current_app

from app.api import Blueprint
from app.auth import public
from app.books.schemas import book_document
from app.discovery import services
from app.discovery.schemas import GenreListSchema, RelatedArgs, RelatedListSchema

blp = Blueprint("discovery", __name__, description="Browsing aids: genres with counts, customers also bought.")


@blp.get("/genres")
@public
@blp.response(200, GenreListSchema)
# It takes no input; a request line past gunicorn's limit (extra query text) is its only 4xx.
@blp.alt_response(414, response="REQUEST_URI_TOO_LONG")
def list_genres():
    """Genres with live books and how many each has"""
    return services.genres()


@blp.get("/books/<int:book_id>/related")
@public
@blp.arguments(RelatedArgs, location="query")
@blp.response(200, RelatedListSchema)
@blp.alt_response(404, response="NOT_FOUND")
def related_books(args, book_id):
    """Customers also bought: books most often in the same orders as this one"""
    # The items are the catalogue's book documents, built like GET /books's items.
    rows = services.related_books(book_id, args["limit"])
    return current_app.json.response({"items": [book_document(row) for row in rows]})
