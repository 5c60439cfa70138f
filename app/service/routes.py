"""Service routes: health, and the offline interactive docs."""

import marshmallow as ma

from app.api import Blueprint
from app.auth import public
from app.service import services

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
    services.check_database()
    return {"status": "ok", "database": "ok"}
