from __future__ import annotations

import os
import subprocess
import sys


def settings_of(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k
        not in ("SECRET_KEY", "DEBUG", "KAOPING_ALLOW_INSECURE_KEY", "DJANGO_SETTINGS_MODULE", "DATABASE_URL")
    }
    code = (
        "from kaoping.config import settings as s; "
        "print(s.TIME_ZONE, s.LANGUAGE_CODE, s.DATABASES['default']['ENGINE'])"
    )
    return subprocess.run([sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True)


def test_secret_key_is_required_when_debug_is_off(tmp_path):
    done = settings_of({"KAOPING_VAR_DIR": str(tmp_path)})
    assert done.returncode != 0 and "SECRET_KEY is required" in done.stderr


def test_defaults_from_the_environment(tmp_path):
    done = settings_of({"KAOPING_VAR_DIR": str(tmp_path), "SECRET_KEY": "x" * 50})
    assert done.stdout.split() == ["Asia/Shanghai", "zh-hans", "django.db.backends.sqlite3"]
    done = settings_of(
        {"KAOPING_VAR_DIR": str(tmp_path), "DEBUG": "1", "DATABASE_URL": "postgresql://u:p@localhost/x"}
    )
    assert done.stdout.split()[-1] == "django.db.backends.postgresql"
    done = settings_of({"KAOPING_VAR_DIR": str(tmp_path), "DEBUG": "maybe"})
    assert "DEBUG='maybe' is not a boolean" in done.stderr
