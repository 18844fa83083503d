"""Speed and memory figures, printed (and written as JSON): `make bench` or

    .venv/bin/python eval/bench.py [--full-ingest] [--runs 3] [--local N] [--out FILE]

* passages per document and language (from the index manifest);
* re-ingest with nothing changed, by stage (median over --runs runs);
* with --full-ingest: a full build from empty (fresh index and vector cache in a temp
  folder), by stage, and embedding throughput (passages/s);
* embedding throughput on a fixed sample of 64 passages (median over --runs runs);
* search latency p50/p95 over 100 questions (query embedding included; the query cache is
  emptied before each run, so every question is embedded), per run, median, and by stage;
* answer latency per backend: `none` on 100 questions; `local` on --local N questions
  (time to first token and total); index size on disk; peak memory (max RSS);
* first-query latency: a fresh process from nothing loaded to its first search result
  (index, keyword index and embedding model load).

Every figure is printed with the CPU it was measured on (model and the flags that decide the
embedding path: avx2, fma, avx512f, avx512_bf16, amx_bf16, ...) and the embedding variant, and
the JSON report records both. Speed depends on them more than on anything else: bfloat16 is fast
only with native support (compute.py). To approximate an AVX2-only CPU on a bigger one, run with
ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 (an emulation: say so beside its figures).

Each heavy measurement runs in its own process so peak memory is per job.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(xs: list[float], p: float) -> float:
    import numpy as np

    return float(np.percentile(xs, p)) if xs else float("nan")


def questions(n: int) -> list[str]:
    from policy_rag.evaluate import load_questions

    qs = load_questions()
    return [q.question for q in qs][:n]


# --- jobs (each runs in a child process: `bench.py --job NAME`) -----------------------------------


def job_search(runs: int) -> dict:
    from policy_rag.assistant import Assistant

    qs = questions(100)
    t = time.perf_counter()
    a = Assistant()
    a.search(qs[0])  # the first query pays for loading the index, the keyword index and the model
    load_s = time.perf_counter() - t
    import torch

    from policy_rag.embed import QUERY_CACHE

    p50s, p95s = [], []
    stages: dict[str, list[float]] = {}
    for _ in range(runs):
        QUERY_CACHE.clear()  # every run embeds every question: the cache helps repeated questions only
        lat = []
        for q in qs:
            t = time.perf_counter()
            res = a.search(q)
            lat.append((time.perf_counter() - t) * 1000)
            for k, v in res.timings.items():
                stages.setdefault(k, []).append(v * 1000)
        p50s.append(pct(lat, 50))
        p95s.append(pct(lat, 95))
    return {"questions": len(qs), "runs": runs, "first_query_s": load_s, "search_ms_p50": statistics.median(p50s),
            "search_ms_p95": statistics.median(p95s), "per_run_p50": p50s, "peak_mb": peak_mb(),
            "stages_ms_p50": {k: round(pct(v, 50), 1) for k, v in stages.items()},
            "query_cache_hits": QUERY_CACHE.hits,
            # the queries' threads (set in the embedding thread; this thread's count is torch's default)
            "torch_threads": getattr(a.embedder, "query_threads", 0) or torch.get_num_threads(),
            "embedding": _variant(a.embedder), "queries": _queries(a.embedder)}


def _queries(embedder) -> dict:  # noqa: ANN001
    """How the questions were embedded (embed.query_path): backend, why, threads."""
    describe = getattr(embedder, "describe_queries", None)
    return describe() if describe else {}


def _variant(embedder) -> dict:  # noqa: ANN001
    describe = getattr(embedder, "describe", None)
    return describe() if describe else {"model_id": embedder.model_id}


def job_embed(runs: int) -> dict:
    from policy_rag.assistant import Assistant
    from policy_rag.embed import document_text

    a = Assistant()
    ps = a.index.passages[:: max(1, len(a.index.passages) // 64)][:64]
    texts = [document_text(p) for p in ps]
    a.embedder.embed_documents(texts[:4])  # warm up
    rates = []
    for _ in range(runs):
        t = time.perf_counter()
        a.embedder.embed_documents(texts)
        rates.append(len(texts) / (time.perf_counter() - t))
    words = statistics.mean(len(p.text.split()) for p in ps)
    return {"passages": len(texts), "mean_words": words, "passages_per_s": statistics.median(rates),
            "per_run": rates, "peak_mb": peak_mb(), "embedding": _variant(a.embedder)}


def job_answer(backend: str, n: int) -> dict:
    from policy_rag.assistant import Assistant

    a = Assistant()
    b = a.backend(backend)
    qs = questions(n)
    a.ask(qs[0], b)  # warm up (loads the models)
    total, first = [], []
    refused = 0
    for q in qs:
        ans = a.ask(q, b)
        total.append(ans.timings["total"])
        if "first_token" in ans.timings:
            first.append(ans.timings["first_token"])
        refused += ans.refused
    return {"backend": b, "questions": len(qs), "total_s_p50": pct(total, 50), "total_s_p95": pct(total, 95),
            "first_token_s_p50": pct(first, 50) if first else None,
            "first_token_s_p95": pct(first, 95) if first else None, "refused": refused, "peak_mb": peak_mb()}


def job_ingest(full: bool) -> dict:
    from policy_rag.embed import get_embedder
    from policy_rag.ingest import ingest
    from policy_rag.settings import get_settings

    s = get_settings()
    if full:
        tmp = Path(tempfile.mkdtemp(prefix="policy-rag-bench-"))
        s = s.with_(index_dir=tmp / "index", cache=tmp / "cache")
    t = time.perf_counter()
    e = get_embedder(s)
    r = ingest(s, e)
    wall = time.perf_counter() - t
    out = {"wall_s": wall, "timings": r.timings, "passages": r.passages, "embedded": r.embedded,
           "unchanged": r.unchanged, "peak_mb": peak_mb(), "embedding": _variant(e)}
    if full:
        out["embed_passages_per_s"] = r.embedded / r.timings["embed"] if r.timings.get("embed") else None
        import shutil

        shutil.rmtree(s.index_dir.parent, ignore_errors=True)
    return out


def _tag(r: dict) -> str:
    """The embedding variant a job used: 'torch bfloat16'."""
    e = r.get("embedding") or {}
    return " ".join(x for x in (e.get("backend"), e.get("dtype"), e.get("quantization")) if x) or "?"


def run_job(*args: str) -> dict:
    r = subprocess.run([sys.executable, __file__, "--job", *args], capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        raise SystemExit(f"bench job {args} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def dir_size_mb(p: Path) -> float:
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) / 1e6


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--full-ingest", action="store_true", help="also a build from empty (10+ minutes)")
    ap.add_argument("--local", type=int, default=10, help="questions for the local LLM (0: skip)")
    ap.add_argument("--out", default=None)
    ap.add_argument("--only", choices=["search"], default=None, help="only the search latency")
    ap.add_argument("--job", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.job:
        name, *rest = args.job
        res = {"search": lambda: job_search(int(rest[0])), "embed": lambda: job_embed(int(rest[0])),
               "answer": lambda: job_answer(rest[0], int(rest[1])),
               "ingest": lambda: job_ingest(rest[0] == "full")}[name]()
        print(json.dumps(res))
        return 0

    from policy_rag.compute import cpu_info
    from policy_rag.index import load
    from policy_rag.settings import get_settings

    s = get_settings()
    idx = load(s.index_dir)
    cpu = cpu_info()
    on = f"[{os.cpu_count()} cores, {cpu.describe()}]"  # beside every figure
    report: dict = {"machine": {"cpus": os.cpu_count(), **cpu.to_dict(),
                                "aten_cpu_capability": os.environ.get("ATEN_CPU_CAPABILITY", "")},
                    "passages": idx.manifest["counts"]}
    report["loadavg_start"] = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    print(f"CPU: {on}; load average {' '.join(report['loadavg_start'])}")
    report["index_mb"] = dir_size_mb(idx.path)
    print(f"index {idx.path.name}: {len(idx.passages)} passages, {report['index_mb']:.1f} MB on disk")
    for src, n in idx.manifest["counts"]["by_source"].items():
        print(f"  {src:<28} {n:>5} passages")
    print(f"  by language: {idx.manifest['counts']['by_lang']}")

    if args.only == "search":
        return _search_only(args, report, on)
    if args.full_ingest:
        r = run_job("ingest", "full")
        report["full_ingest"] = r
        print(f"full ingest from empty: {r['wall_s']:.0f}s "
              f"({', '.join(f'{k} {v:.1f}s' for k, v in r['timings'].items())}); "
              f"{r['embed_passages_per_s']:.2f} passages/s; peak {r['peak_mb']:.0f} MB; "
              f"{_tag(r)} {on}")
    reruns = [run_job("ingest", "incremental") for _ in range(args.runs)]
    report["reingest_unchanged"] = reruns
    med = statistics.median(r["wall_s"] for r in reruns)
    stages = {k: statistics.median(r["timings"].get(k, 0.0) for r in reruns) for k in reruns[0]["timings"]}
    print(f"re-ingest, nothing changed (median of {len(reruns)}): {med:.1f}s "
          f"({', '.join(f'{k} {v:.1f}s' for k, v in stages.items())}); embedded {reruns[0]['embedded']} {on}")

    r = run_job("embed", str(args.runs))
    report["embed"] = r
    print(f"embedding throughput: {r['passages_per_s']:.2f} passages/s (median of {args.runs} runs of "
          f"{r['passages']} passages, {r['mean_words']:.0f} words on average); peak {r['peak_mb']:.0f} MB; "
          f"{_tag(r)} {on}")

    _search(args, report, on)

    r = run_job("answer", "none", "100")
    report["answer_none"] = r
    print(f"ask --llm none over {r['questions']} questions: total p50 {r['total_s_p50']:.2f}s, "
          f"p95 {r['total_s_p95']:.2f}s; peak {r['peak_mb']:.0f} MB {on}")
    if args.local:
        r = run_job("answer", "local", str(args.local))
        report["answer_local"] = r
        if r["backend"] == "local":
            print(f"ask --llm local over {r['questions']} questions: first token p50 {r['first_token_s_p50']:.1f}s "
                  f"p95 {r['first_token_s_p95']:.1f}s; total p50 {r['total_s_p50']:.1f}s, "
                  f"p95 {r['total_s_p95']:.1f}s; {r['refused']} refused; peak {r['peak_mb']:.0f} MB {on}")
        else:
            print("ask --llm local: no local model (run `make setup`)")
    return _write(args, report)


def _search(args: argparse.Namespace, report: dict, on: str) -> None:
    r = run_job("search", str(args.runs))
    report["search"] = r
    print(f"search over {r['questions']} questions: p50 {r['search_ms_p50']:.0f} ms, p95 {r['search_ms_p95']:.0f} ms "
          f"(median of {r['runs']} runs; includes the query embedding, query cache emptied before each run); "
          f"first query (loads everything) {r['first_query_s']:.1f}s; peak {r['peak_mb']:.0f} MB; {_tag(r)}, "
          f"{r['torch_threads']} torch threads {on}")
    print("  by stage (p50 ms): " + ", ".join(f"{k} {v}" for k, v in r["stages_ms_p50"].items()))
    if r.get("queries"):
        qp = r["queries"]
        print(f"  questions embedded with {qp['backend']} ({qp['why']}; {qp['threads']} thread(s))")


def _search_only(args: argparse.Namespace, report: dict, on: str) -> int:
    _search(args, report, on)
    return _write(args, report)


def _write(args: argparse.Namespace, report: dict) -> int:
    report["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    print(f"load average at the end: {' '.join(report['loadavg_end'])}")
    out = Path(args.out) if args.out else ROOT / "eval" / "reports" / f"bench-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
