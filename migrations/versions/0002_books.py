"""books: the catalogue, its sort/filter indexes and (MySQL/MariaDB) a FULLTEXT index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 11:00:00

"""
from alembic import op
import sqlalchemy as sa

MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}

# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

SORT_COLUMNS = ("title", "author", "price", "created_at", "units_sold")
FULLTEXT_COLUMNS = ["title", "author", "description", "isbn"]


def upgrade():
    op.create_table('books',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('author', sa.String(length=255), nullable=False),
    sa.Column('genre', sa.String(length=50), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('isbn', sa.String(length=13), nullable=True),
    sa.Column('price', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('stock', sa.Integer(), server_default='0', nullable=False),
    sa.Column('published_year', sa.SmallInteger(), nullable=True),
    sa.Column('is_retired', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('units_sold', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('stock >= 0', name=op.f('ck_books_stock_non_negative')),
    sa.CheckConstraint('units_sold >= 0', name=op.f('ck_books_units_sold_non_negative')),
    sa.CheckConstraint('price > 0', name=op.f('ck_books_price_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_books')),
    sa.UniqueConstraint('isbn', name=op.f('uq_books_isbn')),
    **MYSQL,
    )
    with op.batch_alter_table('books', schema=None) as batch_op:
        for key in SORT_COLUMNS:
            batch_op.create_index(f'ix_books_live_{key}', ['is_retired', key, 'id'], unique=False)
            batch_op.create_index(f'ix_books_live_genre_{key}', ['is_retired', 'genre', key, 'id'], unique=False)
    if op.get_bind().dialect.name == 'mysql':
        op.create_index('ft_books_search', 'books', FULLTEXT_COLUMNS, unique=False, mysql_prefix='FULLTEXT')


def downgrade():
    if op.get_bind().dialect.name == 'mysql':
        op.drop_index('ft_books_search', table_name='books')
    with op.batch_alter_table('books', schema=None) as batch_op:
        for key in reversed(SORT_COLUMNS):
            batch_op.drop_index(f'ix_books_live_genre_{key}')
            batch_op.drop_index(f'ix_books_live_{key}')
    op.drop_table('books')
