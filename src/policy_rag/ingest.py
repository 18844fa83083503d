"""Sources -> documents -> passages -> vectors -> index folder. One way through.

A file that cannot be read is reported by name and skipped; the rest is ingested.
Vectors come from a cache keyed by passage content and model, so re-ingesting with
nothing changed embeds nothing, and an unchanged index is not rewritten. Parsing is
skipped too when nothing it reads has changed: the index manifest records a key of its
inputs (:func:`inputs_key`: the manifest, the checksums of the files found, the settings
that shape passages, and the code that makes them), and an ingest whose key equals the
current index's (and whose embedding model is compatible) stops there.
"""

from __future__ import annotations

import hashlib
import logging
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import amend
from . import index as index_mod
from .chunk import chunk_document
from .compute import compatible
from .embed import Embedder, VectorCache, embed_passages
from .errors import MissingIndexError, ParseError, PolicyRagError
from .guard import find_injections
from .index import pause_point
from .parse import parse_source
from .parse.eurlex_html import chapters_of
from .settings import Settings
from .sources import available_sources, load_manifest, locate
from .types import Document, Passage, Source

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
    tracebacks: list[str] = field(default_factory=list)  # of unexpected parser errors (for --verbose)
    recovered: list[str] = field(default_factory=list)  # what an interrupted ingest left and was cleaned
    warnings: list[str] = field(default_factory=list)
    passages: int = 0
    flagged: list[str] = field(default_factory=list)  # ids of passages with text addressed to the assistant
    embedded: int = 0  # newly embedded (not from cache)
    unchanged: bool = False  # the index already held exactly these passages
    timings: dict[str, float] = field(default_factory=dict)
    index_path: str = ""
    # amend.py: what the amending acts changed ({"instructions", "applied", "not_applied", "points"})
    amendments: dict = field(default_factory=dict)
    extras: dict[str, str] = field(default_factory=dict)  # files for the index build (amend.index_files)

    def by_lang(self) -> dict[str, int]:
        c: Counter[str] = Counter()
        for d in self.documents:
            c[d["lang"]] += d["passages"]
        return dict(c)


def read_source(path: Path, source: Source, settings: Settings) -> tuple[Document, list[Passage]]:
    """Parse and chunk one file. Any failure is a ParseError naming the file and the source.

    An unexpected exception (a parser bug, a file no parser foresaw) keeps its traceback in
    ``details`` (logged at debug, printed by `policy-rag -v ingest`): one bad file never stops
    the ingest of the others.
    """
    try:
        doc = parse_source(path, source, max_bytes=settings.max_source_bytes)
        return doc, chunk_document(doc, settings.max_passage_words)
    except ParseError as e:
        if not e.source_id:
            e = ParseError(e.path, e.problem, e.hint, source_id=source.id, details=e.details)
        raise e from None
    except PolicyRagError as e:
        raise ParseError(path, str(e).rstrip("."), source_id=source.id) from e
    except Exception as e:  # noqa: BLE001 (any parser failure: name the file, go on)
        details = traceback.format_exc()
        log.debug("%s (%s): %s", source.id, path, details)
        raise ParseError(
            path,
            f"reading it as {source.format} failed ({type(e).__name__}: {str(e)[:300]})",
            "The file is damaged or not what the manifest's `format` says: check it, fetch it again "
            "(`policy-rag fetch`), or correct corpus/sources.toml. `policy-rag -v ingest` shows the traceback.",
            source_id=source.id, details=details,
        ) from e


_PACKAGE = Path(__file__).resolve().parent


def inputs_key(settings: Settings, sources: list[tuple[Source, Path]], problems: list[str]) -> str:
    """What the passages of an ingest depend on, as one hash: the manifest file, the sources found
    (their checksums were verified), the files left out, the settings that shape passages, and the
    package's code (any change to a parser, the chunker or the amendments parses again)."""
    h = hashlib.sha256()
    try:
        h.update(Path(settings.manifest_path).read_bytes())
    except OSError:
        h.update(b"no manifest")
    for s, _path in sources:
        h.update(f"\0{s.id}\0{s.sha256}".encode())
    for problem in problems:
        h.update(f"\0problem\0{problem}".encode())
    h.update(f"\0{settings.max_passage_words}\0{settings.max_source_bytes}".encode())
    for f in sorted(_PACKAGE.rglob("*.py")):
        h.update(f"\0{f.relative_to(_PACKAGE).as_posix()}\0".encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _reuse(settings: Settings, embedder: Embedder, key: str, report: IngestReport) -> bool:
    """True (and ``report`` filled from it) when the current index was built from the same inputs."""
    try:
        old = index_mod.load(settings.index_dir)
    except (MissingIndexError, PolicyRagError, OSError, ValueError):
        return False
    m = old.manifest
    if m.get("inputs_key") != key or not compatible(m.get("model_id") or "", embedder.model_id):
        return False
    counts = m.get("counts") or {}
    by_source = counts.get("by_source") or {}
    first: dict[str, Passage] = {}
    for p in old.passages:
        first.setdefault(p.source_id, p)
        if p.flagged:
            report.flagged.append(p.id)
    report.sources = list(m.get("sources") or [])
    report.documents = [dict(d) for d in counts.get("documents") or []] or [
        {"source": sid, "doc": first[sid].doc if sid in first else "",
         "lang": first[sid].lang if sid in first else "", "blocks": 0, "passages": n}
        for sid, n in by_source.items()]
    report.amendments = dict(counts.get("amendments") or {})
    report.warnings.extend(m.get("warnings") or [])
    report.passages = len(old.passages)
    report.unchanged = True
    report.index_path = str(old.path)
    return True


def collect_passages(settings: Settings, report: IngestReport, progress: ProgressFactory = _silent,
                     sources: list[tuple[Source, Path]] | None = None) -> list[Passage]:
    t = time.perf_counter()
    if sources is None:
        sources, problems = available_sources(settings)
        report.problems.extend(problems)
    report.timings["verify"] = report.timings.get("verify", 0.0) + time.perf_counter() - t

    t = time.perf_counter()
    passages: list[Passage] = []
    ids: set[str] = set()
    advance = progress("parse", len(sources))
    parsed: list[tuple[Source, Path, Document, list[Passage]]] = []
    for source, path in sources:
        try:
            doc, ps = read_source(path, source, settings)
        except ParseError as e:
            report.problems.append(f"{source.id}: {e} Skipped.")
            if e.details:
                report.tracebacks.append(f"{source.id} ({path}):\n{e.details}")
            log.warning("skipping %s: %s", source.id, e)
            advance(1)
            continue
        parsed.append((source, path, doc, ps))
        advance(1)
    parsed = _consolidate(parsed, settings, report)
    for source, path, doc, ps in parsed:
        clash = next((p.id for p in ps if p.id in ids), None)
        if clash is not None:
            report.problems.append(
                f"{source.id}: Could not read {path} (source {source.id}): its passage id {clash} is also "
                "given by another document; give each language version of a work one row (doc + lang) "
                "in corpus/sources.toml. Skipped.")
            continue
        ids.update(p.id for p in ps)
        pause_point("parse")
        report.warnings.extend(f"{source.id}: {w}" for w in doc.warnings)
        report.sources.append({"id": source.id, "sha256": source.sha256, "url": source.url})
        report.documents.append({"source": source.id, "doc": source.doc, "lang": source.lang,
                                 "blocks": len(doc.blocks), "passages": len(ps)})
        for p in ps:
            p.order = len(passages)
            passages.append(p)
            if p.flagged or find_injections(p.context):
                report.flagged.append(p.id)
                log.warning("%s: text addressed to the assistant, left out of answers: %r", p.id,
                            " ".join(p.text[s:e] for s, e in p.flagged or [])[:200] or p.context[:200])
    report.timings["parse+chunk"] = time.perf_counter() - t
    return passages


def _consolidate(parsed: list[tuple[Source, Path, Document, list[Passage]]], settings: Settings,
                 report: IngestReport) -> list[tuple[Source, Path, Document, list[Passage]]]:
    """Apply the amending acts (manifest rows with `amends`) to the acts they amend (amend.py).

    The amended act's documents are chunked again (unchanged passages keep their ids and
    content hashes); a failure here is reported and the documents are indexed as parsed.
    """
    corrections: dict[str, Document] = {}
    ids = {s.id for s, _, _, _ in parsed}
    for s in load_manifest(settings.manifest_path, []):  # texts with corrigenda (listed ingest = false)
        if s.corrects in ids:
            path, problem = locate(settings, s)
            if path is None:
                report.warnings.append(f"corrigenda: {problem}")
                continue
            try:
                corrections[s.corrects] = parse_source(path, s, max_bytes=settings.max_source_bytes)
            except PolicyRagError as e:
                report.warnings.append(f"corrigenda: {s.id}: {e}")
    if not any(s.amends for s, _, _, _ in parsed) and not corrections:
        return parsed
    try:
        chapters = {s.id: chapters_of(path, settings.max_source_bytes) for s, path, _, _ in parsed
                    if s.format == "eurlex-html" and s.kind == "act"}
        res = amend.consolidate([d for _, _, d, _ in parsed], corrections, chapters)
    except Exception as e:  # noqa: BLE001 (a bug in applying amendments must not stop the ingest)
        log.debug("amendments: %s", traceback.format_exc())
        report.problems.append(f"amendments: applying the amending acts failed ({type(e).__name__}: "
                               f"{str(e)[:300]}); the acts are indexed as published. `policy-rag -v ingest` "
                               "shows the traceback.")
        return parsed
    report.amendments = {**res.summary(), "corrected": len(res.corrected)}
    report.warnings.extend(f"amendments: {w}" for w in res.warnings)
    report.extras = amend.index_files(res)
    out = []
    for (source, path, doc, ps), new in zip(parsed, res.documents, strict=True):
        out.append((source, path, new, ps if new is doc else chunk_document(new, settings.max_passage_words)))
    return out


def ingest(settings: Settings, embedder: Embedder, *, progress: ProgressFactory = _silent,
           rebuild: bool = False) -> IngestReport:
    """Build the index, holding the index folder's lock throughout (one ingest at a time).

    First cleans what an interrupted ingest left (unfinished builds, stray links); afterwards
    only the newest ``settings.keep_builds`` builds remain.
    """
    with index_mod.build_lock(settings.index_dir, wait=settings.ingest_lock_wait):
        report = IngestReport()
        report.recovered = index_mod.recover(settings.index_dir)
        return _ingest(settings, embedder, report, progress=progress, rebuild=rebuild)


def _pausing(advance: Callable[[int], None], stage: str) -> Callable[[int], None]:
    def step(n: int) -> None:
        advance(n)
        pause_point(stage)

    return step


def _ingest(settings: Settings, embedder: Embedder, report: IngestReport, *, progress: ProgressFactory,
            rebuild: bool) -> IngestReport:
    t0 = time.perf_counter()
    sources, problems = available_sources(settings)
    report.problems.extend(problems)
    key = inputs_key(settings, sources, problems)
    report.timings["verify"] = time.perf_counter() - t0
    if not rebuild and _reuse(settings, embedder, key, report):
        report.timings["total"] = time.perf_counter() - t0
        return report
    passages = collect_passages(settings, report, progress, sources)
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
                if old.path is not None and old.manifest.get("inputs_key") != key:
                    index_mod.note_inputs(old.path, key)  # the next ingest need not parse
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
                                                  _pausing(progress("embed", len(passages)), "embed"))
        if rebuild:
            cache.put_many([(p.content_hash, v) for p, v in zip(passages, vectors, strict=True)])
    finally:
        cache.close()
    report.timings["embed"] = time.perf_counter() - t

    t = time.perf_counter()
    manifest = index_mod.build_manifest(
        model_id=embedder.model_id, dim=int(vectors.shape[1]), max_words=settings.max_passage_words,
        sources=report.sources,
        counts={"passages": len(passages), "by_lang": report.by_lang(), "amendments": report.amendments,
                "by_source": {d["source"]: d["passages"] for d in report.documents},
                "documents": report.documents},
        timings={k: round(v, 2) for k, v in report.timings.items()},
        embedding=describe() if (describe := getattr(embedder, "describe", None)) else None,
        inputs_key=key, warnings=report.warnings,
    )
    idx = index_mod.Index(passages=passages, vectors=vectors, manifest=manifest, extras=report.extras)
    report.index_path = str(index_mod.save(idx, settings.index_dir, keep=settings.keep_builds))
    report.timings["index"] = time.perf_counter() - t
    report.timings["total"] = time.perf_counter() - t0
    return report
