"""The cost of a query: the query batcher, the query cache, torch threads per worker (embed.py,
server.py) and the retriever's kept provision rows (retrieve.py)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from policy_rag import embed as embed_mod
from policy_rag.embed import (
    FakeEmbedder,
    QueryBatcher,
    QueryCache,
    SentenceTransformerEmbedder,
    cached_queries,
)
from policy_rag.retrieve import Retriever
from policy_rag.settings import Settings


class SlowEncoder:
    """FakeEmbedder's query vectors, one call at a time, each taking ``delay`` seconds."""

    def __init__(self, delay: float = 0.05) -> None:
        self.fake = FakeEmbedder(dim=32)
        self.delay = delay
        self.calls: list[list[str]] = []
        self.active = 0
        self.most_active = 0
        self._lock = threading.Lock()

    def __call__(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
            self.calls.append(list(texts))
        time.sleep(self.delay)
        try:
            return self.fake.embed_queries(texts)
        finally:
            with self._lock:
                self.active -= 1


def _in_threads(n: int, fn: Any) -> list[Any]:
    out: list[Any] = [None] * n
    start = threading.Barrier(n)

    def run(i: int) -> None:
        start.wait()
        out[i] = fn(i)

    ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    return out


def test_batcher_gives_each_caller_its_own_vector_in_fewer_calls() -> None:
    enc = SlowEncoder(delay=0.05)
    batcher = QueryBatcher(enc, max_texts=64)
    texts = [f"vraag {i} over artikel {i} en verboden praktijken nummer{i}" for i in range(24)]
    got = _in_threads(len(texts), lambda i: batcher([texts[i]]))
    alone = FakeEmbedder(dim=32)
    for i, t in enumerate(texts):
        assert got[i].shape == (1, 32)
        np.testing.assert_array_equal(got[i][0], alone.embed_queries([t])[0])
    assert sum(len(c) for c in enc.calls) == len(texts)
    assert len(enc.calls) < len(texts) / 2  # batched: the callers that waited share a call
    assert enc.most_active == 1  # one model call at a time
    assert batcher.largest > 1


def test_batcher_keeps_multi_text_requests_together_and_bounds_a_batch() -> None:
    enc = SlowEncoder(delay=0.02)
    batcher = QueryBatcher(enc, max_texts=5)
    reqs = [[f"a{i} woord{i}", f"b{i} ander{i}", f"c{i} derde{i}"] for i in range(6)]
    got = _in_threads(len(reqs), lambda i: batcher(reqs[i]))
    alone = FakeEmbedder(dim=32)
    for req, vecs in zip(reqs, got):
        np.testing.assert_array_equal(vecs, alone.embed_queries(req))
    assert all(len(c) <= 5 for c in enc.calls)  # 3 + 3 > 5: never two requests of 3 in one call
    big = batcher([f"t{i} x{i}" for i in range(12)])  # larger than a batch: served alone, whole
    assert big.shape == (12, 32) and len(enc.calls[-1]) == 12


def test_batcher_passes_an_error_to_its_callers_and_keeps_serving() -> None:
    calls = {"n": 0}

    def flaky(texts: list[str]) -> np.ndarray:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("model failed")
        return np.ones((len(texts), 4), dtype=np.float32)

    batcher = QueryBatcher(flaky)
    with pytest.raises(RuntimeError, match="model failed"):
        batcher(["een"])
    assert batcher(["twee", "drie"]).shape == (2, 4)


def test_query_cache_is_keyed_by_variant_and_text_and_bounded() -> None:
    cache = QueryCache(size=2)
    v = np.ones(4, dtype=np.float32)
    cache.put("gemma|bfloat16", "vraag", v)
    assert cache.get("gemma|float32", "vraag") is None  # another variant: its own vectors
    assert cache.get("gemma|bfloat16", "vraag ") is None  # the exact text only
    got = cache.get("gemma|bfloat16", "vraag")
    np.testing.assert_array_equal(got, v)
    v[0] = 5.0  # the caller's array is not the kept one
    assert cache.get("gemma|bfloat16", "vraag")[0] == 1.0
    cache.put("gemma|bfloat16", "b", v)
    cache.put("gemma|bfloat16", "c", v)  # the least recently used ("vraag") goes
    assert len(cache) == 2 and cache.get("gemma|bfloat16", "vraag") is None
    assert QueryCache(size=0).get("m", "x") is None
    off = QueryCache(size=0)
    off.put("m", "x", v)
    assert off.get("m", "x") is None


def test_cached_queries_encodes_only_what_is_missing_once() -> None:
    cache = QueryCache(size=10)
    enc = SlowEncoder(delay=0)
    first = cached_queries("m1", ["a woord", "b woord", "a woord"], cache, enc)
    assert enc.calls == [["a woord", "b woord"]]
    again = cached_queries("m1", ["b woord", "c woord"], cache, enc)
    assert enc.calls[-1] == ["c woord"]
    np.testing.assert_array_equal(again[0], first[1])
    cached_queries("m2", ["a woord"], cache, enc)  # another model id: encoded again
    assert enc.calls[-1] == ["a woord"]


class _StubST:
    """The part of a SentenceTransformer that embed_queries uses (``encode``), counting calls."""

    def __init__(self) -> None:
        self.fake = FakeEmbedder(dim=16)
        self.calls: list[list[str]] = []

    def encode(self, texts: list[str], prompt_name: str | None = None, **_: Any) -> np.ndarray:
        assert prompt_name == "query"
        self.calls.append(list(texts))
        time.sleep(0.03)
        return self.fake.embed_queries(texts)


def test_real_embedder_batches_concurrent_queries_and_caches_repeats(tmp_path: Path) -> None:
    s = Settings(cache=tmp_path, embed_model=str(tmp_path), embed_dtype="float32", query_cache=100)
    e = SentenceTransformerEmbedder(s)
    e.cache = QueryCache(100)  # not the process-wide one: this test's own
    stub = _StubST()
    e._model = type("HF", (), {"_model": stub})()
    texts = [f"is toepassing {i} verboden onder artikel{i}" for i in range(12)]
    got = _in_threads(len(texts), lambda i: e.embed_queries([texts[i]]))
    for t, v in zip(texts, got):
        np.testing.assert_allclose(v[0], FakeEmbedder(dim=16).embed_queries([t])[0], rtol=1e-6)
    assert len(stub.calls) < len(texts)
    n = len(stub.calls)
    e.embed_queries([texts[3]])  # a repeated question: from the cache
    assert len(stub.calls) == n and e.cache.hits >= 1


def test_set_threads_sets_torch_intra_op_threads() -> None:
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    try:
        embed_mod.set_threads(1)
        assert torch.get_num_threads() == 1
        embed_mod.set_threads(0)  # 0: leave it
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_workers_share_the_cores_and_the_pool_gets_them(monkeypatch: pytest.MonkeyPatch) -> None:
    from policy_rag import server

    assert server.threads_per_worker(2, 2) == 1
    assert server.threads_per_worker(1, 2) == 2
    assert server.threads_per_worker(3, 8) == 2
    assert server.threads_per_worker(8, 2) == 1
    envs: list[dict[str, str]] = []

    class FakePopen:
        def __init__(self, cmd: list[str], env: dict[str, str], **_: Any) -> None:
            envs.append(env)

    monkeypatch.setattr(server.subprocess, "Popen", FakePopen)
    monkeypatch.setattr(server, "cores", lambda: 4)
    monkeypatch.delenv("POLICY_RAG_EMBED_THREADS", raising=False)
    server.start_pool(2, "127.0.0.1")
    assert [e["POLICY_RAG_EMBED_THREADS"] for e in envs] == ["2", "2"]
    envs.clear()
    monkeypatch.setenv("POLICY_RAG_EMBED_THREADS", "3")  # the user's setting wins
    server.start_pool(2, "127.0.0.1")
    assert [e["POLICY_RAG_EMBED_THREADS"] for e in envs] == ["3", "3"]


def test_rows_of_is_the_scan_and_computed_once(small_index, fake_embedder, settings,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from policy_rag import legal

    r = Retriever(small_index, fake_embedder, settings)
    want = [i for i, p in enumerate(small_index.passages)
            if p.doc == "ai-act" and legal.matches("Article 5", p.provision)]
    assert want and r.rows_of("ai-act", "Article 5") == want
    assert r.rows_of("guidelines-", "", prefix_doc=True) == [
        i for i, p in enumerate(small_index.passages) if p.doc.startswith("guidelines-")]
    calls = {"n": 0}
    real = legal.matches

    def counting(a: str, b: str) -> bool:
        calls["n"] += 1
        return real(a, b)

    monkeypatch.setattr(legal, "matches", counting)
    assert r.rows_of("ai-act", "Article 5") == want
    assert calls["n"] == 0  # kept
    before = r.search("Wat zegt artikel 5 over emotieherkenning?", k=5)
    again = r.search("Wat zegt artikel 5 over emotieherkenning?", k=5)
    assert [h.passage.id for h in before.hits] == [h.passage.id for h in again.hits]


def test_queries_run_on_the_query_threads_documents_on_theirs(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()

    def make(threads: int, query_threads: int) -> SentenceTransformerEmbedder:
        return SentenceTransformerEmbedder(Settings(cache=tmp_path, embed_model=str(tmp_path), embed_dtype="float32",
                                                    embed_threads=threads, embed_query_threads=query_threads))

    assert make(2, 1).query_threads == 1
    assert make(1, 2).query_threads == 1  # never more than the process's share (serve --workers)
    assert make(0, 0).query_threads == 0 and make(3, 0).query_threads == 3
    e = make(2, 1)
    e.cache = QueryCache(10)
    seen: list[int] = []

    class ST(_StubST):
        def encode(self, texts: list[str], prompt_name: str | None = None, **kw: Any) -> np.ndarray:
            seen.append(torch.get_num_threads())
            return self.fake.embed_queries(texts) if prompt_name == "query" else self.fake.embed_documents(texts)

        def get_sentence_embedding_dimension(self) -> int:
            return 16

    e._model = type("HF", (), {"_model": ST()})()
    e._doc_threads = 2
    try:
        e.embed_queries(["een vraag over artikel 5"])
        e.embed_documents(["title: x | text: een passage"])
        assert seen == [1, 2]
    finally:
        torch.set_num_threads(before)
