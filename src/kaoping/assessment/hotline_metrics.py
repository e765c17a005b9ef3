"""The hotline's assessment metrics (R3.3, R3.4, R3.5; GB/T 33358-2016), from tickets, their events,
call records and the quality checks' findings. ``metrics.compute`` hands the hotline metrics of a unit
scheme here (``compute(subjects=units)``); ``assess`` asks for a person scheme's values with
``compute(staff_ids=…)``.

A *subject* is either a unit (its **subtree**, as every registry metric: a hotline centre covers its
handling units) or one person (a ``Staff`` row: the hotline staff scheme assesses people one by one).
Period = local days ``start`` … ``end``, inclusive; every count below is taken over it.

Ticket metrics (by the ticket's current handling unit; for a person: the tickets they accepted), as
the hall manager's figures (``hotline.selectors``):

- population *closed*: tickets closed in the period after a dispatch (each ticket counts once, in
  the period it closed, when its history is complete);
- population *overdue* (``hotline.selectors.overdue_q``): dispatched tickets whose deadline (the
  extended one when an extension was approved, else the first) passed in the period, and before
  the assessment's time (``clock.now()``), without the unit's reply by then (none yet, or the unit's
  last reply after it), **closed or not**. A ticket has one deadline, so it counts once, in the
  period the deadline passed; a unit cannot avoid the deduction by not closing the ticket. The
  deadline is the one in force when assessed: an extension still undecided counts for nothing
  until the centre approves it;
- ``ticket_overdue_count``: overdue tickets (neither replied in time nor saved by an extension);
- ``ticket_on_time_closure_rate``: closed on time / (closed on time + overdue). Each ticket's verdict
  counts once, in the period it became final: late when its deadline passed unanswered, on time
  when it closed (until it closes a reopened ticket's later reply could still come too late). A
  late ticket closed in the period is not counted again there (it was, where its deadline passed);
- ``ticket_extended_count``: closed tickets on time thanks to an approved extension (延时办结);
- ``ticket_reopen_count``: closed tickets sent back at least once by the centre's revisit (重办);
- ``ticket_urge_rate``: closed tickets urged at least once / closed;
- ``first_revisit_rate`` (承办单位初次回访一致率): of the closed tickets whose handling unit's first
  revisit was followed by a centre revisit, those where both found the same on the line that decides
  closure (R3.4: 满意, or 基本满意 / 不满意). The workflow makes the unit revisit first on every
  ticket, so *whether* it revisited says nothing (it was always 100 %); seed 003 adds the unit's
  initial revisit "to make the unit improve its handling", and the centre's revisit decides. A unit
  that reports 满意 the caller then denies to the centre (or the reverse) revisits badly; one that
  reports a dissatisfied caller honestly agrees with the centre and loses nothing here (the reopen
  count and the satisfaction rate already weigh the dissatisfaction). Tickets closed on review
  straight after the unit's first revisit have nothing to compare with and are left out;
- ``ticket_satisfaction_rate``: the centre's revisits in the period answered 满意 or 基本满意 / all
  the centre's revisits in the period (as the figures; each revisit of a reopened ticket counts).

Calls (CallRecord, calls *started* in the period; a handling unit has none):

- ``call_answer_rate``: answered / offered (GB/T 33358-2016: ≥ 95 %); ``answer_within_15s_rate``:
  answered within ``KAOPING_HOTLINE_ANSWER_SECONDS`` / offered. For a person: not assessable (an
  answer rate belongs to the centre), except ``answer_within_15s_rate`` over the calls they answered;
- ``calls_handled`` (接线量): calls answered (by the person, or at the centres in the subtree). None
  when the centre recorded no calls in the period: no call data, not zero calls.

Quality findings (``hotline.models.QualityFinding``, by the day they were found; for a unit: those
against its staff):

- ``record_error_count``, ``staff_complaint_count``, ``missed_error_check_count``,
  ``reply_quality_error_count``: findings of that kind;
- ``missed_urge_revisit_count``: findings of that kind, plus the overdue tickets (as above: in the
  period their deadline passed, closed or not) the person accepted that were never urged (the call
  taker should have urged them). A ticket a finding of that kind names, whenever found, counts
  through the finding only: each ticket once.

Findings are a running record of the monitors' checks, so these counts are 0 (not None) when nothing
was found; complaints arrive as findings once verified (经核实的有效投诉).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery

from kaoping.assessment.rollups import day_bounds
from kaoping.core import clock
from kaoping.hotline.models import CallRecord, FindingKind, QualityFinding, Ticket, TicketEvent
from kaoping.hotline.selectors import LATE_Q, deadline_passed_q, overdue_q, with_deadline
from kaoping.hotline.workflow import Action, Satisfaction
from kaoping.org.models import Staff, Unit

TICKET_METRICS = (
    "ticket_on_time_closure_rate",
    "ticket_overdue_count",
    "ticket_extended_count",
    "ticket_reopen_count",
    "ticket_urge_rate",
    "first_revisit_rate",
)
CALL_METRICS = ("call_answer_rate", "answer_within_15s_rate", "calls_handled")
FINDING_METRICS: dict[str, FindingKind] = {
    "record_error_count": FindingKind.RECORD_ERROR,
    "staff_complaint_count": FindingKind.COMPLAINT,
    "missed_error_check_count": FindingKind.MISSED_ERROR_CHECK,
    "reply_quality_error_count": FindingKind.REPLY_QUALITY_ERROR,
    "missed_urge_revisit_count": FindingKind.MISSED_URGE_REVISIT,
}
NAMES: tuple[str, ...] = (
    *TICKET_METRICS,
    "ticket_satisfaction_rate",
    *CALL_METRICS,
    *FINDING_METRICS,
)
# The registry's labels (metric_names has the same).
LABELS = {
    "ticket_on_time_closure_rate": "工单按时办结率",
    "ticket_overdue_count": "超时未办结工单数",
    "ticket_extended_count": "延期办结工单数",
    "ticket_reopen_count": "退回重办工单数",
    "ticket_urge_rate": "督办率",
    "first_revisit_rate": "承办单位初次回访一致率",
    "ticket_satisfaction_rate": "工单满意率",
    "call_answer_rate": "电话接通率",
    "answer_within_15s_rate": "15 秒接听率",
    "calls_handled": "接线量",
    "record_error_count": "受理信息差错数",
    "staff_complaint_count": "群众有效投诉次数",
    "missed_error_check_count": "差错漏查次数",
    "reply_quality_error_count": "回复信息差错数",
    "missed_urge_revisit_count": "督办回访未按要求次数",
}
PERCENT = frozenset(
    {
        "ticket_on_time_closure_rate",
        "ticket_urge_rate",
        "first_revisit_rate",
        "ticket_satisfaction_rate",
        "call_answer_rate",
        "answer_within_15s_rate",
    }
)
_GOOD = [Satisfaction.SATISFIED.value, Satisfaction.BASIC.value]

Counts = dict[str, float]
# (value in percent for rates, numerator, denominator, basis): metrics.MetricValue's fields
Found = tuple[float | None, float | None, float | None, str]


def _n(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return day_bounds(start)[0], day_bounds(end)[1]


def _add(into: dict[int, Counts], keys: Iterable[int], row: Mapping[str, Any], fields: Sequence[str]) -> None:
    for key in keys:
        totals = into[key]
        for name in fields:
            totals[name] = totals.get(name, 0.0) + float(row[name] or 0)


class _Scope:
    """Where a grouped row belongs: a unit subject holds every unit of its subtree; a person subject
    is itself."""

    def __init__(self, *, unit_ids: Sequence[int] = (), staff_ids: Sequence[int] = ()) -> None:
        self.persons = bool(staff_ids)
        self.targets = list(staff_ids) if staff_ids else list(unit_ids)
        self.holders: dict[int, list[int]] = {}
        if not self.persons:
            wanted = set(self.targets)
            for pk, path in Unit.objects.values_list("pk", "path"):
                mine = [int(p) for p in path.strip("/").split("/") if p and int(p) in wanted]
                if mine:
                    self.holders[pk] = mine

    def of(self, key: int | None) -> list[int]:
        if key is None:
            return []
        if self.persons:
            return [key]
        return self.holders.get(key, [])


def _first(action: Action) -> Subquery:
    """The ticket's first event of ``action`` (its pk), in time order."""
    events = TicketEvent.objects.filter(ticket=OuterRef("pk"), action=action.value)
    return Subquery(events.order_by("at", "pk").values("pk")[:1])


def _revisit_agreement(lo: dt.datetime, hi: dt.datetime) -> tuple[Q, Q]:
    """On tickets closed in [lo, hi) annotated with ``unit_first`` and ``centre_first`` (``_first``):
    (compared, agreed). The centre's first revisit always follows the unit's first one (the workflow
    allows it only from unit_revisited), so the two are the same round's."""
    satisfied = {
        action: TicketEvent.objects.filter(
            action=action.value,
            data__satisfaction=Satisfaction.SATISFIED.value,
            ticket__closed_at__gte=lo,
            ticket__closed_at__lt=hi,
        ).values("pk")
        for action in (Action.UNIT_REVISIT, Action.CENTRE_REVISIT)
    }
    unit_said = Q(unit_first__in=satisfied[Action.UNIT_REVISIT])
    centre_said = Q(centre_first__in=satisfied[Action.CENTRE_REVISIT])
    compared = Q(unit_first__isnull=False, centre_first__isnull=False)
    return compared, compared & ((unit_said & centre_said) | (~unit_said & ~centre_said))


def _tickets(scope: _Scope, lo: dt.datetime, hi: dt.datetime, now: dt.datetime) -> dict[int, Counts]:
    """The closed population's counts (by closure) and the overdue ones (by deadline)."""
    group = "call_taker_id" if scope.persons else "unit_id"
    whose = Q(call_taker_id__in=scope.targets) if scope.persons else Q(unit__isnull=False)
    closed = Ticket.objects.filter(whose, closed_at__gte=lo, closed_at__lt=hi, dispatches__gt=0)
    closed = closed.annotate(
        unit_first=_first(Action.UNIT_REVISIT), centre_first=_first(Action.CENTRE_REVISIT)
    )
    compared, agreed = _revisit_agreement(lo, hi)
    rows = closed.values(group).annotate(
        closed=Count("pk"),
        punctual=Count("pk", filter=Q(on_time=True)),
        extended=Count("pk", filter=Q(on_time=True, extensions__gt=0)),
        reopened=Count("pk", filter=Q(reopens__gt=0)),
        urged=Count("pk", filter=Q(urges__gt=0)),
        compared=Count("pk", filter=compared),
        agreed=Count("pk", filter=agreed),
    )
    fields = ("closed", "punctual", "extended", "reopened", "urged", "compared", "agreed")
    out: dict[int, Counts] = defaultdict(dict)
    for row in rows:
        _add(out, scope.of(row[group]), row, fields)
    # Deadlines passed in the period: those not met are the overdue tickets.
    due = with_deadline(Ticket.objects.filter(whose)).filter(deadline_passed_q(lo, hi, now))
    due_rows = due.values(group).annotate(
        due=Count("pk"), late=Count("pk", filter=LATE_Q), open=Count("pk", filter=LATE_Q & Q(closed_at=None))
    )
    for row in due_rows:
        _add(out, scope.of(row[group]), row, ("due", "late", "open"))
    return out


def _revisits(scope: _Scope, lo: dt.datetime, hi: dt.datetime) -> dict[int, Counts]:
    group = "ticket__call_taker_id" if scope.persons else "ticket__unit_id"
    events = TicketEvent.objects.filter(action=Action.CENTRE_REVISIT.value, at__gte=lo, at__lt=hi)
    if scope.persons:
        events = events.filter(ticket__call_taker_id__in=scope.targets)
    rows = events.values(group).annotate(
        revisits=Count("pk"), good=Count("pk", filter=Q(data__satisfaction__in=_GOOD))
    )
    out: dict[int, Counts] = defaultdict(dict)
    for row in rows:
        _add(out, scope.of(row[group]), row, ("revisits", "good"))
    return out


def _calls(scope: _Scope, lo: dt.datetime, hi: dt.datetime) -> dict[int, Counts]:
    """offered / answered / within per subject; for persons ``offered`` is their centre's calls."""
    within = float(settings.KAOPING_HOTLINE_ANSWER_SECONDS)
    calls = CallRecord.objects.filter(started_at__gte=lo, started_at__lt=hi)
    by_centre = {
        row["centre_id"]: row
        for row in calls.values("centre_id").annotate(
            offered=Count("pk"),
            answered=Count("pk", filter=Q(abandoned=False)),
            within=Count("pk", filter=Q(abandoned=False, wait_seconds__lte=within)),
        )
    }
    out: dict[int, Counts] = defaultdict(dict)
    if not scope.persons:
        for centre_id, row in by_centre.items():
            _add(out, scope.of(centre_id), row, ("offered", "answered", "within"))
        return out
    units = dict(Staff.objects.filter(pk__in=scope.targets).values_list("pk", "unit_id"))
    for staff_id, unit_id in units.items():
        out[staff_id]["offered"] = float(by_centre.get(unit_id, {}).get("offered", 0))
    agents = calls.filter(agent_id__in=scope.targets, abandoned=False).values("agent_id")
    for row in agents.annotate(answered=Count("pk"), within=Count("pk", filter=Q(wait_seconds__lte=within))):
        _add(out, [row["agent_id"]], row, ("answered", "within"))
    return out


def _findings(scope: _Scope, lo: dt.datetime, hi: dt.datetime, now: dt.datetime) -> dict[int, Counts]:
    group = "staff_id" if scope.persons else "staff__unit_id"
    found = QualityFinding.objects.filter(found_at__gte=lo, found_at__lt=hi)
    if scope.persons:
        found = found.filter(staff_id__in=scope.targets)
    out: dict[int, Counts] = defaultdict(dict)
    for row in found.values(group, "kind").annotate(n=Count("pk")):
        for key in scope.of(row[group]):
            out[key][row["kind"]] = out[key].get(row["kind"], 0.0) + row["n"]
    # Overdue tickets (in the period their deadline passed, closed or not) never urged: the call
    # taker who accepted them missed the urge, unless a finding names that ticket (whenever found: the
    # finding counts it in its own period, so each ticket counts once).
    tickets_group = "call_taker_id" if scope.persons else "call_taker__unit_id"
    named = QualityFinding.objects.filter(ticket=OuterRef("pk"), kind=FindingKind.MISSED_URGE_REVISIT)
    unurged = (
        with_deadline(Ticket.objects.filter(urges=0)).filter(overdue_q(lo, hi, now)).exclude(call_taker=None)
    )
    if scope.persons:
        unurged = unurged.filter(call_taker_id__in=scope.targets)
    rows = unurged.annotate(named=Exists(named)).filter(named=False).values(tickets_group)
    for row in rows.annotate(n=Count("pk")):
        for key in scope.of(row[tickets_group]):
            out[key]["unurged"] = out[key].get("unurged", 0.0) + row["n"]
    return out


def _rate(numerator: float, denominator: float, basis: str) -> Found:
    if not denominator:
        return None, numerator, denominator, f"无可计量数据：{basis}"
    return 100 * numerator / denominator, numerator, denominator, basis


def _count(count: float, population: float, basis: str) -> Found:
    if not population:
        return None, count, population, f"无可计量数据：{basis}"
    return count, count, population, basis


def _value(name: str, t: Counts, r: Counts, c: Counts, f: Counts, period: str, person: bool) -> Found:
    closed = t.get("closed", 0.0)
    whose = "本人受理、" if person else ""
    closed_text = f"{period}{whose}转派后办结工单{_n(closed)}件"
    late, still_open = t.get("late", 0.0), t.get("open", 0.0)
    mine = "本人受理的" if person else ""
    late_text = f"时限届满未按时答复（未获批延期）{_n(late)}件（尚未办结{_n(still_open)}件）"
    if name == "ticket_on_time_closure_rate":
        on_time = t.get("punctual", 0.0)
        basis = f"{closed_text}，其中按时{_n(on_time)}件；{period}{mine}工单{late_text}"
        return _rate(on_time, on_time + late, basis)
    if name == "ticket_overdue_count":
        # Out of the deadlines passed in the period; no data only when, besides, no ticket closed.
        due = t.get("due", 0.0)
        found = _count(late, closed + due, f"{period}{mine}工单时限届满{_n(due)}件，其中{late_text}")
        return found[0], found[1], due, found[3]
    if name == "ticket_extended_count":
        extended = t.get("extended", 0.0)
        return _count(extended, closed, f"{closed_text}，其中经批准延期后按时办结{_n(extended)}件")
    if name == "ticket_reopen_count":
        reopened = t.get("reopened", 0.0)
        return _count(reopened, closed, f"{closed_text}，其中回访不满意退回重办{_n(reopened)}件")
    if name == "ticket_urge_rate":
        urged = t.get("urged", 0.0)
        return _rate(urged, closed, f"{closed_text}，其中被督办{_n(urged)}件")
    if name == "first_revisit_rate":
        agreed, compared = t.get("agreed", 0.0), t.get("compared", 0.0)
        return _rate(
            agreed,
            compared,
            f"{closed_text}，其中承办单位初次回访后经中心回访{_n(compared)}件，"
            f"两次回访结果（满意与否）一致{_n(agreed)}件",
        )
    if name == "ticket_satisfaction_rate":
        good, revisits = r.get("good", 0.0), r.get("revisits", 0.0)
        return _rate(good, revisits, f"{period}中心回访{_n(revisits)}次，满意或基本满意{_n(good)}次")
    offered, answered, within = c.get("offered", 0.0), c.get("answered", 0.0), c.get("within", 0.0)
    calls_text = f"{period}热线中心呼入{_n(offered)}个"
    if name == "call_answer_rate":
        if person:
            return None, None, None, "无可计量数据：接通率按热线中心计，不按个人计"
        return _rate(answered, offered, f"{calls_text}，接通{_n(answered)}个")
    if name == "answer_within_15s_rate":
        seconds = _n(float(settings.KAOPING_HOTLINE_ANSWER_SECONDS))
        if person:
            mine = f"{period}本人接听{_n(answered)}个，{seconds}秒内接听{_n(within)}个"
            return _rate(within, answered, mine)
        return _rate(within, offered, f"{calls_text}，{seconds}秒内接听{_n(within)}个")
    if name == "calls_handled":
        who = "其中本人接听" if person else "接通"
        return _count(answered, offered, f"{calls_text}，{who}{_n(answered)}个")
    kind = FINDING_METRICS[name]
    count = f.get(kind.value, 0.0)
    basis = f"{period}质检发现“{kind.label}”{_n(count)}次"
    if kind is FindingKind.MISSED_URGE_REVISIT:
        unurged = f.get("unurged", 0.0)
        basis += f"；{'本人受理的' if person else ''}工单超时未答复且未督办{_n(unurged)}件"
        count += unurged
    return count, count, None, basis


def compute(
    names: Iterable[str],
    *,
    start: dt.date,
    end: dt.date,
    unit_ids: Sequence[int] = (),
    staff_ids: Sequence[int] = (),
    now: dt.datetime | None = None,
) -> dict[int, dict[str, Found]]:
    """Each named hotline metric for each unit (its subtree) or, with ``staff_ids``, each person,
    over the local days start … end; deadlines count as passed before ``now`` (the clock's by
    default). At most six grouped queries whatever the number of subjects."""
    wanted = [n for n in dict.fromkeys(names) if n in NAMES]
    scope = _Scope(unit_ids=unit_ids, staff_ids=staff_ids)
    lo, hi = _bounds(start, end)
    now = now or clock.now()
    period = f"{start}至{end}"
    need = set(wanted)
    tickets = _tickets(scope, lo, hi, now) if need & set(TICKET_METRICS) else {}
    revisits = _revisits(scope, lo, hi) if "ticket_satisfaction_rate" in need else {}
    calls = _calls(scope, lo, hi) if need & set(CALL_METRICS) else {}
    findings = _findings(scope, lo, hi, now) if need & set(FINDING_METRICS) else {}
    empty: Counts = {}
    return {
        target: {
            name: _value(
                name,
                tickets.get(target, empty),
                revisits.get(target, empty),
                calls.get(target, empty),
                findings.get(target, empty),
                period,
                scope.persons,
            )
            for name in wanted
        }
        for target in scope.targets
    }


def records(
    name: str,
    *,
    start: dt.date,
    end: dt.date,
    unit: Unit | None = None,
    staff: Staff | None = None,
    now: dt.datetime | None = None,
) -> QuerySet[Any]:
    """The records behind a hotline metric of a unit (its subtree) or a person: the overdue tickets
    behind an on-time rate or the overdue count (closed or not, the latest deadline first), the
    findings behind a count, the calls missed or answered late …"""
    if (unit is None) == (staff is None):
        raise ValueError("give a unit or a person")
    lo, hi = _bounds(start, end)
    path = unit.path if unit is not None else ""
    if name in FINDING_METRICS:
        found = QualityFinding.objects.filter(kind=FINDING_METRICS[name], found_at__gte=lo, found_at__lt=hi)
        found = found.filter(staff=staff) if staff else found.filter(staff__unit__path__startswith=path)
        return found.order_by("-found_at", "-pk")
    if name in CALL_METRICS:
        calls = CallRecord.objects.filter(started_at__gte=lo, started_at__lt=hi)
        calls = calls.filter(agent=staff) if staff else calls.filter(centre__path__startswith=path)
        if name == "calls_handled":
            return calls.filter(abandoned=False).order_by("-started_at", "-pk")
        late = Q(abandoned=True) | Q(wait_seconds__gt=settings.KAOPING_HOTLINE_ANSWER_SECONDS)
        return calls.filter(late).order_by("-started_at", "-pk")
    if name == "ticket_satisfaction_rate":
        events = TicketEvent.objects.filter(action=Action.CENTRE_REVISIT.value, at__gte=lo, at__lt=hi)
        events = events.exclude(data__satisfaction__in=_GOOD)
        whose = Q(ticket__call_taker=staff) if staff else Q(ticket__unit__path__startswith=path)
        return events.filter(whose).order_by("-at", "-pk")
    whose = Q(call_taker=staff) if staff else Q(unit__path__startswith=path)
    mine = Ticket.objects.filter(whose)
    if name in ("ticket_on_time_closure_rate", "ticket_overdue_count"):
        overdue = with_deadline(mine).filter(overdue_q(lo, hi, now or clock.now()))
        return overdue.order_by("-deadline", "-pk")
    tickets = mine.filter(closed_at__gte=lo, closed_at__lt=hi, dispatches__gt=0)
    if name == "first_revisit_rate":
        # The tickets whose unit's first revisit the centre's revisit contradicted.
        tickets = tickets.annotate(
            unit_first=_first(Action.UNIT_REVISIT), centre_first=_first(Action.CENTRE_REVISIT)
        )
        compared, agreed = _revisit_agreement(lo, hi)
        return tickets.filter(compared & ~agreed).order_by("-closed_at", "-pk")
    behind = {
        "ticket_extended_count": Q(on_time=True, extensions__gt=0),
        "ticket_reopen_count": Q(reopens__gt=0),
        "ticket_urge_rate": Q(urges__gt=0),
    }
    return tickets.filter(behind.get(name, Q())).order_by("-closed_at", "-pk")
