"""The rating benchmarks' measuring side: runs in a fresh process with its own SQLite database (under
KAOPING_VAR_DIR, set by ``bench.ratings``) and prints one JSON object of figures on its last line.

    python -m bench.ratings_worker import --ratings N
    python -m bench.ratings_worker http --seconds S --rate R
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("KAOPING_ALLOW_INSECURE_KEY", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kaoping.config.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from kaoping.cases.models import Case  # noqa: E402
from kaoping.catalog.models import Matter  # noqa: E402
from kaoping.followup.models import Rectification  # noqa: E402
from kaoping.org.models import Staff, Unit, UnitKind  # noqa: E402
from kaoping.ratings.models import Rating, RatingFlag  # noqa: E402
from kaoping.sim.demo import load_demo  # noqa: E402
from kaoping.workcal.calendar import SHANGHAI  # noqa: E402
from kaoping.workcal.services import calendar_seed_from_package  # noqa: E402

BIN = Path(sys.executable).parent
TEXTS = (
    "办事效率高，工作人员很耐心",
    "材料一次讲清楚，没有来回跑",
    "排队时间太长，等了一个多小时",
    "窗口人员态度生硬，解释不清楚",
    "网上申报系统卡顿，提交了三次",
    "环境整洁，引导清楚",
    "要求的材料反复补正，希望一次性告知",
)
CHANNELS = ("hall_tablet", "qr_code", "sms", "mobile", "pc", "phone", "hall_terminal")


def prepare() -> None:
    call_command("migrate", interactive=False, verbosity=0)
    calendar_seed_from_package(actor="bench")
    load_demo()


def _bulk_cases(count: int, start: dt.datetime) -> list[tuple[str, str]]:
    """``count`` handled window cases stored straight into the table (set-up, not measured)."""
    windows = list(Unit.objects.filter(kind=UnitKind.WINDOW).values_list("pk", "code"))
    matters = {m.owner_id: m.pk for m in Matter.objects.all()}
    staff = {s.unit_id: s.pk for s in Staff.objects.all()}
    pairs = [(unit, code, matters[unit], staff.get(unit)) for unit, code in windows if unit in matters]
    adapt = connection.ops.adapt_datetimefield_value
    rows = []
    units = []
    for i in range(count):
        unit, code, matter, person = pairs[i % len(pairs)]
        received = start + dt.timedelta(seconds=(i * 7919) % (28 * 86400))
        handled = received + dt.timedelta(minutes=40)
        rows.append(
            (
                "bench",
                f"B{i:08d}",
                matter,
                unit,
                person,
                "window",
                "person",
                "",
                "",
                "",
                adapt(received),
                "closed",
                adapt(handled),
                "done_on_time",
                "",
                False,
                False,
                False,
                1,
                0,
                False,
                adapt(handled),
            )
        )
        units.append(code)
    columns = (
        "source, external_id, matter_id, unit_id, staff_id, channel, applicant_kind, applicant_name, "
        "applicant_phone, applicant_id_number, received_at, status, handled_at, deadline_status, "
        "current_node, provisional, overdue, breaker, trips, resubmissions, one_time_notice, updated_at"
    )
    sql = f"INSERT INTO {Case._meta.db_table} ({columns}) VALUES ({', '.join(['%s'] * 22)})"
    with transaction.atomic(), connection.cursor() as cursor:
        for offset in range(0, len(rows), 20000):
            cursor.executemany(sql, rows[offset : offset + 20000])
    return [(f"B{i:08d}", units[i]) for i in range(count)]


def _rating_file(path: Path, count: int, start: dt.datetime) -> int:
    """``count`` ratings as JSON Lines in GB/T 39046-2020 codes: 80% of cases, 20% of a window only."""
    import orjson

    rng = np.random.default_rng(7)
    cases = _bulk_cases(int(count * 0.8), start)
    windows = sorted({code for _, code in cases}) or ["W-01"]
    codes = rng.choice(5, size=count, p=[0.80, 0.15, 0.025, 0.015, 0.01]) + 1  # GB/T: 1 = 非常满意
    channels = rng.integers(0, len(CHANNELS), size=count)
    with_text = rng.random(count) < 0.25
    texts = rng.integers(0, len(TEXTS), size=count)
    seconds = rng.integers(0, 28 * 86400, size=count)
    phones = rng.integers(13_000_000_000, 13_999_999_999, size=count)
    real = rng.random(count) < 0.6
    with path.open("wb") as handle:
        for i in range(count):
            record: dict[str, Any] = {
                "source": "hcp",
                "id": f"HCP{i:09d}",
                "level": int(codes[i]),
                "channel": CHANNELS[channels[i]],
                "rater_kind": "person",
                "rated_at": (start + dt.timedelta(seconds=int(seconds[i]) + 3600)).isoformat(),
                "device": f"DEV-{i % 50000:05d}",
            }
            if i < len(cases):
                record["case"] = cases[i][0]
                record["case_source"] = "bench"
            else:
                record["unit"] = windows[i % len(windows)]
            if real[i]:
                record["real_name"] = True
                record["rater_phone"] = str(phones[i])
            if with_text[i]:
                record["text"] = TEXTS[texts[i]]
            handle.write(orjson.dumps(record) + b"\n")
    return count


def bench_import(count: int) -> dict[str, Any]:
    start = dt.datetime(2026, 3, 1, tzinfo=SHANGHAI)
    path = Path(os.environ["KAOPING_VAR_DIR"]) / "ratings.jsonl"
    began = time.perf_counter()
    _rating_file(path, count, start)
    generate_s = time.perf_counter() - began
    began = time.perf_counter()
    done = subprocess.run(
        [str(BIN / "kaoping"), "import", "ratings", str(path), "--codes", "gbt39046"],
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - began
    stored = Rating.objects.count()
    again_began = time.perf_counter()
    again = subprocess.run(
        [str(BIN / "kaoping"), "import", "ratings", str(path), "--codes", "gbt39046"],
        capture_output=True,
        text=True,
    )
    again_s = time.perf_counter() - again_began
    assert Rating.objects.count() == stored, "re-import changed the number of ratings"
    bad_follow_ups, flags = Rectification.objects.count(), RatingFlag.objects.count()
    # Start-up: the fixed cost of an import (the command, Django, the reader process), on one new rating.
    one = path.with_name("one.jsonl")
    with path.open("rb") as handle:  # the last rating is of a window, not of a case (rated already)
        handle.seek(max(path.stat().st_size - 4096, 0))
        one.write_bytes(handle.read().splitlines()[-1].replace(b'"HCP', b'"ONE'))
    one_began = time.perf_counter()
    subprocess.run(
        [str(BIN / "kaoping"), "import", "ratings", str(one), "--codes", "gbt39046"],
        capture_output=True,
        check=True,
    )
    startup_s = time.perf_counter() - one_began
    return {
        "value": seconds,
        "ratings": stored,
        "bad_follow_ups": bad_follow_ups,
        "flags": flags,
        "generate_s": round(generate_s, 2),
        "reimport_s": round(again_s, 2),
        "startup_s": round(startup_s, 2),
        "ratings_per_s": round(stored / seconds),
        "stdout": done.stdout.strip()[-300:],
        "stderr": done.stderr.strip()[-300:],
        "reimport_stdout": again.stdout.strip()[-300:],
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_http(seconds: int, rate: int) -> dict[str, Any]:
    """Gunicorn with 2 workers serves the public rating page; ``bench.ratings_load`` (a separate
    process) posts ratings at ``rate`` per second for ``seconds``, each as a new citizen (device cookie)
    behind a trusted proxy (X-Forwarded-For). Afterwards every accepted rating must be stored once."""
    connection.close()
    port = _free_port()
    env = {
        **os.environ,
        "KAOPING_TRUSTED_PROXIES": "127.0.0.1",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }
    from kaoping.cli import gunicorn_command

    server = subprocess.Popen(
        gunicorn_command(host="127.0.0.1", port=port, workers=2, access_log=False),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(port)
        load = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.ratings_load",
                "--port",
                str(port),
                "--seconds",
                str(seconds),
                "--rate",
                str(rate),
                "--window",
                "W-01",
            ],
            capture_output=True,
            text=True,
        )
        if load.returncode != 0:
            raise SystemExit(f"load generator failed: {load.stderr[-2000:]}")
        figures: dict[str, Any] = json.loads(load.stdout.strip().splitlines()[-1])
    finally:
        server.terminate()
        server.wait(timeout=30)
    stored = Rating.objects.filter(source="public")
    markers = list(stored.values_list("text", flat=True))
    figures["stored"] = len(markers)
    figures["stored_distinct"] = len(set(markers))
    figures["exactly_once"] = figures["stored"] == figures["stored_distinct"] == figures["accepted"]
    return figures


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("which", choices=["import", "http"])
    parser.add_argument("--ratings", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--rate", type=int, default=300)
    args = parser.parse_args()
    prepare()
    figures = bench_import(args.ratings) if args.which == "import" else bench_http(args.seconds, args.rate)
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
