"""LLM backends: fast tests on a fake OpenAI-compatible server and a fake llama_cpp, then
integration tests with the real 0.5B GGUF (in-process, and behind llama-cpp-python's server)."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
import types
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from policy_rag import generate
from policy_rag.errors import ModelUnavailableError, PolicyRagError
from policy_rag.generate import (
    Generator,
    HostedGenerator,
    LocalGenerator,
    complete,
    get_generator,
    resolve_backend,
)
from policy_rag.models import llm_path
from policy_rag.settings import Settings, get_settings

KEY_ENV = "POLICY_RAG_TEST_HOSTED_KEY"
MESSAGES = [
    {"role": "system", "content": "Answer from the context only, in one short sentence."},
    {"role": "user", "content": "Context: Sinds 2 februari 2025 is sociale scoring verboden.\n\nQuestion: Sinds wanneer?"},
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------- fake OpenAI-compatible server


class FakeOpenAI:
    """Replies to POST /v1/chat/completions as configured: ``mode`` is one of
    "stream" (SSE deltas), "json" (one JSON body), "error" (HTTP 500), "stream-error"."""

    def __init__(self) -> None:
        self.mode = "stream"
        self.chunks = ["Sinds ", "2 februari", " 2025."]
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(body)})
                if fake.mode == "error":
                    self._send(500, "application/json", b'{"error": {"message": "model not loaded"}}')
                elif fake.mode == "json":
                    reply = {"choices": [{"message": {"role": "assistant", "content": "".join(fake.chunks)}}]}
                    self._send(200, "application/json", json.dumps(reply).encode())
                else:
                    events = [{"choices": [{"delta": {"role": "assistant"}, "index": 0}]}]
                    events += [{"choices": [{"delta": {"content": c}, "index": 0}]} for c in fake.chunks]
                    lines = [": ping"] + [f"data: {json.dumps(e)}" for e in events]
                    if fake.mode == "stream-error":
                        lines.append('data: {"error": {"message": "out of memory"}}')
                    lines.append("data: [DONE]")
                    self._send(200, "text/event-stream", "".join(f"{ln}\r\n\r\n" for ln in lines).encode())

            def _send(self, status: int, ctype: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def generator(self, **kw: Any) -> HostedGenerator:
        return HostedGenerator(self.base_url, "test-model", key_env=KEY_ENV, timeout=10, **kw)


@pytest.fixture
def fake_server() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    fake.thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()


def test_hosted_streams_the_deltas(fake_server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    gen = fake_server.generator()

    pieces = list(gen.stream(MESSAGES, max_tokens=32, temperature=0.0, stop=["\n\n"]))

    assert pieces == ["Sinds ", "2 februari", " 2025."]
    req = fake_server.requests[0]
    assert req["path"] == "/v1/chat/completions"
    assert req["json"] == {
        "model": "test-model",
        "messages": MESSAGES,
        "max_tokens": 32,
        "temperature": 0.0,
        "stream": True,
        "stop": ["\n\n"],
        "cache_prompt": True,  # llama.cpp's server keeps the prompt's KV cache
    }
    assert "Authorization" not in req["headers"], "no key set: no header"


def test_complete_joins_the_stream(fake_server: FakeOpenAI) -> None:
    assert complete(fake_server.generator(), MESSAGES, max_tokens=16) == "Sinds 2 februari 2025."
    assert isinstance(fake_server.generator(), Generator)


def test_hosted_sends_the_api_key_read_when_used(fake_server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    gen = fake_server.generator()
    monkeypatch.setenv(KEY_ENV, "sk-test-123")  # set after the generator was built: read at use
    complete(gen, MESSAGES)
    assert fake_server.requests[0]["headers"]["Authorization"] == "Bearer sk-test-123"


def test_hosted_error_status_is_a_clear_error(fake_server: FakeOpenAI) -> None:
    fake_server.mode = "error"
    with pytest.raises(ModelUnavailableError) as err:
        complete(fake_server.generator(), MESSAGES)
    msg = str(err.value)
    assert f"{fake_server.base_url}/chat/completions" in msg
    assert "HTTP 500" in msg and "model not loaded" in msg and KEY_ENV in msg


def test_hosted_error_event_while_streaming(fake_server: FakeOpenAI) -> None:
    fake_server.mode = "stream-error"
    with pytest.raises(ModelUnavailableError, match="out of memory"):
        complete(fake_server.generator(), MESSAGES)


def test_hosted_accepts_a_non_streaming_reply(fake_server: FakeOpenAI) -> None:
    fake_server.mode = "json"
    assert complete(fake_server.generator(), MESSAGES) == "Sinds 2 februari 2025."


def test_hosted_unreachable_names_the_url() -> None:
    url = f"http://127.0.0.1:{_free_port()}/v1"
    gen = HostedGenerator(url, "m", timeout=5)
    with pytest.raises(ModelUnavailableError) as err:
        complete(gen, MESSAGES)
    assert f"{url}/chat/completions" in str(err.value)
    assert isinstance(err.value.__cause__, httpx.ConnectError)


def test_hosted_from_settings() -> None:
    s = Settings(hosted_base_url="http://example.invalid/v1/", hosted_model="qwen", hosted_timeout=3.0)
    gen = HostedGenerator.from_settings(s)
    assert gen.url == "http://example.invalid/v1/chat/completions"
    assert (gen.model, gen.timeout, gen.key_env) == ("qwen", 3.0, s.hosted_key_env)


# --------------------------------------------------------------------------- LocalGenerator on a fake llama_cpp


class FakeLlama:
    instances: ClassVar[list[FakeLlama]] = []
    active = 0
    max_active = 0
    guard = threading.Lock()

    def __init__(self, **kw: Any) -> None:
        self.kw = kw
        FakeLlama.instances.append(self)

    def create_chat_completion(self, **kw: Any) -> Iterator[dict[str, Any]]:
        assert kw["stream"] is True
        with FakeLlama.guard:
            FakeLlama.active += 1
            FakeLlama.max_active = max(FakeLlama.max_active, FakeLlama.active)
        try:
            yield {"choices": [{"delta": {"role": "assistant"}}]}
            for word in ("een", " twee", " drie"):
                time.sleep(0.02)
                yield {"choices": [{"delta": {"content": word}}]}
        finally:
            with FakeLlama.guard:
                FakeLlama.active -= 1


@pytest.fixture
def fake_llama(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    FakeLlama.instances = []
    FakeLlama.active = FakeLlama.max_active = 0
    module = types.ModuleType("llama_cpp")
    module.Llama = FakeLlama  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "llama_cpp", module)
    generate.llama_cpp_available.cache_clear()
    monkeypatch.setattr(generate, "_local_cache", {})
    model = tmp_path / "tiny.gguf"
    model.write_bytes(b"GGUF")
    yield model
    generate.llama_cpp_available.cache_clear()


def test_local_loads_lazily_once_and_streams(fake_llama: Path) -> None:
    gen = LocalGenerator(fake_llama, n_ctx=1024, n_threads=2)
    assert not gen.loaded and FakeLlama.instances == []

    assert list(gen.stream(MESSAGES, max_tokens=8, temperature=0.0)) == ["een", " twee", " drie"]
    assert complete(gen, MESSAGES) == "een twee drie"

    assert len(FakeLlama.instances) == 1
    assert FakeLlama.instances[0].kw == {
        "model_path": str(fake_llama), "n_ctx": 1024, "n_threads": 2, "chat_format": "chatml", "verbose": False,
        "n_batch": 512, "flash_attn": True,
    }  # fmt: skip


def test_local_serialises_generations(fake_llama: Path) -> None:
    gen = LocalGenerator(fake_llama)
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(complete(gen, MESSAGES))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == ["een twee drie"] * 4
    assert FakeLlama.max_active == 1 and len(FakeLlama.instances) == 1


def test_local_stream_abandoned_early_releases_the_model(fake_llama: Path) -> None:
    gen = LocalGenerator(fake_llama)
    it = gen.stream(MESSAGES, max_tokens=8, temperature=0.0)
    assert next(it) == "een"
    it.close()
    assert FakeLlama.active == 0
    assert complete(gen, MESSAGES) == "een twee drie"  # not blocked


def test_local_missing_model_file(tmp_path: Path) -> None:
    gen = LocalGenerator(tmp_path / "nope.gguf")
    with pytest.raises(ModelUnavailableError, match=r"nope\.gguf does not exist.*policy-rag models"):
        complete(gen, MESSAGES)


# --------------------------------------------------------------------------- choosing a backend


def test_resolve_backend(fake_llama: Path, tmp_path: Path) -> None:
    have = Settings(llm_model_path=str(fake_llama), llm="auto")
    missing = Settings(llm_model_path=str(tmp_path / "missing.gguf"))
    assert resolve_backend(have, None) == "local"
    assert resolve_backend(have, "AUTO") == "local"
    assert resolve_backend(missing, "auto") == "none"
    assert resolve_backend(missing, "hosted") == "hosted"
    assert resolve_backend(missing, "none") == "none"
    assert resolve_backend(have.with_(llm="none"), None) == "none"
    with pytest.raises(PolicyRagError, match=r"Unknown LLM backend 'gpt'.*auto, local, hosted, none"):
        resolve_backend(have, "gpt")
    with pytest.raises(ModelUnavailableError, match=r"missing\.gguf"):
        resolve_backend(missing, "local")


def test_auto_without_llama_cpp_is_none(fake_llama: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # import fails
    generate.llama_cpp_available.cache_clear()
    s = Settings(llm_model_path=str(fake_llama))
    assert resolve_backend(s, "auto") == "none"
    with pytest.raises(ModelUnavailableError, match="llama-cpp-python"):
        resolve_backend(s, "local")


def test_get_generator(fake_llama: Path, tmp_path: Path) -> None:
    s = Settings(llm_model_path=str(fake_llama))
    local = get_generator(s, "local")
    assert isinstance(local, LocalGenerator) and local.name == "local"
    assert get_generator(s, "auto") is local, "one LocalGenerator per model file"
    assert get_generator(s.with_(llm_threads=1), "local") is not local
    assert get_generator(s, "none") is None
    assert get_generator(Settings(llm_model_path=str(tmp_path / "x.gguf")), "auto") is None
    hosted = get_generator(s, "hosted")
    assert isinstance(hosted, HostedGenerator) and hosted.name == "hosted"


# --------------------------------------------------------------------------- integration: the real 0.5B model

SMALL = llm_path(get_settings(), "0.5b")
needs_small = pytest.mark.skipif(
    not SMALL.is_file(), reason=f"{SMALL} is missing: run `policy-rag models --llm 0.5b` (or `make setup`)"
)
QUESTION = [
    {"role": "system", "content": "You answer questions using only the given context. Be brief."},
    {
        "role": "user",
        "content": (
            "Context: Since 2 February 2025, AI practices such as social scoring are prohibited in the EU.\n\n"
            "Question: Since which date is social scoring prohibited? Answer with the date."
        ),
    },
]


@pytest.mark.integration
@needs_small
def test_local_generator_answers_with_the_real_model() -> None:
    s = get_settings().with_(llm_model_path=str(SMALL), llm_ctx=2048, llm_threads=2)
    gen = get_generator(s, "local")
    assert isinstance(gen, LocalGenerator)
    pieces = list(gen.stream(QUESTION, max_tokens=40, temperature=0.0))
    text = "".join(pieces)
    assert len(pieces) > 1, "streamed in pieces"
    assert "2025" in text and "February" in text, text
    assert get_generator(s, "local") is gen and gen.loaded


@pytest.mark.integration
@needs_small
def test_hosted_generator_against_llama_cpp_server(llama_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICY_RAG_HOSTED_API_KEY", "unused-by-this-server")
    s = get_settings().with_(hosted_base_url=llama_server, hosted_model="local-model", hosted_timeout=120.0)
    gen = get_generator(s, "hosted")
    assert isinstance(gen, HostedGenerator)
    pieces = list(gen.stream(QUESTION, max_tokens=40, temperature=0.0))
    text = "".join(pieces)
    assert len(pieces) > 1, "streamed over SSE in pieces"
    assert "2025" in text and "February" in text, text


@pytest.mark.integration
@needs_small
def test_hosted_error_status_from_the_real_server(llama_server: str) -> None:
    gen = HostedGenerator(llama_server, "local-model", timeout=60)
    with pytest.raises(ModelUnavailableError, match=r"(?s)HTTP [45]\d\d: .*wizard"):
        complete(gen, [{"role": "wizard", "content": "hi"}], max_tokens=8)  # invalid role: rejected


# --------------------------------------------------------------------------- the yes/no judge


def test_chatml_is_the_prompt_llama_cpp_writes() -> None:
    msgs = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]
    assert generate.chatml(msgs) == "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n"
    fmt = pytest.importorskip("llama_cpp.llama_chat_format")
    assert fmt.format_chatml(msgs).prompt == generate.chatml(msgs)


def test_odds_from_top_logprobs_and_from_the_plain_reply() -> None:
    def reply(content: str, tops: list[tuple[str, float]] | None = None) -> dict:
        choice: dict[str, Any] = {"message": {"content": content}}
        if tops is not None:
            choice["logprobs"] = {"content": [{"token": tops[0][0], "logprob": tops[0][1],
                                               "top_logprobs": [{"token": t, "logprob": lp} for t, lp in tops]}]}
        return {"choices": [choice]}

    assert generate._odds_from_reply(reply("Ja", [("Ja", -0.1), ("Nee", -2.4)])) == pytest.approx(2.3)
    assert generate._odds_from_reply(reply("No", [("No", -0.2), (" Yes", -1.9), ("yes", -3.0)])) < -1.0
    assert generate._odds_from_reply(reply("Nee.")) == -3.0  # no log-probabilities: the word decides
    assert generate._odds_from_reply(reply("Yes, it does")) == 3.0
    assert generate._odds_from_reply(reply("Perhaps")) is None
    assert generate._odds_from_reply({"oops": 1}) is None


def test_hosted_yes_odds_falls_back_without_logprobs(fake_server: FakeOpenAI) -> None:
    fake_server.mode = "json"
    fake_server.chunks = ["Nee"]
    assert fake_server.generator().yes_odds(MESSAGES) == -3.0
    sent = fake_server.requests[0]["json"]
    assert sent["max_tokens"] == 1 and sent["logprobs"] is True and sent.get("stream") is not True
    fake_server.mode = "error"
    assert fake_server.generator().yes_odds(MESSAGES) is None  # cannot tell: the caller answers anyway


YES_NO = [
    {"role": "user", "content": "Source: Since 2 February 2025, social scoring is prohibited in the EU.\n\n"
                                "Question: {q}\nDoes the source answer this question? Answer only Yes or No."},
]


@pytest.mark.integration
@needs_small
def test_local_yes_odds_with_the_real_model_tells_answered_from_not() -> None:
    gen = get_generator(get_settings().with_(llm_model_path=str(SMALL), llm_ctx=2048, llm_threads=2), "local")
    ask = lambda q: [{"role": "user", "content": YES_NO[0]["content"].format(q=q)}]  # noqa: E731
    yes = gen.yes_odds(ask("Since when is social scoring prohibited in the EU?"))
    no = gen.yes_odds(ask("What is the corporate income tax rate in the Netherlands?"))
    assert yes is not None and no is not None and yes > no, (yes, no)
    # the judged prompt stays cached: a generation from it still streams a correct answer
    text = "".join(gen.stream(QUESTION, max_tokens=40, temperature=0.0))
    assert "2025" in text, text


@pytest.mark.integration
@needs_small
def test_hosted_yes_odds_against_llama_cpp_server(llama_server: str) -> None:
    gen = HostedGenerator(llama_server, "local-model", timeout=120)
    ask = lambda q: [{"role": "user", "content": YES_NO[0]["content"].format(q=q)}]  # noqa: E731
    yes = gen.yes_odds(ask("Since when is social scoring prohibited in the EU?"))
    no = gen.yes_odds(ask("What is the corporate income tax rate in the Netherlands?"))
    assert yes is not None and no is not None and yes >= no, (yes, no)
