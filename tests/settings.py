"""Settings for the test run: production settings, with a throwaway key and tasks run inline."""

import os

os.environ.setdefault("KAOPING_ALLOW_INSECURE_KEY", "1")
os.environ.setdefault("HUEY_IMMEDIATE", "1")

from kaoping.config.settings import *  # noqa: F403

# Live-server threads must not keep connections open past a test (PostgreSQL drops the test database).
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
