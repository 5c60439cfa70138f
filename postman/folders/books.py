"""Book Management: browse, search, sort, cursors, admin writes, stock and restock."""

from __future__ import annotations

from folders.common import folder, fresh, js, location, no_content, problem, request, status, test, unauthorized

ISBN13_PRE_REQUEST = js(
    """
    // A fresh, valid ISBN-13 (979 + 9 random digits + check digit), so the collection can run again.
    let digits = "979";
    for (let i = 0; i < 9; i++) { digits += Math.floor(Math.random() * 10); }
    let sum = 0;
    for (let i = 0; i < 12; i++) { sum += Number(digits[i]) * (i % 2 ? 3 : 1); }
    const isbn = digits + ((10 - (sum % 10)) % 10);
    pm.collectionVariables.set("bookIsbn", isbn);
    pm.collectionVariables.set("bookIsbnHyphenated", isbn.slice(0, 3) + "-" + isbn.slice(3, 4) + "-" +
        isbn.slice(4, 8) + "-" + isbn.slice(8, 12) + "-" + isbn.slice(12));
    """
)


def _every_item(check: str, *, nonempty: bool = True) -> str:
    """A test body: `check` (JS using `b`) holds for every item of the page (and there is one)."""
    guard = "pm.expect(items.length, 'items').to.be.above(0);\n" if nonempty else ""
    return f"""
    const items = pm.response.json().items;
    {guard}items.forEach(function (b) {{ {check} }});
    """


def _ordered(key: str, descending: bool = False) -> str:
    op = ">=" if descending else "<="
    return f"""
    const items = pm.response.json().items;
    const key = function (x) {{ return {key}; }};
    pm.expect(items.length).to.be.above(1);
    for (let i = 1; i < items.length; i++) {{
        pm.expect(key(items[i - 1]) {op} key(items[i]), "item " + i + " in order").to.eql(true);
    }}
    """


def books_folder() -> dict:
    items: list[dict] = []
    add = items.append
    book_body = {"title": "Nope", "author": "Nobody", "price": "1.00"}

    # --- public browse and search
    add(
        request(
            "Browse the catalogue (public)",
            "GET",
            "/books",
            tests=status(200)
            + "\n"
            + test(
                "the first page of 20, every book in full, with next_cursor and a Link header",
                """
                const body = pm.response.json();
                pm.expect(body).to.include.all.keys("items", "page", "per_page", "total", "pages", "next_cursor");
                pm.expect(body.page).to.eql(1);
                pm.expect(body.per_page).to.eql(20);
                pm.expect(body.total).to.be.a("number");
                pm.expect(body.pages).to.eql(Math.ceil(body.total / body.per_page));
                pm.expect(body.next_cursor === null || typeof body.next_cursor === "string").to.eql(true);
                const link = pm.response.headers.get("Link");
                pm.expect(link).to.include('rel="first"');
                pm.expect(link).to.include('rel="last"');
                body.items.forEach(function (b) {
                    pm.expect(b).to.include.all.keys("id", "title", "author", "genre", "description", "isbn", "price",
                        "stock", "in_stock", "published_year", "created_at", "updated_at");
                    pm.expect(b.price).to.match(/^\\d+\\.\\d{2}$/);
                    pm.expect(b.in_stock).to.eql(b.stock > 0);
                    pm.expect(b.created_at).to.match(/Z$/);
                    pm.expect(b.updated_at).to.match(/Z$/);
                });
                pm.collectionVariables.set("booksTotal", body.total);
                """,
            )
            + "\n"
            + test("sorted by title", _ordered("x.title.toLowerCase()")),
            description="`flask seed` loads a demo catalogue of 25 books, so the lists are never empty.",
        )
    )
    add(
        request(
            "The first page of 2, keeping next_cursor",
            "GET",
            "/books?per_page=2",
            tests=status(200)
            + "\n"
            + test(
                "two books and a cursor",
                """
                const body = pm.response.json();
                pm.expect(body.items).to.have.lengthOf(2);
                pm.expect(body.next_cursor).to.be.a("string");
                pm.collectionVariables.set("booksCursor", body.next_cursor);
                pm.collectionVariables.set("booksFirstPageIds", JSON.stringify(body.items.map(function (b) { return b.id; })));
                """,
            ),
        )
    )
    add(
        request(
            "The next page by cursor",
            "GET",
            "/books?per_page=2&cursor={{booksCursor}}",
            tests=status(200)
            + "\n"
            + test(
                "page 2, none of the books of page 1",
                """
                const body = pm.response.json();
                pm.expect(body.page).to.eql(2);
                pm.expect(body.items.length).to.be.within(1, 2);
                const first = JSON.parse(pm.collectionVariables.get("booksFirstPageIds"));
                body.items.forEach(function (b) { pm.expect(first).to.not.include(b.id); });
                """,
            ),
        )
    )
    add(
        request(
            "A cursor together with page → 400",
            "GET",
            "/books?per_page=2&page=2&cursor={{booksCursor}}",
            tests=problem(400, "cursor"),
        )
    )
    add(request("A forged cursor → 400", "GET", "/books?cursor=garbage", tests=problem(400, "cursor")))
    add(
        request(
            "Search: q=austen",
            "GET",
            "/books?q=austen",
            tests=status(200)
            + "\n"
            + test(
                "every book mentions Austen",
                _every_item(
                    'pm.expect([b.title, b.author, b.description || "", b.isbn || ""].join(" ").toLowerCase())'
                    '.to.include("austen");'
                ),
            ),
        )
    )
    add(
        request(
            "Search: every word must match",
            "GET",
            "/books?q=pride%20prejudice",
            tests=status(200)
            + "\n"
            + test(
                "Pride and Prejudice is found",
                """
                const titles = pm.response.json().items.map(function (b) { return b.title; });
                pm.expect(titles).to.include("Pride and Prejudice");
                """,
            ),
        )
    )
    add(
        request(
            "Search: % is a literal character, not a wildcard",
            "GET",
            "/books?q=%25",
            tests=status(200)
            + "\n"
            + test(
                "fewer books than the whole catalogue",
                'pm.expect(pm.response.json().total).to.be.below(Number(pm.collectionVariables.get("booksTotal")));',
            ),
        )
    )
    add(
        request(
            "Search: operators are plain text (no 500)",
            "GET",
            "/books?q=%2Bpride%20-austen%20%22",
            tests=status(200) + "\n" + test("a list", 'pm.expect(pm.response.json().items).to.be.an("array");'),
        )
    )
    add(
        request(
            "Filter by genre (any case)",
            "GET",
            "/books?genre=romance",
            tests=status(200)
            + "\n"
            + test("every book is Romance", _every_item('pm.expect(b.genre.toLowerCase()).to.eql("romance");')),
        )
    )
    add(
        request(
            "Filter by author (substring, any case)",
            "GET",
            "/books?author=BRONT",
            tests=status(200)
            + "\n"
            + test(
                "every author contains 'bront'",
                _every_item('pm.expect(b.author.toLowerCase()).to.include("bront");'),
            ),
        )
    )
    add(
        request(
            "Filter by price range",
            "GET",
            "/books?min_price=5&max_price=10&per_page=100",
            tests=status(200)
            + "\n"
            + test("every price within 5–10", _every_item("pm.expect(parseFloat(b.price)).to.be.within(5, 10);")),
        )
    )
    add(
        request(
            "Filter: in stock",
            "GET",
            "/books?in_stock=true&per_page=100",
            tests=status(200) + "\n" + test("every book in stock", _every_item("pm.expect(b.in_stock).to.eql(true);")),
        )
    )
    add(
        request(
            "Filter: sold out",
            "GET",
            "/books?in_stock=false&per_page=100",
            tests=status(200)
            + "\n"
            + test(
                "every book has stock 0",
                _every_item("pm.expect(b.stock).to.eql(0);", nonempty=False),
            ),
        )
    )
    add(
        request(
            "Sort by price, descending",
            "GET",
            "/books?sort=-price&per_page=100",
            tests=status(200) + "\n" + test("prices never go up", _ordered("parseFloat(x.price)", descending=True)),
        )
    )
    add(
        request(
            "Sort by price, ascending",
            "GET",
            "/books?sort=price&per_page=100",
            tests=status(200) + "\n" + test("prices never go down", _ordered("parseFloat(x.price)")),
        )
    )
    for sort in ("-popularity", "created_at", "author"):
        add(
            request(
                f"Sort by {sort}",
                "GET",
                f"/books?sort={sort}",
                tests=status(200)
                + "\n"
                + test("a page of books", "pm.expect(pm.response.json().items.length).to.be.above(0);"),
            )
        )
    for name, query, field in (
        ("an unknown sort", "sort=bogus", "sort"),
        ("per_page=101", "per_page=101", "per_page"),
        ("per_page=0", "per_page=0", "per_page"),
        ("page=0", "page=0", "page"),
        ("a negative min_price", "min_price=-1", "min_price"),
        ("min_price above max_price", "min_price=20&max_price=10", "max_price"),
        ("in_stock=maybe", "in_stock=maybe", "in_stock"),
        ("min_price past any number (1e999999999)", "min_price=1e999999999", "min_price"),
        ("page in Arabic-Indic digits", "page=%D9%A1%D9%A2", "page"),
        ("a control character in q", "q=dune%1B", "q"),
    ):
        add(request(f"Bad parameter: {name} → 400", "GET", f"/books?{query}", tests=problem(400, field)))
    add(
        request(
            "A page past the end → empty, not 404",
            "GET",
            "/books?page=9999",
            tests=status(200)
            + "\n"
            + test(
                "no items, the same total",
                """
                const body = pm.response.json();
                pm.expect(body.items).to.eql([]);
                pm.expect(body.next_cursor).to.eql(null);
                pm.expect(String(body.total)).to.eql(pm.collectionVariables.get("booksTotal"));
                """,
            ),
        )
    )

    # --- admin create, read, update
    add(request("Create a book — no token → 401", "POST", "/books", json_body=book_body, tests=unauthorized()))
    add(
        request(
            "Create a book — a customer → 403",
            "POST",
            "/books",
            token="customerToken",
            json_body=book_body,
            tests=problem(403),
        )
    )
    add(
        request(
            "Create a book (admin)",
            "POST",
            "/books",
            token="adminToken",
            prerequest=fresh(("bookTitle", '"Postman Handbook " + suffix'), ("bookWord", "suffix"))
            + ISBN13_PRE_REQUEST,
            json_body={
                "title": "{{bookTitle}}",
                "author": "Pat Postman",
                "price": 12.5,
                "stock": 3,
                "genre": "Testing",
                "description": "How to test a REST API from end to end.",
                "isbn": "{{bookIsbnHyphenated}}",
                "published_year": 2024,
            },
            tests=status(201)
            + "\n"
            + location("/books/\\d+")
            + "\n"
            + test(
                "money as a string, the ISBN normalised, id stored",
                """
                const book = pm.response.json();
                pm.expect(book.title).to.eql(pm.collectionVariables.get("bookTitle"));
                pm.expect(book.price).to.eql("12.50");
                pm.expect(book.stock).to.eql(3);
                pm.expect(book.in_stock).to.eql(true);
                pm.expect(book.isbn).to.eql(pm.collectionVariables.get("bookIsbn"));
                pm.expect(book.published_year).to.eql(2024);
                pm.expect(book.created_at).to.match(/Z$/);
                pm.collectionVariables.set("bookId", book.id);
                pm.collectionVariables.set("bookJson", JSON.stringify(book));
                """,
            ),
        )
    )
    add(
        request(
            "Get the book (public)",
            "GET",
            "/books/{{bookId}}",
            tests=status(200)
            + "\n"
            + test(
                "the same as the create answer",
                'pm.expect(pm.response.json()).to.eql(JSON.parse(pm.collectionVariables.get("bookJson")));',
            ),
        )
    )
    add(
        request(
            "Create a book — ISBN already in the catalogue → 409",
            "POST",
            "/books",
            token="adminToken",
            json_body={**book_body, "isbn": "{{bookIsbn}}"},
            tests=problem(409, "isbn"),
        )
    )
    for name, body, fields in (
        ("more than two decimals", {**book_body, "price": "1.005"}, ("price",)),
        ("price 0", {**book_body, "price": 0}, ("price",)),
        ("a bad ISBN check digit", {**book_body, "isbn": "9780306406158"}, ("isbn",)),
        ("negative stock, stock as a string", {**book_body, "stock": -1, "published_year": "1965"},
         ("stock", "published_year")),
        ("units_sold (unknown field)", {**book_body, "units_sold": 5}, ("units_sold",)),
        ("no title, no author", {"price": "1.00"}, ("title", "author")),
    ):  # fmt: skip
        add(
            request(
                f"Create a book — {name} → 400",
                "POST",
                "/books",
                token="adminToken",
                json_body=body,
                tests=problem(400, *fields),
            )
        )
    add(
        request(
            "Create a book — a body that is not JSON → 415",
            "POST",
            "/books",
            token="adminToken",
            raw="title=Dune&author=Frank Herbert&price=9.50",
            content_type="text/plain",
            tests=problem(415),
        )
    )
    add(
        request(
            "Search: the new book by two of its words",
            "GET",
            "/books?q=postman {{bookWord}}",
            tests=status(200)
            + "\n"
            + test(
                "exactly the new book",
                """
                const body = pm.response.json();
                pm.expect(body.total).to.eql(1);
                pm.expect(String(body.items[0].id)).to.eql(pm.collectionVariables.get("bookId"));
                """,
            ),
        )
    )
    add(
        request(
            "Search: by the hyphenated ISBN",
            "GET",
            "/books?q={{bookIsbnHyphenated}}",
            tests=status(200)
            + "\n"
            + test(
                "the new book",
                'pm.expect(String(pm.response.json().items[0].id)).to.eql(pm.collectionVariables.get("bookId"));',
            ),
        )
    )
    add(
        request(
            "Search: _ is literal too",
            "GET",
            "/books?q=_{{bookWord}}",
            tests=status(200) + "\n" + test("nothing matches", "pm.expect(pm.response.json().total).to.eql(0);"),
        )
    )
    add(
        request(
            "Change the price (PATCH, admin)",
            "PATCH",
            "/books/{{bookId}}",
            token="adminToken",
            json_body={"price": "11.00"},
            tests=status(200)
            + "\n"
            + test(
                "the price changed, the rest kept",
                """
                const book = pm.response.json();
                pm.expect(book.price).to.eql("11.00");
                pm.expect(book.title).to.eql(pm.collectionVariables.get("bookTitle"));
                pm.expect(book.genre).to.eql("Testing");
                pm.expect(book.isbn).to.eql(pm.collectionVariables.get("bookIsbn"));
                """,
            ),
        )
    )
    add(
        request(
            "PATCH title to null → 400",
            "PATCH",
            "/books/{{bookId}}",
            token="adminToken",
            json_body={"title": None},
            tests=problem(400, "title"),
        )
    )
    add(
        request(
            "Replace the book (PUT): omitted optional fields cleared, stock kept",
            "PUT",
            "/books/{{bookId}}",
            token="adminToken",
            json_body={"title": "{{bookTitle}}", "author": "Pat Postman", "price": "12.00"},
            tests=status(200)
            + "\n"
            + test(
                "replaced",
                """
                const book = pm.response.json();
                pm.expect(book.price).to.eql("12.00");
                pm.expect(book.genre).to.eql(null);
                pm.expect(book.description).to.eql(null);
                pm.expect(book.isbn).to.eql(null);
                pm.expect(book.published_year).to.eql(null);
                pm.expect(book.stock).to.eql(3);
                """,
            ),
        )
    )
    add(
        request(
            "Replace the book without author and price → 400",
            "PUT",
            "/books/{{bookId}}",
            token="adminToken",
            json_body={"title": "{{bookTitle}}"},
            tests=problem(400, "author", "price"),
        )
    )
    for method, body in (("PUT", {**book_body}), ("PATCH", {"price": "0.01"}), ("DELETE", None)):
        add(
            request(
                f"{method} a book — a customer → 403",
                method,
                "/books/{{bookId}}",
                token="customerToken",
                json_body=body,
                tests=problem(403),
            )
        )
        add(
            request(
                f"{method} a book — no token → 401",
                method,
                "/books/{{bookId}}",
                json_body=body,
                tests=unauthorized(),
            )
        )

    # --- stock
    add(
        request(
            "Set the stock to 0 (admin)",
            "PUT",
            "/books/{{bookId}}/stock",
            token="adminToken",
            json_body={"stock": 0},
            tests=status(200)
            + "\n"
            + test(
                "sold out",
                """
                const book = pm.response.json();
                pm.expect(book.stock).to.eql(0);
                pm.expect(book.in_stock).to.eql(false);
                """,
            ),
        )
    )
    add(
        request(
            "Set the stock to -1 → 400",
            "PUT",
            "/books/{{bookId}}/stock",
            token="adminToken",
            json_body={"stock": -1},
            tests=problem(400, "stock"),
        )
    )
    add(
        request(
            "The stock is unchanged by the refused request",
            "GET",
            "/books/{{bookId}}",
            tests=status(200) + "\n" + test("still 0", "pm.expect(pm.response.json().stock).to.eql(0);"),
        )
    )
    for quantity, expected in ((5, 5), (2, 7)):
        add(
            request(
                f"Restock {quantity} copies (admin)",
                "POST",
                "/books/{{bookId}}/restock",
                token="adminToken",
                json_body={"quantity": quantity},
                tests=status(200)
                + "\n"
                + test(
                    f"stock {expected}",
                    f"""
                    const book = pm.response.json();
                    pm.expect(book.stock).to.eql({expected});
                    pm.expect(book.in_stock).to.eql(true);
                    """,
                ),
            )
        )
    add(
        request(
            "Restock 0 copies → 400",
            "POST",
            "/books/{{bookId}}/restock",
            token="adminToken",
            json_body={"quantity": 0},
            tests=problem(400, "quantity"),
        )
    )
    add(
        request(
            'Restock "2" (a string) → 400',
            "POST",
            "/books/{{bookId}}/restock",
            token="adminToken",
            json_body={"quantity": "2"},
            tests=problem(400, "quantity"),
        )
    )
    for name, method, path, body in (
        ("Set the stock", "PUT", "/books/{{bookId}}/stock", {"stock": 100}),
        ("Restock", "POST", "/books/{{bookId}}/restock", {"quantity": 1}),
    ):
        add(request(f"{name} — a customer → 403", method, path, token="customerToken", json_body=body,
                    tests=problem(403)))  # fmt: skip
        add(request(f"{name} — no token → 401", method, path, json_body=body, tests=unauthorized()))
    add(
        request(
            "Set the stock of an unknown book → 404",
            "PUT",
            "/books/99999999/stock",
            token="adminToken",
            json_body={"stock": 1},
            tests=problem(404),
        )
    )

    # --- delete and retire
    add(
        request(
            "Delete a book never ordered (admin)",
            "DELETE",
            "/books/{{bookId}}",
            token="adminToken",
            tests=no_content(),
        )
    )
    add(request("The deleted book → 404", "GET", "/books/{{bookId}}", tests=problem(404)))
    add(request("Delete it again → 404", "DELETE", "/books/{{bookId}}", token="adminToken", tests=problem(404)))
    add(
        request(
            "Create a book to retire (admin)",
            "POST",
            "/books",
            token="adminToken",
            prerequest=fresh(("retireTitle", '"Postman Retiree " + suffix')),
            json_body={"title": "{{retireTitle}}", "author": "Pat Postman", "price": "5.00", "stock": 2},
            tests=status(201)
            + "\n"
            + test("id stored", 'pm.collectionVariables.set("retireId", pm.response.json().id);'),
        )
    )
    add(
        request(
            "Put it in the customer's cart",
            "POST",
            "/cart",
            token="customerToken",
            json_body={"book_id": "{{=retireId}}"},
            tests=status(200)
            + "\n"
            + test(
                "the line is there",
                """
                const id = Number(pm.collectionVariables.get("retireId"));
                pm.expect(pm.response.json().items.some(function (l) { return l.book_id === id; })).to.eql(true);
                """,
            ),
        )
    )
    add(
        request(
            "Delete it: it sits in a cart, so it is retired (204)",
            "DELETE",
            "/books/{{retireId}}",
            token="adminToken",
            tests=no_content(),
        )
    )
    add(request("The retired book → 404", "GET", "/books/{{retireId}}", tests=problem(404)))
    add(
        request(
            "The retired book left the cart",
            "GET",
            "/cart",
            token="customerToken",
            tests=status(200)
            + "\n"
            + test(
                "no line for it",
                """
                const id = Number(pm.collectionVariables.get("retireId"));
                pm.expect(pm.response.json().items.some(function (l) { return l.book_id === id; })).to.eql(false);
                """,
            ),
        )
    )
    add(
        request(
            "The retired book is not in search results",
            "GET",
            "/books?q={{retireTitle}}",
            tests=status(200)
            + "\n"
            + test(
                "not listed",
                """
                const id = Number(pm.collectionVariables.get("retireId"));
                pm.expect(pm.response.json().items.some(function (b) { return b.id === id; })).to.eql(false);
                """,
            ),
        )
    )
    add(
        request(
            "A retired book cannot go in the cart → 404",
            "POST",
            "/cart",
            token="customerToken",
            json_body={"book_id": "{{=retireId}}"},
            tests=problem(404),
        )
    )
    add(request("An unknown book → 404", "GET", "/books/99999999", tests=problem(404)))
    return folder(
        "Book Management",
        "The catalogue: public browse, search, filters, sorting and cursor paging; admin create, "
        "replace, update, stock, restock, delete and retire, with the failure cases.",
        items,
    )
