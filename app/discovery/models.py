"""What discovery adds to the schema: the "customers also bought" table and its refresh state.

`book_related` holds, for every book in a counted (not cancelled) order, its `KEEP` most often
co-ordered books: `orders` is how many counted orders hold both, ties ranked by the smaller
`related_id`. It counts orders only (no stock, no retirement: the read filters and orders those),
so an incremental refresh and a full one give the same rows. No foreign keys: a refresh must never
lock a book row that order placement is updating (docs/decisions/0017-related-books-table.md).
"""

from datetime import datetime

from sqlalchemy import Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

MYSQL_TABLE = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}
KEEP = 40  # rows kept per book: twice the largest `limit`, so retired books rarely leave it short


class BookRelated(db.Model):
    __tablename__ = "book_related"
    __table_args__ = (MYSQL_TABLE,)

    book_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    related_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    orders: Mapped[int] = mapped_column(Integer)


class RelatedRefresh(db.Model):
    """The last finished refresh (one row, id 1): when it started and the largest order id it saw."""

    __tablename__ = "book_related_refreshes"
    __table_args__ = (MYSQL_TABLE,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    started_at: Mapped[datetime]
    last_order_id: Mapped[int] = mapped_column(Integer)
    finished_at: Mapped[datetime]
