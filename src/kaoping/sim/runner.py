"""Running the case simulator against this installation: its windows, matters, staff and calendar."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Q

from kaoping.catalog.models import Matter
from kaoping.core import clock
from kaoping.org.models import Staff, Unit, UnitKind
from kaoping.sim.cases import SimConfig, SimMatter, SimWindow, simulate_feed
from kaoping.sim.demo import WINDOW_SLIPPAGE
from kaoping.sim.ratings import RatingSimConfig, rate_feed
from kaoping.workcal.limits import LimitUnit
from kaoping.workcal.selectors import get_calendar


def sim_matter(matter: Matter) -> SimMatter:
    limit = matter.handling_limit
    seconds = {LimitUnit.WORKING_MINUTES: 60, LimitUnit.WORKING_HOURS: 3600}.get(limit.unit)
    return SimMatter(
        code=matter.code,
        kind=matter.kind,
        limit_seconds=limit.amount * seconds if seconds else None,
        limit_days=limit.amount if limit.unit is LimitUnit.WORKING_DAYS else None,
        channels=tuple(matter.channels),
    )


def sim_windows(centre: Unit | None = None) -> list[SimWindow]:
    """Every active window (under ``centre``), with the matters it or its department owns."""
    windows = Unit.objects.filter(kind=UnitKind.WINDOW, active=True)
    if centre is not None:
        windows = windows.filter(path__startswith=centre.path)
    result = []
    for window in windows.order_by("code"):
        owners = Q(owner=window)
        if window.parent_id:
            owners |= Q(owner_id=window.parent_id)
        matters = tuple(sim_matter(m) for m in Matter.objects.filter(owners, active=True).order_by("code"))
        if not matters:
            continue
        staff = tuple(
            Staff.objects.filter(unit=window, active=True)
            .order_by("employee_no")
            .values_list("employee_no", flat=True)
        )
        slippage = WINDOW_SLIPPAGE.get(window.code, 1.0)
        result.append(SimWindow(unit=window.code, staff=staff, matters=matters, slippage=slippage))
    return result


def feed(
    *,
    days: int,
    seed: int,
    scale: float,
    start: dt.date,
    source: str = "sim",
    ratings: bool = True,
) -> Iterator[tuple[dt.datetime, dict[str, Any]]]:
    """(delivery instant, record) pairs of the simulated feed for this installation: cases and their
    events, and (``ratings``) the citizens' ratings of them, level codes written as GB/T 39046-2020."""
    windows = sim_windows()
    if not windows:
        raise ValueError("no active window owns a matter: load an organisation first (kaoping demo load)")
    calendar = get_calendar()
    cases = simulate_feed(SimConfig(days, seed, scale=scale, start=start, source=source), windows, calendar)
    if not ratings:
        return cases
    end = dt.datetime.combine(start + dt.timedelta(days=days), dt.time(), tzinfo=clock.local_zone())
    matters = list({m.code: m for w in windows for m in w.matters}.values())
    config = RatingSimConfig(seed, until=end, centre_network=_centre_network())
    return rate_feed(cases, config=config, windows=windows, matters=matters, calendar=calendar)


def _centre_network() -> str:
    """The first IPv4 centre network of the settings, so simulated in-house ratings are recognisable."""
    for cidr in settings.KAOPING_CENTRE_NETWORKS:
        if ":" not in cidr:
            return str(cidr)
    return "10.20.0.0/16"


@dataclass
class ReplayReport:
    accepted_cases: int = 0
    accepted_events: int = 0
    accepted_ratings: int = 0
    duplicates: int = 0
    rejected: int = 0
    warnings: int = 0
    flags: int = 0


def run_into_database(
    *, days: int, seed: int, scale: float, start: dt.date, on_progress: Callable[[int], None] | None = None
) -> ReplayReport:
    """Replay the simulated feed hour by hour: each hour's records are ingested as of the end of that
    hour, and the sweep runs at the end of every hour, quiet ones (nights, weekends) included, so
    warnings are raised when the every-minute task would have raised them, to the hour. Each hour's
    ratings follow its cases and are scanned for gaming, as the periodic scan would."""
    from kaoping.cases.services import cases_ingest, cases_sweep
    from kaoping.ratings.codes import Convention
    from kaoping.ratings.services import ratings_ingest, ratings_scan

    report = ReplayReport()
    label = f"simulate seed={seed} days={days}"
    hour: list[tuple[str, dict[str, Any]]] = []
    rated: list[tuple[str, dict[str, Any]]] = []
    clock_hour: dt.datetime | None = None

    def flush(until: dt.datetime) -> None:
        if hour:
            result = cases_ingest(
                actor="simulator", records=hour, label=label, now=until, on_progress=on_progress
            )
            report.accepted_cases += result.accepted_cases
            report.accepted_events += result.accepted_events
            report.duplicates += result.duplicates
            report.rejected += len(result.rejected)
            hour.clear()
        if rated:
            ratings = ratings_ingest(
                actor="simulator", records=rated, label=label, convention=Convention.GBT39046, now=until
            )
            report.accepted_ratings += ratings.accepted
            report.duplicates += ratings.duplicates
            report.rejected += len(ratings.rejected)
            if on_progress:
                on_progress(len(rated))
            rated.clear()
            if ratings.first_at and ratings.last_at:
                report.flags += ratings_scan(start=ratings.first_at, end=ratings.last_at, now=until)
        report.warnings += cases_sweep(now=until).raised

    one_hour = dt.timedelta(hours=1)
    # The replay never runs ahead of the real clock: a feed ending today still delivers some late
    # records in the coming days; those are taken in now, as the present is.
    present = clock.now()
    for number, (delivered, record) in enumerate(feed(days=days, seed=seed, scale=scale, start=start), 1):
        top = min(delivered, present).replace(minute=0, second=0, microsecond=0)
        while clock_hour is not None and top > clock_hour:
            clock_hour += one_hour
            flush(clock_hour)
        clock_hour = clock_hour or top
        (rated if record.get("type") == "rating" else hour).append((f"record {number}", record))
    if clock_hour is not None:
        flush(min(clock_hour + one_hour, present))
    return report


def write_jsonl(
    path: Path, *, days: int, seed: int, scale: float, start: dt.date, ratings_path: Path | None = None
) -> int:
    """Cases and events to ``path``; ratings (GB/T 39046-2020 codes) to ``ratings_path`` if given."""
    count = 0
    with (
        path.open("w", encoding="utf-8") as handle,
        (ratings_path or Path(os.devnull)).open("w", encoding="utf-8") as ratings_handle,
    ):
        for _, record in feed(
            days=days, seed=seed, scale=scale, start=start, ratings=ratings_path is not None
        ):
            target = ratings_handle if record.get("type") == "rating" else handle
            target.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count
