"""`flask seed --orders N` and the demo history: the generated orders keep every invariant the
order services keep (totals, frozen prices, status history, stock and units sold), span 18 months
with several statuses, and the reports agree with them. Runs on SQLite and MariaDB."""

from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.books.models import Book
from app.clock import utcnow
from app.commands import DEMO_CUSTOMER
from app.extensions import db
from app.orders.models import CANCELLED, DELIVERED, PENDING, SHIPPED, TRANSITIONS, Order, OrderItem
from app.orders.seed import HISTORY_DAYS, generate_history
from tests.conftest import row_counts


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def catalogue(stock=10_000, count=40):
    books = [
        Book(title=f"Seeded {n}", author=f"Author {n % 7}", price=Decimal("3.00") + Decimal(n) / 4, stock=stock)
        for n in range(count)
    ]
    db.session.add_all(books)
    db.session.commit()
    return {b.id: (b.stock, b.units_sold, b.price, b.title) for b in books}


def all_orders():
    db.session.expire_all()
    orders = db.session.execute(select(Order).order_by(Order.id)).scalars().all()
    return orders


def books_now():
    db.session.expire_all()
    return {b.id: b for b in db.session.execute(select(Book)).scalars()}


def live_copies(orders):
    sold = Counter()
    for order in orders:
        if order.status != CANCELLED:
            for item in order.items:
                sold[item.book_id] += item.quantity
    return sold


def test_generated_orders_keep_the_order_invariants(app):
    before = catalogue()
    now = utcnow()

    assert generate_history(400, now=now) == 400

    orders = all_orders()
    assert len(orders) == 400
    statuses = Counter(o.status for o in orders)
    assert statuses[DELIVERED] > 300 and statuses[CANCELLED] >= 5, statuses
    first = now - timedelta(days=HISTORY_DAYS)
    assert all(first <= o.created_at <= now for o in orders)
    assert len({(o.created_at.year, o.created_at.month) for o in orders}) >= 18
    assert [o.created_at for o in orders] == sorted(o.created_at for o in orders)  # ids follow time
    lines = sum(len(o.items) for o in orders)
    assert 3.5 <= lines / len(orders) <= 6.5  # about five titles a basket
    processing, shipping = app.config["PROCESSING_DAYS"], app.config["SHIPPING_DAYS"]
    for order in orders:
        assert order.customer_id is not None
        assert 1 <= len(order.items) <= 10
        assert order.total == sum(i.line_total for i in order.items)
        for item in order.items:
            _, _, price, title = before[item.book_id]
            assert (item.unit_price, item.title) == (price, title)
            assert item.line_total == item.unit_price * item.quantity and item.quantity >= 1
        history = order.status_history
        assert history[0].status == PENDING and history[0].at == order.created_at
        for previous, step in zip(history, history[1:], strict=False):
            assert step.status in TRANSITIONS[previous.status]
            assert previous.at <= step.at <= now
        assert history[-1].status == order.status and history[-1].at == order.updated_at
        shipped = [h.at for h in history if h.status == SHIPPED]
        assert order.shipped_at == (shipped[0] if shipped else None)
        if order.status == CANCELLED:
            assert order.expected_delivery_date is None
        elif shipped:
            assert order.expected_delivery_date == shipped[0].date() + timedelta(days=shipping)
        else:
            assert order.expected_delivery_date == order.created_at.date() + timedelta(days=processing)

    # Plenty of stock: no restock was needed, so each book lost exactly the copies its live orders hold.
    sold = live_copies(orders)
    for book_id, book in books_now().items():
        stock, units_sold, _, _ = before[book_id]
        assert book.stock == stock - sold[book_id]
        assert book.units_sold == units_sold + sold[book_id]
    assert sum(sold.values()) > 0


def test_a_history_bigger_than_the_stock_restocks_and_never_goes_negative(app):
    before = catalogue(stock=0, count=5)

    generate_history(300)

    orders = all_orders()
    sold = live_copies(orders)
    for book_id, book in books_now().items():
        assert book.stock >= 0
        assert book.units_sold == before[book_id][1] + sold[book_id]
    assert any(b.stock > 0 for b in books_now().values())  # restocked along the way


def test_retired_books_are_never_ordered(app):
    catalogue(count=3)
    retired = Book(title="Gone", author="Nobody", price=Decimal("5.00"), stock=50, is_retired=True)
    db.session.add(retired)
    db.session.commit()

    generate_history(100)

    assert retired.id not in {i.book_id for o in all_orders() for i in o.items}


def test_no_books_no_orders(app):
    assert generate_history(10, echo=lambda *_: None) == 0
    assert db.session.execute(select(func.count()).select_from(Order)).scalar_one() == 0


def test_the_reports_agree_with_the_generated_history(client, admin_headers):
    catalogue()
    generate_history(250)
    orders = [o for o in all_orders() if o.status != CANCELLED]
    start, end = min(o.created_at for o in orders).date(), max(o.created_at for o in orders).date()

    body = client.get(
        "/reports/sales", query_string={"from": start, "to": end, "period": "month"}, headers=admin_headers
    ).get_json()

    assert body["totals"] == {
        "orders": len(orders),
        "units": sum(i.quantity for o in orders for i in o.items),
        "revenue": str(sum(o.total for o in orders)),
    }
    by_month = defaultdict(int)
    for o in orders:
        by_month[o.created_at.date().replace(day=1).isoformat()] += 1
    assert {p["period_start"]: p["orders"] for p in body["series"] if p["orders"]} == by_month

    popular = client.get(
        "/reports/popular-books", query_string={"from": start, "to": end, "limit": 3}, headers=admin_headers
    ).get_json()["items"]
    sold = live_copies(orders)
    assert [i["units_sold"] for i in popular] == sorted(sold.values(), reverse=True)[:3]


def test_flask_seed_orders_n_adds_n_orders_each_time(runner):
    catalogue()

    first = runner.invoke(args=["seed", "--orders", "30"])
    assert first.exit_code == 0, first.output
    assert "generated order history: 30 orders inserted" in first.output
    counts = row_counts()
    assert counts["orders"] == 30

    second = runner.invoke(args=["seed", "--orders", "20"])
    assert second.exit_code == 0, second.output
    after = row_counts()
    assert after["orders"] == 50
    assert after["customers"] == counts["customers"]  # the generated shoppers are reused


def test_flask_seed_makes_a_demo_history_once(runner):
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    assert "demo order history: 120 orders" in first.output
    orders = all_orders()
    assert len(orders) == 120
    demo = db.session.execute(
        select(func.count(func.distinct(Order.customer_id))).where(Order.id.in_([o.id for o in orders]))
    ).scalar_one()
    assert demo == 1
    counts = row_counts()

    second = runner.invoke(args=["seed"])

    assert second.exit_code == 0, second.output
    assert "demo order history: kept" in second.output
    assert row_counts() == counts
    from app.accounts.models import Account

    ada = db.session.execute(select(Account).where(Account.username == DEMO_CUSTOMER["username"])).scalar_one()
    assert {o.customer_id for o in orders} == {ada.customer_id}
    assert db.session.execute(select(func.count()).select_from(OrderItem)).scalar_one() > 120
