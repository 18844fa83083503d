"""The answerability check's log-odds per question, and the refusal table by threshold.

    .venv/bin/python eval/answerability.py [--questions eval/questions.jsonl] [--answerable 60]

Before the local LLM writes an answer it is asked whether the sources answer the question
(``answer.Answerer.answerability``; the log-odds of "Ja"/"Yes" against "Nee"/"No"). This script
asks it for every unanswerable question and a sample of answerable ones (seeded), with the
same passages and messages as ``policy-rag ask``, and prints, for a range of thresholds, the
share of each refused (retrieval's own refusal included). ``settings.min_answerable_odds``
(off by default since the fifth session: with the 1.5B model the judge cost more than it caught
on the blind held-out sets) is chosen from this table on the development set, then checked on
the held-out sets.
Results go to ``eval/reports/answerability-<file>-<timestamp>.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--questions", type=Path, default=ROOT / "eval" / "questions.jsonl")
    ap.add_argument("--answerable", type=int, default=60, help="sample of answerable questions (0: all)")
    args = ap.parse_args()

    from policy_rag.assistant import Assistant
    from policy_rag.evaluate import load_questions
    from policy_rag.settings import get_settings

    # The judge is off by default (POLICY_RAG_MIN_ANSWERABLE_ODDS=off), and off it asks nothing:
    # switch it on so every question is judged, and with it the judged similarity floor applies.
    # The threshold itself only matters for `ask`; this table spans them all.
    settings = get_settings()
    if settings.min_answerable_odds is None:
        settings = settings.with_(min_answerable_odds=0.25)
    a = Assistant(settings)
    gen = a.generator("local")
    qs = load_questions(args.questions)
    una = [q for q in qs if not q.answerable]
    ans = [q for q in qs if q.answerable]
    if args.answerable and args.answerable < len(ans):
        ans = random.Random(1).sample(ans, args.answerable)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = ROOT / "eval" / "reports" / f"answerability-{args.questions.stem}-{stamp}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    with out.open("w", encoding="utf-8") as fh:
        for i, q in enumerate(una + ans, 1):
            t = time.perf_counter()
            res = a.retriever.search(q.question)
            passages, _ = a.answerer.context(res)
            relevant = not a.answerer.early_refusal(q.question, res, judged=True) and bool(passages)
            odds = None
            if relevant:  # the check exactly as `ask` makes it
                msgs = a.answerer.messages(q.question, res.lang, passages)
                odds = a.answerer.answerability(gen, msgs, res.lang, {})
            row = {"id": q.id, "answerable": q.answerable, "relevant": relevant, "odds": odds,
                   "top_dense": round(res.top_dense, 3),
                   "seconds": round(time.perf_counter() - t, 2)}
            rows.append(row)
            fh.write(json.dumps(row) + "\n")
            fh.flush()
            print(f"[{i}/{len(una) + len(ans)}] {q.id} relevant={relevant} odds={odds}", file=sys.stderr)

    def refused(r: dict, t: float) -> bool:
        return not r["relevant"] or (r["odds"] is not None and r["odds"] < t)

    u = [r for r in rows if not r["answerable"]]
    k = [r for r in rows if r["answerable"]]
    print(f"{len(u)} unanswerable, {len(k)} answerable; retrieval alone refuses "
          f"{sum(not r['relevant'] for r in u) / len(u):.2f} / {sum(not r['relevant'] for r in k) / len(k):.2f}")
    print("threshold  correct refusals  false refusals")
    for t in [x / 4 for x in range(-4, 9)]:
        print(f"{t:9.2f}  {sum(refused(r, t) for r in u) / len(u):16.2f}  {sum(refused(r, t) for r in k) / len(k):14.2f}")
    print(f"written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
