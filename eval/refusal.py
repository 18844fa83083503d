"""Refusal signals on the evaluation set: the top cosine and the unknown names per question.

    .venv/bin/python eval/refusal.py

Prints the top-cosine percentiles for answerable and unanswerable questions, the share of
each refused at a range of thresholds (settings.min_dense_score is chosen from this), and
every unanswerable question with its score, unknown names and top passage.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> int:
    import numpy as np

    from policy_rag.assistant import Assistant
    from policy_rag.evaluate import load_questions

    a = Assistant()
    rows = []
    for q in load_questions():
        res = a.retriever.search(q.question)
        rows.append((q, res.top_dense, res.unknown_terms, res.hits[0].passage.id if res.hits else None))
    ans = np.array([s for q, s, _, _ in rows if q.answerable])
    una = np.array([s for q, s, _, _ in rows if not q.answerable])
    print(f"top cosine, answerable p5/p25/p50: {np.percentile(ans, [5, 25, 50]).round(3)}; "
          f"unanswerable p50/p75/p95: {np.percentile(una, [50, 75, 95]).round(3)}")
    for t in np.arange(0.40, 0.70, 0.02):
        refused_una = np.mean([s < t or bool(u) for q, s, u, _ in rows if not q.answerable])
        refused_ans = np.mean([s < t or bool(u) for q, s, u, _ in rows if q.answerable])
        print(f"threshold {t:.2f} (+ unknown names): correct refusals {refused_una:.2f}, false refusals {refused_ans:.2f}")
    for q, s, u, top in sorted((r for r in rows if not r[0].answerable), key=lambda r: -r[1]):
        print(f"{s:.3f} {q.id:<7} unknown={u} {q.question[:70]} -> {top}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
