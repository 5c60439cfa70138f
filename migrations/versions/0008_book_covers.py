"""books: cover images (book_covers) and the digests of a book's current cover on books

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}


def upgrade():
    # Nullable columns appended to the table: an instant ALTER on MariaDB, whatever the number of books.
    op.add_column("books", sa.Column("cover_digest", sa.String(64), nullable=True))
    op.add_column("books", sa.Column("cover_thumbnail_digest", sa.String(64), nullable=True))
    op.create_table(
        "book_covers",
        sa.Column("book_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(20), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('cover', 'thumbnail')", name="cover_kind_known"),
        sa.ForeignKeyConstraint(["book_id"], ["books.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("book_id", "kind"),
        **MYSQL,
    )
    op.create_index("ix_book_covers_digest", "book_covers", ["digest"])


def downgrade():
    op.drop_index("ix_book_covers_digest", table_name="book_covers")
    op.drop_table("book_covers")
    # A plain ALTER TABLE … DROP COLUMN (SQLite 3.35+ too): a batch copy of `books` would lose its triggers.
    op.drop_column("books", "cover_thumbnail_digest")
    op.drop_column("books", "cover_digest")
