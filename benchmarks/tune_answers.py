"""Answer ranking and fact coverage on tuning data, without Rasa: what the answering code says when
NLU is right.

Questions: benchmarks/tuning/answers.yml, answers-more.yml, answers-third.yml and answers-fourth.yml
(written for tuning only, each by another author; same fields as questions.yml).
Each is answered by visafaq.answering.Answerer over a fresh SQLite copy of knowledge/, with the
labelled topic and the labelled programme as the entity (`general` is no entity: the answerer
guesses, as the action does when a question names no programme). A question is right when the reply
contains every key fact, as in benchmarks/accuracy.py. This isolates ranking and the facts from
intent and entity recognition, which benchmarks/accuracy.py --questions measures end to end.

Never run it on benchmarks/questions.yml: that file is for the held-out figures only.

Usage: VISAFAQ_TODAY=2026-11-24 .venv/bin/python benchmarks/tune_answers.py [--verbose]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import common
from accuracy import found_key_facts, load_questions
from visafaq.answering import Answerer
from visafaq.db.engine import make_engine
from visafaq.knowledge import store
from visafaq.knowledge.queries import KnowledgeStore

#: The first set was written with the ranking code; the second, third and fourth later, each by
#: another author, fresh.
TUNING = (
    common.BENCH_DIR / "tuning" / "answers.yml",
    common.BENCH_DIR / "tuning" / "answers-more.yml",
    common.BENCH_DIR / "tuning" / "answers-third.yml",
    common.BENCH_DIR / "tuning" / "answers-fourth.yml",
    common.BENCH_DIR / "tuning" / "answers-fifth.yml",
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--questions", type=Path, nargs="+", default=list(TUNING))
    parser.add_argument("--verbose", action="store_true", help="print every wrong answer")
    args = parser.parse_args(argv)
    if any(path.resolve() == common.QUESTIONS.resolve() for path in args.questions):
        raise SystemExit("benchmarks/questions.yml is the held-out set: tune on benchmarks/tuning/")
    questions = [question for path in args.questions for question in load_questions(path)]
    on = common.today()
    kinds: Counter[str] = Counter()
    with tempfile.TemporaryDirectory(prefix="visafaq-tune-answers-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'kb.sqlite3'}")
        try:
            store.load_directory(engine, common.KNOWLEDGE)
            answerer = Answerer(KnowledgeStore(engine))
            for question in questions:
                named = None if question.programme == "general" else question.programme
                reply = answerer.answer(named, question.topic, question.question, on)
                found = found_key_facts(reply.text, question.key_facts)
                if all(found):
                    kind = "right"
                elif reply.programme is None and reply.buttons:
                    kind = "asked which programme"
                elif not reply.answered:
                    kind = "no facts"
                else:
                    kind = "key fact missing"
                kinds[kind] += 1
                if kind != "right" and args.verbose:
                    missing = [k for k, ok in zip(question.key_facts, found, strict=True) if not ok]
                    print(
                        f"{question.id} [{kind}] {question.question!r} -> {reply.programme}: "
                        f"missing {missing}; facts {list(reply.facts)}"
                    )
        finally:
            engine.dispose()
    right = kinds["right"]
    print(f"{right}/{len(questions)} right ({right / len(questions):.1%}); {dict(kinds)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
