"""Answer accuracy of the assistant against retrieval baselines, and its out-of-scope detection.

Questions: benchmarks/questions.yml, `questions: [{id, question, programme, topic, key_facts}]`.

Baselines rank the knowledge store's facts that are current and in force on the benchmark day
(VISAFAQ_TODAY, default 2026-11-24), their texts rendered with the parameter values of that day:
- TF-IDF (scikit-learn), BM25 (rank-bm25, Okapi), all-MiniLM-L6-v2 cosine (benchmarks/embed.py in
  .venv-bench), each over the fact text alone and over the text plus the fact's keywords (what the
  store's own full-text index holds).
A baseline's answer is the texts of its top 3 facts joined.

The assistant: the real action server and Rasa server (visafaq.launcher) with models/visafaq.tar.gz,
a fresh knowledge store and tracker store; each question is a new conversation over REST, the answer
is every reply text joined. `/model/parse` gives the predicted intent (`ask_<topic>`) and programme.

Scores, per method:
- answer accuracy: share of questions whose answer contains every key fact (case-insensitive,
  Unicode NFKC, runs of whitespace read as one space);
- key-fact recall: share of all key facts found in the answers;
- topic / programme accuracy: the top fact's topic and programme (the assistant: the predicted
  intent and programme entity; no programme predicted counts as right when "general" is expected).

Out of scope: every query of CLINC150's `test` and `oos_test` splits (less `international_visa`
queries naming Japan) through `/model/parse`; predicted `out_of_scope` or `nlu_fallback` counts as
out of scope. The in-scope rate on questions.yml is reported beside it.

Usage: .venv/bin/python benchmarks/accuracy.py [--skip-assistant] [--skip-clinc] [--clinc-limit N]
Writes benchmarks/results/accuracy.json; benchmarks/report.py turns it into RESULTS.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import numpy as np
import yaml
from numpy.typing import NDArray
from rank_bm25 import BM25Okapi
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

import common
from visafaq.answering import meant_programme
from visafaq.db.engine import make_engine
from visafaq.knowledge import store
from visafaq.knowledge.documents import FactStatus
from visafaq.knowledge.queries import KnowledgeStore, ParameterNotInForceError
from visafaq.settings import PROJECT_ROOT

TOP_K = 3
CLINC = Path(os.environ.get("VISAFAQ_CLINC", PROJECT_ROOT.parent / "shared/data/clinc150"))


def _sample_clinc() -> ModuleType:
    """scripts/sample_clinc.py as a module (scripts/ is not a package)."""
    path = PROJECT_ROOT / "scripts" / "sample_clinc.py"
    spec = importlib.util.spec_from_file_location("sample_clinc", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CLINC_SPLITS = ("test", "oos_test")
#: CLINC intents that overlap the assistant's own conversation intents (greet, goodbye, thanks,
#: affirm, deny, stop, bot_challenge, "what can I ask"): answering them is right, not a miss.
#: Reported as a second figure; the headline figure counts every query. The list is the one the
#: training sample leaves out (scripts/sample_clinc.py), so the two cannot disagree.
CLINC_OWN_INTENTS: frozenset[str] = _sample_clinc().EXCLUDED_INTENTS
JAPAN = re.compile(r"japan", re.IGNORECASE)
EMBED_TIMEOUT = 900.0
REQUEST_TIMEOUT = 60.0
#: Upper bounds on time, whatever the data: the questions and the CLINC queries.
QUESTIONS_DEADLINE = 20 * 60.0
CLINC_DEADLINE = 40 * 60.0
_TOKEN = re.compile(r"[a-z0-9]+")


# --- inputs --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Question:
    id: str
    question: str
    programme: str
    topic: str
    key_facts: tuple[str, ...]


def load_questions(path: Path) -> list[Question]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = document.get("questions") if isinstance(document, dict) else None
    if not isinstance(items, list) or not items:
        raise SystemExit(
            f"{path}: expected `questions: [{{id, question, programme, topic, key_facts}}]`"
        )
    questions, seen = [], set()
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise SystemExit(f"{path}: question {n} is not a mapping")
        missing = [
            k for k in ("id", "question", "programme", "topic", "key_facts") if k not in item
        ]
        if missing:
            raise SystemExit(f"{path}: question {n} ({item.get('id')}) lacks {', '.join(missing)}")
        key_facts = item["key_facts"]
        if not isinstance(key_facts, list) or not all(
            isinstance(k, str | int | float) for k in key_facts
        ):
            raise SystemExit(f"{path}: question {item['id']}: key_facts must be a list of strings")
        if str(item["id"]) in seen:
            raise SystemExit(f"{path}: question id {item['id']} appears twice")
        seen.add(str(item["id"]))
        questions.append(
            Question(
                id=str(item["id"]),
                question=str(item["question"]),
                programme=str(item["programme"]),
                topic=str(item["topic"]),
                key_facts=tuple(str(k) for k in key_facts),
            )
        )
    return questions


@dataclass(frozen=True)
class Doc:
    id: str
    programme: str
    topic: str
    text: str
    keywords: tuple[str, ...]

    def indexed(self, with_keywords: bool) -> str:
        return f"{self.text} {' '.join(self.keywords)}" if with_keywords else self.text


@dataclass(frozen=True)
class Knowledge:
    docs: list[Doc]
    programme_names: dict[str, str]  # casefolded name, short name, alias or id -> programme id
    skipped: list[str]  # facts in force whose parameters are not (a data error; reported)
    counts: dict[str, int]


def load_knowledge(directory: Path, on: date) -> Knowledge:
    """The current facts in force on `on`, rendered, from a throw-away SQLite copy of knowledge/."""
    with tempfile.TemporaryDirectory(prefix="visafaq-bench-kb-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'kb.sqlite3'}")
        try:
            store.load_directory(engine, directory)
            knowledge = KnowledgeStore(engine)
            base = knowledge.base
            docs, skipped = [], []
            for fact in base.facts.values():
                if fact.status is not FactStatus.CURRENT or not fact.in_force_on(on):
                    continue
                try:
                    text = knowledge.render(fact.text, on)
                except ParameterNotInForceError:
                    skipped.append(fact.id)
                    continue
                docs.append(Doc(fact.id, fact.programme, fact.topic, text, tuple(fact.keywords)))
            names: dict[str, str] = {}
            for programme in base.programmes.values():
                for name in (
                    programme.id,
                    programme.name,
                    programme.short_name,
                    *programme.aliases,
                ):
                    names[name.strip().casefold()] = programme.id
            counts = {
                "facts": len(base.facts),
                "current_in_force": len(docs),
                "skipped": len(skipped),
            }
        finally:
            engine.dispose()
    return Knowledge(docs, names, skipped, counts)


# --- scoring -------------------------------------------------------------------------------------
def normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def found_key_facts(answer: str, key_facts: Sequence[str]) -> list[bool]:
    said = normalise(answer)
    return [normalise(key) in said for key in key_facts]


@dataclass(frozen=True)
class Outcome:
    """One question answered by one method."""

    id: str
    correct: bool
    key_facts_found: int
    key_facts: int
    topic: str | None
    programme: str | None
    topic_ok: bool
    programme_ok: bool
    detail: dict[str, Any]


def outcome(
    question: Question,
    answer: str,
    topic: str | None,
    programme: str | None,
    detail: dict[str, Any],
) -> Outcome:
    found = found_key_facts(answer, question.key_facts)
    return Outcome(
        id=question.id,
        correct=all(found),
        key_facts_found=sum(found),
        key_facts=len(found),
        topic=topic,
        programme=programme,
        topic_ok=topic == question.topic,
        programme_ok=programme == question.programme
        or (programme is None and question.programme == "general"),
        detail={
            **detail,
            "missing_key_facts": [
                k for k, ok in zip(question.key_facts, found, strict=True) if not ok
            ],
        },
    )


def share(count: int, total: int) -> float | None:
    return round(count / total, 4) if total else None


def summarise(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    n = len(outcomes)
    key_total = sum(o.key_facts for o in outcomes)
    return {
        "questions": n,
        "answer_accuracy": share(sum(o.correct for o in outcomes), n),
        "key_fact_recall": share(sum(o.key_facts_found for o in outcomes), key_total),
        "topic_accuracy": share(sum(o.topic_ok for o in outcomes), n),
        "programme_accuracy": share(sum(o.programme_ok for o in outcomes), n),
        "correct": sum(o.correct for o in outcomes),
    }


def record(result: Outcome) -> dict[str, Any]:
    """What the results file keeps of one outcome: replies only where the answer was wrong."""
    kept = dict(result.__dict__)
    if result.correct:
        kept["detail"] = {k: v for k, v in result.detail.items() if k != "reply"}
    return kept


def method_result(
    name: str, description: str, outcomes: Sequence[Outcome], seconds: float
) -> dict[str, Any]:
    return {
        "method": name,
        "description": description,
        "summary": summarise(outcomes),
        "seconds": round(seconds, 3),
        "per_question": [record(o) for o in outcomes],
    }


# --- baselines -----------------------------------------------------------------------------------
Scores = NDArray[np.float64]


def tokens(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.casefold()) if t not in ENGLISH_STOP_WORDS]


def tfidf_scores(docs: list[str], queries: list[str]) -> Scores:
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True)
    matrix = vectorizer.fit_transform(docs)
    similarity = vectorizer.transform(queries) @ matrix.T  # rows are L2-normalised: cosine
    return np.asarray(similarity.toarray(), dtype=np.float64)


def bm25_scores(docs: list[str], queries: list[str]) -> Scores:
    index = BM25Okapi([tokens(d) or ["_"] for d in docs])
    return np.asarray([index.get_scores(tokens(q)) for q in queries], dtype=np.float64)


class EmbeddingError(RuntimeError):
    pass


def embed(texts: list[str], python: Path) -> Scores:
    """Normalised all-MiniLM-L6-v2 vectors from benchmarks/embed.py, run in .venv-bench."""
    if not python.exists():
        raise EmbeddingError(f"{python} not found: run `make bench-env` to create .venv-bench")
    done = subprocess.run(
        [str(python), str(common.BENCH_DIR / "embed.py")],
        input=json.dumps({"texts": texts}),
        capture_output=True,
        text=True,
        timeout=EMBED_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise EmbeddingError(f"embed.py exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    vectors = np.asarray(json.loads(done.stdout)["embeddings"], dtype=np.float64)
    if vectors.shape[0] != len(texts):
        raise EmbeddingError(f"embed.py returned {vectors.shape[0]} vectors for {len(texts)} texts")
    return vectors


def minilm_scorer(python: Path) -> Callable[[list[str], list[str]], Scores]:
    def scores(docs: list[str], queries: list[str]) -> Scores:
        vectors = embed(docs + queries, python)
        return np.asarray(vectors[len(docs) :] @ vectors[: len(docs)].T, dtype=np.float64)

    return scores


def top_indices(row: Scores, k: int = TOP_K) -> list[int]:
    """The k best documents; ties keep the order staff wrote the facts in."""
    return [int(i) for i in np.argsort(-row, kind="stable")[:k]]


def run_baseline(
    name: str,
    description: str,
    scorer: Callable[[list[str], list[str]], Scores],
    knowledge: Knowledge,
    questions: list[Question],
    with_keywords: bool,
) -> dict[str, Any]:
    started = time.perf_counter()
    docs = knowledge.docs
    scores = scorer([d.indexed(with_keywords) for d in docs], [q.question for q in questions])
    outcomes = []
    for question, row in zip(questions, scores, strict=True):
        best = [docs[i] for i in top_indices(row)]
        answer = "\n".join(d.text for d in best)
        outcomes.append(
            outcome(
                question,
                answer,
                best[0].topic,
                best[0].programme,
                {"top_facts": [d.id for d in best]},
            )
        )
    result = method_result(name, description, outcomes, time.perf_counter() - started)
    common.log(f"{name}: {result['summary']}")
    return result


def baselines(
    knowledge: Knowledge, questions: list[Question], bench_python: Path | None
) -> dict[str, Any]:
    methods: list[tuple[str, str, Callable[[list[str], list[str]], Scores]]] = [
        ("tfidf", "TF-IDF cosine (scikit-learn, English stop words, sublinear tf)", tfidf_scores),
        ("bm25", "BM25 Okapi (rank-bm25, k1=1.5, b=0.75)", bm25_scores),
    ]
    if bench_python is not None:
        methods.append(
            (
                "minilm",
                "all-MiniLM-L6-v2 cosine (sentence-transformers)",
                minilm_scorer(bench_python),
            )
        )
    results: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    for name, description, scorer in methods:
        for with_keywords in (False, True):
            key = f"{name}+keywords" if with_keywords else name
            fields = "fact text and keywords" if with_keywords else "fact text"
            try:
                results[key] = run_baseline(
                    key,
                    f"{description}, over {fields}",
                    scorer,
                    knowledge,
                    questions,
                    with_keywords,
                )
            except EmbeddingError as error:
                skipped[key] = str(error)
                common.log(f"{key}: not run: {error}")
    if bench_python is None:
        skipped["minilm"] = "--skip-embeddings"
    return {"methods": results, "not_run": skipped}


# --- the assistant -------------------------------------------------------------------------------
class RasaClient:
    """REST and /model/parse on the running Rasa server.

    `Authorization: Bearer <token>` is tried first, but Rasa 3.6's `--auth-token` reads only the
    `token` query parameter (a bearer header means JWT, which the launcher does not configure): on
    401 the query parameter is used, and the results record which one worked."""

    def __init__(self, running: common.Running) -> None:
        self.running = running
        self.http = httpx.Client(base_url=running.rasa_url, timeout=REQUEST_TIMEOUT)
        self.auth = "bearer-header"

    def close(self) -> None:
        self.http.close()

    def say(self, sender: str, message: str) -> tuple[list[str], list[str], float]:
        """The texts and button payloads of the bot's replies, and the round trip in seconds."""
        started = time.perf_counter()
        response = self.http.post(
            "/webhooks/rest/webhook", json={"sender": sender, "message": message}
        )
        response.raise_for_status()
        replies = [r for r in response.json() if isinstance(r, dict)]
        texts = [str(r["text"]) for r in replies if r.get("text")]
        payloads = [
            str(b.get("payload", ""))
            for r in replies
            for b in r.get("buttons") or []
            if isinstance(b, dict)
        ]
        return texts, payloads, time.perf_counter() - started

    def _credentials(self) -> tuple[dict[str, str], dict[str, str]]:
        """Headers and query parameters carrying the token, the way that worked so far."""
        if self.auth == "bearer-header":
            return {"Authorization": f"Bearer {self.running.token}"}, {}
        return {}, {"token": self.running.token}

    def slots(self, sender: str) -> dict[str, Any]:
        """The conversation's slots: what the assistant took the question to be about."""
        headers, params = self._credentials()
        response = self.http.get(f"/conversations/{sender}/tracker", params=params, headers=headers)
        response.raise_for_status()
        return dict(response.json().get("slots") or {})

    def parse(self, text: str) -> dict[str, Any]:
        headers, params = self._credentials()
        response = self.http.post(
            "/model/parse", json={"text": text}, params=params, headers=headers
        )
        if response.status_code == 401 and self.auth == "bearer-header":
            self.auth = "token-query-parameter"
            common.log(
                "/model/parse: bearer header refused (401); using ?token= as Rasa 3.6 expects"
            )
            return self.parse(text)
        response.raise_for_status()
        return dict(response.json())


def intent_of(parsed: dict[str, Any]) -> tuple[str, float]:
    intent = parsed.get("intent") or {}
    return str(intent.get("name") or ""), float(intent.get("confidence") or 0.0)


def programme_of(
    parsed: dict[str, Any], names: dict[str, str], topic: str | None = None
) -> str | None:
    """The programme entity as an id; of several, the one the actions take (`meant_programme`)."""
    entities = sorted(parsed.get("entities") or [], key=lambda e: int(e.get("start") or 0))
    named = [
        names[value]
        for entity in entities
        if entity.get("entity") in {"programme", "PROGRAMME"}
        and (value := str(entity.get("value", "")).strip().casefold()) in names
    ]
    return meant_programme(named, topic)


#: Why an assistant answer was right or wrong, in the order the checks run (the first that applies).
FAILURE_KINDS = (
    "right",
    "treated as out of scope",
    "asked which programme",
    "wrong topic",
    "wrong programme",
    "right topic and programme, key fact missing",
)


def failure_kind(result: Outcome, intent: str, asked_programme: bool) -> str:
    if result.correct:
        return FAILURE_KINDS[0]
    if intent in common.OUT_OF_SCOPE_INTENTS:
        return FAILURE_KINDS[1]
    if asked_programme:
        return FAILURE_KINDS[2]
    if not result.topic_ok:
        return FAILURE_KINDS[3]
    if not result.programme_ok:
        return FAILURE_KINDS[4]
    return FAILURE_KINDS[5]


def session_boilerplate(domain: Path = PROJECT_ROOT / "domain") -> set[str]:
    """The texts of `utter_disclaimer`, which opens every conversation (normalised)."""
    found: set[str] = set()
    for path in sorted(domain.glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for variant in (document.get("responses") or {}).get("utter_disclaimer") or []:
            if isinstance(variant, dict) and variant.get("text"):
                found.add(normalise(str(variant["text"])))
    return found


def ask_questions(
    client: RasaClient, questions: list[Question], names: dict[str, str]
) -> dict[str, Any]:
    boilerplate = session_boilerplate()
    if not boilerplate:
        common.log("no utter_disclaimer in domain/: every reply text is scored")
    deadline = time.monotonic() + QUESTIONS_DEADLINE
    outcomes: list[Outcome] = []
    latencies: list[float] = []
    in_scope = 0
    failures: Counter[str] = Counter()
    started = time.perf_counter()
    for question in questions:
        if time.monotonic() > deadline:
            common.log(f"questions: stopped after {len(outcomes)} (time limit)")
            break
        sender = f"bench-accuracy-{question.id}-{uuid.uuid4().hex[:8]}"  # a new conversation each
        texts, payloads, seconds = client.say(sender, question.question)
        # The session's opening disclaimer is the same for every question and names every
        # programme: it is left out of what is scored (it is kept in the record).
        answer = "\n".join(t for t in texts if normalise(t) not in boilerplate)
        latencies.append(seconds)
        parsed = client.parse(question.question)
        intent, confidence = intent_of(parsed)
        in_scope += intent not in common.OUT_OF_SCOPE_INTENTS
        topic = intent.removeprefix("ask_") if intent.startswith("ask_") else None
        programme = programme_of(parsed, names, topic)
        # What the answer was about, where the assistant recorded it: a programme it implied from
        # the question's words, or the check's, rather than only the one the question named.
        slots = client.slots(sender)
        if topic is not None and slots.get("topic"):
            topic = str(slots["topic"])
        if topic is not None and slots.get("programme"):
            programme = str(slots["programme"])
        asked_programme = intent not in {"greet", "inform"} and any(
            p.startswith('/inform{"programme"') for p in payloads
        )
        detail = {
            "intent": intent,
            "confidence": round(confidence, 4),
            "asked_which_programme": asked_programme,
            "reply": texts,
        }
        outcomes.append(outcome(question, answer, topic, programme, detail))
        failures[failure_kind(outcomes[-1], intent, asked_programme)] += 1
    result = method_result(
        "assistant",
        "visafaq (Rasa 3.6 NLU + knowledge store), each question a new REST conversation",
        outcomes,
        time.perf_counter() - started,
    )
    result["summary"]["in_scope_rate"] = share(in_scope, len(outcomes))
    result["summary"]["in_scope"] = in_scope
    result["summary"]["rest_seconds_median"] = (
        round(float(np.median(latencies)), 4) if latencies else None
    )
    result["auth"] = client.auth
    result["outcomes_by_kind"] = {kind: failures[kind] for kind in FAILURE_KINDS}
    common.log(f"assistant: {result['summary']}")
    common.log(f"assistant outcomes: {result['outcomes_by_kind']}")
    return result


def clinc_queries(
    limit: int | None, names: Sequence[str] = CLINC_SPLITS
) -> dict[str, list[tuple[str, str]]]:
    data = json.loads((CLINC / "data_full.json").read_text(encoding="utf-8"))
    splits: dict[str, list[tuple[str, str]]] = {}
    for split in names:
        rows = [
            (str(text), str(intent))
            for text, intent in data[split]
            if not (intent == "international_visa" and JAPAN.search(text))
        ]
        splits[split] = rows[:limit] if limit else rows
    return splits


def out_of_scope_share(client: RasaClient, limit: int | None) -> dict[str, Any]:
    deadline = time.monotonic() + CLINC_DEADLINE
    splits = clinc_queries(limit)
    result: dict[str, Any] = {"splits": {}, "source": str(CLINC / "data_full.json")}
    total = total_oos = own_total = own_oos = 0
    for split, rows in splits.items():
        oos, done = 0, 0
        missed_as: Counter[str] = Counter()
        missed_from: Counter[str] = Counter()
        for text, clinc_intent in rows:
            if time.monotonic() > deadline:
                common.log(f"CLINC {split}: stopped after {done} queries (time limit)")
                break
            intent, _confidence = intent_of(client.parse(text))
            done += 1
            is_oos = intent in common.OUT_OF_SCOPE_INTENTS
            oos += is_oos
            if clinc_intent not in CLINC_OWN_INTENTS:
                own_total += 1
                own_oos += is_oos
            if not is_oos:
                missed_as[intent] += 1
                missed_from[clinc_intent] += 1
            if done % 500 == 0:
                common.log(
                    f"CLINC {split}: {done}/{len(rows)}, out of scope so far {oos / done:.3f}"
                )
        result["splits"][split] = {
            "queries": done,
            "out_of_scope": oos,
            "out_of_scope_share": share(oos, done),
            "missed_predicted_as": dict(missed_as.most_common(15)),
            "missed_clinc_intents": dict(missed_from.most_common(15)),
        }
        total += done
        total_oos += oos
        common.log(f"CLINC {split}: out of scope {oos}/{done}")
    result["combined"] = {
        "queries": total,
        "out_of_scope": total_oos,
        "out_of_scope_share": share(total_oos, total),
    }
    result["excluding_own_intents"] = {
        "left_out": sorted(CLINC_OWN_INTENTS),
        "queries": own_total,
        "out_of_scope": own_oos,
        "out_of_scope_share": share(own_oos, own_total),
    }
    result["left_out"] = "international_visa queries that mention Japan"
    return result


def assistant_results(
    questions: list[Question],
    knowledge: Knowledge,
    model: Path,
    run_clinc: bool,
    clinc_limit: int | None,
) -> dict[str, Any]:
    if not common.wait_for_file(model, "the trained model"):
        return {"not_run": f"no trained model at {model} after waiting 40 minutes"}
    with common.running_assistant(model) as running:
        client = RasaClient(running)
        try:
            answered = ask_questions(client, questions, knowledge.programme_names)
            clinc = (
                out_of_scope_share(client, clinc_limit)
                if run_clinc
                else {"not_run": "--skip-clinc"}
            )
        finally:
            client.close()
        return {
            "assistant": answered,
            "clinc": clinc,
            "startup_seconds": running.assistant.startup_seconds(),
            "model": common.shown(model),
            "model_bytes": model.stat().st_size,
        }


# --- main ----------------------------------------------------------------------------------------
def coverage(knowledge: Knowledge, questions: list[Question]) -> dict[str, Any]:
    """Key facts that no current fact contains: only the assistant's own wording can score them."""
    corpus = [normalise(d.text) for d in knowledge.docs]
    absent = {
        q.id: [k for k in q.key_facts if not any(normalise(k) in text for text in corpus)]
        for q in questions
    }
    absent = {qid: keys for qid, keys in absent.items() if keys}
    return {"questions_with_key_facts_in_no_fact": len(absent), "detail": absent}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--questions", type=Path, default=common.QUESTIONS)
    parser.add_argument("--model", type=Path, default=common.MODEL)
    parser.add_argument(
        "--bench-python", type=Path, default=PROJECT_ROOT / ".venv-bench/bin/python"
    )
    parser.add_argument("--output", type=Path, default=common.RESULTS_DIR / "accuracy.json")
    parser.add_argument(
        "--skip-embeddings", action="store_true", help="no all-MiniLM-L6-v2 baseline"
    )
    parser.add_argument("--skip-assistant", action="store_true", help="baselines only, no servers")
    parser.add_argument("--skip-clinc", action="store_true", help="no CLINC150 out-of-scope run")
    parser.add_argument(
        "--clinc-limit", type=int, default=None, help="at most N queries per split (a quick try)"
    )
    args = parser.parse_args(argv)
    common.stop_on_sigterm()

    if not common.wait_for_file(args.questions, "the benchmark questions"):
        return 1
    questions = load_questions(args.questions)
    on = common.today()
    knowledge = load_knowledge(common.KNOWLEDGE, on)
    common.log(f"{len(questions)} questions; {len(knowledge.docs)} current facts in force on {on}")

    results: dict[str, Any] = {
        "run": common.run_info(" ".join(["benchmarks/accuracy.py", *(argv or sys.argv[1:])])),
        "questions": {"file": str(args.questions), "count": len(questions)},
        "knowledge": knowledge.counts | {"skipped_fact_ids": knowledge.skipped},
        "coverage": coverage(knowledge, questions),
        "top_k": TOP_K,
    }
    results["baselines"] = baselines(
        knowledge, questions, None if args.skip_embeddings else args.bench_python
    )
    if args.skip_assistant:
        results["assistant"] = {"not_run": "--skip-assistant"}
    else:
        results["assistant"] = assistant_results(
            questions, knowledge, args.model, not args.skip_clinc, args.clinc_limit
        )
    common.write_json(args.output, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
