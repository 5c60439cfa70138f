"""Reviews under real concurrency (MariaDB, a real gunicorn): simultaneous first reviews of one
customer meet the unique key (one 201, the rest 409, never a 5xx), and simultaneous reviews, helpful
votes and hides of many customers leave the book's rating_count / rating_sum and each review's
helpful_count equal to a count of the rows."""

import subprocess

import pytest
import requests
from sqlalchemy import text

from tests.conftest import bearer, together
from tests.live import ROOT, VENV_BIN, LiveDatabase, LiveServer, mysql_test_url

pytestmark = [
    pytest.mark.mysql_only,
    pytest.mark.skipif(mysql_test_url() is None, reason="needs TEST_DATABASE_URL on MySQL/MariaDB"),
]

PASSWORD = "password-123"


@pytest.fixture(scope="module")
def live():
    database = LiveDatabase("reviews")
    engine = database.create()
    server = LiveServer(database.url, workers=2, threads=4, extra_env={"REVIEW_RATE_LIMIT": "100000 per hour"}).start()
    try:
        subprocess.run(
            [str(VENV_BIN / "flask"), "create-admin", "--username", "boss", "--email", "boss@example.com"]
            + ["--password", PASSWORD],
            cwd=ROOT,
            env={**server.env, "FLASK_APP": "run.py"},
            check=True,
            capture_output=True,
            timeout=60,
        )
        r = requests.post(server.url("/login"), json={"username": "boss", "password": PASSWORD}, timeout=30)
        yield server, engine, bearer(r.json()["access_token"])
    finally:
        server.stop()
        database.drop()


def _book(engine, title: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text(
                "INSERT INTO books (title, author, price, stock, is_retired, units_sold, created_at, updated_at) "
                "VALUES (:t, 'Anon', 10.00, 1000, 0, 0, UTC_TIMESTAMP(), UTC_TIMESTAMP())"
            ),
            {"t": title},
        ).lastrowid


def _buyers(server, admin: dict, book_id: int, n: int, prefix: str) -> list[dict]:
    """n customers, each with a paid order of the book: their auth headers."""
    headers = []
    for i, token in enumerate(server.register(n, prefix=prefix)):
        h = bearer(token)
        r = requests.post(
            server.url("/orders"), json={"items": [{"book_id": book_id, "quantity": 1}]}, headers=h, timeout=30
        )
        assert r.status_code == 201, r.text
        r = requests.patch(
            server.url(f"/orders/{r.json()['id']}/status"), json={"status": "paid"}, headers=admin, timeout=30
        )
        assert r.status_code == 200, (i, r.text)
        headers.append(h)
    return headers


def test_simultaneous_first_reviews_give_one_201_and_409s(live):
    server, engine, admin = live
    book_id = _book(engine, "Twice reviewed")
    (headers,) = _buyers(server, admin, book_id, 1, "twice")

    answers = together(
        6,
        lambda i: requests.post(
            server.url(f"/books/{book_id}/reviews"), json={"rating": 1 + i % 5}, headers=headers, timeout=60
        ),
    )

    assert sorted(r.status_code for r in answers) == [201, 409, 409, 409, 409, 409], [r.text for r in answers]
    with engine.connect() as conn:
        count, total = conn.execute(
            text("SELECT rating_count, rating_sum FROM books WHERE id = :b"), {"b": book_id}
        ).one()
        rating = conn.execute(text("SELECT rating FROM reviews WHERE book_id = :b"), {"b": book_id}).scalar_one()
    assert (count, total) == (1, rating)


def test_concurrent_reviews_votes_and_hides_keep_the_counts_exact(live):
    server, engine, admin = live
    book_id = _book(engine, "Busy book")
    buyers = _buyers(server, admin, book_id, 8, "busy")

    created = together(
        8,
        lambda i: requests.post(
            server.url(f"/books/{book_id}/reviews"), json={"rating": 1 + i % 5}, headers=buyers[i], timeout=60
        ),
    )
    assert [r.status_code for r in created] == [201] * 8
    ids = [r.json()["id"] for r in created]

    def churn(i):
        """Every buyer votes for every other review, and withdraws from one; the admin hides two and edits none."""
        out = []
        for j, review_id in enumerate(ids):
            if j != i:
                out.append(requests.put(server.url(f"/reviews/{review_id}/helpful"), headers=buyers[i], timeout=60))
        out.append(requests.delete(server.url(f"/reviews/{ids[(i + 1) % 8]}/helpful"), headers=buyers[i], timeout=60))
        out.append(
            requests.patch(server.url(f"/reviews/{ids[i]}"), json={"rating": 5 - i % 5}, headers=buyers[i], timeout=60)
        )
        if i < 2:
            out.append(
                requests.post(
                    server.url(f"/reviews/{ids[i + 4]}/hide"), json={"reason": "Test"}, headers=admin, timeout=60
                )
            )
        return out

    answers = [r for batch in together(8, churn) for r in batch]

    # A vote may meet a review the admin has just hidden: 404, as for any hidden review.
    hidden = {f"/reviews/{ids[4]}/helpful", f"/reviews/{ids[5]}/helpful"}
    refused = [(r.request.url, r.status_code) for r in answers if r.status_code >= 400]
    assert all(code == 404 and url.endswith(tuple(hidden)) for url, code in refused), refused
    with engine.connect() as conn:
        count, total = conn.execute(
            text("SELECT rating_count, rating_sum FROM books WHERE id = :b"), {"b": book_id}
        ).one()
        expected = conn.execute(
            text("SELECT COUNT(*), COALESCE(SUM(rating), 0) FROM reviews WHERE book_id = :b AND NOT is_hidden"),
            {"b": book_id},
        ).one()
        drift = conn.execute(
            text(
                "SELECT r.id FROM reviews r WHERE r.book_id = :b AND r.helpful_count <> "
                "(SELECT COUNT(*) FROM review_helpful_votes v WHERE v.review_id = r.id)"
            ),
            {"b": book_id},
        ).all()
    assert (count, total) == tuple(expected) and count == 6
    assert drift == []
