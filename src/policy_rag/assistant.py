"""The one way through, for every entry point (CLI, Gradio app, evaluation).

``Assistant`` holds the settings and loads the heavy parts late and once: the index on
first search, the embedding model on first query, the LLM on first generated answer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from . import index as index_mod
from . import legal
from .answer import Answerer
from .embed import Embedder, get_embedder
from .generate import Generator, get_generator, resolve_backend
from .lang import detect_language
from .retrieve import Retriever, SearchResult
from .settings import Settings, get_settings
from .types import Answer, Lang, Passage


@dataclass
class CiteResult:
    """Where a provision is cited: its own text (NL and EN) and every passage referring to it."""

    query: str
    provision: str | None
    own: list[Passage]
    referring: dict[str, list[Passage]] = field(default_factory=dict)  # by document id

    def to_dict(self) -> dict:
        return {
            "query": self.query,
            "provision": self.provision,
            "own": [p.to_dict() for p in self.own],
            "referring": {doc: [p.to_dict() for p in ps] for doc, ps in self.referring.items()},
            "count": sum(len(v) for v in self.referring.values()),
        }


class Assistant:
    def __init__(self, settings: Settings | None = None, *, embedder: Embedder | None = None,
                 index: index_mod.Index | None = None) -> None:
        self.settings = settings or get_settings()
        self._embedder = embedder
        self._index = index
        self._retriever: Retriever | None = None
        self._answerer: Answerer | None = None
        self._lock = threading.Lock()

    # -- heavy parts, late -------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder(self.settings)
        return self._embedder

    @property
    def index(self) -> index_mod.Index:
        with self._lock:
            if self._index is None:
                self._index = index_mod.load(self.settings.index_dir, expect={"model_id": self.embedder.model_id})
            return self._index

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            self._retriever = Retriever(self.index, self.embedder, self.settings)
        return self._retriever

    @property
    def answerer(self) -> Answerer:
        if self._answerer is None:
            self._answerer = Answerer(self.retriever, self.settings)
        return self._answerer

    def backend(self, requested: str | None = None) -> str:
        return resolve_backend(self.settings, requested or self.settings.llm)

    def generator(self, backend: str) -> Generator | None:
        return get_generator(self.settings, backend)

    # -- the jobs ------------------------------------------------------------------------------
    def search(self, question: str, k: int | None = None) -> SearchResult:
        from .answer import validate_question

        return self.retriever.search(validate_question(question), k=k)

    def ask(self, question: str, backend: str | None = None) -> Answer:
        b = self.backend(backend)
        return self.answerer.answer(question, self.generator(b), b)

    def stream(self, question: str, backend: str | None = None) -> Iterator[str | Answer]:
        b = self.backend(backend)
        yield from self.answerer.stream(question, self.generator(b), b)

    def show(self, pid: str, context: int = 1) -> tuple[Passage | None, list[Passage], list[Passage]]:
        """A passage, the passages just before and after it in its document, and its twin."""
        idx = self.index
        i = idx.position(pid)
        if i is None:
            return None, [], []
        p = idx.passages[i]
        around = [q for q in idx.passages[max(0, i - context): i + context + 1] if q.source_id == p.source_id]
        twin = self.retriever.alternate(p)
        return p, around, [twin] if twin else []

    def cite(self, query: str, lang: Lang | None = None) -> CiteResult:
        """Which provisions, recitals, annexes, guideline paragraphs and amendments refer to X."""
        provision = legal.parse_query_provision(query)
        lang = lang or detect_language(query)
        idx = self.index
        if provision is None:  # a phrase: passages that contain it, grouped the same way
            needle = query.strip().lower()
            hits = [p for p in idx.passages if needle and needle in p.text.lower()]
            if not hits:
                hits = [h.passage for h in self.retriever.search(query, k=20).hits]
            return CiteResult(query, None, [], _group(hits))
        own = self.retriever.provision_passages(provision, lang)
        own_keys = {p.id for p in own}
        referring = [
            p for p in idx.passages
            if p.id not in own_keys
            and (any(legal.matches(provision, r) for r in p.refs) or any(legal.matches(provision, a) for a in p.amends))
            and not (p.doc == "ai-act" and legal.article_of(p.provision) == legal.article_of(provision))
        ]
        # a reference to the provision itself before a reference to the whole article
        referring.sort(key=lambda p: (p.lang != lang, 0 if provision in p.refs else 1, p.order))
        return CiteResult(query, provision, own, _group(referring))


def _group(ps: list[Passage]) -> dict[str, list[Passage]]:
    out: dict[str, list[Passage]] = {}
    for p in ps:
        out.setdefault(p.doc, []).append(p)
    return out
