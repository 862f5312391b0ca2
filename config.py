"""Settings. Embedded defaults run on one machine with nothing installed (SQLite under instance/,
Celery on an SQLite broker); every setting can be overridden from the environment."""
import os
import secrets

from flask_appbuilder.const import AUTH_DB

BASE_DIR = os.path.abspath(os.path.dirname(__file__))
INSTANCE_DIR = os.environ.get("INSTANCE_DIR", os.path.join(BASE_DIR, "instance"))


def _secret_key() -> str:
    """Use SECRET_KEY from the environment, else a random key kept in instance/ (never a fixed one)."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    os.makedirs(INSTANCE_DIR, exist_ok=True)
    path = os.path.join(INSTANCE_DIR, "secret_key")
    if not os.path.exists(path):
        with open(path, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32))
        os.chmod(path, 0o600)
    with open(path, encoding="ascii") as fh:
        return fh.read().strip()


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


class Config:
    SECRET_KEY = _secret_key()
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", "sqlite:///" + os.path.join(INSTANCE_DIR, "app.db")
    )
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # PostgreSQL: the app connects (DATABASE_URL) as a role that owns no table, so row-level security binds it;
    # migrations run as the owner; platform-wide work switches to the platform role (see app/tenancy/rls.py)
    DATABASE_OWNER_URL = os.environ.get("DATABASE_OWNER_URL") or None
    DATABASE_PLATFORM_ROLE = os.environ.get("DATABASE_PLATFORM_ROLE") or None
    # no ping per checkout (a round trip per request): a connection is pinged only after sitting idle in the pool
    # for DATABASE_PING_IDLE_SECONDS, and replaced after DATABASE_POOL_RECYCLE_SECONDS (app/tenancy/pool.py)
    SQLALCHEMY_ENGINE_OPTIONS = {
        "pool_pre_ping": _bool("DATABASE_POOL_PRE_PING", False),
        "pool_recycle": int(os.environ.get("DATABASE_POOL_RECYCLE_SECONDS", "1800")),
    }
    DATABASE_PING_IDLE_SECONDS = float(os.environ.get("DATABASE_PING_IDLE_SECONDS", "30"))
    # PostgreSQL plans each statement for its organisation (generic plans ignore how big it is; app/tenancy/pool.py)
    DATABASE_PLAN_CACHE_MODE = os.environ.get("DATABASE_PLAN_CACHE_MODE", "force_custom_plan")
    # a request that read only ends with COMMIT, not ROLLBACK, so psycopg's prepared statements survive it
    # (app/tenancy/read_commit.py); off for PgBouncer in transaction mode
    READ_ONLY_COMMIT = _bool("READ_ONLY_COMMIT", True)

    APP_NAME = "ท้องถิ่นดิจิทัล"
    APP_THEME = ""
    BABEL_DEFAULT_LOCALE = "th"
    BABEL_DEFAULT_TIMEZONE = "Asia/Bangkok"
    BABEL_TRANSLATION_DIRECTORIES = os.path.join(BASE_DIR, "translations")
    LANGUAGES = {
        "th": {"flag": "th", "name": "ไทย"},
        "en": {"flag": "gb", "name": "English"},
    }

    # Security: database logins, no self-registration, FAB's admin role is the platform operator.
    AUTH_TYPE = AUTH_DB
    AUTH_USER_REGISTRATION = False
    AUTH_ROLE_ADMIN = "platform_operator"
    AUTH_ROLE_PUBLIC = "public"
    AUTH_RATE_LIMITED = _bool("AUTH_RATE_LIMITED", True)
    AUTH_RATE_LIMIT = os.environ.get("AUTH_RATE_LIMIT", "10 per minute")
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # the map picker of location fields: Leaflet from npm (make assets), tiles from this URL ("" for none:
    # the latitude/longitude box and the phone's location button still work)
    LEAFLET_DIR = os.environ.get("LEAFLET_DIR", os.path.join(BASE_DIR, "node_modules", "leaflet", "dist"))
    MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    MAP_TILE_ATTRIBUTION = os.environ.get("MAP_TILE_ATTRIBUTION", "© OpenStreetMap contributors")
    # the citizen portal: submissions and tracking look-ups per address
    PORTAL_SUBMIT_RATE_LIMIT = os.environ.get("PORTAL_SUBMIT_RATE_LIMIT", "5 per minute;30 per hour")
    PORTAL_TRACK_RATE_LIMIT = os.environ.get("PORTAL_TRACK_RATE_LIMIT", "20 per minute")
    # how long a browser keeps a waste-fee account open after its number and check code were typed
    PORTAL_WASTE_ACCESS_MINUTES = int(os.environ.get("PORTAL_WASTE_ACCESS_MINUTES", "30"))
    FAB_PASSWORD_COMPLEXITY_ENABLED = True
    FAB_PASSWORD_COMPLEXITY_VALIDATOR = "app.security.passwords.validate_password_policy"
    FAB_ADD_SECURITY_API = False
    # Every table, FAB's included, is created by migrations (app/migrations), never by FAB itself.
    FAB_CREATE_DB = False
    FAB_UPDATE_PERMS = _bool("FAB_UPDATE_PERMS", True)
    FAB_SECURITY_MANAGER_CLASS = "app.security.manager.TenantSecurityManager"
    FAB_INDEX_VIEW = "app.home.views.StaffHomeView"
    FAB_API_SWAGGER_UI = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    WTF_CSRF_ENABLED = _bool("WTF_CSRF_ENABLED", True)

    # Files attached to requests, one folder per tenant (production: a mounted volume or object store)
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", os.path.join(INSTANCE_DIR, "uploads"))
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(60 * 1024 * 1024)))

    # E-mail for notices: unset, notices stay in the outbox screen and the log
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "no-reply@localhost")
    # s.10 copies of delay notices to ก.พ.ร.: e-mailed there when set, else kept in the outbox for the clerk
    OPDC_EMAIL = os.environ.get("OPDC_EMAIL", "")
    # the กอง queue and the approvals screen read open matters this many at a time (with links to the rest)
    INBOX_PAGE_SIZE = int(os.environ.get("INBOX_PAGE_SIZE", "300"))

    # Celery: embedded SQLite broker by default, Redis in production.
    CELERY_BROKER_URL = os.environ.get(
        "CELERY_BROKER_URL", "sqla+sqlite:///" + os.path.join(INSTANCE_DIR, "celery-broker.db")
    )
    CELERY_RESULT_BACKEND = os.environ.get(
        "CELERY_RESULT_BACKEND", "db+sqlite:///" + os.path.join(INSTANCE_DIR, "celery-results.db")
    )
    CELERY_TASK_ALWAYS_EAGER = _bool("CELERY_TASK_ALWAYS_EAGER", False)
    # Redis redelivers a task not acknowledged within this many seconds (tasks acknowledge late, after they
    # ran): longer than the longest task (a billing run) and any countdown, or a task runs twice at once
    CELERY_VISIBILITY_TIMEOUT = int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", str(6 * 3600)))
    # where beat keeps when each schedule last ran (systemd: /var/lib/thongthin/celerybeat-schedule)
    CELERY_BEAT_SCHEDULE_FILE = os.environ.get("CELERY_BEAT_SCHEDULE_FILE",
                                               os.path.join(INSTANCE_DIR, "celerybeat-schedule"))

    # Logs (app/ops/logs.py): plain text by default, one JSON object per line with LOG_FORMAT=json (production)
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    # GET /health: seconds to wait for the database and the broker
    HEALTH_TIMEOUT_SECONDS = float(os.environ.get("HEALTH_TIMEOUT_SECONDS", "2"))
    # proxies in front (nginx: 1) whose X-Forwarded-For/-Proto give the client's address and scheme; 0: none
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))

    # Webhooks (app/api/webhooks.py): retries after base * 2^(n-1) seconds (jittered, capped at 6 h), failed
    # after the last attempt; URLs into private networks are refused unless allowed (never in production)
    WEBHOOK_RETRY_BASE_SECONDS = int(os.environ.get("WEBHOOK_RETRY_BASE_SECONDS", "30"))
    WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", "8"))
    # beat looks for webhook retries whose time has come this often
    WEBHOOK_SWEEP_SECONDS = float(os.environ.get("WEBHOOK_SWEEP_SECONDS", "60"))
    WEBHOOK_ALLOW_PRIVATE_URLS = _bool("WEBHOOK_ALLOW_PRIVATE_URLS", False)

