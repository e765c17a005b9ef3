"""The Excel export of a run: the result table first, a detail sheet per unit, numbers as numbers."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook

from kaoping.assessment.export import SUMMARY_TITLE, assessment_workbook, sheet_title
from kaoping.assessment.models import Assessment
from kaoping.assessment.rollups import rollups_rebuild
from kaoping.assessment.schemes import Grade
from kaoping.assessment.services import assessment_publish, assessment_run, exemption_approve
from tests.assessment.conftest import World, make_rating


def _run(world: World) -> Assessment:
    """Window A: 95 of 100 ratings satisfied (−6 points on satisfaction); window B: all satisfied."""
    for n in range(100):
        make_rating(world.org.window_a, f"2026-03-{2 + n % 20:02d}T10:00", 5 if n >= 5 else 1)
    for n in range(50):
        make_rating(world.org.window_b, f"2026-03-{2 + n % 20:02d}T11:00", 5)
    rollups_rebuild(days=None)
    return assessment_run(actor=world.org.director, scheme_code="window", period="2026-03")


def numeric(value: Any) -> bool:
    """A number cell (openpyxl reads a whole float back as an int), not text."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _rows(sheet: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def test_the_summary_sheet_lists_every_unit_with_numbers_as_numbers(world: World):
    run = _run(world)
    results = list(run.results.select_related("unit").order_by("rank", "unit__code"))
    book = load_workbook(io.BytesIO(assessment_workbook(run, results)))
    assert book.sheetnames == [SUMMARY_TITLE, *(r.unit.code for r in results)]
    rows = _rows(book[SUMMARY_TITLE])
    title, caption, header = rows[0][0], rows[1][0], rows[2]
    assert run.scheme.name in title and f"v{run.scheme.version}" in title and SUMMARY_TITLE in title
    assert "2026-03" in caption and f"#{run.pk}" in caption and "已计算" in caption and "计算时间" in caption
    assert header == (
        "排名",
        "单位编码",
        "单位名称",
        "得分",
        "等次",
        "百分位",
        "一票否决",
        "数据完整",
        "说明",
    )
    body = {row[1]: row for row in rows[3:]}
    assert list(body) == [r.unit.code for r in results]
    for result in results:
        row = body[result.unit.code]
        assert row[2] == result.unit.name
        assert numeric(row[3]) and row[3] == float(result.total)
        assert row[4] == (Grade(result.grade).label if result.grade else "不评定")
        assert row[6] == ("是" if result.vetoed else "否") and row[7] == ("是" if result.complete else "否")
        assert row[8] == result.explanation
    assert body["WB"][3] > body["WA"][3]
    summary = book[SUMMARY_TITLE]
    assert summary.cell(row=4, column=4).number_format == "0.00"


def test_a_units_detail_sheet_lists_every_line_with_its_deductions_and_exemptions(world: World):
    run = _run(world)
    wa = run.results.select_related("unit").get(unit__code="WA")
    book = load_workbook(io.BytesIO(assessment_workbook(run, [wa])))
    assert book.sheetnames == [SUMMARY_TITLE, "WA"]
    sheet = book["WA"]
    rows = _rows(sheet)
    assert "甲窗口" in rows[0][0] and "WA" in rows[0][0]
    assert rows[2] == (
        "指标",
        "类别",
        "指标值",
        "目标值",
        "满分",
        "得分",
        "扣分",
        "扣分原因",
        "免责",
        "说明",
        "数据依据",
    )
    lines = rows[3:]
    assert len(lines) == len(wa.lines)
    satisfaction = next(row for row in lines if "（satisfaction）" in row[0])
    stored = next(line for line in wa.lines if line["indicator"] == "satisfaction")
    assert satisfaction[1] == "结果性指标" or satisfaction[1] == "过程性指标"
    assert (
        numeric(satisfaction[2]) and satisfaction[2] == 95.0 and numeric(satisfaction[3])
    )  # value and target
    assert satisfaction[4] == float(stored["max_points"]) and satisfaction[6] == 6.0
    assert satisfaction[5] == float(stored["points"])
    assert stored["deductions"][0]["reason"] in satisfaction[7] and "扣 6 分" in satisfaction[7]
    assert satisfaction[8] is None  # nothing exempted yet
    assert satisfaction[9] == stored["explanation"] and satisfaction[10] == stored["basis"]
    row = 4 + lines.index(satisfaction)
    assert sheet.cell(row=row, column=7).number_format == "0.00"

    # An exemption shows with its approver and reason in the next run's sheet.
    exemption_approve(
        actor=world.org.director,
        result=wa,
        indicator="satisfaction",
        deduction_key="shortfall",
        reason="评价器故障",
    )
    later = assessment_run(actor=world.org.director, scheme_code="window", period="2026-03")
    assessment_publish(actor=world.org.director, assessment=later)
    later.refresh_from_db()
    book = load_workbook(io.BytesIO(assessment_workbook(later, later.results.select_related("unit"))))
    assert "已公布" in _rows(book[SUMMARY_TITLE])[1][0]
    exempted = next(row for row in _rows(book["WA"])[3:] if "（satisfaction）" in row[0])
    assert exempted[6] == 0.0 and exempted[7] is None
    assert "评价器故障" in exempted[8] and world.org.director.username in exempted[8]


def test_sheet_titles_are_safe_and_unique():
    taken = {SUMMARY_TITLE.lower()}
    assert sheet_title("WA", taken) == "WA"
    assert sheet_title("wa", taken) == "wa~2"  # Excel compares titles ignoring case
    assert sheet_title("A/B:C*D?[E]", taken) == "A_B_C_D__E_"
    long = sheet_title("X" * 40, taken)
    assert long == "X" * 31
    assert sheet_title("X" * 40, taken) == "X" * 29 + "~2"
    assert sheet_title("'", taken) == "unit"
    assert sheet_title(SUMMARY_TITLE, taken) == f"{SUMMARY_TITLE}~2"
    assert sheet_title("History", taken) == "History~2"
