"""The index: a folder that says how it was built. Build, save, load, search.

Layout of ``index/``::

    current -> build-20261123T101500Z     (symlink, swapped atomically)
    build-20261123T101500Z/
        manifest.json    format version, embedding model and dimension, chunking,
                         sources with their sha256, counts, timings
        passages.jsonl   one Passage per line; row i of the vectors is passage i
        index.faiss      FAISS inner-product index over normalised vectors (cosine)

A build is written to ``build-….tmp`` and renamed, then ``current`` is re-pointed:
an interrupted build leaves the last good index in use. An ingest holds ``.ingest.lock``
(``fcntl.flock``) throughout; the next one removes what an interrupted one left
(``build-*.tmp``, ``.current-<pid>``) and keeps only the newest builds. The keyword index (BM25 with
Dutch and English stemming and stopwords) is rebuilt on load; it takes well under a second.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import sys
import threading
import time
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .errors import IndexLockedError, IndexMismatchError, MissingIndexError
from .types import Lang, Passage

log = logging.getLogger(__name__)

FORMAT_VERSION = 1

# --- keyword tokenisation (BM25): both languages, stemmed, stopwords removed ----------

_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")


def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_DUTCH, STOPWORDS_EN

    return frozenset(STOPWORDS_EN) | frozenset(STOPWORDS_DUTCH) | {"shall", "zal", "worden", "wordt"}


_STOP: frozenset[str] | None = None
_STEMMERS: dict[str, object] = {}


def _stem(words: list[str], lang: str) -> list[str]:
    try:
        import Stemmer  # PyStemmer (Snowball)
    except ImportError:  # pragma: no cover - PyStemmer is a dependency; degrade to no stemming
        return words
    name = "dutch" if lang == "nl" else "english"
    if name not in _STEMMERS:
        _STEMMERS[name] = Stemmer.Stemmer(name)
    return _STEMMERS[name].stemWords(words)  # type: ignore[attr-defined]


def _fold(text: str) -> str:
    """Lowercase, accents stripped ("België" -> "belgie")."""
    t = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in t if not unicodedata.combining(c))


def tokenize(text: str, lang: str) -> list[str]:
    """Lowercase, strip accents, drop stopwords, stem in the text's language."""
    global _STOP
    if _STOP is None:
        _STOP = _stopwords()
    words: list[str] = []
    for w in _WORD.findall(_fold(text)):
        # a compound such as "ai-geletterdheid" counts as itself and as its parts
        for part in ([w, *w.split("-")] if "-" in w else [w]):
            if part not in _STOP and (len(part) > 1 or part.isdigit()):
                words.append(part)
    return _stem(words, lang)


def query_tokens(text: str, compounds: Decompounder | None = None) -> list[str]:
    """A question is stemmed both ways: a Dutch question may use English terms and vice versa.

    With ``compounds``, a Dutch compound that no passage contains also counts as its parts
    ("kredietwaardigheidsbeoordeling" -> "kredietwaardigheid", "beoordeling")."""
    toks = tokenize(text, "nl") + tokenize(text, "en")
    if compounds is not None:
        toks += compounds.part_stems(text)
    return list(dict.fromkeys(toks))


def _words(text: str) -> list[str]:
    """The words of a text as ``tokenize`` sees them (folded, hyphenated ones split), unstemmed."""
    return [w for part in _WORD.findall(_fold(text)) for w in part.split("-")]


class Decompounder:
    """Splits Dutch compounds into words of a vocabulary (the Dutch passages' words).

    Dutch writes compounds as one word, so a question's "kredietwaardigheidsbeoordeling" shares
    no keyword with the law's "de kredietwaardigheid ... beoordelen". A word the vocabulary does
    not have is split into two or more known words of at least ``min_part`` letters, allowing the
    linking "s", "e" and "en" between them; the longest first part wins. The last part may be
    an inflected form of a known word (compared by stem).
    """

    def __init__(self, words: Sequence[str], min_part: int = 4) -> None:
        self.vocab = frozenset(w for w in words if len(w) >= min_part and not w.isdigit())
        self.stems = frozenset(_stem(sorted(self.vocab), "nl"))  # the last part may be inflected
        self.min_part = min_part
        self._memo: dict[str, list[str]] = {}

    @classmethod
    def from_texts(cls, texts: Sequence[str]) -> Decompounder:
        return cls([w for t in texts for w in _words(t)])

    def split(self, word: str) -> list[str]:
        """The parts of ``word`` ([] if it is known or cannot be split)."""
        if word in self.vocab or len(word) < 2 * self.min_part:
            return []
        if word not in self._memo:
            self._memo[word] = self._split(word) or []
        return self._memo[word]

    def _split(self, word: str) -> list[str] | None:
        m = self.min_part
        for i in range(len(word) - m, m - 1, -1):
            head, tail = word[:i], word[i:]
            # without a linking "s"/"e"/"en" first: "veiligheidsfilters" -> "veiligheid", "filters"
            for h in (head[:-1] if head.endswith(("s", "e")) else "", head[:-2] if head.endswith("en") else "", head):
                if len(h) < m or h not in self.vocab:
                    continue
                if tail in self.vocab or _stem([tail], "nl")[0] in self.stems:
                    return [h, tail]
                rest = self._split(tail) if len(tail) >= 2 * m else None
                if rest:
                    return [h, *rest]
        return None

    def parts(self, text: str) -> list[str]:
        """The parts of every unknown compound in ``text``."""
        return [p for w in _words(text) for p in self.split(w)]

    def part_stems(self, text: str) -> list[str]:
        """The parts, as Dutch keyword tokens."""
        return tokenize(" ".join(self.parts(text)), "nl")


def twin_id(pid: str, lang: Lang) -> str:
    """The id of the same provision in the other language version of the document."""
    doc, _lang, rest = pid.split("/", 2)
    return f"{doc}/{lang}/{rest.split('~')[0]}"


class TermTranslator:
    """Translates keywords between Dutch and English with a dictionary learnt from the AI Act.

    The act exists in both languages with the same structure, so its provisions are ~1,100
    aligned passage pairs. A stem is translated to the other language's stem that co-occurs
    with it in aligned pairs most consistently (Dice coefficient): "kredietwaardig" ->
    "creditworthi", "gezichtsherkenn" -> "facial". BM25 can then rank the English-only guidelines
    for a Dutch question, and the Dutch-only omnibus for an English one.
    """

    def __init__(self, pairs: Sequence[tuple[str, str]], min_dice: float = 0.35, min_pairs: int = 2) -> None:
        self.min_dice = min_dice
        self.min_pairs = min_pairs
        # per pair and language: stem -> its first position in the passage, as a share of its length
        self._sets: dict[str, list[dict[str, float]]] = {"nl": [], "en": []}
        for nl, en in pairs:
            for lang, text in (("nl", nl), ("en", en)):
                toks = tokenize(text, lang)
                pos: dict[str, float] = {}
                for j, t in enumerate(toks):
                    pos.setdefault(t, j / max(1, len(toks) - 1))
                self._sets[lang].append(pos)
        self._post: dict[str, dict[str, list[int]]] = {"nl": {}, "en": {}}
        for lang, sets in self._sets.items():
            for i, positions in enumerate(sets):
                for t in positions:
                    self._post[lang].setdefault(t, []).append(i)
        self._memo: dict[tuple[str, str], list[str]] = {}

    @classmethod
    def from_passages(cls, passages: Sequence[Passage], doc: str = "ai-act") -> TermTranslator:
        texts: dict[tuple[str, str], list[str]] = {}  # (provision key, lang) -> its pieces' texts
        for p in passages:
            if p.doc == doc:
                texts.setdefault((twin_id(p.id, "en"), p.lang), []).append(p.text)
        pairs = [(" ".join(nl), " ".join(texts[(key, "en")])) for (key, lang), nl in texts.items()
                 if lang == "nl" and (key, "en") in texts]
        return cls(pairs)

    def translate(self, stem: str, source: str) -> list[str]:
        """The other language's stems for ``stem`` (at most two), best first."""
        key = (stem, source)
        if key not in self._memo:
            target = "en" if source == "nl" else "nl"
            rows = self._post[source].get(stem, [])
            counts: dict[str, int] = {}
            near: dict[str, float] = {}  # how close in position, summed over the pairs
            for i in rows:
                at = self._sets[source][i][stem]
                for t, pos in self._sets[target][i].items():
                    counts[t] = counts.get(t, 0) + 1
                    near[t] = near.get(t, 0.0) + 1.0 - abs(at - pos)
            # Dice says which words go together; with few pairs many tie, and the translation is
            # the one at the same place in the sentence (the texts are translated in order)
            scored = [(2 * c / (len(rows) + len(self._post[target][t])), near[t] / c, t)
                      for t, c in counts.items() if c >= self.min_pairs]
            best = sorted(scored, key=lambda x: (x[0] * x[1] ** 4, *x), reverse=True)
            self._memo[key] = [t for d, _, t in best[:2] if d >= self.min_dice]
        return self._memo[key]

    def query(self, text: str, source: str, compounds: Decompounder | None = None) -> list[str]:
        """The stems of ``text`` (in ``source``), translated; words without a translation are left out."""
        toks = tokenize(text, source)
        if compounds is not None and source == "nl":
            toks += compounds.part_stems(text)
        return list(dict.fromkeys(t for s in toks for t in self.translate(s, source)))


# --- the index ---------------------------------------------------------------------


@dataclass
class Index:
    passages: list[Passage]
    vectors: np.ndarray  # (n, dim), float32, L2-normalised
    manifest: dict = field(default_factory=dict)
    path: Path | None = None
    # further files of the build, name -> text (amend.py: application_dates.json, amendments.json)
    extras: dict[str, str] = field(default_factory=dict)
    _faiss: object = None
    _bm25: object = None
    _compounds: Decompounder | None = None
    _translator: TermTranslator | None = None
    _only_in: dict[str, str] | None = None  # doc -> its only language
    _by_id: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_id = {p.id: i for i, p in enumerate(self.passages)}

    # -- lookup
    def get(self, pid: str) -> Passage | None:
        i = self._by_id.get(pid)
        return self.passages[i] if i is not None else None

    def position(self, pid: str) -> int | None:
        return self._by_id.get(pid)

    @property
    def application_dates(self) -> list:
        """The ApplicationDate rows built at ingest (Article 113 as amended); [] for an index without."""
        from .amend import load_application_dates

        return load_application_dates(self.path) if self.path is not None else []

    # -- dense
    @property
    def faiss_index(self):
        if self._faiss is None:
            import faiss

            idx = faiss.IndexFlatIP(self.vectors.shape[1])
            idx.add(np.ascontiguousarray(self.vectors, dtype=np.float32))
            self._faiss = idx
        return self._faiss

    def dense_search(self, qvec: np.ndarray, k: int) -> list[tuple[int, float]]:
        if not self.passages:
            return []
        scores, ids = self.faiss_index.search(np.asarray(qvec, dtype=np.float32).reshape(1, -1), min(k, len(self.passages)))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0 and s > 0]  # > 0: related at all

    # -- keyword
    @property
    def bm25(self):
        if self._bm25 is None:
            import bm25s

            logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every build at DEBUG
            corpus = [tokenize(p.embed_text(), p.lang) for p in self.passages]
            r = bm25s.BM25()
            r.index(corpus, show_progress=False)
            self._bm25 = r
        return self._bm25

    @property
    def compounds(self) -> Decompounder:
        if self._compounds is None:
            self._compounds = Decompounder.from_texts([p.text for p in self.passages if p.lang == "nl"])
        return self._compounds

    def keyword_search(self, text: str, k: int, lang: str | None = None) -> list[tuple[int, float]]:
        """BM25 over both languages; a Dutch question's unknown compounds also count as their parts."""
        toks = query_tokens(text, self.compounds if lang == "nl" else None)
        if not toks or not self.passages:
            return []
        vocab = self.bm25.vocab_dict
        toks = [t for t in toks if t in vocab]
        if not toks:
            return []
        docs, scores = self.bm25.retrieve([toks], k=min(k, len(self.passages)), show_progress=False)
        return [(int(i), float(s)) for i, s in zip(docs[0], scores[0]) if s > 0]

    @property
    def translator(self) -> TermTranslator:
        if self._translator is None:
            self._translator = TermTranslator.from_passages(self.passages)
        return self._translator

    @property
    def only_in(self) -> dict[str, str]:
        """doc -> its language, for the documents that exist in one language only."""
        if self._only_in is None:
            langs: dict[str, set[str]] = {}
            for p in self.passages:
                langs.setdefault(p.doc, set()).add(p.lang)
            self._only_in = {d: next(iter(ls)) for d, ls in langs.items() if len(ls) == 1}
        return self._only_in

    def translated_search(self, text: str, k: int, lang: str) -> list[tuple[int, float]]:
        """BM25 with the question's keywords translated to the other language, over the
        documents that exist only in that language (``lang`` is the question's): the English
        guidelines for a Dutch question, the Dutch omnibus for an English one."""
        other = "en" if lang == "nl" else "nl"
        only_in = self.only_in
        vocab = self.bm25.vocab_dict
        toks = [t for t in self.translator.query(text, lang, self.compounds) if t in vocab]
        if not toks or not self.passages:
            return []
        docs, scores = self.bm25.retrieve([toks], k=min(4 * k, len(self.passages)), show_progress=False)
        return [(int(i), float(s)) for i, s in zip(docs[0], scores[0])
                if s > 0 and only_in.get(self.passages[int(i)].doc) == other][:k]

    def langs(self) -> set[Lang]:
        return {p.lang for p in self.passages}


# --- save / load -------------------------------------------------------------------


def _current(index_dir: Path) -> Path:
    return index_dir / "current"


# --- test hook: pause at a named stage so a test can kill -9 the process there ---------

PAUSE_ENV = "POLICY_RAG_TEST_PAUSE_AT"  # test-only: "parse" | "embed" | "write" | "switch"


def pause_point(stage: str) -> None:
    """If the test-only variable names ``stage``, say so on stderr and sleep (to be killed there)."""
    if os.environ.get(PAUSE_ENV) == stage:
        print(f"policy-rag: paused at {stage} (pid {os.getpid()})", file=sys.stderr, flush=True)
        time.sleep(float(os.environ.get("POLICY_RAG_TEST_PAUSE_SECONDS", "60")))


# --- the build lock: one ingest at a time per index folder ------------------------------

LOCK_NAME = ".ingest.lock"
# resolved index folder -> (fd, depth, owning thread): re-entrant for the thread that holds it
_held: dict[str, tuple[int, int, int]] = {}
_held_guard = threading.Lock()


def _lock_holder(fd: int) -> str:
    try:
        return os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "?"
    except OSError:
        return "?"


def _locked_error(index_dir: Path, pid: str) -> IndexLockedError:
    return IndexLockedError(
        f"Another ingest is running (pid {pid}) on the index {index_dir}. Wait for it to finish and retry "
        "(or set POLICY_RAG_INGEST_LOCK_WAIT to a number of seconds to wait).")


@contextlib.contextmanager
def build_lock(index_dir: Path, wait: float = 0.0) -> Iterator[None]:
    """Hold the exclusive lock of ``index_dir`` (``fcntl.flock`` on ``.ingest.lock``).

    A second ingest waits up to ``wait`` seconds, then stops with a message naming the pid of
    the one running. The lock is released by the kernel when its holder dies (kill -9 too), so a
    crashed ingest never leaves a stale lock. Re-entrant for the thread that holds it; another
    thread of the same process waits like another process.
    """
    import fcntl

    index_dir.mkdir(parents=True, exist_ok=True)
    key = str(index_dir.resolve())
    me = threading.get_ident()
    deadline = time.monotonic() + max(0.0, wait)
    reentered = False
    while True:
        with _held_guard:
            held = _held.get(key)
            if held is None:
                break
            if held[2] == me:
                _held[key] = (held[0], held[1] + 1, me)
                reentered = True
                break
        if time.monotonic() >= deadline:
            raise _locked_error(index_dir, str(os.getpid()))
        time.sleep(0.2)
    if reentered:
        try:
            yield
        finally:
            with _held_guard:
                fd, depth, owner = _held[key]
                _held[key] = (fd, depth - 1, owner)
        return
    fd = os.open(index_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _locked_error(index_dir, _lock_holder(fd)) from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        with _held_guard:
            _held[key] = (fd, 1, me)
        try:
            yield
        finally:
            with _held_guard:
                _held.pop(key, None)
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _holds_lock(index_dir: Path) -> bool:
    with _held_guard:
        return str(index_dir.resolve()) in _held


# --- save / recover / prune ----------------------------------------------------------------


def _complete(build: Path) -> bool:
    return all((build / fn).is_file() for fn in ("manifest.json", "passages.jsonl", "index.faiss"))


def _builds(index_dir: Path) -> list[Path]:
    """The finished build folders, oldest first (their names are UTC timestamps)."""
    return sorted(d for d in index_dir.glob("build-*") if d.is_dir() and not d.name.endswith(".tmp")
                  and not d.is_symlink())


def recover(index_dir: Path) -> list[str]:
    """Clean what interrupted ingests left; call with the lock held. Returns what was done.

    Removes unfinished ``build-*.tmp`` folders and stray ``.current-<pid>`` links, and if
    ``current`` points at a missing or incomplete build, re-points it at the newest complete one.
    """
    if not _holds_lock(index_dir):
        raise RuntimeError("recover() needs the build lock (index.build_lock)")
    done: list[str] = []
    if not index_dir.is_dir():
        return done
    for d in index_dir.glob("build-*.tmp"):
        if d.is_dir() and not d.is_symlink():
            shutil.rmtree(d, ignore_errors=True)
        else:
            d.unlink(missing_ok=True)
        done.append(f"removed the unfinished build {d.name}")
    for link in index_dir.glob(".current-*"):
        link.unlink(missing_ok=True)
        done.append(f"removed the stray link {link.name}")
    cur = _current(index_dir)
    if cur.is_symlink() and not _complete(cur.resolve()):
        good = [b for b in _builds(index_dir) if _complete(b)]
        if good:
            _point_current(index_dir, good[-1])
            done.append(f"`current` pointed at a missing build; re-pointed at {good[-1].name}")
    for msg in done:
        log.info("index %s: %s", index_dir, msg)
    return done


def _point_current(index_dir: Path, build: Path) -> None:
    link_tmp = index_dir / f".current-{os.getpid()}"
    if link_tmp.is_symlink() or link_tmp.exists():
        link_tmp.unlink()
    link_tmp.symlink_to(build.name)
    pause_point("switch")
    os.replace(link_tmp, _current(index_dir))
    _fsync_dir(index_dir)


def _fsync_dir(d: Path) -> None:
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save(index: Index, index_dir: Path, *, keep: int = 2) -> Path:
    """Write the index as a new build folder, then atomically point ``current`` at it.

    Holds the build lock (re-entrant: ingest holds it already). Afterwards only the newest
    ``keep`` builds are kept; the one ``current`` points at is never removed.
    """
    import faiss

    with build_lock(index_dir):
        recover(index_dir)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        final = index_dir / f"build-{stamp}"
        tmp = index_dir / f"build-{stamp}.tmp"
        tmp.mkdir()
        try:
            with (tmp / "passages.jsonl").open("w", encoding="utf-8") as f:
                for p in index.passages:
                    f.write(json.dumps(p.to_dict(), ensure_ascii=False) + "\n")
            faiss.write_index(index.faiss_index, str(tmp / "index.faiss"))
            pause_point("write")
            (tmp / "manifest.json").write_text(json.dumps(index.manifest, indent=2, ensure_ascii=False),
                                               encoding="utf-8")
            extras = {n: t for n, t in index.extras.items() if re.fullmatch(r"[a-z_]+\.json", n)}
            for fn, text in extras.items():
                (tmp / fn).write_text(text, encoding="utf-8")
            for fn in ("passages.jsonl", "index.faiss", "manifest.json", *extras):
                with (tmp / fn).open("rb") as fh:
                    os.fsync(fh.fileno())
            tmp.rename(final)
            _fsync_dir(index_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _point_current(index_dir, final)
        index.path = final
        prune(index_dir, keep=keep)
    return final


def prune(index_dir: Path, keep: int = 2) -> list[str]:
    """Keep the newest ``keep`` finished builds (at least 1) and the one ``current`` points at.

    Removes nothing unless this process holds the build lock: another ingest may be writing
    or switching to a build.
    """
    if not _holds_lock(index_dir):
        log.warning("index %s: not pruned (the build lock is not held)", index_dir)
        return []
    cur = _current(index_dir)
    target = cur.resolve() if cur.is_symlink() else None
    builds = _builds(index_dir)
    keep_set = set(builds[-max(1, keep):])
    removed = []
    for d in builds:
        if d in keep_set or (target is not None and d.resolve() == target):
            continue
        shutil.rmtree(d, ignore_errors=True)
        removed.append(d.name)
    return removed


def load(index_dir: Path, *, expect: dict | None = None) -> Index:
    """Load the current build. ``expect`` (model_id, dim, ...) must match the manifest."""
    cur = _current(index_dir)
    if not cur.exists():
        raise MissingIndexError(
            f"No index in {index_dir}. Build it with `policy-rag ingest` (or `make setup`).")
    path = cur.resolve()
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"The index in {index_dir} has format version {manifest.get('format_version')}, this policy-rag "
            f"reads version {FORMAT_VERSION}. Rebuild it: `policy-rag ingest --rebuild`.")
    for key, want in (expect or {}).items():
        got = manifest.get(key)
        if key == "model_id" and got != want:
            _check_embedding(index_dir, manifest, want)
        elif got != want:
            raise IndexMismatchError(
                f"The index in {index_dir} was built with {key}={got!r}, but the settings ask for {want!r}. "
                "Rebuild it with `policy-rag ingest` (or point POLICY_RAG_INDEX at a matching index).")
    import faiss

    t = time.perf_counter()
    with (path / "passages.jsonl").open(encoding="utf-8") as f:
        passages = [Passage.from_dict(json.loads(line)) for line in f]
    fidx = faiss.read_index(str(path / "index.faiss"))
    vectors = fidx.reconstruct_n(0, fidx.ntotal) if fidx.ntotal else np.zeros((0, manifest.get("dim", 1)), np.float32)
    if len(passages) != fidx.ntotal:
        raise IndexMismatchError(
            f"The index in {path} is inconsistent ({len(passages)} passages, {fidx.ntotal} vectors). "
            "Rebuild it with `policy-rag ingest --rebuild`.")
    idx = Index(passages=passages, vectors=vectors, manifest=manifest, path=path, _faiss=fidx)
    log.info("loaded index %s (%d passages) in %.2fs", path.name, len(passages), time.perf_counter() - t)
    return idx


def _check_embedding(index_dir: Path, manifest: dict, want: str) -> None:
    """A query embedded as ``want`` may search vectors of the same model in a compatible variant
    (compute.COMPATIBLE); anything else is refused with the settings to change and the rebuild."""
    from .compute import compatible, split_model_id

    got = manifest.get("model_id") or ""
    if compatible(got, want):
        return
    (gname, gtag, gprompts), (wname, wtag, wprompts) = split_model_id(got), split_model_id(want)
    if (gname, gprompts) == (wname, wprompts):
        raise IndexMismatchError(
            f"The index in {index_dir} was built with the embedding variant {gtag!r}, whose vectors cannot be "
            f"compared with the {wtag!r} vectors the settings make. Set POLICY_RAG_EMBED_BACKEND / "
            f"POLICY_RAG_EMBED_DTYPE to match the index, or rebuild it with this variant: "
            "`policy-rag ingest --rebuild`.")
    raise IndexMismatchError(
        f"The index in {index_dir} was built with model_id={got!r}, but the settings ask for {want!r}. "
        "Rebuild it with `policy-rag ingest --rebuild` (or point POLICY_RAG_INDEX at a matching index).")


def note_inputs(path: Path | str, inputs_key: str) -> None:
    """Record in a build's manifest that it was also made from these inputs (an ingest whose
    passages came out the same as the build's): written to a temporary file, then renamed."""
    f = Path(path) / "manifest.json"
    manifest = json.loads(f.read_text(encoding="utf-8"))
    manifest["inputs_key"] = inputs_key
    tmp = f.with_name(f".manifest.json.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, f)


def build_manifest(*, model_id: str, dim: int, max_words: int, sources: Sequence[dict],
                   counts: dict, timings: dict, embedding: dict | None = None, inputs_key: str = "",
                   warnings: Sequence[str] = ()) -> dict:
    """``embedding``: the variant that computed the vectors (backend, dtype, quantization, why, CPU).
    ``inputs_key``: ingest.inputs_key of what the passages were made from (a re-ingest with the same
    key reuses the index without parsing); ``warnings``: the ingest's, shown again by such a re-ingest."""
    return {
        "inputs_key": inputs_key,
        "warnings": list(warnings),
        "format_version": FORMAT_VERSION,
        "model_id": model_id,
        "embedding": embedding or {},
        "dim": dim,
        "chunking": {"max_words": max_words, "unit": "provision (paragraph/point/recital/definition/annex point)"},
        "sources": list(sources),
        "counts": counts,
        "timings": timings,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
