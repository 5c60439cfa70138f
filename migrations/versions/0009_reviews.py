"""reviews: reviews and helpful votes, the books' rating columns, and the triggers that keep them

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}

# books.rating_count / rating_sum count the visible reviews; reviews.helpful_count counts the votes.
# Each is kept exact by these triggers whoever writes, as book_counts is (migration 0002). A
# customer's votes and reviews are deleted by a trigger on customers before the row goes: MariaDB
# fires no trigger for rows removed by a foreign key's ON DELETE CASCADE, so the cascade alone
# would leave the books' sums counting a deleted customer's ratings.
MYSQL_TRIGGERS = [
    """CREATE TRIGGER trg_reviews_rating_insert AFTER INSERT ON reviews FOR EACH ROW
    IF NOT NEW.is_hidden THEN
        UPDATE books SET rating_count = rating_count + 1, rating_sum = rating_sum + NEW.rating
        WHERE id = NEW.book_id;
    END IF""",
    """CREATE TRIGGER trg_reviews_rating_update AFTER UPDATE ON reviews FOR EACH ROW
    IF NOT (OLD.rating <=> NEW.rating) OR NOT (OLD.is_hidden <=> NEW.is_hidden) THEN
        UPDATE books SET
            rating_count = rating_count - (NOT OLD.is_hidden) + (NOT NEW.is_hidden),
            rating_sum = rating_sum - IF(OLD.is_hidden, 0, OLD.rating) + IF(NEW.is_hidden, 0, NEW.rating)
        WHERE id = NEW.book_id;
    END IF""",
    """CREATE TRIGGER trg_reviews_rating_delete AFTER DELETE ON reviews FOR EACH ROW
    IF NOT OLD.is_hidden THEN
        UPDATE books SET rating_count = rating_count - 1, rating_sum = rating_sum - OLD.rating
        WHERE id = OLD.book_id;
    END IF""",
    """CREATE TRIGGER trg_review_votes_insert AFTER INSERT ON review_helpful_votes FOR EACH ROW
    UPDATE reviews SET helpful_count = helpful_count + 1 WHERE id = NEW.review_id""",
    """CREATE TRIGGER trg_review_votes_delete AFTER DELETE ON review_helpful_votes FOR EACH ROW
    UPDATE reviews SET helpful_count = helpful_count - 1 WHERE id = OLD.review_id""",
    """CREATE TRIGGER trg_customers_delete_reviews BEFORE DELETE ON customers FOR EACH ROW
    BEGIN
        DELETE FROM review_helpful_votes WHERE customer_id = OLD.id;
        DELETE FROM reviews WHERE customer_id = OLD.id;
    END""",
]
SQLITE_TRIGGERS = [
    """CREATE TRIGGER trg_reviews_rating_insert AFTER INSERT ON reviews WHEN NOT NEW.is_hidden BEGIN
        UPDATE books SET rating_count = rating_count + 1, rating_sum = rating_sum + NEW.rating
        WHERE id = NEW.book_id;
    END""",
    """CREATE TRIGGER trg_reviews_rating_update AFTER UPDATE OF rating, is_hidden ON reviews
    WHEN OLD.rating IS NOT NEW.rating OR OLD.is_hidden IS NOT NEW.is_hidden
    BEGIN
        UPDATE books SET
            rating_count = rating_count - (NOT OLD.is_hidden) + (NOT NEW.is_hidden),
            rating_sum = rating_sum - (CASE WHEN OLD.is_hidden THEN 0 ELSE OLD.rating END)
                                    + (CASE WHEN NEW.is_hidden THEN 0 ELSE NEW.rating END)
        WHERE id = NEW.book_id;
    END""",
    """CREATE TRIGGER trg_reviews_rating_delete AFTER DELETE ON reviews WHEN NOT OLD.is_hidden BEGIN
        UPDATE books SET rating_count = rating_count - 1, rating_sum = rating_sum - OLD.rating
        WHERE id = OLD.book_id;
    END""",
    """CREATE TRIGGER trg_review_votes_insert AFTER INSERT ON review_helpful_votes BEGIN
        UPDATE reviews SET helpful_count = helpful_count + 1 WHERE id = NEW.review_id;
    END""",
    """CREATE TRIGGER trg_review_votes_delete AFTER DELETE ON review_helpful_votes BEGIN
        UPDATE reviews SET helpful_count = helpful_count - 1 WHERE id = OLD.review_id;
    END""",
    """CREATE TRIGGER trg_customers_delete_reviews BEFORE DELETE ON customers BEGIN
        DELETE FROM review_helpful_votes WHERE customer_id = OLD.id;
        DELETE FROM reviews WHERE customer_id = OLD.id;
    END""",
]
TRIGGER_NAMES = [
    "trg_customers_delete_reviews",
    "trg_review_votes_delete",
    "trg_review_votes_insert",
    "trg_reviews_rating_delete",
    "trg_reviews_rating_update",
    "trg_reviews_rating_insert",
]


def upgrade():
    op.add_column("books", sa.Column("rating_count", sa.Integer(), server_default="0", nullable=False))
    op.add_column("books", sa.Column("rating_sum", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("helpful_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("is_hidden", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("hidden_reason", sa.String(length=500), nullable=True),
        sa.Column("hidden_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_reviews_rating_range")),
        sa.CheckConstraint("helpful_count >= 0", name=op.f("ck_reviews_helpful_count_non_negative")),
        sa.ForeignKeyConstraint(["book_id"], ["books.id"], name=op.f("fk_reviews_book_id_books"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_reviews_customer_id_customers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("book_id", "customer_id", name=op.f("uq_reviews_book_customer")),
        **MYSQL,
    )
    op.create_index("ix_reviews_book_visible_created", "reviews", ["book_id", "is_hidden", "created_at", "id"])
    op.create_index(
        "ix_reviews_book_visible_helpful", "reviews", ["book_id", "is_hidden", "helpful_count", "created_at", "id"]
    )
    op.create_index("ix_reviews_hidden_created", "reviews", ["is_hidden", "created_at", "id"])
    op.create_index("ix_reviews_customer", "reviews", ["customer_id"])
    op.create_table(
        "review_helpful_votes",
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"], ["reviews.id"], name=op.f("fk_review_helpful_votes_review_id_reviews"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_review_helpful_votes_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("review_id", "customer_id", name=op.f("pk_review_helpful_votes")),
        **MYSQL,
    )
    op.create_index("ix_review_helpful_votes_customer", "review_helpful_votes", ["customer_id"])
    for statement in MYSQL_TRIGGERS if op.get_bind().dialect.name == "mysql" else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade():
    for name in TRIGGER_NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    # Dropping a table drops its indexes (MariaDB refuses to drop first an index a foreign key uses).
    op.drop_table("review_helpful_votes")
    op.drop_table("reviews")
    op.drop_column("books", "rating_sum")
    op.drop_column("books", "rating_count")
