"""`visafaq ...` commands for staff and scripts."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy.exc import OperationalError, SQLAlchemyError

from visafaq import settings
from visafaq.cli_eligibility import add_eligibility_parser
from visafaq.cli_triage import add_triage_parsers
from visafaq.db.engine import make_engine
from visafaq.knowledge import queries, store
from visafaq.knowledge.reader import KnowledgeError, read_knowledge

log = logging.getLogger("visafaq")

Handler = Callable[[argparse.Namespace], int]


def _print_problems(error: KnowledgeError, directory: Path) -> int:
    for problem in error.problems:
        print(problem, file=sys.stderr)
    print(f"{len(error.problems)} problem(s) in {directory}; nothing was loaded.", file=sys.stderr)
    return 1


def _kb_check(args: argparse.Namespace) -> int:
    try:
        base = read_knowledge(args.knowledge_dir)
    except KnowledgeError as error:
        return _print_problems(error, args.knowledge_dir)
    print(
        f"{args.knowledge_dir}: valid ({len(base.facts)} facts, {len(base.parameters)} parameters, "
        f"{len(base.sources)} sources)"
    )
    return 0


def _kb_load(args: argparse.Namespace) -> int:
    try:
        counts = store.load_directory(make_engine(args.database_url), args.knowledge_dir)
    except KnowledgeError as error:
        return _print_problems(error, args.knowledge_dir)
    summary = ", ".join(f"{n} {section}" for section, n in counts.items())
    print(f"Loaded {args.knowledge_dir}: {summary}.")
    return 0


def _kb_stats(args: argparse.Namespace) -> int:
    engine = make_engine(args.database_url)
    if not store.is_loaded(engine):
        print("The knowledge store is empty: run `visafaq kb load` first.", file=sys.stderr)
        return 1
    counts = queries.stats(engine)
    if args.json:
        print(json.dumps(counts, indent=2))
    else:
        width = max(len(name) for name in counts)
        for name, value in counts.items():
            print(f"{name.replace('_', ' '):<{width}}  {value}")
    return 0


def _run(_args: argparse.Namespace) -> int:
    from visafaq.launcher import Settings, StartupError, run_forever

    try:
        return run_forever(Settings.from_env())
    except StartupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _run_cluster(args: argparse.Namespace) -> int:
    from visafaq.cluster import ClusterSettings, run_cluster_forever
    from visafaq.launcher import StartupError

    try:
        return run_cluster_forever(ClusterSettings.from_env(args.replicas))
    except StartupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _serve(args: argparse.Namespace) -> int:
    from visafaq.launcher import StartupError, serve

    try:
        serve(args.process)
    except StartupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0  # not reached: serve() replaces this process


def _assistant_export(args: argparse.Namespace) -> int:
    from visafaq import rasa_export

    try:
        base = read_knowledge(args.knowledge_dir)
    except KnowledgeError as error:
        return _print_problems(error, args.knowledge_dir)
    changed = [
        path
        for path, content in rasa_export.generated_files(base, args.root).items()
        if rasa_export.write_if_changed(path, content)
    ]
    for path in changed:
        print(f"wrote {path.relative_to(args.root)}")
    if not changed:
        print("the generated domain and rules are up to date")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="visafaq", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    kb = commands.add_parser("kb", help="the knowledge store").add_subparsers(dest="kb_command", required=True)
    for name, handler, help_text in (
        ("check", _kb_check, "validate knowledge/ without loading it"),
        ("load", _kb_load, "validate knowledge/ and load it into the database (one transaction)"),
        ("stats", _kb_stats, "counts of what is loaded"),
    ):
        sub = kb.add_parser(name, help=help_text)
        sub.add_argument("--knowledge-dir", type=Path, default=settings.knowledge_dir())
        sub.add_argument("--database-url", default=None, help="default: VISAFAQ_DATABASE_URL or var/")
        sub.set_defaults(handler=handler)
        if name == "stats":
            sub.add_argument("--json", action="store_true", help="one JSON object")

    add_eligibility_parser(commands)
    add_triage_parsers(commands)

    run = commands.add_parser("run", help="start the action server and the Rasa server (make run)")
    run.set_defaults(handler=_run)
    cluster = commands.add_parser(
        "run-cluster",
        help="several Rasa replicas and action servers behind nginx, on PostgreSQL and Redis (make run-cluster)",
    )
    cluster.add_argument("--replicas", type=int, default=2, help="Rasa servers, each with its action server")
    cluster.set_defaults(handler=_run_cluster)

    served = commands.add_parser(
        "serve", help="run one server in the foreground, configured from the environment (for systemd etc.)"
    )
    served.add_argument("process", choices=["actions", "rasa", "web"])
    served.set_defaults(handler=_serve)

    assistant = commands.add_parser("assistant", help="the Rasa assistant's generated files")
    export = assistant.add_subparsers(dest="assistant_command", required=True).add_parser(
        "export", help="write the domain and rules that follow from knowledge/ and the checks"
    )
    export.add_argument("--knowledge-dir", type=Path, default=settings.knowledge_dir())
    export.add_argument("--root", type=Path, default=settings.PROJECT_ROOT)
    export.set_defaults(handler=_assistant_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except OperationalError as error:
        log.error("database unavailable: %s", error.orig)
        print("The database is temporarily unavailable; nothing was changed.", file=sys.stderr)
        return 1
    except SQLAlchemyError as error:
        log.error("database error: %s", error)
        return 1


if __name__ == "__main__":
    sys.exit(main())
