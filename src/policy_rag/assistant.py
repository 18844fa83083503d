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
from .errors import PolicyRagError
from .generate import Generator, get_generator, resolve_backend
from .inputs import CleanQuestion, clean_question
from .lang import detect_language
from .prompts import INPUT_NOTES
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


class NoSuchProvision(PolicyRagError):
    """A lookup names a provision the act does not have; the message says what it has instead."""

    def __init__(self, message: str, lang: Lang = "nl") -> None:
        self.kind = "no-such-provision"
        self.lang = lang
        super().__init__(message)


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
    def question(self, text: object) -> CleanQuestion:
        """``text`` cleaned for processing (inputs.py), or InvalidQuestion with a clear message.
        Every job below starts here, so every entry point gets the same checks."""
        return clean_question(text, self.settings.max_question_chars)

    def search(self, question: str, k: int | None = None) -> SearchResult:
        return self.retriever.search(self.question(question).text, k=k)

    def ask(self, question: str, backend: str | None = None) -> Answer:
        final = None
        for item in self.stream(question, backend):
            final = item
        assert isinstance(final, Answer)
        return final

    def stream(self, question: str, backend: str | None = None) -> Iterator[str | Answer]:
        q = self.question(question)
        b = self.backend(backend)
        for item in self.answerer.stream(q.text, self.generator(b), b):
            if isinstance(item, Answer) and q.removed:
                item.notes.insert(0, INPUT_NOTES["removed"][item.language].format(n=q.removed))
            yield item

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

    def why_missing(self, pid: str) -> str:
        """For a passage id that is not in the index: why, when it names a provision the act does
        not have ("ai-act/nl/art-999.7": the act has no Article 999, it has ...), in the id's language."""
        doc, _, rest = str(pid).partition("/")
        lang, _, suffix = rest.partition("/")
        if doc != "ai-act" or lang not in ("nl", "en"):
            return ""
        try:
            provision = legal.from_id_suffix(suffix.split("~")[0])
        except ValueError:
            return ""
        return self.answerer.missing_provision(provision, lang)  # type: ignore[arg-type]

    def cite(self, query: str, lang: Lang | None = None) -> CiteResult:
        """Which provisions, recitals, annexes, guideline paragraphs and amendments refer to X.

        A provision the act does not have ("artikel 999") is NoSuchProvision, in the query's language."""
        query = self.question(query).text
        lang = lang or detect_language(query)
        missing = self.answerer.no_such_provision(query, lang)
        if missing:
            raise NoSuchProvision(missing, lang)
        provision = legal.parse_query_provision(query)
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
