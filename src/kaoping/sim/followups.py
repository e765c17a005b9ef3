"""The demo's officials working through bad-rating follow-ups, so its figures look like a real centre's:
most real-name bad ratings revisited on time, a few late or not at all, triage into fix at once /
complex / no legal basis, rectifications done within their limits, and the citizens' verdicts.

Every step goes through the follow-up services (workflow checks and evidence entries) with the time
it happened in the simulated past. Seeded: the same database and seed give the same steps.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from kaoping.core import clock
from kaoping.core.permissions import User
from kaoping.followup import services
from kaoping.followup.models import Rectification
from kaoping.followup.workflow import State, Triage, Verdict

REVISIT_ON_TIME = 0.90  # of real-name bad ratings; 6% late, the rest never revisited
REVISIT_LATE = 0.06
TRIAGE_WEIGHTS = (0.50, 0.35, 0.15)  # fix at once, complex, no legal basis
VERDICT_WEIGHTS = (0.70, 0.20, 0.10)  # 满意, 基本满意, 不满意
HOUR = dt.timedelta(hours=1)


def work_followups(*, actor: User, seed: int, now: dt.datetime | None = None) -> int:
    """Take every open follow-up as far as the simulated officials would have by ``now``; returns the
    number of steps recorded."""
    now = now or clock.now()
    rng = np.random.default_rng(seed)
    steps = 0
    rows = Rectification.objects.filter(
        state__in=[State.REVISIT_PENDING, State.TRIAGE_PENDING]
    ).select_related("unit", "rating")
    for rect in rows.order_by("opened_at", "pk"):
        rating_at = rect.rating.rated_at if rect.rating else rect.opened_at
        at = max(rating_at, rect.opened_at)
        if rect.state == State.REVISIT_PENDING:
            draw = rng.random()
            due = rect.revisit_due_at or at + 24 * HOUR
            if draw < REVISIT_ON_TIME:
                at = at + HOUR * float(rng.uniform(0.5, 6))
                at = min(at, due) if due > rect.opened_at else at
            elif draw < REVISIT_ON_TIME + REVISIT_LATE:
                at = due + HOUR * float(rng.uniform(2, 48))
            else:
                continue  # nobody called back
            if at > now:
                continue
            rect = services.rectification_revisit(
                actor=actor, rectification=rect, note="已电话回访，核实群众反映的问题", at=at
            )
            steps += 1
        at += HOUR * float(rng.uniform(1, 24))
        if at > now:
            continue
        triage = (Triage.FIX_NOW, Triage.COMPLEX, Triage.NO_BASIS)[int(rng.choice(3, p=TRIAGE_WEIGHTS))]
        days = int(rng.integers(5, 16))
        notes = {
            Triage.FIX_NOW: "现场说明并立即改正",
            Triage.COMPLEX: "制定整改方案，调整窗口排班和材料清单",
            Triage.NO_BASIS: "所提诉求无法律依据，已向群众解释政策规定",
        }
        rect = services.rectification_triage(
            actor=actor, rectification=rect, triage=triage, note=notes[triage], days=days, at=at
        )
        steps += 1
        if triage is Triage.NO_BASIS:
            continue
        if triage is Triage.COMPLEX:
            at = at + dt.timedelta(days=float(rng.uniform(1, days * 1.2)))
            if at > now:
                continue
            rect = services.rectification_rectify(
                actor=actor, rectification=rect, note="整改措施已落实，高峰时段增开窗口", at=at
            )
            steps += 1
        at += HOUR * float(rng.uniform(2, 72))
        if at > now:
            continue
        verdict = (Verdict.SATISFIED, Verdict.BASIC, Verdict.DISSATISFIED)[
            int(rng.choice(3, p=VERDICT_WEIGHTS))
        ]
        services.rectification_verdict(actor=actor, rectification=rect, verdict=verdict, at=at)
        steps += 1
    return steps
