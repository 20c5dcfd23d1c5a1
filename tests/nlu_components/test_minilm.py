"""The NumPy all-MiniLM-L6-v2 (nlu/minilm.py) and its Rasa featurizer (nlu/minilm_featurizer.py).

Both run in the Rasa environment (Python 3.10), so each test runs a short script there. The reference
vectors were computed by sentence-transformers itself (benchmarks/embed.py in .venv-bench)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from tests.rasa_env import run_in_rasa_env

REFERENCE = Path(__file__).with_name("minilm_reference.json")


EMBED = """
import json, re, sys
from nlu.minilm import shared_encoder
encoder = shared_encoder()
out = []
for text in json.loads(sys.stdin.read()):
    words, sentence = encoder.embed_words(re.findall(r"\\w+|[^\\w\\s]", text))
    out.append({"words": len(words), "sentence": [float(x) for x in sentence]})
print(json.dumps(out))
"""


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))
    return dot / norm


def test_sentence_embeddings_match_sentence_transformers() -> None:
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))["embeddings"]
    ours = run_in_rasa_env(EMBED, [item["text"] for item in reference])
    for item, mine in zip(reference, ours, strict=True):
        assert len(mine["sentence"]) == 384
        assert cosine(mine["sentence"], item["vector"]) > 0.9999, item["text"]
    # Paraphrases are closer than unrelated questions: the property the featurizer is there for.
    visa, _, _, weather = (mine["sentence"] for mine in ours)
    paraphrase = run_in_rasa_env(EMBED, ["how many months until the certificate of eligibility for a trainee"])
    assert cosine(visa, paraphrase[0]["sentence"]) > cosine(weather, paraphrase[0]["sentence"]) + 0.2


FEATURIZE = """
import json, sys
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from nlu.minilm_featurizer import MiniLMFeaturizer
tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
featurizer = MiniLMFeaturizer({**MiniLMFeaturizer.get_default_config(), "alias": "minilm"}, "minilm")
out = []
for text in json.loads(sys.stdin.read()):
    message = Message.build(text=text)
    tokenizer.process_training_data(TrainingData([message]))
    featurizer.process([message])
    sequence, sentence = message.get_dense_features("text")
    out.append({
        "tokens": len(message.get("text_tokens") or []),
        "sequence": list(sequence.features.shape) if sequence else None,
        "sentence": list(sentence.features.shape) if sentence else None,
    })
print(json.dumps(out))
"""


def test_featurizer_gives_one_vector_per_token_and_one_per_sentence() -> None:
    texts = ["can a TITP trainee change company", "💼 🇯🇵", "技能実習", "a " * 400]
    results = run_in_rasa_env(FEATURIZE, texts)
    for text, result in zip(texts, results, strict=True):
        assert result["sequence"] == [result["tokens"], 384], text[:40]
        assert result["sentence"] == [1, 384], text[:40]
