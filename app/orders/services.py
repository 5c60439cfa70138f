"""Orders: placement that never oversells, idempotent retries, the status flow, cancellation.

Every use case is one transaction. Stock is taken with a conditional
`UPDATE books SET stock = stock - n WHERE id = ? AND stock >= n`, in book id order, and the
rowcount decides; the CHECK (stock >= 0) on the table is only the backstop.
"""

import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import LargeBinary, bindparam, cast, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app import failpoints
from app.auth import ROLE_ADMIN
from app.books.models import Book
from app.books.wording import copies, quoted
from app.cart.models import CartItem
from app.cart.services import customer_id_of
from app.clock import utc_iso, utcnow
from app.customers.models import Customer
from app.customers.services import lock_customer_for_order
from app.dberrors import is_missing_reference
from app.errors import (
    TYPE_ILLEGAL_TRANSITION,
    TYPE_OUT_OF_STOCK,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
)
from app.extensions import db
from app.money import ZERO, line_total, money_string
from app.orders.known_books import known_books
from app.orders.models import (
    CANCELLABLE,
    CANCELLED,
    MAX_ORDER_TOTAL,
    PENDING,
    SHIPPED,
    TRANSITIONS,
    IdempotencyKey,
    Order,
    OrderItem,
    OrderStatusChange,
    mark_order_day_dirty,
    next_statuses,
)
from app.pagination import paginate
from app.prepared import Prepared
from app.transactions import run_transaction

# --- ownership -----------------------------------------------------------------------------------


def _order_query():
    return select(Order).options(selectinload(Order.items), selectinload(Order.status_history))


def get_order_for(actor, order_id: int) -> Order:
    """The order if the caller may see it (its own, or any for an admin); else 404."""
    order = db.session.execute(_order_query().where(Order.id == order_id)).scalar_one_or_none()
    if order is None or (actor.role != ROLE_ADMIN and order.customer_id != actor.customer_id):
        raise NotFound(f"Order {order_id} not found.")
    return order


def _reload(order_id: int) -> Order:
    db.session.expire_all()
    return db.session.execute(_order_query().where(Order.id == order_id)).scalar_one()


# --- placing -------------------------------------------------------------------------------------


@dataclass
class Idempotency:
    account_id: int
    endpoint: str
    key: str
    request_hash: str


@dataclass
class Placed:
    status: int
    body: dict
    order_id: int
    replayed: bool


class _KeyTaken(Exception):
    pass


def request_fingerprint(path: str, args: dict) -> str:
    canonical = json.dumps({"path": path, "body": args}, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _stored(idem: Idempotency) -> IdempotencyKey | None:
    return db.session.execute(
        select(IdempotencyKey).where(
            IdempotencyKey.account_id == idem.account_id,
            IdempotencyKey.endpoint == idem.endpoint,
            IdempotencyKey.key == idem.key,
        )
    ).scalar_one_or_none()


def _replay(row: IdempotencyKey, idem: Idempotency) -> Placed:
    if row.request_hash != idem.request_hash:
        raise Conflict(
            "This Idempotency-Key was already used with a different request body.",
            errors={"Idempotency-Key": ["Already used with a different request."]},
        )
    body = json.loads(row.response_body)
    db.session.commit()
    return Placed(status=row.response_status, body=body, order_id=row.order_id, replayed=True)


def place_order(
    customer_id: int,
    lines: list[dict] | None,
    shipping_address: str | None,
    idem: Idempotency | None = None,
) -> Placed:
    """Place an order for `lines` ([{book_id, quantity}]) or, when None, for the whole cart; without
    `shipping_address` (or with a blank one) it goes to the customer's default address."""
    shipping_address = shipping_address or None
    if idem is not None:
        row = _stored(idem)
        if row is not None:
            return _replay(row, idem)
        db.session.rollback()
    try:
        return run_transaction(_place, customer_id, lines, shipping_address, idem)
    except _KeyTaken:
        db.session.rollback()
        row = _stored(idem)
        if row is None:  # the other request failed and stored nothing: place it ourselves
            return run_transaction(_place, customer_id, lines, shipping_address, idem)
        return _replay(row, idem)


# The statements of a placement, compiled once (app/prepared.py): on MySQL/MariaDB they go to
# PyMySQL directly, without SQLAlchemy's per-execution work (bench/README.md, "Orders").
_books = Book.__table__
_cart = CartItem.__table__
_keys = IdempotencyKey.__table__
_STORE_KEY = Prepared.insert(_keys, "account_id", "endpoint", "key", "request_hash", created_at="now")
_KEY_ANSWER = Prepared(
    update(_keys)
    .where(_keys.c.id == bindparam("key_id"))
    .values(response_status=bindparam("status"), response_body=bindparam("body"), order_id=bindparam("order_id"))
)
_CART_LINES = Prepared(
    select(_cart.c.book_id, _cart.c.quantity)
    .where(_cart.c.customer_id == bindparam("customer_id"))
    .order_by(_cart.c.book_id)
    .with_for_update()
)
# The conditional UPDATE that never oversells: the row lock is taken and the stock checked in one
# statement, and rowcount 0 means short (or retired, or missing).
_TAKEN = {
    "stock": _books.c.stock - bindparam("quantity"),
    "units_sold": _books.c.units_sold + bindparam("quantity"),
    "updated_at": bindparam("now"),
}
_AVAILABLE = (
    _books.c.id == bindparam("book_id"),
    _books.c.is_retired.is_(False),
    _books.c.stock >= bindparam("quantity"),
)
_TAKE_STOCK = Prepared(update(_books).where(*_AVAILABLE).values(_TAKEN))
# The same for a book whose title and price this process remembers (app/orders/known_books.py): it
# matches only while the row still holds them, title byte for byte, so no read is needed after it.
_TAKE_KNOWN_STOCK = Prepared(
    update(_books)
    .where(
        *_AVAILABLE,
        _books.c.price == bindparam("known_price"),
        cast(_books.c.title, LargeBinary) == bindparam("known_title", type_=LargeBinary),
    )
    .values(_TAKEN)
)
_INSERT_ORDER = Prepared.insert(
    Order.__table__,
    "customer_id",
    "status",
    "total",
    "shipping_address",
    created_at="now",
    updated_at="now",
    expected_delivery_date="expected",
)
_INSERT_LINE = Prepared.insert(
    OrderItem.__table__, "order_id", "book_id", "title", "unit_price", "quantity", "line_total"
)
_INSERT_HISTORY = Prepared.insert(OrderStatusChange.__table__, "order_id", "status", "at")


def _id_params(count: int) -> list:
    """`count` parameters b0, b1, ... for an IN list (filled by `_ids`)."""
    return [bindparam(f"b{i}") for i in range(count)]


@functools.lru_cache(maxsize=128)
def _titles_and_prices(count: int) -> Prepared:
    """SELECT id, title, price of `count` books (one statement per length of the id list)."""
    return Prepared(select(_books.c.id, _books.c.title, _books.c.price).where(_books.c.id.in_(_id_params(count))))


@functools.lru_cache(maxsize=128)
def _empty_cart_lines(count: int) -> Prepared:
    return Prepared(
        delete(_cart).where(
            _cart.c.customer_id == bindparam("customer_id"),
            _cart.c.book_id.in_(_id_params(count)),
        )
    )


def _ids(ids: list[int]) -> dict[str, int]:
    """The values of `_id_params(len(ids))`."""
    return {f"b{i}": book_id for i, book_id in enumerate(ids)}


def _place(customer_id, lines, shipping_address, idem) -> Placed:
    now = utcnow()
    key_id = None
    default_address = lock_customer_for_order(customer_id)  # first: a concurrent delete waits, or is waited for
    if idem is not None:
        # A concurrent twin waits here on the unique index until the first commits, then replays it.
        try:
            key_id = _STORE_KEY.run(
                {
                    "account_id": idem.account_id,
                    "endpoint": idem.endpoint,
                    "key": idem.key,
                    "request_hash": idem.request_hash,
                    "now": now,
                }
            ).inserted_id
        except IntegrityError as err:
            if is_missing_reference(err):  # the account was deleted since the token check
                raise NotFound("Your account no longer exists; nothing was ordered.") from err
            raise _KeyTaken() from err

    if shipping_address is None:
        shipping_address = default_address
        if shipping_address is None:
            raise BadRequest(
                "The order needs a shipping address: send `shipping_address`, or save a `default_address` "
                "on the customer.",
                errors={"shipping_address": ["Required: the customer has no saved default address."]},
            )

    from_cart = lines is None
    if from_cart:
        cart = _CART_LINES.run({"customer_id": customer_id}).rows
        if not cart:
            raise BadRequest(
                "The cart is empty: add books to it or send `items`.", errors={"items": ["The cart is empty."]}
            )
        wanted = [(book_id, quantity) for book_id, quantity in cart]
    else:
        wanted = sorted((line["book_id"], line["quantity"]) for line in lines)

    known = known_books()
    books: dict[int, tuple] = {}  # book id -> (title, price) as the locked row holds them
    short = []
    for book_id, quantity in wanted:  # id order: two orders never wait on each other in a cycle
        take = {"book_id": book_id, "quantity": quantity, "now": now}
        remembered = known.get(book_id)
        if remembered is not None:
            title, price = remembered
            if _TAKE_KNOWN_STOCK.run({**take, "known_title": title.encode(), "known_price": price}).rowcount == 1:
                books[book_id] = remembered
                continue
        if _TAKE_STOCK.run(take).rowcount != 1:
            short.append((book_id, quantity))
    if short:
        _refuse_short(short)

    ids = [book_id for book_id, _ in wanted]
    unread = [book_id for book_id in ids if book_id not in books]
    if unread:
        rows = _titles_and_prices(len(unread)).run(_ids(unread)).rows
        known.remember(rows)
        books.update((book_id, (title, price)) for book_id, title, price in rows)
    expected = now.date() + timedelta(days=current_app.config["PROCESSING_DAYS"])
    items = []
    for book_id, quantity in wanted:
        title, price = books[book_id]
        items.append(
            {
                "book_id": book_id,
                "title": title,
                "unit_price": price,
                "quantity": quantity,
                "line_total": line_total(price, quantity),
            }
        )
    total = sum((item["line_total"] for item in items), ZERO)
    if total > MAX_ORDER_TOTAL:
        db.session.rollback()
        raise BadRequest(
            f"The order would total {total:,}, and one order may total at most {MAX_ORDER_TOTAL:,}: "
            "split it into smaller orders. Nothing was ordered.",
            errors={"items": [f"The total may be at most {MAX_ORDER_TOTAL:,}."]},
        )
    order_id = _INSERT_ORDER.run(
        {
            "customer_id": customer_id,
            "status": PENDING,
            "total": total,
            "shipping_address": shipping_address,
            "now": now,
            "expected": expected,
        }
    ).inserted_id
    _INSERT_LINE.run([{"order_id": order_id, **item} for item in items])
    _INSERT_HISTORY.run({"order_id": order_id, "status": PENDING, "at": now})
    if from_cart:
        _empty_cart_lines(len(ids)).run({"customer_id": customer_id, **_ids(ids)})
    body = order_document(
        order_id, customer_id, PENDING, items, total, shipping_address, now, expected, [(PENDING, now)]
    )
    if key_id is not None:
        _KEY_ANSWER.run({"key_id": key_id, "status": 201, "body": json.dumps(body), "order_id": order_id})
    failpoints.hit("order.before_commit")
    db.session.commit()
    return Placed(status=201, body=body, order_id=order_id, replayed=False)


def order_document(
    order_id, customer_id, status, items, total, shipping_address, created_at, expected, history
) -> dict:
    """The order as OrderSchema writes it, built directly from what the placement just wrote
    (tests check it equals the schema's dump of the stored order)."""
    return {
        "id": order_id,
        "customer_id": customer_id,
        "status": status,
        "items": [
            {
                "book_id": item["book_id"],
                "title": item["title"],
                "unit_price": money_string(item["unit_price"]),
                "quantity": item["quantity"],
                "line_total": money_string(item["line_total"]),
            }
            for item in items
        ],
        "total": money_string(total),
        "shipping_address": shipping_address,
        "created_at": utc_iso(created_at),
        "expected_delivery_date": expected.isoformat() if expected else None,
        "status_history": [{"status": st, "at": utc_iso(at)} for st, at in history],
        "next_statuses": next_statuses(status),
    }


def _shortage_text(shortage: dict, retired: bool) -> str:
    """One short line as a shopper reads it: the title, what was asked, what is left."""
    if shortage["title"] is None:
        return f"book {shortage['book_id']} does not exist"
    title = quoted(shortage["title"])
    if retired:
        return f"{title} is no longer sold"
    asked = f"you asked for {copies(shortage['requested'])}"
    if shortage["available"] == 0:
        return f"{title} is sold out ({asked})"
    left = shortage["available"]
    return f"{title} has only {copies(left)} left ({asked})"


def _refuse_short(short: list[tuple[int, int]]):
    ids = [book_id for book_id, _ in short]
    # A locking (current) read: a plain SELECT would read the transaction's REPEATABLE READ
    # snapshot, taken at the request's first query (the token check), before the concurrent
    # buyers committed; the 409 then said "available: 5" to a buyer refused 1 of the last 5.
    # FOR UPDATE (not LOCK IN SHARE MODE): every MySQL-compatible engine takes it, and the
    # failed conditional UPDATE already holds these rows; the rollback below releases them.
    found = {
        row.id: row
        for row in db.session.execute(
            select(Book.id, Book.title, Book.stock, Book.is_retired).where(Book.id.in_(ids)).with_for_update()
        ).all()
    }
    db.session.rollback()
    shortages, texts = [], []
    for book_id, requested in short:
        row = found.get(book_id)
        live = row is not None and not row.is_retired
        shortage = {
            "book_id": book_id,
            "title": row.title if row is not None else None,
            "requested": requested,
            "available": row.stock if live else 0,
        }
        shortages.append(shortage)
        texts.append(_shortage_text(shortage, retired=row is not None and row.is_retired))
    raise Conflict(
        "Not enough stock, so nothing was ordered: " + "; ".join(texts) + ".",
        type=TYPE_OUT_OF_STOCK,
        title="Not enough stock",
        shortages=shortages,
    )


def purge_idempotency_keys(older_than_hours: int) -> int:
    """Forget stored answers older than the retention window (docs/api.md: kept at least 24 hours)."""
    cutoff = utcnow() - timedelta(hours=max(older_than_hours, 24))
    result = db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
    db.session.commit()
    return result.rowcount


# --- reading -------------------------------------------------------------------------------------


def buyer_for(actor, requested: int | None) -> int:
    """The customer an order is placed for: the caller's own, or for an admin the one named."""
    if requested is None or requested == actor.customer_id:
        return customer_id_of(actor)
    if actor.role != ROLE_ADMIN:
        raise Forbidden("Only an admin may place an order for another customer.")
    if db.session.get(Customer, requested) is None:
        raise NotFound(f"Customer {requested} not found.")
    return requested


def list_orders_for(actor, args: dict):
    """GET /orders: a customer's own orders; an admin's view of all, filtered by `customer_id`."""
    if actor.role == ROLE_ADMIN:
        return list_orders(args, customer_id=args.get("customer_id"))
    if args.get("customer_id") not in (None, actor.customer_id):
        raise Forbidden("Only an admin may list another customer's orders.")
    if args.get("q"):
        raise Forbidden("Only an admin may search orders by customer.")
    return list_orders(args, customer_id=customer_id_of(actor))


def list_orders(args: dict, customer_id: int | None = None):
    stmt = _order_query()
    count = select(func.count(Order.id))
    conditions = []
    if customer_id is not None:
        conditions.append(Order.customer_id == customer_id)
    if args.get("status"):
        conditions.append(Order.status == args["status"])
    if args.get("q"):
        needle = args["q"].lower()
        buyers = select(Customer.id).where(
            or_(
                func.lower(Customer.name).contains(needle, autoescape=True),
                func.lower(Customer.email).contains(needle, autoescape=True),
            )
        )
        conditions.append(Order.customer_id.in_(buyers))
    if args.get("from_"):
        conditions.append(Order.created_at >= args["from_"])
    if args.get("to"):
        conditions.append(Order.created_at < args["to"] + timedelta(days=1))
    if conditions:
        stmt, count = stmt.where(*conditions), count.where(*conditions)
    order = (Order.created_at, Order.id) if args.get("sort") == "oldest" else (Order.created_at.desc(), Order.id.desc())
    return paginate(stmt.order_by(*order), args, count_stmt=count)


def embed_customers(orders, embed: str | None):
    """With `embed=customer`, give each order its buyer's id, name and email (one query for all)."""
    if embed != "customer":
        return orders
    ids = {order.customer_id for order in orders if order.customer_id is not None}
    found = {}
    if ids:
        rows = db.session.execute(select(Customer.id, Customer.name, Customer.email).where(Customer.id.in_(ids)))
        found = {row.id: {"id": row.id, "name": row.name, "email": row.email} for row in rows}
    for order in orders:
        order.customer = found.get(order.customer_id)
    return orders


def purchase_history(customer_id: int, limit: int = 100) -> list[dict]:
    rows = db.session.execute(
        select(
            OrderItem.order_id,
            OrderItem.book_id,
            OrderItem.title,
            OrderItem.unit_price,
            OrderItem.quantity,
            Order.created_at,
        )
        .join(Order, Order.id == OrderItem.order_id)
        .where(Order.customer_id == customer_id, Order.status != CANCELLED)
        .order_by(Order.created_at.desc(), Order.id.desc(), OrderItem.book_id)
        .limit(limit)
    ).all()
    return [
        {
            "order_id": r.order_id,
            "book_id": r.book_id,
            "title": r.title,
            "price": r.unit_price,
            "quantity": r.quantity,
            "purchased_at": r.created_at,
        }
        for r in rows
    ]


# --- status flow ---------------------------------------------------------------------------------


def _illegal(order_id: int, current: str, wanted: str) -> Conflict:
    allowed = next_statuses(current)
    if current == wanted:
        detail = f"Order {order_id} is already {current}."
    elif not allowed:
        detail = f"Order {order_id} is {current}; its status can no longer change."
    else:
        detail = f"Order {order_id} is {current}; it can only become {' or '.join(allowed)}."
    return Conflict(
        detail,
        type=TYPE_ILLEGAL_TRANSITION,
        title="Illegal status change",
        current_status=current,
        allowed=allowed,
    )


def cancel(order: Order) -> Order:
    return run_transaction(_cancel, order.id)


def _cancel(order_id: int) -> Order:
    now = utcnow()
    changed = db.session.execute(
        update(Order)
        .where(Order.id == order_id, Order.status.in_(CANCELLABLE))
        .values(status=CANCELLED, updated_at=now, expected_delivery_date=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:  # someone else moved it first (or it was never cancellable)
        current = db.session.execute(select(Order.status).where(Order.id == order_id)).scalar_one()
        db.session.rollback()
        raise _illegal(order_id, current, CANCELLED)
    items = db.session.execute(
        select(OrderItem.book_id, OrderItem.quantity).where(OrderItem.order_id == order_id).order_by(OrderItem.book_id)
    ).all()
    for item in items:
        db.session.execute(
            update(Book)
            .where(Book.id == item.book_id)
            .values(stock=Book.stock + item.quantity, units_sold=Book.units_sold - item.quantity)
            .execution_options(synchronize_session=False)
        )
    db.session.add(OrderStatusChange(order_id=order_id, status=CANCELLED, at=now))
    mark_order_day_dirty(order_id)  # the reports' summary of that day no longer counts this order
    db.session.commit()
    return _reload(order_id)


def change_status(order: Order, wanted: str) -> Order:
    if wanted not in TRANSITIONS[order.status]:
        raise _illegal(order.id, order.status, wanted)
    if wanted == CANCELLED:
        return cancel(order)
    return run_transaction(_advance, order.id, order.status, wanted)


def _advance(order_id: int, current: str, wanted: str) -> Order:
    now = utcnow()
    values = {"status": wanted, "updated_at": now}
    if wanted == SHIPPED:
        values["shipped_at"] = now
        values["expected_delivery_date"] = now.date() + timedelta(days=current_app.config["SHIPPING_DAYS"])
    changed = db.session.execute(
        update(Order)
        .where(Order.id == order_id, Order.status == current)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        now_status = db.session.execute(select(Order.status).where(Order.id == order_id)).scalar_one()
        db.session.rollback()
        raise _illegal(order_id, now_status, wanted)
    db.session.add(OrderStatusChange(order_id=order_id, status=wanted, at=now))
    db.session.commit()
    return _reload(order_id)
