"""Shapes of a review, its write bodies, the moderation body and the list query strings."""

import marshmallow as ma
from marshmallow import ValidationError, fields, validate

from app.books.schemas import QueryBoolean
from app.fields import QueryInteger, StrictInteger, StrictSchema, Text, UTCDateTime
from app.pagination import PageArgs
from app.reviews.models import BODY_MAX, RATING_MAX, RATING_MIN, REASON_MAX, TITLE_MAX

SORTS = ("newest", "helpful")
BLANK = "Must not be blank: leave it out or send null."


def _not_blank(value: str | None) -> None:
    if value is not None and not value.strip():
        raise ValidationError(BLANK)


def Rating(**kwargs) -> StrictInteger:
    return StrictInteger(
        validate=validate.Range(
            min=RATING_MIN, max=RATING_MAX, error=f"Must be a whole number from {RATING_MIN} to {RATING_MAX}."
        ),
        metadata={"description": f"Stars, a whole number from {RATING_MIN} to {RATING_MAX}."},
        **kwargs,
    )


class ReviewWriteSchema(StrictSchema):
    """POST (rating required) and PATCH (partial). Text is stored exactly as sent (not trimmed)."""

    rating = Rating(required=True)
    title = Text(
        allow_none=True,
        strip=False,
        validate=[validate.Length(min=1, max=TITLE_MAX), _not_blank],
        metadata={"description": f"One line, up to {TITLE_MAX} characters."},
    )
    body = Text(
        allow_none=True,
        strip=False,
        multiline=True,
        validate=[validate.Length(min=1, max=BODY_MAX), _not_blank],
        metadata={"description": f"Up to {BODY_MAX} characters; line breaks and tabs allowed; shown as plain text."},
    )


class ReviewSchema(ma.Schema):
    """A review as the API shows it."""

    id = fields.Integer()
    book_id = fields.Integer()
    rating = fields.Integer(metadata={"minimum": RATING_MIN, "maximum": RATING_MAX})
    title = fields.String(allow_none=True)
    body = fields.String(allow_none=True)
    author_name = fields.String(metadata={"description": "The author's first name and last initial."})
    verified_purchase = fields.Constant(
        True, metadata={"type": "boolean", "description": "Always true: only buyers may review."}
    )
    helpful_count = fields.Integer(metadata={"description": "Customers who found it helpful."})
    hidden = fields.Boolean(
        attribute="is_hidden",
        metadata={"description": "Hidden by a moderator (only its author and admins see it then)."},
    )
    hidden_reason = fields.String(allow_none=True)
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class MyReviewSchema(ma.Schema):
    """Whether the caller may review the book, and their review of it."""

    can_review = fields.Boolean(
        metadata={
            "description": "True when the caller bought the book (a paid, shipped or delivered order) and has not reviewed it."
        }
    )
    purchased = fields.Boolean(metadata={"description": "True when a paid, shipped or delivered order holds the book."})
    review = fields.Nested(ReviewSchema, allow_none=True)


class HideSchema(StrictSchema):
    reason = Text(
        required=True,
        validate=validate.Length(min=1, max=REASON_MAX),
        metadata={"description": "Why it is hidden; shown to the author."},
    )


class BookReviewArgs(PageArgs):
    sort = fields.String(
        load_default="newest",
        validate=validate.OneOf(SORTS),
        metadata={"description": "`newest` (default) or `helpful`: most helpful first, then newest."},
    )


class ReviewListArgs(PageArgs):
    hidden = QueryBoolean(metadata={"description": "`true`: hidden reviews only; `false`: visible only; absent: all."})
    book_id = QueryInteger(
        validate=validate.Range(min=1, max=2**31 - 1), metadata={"description": "Reviews of this book."}
    )
