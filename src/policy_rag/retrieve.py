"""Question -> ranked passages: hybrid (dense + BM25), cross-lingual, provision-aware.

1. A question that names a provision ("artikel 26 lid 8", "Article 6(2)", "bijlage III")
   gets that provision's passages first.
2. Dense search (EmbeddingGemma, multilingual: a Dutch question finds English-only
   guidelines) and BM25 (Dutch and English stemming) are fused by reciprocal rank.
3. Balance (BASELINE.md failures 1 and 2): guidance may not crowd out the law, and a
   recital ranks below the article it explains.
4. The same provision in both languages counts once: the question's language is shown,
   the other language is kept as ``alternate``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from . import legal
from .embed import Embedder
from .index import Index
from .lang import detect_language
from .settings import Settings
from .types import Hit, Lang, Passage

log = logging.getLogger(__name__)

RECITAL_WEIGHT = 0.8  # a recital explains an article; rank it below an equally good article
PAGE_WEIGHT = 0.9
MAX_GUIDANCE_SHARE = 0.5  # at most half of the top k from non-binding texts, if law is available


@dataclass
class SearchResult:
    question: str
    lang: Lang
    hits: list[Hit]
    top_dense: float  # best cosine of the question to any passage (relevance signal)
    provision: str | None = None  # a provision named in the question
    timings: dict[str, float] = field(default_factory=dict)


def twin_id(pid: str, lang: Lang) -> str:
    """The id of the same provision in the other language version of the document."""
    doc, _lang, rest = pid.split("/", 2)
    return f"{doc}/{lang}/{rest.split('~')[0]}"


class Retriever:
    def __init__(self, index: Index, embedder: Embedder, settings: Settings) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings

    def alternate(self, p: Passage) -> Passage | None:
        """The same provision in the other language, if the document has it."""
        other: Lang = "en" if p.lang == "nl" else "nl"
        return self.index.get(twin_id(p.id, other))

    def provision_passages(self, provision: str, lang: Lang) -> list[Passage]:
        """All AI Act passages of a provision (and its sub-provisions), question language first."""
        related = [p for p in self.index.passages if p.doc == "ai-act" and legal.matches(provision, p.provision)]
        # the provision itself and what is inside it; else the smallest unit that contains it
        ps = [p for p in related if len(p.provision) >= len(provision)] or related
        ps.sort(key=lambda p: (p.lang != lang, p.order))
        return ps

    def search(self, question: str, k: int | None = None, lang: Lang | None = None) -> SearchResult:
        k = k or self.settings.k
        s = self.settings
        timings: dict[str, float] = {}
        lang = lang or detect_language(question)
        t = time.perf_counter()
        qvec = self.embedder.embed_queries([question])[0]
        timings["embed_query"] = time.perf_counter() - t

        t = time.perf_counter()
        dense = self.index.dense_search(qvec, s.dense_k)
        timings["dense"] = time.perf_counter() - t
        t = time.perf_counter()
        keyword = self.index.keyword_search(question, s.bm25_k)
        timings["bm25"] = time.perf_counter() - t

        t = time.perf_counter()
        fused: dict[int, float] = {}
        for weight, ranked in ((1.0, dense), (0.8, keyword)):
            for r, (i, _score) in enumerate(ranked):
                fused[i] = fused.get(i, 0.0) + weight / (s.rrf_k + r + 1)
        for i in fused:
            p = self.index.passages[i]
            if p.kind == "recital":
                fused[i] *= RECITAL_WEIGHT
            elif p.kind == "page":
                fused[i] *= PAGE_WEIGHT
        ranked = sorted(fused.items(), key=lambda kv: -kv[1])

        provision = legal.parse_query_provision(question)
        direct: list[Passage] = self.provision_passages(provision, lang)[: k] if provision else []

        hits = self._collapse_and_balance(direct, ranked, lang, k)
        timings["fuse"] = time.perf_counter() - t
        top_dense = dense[0][1] if dense else 0.0
        return SearchResult(question, lang, hits, float(top_dense), provision, timings)

    def _collapse_and_balance(self, direct: list[Passage], ranked: list[tuple[int, float]], lang: Lang,
                              k: int) -> list[Hit]:
        out: list[Hit] = []
        seen: set[str] = set()  # language-independent keys: doc + provision id part

        def key(p: Passage) -> str:
            return twin_id(p.id, "en") + ("~" + p.id.split("~")[1] if "~" in p.id else "")

        def add(p: Passage, score: float, why: str) -> None:
            kk = key(p)
            if kk in seen:
                return
            seen.add(kk)
            if p.lang != lang:  # show the question's language where the document has it
                twin = self.index.get(twin_id(p.id, lang))
                if twin is not None and "~" not in p.id:
                    p = twin
            out.append(Hit(passage=p, score=score, why=why))

        top_score = ranked[0][1] if ranked else 1.0
        for p in direct:
            add(p, top_score + 1.0, "provision")
        guidance_cap = max(1, int(k * MAX_GUIDANCE_SHARE))
        deferred: list[tuple[Passage, float]] = []
        for i, score in ranked:
            if len(out) >= k:
                break
            p = self.index.passages[i]
            n_guidance = sum(1 for h in out if not h.passage.binding)
            if not p.binding and n_guidance >= guidance_cap:
                deferred.append((p, score))
                continue
            add(p, score, "fused")
        for p, score in deferred:  # fill up if the law ran out
            if len(out) >= k:
                break
            add(p, score, "fused")
        for r, h in enumerate(out, 1):
            h.rank = r
        return out
