"""hotline_import: N tickets with their events (≈6–7 each) imported from JSON Lines (`kaoping import
tickets`) on a fresh SQLite database; target ≤10 s for 100,000 tickets.

The file is written before the clock starts (not measured); the measured part is the whole import:
reading, validation, the workflow replay with deadlines in working time, the inserts and the evidence
entries. Runs in a fresh process (``python -m bench.hotline worker``) with its own KAOPING_VAR_DIR.

    python -m bench --only hotline_import -- --tickets 100000
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

NAME = "hotline_import"


def run(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    args, _ = parser.parse_known_args(argv)
    with tempfile.TemporaryDirectory(prefix="kaoping-bench-hotline-") as var:
        env = {**os.environ, "KAOPING_VAR_DIR": var, "KAOPING_ALLOW_INSECURE_KEY": "1"}
        env.pop("DATABASE_URL", None)
        env.pop("DJANGO_SETTINGS_MODULE", None)
        done = subprocess.run(
            [sys.executable, "-m", "bench.hotline", "worker", "--tickets", str(args.tickets), "--dir", var],
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise SystemExit(f"bench hotline_import failed:\n{done.stderr[-3000:]}")
        figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    value = figures.pop("value")
    return write_result(
        name=NAME,
        value=value,
        unit="s",
        target=10.0,
        reference=None,
        sizes={"tickets": args.tickets},
        **figures,
    )


# -- the measuring side ---------------------------------------------------------------------------


def _write_file(path: str, tickets: int) -> int:
    """Tickets over four weeks, each with a realistic path: most close on the first revisit, some are
    returned and re-dispatched, some reopened, some urged, a few merged or answered on the call."""
    import datetime as dt
    import random

    import orjson

    rng = random.Random(6)
    zone = dt.timezone(dt.timedelta(hours=8))
    start = dt.datetime(2026, 3, 2, 8, 0, tzinfo=zone)
    categories = ("consultation", "request", "complaint", "suggestion", "emergency")
    units = ("HU-ZJ", "HU-SJ")
    events = 0

    def iso(instant: dt.datetime) -> str:
        return instant.isoformat()

    with open(path, "wb") as out:
        for i in range(tickets):
            tid = f"T{i:07d}"
            received = start + dt.timedelta(seconds=(i * 7919) % (28 * 86400))
            category = categories[i % 5]
            out.write(
                orjson.dumps(
                    {
                        "type": "ticket",
                        "source": "12345",
                        "id": tid,
                        "centre": "H9901",
                        "category": category,
                        "content": f"市民反映第{i}号诉求：小区物业问题",
                        "received_at": iso(received),
                        "caller_name": "张三",
                        "caller_phone": f"138{i % 100000000:08d}",
                        "call_taker": "QC1005",
                    }
                )
                + b"\n"
            )
            steps: list[tuple[str, dict[str, Any]]] = []
            roll = rng.random()
            if roll < 0.03:
                steps.append(("close", {"note": "当场解答"}))
            else:
                unit = units[i % 2]
                steps.append(("dispatch", {"unit": unit}))
                if roll < 0.08:  # returned and re-dispatched
                    steps += [
                        ("return_request", {"note": "非本单位职责"}),
                        ("return_review", {"outcome": "approved"}),
                        ("redispatch", {"unit": units[(i + 1) % 2]}),
                    ]
                steps += [("sign", {}), ("handle", {"note": "已处理"})]
                if roll > 0.9:
                    steps.append(("urge", {"note": "请尽快办理", "level": "1"}))
                steps += [("reply", {"note": "已答复"}), ("unit_revisit", {"satisfaction": "satisfied"})]
                if 0.8 < roll < 0.86:  # reopened once
                    steps += [
                        ("centre_revisit", {"satisfaction": "basic"}),
                        ("handle", {"note": "再次处理"}),
                        ("reply", {"note": "再次答复"}),
                        ("unit_revisit", {"satisfaction": "satisfied"}),
                    ]
                steps.append(("centre_revisit", {"satisfaction": "satisfied"}))
            at = received
            for n, (action, extra) in enumerate(steps):
                at += dt.timedelta(minutes=5 + rng.randrange(600))
                record = {
                    "type": "event",
                    "source": "12345",
                    "id": f"{tid}-{n}",
                    "ticket": tid,
                    "action": action,
                    "at": iso(at),
                    **extra,
                }
                out.write(orjson.dumps(record) + b"\n")
                events += 1
    return events


def worker(argv: list[str]) -> None:
    import time
    from pathlib import Path

    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, required=True)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kaoping.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from kaoping.hotline.imports import hotline_ingest_file
    from kaoping.hotline.models import Ticket, TicketEvent
    from kaoping.sim.demo import load_demo
    from kaoping.workcal.services import calendar_seed_from_package

    call_command("migrate", interactive=False, verbosity=0)
    calendar_seed_from_package(actor="bench")
    load_demo()
    path = str(Path(args.dir) / "tickets.jsonl")
    events = _write_file(path, args.tickets)
    began = time.perf_counter()
    report = hotline_ingest_file(
        actor="bench", path=Path(path), source="12345", label="bench", kind="tickets"
    )
    elapsed = time.perf_counter() - began
    if report.rejected:
        raise SystemExit(f"{len(report.rejected)} rejected, first: {report.rejected[0]}")
    assert report.tickets == args.tickets and report.events == events, report
    closed = Ticket.objects.filter(state="closed").count()
    stored_events = TicketEvent.objects.count()
    began_again = time.perf_counter()
    again = hotline_ingest_file(actor="bench", path=Path(path), source="12345", label="bench", kind="tickets")
    reimport = time.perf_counter() - began_again
    assert again.tickets == 0 and again.events == 0 and again.duplicates == args.tickets + events
    print(
        json.dumps(
            {
                "value": round(elapsed, 3),
                "tickets": report.tickets,
                "events": report.events,
                "stored_events": stored_events,
                "closed": closed,
                "records_per_second": round((report.tickets + report.events) / elapsed),
                "reimport_seconds": round(reimport, 3),
                # Other work on the machine slows both processes (the reader and the writer).
                "load_average": [round(x, 2) for x in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        worker(sys.argv[2:])
    else:
        run(sys.argv[1:])
