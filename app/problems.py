"""RFC 9457 problem details: the media type, the problem types this API uses and their documented
shape. A leaf module: the error handler and the OpenAPI glue both read it."""

import marshmallow as ma

PROBLEM_JSON = "application/problem+json"

# Problem type URIs (relative references, documented in docs/api.md).
TYPE_BLANK = "about:blank"
TYPE_VALIDATION = "/problems/validation-error"
TYPE_CONFLICT = "/problems/conflict"
TYPE_OUT_OF_STOCK = "/problems/insufficient-stock"
TYPE_ILLEGAL_TRANSITION = "/problems/illegal-status-transition"
TYPE_UNAVAILABLE = "/problems/service-unavailable"
TYPE_RATE_LIMITED = "/problems/rate-limited"
TYPE_INTERNAL = "/problems/internal-error"


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details; extension members (e.g. `errors`, `shortages`) may follow."""

    class Meta:
        unknown = ma.INCLUDE  # documented as additionalProperties: true

    type = ma.fields.String(required=True, metadata={"example": "about:blank"})
    title = ma.fields.String(required=True, metadata={"example": "Not Found"})
    status = ma.fields.Integer(required=True, metadata={"example": 404})
    detail = ma.fields.String(required=True, metadata={"example": "Book 42 not found."})
    request_id = ma.fields.String(metadata={"description": "Only on 500: quote it when reporting the fault."})


class ValidationProblemSchema(ProblemSchema):
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Raw(),
        metadata={"description": "Field name → list of messages", "example": {"email": ["Not a valid email address."]}},
    )


class ShortageSchema(ma.Schema):
    """One line that cannot be served."""

    class Meta:
        ordered = True

    book_id = ma.fields.Integer(required=True)
    title = ma.fields.String(
        allow_none=True, metadata={"description": "The book's title; null for a book that never existed."}
    )
    requested = ma.fields.Integer(required=True, metadata={"description": "Copies asked for."})
    available = ma.fields.Integer(
        required=True, metadata={"description": "Copies in stock now (0 for a retired or unknown book)."}
    )


class OutOfStockProblemSchema(ProblemSchema):
    """The 409 of a request that wants more copies than are in stock (`type` /problems/insufficient-stock);
    other conflicts on the same route carry no `shortages`."""

    type = ma.fields.String(required=True, metadata={"example": TYPE_OUT_OF_STOCK})
    title = ma.fields.String(required=True, metadata={"example": "Not enough stock"})
    status = ma.fields.Integer(required=True, metadata={"example": 409})
    detail = ma.fields.String(
        required=True,
        metadata={
            "example": "Not enough stock, so nothing was ordered: “Dune” has only 1 copy left (you asked for 2 copies)."
        },
    )
    shortages = ma.fields.List(ma.fields.Nested(ShortageSchema), metadata={"description": "Every short line."})
