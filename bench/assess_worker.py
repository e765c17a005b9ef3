"""The assess_month benchmark's measuring side: runs in a fresh process with its own SQLite database
(under KAOPING_VAR_DIR, set by ``bench.assess_month``) and prints one JSON object of figures on its
last line.

    python -m bench.assess_worker --units N --cases N --ratings N

Set-up (not timed as the value): N window units, a month of cases stored with their derived fields as
the pipeline stores them, ratings and the follow-ups of the bad ones, all with raw ``executemany`` in
chunks. Then: the rollups are built (``rollup_build_s``); every non-manual metric is computed for all
units for the month (the value); the same rows are exported to Parquet and a hand-written DuckDB
query computes the same metrics from the raw rows (the reference); a sample of units is compared.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import math
import os
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

os.environ.setdefault("KAOPING_ALLOW_INSECURE_KEY", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kaoping.config.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from kaoping.assessment.metrics import METRICS, MetricValue, compute  # noqa: E402
from kaoping.assessment.models import WAIT_EDGES  # noqa: E402
from kaoping.assessment.rollups import rollups_rebuild  # noqa: E402
from kaoping.assessment.services import assessment_run, schemes_load_defaults  # noqa: E402
from kaoping.catalog.models import Matter  # noqa: E402
from kaoping.org.models import Unit, UnitKind  # noqa: E402
from kaoping.ratings.rows import COLUMNS as ROW_COLUMNS  # noqa: E402

IntArray = npt.NDArray[np.int64]
CHUNK = 200_000
MONTH_START = dt.date(2026, 3, 1)
MONTH_END = dt.date(2026, 3, 31)
DAYS = 31
START_EPOCH = int(dt.datetime(2026, 2, 28, 16, tzinfo=dt.UTC).timestamp())  # 1 March 00:00 in Shanghai
STAFF_PER_UNIT = 5
CHANNELS = ("hall_tablet", "qr_code", "sms", "mobile", "pc", "phone", "hall_terminal")
# Every metric of cases, ratings and reviews (what the reference computes too); the
# hotline's metrics read tickets and calls, which a window has none of.
NAMES = [name for name, metric in METRICS.items() if metric.source in ("cases", "ratings", "reviews")]
SAMPLE = 50


# -- set-up ----------------------------------------------------------------------------------------


def _text(epochs: IntArray) -> list[str]:
    """UTC epoch seconds as Django stores aware datetimes in SQLite ('YYYY-MM-DD HH:MM:SS')."""
    texts = np.datetime_as_string(epochs.astype("datetime64[s]"), unit="s")
    return [t.replace("T", " ") for t in texts.tolist()]


def _nullable(values: npt.NDArray[Any], present: npt.NDArray[np.bool_]) -> list[Any]:
    out: list[Any] = values.tolist()
    for index in np.flatnonzero(~present).tolist():
        out[index] = None
    return out


def _insert(table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def make_units(count: int) -> tuple[list[int], int]:
    """A centre with ``count`` windows (bulk), each with five staff; returns the window ids and the
    first staff id (staff of window k are first + 5k … first + 5k + 4)."""
    region = Unit.objects.create(code="R", name="基准市", kind=UnitKind.REGION)
    centre = Unit.objects.create(code="C", name="基准市政务服务中心", kind=UnitKind.CENTRE, parent=region)
    first = centre.pk + 1
    ids = list(range(first, first + count))
    _insert(
        Unit._meta.db_table,
        [
            "id",
            "code",
            "name",
            "kind",
            "parent_id",
            "path",
            "depth",
            "region_code",
            "department_kind",
            "active",
        ],
        [
            (
                pk,
                f"W{pk:05d}",
                f"窗口{pk}",
                UnitKind.WINDOW.value,
                centre.pk,
                f"{centre.path}{pk}/",
                2,
                "",
                "",
                True,
            )
            for pk in ids
        ],
    )
    _insert(
        "org_staff",
        ["id", "unit_id", "name", "employee_no", "user_id", "active", "devices"],
        [
            (1 + k * STAFF_PER_UNIT + s, pk, f"员工{k}-{s}", f"E{k:05d}{s}", None, True, "")
            for k, pk in enumerate(ids)
            for s in range(STAFF_PER_UNIT)
        ],
    )
    for code, kind in (("M-IMM", "immediate"), ("M-COM", "committed"), ("M-JNT", "joint")):
        Matter.objects.create(code=code, name=code, kind=kind, owner=centre, channels=["window", "online"])
    return ids, 1


CASE_COLUMNS = [
    "id",
    "source",
    "external_id",
    "matter_id",
    "unit_id",
    "staff_id",
    "channel",
    "applicant_kind",
    "applicant_name",
    "applicant_phone",
    "applicant_id_number",
    "received_at",
    "status",
    "accepted_at",
    "handled_at",
    "deadline_status",
    "current_node",
    "provisional",
    "overdue",
    "breaker",
    "trips",
    "resubmissions",
    "one_time_notice",
    "appointment_late",
    "acceptance_late",
    "handling_late",
    "delivery_late",
    "wait_minutes",
    "updated_at",
]


class CaseFacts:
    """What the ratings need of every case: its unit, staff and receipt instant."""

    def __init__(self, count: int) -> None:
        self.unit = np.zeros(count, dtype=np.int32)
        self.staff = np.zeros(count, dtype=np.int32)  # 0: none
        self.received = np.zeros(count, dtype=np.int64)
        self.closed = np.zeros(count, dtype=np.bool_)


def make_cases(total: int, unit_ids: list[int], rng: np.random.Generator) -> CaseFacts:
    """``total`` cases received in March (office hours, in receipt order, so the time indexes grow at
    their end as in production), stored with their derived fields as the pipeline stores them."""
    facts = CaseFacts(total)
    matters = dict(Matter.objects.values_list("code", "pk"))
    matter_ids = np.array([matters["M-IMM"], matters["M-COM"], matters["M-JNT"]])
    units = np.array(unit_ids, dtype=np.int64)
    updated = _text(np.array([START_EPOCH + DAYS * 86400], dtype=np.int64))[0]
    for offset in range(0, total, CHUNK):
        n = min(CHUNK, total - offset)
        index = np.arange(offset, offset + n)
        position = (index + rng.random(n)) * DAYS / total
        day = np.floor(position)
        received = (START_EPOCH + day * 86400 + 8.5 * 3600 + (position - day) * 9 * 3600).astype(np.int64)
        unit_index = rng.integers(0, len(units), n)
        online = rng.random(n) < 0.25
        staffed = ~(online & (rng.random(n) < 0.5))
        staff = np.where(staffed, 1 + unit_index * STAFF_PER_UNIT + rng.integers(0, STAFF_PER_UNIT, n), 0)
        kind = rng.choice(3, size=n, p=[0.4, 0.5, 0.1])
        # Late in the month more cases are still open.
        closed = rng.random(n) > 0.04 + 0.5 * (day >= DAYS - 3)
        accepted = closed | (rng.random(n) < 0.8)
        acceptance_late = rng.random(n) < np.where(online, 0.02, 0.06)
        handling_late = rng.random(n) < 0.05
        delivered = closed & (rng.random(n) < 0.85)
        delivery_late = rng.random(n) < 0.04
        appointment = ~online & (rng.random(n) < 0.1)
        appointment_late = rng.random(n) < 0.05
        overdue = (
            (accepted & acceptance_late)
            | (closed & handling_late)
            | (delivered & delivery_late)
            | (appointment & appointment_late)
            | (~closed & (rng.random(n) < 0.1))
        )
        breaker = overdue & (rng.random(n) < 0.3)
        waited = ~online & accepted
        wait = np.round(np.clip(rng.lognormal(math.log(8), 0.8, n), 0, 400), 2)
        resubmissions = (rng.random(n) < 0.08).astype(np.int64) + (rng.random(n) < 0.01)
        notice = ((resubmissions > 0) & (rng.random(n) < 0.85)) | (rng.random(n) < 0.01)
        trips = 1 + (rng.random(n) < 0.06) + (rng.random(n) < 0.01).astype(np.int64)
        accept_at = received + np.where(waited, wait * 60, 900).astype(np.int64)
        handled_at = received + rng.integers(3600, 5 * 86400, n)
        columns = [
            (index + 1).tolist(),
            ["bench"] * n,
            [f"A{i:010d}" for i in index.tolist()],
            matter_ids[kind].tolist(),
            units[unit_index].tolist(),
            _nullable(staff, staffed),
            np.where(online, "online", "window").tolist(),
            ["person"] * n,
            ["张某某"] * n,
            ["13800000000"] * n,
            ["110101199001010000"] * n,
            _text(received),
            np.where(closed, "closed", "open").tolist(),
            _nullable(np.array(_text(accept_at), dtype=object), accepted),
            _nullable(np.array(_text(handled_at), dtype=object), closed),
            np.where(closed, np.where(handling_late, "done_late", "done_on_time"), "on_time").tolist(),
            np.where(closed, "", "handling").tolist(),
            [False] * n,
            overdue.tolist(),
            breaker.tolist(),
            trips.tolist(),
            resubmissions.tolist(),
            notice.tolist(),
            _nullable(appointment_late, appointment),
            _nullable(acceptance_late, accepted),
            _nullable(handling_late, closed),
            _nullable(delivery_late, delivered),
            _nullable(wait, waited),
            [updated] * n,
        ]
        _insert("cases_case", CASE_COLUMNS, list(zip(*columns, strict=True)))
        facts.unit[offset : offset + n] = units[unit_index]
        facts.staff[offset : offset + n] = staff
        facts.received[offset : offset + n] = received
        facts.closed[offset : offset + n] = closed
    return facts


RATING_COLUMNS = ["id", *ROW_COLUMNS]  # the import's own column order, with the id the bench assigns
FOLLOWUP_COLUMNS = [
    "kind",
    "unit_id",
    "rating_id",
    "state",
    "real_name",
    "opened_at",
    "revisited_at",
    "revisit_note",
    "triage",
    "explanation",
    "rectified_at",
    "rectification_note",
    "verdict",
]


def make_ratings(total: int, cases: CaseFacts, unit_ids: list[int], rng: np.random.Generator) -> int:
    """80% ratings of cases (one each, a few hours to two days after receipt), 20% of a window only;
    5% default ratings, 0.5% excluded as gaming; every bad first rating has its follow-up, in varied
    states. Inserted in rating-time order. Returns the number of follow-ups."""
    of_cases = min(int(total * 0.8), len(cases.unit))
    case_index = (np.arange(of_cases, dtype=np.int64) * len(cases.unit)) // max(of_cases, 1)
    alone = total - of_cases
    case_id = np.concatenate([case_index + 1, np.zeros(alone, dtype=np.int64)])
    unit = np.concatenate([cases.unit[case_index], np.array(unit_ids)[rng.integers(0, len(unit_ids), alone)]])
    staff = np.concatenate([cases.staff[case_index], np.zeros(alone, dtype=np.int32)])
    rated = np.concatenate(
        [
            cases.received[case_index] + rng.integers(1800, 2 * 86400, of_cases),
            START_EPOCH + rng.integers(0, DAYS * 86400, alone),
        ]
    )
    order = np.argsort(rated, kind="stable")
    case_id, unit, staff, rated = case_id[order], unit[order], staff[order], rated[order]
    level = 5 - rng.choice(5, size=total, p=[0.80, 0.12, 0.045, 0.02, 0.015])
    defaulted = (case_id > 0) & (rng.random(total) < 0.05)
    level = np.where(defaulted, 3, level)
    excluded = rng.random(total) < 0.005
    real_name = rng.random(total) < 0.6
    channel = np.where(defaulted, "default", np.array(CHANNELS)[rng.integers(0, len(CHANNELS), total)])
    received = _text(np.array([START_EPOCH + (DAYS + 2) * 86400], dtype=np.int64))[0]
    followups = 0
    for offset in range(0, total, CHUNK):
        part = slice(offset, min(offset + CHUNK, total))
        n = part.stop - part.start
        ids = np.arange(part.start + 1, part.stop + 1)
        rated_text = _text(rated[part])
        columns = [
            ids.tolist(),
            ["hcp"] * n,
            [f"H{i:010d}" for i in ids.tolist()],
            _nullable(case_id[part], case_id[part] > 0),
            unit[part].tolist(),
            _nullable(staff[part], staff[part] > 0),
            level[part].tolist(),
            channel[part].tolist(),
            ["first"] * n,
            ["person"] * n,
            real_name[part].tolist(),
            [""] * n,
            [""] * n,
            [""] * n,
            [""] * n,
            ["[]"] * n,
            rated_text,
            [received] * n,
            [""] * n,
            [None] * n,
            defaulted[part].tolist(),
            excluded[part].tolist(),
        ]
        _insert("ratings_rating", RATING_COLUMNS, list(zip(*columns, strict=True)))
        # The follow-ups the pipeline opens for bad first ratings, moved along to varied states.
        bad = np.flatnonzero(level[part] <= 2)
        m = len(bad)
        named = real_name[part][bad]
        triage = np.array(["", "fix_now", "complex", "no_basis"])[
            rng.choice(4, size=m, p=[0.2, 0.4, 0.3, 0.1])
        ]
        revisited = named & (rng.random(m) < 0.9)
        rectified = (triage == "fix_now") | ((triage == "complex") & (rng.random(m) < 0.7))
        verdict = np.where(
            rectified & (rng.random(m) < 0.6),
            np.array(["satisfied", "basic", "dissatisfied"])[rng.integers(0, 3, m)],
            "",
        )
        at = [rated_text[i] for i in bad.tolist()]
        rows = [
            (
                "bad_rating",
                int(unit[part][i]),
                int(ids[i]),
                "closed" if verdict[k] else "triage_pending",
                bool(named[k]),
                at[k],
                at[k] if revisited[k] else None,
                "",
                str(triage[k]),
                "",
                at[k] if rectified[k] else None,
                "",
                str(verdict[k]),
            )
            for k, i in enumerate(bad.tolist())
        ]
        _insert("followup_rectification", FOLLOWUP_COLUMNS, rows)
        followups += m
    return followups


# -- the reference: the same rows in Parquet, one DuckDB query -------------------------------------


def _batches(sql: str) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of ``sql`` (which must have ``WHERE id > %s ORDER BY id`` at the end) in chunks."""
    last = 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(sql + f" LIMIT {CHUNK}", [last])
            rows = cursor.fetchall()
            if not rows:
                return
            yield rows
            last = rows[-1][0]


def export(var: Path) -> dict[str, str]:
    """Cases, ratings, follow-ups, matters and the window units as Parquet, read back from SQLite."""
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    ts = pa.timestamp("s")

    def stamp(values: list[Any]) -> pa.Array:
        # Django's SQLite converters hand back naive UTC datetimes for datetime columns.
        return pa.array(values, ts)

    def flag(values: list[Any]) -> pa.Array:
        # Boolean columns come back as bools, boolean expressions as 0 / 1.
        try:
            return pa.array(values, pa.bool_())
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            return pa.array(values, pa.int8()).cast(pa.bool_())

    tables: dict[str, tuple[str, Callable[[list[list[Any]]], dict[str, pa.Array]]]] = {
        "cases": (
            "SELECT id, unit_id, matter_id, staff_id, received_at, status, appointment_late, "
            "acceptance_late, handling_late, delivery_late, overdue, breaker, one_time_notice, "
            "resubmissions, trips, wait_minutes FROM cases_case WHERE id > %s ORDER BY id",
            lambda c: {
                "id": pa.array(c[0], pa.int64()),
                "unit_id": pa.array(c[1], pa.int64()),
                "matter_id": pa.array(c[2], pa.int64()),
                "staff_id": pa.array(c[3], pa.int64()),
                "received_at": stamp(c[4]),
                "status": pa.array(c[5], pa.string()),
                **{
                    name: flag(c[k])
                    for k, name in enumerate(
                        ["appointment_late", "acceptance_late", "handling_late", "delivery_late"], start=6
                    )
                },
                "overdue": flag(c[10]),
                "breaker": flag(c[11]),
                "one_time_notice": flag(c[12]),
                "resubmissions": pa.array(c[13], pa.int32()),
                "trips": pa.array(c[14], pa.int32()),
                "wait_minutes": pa.array(c[15], pa.float64()),
            },
        ),
        "ratings": (
            "SELECT id, unit_id, rated_at, level, defaulted, excluded FROM ratings_rating "
            "WHERE id > %s ORDER BY id",
            lambda c: {
                "id": pa.array(c[0], pa.int64()),
                "unit_id": pa.array(c[1], pa.int64()),
                "rated_at": stamp(c[2]),
                "level": pa.array(c[3], pa.int8()),
                "defaulted": flag(c[4]),
                "excluded": flag(c[5]),
            },
        ),
        "followups": (
            "SELECT id, rating_id, real_name, revisited_at IS NOT NULL, triage, rectified_at IS NOT NULL, "
            "verdict FROM followup_rectification WHERE id > %s ORDER BY id",
            lambda c: {
                "rating_id": pa.array(c[1], pa.int64()),
                "real_name": flag(c[2]),
                "revisited": flag(c[3]),
                "triage": pa.array(c[4], pa.string()),
                "rectified": flag(c[5]),
                "verdict": pa.array(c[6], pa.string()),
            },
        ),
        "matters": (
            "SELECT id, kind FROM catalog_matter WHERE id > %s ORDER BY id",
            lambda c: {"id": pa.array(c[0], pa.int64()), "kind": pa.array(c[1], pa.string())},
        ),
        "units": (
            f"SELECT id FROM org_unit WHERE id > %s AND kind = '{UnitKind.WINDOW.value}' ORDER BY id",
            lambda c: {"id": pa.array(c[0], pa.int64())},
        ),
    }
    paths = {}
    for name, (sql, build) in tables.items():
        path = var / f"{name}.parquet"
        writer = None
        for rows in _batches(sql):
            table = pa.table(build([list(column) for column in zip(*rows, strict=True)]))
            writer = writer or pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
        assert writer is not None, f"nothing to export from {name}"
        writer.close()
        paths[name] = str(path)
    return paths


REFERENCE_SQL = """
WITH c AS (
    SELECT *, CAST(received_at + INTERVAL 8 HOUR AS DATE) AS day,
           matter_id IN (SELECT id FROM read_parquet($matters) WHERE kind = 'immediate') AS immediate
    FROM read_parquet($cases)
    WHERE received_at >= CAST($start AS TIMESTAMP) AND received_at < CAST($end AS TIMESTAMP)
), case_stats AS (
    SELECT unit_id,
        count(*) AS cases,
        count(*) FILTER (WHERE immediate) AS immediate,
        count(staff_id) AS staffed,
        count(DISTINCT (staff_id, day)) FILTER (WHERE staff_id IS NOT NULL) AS staff_days,
        count(*) FILTER (WHERE NOT acceptance_late) AS acc_on,
        count(*) FILTER (WHERE acceptance_late) AS acc_late,
        count(*) FILTER (WHERE NOT handling_late) AS han_on,
        count(*) FILTER (WHERE handling_late) AS han_late,
        count(*) FILTER (WHERE NOT delivery_late) AS del_on,
        count(*) FILTER (WHERE delivery_late) AS del_late,
        count(*) FILTER (WHERE NOT appointment_late) AS app_on,
        count(*) FILTER (WHERE appointment_late) AS app_late,
        count(*) FILTER (WHERE overdue) AS overruns,
        count(*) FILTER (WHERE breaker) AS breakers,
        count(*) FILTER (WHERE one_time_notice) AS notices,
        count(*) FILTER (WHERE one_time_notice OR resubmissions > 0) AS supplemented,
        sum(trips) AS trips,
        count(*) FILTER (WHERE resubmissions > 0) AS resubmitted,
        avg(wait_minutes) AS mean_wait,
        quantile_cont(wait_minutes, 0.9) AS p90_wait
    FROM c GROUP BY unit_id
), rating_stats AS (
    SELECT r.unit_id,
        count(*) AS total,
        count(*) FILTER (WHERE r.level >= 3) AS satisfied,
        count(*) FILTER (WHERE r.level >= 4) AS good,
        count(*) FILTER (WHERE r.level <= 2) AS bad,
        count(*) FILTER (WHERE f.real_name) AS named,
        count(*) FILTER (WHERE f.real_name AND f.revisited) AS revisited,
        count(*) FILTER (WHERE f.triage IN ('fix_now', 'complex')) AS to_rectify,
        count(*) FILTER (WHERE f.rectified) AS rectified,
        count(*) FILTER (WHERE f.verdict <> '') AS verdicts,
        count(*) FILTER (WHERE f.verdict IN ('satisfied', 'basic')) AS satisfied_verdicts
    FROM read_parquet($ratings) r LEFT JOIN read_parquet($followups) f ON f.rating_id = r.id
    WHERE r.rated_at >= CAST($start AS TIMESTAMP) AND r.rated_at < CAST($end AS TIMESTAMP)
        AND NOT r.excluded
    GROUP BY r.unit_id
)
SELECT u.id,
    100.0 * acc_on / nullif(acc_on + acc_late, 0) AS acceptance_on_time_rate,
    100.0 * han_on / nullif(han_on + han_late, 0) AS handling_on_time_rate,
    100.0 * del_on / nullif(del_on + del_late, 0) AS delivery_on_time_rate,
    100.0 * app_on / nullif(app_on + app_late, 0) AS appointment_on_time_rate,
    mean_wait AS mean_wait_minutes,
    p90_wait AS p90_wait_minutes,
    overruns AS overrun_count,
    breakers AS breaker_count,
    100.0 * notices / nullif(supplemented, 0) AS one_time_notice_rate,
    1.0 * trips / nullif(cases, 0) AS trips_per_case,
    100.0 * resubmitted / nullif(cases, 0) AS resubmission_rate,
    100.0 * immediate / nullif(cases, 0) AS immediate_share,
    1.0 * staffed / nullif(staff_days, 0) AS cases_per_staff_day,
    100.0 * satisfied / nullif(total, 0) AS satisfaction_rate,
    100.0 * good / nullif(total, 0) AS good_rating_rate,
    100.0 * bad / nullif(total, 0) AS bad_rating_rate,
    100.0 * revisited / nullif(named, 0) AS bad_rating_revisit_rate,
    100.0 * rectified / nullif(to_rectify, 0) AS rectification_rate,
    100.0 * satisfied_verdicts / nullif(verdicts, 0) AS rectification_satisfaction_rate,
    NULL AS multi_rater_score
FROM read_parquet($units) u
LEFT JOIN case_stats cs ON cs.unit_id = u.id
LEFT JOIN rating_stats rs ON rs.unit_id = u.id
"""


def reference(paths: dict[str, str]) -> dict[int, dict[str, float | None]]:
    """The metrics per unit straight from the raw rows (a new DuckDB connection each time, so no
    result is cached between runs; the files stay in the page cache, as SQLite's do)."""
    import duckdb

    # The Parquet timestamps are UTC without a zone: the month's bounds likewise.
    start, end = _text(np.array([START_EPOCH, START_EPOCH + DAYS * 86400], dtype=np.int64))
    with duckdb.connect() as db:
        cursor = db.execute(REFERENCE_SQL, {**paths, "start": start, "end": end})
        names = [d[0] for d in cursor.description][1:]
        return {row[0]: dict(zip(names, row[1:], strict=True)) for row in cursor.fetchall()}


# -- checks and the run ----------------------------------------------------------------------------


def _bucket_width(value: float, largest: float) -> float:
    lows = (0, *WAIT_EDGES)
    highs = (*WAIT_EDGES, max(largest, WAIT_EDGES[-1]))
    index = sum(1 for edge in WAIT_EDGES if value >= edge)
    return float(highs[index] - lows[index])


def agree(
    ours: dict[int, dict[str, MetricValue]], theirs: dict[int, dict[str, float | None]], units: list[int]
) -> dict[str, Any]:
    """Compare a sample of units metric by metric: equal to rounding (1e-9 relative), the p90 within
    the width of its histogram bucket (the rollups estimate it; DuckDB computes it exactly)."""
    largest = 400.0  # the bench's waits are clipped there
    mismatches = []
    worst_p90 = 0.0
    for unit_id in units:
        for name in NAMES:
            a, b = ours[unit_id][name].value, theirs[unit_id][name]
            if a is None or b is None:
                ok = a is None and b is None
            elif name == "p90_wait_minutes":
                worst_p90 = max(worst_p90, abs(a - b))
                ok = abs(a - b) <= _bucket_width(b, largest)
            else:
                ok = math.isclose(a, float(b), rel_tol=1e-9, abs_tol=1e-9)
            if not ok:
                mismatches.append({"unit": unit_id, "metric": name, "ours": a, "reference": b})
    return {
        "units_compared": len(units),
        "metrics_compared": len(NAMES),
        "agree": not mismatches,
        "mismatches": mismatches[:10],
        "p90_max_abs_diff_minutes": round(worst_p90, 3),
    }


def assess_runs(repeat: int) -> tuple[list[float], dict[str, Any]]:
    """The month's whole assessment as the product runs it: ``services.assessment_run`` for the window
    scheme (metrics from the rollups, the engine's scores, ranks, the results stored with their
    evidence entry). Seconds per run, and a summary of the last run's results."""
    schemes_load_defaults(actor="bench")
    times = []
    run = None
    profile_to = os.environ.get("KAOPING_BENCH_PROFILE")  # a path: profile the first run into it
    for index in range(repeat):
        profiler = cProfile.Profile() if profile_to and index == 0 else None
        began = time.perf_counter()
        if profiler:
            profiler.enable()
        run = assessment_run(actor="bench", scheme_code="window", period=f"{MONTH_START:%Y-%m}")
        times.append(time.perf_counter() - began)
        if profiler:
            profiler.disable()
            profiler.dump_stats(str(profile_to))
    assert run is not None
    results = list(run.results.all())
    return times, {
        "results": len(results),
        "graded": sum(1 for r in results if r.grade),
        "ranked": sum(1 for r in results if r.rank is not None),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=2000)
    parser.add_argument("--cases", type=int, default=10_000_000)
    parser.add_argument("--ratings", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    var = Path(os.environ["KAOPING_VAR_DIR"])
    rng = np.random.default_rng(7)

    began = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size=-524288")  # 512 MiB for the set-up's index writes
    units, _ = make_units(args.units)
    facts = make_cases(args.cases, units, rng)
    followups = make_ratings(args.ratings, facts, units, rng)
    del facts
    setup_s = time.perf_counter() - began

    began = time.perf_counter()
    rollups_rebuild(days=None)
    rollup_build_s = time.perf_counter() - began

    runs = []
    values: dict[int, dict[str, MetricValue]] = {}
    for _ in range(args.repeat):
        began = time.perf_counter()
        values = compute(NAMES, unit_ids=units, start=MONTH_START, end=MONTH_END)
        runs.append(time.perf_counter() - began)
    assess_s, assessed = assess_runs(args.repeat)

    began = time.perf_counter()
    paths = export(var)
    export_s = time.perf_counter() - began
    reference_runs = []
    theirs: dict[int, dict[str, float | None]] = {}
    for _ in range(args.repeat):
        began = time.perf_counter()
        theirs = reference(paths)
        reference_runs.append(time.perf_counter() - began)

    sample = sorted(
        np.random.default_rng(11).choice(units, size=min(SAMPLE, len(units)), replace=False).tolist()
    )
    # The value is the whole assessment (metrics, engine, ranks, storing); the reference computes the
    # metrics alone, so the ratio errs on the side of the product.
    value = statistics.median(assess_s)
    figures = {
        "value": value,
        "reference": statistics.median(reference_runs),
        "units": len(units),
        "cases": args.cases,
        "ratings": args.ratings,
        "followups": followups,
        "metrics": len(NAMES),
        "compute_runs_s": [round(r, 4) for r in runs],
        "reference_runs_s": [round(r, 4) for r in reference_runs],
        "assess_runs_s": [round(r, 4) for r in assess_s],
        "metrics_s": round(statistics.median(runs), 4),
        "metrics_ratio": round(statistics.median(runs) / statistics.median(reference_runs), 4),
        "assessed": assessed,
        "rollup_build_s": round(rollup_build_s, 2),
        "setup_s": round(setup_s, 1),
        "export_s": round(export_s, 1),
        "database_mb": round(sum(p.stat().st_size for p in var.glob("kaoping.sqlite3*")) / 2**20),
        "parquet_mb": round(sum(Path(p).stat().st_size for p in paths.values()) / 2**20),
        "check": agree(values, theirs, sample),
    }
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
