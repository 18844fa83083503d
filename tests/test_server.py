"""The one ASGI app (src/policy_rag/server.py): the HTTP API, the Gradio app mounted beside it,
concurrency, the marks file shared by workers. Fast tests run the real app on a free loopback
port over the small fake index; the integration test starts ``policy-rag serve --workers 2``
against the real index with the hosted backend pointed at llama_cpp.server on loopback."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import FakeGenerator, free_port, make_index, run_llama_server, sample_passages
from policy_rag.assistant import Assistant, Slots
from policy_rag.embed import FakeEmbedder
from policy_rag.server import create_app, docs_html
from policy_rag.settings import REPO_ROOT, Settings

QUESTION = "Mag ik emotieherkenning gebruiken op de werkplek?"


class Served:
    """A uvicorn server in a thread on a free loopback port; stops at the end of the test."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    timeout_graceful_shutdown=2))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "the test server did not start within 30 s"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)


def fake_assistant(tmp_path: Path, **kw: Any) -> Assistant:
    emb = FakeEmbedder(dim=512)
    s = Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index", mirror="", cache=tmp_path / "cache",
                 min_dense_score=0.05, min_dense_score_en=None, llm="none", marks_path=tmp_path / "marks.json",
                 **kw)
    return Assistant(s, embedder=emb, index=make_index(sample_passages(), emb))


def with_fake_llm(assistant: Assistant, gen: Any) -> Assistant:
    real = assistant.backend
    assistant.backend = lambda requested=None: "local" if requested == "local" else real(requested)  # type: ignore[method-assign]
    assistant.generator = lambda backend: gen if backend == "local" else None  # type: ignore[method-assign]
    return assistant


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with Served(create_app(fake_assistant(tmp_path), port=0)) as s:
        yield s


# ---------------------------------------------------------------------------------------- the API


def test_ask_returns_the_cli_json(served: Served, tmp_path: Path) -> None:
    r = httpx.post(f"{served.url}/v1/ask", json={"question": QUESTION, "backend": "none"}, timeout=30)
    assert r.status_code == 200
    body = r.json()
    assert body["backend"] == "none" and not body["refused"] and body["citations"]
    assert body["citations"][0]["id"] == "ai-act/nl/art-5.1.f"
    # the same keys as `policy-rag ask --json` (Answer.to_dict)
    from policy_rag.types import Answer

    assert set(body) == set(Answer(question="q", language="nl", text="", citations=[], refused=False,
                                   backend="none").to_dict())


def test_bad_input_is_a_4xx_with_the_cli_message(served: Served) -> None:
    from policy_rag.prompts import INPUT_ERRORS

    u = f"{served.url}/v1"
    r = httpx.post(f"{u}/ask", json={"question": "   ", "backend": "none"})
    assert r.status_code == 400 and r.json()["error"] == INPUT_ERRORS["empty"]["nl"]
    assert r.json()["error_kind"] == "empty"
    r = httpx.post(f"{u}/ask", json={"question": "waarom " * 400, "backend": "none"})
    assert r.status_code == 400 and r.json()["error_kind"] == "too_long"
    r = httpx.post(f"{u}/ask", json={"question": "Wat\x00is dit", "backend": "none"})
    assert r.status_code == 400 and r.json()["error_kind"] == "binary"
    r = httpx.post(f"{u}/ask", json={"question": QUESTION, "backend": "gpt"})
    assert r.status_code == 400 and "Unknown LLM backend 'gpt'" in r.json()["error"]
    r = httpx.post(f"{u}/ask", json={"question": QUESTION, "on": "2025-02-30"})
    assert r.status_code == 400 and "YYYY-MM-DD" in r.json()["error"]
    r = httpx.post(f"{u}/ask", json={"vraag": QUESTION})
    assert r.status_code == 422 and "question: Field required" in r.json()["error"]
    r = httpx.post(f"{u}/ask", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "not valid JSON" in r.json()["error"]
    r = httpx.post(f"{u}/ask", json={"question": "x" * (70 * 1024)})
    assert r.status_code == 413
    r = httpx.post(f"{u}/search", json={"question": QUESTION, "k": 500})
    assert r.status_code == 422 and "k:" in r.json()["error"]
    r = httpx.get(f"{u}/cite", params={"q": ""})
    assert r.status_code == 400 and r.json()["error"] == "Vul een bepaling of een zinsdeel in."
    r = httpx.get(f"{u}/passages/ai-act/xx/nothing")
    assert r.status_code == 404 and "No passage with id 'ai-act/xx/nothing'" in r.json()["error"]


def test_on_is_validated_and_echoed(served: Served) -> None:
    r = httpx.post(f"{served.url}/v1/ask", json={"question": QUESTION, "backend": "none", "on": "2025-08-02"})
    assert r.status_code == 200 and r.json()["on"] == "2025-08-02"
    r = httpx.post(f"{served.url}/v1/search", json={"question": QUESTION, "on": "2.8.2025"})
    assert r.status_code == 400 and "'2.8.2025'" in r.json()["error"] and "YYYY-MM-DD" in r.json()["error"]
    # the law in force on a date (inforce.py): today by default, each endpoint takes "on"
    r = httpx.post(f"{served.url}/v1/ask", json={"question": QUESTION, "backend": "none"})
    assert r.status_code == 200 and r.json()["on"] == date.today().isoformat()
    r = httpx.post(f"{served.url}/v1/ask", json={"question": QUESTION, "backend": "none", "on": "2025-02-30"})
    assert r.status_code == 400 and "'2025-02-30'" in r.json()["error"]
    r = httpx.post(f"{served.url}/v1/search", json={"question": QUESTION, "on": "2025-08-02"})
    assert r.status_code == 200 and r.json()["on"] == "2025-08-02"
    for path, params in (("/v1/cite", {"q": "Artikel 4", "on": "morgen"}),
                         ("/v1/passages/ai-act/nl/art-4", {"on": "2025/08/02"})):
        r = httpx.get(f"{served.url}{path}", params=params)
        assert r.status_code == 400 and "YYYY-MM-DD" in r.json()["error"], (path, r.text)
    assert httpx.get(f"{served.url}/v1/cite", params={"q": "Artikel 4", "on": "2025-08-02"}).status_code == 200


def test_search_cite_show_health(served: Served) -> None:
    u = f"{served.url}/v1"
    r = httpx.post(f"{u}/search", json={"question": "emotieherkenning op de werkplek", "k": 3})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"question", "language", "provision", "on", "hits", "timings"} and 1 <= len(body["hits"]) <= 3
    r = httpx.get(f"{u}/cite", params={"q": "Article 5(1)(f)"})
    assert r.status_code == 200 and r.json()["provision"] == "Article 5(1)(f)" and r.json()["count"] >= 2
    r = httpx.get(f"{u}/passages/ai-act/en/art-5.1.f", params={"context": 1})
    assert r.status_code == 200
    assert r.json()["passage"]["id"] == "ai-act/en/art-5.1.f"
    assert [t["id"] for t in r.json()["other_language"]] == ["ai-act/nl/art-5.1.f"]
    h = httpx.get(f"{u}/health").json()
    assert h["status"] == "ok" and h["passages"] == 9 and h["llm_slots"] == 1 and h["pid"] == os.getpid()


def test_stream_gives_tokens_then_the_checked_answer(tmp_path: Path) -> None:
    gen = FakeGenerator().enqueue("Emotieherkenning op de werkplek is verboden [1].")
    a = with_fake_llm(fake_assistant(tmp_path), gen)
    with Served(create_app(a, ui=False)) as s, httpx.stream(
            "POST", f"{s.url}/v1/ask", json={"question": QUESTION, "backend": "local", "stream": True},
            timeout=30) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = [(e.split("\n")[0][len("event: "):], json.loads(e.split("\n")[1][len("data: "):]))
                  for e in r.read().decode().strip().split("\n\n")]
    names = [n for n, _ in events]
    assert names[-1] == "answer" and names.count("token") >= 1, names
    # the tokens are the checked sentences: together they are the final answer's text
    tokens = [d for n, d in events if n == "token"]
    assert all(d["checked"] for d in tokens)
    final = events[-1][1]
    assert "".join(d["text"] for d in tokens).strip() == final["answer"].strip()
    # the sentence drops Article 5(1)(f)'s exception: the quote is shown in its place, under the verdict
    assert final["answer"].startswith("Nee, behalve") and final["verdict"] == "no-unless"
    assert "medische of veiligheidsredenen" in final["answer"]
    assert final["backend"] == "local" and final["citations"] and final["citations"][0]["n"] == 1


def test_stream_bad_input_is_a_400_not_a_stream(served: Served) -> None:
    r = httpx.post(f"{served.url}/v1/ask", json={"question": "", "stream": True, "backend": "none"})
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/json")


def test_a_server_error_is_a_generic_500_with_an_error_id(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    a = fake_assistant(tmp_path)

    def boom(*args: object, **kw: object) -> None:
        raise RuntimeError("secret detail /etc/passwd")

    a.search = boom  # type: ignore[method-assign]
    with Served(create_app(a, ui=False)) as s, caplog.at_level("ERROR", logger="policy_rag.server"):
        r = httpx.post(f"{s.url}/v1/search", json={"question": QUESTION})
    assert r.status_code == 500
    body = r.json()
    assert "secret" not in r.text and "Traceback" not in r.text and "RuntimeError" not in r.text
    assert body["error_id"] and body["error_id"] in body["error"]
    assert any(body["error_id"] in rec.getMessage() and rec.exc_info for rec in caplog.records)


def test_openapi_and_a_docs_page_without_outside_assets(served: Served) -> None:
    spec = httpx.get(f"{served.url}/v1/openapi.json").json()
    assert {"/v1/ask", "/v1/search", "/v1/cite", "/v1/passages/{pid}", "/v1/health"} <= set(spec["paths"])
    page = httpx.get(f"{served.url}/v1/docs")
    assert page.status_code == 200 and "POST /v1/ask" in page.text
    assert "<script" not in page.text.lower() and "<link" not in page.text.lower()
    assert "cdn" not in page.text.lower()
    assert docs_html({"paths": {}}).startswith("<!doctype html>")
    # FastAPI's own CDN-loading pages are switched off
    assert httpx.get(f"{served.url}/docs").status_code != 200 or "swagger" not in httpx.get(f"{served.url}/docs").text


def test_gradio_is_mounted_and_gradio_client_works(served: Served) -> None:
    from gradio_client import Client

    assert httpx.get(f"{served.url}/").status_code == 200
    c = Client(f"{served.url}/", verbose=False)
    r = c.predict(QUESTION, "none", api_name="/answer")
    assert r["backend"] == "none" and r["citations"]
    r = c.predict("Article 5(1)(f)", api_name="/cite")
    assert r["provision"] == "Article 5(1)(f)"


def test_the_front_process_forwards_the_api_to_the_workers(tmp_path: Path) -> None:
    """serve --workers N: the UI process forwards /v1 and /mcp to the pool (here: one in-process
    stand-in); answers, streams and errors come through unchanged; a pool that is down is a 503."""
    from gradio_client import Client

    pool_app = create_app(fake_assistant(tmp_path / "pool"), ui=False)
    with Served(pool_app) as pool:
        front = create_app(fake_assistant(tmp_path / "front"), proxy_to=pool.url)
        with Served(front) as s:
            r = httpx.post(f"{s.url}/v1/ask", json={"question": QUESTION, "backend": "none"}, timeout=30)
            assert r.status_code == 200 and r.json()["citations"]
            r = httpx.post(f"{s.url}/v1/ask", json={"question": ""})
            assert r.status_code == 400 and r.json()["error_kind"] == "empty"
            with httpx.stream("POST", f"{s.url}/v1/ask", json={"question": QUESTION, "backend": "none",
                                                                "stream": True}, timeout=30) as st:
                text = st.read().decode()
            assert st.headers["content-type"].startswith("text/event-stream") and "event: answer" in text
            r = httpx.get(f"{s.url}/v1/passages/ai-act/en/art-4", params={"context": 0})
            assert r.status_code == 200 and [p["id"] for p in r.json()["context"]] == ["ai-act/en/art-4"]
            r = httpx.post(f"{s.url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                           headers={"Accept": "application/json, text/event-stream",
                                    "MCP-Protocol-Version": "2025-06-18"})
            assert r.status_code == 200 and {t["name"] for t in r.json()["result"]["tools"]} >= {"search", "ask"}
            c = Client(f"{s.url}/", verbose=False)  # the UI is the front process's own
            assert c.predict(QUESTION, "none", api_name="/answer")["citations"]
    with Served(create_app(fake_assistant(tmp_path / "f2"), ui=False, proxy_to=pool.url)) as s:
        r = httpx.post(f"{s.url}/v1/search", json={"question": QUESTION})  # the pool has stopped
        assert r.status_code == 503 and "not answering" in r.json()["error"]


# ---------------------------------------------------------------------------------------- concurrency


def test_lazy_loading_is_thread_safe_and_loads_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many threads hit a fresh Assistant at once: the index loads once, every answer is the
    one a single thread gets."""
    from policy_rag import assistant as assistant_mod

    emb = FakeEmbedder(dim=512)
    idx = make_index(sample_passages(), emb)
    loads: list[int] = []

    def slow_load(*args: object, **kw: object) -> Any:
        loads.append(1)
        time.sleep(0.2)  # a wide window for a second loader
        return idx

    monkeypatch.setattr(assistant_mod.index_mod, "load", slow_load)
    made: list[int] = []
    real_retriever = assistant_mod.Retriever

    class CountingRetriever(real_retriever):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kw: Any) -> None:
            made.append(1)
            time.sleep(0.05)
            super().__init__(*args, **kw)

    monkeypatch.setattr(assistant_mod, "Retriever", CountingRetriever)
    s = Settings(corpus_dir=tmp_path, index_dir=tmp_path, mirror="", cache=tmp_path, min_dense_score=0.05,
                 min_dense_score_en=None, llm="none")
    expected = Assistant(s, embedder=emb, index=idx)
    questions = [QUESTION, "Which obligations apply to deployers?", "Wat is AI-geletterdheid?",
                 "Is emotion recognition in the workplace prohibited?"]
    want = {q: [c.passage.id for c in expected.ask(q, "none").citations] for q in questions}
    want_cite = expected.cite("Article 5(1)(f)").to_dict()
    a = Assistant(s, embedder=emb)
    barrier = threading.Barrier(16)

    def job(i: int) -> tuple[str, Any]:
        barrier.wait()
        q = questions[i % len(questions)]
        kind = i % 4
        if kind == 0:
            return q, [c.passage.id for c in a.ask(q, "none").citations]
        if kind == 1:
            return "search", [h.passage.id for h in a.search(q, k=3).hits]
        if kind == 2:
            return "cite", a.cite("Article 5(1)(f)").to_dict()
        return "show", a.show("ai-act/en/art-4")[0].id

    with ThreadPoolExecutor(16) as ex:
        results = list(ex.map(job, range(64)))
    assert len(loads) == 1 and len(made) == 2  # one for `expected`, one for the shared assistant
    for key, got in results:
        if key == "cite":
            assert got == want_cite
        elif key == "show":
            assert got == "ai-act/en/art-4"
        elif key == "search":
            assert len(got) == 3
        else:
            assert got == want[key]


def test_extractive_answers_run_side_by_side(served: Served) -> None:
    """20 concurrent extractive answers over HTTP: all 200, none waits for the others."""
    def one(_: int) -> float:
        t0 = time.perf_counter()
        r = httpx.post(f"{served.url}/v1/ask", json={"question": QUESTION, "backend": "none"}, timeout=60)
        assert r.status_code == 200
        return time.perf_counter() - t0

    with ThreadPoolExecutor(20) as ex:
        lat = list(ex.map(one, range(20)))
    assert len(lat) == 20


def test_slots_limit_generation_and_count_who_waits() -> None:
    slots = Slots(2)
    running: list[int] = []
    peak = [0]
    lock = threading.Lock()

    def work() -> None:
        with slots.hold():
            with lock:
                running.append(1)
                peak[0] = max(peak[0], len(running))
            time.sleep(0.05)
            with lock:
                running.pop()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.02)
    assert slots.position() >= 3  # two generating, the rest waiting
    for t in threads:
        t.join(10)
    assert peak[0] == 2 and slots.running == 0 and slots.waiting == 0


class SlowGenerator(FakeGenerator):
    def __init__(self) -> None:
        super().__init__()
        self.active = 0
        self.peak = 0
        self.lock = threading.Lock()

    def stream(self, messages, *, max_tokens, temperature, stop=None):  # noqa: ANN001
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            time.sleep(0.4)
            yield "Emotieherkenning op de werkplek is verboden [1]."
        finally:
            with self.lock:
                self.active -= 1


def test_generation_is_limited_to_the_slots_while_search_goes_on(tmp_path: Path) -> None:
    gen = SlowGenerator()
    a = with_fake_llm(fake_assistant(tmp_path, llm_slots=1), gen)
    a.warm()
    with Served(create_app(a, ui=False)) as s:
        assert httpx.post(f"{s.url}/v1/search", json={"question": QUESTION}, timeout=30).status_code == 200

        def ask(_: int) -> int:
            return httpx.post(f"{s.url}/v1/ask", json={"question": QUESTION, "backend": "local"},
                              timeout=60).status_code

        with ThreadPoolExecutor(4) as ex:
            futs = [ex.submit(ask, i) for i in range(4)]
            time.sleep(0.1)
            t0 = time.perf_counter()
            r = httpx.post(f"{s.url}/v1/search", json={"question": QUESTION}, timeout=30)
            search_s = time.perf_counter() - t0
            h = httpx.get(f"{s.url}/v1/health").json()
            codes = [f.result() for f in futs]
    assert codes == [200] * 4 and r.status_code == 200
    assert gen.peak == 1  # never two generations at once
    assert h["generating"] == 1 and h["waiting"] >= 1
    assert search_s < 1.2  # a search does not wait for the generations (4 x 0.4 s = 1.6 s one after the other)


def test_app_queue_limits_the_chat_to_the_slots(tmp_path: Path) -> None:
    from test_app import load_app

    appmod = load_app()
    demo = appmod.build_app(fake_assistant(tmp_path, llm_slots=3, api_concurrency=7))
    try:
        fns = {fn.api_name: fn for fn in demo.fns.values()}
        # the chat waits in Gradio's queue (a user sees their place) for one of the LLM's slots
        assert fns["chat"].concurrency_id == "generate" and fns["chat"].concurrency_limit == "default"
        assert demo._queue.default_concurrency_limit == 3
        # the API's answers and lookups run side by side; a generation inside waits for a slot
        assert fns["answer"].concurrency_limit == 7 and fns["cite"].concurrency_limit == 7
    finally:
        demo.close()


# ---------------------------------------------------------------------------------------- marks


def _mark_many(path: str, worker: int, n: int) -> None:
    sys.path.insert(0, str(REPO_ROOT / "tests"))
    from test_app import load_app

    store = load_app().MarksStore(path)
    for i in range(n):
        store.set(f"w{worker}-q{i}", "none", "supported", f"worker {worker}")


def test_marks_from_several_processes_are_all_kept(tmp_path: Path) -> None:
    path = tmp_path / "marks.json"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_mark_many, args=(str(path), w, 15)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    marks = json.loads(path.read_text(encoding="utf-8"))["marks"]
    assert len(marks) == 45
    from test_app import load_app

    store = load_app().MarksStore(path)
    assert store.get("w2-q14", "none")["comment"] == "worker 2"


def test_a_store_sees_marks_another_process_wrote(tmp_path: Path) -> None:
    from test_app import load_app

    path = tmp_path / "marks.json"
    mine = load_app().MarksStore(path)
    mine.set("a", "none", "supported")
    _mark_many(str(path), 9, 1)  # another store (as another worker would)
    assert mine.get("w9-q0", "none")["mark"] == "supported"
    mine.set("b", "none", "partly")
    assert {"a@none", "b@none", "w9-q0@none"} <= set(json.loads(path.read_text())["marks"])


def test_marks_path_is_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICY_RAG_MARKS", str(tmp_path / "elsewhere.json"))
    assert Settings().marks_path == tmp_path / "elsewhere.json"


# ---------------------------------------------------------------------------------------- serve --workers 2


def _small_llm() -> Path | None:
    from policy_rag.models import llm_path
    from policy_rag.settings import get_settings

    p = llm_path(get_settings(), "0.5b")
    return p if p.is_file() else None


@pytest.fixture(scope="module")
def llm_server_2() -> Iterator[str | None]:
    """llama_cpp.server with the 0.5B model, or None (with the reason printed) when there is no
    model or llama.cpp cannot generate on this machine."""
    small = _small_llm()
    from policy_rag.generate import llama_cpp_available

    if small is None or not llama_cpp_available():
        print("no LLM server: the 0.5B model or llama-cpp-python is missing (`make setup`)")
        yield None
        return
    # --interrupt_requests False: the server's default cuts a streaming answer short as soon as
    # another request arrives
    with run_llama_server(small, n_ctx=4096, extra=["--interrupt_requests", "False"]) as base:
        try:  # one token: a build for instructions this machine does not run dies here (SIGILL)
            httpx.post(f"{base}/chat/completions", json={"messages": [{"role": "user", "content": "Hi"}],
                                                         "max_tokens": 1}, timeout=120).raise_for_status()
        except httpx.HTTPError as e:
            print(f"no LLM server: llama_cpp.server could not generate one token ({e})")
            yield None
            return
        yield base


class Serve2:
    """`policy-rag serve --workers 2` on a free loopback port, as a user starts it."""

    def __init__(self, tmp: Path, llm_base: str | None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.llm = llm_base
        env = {**os.environ, "POLICY_RAG_HOSTED_BASE_URL": llm_base or "http://127.0.0.1:9/v1",
               "POLICY_RAG_LLM": "none", "POLICY_RAG_MARKS": str(tmp / "marks.json"), "POLICY_RAG_LLM_SLOTS": "1",
               "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
        self.log = (tmp / "serve.log").open("w+b")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "policy_rag.cli", "serve", "--workers", "2", "--port", str(self.port)],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)

    def wait(self, timeout: float = 420) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc.poll() is None, _tail(self.log)
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"serve --workers 2 not ready in {timeout:.0f} s\n{_tail(self.log)}"
            time.sleep(1)

    def stop(self) -> list[int]:
        """SIGINT, as Ctrl-C would; returns the pids of the processes it had started."""
        children = _children(self.proc.pid)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
                raise AssertionError("serve --workers 2 did not stop within 60 s of SIGINT\n" + _tail(self.log)) from None
        return children


@pytest.fixture(scope="module")
def serve2(tmp_path_factory: pytest.TempPathFactory, llm_server_2: str | None) -> Iterator[Serve2]:
    from policy_rag.settings import get_settings

    s = get_settings()
    if not (Path(s.index_dir) / "current").exists():
        pytest.skip(f"no index in {s.index_dir}: `policy-rag ingest` (or POLICY_RAG_INDEX)")
    srv = Serve2(tmp_path_factory.mktemp("serve2"), llm_server_2)
    try:
        srv.wait()
        yield srv
    finally:
        if srv.proc.poll() is None:
            os.killpg(srv.proc.pid, signal.SIGKILL)


@pytest.mark.integration
def test_two_workers_answer_the_api_and_gradio_client(serve2: Serve2) -> None:
    from gradio_client import Client

    base = serve2.url
    pids = {httpx.get(f"{base}/v1/health", timeout=10).json()["pid"] for _ in range(40)}
    assert serve2.proc.pid not in pids and 1 <= len(pids) <= 2  # answered by the workers, not the front
    r = httpx.post(f"{base}/v1/search", json={"question": "Welke AI-praktijken zijn verboden?", "k": 5}, timeout=60)
    assert r.status_code == 200 and len(r.json()["hits"]) == 5
    r = httpx.post(f"{base}/v1/ask", json={"question": QUESTION, "backend": "none"}, timeout=60)
    assert r.status_code == 200 and r.json()["backend"] == "none" and r.json()["citations"]
    r = httpx.post(f"{base}/v1/ask", json={"question": "", "backend": "none"}, timeout=60)
    assert r.status_code == 400 and r.json()["error_kind"] == "empty"
    c = Client(f"{base}/", verbose=False)
    r2 = c.predict(QUESTION, "none", api_name="/answer")
    assert r2["backend"] == "none" and "error" not in r2
    assert c.predict("Artikel 6, lid 2", api_name="/cite")["provision"]


@pytest.mark.integration
def test_two_workers_generate_through_the_llm_server(serve2: Serve2) -> None:
    if serve2.llm is None:
        pytest.skip("llama_cpp.server cannot generate here (see the fixture's output)")
    with httpx.stream("POST", f"{serve2.url}/v1/ask", json={
            # not a "from when" question: those are answered from the dates table, without the model
            "question": "Wat is een gebruiksverantwoordelijke?", "backend": "hosted", "stream": True},
            timeout=300) as r:
        text = r.read().decode()
    assert r.status_code == 200, text
    events = [e.split("\n", 1)[0] for e in text.strip().split("\n\n")]
    assert events[-1] == "event: answer", text[-500:]
    final = json.loads(text.strip().split("\n\n")[-1].split("\n", 1)[1][len("data: "):])
    assert final["backend"] == "hosted"
    assert "event: token" in events or final["refused"]


@pytest.mark.integration
def test_two_workers_stop_with_the_front_process(serve2: Serve2) -> None:
    children = serve2.stop()
    assert len(children) >= 2  # the two workers
    deadline = time.monotonic() + 30
    while any(_alive(p) for p in children) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not [p for p in children if _alive(p)], "worker processes outlived serve"


def _tail(f: Any) -> str:
    f.flush()
    f.seek(0)
    return f.read()[-3000:].decode("utf-8", "replace")


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    kids = [int(x) for x in out.split()]
    return kids + [g for k in kids for g in _children(k)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and ") Z" not in stat.read_text()


def test_serve_one_worker_builds_the_whole_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`policy-rag serve` (one process): warm first, then uvicorn with the UI, /v1 and /mcp."""
    import uvicorn

    from policy_rag import cli, server

    fake = fake_assistant(tmp_path)
    ran: dict[str, Any] = {}
    monkeypatch.setattr(server, "Assistant", lambda settings=None: fake)
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: ran.update(app=app, **kw))
    assert cli.main(["serve", "--port", "7999"]) == 0
    paths = {getattr(r, "path", "") for r in ran["app"].routes} | set(ran["app"].openapi()["paths"])
    assert {"/v1/ask", "/v1/search", "/mcp", "/v1/docs"} <= paths and ran["port"] == 7999
    assert ran["app"].state.demo is not None  # the Gradio app is mounted
    assert ran["host"] == "127.0.0.1" and fake._retriever is not None  # warmed before listening
    assert cli.main(["serve", "--workers", "0"]) == 1  # a clear message, no traceback
    assert cli.build_parser().parse_args(["mcp"]).func is cli.cmd_mcp


def test_the_front_sends_each_request_to_the_least_busy_worker() -> None:
    from policy_rag.server import _Proxy

    p = _Proxy(["http://127.0.0.1:1", "http://127.0.0.1:2", "http://127.0.0.1:3"])
    p.inflight = [2, 0, 1]
    assert p.pick() == 1
    p.inflight = [0, 0, 0]
    assert sorted(p.pick() for _ in range(3)) == [0, 1, 2]  # ties: in turn


def test_hostile_questions_through_the_http_api_get_an_answer_or_a_clear_4xx(served: Served) -> None:
    """Every question of tests/hostile_inputs.py through /v1/ask, /v1/search and /v1/cite: a JSON
    answer or a 4xx with a message, never a 5xx or a stack trace; the server keeps serving."""
    from hostile_inputs import bad_questions

    tried = crashes = unclear = 0
    with httpx.Client(base_url=served.url, timeout=60) as c:
        for name, q in bad_questions():
            q = q.encode("utf-8", "replace").decode("utf-8")  # JSON cannot carry a lone surrogate
            for r in (c.post("/v1/ask", json={"question": q, "backend": "none"}),
                      c.post("/v1/search", json={"question": q}),
                      c.get("/v1/cite", params={"q": q[:10_000]})):
                tried += 1
                body = r.text
                if r.status_code >= 500 or "Traceback" in body:
                    crashes += 1
                    print("crash", name, r.status_code, body[:200])
                elif r.status_code >= 400:
                    err = r.json().get("error") or r.json().get("detail")
                    if not err or len(str(err)) < 10:
                        unclear += 1
                        print("unclear", name, r.status_code, body[:200])
        assert c.get("/v1/health").json()["status"] == "ok"
    print(f"[http api] requests {tried}, crashes {crashes}, unclear {unclear}")
    assert tried >= 300 and crashes == 0 and unclear == 0
