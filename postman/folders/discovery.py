"""Browsing: genres with counts, new arrivals, bestsellers, customers also bought."""

from __future__ import annotations

from folders.common import folder, problem, request, status, test

BOOK_KEYS = (
    '"id", "title", "author", "genre", "description", "isbn", "price", "stock", "in_stock", '
    '"published_year", "rating_average", "rating_count", "created_at", "updated_at", "cover_url", '
    '"cover_thumbnail_url"'
)


def discovery_folder() -> dict:
    items: list[dict] = []
    add = items.append
    add(
        request(
            "Genres with their counts",
            "GET",
            "/genres",
            tests=status(200)
            + "\n"
            + test(
                "genres with live books, by name in any case, within the catalogue's total",
                """
                const body = pm.response.json();
                pm.expect(body).to.have.all.keys("items", "total_books");
                pm.expect(body.items.length).to.be.above(0);
                let sum = 0;
                body.items.forEach(function (g, i) {
                    pm.expect(g).to.have.all.keys("genre", "books");
                    pm.expect(g.books).to.be.above(0);
                    if (i > 0) {
                        pm.expect(body.items[i - 1].genre.toLowerCase() < g.genre.toLowerCase()).to.eql(true);
                    }
                    sum += g.books;
                });
                pm.expect(sum).to.be.at.most(body.total_books);
                pm.collectionVariables.set("genreName", body.items[0].genre);
                pm.collectionVariables.set("genreBooks", body.items[0].books);
                """,
            ),
        )
    )
    add(
        request(
            "A genre link: the catalogue filtered by that genre",
            "GET",
            "/books?genre={{genreName}}&per_page=100",
            tests=status(200)
            + "\n"
            + test(
                "as many books as /genres counted, all of that genre",
                """
                const body = pm.response.json();
                pm.expect(body.total).to.eql(Number(pm.collectionVariables.get("genreBooks")));
                const genre = pm.collectionVariables.get("genreName").toLowerCase();
                body.items.forEach(function (b) { pm.expect(b.genre.toLowerCase()).to.eql(genre); });
                """,
            ),
        )
    )
    add(
        request(
            "New arrivals: newest added first",
            "GET",
            "/books?sort=-created_at&per_page=5",
            tests=status(200)
            + "\n"
            + test(
                "created_at never increases down the list",
                """
                const items = pm.response.json().items;
                pm.expect(items.length).to.be.above(0);
                for (let i = 1; i < items.length; i++) {
                    pm.expect(items[i - 1].created_at >= items[i].created_at).to.eql(true);
                }
                """,
            ),
        )
    )
    add(
        request(
            "Bestsellers: books sold at least once, most sold first",
            "GET",
            "/books?sold=true&sort=-popularity&per_page=5",
            tests=status(200)
            + "\n"
            + test(
                "a page of books; the first is kept for customers also bought",
                """
                const body = pm.response.json();
                pm.expect(body.items.length).to.be.above(0);
                pm.expect(body.total).to.be.at.least(body.items.length);
                pm.collectionVariables.set("bestsellerId", body.items[0].id);
                """,
            ),
            description="The demo order history of `flask seed` sells some of the books.",
        )
    )
    add(
        request(
            "Bestsellers — sold=maybe → 400",
            "GET",
            "/books?sold=maybe",
            tests=problem(400, "sold"),
        )
    )
    add(
        request(
            "Customers also bought",
            "GET",
            "/books/{{bestsellerId}}/related",
            tests=status(200)
            + "\n"
            + test(
                "up to 6 other live books, the catalogue's book document, in stock first",
                f"""
                const items = pm.response.json().items;
                const self = Number(pm.collectionVariables.get("bestsellerId"));
                pm.expect(items.length).to.be.within(1, 6);
                let seenOut = false;
                items.forEach(function (b) {{
                    pm.expect(b).to.have.all.keys({BOOK_KEYS});
                    pm.expect(b.id).to.not.eql(self);
                    if (!b.in_stock) seenOut = true;
                    else pm.expect(seenOut, "an in-stock book after an out-of-stock one").to.eql(false);
                }});
                """,
            ),
            description="Refreshed by `flask seed`, then by `flask related` or `flask rollup` (e.g. hourly).",
        )
    )
    add(
        request(
            "Customers also bought, limit=1",
            "GET",
            "/books/{{bestsellerId}}/related?limit=1",
            tests=status(200) + "\n" + test("one book", "pm.expect(pm.response.json().items).to.have.lengthOf(1);"),
        )
    )
    for value in ("0", "21", "x"):
        add(
            request(
                f"Customers also bought — limit={value} → 400",
                "GET",
                f"/books/{{{{bestsellerId}}}}/related?limit={value}",
                tests=problem(400, "limit"),
            )
        )
    add(
        request(
            "Customers also bought — unknown book → 404",
            "GET",
            "/books/999999999/related",
            tests=problem(404),
        )
    )
    return folder(
        "Browsing",
        "Genres with counts (`GET /genres`), the new arrivals (`sort=-created_at`) and bestsellers "
        "(`sold=true&sort=-popularity`) lists, and customers also bought (`GET /books/{id}/related`). "
        "Needs nothing from the other folders.",
        items,
    )
