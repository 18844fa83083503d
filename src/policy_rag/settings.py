"""One Settings object: paths, models, retrieval, generation.

Every value has a sensible default and can be overridden by an environment variable
(``POLICY_RAG_<NAME>``, read when the settings are built) or by the CLI. Secrets (the
hosted LLM's API key) are read from the environment only when used, never stored.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _env(name: str, default: str) -> str:
    return os.environ.get(f"POLICY_RAG_{name}", default)


def _env_float(name: str, default: str, none_word: str) -> float | None:
    """A number, or None when the variable (or its default) is ``none_word`` ("off", "same")."""
    value = _env(name, default)
    return None if value == none_word else float(value)


def _env_number(name: str, default: str, lo: float, hi: float) -> float:
    """A number between ``lo`` and ``hi``; anything else stops the run with a message naming the variable."""
    value = _env(name, default)
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not lo <= number <= hi:  # also false for nan
        from .errors import SettingsError

        raise SettingsError(f"POLICY_RAG_{name}={value!r} is not a number from {lo:g} to {hi:g}; "
                            f"fix or unset it (default {default}).")
    return number


def _env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """One of ``choices``; anything else stops the run with a message naming the variable."""
    value = _env(name, default).strip().lower()
    if value not in choices:
        from .errors import SettingsError

        raise SettingsError(f"POLICY_RAG_{name}={value!r} is not one of {', '.join(choices)}; "
                            f"fix or unset it (default {default}).")
    return value


QUERY_BACKENDS = ("auto", "torch")  # how questions are embedded (embed.query_path)
LLM_PREFIX_CACHE_MODES = ("disk", "ram", "off")  # where the LLM's fixed prompt prefix is kept (generate.py)


def _env_date(name: str) -> str:
    """An ISO date "YYYY-MM-DD" or "" (unset); anything else stops the run with a message naming the variable."""
    value = _env(name, "")
    from .inforce import parse_on

    return parse_on(value, f"POLICY_RAG_{name}")


def cache_dir() -> Path:
    """Where slow-to-rebuild things live, outside the repository (wheels, models, embeddings)."""
    base = os.environ.get("POLICY_RAG_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "policy-rag"
    )
    return Path(base)


def default_mirror() -> str:
    """The local mirror of the official documents, if one sits beside the repository."""
    cand = REPO_ROOT.parent / "shared" / "corpus"
    return _env("MIRROR", str(cand) if cand.is_dir() else "")


@dataclass(frozen=True)
class Settings:
    # --- paths
    corpus_dir: Path = field(default_factory=lambda: Path(_env("CORPUS", str(REPO_ROOT / "corpus"))))
    index_dir: Path = field(default_factory=lambda: Path(_env("INDEX", str(REPO_ROOT / "index"))))
    mirror: str = field(default_factory=default_mirror)  # folder or "" (then fetch from the web)
    cache: Path = field(default_factory=cache_dir)

    # --- embedding model: a hub id or a folder; the default is assembled by `make setup`
    embed_model: str = field(
        default_factory=lambda: _env("EMBED_MODEL", str(cache_dir() / "models" / "embeddinggemma-300m"))
    )
    # auto: bfloat16 where the CPU has it natively (avx512_bf16 / amx_bf16), else float32, which is
    # ~5x faster than emulated bfloat16 on an AVX2-only CPU (compute.py); or float32 | bfloat16
    embed_dtype: str = field(default_factory=lambda: _env("EMBED_DTYPE", "auto"))
    # torch (sentence-transformers) | onnx | onnx-int8 | openvino (optional: pip install -e '.[onnx]';
    # exported once from the model folder into the cache, onnx_backend.py)
    embed_backend: str = field(default_factory=lambda: _env("EMBED_BACKEND", "torch"))
    # the questions' embedding with the torch backend: auto = OpenVINO in bfloat16 where the CPU has
    # it natively and `make setup` exported the model (2-3x faster on a short question, min cosine
    # 0.9999 to torch float32; embed.query_path), else torch as the passages; torch: always torch
    query_backend: str = field(default_factory=lambda: _env_choice("QUERY_BACKEND", "auto", QUERY_BACKENDS))
    embed_batch: int = 16
    # torch's intra-op threads (0: torch's default, one per core). `serve --workers N` gives each
    # worker cores/N, so that processes x threads never exceed the cores (waiting threads spin)
    embed_threads: int = field(default_factory=lambda: int(_env_number("EMBED_THREADS", "0", 0, 1024)))
    # torch threads while embedding queries (0: as for documents). 1: a short query gains ~6% from a
    # second thread on an idle machine and loses several times that when the other core is busy
    embed_query_threads: int = field(default_factory=lambda: int(_env_number("EMBED_QUERY_THREADS", "1", 0, 1024)))
    # the most queries of concurrent requests embedded in one forward pass (embed.QueryBatcher)
    embed_query_batch: int = field(default_factory=lambda: int(_env_number("EMBED_QUERY_BATCH", "32", 1, 4096)))
    # query vectors kept per process (embed.QueryCache; 0: none): helps repeated questions only
    query_cache: int = field(default_factory=lambda: int(_env_number("QUERY_CACHE", "1024", 0, 1_000_000)))
    query_prompt: str = "task: search result | query: "
    doc_prompt: str = "title: none | text: "
    max_passage_words: int = 220  # longer blocks are split (at sentence ends)

    # --- ingest safety: the largest source file read (MB), builds kept, seconds to wait for the lock
    max_source_mb: float = field(default_factory=lambda: _env_number("MAX_SOURCE_MB", "200", 0.001, 100_000))
    keep_builds: int = field(default_factory=lambda: int(_env_number("KEEP_BUILDS", "2", 1, 1000)))
    ingest_lock_wait: float = field(default_factory=lambda: _env_number("INGEST_LOCK_WAIT", "0", 0, 86_400))
    # --- questions: longer ones are refused with a message (not cut: see inputs.py)
    max_question_chars: int = field(default_factory=lambda: int(_env_number("MAX_QUESTION_CHARS", "2000", 1, 1_000_000)))

    # --- retrieval
    k: int = 10
    dense_k: int = 50
    bm25_k: int = 50
    rrf_k: int = 60
    # refusal: below this cosine of the question to the best passage nothing is relevant
    # enough (eval set: refuses 37% of unanswerable and 5% of answerable questions at 0.48)
    min_dense_score: float = field(default_factory=lambda: float(_env("MIN_DENSE_SCORE", "0.48")))
    # English questions: long English use-case questions score lower cosines to the passages that
    # answer them. 0.46 refuses as many unanswerable and fewer answerable questions than 0.48 on
    # all four question sets (English; false refusals dev 0.05 -> 0.03, held-out 3 0.23 -> 0.13);
    # in Dutch 0.46 refuses fewer unanswerable ones (dev 0.67 -> 0.61). "same" uses min_dense_score.
    min_dense_score_en: float | None = field(default_factory=lambda: _env_float("MIN_DENSE_SCORE_EN", "0.46", "same"))
    # with an LLM that judges answerability (below), a lower floor: it refuses what is off-topic
    min_dense_score_judged: float = field(default_factory=lambda: float(_env("MIN_DENSE_SCORE_JUDGED", "0.40")))

    # when nothing the LLM wrote survives the check (and it was not judged unanswerable), show
    # the extractive answer (the best passages, verbatim) instead of refusing
    extractive_fallback: bool = field(default_factory=lambda: _env("EXTRACTIVE_FALLBACK", "on") != "off")

    # --- the law in force on a date (inforce.py): "" = today, read from the clock at question
    # time (not when the settings are built); a date YYYY-MM-DD answers with the law as it stood then
    on: str = field(default_factory=lambda: _env_date("ON"))

    # --- generation
    llm: str = field(default_factory=lambda: _env("LLM", "auto"))  # auto | local | hosted | none
    llm_model_path: str = field(
        default_factory=lambda: _env(
            "LLM_MODEL", str(cache_dir() / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")
        )
    )
    llm_ctx: int = 4096
    llm_threads: int = field(default_factory=lambda: int(_env("LLM_THREADS", str(os.cpu_count() or 2))))
    # before each generation, use only the cores no other process is running on (/proc/loadavg):
    # llama.cpp's threads wait for each other, so a thread on a busy core stalls the rest (on 2
    # shared cores, load ~10: 2 threads read a prompt at 3.0-3.5 tokens/s using 10.5 CPU-s, 1 thread
    # at 4.6-4.9 tokens/s using 4.2 CPU-s)
    llm_adapt_threads: bool = field(default_factory=lambda: _env("LLM_ADAPT_THREADS", "on") != "off")
    # prompt tokens evaluated per llama.cpp batch (prompt processing)
    llm_batch: int = field(default_factory=lambda: int(_env_number("LLM_BATCH", "512", 8, 8192)))
    # flash attention on the CPU: 400 prompt tokens with 1 thread took 12.1-12.3 CPU-s with it,
    # 17.0-17.5 without (1.5B Q4_K_M, Xeon with AMX, load ~10); a short answer 5.5 vs 10.8 CPU-s, same text
    llm_flash_attn: bool = field(default_factory=lambda: _env("LLM_FLASH_ATTN", "on") != "off")
    # the fixed start of the prompt (system prompt, worked examples) is evaluated once and its
    # llama.cpp state kept: "disk" (also for the next process: cache/llm-state), "ram" or "off"
    llm_prefix_cache: str = field(default_factory=lambda: _env_choice("LLM_PREFIX_CACHE", "disk",
                                                                      LLM_PREFIX_CACHE_MODES))
    # how the LLM writes its answer: "text" (1-2 sentences with [n] marks; the verdict is read
    # from the decisive quotes by code) or "json" (verdict.schema: the model's own verdict and
    # sentences with their source, held to a llama.cpp grammar / the hosted response_format).
    # "text" is the default: with the 1.5B model the JSON verdict was "yes" on 11 of 11 questions
    # of a tune sample whatever the law said, and llama-cpp-python's grammar sampling cut
    # decoding from ~10 to ~6 tokens/s on this CPU (eval/README.md, "Answer format").
    answer_format: str = field(default_factory=lambda: _env_choice("ANSWER_FORMAT", "text", ("text", "json")))
    max_tokens: int = 320
    temperature: float = 0.1
    # answerability: before writing, the LLM can be asked whether the sources answer the question;
    # it then refuses below these log-odds of "yes" (eval/answerability.py). Off by default: with the
    # 1.5B model it cost more than it caught on both blind held-out sets (held-out 2, local: 0.45
    # correct / 0.25 false refusals with it at 0.25, 0.60 / 0.18 without it; see eval/README).
    # A stronger hosted model may judge better: POLICY_RAG_MIN_ANSWERABLE_ODDS=0.25 turns it on.
    min_answerable_odds: float | None = field(default_factory=lambda: _env_float("MIN_ANSWERABLE_ODDS", "off", "off"))
    # hosted: any OpenAI-compatible endpoint
    hosted_base_url: str = field(default_factory=lambda: _env("HOSTED_BASE_URL", "http://127.0.0.1:8000/v1"))
    hosted_model: str = field(default_factory=lambda: _env("HOSTED_MODEL", "local-model"))
    hosted_key_env: str = "POLICY_RAG_HOSTED_API_KEY"  # name of the env var holding the key
    hosted_timeout: float = 120.0

    # --- serving (policy-rag serve, the HTTP API, the MCP server)
    # generations at once in one process: 1 for the in-process llama.cpp model (it serialises
    # anyway); for a hosted server, its number of parallel slots (llama.cpp's --parallel, vLLM's
    # batch). Waiting chat users see their place in the Gradio queue.
    llm_slots: int = field(default_factory=lambda: max(1, int(_env("LLM_SLOTS", "1"))))
    # requests that do not generate (search, cite, show, extractive answers) served at once per
    # process (threads; they are cheap and thread-safe)
    api_concurrency: int = field(default_factory=lambda: max(1, int(_env("API_CONCURRENCY", "16"))))
    # the evaluator's marks: one JSON file, shared by every worker (written under a file lock)
    marks_path: Path = field(default_factory=lambda: Path(_env("MARKS", str(REPO_ROOT / "eval" / "marks.json"))))

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def max_source_bytes(self) -> int:
        return int(self.max_source_mb * 1024 * 1024)

    @property
    def manifest_path(self) -> Path:
        return self.corpus_dir / "sources.toml"


def get_settings(**overrides: object) -> Settings:
    return Settings().with_(**overrides) if overrides else Settings()
