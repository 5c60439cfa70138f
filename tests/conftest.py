"""Fixtures: one app per session on the schema built by the migrations, one rolled-back
transaction per test (savepoints keep the app's own commits and rollbacks inside it),
factories and token helpers. TEST_DATABASE_URL picks the database (default: SQLite)."""

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import request, request_finished
from flask_migrate import upgrade

from app import create_app
from app.extensions import db, limiter
from app.prepared import reader

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")
PASSWORD = "correct-horse-battery"


def _ensure_database(url: sa.URL) -> None:
    if url.get_backend_name() != "mysql":
        return
    server = sa.create_engine(url.set(database=""))
    with server.connect() as conn:
        conn.exec_driver_sql(
            f"CREATE DATABASE IF NOT EXISTS `{url.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
    server.dispose()


def _drop_everything() -> None:
    meta = sa.MetaData()
    meta.reflect(bind=db.engine)
    meta.drop_all(bind=db.engine)


@pytest.fixture(scope="session")
def app():
    app = create_app("testing")
    with app.app_context():
        _ensure_database(db.engine.url)
        _drop_everything()
        upgrade(directory=MIGRATIONS)
        yield app
        db.session.remove()
        _drop_everything()


@pytest.fixture(scope="session")
def is_mysql(app):
    return db.engine.dialect.name == "mysql"


@pytest.fixture(autouse=True)
def _isolated(app):
    """Run each test inside one outer transaction that is rolled back at the end."""
    engines = db.engines
    engine = engines[None]
    connection = engine.connect()
    outer = connection.begin()
    engines[None] = connection
    reader().bind(connection)
    db.session.remove()
    db.session.session_factory.configure(join_transaction_mode="create_savepoint")
    limiter.reset()
    try:
        yield
    finally:
        db.session.remove()
        engines[None] = engine
        reader().bind(None)
        outer.rollback()
        connection.close()


@pytest.fixture
def client(app):
    return app.test_client()


_counter = itertools.count(1)


class Factory:
    """Objects made through the services, the way the API makes them."""

    def __init__(self, client):
        self.client = client

    def customer(self, **overrides):
        """A registered customer with a default address (`default_address=None` for one without)."""
        from app.accounts import services

        n = next(_counter)
        data = {
            "name": f"Customer {n}",
            "email": f"customer{n}@example.com",
            "phone": None,
            "username": f"customer{n}",
            "password": PASSWORD,
            "default_address": address(name=f"Customer {n}"),
        }
        data.update(overrides)
        customer, account = services.register(data)
        return account

    def admin(self, **overrides):
        """An admin whose customer record has a default address (`default_address=None` for none)."""
        from app.accounts import services
        from app.customers.addresses import set_default_address

        n = next(_counter)
        data = {
            "username": f"admin{n}",
            "email": f"admin{n}@example.com",
            "password": PASSWORD,
            "default_address": address(name=f"Admin {n}"),
        }
        data.update(overrides)
        account = services.create_admin(data["username"], data["email"], data["password"])
        if data["default_address"] is not None:
            set_default_address(account.customer, data["default_address"])
            db.session.commit()
        return account

    def login(self, account, password: str = PASSWORD) -> dict:
        """The token response of a successful login; `account` is an Account or a username/email."""
        response = login(self.client, getattr(account, "username", account), password)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def headers(self, account, password: str = PASSWORD) -> dict:
        return bearer(self.login(account, password)["access_token"])


def address(**overrides) -> dict:
    """A valid postal address, as the API takes it."""
    data = {
        "name": "Ada Reader",
        "line1": "12 Baker Street",
        "line2": None,
        "city": "London",
        "postal_code": "NW1 6XE",
        "country": "GB",
        "phone": None,
    }
    data.update(overrides)
    return data


def login(client, username: str, password: str = PASSWORD):
    """POST /login and return the response, whatever it is."""
    return client.post("/login", json={"username": username, "password": password})


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def book(app):
    """book(**overrides): a book row committed straight to the catalogue (default: 10 copies at 9.99)."""
    from decimal import Decimal

    from app.books.models import Book

    def make_book(**overrides):
        data = {"title": "Dune", "author": "Frank Herbert", "price": Decimal("9.99"), "stock": 10}
        data.update(overrides)
        row = Book(**data)
        db.session.add(row)
        db.session.commit()
        return row

    return make_book


@pytest.fixture
def make(client):
    return Factory(client)


@pytest.fixture
def customer(make):
    return make.customer()


@pytest.fixture
def admin(make):
    return make.admin()


@pytest.fixture
def customer_headers(make, customer):
    return make.headers(customer)


@pytest.fixture
def admin_headers(make, admin):
    return make.headers(admin)


def assert_problem(response, status: int, *fields):
    """The response is problem+json with this status, naming these fields in `errors`."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert {"type", "title", "status", "detail"} <= body.keys()
    for field in fields:
        assert field in body.get("errors", {}), body
    return body


# Text that must never reach a client: bcrypt hashes and the factory password.
SECRET_MARKERS = ("$2b$", "$2a$", "$2y$", PASSWORD)


@pytest.fixture
def no_secrets(app):
    """Fail the test if any response it receives contains a password or a bcrypt hash.

    Yields a set: add to it any other password the test sends."""
    markers = set(SECRET_MARKERS)
    leaks = []

    def check(sender, response, **extra):
        if response.direct_passthrough or response.is_streamed:
            return  # static files (the docs' JavaScript)
        body = response.get_data().decode("utf-8", "replace") + "\n" + str(response.headers)  # images too
        found = sorted(m for m in markers if m in body)
        if found:
            leaks.append(f"{request.method} {request.path} -> {response.status_code}: {found}")

    with request_finished.connected_to(check, app):
        yield markers
    assert not leaks, "secrets in responses:\n" + "\n".join(leaks)


def row_counts() -> dict:
    """Rows in every table, read on the test's connection (so the requests' writes show)."""
    counts = {
        table.name: db.session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        for table in db.metadata.sorted_tables
    }
    db.session.commit()  # ends this read's savepoint; undoes nothing
    return counts


def together(n: int, call) -> list:
    """Run call(i) for i in range(n) in n threads released at the same moment; results in order."""
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        return call(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))
