"""A small tuning sample for issue 13 (verdicts, meaning check): answers, verdicts, latencies.

Not the evaluation (that is eval/questions with expected verdicts, written separately): a
bounded run of ~20 questions to compare before/after by hand.

    PYTHONPATH=src POLICY_RAG_INDEX=... nice -n 10 python eval/verdict_sample.py local out.jsonl
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

IDS = ["en-004", "en-008", "nl-084", "nl-090", "nl-069", "nl-089", "en-226", "nl-067", "nl-060", "nl-088",
       "nl-004", "en-072", "en-214", "nl-002", "nl-001", "en-228"]
ISSUE = [  # the examples of issue 13
    "Wij gebruiken een chatbot op onze website. Moeten we klanten vertellen dat ze met AI praten?",
    "Moet mijn personeel een AI-training volgen?",
    "Wat is de maximale boete voor het gebruik van een verboden AI-praktijk?",
    "Mag ik emotieherkenning gebruiken op de werkplek?",
]


def main(backend: str, out: str) -> None:
    from policy_rag.assistant import Assistant

    here = Path(__file__).parent
    qs = {json.loads(line)["id"]: json.loads(line) for line in (here / "questions.jsonl").open(encoding="utf-8")}
    items = [(i, qs[i]["question"]) for i in IDS] + [(f"issue-{k}", q) for k, q in enumerate(ISSUE, 1)]
    a = Assistant()
    rows = []
    with open(out, "w", encoding="utf-8") as f:
        for qid, q in items:
            t = time.perf_counter()
            ans = a.ask(q, backend=backend)
            row = {"id": qid, "question": q, "wall": round(time.perf_counter() - t, 2),
                   **{k: v for k, v in ans.to_dict().items() if k in ("answer", "verdict", "refused", "notes", "timings")},
                   "quotes": [c.quote for c in ans.citations], "labels": [c.passage.label for c in ans.citations]}
            rows.append(row)
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            f.flush()
    for k in ("first_token", "total"):
        xs = [r["timings"][k] for r in rows if k in r["timings"]]
        if xs:
            print(f"{k}: p50 {statistics.median(xs):.2f} s over {len(xs)}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
