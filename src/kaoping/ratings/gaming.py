"""Detectors of gamed ratings (R4.10, R4.12). Pure Python: facts in, suspicions out.

A suspicion is only a flag for a person to review; nothing here drops or changes a rating. Times are
POSIX seconds so the detectors run over a million ratings in a few seconds.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kaoping.ratings.codes import PUBLIC_CHANNELS

TOP_LEVEL = 5  # 非常满意


@dataclass(frozen=True, slots=True)
class Facts:
    rating_id: int
    level: int
    channel: str
    rated_at: int  # POSIX seconds
    device: str = ""
    ip: str = ""
    phone: str = ""
    case_id: int | None = None
    handled_at: int | None = None  # when the case was handled (POSIX seconds)
    handler_devices: frozenset[str] = frozenset()  # the terminals of the staff member who handled it


@dataclass(frozen=True, slots=True)
class Suspicion:
    rating_id: int
    pattern: str  # one of ratings.models.FlagPattern
    detail: str


@dataclass(frozen=True)
class Thresholds:
    burst_count: int = 5
    burst_minutes: int = 10
    own_terminal_seconds: int = 60
    phone_cases: int = 5
    phone_days: int = 30


def bursts(facts: Iterable[Facts], *, count: int, minutes: int) -> list[Suspicion]:
    """``count`` or more top ratings from one device within ``minutes``: every rating of such a run."""
    by_device: dict[str, list[Facts]] = defaultdict(list)
    for f in facts:
        if f.device and f.level == TOP_LEVEL:
            by_device[f.device].append(f)
    span = minutes * 60
    found: list[Suspicion] = []
    for device, rows in by_device.items():
        if len(rows) < count:
            continue
        rows.sort(key=lambda f: f.rated_at)
        flagged: set[int] = set()
        for end in range(count - 1, len(rows)):
            start = end - count + 1
            if rows[end].rated_at - rows[start].rated_at <= span:
                flagged.update(range(start, end + 1))
        for index in sorted(flagged):
            detail = f"终端 {device} 在 {minutes} 分钟内给出不少于 {count} 条非常满意"
            found.append(Suspicion(rows[index].rating_id, "burst", detail))
    return found


def own_terminal(facts: Iterable[Facts], *, seconds: int) -> list[Suspicion]:
    """A rating on the handling staff member's own terminal within ``seconds`` of handling the case."""
    found = []
    for f in facts:
        if f.handled_at is None or not f.device or f.device not in f.handler_devices:
            continue
        gap = f.rated_at - f.handled_at
        if 0 <= gap <= seconds:
            detail = f"办结后 {gap} 秒在经办人终端 {f.device} 上评价"
            found.append(Suspicion(f.rating_id, "own_terminal", detail))
    return found


def phone_repeats(facts: Iterable[Facts], *, cases: int, days: int) -> list[Suspicion]:
    """One phone number rating ``cases`` or more different cases within ``days``."""
    by_phone: dict[str, list[tuple[int, int, int]]] = defaultdict(list)  # (rated at, case, rating)
    for f in facts:
        if f.phone and f.case_id is not None:
            by_phone[f.phone].append((f.rated_at, f.case_id, f.rating_id))
    span = days * 86400
    found: list[Suspicion] = []
    for phone, rows in by_phone.items():
        if len({case for _, case, _ in rows}) < cases:
            continue
        rows.sort()
        flagged: set[int] = set()
        start = 0
        window: dict[int, int] = defaultdict(int)  # case → its ratings inside the window
        for end, (at, case, _) in enumerate(rows):
            window[case] += 1
            while at - rows[start][0] > span:
                old = rows[start][1]
                window[old] -= 1
                if not window[old]:
                    del window[old]
                start += 1
            if len(window) >= cases:
                flagged.update(range(start, end + 1))
        masked = f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "***"
        detail = f"手机号 {masked} 在 {days} 天内评价了不少于 {cases} 个办件"
        found.extend(Suspicion(rows[index][2], "phone_repeat", detail) for index in sorted(flagged))
    return found


def parse_networks(cidrs: Sequence[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(c.strip(), strict=False) for c in cidrs if c.strip()]


def centre_network(
    facts: Iterable[Facts], *, networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> list[Suspicion]:
    """A rating through a citizen's own channel (PC, mobile, QR code) sent from the centre's network."""
    found = []
    for f in facts:
        if not f.ip or f.channel not in PUBLIC_CHANNELS:
            continue
        address = ipaddress.ip_address(f.ip)
        for network in networks:
            if address.version == network.version and address in network:
                found.append(Suspicion(f.rating_id, "centre_network", f"来自中心内网 {network}"))
                break
    return found


def detect(
    facts: Sequence[Facts],
    *,
    thresholds: Thresholds,
    networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network],
) -> list[Suspicion]:
    return [
        *bursts(facts, count=thresholds.burst_count, minutes=thresholds.burst_minutes),
        *own_terminal(facts, seconds=thresholds.own_terminal_seconds),
        *phone_repeats(facts, cases=thresholds.phone_cases, days=thresholds.phone_days),
        *centre_network(facts, networks=networks),
    ]
