"""HTTP for orders: placing (from the cart, from items, one-click), reading, tracking, the status flow."""

import marshmallow as ma
from flask import jsonify, request
from flask_jwt_extended import current_user
from marshmallow import validate

from app.api import Blueprint
from app.auth import ADMIN, AUTHENTICATED, requires
from app.books.routes import blp as books_blp
from app.customers.routes import blp as customers_blp
from app.customers.schemas import CustomerDetailSchema
from app.customers.services import get_customer_for
from app.orders import catalogue, customers, services
from app.orders.models import way_ahead
from app.orders.schemas import (
    CustomerOrdersArgs,
    EmbedArgs,
    OrderCreateSchema,
    OrderListArgs,
    OrderSchema,
    PurchaseSchema,
    StatusChangeSchema,
    TrackingSchema,
)
from app.pagination import page_schema

blp = Blueprint("orders", __name__, description="Orders: placing, tracking, the status flow and cancellation.")

IDEMPOTENT_REPLAY_HEADERS = {
    "Location": {"description": "The order's URL.", "schema": {"type": "string"}},
    "Idempotent-Replayed": {
        "description": "`true` when this answer replays an earlier request with the same key.",
        "schema": {"type": "string"},
    },
}


class IdempotencyHeader(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    key = ma.fields.String(
        data_key="Idempotency-Key",
        validate=validate.Length(min=1, max=255),
        metadata={"description": "Makes retries safe: a repeat with the same key and body replays the first answer."},
    )


def _placed_response(placed: services.Placed):
    response = jsonify(placed.body)
    response.status_code = placed.status
    response.headers["Location"] = f"/orders/{placed.order_id}"
    if placed.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _idempotency(headers: dict, body: dict) -> services.Idempotency | None:
    key = headers.get("key")
    if key is None:
        return None
    return services.Idempotency(
        account_id=current_user.id,
        endpoint=f"{request.method} {request.url_rule.rule}",
        key=key,
        request_hash=services.request_fingerprint(request.path, body),
    )


@blp.post("/orders")
@requires(AUTHENTICATED)
@blp.arguments(IdempotencyHeader, location="headers")
@blp.arguments(OrderCreateSchema)
@blp.response(201, OrderSchema, headers=IDEMPOTENT_REPLAY_HEADERS)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="OUT_OF_STOCK")
@blp.alt_response(503, response="SERVICE_UNAVAILABLE")
def place_order(headers, data):
    """Place an order from `items`, or from the cart when `items` is absent"""
    customer_id = services.buyer_for(current_user, data.get("customer_id"))
    placed = services.place_order(
        customer_id, data.get("items"), data.get("shipping_address"), _idempotency(headers, data)
    )
    return _placed_response(placed)


@blp.post("/customers/<int:customer_id>/purchase")
@requires(AUTHENTICATED)
@blp.arguments(IdempotencyHeader, location="headers")
@blp.arguments(PurchaseSchema)
@blp.response(201, OrderSchema, headers=IDEMPOTENT_REPLAY_HEADERS)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="OUT_OF_STOCK")
@blp.alt_response(503, response="SERVICE_UNAVAILABLE")
def purchase(headers, data, customer_id):
    """One-click buy of one book (same rules as POST /orders)"""
    customer = get_customer_for(current_user, customer_id)
    lines = [{"book_id": data["book_id"], "quantity": data["quantity"]}]
    placed = services.place_order(customer.id, lines, data.get("shipping_address"), _idempotency(headers, data))
    return _placed_response(placed)


@blp.get("/customers/<int:customer_id>/orders")
@requires(AUTHENTICATED)
@blp.arguments(CustomerOrdersArgs, location="query")
@blp.response(200, page_schema(OrderSchema))
@blp.alt_response(404, response="NOT_FOUND")
def customer_orders(args, customer_id):
    """A customer's orders, newest first (self or admin)"""
    customer = get_customer_for(current_user, customer_id)
    return services.list_orders(args, customer_id=customer.id)


@blp.get("/orders")
@requires(AUTHENTICATED)
@blp.arguments(OrderListArgs, location="query")
@blp.response(200, page_schema(OrderSchema))
@blp.alt_response(403, response="FORBIDDEN")
def list_orders(args):
    """Own orders newest first; admins see all and may filter by customer"""
    body, status, headers = services.list_orders_for(current_user, args)
    services.embed_customers(body["items"], args.get("embed"))
    return body, status, headers


@blp.get("/orders/<int:order_id>")
@requires(AUTHENTICATED)
@blp.arguments(EmbedArgs, location="query")
@blp.response(200, OrderSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_order(args, order_id):
    """One order (owner or admin)"""
    order = services.get_order_for(current_user, order_id)
    services.embed_customers([order], args.get("embed"))
    return order


@blp.get("/orders/<int:order_id>/tracking")
@requires(AUTHENTICATED)
@blp.response(200, TrackingSchema)
@blp.alt_response(404, response="NOT_FOUND")
def track_order(order_id):
    """Where the order is and when it should arrive"""
    order = services.get_order_for(current_user, order_id)
    return {
        "order_id": order.id,
        "status": order.status,
        "placed_at": order.created_at,
        "expected_delivery_date": order.expected_delivery_date,
        "history": order.status_history,
        "steps": [entry.status for entry in order.status_history] + way_ahead(order.status),
    }


@blp.post("/orders/<int:order_id>/cancel")
@requires(AUTHENTICATED)
@blp.response(200, OrderSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def cancel_order(order_id):
    """Cancel a pending or paid order; its stock is given back"""
    return services.cancel(services.get_order_for(current_user, order_id))


@blp.delete("/orders/<int:order_id>")
@requires(AUTHENTICATED)
@blp.response(200, OrderSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def delete_order(order_id):
    """Cancel the order (orders are never erased); same as POST /orders/{id}/cancel"""
    return services.cancel(services.get_order_for(current_user, order_id))


@blp.patch("/orders/<int:order_id>/status")
@requires(ADMIN)
@blp.arguments(StatusChangeSchema)
@blp.response(200, OrderSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def change_status(data, order_id):
    """Move an order along pending → paid → shipped → delivered, or cancel it (admin)"""
    return services.change_status(services.get_order_for(current_user, order_id), data["status"])


@customers_blp.get("/<int:customer_id>")
@requires(AUTHENTICATED)
@customers_blp.response(200, CustomerDetailSchema)
@customers_blp.alt_response(404, response="NOT_FOUND")
def get_customer(customer_id):
    """One customer with its purchase history (self or admin)"""
    return customers.customer_with_history(current_user, customer_id)


@customers_blp.delete("/<int:customer_id>")
@requires(AUTHENTICATED)
@customers_blp.response(204)
@customers_blp.alt_response(404, response="NOT_FOUND")
@customers_blp.alt_response(409, response="CONFLICT")
def delete_customer(customer_id):
    """Delete a customer with its account and cart (self or admin)"""
    customers.delete_customer(current_user, customer_id)
    return ""


@books_blp.delete("/<int:book_id>")
@requires(ADMIN)
@books_blp.response(204)
@books_blp.alt_response(404, response="NOT_FOUND")
def delete_book(book_id):
    """Delete a book; one ever ordered or in a cart is retired instead (admin)"""
    catalogue.delete_book(book_id)
    return ""
