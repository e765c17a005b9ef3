"""The case benchmarks: each runs ``bench.cases_worker`` in a fresh process on a fresh SQLite database.

- cases_import: N cases with their events from JSON Lines (`kaoping import cases`), target ≤60 s for
  1,000,000; with, for reference, ``sqlite_copy_s``: SQLite's own part, the same rows inserted by SQL alone
- cases_sweep: the every-minute sweep with 200,000 open cases stored, target ≤2 s
- cases_list: server time of the filtered case list page with 1,000,000 cases stored, target ≤200 ms (p95)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from typing import Any

from bench.common import write_result


def _worker(which: str, size: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"kaoping-bench-{which}-") as var:
        env = {**os.environ, "KAOPING_VAR_DIR": var, "KAOPING_ALLOW_INSECURE_KEY": "1"}
        env.pop("DATABASE_URL", None)
        done = subprocess.run(
            [sys.executable, "-m", "bench.cases_worker", which, "--size", str(size)],
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise SystemExit(f"bench {which} failed:\n{done.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result


def _size(argv: list[str], flag: str, default: int) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(flag, type=int, default=default)
    args, _ = parser.parse_known_args(argv)
    return int(getattr(args, flag.lstrip("-").replace("-", "_")))


def _run(
    argv: list[str],
    *,
    name: str,
    which: str,
    flag: str,
    default: int,
    unit: str,
    target: float,
    size_key: str,
) -> dict[str, Any]:
    # The machine is shared: the load averages around the run say how much of it the figure had.
    load_before = [round(x, 2) for x in os.getloadavg()]
    figures = _worker(which, _size(argv, flag, default))
    figures["load_average"] = {"before": load_before, "after": [round(x, 2) for x in os.getloadavg()]}
    value = figures.pop("value")
    return write_result(
        name=name,
        value=value,
        unit=unit,
        target=target,
        reference=None,
        sizes={size_key: figures[size_key]},
        **figures,
    )


def run_import(argv: list[str]) -> dict[str, Any]:
    return _run(
        argv,
        name="cases_import",
        which="import",
        flag="--cases",
        default=1_000_000,
        unit="s",
        target=60.0,
        size_key="cases",
    )


def run_sweep(argv: list[str]) -> dict[str, Any]:
    return _run(
        argv,
        name="cases_sweep",
        which="sweep",
        flag="--open-cases",
        default=200_000,
        unit="s",
        target=2.0,
        size_key="open_cases",
    )


def run_list(argv: list[str]) -> dict[str, Any]:
    return _run(
        argv,
        name="cases_list",
        which="list",
        flag="--list-cases",
        default=1_000_000,
        unit="ms",
        target=200.0,
        size_key="cases",
    )
