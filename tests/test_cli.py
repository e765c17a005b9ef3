"""The command-line contract, run as a user runs it: the installed `kaoping` in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

KAOPING = str(Path(sys.executable).parent / "kaoping")


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory):
    """A fresh installation of its own: `kaoping setup` on an empty SQLite database."""
    path = tmp_path_factory.mktemp("var")
    env = cli_env(path)
    done = subprocess.run([KAOPING, "setup"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return path


def cli_env(var: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "KAOPING_ALLOW_INSECURE_KEY", "DJANGO_SETTINGS_MODULE")
    }
    env["KAOPING_VAR_DIR"] = str(var)
    env.pop("SECRET_KEY", None)
    return env


def kaoping(var: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KAOPING, *args], env=cli_env(var), capture_output=True, text=True, timeout=120)


def test_due_after_working_days(var_dir):
    done = kaoping(var_dir, "calendar", "due", "2025-09-26T10:00:00+08:00", "--working-days", "3")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2025-09-30T17:30:00+08:00"


def test_due_after_working_hours_as_json(var_dir):
    done = kaoping(var_dir, "calendar", "due", "2026-03-02T11:30:00+08:00", "--working-hours", "1", "--json")
    assert json.loads(done.stdout) == {"due": "2026-03-02T14:00:00+08:00", "provisional": False}


def test_due_in_an_unpublished_year_is_provisional(var_dir):
    from chinese_calendar import constants

    last = max(constants.holidays).year
    done = kaoping(
        var_dir, "calendar", "due", f"{last}-12-30T10:00:00+08:00", "--working-days", "5", "--json"
    )
    assert json.loads(done.stdout)["provisional"] is True


def test_start_in_another_zone(var_dir):
    done = kaoping(var_dir, "calendar", "due", "2026-03-02T01:00:00Z", "--working-hours", "1")
    assert done.stdout.strip() == "2026-03-02T10:00:00+08:00"


@pytest.mark.parametrize(
    ("day", "answer"),
    [
        ("2026-02-14", "yes"),
        ("2026-02-16", "no"),
        ("2026-03-07", "no"),
        ("2026-03-09", "yes"),
        ("2025-10-11", "yes"),
    ],
)
def test_is_workday(var_dir, day, answer):
    done = kaoping(var_dir, "calendar", "is-workday", day)
    assert done.returncode == 0 and done.stdout.strip() == answer


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["calendar", "due", "not-a-date", "--working-days", "3"], "'not-a-date' is not an ISO 8601"),
        (["calendar", "due", "2026-03-02T10:00+08:00", "--working-days", "-2"], "must be at least 1"),
        (["calendar", "due", "2026-03-02T10:00+08:00", "--working-days", "99999"], "out of range"),
        (["calendar", "due", "2026-03-02T10:00+08:00", "--working-hours", "abc"], "is not a number"),
        (["calendar", "is-workday", "2026-02-30"], "is not an ISO 8601 date"),
        (["calendar", "import", "/nonexistent/file.txt"], "cannot be read"),
    ],
)
def test_bad_input_is_a_clear_error(var_dir, args, message):
    done = kaoping(var_dir, *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_import_then_verify(var_dir, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("year 2040\n2040-01-01 holiday 元旦\n2040-01-02 hollyday 坏\n", encoding="utf-8")
    done = kaoping(var_dir, "calendar", "import", str(bad))
    assert done.returncode == 2 and "bad.txt, line 3" in done.stderr
    assert kaoping(var_dir, "calendar", "is-workday", "2040-01-02").stdout.strip() == "yes"

    good = tmp_path / "good.txt"
    good.write_text("year 2040\n2040-01-01..2040-01-02 holiday 元旦\n", encoding="utf-8")
    assert kaoping(var_dir, "calendar", "import", str(good)).returncode == 0
    assert kaoping(var_dir, "calendar", "is-workday", "2040-01-02").stdout.strip() == "no"

    verified = kaoping(var_dir, "evidence", "verify")
    assert verified.returncode == 0 and verified.stdout.startswith("ok:")


def test_verify_fails_and_names_the_entry_after_tampering(tmp_path):
    done = subprocess.run(
        [KAOPING, "setup"], env=cli_env(tmp_path), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    import sqlite3

    with sqlite3.connect(tmp_path / "kaoping.sqlite3") as db:
        db.execute("UPDATE evidence_evidenceentry SET note = 'edited' WHERE seq = 2")
    verified = kaoping(tmp_path, "evidence", "verify")
    assert verified.returncode == 1
    assert "entry #2" in verified.stderr


def test_serve_refuses_to_start_without_a_secret_key(tmp_path):
    done = kaoping(tmp_path, "serve", "--port", "8999")
    assert done.returncode != 0
    assert "SECRET_KEY is required" in done.stderr


def test_before_setup_the_calendar_says_what_to_run(tmp_path):
    done = kaoping(tmp_path, "calendar", "is-workday", "2026-03-02")
    assert done.returncode == 2
    assert "run `kaoping setup`" in done.stderr
    assert "Traceback" not in done.stderr
