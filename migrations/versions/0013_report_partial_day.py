"""reports: the open day's closed hours summarised (report_sales_partial, report_book_partial); cancellation markers name their order

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}


def upgrade():
    op.create_table(
        "report_sales_partial",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("through", sa.DateTime(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("revenue_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
        **MYSQL,
    )
    op.create_table(
        "report_book_partial",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("book_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("revenue_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("book_id", "day"),
        **MYSQL,
    )
    op.create_index("ix_report_book_partial_day_units", "report_book_partial", ["day", "units"])
    with op.batch_alter_table("report_dirty_days") as batch:
        batch.add_column(sa.Column("order_id", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("report_dirty_days") as batch:
        batch.drop_column("order_id")
    op.drop_index("ix_report_book_partial_day_units", table_name="report_book_partial")
    op.drop_table("report_book_partial")
    op.drop_table("report_sales_partial")
