"""discovery: "customers also bought" (book_related) and its refresh state

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}


def upgrade():
    op.create_table(
        "book_related",
        sa.Column("book_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("related_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("book_id", "related_id", name=op.f("pk_book_related")),
        **MYSQL,
    )
    op.create_table(
        "book_related_refreshes",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("last_order_id", sa.Integer(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_book_related_refreshes")),
        **MYSQL,
    )


def downgrade():
    op.drop_table("book_related_refreshes")
    op.drop_table("book_related")
