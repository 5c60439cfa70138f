"""HTTP for sign-up, sessions, the caller's own profile and admin account management."""

from flask_jwt_extended import current_user, get_jwt

from app import refresh_cookie
from app.accounts import services
from app.accounts.limits import login_address_limit, login_limit
from app.accounts.schemas import (
    AccountCreateSchema,
    AccountDetailSchema,
    AccountSchema,
    AccountUpdateSchema,
    LoginSchema,
    MeSchema,
    MeUpdateSchema,
    PasswordChangeSchema,
    RegisterResultSchema,
    RegisterSchema,
    TokenSchema,
)
from app.accounts.sessions import current_account
from app.api import Blueprint
from app.auth import ADMIN, AUTHENTICATED, REFRESH, public, requires
from app.customers.routes import blp as customers_blp
from app.customers.schemas import CustomerCreateSchema, CustomerWithAccountSchema
from app.limits import profile_limit, register_limit
from app.pagination import LINK_HEADER, PageArgs, page_schema

auth_blp = Blueprint("auth", __name__, description="Sign-up, login, tokens and the caller's own profile.")
accounts_blp = Blueprint("accounts", __name__, url_prefix="/accounts", description="Login accounts.")
auth_blp.after_request(refresh_cookie.apply)

# Token answers must not be stored by browsers or proxies (RFC 6749 5.1).
NO_STORE = {"Cache-Control": "no-store"}


def _token_answer(pair: dict, cookie: bool):
    """The token pair; with `cookie`, the refresh token goes out as the pages' cookie instead."""
    if cookie:
        refresh_cookie.keep(pair.pop("refresh_token"))
    return pair, 200, NO_STORE


@auth_blp.post("/register")
@public
@register_limit
@auth_blp.arguments(RegisterSchema)
@auth_blp.response(201, RegisterResultSchema)
@auth_blp.alt_response(409, response="CONFLICT")
@auth_blp.alt_response(429, response="TOO_MANY_REQUESTS")
def register(data):
    """Create a customer and its login account"""
    customer, account = services.register(data)
    return {"customer": customer, "account": account}, 201, {"Location": f"/accounts/{account.id}"}


@auth_blp.post("/login")
@public
@login_address_limit
@login_limit
@auth_blp.arguments(LoginSchema)
@auth_blp.response(200, TokenSchema)
@auth_blp.alt_response(401, response="UNAUTHORIZED")
@auth_blp.alt_response(403, response="FORBIDDEN")
@auth_blp.alt_response(429, response="TOO_MANY_REQUESTS")
def login(data):
    """Log in with a username or email; get access and refresh tokens

    With `refresh_cookie: true` (and the header `X-Session-Cookie: 1`) the refresh token is set
    as an HttpOnly cookie for POST /token/refresh instead of being in the body.
    """
    if data["refresh_cookie"]:
        refresh_cookie.check_request()
    return _token_answer(services.login(data["username"], data["password"]), data["refresh_cookie"])


@auth_blp.post("/token/refresh")
@requires(REFRESH, cookie=True)
@auth_blp.response(200, TokenSchema)
@auth_blp.alt_response(403, response="FORBIDDEN")
def refresh():
    """Trade a refresh token for a new access token and a new refresh token

    The refresh token sent is used up: sending it again ends its whole login session (every
    access and refresh token of it is refused from then on), as a stolen copy may be in use.
    Without an Authorization header the pages' refresh cookie is used (with the header
    `X-Session-Cookie: 1`), and the new refresh token is set as the cookie.
    """
    cookie = refresh_cookie.sent()
    return _token_answer(services.refresh(current_user, get_jwt()), cookie)


@auth_blp.post("/logout")
@requires(AUTHENTICATED, any_token=True)
@auth_blp.response(204)
def logout():
    """Revoke this token and its login session

    Send the access or the refresh token: either way both stop working, as do access tokens
    refreshed from that login. The pages' refresh cookie is cleared.
    """
    services.logout(get_jwt())
    refresh_cookie.clear()
    return ""


@auth_blp.post("/logout/all")
@requires(AUTHENTICATED)
@auth_blp.response(204)
def logout_everywhere():
    """End every login session of the caller's account, this one included

    Every access and refresh token issued to the account so far stops working, on every device;
    the pages' refresh cookie is cleared.
    """
    services.logout_everywhere(current_account())
    refresh_cookie.clear()
    return ""


@auth_blp.get("/me")
@requires(AUTHENTICATED)
@auth_blp.response(200, MeSchema)
def me():
    """The caller's account and customer profile"""
    account = current_account()
    return {"account": account, "customer": account.customer}


@auth_blp.patch("/me")
@requires(AUTHENTICATED)
@profile_limit
@auth_blp.arguments(MeUpdateSchema)
@auth_blp.response(200, MeSchema)
@auth_blp.alt_response(403, response="FORBIDDEN")
@auth_blp.alt_response(409, response="CONFLICT")
@auth_blp.alt_response(429, response="TOO_MANY_REQUESTS")
def update_me(data):
    """Update the caller's name, email or phone"""
    account = services.update_me(current_account(), data)
    return {"account": account, "customer": account.customer}


@auth_blp.put("/me/password")
@requires(AUTHENTICATED)
@auth_blp.arguments(PasswordChangeSchema)
@auth_blp.response(204)
def change_password(data):
    """Change the caller's password; the account's other login sessions end"""
    services.change_password(current_account(), data["current_password"], data["new_password"], get_jwt().get("sid"))
    return ""


@accounts_blp.get("")
@requires(ADMIN)
@accounts_blp.arguments(PageArgs, location="query")
@accounts_blp.response(200, page_schema(AccountSchema), headers=LINK_HEADER)
def list_accounts(args):
    """List accounts (admin)"""
    return services.list_accounts(args)


@accounts_blp.post("")
@requires(ADMIN)
@accounts_blp.arguments(AccountCreateSchema)
@accounts_blp.response(201, AccountDetailSchema)
@accounts_blp.alt_response(404, response="NOT_FOUND")
@accounts_blp.alt_response(409, response="CONFLICT")
def create_account(data):
    """Create an account, optionally for an existing customer (admin)"""
    account = services.create_account(data)
    return account, 201, {"Location": f"/accounts/{account.id}"}


@accounts_blp.get("/<int:account_id>")
@requires(AUTHENTICATED)
@accounts_blp.response(200, AccountDetailSchema)
@accounts_blp.alt_response(404, response="NOT_FOUND")
def get_account(account_id):
    """One account with its customer (self or admin)"""
    return services.get_account_for(current_user, account_id)


def _update(account_id: int, data: dict):
    account = services.get_account_for(current_user, account_id)
    return services.update_account(current_user, account, data, current_sid=get_jwt().get("sid"))


@accounts_blp.put("/<int:account_id>")
@requires(AUTHENTICATED)
@profile_limit
@accounts_blp.arguments(AccountUpdateSchema)
@accounts_blp.response(200, AccountDetailSchema)
@accounts_blp.alt_response(403, response="FORBIDDEN")
@accounts_blp.alt_response(404, response="NOT_FOUND")
@accounts_blp.alt_response(409, response="CONFLICT")
@accounts_blp.alt_response(429, response="TOO_MANY_REQUESTS")
def replace_account(data, account_id):
    """Replace username (and optionally password, role, is_active)"""
    return _update(account_id, data)


@accounts_blp.patch("/<int:account_id>")
@requires(AUTHENTICATED)
@profile_limit
@accounts_blp.arguments(AccountUpdateSchema(partial=True))
@accounts_blp.response(200, AccountDetailSchema)
@accounts_blp.alt_response(403, response="FORBIDDEN")
@accounts_blp.alt_response(404, response="NOT_FOUND")
@accounts_blp.alt_response(409, response="CONFLICT")
@accounts_blp.alt_response(429, response="TOO_MANY_REQUESTS")
def update_account(data, account_id):
    """Change some of username, password, role, is_active"""
    return _update(account_id, data)


@accounts_blp.delete("/<int:account_id>")
@requires(AUTHENTICATED)
@accounts_blp.response(204)
@accounts_blp.alt_response(404, response="NOT_FOUND")
@accounts_blp.alt_response(409, response="CONFLICT")
def delete_account(account_id):
    """Delete an account; its customer record stays (self or admin)"""
    services.delete_account(services.get_account_for(current_user, account_id))
    return ""


@customers_blp.post("")
@public
@register_limit
@customers_blp.arguments(CustomerCreateSchema)
@customers_blp.response(201, CustomerWithAccountSchema)
@customers_blp.alt_response(409, response="CONFLICT")
@customers_blp.alt_response(429, response="TOO_MANY_REQUESTS")
def create_customer(data):
    """Create a customer; with username and password, its account too"""
    customer = services.create_customer(data)
    return customer, 201, {"Location": f"/customers/{customer.id}"}
