"""books: (SQLite) an FTS5 trigram index over the searchable columns, kept by triggers

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# The catalogue search on SQLite finds its candidate books in this index (every substring of three
# characters or more of title, author, description and isbn), then checks them with the same LIKE as
# before, so the results do not change (docs/decisions/0018-sqlite-reads-never-take-the-write-lock.md).
# External content: the index stores no copy of the text; triggers keep it in step with `books`
# whoever writes it, and a stock or price change does not touch it.
SQLITE_UP = [
    """CREATE VIRTUAL TABLE books_search USING fts5(
        title, author, description, isbn, content='books', content_rowid='id', tokenize='trigram')""",
    """CREATE TRIGGER trg_books_search_insert AFTER INSERT ON books BEGIN
        INSERT INTO books_search (rowid, title, author, description, isbn)
        VALUES (NEW.id, NEW.title, NEW.author, NEW.description, NEW.isbn);
    END""",
    """CREATE TRIGGER trg_books_search_delete AFTER DELETE ON books BEGIN
        INSERT INTO books_search (books_search, rowid, title, author, description, isbn)
        VALUES ('delete', OLD.id, OLD.title, OLD.author, OLD.description, OLD.isbn);
    END""",
    """CREATE TRIGGER trg_books_search_update AFTER UPDATE OF title, author, description, isbn ON books BEGIN
        INSERT INTO books_search (books_search, rowid, title, author, description, isbn)
        VALUES ('delete', OLD.id, OLD.title, OLD.author, OLD.description, OLD.isbn);
        INSERT INTO books_search (rowid, title, author, description, isbn)
        VALUES (NEW.id, NEW.title, NEW.author, NEW.description, NEW.isbn);
    END""",
    "INSERT INTO books_search (books_search) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS trg_books_search_update",
    "DROP TRIGGER IF EXISTS trg_books_search_delete",
    "DROP TRIGGER IF EXISTS trg_books_search_insert",
    "DROP TABLE IF EXISTS books_search",
]


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return  # MySQL/MariaDB search with the FULLTEXT index of migration 0002
    for statement in SQLITE_UP:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in SQLITE_DOWN:
        op.execute(statement)
