"""The manifest (`corpus/sources.toml`) and the fetch step.

Each document is named by its official URL and sha256. `fetch` brings it into
`corpus/` from a local mirror folder (same relative paths) or from the official URL,
and verifies the checksum. Documents that are shipped in the repository are only
verified. Offline with no mirror, fetch reports what is missing; the rest still works.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import tomllib
import urllib.request
from dataclasses import dataclass, fields
from pathlib import Path

from .errors import SourceError
from .models import sha256_file  # one checksum routine for models and documents
from .settings import Settings
from .types import Source

log = logging.getLogger(__name__)

_FIELDS = {f.name for f in fields(Source)}
_REQUIRED = {"id", "doc", "title", "lang", "kind", "format", "version", "url", "path", "sha256"}


def load_manifest(path: Path) -> list[Source]:
    """Read and validate the manifest; a bad row stops the run with a message naming it."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceError(f"Manifest not found: {path}. Run from the repository root or set POLICY_RAG_CORPUS.") from None
    except tomllib.TOMLDecodeError as e:
        raise SourceError(f"Manifest {path} is not valid TOML: {e}. Fix the file and retry.") from e
    rows = data.get("source", [])
    sources: list[Source] = []
    seen: set[str] = set()
    for i, row in enumerate(rows, 1):
        missing = _REQUIRED - row.keys()
        unknown = row.keys() - _FIELDS
        where = f"{path}, source #{i} ({row.get('id', '?')})"
        if missing:
            raise SourceError(f"{where}: missing field(s) {sorted(missing)}.")
        if unknown:
            raise SourceError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: {sorted(_FIELDS)}.")
        if row["lang"] not in ("en", "nl"):
            raise SourceError(f"{where}: lang must be 'en' or 'nl', not {row['lang']!r}.")
        if row["id"] in seen:
            raise SourceError(f"{where}: duplicate id {row['id']!r}.")
        if len(row["sha256"]) != 64:
            raise SourceError(f"{where}: sha256 must be 64 hex digits.")
        seen.add(row["id"])
        sources.append(Source(**row))
    return sources


@dataclass
class FetchResult:
    source: Source
    status: str  # "ok" (already there), "copied", "downloaded", "missing", "bad-checksum"
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "copied", "downloaded")


def local_path(settings: Settings, source: Source) -> Path:
    return settings.corpus_dir / source.path


def _verified_copy(src_read, dest: Path, expected: str) -> str | None:
    """Write into a temp file beside dest, check sha256, rename. Returns the bad digest or None."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=dest.parent, delete=False, suffix=".part") as tmp:
        h = hashlib.sha256()
        for block in src_read():
            h.update(block)
            tmp.write(block)
    digest = h.hexdigest()
    if digest != expected:
        Path(tmp.name).unlink(missing_ok=True)
        return digest
    Path(tmp.name).replace(dest)
    return None


def _chunks_from_file(path: Path):
    def gen():
        with path.open("rb") as f:
            yield from iter(lambda: f.read(1 << 20), b"")

    return gen


def _chunks_from_url(url: str, timeout: float):
    def gen():
        req = urllib.request.Request(url, headers={"User-Agent": "policy-rag (+https://eur-lex.europa.eu)"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (official https URLs)
            yield from iter(lambda: resp.read(1 << 20), b"")

    return gen


def fetch_one(settings: Settings, source: Source, *, mirror: str | None = None, online: bool = True,
              timeout: float = 60.0) -> FetchResult:
    dest = local_path(settings, source)
    if dest.exists():
        digest = sha256_file(dest)
        if digest == source.sha256:
            return FetchResult(source, "ok")
        if source.shipped:
            return FetchResult(source, "bad-checksum",
                               f"{dest} is shipped with the repository but its sha256 is {digest}, not "
                               f"{source.sha256}: restore it with `git checkout -- {dest}`.")
        log.warning("%s has sha256 %s, expected %s: fetching it again", dest, digest, source.sha256)
    mirror = settings.mirror if mirror is None else mirror
    if mirror:
        cand = Path(mirror) / source.path
        if cand.exists():
            bad = _verified_copy(_chunks_from_file(cand), dest, source.sha256)
            if bad is None:
                return FetchResult(source, "copied", str(cand))
            return FetchResult(source, "bad-checksum",
                               f"{cand} has sha256 {bad}, the manifest says {source.sha256}: the mirror holds "
                               "another version; replace the file or correct corpus/sources.toml.")
    if not online:
        return FetchResult(source, "missing", f"not in the mirror ({mirror or 'none set'}) and offline")
    try:
        bad = _verified_copy(_chunks_from_url(source.url, timeout), dest, source.sha256)
    except OSError as e:
        return FetchResult(source, "missing",
                           f"could not download {source.url} ({e}); put the file in a mirror folder "
                           f"as {source.path} and run `policy-rag fetch --mirror DIR`")
    if bad is not None:
        return FetchResult(source, "bad-checksum",
                           f"{source.url} served a file with sha256 {bad}, not {source.sha256}: the official "
                           "document changed or the URL serves a different rendering; check and update the manifest.")
    return FetchResult(source, "downloaded", source.url)


def fetch_all(settings: Settings, *, mirror: str | None = None, online: bool = True,
              include_alternates: bool = False) -> list[FetchResult]:
    results = []
    for s in load_manifest(settings.manifest_path):
        if not s.ingest and not include_alternates:
            continue
        results.append(fetch_one(settings, s, mirror=mirror, online=online))
    return results


def available_sources(settings: Settings) -> tuple[list[tuple[Source, Path]], list[str]]:
    """The sources to ingest that are present with the right checksum, and a problem per other one.

    A file is looked for in corpus/ first, then in the mirror (read in place, so the
    mirror's files need not be copied). The checksum is verified either way.
    """
    ok: list[tuple[Source, Path]] = []
    problems: list[str] = []
    for s in load_manifest(settings.manifest_path):
        if not s.ingest:
            continue
        cands = [local_path(settings, s)]
        if settings.mirror:
            cands.append(Path(settings.mirror) / s.path)
        found = [p for p in cands if p.exists()]
        if not found:
            problems.append(f"{s.id}: {s.path} is missing; run `policy-rag fetch` (or `--mirror DIR`).")
            continue
        good = next((p for p in found if sha256_file(p) == s.sha256), None)
        if good is None:
            problems.append(f"{s.id}: {found[0]} does not match the manifest's sha256 {s.sha256[:12]}…; "
                            "run `policy-rag fetch` to get the listed version, or update corpus/sources.toml. Skipped.")
            continue
        ok.append((s, good))
    return ok, problems

