"""flask-smorest glue: the Api that documents problem+json errors and the Blueprint whose
request parser answers 400 (not webargs' 422) on invalid input."""

import http
import json

import flask_smorest
import marshmallow as ma
from flask_smorest.utils import prepare_response
from marshmallow.utils import missing
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import RequestEntityTooLarge

from app.problems import PROBLEM_JSON, ProblemSchema, ValidationProblemSchema

RETRY_AFTER_HEADER = {
    "description": "Seconds to wait before retrying.",
    "schema": {"type": "integer", "minimum": 1},
}


class Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req):
        limit = req.max_content_length
        if req.content_length is None and limit is not None and len(req.get_data(cache=True)) >= limit:
            # A streamed (chunked) body is not refused by Werkzeug but cut at the limit, which
            # would then read as malformed JSON (400): it is too large.
            raise RequestEntityTooLarge()
        try:
            return super()._raw_load_json(req)
        except RecursionError as exc:  # '[[[[…' deeper than the interpreter's stack: malformed, not a 500
            raise json.JSONDecodeError("JSON nested too deeply", doc="[", pos=0) from exc

    def load_json(self, req, schema):
        # Every body is documented as required: no body at all is a 400, not an empty object
        # (a PATCH with nothing answered 200, an empty POST /orders ordered the cart).
        data = super().load_json(req, schema)
        if data is missing:
            raise ma.ValidationError(["A JSON body is required."])
        return data


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser()

    def arguments(self, schema, **kwargs):
        # webargs instantiates a schema given as a class on every request (fields deep-copied
        # each time); one instance per route does the same validation for none of that work.
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, **kwargs)


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
            response = {"description": status.phrase, "schema": schema}
            if status in (429, 503):
                response["headers"] = {"Retry-After": RETRY_AFTER_HEADER}
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
