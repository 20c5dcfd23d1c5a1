"""`visafaq triage ...` and `visafaq staff ...`: the staff dashboard's reports and accounts, from a shell.

visafaq triage report --since 7d [--json | --csv]
visafaq triage tickets [--all] [--json]
visafaq triage purge --older-than 90d
visafaq staff add-user NAME            (asks for the password twice)
"""

from __future__ import annotations

import argparse
import csv
import getpass
import json
import sys
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from visafaq import settings
from visafaq.db.engine import make_engine
from visafaq.db.migrate import upgrade
from visafaq.triage import reports, staff, tickets
from visafaq.triage.privacy import mask
from visafaq.triage.purge import purge


def _duration(text: str) -> str:
    try:
        reports.parse_duration(text)
    except reports.PeriodError as error:
        raise argparse.ArgumentTypeError(str(error)) from error
    return text


def _since(text: str) -> reports.Period:
    try:
        return reports.period_since(text)
    except reports.PeriodError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _engines(args: argparse.Namespace) -> tuple[Engine, Engine]:
    store = make_engine(args.database_url)
    upgrade(store)
    return make_engine(args.tracker_url or settings.tracker_url()), store


def _report(args: argparse.Namespace) -> int:
    tracker, store = _engines(args)
    report = reports.build_report(tracker, store, args.since)
    if args.json:
        print(json.dumps(reports.report_json(report), indent=2, ensure_ascii=False))
        return 0
    tables = reports.report_tables(report)
    if args.csv:
        # One CSV: a `table` column says which table each row belongs to.
        writer = csv.writer(sys.stdout)
        for name, (headers, rows) in tables.items():
            writer.writerow(["table", *headers])
            for row in rows:
                writer.writerow([name, *row])
        return 0
    print(
        f"{report.period.since:%Y-%m-%d %H:%M} to {report.period.until:%Y-%m-%d %H:%M} UTC: "
        f"{report.questions} questions in {report.conversations} conversations; "
        f"{report.fallbacks} fallbacks ({report.fallback_rate:.0%}), {report.low_confidence} low-confidence, "
        f"{report.handoffs} hand-offs ({report.handoff_rate:.0%} of conversations)"
    )
    for name in ("by_topic", "by_programme", "by_channel"):
        headers, rows = tables[name]
        print(f"\n{headers[0]}:")
        for key, count in rows:
            print(f"  {count:>5}  {key}")
    print("\nunanswered (near-identical questions grouped):")
    for group in report.unanswered:
        print(f"  {group.count:>5}  {group.question}")
    if not report.unanswered:
        print("  none")
    return 0


def _tickets(args: argparse.Namespace) -> int:
    _, store = _engines(args)
    statuses = tickets.STATUSES if args.all else ("open", "claimed")
    now = datetime.now(UTC)
    queue = tickets.list_tickets(store, statuses)
    if args.json:
        rows = [
            {
                "id": t.id,
                "status": t.status,
                "question": mask(t.question),
                "programme": t.programme,
                "channel": t.channel,
                "conversation_id": t.conversation_id,
                "created_at": t.created_at.isoformat(),
                "waiting_seconds": int(t.waiting(now).total_seconds()),
                "claimed_by": t.claimed_by,
            }
            for t in queue
        ]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    if not queue:
        print("No open hand-off requests." if not args.all else "No hand-off requests.")
        return 0
    for t in queue:
        waited = t.waiting(now)
        hours, minutes = divmod(int(waited.total_seconds()) // 60, 60)
        who = f" ({t.claimed_by})" if t.claimed_by else ""
        print(
            f"#{t.id:<5} {t.status}{who:<14} waiting {hours}h{minutes:02d}  "
            f"[{t.programme or '-'} / {t.channel or '-'}]  {mask(t.question)}"
        )
    return 0


def _purge(args: argparse.Namespace) -> int:
    tracker, store = _engines(args)
    cut_off = datetime.now(UTC) - reports.parse_duration(args.older_than)
    done = purge(tracker, store, cut_off)
    print(
        f"Deleted what was older than {cut_off:%Y-%m-%d %H:%M} UTC: {done.conversations} conversations "
        f"({done.events} events), {done.tickets} hand-off requests, {done.unanswered} unanswered-question records."
    )
    return 0


def _add_user(args: argparse.Namespace) -> int:
    store = make_engine(args.database_url)
    upgrade(store)
    password = getpass.getpass(f"Password for {args.name}: ")
    if getpass.getpass("Again: ") != password:
        print("The passwords differ; no user was created.", file=sys.stderr)
        return 1
    try:
        staff.add_user(store, args.name, password, replace=args.replace)
    except staff.StaffUserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"Staff user {args.name!r} {'updated' if args.replace else 'created'}.")
    return 0


def _databases(parser: argparse.ArgumentParser, tracker: bool = True) -> None:
    parser.add_argument("--database-url", default=None, help="our tables; default: VISAFAQ_DATABASE_URL or var/")
    if tracker:
        parser.add_argument("--tracker-url", default=None, help="Rasa's tracker store; default: VISAFAQ_TRACKER_URL")


def add_triage_parsers(commands: Any) -> None:
    triage = commands.add_parser("triage", help="what people ask, unanswered questions, hand-off requests")
    sub = triage.add_subparsers(dest="triage_command", required=True)

    report = sub.add_parser("report", help="questions, topics, fallbacks and hand-offs over a period")
    report.add_argument("--since", type=_since, default="7d", help="7d, 24h, 2w or a date (default 7d)")
    output = report.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="one JSON object")
    output.add_argument("--csv", action="store_true", help="CSV rows, the first column naming the table")
    _databases(report)
    report.set_defaults(handler=_report)

    queue = sub.add_parser("tickets", help="the hand-off queue, longest waiting first")
    queue.add_argument("--all", action="store_true", help="closed requests too")
    queue.add_argument("--json", action="store_true", help="a JSON list")
    _databases(queue)
    queue.set_defaults(handler=_tickets)

    old = sub.add_parser("purge", help="delete conversations and tickets older than a duration")
    old.add_argument("--older-than", type=_duration, required=True, help="e.g. 90d")
    _databases(old)
    old.set_defaults(handler=_purge)

    accounts = commands.add_parser("staff", help="staff dashboard accounts")
    add_user = accounts.add_subparsers(dest="staff_command", required=True).add_parser(
        "add-user", help="create a staff user (asks for the password)"
    )
    add_user.add_argument("name")
    add_user.add_argument("--replace", action="store_true", help="set a new password for an existing user")
    _databases(add_user, tracker=False)
    add_user.set_defaults(handler=_add_user)
