"""flask-smorest glue: the Api that documents problem+json errors and the Blueprint whose
request parser answers 400 (not webargs' 422) on invalid input."""

import http
import json
import math
from decimal import Decimal

import flask_smorest
import marshmallow as ma
from flask.json.provider import DefaultJSONProvider
from flask_smorest.utils import prepare_response
from marshmallow.utils import missing
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import RequestEntityTooLarge

from app.problems import PROBLEM_JSON, OutOfStockProblemSchema, ProblemSchema, ValidationProblemSchema

RESPONSE_DESCRIPTIONS = {
    http.HTTPStatus.REQUEST_URI_TOO_LONG: "The request line is longer than the server accepts (8190 bytes); "
    "a request whose parameters keep to their documented maxLength always fits.",
}

RETRY_AFTER_HEADER = {
    "description": "Seconds to wait before retrying.",
    "schema": {"type": "integer", "minimum": 1},
}


# No field accepts a number literal this long (ids and counts have at most 10 digits, amounts 12):
# a longer one is refused by name before it is converted (Python's int() refuses more than
# 4,300 digits with a plain ValueError, and Decimal would carry a huge exponent into arithmetic).
MAX_NUMBER_LITERAL = 100
NUMBER_OUT_OF_RANGE = "Number out of range."
MALFORMED_JSON = "The body is not valid JSON."
NOT_A_JSON_NUMBER = "NaN and Infinity are not JSON numbers."


class BadNumber:
    """Where a JSON body held a number no field can take: kept in place so the 400 names its field."""

    __slots__ = ("message",)

    def __init__(self, message: str):
        self.message = message

    def __repr__(self):
        return f"BadNumber({self.message!r})"


def _parse_int(literal: str):
    return BadNumber(NUMBER_OUT_OF_RANGE) if len(literal) > MAX_NUMBER_LITERAL else int(literal)


def _parse_float(literal: str):
    # Decimal, not float: "1.005" stays 1.005 (refused for its third decimal, not rounded) and
    # "1e400" stays a number to refuse by range, not an infinity.
    if len(literal) > MAX_NUMBER_LITERAL:
        return BadNumber(NUMBER_OUT_OF_RANGE)
    value = Decimal(literal)
    return value if math.isfinite(value) else BadNumber(NUMBER_OUT_OF_RANGE)


def _parse_constant(name: str):
    return BadNumber(NOT_A_JSON_NUMBER)


def strict_json_loads(text: str | bytes):
    """json.loads for request bodies: numbers as int or Decimal, an unusable one as BadNumber.

    Raises json.JSONDecodeError (a ValueError) for anything that is not JSON, nesting too deep
    for the interpreter included."""
    try:
        return json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    except RecursionError as exc:  # '[[[[…' deeper than the interpreter's stack: malformed, not a 500
        raise json.JSONDecodeError("JSON nested too deeply", doc="[", pos=0) from exc


def bad_numbers(data) -> dict:
    """Errors keyed as marshmallow keys them ({"items": {0: {"quantity": [...]}}}) for every BadNumber."""
    if isinstance(data, BadNumber):
        return {"_schema": [data.message]}
    if not isinstance(data, (dict, list)):
        return {}
    errors: dict = {}
    pending = [((), data)]  # a loop, not recursion: the body may nest as deep as the parser allows
    while pending:
        path, node = pending.pop()
        for key, value in node.items() if isinstance(node, dict) else enumerate(node):
            if isinstance(value, BadNumber):
                target = errors
                for step in path:
                    target = target.setdefault(step, {})
                target[key] = [value.message]
            elif isinstance(value, (dict, list)):
                pending.append(((*path, key), value))
    return errors


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider (request.get_json) reading numbers as request bodies are read."""

    def loads(self, s, **kwargs):
        return strict_json_loads(s)


class Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req):
        limit = req.max_content_length
        if req.content_length is None and limit is not None and len(req.get_data(cache=True)) >= limit:
            # A streamed (chunked) body is not refused by Werkzeug but cut at the limit, which
            # would then read as malformed JSON (400): it is too large.
            raise RequestEntityTooLarge()
        if not req.is_json:
            return missing
        # A UnicodeDecodeError or json.JSONDecodeError goes to webargs' load_json: an empty body
        # is "missing", anything else _handle_invalid_json_error.
        return strict_json_loads(req.get_data(cache=True).decode("utf-8"))

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        raise ma.ValidationError([MALFORMED_JSON])

    def load_json(self, req, schema):
        # Every body is documented as required: no body at all is a 400, not an empty object
        # (a PATCH with nothing answered 200, an empty POST /orders ordered the cart).
        data = super().load_json(req, schema)
        if data is missing:
            raise ma.ValidationError(["A JSON body is required."])
        errors = bad_numbers(data)
        if errors:
            raise ma.ValidationError(errors)
        return data


def raw_body(max_bytes: int):
    """Mark a view that reads a non-JSON body itself (an image upload): the request hook lets its
    body through whatever its media type, with `max_bytes` as this request's size limit."""

    def mark(view):
        view.max_body_bytes = max_bytes
        return view

    return mark


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser()

    def arguments(self, schema, **kwargs):
        # webargs instantiates a schema given as a class on every request (fields deep-copied
        # each time); one instance per route does the same validation for none of that work.
        if isinstance(schema, type):
            schema = schema()
        parse = super().arguments(schema, **kwargs)
        if kwargs.get("location") != "query":
            return parse
        # Past gunicorn.conf.py's limit_request_line (which every documented maxLength fits in),
        # gunicorn answers 414 itself, as problem+json (app.server).
        too_long = self.alt_response(414, response=http.HTTPStatus.REQUEST_URI_TOO_LONG.name)
        return lambda view: too_long(parse(view))


class Api(flask_smorest.Api):
    """The one Api: errors are documented as RFC 9457 problem details."""

    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        # app.errors registers the single problem+json handler for everything.
        pass

    def _register_responses(self):
        for status in http.HTTPStatus:
            if status < 400:
                continue
            schema = ValidationProblemSchema if status == 400 else ProblemSchema
            response = {"description": RESPONSE_DESCRIPTIONS.get(status, status.phrase), "schema": schema}
            if status in (429, 503):
                response["headers"] = {"Retry-After": RETRY_AFTER_HEADER}
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        # The 409 of the routes that take stock (orders) or check it (cart): it may carry `shortages`.
        stock = {
            "description": "Conflict: not enough copies in stock (`type` `/problems/insufficient-stock`, "
            "`shortages` lists every short line; nothing was changed), or another conflict (`/problems/conflict`).",
            "schema": OutOfStockProblemSchema,
        }
        prepare_response(stock, self.spec, PROBLEM_JSON)
        self.spec.components.response("OUT_OF_STOCK", stock, lazy=True)
