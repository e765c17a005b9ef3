"""The registry of named metrics the assessment engine scores, computed per unit for a period.

``compute`` reads the daily rollups (``models.DailyCaseStats`` / ``DailyRatingStats``) with one
aggregate query per kind for all units at once, then adds each unit's sums into every requested unit
whose subtree holds it. So a metric always covers the unit's **subtree**: a department's figures
include its windows', a window (no children) has its own. The exceptions are the values given to a
unit itself: ``multi_rater_score`` (``reviews.selectors.review_score``) and ``manual:<code>`` entries.

The hotline's metrics (source ``hotline``: tickets, call records, quality findings) are defined and
computed in ``hotline_metrics``; ``compute`` hands them over for units, ``compute_staff`` for people
(the hotline staff scheme assesses each person, with their own ``manual:`` values).

Populations and definitions (period = local days ``start`` … ``end``, inclusive):
- case metrics count the cases *received* in the period, with their outcomes as last recomputed;
- ``*_on_time_rate``: nodes finished on time / nodes finished (a node still running counts nowhere;
  once past its limit it shows in ``overrun_count``);
- ``mean_wait_minutes`` / ``p90_wait_minutes``: counter wait, arrival to acceptance, in working
  minutes, of the cases that queued (not online ones); p90 from a fixed histogram, exact to within
  the width of the bucket it falls in (see ``models.WAIT_EDGES``);
- ``overrun_count``: cases with a node past its limit; ``breaker_count``: cases past 130% of one;
- ``one_time_notice_rate``: cases given a one-time notice / cases asked for documents (a notice or a
  resubmission);
- ``trips_per_case``: trips / cases; ``resubmission_rate``: cases resubmitted at least once / cases;
  ``immediate_share``: cases of immediate matters / cases;
- ``cases_per_staff_day``: cases naming a handler / staff-days, a staff-day being a staff member who
  handled at least one case received that day (at the unit);
- rating metrics count the ratings *given* in the period, confirmed gaming (``excluded``) left out,
  default ratings in unless ``include_defaulted=False`` (as ``ratings.figures``: satisfaction =
  基本满意 or better, good = 满意 or better, bad = 不满意 and 非常不满意);
- ``bad_rating_revisit_rate``: real-name bad ratings revisited / real-name bad ratings;
  ``rectification_rate``: follow-ups rectified / follow-ups triaged as rectifiable;
  ``rectification_satisfaction_rate``: verdicts 满意 or 基本满意 / verdicts given (all as
  ``followup.workflow.measures``), for the bad ratings given in the period (whatever
  ``include_defaulted`` says: a default rating is not bad at the usual default level).

Rates are in percent (0–100), as ``metric_names`` says the engine takes them; ``numerator`` and
``denominator`` stay counts.

A value is None when there is nothing to measure (no cases, no finished node, no ratings …), never a
silent 0; a count is 0 only when there were cases and none of them counted.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.http import Http404

from kaoping.assessment import hotline_metrics
from kaoping.assessment.models import (
    WAIT_BUCKETS,
    WAIT_EDGES,
    DailyCaseStats,
    DailyRatingStats,
    ManualCode,
    ManualEntry,
    wait_bucket_field,
)
from kaoping.assessment.rollups import day_bounds
from kaoping.cases.models import Case
from kaoping.catalog.models import MatterKind
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.core.permissions import User, can_access_unit
from kaoping.followup.models import Rectification
from kaoping.followup.workflow import Triage, Verdict
from kaoping.org.models import Staff, Unit
from kaoping.ratings.models import Rating
from kaoping.reviews.models import CampaignStatus, ReviewCampaign

MANUAL_PREFIX = "manual:"
Totals = dict[str, float]


@dataclass(frozen=True)
class MetricValue:
    value: float | None
    numerator: float | None
    denominator: float | None
    basis: str  # how the value came about, in words, for the explanation of a score
    level: str | None = None  # the level code of a level indicator (manual, anchored scale)


def period_text(start: dt.date, end: dt.date) -> str:
    return f"{start}至{end}"


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    source: str  # "cases", "ratings", "reviews" or "hotline": what it is computed from
    # From the summed rollup columns (and whether default ratings count) to the value.
    # None for the metrics computed apart (reviews).
    value: Callable[[Totals, str, bool], MetricValue] | None = None
    percent: bool = False  # a rate, handed over in percent (0–100) as ``metric_names`` says


# -- the definitions -----------------------------------------------------------------------------


def _ratio(numerator: float, denominator: float, basis: str) -> MetricValue:
    """numerator / denominator (a fraction: ``compute`` turns rates into percent); None when the
    denominator is 0."""
    if not denominator:
        return MetricValue(None, numerator, denominator, f"无可计量数据：{basis}")
    return MetricValue(numerator / denominator, numerator, denominator, basis)


def _n(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def _node_rate(node: str, label: str) -> Callable[[Totals, str, bool], MetricValue]:
    def value(t: Totals, period: str, _: bool) -> MetricValue:
        on_time, late = t[f"{node}_on_time"], t[f"{node}_late"]
        return _ratio(
            on_time,
            on_time + late,
            f"{label}环节按时完成{_n(on_time)}件，超时{_n(late)}件（{period}收件）",
        )

    return value


def _count(column: str, label: str) -> Callable[[Totals, str, bool], MetricValue]:
    def value(t: Totals, period: str, _: bool) -> MetricValue:
        count, cases = t[column], t["cases"]
        basis = f"{period}收件{_n(cases)}件，其中{label}{_n(count)}件"
        if not cases:
            return MetricValue(None, count, cases, f"无可计量数据：{basis}")
        return MetricValue(count, count, cases, basis)

    return value


def _share(
    column: str,
    label: str,
    *,
    of: str = "cases",
    of_label: str = "收件",
    of_unit: str = "件",
    unit: str = "件",
) -> Callable[[Totals, str, bool], MetricValue]:
    def value(t: Totals, period: str, _: bool) -> MetricValue:
        basis = f"{period}{of_label}{_n(t[of])}{of_unit}，{label}{_n(t[column])}{unit}"
        return _ratio(t[column], t[of], basis)

    return value


def _mean_wait(t: Totals, period: str, _: bool) -> MetricValue:
    return _ratio(
        t["wait_sum"],
        t["wait_count"],
        f"{period}收件中现场排队{_n(t['wait_count'])}件，等候共{t['wait_sum']:.2f}工作分钟",
    )


def wait_percentile(counts: Sequence[float], share: float, largest: float) -> float | None:
    """The ``share`` quantile of waits given as histogram counts over ``WAIT_EDGES``, interpolated
    linearly inside its bucket (the open last bucket ends at ``largest``, the largest wait seen)."""
    total = sum(counts)
    if not total:
        return None
    rank = share * total
    lows = (0.0, *map(float, WAIT_EDGES))
    highs = (*map(float, WAIT_EDGES), max(largest, float(WAIT_EDGES[-1])))
    below = 0.0
    for index, count in enumerate(counts):
        if count and below + count >= rank:
            return lows[index] + (highs[index] - lows[index]) * (rank - below) / count
        below += count
    return highs[-1]


def _p90_wait(t: Totals, period: str, _: bool) -> MetricValue:
    counts = [t[wait_bucket_field(i)] for i in range(WAIT_BUCKETS)]
    value = wait_percentile(counts, 0.9, t["wait_max"])
    basis = f"{period}收件中现场排队{_n(t['wait_count'])}件的第90百分位等候时长（按分段直方图估算）"
    if value is None:
        return MetricValue(None, None, t["wait_count"], f"无可计量数据：{basis}")
    return MetricValue(value, None, t["wait_count"], basis)


def _levels(t: Totals, include_defaulted: bool) -> dict[int, float]:
    return {k: t[f"level_{k}"] - (0 if include_defaulted else t[f"defaulted_{k}"]) for k in range(1, 6)}


def _rating_rate(lowest: int, highest: int, label: str) -> Callable[[Totals, str, bool], MetricValue]:
    def value(t: Totals, period: str, include_defaulted: bool) -> MetricValue:
        levels = _levels(t, include_defaulted)
        total = sum(levels.values())
        count = sum(levels[k] for k in range(lowest, highest + 1))
        defaults = "含默认评价" if include_defaulted else "不含默认评价"
        basis = f"{period}评价{_n(total)}条（{defaults}），其中{label}{_n(count)}条"
        return _ratio(count, total, basis)

    return value


def _followup_rate(column: str, of: str, text: str) -> Callable[[Totals, str, bool], MetricValue]:
    def value(t: Totals, period: str, _: bool) -> MetricValue:
        basis = text.format(period=period, n=_n(t[of]), k=_n(t[column]))
        return _ratio(t[column], t[of], basis)

    return value


_METRICS = [
    Metric("acceptance_on_time_rate", "受理按时率", "cases", _node_rate("acceptance", "受理"), percent=True),
    Metric("handling_on_time_rate", "办理按时率", "cases", _node_rate("handling", "办理"), percent=True),
    Metric("delivery_on_time_rate", "送达按时率", "cases", _node_rate("delivery", "结果送达"), percent=True),
    Metric(
        "appointment_on_time_rate",
        "预约响应按时率",
        "cases",
        _node_rate("appointment", "预约响应"),
        percent=True,
    ),
    Metric("mean_wait_minutes", "平均等候时长（分钟）", "cases", _mean_wait),
    Metric("p90_wait_minutes", "90%等候时长（分钟）", "cases", _p90_wait),
    Metric("overrun_count", "超时件数", "cases", _count("overruns", "超时")),
    Metric("breaker_count", "超时熔断件数", "cases", _count("breakers", "超时熔断")),
    Metric(
        "one_time_notice_rate",
        "一次性告知率",
        "cases",
        _share("notices", "其中出具一次性告知", of="supplemented", of_label="收件中需补正材料"),
        percent=True,
    ),
    Metric("trips_per_case", "平均跑动次数", "cases", _share("trips", "跑动合计", unit="次")),
    Metric("resubmission_rate", "补正率", "cases", _share("resubmitted", "其中补正"), percent=True),
    Metric("immediate_share", "即办件占比", "cases", _share("immediate", "其中即办件"), percent=True),
    Metric(
        "cases_per_staff_day",
        "人均日办件量",
        "cases",
        _share("staffed", "有经办人的收件", of="staff_days", of_label="收件经办人共", of_unit="人日"),
    ),
    Metric("satisfaction_rate", "满意率", "ratings", _rating_rate(3, 5, "基本满意及以上"), percent=True),
    Metric("good_rating_rate", "好评率", "ratings", _rating_rate(4, 5, "满意及以上"), percent=True),
    Metric("bad_rating_rate", "差评率", "ratings", _rating_rate(1, 2, "差评"), percent=True),
    Metric(
        "bad_rating_revisit_rate",
        "差评回访率",
        "ratings",
        _followup_rate("revisited", "real_name", "{period}实名差评{n}条，已回访{k}条"),
        percent=True,
    ),
    Metric(
        "rectification_rate",
        "差评整改率",
        "ratings",
        _followup_rate("rectified", "to_rectify", "{period}差评中需整改{n}条，已整改{k}条"),
        percent=True,
    ),
    Metric(
        "rectification_satisfaction_rate",
        "整改满意率",
        "ratings",
        _followup_rate(
            "satisfied_verdicts", "verdicts", "{period}差评整改后群众评价{n}条，满意或基本满意{k}条"
        ),
        percent=True,
    ),
    Metric("multi_rater_score", "多维评价得分", "reviews"),
    # Computed apart (hotline_metrics), rates already in percent.
    *(
        Metric(name, hotline_metrics.LABELS[name], "hotline", percent=name in hotline_metrics.PERCENT)
        for name in hotline_metrics.NAMES
    ),
]
METRICS: dict[str, Metric] = {m.name: m for m in _METRICS}


def is_metric_name(name: str) -> bool:
    return name in METRICS or (name.startswith(MANUAL_PREFIX) and len(name) > len(MANUAL_PREFIX))


# -- computing -----------------------------------------------------------------------------------


def _columns(model: type[DailyCaseStats] | type[DailyRatingStats]) -> list[str]:
    return [f.column for f in model._meta.concrete_fields if f.name not in ("id", "unit", "day")]


def _holders(targets: Sequence[int]) -> dict[int, list[int]]:
    """Unit → the requested units whose subtree holds it (itself included)."""
    wanted = set(targets)
    holders: dict[int, list[int]] = {}
    for pk, path in Unit.objects.values_list("pk", "path"):
        above = [int(part) for part in path.strip("/").split("/") if part]
        mine = [a for a in above if a in wanted]
        if mine:
            holders[pk] = mine
    return holders


def _sum_rollups(
    model: type[DailyCaseStats] | type[DailyRatingStats],
    holders: Mapping[int, list[int]],
    targets: Sequence[int],
    start: dt.date,
    end: dt.date,
) -> dict[int, Totals]:
    """One aggregate query over the period's rows of all the units concerned, summed per target."""
    columns = _columns(model)
    quote = connection.ops.quote_name
    exprs = ", ".join(f"MAX({quote(c)})" if c == "wait_max" else f"SUM({quote(c)})" for c in columns)
    sql = f"SELECT unit_id, {exprs} FROM {quote(model._meta.db_table)} WHERE day >= %s AND day <= %s"
    params: list[Any] = [connection.ops.adapt_datefield_value(d) for d in (start, end)]
    if len(holders) <= 500:  # a short IN list; otherwise read all and skip the others
        sql += f" AND unit_id IN ({', '.join(['%s'] * len(holders))})" if holders else " AND 1 = 0"
        params += list(holders)
    sql += " GROUP BY unit_id"
    totals: dict[int, Totals] = {t: dict.fromkeys(columns, 0.0) for t in targets}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for unit_id, *values in cursor.fetchall():
            for target in holders.get(unit_id, ()):
                into = totals[target]
                for column, number in zip(columns, values, strict=True):
                    if column == "wait_max":
                        into[column] = max(into[column], float(number or 0))
                    else:
                        into[column] += float(number or 0)
    return totals


def _multi_rater(targets: Sequence[int], start: dt.date, end: dt.date) -> dict[int, MetricValue]:
    from kaoping.reviews.selectors import review_score

    # One query finds the units that have a closed campaign in the period; only those are scored.
    rated = set(
        ReviewCampaign.objects.filter(
            status=CampaignStatus.CLOSED, period_end__gte=start, period_end__lte=end, units__in=targets
        ).values_list("units", flat=True)
    )
    period = period_text(start, end)
    result = {}
    for unit_id in targets:
        score = review_score(unit_id=unit_id, start=start, end=end) if unit_id in rated else None
        basis = f"{period}内结束的多维评价活动的加权得分均值"
        result[unit_id] = MetricValue(
            score, score, None, basis if score is not None else f"无可计量数据：{basis}"
        )
    return result


def _manual(
    targets: Sequence[int], codes: Sequence[str], start: dt.date, end: dt.date, *, persons: bool = False
) -> dict[tuple[int, str], MetricValue]:
    """Manual values of the unit itself (or, with ``persons``, of each person: targets are then staff
    ids): the latest entry for each period inside [start, end]; several periods (monthly entries in a
    quarter) give the mean of their values, or the latest period's level for a level indicator."""
    known = set(ManualCode.objects.filter(code__in=codes).values_list("code", flat=True))
    missing = sorted(set(codes) - known)
    if missing:
        raise KaopingError(
            ErrorCode.INVALID,
            what="metric",
            where=MANUAL_PREFIX + missing[0],
            why=f"no manual indicator with code {missing[0]!r} is defined",
        )
    latest: dict[tuple[int, str, dt.date, dt.date], ManualEntry] = {}
    whose = Q(staff_id__in=targets) if persons else Q(unit_id__in=targets, staff__isnull=True)
    entries = ManualEntry.objects.filter(
        whose, code_id__in=codes, period_start__gte=start, period_end__lte=end
    ).order_by("entered_at", "pk")
    for entry in entries:
        owner = entry.staff_id if persons and entry.staff_id is not None else entry.unit_id
        latest[(owner, entry.code_id, entry.period_start, entry.period_end)] = entry
    grouped: dict[tuple[int, str], list[ManualEntry]] = defaultdict(list)
    for key in sorted(latest):  # by unit, code, then period
        grouped[key[:2]].append(latest[key])
    result = {}
    for unit_id in targets:
        for code in codes:
            found = grouped.get((unit_id, code), [])
            if not found:
                basis = f"无可计量数据：{period_text(start, end)}内没有填报值"
                result[(unit_id, code)] = MetricValue(None, None, 0, basis)
                continue
            basis = "；".join(
                f"{e.period_start}至{e.period_end}填报{e.level or format(e.value, 'g')}"
                f"（佐证：{e.evidence[:80]}"
                + (f"，材料：{e.evidence_file}" if e.evidence_file else "")
                + "）"
                for e in found
            )
            if found[-1].level:
                result[(unit_id, code)] = MetricValue(None, None, None, basis, level=found[-1].level)
                continue
            total = sum(e.value or 0.0 for e in found)
            result[(unit_id, code)] = MetricValue(total / len(found), total, len(found), basis)
    return result


def compute(
    names: Iterable[str],
    *,
    unit_ids: Iterable[int],
    start: dt.date,
    end: dt.date,
    include_defaulted: bool = True,
) -> dict[int, dict[str, MetricValue]]:
    """Each named metric for each unit (its subtree) over the local days start … end, inclusive.

    A few queries whatever the number of units: one per rollup kind needed, the unit paths, and for
    the multi-rater score one to find the units with a closed campaign in the period."""
    wanted = list(dict.fromkeys(names))
    unknown = [n for n in wanted if not is_metric_name(n)]
    if unknown:
        raise KaopingError(
            ErrorCode.INVALID,
            what="metric",
            where=unknown[0],
            why="is not a metric name (see metrics.METRICS)",
        )
    if end < start:
        raise KaopingError(ErrorCode.INVALID, what="period", where="end", why=f"{end} is before {start}")
    targets = list(dict.fromkeys(int(u) for u in unit_ids))
    period = period_text(start, end)
    sources = {METRICS[n].source for n in wanted if n in METRICS}
    holders = _holders(targets) if sources & {"cases", "ratings"} else {}
    totals: dict[str, dict[int, Totals]] = {}
    if "cases" in sources:
        totals["cases"] = _sum_rollups(DailyCaseStats, holders, targets, start, end)
    if "ratings" in sources:
        totals["ratings"] = _sum_rollups(DailyRatingStats, holders, targets, start, end)
    reviews = _multi_rater(targets, start, end) if "reviews" in sources else {}
    codes = [n[len(MANUAL_PREFIX) :] for n in wanted if n not in METRICS]
    manual = _manual(targets, codes, start, end) if codes else {}
    hotline = {}
    if "hotline" in sources:
        hotline = hotline_metrics.compute(wanted, start=start, end=end, unit_ids=targets)
    result: dict[int, dict[str, MetricValue]] = {}
    for unit_id in targets:
        values: dict[str, MetricValue] = {}
        for name in wanted:
            metric = METRICS.get(name)
            if metric is None:
                values[name] = manual[(unit_id, name[len(MANUAL_PREFIX) :])]
            elif metric.source == "hotline":
                values[name] = MetricValue(*hotline[unit_id][name])
            elif metric.value is None:
                values[name] = reviews[unit_id]
            else:
                found = metric.value(totals[metric.source][unit_id], period, include_defaulted)
                if metric.percent and found.value is not None:
                    found = MetricValue(100 * found.value, found.numerator, found.denominator, found.basis)
                values[name] = found
        result[unit_id] = values
    return result


def compute_staff(
    names: Iterable[str], *, staff_ids: Iterable[int], start: dt.date, end: dt.date
) -> dict[int, dict[str, MetricValue]]:
    """Each named metric for each person (``Staff`` ids) over the local days start … end: the hotline
    metrics of what the person did (``hotline_metrics``) and the ``manual:`` values entered for the
    person. The other metrics describe units, not people: no value (the indicator is not assessable)."""
    wanted = list(dict.fromkeys(names))
    people = list(dict.fromkeys(int(s) for s in staff_ids))
    codes = [n[len(MANUAL_PREFIX) :] for n in wanted if n.startswith(MANUAL_PREFIX)]
    manual = _manual(people, codes, start, end, persons=True) if codes and people else {}
    hotline = hotline_metrics.compute(wanted, start=start, end=end, staff_ids=people) if people else {}
    result: dict[int, dict[str, MetricValue]] = {}
    for person in people:
        values: dict[str, MetricValue] = {}
        for name in wanted:
            if name.startswith(MANUAL_PREFIX):
                values[name] = manual[(person, name[len(MANUAL_PREFIX) :])]
            elif name in hotline[person]:
                values[name] = MetricValue(*hotline[person][name])
            else:
                values[name] = MetricValue(None, None, None, "无可计量数据：该指标按单位计，不按个人计")
        result[person] = values
    return result


# -- the records behind a value ------------------------------------------------------------------


def _cases(unit: Unit, start: dt.date, end: dt.date) -> QuerySet[Case]:
    return Case.objects.filter(
        unit__path__startswith=unit.path,
        received_at__gte=day_bounds(start)[0],
        received_at__lt=day_bounds(end)[1],
    )


def _ratings(unit: Unit, start: dt.date, end: dt.date, include_defaulted: bool) -> QuerySet[Rating]:
    ratings = Rating.objects.filter(
        unit__path__startswith=unit.path,
        rated_at__gte=day_bounds(start)[0],
        rated_at__lt=day_bounds(end)[1],
        excluded=False,
    )
    return ratings if include_defaulted else ratings.filter(defaulted=False)


def _followups(unit: Unit, start: dt.date, end: dt.date) -> QuerySet[Rectification]:
    return Rectification.objects.filter(
        rating__unit__path__startswith=unit.path,
        rating__rated_at__gte=day_bounds(start)[0],
        rating__rated_at__lt=day_bounds(end)[1],
        rating__excluded=False,
    )


# What each metric's explanation lists: the records that cost the unit (late, bad, unfinished …)
# or, for the plain measures, the records measured.
_CASE_RECORDS: dict[str, Q] = {
    "acceptance_on_time_rate": Q(acceptance_late=True),
    "handling_on_time_rate": Q(handling_late=True),
    "delivery_on_time_rate": Q(delivery_late=True),
    "appointment_on_time_rate": Q(appointment_late=True),
    "mean_wait_minutes": Q(wait_minutes__isnull=False),
    "p90_wait_minutes": Q(wait_minutes__isnull=False),
    "overrun_count": Q(overdue=True),
    "breaker_count": Q(breaker=True),
    "one_time_notice_rate": Q(one_time_notice=False, resubmissions__gt=0),
    "trips_per_case": Q(trips__gt=1),
    "resubmission_rate": Q(resubmissions__gt=0),
    "immediate_share": Q(matter__kind=MatterKind.IMMEDIATE),
    "cases_per_staff_day": Q(staff__isnull=False),
}
_RATING_RECORDS: dict[str, Q] = {
    "satisfaction_rate": Q(level__lte=2),
    "good_rating_rate": Q(level__lte=3),
    "bad_rating_rate": Q(level__lte=2),
}
_FOLLOWUP_RECORDS: dict[str, Q] = {
    "bad_rating_revisit_rate": Q(real_name=True, revisited_at__isnull=True),
    "rectification_rate": Q(triage__in=[Triage.FIX_NOW, Triage.COMPLEX], rectified_at__isnull=True),
    "rectification_satisfaction_rate": Q(verdict=Verdict.DISSATISFIED),
}


def record_query(
    name: str,
    unit: Unit,
    start: dt.date,
    end: dt.date,
    *,
    include_defaulted: bool = True,
    user: User | None = None,
    staff: Staff | None = None,
) -> QuerySet[Any]:
    """The records behind a unit's metric for the click-through explanation: the late cases behind an
    on-time rate, the bad ratings behind the bad-rating rate, the follow-ups not revisited … (see
    ``_CASE_RECORDS`` and its siblings), over the same subtree and period as ``compute``. With a user,
    a unit outside their scope is not found (404). ``staff``: a person's result (hotline staff)."""
    if user is not None and not can_access_unit(user, unit):
        raise Http404("unit not found")
    if name in _CASE_RECORDS:
        order = "-wait_minutes" if "wait" in name else "-received_at"
        return _cases(unit, start, end).filter(_CASE_RECORDS[name]).order_by(order, "-id")
    if name in _RATING_RECORDS:
        return (
            _ratings(unit, start, end, include_defaulted)
            .filter(_RATING_RECORDS[name])
            .order_by("level", "-rated_at", "-id")
        )
    if name in _FOLLOWUP_RECORDS:
        return _followups(unit, start, end).filter(_FOLLOWUP_RECORDS[name]).order_by("-opened_at", "-id")
    if name in hotline_metrics.NAMES:
        if staff is not None:
            return hotline_metrics.records(name, start=start, end=end, staff=staff)
        return hotline_metrics.records(name, start=start, end=end, unit=unit)
    if name == "multi_rater_score":
        return ReviewCampaign.objects.filter(
            status=CampaignStatus.CLOSED, units=unit, period_end__gte=start, period_end__lte=end
        ).order_by("period_end", "pk")
    if name.startswith(MANUAL_PREFIX):
        return ManualEntry.objects.filter(
            unit=unit, code__code=name[len(MANUAL_PREFIX) :], period_start__gte=start, period_end__lte=end
        ).order_by("-entered_at", "-pk")
    raise KaopingError(ErrorCode.INVALID, what="metric", where=name, why="is not a metric name")
