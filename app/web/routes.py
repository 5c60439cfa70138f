"""Pages of the web front (a plain Flask blueprint: the pages stay out of the OpenAPI document).

Every page is a server-rendered shell (layout, forms, labels, empty regions); the data comes from
the JSON API, called by the page's script with the visitor's bearer token. Nothing here reads the
database: the pages see exactly what an API client sees.
"""

from pathlib import Path

from flask import Blueprint, render_template, send_from_directory

from app.auth import public
from app.reports.formats import currency

STATIC_DIR = Path(__file__).resolve().parent / "static"

bp = Blueprint("web", __name__, template_folder="templates")


def page(rule: str):
    """Register a GET page: public (the API behind it checks the token) and marked as a page."""

    def decorator(func):
        public(func)
        func._web_page = True
        bp.get(rule)(func)
        return func

    return decorator


def _render(template: str, title: str, page_name: str, **page_data):
    """The page shell; `page_data` becomes data-* attributes of <body> for the page script."""
    return render_template(template, title=title, page_name=page_name, page_data=page_data, currency=currency())


# --- storefront ---------------------------------------------------------------------------------


@page("/")
def browse():
    return _render("web/shop/browse.html", "Browse books", page_name="browse")


@page("/shop/books/<int:book_id>")
def book(book_id: int):
    return _render("web/shop/book.html", "Book", page_name="book", **{"book-id": book_id})


@page("/shop/register")
def register():
    return _render("web/shop/register.html", "Create an account", page_name="register")


@page("/shop/login")
def login():
    return _render("web/shop/login.html", "Log in", page_name="login")


@page("/shop/account")
def account():
    return _render("web/shop/account.html", "My account", page_name="account")


@page("/shop/cart")
def cart():
    return _render("web/shop/cart.html", "Your cart", page_name="cart")


@page("/shop/checkout")
def checkout():
    return _render("web/shop/checkout.html", "Checkout", page_name="checkout")


@page("/shop/orders")
def orders():
    return _render("web/shop/orders.html", "My orders", page_name="orders")


@page("/shop/orders/<int:order_id>")
def order(order_id: int):
    return _render("web/shop/order.html", f"Order {order_id}", page_name="order", **{"order-id": order_id})


# --- admin panel --------------------------------------------------------------------------------


@page("/admin")
def admin_home():
    return _render("web/admin/home.html", "Admin: dashboard", page_name="admin-home")


@page("/admin/books")
def admin_books():
    return _render("web/admin/books.html", "Admin: books", page_name="admin-books")


@page("/admin/orders")
def admin_orders():
    return _render("web/admin/orders.html", "Admin: orders", page_name="admin-orders")


@page("/admin/customers")
def admin_customers():
    return _render("web/admin/customers.html", "Admin: customers", page_name="admin-customers")


@page("/admin/orders/<int:order_id>")
def admin_order(order_id: int):
    return _render(
        "web/admin/order.html", f"Admin: order {order_id}", page_name="admin-order", **{"order-id": order_id}
    )


@page("/admin/orders/<int:order_id>/packing-slip")
def admin_packing_slip(order_id: int):
    return _render(
        "web/admin/packing_slip.html",
        f"Packing slip: order {order_id}",
        page_name="admin-packing-slip",
        **{"order-id": order_id},
    )


@page("/admin/customers/<int:customer_id>")
def admin_customer(customer_id: int):
    return _render(
        "web/admin/customer.html", "Admin: customer", page_name="admin-customer", **{"customer-id": customer_id}
    )


@page("/admin/books/<int:book_id>")
def admin_book(book_id: int):
    return _render("web/admin/book.html", "Admin: book", page_name="admin-book", **{"book-id": book_id})


@page("/admin/reports")
def admin_reports():
    return _render("web/admin/reports.html", "Admin: reports", page_name="admin-reports")


# --- assets -------------------------------------------------------------------------------------


@page("/assets/<path:filename>")
def asset(filename: str):
    """The stylesheet, scripts and icon (revalidated by ETag on every load, so a deploy shows at once)."""
    return send_from_directory(STATIC_DIR, filename, max_age=0)
