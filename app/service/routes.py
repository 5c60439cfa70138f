"""Service routes: health, and the offline interactive docs."""

import marshmallow as ma
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.api import Blueprint
from app.auth import public
from app.errors import DEFAULT_RETRY_AFTER, TYPE_UNAVAILABLE, _safe_rollback, problem
from app.extensions import db

blp = Blueprint("service", __name__, description="Health of the service.")


class HealthSchema(ma.Schema):
    status = ma.fields.String(metadata={"example": "ok"})
    database = ma.fields.String(metadata={"example": "ok"})


@blp.get("/health")
@public
@blp.response(200, HealthSchema)
@blp.alt_response(503, response="SERVICE_UNAVAILABLE")
def health():
    """Liveness and database reachability"""
    try:
        db.session.execute(text("SELECT 1"))
        db.session.commit()
    except SQLAlchemyError:
        _safe_rollback()
        return problem(
            503,
            "The database cannot be reached.",
            type=TYPE_UNAVAILABLE,
            headers={"Retry-After": str(DEFAULT_RETRY_AFTER)},
            database="unreachable",
        )
    return {"status": "ok", "database": "ok"}
