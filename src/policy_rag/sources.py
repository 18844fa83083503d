"""The manifest (`corpus/sources.toml`) and the fetch step.

Each document is named by its official URL and sha256. `fetch` brings it into
`corpus/` from a local mirror folder (same relative paths) or from the official URL,
and verifies the checksum. Documents that are shipped in the repository are only
verified. Offline with no mirror, fetch reports what is missing; the rest still works.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
import re
import stat
import tempfile
import tomllib
import urllib.request
from dataclasses import dataclass, fields
from pathlib import Path, PurePosixPath

from .errors import SourceError
from .settings import Settings
from .types import Source

log = logging.getLogger(__name__)

_FIELDS = {f.name for f in fields(Source)}
_REQUIRED = ("id", "doc", "title", "lang", "kind", "format", "version", "url", "path", "sha256")
_BOOLS = ("binding", "ingest", "shipped")
LANGS = ("en", "nl")
KINDS = ("act", "amending-act", "guidelines", "page")
ALTERNATE_FORMATS = ("pdf", "formex-zip")  # listed (ingest = false), not parsed
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")  # ids become passage ids and file names
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_ISO_DATE = re.compile(r"^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])$")
MAX_MANIFEST_BYTES = 5 * 1024 * 1024


class ManifestRowError(ValueError):
    """One bad row: reported (naming the row and the field) and skipped."""


def _read_manifest_text(path: Path) -> str:
    """The manifest's text: a regular UTF-8 file of at most 5 MB, or a SourceError saying what to do."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise SourceError(f"Manifest not found: {path}. Run from the repository root or set POLICY_RAG_CORPUS.") from None
    except OSError as e:
        raise SourceError(f"Manifest {path} cannot be read ({e.strerror}).") from None
    if not stat.S_ISREG(st.st_mode):
        raise SourceError(f"Manifest {path} is not a regular file. Point POLICY_RAG_CORPUS at the corpus folder.")
    if st.st_size > MAX_MANIFEST_BYTES:
        raise SourceError(f"Manifest {path} is {st.st_size / 1e6:.0f} MB; a manifest is a few kB. Check the file.")
    with path.open("rb") as f:
        data = f.read(MAX_MANIFEST_BYTES + 1)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in data:
        raise SourceError(f"Manifest {path} is UTF-16 (or holds NUL bytes), not UTF-8. Save it as UTF-8 "
                          f"(e.g. `iconv -f UTF-16 -t UTF-8 {path.name}`) and retry.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SourceError(f"Manifest {path} is not valid UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start}; "
                          "perhaps Latin-1/Windows-1252). Save it as UTF-8 and retry.") from None


def _check_row(row: dict) -> dict:
    """The row with its values checked and normalised, or ManifestRowError naming the first bad field."""
    missing = [k for k in _REQUIRED if k not in row]
    if missing:
        raise ManifestRowError(f"missing field(s) {missing}")
    unknown = sorted(row.keys() - _FIELDS)
    if unknown:
        raise ManifestRowError(f"unknown field(s) {unknown}; allowed: {sorted(_FIELDS)}")
    for k in _REQUIRED:
        v = row[k]
        if not isinstance(v, str):
            raise ManifestRowError(f"field `{k}` must be a string, not {type(v).__name__} ({str(v)[:40]})")
        if not v.strip():
            raise ManifestRowError(f"field `{k}` is empty")
        if "\x00" in v or len(v) > 2000:
            raise ManifestRowError(f"field `{k}` is not a plausible value (NUL byte or over 2000 characters)")
    for k in _BOOLS:
        if k in row and not isinstance(row[k], bool):
            raise ManifestRowError(f"field `{k}` must be true or false, not {row[k]!r}"[:200])
    for k in ("id", "doc"):
        if not _ID.match(row[k]):
            raise ManifestRowError(f"field `{k}` = {row[k]!r} may hold only letters, digits, '.', '_' and '-' "
                                   "(at most 100)")
    if row["lang"] not in LANGS:
        raise ManifestRowError(f"field `lang` must be one of {list(LANGS)}, not {row['lang']!r}")
    if row["kind"] not in KINDS:
        raise ManifestRowError(f"field `kind` must be one of {list(KINDS)}, not {row['kind']!r}")
    from .parse import PARSERS

    ingest = row.get("ingest", True)
    formats = sorted(PARSERS) if ingest else sorted({*PARSERS, *ALTERNATE_FORMATS})
    if row["format"] not in formats:
        raise ManifestRowError(f"field `format` must be one of {formats}, not {row['format']!r}")
    if not row["url"].startswith(("https://", "http://")):
        raise ManifestRowError(f"field `url` must be an http(s) URL, not {row['url'][:80]!r}")
    if not _HEX64.match(row["sha256"]):
        raise ManifestRowError(f"field `sha256` must be 64 hexadecimal digits, not {row['sha256'][:80]!r}")
    for k in ("published", "amends", "corrects"):
        if k in row and not isinstance(row[k], str):
            raise ManifestRowError(f"field `{k}` must be a string, not {type(row[k]).__name__}")
    if row.get("published") and not _ISO_DATE.match(row["published"]):
        raise ManifestRowError(f"field `published` must be an ISO date YYYY-MM-DD (the day of publication in "
                               f"the Official Journal), not {row['published'][:40]!r}")
    if row.get("amends") and not _ID.match(row["amends"]):
        raise ManifestRowError(f"field `amends` must be the doc id of the amended act, not {row['amends'][:40]!r}")
    if row.get("corrects") and not _ID.match(row["corrects"]):
        raise ManifestRowError(f"field `corrects` must be the source id of the corrected text, not "
                               f"{row['corrects'][:40]!r}")
    rel = row["path"]
    pp = PurePosixPath(rel)
    if pp.is_absolute() or rel.startswith("\\") or ":" in pp.parts[0] or ".." in pp.parts or "\\" in rel:
        raise ManifestRowError(f"field `path` = {rel!r} must be a relative path inside the corpus folder "
                               "(no '..', no absolute path)")
    return {**row, "sha256": row["sha256"].lower(), "path": str(pp)}


def read_manifest(path: Path) -> tuple[list[Source], list[str]]:
    """The manifest's valid rows, and one message per bad row (naming it and the field); bad rows are skipped.

    A manifest that cannot be read at all (missing, not UTF-8, not TOML, `source` not a list of
    tables) raises SourceError: that stops the run.
    """
    text = _read_manifest_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SourceError(f"Manifest {path} is not valid TOML: {e}. Fix the file and retry.") from e
    except RecursionError:
        raise SourceError(f"Manifest {path} nests arrays or tables too deeply to be a manifest. Fix the file.") from None
    rows = data.get("source", [])
    if not isinstance(rows, list):
        raise SourceError(f"Manifest {path}: `source` must be a list of tables (`[[source]]` rows), not a "
                          f"{'table ([source])' if isinstance(rows, dict) else type(rows).__name__}. Fix the file.")
    sources: list[Source] = []
    problems: list[str] = []
    ids: set[str] = set()
    doc_lang: dict[tuple[str, str], str] = {}
    for i, row in enumerate(rows, 1):
        rid = row.get("id") if isinstance(row, dict) else None
        where = f"{path}, source #{i} ({rid if isinstance(rid, str) else '?'})"
        try:
            if not isinstance(row, dict):
                raise ManifestRowError(f"is a {type(row).__name__}, not a table of fields")
            ok = _check_row(row)
            if ok["id"] in ids:
                raise ManifestRowError(f"duplicate id {ok['id']!r} (an earlier row has it)")
            key = (ok["doc"], ok["lang"])
            if ok.get("ingest", True) and key in doc_lang:
                raise ManifestRowError(
                    f"doc {ok['doc']!r} in lang {ok['lang']!r} is already ingested by row {doc_lang[key]!r}: two "
                    "rows would give the same passage ids; mark one `ingest = false` or give it another doc")
        except ManifestRowError as e:
            problems.append(f"{where}: {e}. Fix corpus/sources.toml; the row is skipped.")
            continue
        ids.add(ok["id"])
        if ok.get("ingest", True):
            doc_lang[key] = ok["id"]
        sources.append(Source(**ok))
    return sources, problems


def load_manifest(path: Path, problems: list[str] | None = None) -> list[Source]:
    """Read and validate the manifest.

    With ``problems`` (a list), a bad row is reported there and skipped; without it, any bad
    row stops the run with a SourceError naming it (for checks of the shipped manifest).
    """
    sources, found = read_manifest(path)
    if problems is not None:
        problems.extend(found)
    elif found:
        raise SourceError(" ".join(found))
    return sources


# --- paths: never outside the corpus or mirror folder; only regular files; bounded reads ----


def contained(base: Path | str, rel: str, *, what: str = "corpus folder") -> Path:
    """``base / rel`` if it stays inside ``base`` once symlinks are resolved, else SourceError."""
    root = Path(base).resolve()
    cand = Path(base) / rel
    resolved = cand.resolve()
    if resolved != root and not resolved.is_relative_to(root):
        raise SourceError(f"{cand} leads outside the {what} {root} (to {resolved}); a manifest path must stay "
                          "inside it. Fix `path` in corpus/sources.toml or remove the link.")
    return cand


def check_regular(path: Path, max_bytes: int) -> int:
    """The size of ``path``; SourceError if it is not a regular file or is larger than ``max_bytes``."""
    st = path.stat()
    if not stat.S_ISREG(st.st_mode):
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else "a device, FIFO or socket"
        raise SourceError(f"{path} is {kind}, not a regular file; point `path` in corpus/sources.toml at the document.")
    if st.st_size > max_bytes:
        raise SourceError(f"{path} is {st.st_size / 1e6:.0f} MB, over the limit of {max_bytes / 1e6:.0f} MB "
                          "(POLICY_RAG_MAX_SOURCE_MB); check that this is the right file or raise the limit.")
    return st.st_size


def sha256_bounded(path: Path, max_bytes: int) -> str:
    """The sha256 of a regular file of at most ``max_bytes`` (checked before and while reading)."""
    check_regular(path, max_bytes)
    h = hashlib.sha256()
    n = 0
    with path.open("rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):  # replaced since the check
            raise SourceError(f"{path} is not a regular file.")
        for block in iter(lambda: f.read(1 << 20), b""):
            n += len(block)
            if n > max_bytes:
                raise SourceError(f"{path} grew over the limit of {max_bytes / 1e6:.0f} MB while being read.")
            h.update(block)
    return h.hexdigest()


@dataclass
class FetchResult:
    source: Source
    status: str  # "ok" (already there), "copied", "downloaded", "missing", "bad-checksum"
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "copied", "downloaded")


def local_path(settings: Settings, source: Source) -> Path:
    """Where ``source`` lives in the corpus folder (SourceError if its path leads outside it)."""
    return contained(settings.corpus_dir, source.path)


def _verified_copy(src_read, dest: Path, expected: str, max_bytes: int, root: Path) -> str | None:
    """Write into a temp file beside dest, check sha256, rename. Returns the bad digest or None.

    The folder written into must stay inside ``root`` (checked after creating it), and at most
    ``max_bytes`` are written (SourceError beyond).
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    contained(root, str(dest.parent.relative_to(root)) if dest.parent != root else ".")
    with tempfile.NamedTemporaryFile(dir=dest.parent, delete=False, suffix=".part") as tmp:
        h = hashlib.sha256()
        n = 0
        try:
            for block in src_read():
                n += len(block)
                if n > max_bytes:
                    raise SourceError(f"the file is over the limit of {max_bytes / 1e6:.0f} MB "
                                      "(POLICY_RAG_MAX_SOURCE_MB); not written")
                h.update(block)
                tmp.write(block)
        except BaseException:
            tmp.close()
            Path(tmp.name).unlink(missing_ok=True)
            raise
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
    limit = settings.max_source_bytes
    root = Path(settings.corpus_dir)
    try:
        dest = local_path(settings, source)
    except SourceError as e:
        return FetchResult(source, "refused", str(e))
    if dest.exists():
        try:
            digest = sha256_bounded(dest, limit)
        except SourceError as e:
            return FetchResult(source, "refused", str(e))
        if digest == source.sha256:
            return FetchResult(source, "ok")
        if source.shipped:
            return FetchResult(source, "bad-checksum",
                               f"{dest} is shipped with the repository but its sha256 is {digest}, not "
                               f"{source.sha256}: restore it with `git checkout -- {dest}`.")
        log.warning("%s has sha256 %s, expected %s: fetching it again", dest, digest, source.sha256)
    mirror = settings.mirror if mirror is None else mirror
    if mirror:
        try:
            cand = contained(mirror, source.path, what="mirror folder")
            if cand.exists():
                check_regular(cand, limit)
                bad = _verified_copy(_chunks_from_file(cand), dest, source.sha256, limit, root)
                if bad is None:
                    return FetchResult(source, "copied", str(cand))
                return FetchResult(source, "bad-checksum",
                                   f"{cand} has sha256 {bad}, the manifest says {source.sha256}: the mirror holds "
                                   "another version; replace the file or correct corpus/sources.toml.")
        except SourceError as e:
            return FetchResult(source, "refused", str(e))
    if not online:
        return FetchResult(source, "missing", f"not in the mirror ({mirror or 'none set'}) and offline")
    try:
        bad = _verified_copy(_chunks_from_url(source.url, timeout), dest, source.sha256, limit, root)
    except SourceError as e:
        return FetchResult(source, "refused", f"{source.url}: {e}")
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
              include_alternates: bool = False, problems: list[str] | None = None) -> list[FetchResult]:
    """Fetch every row; bad manifest rows go to ``problems`` (logged as warnings when it is None)."""
    results = []
    bad_rows: list[str] = []
    sources = load_manifest(settings.manifest_path, bad_rows)
    if problems is not None:
        problems.extend(bad_rows)
    else:
        for p in bad_rows:
            log.warning("%s", p)
    for s in sources:
        if not s.ingest and not include_alternates:
            continue
        results.append(fetch_one(settings, s, mirror=mirror, online=online))
    return results


def available_sources(settings: Settings) -> tuple[list[tuple[Source, Path]], list[str]]:
    """The sources to ingest that are present with the right checksum, and a problem per other one.

    A file is looked for in corpus/ first, then in the mirror (read in place, so the
    mirror's files need not be copied). The checksum is verified either way. A bad manifest
    row, a path leading outside the corpus or mirror folder, a file that is not a regular
    file or is over the size limit is reported and skipped.
    """
    ok: list[tuple[Source, Path]] = []
    problems: list[str] = []
    for s in load_manifest(settings.manifest_path, problems):
        if not s.ingest:
            continue
        path, problem = locate(settings, s)
        if path is not None:
            ok.append((s, path))
        elif problem:
            problems.append(problem)
    return ok, problems


def locate(settings: Settings, s: Source) -> tuple[Path | None, str]:
    """The verified file of one source (corpus/ first, then the mirror), or (None, the problem)."""
    limit = settings.max_source_bytes
    try:
        cands = [local_path(settings, s)]
        if settings.mirror:
            cands.append(contained(settings.mirror, s.path, what="mirror folder"))
    except SourceError as e:
        return None, f"{s.id}: {e} Skipped."
    found = [p for p in cands if p.exists()]
    if not found:
        return None, f"{s.id}: {s.path} is missing; run `policy-rag fetch` (or `--mirror DIR`)."
    refused: list[str] = []
    for p in found:
        try:
            if sha256_bounded(p, limit) == s.sha256:
                return p, ""
        except (SourceError, OSError) as e:
            refused.append(str(e))
    if refused and len(refused) == len(found):
        return None, f"{s.id}: {refused[0]} Skipped."
    return None, (f"{s.id}: {found[0]} does not match the manifest's sha256 {s.sha256[:12]}…; "
                  "run `policy-rag fetch` to get the listed version, or update corpus/sources.toml. Skipped.")
