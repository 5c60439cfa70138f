"""`flask seed`: an order history for the reports.

    flask seed                 a small demo history (120 orders by the demo customer), once: only while
                               there are no orders at all
    flask seed --orders N      N more generated orders (bulk path; 200k orders load in about a minute)

The history spans the 18 months ending now. Order times follow a growing trend with weekly and
seasonal swings and a daytime peak; baskets hold 1 to 10 titles (about 5 on average), mostly one
copy each; titles are picked with a heavy-tailed popularity. Orders older than a few days are
delivered, recent ones are pending, paid or shipped, and about 6 % were cancelled (from pending or
paid). Everything the order services would have written is written here too, in one transaction:

* orders with their total (the sum of the lines), `shipped_at`, `expected_delivery_date`
  (placed + PROCESSING_DAYS until shipped, shipped + SHIPPING_DAYS after, none once cancelled),
  `updated_at` at the last change;
* order lines with the title and price frozen (today's catalogue price) and `line_total`;
* the status history, one row per step at its own time;
* the days written, marked dirty for the report rollups (they summarise those days again);
* books: the copies each live order took come off `stock` and go onto `units_sold`; a cancelled
  order gives them back. When the history sells more copies of a title than it holds, the title is
  restocked first (as `POST /books/{id}/restock` would), back to its starting level (at least 10).

Bulk path: rows are generated in Python and sent as multi-row INSERTs (executemany), orders with
explicit ids; the books are updated once at the end with relative changes. Deterministic for a
given seed, catalogue and clock.
"""

import random
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import accumulate

import click
from flask import current_app
from sqlalchemy import bindparam, func, insert, select, update

from app.accounts.models import Account
from app.books.models import Book
from app.books.reads import catalogue_changed
from app.clock import utcnow
from app.customers.addresses import default_address_text
from app.customers.models import Customer
from app.extensions import db
from app.money import line_total as money_line_total
from app.orders.models import (
    CANCELLED,
    DELIVERED,
    PAID,
    PENDING,
    SHIPPED,
    Order,
    OrderItem,
    OrderStatusChange,
    mark_days_dirty,
)

HISTORY_DAYS = 548  # 18 months
DEMO_ORDERS = 120
ORDERS_PER_SHOPPER = 20
MAX_SHOPPERS = 20_000
BATCH = 5000  # orders per INSERT round
CANCEL_RATE = 0.06
RESTOCK_LEVEL = 10
SHOPPER_DOMAIN = "seed.bookstore.example"

# Titles per basket (1..10, about 5 on average) and copies per line.
LINES_WEIGHTS = (10, 10, 11, 11, 11, 10, 10, 9, 9, 9)
QUANTITY_WEIGHTS = (80, 15, 5)
# Orders by hour of the day (UTC): quiet at night, busy in the evening.
HOUR_WEIGHTS = (2, 1, 1, 1, 1, 2, 3, 5, 6, 7, 8, 8, 9, 9, 8, 8, 8, 9, 10, 11, 11, 9, 6, 4)
WEEKDAY_WEIGHTS = (1.0, 0.95, 0.95, 1.0, 1.1, 1.3, 1.25)  # Monday .. Sunday
MONTH_WEIGHTS = (0.85, 0.8, 0.9, 0.95, 0.95, 0.9, 0.95, 1.0, 1.0, 1.05, 1.25, 1.6)  # January .. December


def _words(text: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(text.split(sep))


FIRST_NAMES = _words(
    "Olivia Liam Emma Noah Amelia Oliver Ava Elijah Sophia Lucas Mia Mateo Isabella Levi Aisha Kenji Ingrid "
    "Priya Tomasz Leila Rafael Chiara Arjun Freya Nikolai Yuki Lucia Hamid Astrid Santiago Mei Kofi Marta Noor"
)
SURNAMES = _words(
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Wright Nguyen Okafor Nakamura Kowalski Rossi "
    "Novak Haddad Ivanova Schneider Dubois Fernandes Kim Chen Singh Murphy Byrne Costa Jensen Weber Horvat"
)
STREETS = _words("High Street,Station Road,Church Lane,Mill Road,Park Avenue,Victoria Road,Green Lane,Manor Way", ",")
CITIES = _words(
    "Springfield,Riverton,Lakeside,Fairview,Kingsbridge,Westbury,Ashford,Northwood,Eastleigh,Hillcrest", ","
)


@dataclass
class Stock:
    """What the history does to each book, accumulated in memory and written once."""

    level: dict[int, int]
    start: dict[int, int]
    taken: dict[int, int] = field(default_factory=dict)  # net copies off the shelf (restocks counted)
    sold: dict[int, int] = field(default_factory=dict)  # copies on live orders

    def take(self, book_id: int, quantity: int) -> None:
        if self.level[book_id] < quantity:  # restock to the starting level first
            refill = max(self.start[book_id], RESTOCK_LEVEL) + quantity - self.level[book_id]
            self.level[book_id] += refill
            self.taken[book_id] = self.taken.get(book_id, 0) - refill
        self.level[book_id] -= quantity
        self.taken[book_id] = self.taken.get(book_id, 0) + quantity
        self.sold[book_id] = self.sold.get(book_id, 0) + quantity

    def give_back(self, book_id: int, quantity: int) -> None:
        self.level[book_id] += quantity
        self.taken[book_id] -= quantity
        self.sold[book_id] -= quantity


class HistoryGenerator:
    def __init__(self, books, customers: list[int], now: datetime, *, seed: int = 2718, addresses=None):
        self.rng = random.Random(seed)
        self.now = now
        self.customers = customers
        self.addresses = addresses or {}
        self.books = {b.id: b for b in books}
        ranked = [b.id for b in books]
        self.rng.shuffle(ranked)
        self.book_ids = ranked
        self.book_cum = list(accumulate(1.0 / (rank + 1) ** 0.9 for rank in range(len(ranked))))
        self.processing_days = current_app.config["PROCESSING_DAYS"]
        self.shipping_days = current_app.config["SHIPPING_DAYS"]

    def order_times(self, count: int) -> list[datetime]:
        """`count` placement times over the last HISTORY_DAYS, oldest first, none in the future."""
        rng, now = self.rng, self.now
        first = (now - timedelta(days=HISTORY_DAYS - 1)).replace(hour=0, minute=0, second=0)
        days = [first + timedelta(days=i) for i in range(HISTORY_DAYS)]
        weights = [
            (0.55 + 0.45 * i / HISTORY_DAYS) * WEEKDAY_WEIGHTS[d.weekday()] * MONTH_WEIGHTS[d.month - 1]
            for i, d in enumerate(days)
        ]
        weights[-1] *= min(1.0, (now - days[-1]).total_seconds() / 86400)  # today is not over yet
        hour_cum = list(accumulate(HOUR_WEIGHTS))
        times = []
        for day in rng.choices(days, weights=weights, k=count):
            moment = day + timedelta(
                hours=bisect_right(hour_cum, rng.random() * hour_cum[-1]), seconds=rng.randrange(3600)
            )
            if moment >= now:  # later today: pick a moment that has passed
                moment = day + timedelta(seconds=rng.randrange(max(1, int((now - day).total_seconds()))))
            times.append(moment)
        times.sort()
        return times

    def basket(self) -> dict[int, int]:
        rng = self.rng
        size = rng.choices(range(1, len(LINES_WEIGHTS) + 1), weights=LINES_WEIGHTS)[0]
        picks = rng.choices(self.book_ids, cum_weights=self.book_cum, k=size)
        lines: dict[int, int] = {}
        for book_id in picks:
            lines[book_id] = lines.get(book_id, 0) + rng.choices((1, 2, 3), weights=QUANTITY_WEIGHTS)[0]
        return lines

    def steps(self, placed: datetime) -> list[tuple[str, datetime]]:
        """The status history of an order placed at `placed`, cut at now."""
        rng = self.rng
        paid = placed + timedelta(seconds=rng.randrange(60, 6 * 3600))
        if rng.random() < CANCEL_RATE:
            cancelled = placed + timedelta(seconds=rng.randrange(600, 36 * 3600))
            plan = [(PENDING, placed)] + ([(PAID, paid)] if paid < cancelled else []) + [(CANCELLED, cancelled)]
        else:
            shipped = paid + timedelta(seconds=rng.randrange(12 * 3600, 3 * 86400))
            delivered = shipped + timedelta(seconds=rng.randrange(86400, 4 * 86400))
            plan = [(PENDING, placed), (PAID, paid), (SHIPPED, shipped), (DELIVERED, delivered)]
        return [(status, at) for status, at in plan if at <= self.now]

    def order(self, order_id: int, placed: datetime, stock: Stock):
        rng = self.rng
        lines = self.basket()
        history = self.steps(placed)
        status, last = history[-1]
        items, total = [], Decimal("0.00")
        for book_id in sorted(lines):
            book, quantity = self.books[book_id], lines[book_id]
            line_total = money_line_total(book.price, quantity)
            total += line_total
            items.append(
                {
                    "order_id": order_id,
                    "book_id": book_id,
                    "title": book.title,
                    "unit_price": book.price,
                    "quantity": quantity,
                    "line_total": line_total,
                }
            )
            stock.take(book_id, quantity)
            if status == CANCELLED:
                stock.give_back(book_id, quantity)
        shipped_at = next((at for s, at in history if s == SHIPPED), None)
        if status == CANCELLED:
            expected = None
        elif shipped_at is not None:
            expected = shipped_at.date() + timedelta(days=self.shipping_days)
        else:
            expected = placed.date() + timedelta(days=self.processing_days)
        customer_id = rng.choice(self.customers)
        # Drawn even for a customer with a saved address, so a seed gives the same history either way.
        made_up = f"{rng.randint(1, 250)} {rng.choice(STREETS)}, {rng.choice(CITIES)}"
        row = {
            "id": order_id,
            "customer_id": customer_id,
            "status": status,
            "total": total,
            "shipping_address": self.addresses.get(customer_id, made_up),
            "created_at": placed,
            "updated_at": last,
            "shipped_at": shipped_at,
            "expected_delivery_date": expected,
        }
        changes = [{"order_id": order_id, "status": s, "at": at} for s, at in history]
        return row, items, changes


def _shoppers(wanted: int, rng: random.Random) -> list[int]:
    """Ids of `wanted` generated customers (made once, reused by later runs)."""
    pattern = f"shopper%@{SHOPPER_DOMAIN}"
    have = db.session.execute(select(Customer.id).where(Customer.email.like(pattern)).order_by(Customer.id)).scalars()
    ids = list(have)
    if len(ids) < wanted:
        now = utcnow()
        rows = [
            {
                "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}",
                "email": f"shopper{n}@{SHOPPER_DOMAIN}",
                "phone": None,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(len(ids) + 1, wanted + 1)
        ]
        db.session.execute(insert(Customer.__table__), rows)
        ids = list(
            db.session.execute(select(Customer.id).where(Customer.email.like(pattern)).order_by(Customer.id)).scalars()
        )
    return ids[:wanted]


def generate_history(count: int, *, seed: int = 2718, now: datetime | None = None, customers=None, echo=click.echo):
    """Add `count` orders to the history in one transaction; returns how many were added.

    The orders go to `customers` (ids) when given, else to generated shoppers (one per 20 orders)."""
    session = db.session
    books = session.execute(
        select(Book.id, Book.title, Book.price, Book.stock).where(Book.is_retired.is_(False)).order_by(Book.id)
    ).all()
    if not books:
        echo("  order history: no books in the catalogue, nothing generated")
        session.rollback()
        return 0
    now = now or utcnow()
    rng = random.Random(seed + 1)
    addresses = {}
    if customers:  # the orders of named customers go to their saved addresses
        addresses = {c: text for c in customers if (text := default_address_text(c)) is not None}
    else:
        customers = _shoppers(min(MAX_SHOPPERS, max(5, count // ORDERS_PER_SHOPPER)), rng)
    generator = HistoryGenerator(books, customers, now, seed=seed, addresses=addresses)
    stock = Stock(level={b.id: b.stock for b in books}, start={b.id: b.stock for b in books})
    next_id = (session.execute(select(func.max(Order.id))).scalar_one() or 0) + 1
    times = generator.order_times(count)
    orders_table, items_table, history_table = Order.__table__, OrderItem.__table__, OrderStatusChange.__table__
    with click.progressbar(length=count, label="Orders") as bar:
        for start in range(0, count, BATCH):
            orders, items, changes = [], [], []
            for offset, placed in enumerate(times[start : start + BATCH]):
                row, lines, history = generator.order(next_id + start + offset, placed, stock)
                orders.append(row)
                items.extend(lines)
                changes.extend(history)
            session.execute(insert(orders_table), orders)
            session.execute(insert(items_table), items)
            session.execute(insert(history_table), changes)
            bar.update(len(orders))
    mark_days_dirty(placed.date() for placed in times)  # the reports summarise these days again
    changed = [
        {"b_id": book_id, "b_taken": stock.taken.get(book_id, 0), "b_sold": stock.sold.get(book_id, 0)}
        for book_id in sorted(set(stock.taken) | set(stock.sold))
    ]
    if changed:
        books_table = Book.__table__
        session.execute(
            update(books_table)
            .where(books_table.c.id == bindparam("b_id"))
            .values(
                stock=books_table.c.stock - bindparam("b_taken"),
                units_sold=books_table.c.units_sold + bindparam("b_sold"),
            ),
            changed,
        )
    session.commit()
    return count


def _demo_customer_ids(username: str) -> list[int]:
    """The demo history is the demo customer's (no other customers are made for it)."""
    found = db.session.execute(select(Account.customer_id).where(Account.username == username)).scalar_one_or_none()
    return [found] if found else []


def seed_orders(orders: int | None = None, *, demo_username: str) -> None:
    """`flask seed`'s order step (after the catalogue's): the demo customer's history, or `orders`
    generated ones."""
    if orders is None:
        if db.session.execute(select(Order.id).limit(1)).first():
            click.echo("  demo order history: kept (there are orders already)")
            db.session.rollback()
            return
        customers = _demo_customer_ids(demo_username)
        if not customers:
            click.echo("  demo order history: skipped (no demo customer)")
            db.session.rollback()
            return
        added = generate_history(DEMO_ORDERS, customers=customers)
        if added:
            click.echo(f"  demo order history: {added} orders by the demo customer over the last 18 months")
    elif orders:
        added = generate_history(orders)
        click.echo(f"  generated order history: {added} orders inserted")
    else:
        return
    catalogue_changed()
