"""Guards on the private hooks of pinned libraries the app relies on.

Each test fails when an upgrade of flask-smorest, webargs, Flask-JWT-Extended, Flask-Limiter or
SQLAlchemy renames, removes or stops calling a hook the app overrides or reads, so the upgrade is
caught here rather than by a silent change of behaviour (a 422 instead of a 400, a token decoded on
every request, a limiter hook left running)."""

import inspect

import flask_jwt_extended.tokens
import flask_smorest
import pytest
import sqlalchemy as sa
from flask import Flask
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.exc import DBAPIError
from webargs.flaskparser import FlaskParser

from app.api import Api, Parser
from app.books.models import Book
from app.extensions import jwt as jwt_manager
from app.extensions import limiter
from app.prepared import Prepared
from app.tokens import CachingJWTManager
from tests.conftest import bearer


def _parameters(func) -> list[str]:
    return list(inspect.signature(func).parameters)


# --- Flask-JWT-Extended: the verified-token cache (app/tokens.py) -------------------------------


def test_jwt_manager_still_decodes_through_the_overridden_method():
    assert _parameters(JWTManager._decode_jwt_from_config) == ["self", "encoded_token", "csrf_value", "allow_expired"]
    assert CachingJWTManager._decode_jwt_from_config is not JWTManager._decode_jwt_from_config
    assert isinstance(jwt_manager, CachingJWTManager)


def test_the_token_cache_is_hit_a_token_is_verified_once(client, make, customer, monkeypatch):
    """Three requests with one token: PyJWT verifies its signature once, the cache answers the rest."""
    token = make.login(customer)["access_token"]
    calls = []
    real_decode = flask_jwt_extended.tokens.jwt.decode

    def counting_decode(*args, **kwargs):
        calls.append(kwargs.get("options", {}).get("verify_signature", True))
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(flask_jwt_extended.tokens.jwt, "decode", counting_decode)
    for _ in range(3):
        assert client.get("/me", headers=bearer(token)).status_code == 200
    assert calls.count(True) <= 1, calls


# --- Flask-Limiter: the before-request hook create_app removes ------------------------------------


def test_limiter_before_request_hook_and_its_inputs_exist():
    app = Flask("hook")
    app.config.update(RATELIMIT_STORAGE_URI="memory://")
    probe = Limiter(key_func=lambda: "one")
    probe.init_app(app)
    assert probe._check_request_limit in app.before_request_funcs[None]
    manager = probe.limit_manager
    for name in ("default_limits", "application_limits", "_blueprint_limits"):
        assert hasattr(manager, name), name


def test_the_app_runs_without_the_limiter_hook(app):
    assert limiter._check_request_limit not in app.before_request_funcs.get(None, [])


def test_limiter_exposes_the_limit_just_breached(app, client):
    """errors._retry_after_from_limiter reads `current_limit` for the 429's Retry-After."""
    assert isinstance(inspect.getattr_static(Limiter, "current_limit"), property)
    app.config["LOGIN_RATE_LIMIT"], saved = "1 per minute", app.config["LOGIN_RATE_LIMIT"]
    try:
        for _ in range(2):
            response = client.post("/login", json={"username": "nobody-at-all", "password": "whatever-123"})
        assert response.status_code == 429
        assert 1 <= int(response.headers["Retry-After"]) <= 61
    finally:
        app.config["LOGIN_RATE_LIMIT"] = saved


# --- flask-smorest and webargs: problem+json instead of their own errors --------------------------


def test_flask_smorest_calls_the_overridden_registration_steps(monkeypatch):
    names = ("_register_error_handlers", "_register_responses")
    called = []
    for name in names:
        assert callable(getattr(flask_smorest.Api, name)), name
        assert name in vars(Api), name
        monkeypatch.setattr(Api, name, lambda self, name=name: called.append(name))
    probe = Flask("smorest")
    probe.config.update(API_TITLE="probe", API_VERSION="1", OPENAPI_VERSION="3.0.3")
    Api(probe)
    assert sorted(called) == sorted(names)
    assert _parameters(flask_smorest.utils.prepare_response) == ["response", "spec", "content_type"]


def test_error_responses_are_documented_as_problem_json(client):
    responses = client.get("/openapi.json").get_json()["components"]["responses"]
    assert set(responses["NOT_FOUND"]["content"]) == {"application/problem+json"}
    assert responses["TOO_MANY_REQUESTS"]["headers"]["Retry-After"]


def test_view_doc_info_is_still_read_from_apidoc(client):
    """app.auth._document writes security and the 401/403 responses into the view's `_apidoc`."""
    operation = client.get("/openapi.json").get_json()["paths"]["/accounts"]["get"]
    assert operation["security"] == [{"bearerAuth": []}]
    assert {"401", "403"} <= set(operation["responses"])


def test_webargs_parser_loads_json_through_the_overridden_method(client, monkeypatch):
    assert "_raw_load_json" in vars(FlaskParser) and "_raw_load_json" in vars(Parser)
    calls = []
    real = Parser._raw_load_json

    def counting(self, req):
        calls.append(req.path)
        return real(self, req)

    monkeypatch.setattr(Parser, "_raw_load_json", counting)
    client.post("/login", json={"username": "someone", "password": "whatever-123"})
    assert calls == ["/login"]


# --- SQLAlchemy: what app/prepared.py reads off a compiled statement and a dialect ------------------


@pytest.mark.parametrize("dialect", [mysql.pymysql.dialect(), sqlite.pysqlite.dialect()], ids=["pymysql", "sqlite"])
def test_compiled_statements_expose_prefetch_and_parameter_order(dialect):
    books = Book.__table__
    compiled = sa.insert(books).values(title=sa.bindparam("t")).compile(dialect=dialect)
    prefetched = {c.key for c in (*compiled.insert_prefetch, *compiled.update_prefetch)}
    assert "created_at" in prefetched  # a Python-side default SQLAlchemy would compute
    if dialect.paramstyle in ("qmark", "numeric", "format"):
        assert compiled.positional and compiled.positiontup[0] == "t"
    else:
        assert not compiled.positional
    with pytest.raises(TypeError, match="created_at"):
        Prepared(sa.insert(books).values(title=sa.bindparam("t"))).compiled(dialect)


def test_dbapi_error_translation_signatures():
    params = _parameters(DBAPIError.instance)
    for name in ("statement", "params", "orig", "dbapi_base_err", "hide_parameters", "connection_invalidated"):
        assert name in params, name
    for name in ("dialect", "ismulti"):
        assert name in params, name
    assert _parameters(mysql.pymysql.dialect.is_disconnect)[:4] == ["self", "e", "connection", "cursor"]
    assert "close" in _parameters(sa.Engine.dispose)
