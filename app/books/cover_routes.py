"""HTTP for book covers: the admin's upload and removal, the content-addressed images and each
book's stable cover URL."""

from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from app.api import Blueprint, raw_body
from app.auth import ADMIN, public, requires
from app.books import covers
from app.books.cover_images import EXTENSION, FIELD, MAX_UPLOAD_BYTES, MEDIA_TYPE, UnsupportedImage
from app.books.schemas import BookSchema
from app.errors import field_error

blp = Blueprint("covers", __name__, description="Book covers: upload (admin) and the images, cacheable by any client.")

RAW_TYPES = ("image/jpeg", "image/png", "image/webp", "application/octet-stream")
MULTIPART = "multipart/form-data"
IMMUTABLE = "public, max-age=31536000, immutable"
STABLE_MAX_AGE = 60
STABLE = f"public, max-age={STABLE_MAX_AGE}"

BINARY = {"type": "string", "format": "binary"}
UPLOAD_BODY = {
    "required": True,
    "description": (
        f"A JPEG, PNG or WebP image of at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB: the raw bytes (Content-Type "
        "image/jpeg, image/png, image/webp or application/octet-stream), or multipart/form-data with one file part "
        f"named `{FIELD}`. The type is read from the bytes, not from Content-Type."
    ),
    "content": {
        **{media_type: {"schema": BINARY} for media_type in RAW_TYPES},
        MULTIPART: {
            "schema": {
                "type": "object",
                "properties": {FIELD: BINARY},
                "required": [FIELD],
                "additionalProperties": False,
            }
        },
    },
}
IMAGE = {"type": "string", "format": "binary", "description": f"The image ({MEDIA_TYPE})."}
ETAG = {
    "ETag": {"description": "The image's SHA-256, quoted (a strong validator).", "schema": {"type": "string"}},
    "Cache-Control": {"description": "How long the answer may be reused.", "schema": {"type": "string"}},
}
NOT_MODIFIED = "Not modified: `If-None-Match` names the image's ETag (no body)."


def _upload_bytes() -> bytes:
    """The image of the request: the raw body, or the one file part of a multipart body."""
    if request.mimetype == MULTIPART:
        files = request.files
        if list(files) != [FIELD] or len(files.getlist(FIELD)) != 1 or request.form:
            raise field_error(FIELD, f"Send one file part named `{FIELD}` and nothing else.")
        return files[FIELD].read()
    if request.mimetype not in RAW_TYPES:
        raise UnsupportedImage(f"Send the image as {', '.join(RAW_TYPES)}, or {MULTIPART} with a `{FIELD}` part.")
    data = request.get_data(cache=False)
    if request.content_length is None and len(data) >= MAX_UPLOAD_BYTES:
        # A streamed (chunked) body is cut at the limit rather than refused: it is too large.
        raise RequestEntityTooLarge()
    return data


def _image_response(served: covers.Served, cache_control: str):
    response = current_app.response_class(served.data, status=200, mimetype=served.media_type or MEDIA_TYPE)
    response.set_etag(served.digest)
    response.headers["Cache-Control"] = cache_control
    if served.data is None:  # the client already holds this digest
        response.status_code = 304
    return response.make_conditional(request)


@blp.put("/books/<int:book_id>/cover")
@requires(ADMIN)
@raw_body(MAX_UPLOAD_BYTES)
@blp.doc(requestBody=UPLOAD_BODY)
@blp.response(200, BookSchema)
@blp.alt_response(400, response="BAD_REQUEST")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
def put_cover(book_id):
    """Set a book's cover from a JPEG, PNG or WebP image; stored normalised with a thumbnail (admin)"""
    return covers.upload_cover(book_id, _upload_bytes())


@blp.delete("/books/<int:book_id>/cover")
@requires(ADMIN)
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
def delete_cover(book_id):
    """Remove a book's cover and thumbnail; 204 also when it has none (admin)"""
    covers.remove_cover(book_id)
    return "", 204


def _stable(book_id: int, kind: str):
    served = covers.current(book_id, kind, request.if_none_match)
    return _image_response(served, STABLE)


@blp.get("/books/<int:book_id>/cover")
@public
@blp.alt_response(
    200, schema=IMAGE, content_type=MEDIA_TYPE, description="The current cover.", headers=ETAG, success=True
)
@blp.alt_response(304, description=NOT_MODIFIED, headers=ETAG, success=True)
@blp.alt_response(404, response="NOT_FOUND")
def get_cover(book_id):
    """A book's current cover image (at most 600×900), cacheable for a minute; 404 when it has none"""
    return _stable(book_id, "cover")


@blp.get("/books/<int:book_id>/cover/thumbnail")
@public
@blp.alt_response(
    200, schema=IMAGE, content_type=MEDIA_TYPE, description="The current thumbnail.", headers=ETAG, success=True
)
@blp.alt_response(304, description=NOT_MODIFIED, headers=ETAG, success=True)
@blp.alt_response(404, response="NOT_FOUND")
def get_cover_thumbnail(book_id):
    """A book's current cover thumbnail (at most 200×300), cacheable for a minute; 404 when it has none"""
    return _stable(book_id, "thumbnail")


@blp.get(f"/covers/<digest:digest>.{EXTENSION}")
@public
@blp.alt_response(
    200, schema=IMAGE, content_type=MEDIA_TYPE, description="The image; it never changes.", headers=ETAG, success=True
)
@blp.alt_response(304, description=NOT_MODIFIED, headers=ETAG, success=True)
@blp.alt_response(404, response="NOT_FOUND")
def get_image(digest):
    """A cover or thumbnail by the SHA-256 of its bytes (the `cover_url` of a book): cacheable for ever"""
    if request.if_none_match.contains_weak(digest):
        return _image_response(covers.Served(digest), IMMUTABLE)
    return _image_response(covers.by_digest(digest), IMMUTABLE)
