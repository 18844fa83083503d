"""Calibrate the support thresholds on hand-marked examples (eval/calibration.jsonl).

    .venv/bin/python eval/calibrate.py

For each (passage id, sentence, supported) it prints the scores of both support tests
(the evaluation judge: EmbeddingGemma similarity to the passage's best sentence; the
answer checker's lexical overlap) and, for a range of thresholds, how many examples each
gets right. The thresholds in evaluate.JUDGE_THRESHOLD and answer.SEMANTIC_SUPPORT /
answer.LEXICAL_SUPPORT were chosen from this output.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> int:
    from policy_rag.answer import lexical_support
    from policy_rag.assistant import Assistant
    from policy_rag.evaluate import Judge
    from policy_rag.lang import detect_language

    a = Assistant()
    judge = Judge(a.embedder)
    rows = [json.loads(x) for x in (ROOT / "eval" / "calibration.jsonl").read_text().splitlines() if x.strip()]
    scored = []
    for r in rows:
        p = a.index.get(r["passage"])
        if p is None:
            print(f"missing passage {r['passage']}: rebuild the index")
            return 1
        sem = judge.score(r["sentence"], p.text)
        lex = lexical_support(r["sentence"], detect_language(r["sentence"]), p.text, p.lang)
        scored.append((r, sem, lex))
        print(f"{'+' if r['supported'] else '-'} sem {sem:.3f} lex {lex:.2f}  {r['passage']:<34} {r['sentence'][:70]}")
    for name, idx in (("semantic", 1), ("lexical", 2)):
        print(f"\n{name}: threshold -> correct of {len(scored)}")
        for t in [x / 100 for x in range(40, 96, 4)]:
            ok = sum((s[idx] >= t) == s[0]["supported"] for s in scored)
            print(f"  {t:.2f}: {ok}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
