"""customer_addresses: saved postal addresses, one of them the customer's default

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "customer_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("is_default", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("line1", sa.String(length=100), nullable=False),
        sa.Column("line2", sa.String(length=100), nullable=True),
        sa.Column("city", sa.String(length=64), nullable=False),
        sa.Column("postal_code", sa.String(length=16), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_addresses_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_addresses")),
        **MYSQL,
    )
    with op.batch_alter_table("customer_addresses") as batch:
        batch.create_index(batch.f("ix_customer_addresses_customer_id"), ["customer_id"], unique=False)


def downgrade():
    op.drop_table("customer_addresses")
