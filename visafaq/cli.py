"""`visafaq ...` commands for staff and scripts."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from visafaq import settings
from visafaq.knowledge.reader import KnowledgeError, read_knowledge


def _kb_check(args: argparse.Namespace) -> int:
    try:
        base = read_knowledge(args.knowledge_dir)
    except KnowledgeError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print(f"{len(error.problems)} problem(s) in {args.knowledge_dir}", file=sys.stderr)
        return 1
    print(f"{args.knowledge_dir}: valid ({len(base.facts)} facts, {len(base.parameters)} parameters)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="visafaq", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    kb = commands.add_parser("kb", help="the knowledge store")
    kb_commands = kb.add_subparsers(dest="kb_command", required=True)
    check = kb_commands.add_parser("check", help="validate knowledge/ without loading it")
    check.add_argument("--knowledge-dir", type=Path, default=settings.knowledge_dir())
    check.set_defaults(handler=_kb_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
