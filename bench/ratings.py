"""The rating benchmarks: each runs ``bench.ratings_worker`` in a fresh process on a fresh SQLite database.

- ratings_import: N ratings bulk-imported from JSON Lines (`kaoping import ratings`); target ≤30 s for 1M
- ratings_http: the public rating page under gunicorn (2 workers), load from a separate process on
  loopback: ≥300 ratings/s sustained for 60 s with p99 ≤100 ms; every accepted rating stored once
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


def _worker(args: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="kaoping-bench-ratings-") as var:
        env = {**os.environ, "KAOPING_VAR_DIR": var, "KAOPING_ALLOW_INSECURE_KEY": "1"}
        env.pop("DATABASE_URL", None)
        done = subprocess.run(
            [sys.executable, "-m", "bench.ratings_worker", *args], env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise SystemExit(f"bench ratings {args[0]} failed:\n{done.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result


def run_import(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ratings", type=int, default=1_000_000)
    args, _ = parser.parse_known_args(argv)
    figures = _worker(["import", "--ratings", str(args.ratings)])
    value = figures.pop("value")
    return write_result(
        name="ratings_import",
        value=value,
        unit="s",
        target=30.0,
        reference=None,
        sizes={"ratings": figures["ratings"]},
        **figures,
    )


def run_http(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--rate", type=int, default=300)
    args, _ = parser.parse_known_args(argv)
    figures = _worker(["http", "--seconds", str(args.seconds), "--rate", str(args.rate)])
    value = figures.pop("value")
    return write_result(
        name="ratings_http",
        value=value,
        unit="ratings/s",
        target=300.0,
        reference=None,
        sizes={"seconds": args.seconds, "offered_rate": args.rate},
        target_p99_ms=100.0,
        **figures,
    )
