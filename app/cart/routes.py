"""HTTP for the caller's cart."""

from flask_jwt_extended import current_user

from app.api import Blueprint
from app.auth import AUTHENTICATED, requires
from app.cart import services
from app.cart.schemas import MAX_LINE_QUANTITY, CartAddSchema, CartSchema, CartSetSchema

blp = Blueprint(
    "cart", __name__, url_prefix="/cart", description="The caller's cart; every change answers with the whole cart."
)


@blp.get("")
@requires(AUTHENTICATED)
@blp.response(200, CartSchema)
@blp.alt_response(403, response="FORBIDDEN")
def get_cart():
    """The cart with live prices and totals"""
    return services.view(services.customer_id_of(current_user))


@blp.post("")
@requires(AUTHENTICATED)
@blp.arguments(CartAddSchema)
@blp.response(200, CartSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="OUT_OF_STOCK")
def add_to_cart(data):
    """Add copies of a book (added to what is already there)"""
    customer_id = services.customer_id_of(current_user)
    return services.add(customer_id, data["book_id"], data["quantity"], MAX_LINE_QUANTITY)


@blp.put("/<int:book_id>")
@requires(AUTHENTICATED)
@blp.arguments(CartSetSchema)
@blp.response(200, CartSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="OUT_OF_STOCK")
def set_cart_line(data, book_id):
    """Set the quantity of a book in the cart; 0 removes the line"""
    return services.set_quantity(services.customer_id_of(current_user), book_id, data["quantity"])


@blp.delete("/<int:book_id>")
@requires(AUTHENTICATED)
@blp.response(200, CartSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def remove_cart_line(book_id):
    """Remove a book from the cart"""
    return services.remove(services.customer_id_of(current_user), book_id)


@blp.delete("")
@requires(AUTHENTICATED)
@blp.response(204)
@blp.alt_response(403, response="FORBIDDEN")
def clear_cart():
    """Empty the cart"""
    services.clear(services.customer_id_of(current_user))
    return ""
