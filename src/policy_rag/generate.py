"""The LLM backends behind one small interface: local llama.cpp, any OpenAI-compatible endpoint.

A backend is a :class:`Generator`: ``stream(messages, max_tokens=..., temperature=...)``
yields the answer's text as it is produced; :func:`complete` joins it; ``yes_odds(messages)``
asks it a yes/no question and returns the log-odds of yes (the answerability check). The third backend,
"none", has no generator at all: the extractive answer lives in ``answer.py``.

* :class:`LocalGenerator` runs a GGUF model in-process with llama-cpp-python. The model is
  loaded on first use, once; generations on one model are serialised (a ``Llama`` object
  must not run two at once).
* :class:`HostedGenerator` POSTs to ``{base_url}/chat/completions`` with ``stream=true``
  and parses the server-sent events. The API key is read from the environment variable
  named by ``settings.hosted_key_env`` when a request is made (no header if it is unset).

Choose with :func:`resolve_backend` ("auto" -> "local" when the GGUF and llama-cpp-python
are there, else "none") and build with :func:`get_generator`.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import httpx

from .compute import cores
from .errors import ModelUnavailableError, PolicyRagError
from .settings import LLM_PREFIX_CACHE_MODES, Settings

log = logging.getLogger(__name__)

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}
BACKENDS = ("auto", "local", "hosted", "none")


@runtime_checkable
class Generator(Protocol):
    """Anything that turns chat messages into streamed text."""

    name: str  # "local" | "hosted"

    def stream(
        self,
        messages: list[Message],
        *,
        max_tokens: int,
        temperature: float,
        stop: list[str] | None = None,
        schema: dict[str, Any] | None = None,
    ) -> Iterator[str]:
        """Yield the reply's text piece by piece; with ``schema`` (a JSON schema) the reply is
        held to it where the backend can (a grammar in llama.cpp, ``response_format`` hosted)."""
        ...

    def yes_odds(self, messages: list[Message]) -> float | None:
        """Log-odds that the reply to ``messages`` begins with yes ("Ja"/"Yes") rather than no
        ("Nee"/"No"): the model as a yes/no judge. None if the backend cannot tell."""
        ...


def accepts_schema(generator: Any) -> bool:
    """Whether ``generator.stream`` takes ``schema`` (every backend here does; a test double or
    an older wrapper may not)."""
    try:
        params = inspect.signature(generator.stream).parameters
    except (TypeError, ValueError):
        return False
    return "schema" in params or any(x.kind is inspect.Parameter.VAR_KEYWORD for x in params.values())


def complete(
    gen: Generator,
    messages: list[Message],
    *,
    max_tokens: int = 320,
    temperature: float = 0.1,
    stop: list[str] | None = None,
) -> str:
    """The whole reply of ``gen`` to ``messages`` (its stream, joined)."""
    return "".join(gen.stream(messages, max_tokens=max_tokens, temperature=temperature, stop=stop))


# --------------------------------------------------------------------------- local (llama.cpp)


@functools.lru_cache(maxsize=1)
def llama_cpp_available() -> bool:
    """True if llama-cpp-python imports (it is an optional dependency: ``.[llm]``)."""
    try:
        import llama_cpp  # noqa: F401
    except Exception as exc:  # ImportError, or OSError from a broken shared library
        log.debug("llama_cpp does not import: %s", exc)
        return False
    return True


class LocalGenerator:
    """A GGUF chat model run in-process by llama-cpp-python (ChatML prompt format)."""

    name = "local"

    def __init__(
        self,
        model_path: str | Path,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        chat_format: str = "chatml",
        n_batch: int = 512,
        flash_attn: bool = True,
        prefix_cache: str = "ram",
        state_dir: Path | None = None,
        adapt_threads: bool = False,
    ) -> None:
        self.model_path = Path(model_path)
        self.n_ctx = n_ctx
        self.n_threads = n_threads or os.cpu_count() or 2
        self.chat_format = chat_format
        self.n_batch = n_batch
        self.flash_attn = flash_attn
        self.adapt_threads = adapt_threads
        self._threads_now: int | None = None  # set by _set_threads
        if prefix_cache not in LLM_PREFIX_CACHE_MODES:
            raise PolicyRagError(f"POLICY_RAG_LLM_PREFIX_CACHE={prefix_cache!r} is not one of "
                                 f"{', '.join(LLM_PREFIX_CACHE_MODES)}; fix or unset it (default disk).")
        self.prefix_cache: PrefixCache | None = None
        if prefix_cache != "off":
            self.prefix_cache = PrefixCache(state_dir if prefix_cache == "disk" else None, self._state_tag())
        self.stats: dict[str, Any] = {}  # the last call: tokens, prefix reuse, seconds (llm_bench, logs)
        self._llm: Any = None
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()  # one generation at a time on this model
        self._yes_no: tuple[tuple[int, ...], tuple[int, ...]] | None = None  # token ids

    @classmethod
    def from_settings(cls, settings: Settings, model_path: str | Path | None = None) -> LocalGenerator:
        return cls(
            model_path or settings.llm_model_path,
            n_ctx=settings.llm_ctx,
            n_threads=settings.llm_threads,
            n_batch=settings.llm_batch,
            flash_attn=settings.llm_flash_attn,
            prefix_cache=settings.llm_prefix_cache,
            state_dir=settings.cache / "llm-state",
            adapt_threads=settings.llm_adapt_threads,
        )

    def _state_tag(self) -> str:
        """What a saved llama.cpp state depends on: the model file, the context and its layout."""
        try:
            st = self.model_path.stat()
            file = f"{self.model_path.name}:{st.st_size}:{st.st_mtime_ns}"
        except OSError:
            file = self.model_path.name
        try:
            from importlib.metadata import version

            lib = version("llama_cpp_python")
        except Exception:
            lib = "?"
        return f"{file}|n_ctx={self.n_ctx}|fa={self.flash_attn}|llama_cpp={lib}"

    def __repr__(self) -> str:
        return f"LocalGenerator({str(self.model_path)!r}, n_ctx={self.n_ctx}, n_threads={self.n_threads})"

    @property
    def loaded(self) -> bool:
        return self._llm is not None

    def load(self) -> Any:
        """Load the model if it is not loaded yet (thread-safe); return the ``Llama`` object."""
        if self._llm is not None:
            return self._llm
        with self._load_lock:
            if self._llm is not None:
                return self._llm
            if not self.model_path.is_file():
                raise ModelUnavailableError(
                    f"The local LLM file {self.model_path} does not exist. Run "
                    "`policy-rag models --llm 1.5b` (or `make setup`) to obtain it, or set "
                    "POLICY_RAG_LLM_MODEL to a GGUF file."
                )
            try:
                from llama_cpp import Llama
            except Exception as exc:
                raise ModelUnavailableError(
                    f"llama-cpp-python is not installed or does not load ({exc}). Install it with "
                    "`make setup` (or `pip install '.[llm]'`), or use another backend (--llm none)."
                ) from exc
            t0 = time.perf_counter()
            try:
                self._llm = Llama(
                    model_path=str(self.model_path),
                    n_ctx=self.n_ctx,
                    n_threads=self.n_threads,
                    n_batch=self.n_batch,
                    flash_attn=self.flash_attn,
                    chat_format=self.chat_format,
                    verbose=False,
                )
            except Exception as exc:  # llama-cpp raises ValueError for a bad/incomplete file
                raise ModelUnavailableError(
                    f"Could not load the local LLM {self.model_path}: {exc}. Check the file "
                    "(`policy-rag models --check`) and that it is a GGUF model."
                ) from exc
            log.info("Loaded %s in %.1f s", self.model_path.name, time.perf_counter() - t0)
            return self._llm

    def stream(
        self,
        messages: list[Message],
        *,
        max_tokens: int,
        temperature: float,
        stop: list[str] | None = None,
        schema: dict[str, Any] | None = None,
    ) -> Iterator[str]:
        llm = self.load()
        if not self._run_lock.acquire(blocking=False):
            log.debug("Waiting for the running generation on %s to finish", self.model_path.name)
            self._run_lock.acquire()
        chunks: Any = None
        try:
            t0 = time.perf_counter()
            stats = self._prepare_prefix(llm, messages)
            n = 0
            try:
                chunks = llm.create_chat_completion(
                    messages=messages,
                    max_tokens=max_tokens,
                    temperature=temperature,
                    stop=stop or None,
                    stream=True,
                    # a JSON schema becomes a grammar the sampler keeps to (llama-cpp-python)
                    response_format={"type": "json_object", "schema": schema} if schema else None,
                )
            except ValueError as exc:  # e.g. the prompt does not fit the context window
                raise PolicyRagError(
                    f"The local LLM {self.model_path.name} refused the request: {exc}. Use fewer or "
                    f"shorter passages, or a larger context (n_ctx={self.n_ctx})."
                ) from exc
            for chunk in chunks:
                choices = chunk.get("choices") or []
                if not choices:
                    continue
                text = (choices[0].get("delta") or {}).get("content")
                if text:
                    if not n:
                        stats["first_token_s"] = time.perf_counter() - t0
                        log.info("LLM prompt %s tokens, %s reused (fixed prefix %s: %s), first token after %.2f s",
                                 stats.get("prompt_tokens"), stats.get("reused_tokens"),
                                 stats.get("prefix_tokens"), stats.get("prefix"), stats["first_token_s"])
                    n += 1
                    stats["pieces"] = n
                    yield text
            stats["total_s"] = time.perf_counter() - t0
        finally:
            if chunks is not None and hasattr(chunks, "close"):
                chunks.close()  # a consumer that stops early ends llama.cpp's generation too
            self._run_lock.release()

    def yes_odds(self, messages: list[Message]) -> float | None:
        """From the next-token logits after the ChatML prompt of ``messages``.

        The prompt is evaluated directly (no sampling); llama.cpp's cache keeps the prompt, so
        a generation for the same messages without the final yes/no question evaluates only
        the last few tokens again (the sources are read once)."""
        import numpy as np

        llm = self.load()
        with self._run_lock:
            if self._yes_no is None:
                def first_tokens(words: tuple[str, ...]) -> tuple[int, ...]:
                    return tuple(sorted({llm.tokenize(w.encode(), add_bos=False, special=False)[0] for w in words}))

                self._yes_no = (first_tokens(YES_WORDS), first_tokens(NO_WORDS))
            yes, no = self._yes_no
            self._prepare_prefix(llm, messages)
            toks = llm.tokenize(chatml(messages).encode(), add_bos=False, special=True)
            if len(toks) >= self.n_ctx:
                raise PolicyRagError(f"The yes/no prompt has {len(toks)} tokens, more than the context "
                                     f"window of {self.model_path.name} (n_ctx={self.n_ctx}).")
            keep = min(llm.longest_token_prefix(llm._input_ids, toks), len(toks) - 1)
            llm.n_tokens = keep  # reuse the cached prompt prefix; eval() drops the rest of the cache
            llm.eval(toks[keep:])
            logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),)).astype(np.float64)
        return _log_odds(logits, yes, no)

    def _prepare_prefix(self, llm: Any, messages: list[Message]) -> dict[str, Any]:
        """Make llama.cpp's cache hold the fixed start of the prompt before it is run.

        llama-cpp-python reuses the longest common token prefix with the previous prompt. That
        covers the next question in the same language in the same process; it does not cover a
        question after one in the other language (the system prompts differ from the first
        token), a yes/no check, or a new process (`policy-rag ask`). So the state after the
        fixed prefix (:func:`fixed_prefix`: the system prompt and worked examples) is saved the
        first time and restored when the cache does not already hold it. Sets ``self.stats``."""
        stats: dict[str, Any] = {"prefix": "off", "prefix_tokens": 0}
        self.stats = stats
        if self.adapt_threads:
            stats["threads"] = self._set_threads(llm, threads_for(self.n_threads))
        try:
            prompt = llm.tokenize(chatml(messages).encode(), add_bos=False, special=True)
            stats["prompt_tokens"] = len(prompt)
            prefix = fixed_prefix(messages)
            if self.prefix_cache is not None and prefix:
                toks = llm.tokenize(chatml_turns(prefix).encode(), add_bos=False, special=True)
                if 0 < len(toks) < min(len(prompt), self.n_ctx) and toks == prompt[: len(toks)]:
                    stats["prefix_tokens"] = len(toks)
                    t = time.perf_counter()
                    stats["prefix"] = self._hold_prefix(llm, toks)
                    stats["prefix_s"] = time.perf_counter() - t
            stats["reused_tokens"] = llm.longest_token_prefix(llm._input_ids, prompt)
        except PolicyRagError:
            raise
        except Exception as exc:  # a llama-cpp-python without these internals: run without the cache
            log.warning("LLM prefix cache not used: %s", exc)
            stats["prefix"] = "error"
            self.prefix_cache = None  # once is enough
            if hasattr(llm, "n_tokens"):
                llm.n_tokens = 0  # whatever the cache holds now, it is read again
        return stats

    def _set_threads(self, llm: Any, n: int) -> int:
        """Run llama.cpp with ``n`` threads from now on (prompt and generation)."""
        if self._threads_now != n:
            try:
                import llama_cpp

                llama_cpp.llama_set_n_threads(llm.ctx, n, n)
                self._threads_now = n
                log.debug("LLM threads: %d", n)
            except Exception as exc:  # an older llama-cpp-python: keep what the model was loaded with
                log.debug("LLM threads not changed: %s", exc)
                return self.n_threads
        return n

    def _hold_prefix(self, llm: Any, toks: list[int]) -> str:
        """Bring ``toks`` into llama.cpp's KV cache: "live" (already there), "restored" (from a
        saved state) or "saved" (evaluated now and its state saved)."""
        assert self.prefix_cache is not None
        live = llm.longest_token_prefix(llm._input_ids, toks)
        if live == len(toks):
            return "live"
        data = self.prefix_cache.get(toks)
        if data is not None and _restore_state(llm, toks, data):
            log.debug("LLM prefix cache hit: %d tokens restored", len(toks))
            return "restored"
        llm.n_tokens = live  # keep what is there; eval() drops the rest of the cache
        llm.eval(toks[live:])
        self.prefix_cache.put(toks, _save_state(llm))
        return "saved"


def threads_for(most: int, loadavg: str | None = None) -> int:
    """Threads for llama.cpp now: at most ``most``, one per core that no other task is running on.

    From the fourth field of /proc/loadavg ("running/total", counting the reader itself), a
    snapshot rather than an average: llama.cpp's threads meet at a barrier after every step,
    so one thread on a core another process holds stalls the others (and burns CPU waiting)."""
    n_cores = cores()
    try:
        text = loadavg if loadavg is not None else Path("/proc/loadavg").read_text()
        running = int(text.split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return most
    return max(1, min(most, n_cores - max(0, running - 1)))


def fixed_prefix(messages: list[Message]) -> list[Message]:
    """The messages before the final user turn(s): the system prompt and worked examples (the
    same for every question in a language), or a chat's history. Empty when there is none."""
    end = len(messages)
    while end and messages[end - 1].get("role") == "user":
        end -= 1
    return messages[:end]


def _save_state(llm: Any) -> bytes:
    """The KV cache of sequence 0 (what has been evaluated), as bytes: no logits (a few MB
    instead of the hundreds ``Llama.save_state`` copies with its score matrix)."""
    import ctypes

    import llama_cpp

    size = llama_cpp.llama_state_seq_get_size(llm.ctx, 0)
    buf = (ctypes.c_uint8 * size)()
    n = llama_cpp.llama_state_seq_get_data(llm.ctx, buf, size, 0)
    return ctypes.string_at(buf, n)


def _restore_state(llm: Any, toks: list[int], data: bytes) -> bool:
    """Load a state saved by :func:`_save_state` for the tokens ``toks``; False if llama.cpp refuses it."""
    import ctypes

    import llama_cpp

    llm._ctx.kv_cache_seq_rm(-1, 0, -1)
    buf = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
    if llama_cpp.llama_state_seq_set_data(llm.ctx, buf, len(data), 0) != len(data):
        llm._ctx.kv_cache_seq_rm(-1, 0, -1)
        llm.n_tokens = 0
        log.warning("LLM prefix cache: the saved state was refused; evaluating the prefix again")
        return False
    llm.input_ids[: len(toks)] = toks
    llm.n_tokens = len(toks)
    llm._requires_eval = True  # the logits are not restored: the next decode makes them
    return True


class PrefixCache:
    """Saved llama.cpp states of prompt prefixes, by their tokens: in memory (the last few) and,
    with ``folder``, on disk for the next process. ``tag`` names what a state depends on
    (model file, context size, flash attention, library version): another tag, another key."""

    def __init__(self, folder: Path | None, tag: str, keep: int = 4, keep_files: int = 8) -> None:
        self.folder = folder
        self.tag = tag
        self.keep = keep
        self.keep_files = keep_files
        self._ram: dict[str, bytes] = {}
        self.hits = self.misses = 0

    def key(self, toks: list[int]) -> str:
        import hashlib

        h = hashlib.sha256(self.tag.encode())
        h.update(json.dumps(list(toks)).encode())
        return h.hexdigest()[:32]

    def get(self, toks: list[int]) -> bytes | None:
        k = self.key(toks)
        data = self._ram.get(k)
        if data is None and self.folder is not None:
            try:
                data = (self.folder / f"{k}.state").read_bytes()
            except OSError:
                data = None
            if data is not None:
                self._remember(k, data)
        if data is None:
            self.misses += 1
        else:
            self.hits += 1
        return data

    def put(self, toks: list[int], data: bytes) -> None:
        """Keep ``data`` in memory; on disk only from the second time this prefix is put (a
        prefix that changes with every question would otherwise write a state file each time)."""
        k = self.key(toks)
        self._remember(k, data)
        if self.folder is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            seen = self.folder / f"{k}.seen"
            if not seen.exists():
                seen.touch()
                marks = sorted(self.folder.glob("*.seen"), key=lambda f: f.stat().st_mtime, reverse=True)
                for old in marks[self.keep_files * 8:]:
                    old.unlink(missing_ok=True)
                return
            tmp = self.folder / f"{k}.{os.getpid()}.tmp"
            tmp.write_bytes(data)
            os.replace(tmp, self.folder / f"{k}.state")
            files = sorted(self.folder.glob("*.state"), key=lambda f: f.stat().st_mtime, reverse=True)
            for old in files[self.keep_files:]:
                old.unlink(missing_ok=True)
        except OSError as exc:  # a read-only or full disk: the RAM copy still serves this process
            log.warning("LLM prefix cache: could not write %s: %s", self.folder, exc)

    def _remember(self, k: str, data: bytes) -> None:
        self._ram.pop(k, None)
        self._ram[k] = data
        while len(self._ram) > self.keep:
            self._ram.pop(next(iter(self._ram)))


YES_WORDS = ("Ja", "ja", "JA", "Yes", "yes", "YES")
NO_WORDS = ("Nee", "nee", "NEE", "No", "no", "NO")


def chatml_turns(messages: list[Message]) -> str:
    """The ChatML text of ``messages`` (without the assistant's turn that follows)."""
    return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)


def chatml(messages: list[Message]) -> str:
    """The ChatML prompt (Qwen's format, as llama-cpp-python's "chatml" handler writes it)."""
    return chatml_turns(messages) + "<|im_start|>assistant\n"


def _logsumexp(xs: Any) -> float:
    """log(sum(exp(xs))), computed stably; -30 (about never) for no values."""
    import numpy as np

    xs = np.asarray(xs, dtype=np.float64)
    if xs.size == 0:
        return -30.0
    top = float(xs.max())
    return top + float(np.log(np.exp(xs - top).sum()))


def _log_odds(logits: Any, yes: Any, no: Any) -> float:
    return _logsumexp(logits[list(yes)]) - _logsumexp(logits[list(no)])


# --------------------------------------------------------------------------- hosted (OpenAI-compatible)


class HostedGenerator:
    """Any OpenAI-compatible chat-completions endpoint, streamed (server-sent events)."""

    name = "hosted"

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        key_env: str = "POLICY_RAG_HOSTED_API_KEY",
        timeout: float = 120.0,
        connect_timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.key_env = key_env
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        # llama.cpp's server keeps the prompt's KV cache for the next request with "cache_prompt";
        # an endpoint that rejects the unknown field (OpenAI answers HTTP 400) is asked without it
        self._schema_form = 0  # which structured-output form the endpoint takes (HostedGenerator.stream)
        self.cache_prompt = True

    @classmethod
    def from_settings(cls, settings: Settings) -> HostedGenerator:
        return cls(
            settings.hosted_base_url,
            settings.hosted_model,
            key_env=settings.hosted_key_env,
            timeout=settings.hosted_timeout,
        )

    def __repr__(self) -> str:
        return f"HostedGenerator({self.base_url!r}, model={self.model!r})"

    @property
    def url(self) -> str:
        return f"{self.base_url}/chat/completions"

    def _client(self) -> httpx.Client:
        return httpx.Client(timeout=httpx.Timeout(self.timeout, connect=self.connect_timeout))

    def _headers(self, accept: str = "text/event-stream") -> dict[str, str]:
        headers = {"Accept": accept, "Content-Type": "application/json"}
        key = os.environ.get(self.key_env, "").strip()  # read when used, never stored
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def stream(
        self,
        messages: list[Message],
        *,
        max_tokens: int,
        temperature: float,
        stop: list[str] | None = None,
        schema: dict[str, Any] | None = None,
    ) -> Iterator[str]:
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
        }
        if stop:
            payload["stop"] = stop
        # structured output, in the forms servers take: OpenAI's json_schema, then llama.cpp's (and
        # llama-cpp-python's server's) json_object with a schema, then none; the first form the
        # endpoint accepts is remembered, a refused one is not sent again
        forms = [] if not schema else [
            {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": True}},
            {"type": "json_object", "schema": schema},
        ][self._schema_form:]
        for form in [*forms, None]:
            if form is None:
                payload.pop("response_format", None)
            else:
                payload["response_format"] = form
            try:
                yield from self._stream(payload)
                return
            except _SchemaRefused as exc:  # a server without this form: the next one
                log.info("The hosted LLM at %s refused response_format %s (%s)", self.url,
                         (form or {}).get("type"), exc)
                self._schema_form += 1

    def _stream(self, payload: dict[str, Any]) -> Iterator[str]:
        try:
            for attempt in range(2):
                if self.cache_prompt:
                    payload["cache_prompt"] = True
                else:
                    payload.pop("cache_prompt", None)
                with (
                    self._client() as client,
                    client.stream("POST", self.url, json=payload, headers=self._headers()) as resp,
                ):
                    if resp.status_code >= 400:
                        body = resp.read().decode("utf-8", "replace")
                        if attempt == 0 and self._rejects_cache_prompt(resp.status_code, body):
                            continue
                        if "response_format" in payload and (
                                resp.status_code in (400, 404, 415, 422, 501)
                                or (resp.status_code >= 500 and "response_format" in body)):
                            # (llama-cpp-python's server answers an unknown form with a 500 naming it)
                            raise _SchemaRefused(f"HTTP {resp.status_code}: {_error_detail(body)}")
                        raise ModelUnavailableError(
                            f"The hosted LLM at {self.url} answered HTTP {resp.status_code}: "
                            f"{_error_detail(body)}. Check POLICY_RAG_HOSTED_BASE_URL, the model name "
                            f"({self.model!r}) and the API key in ${self.key_env}."
                        )
                    ctype = resp.headers.get("content-type", "")
                    if "text/event-stream" not in ctype:
                        # A server that ignores stream=true answers with one JSON object.
                        yield _message_text(json.loads(resp.read()), self.url)
                        return
                    yield from _parse_sse(resp.iter_lines(), self.url)
                    return
        except httpx.TimeoutException as exc:
            raise ModelUnavailableError(
                f"The hosted LLM at {self.url} did not answer in time ({type(exc).__name__}). "
                "Is the server overloaded? Raise the timeout or try again."
            ) from exc
        except httpx.HTTPError as exc:
            raise ModelUnavailableError(
                f"Could not reach the hosted LLM at {self.url} ({type(exc).__name__}: {exc}). Is the "
                "server running? Set POLICY_RAG_HOSTED_BASE_URL, or use --llm local / none."
            ) from exc
        except ValueError as exc:  # invalid JSON
            raise ModelUnavailableError(
                f"The hosted LLM at {self.url} sent a reply that is not valid JSON ({exc})."
            ) from exc

    def _rejects_cache_prompt(self, status: int, body: str) -> bool:
        """The endpoint refused the request because of "cache_prompt": do not send it again."""
        if self.cache_prompt and status in (400, 422) and "cache_prompt" in body:
            log.info("The hosted LLM at %s does not take cache_prompt; sending requests without it", self.url)
            self.cache_prompt = False
            return True
        return False

    def yes_odds(self, messages: list[Message]) -> float | None:
        """From the first token's top log-probabilities when the server gives them (OpenAI,
        vLLM, llama.cpp with logits_all), else from the reply's first word (+-3), else None."""
        payload: dict[str, Any] = {"model": self.model, "messages": messages, "max_tokens": 1,
                                   "temperature": 0.0, "logprobs": True, "top_logprobs": 10}
        if self.cache_prompt:
            payload["cache_prompt"] = True
        headers = self._headers("application/json")
        try:
            with self._client() as client:
                resp = client.post(self.url, json=payload, headers=headers)
                if resp.status_code >= 400 and self._rejects_cache_prompt(resp.status_code, resp.text):
                    payload.pop("cache_prompt")
                    resp = client.post(self.url, json=payload, headers=headers)
                if resp.status_code >= 400:  # a server without log-probabilities: the plain reply
                    for k in ("logprobs", "top_logprobs"):
                        payload.pop(k)
                    payload["max_tokens"] = 3
                    resp = client.post(self.url, json=payload, headers=headers)
                if resp.status_code >= 400:
                    log.warning("The hosted LLM at %s could not judge yes/no: HTTP %s", self.url, resp.status_code)
                    return None
                body = resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("The hosted LLM at %s could not judge yes/no: %s", self.url, exc)
            return None
        return _odds_from_reply(body)


class _SchemaRefused(Exception):
    """The hosted server answered a request with ``response_format`` with a client error."""


def _odds_from_reply(body: Any) -> float | None:
    try:
        choice = body["choices"][0]
    except (KeyError, IndexError, TypeError):
        return None
    tops = ((choice.get("logprobs") or {}).get("content") or [{}])[0].get("top_logprobs") or []
    yes = [t["logprob"] for t in tops if t.get("token", "").strip() in YES_WORDS]
    no = [t["logprob"] for t in tops if t.get("token", "").strip() in NO_WORDS]
    if yes or no:
        return _logsumexp(yes) - _logsumexp(no)
    words = str((choice.get("message") or {}).get("content") or "").strip().split()
    first = words[0].strip(".,!:").capitalize() if words else ""
    return 3.0 if first in YES_WORDS else -3.0 if first in NO_WORDS else None


def _parse_sse(lines: Iterator[str], url: str) -> Iterator[str]:
    """Text deltas from OpenAI-style server-sent events (``data: {...}`` ... ``data: [DONE]``)."""
    for line in lines:
        if not line.startswith("data:"):
            continue  # blank separators, comments (": ping"), "event:" lines
        data = line[5:].strip()
        if not data:
            continue
        if data == "[DONE]":
            return
        event = json.loads(data)
        if isinstance(event, dict) and event.get("error"):
            raise ModelUnavailableError(
                f"The hosted LLM at {url} reported an error while streaming: {_error_detail(data)}."
            )
        for choice in event.get("choices") or []:
            text = (choice.get("delta") or {}).get("content")
            if text:
                yield text


def _message_text(body: Any, url: str) -> str:
    try:
        return str(body["choices"][0]["message"]["content"] or "")
    except (KeyError, IndexError, TypeError) as exc:
        raise ModelUnavailableError(
            f"The hosted LLM at {url} sent an unexpected reply: {str(body)[:300]}"
        ) from exc


def _error_detail(body: str) -> str:
    try:
        err = json.loads(body).get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])[:300]
        if err:
            return str(err)[:300]
    except (ValueError, AttributeError):
        pass
    return body.strip()[:300] or "(empty body)"


# --------------------------------------------------------------------------- choosing a backend


def resolve_backend(settings: Settings, requested: str | None = None) -> str:
    """The backend to use: "local", "hosted" or "none".

    ``requested`` (or ``settings.llm`` when None) may be "auto": "local" if the GGUF file
    exists and llama-cpp-python imports, else "none". An explicit "local" that cannot
    work raises :class:`ModelUnavailableError` saying what to do.
    """
    name = (requested if requested is not None else settings.llm or "auto").strip().lower()
    if name not in BACKENDS:
        raise PolicyRagError(
            f"Unknown LLM backend {name!r}: choose one of {', '.join(BACKENDS)} "
            "(--llm or POLICY_RAG_LLM)."
        )
    model = Path(settings.llm_model_path)
    if name == "auto":
        if model.is_file() and llama_cpp_available():
            return "local"
        reason = f"{model} does not exist" if not model.is_file() else "llama-cpp-python is not installed"
        log.info("No local LLM (%s): answering without one", reason)
        return "none"
    if name == "local":
        if not model.is_file():
            raise ModelUnavailableError(
                f"--llm local needs the GGUF file {model}, which does not exist. Run "
                "`policy-rag models --llm 1.5b` (or `make setup`), or set POLICY_RAG_LLM_MODEL."
            )
        if not llama_cpp_available():
            raise ModelUnavailableError(
                "--llm local needs llama-cpp-python, which is not installed: run `make setup` "
                "(or `pip install '.[llm]'`)."
            )
    return name


_local_cache: dict[tuple[object, ...], LocalGenerator] = {}
_local_cache_lock = threading.Lock()


def get_generator(settings: Settings, backend: str) -> Generator | None:
    """The generator for ``backend`` ("auto" is resolved first); None for "none".

    One :class:`LocalGenerator` is kept per model file (and context/threads), so the model
    is loaded once per process however often this is called.
    """
    name = resolve_backend(settings, backend) if backend.strip().lower() == "auto" else backend
    name = name.strip().lower()
    if name == "none":
        return None
    if name == "hosted":
        return HostedGenerator.from_settings(settings)
    if name == "local":
        path = Path(settings.llm_model_path).resolve()
        key = (str(path), settings.llm_ctx, settings.llm_threads, settings.llm_batch, settings.llm_flash_attn,
               settings.llm_prefix_cache, settings.llm_adapt_threads)
        with _local_cache_lock:
            gen = _local_cache.get(key)
            if gen is None:
                gen = LocalGenerator.from_settings(settings, path)
                _local_cache[key] = gen
        return gen
    raise PolicyRagError(
        f"Unknown LLM backend {backend!r}: choose one of {', '.join(BACKENDS)} (--llm or POLICY_RAG_LLM)."
    )
