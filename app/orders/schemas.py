from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from app.cart.schemas import BOOK_ID, MAX_LINE_QUANTITY
from app.customers.schemas import SHIPPING_ADDRESS_MAX, AddressText
from app.fields import QueryInteger, QuerySchema, StrictInteger, StrictSchema, Text, UTCDateTime
from app.orders.models import MAX_ORDER_TOTAL, STATUSES, next_statuses
from app.pagination import PageArgs

MAX_ORDER_LINES = 100


def ShippingAddress() -> Text:
    return AddressText(
        allow_none=True,
        validate=validate.Length(max=SHIPPING_ADDRESS_MAX),
        metadata={
            "description": "Where to send the order, as text (line breaks allowed, other control characters not). "
            "Absent, null or blank: the customer's saved `default_address`; with neither → 400 naming "
            "`shipping_address`.",
            "example": "Ada Reader\n12 Baker Street\nLondon NW1 6XE\nUnited Kingdom",
        },
    )


class OrderLineInSchema(StrictSchema):
    book_id = StrictInteger(required=True, validate=BOOK_ID)
    quantity = StrictInteger(required=True, validate=validate.Range(min=1, max=MAX_LINE_QUANTITY))


class OrderCreateSchema(StrictSchema):
    items = fields.List(
        fields.Nested(OrderLineInSchema),
        validate=validate.Length(min=1, max=MAX_ORDER_LINES),
        metadata={
            "description": "Lines to order; without it the cart is ordered and emptied. "
            f"The order's total may be at most {MAX_ORDER_TOTAL:,} (more → 400 naming `items`)."
        },
    )
    shipping_address = ShippingAddress()
    customer_id = StrictInteger(
        validate=BOOK_ID, metadata={"description": "Admins only: the customer the order is placed for."}
    )

    @validates("items")
    def _distinct_books(self, items, **kwargs):
        # marshmallow runs this on the lines that loaded even when another line failed
        # (a line without book_id): check what is there, the field errors say the rest.
        ids = [line["book_id"] for line in items if isinstance(line, dict) and "book_id" in line]
        if len(ids) != len(set(ids)):
            raise ValidationError("Each book may appear only once; put the total in its quantity.")


class PurchaseSchema(StrictSchema):
    book_id = StrictInteger(required=True, validate=BOOK_ID)
    quantity = StrictInteger(load_default=1, validate=validate.Range(min=1, max=MAX_LINE_QUANTITY))
    shipping_address = ShippingAddress()


class StatusChangeSchema(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))


class OrderItemSchema(Schema):
    book_id = fields.Integer()
    title = fields.String()
    unit_price = fields.Decimal(places=2, as_string=True, metadata={"example": "12.50"})
    quantity = fields.Integer()
    line_total = fields.Decimal(places=2, as_string=True, metadata={"example": "25.00"})


class StatusEntrySchema(Schema):
    status = fields.String()
    at = UTCDateTime()


EMBEDS = ("customer",)


class OrderCustomerSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String()


class OrderSchema(Schema):
    id = fields.Integer()
    customer_id = fields.Integer(allow_none=True)
    status = fields.String(metadata={"enum": list(STATUSES)})
    items = fields.List(fields.Nested(OrderItemSchema))
    total = fields.Decimal(places=2, as_string=True, metadata={"example": "25.00"})
    shipping_address = fields.String(allow_none=True)
    created_at = UTCDateTime()
    expected_delivery_date = fields.Date(allow_none=True)
    status_history = fields.List(fields.Nested(StatusEntrySchema))
    next_statuses = fields.Function(
        lambda order: next_statuses(order.status),
        metadata={
            "type": "array",
            "items": {"type": "string", "enum": list(STATUSES)},
            "description": "The statuses this order may move to now, in flow order (empty once delivered or "
            "cancelled): `PATCH /orders/{id}/status` takes any of them (admin); `cancelled` among them means "
            "the owner may `POST /orders/{id}/cancel`.",
        },
    )
    customer = fields.Nested(
        OrderCustomerSchema,
        allow_none=True,
        metadata={
            "description": "Only with `embed=customer`: the buyer's id, name and email (null when the customer "
            "was deleted)."
        },
    )


class EmbedArgs(QuerySchema):
    embed = fields.String(
        validate=validate.OneOf(EMBEDS),
        metadata={"description": "`customer` adds each order's `customer` (id, name, email) in the same answer."},
    )


class TrackingSchema(Schema):
    order_id = fields.Integer()
    status = fields.String()
    placed_at = UTCDateTime()
    expected_delivery_date = fields.Date(allow_none=True)
    history = fields.List(fields.Nested(StatusEntrySchema))
    steps = fields.List(
        fields.String(),
        metadata={
            "description": "The order's way as a page draws it: the statuses reached (as in `history`), then those "
            "still ahead on the way to delivery (none once delivered or cancelled)."
        },
    )


class OrderListArgs(PageArgs, EmbedArgs):
    status = fields.String(validate=validate.OneOf(STATUSES))
    sort = fields.String(
        load_default="newest",
        validate=validate.OneOf(("newest", "oldest")),
        metadata={"description": "`newest` first (default) or `oldest` first (the longest waiting, with `status`)."},
    )
    customer_id = QueryInteger(validate=BOOK_ID, metadata={"description": "Admins only."})
    q = Text(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Admins only: part of the buyer's name or email (case-insensitive)."},
    )
    from_ = fields.Date(data_key="from", metadata={"description": "Placed on or after this UTC date."})
    to = fields.Date(metadata={"description": "Placed on or before this UTC date."})

    @validates_schema
    def _range(self, data, **kwargs):
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ValidationError("Must not be after `to`.", field_name="from")


class CustomerOrdersArgs(PageArgs, QuerySchema):
    pass


class PurchaseLineSchema(Schema):
    order_id = fields.Integer()
    book_id = fields.Integer()
    title = fields.String()
    price = fields.Decimal(places=2, as_string=True, metadata={"description": "The unit price paid."})
    quantity = fields.Integer()
    purchased_at = UTCDateTime()
