"""HTTP for customer records."""

from flask_jwt_extended import current_user

from app.accounts.limits import profile_limit, register_limit
from app.api import Blueprint
from app.auth import ADMIN, AUTHENTICATED, public, requires
from app.customers import services
from app.customers.schemas import (
    CustomerCreateSchema,
    CustomerDetailSchema,
    CustomerFieldsSchema,
    CustomerListArgs,
    CustomerSchema,
    CustomerWithAccountSchema,
)
from app.pagination import LINK_HEADER, page_schema

blp = Blueprint("customers", __name__, url_prefix="/customers", description="Customer records.")


@blp.get("")
@requires(ADMIN)
@blp.arguments(CustomerListArgs, location="query")
@blp.response(200, page_schema(CustomerSchema), headers=LINK_HEADER)
def list_customers(args):
    """List customers, optionally matching `q` in name or email (admin)"""
    return services.list_customers(args)


@blp.post("")
@public
@register_limit
@blp.arguments(CustomerCreateSchema)
@blp.response(201, CustomerWithAccountSchema)
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def create_customer(data):
    """Create a customer; with username and password, its account too"""
    customer = services.create_customer(data)
    return customer, 201, {"Location": f"/customers/{customer.id}"}


@blp.get("/<int:customer_id>")
@requires(AUTHENTICATED)
@blp.response(200, CustomerDetailSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_customer(customer_id):
    """One customer with its purchase history (self or admin)"""
    from app.orders.services import purchase_history

    customer = services.get_customer_for(current_user, customer_id)
    customer.purchase_history = purchase_history(customer.id)
    return customer


@blp.put("/<int:customer_id>")
@requires(AUTHENTICATED)
@profile_limit
@blp.arguments(CustomerFieldsSchema)
@blp.response(200, CustomerSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def replace_customer(data, customer_id):
    """Replace name, email, phone and default address (self or admin)"""
    customer = services.get_customer_for(current_user, customer_id)
    return services.update_customer(customer, data, replace=True)


@blp.patch("/<int:customer_id>")
@requires(AUTHENTICATED)
@profile_limit
@blp.arguments(CustomerFieldsSchema(partial=True))
@blp.response(200, CustomerSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def update_customer(data, customer_id):
    """Change some of name, email, phone, default address (self or admin)"""
    customer = services.get_customer_for(current_user, customer_id)
    return services.update_customer(customer, data, replace=False)


@blp.delete("/<int:customer_id>")
@requires(AUTHENTICATED)
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def delete_customer(customer_id):
    """Delete a customer with its account and cart (self or admin)"""
    services.delete_customer(services.get_customer_for(current_user, customer_id))
    return ""
