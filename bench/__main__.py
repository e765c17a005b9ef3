"""`make bench`: run every benchmark (or those named with --only) and write var/bench/NAME.json.

python -m bench [--only NAME[,NAME]] [-- benchmark flags, e.g. --pairs 100000]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from bench import assess_month, calendar_due, cases, hotline, ratings

BENCHMARKS: dict[str, Callable[[list[str]], dict[str, Any]]] = {
    calendar_due.NAME: calendar_due.run,
    "cases_import": cases.run_import,
    "cases_sweep": cases.run_sweep,
    "cases_list": cases.run_list,
    "ratings_import": ratings.run_import,
    "ratings_http": ratings.run_http,
    assess_month.NAME: assess_month.run,
    hotline.NAME: hotline.run,
}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--only", help="comma-separated benchmark names: " + ", ".join(BENCHMARKS))
    args, rest = parser.parse_known_args(argv)
    if rest[:1] == ["--"]:  # `make bench BENCH_ARGS="--only x -- --units 50"`: the flags after "--"
        rest = rest[1:]
    names = args.only.split(",") if args.only else list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    for name in names:
        BENCHMARKS[name](rest)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
