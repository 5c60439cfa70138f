"""The service's own health: can the database answer?"""

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.errors import ServiceUnavailable, safe_rollback
from app.extensions import db


def check_database() -> None:
    """One round trip; a database that cannot answer is a 503 naming it."""
    try:
        db.session.execute(text("SELECT 1"))
        db.session.commit()
    except SQLAlchemyError as err:
        safe_rollback()
        raise ServiceUnavailable("The database cannot be reached.", database="unreachable") from err
