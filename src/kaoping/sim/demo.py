"""The demo organisation: a province-level tree with two centres, a hotline and demo logins.

Idempotent: loading twice changes nothing the second time."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import transaction

from kaoping.catalog.models import Matter
from kaoping.catalog.services import matter_create
from kaoping.org.models import Role, Staff, Unit
from kaoping.org.services import role_grant, staff_create, unit_create
from kaoping.workcal.models import OfficeHours
from kaoping.workcal.services import office_hours_set

DEMO_PASSWORD = "kaoping-demo"

# (code, name, kind, parent code, region code, department kind)
UNITS: list[tuple[str, str, str, str | None, str, str]] = [
    ("R99", "示范省", "region", None, "990000", ""),
    ("R9901", "青川市", "region", "R99", "990100", ""),
    ("C9901", "青川市政务服务中心", "centre", "R9901", "", ""),
    ("D-ZH", "综合受理科", "department", "C9901", "", "external_service"),
    ("D-SP", "审批管理科", "department", "C9901", "", "internal_service"),
    ("D-XX", "信息技术科", "department", "C9901", "", "professional_support"),
    ("W-01", "1号窗口（企业开办）", "window", "D-ZH", "", ""),
    ("W-02", "2号窗口（社保医保）", "window", "D-ZH", "", ""),
    ("W-03", "3号窗口（不动产登记）", "window", "D-ZH", "", ""),
    ("W-04", "4号窗口（综合咨询）", "window", "D-SP", "", ""),
    ("H9901", "青川市12345热线中心", "hotline_centre", "R9901", "", ""),
    ("HU-ZJ", "市住房和城乡建设局", "handling_unit", "H9901", "", ""),
    ("HU-SJ", "市市场监督管理局", "handling_unit", "H9901", "", ""),
    ("R990102", "临江区", "region", "R9901", "990102", ""),
    ("C990102", "临江区政务服务中心", "centre", "R990102", "", ""),
    ("D-LJ-ZH", "临江区综合窗口科", "department", "C990102", "", "external_service"),
    ("W-LJ-01", "临江区1号窗口", "window", "D-LJ-ZH", "", ""),
]

# (username, full name, role, unit code)
USERS: list[tuple[str, str, str, str]] = [
    ("director", "王主任", Role.CENTRE_DIRECTOR, "C9901"),
    ("head_zh", "李科长", Role.DEPARTMENT_HEAD, "D-ZH"),
    ("head_sp", "赵科长", Role.DEPARTMENT_HEAD, "D-SP"),
    ("window01", "陈晓", Role.WINDOW_STAFF, "W-01"),
    ("calltaker", "刘话务", Role.CALL_TAKER, "H9901"),
    ("monitor", "周质检", Role.MONITOR, "H9901"),
    ("hallmgr", "孙主管", Role.HALL_MANAGER, "H9901"),
    ("evaluator", "第三方评估", Role.EVALUATOR, "R9901"),
    ("auditor", "钱审计", Role.AUDITOR, "R99"),
    ("lj_director", "吴主任", Role.CENTRE_DIRECTOR, "C990102"),
    # The hotline's handling units answer their tickets through their own logins.
    ("hu_zj", "郑科长", Role.DEPARTMENT_HEAD, "HU-ZJ"),
    ("hu_sj", "冯科长", Role.DEPARTMENT_HEAD, "HU-SJ"),
]

# (code, name, kind, owner code, channels, limit override)
MATTERS: list[tuple[str, str, str, str, list[str], str | None]] = [
    ("M-QYKB", "企业开办登记", "committed", "W-01", ["window", "online"], "1 wd"),
    ("M-SBCX", "社保缴费证明打印", "immediate", "W-02", ["window", "online"], None),
    ("M-YBBX", "医保异地就医备案", "immediate", "W-02", ["window", "online", "home_visit"], None),
    ("M-BDCDJ", "不动产转移登记", "committed", "W-03", ["window"], "5 wd"),
    ("M-JSXK", "建设工程规划许可", "joint", "D-SP", ["window", "online"], None),
    ("M-LJ-HJ", "户籍证明开具", "immediate", "W-LJ-01", ["window", "home_visit"], "30 wmin"),
]


WINDOW_STAFF_NAMES = [
    "张敏",
    "黄磊",
    "周婷",
    "吴强",
    "徐丽",
    "孙浩",
    "马莉",
    "朱军",
    "胡静",
    "郭涛",
    "何芳",
    "高鹏",
    "林雪",
    "罗斌",
    "郑洁",
]


# People serving at each window, and how often each lets a time limit slip relative to the usual
# rate (sim.cases.SimWindow.slippage): the demo centre has a model window, a struggling one and
# those in between, so its assessment has something to rank.
WINDOW_SEATS = {"W-01": 3, "W-02": 3, "W-03": 2, "W-04": 3, "W-LJ-01": 3}
WINDOW_SLIPPAGE = {"W-01": 0.15, "W-02": 0.5, "W-03": 2.0, "W-04": 0.8, "W-LJ-01": 0.3}


def load_demo() -> list[tuple[str, str]]:
    user_model = get_user_model()
    with transaction.atomic():
        admin, created = user_model.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True, "first_name": "管理员"}
        )
        if created:
            admin.set_password(DEMO_PASSWORD)
            admin.save()
        units = {u.code: u for u in Unit.objects.filter(code__in=[c for c, *_ in UNITS])}
        for code, name, kind, parent, region_code, department_kind in UNITS:
            if code not in units:
                units[code] = unit_create(
                    actor=admin,
                    code=code,
                    name=name,
                    kind=kind,
                    parent=units[parent] if parent else None,
                    region_code=region_code,
                    department_kind=department_kind,
                )
        if not OfficeHours.objects.filter(unit=units["C990102"]).exists():
            # The district centre opens earlier and breaks longer: its deadlines follow its own hours.
            office_hours_set(actor=admin, unit=units["C990102"], sessions="08:30-12:00,14:00-17:30")
        logins = [("admin", "系统管理员")]
        for username, full_name, role, unit_code in USERS:
            user, created = user_model.objects.get_or_create(
                username=username, defaults={"first_name": full_name}
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            role_grant(actor=admin, user=user, role=role, unit=units[unit_code])
            if isinstance(user, AbstractUser) and not Staff.objects.filter(user=user).exists():
                staff_create(
                    actor=admin,
                    unit=units[unit_code],
                    name=full_name,
                    employee_no=f"QC{1000 + len(logins)}",
                    user=user,
                )
            logins.append((username, f"{Role(role).label} · {units[unit_code].name}"))
        # Two to three people serve at each window (the simulator's queues need them).
        taken = set(Staff.objects.values_list("employee_no", flat=True))
        for index, (code, *_rest) in enumerate(u for u in UNITS if u[2] == "window"):
            for seat in range(WINDOW_SEATS.get(code, 2)):
                employee_no = f"{code}-{seat + 1:02d}"
                if employee_no not in taken:
                    name = WINDOW_STAFF_NAMES[(index * 3 + seat) % len(WINDOW_STAFF_NAMES)]
                    staff_create(
                        actor=admin,
                        unit=units[code],
                        name=name,
                        employee_no=employee_no,
                        devices=f"PC-{employee_no}",  # their seat's terminal, as the hall system names it
                    )
        existing = set(Matter.objects.values_list("code", flat=True))
        for code, name, kind, owner, channels, limit in MATTERS:
            if code not in existing:
                matter_create(
                    actor=admin,
                    code=code,
                    name=name,
                    kind=kind,
                    owner=units[owner],
                    channels=channels,
                    limit=limit,
                )
    from kaoping.reviews.demo import load_demo_reviews

    load_demo_reviews(actor=admin, centre=units["C9901"])
    return logins
