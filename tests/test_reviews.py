"""Reviews and ratings (issue 14): who may review, one review per book, the author's edits, helpful
votes, moderation, and the book's rating_average / rating_count kept exact by the triggers of
migration 0009 after every kind of change (compared with a direct AVG over the visible reviews)."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app import create_app
from app.books.models import Book
from app.extensions import db
from app.reviews.models import BODY_MAX, HelpfulVote, Review
from app.reviews.seed import seed_reviews
from config import TestingConfig
from tests.conftest import MIGRATIONS, assert_problem


class Shop:
    """Buyers with orders in a chosen status, through the API."""

    def __init__(self, client, make, book):
        self.client = client
        self.make = make
        self.make_book = book
        self.admin = make.admin()
        self.admin_headers = make.headers(self.admin)

    def buyer(self, *books, status: str = "paid", **overrides):
        """A customer (account, headers) whose order of `books` is in `status`."""
        account = self.make.customer(**overrides)
        headers = self.make.headers(account)
        if books:
            self.order(headers, books, status)
        return account, headers

    def order(self, headers, books, status: str = "paid") -> int:
        items = [{"book_id": b.id, "quantity": 1} for b in books]
        r = self.client.post("/orders", json={"items": items}, headers=headers)
        assert r.status_code == 201, r.get_json()
        order_id = r.get_json()["id"]
        path = {"pending": [], "paid": ["paid"], "shipped": ["paid", "shipped"]}.get(status)
        if path is None:
            path = {"delivered": ["paid", "shipped", "delivered"], "cancelled": ["cancelled"]}[status]
        for step in path:
            r = self.client.patch(f"/orders/{order_id}/status", json={"status": step}, headers=self.admin_headers)
            assert r.status_code == 200, r.get_json()
        return order_id

    def review(self, book, headers, rating=4, **body):
        r = self.client.post(f"/books/{book.id}/reviews", json={"rating": rating, **body}, headers=headers)
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    def book_doc(self, book) -> dict:
        r = self.client.get(f"/books/{book.id}")
        assert r.status_code == 200
        return r.get_json()


@pytest.fixture
def shop(client, make, book):
    return Shop(client, make, book)


def expected_rating(book_id: int) -> tuple[str | None, int]:
    """rating_average and rating_count computed directly from the visible reviews."""
    avg, count = db.session.execute(
        sa.select(sa.func.avg(Review.rating), sa.func.count()).where(
            Review.book_id == book_id, Review.is_hidden == sa.false()
        )
    ).one()
    db.session.commit()
    if not count:
        return None, 0
    return str(Decimal(str(avg)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)), count


def assert_exact(shop, book) -> dict:
    doc = shop.book_doc(book)
    assert (doc["rating_average"], doc["rating_count"]) == expected_rating(book.id)
    listed = [b for b in shop.client.get("/books?per_page=100").get_json()["items"] if b["id"] == book.id]
    assert listed and listed[0]["rating_average"] == doc["rating_average"]
    assert listed[0]["rating_count"] == doc["rating_count"]
    return doc


# --- who may review ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, allowed",
    [("pending", False), ("cancelled", False), ("paid", True), ("shipped", True), ("delivered", True)],
)
def test_only_a_paid_shipped_or_delivered_order_makes_a_buyer(shop, client, book, status, allowed):
    novel = book(title="Eligible")
    _, headers = shop.buyer(novel, status=status)

    mine = client.get(f"/books/{novel.id}/reviews/mine", headers=headers)
    r = client.post(f"/books/{novel.id}/reviews", json={"rating": 5}, headers=headers)

    assert mine.status_code == 200
    assert mine.get_json() == {"can_review": allowed, "purchased": allowed, "review": None}
    if allowed:
        assert r.status_code == 201
        assert r.headers["Location"] == f"/reviews/{r.get_json()['id']}"
    else:
        body = assert_problem(r, 403)
        assert body["detail"].startswith("You can review this book once you have bought it")
        assert shop.book_doc(novel)["rating_count"] == 0


def test_a_non_buyer_and_an_admin_who_did_not_buy_are_refused(shop, client, book):
    novel, other = book(title="Bought"), book(title="Not bought")
    _, headers = shop.buyer(other)

    assert_problem(client.post(f"/books/{novel.id}/reviews", json={"rating": 3}, headers=headers), 403)
    assert_problem(client.post(f"/books/{novel.id}/reviews", json={"rating": 3}, headers=shop.admin_headers), 403)
    assert_problem(client.post(f"/books/{novel.id}/reviews", json={"rating": 3}), 401)


def test_an_admin_who_bought_the_book_may_review_it(shop, client, book):
    novel = book()
    shop.order(shop.admin_headers, [novel])

    shop.review(novel, shop.admin_headers, rating=2)

    assert shop.book_doc(novel)["rating_count"] == 1


def test_one_review_per_customer_and_book(shop, client, book):
    novel = book()
    _, headers = shop.buyer(novel)
    first = shop.review(novel, headers)
    shop.order(headers, [novel])  # buying it again gives no second review

    again = client.post(f"/books/{novel.id}/reviews", json={"rating": 1}, headers=headers)

    body = assert_problem(again, 409)
    assert body["review_id"] == first["id"]
    mine = client.get(f"/books/{novel.id}/reviews/mine", headers=headers).get_json()
    assert mine["can_review"] is False and mine["purchased"] is True and mine["review"]["id"] == first["id"]
    assert shop.book_doc(novel)["rating_count"] == 1


@pytest.mark.parametrize("path", ["/books/{id}/reviews", "/books/{id}/reviews/mine"])
def test_unknown_and_retired_books_are_404(shop, client, book, path):
    novel = book()
    _, headers = shop.buyer(novel)
    r = client.delete(f"/books/{novel.id}", headers=shop.admin_headers)  # ordered: retired, not deleted
    assert r.status_code == 204

    for book_id in (novel.id, 999_999):
        url = path.format(id=book_id)
        assert_problem(client.get(url, headers=headers), 404)
        if url.endswith("/reviews"):
            assert_problem(client.post(url, json={"rating": 5}, headers=headers), 404)


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, field",
    [
        ({"rating": 0}, "rating"),
        ({"rating": 6}, "rating"),
        ({"rating": 1.5}, "rating"),
        ({"rating": "5"}, "rating"),
        ({"rating": True}, "rating"),
        ({"rating": None}, "rating"),
        ({}, "rating"),
        ({"rating": 5, "body": "x" * (BODY_MAX + 1)}, "body"),
        ({"rating": 5, "body": "bell \x07"}, "body"),
        ({"rating": 5, "body": "right-to-left \u202e override"}, "body"),
        ({"rating": 5, "body": "lone \ud800"}, "body"),
        ({"rating": 5, "body": "   \n  "}, "body"),
        ({"rating": 5, "title": "two\nlines"}, "title"),
        ({"rating": 5, "title": "x" * 121}, "title"),
        ({"rating": 5, "title": ""}, "title"),
        ({"rating": 5, "stars": 5}, "stars"),
        ({"rating": 5, "helpful_count": 100}, "helpful_count"),
    ],
)
def test_bad_review_bodies_are_400_and_change_nothing(shop, client, book, body, field):
    novel = book()
    _, headers = shop.buyer(novel)

    r = client.post(f"/books/{novel.id}/reviews", json=body, headers=headers)

    assert_problem(r, 400, field)
    assert db.session.execute(sa.select(sa.func.count()).select_from(Review)).scalar_one() == 0
    db.session.commit()


def test_text_round_trips_exactly(shop, client, book):
    novel = book()
    _, headers = shop.buyer(novel)
    body = '  <script>alert("x")</script> & <b>bold</b>\n\tSecond line 📚 naïve — “quoted” \r\n'
    title = "<img src=x onerror=alert(1)> 👍"

    created = shop.review(novel, headers, rating=5, title=title, body=body)
    listed = client.get(f"/books/{novel.id}/reviews").get_json()["items"][0]
    stored = db.session.get(Review, created["id"])

    assert created["body"] == listed["body"] == stored.body == body
    assert created["title"] == listed["title"] == stored.title == title
    assert client.get(f"/books/{novel.id}/reviews").mimetype == "application/json"


def test_a_body_of_the_maximum_length_is_accepted(shop, client, book):
    novel = book()
    _, headers = shop.buyer(novel)

    created = shop.review(novel, headers, rating=3, body="é" * BODY_MAX)

    assert len(created["body"]) == BODY_MAX


# --- the author's edits, deletes and other people --------------------------------------------------


def test_the_author_edits_and_deletes_their_review(shop, client, book):
    novel = book()
    _, headers = shop.buyer(novel)
    review = shop.review(novel, headers, rating=2, title="Meh")

    r = client.patch(f"/reviews/{review['id']}", json={"rating": 5, "body": "Grew on me."}, headers=headers)

    assert r.status_code == 200
    assert (r.get_json()["rating"], r.get_json()["title"], r.get_json()["body"]) == (5, "Meh", "Grew on me.")
    assert assert_exact(shop, novel)["rating_average"] == "5.00"
    assert_problem(client.patch(f"/reviews/{review['id']}", json={"rating": 0}, headers=headers), 400, "rating")
    assert client.delete(f"/reviews/{review['id']}", headers=headers).status_code == 204
    assert_problem(client.get(f"/reviews/{review['id']}"), 404)
    assert assert_exact(shop, novel)["rating_average"] is None
    mine = client.get(f"/books/{novel.id}/reviews/mine", headers=headers).get_json()
    assert mine == {"can_review": True, "purchased": True, "review": None}


def test_others_cannot_edit_or_delete_a_review(shop, client, book):
    novel = book()
    _, author = shop.buyer(novel)
    _, other = shop.buyer(novel)
    review = shop.review(novel, author, rating=4)

    assert_problem(client.patch(f"/reviews/{review['id']}", json={"rating": 1}, headers=other), 403)
    assert_problem(client.delete(f"/reviews/{review['id']}", headers=other), 403)
    assert_problem(client.patch(f"/reviews/{review['id']}", json={"rating": 1}, headers=shop.admin_headers), 403)
    assert_problem(client.patch("/reviews/999999", json={"rating": 1}, headers=other), 404)
    assert client.get(f"/reviews/{review['id']}").get_json()["rating"] == 4


def test_an_admin_deletes_any_review(shop, client, book):
    novel = book()
    _, author = shop.buyer(novel)
    review = shop.review(novel, author, rating=1)

    assert client.delete(f"/reviews/{review['id']}", headers=shop.admin_headers).status_code == 204

    assert assert_exact(shop, novel)["rating_count"] == 0


# --- moderation --------------------------------------------------------------------------------


def test_hide_and_unhide_with_a_reason(shop, client, book):
    novel = book()
    _, author = shop.buyer(novel)
    _, other = shop.buyer(novel)
    hidden = shop.review(novel, author, rating=1, body="Spam spam spam")
    shop.review(novel, other, rating=4)

    r = client.post(f"/reviews/{hidden['id']}/hide", json={"reason": "Advertising"}, headers=shop.admin_headers)

    assert r.status_code == 200 and r.get_json()["hidden"] is True and r.get_json()["hidden_reason"] == "Advertising"
    assert assert_exact(shop, novel)["rating_average"] == "4.00"
    public = client.get(f"/books/{novel.id}/reviews").get_json()
    assert [i["rating"] for i in public["items"]] == [4] and public["total"] == 1
    assert_problem(client.get(f"/reviews/{hidden['id']}"), 404)
    assert_problem(client.get(f"/reviews/{hidden['id']}", headers=other), 404)
    own = client.get(f"/reviews/{hidden['id']}", headers=author).get_json()
    assert own["hidden"] is True and own["hidden_reason"] == "Advertising"
    mine = client.get(f"/books/{novel.id}/reviews/mine", headers=author).get_json()
    assert mine["review"]["hidden_reason"] == "Advertising" and mine["can_review"] is False
    # The author may still edit it; it stays hidden and out of the average.
    assert client.patch(f"/reviews/{hidden['id']}", json={"rating": 5}, headers=author).status_code == 200
    assert assert_exact(shop, novel)["rating_average"] == "4.00"
    queue = client.get("/reviews?hidden=true", headers=shop.admin_headers).get_json()
    assert [i["id"] for i in queue["items"]] == [hidden["id"]]
    assert_problem(client.get("/reviews?hidden=true", headers=other), 403)
    assert_problem(client.post(f"/reviews/{hidden['id']}/hide", json={"reason": "x"}, headers=author), 403)
    assert_problem(client.post(f"/reviews/{hidden['id']}/hide", json={}, headers=shop.admin_headers), 400, "reason")

    r = client.post(f"/reviews/{hidden['id']}/unhide", headers=shop.admin_headers)

    assert r.status_code == 200 and r.get_json()["hidden"] is False and r.get_json()["hidden_reason"] is None
    assert assert_exact(shop, novel)["rating_average"] == "4.50"
    assert client.get("/reviews?hidden=true", headers=shop.admin_headers).get_json()["total"] == 0


def test_hiding_twice_and_unhiding_a_visible_review_keep_the_sums_exact(shop, client, book):
    novel = book()
    _, author = shop.buyer(novel)
    review = shop.review(novel, author, rating=3)
    admin = shop.admin_headers

    for _ in range(2):
        assert (
            client.post(f"/reviews/{review['id']}/hide", json={"reason": "Off topic"}, headers=admin).status_code == 200
        )
        assert assert_exact(shop, novel)["rating_count"] == 0
    for _ in range(2):
        assert client.post(f"/reviews/{review['id']}/unhide", headers=admin).status_code == 200
        assert assert_exact(shop, novel)["rating_count"] == 1
    assert_problem(client.post("/reviews/999999/unhide", headers=admin), 404)


# --- ratings stay exact --------------------------------------------------------------------------


def test_averages_stay_exact_through_every_kind_of_change(shop, client, book, make):
    novel, other_book = book(title="Rated"), book(title="Untouched")
    buyers = [shop.buyer(novel, other_book, status="delivered") for _ in range(4)]
    reviews = []
    for (_, headers), rating in zip(buyers, (5, 4, 4, 2), strict=True):
        reviews.append(shop.review(novel, headers, rating=rating))
        assert_exact(shop, novel)
    shop.review(other_book, buyers[0][1], rating=1)

    doc = assert_exact(shop, novel)
    assert (doc["rating_average"], doc["rating_count"]) == ("3.75", 4)

    client.patch(f"/reviews/{reviews[3]['id']}", json={"rating": 3}, headers=buyers[3][1])
    assert assert_exact(shop, novel)["rating_average"] == "4.00"
    client.post(f"/reviews/{reviews[0]['id']}/hide", json={"reason": "Abuse"}, headers=shop.admin_headers)
    assert assert_exact(shop, novel)["rating_average"] == "3.67"  # (4 + 4 + 3) / 3, half up
    client.delete(f"/reviews/{reviews[1]['id']}", headers=buyers[1][1])
    assert assert_exact(shop, novel)["rating_average"] == "3.50"
    # A deleted customer's reviews go with them, and so do their helpful votes.
    client.put(f"/reviews/{reviews[3]['id']}/helpful", headers=buyers[2][1])
    assert client.delete(f"/customers/{buyers[2][0].customer_id}", headers=shop.admin_headers).status_code == 204
    doc = assert_exact(shop, novel)
    assert (doc["rating_average"], doc["rating_count"]) == ("3.00", 1)
    assert client.get(f"/reviews/{reviews[3]['id']}").get_json()["helpful_count"] == 0
    # A deleted customer's hidden review leaves the sums as they were.
    assert client.delete(f"/customers/{buyers[0][0].customer_id}", headers=shop.admin_headers).status_code == 204
    assert assert_exact(shop, novel)["rating_count"] == 1
    assert assert_exact(shop, other_book)["rating_count"] == 0
    db.session.expire_all()
    stored = db.session.get(Book, novel.id)
    assert (stored.rating_count, stored.rating_sum) == (1, 3)
    db.session.commit()


def test_the_book_document_of_an_unreviewed_book(shop, client, book):
    novel = book()

    doc = shop.book_doc(novel)

    assert doc["rating_average"] is None and doc["rating_count"] == 0


def test_rating_average_rounds_half_up_to_two_places(shop, client, book):
    novel = book()
    for rating in (5, 4, 4, 4, 4, 4, 4, 4):  # 33 / 8 = 4.125
        _, headers = shop.buyer(novel)
        shop.review(novel, headers, rating=rating)

    assert shop.book_doc(novel)["rating_average"] == "4.13"


# --- helpful votes and the list ------------------------------------------------------------------


def test_helpful_votes_are_one_per_customer_and_idempotent(shop, client, book):
    novel = book()
    _, author = shop.buyer(novel)
    _, voter = shop.buyer()
    review = shop.review(novel, author)

    first = client.put(f"/reviews/{review['id']}/helpful", headers=voter)
    second = client.put(f"/reviews/{review['id']}/helpful", headers=voter)
    by_admin = client.put(f"/reviews/{review['id']}/helpful", headers=shop.admin_headers)

    assert [r.status_code for r in (first, second, by_admin)] == [200, 200, 200]
    assert [r.get_json()["helpful_count"] for r in (first, second, by_admin)] == [1, 1, 2]
    assert_problem(client.put(f"/reviews/{review['id']}/helpful", headers=author), 403)
    assert_problem(client.put(f"/reviews/{review['id']}/helpful"), 401)
    assert_problem(client.put("/reviews/999999/helpful", headers=voter), 404)
    withdrawn = client.delete(f"/reviews/{review['id']}/helpful", headers=voter)
    again = client.delete(f"/reviews/{review['id']}/helpful", headers=voter)
    assert [withdrawn.get_json()["helpful_count"], again.get_json()["helpful_count"]] == [1, 1]
    votes = db.session.execute(sa.select(sa.func.count()).select_from(HelpfulVote)).scalar_one()
    db.session.commit()
    assert votes == 1


def test_a_hidden_review_takes_no_votes(shop, client, book):
    novel = book()
    _, author = shop.buyer(novel)
    _, voter = shop.buyer()
    review = shop.review(novel, author)
    client.post(f"/reviews/{review['id']}/hide", json={"reason": "Spoilers"}, headers=shop.admin_headers)

    assert_problem(client.put(f"/reviews/{review['id']}/helpful", headers=voter), 404)


def test_sort_newest_and_helpful_and_pagination(shop, client, book):
    novel = book()
    authors = [shop.buyer(novel) for _ in range(5)]
    ids = [shop.review(novel, headers, rating=1 + i)["id"] for i, (_, headers) in enumerate(authors)]
    voters = [shop.buyer()[1] for _ in range(3)]
    for voter in voters:  # ids[1]: 3 votes, ids[3]: 2 votes, ids[0]: 1 vote
        client.put(f"/reviews/{ids[1]}/helpful", headers=voter)
    for voter in voters[:2]:
        client.put(f"/reviews/{ids[3]}/helpful", headers=voter)
    client.put(f"/reviews/{ids[0]}/helpful", headers=voters[0])

    newest = client.get(f"/books/{novel.id}/reviews").get_json()
    helpful = client.get(f"/books/{novel.id}/reviews?sort=helpful").get_json()
    page2 = client.get(f"/books/{novel.id}/reviews?sort=helpful&per_page=2&page=2")

    assert [i["id"] for i in newest["items"]] == ids[::-1]
    assert [i["id"] for i in helpful["items"]] == [ids[1], ids[3], ids[0], ids[4], ids[2]]
    assert page2.status_code == 200
    assert [i["id"] for i in page2.get_json()["items"]] == [ids[0], ids[4]]
    assert (page2.get_json()["total"], page2.get_json()["pages"]) == (5, 3)
    assert 'rel="next"' in page2.headers["Link"] and "sort=helpful" in page2.headers["Link"]
    assert_problem(client.get(f"/books/{novel.id}/reviews?sort=rating"), 400, "sort")
    assert_problem(client.get(f"/books/{novel.id}/reviews?per_page=0"), 400, "per_page")


def test_the_author_name_is_first_name_and_initial(shop, client, book):
    novel = book()
    _, headers = shop.buyer(novel, name="Ada Lovelace King")

    review = shop.review(novel, headers)

    assert review["author_name"] == "Ada K."
    assert "Lovelace" not in client.get(f"/books/{novel.id}/reviews").get_data(as_text=True)


def test_review_writes_are_rate_limited_per_account(shop, client, book, app, monkeypatch):
    monkeypatch.setitem(app.config, "REVIEW_RATE_LIMIT", "3 per hour")
    novel = book()
    _, author = shop.buyer(novel)
    _, voter = shop.buyer()
    review = shop.review(novel, author)

    answers = [client.put(f"/reviews/{review['id']}/helpful", headers=voter).status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]
    assert client.patch(f"/reviews/{review['id']}", json={"rating": 2}, headers=author).status_code == 200


# --- the migration -----------------------------------------------------------------------------

SEED = [
    "INSERT INTO customers (id, name, email, created_at, updated_at) VALUES (1, 'Ada L', 'a@example.com', {now}, {now})",
    "INSERT INTO books (id, title, author, price, stock, is_retired, units_sold, created_at, updated_at)"
    " VALUES (1, 'T', 'A', 1.00, 1, false, 0, {now}, {now})",
]
REVIEW = (
    "INSERT INTO reviews (book_id, customer_id, rating, helpful_count, is_hidden, created_at, updated_at)"
    " VALUES (1, 1, 4, 0, false, {now}, {now})"
)


@pytest.fixture
def scratch_app(app, tmp_path):
    """An app of its own on an empty database (a file on SQLite, a scratch database on MariaDB)."""
    url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "mysql":
        scratch = url.set(database=f"{url.database}_migrations")
        server = sa.create_engine(url.set(database=""))
        with server.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{scratch.database}`")
            conn.exec_driver_sql(
                f"CREATE DATABASE `{scratch.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
    else:
        scratch, server = sa.make_url(f"sqlite:///{tmp_path / 'scratch.db'}"), None

    config = type("ScratchConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": scratch.render_as_string(False)})
    other = create_app(config)
    try:
        yield other
    finally:
        with other.app_context():
            db.engine.dispose()
        if server is not None:
            with server.connect() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{scratch.database}`")
            server.dispose()


def test_migration_0009_downgrades_and_upgrades_with_its_triggers(scratch_app):
    with scratch_app.app_context():
        now = "CURRENT_TIMESTAMP"
        upgrade(directory=MIGRATIONS, revision="0009")
        with db.engine.begin() as conn:
            for statement in SEED:
                conn.exec_driver_sql(statement.format(now=now))
            conn.exec_driver_sql(REVIEW.format(now=now))
            assert conn.exec_driver_sql("SELECT rating_count, rating_sum FROM books").one() == (1, 4)

        downgrade(directory=MIGRATIONS, revision="-1")  # one step: 0009 only
        inspector = sa.inspect(db.engine)
        assert "reviews" not in inspector.get_table_names()
        assert not {"rating_count", "rating_sum"} & {c["name"] for c in inspector.get_columns("books")}
        with db.engine.begin() as conn:
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM books").scalar() == 1
            conn.exec_driver_sql("DELETE FROM customers")  # no trigger left behind names a dropped table

        upgrade(directory=MIGRATIONS, revision="0009")
        with db.engine.begin() as conn:
            conn.exec_driver_sql(SEED[0].format(now=now))
            assert conn.exec_driver_sql("SELECT rating_count, rating_sum FROM books").one() == (0, 0)
            conn.exec_driver_sql(REVIEW.format(now=now))
            assert conn.exec_driver_sql("SELECT rating_count, rating_sum FROM books").one() == (1, 4)
            conn.exec_driver_sql("DELETE FROM customers")
            assert conn.exec_driver_sql("SELECT rating_count, rating_sum FROM books").one() == (0, 0)
        downgrade(directory=MIGRATIONS, revision="base")


# --- flask seed ----------------------------------------------------------------------------------


def test_seed_reviews_the_delivered_books_once_and_keeps_ratings_exact(shop, client, book):
    books = [book(title=f"Seeded {n}") for n in range(6)]
    for _ in range(3):
        shop.buyer(*books, status="delivered")
    shop.buyer(*books, status="paid")  # not delivered: never reviewed by the seed
    told = []

    added = seed_reviews(echo=told.append)
    again = seed_reviews(echo=told.append)

    assert 0 < added <= 18 and again == 0
    assert told[-1] == "  demo reviews: kept (there are reviews already)"
    assert db.session.execute(sa.select(sa.func.count()).select_from(Review)).scalar_one() == added
    db.session.commit()
    for novel in books:
        assert_exact(shop, novel)


def test_an_account_without_a_customer_record_cannot_review_or_vote(shop, client, book, make):
    novel = book()
    _, author = shop.buyer(novel)
    review = shop.review(novel, author)
    body = {"username": "no-customer", "password": "a-long-password-1"}
    assert client.post("/accounts", json=body, headers=shop.admin_headers).status_code == 201
    headers = make.headers("no-customer", "a-long-password-1")

    assert_problem(client.post(f"/books/{novel.id}/reviews", json={"rating": 5}, headers=headers), 403)
    assert_problem(client.get(f"/books/{novel.id}/reviews/mine", headers=headers), 403)
    assert_problem(client.put(f"/reviews/{review['id']}/helpful", headers=headers), 403)


def test_a_bad_token_on_the_public_review_read_is_401(shop, client, book):
    novel = book()
    _, author = shop.buyer(novel)
    review = shop.review(novel, author)

    assert client.get(f"/reviews/{review['id']}").status_code == 200
    assert_problem(client.get(f"/reviews/{review['id']}", headers={"Authorization": "Bearer not-a-token"}), 401)
