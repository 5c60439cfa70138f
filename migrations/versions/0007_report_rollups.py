"""reports: rollup tables (sales per day, per day and book, per month and book) and dirty days

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}


def _book_rows(name: str, period: str) -> None:
    op.create_table(
        name,
        sa.Column(period, sa.Date(), nullable=False),
        sa.Column("book_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("revenue_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("book_id", period),
        **MYSQL,
    )
    # A bucket's best sellers in order (the popular-books report's top K per day or month).
    op.create_index(f"ix_{name}_{period}_units", name, [period, "units"])


def upgrade():
    op.create_table(
        "report_sales_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("revenue_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
        **MYSQL,
    )
    _book_rows("report_book_days", "day")
    _book_rows("report_book_months", "month")
    op.create_table(
        "report_dirty_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        **MYSQL,
    )
    op.create_index("ix_report_dirty_days_day", "report_dirty_days", ["day"])


def downgrade():
    op.drop_index("ix_report_dirty_days_day", table_name="report_dirty_days")
    op.drop_index("ix_report_book_months_month_units", table_name="report_book_months")
    op.drop_index("ix_report_book_days_day_units", table_name="report_book_days")
    for name in ("report_dirty_days", "report_book_months", "report_book_days", "report_sales_days"):
        op.drop_table(name)
