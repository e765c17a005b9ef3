"""The simulated hotline (``sim.hotline``) against the database: the demo hotline's people and handling
units, and a run whose records go through the hotline's one validation path (``hotline_ingest``) and
whose quality findings through ``hotline.quality.findings_store``.

Idempotent: the demo's people and units are created once, and records keep their ids (source
``sim-hotline``), so a second run stores nothing twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser

from kaoping.core import clock
from kaoping.evidence.services import Actor
from kaoping.hotline.imports import hotline_ingest
from kaoping.hotline.models import DispatchRule
from kaoping.hotline.quality import FindingRow, findings_store
from kaoping.hotline.services import dispatch_rule_create
from kaoping.org.models import Role, RoleAssignment, Staff, Unit, UnitKind
from kaoping.org.services import role_grant, staff_create, unit_create
from kaoping.sim.hotline import SOURCE, SimAgent, SimHotline, SimUnit, call_figures, simulate

CENTRE = "H9901"
# (code, name) of the demo's further handling units, and how each behaves (sim.hotline.SimUnit): the
# city management bureau is slow, the social security bureau quick and liked, the bus company objects
# to tickets that are not its own.
HANDLING_UNITS = [
    ("HU-CG", "市城市管理综合执法局"),
    ("HU-RS", "市人力资源和社会保障局"),
    ("HU-GJ", "市公交集团"),
]
BEHAVIOUR = {
    "HU-ZJ": SimUnit("HU-ZJ", speed=1.15, return_rate=0.04, quality=0.9),
    "HU-SJ": SimUnit("HU-SJ", speed=1.0, return_rate=0.03, quality=0.93),
    "HU-CG": SimUnit("HU-CG", speed=1.6, return_rate=0.05, quality=0.85),
    "HU-RS": SimUnit("HU-RS", speed=0.6, return_rate=0.02, quality=0.985),
    "HU-GJ": SimUnit("HU-GJ", speed=1.0, return_rate=0.12, quality=0.95),
}
# The demo's dispatch catalogue (派单目录): keywords of the simulator's ticket texts, per unit.
DISPATCH_KEYWORDS = {
    "HU-ZJ": "物业，不动产，公积金，停水",
    "HU-SJ": "价格，商家，餐馆",
    "HU-CG": "噪音，路灯，井盖，塌陷，杂物，油烟",
    "HU-RS": "社保，居住证",
    "HU-GJ": "公交，线路",
}
# (username, name, role, employee number) of the further hotline people (no password: not demo logins).
PEOPLE = [
    ("ht_ct01", "钱晓燕", Role.CALL_TAKER, "HT-01"),
    ("ht_ct02", "孙立伟", Role.CALL_TAKER, "HT-02"),
    ("ht_ct03", "李娜", Role.CALL_TAKER, "HT-03"),
    ("ht_ct04", "周建国", Role.CALL_TAKER, "HT-04"),
    ("ht_ct05", "吴芳", Role.CALL_TAKER, "HT-05"),
    ("ht_ct06", "郑海", Role.CALL_TAKER, "HT-06"),
    ("ht_mo02", "冯检", Role.MONITOR, "HT-M2"),
]
# Record errors per ticket accepted: one careless call taker, the others careful.
ERROR_RATE = {"HT-04": 0.03}
DEFAULT_ERROR_RATE = 0.006


def load_demo_hotline(*, actor: AbstractUser) -> Unit | None:
    """The demo hotline's further handling units and people (the centre, two units, a call taker and a
    monitor come with ``sim.demo.load_demo``). None when there is no demo hotline centre."""
    centre = Unit.objects.filter(code=CENTRE).first()
    if centre is None:
        return None
    existing = set(
        Unit.objects.filter(code__in=[c for c, _ in HANDLING_UNITS]).values_list("code", flat=True)
    )
    for code, name in HANDLING_UNITS:
        if code not in existing:
            unit_create(actor=actor, code=code, name=name, kind=UnitKind.HANDLING_UNIT, parent=centre)
    users = get_user_model()
    for username, name, role, employee_no in PEOPLE:
        user, created = users.objects.get_or_create(username=username, defaults={"first_name": name})
        if created:
            user.set_unusable_password()
            user.save()
        role_grant(actor=actor, user=user, role=role, unit=centre)
        if not Staff.objects.filter(employee_no=employee_no).exists():
            staff_create(actor=actor, unit=centre, name=name, employee_no=employee_no, user=user)
    if not DispatchRule.objects.filter(centre=centre).exists():
        units = {u.code: u for u in Unit.objects.filter(code__in=DISPATCH_KEYWORDS)}
        for code, keywords in DISPATCH_KEYWORDS.items():
            if code in units:
                dispatch_rule_create(actor=actor, centre=centre, unit=units[code], keywords=keywords)
    return centre


def _holders(centre: Unit, role: Role) -> list[str]:
    users = RoleAssignment.objects.filter(role=role, unit=centre).values("user_id")
    return list(
        Staff.objects.filter(unit=centre, active=True, user__in=users)
        .order_by("employee_no")
        .values_list("employee_no", flat=True)
    )


def hotline_config(*, centre: Unit, start: dt.date, days: int, seed: int, scale: float) -> SimHotline:
    units = Unit.objects.filter(kind=UnitKind.HANDLING_UNIT, active=True, path__startswith=centre.path)
    return SimHotline(
        centre=centre.code,
        units=[
            BEHAVIOUR.get(code, SimUnit(code))
            for code in units.order_by("code").values_list("code", flat=True)
        ],
        agents=[
            SimAgent(no, ERROR_RATE.get(no, DEFAULT_ERROR_RATE)) for no in _holders(centre, Role.CALL_TAKER)
        ],
        monitors=_holders(centre, Role.MONITOR),
        start=start,
        days=days,
        seed=seed,
        scale=scale,
        until=clock.now(),
    )


@dataclass(frozen=True)
class HotlineRun:
    calls: int
    tickets: int
    events: int
    findings: int
    duplicates: int
    rejected: int
    answer_rate: float
    within_15s: float


def run_hotline(
    *, actor: Actor, start: dt.date, days: int, seed: int = 1, scale: float = 1.0, centre: Unit | None = None
) -> HotlineRun:
    """Simulate the hotline over ``days`` from ``start`` (nothing after now) and store it."""
    found = centre or Unit.objects.filter(code=CENTRE).first()
    if found is None:
        return HotlineRun(0, 0, 0, 0, 0, 0, 0.0, 0.0)
    config = hotline_config(centre=found, start=start, days=days, seed=seed, scale=scale)
    output = simulate(config)
    report = hotline_ingest(
        actor=actor,
        records=((f"sim {n + 1}", record) for n, record in enumerate(output.records)),
        label=f"{SOURCE} {start} +{days}d",
    )
    stored = findings_store(
        actor=actor,
        rows=[
            FindingRow(
                source=f["source"],
                external_id=f["id"],
                staff=f["staff"],
                kind=f["kind"],
                found_at=f["found_at"],
                note=f["note"],
                ticket=f["ticket"],
            )
            for f in output.findings
        ],
    )
    figures = call_figures(output.records)
    return HotlineRun(
        calls=report.calls,
        tickets=report.tickets,
        events=report.events,
        findings=stored,
        duplicates=report.duplicates,
        rejected=len(report.rejected),
        answer_rate=figures["answer_rate"],
        within_15s=figures["within_15s"],
    )
