"""HTTP for reviews: a book's reviews, the caller's own, the author's edits, helpful votes and moderation."""

from flask_jwt_extended import current_user

from app.api import Blueprint
from app.auth import ADMIN, AUTHENTICATED, optional_caller, public, requires
from app.limits import review_limit
from app.pagination import LINK_HEADER, page_schema
from app.reviews import services
from app.reviews.schemas import (
    BookReviewArgs,
    HideSchema,
    MyReviewSchema,
    ReviewListArgs,
    ReviewSchema,
    ReviewWriteSchema,
)

blp = Blueprint("reviews", __name__, description="Reviews and ratings by the customers who bought the book.")


@blp.get("/books/<int:book_id>/reviews")
@public
@blp.arguments(BookReviewArgs, location="query")
@blp.response(200, page_schema(ReviewSchema), headers=LINK_HEADER)
@blp.alt_response(404, response="NOT_FOUND")
def list_book_reviews(args, book_id):
    """A book's visible reviews, newest or most helpful first"""
    return services.list_book_reviews(book_id, args)


@blp.post("/books/<int:book_id>/reviews")
@requires(AUTHENTICATED)
@review_limit
@blp.arguments(ReviewWriteSchema)
@blp.response(
    201, ReviewSchema, headers={"Location": {"description": "The review's URL.", "schema": {"type": "string"}}}
)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
@blp.alt_response(503, response="SERVICE_UNAVAILABLE")
def create_review(data, book_id):
    """Review a book you bought (one review per book)"""
    review = services.create_review(current_user, book_id, data)
    return review, 201, {"Location": f"/reviews/{review.id}"}


@blp.get("/books/<int:book_id>/reviews/mine")
@requires(AUTHENTICATED)
@blp.response(200, MyReviewSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def my_review(book_id):
    """Whether you may review the book, and your review of it (hidden or not)"""
    return services.my_review(current_user, book_id)


@blp.get("/reviews")
@requires(ADMIN)
@blp.arguments(ReviewListArgs, location="query")
@blp.response(200, page_schema(ReviewSchema), headers=LINK_HEADER)
def list_reviews(args):
    """Every review, hidden ones included, newest first (admin moderation)"""
    return services.list_reviews(args)


@blp.get("/reviews/<int:review_id>")
@public
@blp.response(200, ReviewSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(404, response="NOT_FOUND")
def get_review(review_id):
    """One review; a hidden one only for its author (with a token) and admins"""
    return services.get_review_for(optional_caller(), review_id)


@blp.patch("/reviews/<int:review_id>")
@requires(AUTHENTICATED)
@review_limit
@blp.arguments(ReviewWriteSchema(partial=True))
@blp.response(200, ReviewSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def update_review(data, review_id):
    """Change your review's rating, title or text"""
    return services.update_review(current_user, review_id, data)


@blp.delete("/reviews/<int:review_id>")
@requires(AUTHENTICATED)
@review_limit
@blp.response(204)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def delete_review(review_id):
    """Delete your review (admins may delete any)"""
    services.delete_review(current_user, review_id)
    return ""


@blp.put("/reviews/<int:review_id>/helpful")
@requires(AUTHENTICATED)
@review_limit
@blp.response(200, ReviewSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def vote_helpful(review_id):
    """Mark someone else's review as helpful (once; repeating changes nothing)"""
    return services.vote_helpful(current_user, review_id)


@blp.delete("/reviews/<int:review_id>/helpful")
@requires(AUTHENTICATED)
@review_limit
@blp.response(200, ReviewSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
def withdraw_helpful(review_id):
    """Withdraw your helpful vote (withdrawing none changes nothing)"""
    return services.withdraw_helpful(current_user, review_id)


@blp.post("/reviews/<int:review_id>/hide")
@requires(ADMIN)
@blp.arguments(HideSchema)
@blp.response(200, ReviewSchema)
@blp.alt_response(404, response="NOT_FOUND")
def hide_review(data, review_id):
    """Hide a review from the public with a reason; it leaves the book's rating (admin)"""
    return services.hide_review(current_user, review_id, data["reason"])


@blp.post("/reviews/<int:review_id>/unhide")
@requires(ADMIN)
@blp.response(200, ReviewSchema)
@blp.alt_response(404, response="NOT_FOUND")
def unhide_review(review_id):
    """Show a hidden review again; it counts in the book's rating again (admin)"""
    return services.unhide_review(current_user, review_id)
