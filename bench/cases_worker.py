"""The case benchmarks' measuring side: runs in a fresh process with its own SQLite database (under
KAOPING_VAR_DIR, set by ``bench.cases``), prints one JSON object of figures on its last line.

    python -m bench.cases_worker import --cases N
    python -m bench.cases_worker sweep --open N
    python -m bench.cases_worker list --cases N
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

os.environ.setdefault("KAOPING_ALLOW_INSECURE_KEY", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kaoping.config.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from kaoping.cases.models import Case, CaseEvent  # noqa: E402
from kaoping.cases.services import (  # noqa: E402
    DERIVED_FIELDS,
    FILE_IMPORT_PRAGMAS,
    cases_recompute,
    cases_sweep,
)
from kaoping.catalog.models import Matter  # noqa: E402
from kaoping.org.models import Unit, UnitKind  # noqa: E402
from kaoping.sim.demo import load_demo  # noqa: E402
from kaoping.workcal.calendar import SHANGHAI  # noqa: E402
from kaoping.workcal.services import calendar_seed_from_package  # noqa: E402

KAOPING = str(Path(sys.executable).parent / "kaoping")


def prepare() -> None:
    call_command("migrate", interactive=False, verbosity=0)
    calendar_seed_from_package(actor="bench")
    load_demo()


def bench_import(cases: int) -> dict[str, Any]:
    """Simulate enough days of the demo centre for ``cases`` cases, write them as JSON Lines, then
    time `kaoping import cases FILE` as a user runs it."""
    from kaoping.sim import runner

    windows = runner.sim_windows()
    per_day = 60 * len(windows) * 247 / 365  # the simulator's mean over calendar days at scale 1
    scale = 4.0
    days = max(1, round(cases / (per_day * scale)))
    path = Path(os.environ["KAOPING_VAR_DIR"]) / "cases.jsonl"
    start = time.perf_counter()
    records = runner.write_jsonl(path, days=days, seed=7, scale=scale, start=dt.date(2025, 1, 2))
    generate_s = time.perf_counter() - start
    database = str(connection.settings_dict["NAME"])
    empty = Path(os.environ["KAOPING_VAR_DIR"]) / "empty.sqlite3"
    with closing(sqlite3.connect(database)) as source, closing(sqlite3.connect(empty)) as copy:
        source.backup(copy)  # the schema and the demo's rows, before the import
    marks = {table: _max_id(table) for table in _COPIED}
    start = time.perf_counter()
    done = subprocess.run([KAOPING, "import", "cases", str(path)], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    stored = Case.objects.count()
    events = CaseEvent.objects.count()
    sqlite_copy_s = _sqlite_copy(empty, database, marks)
    again_start = time.perf_counter()
    again = subprocess.run([KAOPING, "import", "cases", str(path)], capture_output=True, text=True)
    again_s = time.perf_counter() - again_start
    assert Case.objects.count() == stored, "re-import changed the number of cases"
    return {
        "value": seconds,
        "cases": stored,
        "events": events,
        "records": records,
        "days": days,
        "scale": scale,
        "generate_s": round(generate_s, 2),
        "reimport_s": round(again_s, 2),
        # SQLite's own part: the rows the import stored, copied into the same schema by SQL alone.
        "sqlite_copy_s": round(sqlite_copy_s, 2),
        "sqlite_copy_share": round(sqlite_copy_s / seconds, 2),
        "records_per_s": round(records / seconds),
        "stdout": done.stdout.strip()[-300:],
        "reimport_stdout": again.stdout.strip()[-300:],
    }


# The tables a case file import fills, parents first: their keys, and rows per statement when copied.
_COPIED = {
    "cases_case": ("id", 100_000),
    "cases_casealert": ("case_id", 100_000),
    "cases_caseevent": ("id", 400_000),
}


def _max_id(table: str) -> int:
    key = _COPIED[table][0]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX({key}) FROM {table}")
        return int(cursor.fetchone()[0] or 0)


def _sqlite_copy(empty: Path, imported: str, marks: dict[str, int]) -> float:
    """Seconds SQLite takes to insert the rows an import stored (those above ``marks``) into a copy
    of the database as it was before, with the import's pragmas, ``_COPIED``'s rows per statement,
    each committed: the import's SQLite work without its Python (reading, validating, binding)."""
    with closing(sqlite3.connect(empty, isolation_level=None)) as copy:
        return _copy_rows(copy, imported, marks)


def _copy_rows(copy: sqlite3.Connection, imported: str, marks: dict[str, int]) -> float:
    init = connection.settings_dict["OPTIONS"]["init_command"]
    copy.executescript(init + "".join(f"PRAGMA {pragma};" for pragma in FILE_IMPORT_PRAGMAS))
    copy.execute("ATTACH DATABASE ? AS imported", (imported,))
    start = time.perf_counter()
    for table, (key, rows) in _COPIED.items():
        names = ", ".join(f'"{row[1]}"' for row in copy.execute(f"PRAGMA main.table_info({table})"))
        last = copy.execute(f"SELECT MAX({key}) FROM imported.{table}").fetchone()[0] or 0
        for low in range(marks[table], last, rows):
            copy.execute("BEGIN IMMEDIATE")
            copy.execute(
                f"INSERT INTO main.{table} ({names}) SELECT {names} FROM imported.{table} "
                f"WHERE {key} > ? AND {key} <= ? ORDER BY {key}",
                (low, low + rows),
            )
            copy.execute("COMMIT")
    return time.perf_counter() - start


def _bulk_cases(count: int, *, accepted: bool, spread_days: int, end: dt.datetime) -> None:
    """Store ``count`` cases straight into the table (set-up, not what is measured): window cases of the
    demo's matters received over the last ``spread_days`` working days, each with its events."""
    windows = list(Unit.objects.filter(kind=UnitKind.WINDOW).values_list("pk", "code"))
    matters = {m.owner_id: m.pk for m in Matter.objects.all()}
    pairs = [(unit, matters[unit]) for unit, _ in windows if unit in matters]
    now = dt.datetime.now(dt.UTC)
    rows, events = [], []
    for i in range(count):
        unit, matter = pairs[i % len(pairs)]
        received = end - dt.timedelta(minutes=(i * 7919) % (spread_days * 24 * 60))
        rows.append((f"B{i:08d}", matter, unit, received))
    with transaction.atomic():
        Case.objects.bulk_create(
            [
                Case(
                    source="bench",
                    external_id=e,
                    matter_id=m,
                    unit_id=u,
                    channel="window",
                    applicant_kind="person",
                    received_at=r,
                )
                for e, m, u, r in rows
            ],
            batch_size=5000,
        )
        ids = dict(Case.objects.filter(source="bench").values_list("external_id", "pk"))
        for external_id, _m, _u, received in rows:
            case_id = ids[external_id]
            events.append(
                CaseEvent(
                    case_id=case_id,
                    source="bench",
                    external_id=f"{external_id}/1",
                    kind="arrived",
                    at=received,
                    received_at=now,
                )
            )
            if accepted:
                events.append(
                    CaseEvent(
                        case_id=case_id,
                        source="bench",
                        external_id=f"{external_id}/2",
                        kind="accepted",
                        at=received + dt.timedelta(minutes=12),
                        received_at=now,
                    )
                )
        CaseEvent.objects.bulk_create(events, batch_size=5000)


def bench_sweep(open_cases: int) -> dict[str, Any]:
    # Cases received over the two weeks before the sweep: some long overdue, many running, a few
    # crossing a threshold in any given minute.
    first_now = dt.datetime(2026, 10, 23, 15, 0, tzinfo=SHANGHAI)
    _bulk_cases(open_cases, accepted=True, spread_days=14, end=first_now - dt.timedelta(minutes=5))
    ids = list(Case.objects.values_list("pk", flat=True))
    build = time.perf_counter()
    cases_recompute(case_ids=ids, now=first_now)
    recompute_s = time.perf_counter() - build
    # The first sweep catches up on everything already due; the next ones, a minute apart, are the
    # steady state the every-minute task lives in.
    start = time.perf_counter()
    first = cases_sweep(now=first_now)
    first_s = time.perf_counter() - start
    steady = []
    examined = []
    for minute in range(1, 11):
        start = time.perf_counter()
        report = cases_sweep(now=first_now + dt.timedelta(minutes=minute))
        steady.append(time.perf_counter() - start)
        examined.append(report.examined)
    open_count = Case.objects.filter(status="open").count()
    return {
        # The figure: the first sweep, which examines every open case whose alert has come.
        "value": first_s,
        "open_cases": open_count,
        "steady_max_s": round(max(steady), 4),
        "first_sweep_examined": first.examined,
        "first_sweep_raised": first.raised,
        "steady_median_s": round(statistics.median(steady), 4),
        "steady_examined_max": max(examined),
        "recompute_all_s": round(recompute_s, 2),
    }


def bench_list(cases: int) -> dict[str, Any]:
    _bulk_derived(cases)
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username="director"))
    window = Unit.objects.get(code="W-02")
    queries: dict[str, dict[str, str | int]] = {
        "unfiltered": {},
        "unit": {"unit": window.pk},
        "unit_overdue": {"unit": window.pk, "status": "overdue"},
        "channel_open_period": {
            "channel": "online",
            "status": "open",
            "start": "2026-06-01",
            "end": "2026-06-30",
        },
        "kind_due_soon": {"kind": "immediate", "status": "due_soon"},
    }
    timings: dict[str, list[float]] = {}
    for name, params in queries.items():
        client.get("/cases/", params)  # warm the page cache and connections
        runs = []
        for _ in range(15):
            start = time.perf_counter()
            response = client.get("/cases/", params)
            runs.append(time.perf_counter() - start)
            assert response.status_code == 200
        timings[name] = runs
    p95 = {name: sorted(runs)[int(len(runs) * 0.95) - 1] for name, runs in timings.items()}
    return {
        "value": max(p95.values()) * 1000,
        "cases": Case.objects.count(),
        "p95_ms": {k: round(v * 1000, 1) for k, v in p95.items()},
        "median_ms": {k: round(statistics.median(v) * 1000, 1) for k, v in timings.items()},
    }


def _bulk_derived(count: int) -> None:
    """``count`` cases with their derived fields filled in, written with executemany (set-up only)."""
    units = list(Unit.objects.filter(kind=UnitKind.WINDOW).values_list("pk", flat=True))
    matters = {m.owner_id: m.pk for m in Matter.objects.all()}
    pairs = [(u, matters[u]) for u in units if u in matters]
    statuses = ["done_on_time"] * 14 + ["done_late", "on_time", "due_soon", "overdue", "paused", "on_time"]
    base = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    columns = [
        "source",
        "external_id",
        "matter_id",
        "unit_id",
        "channel",
        "applicant_kind",
        "applicant_name",
        "applicant_phone",
        "applicant_id_number",
        "received_at",
        "updated_at",
        *DERIVED_FIELDS,
    ]
    sql = f"INSERT INTO cases_case ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    chunk: list[list[Any]] = []
    adapt = connection.ops.adapt_datetimefield_value
    with transaction.atomic(), connection.cursor() as cursor:
        for i in range(count):
            unit, matter = pairs[i % len(pairs)]
            received = base + dt.timedelta(seconds=(i * 977) % (300 * 86400))
            status = statuses[i % len(statuses)]
            closed = status.startswith("done")
            due = received + dt.timedelta(days=3)
            derived: dict[str, Any] = {
                "status": "closed" if closed else "open",
                "accepted_at": adapt(received),
                "handled_at": adapt(due) if closed else None,
                "delivered_at": None,
                "handling_due_at": adapt(due),
                "deadline_status": status,
                "current_node": "" if closed else "handling",
                "current_due_at": None if closed else adapt(due),
                "alert_due_soon_at": None,
                "alert_breaker_at": None,
                "provisional": False,
                "overdue": status in ("overdue", "done_late"),
                "breaker": False,
                "next_alert_at": None,
                "trips": 1,
                "resubmissions": 0,
                "one_time_notice": False,
                "appointment_late": None,
                "acceptance_late": False,
                "handling_late": (status == "done_late") if closed else None,
                "delivery_late": None,
                "wait_minutes": None,
            }
            # By name: the derived fields grow (the node outcomes broke a positional list).
            chunk.append(
                [
                    "bulk",
                    f"L{i:08d}",
                    matter,
                    unit,
                    ["window", "online", "home_visit"][i % 3],
                    "person",
                    "",
                    "",
                    "",
                    adapt(received),
                    adapt(received),
                    *(derived[name] for name in DERIVED_FIELDS),
                ]
            )
            if len(chunk) == 20000:
                cursor.executemany(sql, chunk)
                chunk.clear()
        if chunk:
            cursor.executemany(sql, chunk)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("which", choices=["import", "sweep", "list"])
    parser.add_argument("--size", type=int, required=True)
    args = parser.parse_args()
    prepare()
    result = {"import": bench_import, "sweep": bench_sweep, "list": bench_list}[args.which](args.size)
    print(json.dumps(result, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
