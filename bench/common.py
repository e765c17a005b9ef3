"""Shared plumbing for benchmarks: timing and the JSON result file under var/bench/."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
OUT_DIR = Path(os.environ.get("KAOPING_BENCH_DIR", "var/bench"))


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }


def write_result(
    *,
    name: str,
    value: float,
    unit: str,
    target: float | None,
    reference: float | None,
    sizes: dict[str, Any],
    **extra: Any,
) -> dict[str, Any]:
    result = {
        "name": name,
        "value": round(value, 6),
        "unit": unit,
        "target": target,
        "reference": round(reference, 6) if reference is not None else None,
        "ratio": round(value / reference, 6) if reference else None,
        "sizes": sizes,
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        **extra,
    }
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False))
    return result
