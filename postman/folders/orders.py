"""Order Management: placing (cart, items, saved address), idempotency, tracking, the status flow."""

from __future__ import annotations

from folders.common import (
    envelope,
    folder,
    location,
    no_content,
    problem,
    request,
    status,
    test,
    today_plus,
    unauthorized,
)

ADA_ADDRESS = {
    "name": "Ada Reader",
    "line1": "221B Baker Street",
    "city": "London",
    "postal_code": "NW1 6XE",
    "country": "GB",
    "phone": "+44 20 7946 0000",
}


def orders_folder() -> dict:
    order_body = "{}"
    save_my_address = request(
        "Save my default address (PATCH /me): orders without a shipping_address go there",
        "PATCH",
        "/me",
        token="customerToken",
        json_body={"default_address": ADA_ADDRESS},
        tests=status(200)
        + "\n"
        + test("saved", 'pm.expect(pm.response.json().customer.default_address.line1).to.eql("221B Baker Street");'),
    )
    fill_cart = request(
        "Put 1 copy in the cart",
        "POST",
        "/cart",
        token="customerToken",
        json_body={"book_id": "{{=cartBookId}}", "quantity": 1},
        tests=status(200)
        + "\n"
        + test(
            "one copy in the cart",
            """
            const cart = pm.response.json();
            pm.expect(cart.total_quantity).to.eql(1);
            pm.expect(cart.total).to.eql("10.00");
            """,
        ),
    )
    place = request(
        "Order the cart (with an Idempotency-Key)",
        "POST",
        "/orders",
        token="customerToken",
        prerequest=['pm.collectionVariables.set("orderKey", pm.variables.replaceIn("{{$guid}}"));'],
        headers={"Idempotency-Key": "{{orderKey}}"},
        raw=order_body,
        tests=status(201)
        + "\n"
        + location("/orders/\\d+")
        + "\n"
        + test(
            "a pending order at the frozen price, id stored",
            f"""
            const order = pm.response.json();
            pm.expect(order.status).to.eql("pending");
            pm.expect(String(order.customer_id)).to.eql(pm.collectionVariables.get("customerCustomerId"));
            pm.expect(order.items).to.have.lengthOf(1);
            pm.expect(String(order.items[0].book_id)).to.eql(pm.collectionVariables.get("cartBookId"));
            pm.expect(order.items[0].unit_price).to.eql("10.00");
            pm.expect(order.items[0].quantity).to.eql(1);
            pm.expect(order.items[0].line_total).to.eql("10.00");
            pm.expect(order.total).to.eql("10.00");
            pm.expect(order.created_at).to.match(/Z$/);
            pm.expect(order.expected_delivery_date).to.eql({today_plus("processingDays")});
            pm.expect(order.status_history).to.have.lengthOf(1);
            pm.expect(order.status_history[0].status).to.eql("pending");
            // No shipping_address in the body: the saved default, as a label.
            pm.expect(order.shipping_address).to.eql(
                "Ada Reader\\n221B Baker Street\\nLondon NW1 6XE\\nUnited Kingdom\\nPhone: +44 20 7946 0000");
            pm.expect(pm.response.headers.get("Idempotent-Replayed")).to.eql(undefined);
            pm.collectionVariables.set("orderId", order.id);
            """,
        ),
    )
    cart_emptied = request(
        "The cart was emptied by the order",
        "GET",
        "/cart",
        token="customerToken",
        tests=status(200) + "\n" + test("no lines", "pm.expect(pm.response.json().items).to.eql([]);"),
    )
    replay = request(
        "The same request again (same key) → the first answer, replayed",
        "POST",
        "/orders",
        token="customerToken",
        headers={"Idempotency-Key": "{{orderKey}}"},
        raw=order_body,
        tests=status(201)
        + "\n"
        + test(
            "Idempotent-Replayed and the same order",
            """
            pm.expect(pm.response.headers.get("Idempotent-Replayed")).to.eql("true");
            pm.expect(String(pm.response.json().id)).to.eql(pm.collectionVariables.get("orderId"));
            """,
        ),
    )
    replay_other_body = request(
        "The same key with another body → 409",
        "POST",
        "/orders",
        token="customerToken",
        headers={"Idempotency-Key": "{{orderKey}}"},
        json_body={"items": [{"book_id": "{{=cartBookId}}", "quantity": 1}]},
        tests=problem(409),
    )
    too_many = request(
        "Order 1000 copies of one line → 400",
        "POST",
        "/orders",
        token="customerToken",
        json_body={"items": [{"book_id": "{{=cartBookId}}", "quantity": 1000}]},
        tests=problem(400, "items"),
    )
    short = request(
        "Order more than the stock → 409, nothing ordered",
        "POST",
        "/orders",
        token="customerToken",
        json_body={"items": [{"book_id": "{{=cartBookId}}", "quantity": 50}]},
        tests=problem(409)
        + "\n"
        + test(
            "shortages name the book, 2 copies left",
            """
            const p = pm.response.json();
            pm.expect(p.type).to.eql("/problems/insufficient-stock");
            pm.expect(String(p.shortages[0].book_id)).to.eql(pm.collectionVariables.get("cartBookId"));
            pm.expect(p.shortages[0].requested).to.eql(50);
            pm.expect(p.shortages[0].available).to.eql(2);
            pm.expect(p.shortages[0].title).to.be.a("string");
            pm.expect(p.detail).to.include("has only 2 copies left (you asked for 50 copies)");
            """,
        ),
    )
    empty_cart = request(
        "Order an empty cart → 400",
        "POST",
        "/orders",
        token="customerToken",
        raw=order_body,
        tests=problem(400, "items"),
    )
    price_field = request(
        "Order with a total of one's own → 400 (unknown field)",
        "POST",
        "/orders",
        token="customerToken",
        json_body={"items": [{"book_id": "{{=cartBookId}}", "quantity": 1}], "total": "0.01"},
        tests=problem(400, "total"),
    )
    my_orders = request(
        "My orders, newest first",
        "GET",
        "/orders",
        token="customerToken",
        tests=status(200)
        + "\n"
        + envelope()
        + "\n"
        + test(
            "the new order first, only my orders",
            """
            const body = pm.response.json();
            pm.expect(String(body.items[0].id)).to.eql(pm.collectionVariables.get("orderId"));
            const mine = pm.collectionVariables.get("customerCustomerId");
            body.items.forEach(function (o) { pm.expect(String(o.customer_id)).to.eql(mine); });
            """,
        ),
    )
    get_order = request(
        "The order",
        "GET",
        "/orders/{{orderId}}",
        token="customerToken",
        tests=status(200)
        + "\n"
        + test(
            "all its fields",
            """
            const order = pm.response.json();
            pm.expect(order).to.include.keys("id", "customer_id", "status", "items", "total", "shipping_address",
                "created_at", "expected_delivery_date", "status_history");
            pm.expect(String(order.id)).to.eql(pm.collectionVariables.get("orderId"));
            """,
        ),
    )
    tracking = request(
        "Track the order",
        "GET",
        "/orders/{{orderId}}/tracking",
        token="customerToken",
        tests=status(200)
        + "\n"
        + test(
            "status, dates and history",
            """
            const t = pm.response.json();
            pm.expect(t).to.have.all.keys("order_id", "status", "placed_at", "expected_delivery_date", "history", "steps");
            pm.expect(String(t.order_id)).to.eql(pm.collectionVariables.get("orderId"));
            pm.expect(t.status).to.eql("pending");
            pm.expect(t.history[0].status).to.eql("pending");
            pm.expect(t.steps).to.eql(["pending", "paid", "shipped", "delivered"]);
            """,
        ),
    )
    other_customer = request(
        "Someone else's order → 404",
        "GET",
        "/orders/{{orderId}}",
        token="firstToken",
        tests=problem(404),
        description="firstToken is the customer registered in Auth & Accounts (a session that was not logged out).",
    )
    anonymous = request("An order without a token → 401", "GET", "/orders/{{orderId}}", tests=unauthorized())
    pay = request(
        "Mark it paid (admin)",
        "PATCH",
        "/orders/{{orderId}}/status",
        token="adminToken",
        json_body={"status": "paid"},
        tests=status(200)
        + "\n"
        + test(
            "paid, with history",
            """
            const order = pm.response.json();
            pm.expect(order.status).to.eql("paid");
            pm.expect(order.status_history.map(function (h) { return h.status; })).to.eql(["pending", "paid"]);
            """,
        ),
    )
    back_to_pending = request(
        "Back to pending → 409 (illegal transition)",
        "PATCH",
        "/orders/{{orderId}}/status",
        token="adminToken",
        json_body={"status": "pending"},
        tests=problem(409)
        + "\n"
        + test(
            "illegal-status-transition",
            'pm.expect(pm.response.json().type).to.eql("/problems/illegal-status-transition");',
        ),
    )
    customer_status = request(
        "A customer changing the status → 403",
        "PATCH",
        "/orders/{{orderId}}/status",
        token="customerToken",
        json_body={"status": "shipped"},
        tests=problem(403),
    )
    bad_status = request(
        "An unknown status → 400",
        "PATCH",
        "/orders/{{orderId}}/status",
        token="adminToken",
        json_body={"status": "lost"},
        tests=problem(400, "status"),
    )
    ship = request(
        "Ship it (admin)",
        "PATCH",
        "/orders/{{orderId}}/status",
        token="adminToken",
        json_body={"status": "shipped"},
        tests=status(200)
        + "\n"
        + test(
            "shipped; delivery expected SHIPPING_DAYS after today",
            f"""
            const order = pm.response.json();
            pm.expect(order.status).to.eql("shipped");
            pm.expect(order.expected_delivery_date).to.eql({today_plus("shippingDays")});
            """,
        ),
    )
    cancel_shipped = request(
        "Cancel a shipped order → 409",
        "POST",
        "/orders/{{orderId}}/cancel",
        token="customerToken",
        tests=problem(409)
        + "\n"
        + test(
            "illegal-status-transition, in words",
            """
            const p = pm.response.json();
            pm.expect(p.type).to.eql("/problems/illegal-status-transition");
            pm.expect(p.detail).to.eql("Order " + pm.collectionVariables.get("orderId") +
                " is shipped; it can only become delivered.");
            """,
        ),
    )
    purchase = request(
        "One-click purchase",
        "POST",
        "/customers/{{customerCustomerId}}/purchase",
        token="customerToken",
        json_body={"book_id": "{{=cartBookId}}", "quantity": 1, "shipping_address": "1 Postman Street, Testville"},
        tests=status(201)
        + "\n"
        + location("/orders/\\d+")
        + "\n"
        + test(
            "a pending order for one copy, id stored",
            """
            const order = pm.response.json();
            pm.expect(order.status).to.eql("pending");
            pm.expect(order.total).to.eql("10.00");
            pm.expect(order.shipping_address).to.eql("1 Postman Street, Testville");
            pm.collectionVariables.set("purchaseOrderId", order.id);
            """,
        ),
    )
    forget_address = request(
        "Remove my default address (PATCH /me, null)",
        "PATCH",
        "/me",
        token="customerToken",
        json_body={"default_address": None},
        tests=status(200)
        + "\n"
        + test("none saved", "pm.expect(pm.response.json().customer.default_address).to.eql(null);"),
    )
    purchase_nowhere = request(
        "One-click purchase with a blank address and none saved → 400 naming shipping_address",
        "POST",
        "/customers/{{customerCustomerId}}/purchase",
        token="customerToken",
        json_body={"book_id": "{{=cartBookId}}", "shipping_address": "  "},
        tests=problem(400, "shipping_address"),
    )
    restore_address = request(
        "Save my default address again",
        "PATCH",
        "/me",
        token="customerToken",
        json_body={"default_address": ADA_ADDRESS},
        tests=status(200),
    )
    purchase_other = request(
        "One-click purchase for someone else → 404",
        "POST",
        "/customers/{{newCustomerId}}/purchase",
        token="customerToken",
        json_body={"book_id": "{{=cartBookId}}"},
        tests=problem(404),
    )
    stock_after = request(
        "The stock after two orders",
        "GET",
        "/books/{{cartBookId}}",
        tests=status(200) + "\n" + test("3 - 2 = 1 copy left", "pm.expect(pm.response.json().stock).to.eql(1);"),
    )
    cancel = request(
        "Cancel the purchase",
        "POST",
        "/orders/{{purchaseOrderId}}/cancel",
        token="customerToken",
        tests=status(200)
        + "\n"
        + test(
            "cancelled, with history",
            """
            const order = pm.response.json();
            pm.expect(order.status).to.eql("cancelled");
            pm.expect(order.status_history.map(function (h) { return h.status; })).to.eql(["pending", "cancelled"]);
            """,
        ),
    )
    stock_back = request(
        "The stock is given back",
        "GET",
        "/books/{{cartBookId}}",
        tests=status(200) + "\n" + test("2 copies again", "pm.expect(pm.response.json().stock).to.eql(2);"),
    )
    cancel_again = request(
        "Cancel it again (DELETE) → 409",
        "DELETE",
        "/orders/{{purchaseOrderId}}",
        token="customerToken",
        tests=problem(409)
        + "\n"
        + test(
            "already cancelled",
            """
            const id = pm.collectionVariables.get("purchaseOrderId");
            pm.expect(pm.response.json().detail).to.eql("Order " + id + " is already cancelled.");
            """,
        ),
    )
    history = request(
        "Purchase history on the customer record",
        "GET",
        "/customers/{{customerCustomerId}}",
        token="customerToken",
        tests=status(200)
        + "\n"
        + test(
            "the shipped order is there, the cancelled one is not",
            """
            const h = pm.response.json().purchase_history;
            pm.expect(h).to.be.an("array");
            const orderId = Number(pm.collectionVariables.get("orderId"));
            const cancelled = Number(pm.collectionVariables.get("purchaseOrderId"));
            const line = h.find(function (x) { return x.order_id === orderId; });
            pm.expect(line, "line of the shipped order").to.be.an("object");
            pm.expect(line).to.have.all.keys("order_id", "book_id", "title", "price", "quantity", "purchased_at");
            pm.expect(line.price).to.eql("10.00");
            pm.expect(line.quantity).to.eql(1);
            pm.expect(h.some(function (x) { return x.order_id === cancelled; })).to.eql(false);
            """,
        ),
    )
    customer_orders = request(
        "A customer's orders",
        "GET",
        "/customers/{{customerCustomerId}}/orders?per_page=5",
        token="customerToken",
        tests=status(200)
        + "\n"
        + envelope(per_page=5)
        + "\n"
        + test(
            "newest first: the cancelled purchase, then the shipped order",
            """
            const items = pm.response.json().items;
            pm.expect(String(items[0].id)).to.eql(pm.collectionVariables.get("purchaseOrderId"));
            pm.expect(String(items[1].id)).to.eql(pm.collectionVariables.get("orderId"));
            """,
        ),
    )
    admin_filter = request(
        "All shipped orders (admin)",
        "GET",
        "/orders?status=shipped&per_page=100",
        token="adminToken",
        tests=status(200)
        + "\n"
        + envelope(per_page=100)
        + "\n"
        + test(
            "only shipped orders, ours among them",
            """
            const items = pm.response.json().items;
            items.forEach(function (o) { pm.expect(o.status).to.eql("shipped"); });
            const orderId = Number(pm.collectionVariables.get("orderId"));
            pm.expect(items.some(function (o) { return o.id === orderId; })).to.eql(true);
            """,
        ),
    )
    admin_bad_filter = request(
        "Filter by an unknown status → 400",
        "GET",
        "/orders?status=lost",
        token="adminToken",
        tests=problem(400, "status"),
    )
    retire = request(
        "Delete a book that was ordered → it is retired (204)",
        "DELETE",
        "/books/{{cartBookId}}",
        token="adminToken",
        tests=no_content(),
    )
    retired_gone = request(
        "The retired book is gone from the catalogue → 404", "GET", "/books/{{cartBookId}}", tests=problem(404)
    )
    retired_in_history = request(
        "The order still shows the retired book",
        "GET",
        "/orders/{{orderId}}",
        token="customerToken",
        tests=status(200)
        + "\n"
        + test(
            "title and price frozen in the order",
            """
            const item = pm.response.json().items[0];
            pm.expect(String(item.book_id)).to.eql(pm.collectionVariables.get("cartBookId"));
            pm.expect(item.title).to.eql(pm.collectionVariables.get("cartBookTitle"));
            pm.expect(item.unit_price).to.eql("10.00");
            """,
        ),
    )
    retired_cart = request(
        "A retired book cannot go in the cart → 404",
        "POST",
        "/cart",
        token="customerToken",
        json_body={"book_id": "{{=cartBookId}}"},
        tests=problem(404),
    )
    retired_order = request(
        "Ordering a retired book → 409, available 0",
        "POST",
        "/orders",
        token="customerToken",
        json_body={"items": [{"book_id": "{{=cartBookId}}", "quantity": 1}]},
        tests=problem(409)
        + "\n"
        + test(
            "short with available 0",
            """
            const p = pm.response.json();
            pm.expect(p.type).to.eql("/problems/insufficient-stock");
            pm.expect(p.shortages[0].available).to.eql(0);
            """,
        ),
    )
    return folder(
        "Order Management",
        "Placing orders from the cart and from items (to the saved default address), Idempotency-Key replays, "
        "stock shortages, "
        "tracking, the status flow (admin), one-click purchase, cancellation, purchase history, and "
        "retiring an ordered book. Uses the book the Cart folder created.",
        [
            save_my_address,
            fill_cart,
            place,
            cart_emptied,
            replay,
            replay_other_body,
            too_many,
            short,
            empty_cart,
            price_field,
            my_orders,
            get_order,
            tracking,
            other_customer,
            anonymous,
            pay,
            back_to_pending,
            customer_status,
            bad_status,
            ship,
            cancel_shipped,
            purchase,
            forget_address,
            purchase_nowhere,
            restore_address,
            purchase_other,
            stock_after,
            cancel,
            stock_back,
            cancel_again,
            history,
            customer_orders,
            admin_filter,
            admin_bad_filter,
            retire,
            retired_gone,
            retired_in_history,
            retired_cart,
            retired_order,
        ],
    )
