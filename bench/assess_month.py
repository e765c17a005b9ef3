"""assess_month: a month's assessment of 2,000 windows over 10,000,000 cases and 5,000,000 ratings on
SQLite (``assessment_run``: metrics from the daily rollups, the engine's scores and ranks, the results
stored; target ≤20 s), against a hand-written DuckDB query computing the same metrics over the same rows
exported to Parquet (the reference: target ≤3× it). Runs ``bench.assess_worker`` in a fresh process on a fresh
SQLite database; the rollup build is reported apart (``rollup_build_s``).

python -m bench --only assess_month [-- --units 2000 --cases 10000000 --ratings 5000000]
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

NAME = "assess_month"


def run(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=2000)
    parser.add_argument("--cases", type=int, default=10_000_000)
    parser.add_argument("--ratings", type=int, default=5_000_000)
    args, _ = parser.parse_known_args(argv)
    with tempfile.TemporaryDirectory(prefix="kaoping-bench-assess-") as var:
        env = {**os.environ, "KAOPING_VAR_DIR": var, "KAOPING_ALLOW_INSECURE_KEY": "1"}
        env.pop("DATABASE_URL", None)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.assess_worker",
                "--units",
                str(args.units),
                "--cases",
                str(args.cases),
                "--ratings",
                str(args.ratings),
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise SystemExit(f"bench {NAME} failed:\n{done.stderr[-3000:]}")
        figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    value = figures.pop("value")
    reference = figures.pop("reference")
    return write_result(
        name=NAME,
        value=value,
        unit="s",
        target=20.0,
        reference=reference,
        sizes={
            "units": figures.pop("units"),
            "cases": figures.pop("cases"),
            "ratings": figures.pop("ratings"),
        },
        target_ratio=3.0,
        **figures,
    )
