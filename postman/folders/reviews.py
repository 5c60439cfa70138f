"""Reviews and ratings: a buyer's flow (a fresh book, ordered and paid), the book's average, helpful
votes, moderation, and the refusals (non-buyer, second review, bad rating, someone else's review)."""

from __future__ import annotations

import json

from folders.common import envelope, folder, fresh, location, no_content, problem, request, status, test

REVIEW_TEXT = 'Loved it.\nThe <script>alert("x")</script> chapter is shown as text 📚'


def _rating(average: str | None, count: int) -> str:
    expected = "null" if average is None else f'"{average}"'
    return (
        status(200)
        + "\n"
        + test(
            f"rating_average {average}, rating_count {count}",
            f"""
        const book = pm.response.json();
        pm.expect(book.rating_average).to.eql({expected});
        pm.expect(book.rating_count).to.eql({count});
        """,
        )
    )


def reviews_folder() -> dict:
    items = [
        request(
            "Create a book to review (admin)",
            "POST",
            "/books",
            token="adminToken",
            prerequest=fresh(("reviewBookTitle", '"Reviewed Book " + suffix')),
            json_body={"title": "{{reviewBookTitle}}", "author": "Rhea Viewer", "price": "8.00", "stock": 5},
            tests=status(201)
            + "\n"
            + test(
                "no rating yet; id stored",
                """
                const book = pm.response.json();
                pm.expect(book.rating_average).to.eql(null);
                pm.expect(book.rating_count).to.eql(0);
                pm.collectionVariables.set("reviewBookId", book.id);
                """,
            ),
        ),
        request(
            "May I review it? Not bought yet",
            "GET",
            "/books/{{reviewBookId}}/reviews/mine",
            token="customerToken",
            tests=status(200)
            + "\n"
            + test(
                "cannot review, no review",
                "pm.expect(pm.response.json()).to.eql({can_review: false, purchased: false, review: null});",
            ),
        ),
        request(
            "Review a book not bought → 403",
            "POST",
            "/books/{{reviewBookId}}/reviews",
            token="customerToken",
            json_body={"rating": 5},
            tests=problem(403)
            + "\n"
            + test("says why", 'pm.expect(pm.response.json().detail).to.include("once you have bought it");'),
        ),
        request(
            "Order the book",
            "POST",
            "/orders",
            token="customerToken",
            json_body={"items": [{"book_id": "{{=reviewBookId}}", "quantity": 1}]},
            tests=status(201)
            + "\n"
            + test("pending; id stored", 'pm.collectionVariables.set("reviewOrderId", pm.response.json().id);'),
        ),
        request(
            "Pending does not make a buyer",
            "GET",
            "/books/{{reviewBookId}}/reviews/mine",
            token="customerToken",
            tests=status(200) + "\n" + test("cannot review", "pm.expect(pm.response.json().can_review).to.eql(false);"),
        ),
        request(
            "Mark the order paid (admin)",
            "PATCH",
            "/orders/{{reviewOrderId}}/status",
            token="adminToken",
            json_body={"status": "paid"},
            tests=status(200) + "\n" + test("paid", 'pm.expect(pm.response.json().status).to.eql("paid");'),
        ),
        request(
            "May I review it? Bought",
            "GET",
            "/books/{{reviewBookId}}/reviews/mine",
            token="customerToken",
            tests=status(200)
            + "\n"
            + test(
                "can review",
                "pm.expect(pm.response.json()).to.eql({can_review: true, purchased: true, review: null});",
            ),
        ),
        request(
            "Review with a rating of 6 → 400",
            "POST",
            "/books/{{reviewBookId}}/reviews",
            token="customerToken",
            json_body={"rating": 6},
            tests=problem(400, "rating"),
        ),
        request(
            'Review with the rating as a string "5" → 400',
            "POST",
            "/books/{{reviewBookId}}/reviews",
            token="customerToken",
            json_body={"rating": "5"},
            tests=problem(400, "rating"),
        ),
        request(
            "Review without a token → 401",
            "POST",
            "/books/{{reviewBookId}}/reviews",
            json_body={"rating": 5},
            tests=problem(401),
        ),
        request(
            "Review the book (4 stars)",
            "POST",
            "/books/{{reviewBookId}}/reviews",
            token="customerToken",
            json_body={"rating": 4, "title": "Worth it", "body": REVIEW_TEXT},
            tests=status(201)
            + "\n"
            + location("/reviews/\\d+")
            + "\n"
            + test(
                "the review, text exactly as sent; id stored",
                f"""
                const review = pm.response.json();
                pm.expect(review).to.include.keys("id", "book_id", "rating", "title", "body", "author_name",
                    "verified_purchase", "helpful_count", "hidden", "hidden_reason", "created_at", "updated_at");
                pm.expect(review.rating).to.eql(4);
                pm.expect(review.body).to.eql({json.dumps(REVIEW_TEXT, ensure_ascii=False)});
                pm.expect(review.helpful_count).to.eql(0);
                pm.expect(review.hidden).to.eql(false);
                pm.expect(review.verified_purchase).to.eql(true);
                pm.collectionVariables.set("reviewId", review.id);
                """,
            ),
        ),
        request(
            "Review it a second time → 409",
            "POST",
            "/books/{{reviewBookId}}/reviews",
            token="customerToken",
            json_body={"rating": 1},
            tests=problem(409)
            + "\n"
            + test(
                "names the existing review",
                'pm.expect(String(pm.response.json().review_id)).to.eql(pm.collectionVariables.get("reviewId"));',
            ),
        ),
        request("The book: average 4.00 of 1", "GET", "/books/{{reviewBookId}}", tests=_rating("4.00", 1)),
        request(
            "The book's reviews, most helpful first",
            "GET",
            "/books/{{reviewBookId}}/reviews?sort=helpful",
            tests=status(200)
            + "\n"
            + envelope()
            + "\n"
            + test(
                "the one review",
                """
                const body = pm.response.json();
                pm.expect(body.total).to.eql(1);
                pm.expect(String(body.items[0].id)).to.eql(pm.collectionVariables.get("reviewId"));
                """,
            ),
        ),
        request(
            "One review",
            "GET",
            "/reviews/{{reviewId}}",
            tests=status(200) + "\n" + test("4 stars", "pm.expect(pm.response.json().rating).to.eql(4);"),
        ),
        request(
            "Change my rating to 2",
            "PATCH",
            "/reviews/{{reviewId}}",
            token="customerToken",
            json_body={"rating": 2},
            tests=status(200)
            + "\n"
            + test(
                "rating changed, title kept",
                """
                const review = pm.response.json();
                pm.expect(review.rating).to.eql(2);
                pm.expect(review.title).to.eql("Worth it");
                """,
            ),
        ),
        request(
            "Someone else's review (admin) → 403",
            "PATCH",
            "/reviews/{{reviewId}}",
            token="adminToken",
            json_body={"rating": 5},
            tests=problem(403),
        ),
        request("The book: average 2.00 of 1", "GET", "/books/{{reviewBookId}}", tests=_rating("2.00", 1)),
        request(
            "Mark my own review helpful → 403",
            "PUT",
            "/reviews/{{reviewId}}/helpful",
            token="customerToken",
            tests=problem(403),
        ),
        request(
            "Mark it helpful (admin, twice counts once)",
            "PUT",
            "/reviews/{{reviewId}}/helpful",
            token="adminToken",
            tests=status(200) + "\n" + test("one vote", "pm.expect(pm.response.json().helpful_count).to.eql(1);"),
        ),
        request(
            "Withdraw the helpful vote (admin)",
            "DELETE",
            "/reviews/{{reviewId}}/helpful",
            token="adminToken",
            tests=status(200) + "\n" + test("no vote", "pm.expect(pm.response.json().helpful_count).to.eql(0);"),
        ),
        request(
            "Hide it without a reason → 400",
            "POST",
            "/reviews/{{reviewId}}/hide",
            token="adminToken",
            json_body={},
            tests=problem(400, "reason"),
        ),
        request(
            "Hide it (admin)",
            "POST",
            "/reviews/{{reviewId}}/hide",
            token="adminToken",
            json_body={"reason": "Off topic"},
            tests=status(200)
            + "\n"
            + test(
                "hidden with its reason",
                """
                const review = pm.response.json();
                pm.expect(review.hidden).to.eql(true);
                pm.expect(review.hidden_reason).to.eql("Off topic");
                """,
            ),
        ),
        request("The book: hidden reviews leave the average", "GET", "/books/{{reviewBookId}}", tests=_rating(None, 0)),
        request("A hidden review, anonymously → 404", "GET", "/reviews/{{reviewId}}", tests=problem(404)),
        request(
            "Hidden reviews (admin)",
            "GET",
            "/reviews?hidden=true&book_id={{reviewBookId}}",
            token="adminToken",
            tests=status(200)
            + "\n"
            + envelope()
            + "\n"
            + test(
                "the hidden review",
                'pm.expect(String(pm.response.json().items[0].id)).to.eql(pm.collectionVariables.get("reviewId"));',
            ),
        ),
        request(
            "Hidden reviews — a customer → 403",
            "GET",
            "/reviews?hidden=true",
            token="customerToken",
            tests=problem(403),
        ),
        request(
            "Unhide it (admin)",
            "POST",
            "/reviews/{{reviewId}}/unhide",
            token="adminToken",
            tests=status(200) + "\n" + test("visible", "pm.expect(pm.response.json().hidden).to.eql(false);"),
        ),
        request("The book: counted again", "GET", "/books/{{reviewBookId}}", tests=_rating("2.00", 1)),
        request("Delete my review", "DELETE", "/reviews/{{reviewId}}", token="customerToken", tests=no_content()),
        request("The book: no rating left", "GET", "/books/{{reviewBookId}}", tests=_rating(None, 0)),
        request("The deleted review → 404", "GET", "/reviews/{{reviewId}}", tests=problem(404)),
    ]
    return folder(
        "Reviews",
        "A buyer reviews a book (ordered and paid in this folder), its average follows every change; helpful "
        "votes, moderation and the refusals.",
        items,
    )
