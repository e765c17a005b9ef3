"""Pure helpers for accepting and dispatching tickets: the dispatch catalogue's suggestion and the
similarity of two ticket texts (for finding duplicates to merge, 并单). No Django."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


@dataclass(frozen=True)
class Rule:
    """One line of the dispatch catalogue: a category ("" for any) and keywords (none: any text)."""

    rule_id: int
    unit_id: int
    category: str
    keywords: tuple[str, ...]
    priority: int = 0


@dataclass(frozen=True)
class Suggestion:
    unit_id: int
    rule_id: int
    matched: tuple[str, ...]


def suggest_unit(rules: Iterable[Rule], *, category: str, content: str) -> Suggestion | None:
    """The best rule for this ticket: it must fit the category (or name none) and, when it lists
    keywords, find one in the content. More keywords found beat fewer, a named category beats any,
    then the higher priority, then the earlier rule."""
    best: tuple[tuple[int, int, int, int], Suggestion] | None = None
    for order, rule in enumerate(rules):
        if rule.category and rule.category != category:
            continue
        matched = tuple(k for k in rule.keywords if k and k in content)
        if rule.keywords and not matched:
            continue
        score = (len(matched), int(bool(rule.category)), rule.priority, -order)
        if best is None or score > best[0]:
            best = (score, Suggestion(rule.unit_id, rule.rule_id, matched))
    return best[1] if best else None


def parse_keywords(text: str) -> tuple[str, ...]:
    """Keywords as typed in the catalogue: separated by commas (either width), 、 or spaces."""
    return tuple(k for k in re.split(r"[,，、\s]+", text) if k)


def _bigrams(text: str) -> set[str]:
    cleaned = _NOISE.sub("", text.lower())
    if len(cleaned) < 2:
        return {cleaned} if cleaned else set()
    return {cleaned[i : i + 2] for i in range(len(cleaned) - 1)}


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the character bigrams (Chinese has no spaces to split words on), 0–1."""
    first, second = _bigrams(a), _bigrams(b)
    if not first or not second:
        return 0.0
    return len(first & second) / len(first | second)
