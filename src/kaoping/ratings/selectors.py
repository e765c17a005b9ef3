"""Reads of ratings, scoped to the user's units, with personal data masked unless the role needs it."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from kaoping.core import clock
from kaoping.core.errors import ErrorCode, KaopingError
from kaoping.core.masking import mask_name, mask_phone, mask_text
from kaoping.core.permissions import User, can_access_unit, sees_personal_data, unit_scope_q
from kaoping.followup.models import Rectification
from kaoping.followup.workflow import FollowUpFacts, Measures, Triage, Verdict, measures
from kaoping.org.models import Staff, Unit
from kaoping.ratings.codes import CHANNEL_LABELS, LEVEL_LABELS, Channel, Level
from kaoping.ratings.figures import LevelCounts
from kaoping.ratings.models import FlagStatus, Rating, RatingFlag

TEXTS_SHOWN = 50
KEYWORD_TEXTS = 5000


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive

    @property
    def start_at(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time(), tzinfo=clock.local_zone())

    @property
    def end_at(self) -> dt.datetime:
        """The first instant after the period."""
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=clock.local_zone())


def parse_period(start: str | None, end: str | None) -> Period:
    """A period from two dates (YYYY-MM-DD); missing ones default to this month so far."""
    today = clock.today()
    first = clock.parse_date(start, what="from") if start else today.replace(day=1)
    last = clock.parse_date(end, what="to") if end else today
    if last < first:
        raise KaopingError(ErrorCode.INVALID, what="period", where="to", why=f"{last} is before {first}")
    if (last - first).days > 366 * 5:
        raise KaopingError(ErrorCode.OUT_OF_RANGE, what="period", where="from", why="at most five years")
    return Period(first, last)


def visible_unit(user: User, unit_id: int | str | None) -> Unit:
    """The unit asked for if the user may see it (404 otherwise), or the user's top unit."""
    if unit_id in (None, ""):
        unit = Unit.objects.filter(unit_scope_q(user)).order_by("depth", "path").first()
        if unit is None:
            raise Http404("no unit in your scope")
        return unit
    if unit_id is None or not str(unit_id).isdigit():
        raise KaopingError(ErrorCode.INVALID, what="unit", where="unit", why=f"{unit_id!r} is not a unit id")
    unit = Unit.objects.filter(pk=int(unit_id)).first()
    if unit is None or not can_access_unit(user, unit):
        raise Http404("unit not found")
    return unit


def ratings_in(unit: Unit, period: Period, *, include_defaulted: bool = True) -> QuerySet[Rating]:
    """The ratings that count for a unit's subtree in a period (confirmed gaming excluded)."""
    ratings = Rating.objects.filter(
        unit__path__startswith=unit.path,
        rated_at__gte=period.start_at,
        rated_at__lt=period.end_at,
        excluded=False,
    )
    return ratings if include_defaulted else ratings.filter(defaulted=False)


_LEVEL_COUNTS = {f"l{score}": Count("pk", filter=Q(level=score)) for score in (1, 2, 3, 4, 5)}


def _counts(row: dict[str, int]) -> LevelCounts:
    return LevelCounts.from_scores({score: row[f"l{score}"] for score in (1, 2, 3, 4, 5)})


@dataclass(frozen=True)
class FigureRow:
    key: int | None
    name: str
    counts: LevelCounts


@dataclass(frozen=True)
class RatingText:
    pk: int
    rated_at: dt.datetime
    level: str
    bad: bool
    channel: str
    unit: str
    text: str
    tags: list[str]
    rater: str
    flagged: bool


@dataclass(frozen=True)
class Figures:
    unit: Unit
    period: Period
    totals: LevelCounts
    defaulted: int
    rows: list[FigureRow]
    follow_up: Measures
    follow_up_states: dict[str, int]
    texts: list[RatingText]
    keywords: list[tuple[str, int]]
    pending_flags: int


def rating_figures(
    *, user: User, unit: Unit, period: Period, by: str = "unit", include_defaulted: bool = True
) -> Figures:
    ratings = ratings_in(unit, period, include_defaulted=include_defaulted)
    totals = _counts(ratings.aggregate(**_LEVEL_COUNTS))
    defaulted = ratings.filter(defaulted=True).count() if include_defaulted else 0
    rows = _rows(ratings, by)
    rects = Rectification.objects.filter(
        unit__path__startswith=unit.path,
        rating__rated_at__gte=period.start_at,
        rating__rated_at__lt=period.end_at,
    )
    facts = [
        FollowUpFacts(
            real_name=real_name,
            revisited=revisited_at is not None,
            revisited_on_time=revisited_at is not None and due is not None and revisited_at <= due,
            triage=Triage(triage) if triage else None,
            rectified=rectified_at is not None,
            verdict=Verdict(verdict) if verdict else None,
        )
        for real_name, revisited_at, due, triage, rectified_at, verdict in rects.values_list(
            "real_name", "revisited_at", "revisit_due_at", "triage", "rectified_at", "verdict"
        )
    ]
    states = dict(rects.values_list("state").annotate(n=Count("pk")).values_list("state", "n"))
    personal = sees_personal_data(user, unit)
    texts = _texts(ratings.exclude(text=""), personal)
    return Figures(
        unit=unit,
        period=period,
        totals=totals,
        defaulted=defaulted,
        rows=rows,
        follow_up=measures(facts),
        follow_up_states=states,
        texts=texts,
        keywords=keywords(
            [
                t
                for t in ratings.exclude(text="")
                .order_by("-rated_at")
                .values_list("text", flat=True)[:KEYWORD_TEXTS]
            ]
        ),
        pending_flags=RatingFlag.objects.filter(
            unit__path__startswith=unit.path, status=FlagStatus.PENDING
        ).count(),
    )


def _rows(ratings: QuerySet[Rating], by: str) -> list[FigureRow]:
    if by == "staff":
        grouped = ratings.exclude(staff=None).values("staff_id").annotate(**_LEVEL_COUNTS)
        names = dict(Staff.objects.filter(pk__in=[r["staff_id"] for r in grouped]).values_list("pk", "name"))
        rows = [FigureRow(r["staff_id"], names.get(r["staff_id"], "?"), _counts(r)) for r in grouped]
    elif by == "unit":
        grouped = ratings.values("unit_id").annotate(**_LEVEL_COUNTS)
        names = dict(Unit.objects.filter(pk__in=[r["unit_id"] for r in grouped]).values_list("pk", "name"))
        rows = [FigureRow(r["unit_id"], names.get(r["unit_id"], "?"), _counts(r)) for r in grouped]
    else:
        raise KaopingError(
            ErrorCode.INVALID, what="figures", where="by", why=f"{by!r} is not 'unit' or 'staff'"
        )
    return sorted(rows, key=lambda r: (-(r.counts.total), r.name))


def _texts(ratings: QuerySet[Rating], personal: bool) -> list[RatingText]:
    rows = (
        ratings.select_related("unit")
        .annotate(n_flags=Count("flags", filter=Q(flags__status=FlagStatus.PENDING)))
        .order_by("-rated_at", "-pk")[:TEXTS_SHOWN]
    )
    result = []
    for r in rows:
        rater = ""
        if r.real_name:
            name = r.rater_name if personal else mask_name(r.rater_name)
            phone = r.rater_phone if personal else mask_phone(r.rater_phone) if r.rater_phone else ""
            rater = " ".join(part for part in (name, phone) if part)
        result.append(
            RatingText(
                pk=r.pk,
                rated_at=r.rated_at,
                level=LEVEL_LABELS[Level(r.level)],
                bad=r.bad,
                channel=CHANNEL_LABELS[Channel(r.channel)],
                unit=r.unit.name,
                text=r.text if personal else mask_text(r.text),
                tags=list(r.tags),
                rater=rater or "匿名",
                flagged=bool(getattr(r, "n_flags", 0)),
            )
        )
    return result


_jieba_ready = False


def keywords(texts: Sequence[str], top: int = 15) -> list[tuple[str, int]]:
    """The words that characterise the texts (jieba TF-IDF), each with the number of texts holding it."""
    global _jieba_ready
    if not texts:
        return []
    import jieba
    import jieba.analyse

    if not _jieba_ready:
        jieba.setLogLevel(logging.WARNING)  # it announces its dictionary on stderr otherwise
        _jieba_ready = True
    joined = "\n".join(mask_text(t) for t in texts)
    words = [w for w in jieba.analyse.extract_tags(joined, topK=top * 2) if not any(c.isdigit() for c in w)]
    counts = Counter({w: sum(w in t for t in texts) for w in words})
    return [(w, n) for w, n in counts.most_common(top) if n]
