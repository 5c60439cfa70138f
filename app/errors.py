"""The one error path: every failure becomes RFC 9457 problem details.

Services raise APIError subclasses; Werkzeug, webargs, marshmallow, Flask-JWT-Extended (through
the loaders in app.auth) and SQLAlchemy errors are turned into the same shape here.
"""

import json
import logging
import math
import time

import marshmallow as ma
from flask import current_app, g, request
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from app.api import PROBLEM_JSON

log = logging.getLogger("app.errors")

# Problem type URIs (relative references, documented in the README).
TYPE_BLANK = "about:blank"
TYPE_VALIDATION = "/problems/validation-error"
TYPE_CONFLICT = "/problems/conflict"
TYPE_OUT_OF_STOCK = "/problems/insufficient-stock"
TYPE_ILLEGAL_TRANSITION = "/problems/illegal-status-transition"
TYPE_UNAVAILABLE = "/problems/service-unavailable"
TYPE_RATE_LIMITED = "/problems/rate-limited"
TYPE_INTERNAL = "/problems/internal-error"

DEFAULT_RETRY_AFTER = 5

# MySQL/MariaDB error numbers.
MYSQL_UNAVAILABLE = {1040, 1047, 1053, 1927, 2002, 2003, 2006, 2013, 2055, 4031}
MYSQL_LOCK_CONFLICT = {1205, 1213}
MYSQL_CHECK_VIOLATION = {3819, 4025}
MYSQL_BAD_VALUE = {1264, 1292, 1366, 1406, 1690}


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details; extension members (e.g. `errors`, `shortages`) may follow."""

    class Meta:
        unknown = ma.INCLUDE  # documented as additionalProperties: true

    type = ma.fields.String(required=True, metadata={"example": "about:blank"})
    title = ma.fields.String(required=True, metadata={"example": "Not Found"})
    status = ma.fields.Integer(required=True, metadata={"example": 404})
    detail = ma.fields.String(required=True, metadata={"example": "Book 42 not found."})
    request_id = ma.fields.String(metadata={"description": "Only on 500: quote it when reporting the fault."})


class ValidationProblemSchema(ProblemSchema):
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Raw(),
        metadata={"description": "Field name → list of messages", "example": {"email": ["Not a valid email address."]}},
    )


class APIError(Exception):
    """Base of every error a service raises on purpose."""

    status = 500
    type = TYPE_BLANK
    title = None

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: dict | None = None,
        headers: dict | None = None,
        type: str | None = None,
        title: str | None = None,
        **extra,
    ):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        if type is not None:
            self.type = type
        if title is not None:
            self.title = title
        self.extra = extra


class BadRequest(APIError):
    status = 400
    type = TYPE_VALIDATION


class Unauthorized(APIError):
    status = 401


class Forbidden(APIError):
    status = 403


class NotFound(APIError):
    status = 404


class Conflict(APIError):
    status = 409
    type = TYPE_CONFLICT


class ServiceUnavailable(APIError):
    status = 503
    type = TYPE_UNAVAILABLE

    def __init__(self, detail=None, *, retry_after: int = DEFAULT_RETRY_AFTER, **kw):
        super().__init__(detail, **kw)
        self.headers.setdefault("Retry-After", str(retry_after))


def field_error(field: str, message: str) -> BadRequest:
    """A 400 naming one field, as validation errors do."""
    return BadRequest(f"Invalid {field}: {message}", errors={field: [message]})


def problem(status: int, detail: str, *, title: str | None = None, type: str = TYPE_BLANK, headers=None, **extra):
    """Build a problem+json response."""
    from http import HTTPStatus

    body = {
        "type": type,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False, default=str), status=status, mimetype=PROBLEM_JSON
    )
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _flatten_webargs_messages(messages) -> dict:
    """webargs keys errors by location ({"json": {...}, "query": {...}}); clients want fields."""
    if not isinstance(messages, dict):
        return {"_schema": messages if isinstance(messages, list) else [str(messages)]}
    flat: dict = {}
    for location, errors in messages.items():
        if location in {"json", "query", "querystring", "headers", "view_args", "path", "form", "files"}:
            if isinstance(errors, dict):
                flat.update(errors)
            else:
                flat["_schema"] = errors
        else:
            flat[location] = errors
    return flat


def _summary(errors: dict) -> str:
    names = ", ".join(sorted(str(k) for k in errors)[:5])
    return f"The request has invalid fields: {names}." if names else "The request is invalid."


def validation_problem(errors: dict):
    return problem(400, _summary(errors), title="Validation failed", type=TYPE_VALIDATION, errors=errors)


def handle_api_error(err: APIError):
    # A refused use case may already have flushed rows (an autoflush before the check that
    # failed): end its transaction here, whatever the status, so nothing of it survives.
    _safe_rollback()
    return problem(
        err.status,
        err.detail or "",
        title=err.title,
        type=err.type,
        headers=err.headers,
        errors=err.errors,
        **err.extra,
    )


def handle_validation_error(err: ma.ValidationError):
    messages = err.messages if isinstance(err.messages, dict) else {"_schema": err.messages}
    return validation_problem(messages)


def _retry_after_from_limiter() -> str:
    from app.extensions import limiter

    current = getattr(limiter, "current_limit", None)
    if current is not None:
        return str(max(1, math.ceil(current.reset_at - time.time())))
    return "60"


def handle_http_exception(err: HTTPException):
    data = getattr(err, "data", None) or {}
    if err.code == 400 and "messages" in data:
        return validation_problem(_flatten_webargs_messages(data["messages"]))
    headers = {}
    detail = err.description or ""
    type_ = TYPE_BLANK
    if err.code == 405:
        methods = getattr(err, "valid_methods", None) or []
        if methods:
            headers["Allow"] = ", ".join(sorted(methods))
        detail = f"{request.method} is not allowed on {request.path}."
    elif err.code == 404:
        detail = f"No resource at {request.path}."
    elif err.code == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
        detail = f"The request body is larger than the limit of {limit} bytes."
    elif err.code == 415:
        detail = (
            err.description if data.get("custom") else "Request bodies must be JSON (Content-Type: application/json)."
        )
    elif err.code == 429:
        headers["Retry-After"] = _retry_after_from_limiter()
        type_ = TYPE_RATE_LIMITED
        detail = f"Too many requests: limit {err.description}. Try again later."
    elif err.code == 400:
        detail = err.description or "The request could not be understood."
    if err.code and err.code >= 500:
        return handle_unexpected(err)
    return problem(err.code or 500, detail, type=type_, headers=headers)


def _safe_rollback():
    from app.extensions import db

    try:
        db.session.rollback()
    except Exception:  # the connection itself may be gone
        log.debug("rollback after a database error failed", exc_info=True)


def _db_error_code(err: DBAPIError) -> int | None:
    args = getattr(err.orig, "args", None)
    if args and isinstance(args[0], int):
        return args[0]
    return None


SQLITE_UNAVAILABLE = ("unable to open database", "disk i/o error", "database disk image is malformed")


def _unreachable(err: DBAPIError, code: int | None, message: str) -> bool:
    """The database cannot serve us now (503), as opposed to a query the server refused (500).

    MySQL client errors (2000-2999: cannot connect, server gone, lost connection) and a few
    server states are unavailability; a server error such as 1054 (unknown column: the schema
    needs `flask db upgrade`) is a fault of this deployment and is answered 500 and logged.
    """
    if err.connection_invalidated or err.__class__.__name__ == "InterfaceError":
        return True
    if code is not None:
        return code in MYSQL_UNAVAILABLE or 2000 <= code < 3000
    return err.__class__.__name__ == "OperationalError" and any(m in message for m in SQLITE_UNAVAILABLE)


def handle_database_error(err: SQLAlchemyError):
    _safe_rollback()
    if isinstance(err, IntegrityError):
        message = str(getattr(err, "orig", err)).lower()
        if "check constraint" in message:
            return problem(
                409, "The change would break a rule of the data (for example a negative stock).", type=TYPE_CONFLICT
            )
        return problem(
            409, "The change conflicts with existing data (a duplicate or a missing reference).", type=TYPE_CONFLICT
        )
    if isinstance(err, DBAPIError):
        code = _db_error_code(err)
        message = str(getattr(err, "orig", err)).lower()
        if code in MYSQL_CHECK_VIOLATION:
            return problem(
                409, "The change would break a rule of the data (for example a negative stock).", type=TYPE_CONFLICT
            )
        if code in MYSQL_LOCK_CONFLICT or "database is locked" in message:
            return problem(
                503,
                "The database is busy with conflicting work; retry shortly.",
                type=TYPE_UNAVAILABLE,
                headers={"Retry-After": "1"},
            )
        if code in MYSQL_BAD_VALUE:
            return problem(400, "A value is out of the range the database accepts.", type=TYPE_VALIDATION)
        if _unreachable(err, code, message):
            log.warning("database unavailable: %s", err.__class__.__name__)
            return problem(
                503,
                "The database cannot be reached right now; retry shortly.",
                type=TYPE_UNAVAILABLE,
                headers={"Retry-After": str(DEFAULT_RETRY_AFTER)},
            )
    return handle_unexpected(err)


def handle_unexpected(err: Exception):
    _safe_rollback()
    request_id = getattr(g, "request_id", None)
    log.error("unhandled error on %s %s [request %s]", request.method, request.path, request_id, exc_info=err)
    return problem(
        500,
        "An unexpected error occurred. It has been logged.",
        type=TYPE_INTERNAL,
        request_id=request_id,
    )


def register_errors(app):
    app.register_error_handler(APIError, handle_api_error)
    app.register_error_handler(ma.ValidationError, handle_validation_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(SQLAlchemyError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected)
