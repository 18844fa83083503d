"""Sources -> documents -> passages -> vectors -> index folder. One way through.

A file that cannot be read is reported by name and skipped; the rest is ingested.
Vectors come from a cache keyed by passage content and model, so re-ingesting with
nothing changed embeds nothing, and an unchanged index is not rewritten.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from . import index as index_mod
from .chunk import chunk_document
from .compute import compatible
from .embed import Embedder, VectorCache, embed_passages
from .errors import MissingIndexError, PolicyRagError
from .parse import parse_source
from .settings import Settings
from .sources import available_sources
from .types import Passage

log = logging.getLogger(__name__)

# progress(stage, total) -> advance(n); the CLI passes tqdm bars, library default is silent
ProgressFactory = Callable[[str, int], Callable[[int], None]]


def _silent(stage: str, total: int) -> Callable[[int], None]:
    return lambda n: None


@dataclass
class IngestReport:
    documents: list[dict] = field(default_factory=list)  # {source, doc, lang, passages, blocks}
    sources: list[dict] = field(default_factory=list)  # {id, sha256, url} of each file read
    problems: list[str] = field(default_factory=list)  # files reported and skipped
    warnings: list[str] = field(default_factory=list)
    passages: int = 0
    embedded: int = 0  # newly embedded (not from cache)
    unchanged: bool = False  # the index already held exactly these passages
    timings: dict[str, float] = field(default_factory=dict)
    index_path: str = ""

    def by_lang(self) -> dict[str, int]:
        c: Counter[str] = Counter()
        for d in self.documents:
            c[d["lang"]] += d["passages"]
        return dict(c)


def collect_passages(settings: Settings, report: IngestReport, progress: ProgressFactory = _silent) -> list[Passage]:
    t = time.perf_counter()
    sources, problems = available_sources(settings)
    report.problems.extend(problems)
    report.timings["verify"] = time.perf_counter() - t

    t = time.perf_counter()
    passages: list[Passage] = []
    advance = progress("parse", len(sources))
    for source, path in sources:
        try:
            doc = parse_source(path, source)
        except PolicyRagError as e:
            report.problems.append(f"{source.id}: {e} Skipped.")
            log.warning("skipping %s: %s", source.id, e)
            advance(1)
            continue
        ps = chunk_document(doc, settings.max_passage_words)
        report.warnings.extend(f"{source.id}: {w}" for w in doc.warnings)
        report.sources.append({"id": source.id, "sha256": source.sha256, "url": source.url})
        report.documents.append({"source": source.id, "doc": source.doc, "lang": source.lang,
                                 "blocks": len(doc.blocks), "passages": len(ps)})
        for p in ps:
            p.order = len(passages)
            passages.append(p)
        advance(1)
    report.timings["parse+chunk"] = time.perf_counter() - t
    return passages


def ingest(settings: Settings, embedder: Embedder, *, progress: ProgressFactory = _silent,
           rebuild: bool = False) -> IngestReport:
    report = IngestReport()
    t0 = time.perf_counter()
    passages = collect_passages(settings, report, progress)
    if not passages:
        raise PolicyRagError(
            "No passages to index: no source could be read. " + " ".join(report.problems[:3])
            + " Run `policy-rag fetch --mirror DIR` first.")
    report.passages = len(passages)

    if not rebuild:
        try:
            old = index_mod.load(settings.index_dir)
            # to_dict includes each passage's content hash, so this also compares what was embedded
            # a compatible variant (compute.COMPATIBLE) may search the index as it is
            if (compatible(old.manifest.get("model_id") or "", embedder.model_id)
                    and [p.to_dict() for p in old.passages] == [p.to_dict() for p in passages]):
                report.unchanged = True
                report.index_path = str(old.path)
                report.timings["total"] = time.perf_counter() - t0
                return report
        except (MissingIndexError, PolicyRagError, OSError, ValueError):
            pass

    t = time.perf_counter()
    cache = VectorCache(settings.cache / "embeddings.sqlite", embedder.model_id)
    try:
        # --rebuild: every passage is embedded again (no vector read from the cache); the new
        # vectors then replace the cached ones
        vectors, report.embedded = embed_passages(embedder, passages, None if rebuild else cache,
                                                  progress("embed", len(passages)))
        if rebuild:
            cache.put_many([(p.content_hash, v) for p, v in zip(passages, vectors)])
    finally:
        cache.close()
    report.timings["embed"] = time.perf_counter() - t

    t = time.perf_counter()
    manifest = index_mod.build_manifest(
        model_id=embedder.model_id, dim=int(vectors.shape[1]), max_words=settings.max_passage_words,
        sources=report.sources,
        counts={"passages": len(passages), "by_lang": report.by_lang(),
                "by_source": {d["source"]: d["passages"] for d in report.documents}},
        timings={k: round(v, 2) for k, v in report.timings.items()},
        embedding=describe() if (describe := getattr(embedder, "describe", None)) else None,
    )
    idx = index_mod.Index(passages=passages, vectors=vectors, manifest=manifest)
    report.index_path = str(index_mod.save(idx, settings.index_dir))
    report.timings["index"] = time.perf_counter() - t
    report.timings["total"] = time.perf_counter() - t0
    return report
