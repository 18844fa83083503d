"""Speed and fidelity of each embedding compute path on this CPU (issue 14).

    .venv/bin/python eval/embed_paths.py [--paths torch-float32,torch-bfloat16,onnx,onnx-int8,openvino]
        [--quality 200,100] [--speed 64] [--runs 3] [--out FILE]

* speed: passages/s embedding the same --speed passages as eval/bench.py (every n-th passage of
  the index), median of --runs runs after a warm-up;
* fidelity (--quality P,Q; 0,0 to skip): cosine of each path's vectors to torch float32's on P
  corpus passages (spread over the index) and Q questions of eval/questions.jsonl: min and mean.
  The gate for a path to be used or mixed with float32 vectors is min cosine >= 0.99.

Prints the CPU model and flags with every figure and writes them into the JSON report. To
approximate an AVX2-only CPU on a larger one: ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2
(an emulation; the script records both variables).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def make(path: str, settings):  # noqa: ANN001, ANN201
    from policy_rag.embed import SentenceTransformerEmbedder

    if path.startswith("torch-"):
        return SentenceTransformerEmbedder(settings.with_(embed_dtype=path.removeprefix("torch-")))
    from policy_rag.onnx_backend import OnnxEmbedder

    backend, _, quant = path.partition("-")
    threads = int(os.environ["OMP_NUM_THREADS"]) if os.environ.get("OMP_NUM_THREADS") else None
    return OnnxEmbedder(settings.embed_model, settings.cache, backend=backend, quantization=quant,
                        query_prompt=settings.query_prompt, batch=settings.embed_batch, threads=threads)


def main() -> int:
    import numpy as np

    from policy_rag.compute import cpu_info
    from policy_rag.embed import document_text
    from policy_rag.evaluate import load_questions
    from policy_rag.index import load
    from policy_rag.settings import get_settings

    ap = argparse.ArgumentParser()
    ap.add_argument("--paths", default="torch-float32,torch-bfloat16,onnx,onnx-int8,openvino")
    ap.add_argument("--quality", default="200,100", help="passages,questions for the cosine check (0,0: none)")
    ap.add_argument("--speed", type=int, default=64, help="passages timed per run")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default=None)
    ap.add_argument("--ref", default=None, help="npz of torch float32's vectors: written when float32 is among "
                    "the paths, read otherwise (to measure the paths in separate runs)")
    args = ap.parse_args()

    s = get_settings()
    idx = load(s.index_dir)
    ps = idx.passages
    speed_texts = [document_text(p) for p in ps[:: max(1, len(ps) // 64)][:64]][: args.speed]
    n_p, n_q = (int(x) for x in args.quality.split(","))
    qual_texts = [document_text(p) for p in ps[:: max(1, len(ps) // max(1, n_p))][:n_p]] if n_p else []
    queries = [q.question for q in load_questions()][:n_q]
    cpu = cpu_info()
    on = f"[{os.cpu_count()} cores, {cpu.describe()}" + (
        f", ATEN_CPU_CAPABILITY={os.environ['ATEN_CPU_CAPABILITY']}]" if os.environ.get("ATEN_CPU_CAPABILITY") else "]")
    print(f"CPU: {on}", flush=True)
    report: dict = {"machine": {"cpus": os.cpu_count(), **cpu.to_dict(), "threads": os.environ.get("OMP_NUM_THREADS"),
                                "load_average": os.getloadavg(),
                                "aten_cpu_capability": os.environ.get("ATEN_CPU_CAPABILITY", "")},
                    "speed_passages": len(speed_texts), "runs": args.runs,
                    "quality": {"passages": len(qual_texts), "questions": len(queries)}, "paths": {}}
    ref: dict[str, np.ndarray] = {}
    if args.ref and Path(args.ref).exists() and "torch-float32" not in args.paths.split(","):
        with np.load(args.ref) as z:
            ref = {"p": z["p"][: len(qual_texts)], "q": z["q"][: len(queries)]}
    for path in args.paths.split(","):
        e = make(path, s)
        t = time.perf_counter()
        e.embed_documents(speed_texts[:4])  # load + warm up
        load_s = time.perf_counter() - t
        rates = []
        for _ in range(args.runs):
            t = time.perf_counter()
            e.embed_documents(speed_texts)
            rates.append(len(speed_texts) / (time.perf_counter() - t))
        row: dict = {"model_id": e.model_id, "variant": e.describe(), "load_s": load_s,
                     "passages_per_s": statistics.median(rates), "per_run": rates}
        line = f"{path:<16} {row['passages_per_s']:6.2f} passages/s (median of {args.runs}: " \
               f"{', '.join(f'{r:.2f}' for r in rates)}; load {load_s:.0f}s)"
        if qual_texts or queries:
            pv = e.embed_documents(qual_texts) if qual_texts else np.zeros((0, 1))
            qv = e.embed_queries(queries) if queries else np.zeros((0, 1))
            if path == "torch-float32":
                ref = {"p": pv, "q": qv}
                if args.ref:
                    np.savez(args.ref, p=pv, q=qv)
            if ref:
                def cos(a, b):  # noqa: ANN001, ANN202 - rows of a and b, normalised here in float64
                    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
                    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)

                cp = cos(pv, ref["p"]) if len(pv) else np.ones(1)
                cq = cos(qv, ref["q"]) if len(qv) else np.ones(1)
                row["cosine_to_float32"] = {"passages_min": float(cp.min()), "passages_mean": float(cp.mean()),
                                            "questions_min": float(cq.min()), "questions_mean": float(cq.mean())}
                line += (f"; cosine to float32: passages min {cp.min():.4f} mean {cp.mean():.4f}, "
                         f"questions min {cq.min():.4f} mean {cq.mean():.4f}")
        report["paths"][path] = row
        print(f"{line} {on}", flush=True)
        del e
    out = Path(args.out) if args.out else ROOT / "eval" / "reports" / f"embed-paths-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
