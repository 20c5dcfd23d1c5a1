"""Fail when the held-out NLU evaluation (`rasa test nlu`) falls below a minimum intent accuracy.

Usage: python scripts/check_nlu_results.py RESULTS_DIR MIN_ACCURACY
Prints the accuracy, macro F1 and the intents with the lowest F1, so a regression says where it is.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(results: Path, minimum: float) -> int:
    report = json.loads((results / "intent_report.json").read_text(encoding="utf-8"))
    accuracy = float(report["accuracy"])
    macro_f1 = float(report["macro avg"]["f1-score"])
    intents = {k: v for k, v in report.items() if isinstance(v, dict) and "support" in v and " avg" not in k}
    weakest = sorted(intents.items(), key=lambda item: item[1]["f1-score"])[:5]
    print(f"held-out NLU: intent accuracy {accuracy:.3f}, macro F1 {macro_f1:.3f} (minimum accuracy {minimum})")
    for name, scores in weakest:
        print(f"  weakest: {name:<32} F1 {scores['f1-score']:.2f} (support {scores['support']})")
    if accuracy < minimum:
        print(f"FAILED: intent accuracy {accuracy:.3f} is below {minimum}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1]), float(sys.argv[2])))
