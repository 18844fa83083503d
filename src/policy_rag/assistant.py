"""The one way through, for every entry point (CLI, Gradio app, evaluation).

``Assistant`` holds the settings and loads the heavy parts late and once: the index on
first search, the embedding model on first query, the LLM on first generated answer.

One Assistant serves many threads at once (the app, the HTTP API, the MCP server): the
heavy parts load under a lock, once, together with the index's lazy look-up tables, so
search, cite, show and extractive answers run concurrently; generations are limited to
``settings.llm_slots`` at a time (:class:`Slots`). The JSON shapes the CLI prints with
``--json`` are built here, so the HTTP API and the MCP server return the same.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from . import index as index_mod
from . import legal
from .answer import Answerer, InvalidQuestion
from .embed import Embedder, get_embedder
from .errors import PolicyRagError
from .generate import Generator, Message, accepts_schema, get_generator, resolve_backend
from .inputs import CleanQuestion, clean_question, echo
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


class Slots:
    """At most ``n`` generations at once (a counting semaphore that knows who waits).

    ``position()`` is how many are generating or waiting: what a new request would queue behind."""

    def __init__(self, n: int = 1) -> None:
        self.n = max(1, int(n))
        self._cond = threading.Condition()
        self.running = 0
        self.waiting = 0

    @contextmanager
    def hold(self) -> Iterator[None]:
        with self._cond:
            self.waiting += 1
            try:
                while self.running >= self.n:
                    self._cond.wait()
            finally:
                self.waiting -= 1
            self.running += 1
        try:
            yield
        finally:
            with self._cond:
                self.running -= 1
                self._cond.notify()

    def position(self) -> int:
        with self._cond:
            return self.running + self.waiting


class SlotLimited:
    """A generator that waits for a free slot before each use (the same interface)."""

    def __init__(self, inner: Generator, slots: Slots) -> None:
        self.inner = inner
        self.slots = slots
        self.name = inner.name

    def stream(self, messages: list[Message], *, max_tokens: int, temperature: float,
               stop: list[str] | None = None, schema: dict[str, Any] | None = None) -> Iterator[str]:
        kw = {"schema": schema} if schema is not None and accepts_schema(self.inner) else {}
        with self.slots.hold():
            yield from self.inner.stream(messages, max_tokens=max_tokens, temperature=temperature, stop=stop, **kw)

    def yes_odds(self, messages: list[Message]) -> float | None:
        with self.slots.hold():
            return self.inner.yes_odds(messages)


class Assistant:
    def __init__(self, settings: Settings | None = None, *, embedder: Embedder | None = None,
                 index: index_mod.Index | None = None) -> None:
        self.settings = settings or get_settings()
        self._embedder = embedder
        self._index = index
        self._retriever: Retriever | None = None
        self._answerer: Answerer | None = None
        # one lock for every lazy part: a thread never sees a half-built one, nothing loads twice
        self._lock = threading.RLock()
        self.slots = Slots(self.settings.llm_slots)

    # -- heavy parts, late -------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            with self._lock:
                if self._embedder is None:
                    self._embedder = get_embedder(self.settings)
        return self._embedder

    @property
    def index(self) -> index_mod.Index:
        if self._index is None:
            with self._lock:
                if self._index is None:
                    self._index = index_mod.load(self.settings.index_dir,
                                                 expect={"model_id": self.embedder.model_id})
        return self._index

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            with self._lock:
                if self._retriever is None:
                    r = Retriever(self.index, self.embedder, self.settings)
                    _build_tables(r)
                    self._retriever = r
        return self._retriever

    @property
    def answerer(self) -> Answerer:
        if self._answerer is None:
            with self._lock:
                if self._answerer is None:
                    self._answerer = Answerer(self.retriever, self.settings)
        return self._answerer

    def warm(self) -> None:
        """Load the index, its look-up tables and the embedding model now (before the first user)."""
        self.answerer  # noqa: B018
        self.embedder.embed_queries(["opwarmen"])

    def backend(self, requested: str | None = None) -> str:
        return resolve_backend(self.settings, requested or self.settings.llm)

    def generator(self, backend: str) -> Generator | None:
        return get_generator(self.settings, backend)

    # -- the jobs ------------------------------------------------------------------------------
    def question(self, text: object) -> CleanQuestion:
        """``text`` cleaned for processing (inputs.py), or InvalidQuestion with a clear message.
        Every job below starts here, so every entry point gets the same checks."""
        return clean_question(text, self.settings.max_question_chars)

    def search(self, question: str, k: int | None = None, on: str | None = None) -> SearchResult:
        return self.retriever.search(self.question(question).text, k=k, on=on)

    def limited(self, gen: Generator | None) -> Generator | None:
        """``gen`` behind this assistant's generation slots (None stays None: nothing to limit)."""
        return None if gen is None else SlotLimited(gen, self.slots)

    def ask(self, question: str, backend: str | None = None, on: str | None = None) -> Answer:
        final = None
        for item in self.stream(question, backend, on):
            final = item
        assert isinstance(final, Answer)
        return final

    def stream(self, question: str, backend: str | None = None, on: str | None = None) -> Iterator[str | Answer]:
        q = self.question(question)
        b = self.backend(backend)
        for item in self.answerer.stream(q.text, self.limited(self.generator(b)), b, on):
            if isinstance(item, Answer) and q.removed:
                item.notes.insert(0, INPUT_NOTES["removed"][item.language].format(n=q.removed))
            yield item

    def show(self, pid: str, context: int = 1,
             on: str | None = None) -> tuple[Passage | None, list[Passage], list[Passage]]:
        """A passage, the passages just before and after it in its document, and its twin. With
        ``on``, a plain id shows the wording in force on that date (inforce.py)."""
        idx = self.index
        i = idx.position(pid)
        on = on or self.settings.on or None
        if on and i is not None and "@" not in pid:
            from . import inforce

            cur = inforce.view(idx).unit_on(pid, idx.passages[i].lang, on)
            i = idx.position(cur.id) if cur is not None else i
        if i is None:
            return None, [], []
        p = idx.passages[i]
        around = [q for q in idx.passages[max(0, i - context): i + context + 1] if q.source_id == p.source_id]
        twin = self.retriever.alternate(p, on)
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

    def cite(self, query: str, lang: Lang | None = None, on: str | None = None) -> CiteResult:
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
        from . import inforce

        on = inforce.resolve_on(on, self.settings.on)  # the wordings in force on the date
        versions = inforce.view(idx)
        own = self.retriever.provision_passages(provision, lang, on)
        own_keys = {p.id for p in own}
        referring = [
            p for p in idx.passages
            if p.id not in own_keys and versions.shown(p, on)
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


def _build_tables(r: Retriever) -> None:
    """Build the index's and the retriever's lazy look-up tables (FAISS, BM25, compounds,
    translations, names, defined terms) once, under the assistant's lock: built lazily by two
    threads at once, a reader could see a half-filled table."""
    idx = r.index
    if not idx.passages:
        return
    idx.faiss_index  # noqa: B018
    idx.bm25  # noqa: B018
    idx.compounds  # noqa: B018
    idx.translator  # noqa: B018
    idx.only_in  # noqa: B018
    r.unknown_terms("Opwarmen")
    r.defined_terms()


# -- the JSON of each job: `policy-rag <job> --json`, the HTTP API and the MCP tools --------------


def search_dict(question: str, res: SearchResult) -> dict[str, Any]:
    from .inforce import status

    hits = [h.to_dict() for h in res.hits]
    for d, h in zip(hits, res.hits):  # "in-force", or "amended": an old wording kept, its new text in current_note
        d["status"] = status(h.passage, res.on) if res.on else "in-force"
    return {"question": question, "language": res.lang, "provision": res.provision, "on": res.on or None,
            "hits": hits,
            "timings": {k: round(v, 4) for k, v in res.timings.items()}}


def show_dict(p: Passage, around: list[Passage], twin: list[Passage], index: Any = None) -> dict[str, Any]:
    """``index``: also the passage's versions (every wording, with dates) and its amending passages."""
    d = {"passage": p.to_dict(), "context": [q.to_dict() for q in around],
         "other_language": [t.to_dict() for t in twin]}
    if index is not None:
        from . import inforce

        versions = inforce.view(index)
        lang: Lang = "en" if p.lang == "en" else "nl"
        d["label"] = inforce.amended_label(p, versions, lang)
        d["versions"] = inforce.version_dicts(p, versions)
        d["amended_by"] = inforce.amending_refs(p, versions, lang)
    return d


def error_dict(question: object, exc: PolicyRagError) -> dict[str, Any]:
    """A question that got no answer: the message (in the question's language for bad input),
    and what kind of problem it is ("empty", "too_long", "binary", ... or "failed")."""
    out: dict[str, Any] = {"question": echo(question) if isinstance(question, str) else "", "error": str(exc),
                           "error_kind": exc.kind if isinstance(exc, InvalidQuestion) else "failed",
                           "refused": True}
    if isinstance(exc, InvalidQuestion):
        out["language"] = exc.lang
    return out
