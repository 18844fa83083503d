"""The hosted path against llama.cpp's own `llama-server` (parallel slots), on loopback.

The binary is built by `scripts/llama_server.sh --build-only` (minutes of compiling, so neither
`make setup` nor CI builds it); without it, or without the 0.5B model, these tests are skipped
with the reason. The server runs with 2 slots and the small model, and stops at the end."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import REPO_ROOT, free_port, server_process
from policy_rag import verdict
from policy_rag.generate import HostedGenerator

pytestmark = pytest.mark.integration

MESSAGES = [
    {"role": "system", "content": "Answer from the source only, in JSON."},
    {"role": "user", "content": "Source [1]: Social scoring by public authorities is prohibited since "
                                "2 February 2025.\n\nQuestion: Is social scoring allowed?"},
]


def built_binary() -> Path | None:
    r = subprocess.run(["bash", str(REPO_ROOT / "scripts" / "llama_server.sh"), "--print-binary"],
                       capture_output=True, text=True, timeout=30)
    return Path(r.stdout.strip()) if r.returncode == 0 else None


@pytest.fixture(scope="module")
def llama_cpp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-server with 2 slots and the 0.5B model on a free loopback port; its /v1 base URL."""
    from policy_rag.models import llm_path
    from policy_rag.settings import get_settings

    binary = built_binary()
    if binary is None:
        pytest.skip("no llama-server binary: build it once with `scripts/llama_server.sh --build-only`")
    small = llm_path(get_settings(), "0.5b")
    if not small.is_file():
        pytest.skip(f"{small} is missing: run `policy-rag models --llm 0.5b` (or `make setup`)")
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    cmd = [str(binary), "--model", str(small), "--alias", "local-model", "--host", "127.0.0.1",
           "--port", str(port), "--parallel", "2", "--cont-batching", "--ctx-size", "4096", "--threads", "2"]
    with server_process(cmd, f"http://127.0.0.1:{port}/health", "llama-server", log, timeout=120):
        yield f"http://127.0.0.1:{port}/v1"


def test_hosted_generator_streams_schema_json_from_llama_server(llama_cpp_server: str) -> None:
    gen = HostedGenerator(llama_cpp_server, "local-model")
    schema = verdict.schema(1)
    pieces = list(gen.stream(MESSAGES, max_tokens=120, temperature=0.0, schema=schema))
    assert len(pieces) > 2, "streamed piece by piece"
    reply = json.loads("".join(pieces))  # the schema was kept to: valid JSON of that shape
    assert reply["verdict"] in schema["properties"]["verdict"]["enum"]
    assert 1 <= len(reply["sentences"]) <= 3 and all(s["source"] == 1 for s in reply["sentences"])
    # OpenAI's json_schema form was taken (no fallback) and cache_prompt was not refused
    assert gen._schema_form == 0 and gen.cache_prompt is True
    # the answerability check's log-probabilities
    assert isinstance(gen.yes_odds(MESSAGES), float)


def test_llama_server_reuses_the_prompt_and_serves_two_at_once(llama_cpp_server: str) -> None:
    url = f"{llama_cpp_server}/chat/completions"
    body = {"model": "local-model", "messages": MESSAGES, "max_tokens": 8, "temperature": 0.0,
            "cache_prompt": True}
    httpx.post(url, json=body, timeout=120).raise_for_status()
    again = httpx.post(url, json=body, timeout=120).json()
    assert again["timings"]["cache_n"] > 0, "cache_prompt: the second request reused the prompt"
    # two generations at once: both slots busy at the same moment
    busy: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            slots = httpx.get(llama_cpp_server.removesuffix("/v1") + "/slots", timeout=5).json()
            busy.append(sum(bool(s.get("is_processing")) for s in slots))
            time.sleep(0.05)

    w = threading.Thread(target=watch)
    w.start()
    long = {**body, "max_tokens": 60, "cache_prompt": False}
    threads = [threading.Thread(target=lambda: httpx.post(url, json=long, timeout=120).raise_for_status())
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    w.join()
    assert max(busy) == 2, busy
