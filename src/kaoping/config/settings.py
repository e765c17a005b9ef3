"""Django settings, read from the environment (see docs/configuration.md)."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from kaoping.config.env import env_bool, env_int, env_list, env_str

PACKAGE_DIR = Path(__file__).resolve().parent.parent
# Runtime data (SQLite database, task queue, collected static files) lives under var/ of the
# working directory unless KAOPING_VAR_DIR says otherwise.
VAR_DIR = Path(env_str("KAOPING_VAR_DIR", str(Path.cwd() / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
_secret = env_str("SECRET_KEY", "")
if not _secret:
    if not DEBUG and not env_bool("KAOPING_ALLOW_INSECURE_KEY", False):
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off "
            "(set SECRET_KEY, or DEBUG=1 / KAOPING_ALLOW_INSECURE_KEY=1 for local use only)"
        )
    _secret = "kaoping-insecure-local-key-do-not-use-in-production"
SECRET_KEY = _secret

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "huey.contrib.djhuey",
    "ninja",  # serves the API docs assets locally, not from a CDN (closed networks)
    "kaoping.core",
    "kaoping.evidence",
    "kaoping.org",
    "kaoping.workcal",
    "kaoping.catalog",
    "kaoping.cases",
    "kaoping.ratings",
    "kaoping.reviews",
    "kaoping.followup",
    "kaoping.assessment",
    "kaoping.targets",
    "kaoping.hotline",
    "kaoping.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kaoping.web.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "kaoping.config.urls"
WSGI_APPLICATION = "kaoping.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kaoping.web.context.navigation",
            ],
        },
    },
]

_default_db = f"sqlite:///{VAR_DIR / 'kaoping.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(env_str("DATABASE_URL", _default_db), conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers go on while one writer writes; IMMEDIATE takes the write lock at BEGIN so
    # two writers queue on busy_timeout instead of failing when a read lock cannot be upgraded.
    # Connections are kept (per worker thread): opening one and running the pragmas cost a public
    # rating request about a fifth of its time.
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60)
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        # A 64 MiB page cache (allocated only as used) keeps bulk imports from thrashing the indexes.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
            "PRAGMA cache_size=-65536;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# Task queue: SQLite storage next to the database by default, Redis when HUEY_REDIS_URL is set.
_redis = env_str("HUEY_REDIS_URL", "")
HUEY_WORKERS = env_int("HUEY_WORKERS", 2)
HUEY = {
    "huey_class": "huey.RedisHuey" if _redis else "huey.SqliteHuey",
    "name": "kaoping",
    "immediate": env_bool("HUEY_IMMEDIATE", False),
    "utc": True,
    "consumer": {"workers": HUEY_WORKERS, "worker_type": "thread"},
}
if _redis:
    HUEY["url"] = _redis
else:
    HUEY["filename"] = str(VAR_DIR / "huey.sqlite3")

# R0.4 timed nodes: limits with the seed's defaults, each overridable from the environment.
# Units: "wmin" working minutes, "wh" working hours, "wd" working days, "h" natural hours.
KAOPING_NODE_LIMITS = {
    "appointment_response": env_str("KAOPING_LIMIT_APPOINTMENT_RESPONSE", "15 wmin"),
    "acceptance": env_str("KAOPING_LIMIT_ACCEPTANCE", "30 wmin"),
    "result_delivery": env_str("KAOPING_LIMIT_RESULT_DELIVERY", "24 h"),
}
# R0.2 default handling limits by matter kind.
KAOPING_MATTER_LIMITS = {
    "immediate": env_str("KAOPING_LIMIT_IMMEDIATE", "1 wh"),
    "committed": env_str("KAOPING_LIMIT_COMMITTED", "3 wd"),
    "joint": env_str("KAOPING_LIMIT_JOINT", "7 wd"),
}
# Default office hours (per centre overrides live in the database).
KAOPING_OFFICE_HOURS = env_str("KAOPING_OFFICE_HOURS", "09:00-12:00,13:30-17:30")

# Ratings (好差评): local rules differ between provinces, so they are settings.
# An unrated case takes a default level after N natural days (Guangdong: 7 → 基本满意); 0 = off.
KAOPING_RATING_DEFAULT_DAYS = env_int("KAOPING_RATING_DEFAULT_DAYS", 0)
# R0.16: a published result may be re-checked within this many working days.
KAOPING_RECHECK_WORKING_DAYS = env_int("KAOPING_RECHECK_WORKING_DAYS", 3)
KAOPING_RATING_DEFAULT_LEVEL = env_str("KAOPING_RATING_DEFAULT_LEVEL", "基本满意")
# Public rating page: at most this many ratings per device per hour and per address per 10 minutes.
KAOPING_RATE_LIMIT_DEVICE_HOUR = env_int("KAOPING_RATE_LIMIT_DEVICE_HOUR", 5)
KAOPING_RATE_LIMIT_ADDRESS_10MIN = env_int("KAOPING_RATE_LIMIT_ADDRESS_10MIN", 30)
# Reverse proxies whose X-Forwarded-For is believed (their own address is not the citizen's).
KAOPING_TRUSTED_PROXIES = env_list("KAOPING_TRUSTED_PROXIES", [])
# The centres' own networks (CIDR): public-channel ratings from inside them are flagged (R4.10).
KAOPING_CENTRE_NETWORKS = env_list("KAOPING_CENTRE_NETWORKS", ["10.20.0.0/16"])
# Case-bound rating links stay valid this many days.
KAOPING_RATING_LINK_DAYS = env_int("KAOPING_RATING_LINK_DAYS", 30)
# Anti-gaming thresholds: a burst is N top ratings from one device within M minutes; a rating within
# S seconds of the case being handled, on the handler's own terminal; one phone rating K cases in D days.
KAOPING_GAMING = {
    "burst_count": env_int("KAOPING_GAMING_BURST_COUNT", 5),
    "burst_minutes": env_int("KAOPING_GAMING_BURST_MINUTES", 10),
    "own_terminal_seconds": env_int("KAOPING_GAMING_OWN_TERMINAL_SECONDS", 60),
    "phone_cases": env_int("KAOPING_GAMING_PHONE_CASES", 5),
    "phone_days": env_int("KAOPING_GAMING_PHONE_DAYS", 30),
}
# Bad-rating follow-up: revisit within this limit; a complex rectification gets a limit chosen by the
# person triaging, within the range (5–15 working days in most provinces), the default first.
KAOPING_FOLLOWUP_REVISIT_LIMIT = env_str("KAOPING_FOLLOWUP_REVISIT_LIMIT", "1 wd")
KAOPING_FOLLOWUP_RECTIFY_DAYS = (
    env_int("KAOPING_FOLLOWUP_RECTIFY_DAYS_DEFAULT", 10),
    env_int("KAOPING_FOLLOWUP_RECTIFY_DAYS_MIN", 5),
    env_int("KAOPING_FOLLOWUP_RECTIFY_DAYS_MAX", 15),
)

# Hotline tickets (R3.4): handling limits per category from dispatch, in working time ("2 h" natural
# hours, "3 wd" working days, "8 wh" working hours …); a duplicate is the same caller's phone with a
# similar text (character-bigram similarity ≥ N %) within D natural days; GB/T 33358-2016 answer time.
KAOPING_HOTLINE_LIMITS = {
    "emergency": env_str("KAOPING_HOTLINE_LIMIT_EMERGENCY", "2 h"),
    "consultation": env_str("KAOPING_HOTLINE_LIMIT_CONSULTATION", "3 wd"),
    "request": env_str("KAOPING_HOTLINE_LIMIT_REQUEST", "5 wd"),
    "suggestion": env_str("KAOPING_HOTLINE_LIMIT_SUGGESTION", "10 wd"),
    "complaint": env_str("KAOPING_HOTLINE_LIMIT_COMPLAINT", "15 wd"),
}
KAOPING_HOTLINE_DUPLICATE_DAYS = env_int("KAOPING_HOTLINE_DUPLICATE_DAYS", 7)
KAOPING_HOTLINE_DUPLICATE_SIMILARITY = env_int("KAOPING_HOTLINE_DUPLICATE_SIMILARITY", 50)
KAOPING_HOTLINE_ANSWER_SECONDS = env_int("KAOPING_HOTLINE_ANSWER_SECONDS", 15)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
