"""The ``kaoping`` command.

kaoping setup                      migrate, seed the calendar, compile translations
kaoping demo load                  load the demo organisation and print its logins
kaoping serve [--host --port]      gunicorn + the task worker (needs SECRET_KEY)
kaoping calendar due START (--working-days N | --working-hours H) [--unit CODE] [--json]
kaoping calendar is-workday DATE
kaoping calendar import FILE       a year's arrangement (docs/data-formats.md)
kaoping calendar seed              years known to the chinese-calendar package
kaoping calibrate --scheme CODE [--json]   R0.3 proposals: raise a standard, open a remediation
kaoping evidence verify            walk the hash chain; non-zero exit on the first bad entry
kaoping manage ARGS…               any Django management command
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

CLI_ACTOR = "cli"


def _django(*, web: bool = False) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kaoping.config.settings")
    # numpy is used element-wise here: OpenBLAS's worker threads (one per core, in every process,
    # a file import's readers too) would only spin.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if not web:
        # Commands that sign nothing may run without a SECRET_KEY; the web server may not.
        os.environ.setdefault("KAOPING_ALLOW_INSECURE_KEY", "1")
    import django

    django.setup()


def _fail(message: str, code: int = 2) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


# -- calendar ------------------------------------------------------------------------------------


def cmd_calendar_due(args: argparse.Namespace) -> int:
    from kaoping.core.clock import parse_instant
    from kaoping.org.models import Unit
    from kaoping.workcal.calendar import CalendarError
    from kaoping.workcal.selectors import get_calendar

    # A START without an offset is read in the configured zone (Asia/Shanghai): documented, not guessed.
    start = parse_instant(args.start, what="START", naive_is_local=True)
    unit = None
    if args.unit:
        unit = Unit.objects.filter(code=args.unit).first()
        if unit is None:
            return _fail(f"--unit {args.unit!r}: no unit has this code")
    calendar = get_calendar(unit=unit)
    try:
        if args.working_days is not None:
            due = calendar.due_after_working_days(start, args.working_days)
        else:
            due = calendar.due_after_working_hours(start, args.working_hours)
    except CalendarError as exc:
        return _fail(str(exc))
    text = due.at.isoformat()
    if args.json:
        print(json.dumps({"due": text, "provisional": due.provisional}))
    else:
        print(text + (" (provisional: no published arrangement for that year)" if due.provisional else ""))
    return 0


def cmd_calendar_is_workday(args: argparse.Namespace) -> int:
    from kaoping.core.clock import parse_date
    from kaoping.workcal.calendar import CalendarError
    from kaoping.workcal.selectors import get_calendar

    day = parse_date(args.date, what="DATE")
    try:
        print("yes" if get_calendar().is_workday(day) else "no")
    except CalendarError as exc:
        return _fail(str(exc))
    return 0


def cmd_calendar_import(args: argparse.Namespace) -> int:
    from kaoping.workcal.services import calendar_import_file

    years = calendar_import_file(actor=CLI_ACTOR, path=Path(args.file))
    print(f"imported the arrangement of {', '.join(map(str, years))}")
    return 0


def cmd_calendar_seed(args: argparse.Namespace) -> int:
    from kaoping.workcal.services import calendar_seed_from_package

    years = calendar_seed_from_package(actor=CLI_ACTOR)
    print(
        f"seeded {len(years)} year(s) from chinese-calendar" + (f": {years[0]}–{years[-1]}" if years else "")
    )
    return 0


# -- import --------------------------------------------------------------------------------------


# A case file is committed about this many records at a time (each reader's batch of 10,000 keeps its
# evidence entry); the cases whose derived fields the readers could not vouch for are recomputed
# once, at the end (see cases_ingest_file). Each commit writes the pages it changed to the WAL and
# checkpoints them: fewer, larger commits write the indexes' busy pages fewer times.
FILE_COMMIT_ROWS = 500_000


def cmd_import_cases(args: argparse.Namespace) -> int:
    from kaoping.cases.services import cases_ingest_file
    from kaoping.core.bulk import gc_paused

    path = Path(args.file)
    with _progress() as progress, gc_paused():
        task = progress.add_task(f"importing {path.name}", total=None)
        report = cases_ingest_file(
            actor=CLI_ACTOR,
            path=path,
            source=args.source,
            label=f"import {path.name}",
            on_progress=lambda n: progress.advance(task, n),
            commit_rows=FILE_COMMIT_ROWS,
        )
    rejected = sorted(report.rejected, key=lambda r: _location_key(r.where))
    print(
        f"{path.name}: {report.accepted_cases} case(s) and {report.accepted_events} event(s) imported, "
        f"{report.duplicates} already present, {len(rejected)} rejected"
    )
    return _error_report(path, rejected, args.errors)


def _error_report(path: Path, rejected: list[Any], errors: str | None) -> int:
    """Write every rejected row (where, id, reason) to a CSV next to the file; exit 1 if there were any."""
    if not rejected:
        return 0
    error_path = Path(errors) if errors else path.with_name(path.name + ".errors.csv")
    import csv

    with error_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["where", "id", "reason"])
        writer.writerows([r.where, r.record_id, r.reason] for r in rejected)
    for rejection in rejected[:10]:
        print(f"  {rejection.where}: {rejection.reason}", file=sys.stderr)
    print(f"error report: {error_path}", file=sys.stderr)
    return 1


def _progress() -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=not sys.stderr.isatty(),
        console=None,
    )


def cmd_import_ratings(args: argparse.Namespace) -> int:
    from kaoping.ratings.codes import Convention
    from kaoping.ratings.services import ratings_ingest_file, ratings_scan
    from kaoping.ratings.tasks import scan_period

    path = Path(args.file)
    with _progress() as progress:
        task = progress.add_task(f"importing {path.name}", total=None)
        report = ratings_ingest_file(
            actor=CLI_ACTOR,
            path=path,
            source=args.source,
            label=f"import {path.name}",
            convention=Convention(args.codes),
            on_progress=lambda n: progress.advance(task, n),
        )
    scan = "nothing to scan"
    if report.first_at and report.last_at and report.accepted:
        if args.scan_now:
            scan = f"{ratings_scan(start=report.first_at, end=report.last_at)} flagged as suspicious"
        else:
            # The task worker scans the imported period for gaming; the import need not wait for it.
            scan_period(report.first_at.isoformat(), report.last_at.isoformat())
            scan = "anti-gaming scan queued for the task worker"
    rejected = sorted(report.rejected, key=lambda r: _location_key(r.where))
    print(
        f"{path.name}: {report.accepted} rating(s) imported ({report.bad} bad, follow-ups opened), "
        f"{report.duplicates} already present, {len(rejected)} rejected; {scan}"
    )
    return _error_report(path, rejected, args.errors)


def cmd_import_hotline(args: argparse.Namespace) -> int:
    from kaoping.hotline.imports import hotline_ingest_file

    path = Path(args.file)
    with _progress() as progress:
        task = progress.add_task(f"importing {path.name}", total=None)
        report = hotline_ingest_file(
            actor=CLI_ACTOR,
            path=path,
            source=args.source,
            label=f"import {path.name}",
            kind=args.import_command,
            on_progress=lambda n: progress.advance(task, n),
        )
    rejected = sorted(report.rejected, key=lambda r: _location_key(r.where))
    print(
        f"{path.name}: {report.tickets} ticket(s), {report.events} event(s) and {report.calls} call(s) "
        f"imported, {report.duplicates} already present, {len(rejected)} rejected"
    )
    return _error_report(path, rejected, args.errors)


def _location_key(where: str) -> tuple[str, int]:
    kind, _, number = where.rpartition(" ")
    return (kind, int(number)) if number.isdigit() else (where, 0)


def cmd_token_create(args: argparse.Namespace) -> int:
    from django.contrib.auth import get_user_model

    from kaoping.core.models import ApiToken

    user = get_user_model().objects.filter(username=args.username).first()
    if user is None:
        return _fail(f"no user {args.username!r}")
    _, key = ApiToken.issue(user=user, name=args.name)
    print(key)
    print(f"token {args.name!r} for {args.username}: shown once, keep it safe", file=sys.stderr)
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    import datetime as dt

    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from kaoping.cases.services import cases_sweep
    from kaoping.core import clock
    from kaoping.sim import runner

    start = dt.date.fromisoformat(args.start) if args.start else clock.today() - dt.timedelta(days=args.days)
    if args.out:
        ratings_path = Path(args.ratings_out) if args.ratings_out else None
        count = runner.write_jsonl(
            Path(args.out),
            days=args.days,
            seed=args.seed,
            scale=args.scale,
            start=start,
            ratings_path=ratings_path,
        )
        where = f"{args.out} and {args.ratings_out}" if ratings_path else args.out
        print(f"wrote {count} records to {where}")
        return 0
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description} {task.completed} records"),
        TimeElapsedColumn(),
        transient=not sys.stderr.isatty(),
    ) as progress:
        task = progress.add_task(f"simulating {args.days} days from {start}", total=None)
        report = runner.run_into_database(
            days=args.days,
            seed=args.seed,
            scale=args.scale,
            start=start,
            on_progress=lambda n: progress.advance(task, n),
        )
    sweep = cases_sweep()  # once more, as of now
    print(
        f"simulated {args.days} days from {start}: {report.accepted_cases} cases, {report.accepted_events} "
        f"events, {report.accepted_ratings} ratings ({report.flags} flagged), {report.duplicates} duplicates "
        f"skipped, {report.rejected} rejected; {report.warnings} warnings raised during the replay and "
        f"{sweep.raised} as of now"
    )
    return 0


# -- assessment ----------------------------------------------------------------------------------


def cmd_assess(args: argparse.Namespace) -> int:
    from kaoping.assessment.schemes import Grade
    from kaoping.assessment.services import assessment_publish, assessment_run

    run = assessment_run(
        actor=CLI_ACTOR, scheme_code=args.scheme, period=args.period, reason="kaoping assess"
    )
    if args.publish:
        assessment_publish(actor=CLI_ACTOR, assessment=run)
    stored = list(run.results.select_related("unit", "staff"))
    roles = dict(run.scheme.scheme().roles)
    ordered = sorted(stored, key=lambda r: (r.role, r.rank is None, r.rank or 0, r.subject_code))
    if args.json:
        print(json.dumps([_result_json(r) for r in ordered], ensure_ascii=False, indent=2))
        return 0
    scheme = run.scheme
    print(
        f"{scheme.name} ({scheme.code} v{scheme.version}) · {run.period}"
        f" ({run.period_start} – {run.period_end})"
        f" · assessment #{run.pk} {run.get_status_display()}"
    )
    print(f"{'rank':>4}  {'subject':<10} {'total':>7}  {'grade':<6} name")
    for r in ordered:
        rank = str(r.rank) if r.rank is not None else "—"
        grade = Grade(r.grade).label if r.grade else "未评"
        missing = [line["indicator"] for line in r.lines if not line["assessable"]]
        flags = "".join(
            [" 一票否决" if r.vetoed else "", "" if r.complete else f" 缺数据: {', '.join(missing)}"]
        )
        role = f" [{roles.get(r.role, r.role)}]" if r.role else ""
        print(f"{rank:>4}  {r.subject_code:<10} {r.total:>7}  {grade:<6} {r.subject_name}{role}{flags}")
    return 0


def _result_json(result: Any) -> dict[str, Any]:
    run = result.assessment
    return {
        "assessment": run.pk,
        "status": run.status,
        "unit": result.subject_code,
        "name": result.subject_name,
        "role": result.role or None,
        "scheme": run.scheme.code,
        "scheme_version": run.scheme.version,
        "scheme_hash": run.scheme.content_hash,
        "period": run.period,
        "total": str(result.total),
        "grade": result.grade or None,
        "rank": result.rank,
        "ranked": result.ranked_count,
        "percentile": None if result.percentile is None else str(result.percentile),
        "vetoed": result.vetoed,
        "assessed": result.assessed,
        "complete": result.complete,
        "explanation": result.explanation,
        "lines": result.lines,
    }


def cmd_calibrate(args: argparse.Namespace) -> int:
    from kaoping.assessment.calibrate import calibration_for

    found = calibration_for(args.scheme)
    if args.json:
        print(json.dumps(_calibration_json(found), ensure_ascii=False, indent=2))
        return 0
    version = found.version
    counted = ", ".join(s.text for s in found.spans if s.closed) or "none"
    print(f"{version.name} ({version.code} v{version.version}) · calibration over {counted}")
    if not found.proposals:
        print("no proposals")
    for row in found.rows:
        if row.proposal is None:
            continue
        print(f"{row.proposal.kind.value:<15} {row.indicator.code:<24} {row.proposal.explanation}")
        if row.change is not None:
            print(f"{'':<15} {'':<24} {row.change.explanation}")
    return 0


def _calibration_json(found: Any) -> dict[str, Any]:
    def share(cell: Any) -> dict[str, Any]:
        value = cell.share.share
        return {
            "period": cell.share.period,
            "met": cell.share.met,
            "assessed": cell.share.assessed,
            "share": None if value is None else str(value),
            "counted": cell.counted,
        }

    return {
        "scheme": found.version.code,
        "version": found.version.version,
        "periods": [{"period": s.text, "closed": s.closed} for s in found.spans],
        "history": {
            row.indicator.code: [share(cell) for cell in row.cells if cell.share is not None]
            for row in found.rows
        },
        "proposals": [
            {
                "indicator": row.indicator.code,
                "kind": row.proposal.kind.value,
                "periods": list(row.proposal.periods),
                "shares": [str(s) for s in row.proposal.shares],
                "raise_by": None if row.proposal.raise_by is None else str(row.proposal.raise_by),
                "explanation": row.proposal.explanation,
                "change": None
                if row.change is None
                else {
                    "changed": row.change.changed,
                    "explanation": row.change.explanation,
                    "before": [str(v) for v in row.change.before],
                    "after": [str(v) for v in row.change.after],
                },
            }
            for row in found.rows
            if row.proposal is not None
        ],
    }


# -- evidence ------------------------------------------------------------------------------------


def cmd_evidence_verify(args: argparse.Namespace) -> int:
    from kaoping.evidence.verify import verify_chain

    report = verify_chain()
    if report.ok:
        print(f"ok: {report.entries} entries, {report.objects} objects match their last entry")
        return 0
    print(f"BROKEN: {report.first_bad}", file=sys.stderr)
    for problem in report.problems[1:20]:
        print(f"  also {problem}", file=sys.stderr)
    return 1


# -- set-up, demo, serve -------------------------------------------------------------------------


def cmd_setup(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    from kaoping.assessment.services import schemes_load_defaults
    from kaoping.web.i18n import compile_translations
    from kaoping.workcal.services import calendar_seed_from_package

    call_command("migrate", interactive=False, verbosity=0)
    compiled = compile_translations()
    years = calendar_seed_from_package(actor=CLI_ACTOR)
    schemes = schemes_load_defaults(actor=CLI_ACTOR)
    print(
        f"database migrated; {compiled} translation catalogue(s) compiled; "
        f"{len(years)} calendar year(s) seeded; {len(schemes)} default scheme version(s) stored"
    )
    return 0


def cmd_demo_load(args: argparse.Namespace) -> int:
    from kaoping.sim.demo import DEMO_PASSWORD, load_demo

    logins = load_demo()
    from kaoping.targets.demo import load_demo_targets

    load_demo_targets()
    if args.days:
        from kaoping.cases.models import Case

        if Case.objects.filter(source="sim").exists():
            print("demo cases already loaded (source 'sim'): skipping the simulation")
        else:
            code = cmd_simulate(
                argparse.Namespace(days=args.days, seed=1, scale=1.0, start=None, out=None, ratings_out=None)
            )
            if code:
                return code
            from django.contrib.auth import get_user_model

            from kaoping.sim.followups import work_followups

            admin = get_user_model().objects.get(username="admin")
            print(f"{work_followups(actor=admin, seed=1)} follow-up steps recorded by the demo's officials")
        _demo_hotline(args.days)
        _demo_assessments()
    print("demo organisation loaded. Logins (password for all: " + DEMO_PASSWORD + "):")
    for username, role in logins:
        print(f"  {username:<14} {role}")
    return 0


def _demo_hotline(days: int) -> None:
    """The demo hotline's people and units, and ``days`` of simulated calls, tickets and findings."""
    import datetime as dt

    from django.contrib.auth import get_user_model

    from kaoping.core import clock
    from kaoping.hotline.models import Ticket
    from kaoping.sim.hotline import SOURCE
    from kaoping.sim.hotline_runner import load_demo_hotline, run_hotline

    admin = get_user_model().objects.get(username="admin")
    if load_demo_hotline(actor=admin) is None:
        return
    if Ticket.objects.filter(source=SOURCE).exists():
        print(f"demo hotline already loaded (source {SOURCE!r}): skipping its simulation")
        return
    run = run_hotline(actor="demo", start=clock.today() - dt.timedelta(days=days), days=days + 1, seed=1)
    print(
        f"hotline: {run.calls} calls (answered {run.answer_rate:.1f}%, within 15 s {run.within_15s:.1f}%), "
        f"{run.tickets} tickets with {run.events} events, {run.findings} quality findings, "
        f"{run.rejected} rejected"
    )


def _demo_assessments() -> None:
    """Each complete month of the simulated span assessed under the window and department schemes."""
    from django.contrib.auth import get_user_model
    from django.db.models import Max, Min

    from kaoping.assessment.demo import complete_months, load_demo_assessment
    from kaoping.cases.models import Case
    from kaoping.core.clock import local_zone

    span = Case.objects.filter(source="sim").aggregate(first=Min("received_at"), last=Max("received_at"))
    if span["first"] is None:
        return
    zone = local_zone()
    months = complete_months(span["first"].astimezone(zone).date(), span["last"].astimezone(zone).date())
    admin = get_user_model().objects.get(username="admin")
    runs = load_demo_assessment(actor=admin, months=months)
    print(f"{len(runs)} assessment(s) computed and published for {', '.join(months) or 'no complete month'}")


def gunicorn_command(*, host: str, port: int, workers: int, access_log: bool = True) -> list[str]:
    """The production web server. On SQLite each worker runs one thread: writes are serialised by the
    database anyway, and more threads only wait on its lock (the public rating page's tail latency
    tripled with four). On PostgreSQL each worker runs four threads."""
    from django.conf import settings

    threads = 1 if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") else 4
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "kaoping.config.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--backlog",
        "2048",
        "--graceful-timeout",
        "10",
    ]
    return [*command, "--access-logfile", "-"] if access_log else command


def cmd_serve(args: argparse.Namespace) -> int:
    from django.conf import settings

    env = dict(os.environ)
    env.pop("KAOPING_ALLOW_INSECURE_KEY", None)
    gunicorn = gunicorn_command(host=args.host, port=args.port, workers=args.workers)
    worker = [
        sys.executable,
        "-m",
        "django",
        "run_huey",
        "--workers",
        str(settings.HUEY_WORKERS),
    ]
    env["DJANGO_SETTINGS_MODULE"] = "kaoping.config.settings"
    children = [subprocess.Popen(gunicorn, env=env), subprocess.Popen(worker, env=env)]
    print(
        f"Kaoping at http://{args.host}:{args.port}/ (gunicorn, {args.workers} workers) "
        f"with the task worker. Ctrl-C stops both.",
        flush=True,
    )

    def stop(signum: int, frame: Any) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    # If either dies, stop the other: a web app without its worker would silently miss deadlines.
    while True:
        for child in children:
            try:
                code = child.wait(timeout=1)
            except subprocess.TimeoutExpired:
                continue
            stop(signal.SIGTERM, None)
            for other in children:
                other.wait()
            return code
    return 0  # pragma: no cover


def cmd_manage(args: argparse.Namespace) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kaoping manage", *args.rest])
    return 0


# -- parser --------------------------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be a positive number")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kaoping", description="Kaoping (考评) command line")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("setup", help="migrate, seed the calendar, compile translations").set_defaults(
        func=cmd_setup
    )

    demo = sub.add_parser("demo", help="demo data").add_subparsers(dest="demo_command", required=True)
    demo_load = demo.add_parser("load", help="load the demo organisation and DAYS days of simulated cases")
    demo_load.add_argument("--days", type=int, default=0, help="simulate this many days of cases (0: none)")
    demo_load.set_defaults(func=cmd_demo_load)

    serve = sub.add_parser("serve", help="run the web app (gunicorn) and the task worker")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=2)
    serve.set_defaults(func=cmd_serve, web=True)

    cal = sub.add_parser("calendar", help="working-time calendar").add_subparsers(
        dest="cal_command", required=True
    )
    due = cal.add_parser("due", help="due instant after N working days or hours")
    due.add_argument("start", help="ISO 8601 date or instant, e.g. 2026-09-30T10:00:00+08:00")
    amount = due.add_mutually_exclusive_group(required=True)
    amount.add_argument("--working-days", type=_positive_int, metavar="N")
    amount.add_argument("--working-hours", type=_positive_float, metavar="H")
    due.add_argument("--unit", help="code of the unit whose centre's office hours apply")
    due.add_argument("--json", action="store_true")
    due.set_defaults(func=cmd_calendar_due)
    workday = cal.add_parser("is-workday", help="prints yes or no")
    workday.add_argument("date", help="YYYY-MM-DD")
    workday.set_defaults(func=cmd_calendar_is_workday)
    imp = cal.add_parser("import", help="import a year's arrangement from a file")
    imp.add_argument("file")
    imp.set_defaults(func=cmd_calendar_import)
    cal.add_parser("seed", help="seed years from the chinese-calendar package").set_defaults(
        func=cmd_calendar_seed
    )

    imp_root = sub.add_parser("import", help="bulk import").add_subparsers(
        dest="import_command", required=True
    )
    imp_cases = imp_root.add_parser("cases", help="cases and events from JSON Lines, CSV or XLSX")
    imp_cases.add_argument("file")
    imp_cases.add_argument("--source", default="import", help="source system for rows that name none")
    imp_cases.add_argument("--errors", help="where to write the error report (default FILE.errors.csv)")
    imp_cases.set_defaults(func=cmd_import_cases)
    imp_ratings = imp_root.add_parser("ratings", help="citizen ratings from JSON Lines, CSV or XLSX")
    imp_ratings.add_argument("file")
    imp_ratings.add_argument(
        "--codes",
        required=True,
        choices=["gbt39046", "provincial"],
        help="how the file writes levels (never guessed): gbt39046 1 = 非常满意, provincial 1 = 非常不满意",
    )
    imp_ratings.add_argument("--source", default="import", help="source system for rows that name none")
    imp_ratings.add_argument("--errors", help="where to write the error report (default FILE.errors.csv)")
    imp_ratings.add_argument(
        "--scan-now", action="store_true", help="run the anti-gaming scan before returning, not in the worker"
    )
    imp_ratings.set_defaults(func=cmd_import_ratings)
    for kind, text in (
        ("tickets", "hotline tickets and their events from JSON Lines or CSV"),
        ("calls", "hotline call records from JSON Lines or CSV"),
    ):
        imp_hotline = imp_root.add_parser(kind, help=text)
        imp_hotline.add_argument("file")
        imp_hotline.add_argument("--source", default="import", help="source system for rows that name none")
        imp_hotline.add_argument("--errors", help="where to write the error report (default FILE.errors.csv)")
        imp_hotline.set_defaults(func=cmd_import_hotline)

    assess = sub.add_parser("assess", help="score every unit of a scheme for a period and store the run")
    assess.add_argument("--scheme", required=True, help="scheme code, e.g. window")
    assess.add_argument("--period", required=True, help="2026-10, 2026-Q3, 2026-H1 or 2026")
    assess.add_argument("--json", action="store_true", help="every indicator line with its explanation")
    assess.add_argument("--publish", action="store_true", help="publish the run (its results then count)")
    assess.set_defaults(func=cmd_assess)

    calib = sub.add_parser(
        "calibrate", help="R0.3 calibration: shares of units that met each standard, proposals"
    )
    calib.add_argument("--scheme", required=True, help="scheme code, e.g. window")
    calib.add_argument("--json", action="store_true", help="the shares per period and the proposals as JSON")
    calib.set_defaults(func=cmd_calibrate)

    sim = sub.add_parser("simulate", help="generate a realistic district centre's cases")
    sim.add_argument("--days", type=_positive_int, required=True)
    sim.add_argument("--seed", type=int, required=True)
    sim.add_argument("--scale", type=_positive_float, default=1.0, help="volume multiplier")
    sim.add_argument("--start", help="first day (YYYY-MM-DD); default: DAYS days before today")
    sim.add_argument("--out", help="write JSON Lines to this file instead of the database")
    sim.add_argument(
        "--ratings-out", help="with --out: also write the ratings (GB/T 39046-2020 codes) to this file"
    )
    sim.set_defaults(func=cmd_simulate)

    token = sub.add_parser("token", help="API tokens").add_subparsers(dest="token_command", required=True)
    token_create = token.add_parser("create", help="issue a bearer token acting as USERNAME")
    token_create.add_argument("username")
    token_create.add_argument("name")
    token_create.set_defaults(func=cmd_token_create)

    ev = sub.add_parser("evidence", help="evidence log").add_subparsers(dest="ev_command", required=True)
    ev.add_parser("verify", help="verify the hash chain").set_defaults(func=cmd_evidence_verify)

    manage = sub.add_parser("manage", help="a Django management command")
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(func=cmd_manage)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from django.core.exceptions import ImproperlyConfigured

    try:
        _django(web=getattr(args, "web", False))
    except ImproperlyConfigured as exc:
        return _fail(f"configuration: {exc}")
    from kaoping.core.errors import KaopingError

    try:
        return int(args.func(args))
    except KaopingError as exc:
        return _fail(exc.message)


if __name__ == "__main__":
    sys.exit(main())
