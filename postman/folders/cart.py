"""Cart: lines, totals, stock checks."""

from __future__ import annotations

from folders.common import (
    folder,
    fresh,
    location,
    no_content,
    problem,
    request,
    status,
    store_tokens,
    test,
    unauthorized,
)


def cart_folder() -> dict:
    line = "pm.response.json().items"
    make_book = request(
        "Create a book to shop for (admin)",
        "POST",
        "/books",
        token="adminToken",
        prerequest=fresh(("cartBookTitle", '"Postman Cart Book " + suffix')),
        json_body={"title": "{{cartBookTitle}}", "author": "Postman Author", "price": "10.00", "stock": 3},
        tests=status(201)
        + "\n"
        + location("/books/\\d+")
        + "\n"
        + test(
            "3 copies at 10.00, id stored",
            """
            const book = pm.response.json();
            pm.expect(book.price).to.eql("10.00");
            pm.expect(book.stock).to.eql(3);
            pm.expect(book.in_stock).to.eql(true);
            pm.collectionVariables.set("cartBookId", book.id);
            """,
        ),
    )
    clear = request("Empty the cart (start clean)", "DELETE", "/cart", token="customerToken", tests=no_content())
    empty = request(
        "The empty cart",
        "GET",
        "/cart",
        token="customerToken",
        tests=status(200)
        + "\n"
        + test(
            "no lines, zero totals",
            'pm.expect(pm.response.json()).to.eql({items: [], total_quantity: 0, total: "0.00"});',
        ),
    )
    add2 = request(
        "Add 2 copies",
        "POST",
        "/cart",
        token="customerToken",
        json_body={"book_id": "{{=cartBookId}}", "quantity": 2},
        tests=status(200)
        + "\n"
        + test(
            "one line of 2 at today's price",
            """
            const cart = pm.response.json();
            pm.expect(cart.items).to.have.lengthOf(1);
            const l = cart.items[0];
            pm.expect(String(l.book_id)).to.eql(pm.collectionVariables.get("cartBookId"));
            pm.expect(l.title).to.eql(pm.collectionVariables.get("cartBookTitle"));
            pm.expect(l.author).to.eql("Postman Author");
            pm.expect(l.unit_price).to.eql("10.00");
            pm.expect(l.quantity).to.eql(2);
            pm.expect(l.line_total).to.eql("20.00");
            pm.expect(l.available).to.eql(true);
            pm.expect(cart.total).to.eql("20.00");
            pm.expect(cart.total_quantity).to.eql(2);
            """,
        ),
    )
    add1 = request(
        "Add 1 more (adds to the line)",
        "POST",
        "/cart",
        token="customerToken",
        json_body={"book_id": "{{=cartBookId}}"},
        tests=status(200)
        + "\n"
        + test(
            "quantity 3, total 30.00",
            f"""
            pm.expect({line}[0].quantity).to.eql(3);
            pm.expect(pm.response.json().total).to.eql("30.00");
            """,
        ),
    )
    add_short = request(
        "Add more than the stock → 409 with shortages",
        "POST",
        "/cart",
        token="customerToken",
        json_body={"book_id": "{{=cartBookId}}", "quantity": 1},
        tests=problem(409)
        + "\n"
        + test(
            "insufficient-stock problem naming the book",
            """
            const p = pm.response.json();
            pm.expect(p.type).to.eql("/problems/insufficient-stock");
            pm.expect(p.shortages).to.have.lengthOf(1);
            pm.expect(String(p.shortages[0].book_id)).to.eql(pm.collectionVariables.get("cartBookId"));
            pm.expect(p.shortages[0].requested).to.eql(4);
            pm.expect(p.shortages[0].available).to.eql(3);
            """,
        ),
    )
    add_unknown = request(
        "Add an unknown book → 404",
        "POST",
        "/cart",
        token="customerToken",
        json_body={"book_id": 99999999},
        tests=problem(404),
    )
    add_fraction = request(
        "Add 1.5 copies → 400",
        "POST",
        "/cart",
        token="customerToken",
        json_body={"book_id": "{{=cartBookId}}", "quantity": 1.5},
        tests=problem(400, "quantity"),
    )
    add_price = request(
        "Add with a price of one's own → 400 (unknown field)",
        "POST",
        "/cart",
        token="customerToken",
        json_body={"book_id": "{{=cartBookId}}", "price": "0.01"},
        tests=problem(400, "price"),
    )
    set_one = request(
        "Set the quantity to 1",
        "PUT",
        "/cart/{{cartBookId}}",
        token="customerToken",
        json_body={"quantity": 1},
        tests=status(200)
        + "\n"
        + test(
            "quantity 1, total 10.00",
            f"""
            pm.expect({line}[0].quantity).to.eql(1);
            pm.expect(pm.response.json().total).to.eql("10.00");
            """,
        ),
    )
    anonymous = request("The cart without a token → 401", "GET", "/cart", tests=unauthorized())
    no_customer_account = request(
        "An account with no customer record (admin makes one)",
        "POST",
        "/accounts",
        token="adminToken",
        prerequest=fresh(("loneUsername", '"pm_lone_" + suffix'), ("lonePassword", '"lone-pass-" + suffix')),
        json_body={"username": "{{loneUsername}}", "password": "{{lonePassword}}"},
        tests=status(201) + "\n" + test("no customer_id", "pm.expect(pm.response.json().customer_id).to.eql(null);"),
    )
    lone_login = request(
        "Login as that account",
        "POST",
        "/login",
        json_body={"username": "{{loneUsername}}", "password": "{{lonePassword}}"},
        tests=status(200) + "\n" + store_tokens("lone"),
    )
    lone_cart = request(
        "The cart of an account with no customer → 403", "GET", "/cart", token="loneToken", tests=problem(403)
    )
    remove = request(
        "Remove the line",
        "DELETE",
        "/cart/{{cartBookId}}",
        token="customerToken",
        tests=status(200)
        + "\n"
        + test(
            "the whole cart, now empty",
            """
            const cart = pm.response.json();
            pm.expect(cart.items).to.eql([]);
            pm.expect(cart.total).to.eql("0.00");
            """,
        ),
    )
    remove_again = request(
        "Remove it again → 404", "DELETE", "/cart/{{cartBookId}}", token="customerToken", tests=problem(404)
    )
    return folder(
        "Cart",
        "The demo customer's cart: adding, stock limits, setting and removing lines, and the failure "
        "cases. Creates its own book (3 copies at 10.00) as admin.",
        [
            make_book,
            clear,
            empty,
            add2,
            add1,
            add_short,
            add_unknown,
            add_fraction,
            add_price,
            set_one,
            anonymous,
            no_customer_account,
            lone_login,
            lone_cart,
            remove,
            remove_again,
        ],
    )
