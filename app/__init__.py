"""Application factory."""

import logging
import re
import time
import uuid

from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import Flask, g, request
from flask.sessions import SessionInterface
from flask_cors import CORS
from flask_swagger_ui import get_swaggerui_blueprint
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from werkzeug.exceptions import UnsupportedMediaType
from werkzeug.middleware.proxy_fix import ProxyFix

from app import failpoints, prepared
from app.accounts import sessions
from app.accounts.routes import accounts_blp, auth_blp
from app.api import StrictJSONProvider
from app.auth import init_jwt_errors
from app.books.cover_routes import blp as covers_blp
from app.books.routes import blp as books_blp
from app.cart.routes import blp as cart_blp
from app.commands import register_commands
from app.customers.routes import blp as customers_blp
from app.discovery.routes import blp as discovery_blp
from app.errors import register_errors
from app.extensions import api, db, jwt, limiter, ma, migrate
from app.fields import DigestConverter, IdConverter, decimal_strings
from app.orders.routes import blp as orders_blp
from app.reports.routes import blp as reports_blp
from app.reviews.routes import blp as reviews_blp
from app.service.routes import blp as service_blp
from app.web.routes import bp as web_bp
from config import Config, dev_secret, get_config

BODY_METHODS = {"POST", "PUT", "PATCH"}
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'"
# The web front (app/web): its own scripts, styles and images only, no inline script or style;
# blob:/data: images for the report charts fetched with the token; fetch() to this origin only.
WEB_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def create_app(config: type[Config] | str | None = None) -> Flask:
    cfg = config if isinstance(config, type) else get_config(config)
    app = Flask(__name__, instance_relative_config=True)

    app.url_map.converters["int"] = IdConverter  # ids past INT are 404, not a driver error
    app.url_map.converters["digest"] = DigestConverter
    app.json = StrictJSONProvider(app)  # request.get_json reads numbers as the body parser does
    app.config.from_object(cfg)
    app.json.sort_keys = False  # keep the field order of the schemas
    app.session_interface = NoCookieSessions()
    _check_secrets(app)
    cors_origins(app.config["CORS_ORIGINS"])  # a bad setting stops here, before any extension is bound
    app.config["FAILPOINTS"] = failpoints.parse(app.config.get("FAILPOINTS_SPEC", ""))
    logging.basicConfig(level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    if app.config["TRUSTED_PROXIES"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"], x_proto=1, x_host=1)

    register_extensions(app)
    register_blueprints(app)

    _limit_only_decorated_routes(app, limiter)  # after the blueprints: their limits are known then
    register_request_hooks(app)

    register_errors(app)

    register_commands(app)
    return app


class NoCookieSessions(SessionInterface):
    """The API is stateless (bearer tokens) and sets no cookies, so Flask's signed-cookie session is
    never opened (docs/decisions/0010-no-cookie-sessions.md)."""

    def open_session(self, app, request):
        return None  # Flask then uses a NullSession, which refuses writes

    def save_session(self, app, session, response):
        return None


def _check_secrets(app: Flask) -> None:
    for name in ("SECRET_KEY", "JWT_SECRET_KEY"):
        value = app.config.get(name) or ""
        if app.config["ENV_NAME"] == "production":
            if len(value.encode()) < 32:
                raise RuntimeError(f"{name} must be set to at least 32 bytes in production.")
        elif not value:
            app.config[name] = dev_secret(name)


def register_extensions(app: Flask) -> None:

    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    jwt.init_app(app)
    init_jwt_errors(jwt)
    sessions.init_jwt(jwt)
    ma.init_app(app)
    limiter.init_app(app)
    plugin = MarshmallowPlugin(schema_name_resolver=schema_name)
    api.init_app(
        app,
        spec_kwargs={
            "marshmallow_plugin": plugin,
            "info": {
                "description": (
                    "REST API of an online bookstore. Errors are RFC 9457 problem details "
                    "(application/problem+json). Lists are paginated with `page`/`per_page` "
                    "and an RFC 8288 `Link` header. Money is a string with two decimals."
                )
            },
            "components": {
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
            },
        },
    )

    plugin.converter.add_attribute_function(decimal_strings)
    if app.config["CORS_ORIGINS"]:
        CORS(
            app,
            origins=app.config["CORS_ORIGINS"],
            expose_headers=["Link", "Location", "Retry-After", "Idempotent-Replayed", "X-Request-ID"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        )
    with app.app_context():
        _tune_engine(db.engine)
        _ping_idle_connections(db.engine, app.config["DB_PING_AFTER_IDLE"])
        prepared.init_app(app)


def _limit_only_decorated_routes(app: Flask, limiter) -> None:
    """Flask-Limiter's before-request hook only applies limits that are not on a route's decorator
    (default, application, meta, blueprint and fallback limits); with none configured it is taken
    out, as the decorated routes check their own (docs/decisions/0009-limiter-hook-only-where-limited.md)."""
    manager = limiter.limit_manager
    elsewhere = (
        manager.default_limits,
        manager.application_limits,
        getattr(manager, "_blueprint_limits", None),
        app.config.get("RATELIMIT_META"),
        app.config.get("RATELIMIT_IN_MEMORY_FALLBACK"),
    )
    hooks = app.before_request_funcs.get(None, [])
    if any(elsewhere) or limiter._check_request_limit not in hooks:  # not there: RATELIMIT_ENABLED=false
        return
    hooks.remove(limiter._check_request_limit)


ORIGIN_RE = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def cors_origins(origins: list[str]) -> list[str]:
    """CORS_ORIGINS is an allow-list of exact origins (`https://shop.example.com`, no path, no
    wildcard): flask-cors would read `*` or any regex character as a pattern matching more."""
    bad = [o for o in origins if not ORIGIN_RE.match(o)]
    if bad:
        raise RuntimeError(f"CORS_ORIGINS must list exact origins such as https://shop.example.com, got {bad}")
    return origins


def schema_name(schema) -> str:
    """OpenAPI component names: `Customer`, and `CustomerPatch` for the partial (PATCH) variant."""
    cls = resolve_schema_cls(schema)
    name = cls.__name__.removesuffix("Schema")
    if getattr(schema, "partial", False) and not isinstance(schema, type):
        name += "Patch"
    return name


def _ping_idle_connections(engine, idle_seconds: float) -> None:
    """Pessimistic disconnect handling without a round trip per request: a connection that was
    busy a moment ago is used as is; one idle longer than `idle_seconds` (a restart of the database
    may have killed it) is pinged, and replaced by the pool when the ping fails. A connection that
    dies while in use is detected by the failing statement, which invalidates the whole pool."""
    if engine.dialect.name != "mysql":
        return

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection, record, _proxy):
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since <= idle_seconds:
            return
        try:
            dbapi_connection.ping(reconnect=False)
        except Exception as exc:  # any failure: let the pool open a new connection
            raise DisconnectionError() from exc


def _tune_engine(engine) -> None:
    if engine.dialect.name != "sqlite":
        return
    in_memory = engine.url.database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A writer takes the write lock up front: concurrent writers queue instead of failing with
        # "database is locked" when a read lock would have to be upgraded. The catalogue reader only
        # reads: a deferred BEGIN is a WAL snapshot that neither waits for a writer nor makes one wait.
        reads_only = conn.get_execution_options().get(prepared.READS_ONLY, False)
        conn.exec_driver_sql("BEGIN" if reads_only else "BEGIN IMMEDIATE")


def register_blueprints(app: Flask) -> None:

    for blp in (
        service_blp,
        auth_blp,
        accounts_blp,
        customers_blp,
        books_blp,
        covers_blp,
        cart_blp,
        orders_blp,
        reviews_blp,
        reports_blp,
        discovery_blp,
    ):
        api.register_blueprint(blp)
    docs = get_swaggerui_blueprint(
        "/docs", "/openapi.json", config={"app_name": app.config["API_TITLE"], "persistAuthorization": True}
    )
    app.register_blueprint(docs, url_prefix="/docs")

    app.register_blueprint(web_bp)  # the pages: a plain Flask blueprint, not in the OpenAPI document


def register_request_hooks(app: Flask) -> None:
    @app.before_request
    def _before():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        body_limit = getattr(app.view_functions.get(request.endpoint), "max_body_bytes", None)
        if body_limit is not None:  # a view that reads its own non-JSON body (app.api.raw_body)
            request.max_content_length = body_limit
        elif request.method in BODY_METHODS and _has_body() and not request.is_json:
            raise UnsupportedMediaType()

    @app.after_request
    def _after(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.path.startswith("/docs"):
            response.headers["Content-Security-Policy"] = DOCS_CSP
        elif request.blueprint == "web":
            response.headers["Content-Security-Policy"] = WEB_CSP
            response.headers.setdefault("X-Frame-Options", "DENY")
        else:
            response.headers.setdefault("Content-Security-Policy", API_CSP)
            response.headers.setdefault("X-Frame-Options", "DENY")
        if request.headers.get("Authorization"):
            response.headers["Cache-Control"] = "no-store"
            response.vary.add("Authorization")
        return response


def _has_body() -> bool:
    if request.content_length:
        return True
    return "chunked" in request.headers.get("Transfer-Encoding", "").lower()
