"""Configuration read from the environment (and a `.env` file).

Every variable is listed, with its default, in docs/operations.md (Configuration).
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

load_dotenv(BASE_DIR / ".env")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be an integer, got {raw!r}") from exc


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def normalise_database_url(url: str) -> str:
    """Make every MySQL/MariaDB URL use PyMySQL and utf8mb4."""
    for prefix in ("mysql://", "mariadb://", "mariadb+pymysql://"):
        if url.startswith(prefix):
            url = "mysql+pymysql://" + url[len(prefix) :]
    if url.startswith("mysql+pymysql://") and "charset=" not in url:
        url += ("&" if "?" in url else "?") + "charset=utf8mb4"
    return url


def default_sqlite_url() -> str:
    INSTANCE_DIR.mkdir(exist_ok=True)
    return f"sqlite:///{INSTANCE_DIR / 'bookstore.db'}"


MYSQL_SQL_MODE = "STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"


def engine_options(url: str) -> dict:
    """Connection pool and driver settings for the chosen database."""
    if url.startswith("mysql"):
        lock_wait = env_int("DB_LOCK_WAIT_TIMEOUT", 5)
        # Galera only: 1 makes every read (3: also every UPDATE/DELETE) wait for what the cluster committed.
        sync_wait = env_int("DB_WSREP_SYNC_WAIT", 0)
        galera = f", wsrep_sync_wait={sync_wait}" if sync_wait else ""
        return {
            # Statement parameters (password hashes among them) never reach error messages or logs.
            "hide_parameters": True,
            # No ping on every checkout (one round trip per request): app/__init__.py pings only a
            # connection that sat idle longer than DB_PING_AFTER_IDLE seconds.
            "pool_pre_ping": False,
            "pool_recycle": 280,
            "pool_size": env_int("DB_POOL_SIZE", 10),
            "max_overflow": env_int("DB_MAX_OVERFLOW", 10),
            "pool_timeout": 10,
            # Every transaction is ended explicitly (commit or rollback), so the pool
            # does not need to send one more ROLLBACK when a connection is returned.
            "pool_reset_on_return": None,
            "connect_args": {
                "connect_timeout": env_int("DB_CONNECT_TIMEOUT", 3),
                "read_timeout": env_int("DB_READ_TIMEOUT", 15),
                "write_timeout": env_int("DB_WRITE_TIMEOUT", 15),
                "charset": "utf8mb4",
                "init_command": (
                    f"SET SESSION sql_mode='{MYSQL_SQL_MODE}', innodb_lock_wait_timeout={lock_wait}, time_zone='+00:00'{galera}"
                ),
            },
        }
    if url.startswith("sqlite"):
        return {"hide_parameters": True, "connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"hide_parameters": True, "pool_pre_ping": True}


class Config:
    ENV_NAME = "development"
    TESTING = False
    DEBUG = False

    SECRET_KEY = os.environ.get("SECRET_KEY") or ""
    JWT_SECRET_KEY = os.environ.get("JWT_SECRET_KEY") or ""

    SQLALCHEMY_DATABASE_URI = normalise_database_url(os.environ.get("DATABASE_URL") or default_sqlite_url())
    SQLALCHEMY_ENGINE_OPTIONS = engine_options(SQLALCHEMY_DATABASE_URI)
    SQLALCHEMY_RECORD_QUERIES = False

    # Bodies above 1 MiB are refused with 413 before they are read.
    MAX_CONTENT_LENGTH = 1024 * 1024

    JWT_TOKEN_LOCATION = ["headers"]
    JWT_ALGORITHM = "HS256"
    JWT_DECODE_ALGORITHMS = ["HS256"]
    JWT_ACCESS_TOKEN_EXPIRES = timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15))
    JWT_REFRESH_TOKEN_EXPIRES = timedelta(days=env_int("JWT_REFRESH_DAYS", 30))
    JWT_ERROR_MESSAGE_KEY = "detail"
    # The web pages keep their refresh token in this HttpOnly cookie, sent only to the refresh
    # path; app/auth.py reads it there alone, behind its own CSRF check (docs/decisions/0019).
    JWT_REFRESH_COOKIE_NAME = "bookstore_refresh"
    JWT_REFRESH_COOKIE_PATH = "/token/refresh"
    JWT_COOKIE_CSRF_PROTECT = False

    BCRYPT_ROUNDS = env_int("BCRYPT_ROUNDS", 12)

    REDIS_URL = os.environ.get("REDIS_URL") or ""
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    # Off: Flask-Limiter would set Retry-After on every response; the 429 handler sets its own.
    RATELIMIT_HEADERS_ENABLED = False
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT") or "10 per minute"
    # Every login attempt of a client address, whatever the name: bounds the bcrypt work one address causes.
    LOGIN_ADDRESS_RATE_LIMIT = os.environ.get("LOGIN_ADDRESS_RATE_LIMIT") or "60 per minute"
    REGISTER_RATE_LIMIT = os.environ.get("REGISTER_RATE_LIMIT") or "30 per hour"
    # Changes of a profile that answer whether an email or username is taken, per calling account.
    PROFILE_RATE_LIMIT = os.environ.get("PROFILE_RATE_LIMIT") or "30 per hour"
    # Review writes (create, change, delete, helpful votes), per calling account.
    REVIEW_RATE_LIMIT = os.environ.get("REVIEW_RATE_LIMIT") or "60 per hour"

    # Comma-separated list of origins allowed to call the API from a browser.
    CORS_ORIGINS = [o.strip() for o in (os.environ.get("CORS_ORIGINS") or "").split(",") if o.strip()]
    # Number of reverse proxies in front of the app whose X-Forwarded-For is trusted.
    TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)

    # Stored Idempotency-Key answers are kept this long (never less than 24) before `flask purge-expired`.
    IDEMPOTENCY_KEY_TTL_HOURS = env_int("IDEMPOTENCY_KEY_TTL_HOURS", 48)

    PROCESSING_DAYS = env_int("PROCESSING_DAYS", 5)
    DB_CONFLICT_RETRIES = env_int("DB_CONFLICT_RETRIES", 10)
    SHIPPING_DAYS = env_int("SHIPPING_DAYS", 3)
    # ISO 4217 code of the prices (the API's money strings carry none); the report charts show it.
    CURRENCY = (os.environ.get("CURRENCY") or "USD").strip().upper()
    # Seconds a catalogue count or page boundary is reused by a server process (0: never).
    BOOKS_LIST_CACHE_SECONDS = env_int("BOOKS_LIST_CACHE_SECONDS", 10)

    # OpenAPI document (flask-smorest) and the offline Swagger UI.
    API_TITLE = "Bookstore API"
    API_VERSION = "1.0.0"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/"
    OPENAPI_JSON_PATH = "openapi.json"

    # A pooled MySQL connection idle longer than this is pinged before use (dead ones replaced).
    DB_PING_AFTER_IDLE = float(os.environ.get("DB_PING_AFTER_IDLE") or 1.0)

    LOG_LEVEL = os.environ.get("LOG_LEVEL") or "INFO"

    # Test-only pauses for fault tests (app/failpoints.py), e.g. "order.before_commit=2".
    FAILPOINTS_SPEC = os.environ.get("FAILPOINTS") or ""


class DevelopmentConfig(Config):
    ENV_NAME = "development"


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SQLALCHEMY_DATABASE_URI = normalise_database_url(os.environ.get("TEST_DATABASE_URL") or "sqlite:///:memory:")
    SQLALCHEMY_ENGINE_OPTIONS = engine_options(SQLALCHEMY_DATABASE_URI)
    BCRYPT_ROUNDS = 4
    SECRET_KEY = "test-secret-key-" + "x" * 32
    JWT_SECRET_KEY = "test-jwt-secret-key-" + "y" * 32
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ENABLED = True
    BOOKS_LIST_CACHE_SECONDS = 0


class ProductionConfig(Config):
    ENV_NAME = "production"


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def get_config(name: str | None = None) -> type[Config]:
    name = name or os.environ.get("APP_ENV") or "development"
    try:
        return CONFIGS[name]
    except KeyError as exc:
        raise RuntimeError(f"APP_ENV must be one of {sorted(CONFIGS)}, got {name!r}") from exc


def dev_secret(name: str) -> str:
    """A random secret kept under instance/ so development tokens survive a restart."""
    INSTANCE_DIR.mkdir(exist_ok=True)
    path = INSTANCE_DIR / f"{name.lower()}.txt"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()
