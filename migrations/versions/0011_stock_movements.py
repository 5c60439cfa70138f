"""books: stock movements (every admin change to a book's stock, with who made it)

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}


def upgrade():
    op.create_table(
        "stock_movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("change", sa.Integer(), nullable=False),
        sa.Column("stock_after", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("reason IN ('created', 'set', 'restock')", name=op.f("ck_stock_movements_stock_reason")),
        sa.ForeignKeyConstraint(
            ["book_id"], ["books.id"], name=op.f("fk_stock_movements_book_id_books"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_stock_movements_account_id_accounts"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_movements")),
        **MYSQL,
    )
    op.create_index("ix_stock_movements_book_at", "stock_movements", ["book_id", "at", "id"])


def downgrade():
    # The table's indexes go with it (MariaDB refuses to drop the one its foreign key uses first).
    op.drop_table("stock_movements")
