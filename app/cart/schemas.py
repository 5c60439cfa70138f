from marshmallow import Schema, fields, validate

from app.fields import StrictInteger, StrictSchema

MAX_LINE_QUANTITY = 100
BOOK_ID = validate.Range(min=1, max=2**31 - 1)


class CartAddSchema(StrictSchema):
    book_id = StrictInteger(required=True, validate=BOOK_ID)
    quantity = StrictInteger(
        load_default=1,
        validate=validate.Range(min=1, max=MAX_LINE_QUANTITY),
        metadata={
            "description": f"Copies to add, 1 to {MAX_LINE_QUANTITY} (a line holds at most {MAX_LINE_QUANTITY})."
        },
    )


class CartSetSchema(StrictSchema):
    quantity = StrictInteger(
        required=True,
        validate=validate.Range(min=0, max=MAX_LINE_QUANTITY),
        metadata={"description": "The new quantity; 0 removes the line."},
    )


class CartLineSchema(Schema):
    book_id = fields.Integer()
    title = fields.String()
    author = fields.String()
    unit_price = fields.Decimal(places=2, as_string=True, metadata={"example": "12.50"})
    quantity = fields.Integer()
    line_total = fields.Decimal(places=2, as_string=True, metadata={"example": "25.00"})
    available = fields.Boolean(metadata={"description": "False when the stock no longer covers the quantity."})


class CartSchema(Schema):
    items = fields.List(fields.Nested(CartLineSchema))
    total_quantity = fields.Integer()
    total = fields.Decimal(places=2, as_string=True, metadata={"example": "25.00"})
