"""Time to first token and total time of answers with the local LLM, cold and warm:

    .venv/bin/python eval/llm_bench.py [--questions 6] [--runs 3] [--modes cold,live,cached] [--out FILE]

Where the time of `policy-rag ask --llm local` goes: retrieval, the prompt (its tokens, how many
llama.cpp reused from its cache, how long reading the rest took) and generation. Three modes,
each on the same questions (answerable ones from eval/questions.jsonl, Dutch and English in turn):

* ``cold``: llama.cpp's cache emptied before every question: every prompt is read whole (a new
  `policy-rag ask` process without a saved prefix state; model loading is reported apart);
* ``live``: one model for all questions, no prefix cache (POLICY_RAG_LLM_PREFIX_CACHE=off): only
  what llama-cpp-python itself reuses (the common prefix with the previous prompt, which after
  a question in the other language is nothing);
* ``cached``: one model with the prefix cache (the fixed system prompt and examples restored
  from their saved state when the live cache does not hold them), after one warm-up question
  per language.

Per run and mode: p50/p95 of first token (from the question to the first streamed token, retrieval
included, as Answer.timings) and of total; the figures printed are the medians over --runs runs.
The CPU (model, flags), llama-cpp-python's version, the threads and the load average are
printed beside them: on shared cores the load decides as much as the code.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

MODES = ("cold", "live", "cached")


def pct(xs: list[float], p: float) -> float:
    import numpy as np

    return float(np.percentile(xs, p)) if xs else float("nan")


def pick_questions(n: int) -> list[str]:
    """``n`` answerable questions spread over the dev set, Dutch and English in turn."""
    from policy_rag.evaluate import load_questions

    qs = [q for q in load_questions() if q.answerable]
    by_lang = {lang: [q.question for q in qs if q.lang == lang] for lang in ("nl", "en")}
    out: list[str] = []
    for i in range(n):
        pool = by_lang["nl" if i % 2 == 0 else "en"]
        out.append(pool[(i // 2) * 37 % len(pool)])
    return out


def environment(settings: Any) -> dict[str, Any]:
    from importlib.metadata import version

    from policy_rag.compute import cpu_info

    try:
        lib = version("llama_cpp_python")
    except Exception:
        lib = "?"
    return {"cpu": cpu_info().describe(), "cores": os.cpu_count(), "llama_cpp_python": lib,
            "model": Path(settings.llm_model_path).name, "threads": settings.llm_threads,
            "n_batch": settings.llm_batch, "flash_attn": settings.llm_flash_attn,
            "loadavg": os.getloadavg()}


def ask_one(a: Any, gen: Any, question: str) -> dict[str, Any]:
    ans = a.answerer.answer(question, gen, "local")
    st = dict(getattr(gen, "stats", {}) or {})
    return {"question": question, "first_token": ans.timings.get("first_token"), "total": ans.timings["total"],
            "retrieval": ans.timings.get("retrieval"), "refused": ans.refused,
            "prompt_tokens": st.get("prompt_tokens"), "reused_tokens": st.get("reused_tokens"),
            "prefix": st.get("prefix"), "prefix_s": st.get("prefix_s"), "llm_first_token": st.get("first_token_s"),
            "pieces": st.get("pieces")}


def run_mode(a: Any, mode: str, qs: list[str]) -> list[dict[str, Any]]:
    from policy_rag.generate import LocalGenerator

    s = a.settings.with_(llm_prefix_cache="off" if mode in ("cold", "live") else "ram")
    gen = LocalGenerator.from_settings(s)  # a new model: nothing cached (RAM cache only, starting empty)
    t = time.perf_counter()
    gen.load()
    load_s = time.perf_counter() - t
    if mode == "cached":  # the prefix of each language is saved once, before the timed questions
        for q in qs[:2]:
            ask_one(a, gen, q)
    recs = []
    for q in qs:
        if mode == "cold":
            gen.load().n_tokens = 0  # llama.cpp's cache emptied: the whole prompt is read
        recs.append(ask_one(a, gen, q))
        r = recs[-1]
        print(f"    {mode:<6} first {r['first_token'] or float('nan'):6.2f} s  total {r['total']:6.2f} s  prompt "
              f"{r['prompt_tokens']} tokens, {r['reused_tokens']} reused ({r['prefix']})  {q[:50]}", flush=True)
    for r in recs:
        r["load_s"] = load_s
    del gen
    return recs


def summarise(runs: list[list[dict[str, Any]]]) -> dict[str, Any]:
    keys = ("first_token", "total")
    per_run = [{f"{k}_{p}": pct([r[k] for r in recs if r[k] is not None], q)
                for k in keys for p, q in (("p50", 50), ("p95", 95))} for recs in runs]
    out: dict[str, Any] = {k: statistics.median(x[k] for x in per_run) for k in per_run[0]}
    flat = [r for recs in runs for r in recs]
    out["prompt_tokens_median"] = statistics.median(r["prompt_tokens"] or 0 for r in flat)
    out["reused_tokens_median"] = statistics.median(r["reused_tokens"] or 0 for r in flat)
    out["retrieval_median"] = statistics.median(r["retrieval"] or 0 for r in flat)
    gen_s = [r["total"] - r["first_token"] for r in flat if r["first_token"] is not None]
    out["after_first_token_median"] = statistics.median(gen_s) if gen_s else None
    out["pieces_median"] = statistics.median(r["pieces"] or 0 for r in flat)
    out["load_s_median"] = statistics.median(r["load_s"] for r in flat)
    out["per_run"] = per_run
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--questions", type=int, default=6, help="questions per run (at least 5 for the figures)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}")
    ap.add_argument("--out", default=None, help="also write the figures and every answer's timings as JSON")
    args = ap.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    if any(m not in MODES for m in modes):
        ap.error(f"--modes: choose from {', '.join(MODES)}")

    from policy_rag.assistant import Assistant

    a = Assistant()
    a.backend("local")  # stops here with a message when the model or llama-cpp-python is missing
    qs = pick_questions(args.questions)
    a.retriever.search(qs[0])  # load the index and the embedding model before timing
    env = environment(a.settings)
    print(f"CPU: {env['cpu']}, {env['cores']} cores; llama-cpp-python {env['llama_cpp_python']}; "
          f"{env['model']}, threads {env['threads']}, n_batch {env['n_batch']}, flash_attn {env['flash_attn']}; "
          f"load average {' '.join(f'{x:.1f}' for x in env['loadavg'])}")
    results: dict[str, Any] = {"environment": env, "questions": qs, "runs": args.runs, "modes": {}}
    raw: dict[str, list[list[dict[str, Any]]]] = {}
    for run in range(args.runs):
        for mode in modes:
            raw.setdefault(mode, []).append(run_mode(a, mode, qs))
            last = raw[mode][-1]
            print(f"  run {run + 1} {mode:<6} first token p50 {pct([r['first_token'] for r in last], 50):5.2f} s, "
                  f"total p50 {pct([r['total'] for r in last], 50):5.2f} s, load average {os.getloadavg()[0]:.1f}",
                  flush=True)
    print(f"\n{len(qs)} questions, median of {args.runs} runs (seconds; prompt tokens: median per question)")
    print(f"{'mode':<7} {'first p50':>9} {'first p95':>9} {'total p50':>9} {'total p95':>9} "
          f"{'prompt':>7} {'reused':>7} {'retrieval':>9} {'after 1st':>9} {'load':>5}")
    for mode in modes:
        m = summarise(raw[mode])
        results["modes"][mode] = m
        print(f"{mode:<7} {m['first_token_p50']:9.2f} {m['first_token_p95']:9.2f} {m['total_p50']:9.2f} "
              f"{m['total_p95']:9.2f} {m['prompt_tokens_median']:7.0f} {m['reused_tokens_median']:7.0f} "
              f"{m['retrieval_median']:9.2f} {m['after_first_token_median'] or float('nan'):9.2f} "
              f"{m['load_s_median']:5.1f}")
    results["environment"]["loadavg_after"] = os.getloadavg()
    results["answers"] = raw
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
        print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
