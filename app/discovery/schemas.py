"""Shapes of the genre list and of "customers also bought"."""

import marshmallow as ma
from marshmallow import fields, validate

from app.books.schemas import BookSchema
from app.fields import QueryInteger, QuerySchema

MAX_RELATED, DEFAULT_RELATED = 20, 6


class GenreSchema(ma.Schema):
    genre = fields.String(metadata={"description": "The genre as first added (genres match in any case)."})
    books = fields.Integer(metadata={"description": "Live books of this genre."})


class GenreListSchema(ma.Schema):
    items = fields.List(
        fields.Nested(GenreSchema),
        metadata={"description": "Genres with at least one live book, by name (case-insensitive)."},
    )
    total_books = fields.Integer(metadata={"description": "Live books in the catalogue, with or without a genre."})


class RelatedArgs(QuerySchema):
    limit = QueryInteger(
        load_default=DEFAULT_RELATED,
        validate=validate.Range(min=1, max=MAX_RELATED),
        metadata={"description": f"How many books, 1 to {MAX_RELATED} (default {DEFAULT_RELATED})."},
    )


class RelatedListSchema(ma.Schema):
    items = fields.List(
        fields.Nested(BookSchema),
        metadata={
            "description": "Live books most often in the same orders as this one (cancelled orders not "
            "counted): in stock first, then by shared orders, then by id. As fresh as the last "
            "`flask related` (or `flask rollup`)."
        },
    )
