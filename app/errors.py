"""The one error path: every failure becomes RFC 9457 problem details.

Services raise APIError subclasses; Werkzeug, webargs, marshmallow, Flask-JWT-Extended (through
the loaders in app.auth) and SQLAlchemy errors are turned into the same shape here.
"""

import json
import logging
import math
import time
from http import HTTPStatus

import marshmallow as ma
from flask import current_app, g, request
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from app import dberrors
from app.extensions import db, limiter
from app.problems import (  # noqa: F401  (the problem types are imported from here by the services)
    PROBLEM_JSON,
    TYPE_BLANK,
    TYPE_CONFLICT,
    TYPE_ILLEGAL_TRANSITION,
    TYPE_INTERNAL,
    TYPE_OUT_OF_STOCK,
    TYPE_RATE_LIMITED,
    TYPE_UNAVAILABLE,
    TYPE_VALIDATION,
)

log = logging.getLogger("app.errors")

DEFAULT_RETRY_AFTER = 5

# The one title of every 400: a client tells a validation problem by it (or by TYPE_VALIDATION).
VALIDATION_TITLE = "Validation failed"


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
    title = VALIDATION_TITLE

    def __init__(self, detail: str | None = None, *, errors: dict | None = None, **kw):
        super().__init__(detail if detail is not None or not errors else summary(errors), errors=errors, **kw)


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
    return BadRequest(errors={field: [message]})


def problem(status: int, detail: str, *, title: str | None = None, type: str = TYPE_BLANK, headers=None, **extra):
    """Build a problem+json response."""

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


REQUIRED_MESSAGE = "Missing data for required field."
UNKNOWN_MESSAGE = "Unknown field."
NAMED_IN_DETAIL = 5


def _field_messages(errors: dict, prefix: str = "") -> list[tuple[str, list[str]]]:
    """(field path, messages) pairs: nested errors read as `items[0].quantity`; `""` is the body."""
    pairs = []
    for key, value in errors.items():
        if key == "_schema":
            name = prefix
        elif isinstance(key, int):
            name = f"{prefix}[{key}]"
        else:
            name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            pairs.extend(_field_messages(value, name))
        else:
            pairs.append((name, [str(m) for m in value] if isinstance(value, list) else [str(value)]))
    return pairs


def _lower_first(message: str) -> str:
    first = message.split(" ", 1)[0]
    return message[:1].lower() + message[1:] if first[:1].isupper() and first[1:].islower() else message


def _one_field(name: str, message: str) -> str:
    if message == REQUIRED_MESSAGE:
        return f"{name} is required."
    if message == UNKNOWN_MESSAGE:
        return f"{name} is not a field this request accepts."
    return f"{name} is not valid: {_lower_first(message)}"


def summary(errors: dict) -> str:
    """The `detail` of a validation problem: a sentence naming the fields (`errors` says why for each)."""
    pairs = _field_messages(errors)
    body = [message for name, messages in pairs if not name for message in messages]
    names = sorted({name for name, _ in pairs if name})
    sentences = body[:1]
    if len(names) == 1:
        messages = dict(pairs)[names[0]]
        sentences.append(_one_field(names[0], messages[0] if messages else ""))
    elif names:
        shown = names[:NAMED_IN_DETAIL]
        more = len(names) - len(shown)
        listed = ", ".join(shown[:-1]) + (f", {shown[-1]} and {more} more" if more else f" and {shown[-1]}")
        sentences.append(f"{len(names)} fields are not valid: {listed}. `errors` gives the reason for each.")
    return " ".join(sentences) or "The request is not valid."


def validation_problem(errors: dict):
    return problem(400, summary(errors), title=VALIDATION_TITLE, type=TYPE_VALIDATION, errors=errors)


def handle_api_error(err: APIError):
    # A refused use case may already have flushed rows (an autoflush before the check that
    # failed): end its transaction here, whatever the status, so nothing of it survives.
    safe_rollback()
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
        limit = request.max_content_length or 0  # MAX_CONTENT_LENGTH, or the route's own limit
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
        return problem(400, detail, title=VALIDATION_TITLE, type=TYPE_VALIDATION, headers=headers)
    if err.code and err.code >= 500:
        return handle_unexpected(err)
    return problem(err.code or 500, detail, type=type_, headers=headers)


def safe_rollback():
    try:
        db.session.rollback()
    except Exception:  # the connection itself may be gone
        log.debug("rollback after a database error failed", exc_info=True)


def handle_database_error(err: SQLAlchemyError):
    safe_rollback()
    if isinstance(err, DBAPIError):
        if dberrors.is_check_violation(err):
            return problem(
                409, "The change would break a rule of the data (for example a negative stock).", type=TYPE_CONFLICT
            )
        if isinstance(err, IntegrityError):
            return problem(
                409, "The change conflicts with existing data (a duplicate or a missing reference).", type=TYPE_CONFLICT
            )
        if dberrors.is_lock_conflict(err):
            return problem(
                503,
                "The database is busy with conflicting work; retry shortly.",
                type=TYPE_UNAVAILABLE,
                headers={"Retry-After": "1"},
            )
        if dberrors.is_bad_value(err):
            return problem(
                400, "A value is out of the range the database accepts.", title=VALIDATION_TITLE, type=TYPE_VALIDATION
            )
        if dberrors.is_unreachable(err):
            log.warning("database unavailable: %s", err.__class__.__name__)
            return problem(
                503,
                "The database cannot be reached right now; retry shortly.",
                type=TYPE_UNAVAILABLE,
                headers={"Retry-After": str(DEFAULT_RETRY_AFTER)},
            )
    return handle_unexpected(err)


def handle_unexpected(err: Exception):
    safe_rollback()
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
