"""Embedding models behind one small interface, and a cache of passage vectors.

The real model is EmbeddingGemma-300M through sentence-transformers, plugged in via
llama-index's ``HuggingFaceEmbedding`` with its prompts passed explicitly (llama-index
would otherwise embed with empty prompts, see BASELINE.md). Passages are embedded as
``title: <label — heading> | text: <body>``, the document form EmbeddingGemma was
trained with; queries as ``task: search result | query: <question>``.

Questions take a faster path where there is one (:func:`query_path`): OpenVINO in bfloat16 on
a CPU that multiplies bfloat16 natively, from the ONNX export `make setup` makes (onnx_backend.py).
Its vectors are declared compatible with torch's (compute.COMPATIBLE: min cosine 0.9999 to torch
float32, the same R@5/MRR on every question set, eval/README.md).

The model loads on first use. ``FakeEmbedder`` is a deterministic stand-in for unit tests.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import queue
import sqlite3
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .compute import CpuInfo, Variant, choose_dtype, cpu_info
from .errors import ModelUnavailableError
from .settings import Settings
from .types import Passage

log = logging.getLogger(__name__)


class Embedder(Protocol):
    model_id: str  # what the vectors depend on: model + variant (compute.Variant.tag) + prompts

    @property
    def dim(self) -> int: ...

    def embed_documents(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...


def document_text(p: Passage) -> str:
    """What is embedded for a passage (EmbeddingGemma's document prompt, with the passage title)."""
    title = f"{p.label} — {p.title}" if p.title and p.title != p.label else p.label
    body = f"{p.context}\n{p.text}" if p.context else p.text
    return f"title: {title} | text: {body}"


def _normalise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    n = np.linalg.norm(v, axis=1, keepdims=True)
    n[n == 0] = 1.0
    return v / n


class QueryCache:
    """The last ``size`` query vectors, by (model id, exact text): a repeated question (the same
    text, also after a reload of the page) skips the model. Shared by the threads of a process;
    the model id names the variant (dtype, backend, prompts), so variants never share a vector.
    ``size`` 0: nothing is kept."""

    def __init__(self, size: int = 1024) -> None:
        self.size = max(0, int(size))
        self._d: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, model_id: str, text: str) -> np.ndarray | None:
        with self._lock:
            v = self._d.get((model_id, text))
            if v is None:
                self.misses += 1
                return None
            self._d.move_to_end((model_id, text))
            self.hits += 1
            return v

    def put(self, model_id: str, text: str, v: np.ndarray) -> None:
        if not self.size:
            return
        v = np.array(v, dtype=np.float32)  # a copy: callers may change theirs
        v.setflags(write=False)
        with self._lock:
            self._d[(model_id, text)] = v
            self._d.move_to_end((model_id, text))
            while len(self._d) > self.size:
                self._d.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._d.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._d)


class QueryBatcher:
    """One model call at a time for the queries of many threads: what arrives while the model
    is busy goes into the next call, as one batch (one forward pass for many questions).

    Under concurrent load this is what keeps a query cheap: one forward pass over 16 short
    questions costs a few times one question, not sixteen times, and no two calls compete for
    the cores. A lone query waits for nothing (``wait_s`` 0: a call starts as soon as the model
    is free). ``encode`` gets a list of texts and returns their vectors in order; each caller
    gets its own rows back. ``max_texts`` bounds a batch (a request of more texts runs alone).
    """

    def __init__(self, encode: Callable[[list[str]], np.ndarray], max_texts: int = 32, wait_s: float = 0.0,
                 name: str = "policy-rag-embed") -> None:
        self._encode = encode
        self.max_texts = max(1, int(max_texts))
        self.wait_s = max(0.0, float(wait_s))
        self._q: queue.SimpleQueue[tuple[list[str], Future]] = queue.SimpleQueue()
        self._name = name
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.calls = 0  # model calls made
        self.texts = 0  # texts encoded
        self.largest = 0  # the most requests served by one call

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._start_lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                    self._thread.start()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        fut: Future = Future()
        self._q.put((list(texts), fut))
        self._ensure_thread()
        return fut.result()

    def _take(self) -> list[tuple[list[str], Future]]:
        """The next batch: the oldest request and the others waiting, up to ``max_texts`` texts."""
        batch = [self._q.get()]
        n = len(batch[0][0])
        deadline = time.monotonic() + self.wait_s
        while n < self.max_texts:
            try:
                left = deadline - time.monotonic()
                item = self._q.get(timeout=left) if left > 0 else self._q.get_nowait()
            except queue.Empty:
                break
            if n + len(item[0]) > self.max_texts:
                self._q.put(item)  # too big for this batch: the next one (order among waiters is free)
                break
            batch.append(item)
            n += len(item[0])
        return batch

    def _run(self) -> None:
        while True:
            batch = self._take()
            texts = [t for req, _ in batch for t in req]
            try:
                vecs = self._encode(texts) if texts else np.zeros((0, 0), dtype=np.float32)
            except BaseException as e:  # noqa: BLE001 - every waiter gets the error, the thread lives on
                for _, fut in batch:
                    fut.set_exception(e)
                continue
            self.calls += 1
            self.texts += len(texts)
            self.largest = max(self.largest, len(batch))
            at = 0
            for req, fut in batch:
                fut.set_result(vecs[at : at + len(req)])
                at += len(req)


QUERY_CACHE = QueryCache()  # one per process; its size: settings.query_cache (get_embedder)


def set_threads(n: int) -> None:
    """torch's intra-op threads for this process (0: leave torch's default, one per core)."""
    if n > 0:
        import torch

        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
            log.debug("torch intra-op threads: %d", n)


def _installed(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)


def query_path(setting: str, cpu: CpuInfo, model_path: Path, cache: Path,
               exported: bool = True) -> tuple[str, str]:
    """How questions are embedded, and why: "openvino-bf16" where the setting is ``auto``, the CPU
    multiplies bfloat16 natively (elsewhere OpenVINO's gain was not measured), OpenVINO is
    installed and the model's ONNX export exists (made by `make setup`: a question never waits
    for an export; ``exported=False``: whether it would be used once made); else "torch", as the
    passages."""
    if setting == "torch":
        return "torch", "set by POLICY_RAG_QUERY_BACKEND"
    if not model_path.is_dir():
        return "torch", f"the model {model_path} is not a local folder (no export)"
    if not cpu.native_bf16:
        return "torch", "no native bfloat16 on this CPU"
    if not _installed("openvino", "onnx"):
        return "torch", "OpenVINO is not installed (`make setup` installs it: pip install -e '.[onnx]')"
    from .onnx_backend import export_dir

    if exported and not (export_dir(cache, model_path) / "model.onnx").exists():
        return "torch", "the model's ONNX export is missing (`make setup` makes it: python -m policy_rag.onnx_backend)"
    return "openvino-bf16", "auto: OpenVINO bfloat16, native on this CPU"


class SentenceTransformerEmbedder:
    """EmbeddingGemma (or any sentence-transformers model: a folder or a hub id) via llama-index."""

    def __init__(self, settings: Settings) -> None:
        self.model_path = settings.embed_model
        # "auto": bfloat16 only where the CPU multiplies it natively, else float32 (compute.py)
        self.cpu = cpu_info()
        self.dtype, self.dtype_reason = choose_dtype(settings.embed_dtype, self.cpu)
        self.variant = Variant(backend="torch", dtype=self.dtype)
        self.batch = settings.embed_batch
        self.query_prompt = settings.query_prompt
        name = Path(self.model_path).name if Path(self.model_path).exists() else self.model_path
        self.model_id = f"{name}|{self.variant.tag}|q={self.query_prompt}|d=title: <label> | text: "
        self._model: Any = None
        self._lock = threading.Lock()
        self.threads = settings.embed_threads  # documents (0: torch's default, one per core)
        # queries: at most this many (a short query gains little from more, and loses much on busy cores)
        q = settings.embed_query_threads
        self.query_threads = min(q, self.threads) if q and self.threads else (q or self.threads)
        self._doc_threads = 0  # what documents use: self.threads, else torch's default (set on load)
        self._run_lock = threading.Lock()  # one model call at a time in this process
        self.cache = QUERY_CACHE
        # queries of many threads: one model call at a time, batched (QueryBatcher)
        self.batcher = QueryBatcher(self._encode_queries, max_texts=settings.embed_query_batch)
        # questions through OpenVINO where that is faster (query_path); torch is then not loaded for them
        self.query_backend, self.query_reason = query_path(settings.query_backend, self.cpu,
                                                           Path(self.model_path), settings.cache)
        self._fast: Any = None
        if self.query_backend == "openvino-bf16":
            from .onnx_backend import OnnxEmbedder

            self._fast = OnnxEmbedder(self.model_path, settings.cache, backend="openvino", quantization="bf16",
                                      query_prompt=self.query_prompt, cpu=self.cpu,
                                      threads=self.query_threads or None)

    def describe(self) -> dict:
        """The variant and why it was chosen, for the index manifest."""
        return {**self.variant.to_dict(), "chosen": self.dtype_reason, "cpu": self.cpu.to_dict()}

    def describe_queries(self) -> dict:
        """How questions are embedded (query_path), for figures and logs."""
        return {"backend": self.query_backend, "why": self.query_reason,
                "threads": self.query_threads or self._doc_threads or None}

    def _load(self):
        with self._lock:
            if self._model is not None:
                return self._model
            path = Path(self.model_path)
            if not path.exists() and ("/" not in self.model_path or self.model_path.startswith(("/", "."))):
                raise ModelUnavailableError(
                    f"Embedding model not found at {self.model_path}. Run `make setup` (or "
                    "`python -m policy_rag.models --embedding`) to assemble it, or set "
                    "POLICY_RAG_EMBED_MODEL to a sentence-transformers folder or hub id.")
            import torch
            from llama_index.embeddings.huggingface import HuggingFaceEmbedding
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # the entry points show their own progress
            if not self._doc_threads:
                self._doc_threads = self.threads or torch.get_num_threads()

            dtype = {"bfloat16": torch.bfloat16, "float32": torch.float32, "float16": torch.float16}[self.dtype]
            log.info("loading embedding model %s: torch %s (%s; CPU %s)", self.model_path, self.dtype,
                     self.dtype_reason, self.cpu.describe())
            try:
                self._model = HuggingFaceEmbedding(
                    model_name=self.model_path,
                    # explicit prompts: queries get EmbeddingGemma's query prompt; documents
                    # are given already prefixed (document_text), so no second prompt here.
                    query_instruction=self.query_prompt,
                    text_instruction=" ",
                    device="cpu",
                    max_length=512,
                    embed_batch_size=self.batch,
                    model_kwargs={"dtype": dtype},
                )
            except OSError as e:
                raise ModelUnavailableError(
                    f"Could not load the embedding model {self.model_path}: {e}. "
                    "Run `make setup` to assemble it (no model hub is reachable here).") from e
            return self._model

    @property
    def dim(self) -> int:
        st = self._load()._model
        get = getattr(st, "get_embedding_dimension", None) or st.get_sentence_embedding_dimension
        return int(get())

    def embed_documents(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        m = self._load()
        out = []
        # sort by length so batches pad little; restore order afterwards
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch):
            idx = order[start : start + self.batch]
            with self._run_lock:
                set_threads(self._doc_threads)
                vecs = m._model.encode([texts[i] for i in idx], batch_size=self.batch, convert_to_numpy=True,
                                       normalize_embeddings=True, show_progress_bar=False)
            # normalised again in float32: in bfloat16 the model's own normalisation leaves norms
            # up to ~0.5% off 1, and the index's inner products are to be cosines
            out.append((idx, _normalise(vecs)))
            if progress:
                progress(len(idx))
        result = np.zeros((len(texts), self.dim if out else 0), dtype=np.float32)
        for idx, vecs in out:
            result[idx] = vecs
        return result

    def _encode_queries(self, texts: list[str]) -> np.ndarray:
        """One forward pass (batch) over ``texts`` with the query prompt: what llama-index's
        ``get_query_embedding`` computes per text, without its per-call wrapping. On the OpenVINO
        path when there is one; if that fails (a damaged export), torch from then on, with a warning."""
        if self._fast is not None:
            try:
                return self._fast.embed_queries(texts)
            except Exception as e:  # noqa: BLE001 - the torch path answers the same question
                log.warning("OpenVINO query path failed (%s); questions are embedded with torch from now on", e)
                self._fast, self.query_backend, self.query_reason = None, "torch", f"OpenVINO failed: {e}"
        st = self._load()._model
        with self._run_lock:
            set_threads(self.query_threads or self._doc_threads)
            vecs = st.encode(texts, prompt_name="query", batch_size=max(1, len(texts)), convert_to_numpy=True,
                             normalize_embeddings=True, show_progress_bar=False)
        return _normalise(vecs)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Each text through the batcher on its own: a query that meets no other is encoded
        alone, exactly as before batching (in bfloat16 a batch, padded or not, moves a vector by
        up to ~2e-3: cosine >= 0.9998 to the lone one); concurrent queries share a call."""
        return cached_queries(self.model_id, texts, self.cache,
                              lambda todo: np.concatenate([self.batcher([t]) for t in todo]))


def cached_queries(model_id: str, texts: Sequence[str], cache: QueryCache,
                   encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """Vectors of ``texts``: from ``cache`` where it has them, the rest in one ``encode`` call."""
    found = [cache.get(model_id, t) for t in texts]
    todo = list(dict.fromkeys(t for t, v in zip(texts, found) if v is None))
    if todo:
        new = dict(zip(todo, encode(todo)))
        for t, v in new.items():
            cache.put(model_id, t, v)
        found = [v if v is not None else new[t] for t, v in zip(texts, found)]
    if not found:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([v for v in found if v is not None]).astype(np.float32, copy=False)  # every one is found


class FakeEmbedder:
    """Deterministic bag-of-words hashing embedder for unit tests (no model, instant)."""

    def __init__(self, dim: int = 64) -> None:
        self._dim = dim
        self.model_id = f"fake-{dim}"
        self.calls = 0  # how many texts were embedded as documents

    def describe(self) -> dict:
        return {"backend": "fake", "dtype": "float32", "quantization": None, "chosen": "tests"}

    @property
    def dim(self) -> int:
        return self._dim

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self._dim, dtype=np.float32)
        for tok in text.lower().split():
            tok = tok.strip(".,;:()[]\"'")
            if len(tok) < 3:
                continue
            h = int(hashlib.md5(tok[:6].encode()).hexdigest(), 16)
            v[h % self._dim] += 1.0
        return v

    def embed_documents(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        self.calls += len(texts)
        if progress:
            progress(len(texts))
        return _normalise(np.stack([self._vec(t.split("| text: ", 1)[-1]) for t in texts]) if texts
                          else np.zeros((0, self._dim)))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return _normalise(np.stack([self._vec(t) for t in texts]))


_EMBEDDERS: dict[tuple, Embedder] = {}
BACKENDS = ("torch", "onnx", "onnx-int8", "openvino", "openvino-bf16")


def get_embedder(settings: Settings) -> Embedder:
    """One embedder per model, backend and dtype setting per process (the model loads once, lazily)."""
    key = (settings.embed_model, settings.embed_backend, settings.embed_dtype)
    QUERY_CACHE.size = settings.query_cache
    if key not in _EMBEDDERS:
        if settings.embed_backend == "torch":
            _EMBEDDERS[key] = SentenceTransformerEmbedder(settings)
        elif settings.embed_backend in BACKENDS:
            from .onnx_backend import OnnxEmbedder

            backend, _, quant = settings.embed_backend.partition("-")
            _EMBEDDERS[key] = OnnxEmbedder(settings.embed_model, settings.cache, backend=backend,
                                           quantization=quant, query_prompt=settings.query_prompt,
                                           batch=settings.embed_batch)
        else:
            raise ModelUnavailableError(
                f"POLICY_RAG_EMBED_BACKEND={settings.embed_backend!r} is not one of {', '.join(BACKENDS)}.")
    return _EMBEDDERS[key]


class VectorCache:
    """Vectors by content hash, per model, in SQLite outside the repository.

    Re-ingesting (even from a fresh clone) re-embeds only passages whose text changed.
    Each write is one SQLite transaction, so a killed ingest leaves the cache as it was before
    that batch (the journal is rolled back on the next open). A cache file that is not a
    database, or is damaged, is set aside (``embeddings.sqlite.corrupt-<time>``) and a new one
    started: its passages are embedded again. A stored vector that is not a finite float32
    array is ignored, never used.
    """

    def __init__(self, path: Path, model_id: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.model_key = hashlib.sha256(model_id.encode()).hexdigest()[:16]
        self._db: sqlite3.Connection | None = None
        try:
            self._db = self._open()
        except sqlite3.OperationalError as e:  # locked or unreadable, not damaged: leave the file alone
            log.warning("the vector cache %s cannot be used now (%s): embedding without it", path, e)
            self._db = None
        except sqlite3.DatabaseError as e:
            aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
            log.warning("the vector cache %s is damaged (%s): set aside as %s; passages are embedded again",
                        path, e, aside.name)
            try:
                path.replace(aside)
                for suffix in ("-journal", "-wal", "-shm"):
                    path.with_name(path.name + suffix).unlink(missing_ok=True)
                self._db = self._open()
            except (OSError, sqlite3.DatabaseError) as e2:
                log.warning("the vector cache %s cannot be used (%s): embedding without it", path, e2)
                self._db = None

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(str(self.path))
        try:
            db.execute("CREATE TABLE IF NOT EXISTS vec (model TEXT, hash TEXT, v BLOB, PRIMARY KEY(model, hash))")
            row = db.execute("PRAGMA quick_check").fetchone()
            if not row or row[0] != "ok":
                raise sqlite3.DatabaseError(f"quick_check: {row[0] if row else 'no answer'}")
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def get_many(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        if self._db is None:
            return found
        hs = list(set(hashes))
        try:
            for i in range(0, len(hs), 500):
                part = hs[i : i + 500]
                q = f"SELECT hash, v FROM vec WHERE model=? AND hash IN ({','.join('?' * len(part))})"
                for h, blob in self._db.execute(q, [self.model_key, *part]):
                    if not isinstance(blob, bytes) or not blob or len(blob) % 4:
                        continue
                    v = np.frombuffer(blob, dtype=np.float32)
                    if np.isfinite(v).all():
                        found[h] = v
        except sqlite3.DatabaseError as e:
            log.warning("the vector cache %s could not be read (%s): embedding again", self.path, e)
            return {}
        return found

    def put_many(self, items: Sequence[tuple[str, np.ndarray]]) -> None:
        if self._db is None:
            return
        try:
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO vec VALUES (?, ?, ?)",
                    [(self.model_key, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items],
                )
        except sqlite3.DatabaseError as e:
            log.warning("the vector cache %s could not be written (%s): going on without it", self.path, e)
            self.close()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def embed_passages(embedder: Embedder, passages: Sequence[Passage], cache: VectorCache | None,
                   progress: Callable[[int], None] | None = None) -> tuple[np.ndarray, int]:
    """Vectors for passages (row i = passage i), from the cache where possible.

    Returns (vectors, how many were newly embedded). New vectors are written to the
    cache in batches as they come, so an interrupted build keeps its work.
    """
    texts = [document_text(p) for p in passages]
    hashes = [p.content_hash for p in passages]
    have = cache.get_many(hashes) if cache else {}
    if have:  # cached vectors of another length than the model's (a damaged row) are embedded again
        lengths = Counter(len(v) for v in have.values())
        want = int(embedder.dim) if lengths and len(lengths) > 1 else next(iter(lengths))
        have = {h: v for h, v in have.items() if len(v) == want}
    todo = [i for i, h in enumerate(hashes) if h not in have]
    if progress and len(passages) - len(todo):
        progress(len(passages) - len(todo))
    step = 64
    for start in range(0, len(todo), step):
        idx = todo[start : start + step]
        vecs = embedder.embed_documents([texts[i] for i in idx], progress=progress)
        new = [(hashes[i], vecs[j]) for j, i in enumerate(idx)]
        if cache:
            cache.put_many(new)
        have.update(new)
    dim = embedder.dim if not have else len(next(iter(have.values())))
    out = np.zeros((len(passages), dim), dtype=np.float32)
    for i, h in enumerate(hashes):
        out[i] = have[h]
    return out, len(todo)
