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

# book_counts: live (not retired) books per genre ('' for none), kept exact by triggers whoever
# writes the books table, so the catalogue's total and a genre's total are a read of a few rows.
# Stock changes never touch it (orders do not contend on it).
MYSQL_TRIGGERS = [
    """CREATE TRIGGER trg_books_count_insert AFTER INSERT ON books FOR EACH ROW
    IF NOT NEW.is_retired THEN
        INSERT INTO book_counts (genre, books) VALUES (COALESCE(NEW.genre, ''), 1)
        ON DUPLICATE KEY UPDATE books = books + 1;
    END IF""",
    """CREATE TRIGGER trg_books_count_update AFTER UPDATE ON books FOR EACH ROW
    IF NOT (OLD.is_retired <=> NEW.is_retired) OR NOT (COALESCE(OLD.genre, '') = COALESCE(NEW.genre, '')) THEN
        IF NOT OLD.is_retired THEN
            UPDATE book_counts SET books = books - 1 WHERE genre = COALESCE(OLD.genre, '');
        END IF;
        IF NOT NEW.is_retired THEN
            INSERT INTO book_counts (genre, books) VALUES (COALESCE(NEW.genre, ''), 1)
            ON DUPLICATE KEY UPDATE books = books + 1;
        END IF;
    END IF""",
    """CREATE TRIGGER trg_books_count_delete AFTER DELETE ON books FOR EACH ROW
    IF NOT OLD.is_retired THEN
        UPDATE book_counts SET books = books - 1 WHERE genre = COALESCE(OLD.genre, '');
    END IF""",
]
SQLITE_TRIGGERS = [
    """CREATE TRIGGER trg_books_count_insert AFTER INSERT ON books WHEN NOT NEW.is_retired BEGIN
        INSERT INTO book_counts (genre, books) VALUES (COALESCE(NEW.genre, ''), 1)
        ON CONFLICT (genre) DO UPDATE SET books = books + 1;
    END""",
    """CREATE TRIGGER trg_books_count_update AFTER UPDATE OF genre, is_retired ON books
    WHEN OLD.is_retired IS NOT NEW.is_retired OR COALESCE(OLD.genre, '') <> COALESCE(NEW.genre, '') COLLATE NOCASE
    BEGIN
        UPDATE book_counts SET books = books - 1 WHERE NOT OLD.is_retired AND genre = COALESCE(OLD.genre, '');
        INSERT INTO book_counts (genre, books) SELECT COALESCE(NEW.genre, ''), 1 WHERE NOT NEW.is_retired
        ON CONFLICT (genre) DO UPDATE SET books = books + 1;
    END""",
    """CREATE TRIGGER trg_books_count_delete AFTER DELETE ON books WHEN NOT OLD.is_retired BEGIN
        UPDATE book_counts SET books = books - 1 WHERE genre = COALESCE(OLD.genre, '');
    END""",
]
TRIGGER_NAMES = ["trg_books_count_insert", "trg_books_count_update", "trg_books_count_delete"]


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

    op.create_table('book_counts',
    sa.Column('genre', sa.String(length=50).with_variant(sa.String(length=50, collation='NOCASE'), 'sqlite'), nullable=False),
    sa.Column('books', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('genre', name=op.f('pk_book_counts')),
    **MYSQL,
    )
    for statement in (MYSQL_TRIGGERS if op.get_bind().dialect.name == 'mysql' else SQLITE_TRIGGERS):
        op.execute(statement)


def downgrade():
    for name in TRIGGER_NAMES:
        op.execute(f'DROP TRIGGER IF EXISTS {name}')
    op.drop_table('book_counts')
    if op.get_bind().dialect.name == 'mysql':
        op.drop_index('ft_books_search', table_name='books')
    with op.batch_alter_table('books', schema=None) as batch_op:
        for key in reversed(SORT_COLUMNS):
            batch_op.drop_index(f'ix_books_live_genre_{key}')
            batch_op.drop_index(f'ix_books_live_{key}')
    op.drop_table('books')
