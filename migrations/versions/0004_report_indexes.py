"""reports: a covering index on order_items for the sales and popular-books reports

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    # (order_id, book_id, quantity, line_total): the join from an order to its lines and every
    # column the reports read from a line, so they never touch the table rows.
    op.create_index("ix_order_items_report", "order_items", ["order_id", "book_id", "quantity", "line_total"])


def downgrade():
    op.drop_index("ix_order_items_report", table_name="order_items")
