"""An overdue ticket still open is shown as such: on the hall manager's figures page, in the figures
API, and among the records behind the overdue line ("no reply, due …")."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils.timezone import localtime

from kaoping.assessment.services import (
    assessment_publish,
    assessment_run,
    manual_code_define,
    schemes_load_defaults,
)
from kaoping.hotline.models import Ticket
from tests.hotline.conftest import Hotline, at
from tests.hotline.test_overdue_and_first_revisit import _ingest, _open, _reply_and_close


def test_an_open_overdue_ticket_on_the_page_the_api_and_the_records(hot: Hotline, time_machine: Any) -> None:
    _ingest([*_open("T1"), *_open("T2"), *_reply_and_close("T2", "03-03T10:00", "03-04")])
    time_machine.move_to(at("2026-04-02T09:00"), tick=False)
    hallmgr = Client()
    hallmgr.force_login(hot.hallmgr)  # type: ignore[arg-type]
    page = hallmgr.get(reverse("hotline:figures"), {"month": "2026-03", "unit": str(hot.centre.pk)})
    stat = page.content.decode().split('data-testid="overdue"')[1].split("</div>")[0]
    assert "超期工单" in stat and "<strong>1</strong>" in stat
    api = hallmgr.get("/api/hotline/figures?unit=H1&start=2026-03-01&end=2026-03-31").json()
    assert (api["tickets_closed"], api["tickets_overdue"]) == (1, 1)

    schemes_load_defaults(actor=hot.org.admin)
    for code in ("meeting_absences", "archive_deficiencies", "publicity_shortfalls"):
        manual_code_define(actor=hot.org.admin, code=code, name=code, low=0, high=1000)
    run = assessment_run(actor="test", scheme_code="hotline_unit", period="2026-03")
    assessment_publish(actor=hot.org.admin, assessment=run)
    admin = Client()
    admin.force_login(hot.org.admin)  # type: ignore[arg-type]
    table = admin.get(f"/assessment/{run.pk}/u/HU-A/overdue/").content.decode()
    table = table.split('data-testid="records"')[1]
    due = Ticket.objects.get(external_id="T1").due_at
    assert due is not None
    assert f"未答复，时限 {localtime(due):%m-%d %H:%M}" in table
    assert table.count('href="/hotline/tickets/') == 1  # T2 replied in time: not behind the line
