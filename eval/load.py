"""Bounded load test of `policy-rag serve` on 127.0.0.1 only (issue 16).

    python eval/load.py                      # both parts, figures printed and saved
    python eval/load.py --part api --seconds 30
    python eval/load.py --part llm --llm-model ~/.cache/policy-rag/models/qwen2.5-0.5b-instruct-q4_k_m.gguf

Part "api": `policy-rag serve --workers 2`; 50 concurrent users (closed loop, no pause; with
``--think S`` each user pauses S seconds after each answer) for 60 s against POST /v1/ask with
backend "none", then 60 s against POST /v1/search: errors, p50/p95 latency, throughput, the
server's memory (RSS of the whole process tree) before/after.

Part "llm": 8 users at once, each asking one question with the local model, streamed (first
token = first `token` event): (a) 2 workers -> llama_cpp.server (backend hosted), (b) 1 worker
-> llama_cpp.server, (c) one process generating in-process with one slot (backend local):
today's single queue. Errors, p50/p95 of first token and total.

Part "llm-server": the same 8 users (answerable questions, Dutch and English in turn) through
llama.cpp's own `llama-server` (scripts/llama_server.sh; build it first with --build-only), one
set-up at a time (--setups): "parallel2", llama-server with 2 slots (continuous batching) behind
`policy-rag serve --workers 2` with one generation slot per worker; "parallel1", llama-server with
1 slot behind one worker; "inproc", one process generating in-process (backend local): today's
single queue. The load average before and after each set-up is in its figures.

Part "fake-llm": the same 8 users against an OpenAI-compatible stand-in with 2 parallel slots
and a fixed token rate (the app's queueing apart from the model): 2 workers with one slot each,
against one process with one slot (today's single queue).

Every server is started here on a free loopback port and stopped at the end; each phase and
each request has a time limit. The load generator runs on the same machine (its CPU counts).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = [json.loads(x)["question"] for x in (ROOT / "eval" / "questions.jsonl").read_text().splitlines()
             if x.strip()]
# the LLM parts: answerable questions only, Dutch and English in turn (user u asks LLM_QUESTIONS[u])
_ROWS = [json.loads(x) for x in (ROOT / "eval" / "questions.jsonl").read_text().splitlines() if x.strip()]
_NL = [r for r in _ROWS if r.get("answerable") and r.get("lang") == "nl"]
_EN = [r for r in _ROWS if r.get("answerable") and r.get("lang") == "en"]
LLM_QUESTIONS = [r for pair in zip(_NL[::7], _EN[::7], strict=False) for r in pair]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def tree_rss_mb(pid: int) -> float:
    """RSS of ``pid`` and all its descendants, in MB."""
    total = 0.0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(p)], capture_output=True, text=True).stdout
        todo.extend(int(x) for x in out.split())
    return round(total)


def pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    s = sorted(xs)
    return round(s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))], 3)


@contextmanager
def server(cmd: list[str], env: dict[str, str], ready_url: str, timeout: float = 600):
    log = tempfile.NamedTemporaryFile(prefix="policy-rag-load-", suffix=".log", delete=False)
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"{cmd[2:4]} exited with {proc.returncode}; log: {log.name}")
            try:
                if httpx.get(ready_url, timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{cmd[2:4]} not ready within {timeout:.0f} s; log: {log.name}")
            time.sleep(1)
        yield proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def serve(workers: int, env: dict[str, str]):
    port = free_port()
    cmd = [sys.executable, "-m", "policy_rag.cli", "serve", "--workers", str(workers), "--port", str(port)]
    env = {**os.environ, **env, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    return server(cmd, env, f"http://127.0.0.1:{port}/v1/health"), f"http://127.0.0.1:{port}"


def llm_server(model: str, threads: int):
    port = free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", model, "--model_alias", "local-model",
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", str(threads),
           "--chat_format", "chatml", "--interrupt_requests", "False"]
    return server(cmd, dict(os.environ), f"http://127.0.0.1:{port}/v1/models", 300), f"http://127.0.0.1:{port}/v1"


# ---------------------------------------------------------------------------------------- part api


async def closed_loop(url: str, users: int, seconds: float, body: Any, think: float = 0.0) -> dict[str, Any]:
    """``users`` clients, each sending a request as soon as its last one is answered (after a
    pause of ``think`` seconds on average when given: a user reading the answer). Users who
    think do not act in step: each starts after a random delay below ``think`` and pauses
    between 0.5 and 1.5 times ``think`` (seeded, so runs are comparable); without the spread all
    of them would ask in the same instant, again and again, and measure one burst of ``users``."""
    rng = random.Random(16)
    starts = [rng.uniform(0, think) for _ in range(users)]
    pauses = [[rng.uniform(0.5 * think, 1.5 * think) for _ in range(1000)] for _ in range(users)]
    lat: list[float] = []
    errors: dict[str, int] = {}
    stop = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(120.0)) as client:
        async def user(u: int) -> None:
            i = u
            if think:
                await asyncio.sleep(starts[u])
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                try:
                    r = await client.post(url, json=body(i))
                    if r.status_code == 200:
                        lat.append(time.perf_counter() - t0)
                    else:
                        errors[str(r.status_code)] = errors.get(str(r.status_code), 0) + 1
                except httpx.HTTPError as e:
                    errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
                i += users
                if think and time.monotonic() < stop:
                    await asyncio.sleep(pauses[u][(i // users) % len(pauses[u])])

        t0 = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(user(u) for u in range(users))), seconds + 180)
        wall = time.perf_counter() - t0
    return {"requests_ok": len(lat), "errors": sum(errors.values()), "error_kinds": errors,
            "p50_s": pct(lat, 0.5), "p95_s": pct(lat, 0.95), "max_s": pct(lat, 1.0),
            "throughput_rps": round(len(lat) / wall, 1), "wall_s": round(wall, 1), "think_s": think,
            "loadavg_end": loadavg()}


def part_api(args: argparse.Namespace) -> dict[str, Any]:
    ctx, base = serve(args.workers, {"POLICY_RAG_LLM": "none"})
    out: dict[str, Any] = {"workers": args.workers, "users": args.users, "seconds": args.seconds,
                           "think_s": args.think}
    with ctx as proc:
        # warm: the first answers build nothing any more (the workers warm before serving)
        for q in QUESTIONS[:4]:
            httpx.post(f"{base}/v1/ask", json={"question": q, "backend": "none"}, timeout=120)
        out["rss_before_mb"] = tree_rss_mb(proc.pid)
        out["ask_none"] = asyncio.run(closed_loop(
            f"{base}/v1/ask", args.users, args.seconds,
            lambda i: {"question": QUESTIONS[i % len(QUESTIONS)], "backend": "none"}, args.think))
        out["rss_after_ask_mb"] = tree_rss_mb(proc.pid)
        out["search"] = asyncio.run(closed_loop(
            f"{base}/v1/search", args.users, args.seconds,
            lambda i: {"question": QUESTIONS[i % len(QUESTIONS)], "k": 10}, args.think))
        out["rss_after_mb"] = tree_rss_mb(proc.pid)
    return out


# ---------------------------------------------------------------------------------------- part llm


async def streamed_users(base: str, users: int, backend: str, timeout: float) -> dict[str, Any]:
    first: list[float] = []
    total: list[float] = []
    errors: list[str] = []
    refused: list[str] = []
    async with httpx.AsyncClient(timeout=httpx.Timeout(timeout)) as client:
        async def user(u: int) -> None:
            q = LLM_QUESTIONS[u % len(LLM_QUESTIONS)]["question"]
            t0 = time.perf_counter()
            got_first = None
            try:
                async with client.stream("POST", f"{base}/v1/ask",
                                         json={"question": q, "backend": backend, "stream": True}) as r:
                    if r.status_code != 200:
                        errors.append(f"HTTP {r.status_code}")
                        return
                    event = ""
                    async for line in r.aiter_lines():
                        if line.startswith("event: "):
                            event = line[7:]
                            if event == "token" and got_first is None:
                                got_first = time.perf_counter() - t0
                            elif event == "error":
                                errors.append("error event")
                        elif line.startswith("data: ") and event == "answer":
                            ans = json.loads(line[6:])
                            if ans.get("backend") != backend:
                                errors.append(f"backend {ans.get('backend')}")
                            elif ans.get("refused"):
                                refused.append(str(ans.get("refusal_reason")))
            except httpx.HTTPError as e:
                errors.append(type(e).__name__)
                return
            total.append(time.perf_counter() - t0)
            if got_first is not None:
                first.append(got_first)

        t0 = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(user(u) for u in range(users))), timeout + 60)
        wall = time.perf_counter() - t0
    return {"users": users, "ok": len(total), "errors": len(errors), "error_kinds": errors[:5],
            "first_token_p50_s": pct(first, 0.5), "first_token_p95_s": pct(first, 0.95),
            "total_p50_s": pct(total, 0.5), "total_p95_s": pct(total, 0.95), "wall_s": round(wall, 1),
            "no_tokens": len(total) - len(first), "refused": len(refused), "refusal_reasons": refused[:8],
            "questions": [LLM_QUESTIONS[u % len(LLM_QUESTIONS)]["id"] for u in range(users)]}


def part_llm(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"model": Path(args.llm_model).name, "users": args.llm_users}
    common = {"POLICY_RAG_LLM": "none", "POLICY_RAG_LLM_MODEL": args.llm_model,
              "POLICY_RAG_LLM_THREADS": str(args.llm_threads)}
    configs = args.llm_configs.split(",")
    lctx, lbase = llm_server(args.llm_model, args.llm_threads)
    with lctx:
        for workers in [int(c) for c in configs if c.isdigit()]:
            env = {**common, "POLICY_RAG_HOSTED_BASE_URL": lbase, "POLICY_RAG_LLM_SLOTS": "1"}
            ctx, base = serve(workers, env)
            with ctx:
                out[f"llm_server_{workers}_workers"] = asyncio.run(
                    streamed_users(base, args.llm_users, "hosted", args.llm_timeout))
    if "inproc" not in configs:
        return out
    ctx, base = serve(1, {**common, "POLICY_RAG_LLM_SLOTS": "1"})
    with ctx:
        httpx.post(f"{base}/v1/ask", json={"question": QUESTIONS[0], "backend": "local"}, timeout=600)  # load
        out["in_process_single_queue"] = asyncio.run(streamed_users(base, args.llm_users, "local", args.llm_timeout))
    return out


def llama_server_binary(args: argparse.Namespace) -> str:
    """The llama-server that scripts/llama_server.sh built (never built here: minutes of compiling)."""
    r = subprocess.run(["bash", str(ROOT / "scripts" / "llama_server.sh"), "--print-binary"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{r.stderr.strip()}\nbuild it first: scripts/llama_server.sh --build-only")
    return r.stdout.strip()


def llama_server(binary: str, model: str, parallel: int, threads: int, ctx_per_slot: int = 4096):
    """llama.cpp's server with ``parallel`` slots (continuous batching) on a free loopback port."""
    port = free_port()
    cmd = [binary, "--model", model, "--alias", "local-model", "--host", "127.0.0.1", "--port", str(port),
           "--parallel", str(parallel), "--cont-batching", "--ctx-size", str(parallel * ctx_per_slot),
           "--threads", str(threads)]
    return server(cmd, dict(os.environ), f"http://127.0.0.1:{port}/health", 300), f"http://127.0.0.1:{port}/v1"


def warm_and_measure(base: str, backend: str, args: argparse.Namespace) -> dict[str, Any]:
    """One question first (loads what loads on first use), then the users; load average around."""
    httpx.post(f"{base}/v1/ask", json={"question": LLM_QUESTIONS[-1]["question"], "backend": backend},
               timeout=600)
    before = loadavg()
    out = asyncio.run(streamed_users(base, args.llm_users, backend, args.llm_timeout))
    return {"loadavg_before": before, **out, "loadavg_after": loadavg()}


def part_llm_server(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"model": Path(args.llm_model).name, "users": args.llm_users,
                           "threads": args.llm_threads}
    common = {"POLICY_RAG_LLM": "none", "POLICY_RAG_LLM_MODEL": args.llm_model,
              "POLICY_RAG_LLM_THREADS": str(args.llm_threads), "POLICY_RAG_LLM_SLOTS": "1"}
    for setup in args.setups.split(","):
        if setup in ("parallel2", "parallel1"):
            parallel = int(setup[-1])
            workers = parallel
            binary = llama_server_binary(args)
            lctx, lbase = llama_server(binary, args.llm_model, parallel, args.llm_threads)
            with lctx:
                ctx, base = serve(workers, {**common, "POLICY_RAG_HOSTED_BASE_URL": lbase})
                with ctx:
                    out[setup] = {"setup": f"llama-server --parallel {parallel} --cont-batching, "
                                           f"policy-rag serve --workers {workers}, POLICY_RAG_LLM_SLOTS=1",
                                  "binary": Path(binary).name, **warm_and_measure(base, "hosted", args)}
        elif setup == "inproc":
            ctx, base = serve(1, common)
            with ctx:
                out[setup] = {"setup": "one policy-rag serve process, the local model in-process, one slot",
                              **warm_and_measure(base, "local", args)}
        else:
            raise SystemExit(f"unknown set-up {setup!r}: parallel2, parallel1 or inproc")
        print(json.dumps({setup: out[setup]}, indent=1), flush=True)
    return out


def fake_llm_app(slots: int, tps: float, tokens: int) -> Any:
    """An OpenAI-compatible stand-in for an LLM server with ``slots`` parallel slots writing
    ``tps`` tokens a second: the app's queueing measured apart from the model's speed."""
    from fastapi import FastAPI
    from fastapi.responses import StreamingResponse

    app = FastAPI()
    sem = asyncio.Semaphore(slots)

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"data": [{"id": "local-model"}]}

    @app.post("/v1/chat/completions")
    async def chat(body: dict[str, Any]) -> Any:
        async def gen() -> Any:
            async with sem:
                for i in range(min(tokens, int(body.get("max_tokens") or tokens))):
                    await asyncio.sleep(1 / tps)
                    word = "Ja" if i == 0 else " woord"
                    yield f"data: {json.dumps({'choices': [{'delta': {'content': word}}]})}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(gen(), media_type="text/event-stream")

    return app


def part_fake_llm(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"stand_in": f"OpenAI-compatible stand-in, {args.fake_slots} slots, "
                                       f"{args.fake_tps:g} tokens/s, {args.fake_tokens} tokens per answer",
                           "users": args.llm_users}
    port = free_port()
    cmd = [sys.executable, str(Path(__file__).resolve()), "--serve-fake-llm", str(port)] + [
        f"--fake-{k}={getattr(args, 'fake_' + k)}" for k in ("slots", "tps", "tokens")]
    lctx = server(cmd, dict(os.environ), f"http://127.0.0.1:{port}/v1/models", 120)
    with lctx:
        for name, workers, slots in (("2_workers_1_slot_each", 2, 1), ("1_process_single_queue", 1, 1)):
            env = {"POLICY_RAG_LLM": "none", "POLICY_RAG_HOSTED_BASE_URL": f"http://127.0.0.1:{port}/v1",
                   "POLICY_RAG_LLM_SLOTS": str(slots)}
            ctx, base = serve(workers, env)
            with ctx:
                out[name] = asyncio.run(streamed_users(base, args.llm_users, "hosted", args.llm_timeout))
    return out


def main() -> int:
    default_llm = os.path.expanduser("~/.cache/policy-rag/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=["api", "llm", "llm-server", "fake-llm", "all"], default="all")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--think", type=float, default=0.0,
                    help="part api: seconds each user pauses after an answer, on average (0: none, the "
                         "throughput ceiling); users start spread over the first pause")
    ap.add_argument("--llm-model", default=os.environ.get("POLICY_RAG_LLM_MODEL", default_llm))
    ap.add_argument("--llm-users", type=int, default=8)
    ap.add_argument("--llm-threads", type=int, default=2)
    ap.add_argument("--llm-timeout", type=float, default=900)
    ap.add_argument("--llm-configs", default="2,1,inproc",
                    help="which set-ups: N workers via the LLM server, 'inproc' one process generating itself")
    ap.add_argument("--setups", default="parallel2,inproc",
                    help="part llm-server: parallel2 (llama-server 2 slots, 2 workers), parallel1, inproc")
    ap.add_argument("--fake-slots", type=int, default=2)
    ap.add_argument("--fake-tps", type=float, default=20)
    ap.add_argument("--fake-tokens", type=int, default=100)
    ap.add_argument("--serve-fake-llm", type=int, default=None, metavar="PORT", help=argparse.SUPPRESS)
    ap.add_argument("--out", default=None, help="JSON report (default eval/reports/load-<stamp>.json)")
    args = ap.parse_args()
    if args.serve_fake_llm:
        import uvicorn

        uvicorn.run(fake_llm_app(args.fake_slots, args.fake_tps, args.fake_tokens), host="127.0.0.1",
                    port=args.serve_fake_llm, log_level="warning")
        return 0
    report: dict[str, Any] = {"cpu": cpu_model(), "cores": os.cpu_count(), "loadavg_start": loadavg(),
                              "started": datetime.now(UTC).isoformat(timespec="seconds")}
    print(f"CPU: {report['cpu']} ({report['cores']} cores); load average {report['loadavg_start']}", flush=True)
    if args.part in ("api", "all"):
        report["api"] = part_api(args)
        print(json.dumps(report["api"], indent=1), flush=True)
    if args.part in ("llm", "all"):
        report["llm"] = part_llm(args)
        print(json.dumps(report["llm"], indent=1), flush=True)
    if args.part == "llm-server":
        report["llm_server"] = part_llm_server(args)
    if args.part == "fake-llm":
        report["fake_llm"] = part_fake_llm(args)
        print(json.dumps(report["fake_llm"], indent=1), flush=True)
    report["loadavg_end"] = loadavg()
    out = Path(args.out or ROOT / "eval" / "reports" / f"load-{datetime.now(UTC):%Y%m%dT%H%M%S}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
