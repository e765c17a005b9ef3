"""Rating figures from level counts. Pure Python.

Definitions (as most provinces publish them):
- satisfaction rate (满意率): ratings of 基本满意 or better, over all ratings;
- good-rating rate (好评率): ratings of 满意 or better, over all ratings;
- bad ratings (差评): 不满意 and 非常不满意.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class LevelCounts:
    very_satisfied: int = 0
    satisfied: int = 0
    basic: int = 0
    dissatisfied: int = 0
    very_dissatisfied: int = 0

    @classmethod
    def from_scores(cls, counts: Mapping[int, int]) -> LevelCounts:
        """From {score: count}, score 5 = 非常满意 … 1 = 非常不满意."""
        return cls(*(int(counts.get(score, 0)) for score in (5, 4, 3, 2, 1)))

    @property
    def total(self) -> int:
        return self.very_satisfied + self.satisfied + self.basic + self.dissatisfied + self.very_dissatisfied

    @property
    def good(self) -> int:
        return self.very_satisfied + self.satisfied

    @property
    def bad(self) -> int:
        return self.dissatisfied + self.very_dissatisfied

    @property
    def satisfaction_rate(self) -> float | None:
        return (self.good + self.basic) / self.total if self.total else None

    @property
    def good_rate(self) -> float | None:
        return self.good / self.total if self.total else None
