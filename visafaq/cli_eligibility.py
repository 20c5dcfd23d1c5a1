"""`visafaq eligibility CHECK [--option value ...] [--on YYYY-MM-DD] [--json]`.

The options are generated from each check's input model, in kebab-case, so a new input is a new
option without touching this file.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from enum import Enum
from typing import Any

from pydantic import BaseModel

from visafaq import settings
from visafaq.db.engine import make_engine
from visafaq.eligibility.registry import CHECKS, InputError, evaluate
from visafaq.eligibility.verdict import Verdict
from visafaq.knowledge import store
from visafaq.knowledge.reader import KnowledgeBase
from visafaq.rasa_export import base_type
from visafaq.wording import format_day


def load_knowledge_for_checks() -> KnowledgeBase:
    """The knowledge store's records; loads knowledge/ first if the database is still empty, and
    warns when knowledge/ has changed since the last load (staff load on purpose: `kb load`)."""
    engine = make_engine()
    if not store.is_loaded(engine):
        store.load_directory(engine, settings.knowledge_dir())
    elif store.is_stale(engine, settings.knowledge_dir()):
        print(
            "warning: knowledge/ has changed since it was last loaded; these answers use the loaded "
            "version (run `visafaq kb load` to update it)",
            file=sys.stderr,
        )
    return store.read(engine)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-24") from error


def _add_options(parser: argparse.ArgumentParser, model: type[BaseModel]) -> None:
    for name, info in model.model_fields.items():
        kind = base_type(info.annotation)
        flag = "--" + name.replace("_", "-")
        help_text = info.description or ""
        if kind is bool:
            parser.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        elif isinstance(kind, type) and issubclass(kind, Enum):
            parser.add_argument(flag, dest=name, choices=[m.value for m in kind], default=None, help=help_text)
        else:
            python_type = kind if kind in (int, float) else str
            parser.add_argument(
                flag,
                dest=name,
                type=python_type,
                default=None,
                metavar=python_type.__name__.upper(),
                help=help_text,
            )


def add_eligibility_parser(commands: Any) -> None:
    eligibility = commands.add_parser("eligibility", help="run an eligibility check and explain the verdict")
    checks = eligibility.add_subparsers(dest="check", required=True, metavar="CHECK")
    for check in CHECKS.values():
        sub = checks.add_parser(check.name, help=check.summary, description=check.summary)
        _add_options(sub, check.inputs)
        sub.add_argument("--on", type=_day, default=None, help="the day to judge for (default: today)")
        sub.add_argument("--json", action="store_true", help="print one JSON object")
        sub.set_defaults(handler=_run_check, parser=sub)


def _run_check(args: argparse.Namespace) -> int:
    model = CHECKS[args.check].inputs
    inputs = {name: getattr(args, name) for name in model.model_fields if getattr(args, name) is not None}
    on = args.on or settings.today()
    try:
        verdict = evaluate(args.check, inputs, on, load_knowledge_for_checks())
    except InputError as error:
        args.parser.error(str(error))  # usage and exit code 2
    except LookupError as error:  # a rule or parameter the loaded knowledge lacks
        print(f"error: {error}. Is the knowledge store loaded and current (`visafaq kb load`)?", file=sys.stderr)
        return 1
    print(json.dumps(verdict.to_dict(), indent=2, ensure_ascii=False) if args.json else render(verdict))
    return 0


def render(verdict: Verdict) -> str:
    lines = [f"{verdict.check} on {format_day(verdict.on)}: {verdict.outcome.value.upper()}"]
    if verdict.value is not None:
        lines.append(f"value: {verdict.value}")
    for reason in verdict.reasons:
        mark = "✓" if reason.passed else "✗"
        lines.append(f"  {mark} {reason.detail}  [{reason.rule}]")
        if reason.source:
            where = f", {reason.source.address}" if reason.source.address else ""
            lines.append(
                f"      source: {reason.source.title} ({reason.source.publisher}{where}), "
                f"checked {format_day(reason.source.checked)}"
            )
    for pending in verdict.pending:
        lines.append(f"  ? {pending.text}  [{pending.rule}]")
    if verdict.missing:
        options = " ".join("--" + name.replace("_", "-") for name in verdict.missing)
        lines.append(f"still needed: {options}")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run it as: visafaq eligibility CHECK ...")
