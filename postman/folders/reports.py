"""Reports: sales, popular books and inventory as JSON, CSV and PNG."""

from __future__ import annotations

from folders.common import folder, problem, request, status, test, unauthorized


def reports_folder() -> dict:
    items: list[dict] = []
    add = items.append
    today = "new Date().toISOString().slice(0, 10)"
    add(
        request(
            "Sales by day, last 30 days (admin)",
            "GET",
            "/reports/sales",
            token="adminToken",
            tests=status(200)
            + "\n"
            + test(
                "30 daily points ending today, totals that add up",
                f"""
                const r = pm.response.json();
                pm.expect(r).to.have.all.keys("from", "to", "period", "totals", "series");
                pm.expect(r.period).to.eql("day");
                pm.expect(r.to).to.eql({today});
                pm.expect(r.series).to.have.lengthOf(30);
                pm.expect(r.series[0].period_start).to.eql(r.from);
                pm.expect(r.series[29].period_start).to.eql(r.to);
                let orders = 0, units = 0, cents = 0;
                r.series.forEach(function (p) {{
                    pm.expect(p).to.have.all.keys("period_start", "orders", "units", "revenue");
                    pm.expect(p.revenue).to.match(/^\\d+\\.\\d\\d$/);
                    orders += p.orders; units += p.units; cents += Math.round(parseFloat(p.revenue) * 100);
                }});
                pm.expect(orders).to.eql(r.totals.orders);
                pm.expect(units).to.eql(r.totals.units);
                pm.expect(cents).to.eql(Math.round(parseFloat(r.totals.revenue) * 100));
                """,
            )
            + "\n"
            + test(
                "today counts the order shipped in Order Management (not the cancelled one)",
                "pm.expect(pm.response.json().series[29].orders).to.be.at.least(1);",
            ),
        )
    )
    add(
        request(
            "Sales by month over a given range",
            "GET",
            "/reports/sales?from=2025-01-15&to=2025-03-10&period=month",
            token="adminToken",
            tests=status(200)
            + "\n"
            + test(
                "three months, each starting on the 1st",
                """
                const r = pm.response.json();
                pm.expect(r.from).to.eql("2025-01-15");
                pm.expect(r.period).to.eql("month");
                pm.expect(r.series.map(function (p) { return p.period_start; }))
                    .to.eql(["2025-01-01", "2025-02-01", "2025-03-01"]);
                """,
            ),
        )
    )
    add(
        request(
            "Sales as CSV",
            "GET",
            "/reports/sales?format=csv",
            token="adminToken",
            tests=status(200)
            + "\n"
            + test(
                "a CSV attachment with a header row and one row per day",
                """
                pm.expect(pm.response.headers.get("Content-Type")).to.include("text/csv");
                pm.expect(pm.response.headers.get("Content-Disposition")).to.match(/^attachment; filename=".+\\.csv"$/);
                const lines = pm.response.text().trim().split(/\\r?\\n/);
                pm.expect(lines[0]).to.eql("period_start,orders,units,revenue");
                pm.expect(lines).to.have.lengthOf(31);
                """,
            ),
        )
    )
    add(
        request(
            "Sales as a PNG chart",
            "GET",
            "/reports/sales?format=png&period=week",
            token="adminToken",
            tests=status(200)
            + "\n"
            + test(
                "a PNG image",
                """
                pm.expect(pm.response.headers.get("Content-Type")).to.include("image/png");
                pm.expect(pm.response.stream.slice(1, 4).toString()).to.eql("PNG");
                """,
            ),
        )
    )
    for name, query, field in (
        ("from after to", "from=2025-02-01&to=2025-01-01", "from"),
        ("a date that does not exist", "to=2025-02-30", "to"),
        ("period=year", "period=year", "period"),
        ("format=xml", "format=xml", "format"),
    ):
        add(
            request(
                f"Sales — {name} → 400",
                "GET",
                f"/reports/sales?{query}",
                token="adminToken",
                tests=problem(400, field),
            )
        )
    add(
        request(
            "Popular books (admin)",
            "GET",
            "/reports/popular-books?limit=5",
            token="adminToken",
            tests=status(200)
            + "\n"
            + test(
                "at most 5, most copies sold first",
                """
                const r = pm.response.json();
                pm.expect(r).to.have.all.keys("from", "to", "items");
                pm.expect(r.items.length).to.be.within(1, 5);
                for (let i = 0; i < r.items.length; i++) {
                    const b = r.items[i];
                    pm.expect(b).to.have.all.keys("book_id", "title", "author", "units_sold", "revenue");
                    pm.expect(b.revenue).to.match(/^\\d+\\.\\d\\d$/);
                    if (i) { pm.expect(b.units_sold).to.be.at.most(r.items[i - 1].units_sold); }
                }
                """,
            ),
        )
    )
    add(
        request(
            "Popular books — limit=101 → 400",
            "GET",
            "/reports/popular-books?limit=101",
            token="adminToken",
            tests=problem(400, "limit"),
        )
    )
    add(
        request(
            "Inventory (admin)",
            "GET",
            "/reports/inventory?low_stock_threshold=10",
            token="adminToken",
            tests=status(200)
            + "\n"
            + test(
                "totals and the two lists, each item in the right one",
                """
                const r = pm.response.json();
                pm.expect(r).to.include.all.keys("titles", "total_units", "inventory_value", "out_of_stock", "low_stock");
                pm.expect(r.titles).to.be.above(0);
                pm.expect(r.inventory_value).to.match(/^\\d+\\.\\d\\d$/);
                r.out_of_stock.forEach(function (b) {
                    pm.expect(b).to.have.all.keys("book_id", "title", "author", "stock", "shortfall");
                    pm.expect(b.stock).to.eql(0);
                });
                r.low_stock.forEach(function (b) {
                    pm.expect(b.stock).to.be.within(1, 10);
                    pm.expect(b.shortfall).to.eql(10 - b.stock);
                });
                """,
            ),
        )
    )
    add(
        request(
            "Inventory as CSV",
            "GET",
            "/reports/inventory?format=csv",
            token="adminToken",
            tests=status(200)
            + "\n"
            + test(
                "a CSV with a header row",
                """
                pm.expect(pm.response.headers.get("Content-Type")).to.include("text/csv");
                pm.expect(pm.response.text().split(/\\r?\\n/)[0]).to.eql("list,book_id,title,author,stock,shortfall");
                """,
            ),
        )
    )
    add(
        request(
            "Inventory — threshold 0 → 400",
            "GET",
            "/reports/inventory?low_stock_threshold=0",
            token="adminToken",
            tests=problem(400, "low_stock_threshold"),
        )
    )
    add(request("Reports — a customer → 403", "GET", "/reports/sales", token="customerToken", tests=problem(403)))
    add(request("Reports — no token → 401", "GET", "/reports/inventory", tests=unauthorized()))
    return folder(
        "Reports",
        "Admin reports: sales per day, week or month, popular books and inventory, as JSON, CSV and PNG; "
        "bad parameters and rights. Runs after Order Management, whose shipped order counts today.",
        items,
    )
