"""HTTP for customer records: the list and profile changes. Creating one with a login is the
accounts' (app/accounts/routes.py); reading one with its purchases and deleting one are the
orders' (app/orders/routes.py): those use cases need what those domains own."""

from flask_jwt_extended import current_user

from app.api import Blueprint
from app.auth import ADMIN, AUTHENTICATED, requires
from app.customers import services
from app.customers.schemas import (
    CustomerFieldsSchema,
    CustomerListArgs,
    CustomerSchema,
    CustomerWithAccountSchema,
)
from app.limits import profile_limit
from app.pagination import LINK_HEADER, page_schema

blp = Blueprint("customers", __name__, url_prefix="/customers", description="Customer records.")


@blp.get("")
@requires(ADMIN)
@blp.arguments(CustomerListArgs, location="query")
@blp.response(200, page_schema(CustomerWithAccountSchema), headers=LINK_HEADER)
def list_customers(args):
    """List customers with their login account, optionally matching `q` in name or email (admin)"""
    return services.list_customers(args)


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
