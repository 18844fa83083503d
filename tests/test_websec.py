"""The web surface from outside: plain HTTP (httpx) against the real app on a free loopback
port, with the fake embedder and a small index. Each refused route is checked for its status
and for what it did not do (no file read, no URL fetched, no marks written)."""

from __future__ import annotations

import http.server
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import Request

from policy_rag import websec
from policy_rag.assistant import Assistant
from policy_rag.settings import REPO_ROOT
from test_app import free_port, load_app

appmod = load_app()


class Counter:
    """A loopback HTTP server that counts the requests it gets (it must get none)."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()

            def log_message(self, *a: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def counter() -> Iterator[Counter]:
    c = Counter()
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def assistant(settings, fake_embedder, small_index) -> Assistant:  # noqa: ANN001
    return Assistant(settings.with_(llm="none"), embedder=fake_embedder, index=small_index)


def _serve(assistant: Assistant, tmp_path: Path, **kw: Any) -> Iterator[dict[str, Any]]:
    demo = appmod.build_app(assistant, marks_path=tmp_path / "marks" / "marks.json", **kw)
    port = free_port()
    appmod.launch(demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=20) as http:
            yield {"demo": demo, "port": port, "http": http, "marks": tmp_path / "marks" / "marks.json"}
    finally:
        demo.close()


@pytest.fixture
def served(assistant: Assistant, tmp_path: Path) -> Iterator[dict[str, Any]]:
    yield from _serve(assistant, tmp_path)


@pytest.fixture
def served_no_eval(assistant: Assistant, tmp_path: Path, monkeypatch) -> Iterator[dict[str, Any]]:  # noqa: ANN001
    monkeypatch.setenv("POLICY_RAG_EVALUATOR", "off")
    yield from _serve(assistant, tmp_path)


def fn_index(demo: Any, name: str) -> int:
    return next(i for i, fn in demo.fns.items() if fn.name == name or fn.api_name == name)


def join(s: dict[str, Any], fn: int, data: list[Any], **headers: str) -> httpx.Response:
    return s["http"].post("/gradio_api/queue/join", json={"data": data, "fn_index": fn, "session_hash": "probe1",
                                                          "event_data": None, "trigger_id": None}, headers=headers)


# ------------------------------------------------------------------------------------ Host and origin


def test_host_header_must_name_this_server(served: dict[str, Any]) -> None:
    http, port = served["http"], served["port"]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "127.0.0.1", "localhost"):
        assert http.get("/config", headers={"Host": host}).status_code == 200, host
    for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1.evil.example:{port}", f"127.0.0.1:{port + 1}",
                 f"user@127.0.0.1:{port}", ""):
        r = http.get("/", headers={"Host": host})
        assert r.status_code == 400, (host, r.status_code)
        assert http.post("/gradio_api/run/answer", json={"data": ["x", "none"]},
                         headers={"Host": host}).status_code == 400


def test_two_host_headers_are_refused(served: dict[str, Any]) -> None:
    import socket

    port = served["port"]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET /config HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nHost: evil.example\r\n"
                     "Connection: close\r\n\r\n".encode())
        reply = sock.recv(200).decode("latin-1")
    assert reply.startswith("HTTP/1.1 400"), reply


def test_allowed_hosts_setting(assistant: Assistant, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("POLICY_RAG_ALLOWED_HOSTS", "policy.example.org")
    for s in _serve(assistant, tmp_path):
        assert s["http"].get("/config", headers={"Host": "policy.example.org"}).status_code == 200
        assert s["http"].get("/config", headers={"Host": "other.example.org"}).status_code == 400


def test_no_cors_for_other_origins(served: dict[str, Any]) -> None:
    http, port = served["http"], served["port"]
    for origin in (f"http://localhost:{port + 1}", "http://127.0.0.1:9", "null", "https://evil.example"):
        r = http.get("/config", headers={"Origin": origin})
        assert not any(k.lower().startswith("access-control-") for k in r.headers), (origin, dict(r.headers))
        pre = http.options("/gradio_api/queue/join", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})
        assert pre.status_code == 403 and "access-control-allow-origin" not in pre.headers
        r = join(served, fn_index(served["demo"], "answer"), ["Wat is AI?", "none"], Origin=origin)
        assert r.status_code == 403
    # the page's own origin works
    r = join(served, fn_index(served["demo"], "answer"), ["Wat is AI?", "none"], Origin=f"http://127.0.0.1:{port}")
    assert r.status_code == 200, r.text


# ------------------------------------------------------------------------------------ routes


def test_routes_the_app_does_not_use_are_closed(served: dict[str, Any], counter: Counter) -> None:
    http = served["http"]
    closed = {
        ("GET", "/monitoring"): (404,), ("GET", "/monitoring/summary"): (404,),
        ("GET", "/gradio_api/upload_progress?upload_id=x"): (404,),
        ("GET", f"/gradio_api/proxy={counter.url}/p.png"): (404,),
        ("GET", "/gradio_api/openapi.json"): (404,), ("GET", "/gradio_api/runs"): (404,),
        ("GET", "/gradio_api/run-history/buckets"): (404,), ("GET", "/gradio_api/vibe-code"): (404,),
        ("POST", "/gradio_api/component_server"): (404,), ("POST", "/gradio_api/process_recording"): (404,),
        ("GET", "/gradio_api/dev/reload"): (404,), ("GET", "/gradio_api/token"): (404,),
    }
    for (method, path), codes in closed.items():
        r = http.request(method, path)
        assert r.status_code in codes, (method, path, r.status_code)
    # the app has no upload: refused, and nothing is stored or echoed
    r = http.post("/gradio_api/upload", files={"files": ("a.txt", b"hello", "text/plain")})
    assert r.status_code == 404 and "/tmp" not in r.text
    assert counter.hits == []


def test_request_bodies_are_limited(served: dict[str, Any]) -> None:
    http = served["http"]
    big = "x" * (2 * 1024 * 1024)
    r = http.post("/gradio_api/run/answer", json={"data": [big, "none"]})
    assert r.status_code == 413
    r = join(served, fn_index(served["demo"], "answer"), [big, "none"])
    assert r.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it comes
        yield b'{"data": ["'
        for _ in range(40):
            yield b"y" * 65536
        yield b'", "none"]}'

    r = http.post("/gradio_api/run/answer", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    # a normal call still works
    r = http.post("/gradio_api/call/answer", json={"data": ["Wat is AI-geletterdheid?", "none"]})
    assert r.status_code == 200 and "event_id" in r.json()


SECRET_PATHS = [
    "/etc/passwd", "//etc/passwd", "/etc/./passwd", "%2Fetc%2Fpasswd", "%252Fetc%252Fpasswd",
    "{tmp}/../../etc/passwd", "{tmp}/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "{tmp}/%252e%252e/%252e%252e/etc/passwd",
    "{tmp}%2F..%2F..%2F..%2Fetc%2Fpasswd", "{tmp}/..%252f..%252f..%252fetc/passwd", "{tmp}/..\\..\\etc\\passwd",
    "file:///etc/passwd", "{repo}/pyproject.toml", "{repo}/app.py", "{marks}", "/proc/self/environ",
    "{tmp}/\x00/etc/passwd",
]


def test_file_routes_serve_nothing_outside_the_apps_temp_folder(served: dict[str, Any], counter: Counter) -> None:
    http = served["http"]
    from gradio.utils import get_upload_folder

    served["marks"].parent.mkdir(parents=True, exist_ok=True)
    served["marks"].write_text('{"marks": {}}', encoding="utf-8")
    tmp = get_upload_folder()
    probes = [p.format(tmp=tmp, repo=REPO_ROOT, marks=served["marks"]) for p in SECRET_PATHS]
    probes += [f"{counter.url}/x.png", counter.url.replace("http://", "http:/") + "/y.png",
               f"http%3A%2F%2F127.0.0.1%3A{counter.port}%2Fz.png", f"//127.0.0.1:{counter.port}/w.png"]
    for probe in probes:
        for route in ("/gradio_api/file=", "/gradio_api/file/"):
            r = http.get(route + probe.replace("\x00", "%00"))
            assert r.status_code in (400, 403, 404), (route, probe, r.status_code)
            assert "root:" not in r.text and "[project]" not in r.text
    assert counter.hits == []


def test_named_calls_only_for_the_public_api(served: dict[str, Any]) -> None:
    http = served["http"]
    for name in ("run_eval", "save_mark", "pick", "lambda", "export", "_example_text"):
        for route in ("/gradio_api/run/", "/gradio_api/call/", "/gradio_api/api/"):
            r = http.post(route + name, json={"data": ["nl", 3, "none"]})
            assert r.status_code in (403, 404), (route, name, r.status_code)
    assert not served["marks"].exists()


def test_private_handler_without_a_trigger_is_not_callable(tmp_path: Path) -> None:
    import gradio as gr

    calls: list[str] = []

    def secret(x: str) -> str:
        calls.append(x)
        return x

    with gr.Blocks() as demo:
        gr.api(secret, api_name="secret", api_visibility="private")
    port = free_port()
    appmod.launch(demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=20) as http:
            idx = fn_index(demo, "secret")
            r = http.post("/gradio_api/queue/join", json={"data": ["x"], "fn_index": idx, "session_hash": "s1"})
            assert r.status_code == 403
            assert http.post("/gradio_api/run/secret", json={"data": ["x"]}).status_code == 403
    finally:
        demo.close()
    assert calls == []


def test_evaluator_off_writes_no_marks_through_the_queue(served_no_eval: dict[str, Any]) -> None:
    s = served_no_eval
    demo = s["demo"]
    names = {fn.name for fn in demo.fns.values()}
    assert not {"run_eval", "save_mark", "pick"} & names  # the evaluator's handlers are not even registered
    for i in range(len(demo.fns) + 5):
        fn = demo.fns.get(i)
        if fn is not None and fn.name in ("chat", "answer", "cite", "cite_view"):
            continue
        join(s, i, [[{"id": "x", "backend": "none", "answer": "a"}], 0, "correct", "hi"])
    assert not s["marks"].exists()
    rows = demo.handlers["run_eval"]("all", 3, "none")
    assert rows[0] == [] and "POLICY_RAG_EVALUATOR" in rows[2]
    assert demo.handlers["save_mark"]([{"id": "x", "backend": "none"}], 0, "correct", "")[2] != ""
    assert not s["marks"].exists()


def test_public_api_still_answers_through_gradio_client(served: dict[str, Any]) -> None:
    from gradio_client import Client

    c = Client(f"http://127.0.0.1:{served['port']}/", verbose=False)
    r = c.predict("Mag ik emotieherkenning gebruiken op de werkplek?", "none", api_name="/answer")
    assert r["citations"] and r["backend"] == "none"
    assert c.predict("Artikel 5, lid 1, punt f", api_name="/cite")["count"] == 2


# ------------------------------------------------------------------------------------ helpers


def test_official_url_allows_only_the_manifests_hosts(tmp_path: Path) -> None:
    hosts = websec.official_hosts(REPO_ROOT / "corpus" / "sources.toml")
    assert {"eur-lex.europa.eu", "digital-strategy.ec.europa.eu"} <= hosts
    ok = "https://eur-lex.europa.eu/legal-content/NL/TXT/HTML/?uri=OJ:L_202401689#art_50"
    assert websec.official_url(ok, hosts) == ok
    for bad in ("http://127.0.0.1:9/x.png", "https://eur-lex.europa.eu.evil.example/x", "javascript:alert(1)",
                "https://user@eur-lex.europa.eu/x", "https://evil.example/?u=https://eur-lex.europa.eu/",
                "data:text/html,hi", " //eur-lex.europa.eu/x", "https://eur-lex.europa.eu/a b"):
        assert websec.official_url(bad, hosts) == "", bad
    bad_manifest = tmp_path / "sources.toml"
    bad_manifest.write_text("[[source", encoding="utf-8")
    assert websec.official_hosts(bad_manifest) == websec.FALLBACK_HOSTS


def test_evaluator_setting(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.delenv("POLICY_RAG_EVALUATOR", raising=False)
    assert websec.evaluator_enabled("127.0.0.1") and websec.evaluator_enabled(None)
    assert not websec.evaluator_enabled("0.0.0.0") and not websec.evaluator_enabled("192.168.1.5")
    monkeypatch.setenv("POLICY_RAG_EVALUATOR", "on")
    assert websec.evaluator_enabled("0.0.0.0")
    monkeypatch.setenv("POLICY_RAG_EVALUATOR", "off")
    assert not websec.evaluator_enabled("127.0.0.1")


def test_marks_file_is_never_written_through_a_planted_symlink(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me", encoding="utf-8")
    folder = tmp_path / "marks"
    folder.mkdir()
    (folder / "marks.json.tmp").symlink_to(outside)
    store = appmod.MarksStore(folder / "marks.json")
    store.set("nl-001", "none", "supported", "ok", "antwoord")
    assert outside.read_text(encoding="utf-8") == "keep me"
    assert json.loads((folder / "marks.json").read_text(encoding="utf-8"))["marks"]["nl-001@none"]["mark"] == "supported"
    assert not (folder / "marks.json").is_symlink()


def test_no_temp_folder_is_left_behind_by_building_the_app(assistant: Assistant, tmp_path: Path) -> None:
    before = set(os.listdir(os.environ.get("TMPDIR", "/tmp")))
    demo = appmod.build_app(assistant, marks_path=tmp_path / "m.json")
    demo.close()
    after = set(os.listdir(os.environ.get("TMPDIR", "/tmp")))
    assert not [d for d in after - before if d.startswith("policy-rag-app-")]


START_SCRIPT = r"""
import json, socket, sys
seen = []
_connect, _gai = socket.socket.connect, socket.getaddrinfo
def connect(self, addr):
    seen.append(["connect", str(addr[0]) if isinstance(addr, tuple) else str(addr)])
    return _connect(self, addr)
def gai(host, *a, **k):
    seen.append(["resolve", str(host)])
    return _gai(host, *a, **k)
socket.socket.connect, socket.getaddrinfo = connect, gai
sys.path[:0] = [sys.argv[1], sys.argv[2] + "/src", sys.argv[2]]
from conftest import FakeEmbedder, make_index, sample_passages
from policy_rag.assistant import Assistant
from policy_rag.settings import Settings
from test_app import free_port, load_app
import httpx
app = load_app()
emb = FakeEmbedder(dim=512)
tmp = sys.argv[3]
s = Settings(corpus_dir=tmp + "/corpus", index_dir=tmp + "/index", mirror="", cache=tmp + "/cache",
             min_dense_score=0.05, min_dense_score_en=None, llm="none")
demo = app.build_app(Assistant(s, embedder=emb, index=make_index(sample_passages(), emb)),
                     marks_path=tmp + "/marks.json")
port = free_port()
app.launch(demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
base = f"http://127.0.0.1:{port}"
assert httpx.get(base + "/", timeout=20).status_code == 200
r = httpx.post(base + "/gradio_api/call/answer", json={"data": ["Wat is AI-geletterdheid?", "none"]}, timeout=20)
ev = r.json()["event_id"]
out = httpx.get(f"{base}/gradio_api/call/answer/{ev}", timeout=60).text
assert "complete" in out, out
demo.close()
print("SEEN=" + json.dumps(seen))
"""


def test_a_start_and_an_answer_connect_only_to_loopback_and_leave_no_temp_folder(tmp_path: Path) -> None:
    """A fresh process builds, serves, answers, exits: every address it resolved or connected
    to is loopback (no analytics, version check, telemetry), and its temp folder is gone."""
    import subprocess
    import sys

    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADIO_", "HF_"))}
    env["TMPDIR"] = str(tmpdir)
    proc = subprocess.run([sys.executable, "-c", START_SCRIPT, str(Path(__file__).parent), str(REPO_ROOT),
                           str(tmp_path)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.split("SEEN=", 1)[1].splitlines()[0])
    assert seen, "the probe recorded nothing"
    outside = [s for s in seen if s[1] not in ("127.0.0.1", "localhost", "::1", "0.0.0.0")]
    assert outside == [], outside
    assert list(tmpdir.iterdir()) == []


def test_a_dead_process_temp_folder_is_removed_at_the_next_start(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    import subprocess
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f"policy-rag-{dead.pid}-abc"
    (stale / "gradio").mkdir(parents=True)
    alive = tmp_path / f"policy-rag-{os.getpid()}-keep"
    alive.mkdir()
    monkeypatch.setattr(websec, "_temp", {})
    mine = websec.temp_dir()
    assert not stale.exists() and alive.exists() and mine.is_dir() and mine.parent == tmp_path
    import shutil

    shutil.rmtree(mine)


def test_harden_guards_a_fastapi_app_with_the_gradio_app_mounted(assistant: Assistant, tmp_path: Path) -> None:
    """The shape of the HTTP server (a FastAPI app with its own routes, the Gradio app mounted,
    served by uvicorn): the same rules, its own routes untouched, the UI's handlers found."""
    import time

    import gradio as gr
    import uvicorn
    from fastapi import FastAPI

    api = FastAPI()

    @api.get("/v1/health")
    def health() -> dict:
        return {"ok": True}

    @api.post("/v1/echo")
    async def echo(request: Request) -> dict:
        return {"n": len(await request.body())}

    demo = appmod.build_app(assistant, marks_path=tmp_path / "marks.json")
    app = gr.mount_gradio_app(api, demo, path="/ui")
    websec.harden(app)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=20) as http:
            assert http.get("/v1/health").json() == {"ok": True}
            assert http.get("/v1/health", headers={"Host": "evil.example"}).status_code == 400
            assert http.post("/v1/echo", content=b"x" * 100).json() == {"n": 100}
            assert http.post("/v1/echo", content=b"x" * (2 * 1024 * 1024)).status_code == 413
            assert http.get("/ui/monitoring").status_code == 404
            assert http.post("/ui/gradio_api/upload", files={"files": ("a", b"a")}).status_code == 404
            assert http.get("/ui/gradio_api/file=/etc/passwd").status_code == 403
            assert http.get("/ui/").status_code == 200
            r = http.post("/ui/gradio_api/queue/join", json={"data": ["Wat is AI?", "none"], "session_hash": "m1",
                                                             "fn_index": fn_index(demo, "answer")})
            assert r.status_code == 200, r.text
            assert http.post("/ui/gradio_api/queue/join", json={"data": [], "session_hash": "m1",
                                                                "fn_index": 999}).status_code == 403
            assert http.post("/ui/gradio_api/run/run_eval", json={"data": ["nl", 1, "none"]}).status_code == 403
    finally:
        server.should_exit = True
        th.join(timeout=10)
        demo.close()


def test_a_named_call_cannot_smuggle_another_handlers_fn_index(tmp_path: Path) -> None:
    """Gradio runs the handler ``fn_index`` names even on ``/run/<public name>``."""
    import gradio as gr

    calls: list[str] = []

    def secret(x: str) -> str:
        calls.append(x)
        return x

    def answer(q: str) -> str:
        return q

    with gr.Blocks() as demo:
        gr.api(answer, api_name="answer")
        gr.api(secret, api_name="secret", api_visibility="private")
    port = free_port()
    appmod.launch(demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=20) as http:
            idx = fn_index(demo, "secret")
            for route in ("/gradio_api/run/answer", "/gradio_api/api/answer", "/gradio_api/run/predict",
                          "/gradio_api/call/answer"):
                r = http.post(route, json={"data": ["x"], "fn_index": idx})
                assert r.status_code == 403, (route, r.status_code)
            assert http.post("/gradio_api/run/answer", json={"data": ["ok"]}).json()["data"] == ["ok"]
    finally:
        demo.close()
    assert calls == []
