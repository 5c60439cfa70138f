"""Back office: the order's next statuses and its embedded buyer, customers with their account and
order totals, a book's stock history, report charts drawn for a width."""

from __future__ import annotations

from folders.common import folder, problem, request, status, test


def backoffice_folder() -> dict:
    items: list[dict] = []
    add = items.append
    today = "new Date().toISOString().slice(0, 10)"
    add(
        request(
            "Orders oldest first, with their buyer (admin)",
            "GET",
            "/orders?sort=oldest&embed=customer&per_page=5",
            token="adminToken",
            tests=status(200)
            + "\n"
            + test(
                "each order has its buyer and its next statuses; oldest first",
                """
                const items = pm.response.json().items;
                pm.expect(items.length).to.be.above(0);
                items.forEach(function (o) {
                    pm.expect(o).to.have.property("next_statuses");
                    pm.expect(o.next_statuses).to.be.an("array");
                    if (o.customer !== null) {
                        pm.expect(o.customer).to.have.all.keys("id", "name", "email");
                        pm.expect(o.customer.id).to.eql(o.customer_id);
                    }
                });
                for (let i = 1; i < items.length; i++) {
                    pm.expect(items[i].created_at >= items[i - 1].created_at).to.be.true;
                }
                """,
            ),
        )
    )
    add(
        request(
            "One order with its buyer (admin)",
            "GET",
            "/orders/{{orderId}}?embed=customer",
            token="adminToken",
            tests=status(200)
            + "\n"
            + test(
                "the buyer is the demo customer; a finished order has no next status",
                """
                const o = pm.response.json();
                pm.expect(String(o.customer.id)).to.eql(pm.collectionVariables.get("customerCustomerId"));
                const flow = {pending: ["paid", "cancelled"], paid: ["shipped", "cancelled"], shipped: ["delivered"],
                              delivered: [], cancelled: []};
                pm.expect(o.next_statuses).to.eql(flow[o.status]);
                """,
            ),
        )
    )
    add(
        request(
            "Orders found by the buyer's email (admin)",
            "GET",
            "/orders?q={{customerEmail}}&embed=customer",
            token="adminToken",
            tests=status(200)
            + "\n"
            + test(
                "only the demo customer's orders",
                """
                const items = pm.response.json().items;
                pm.expect(items.length).to.be.above(0);
                items.forEach(function (o) {
                    pm.expect(String(o.customer_id)).to.eql(pm.collectionVariables.get("customerCustomerId"));
                    pm.expect(o.customer.email).to.eql(pm.collectionVariables.get("customerEmail"));
                });
                """,
            ),
        )
    )
    add(
        request(
            "An unknown embed is refused",
            "GET",
            "/orders?embed=everything",
            token="adminToken",
            tests=problem(400, "embed"),
        )
    )
    add(
        request(
            "A customer with account and order totals (admin)",
            "GET",
            "/customers/{{customerCustomerId}}",
            token="adminToken",
            tests=status(200)
            + "\n"
            + test(
                "the account and the totals",
                """
                const c = pm.response.json();
                pm.expect(c.account.customer_id).to.eql(c.id);
                pm.expect(c.order_totals).to.have.all.keys("orders", "cancelled", "spent");
                pm.expect(c.order_totals.orders).to.be.at.least(c.order_totals.cancelled);
                pm.expect(c.order_totals.spent).to.match(/^\\d+\\.\\d\\d$/);
                """,
            ),
        )
    )
    add(
        request(
            "Add a book for the stock history (admin)",
            "POST",
            "/books",
            token="adminToken",
            json_body={"title": "Back Office Ledger", "author": "Postman", "price": "4.50", "stock": 2},
            tests=status(201)
            + "\n"
            + test(
                "created with 2 copies",
                """
                const book = pm.response.json();
                pm.expect(book.stock).to.eql(2);
                pm.collectionVariables.set("ledgerBookId", book.id);
                """,
            ),
        )
    )
    add(
        request(
            "Restock it (admin)",
            "POST",
            "/books/{{ledgerBookId}}/restock",
            token="adminToken",
            json_body={"quantity": 3},
            tests=status(200) + "\n" + test("5 copies", "pm.expect(pm.response.json().stock).to.eql(5);"),
        )
    )
    add(
        request(
            "Its stock history (admin)",
            "GET",
            "/books/{{ledgerBookId}}/stock-history",
            token="adminToken",
            tests=status(200)
            + "\n"
            + test(
                "today: 5 copies added, two movements newest first",
                f"""
                const h = pm.response.json();
                pm.expect(h.days).to.have.lengthOf(30);
                const last = h.days[h.days.length - 1];
                pm.expect(last.day).to.eql({today});
                pm.expect(last.added).to.eql(5);
                pm.expect(h.totals).to.eql({{added: 5, removed: 0, sold: 0}});
                pm.expect(h.movements.map(function (m) {{ return m.reason; }})).to.eql(["restock", "created"]);
                pm.expect(h.movements[0].stock_after).to.eql(5);
                """,
            ),
        )
    )
    add(
        request(
            "A stock history over too long a range is refused",
            "GET",
            "/books/{{ledgerBookId}}/stock-history?from=2024-01-01&to=2025-06-30",
            token="adminToken",
            tests=problem(400, "to"),
        )
    )
    add(
        request(
            "Remove the book again (admin)",
            "DELETE",
            "/books/{{ledgerBookId}}",
            token="adminToken",
            tests=status(204),
        )
    )
    add(
        request(
            "Sales chart for a phone: 360 CSS pixels at scale 2",
            "GET",
            "/reports/sales?format=png&width=360&scale=2",
            token="adminToken",
            tests=status(200)
            + "\n"
            + test(
                "a PNG 720 pixels wide",
                """
                pm.expect(pm.response.headers.get("Content-Type")).to.include("image/png");
                const png = pm.response.stream;
                pm.expect(png.readUInt32BE(16)).to.eql(720);
                """,
            ),
        )
    )
    add(
        request(
            "A chart width out of bounds is refused",
            "GET",
            "/reports/sales?format=png&width=100",
            token="adminToken",
            tests=problem(400, "width"),
        )
    )
    return folder(
        "Back office",
        "What the admin pages read: next statuses and buyers of orders, customers with account and "
        "order totals, a book's stock history, charts drawn for a width.",
        items,
    )
