"""The Excel export of a stored run: the result table (考核结果公示表) first, then one detail sheet per
unit listing every indicator line with its value, target, points, deductions, exemptions and basis.

Amounts are stored as decimal strings; they are written as numbers (two decimal places shown), so the
sheet can be summed and sorted. The workbook is written in openpyxl's write-only mode (streamed, so
2,000 detail sheets stay cheap)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from kaoping.assessment.models import Assessment, AssessmentResult
from kaoping.assessment.schemes import Category, Grade

SUMMARY_TITLE = "考核结果公示表"
SUMMARY_HEADER = ("排名", "单位编码", "单位名称", "得分", "等次", "百分位", "一票否决", "数据完整", "说明")
SUMMARY_WIDTHS = (8, 14, 28, 10, 10, 10, 10, 10, 60)
DETAIL_HEADER = (
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
DETAIL_WIDTHS = (24, 12, 10, 10, 8, 8, 8, 40, 40, 60, 40)
NUMBER_FORMAT = "0.00"
SHEET_TITLE_MAX = 31  # Excel's limit
_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_WRAP = Alignment(wrap_text=True, vertical="top")


def _number(value: Any) -> float | None:
    """A stored decimal string (or number) as a float; None for nothing or for text that is no number."""
    if value is None or value == "":
        return None
    try:
        return float(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None


def _yes_no(flag: bool) -> str:
    return "是" if flag else "否"


class _Sheet:
    """A write-only sheet with the cell helpers the export needs."""

    def __init__(self, sheet: WriteOnlyWorksheet, widths: Iterable[int]) -> None:
        self.sheet = sheet
        # Column widths must be set before the first row is written (write-only mode); the stubs do
        # not declare the attribute the write-only sheet borrows from the ordinary one.
        dimensions = cast(Any, sheet).column_dimensions
        for index, width in enumerate(widths, start=1):
            dimensions[get_column_letter(index)].width = width

    def cell(self, value: Any, *, font: Font | None = None, wrap: bool = False) -> Cell:
        cell = WriteOnlyCell(self.sheet, value=value)
        if font is not None:
            cell.font = font
        if wrap:
            cell.alignment = _WRAP
        return cell

    def number(self, value: Any) -> Cell | str:
        """A decimal string as a number cell shown with two places; text that is no number stays text."""
        found = _number(value)
        if found is None:
            return "" if value is None else str(value)
        cell = WriteOnlyCell(self.sheet, value=found)
        cell.number_format = NUMBER_FORMAT
        return cell

    def title(self, text: str) -> None:
        self.sheet.append([self.cell(text, font=_TITLE)])

    def header(self, names: Iterable[str]) -> None:
        self.sheet.append([self.cell(name, font=_BOLD) for name in names])


def sheet_title(code: str, taken: set[str]) -> str:
    """A unit code made a valid, unique sheet title: Excel's forbidden characters replaced, at most 31
    characters, no leading or trailing apostrophe, and unique ignoring case (as Excel compares them);
    a clash gets ``~2``, ``~3`` … ``taken`` holds the lower-cased titles used so far and is updated."""
    base = _FORBIDDEN.sub("_", code).strip().strip("'") or "unit"
    base = base[:SHEET_TITLE_MAX]
    title, n = base, 1
    while title.lower() in taken or title.lower() == "history":  # "History" is reserved by Excel
        n += 1
        suffix = f"~{n}"
        title = base[: SHEET_TITLE_MAX - len(suffix)] + suffix
    taken.add(title.lower())
    return title


def _deduction_reasons(line: Mapping[str, Any]) -> str:
    # Each reason already names its amount ("…，扣 6 分").
    return "；".join(str(d["reason"]) for d in line.get("deductions") or [])


def _exemptions(line: Mapping[str, Any]) -> str:
    return "；".join(
        f"{e['reason']}（恢复 {e['restored']} 分，批准人 {e['approver']}：{e['exemption_reason']}）"
        for e in line.get("exempted") or []
    )


def _category(value: str) -> str:
    try:
        return Category(value).label
    except ValueError:
        return value


def _grade(value: str) -> str:
    return Grade(value).label if value else ""


def _run_caption(assessment: Assessment) -> str:
    computed = timezone.localtime(assessment.computed_at)
    parts = [
        f"考核期 {assessment.period}（{assessment.period_start} 至 {assessment.period_end}）",
        f"考核 #{assessment.pk}",
        f"状态 {assessment.get_status_display()}",
        f"计算时间 {computed:%Y-%m-%d %H:%M}",
    ]
    if assessment.published_at is not None:
        parts.append(f"公布时间 {timezone.localtime(assessment.published_at):%Y-%m-%d %H:%M}")
    return " · ".join(parts)


def _summary(sheet: _Sheet, assessment: Assessment, results: list[AssessmentResult]) -> None:
    scheme = assessment.scheme
    sheet.title(f"{scheme.name}（{scheme.code} v{scheme.version}）{SUMMARY_TITLE}")
    sheet.sheet.append([_run_caption(assessment)])
    sheet.header(SUMMARY_HEADER)
    for r in results:
        sheet.sheet.append(
            [
                r.rank if r.rank is not None else "",
                r.unit.code,
                r.unit.name,
                sheet.number(r.total),
                _grade(r.grade) or ("" if r.assessed else "不评定"),
                sheet.number(r.percentile),
                _yes_no(r.vetoed),
                _yes_no(r.complete),
                sheet.cell(r.explanation, wrap=True),
            ]
        )


def _detail(sheet: _Sheet, assessment: Assessment, result: AssessmentResult) -> None:
    unit = result.unit
    sheet.title(f"{unit.name}（{unit.code}）指标明细")
    summary = [
        f"得分 {result.total}",
        f"等次 {_grade(result.grade) or '—'}",
        f"排名 {result.rank}/{result.ranked_count}" if result.rank is not None else "未排名",
        f"考核期 {assessment.period}",
        f"考核 #{assessment.pk}",
    ]
    sheet.sheet.append([" · ".join(summary)])
    sheet.header(DETAIL_HEADER)
    for line in result.lines:
        value: Any = sheet.number(line.get("value"))
        if value == "" and line.get("level"):
            value = str(line["level"])
        sheet.sheet.append(
            [
                f"{line.get('name', '')}（{line['indicator']}）",
                _category(str(line.get("category", ""))),
                value,
                sheet.number(line.get("target")),
                sheet.number(line.get("max_points")),
                sheet.number(line.get("points")),
                sheet.number(line.get("deducted")),
                sheet.cell(_deduction_reasons(line), wrap=True),
                sheet.cell(_exemptions(line), wrap=True),
                sheet.cell(str(line.get("explanation") or ""), wrap=True),
                sheet.cell(str(line.get("basis") or ""), wrap=True),
            ]
        )


def assessment_workbook(assessment: Assessment, results: Iterable[AssessmentResult]) -> bytes:
    """The run as an .xlsx file: the result table, then a detail sheet per unit (titled by its code).
    ``results`` are the results to show, in their order (the caller scopes them to the user)."""
    rows = list(results)
    book = Workbook(write_only=True)
    summary = _Sheet(book.create_sheet(SUMMARY_TITLE), SUMMARY_WIDTHS)
    summary.sheet.freeze_panes = "A4"
    _summary(summary, assessment, rows)
    taken = {SUMMARY_TITLE.lower()}
    for result in rows:
        detail = _Sheet(book.create_sheet(sheet_title(result.unit.code, taken)), DETAIL_WIDTHS)
        detail.sheet.freeze_panes = "B4"
        _detail(detail, assessment, result)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
