"""Admin reports: hand-computed answers for each report and period (week and month boundaries,
an empty range, cancelled orders left out, frozen prices), CSV rows equal to the JSON rows, PNG
charts that decode, every bad parameter, and who may ask. Runs on SQLite and MariaDB."""

import csv
import io
import struct
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from app.books.models import Book
from app.extensions import db
from app.orders.models import Order, OrderItem, OrderStatusChange
from tests.conftest import assert_problem

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --- fixtures ------------------------------------------------------------------------------------


def add_book(title, price, stock=10, author="Some Author", retired=False):
    book = Book(title=title, author=author, price=Decimal(price), stock=stock, is_retired=retired)
    db.session.add(book)
    db.session.flush()
    return book


def add_order(placed: str, lines, status="delivered"):
    """An order placed at `placed` (UTC) with lines (book, quantity, frozen unit price)."""
    at = datetime.fromisoformat(placed)
    order = Order(status=status, created_at=at, updated_at=at, total=Decimal("0.00"))
    total = Decimal("0.00")
    for book, quantity, unit_price in lines:
        line_total = Decimal(unit_price) * quantity
        total += line_total
        order.items.append(
            OrderItem(
                book_id=book.id,
                title=book.title,
                unit_price=Decimal(unit_price),
                quantity=quantity,
                line_total=line_total,
            )
        )
    order.total = total
    order.status_history.append(OrderStatusChange(status=status, at=at))
    db.session.add(order)
    db.session.flush()
    return order


@pytest.fixture
def shop(app):
    """Three books and eight orders around a week boundary (Sun 5 / Mon 6 Jan 2025) and a month
    boundary (31 Jan / 1 Feb 2025); two are cancelled; one line was bought at an older price.

        #  placed (UTC)          status     lines                          counts
        8  2024-12-31 23:59:59   delivered  A×5 @10.00 = 50.00             yes
        1  2025-01-05 23:59:59   delivered  A×2 @10.00 = 20.00             yes  (Sunday)
        2  2025-01-06 00:00:00   shipped    B×1 @4.50, C×1 @25.00 = 29.50  yes  (Monday)
        3  2025-01-06 12:00:00   paid       A×1 @9.00 = 9.00               yes  (old price)
        4  2025-01-07 09:00:00   cancelled  C×3 @25.00 = 75.00             no
        5  2025-01-31 23:30:00   pending    B×4 @4.50 = 18.00              yes
        6  2025-02-01 00:10:00   delivered  A×1 @10.00, B×2 @4.50 = 19.00  yes
        7  2025-02-03 10:00:00   cancelled  C×1 @25.00                     no
    """
    a = add_book("Alpha", "10.00", stock=0, author="Ann Archer")
    b = add_book("Beta", "4.50", stock=3, author="Ben Baker")
    c = add_book("Gamma", "25.00", stock=5, author="Cy Cole")
    add_order("2024-12-31 23:59:59", [(a, 5, "10.00")])
    add_order("2025-01-05 23:59:59", [(a, 2, "10.00")])
    add_order("2025-01-06 00:00:00", [(b, 1, "4.50"), (c, 1, "25.00")], status="shipped")
    add_order("2025-01-06 12:00:00", [(a, 1, "9.00")], status="paid")
    add_order("2025-01-07 09:00:00", [(c, 3, "25.00")], status="cancelled")
    add_order("2025-01-31 23:30:00", [(b, 4, "4.50")], status="pending")
    add_order("2025-02-01 00:10:00", [(a, 1, "10.00"), (b, 2, "4.50")])
    add_order("2025-02-03 10:00:00", [(c, 1, "25.00")], status="cancelled")
    db.session.commit()
    return {"A": a.id, "B": b.id, "C": c.id}


def get(client, headers, path, **params):
    return client.get(path, query_string=params, headers=headers)


def point(day, orders, units, revenue):
    return {"period_start": day, "orders": orders, "units": units, "revenue": revenue}


def today():
    return datetime.now(UTC).date()


# --- sales ---------------------------------------------------------------------------------------


def test_sales_by_day_across_the_week_boundary(client, admin_headers, shop):
    r = get(client, admin_headers, "/reports/sales", **{"from": "2025-01-05", "to": "2025-01-07", "period": "day"})

    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {
        "from": "2025-01-05",
        "to": "2025-01-07",
        "period": "day",
        "totals": {"orders": 3, "units": 5, "revenue": "58.50"},
        "series": [
            point("2025-01-05", 1, 2, "20.00"),
            point("2025-01-06", 2, 3, "38.50"),
            point("2025-01-07", 0, 0, "0.00"),  # only a cancelled order that day
        ],
    }


def test_sales_by_day_across_the_month_boundary(client, admin_headers, shop):
    r = get(client, admin_headers, "/reports/sales", **{"from": "2025-01-31", "to": "2025-02-01"})

    body = r.get_json()
    assert body["period"] == "day"  # the default
    assert body["series"] == [point("2025-01-31", 1, 4, "18.00"), point("2025-02-01", 1, 3, "19.00")]
    assert body["totals"] == {"orders": 2, "units": 7, "revenue": "37.00"}


def test_sales_by_iso_week_start_on_monday_and_fill_empty_weeks(client, admin_headers, shop):
    r = get(client, admin_headers, "/reports/sales", **{"from": "2025-01-01", "to": "2025-02-09", "period": "week"})

    body = r.get_json()
    assert body["series"] == [
        point("2024-12-30", 1, 2, "20.00"),  # Sunday 5 Jan is in the week of Mon 30 Dec; 31 Dec is before `from`
        point("2025-01-06", 2, 3, "38.50"),  # Monday 00:00:00 starts a new week
        point("2025-01-13", 0, 0, "0.00"),
        point("2025-01-20", 0, 0, "0.00"),
        point("2025-01-27", 2, 7, "37.00"),  # one week across the month boundary
        point("2025-02-03", 0, 0, "0.00"),  # cancelled only
    ]
    assert body["totals"] == {"orders": 5, "units": 12, "revenue": "95.50"}


def test_sales_by_month(client, admin_headers, shop):
    r = get(client, admin_headers, "/reports/sales", **{"from": "2024-12-01", "to": "2025-03-31", "period": "month"})

    body = r.get_json()
    assert body["series"] == [
        point("2024-12-01", 1, 5, "50.00"),
        point("2025-01-01", 4, 9, "76.50"),
        point("2025-02-01", 1, 3, "19.00"),
        point("2025-03-01", 0, 0, "0.00"),
    ]
    assert body["totals"] == {"orders": 6, "units": 17, "revenue": "145.50"}


def test_sales_in_an_empty_range_is_all_zeros(client, admin_headers, shop):
    r = get(client, admin_headers, "/reports/sales", **{"from": "2025-03-01", "to": "2025-03-03"})

    body = r.get_json()
    assert body["totals"] == {"orders": 0, "units": 0, "revenue": "0.00"}
    assert [p["period_start"] for p in body["series"]] == ["2025-03-01", "2025-03-02", "2025-03-03"]
    assert all(p["orders"] == p["units"] == 0 and p["revenue"] == "0.00" for p in body["series"])


def test_sales_default_to_the_30_days_ending_today(client, admin_headers, shop):
    body = get(client, admin_headers, "/reports/sales").get_json()

    assert body["to"] == today().isoformat()
    assert body["from"] == (today() - timedelta(days=29)).isoformat()
    assert len(body["series"]) == 30
    assert body["series"][0]["period_start"] == body["from"]


def test_only_from_given_runs_to_today_and_only_to_given_starts_29_days_before(client, admin_headers):
    start = (today() - timedelta(days=3)).isoformat()
    body = get(client, admin_headers, "/reports/sales", **{"from": start}).get_json()
    assert (body["from"], body["to"], len(body["series"])) == (start, today().isoformat(), 4)

    body = get(client, admin_headers, "/reports/sales", to="2025-01-31").get_json()
    assert (body["from"], body["to"]) == ("2025-01-02", "2025-01-31")


def test_a_366_day_range_is_allowed_by_day(client, admin_headers):
    body = get(client, admin_headers, "/reports/sales", **{"from": "2024-01-01", "to": "2024-12-31"}).get_json()
    assert len(body["series"]) == 366


def test_an_order_placed_through_the_api_shows_today(client, admin_headers, customer_headers):
    book = add_book("Delta", "12.25", stock=4)
    db.session.commit()
    placed = client.post("/orders", json={"items": [{"book_id": book.id, "quantity": 2}]}, headers=customer_headers)
    assert placed.status_code == 201, placed.get_json()

    body = get(client, admin_headers, "/reports/sales", **{"from": today().isoformat()}).get_json()
    assert body["series"] == [point(today().isoformat(), 1, 2, "24.50")]

    cancelled = client.post(f"/orders/{placed.get_json()['id']}/cancel", headers=customer_headers)
    assert cancelled.status_code == 200
    body = get(client, admin_headers, "/reports/sales", **{"from": today().isoformat()}).get_json()
    assert body["totals"] == {"orders": 0, "units": 0, "revenue": "0.00"}


# --- popular books -------------------------------------------------------------------------------


def test_popular_books_rank_by_copies_with_frozen_revenue(client, admin_headers, shop):
    r = get(client, admin_headers, "/reports/popular-books", **{"from": "2025-01-01", "to": "2025-02-28"})

    assert r.status_code == 200
    assert r.get_json() == {
        "from": "2025-01-01",
        "to": "2025-02-28",
        "items": [
            {"book_id": shop["B"], "title": "Beta", "author": "Ben Baker", "units_sold": 7, "revenue": "31.50"},
            # 2 + 1 (at the old price 9.00) + 1; the 5 copies of 31 Dec are outside the range
            {"book_id": shop["A"], "title": "Alpha", "author": "Ann Archer", "units_sold": 4, "revenue": "39.00"},
            # 4 copies on cancelled orders do not count
            {"book_id": shop["C"], "title": "Gamma", "author": "Cy Cole", "units_sold": 1, "revenue": "25.00"},
        ],
    }


def test_popular_books_limit_and_range(client, admin_headers, shop):
    body = get(
        client, admin_headers, "/reports/popular-books", **{"from": "2024-12-31", "to": "2025-01-06", "limit": "2"}
    ).get_json()
    # A: 5 + 2 + 1 copies; B and C sold one copy each, C earned more and ranks first; B is cut by the limit
    assert [(i["book_id"], i["units_sold"], i["revenue"]) for i in body["items"]] == [
        (shop["A"], 8, "79.00"),
        (shop["C"], 1, "25.00"),
    ]


def test_popular_books_ties_broken_by_revenue_then_book_id(client, admin_headers):
    x = add_book("X", "5.00")
    y = add_book("Y", "5.00")
    z = add_book("Z", "8.00")
    add_order("2025-05-01 10:00:00", [(y, 2, "5.00"), (x, 2, "5.00"), (z, 2, "8.00")])
    db.session.commit()

    body = get(client, admin_headers, "/reports/popular-books", **{"from": "2025-05-01", "to": "2025-05-01"}).get_json()
    assert [i["book_id"] for i in body["items"]] == [z.id, x.id, y.id]


def test_popular_books_in_an_empty_range(client, admin_headers, shop):
    body = get(client, admin_headers, "/reports/popular-books", **{"from": "2025-03-01", "to": "2025-03-31"}).get_json()
    assert body == {"from": "2025-03-01", "to": "2025-03-31", "items": []}


def test_popular_books_keep_a_retired_title(client, admin_headers, shop):
    db.session.get(Book, shop["C"]).is_retired = True
    db.session.commit()
    body = get(client, admin_headers, "/reports/popular-books", **{"from": "2025-01-06", "to": "2025-01-06"}).get_json()
    assert shop["C"] in [i["book_id"] for i in body["items"]]


# --- inventory -----------------------------------------------------------------------------------


@pytest.fixture
def stockroom(app):
    books = {
        "none": add_book("Sold Out", "10.00", stock=0),
        "one": add_book("Last Copy", "19.99", stock=1),
        "five": add_book("Five Left", "4.50", stock=5),
        "six": add_book("Six Left", "2.25", stock=6),
        "plenty": add_book("Plenty", "7.10", stock=100),
        "retired": add_book("Retired", "99.00", stock=2, retired=True),
    }
    db.session.commit()
    return {k: b.id for k, b in books.items()}


def test_inventory_report(client, admin_headers, stockroom):
    r = get(client, admin_headers, "/reports/inventory")

    assert r.status_code == 200
    assert r.get_json() == {
        "low_stock_threshold": 5,
        "titles": 5,
        "total_units": 112,
        # 1 × 19.99 + 5 × 4.50 + 6 × 2.25 + 100 × 7.10 (the retired book is left out)
        "inventory_value": "765.99",
        "limit": 100,
        "out_of_stock_count": 1,
        "low_stock_count": 2,
        "out_of_stock": [
            {"book_id": stockroom["none"], "title": "Sold Out", "author": "Some Author", "stock": 0, "shortfall": 5},
        ],
        "low_stock": [
            {"book_id": stockroom["one"], "title": "Last Copy", "author": "Some Author", "stock": 1, "shortfall": 4},
            {"book_id": stockroom["five"], "title": "Five Left", "author": "Some Author", "stock": 5, "shortfall": 0},
        ],
    }


def test_inventory_threshold(client, admin_headers, stockroom):
    body = get(client, admin_headers, "/reports/inventory", low_stock_threshold="6").get_json()
    assert [(i["book_id"], i["shortfall"]) for i in body["low_stock"]] == [
        (stockroom["one"], 5),
        (stockroom["five"], 1),
        (stockroom["six"], 0),
    ]
    body = get(client, admin_headers, "/reports/inventory", low_stock_threshold="1").get_json()
    assert [i["book_id"] for i in body["low_stock"]] == [stockroom["one"]]


def test_inventory_of_an_empty_catalogue(client, admin_headers):
    body = get(client, admin_headers, "/reports/inventory").get_json()
    assert body == {
        "low_stock_threshold": 5,
        "titles": 0,
        "total_units": 0,
        "inventory_value": "0.00",
        "limit": 100,
        "out_of_stock_count": 0,
        "out_of_stock": [],
        "low_stock_count": 0,
        "low_stock": [],
    }


def test_restocking_the_shortfall_reaches_the_threshold_and_one_more_leaves_the_list(client, admin_headers, stockroom):
    one = stockroom["one"]
    shortfall = next(
        i["shortfall"]
        for i in get(client, admin_headers, "/reports/inventory").get_json()["low_stock"]
        if i["book_id"] == one
    )
    r = client.post(f"/books/{one}/restock", json={"quantity": shortfall}, headers=admin_headers)
    assert r.status_code == 200, r.get_json()
    low = get(client, admin_headers, "/reports/inventory").get_json()["low_stock"]
    assert {"stock": 5, "shortfall": 0}.items() <= next(i for i in low if i["book_id"] == one).items()

    assert client.post(f"/books/{one}/restock", json={"quantity": 1}, headers=admin_headers).status_code == 200
    low = get(client, admin_headers, "/reports/inventory").get_json()["low_stock"]
    assert one not in [i["book_id"] for i in low]


# --- CSV -----------------------------------------------------------------------------------------


def read_csv(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=") and disposition.endswith('.csv"')
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    return rows[0], rows[1:], disposition


@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_sales_csv_rows_equal_the_json_rows(client, admin_headers, shop, period):
    params = {"from": "2025-01-01", "to": "2025-02-28", "period": period}
    body = get(client, admin_headers, "/reports/sales", **params).get_json()

    header, rows, disposition = read_csv(get(client, admin_headers, "/reports/sales", format="csv", **params))

    assert header == ["period_start", "orders", "units", "revenue"]
    assert rows == [[str(p[k]) for k in header] for p in body["series"]]
    assert disposition == f'attachment; filename="sales_{period}_2025-01-01_2025-02-28.csv"'


def test_popular_books_csv_rows_equal_the_json_rows(client, admin_headers, shop):
    params = {"from": "2025-01-01", "to": "2025-02-28"}
    body = get(client, admin_headers, "/reports/popular-books", **params).get_json()

    header, rows, _ = read_csv(get(client, admin_headers, "/reports/popular-books", format="csv", **params))

    assert header == ["book_id", "title", "author", "units_sold", "revenue"]
    assert rows == [[str(i[k]) for k in header] for i in body["items"]]
    assert len(rows) == 3


def test_inventory_csv_rows_equal_the_json_rows(client, admin_headers, stockroom):
    body = get(client, admin_headers, "/reports/inventory").get_json()

    header, rows, disposition = read_csv(get(client, admin_headers, "/reports/inventory", format="csv"))

    assert header == ["list", "book_id", "title", "author", "stock", "shortfall"]
    expected = [["out_of_stock", *[str(i[k]) for k in header[1:]]] for i in body["out_of_stock"]]
    expected += [["low_stock", *[str(i[k]) for k in header[1:]]] for i in body["low_stock"]]
    assert rows == expected and len(rows) == 3
    assert disposition == 'attachment; filename="inventory_threshold-5.csv"'


def test_csv_cells_that_a_spreadsheet_would_run_are_defused(client, admin_headers):
    book = add_book('=HYPERLINK("http://x")', "3.00", stock=1, author='+Plus, "Quoted"')
    db.session.commit()
    header, rows, _ = read_csv(get(client, admin_headers, "/reports/inventory", format="csv"))
    assert rows == [["low_stock", str(book.id), '\'=HYPERLINK("http://x")', '\'+Plus, "Quoted"', "1", "4"]]


def test_csv_of_an_empty_report_has_the_header_only(client, admin_headers):
    header, rows, _ = read_csv(get(client, admin_headers, "/reports/popular-books", format="csv"))
    assert header == ["book_id", "title", "author", "units_sold", "revenue"] and rows == []


# --- PNG -----------------------------------------------------------------------------------------


def png_size(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "image/png"
    assert response.headers["Content-Disposition"].startswith('inline; filename="')
    data = response.get_data()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.load()  # decodes every pixel: a truncated or corrupt file raises here
        assert image.size == (width, height)
        assert len(image.getcolors(maxcolors=1_000_000) or []) > 10  # a drawing, not a blank canvas
    return width, height


@pytest.mark.parametrize(
    "path,params",
    [
        ("/reports/sales", {"from": "2025-01-01", "to": "2025-02-28", "period": "day"}),
        ("/reports/sales", {"from": "2025-01-01", "to": "2025-02-28", "period": "week"}),
        ("/reports/sales", {"from": "2024-12-01", "to": "2025-03-31", "period": "month"}),
        ("/reports/sales", {"from": "2025-03-01", "to": "2025-03-02"}),  # all zeros
        ("/reports/popular-books", {"from": "2025-01-01", "to": "2025-02-28"}),
        ("/reports/popular-books", {"from": "2025-03-01", "to": "2025-03-31"}),  # nothing sold
        ("/reports/inventory", {"low_stock_threshold": "5"}),
    ],
)
def test_png_chart_decodes_at_a_sensible_size(client, admin_headers, shop, path, params):
    width, height = png_size(get(client, admin_headers, path, format="png", **params))
    assert 600 <= width <= 2000 and 300 <= height <= 4000


def test_png_chart_titles_with_dollar_signs_and_long_names(client, admin_headers):
    odd = add_book("$5 Tips for $1: " + "a very long title " * 10, "1.00", stock=2, author="A $ Sign")
    add_order("2025-04-02 08:00:00", [(odd, 3, "1.00")])
    db.session.commit()
    for path in ("/reports/popular-books", "/reports/inventory"):
        png_size(get(client, admin_headers, path, format="png", **{"from": "2025-04-01", "to": "2025-04-30"}))


@pytest.mark.parametrize("currency", ["EUR", "CHF"])
def test_charts_in_another_currency(app, client, admin_headers, shop, monkeypatch, currency):
    from app.reports import charts

    money = charts.Money(currency)
    assert money(Decimal("1234.5")) == {"EUR": "€1,234.50", "CHF": "1,234.50 CHF"}[currency]
    monkeypatch.setitem(app.config, "CURRENCY", currency)
    png_size(get(client, admin_headers, "/reports/sales", format="png", **{"from": "2025-01-01", "to": "2025-01-31"}))


def test_popular_chart_grows_with_the_number_of_books(client, admin_headers):
    books = [add_book(f"Book {n}", "2.00") for n in range(30)]
    add_order("2025-04-02 08:00:00", [(b, 1 + n % 3, "2.00") for n, b in enumerate(books)])
    db.session.commit()
    params = {"from": "2025-04-01", "to": "2025-04-30"}
    _, small = png_size(get(client, admin_headers, "/reports/popular-books", format="png", limit="5", **params))
    _, large = png_size(get(client, admin_headers, "/reports/popular-books", format="png", limit="30", **params))
    assert large > small


@pytest.mark.parametrize(
    "path,params,chart",
    [
        ("/reports/sales", {"from": "2025-01-01", "to": "2025-02-28", "period": "week"}, "sales_chart"),
        ("/reports/popular-books", {"from": "2025-01-01", "to": "2025-02-28"}, "popular_chart"),
        ("/reports/inventory", {}, "inventory_chart"),
    ],
)
def test_the_chart_is_drawn_from_the_same_numbers_as_the_json(
    client, admin_headers, shop, monkeypatch, path, params, chart
):
    from app.reports import charts, schemas

    drawn = []
    real = getattr(charts, chart)
    monkeypatch.setattr(
        charts, chart, lambda report, currency, size: drawn.append(report) or real(report, currency, size)
    )
    body = get(client, admin_headers, path, **params).get_json()

    png_size(get(client, admin_headers, path, format="png", **params))

    dump = {
        "sales_chart": schemas.SalesReportSchema,
        "popular_chart": schemas.PopularBooksReportSchema,
        "inventory_chart": schemas.InventoryReportSchema,
    }[chart]
    assert [dump().dump(r) for r in drawn] == [body]


def test_charts_drawn_in_parallel_threads_match_one_drawn_alone():
    """The server may run threads: every chart has its own Figure and Agg canvas (no pyplot state)."""
    from concurrent.futures import ThreadPoolExecutor

    from app.reports import charts

    start = date(2025, 1, 1)
    series = [
        {"period_start": start + timedelta(days=n), "orders": n % 7, "units": n % 11, "revenue": Decimal(n * 3) / 4}
        for n in range(90)
    ]
    report = {
        "from_": start,
        "to": start + timedelta(days=89),
        "period": "day",
        "totals": {"orders": 1, "units": 2, "revenue": Decimal("3.00")},
        "series": series,
    }
    alone = charts.sales_chart(report, "USD")
    with ThreadPoolExecutor(max_workers=6) as pool:
        drawn = list(pool.map(lambda _: charts.sales_chart(report, "USD"), range(12)))
    assert all(png == alone for png in drawn)


# --- bad parameters and access -------------------------------------------------------------------


@pytest.mark.parametrize(
    "path,params,field",
    [
        ("/reports/sales", {"from": "2025-02-30"}, "from"),
        ("/reports/sales", {"from": "yesterday"}, "from"),
        ("/reports/sales", {"to": "2025-1-5"}, "to"),
        ("/reports/sales", {"to": ""}, "to"),
        ("/reports/sales", {"from": "1969-12-31"}, "from"),
        ("/reports/sales", {"to": "3000-01-01"}, "to"),
        ("/reports/sales", {"from": "2025-02-02", "to": "2025-02-01"}, "from"),
        ("/reports/sales", {"from": "2024-01-01", "to": "2025-01-01"}, "to"),  # 367 days by day
        ("/reports/sales", {"from": "2000-01-01", "to": "2025-01-01", "period": "month"}, "to"),
        ("/reports/sales", {"period": "year"}, "period"),
        ("/reports/sales", {"period": "DAY"}, "period"),
        ("/reports/sales", {"period": ""}, "period"),
        ("/reports/sales", {"format": "xml"}, "format"),
        ("/reports/sales", {"format": "CSV"}, "format"),
        ("/reports/popular-books", {"limit": "0"}, "limit"),
        ("/reports/popular-books", {"limit": "101"}, "limit"),
        ("/reports/popular-books", {"limit": "-1"}, "limit"),
        ("/reports/popular-books", {"limit": "1.5"}, "limit"),
        ("/reports/popular-books", {"limit": "ten"}, "limit"),
        ("/reports/popular-books", {"limit": "99999999999999999999999"}, "limit"),
        ("/reports/popular-books", {"from": "2025-03-02", "to": "2025-03-01"}, "from"),
        ("/reports/popular-books", {"format": "pdf"}, "format"),
        ("/reports/popular-books", {"to": "2025-13-01"}, "to"),
        ("/reports/inventory", {"low_stock_threshold": "0"}, "low_stock_threshold"),
        ("/reports/inventory", {"low_stock_threshold": "1001"}, "low_stock_threshold"),
        ("/reports/inventory", {"low_stock_threshold": "abc"}, "low_stock_threshold"),
        ("/reports/inventory", {"low_stock_threshold": "2.5"}, "low_stock_threshold"),
        ("/reports/inventory", {"format": "gif"}, "format"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(client, admin_headers, path, params, field):
    assert_problem(get(client, admin_headers, path, **params), 400, field)


def test_a_from_after_a_future_defaulted_to_is_400(client, admin_headers):
    tomorrow = (today() + timedelta(days=1)).isoformat()
    assert_problem(get(client, admin_headers, "/reports/sales", **{"from": tomorrow}), 400, "from")


def test_the_extreme_dates_allowed_do_not_break(client, admin_headers):
    r = get(client, admin_headers, "/reports/sales", **{"from": "2999-12-01", "to": "2999-12-31", "period": "month"})
    assert r.get_json()["series"] == [point("2999-12-01", 0, 0, "0.00")]
    r = get(client, admin_headers, "/reports/sales", **{"to": "1970-01-05", "period": "week"})
    assert r.get_json()["from"] == "1970-01-01"
    assert r.get_json()["series"][0]["period_start"] == "1969-12-29"  # the Monday of that week


REPORTS = ["/reports/sales", "/reports/popular-books", "/reports/inventory"]


@pytest.mark.parametrize("path", REPORTS)
@pytest.mark.parametrize("fmt", ["json", "csv", "png"])
def test_customers_get_403(client, customer_headers, path, fmt):
    assert_problem(get(client, customer_headers, path, format=fmt), 403)


@pytest.mark.parametrize("path", REPORTS)
def test_anonymous_gets_401(client, path):
    assert_problem(client.get(path), 401)
    assert_problem(client.get(path, headers={"Authorization": "Bearer not-a-token"}), 401)


def test_reports_are_not_cached_by_shared_caches(client, admin_headers):
    r = get(client, admin_headers, "/reports/inventory", format="csv")
    assert r.headers["Cache-Control"] == "no-store"


# --- OpenAPI -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", REPORTS)
def test_openapi_documents_json_csv_and_png(client, path):
    operation = client.get("/openapi.json").get_json()["paths"][path]["get"]
    ok = operation["responses"]["200"]
    assert set(ok["content"]) == {"application/json", "text/csv", "image/png"}
    assert ok["content"]["image/png"]["schema"]["format"] == "binary"
    assert "Content-Disposition" in ok["headers"]
    assert {"400", "401", "403"} <= set(operation["responses"])
    names = {p["name"] for p in operation["parameters"]}
    assert "format" in names
    assert operation["security"] == [{"bearerAuth": []}]


def test_date_helpers_agree(client):
    """The fixture dates are what the docstring says they are (guards the hand-computed answers)."""
    assert date(2025, 1, 5).isoweekday() == 7 and date(2025, 1, 6).isoweekday() == 1
    assert date(2024, 12, 30).isoweekday() == 1 and date(2025, 1, 27).isoweekday() == 1
