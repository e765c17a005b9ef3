"""Pages of target tables and tasks through the Django test client: the actions each role is offered and
may take, the drafting form listing every problem, 404 outside the scope, English, the admin."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client

from kaoping.core import clock
from kaoping.targets.models import AnalysisMeeting, AssessmentTask, TargetTable, TaskUnit
from kaoping.targets.services import target_table_approve, target_table_sign, task_close
from tests.factories import OrgTree


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def rows_post(*rows: tuple[str, str, str, str, str], **extra: str) -> dict[str, str]:
    data = dict(extra)
    for n, (target, indicator, standard, weight, metric) in enumerate(rows, start=1):
        data |= {
            f"target_{n}": target,
            f"indicator_{n}": indicator,
            f"standard_{n}": standard,
            f"weight_{n}": weight,
            f"metric_{n}": metric,
        }
    # A blank row, as the form always offers: it is not a row.
    data |= {"target_9": "", "indicator_9": "", "standard_9": "", "weight_9": "", "metric_9": ""}
    return data


GOOD = [
    ("提升满意度", "满意率", "≥98%", "60", "satisfaction_rate"),
    ("提高效率", "按时办结率", "100%", "40", ""),
]


def test_a_head_drafts_through_the_form_and_signs_and_the_director_approves(org: OrgTree):
    head = client_for(org.head_a)
    listing = head.get("/targets/").content.decode()
    assert "起草目标责任表" in listing and f'<option value="{org.dept_a.pk}">甲科</option>' in listing
    assert "乙科" not in listing  # not their department
    form = head.get(f"/targets/new/?unit={org.dept_a.pk}&year=2026")
    assert form.status_code == 200 and 'name="indicator_1"' in form.content.decode()
    response = head.post("/targets/new/", rows_post(*GOOD, unit=str(org.dept_a.pk), year="2026"))
    table = TargetTable.objects.get()
    assert response.status_code == 302 and response.headers["Location"] == f"/targets/{table.pk}/"
    assert table.rows.count() == 2 and table.year == 2026
    page = head.get(f"/targets/{table.pk}/").content.decode()
    assert "满意率" in page and "签字确认" in page and "审批通过" not in page and "修改目标责任表" in page
    head.post(f"/targets/{table.pk}/action/", {"action": "sign"})
    assert TargetTable.objects.get().state == "signed"
    director = client_for(org.director)
    page = director.get(f"/targets/{table.pk}/").content.decode()
    assert "审批通过" in page and "退回修改" in page and "签字确认" not in page
    director.post(f"/targets/{table.pk}/action/", {"action": "return", "reason": "满意率目标偏低"})
    page = head.get(f"/targets/{table.pk}/").content.decode()
    assert "满意率目标偏低" in page and "已退回" in page
    head.post(f"/targets/{table.pk}/action/", {"action": "sign"})
    director.post(f"/targets/{table.pk}/action/", {"action": "approve"})
    assert TargetTable.objects.get().state == "approved"
    page = head.get(f"/targets/{table.pk}/").content.decode()
    assert "另立新版本" in page and "修改目标责任表" not in page
    revised = head.post(f"/targets/{table.pk}/action/", {"action": "revise"})
    new = TargetTable.objects.get(version=2)
    assert revised.headers["Location"] == f"/targets/{new.pk}/edit/"


def test_the_form_lists_every_problem_and_keeps_what_was_entered(org: OrgTree):
    head = client_for(org.head_a)
    bad = [("", "满意率", "≥98%", "60", ""), ("提高效率", "满意率", "100%", "abc", "")]
    response = head.post("/targets/new/", rows_post(*bad, unit=str(org.dept_a.pk), year="2026"))
    html = response.content.decode()
    assert response.status_code == 400
    assert "第 1 行：目标不能为空" in html and "第 2 行：指标“满意率”与第 1 行重复" in html
    assert "第 2 行：权重 &#x27;abc&#x27; 不是数字" in html
    assert 'value="abc"' in html and 'value="≥98%"' in html  # nothing typed is lost
    assert not TargetTable.objects.exists()


def test_a_signed_table_cannot_be_edited_through_the_form(org: OrgTree, table: TargetTable):
    target_table_sign(actor=org.head_a, table=table)
    head = client_for(org.head_a)
    response = head.post(f"/targets/{table.pk}/edit/", rows_post(*GOOD))
    assert response.status_code == 400 and "signed table waits for the director" in response.content.decode()
    assert table.rows.count() == 3


def test_outside_the_scope_tables_and_tasks_do_not_exist(
    org: OrgTree, table: TargetTable, task: AssessmentTask
):
    other = client_for(org.head_b)
    for url in (f"/targets/{table.pk}/", f"/targets/{table.pk}/edit/", f"/targets/new/?unit={org.dept_a.pk}"):
        assert other.get(url).status_code == 404
    assert other.post(f"/targets/{table.pk}/action/", {"action": "sign"}).status_code == 404
    assert "甲科" not in other.get("/targets/").content.decode()
    staff = client_for(org.staff_a)  # window staff of 甲窗口: sees the task, not the centre's other window
    page = staff.get(f"/targets/tasks/{task.pk}/").content.decode()
    assert 'data-unit="WA"' in page and 'data-unit="WB"' not in page and "报送</button>" not in page
    outsider = client_for(org.head_b)
    assert outsider.post(f"/targets/tasks/{task.pk}/submit/", {"unit": org.window_a.pk}).status_code == 404
    assert not TaskUnit.objects.filter(submitted_at__isnull=False).exists()


def test_a_director_issues_a_task_and_departments_submit(org: OrgTree, calendar_db: Any):
    director = client_for(org.director)
    assert "下达考核任务" in director.get("/targets/tasks/").content.decode()
    form = director.get("/targets/tasks/new/").content.decode()
    assert 'name="data_due_at"' in form and "甲窗口" in form
    now = clock.now()
    fields = {
        "centre": str(org.centre.pk),
        "scheme_code": "window",
        "period": "2026-Q3",  # a window scheme is monthly
        "units": [str(org.window_a.pk), str(org.window_b.pk)],
        "data_due_at": (now + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        "results_due_at": (now + dt.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M"),
    }
    refused = director.post("/targets/tasks/new/", fields)
    assert refused.status_code == 400 and "is a quarter" in refused.content.decode()
    assert 'value="2026-Q3"' in refused.content.decode()
    response = director.post("/targets/tasks/new/", fields | {"period": "2026-06"})
    task = AssessmentTask.objects.get()
    assert response.status_code == 302 and task.units.count() == 2
    assert task.data_due_at.tzinfo is not None
    assert client_for(org.head_a).get("/targets/tasks/new/").status_code == 404  # heads do not issue
    head = client_for(org.head_a)
    page = head.get(f"/targets/tasks/{task.pk}/").content.decode()
    assert "未报送" in page and "关闭任务" not in page
    head.post(f"/targets/tasks/{task.pk}/submit/", {"unit": org.window_a.pk, "note": "已录入"})
    assert TaskUnit.objects.get(unit=org.window_a).submitted_by_id == org.head_a.pk
    page = director.get(f"/targets/tasks/{task.pk}/").content.decode()
    assert "按时" in page and "已录入" in page and "关闭任务" in page
    listing = director.get("/targets/tasks/").content.decode()
    assert "1 / 2" in listing
    director.post(f"/targets/tasks/{task.pk}/close/")
    assert AssessmentTask.objects.get().state == "closed"
    page = director.get(f"/targets/tasks/{task.pk}/").content.decode()
    assert "记录分析会" in page
    director.post(
        f"/targets/tasks/{task.pk}/meeting/",
        {
            "held_on": clock.today().isoformat(),
            "summary": "等候时长偏长",
            f"measure_{org.window_a.pk}": "增开午间窗口",
            f"owner_{org.window_a.pk}": "李科长",
        },
    )
    meeting = AnalysisMeeting.objects.get()
    assert meeting.measures.get().measure == "增开午间窗口"
    assert "增开午间窗口" in director.get(f"/targets/tasks/{task.pk}/").content.decode()


def test_the_task_page_shows_a_late_submission(org: OrgTree, task: AssessmentTask, time_machine: Any):
    time_machine.move_to(task.data_due_at + dt.timedelta(hours=1))
    head = client_for(org.head_a)
    response = head.post(f"/targets/tasks/{task.pk}/submit/", {"unit": org.window_a.pk}, follow=True)
    html = response.content.decode()
    assert "记为逾期" in html and "逾期</span>" in html
    task_close(actor=org.director, task=task)


def test_the_pages_read_in_english(org: OrgTree, table: TargetTable, english: Any):
    target_table_sign(actor=org.head_a, table=table)
    target_table_approve(actor=org.director, table=table)
    head = client_for(org.head_a)
    head.post("/i18n/setlang/", {"language": "en"})
    page = head.get(f"/targets/{table.pk}/").content.decode()
    assert "Target responsibility table" in page and "Approved" in page and "New version" in page
    assert "Targets and tasks" in head.get("/targets/").content.decode()


def test_the_admin_shows_tables_read_only(org: OrgTree, table: TargetTable):
    admin = client_for(org.admin)
    assert admin.get("/admin/targets/targettable/").status_code == 200
    page = admin.get(f"/admin/targets/targettable/{table.pk}/change/")
    assert page.status_code == 200 and "满意率" in page.content.decode()
    assert admin.get("/admin/targets/targettable/add/").status_code == 403


def test_only_the_head_gets_the_drafting_and_editing_forms(org: OrgTree, table: TargetTable):
    director = client_for(org.director)
    assert director.get(f"/targets/new/?unit={org.dept_a.pk}&year=2027").status_code == 403
    response = director.get(f"/targets/{table.pk}/edit/", follow=True)
    assert response.redirect_chain[-1][0] == f"/targets/{table.pk}/"
    assert "此目标责任表当前不能由您修改" in response.content.decode()


def test_list_pages_take_a_fixed_number_of_queries(
    org: OrgTree, task: AssessmentTask, django_assert_max_num_queries: Any
):
    from kaoping.targets.services import target_table_create
    from tests.targets.conftest import ROWS

    for year in range(2020, 2026):
        target_table_create(actor=org.admin, unit=org.dept_b, year=year, rows=ROWS)
    client = client_for(org.director)
    with django_assert_max_num_queries(12):
        assert client.get("/targets/").status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get("/targets/tasks/").status_code == 200
    with django_assert_max_num_queries(16):
        assert client.get(f"/targets/tasks/{task.pk}/").status_code == 200
