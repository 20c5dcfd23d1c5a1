"""The project's spaCy pipeline against Rasa's whitespace tokenizer, and with and without MiniLM,
on the held-out NLU set.

The shipped variant is config.yml as it is (SpacyNLP loading the rule-built pipeline,
SpacyTokenizer, lemmas in the CountVectorsFeaturizer, SpacyEntityExtractor for the entity ruler's
programmes, the intent blend and the nearest-example out-of-scope rule on MiniLM sentence
embeddings, and the MiniLMFeaturizer when config.yml has it). The others are derived from it
here, so they never drift apart:
- whitespace: WhitespaceTokenizer in place of SpacyNLP + SpacyTokenizer, no lemmas, no
  SpacyEntityExtractor; everything else identical;
- no MiniLM: config.yml without the components that use MiniLM (featurizer, intent blend,
  nearest-example rule).

Each is trained NLU-only into a temporary folder (`rasa train nlu`, timed) and evaluated with
`rasa test nlu --nlu tests/nlu`: intent accuracy and macro F1, programme-entity F1. Writes
benchmarks/results/pipelines.json.

Usage: .venv/bin/python benchmarks/pipelines.py
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

import common

RASA = common.PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
HELD_OUT = common.PROJECT_ROOT / "tests" / "nlu"
SPACY_ONLY = {"SpacyNLP", "SpacyTokenizer", "SpacyEntityExtractor"}
MINILM = {
    "nlu.minilm_featurizer.MiniLMFeaturizer",
    "nlu.nearest_example.NearestExampleOutOfScopeClassifier",
    "nlu.intent_blend.EmbeddingIntentBlender",
}
TRAIN_TIMEOUT = 1800
TEST_TIMEOUT = 900


def whitespace_variant(config: dict[str, Any]) -> dict[str, Any]:
    """config.yml with the whitespace tokenizer instead of the spaCy parts."""
    pipeline: list[dict[str, Any]] = [{"name": "WhitespaceTokenizer"}]
    for component in config["pipeline"]:
        if component["name"] in SPACY_ONLY:
            continue
        pipeline.append({k: v for k, v in component.items() if k != "use_lemma"})
    return {**config, "pipeline": pipeline}


def without_minilm(config: dict[str, Any]) -> dict[str, Any]:
    """config.yml without the components that use MiniLM."""
    return {**config, "pipeline": [c for c in config["pipeline"] if c["name"] not in MINILM]}


def rasa(*args: str, timeout: float) -> float:
    """Run a rasa command from the project root; its wall-clock seconds."""
    # No training cache: a component restored from it would make the training time meaningless.
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "RASA_MAX_CACHE_SIZE": "0",
    }
    started = time.perf_counter()
    subprocess.run(
        [str(RASA), *args],
        cwd=common.PROJECT_ROOT,
        env=env,
        check=True,
        timeout=timeout,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return round(time.perf_counter() - started, 1)


def entity_f1(results: Path, entity: str = "programme") -> float | None:
    """The entity's F1 in the best report that has it (DIET or the spaCy extractor)."""
    scores = []
    for report in results.glob("*_report.json"):
        if report.name == "intent_report.json":
            continue
        data = json.loads(report.read_text(encoding="utf-8"))
        if isinstance(data.get(entity), dict):
            scores.append(float(data[entity]["f1-score"]))
    return round(max(scores), 4) if scores else None


def measure(name: str, config: dict[str, Any], work: Path) -> dict[str, Any]:
    config_path = work / f"config-{name}.yml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    models, results = work / f"models-{name}", work / f"results-{name}"
    common.log(f"{name}: training (NLU only)")
    seconds = rasa(
        "train", "nlu", "--config", str(config_path), "--nlu", "data", "--out", str(models),
        "--fixed-model-name", name, timeout=TRAIN_TIMEOUT,
    )  # fmt: skip
    model = models / f"{name}.tar.gz"
    if not model.exists():  # `rasa test` would quietly take the newest model in models/ instead
        raise SystemExit(f"{name}: rasa train wrote no {model}")
    common.log(f"{name}: trained in {seconds} s; testing on {HELD_OUT}")
    rasa(
        "test", "nlu", "--nlu", str(HELD_OUT), "--model", str(model),
        "--out", str(results), timeout=TEST_TIMEOUT,
    )  # fmt: skip
    intents = json.loads((results / "intent_report.json").read_text(encoding="utf-8"))
    return {
        "pipeline": [component["name"] for component in config["pipeline"]],
        "training_seconds": seconds,
        "intent_accuracy": round(float(intents["accuracy"]), 4),
        "intent_macro_f1": round(float(intents["macro avg"]["f1-score"]), 4),
        "programme_entity_f1": entity_f1(results),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=common.RESULTS_DIR / "pipelines.json")
    args = parser.parse_args(argv)
    common.stop_on_sigterm()
    spacy = yaml.safe_load((common.PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="visafaq-pipelines-") as folder:
        work = Path(folder)
        # The spaCy variant's relative model path must resolve from the project root.
        results = {
            "spacy": measure("spacy", spacy, work),
            "whitespace": measure("whitespace", whitespace_variant(spacy), work),
            "spacy_without_minilm": measure("spacy_without_minilm", without_minilm(spacy), work),
        }
    common.write_json(
        args.output,
        {
            "run": common.run_info(" ".join(["benchmarks/pipelines.py", *(argv or sys.argv[1:])])),
            "held_out": str(HELD_OUT.relative_to(common.PROJECT_ROOT)),
            "results": results,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
