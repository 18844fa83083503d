"""Retrieval on the evaluation questions that ask "from when does X apply" (inforce.asks_from_when):
gold recall@5 and gold at rank 1. These are the only questions whose retrieval the date logic changes
on an index without versions (the Article 113 boost), so before/after is measured on them alone.

    POLICY_RAG_INDEX=... python eval/fromwhen_retrieval.py [--on YYYY-MM-DD]
"""

from __future__ import annotations

import argparse
import json
import time

from policy_rag import legal
from policy_rag.assistant import Assistant
from policy_rag.inforce import asks_from_when
from policy_rag.settings import REPO_ROOT, get_settings

FILES = ["questions.jsonl", "heldout.jsonl", "heldout2.jsonl", "heldout3.jsonl"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--on", default=None)
    args = ap.parse_args()
    qs = [json.loads(line) for f in FILES for line in open(REPO_ROOT / "eval" / f, encoding="utf-8")]
    qs = [q for q in qs if q.get("gold") and asks_from_when(q["question"])]
    a = Assistant(get_settings())
    recall, first, times = [], 0, []
    for q in qs:
        t = time.perf_counter()
        res = a.search(q["question"], k=5, on=args.on)
        times.append(time.perf_counter() - t)
        got = [(h.passage.doc, h.passage.provision) for h in res.hits]
        gold = [g.split(":", 1) for g in q["gold"]]
        found = [any(d == gd and legal.matches(gp, p) for d, p in got) for gd, gp in gold]
        recall.append(sum(found) / len(gold))
        first += any(got and got[0][0] == gd and legal.matches(gp, got[0][1]) for gd, gp in gold)
        print(q["id"], f"{recall[-1]:.2f}", got[:3])
    print(f"{len(qs)} questions: recall@5 {sum(recall) / len(recall):.3f}, gold@1 {first}/{len(qs)}, "
          f"median search {sorted(times)[len(times) // 2]:.2f} s")


if __name__ == "__main__":
    main()
