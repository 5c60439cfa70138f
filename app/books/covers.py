"""A book's cover: set (upload or demo), remove, and read for serving.

The images live in `book_covers` (docs/decisions/0015-covers-in-the-database.md); `books` keeps the
digests of the current cover and thumbnail so every book document builds its URLs from its own row.
Replacing or removing a cover deletes the old rows: an old content-addressed URL then answers 404.
"""

from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy import delete, select

from app.books.cover_images import Rendition, decode, renditions
from app.books.models import COVER_KINDS, Book, BookCover
from app.books.reads import MAX_DB_ID, not_found
from app.books.search import LIVE
from app.books.writes import locked_book
from app.clock import utcnow
from app.errors import NotFound
from app.extensions import db
from app.prepared import Prepared, reader
from app.transactions import run_transaction

_DIGESTS = Prepared(
    select(Book.cover_digest, Book.cover_thumbnail_digest).where(Book.id == sa.bindparam("book_id"), LIVE)
)
_CURRENT = Prepared(
    select(BookCover.digest, BookCover.media_type, BookCover.data).where(
        BookCover.book_id == sa.bindparam("book_id"), BookCover.kind == sa.bindparam("kind")
    )
)
_BY_DIGEST = Prepared(
    select(BookCover.media_type, BookCover.data)
    .join(Book, Book.id == BookCover.book_id)
    .where(BookCover.digest == sa.bindparam("digest"), LIVE)
    .limit(1)
)


def _replace(book_id: int, stored: tuple[Rendition, ...]) -> Book:
    book = locked_book(book_id)  # two uploads for one book queue here
    db.session.execute(delete(BookCover).where(BookCover.book_id == book_id))
    db.session.add_all(
        BookCover(book_id=book_id, kind=r.kind, digest=r.digest, media_type=r.media_type, width=r.width,
                  height=r.height, data=r.data)
        for r in stored
    )  # fmt: skip
    digests = {r.kind: r.digest for r in stored}
    cover_kind, thumbnail_kind = COVER_KINDS
    if (book.cover_digest, book.cover_thumbnail_digest) != (digests.get(cover_kind), digests.get(thumbnail_kind)):
        book.cover_digest = digests.get(cover_kind)
        book.cover_thumbnail_digest = digests.get(thumbnail_kind)
        book.updated_at = utcnow()
    db.session.commit()
    return book


def upload_cover(book_id: int, data: bytes) -> Book:
    """Decode, check and normalise an uploaded image (before any lock is taken), then store it."""
    if not 0 < book_id <= MAX_DB_ID:
        raise not_found(book_id)
    stored = renditions(decode(data))
    return run_transaction(_replace, book_id, stored)


def set_cover_image(book_id: int, image) -> Book:
    """Store a cover drawn by the app (the demo covers): the same normalisation as an upload."""
    return run_transaction(_replace, book_id, renditions(image))


def remove_cover(book_id: int) -> None:
    """Delete the cover and thumbnail; a book without a cover is left as it is (still 204)."""
    run_transaction(_replace, book_id, ())


class Served(NamedTuple):
    """An image to send: its digest (the ETag), media type and bytes (None when only the digest was read)."""

    digest: str
    media_type: str | None = None
    data: bytes | None = None


def by_digest(digest: str) -> Served:
    """The image with this digest (of a live book), or 404."""
    row = reader().fetch_one(_BY_DIGEST, {"digest": digest})
    if row is None:
        raise NotFound(f"No cover image {digest}.")
    return Served(digest, row[0], row[1])


def current(book_id: int, kind: str, if_none_match=None) -> Served:
    """The book's current cover or thumbnail; only its digest when `if_none_match` (Werkzeug's
    ETags of the request) already holds it, for a 304."""
    if not 0 < book_id <= MAX_DB_ID:
        raise not_found(book_id)
    row = reader().fetch_one(_DIGESTS, {"book_id": book_id})
    if row is None:
        raise not_found(book_id)
    digest = row[COVER_KINDS.index(kind)]  # _DIGESTS selects them in COVER_KINDS order
    if digest is None:
        raise NotFound(f"Book {book_id} has no cover.")
    if if_none_match is not None and if_none_match.contains_weak(digest):
        return Served(digest)
    image = reader().fetch_one(_CURRENT, {"book_id": book_id, "kind": kind})
    if image is None:  # removed between the two reads
        raise NotFound(f"Book {book_id} has no cover.")
    return Served(*image)
