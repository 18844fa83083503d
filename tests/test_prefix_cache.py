"""The local LLM's prefix cache (generate.PrefixCache, LocalGenerator._prepare_prefix) on a fake
llama_cpp whose KV cache is a list of tokens, and HostedGenerator's "cache_prompt"; one bounded
integration test with the real 0.5B model."""

from __future__ import annotations

import ctypes
import json
import sys
import threading
import time
import types
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from policy_rag import generate
from policy_rag.generate import HostedGenerator, LocalGenerator, chatml, complete, fixed_prefix
from policy_rag.models import llm_path
from policy_rag.settings import Settings, get_settings


class KVLlama:
    """A Llama whose tokens are characters and whose KV cache is the list of tokens evaluated;
    counts the tokens it evaluates (what a prompt costs), and checks that generation only ever
    reuses a KV cache that holds the prompt's own tokens."""

    instances: ClassVar[list[KVLlama]] = []

    def __init__(self, **kw: Any) -> None:
        self.kw = kw
        self.input_ids = np.zeros(kw.get("n_ctx", 4096), dtype=np.intc)
        self.n_tokens = 0
        self.kv: list[int] = []
        self.evaluated = 0
        self._requires_eval = False
        self.ctx = self
        self._ctx = self
        KVLlama.instances.append(self)

    def tokenize(self, text: bytes, add_bos: bool = True, special: bool = False) -> list[int]:
        return [ord(c) for c in text.decode()]

    @property
    def _input_ids(self) -> Any:
        return self.input_ids[: self.n_tokens]

    @staticmethod
    def longest_token_prefix(a: Any, b: Any) -> int:
        n = 0
        for x, y in zip(a, b):
            if x != y:
                break
            n += 1
        return n

    def kv_cache_seq_rm(self, seq: int, p0: int, p1: int) -> bool:
        del self.kv[p0:]
        return True

    def eval(self, toks: list[int]) -> None:
        self.kv_cache_seq_rm(-1, self.n_tokens, -1)
        self.kv.extend(toks)
        self.input_ids[self.n_tokens:self.n_tokens + len(toks)] = toks
        self.n_tokens += len(toks)
        self.evaluated += len(toks)

    def create_chat_completion(self, messages: list[dict[str, str]], **kw: Any) -> Iterator[dict[str, Any]]:
        prompt = self.tokenize(chatml(messages).encode())
        keep = min(self.longest_token_prefix(self._input_ids, prompt), len(prompt) - 1)
        assert self.kv[:keep] == prompt[:keep], "the KV cache does not hold what input_ids says"
        self.n_tokens = keep
        self.eval(prompt[keep:])
        yield {"choices": [{"delta": {"role": "assistant"}}]}
        for word in ("Ja", ", dat", " mag."):
            yield {"choices": [{"delta": {"content": word}}]}


def _get_size(ctx: KVLlama, seq: int) -> int:
    return len(json.dumps(ctx.kv).encode())


def _get_data(ctx: KVLlama, buf: Any, size: int, seq: int) -> int:
    data = json.dumps(ctx.kv).encode()
    ctypes.memmove(buf, data, len(data))
    return len(data)


def _set_data(ctx: KVLlama, buf: Any, size: int, seq: int) -> int:
    ctx.kv = json.loads(bytes(buf)[:size])
    return size


@pytest.fixture
def kv_llama(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    KVLlama.instances = []
    module = types.ModuleType("llama_cpp")
    module.Llama = KVLlama  # type: ignore[attr-defined]
    module.llama_state_seq_get_size = _get_size  # type: ignore[attr-defined]
    module.llama_state_seq_get_data = _get_data  # type: ignore[attr-defined]
    module.llama_state_seq_set_data = _set_data  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "llama_cpp", module)
    generate.llama_cpp_available.cache_clear()
    monkeypatch.setattr(generate, "_local_cache", {})
    model = tmp_path / "tiny.gguf"
    model.write_bytes(b"GGUF")
    yield model
    generate.llama_cpp_available.cache_clear()


SYSTEM = {"nl": "Je beantwoordt vragen over AI-regels. " * 5, "en": "You answer questions about AI rules. " * 5}
SHOTS = [{"role": "user", "content": "Bronnen: [1] ... Vraag: voorbeeld?"}, {"role": "assistant", "content": "Antwoord [1]."}]


def ask(lang: str, question: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM[lang]}, *SHOTS,
            {"role": "user", "content": f"Bronnen: [1] bron over {question}\n\nVraag: {question}"}]


def cost(gen: LocalGenerator, messages: list[dict[str, str]]) -> int:
    """Prompt tokens llama.cpp evaluates for ``messages`` (the generated text is not counted)."""
    llm = gen.load()
    before = llm.evaluated
    assert complete(gen, messages) == "Ja, dat mag."
    return llm.evaluated - before


def test_fixed_prefix_is_what_comes_before_the_final_user_turns() -> None:
    m = ask("nl", "q")
    assert fixed_prefix(m) == m[:3]
    assert fixed_prefix([*m, {"role": "user", "content": "Answer only Yes or No."}]) == m[:3]
    assert fixed_prefix([{"role": "user", "content": "q"}]) == []
    assert fixed_prefix([{"role": "system", "content": "s"}, {"role": "user", "content": "q"}])[0]["content"] == "s"


def test_a_language_switch_restores_the_fixed_prefix_instead_of_reading_it_again(kv_llama: Path,
                                                                                  tmp_path: Path) -> None:
    gen = LocalGenerator(kv_llama, prefix_cache="ram")
    nl1, en1, nl2 = ask("nl", "boetes"), ask("en", "fines"), ask("nl", "chatbots")
    prefix_nl = len(chatml(nl2)) - len(chatml(nl2[-1:]))  # the system prompt and the examples
    full = len(chatml(nl2))
    assert cost(gen, nl1) == len(chatml(nl1)) and gen.stats["prefix"] == "saved"
    head = len("<|im_start|>system\n")  # the only part the two languages share
    assert cost(gen, en1) == len(chatml(en1)) - head and gen.stats["prefix"] == "saved"
    # the live cache holds the English prompt; the Dutch prefix comes back from the saved state
    assert cost(gen, nl2) == full - prefix_nl
    assert gen.stats["prefix"] == "restored" and gen.stats["reused_tokens"] == prefix_nl == gen.stats["prefix_tokens"]
    assert gen.stats["prompt_tokens"] == full and gen.stats["first_token_s"] >= 0 and gen.stats["pieces"] == 3

    off = LocalGenerator(kv_llama, prefix_cache="off")
    for m in (nl1, en1):
        cost(off, m)
    assert cost(off, nl2) == full - head, "without the cache the whole prompt is read again"


def test_the_next_process_reads_the_prefix_state_from_disk(kv_llama: Path, tmp_path: Path) -> None:
    folder = tmp_path / "llm-state"
    first = LocalGenerator(kv_llama, prefix_cache="disk", state_dir=folder)
    cost(first, ask("nl", "boetes"))
    assert list(folder.glob("*.state")) == [], "a prefix seen once is not written"
    cost(LocalGenerator(kv_llama, prefix_cache="disk", state_dir=folder), ask("nl", "boetes"))
    assert len(list(folder.glob("*.state"))) == 1, "seen twice (in two processes): written"

    second = LocalGenerator(kv_llama, prefix_cache="disk", state_dir=folder)  # a new process
    m = ask("nl", "chatbots")
    assert cost(second, m) == len(chatml(m[-1:])), "only the question's own turn is read"
    assert second.stats["prefix"] == "restored"

    kv_llama.write_bytes(b"GGUF v2, another model")  # another file: its states are not used
    m = ask("nl", "chatbots")
    third = LocalGenerator(kv_llama, prefix_cache="disk", state_dir=folder)
    assert cost(third, m) == len(chatml(m)) and third.stats["prefix"] == "saved"


def test_yes_no_check_and_answer_share_the_prefix(kv_llama: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gen = LocalGenerator(kv_llama, prefix_cache="ram")
    llm = gen.load()
    cost(gen, ask("nl", "chatbots"))
    cost(gen, ask("en", "fines"))  # the cache now holds an English prompt
    m = ask("nl", "boetes")
    gen._yes_no = ((1,), (2,))
    monkeypatch.setattr(generate, "_log_odds", lambda logits, yes, no: 1.0)
    llm.n_vocab = lambda: 4
    llm._ctx.get_logits = lambda: (ctypes.c_float * 4)()
    before = llm.evaluated
    assert gen.yes_odds([*m, {"role": "user", "content": "Answer only Yes or No."}]) == 1.0
    assert gen.stats["prefix"] == "restored"
    judged = llm.evaluated - before
    assert judged < len(chatml(m)), "the fixed prefix was not read again for the yes/no check"
    # the answer after the check reads only its last turn header again, not the sources
    assert cost(gen, m) <= len("<|im_start|>assistant\n") + 1


def test_llama_gets_batch_and_flash_attention_from_settings(kv_llama: Path, tmp_path: Path) -> None:
    s = Settings(llm_model_path=str(kv_llama), llm_batch=256, llm_flash_attn=True, llm_prefix_cache="ram",
                 cache=tmp_path)
    gen = generate.get_generator(s, "local")
    assert isinstance(gen, LocalGenerator)
    gen.load()
    kw = KVLlama.instances[-1].kw
    assert (kw["n_batch"], kw["flash_attn"]) == (256, True)
    assert gen.prefix_cache is not None and gen.prefix_cache.folder is None
    disk = generate.get_generator(s.with_(llm_prefix_cache="disk"), "local")
    assert disk is not gen and disk.prefix_cache.folder == tmp_path / "llm-state"  # type: ignore[union-attr]
    with pytest.raises(generate.PolicyRagError, match="LLM_PREFIX_CACHE='yes'"):
        LocalGenerator(kv_llama, prefix_cache="yes")



def test_a_bad_prefix_cache_setting_stops_at_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from policy_rag.errors import SettingsError
    from policy_rag.settings import get_settings

    monkeypatch.setenv("POLICY_RAG_LLM_PREFIX_CACHE", "yes")
    with pytest.raises(SettingsError, match="POLICY_RAG_LLM_PREFIX_CACHE='yes' is not one of disk, ram, off"):
        get_settings()


def test_prefix_cache_keeps_a_few_states_in_memory_and_files_on_disk(tmp_path: Path) -> None:
    c = generate.PrefixCache(tmp_path, "model-a", keep=2, keep_files=3)
    for i in range(5):
        for _ in range(2):  # the second time it is written
            c.put([i, i], f"state {i}".encode())
        time.sleep(0.01)  # distinct modification times
    assert len(c._ram) == 2 and len(list(tmp_path.glob("*.state"))) == 3
    assert c.get([4, 4]) == b"state 4" and c.get([0, 0]) is None
    assert generate.PrefixCache(tmp_path, "model-a").get([3, 3]) == b"state 3"
    assert generate.PrefixCache(tmp_path, "model-b").get([3, 3]) is None
    assert (c.hits, c.misses) == (1, 1)


def test_threads_for_counts_the_cores_no_one_else_runs_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generate.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert generate.threads_for(2, "0.50 0.40 0.30 1/120 999") == 2  # only the reader runs: both cores
    assert generate.threads_for(2, "9.80 9.00 8.00 2/120 999") == 1  # one other task runs
    assert generate.threads_for(2, "11.0 12.0 11.0 9/132 999") == 1  # many: still one thread
    assert generate.threads_for(1, "0.1 0.1 0.1 1/50 9") == 1  # never more than configured
    assert generate.threads_for(2, "garbage") == 2


def test_generation_uses_the_threads_free_now(kv_llama: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []
    sys.modules["llama_cpp"].llama_set_n_threads = lambda ctx, n, nb: calls.append((n, nb))  # type: ignore[attr-defined]
    free = iter([1, 1, 2])
    monkeypatch.setattr(generate, "threads_for", lambda most: next(free))
    gen = LocalGenerator(kv_llama, n_threads=2, adapt_threads=True)
    for _ in range(3):
        cost(gen, ask("nl", "boetes"))
    assert calls == [(1, 1), (2, 2)], "set when it changes"
    assert gen.stats["threads"] == 2
    fixed = LocalGenerator(kv_llama, n_threads=2)
    cost(fixed, ask("nl", "boetes"))
    assert "threads" not in fixed.stats and calls == [(1, 1), (2, 2)]


# --------------------------------------------------------------------------- hosted: cache_prompt


class Recorder:
    """An OpenAI-compatible endpoint that, if ``strict``, rejects fields it does not know (as OpenAI does)."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.bodies: list[dict[str, Any]] = []
        rec = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                rec.bodies.append(body)
                if rec.strict and "cache_prompt" in body:
                    out = json.dumps({"error": {"message": "Unrecognized request argument supplied: cache_prompt"}})
                    self._send(400, "application/json", out.encode())
                elif body.get("stream"):
                    events = [{"choices": [{"delta": {"content": "Ja."}}]}]
                    sse = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
                    self._send(200, "text/event-stream", sse.encode())
                else:
                    out = json.dumps({"choices": [{"message": {"content": "Yes"}}]})
                    self._send(200, "application/json", out.encode())

            def _send(self, status: int, ctype: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.mark.parametrize("strict", [False, True])
def test_hosted_asks_the_server_to_keep_the_prompt_cached(strict: bool) -> None:
    srv = Recorder(strict)
    try:
        gen = HostedGenerator(srv.url, "m", timeout=10)
        assert complete(gen, ask("nl", "q")) == "Ja."
        assert complete(gen, ask("nl", "q")) == "Ja."
        assert gen.yes_odds(ask("nl", "q")) == 3.0
        sent = ["cache_prompt" in b for b in srv.bodies]
        if strict:  # refused once, then never sent again
            assert sent == [True, False, False, False] and not gen.cache_prompt
        else:
            assert sent == [True, True, True] and all(b["cache_prompt"] is True for b in srv.bodies)
    finally:
        srv.server.shutdown()
        srv.server.server_close()


# --------------------------------------------------------------------------- integration: the real 0.5B model

SMALL = llm_path(get_settings(), "0.5b")


@pytest.mark.integration
@pytest.mark.skipif(not SMALL.is_file(), reason=f"{SMALL} is missing: run `policy-rag models --llm 0.5b`")
def test_real_model_restored_prefix_gives_the_same_answer(tmp_path: Path) -> None:
    """A state saved by one Llama and restored into another (the next process) answers exactly
    as evaluating the whole prompt does, and the restored prefix is not evaluated again."""
    sys_msg = {"role": "system", "content": "You answer questions from the context only, in one short sentence. "
                                            "Quote the date exactly as the context gives it."}
    m = [sys_msg, {"role": "user", "content": "Context: Since 2 February 2025, social scoring is prohibited in the "
                                              "EU.\n\nQuestion: Since which date is social scoring prohibited?"}]
    kw: dict[str, Any] = {"n_ctx": 512, "n_threads": 2, "adapt_threads": True, "state_dir": tmp_path}
    first = LocalGenerator(SMALL, prefix_cache="disk", **kw)
    plain = complete(first, m, max_tokens=16, temperature=0.0)  # the prefix is seen once
    first.load().n_tokens = 0
    first.prefix_cache._ram.clear()  # type: ignore[union-attr]
    complete(first, m, max_tokens=1, temperature=0.0)  # seen again: its state is written
    again = LocalGenerator(SMALL, prefix_cache="disk", **kw)  # the next process
    assert complete(again, m, max_tokens=16, temperature=0.0) == plain
    assert again.stats["prefix"] == "restored" and again.stats["reused_tokens"] == again.stats["prefix_tokens"] > 10
    assert "2025" in plain
