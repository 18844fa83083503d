"""The policy-rag Gradio app: a Dutch-first chat with checked citations, "Waar wordt dit
geciteerd?", and the evaluator's view. Thin over :class:`policy_rag.assistant.Assistant`.

    policy-rag serve                # http://127.0.0.1:7860
    python app.py --port 7861

Everything the user reads is in :mod:`policy_rag.ui_text`. The HTML of cards and lookups is
built here from escaped text only. Gradio's queue runs one generation at a time
(llama.cpp serialises anyway); ``gradio_client`` can call ``/answer`` (question, backend)
and ``/cite`` (query).
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import csv  # noqa: E402
import html  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import re  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator, Sequence  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any

import gradio as gr  # noqa: E402

from policy_rag import inforce, legal, verdict, websec  # noqa: E402
from policy_rag import ui_text as ui  # noqa: E402
from policy_rag.answer import InvalidQuestion  # noqa: E402
from policy_rag.assistant import Assistant, CiteResult  # noqa: E402
from policy_rag.errors import PolicyRagError  # noqa: E402
from policy_rag.lang import detect_language  # noqa: E402
from policy_rag.prompts import INPUT_ERRORS  # noqa: E402
from policy_rag.settings import REPO_ROOT, Settings  # noqa: E402
from policy_rag.types import Answer, Citation, Lang, Passage  # noqa: E402
from policy_rag.ui_text import t  # noqa: E402

log = logging.getLogger("policy_rag.app")

EvalRunner = Callable[[str | None, int | None, str], list[dict[str, Any]]]

DEFAULT_MARKS = REPO_ROOT / "eval" / "marks.json"
DEFAULT_QUESTIONS = REPO_ROOT / "eval" / "questions.jsonl"
GENERATE = "generate"  # one concurrency group for everything that generates
MAX_CITE_QUERY = 300
STREAM_EVERY = 0.1  # seconds between chat updates while the model writes

CSS = """
.pr-disclaimer{border-left:4px solid #b08900;background:#fff8e1;color:#4a3b00;padding:.5em .8em;border-radius:4px}
.pr-notice{border-left:4px solid #5b7083;background:#f1f4f7;color:#1f2d3a;padding:.6em .9em;border-radius:4px;margin:.4em 0}
.pr-warn{border-left-color:#b08900;background:#fff8e1;color:#4a3b00}
.pr-error{border-left-color:#b3261e;background:#fdecea;color:#5f1410}
.pr-status{color:#555;font-size:.9em;margin:.3em 0}
.pr-verdict{font-size:1.1em;margin:.4em 0}
.pr-card{border:1px solid #d0d7de;border-radius:6px;padding:.7em .9em;margin:.6em 0;background:#fff;color:#1f2328}
.pr-card-head{display:flex;gap:.5em;align-items:baseline;flex-wrap:wrap}
.pr-n{font-weight:700;color:#0b57d0}
.pr-title{color:#555}
.pr-badge{font-size:.75em;border:1px solid #aaa;border-radius:3px;padding:0 .3em;color:#555}
.pr-context{color:#555;font-style:italic;margin:.3em 0 0}
.pr-text{margin:.4em 0;line-height:1.5}
.pr-text mark{background:#ffe58f;color:inherit;padding:0 .1em}
.pr-meta{font-size:.85em;color:#555}
.pr-twin{margin-top:.4em}
.pr-twin summary{cursor:pointer;color:#0b57d0}
.pr-cite-cols{display:grid;grid-template-columns:1fr 1fr;gap:1em}
.pr-ref li{margin:.3em 0}
.pr-lang{font-size:.75em;border:1px solid #aaa;border-radius:3px;padding:0 .25em;margin-right:.3em;color:#555}
"""


# ---------------------------------------------------------------------------------------- HTML


def _e(s: object) -> str:
    return html.escape("" if s is None else str(s), quote=True)


def safe_url(url: str | None) -> str:
    """The URL if it is an http(s) link, else "" (no javascript: or data: links in the page)."""
    u = (url or "").strip()
    return u if re.match(r"^https?://[^\s\"'<>]+$", u, re.IGNORECASE) else ""


def _link(url: str | None, text: str) -> str:
    """A link to a source's official text; any other URL (a host not in the manifest, a
    script or data URL) is shown as text."""
    u = websec.official_url(safe_url(url))
    if not u:
        return _e(text)
    return f'<a href="{_e(u)}" target="_blank" rel="noopener noreferrer">{_e(text)}</a>'


def highlight(text: str, quote: str) -> tuple[str, bool]:
    """``text`` as HTML with ``quote`` wrapped in <mark>; both escaped. Whitespace and case
    differences between quote and text are tolerated. Returns (html, found)."""
    quote = (quote or "").strip().strip("“”\"'").strip()
    if not quote:
        return _e(text), False
    start = text.find(quote)
    end = start + len(quote)
    if start < 0:
        words = quote.split()
        m = re.search(r"\s+".join(re.escape(w) for w in words), text, re.IGNORECASE) if words else None
        if m is None:
            return _e(text), False
        start, end = m.span()
    return f"{_e(text[:start])}<mark>{_e(text[start:end])}</mark>{_e(text[end:])}", True


def _ui_lang(lang: object) -> Lang:
    return "en" if lang == "en" else "nl"


def citation_card(c: Citation, twin: Passage | None, lang: Lang) -> str:
    """One source as a card: label, the quote highlighted in its paragraph, document and
    version, a link to the official text at that paragraph, the other language in a <details>."""
    p = c.passage
    body, found = highlight(p.text, c.quote)
    quote_line = "" if found or not c.quote else (
        f'<p class="pr-text"><em>{_e(t(lang, "card_quote_missing"))}</em> <mark>{_e(c.quote)}</mark></p>')
    badge = t(lang, "card_binding" if p.binding else "card_guidance")
    other: Lang = "en" if p.lang == "nl" else "nl"
    if twin is not None:
        twin_html = (
            f'<details class="pr-twin"><summary>{_e(t(lang, f"card_twin_{other}"))}: {_e(twin.label)}</summary>'
            f'<p class="pr-text" lang="{_e(twin.lang)}">{_e(twin.text)}</p>'
            f'<div class="pr-meta">{_link(twin.url, t(lang, "card_official"))} ↗</div></details>'
        )
    else:
        twin_html = f'<div class="pr-meta pr-no-twin">{_e(t(lang, f"card_no_twin_{other}"))}</div>'
    context = f'<p class="pr-context">{_e(p.context)}</p>' if p.context else ""
    version = f" · {_e(t(lang, 'card_version'))}: {_e(p.version)}" if p.version else ""
    twin_html += versions_html(c, lang)
    return (
        f'<div class="pr-card" id="pr-cite-{c.n}" data-passage="{_e(p.id)}">'
        f'<div class="pr-card-head"><span class="pr-n">[{c.n}]</span> <strong class="pr-label">{_e(p.label)}</strong>'
        f' <span class="pr-title">{_e(p.title)}</span> <span class="pr-badge">{_e(badge)}</span></div>'
        f'{context}<p class="pr-text" lang="{_e(p.lang)}">{body}</p>{quote_line}'
        f'<div class="pr-meta">{_e(ui.doc_name(p.doc, lang))}{version} · '
        f'{_link(p.url, t(lang, "card_official"))} ↗</div>{twin_html}</div>'
    )


def versions_html(c: Citation, lang: Lang) -> str:
    """The amending provisions (linked) and the other wordings of the cited provision with their
    dates, each one click away (a <details>)."""
    parts = []
    if c.amended_by:
        links = " · ".join(f'{_e(r.get("act", ""))}, {_e(r.get("point", ""))}: {_link(r.get("url"), r.get("label", ""))} ↗'
                           for r in c.amended_by)
        parts.append(f'<div class="pr-meta pr-amended-by">{_e(t(lang, "card_amended_by"))}: {links}</div>')
    others = [v for v in c.versions if not v.get("this")]
    if others:
        items = "".join(
            f'<details class="pr-version" data-version="{_e(v["id"])}"><summary>'
            f'{_e(t(lang, "card_version_period", label=v["label"], period=_period(v, lang)))}</summary>'
            f'<p class="pr-text">{_e(v["text"])}</p>'
            f'<div class="pr-meta">{_link(v.get("url"), t(lang, "card_official"))} ↗</div></details>'
            for v in others)
        parts.append(f'<div class="pr-versions"><strong>{_e(t(lang, "card_versions"))}</strong>{items}</div>')
    return "".join(parts)


def _period(v: dict[str, Any], lang: Lang) -> str:
    return inforce.period(Passage(id=v["id"], doc="", lang=lang, provision="", label="", title="", url="", text="",
                                  valid_from=v.get("valid_from", ""), valid_to=v.get("valid_to", "")), lang)


def notice(title: str, body: str, kind: str = "info") -> str:
    """A boxed message: "info" (neutral, e.g. a refusal), "warn" (bad input), "error"."""
    cls = {"info": "pr-notice", "refusal": "pr-notice pr-refusal", "warn": "pr-notice pr-warn",
           "error": "pr-notice pr-error"}[kind]
    return f'<div class="{cls}" role="status"><strong>{_e(title)}</strong><br>{_e(body)}</div>'


def backend_name(backend: str, lang: Lang) -> str:
    return t(lang, f"used_{backend}") if backend in ("local", "hosted", "none") else backend


def answer_panel(a: Answer, twins: Sequence[Passage | None]) -> str:
    """Everything under the chat for one answer: backend used, refusal notice, notes, cards."""
    lang = _ui_lang(a.language)
    parts = [f'<div class="pr-status" data-backend="{_e(a.backend)}">'
             f'{_e(t(lang, "backend_used", backend=backend_name(a.backend, lang)))}'
             f' · {_e(t(lang, "timings", total=a.timings.get("total", 0.0)))}'
             + (f' · <span class="pr-on" data-on="{_e(a.on)}">'
                f'{_e(t(lang, "on_used", date=inforce.long_date(a.on, lang)))}</span>' if a.on else "")
             + '</div>']
    if a.verdict and not a.refused:  # the short answer (verdict.py), as the answer's first line says it
        quotes = [(c.quote, c.passage.lang, c.passage.context) for c in a.citations]
        parts.append(f'<div class="pr-verdict" data-verdict="{_e(a.verdict)}"><strong>'
                     f'{_e(verdict.SHORT_ANSWER[lang])}:</strong> {_e(verdict.line(a.verdict, lang, quotes).rstrip("."))}</div>')
    if a.refused:
        body = t(lang, "refusal_body")
        if a.refusal_reason:
            body += " " + t(lang, "refusal_reason", reason=t(lang, f"reason_{a.refusal_reason}"))
        parts.append(notice(t(lang, "refusal_title"), body, "refusal"))
    if a.notes:
        items = "".join(f"<li>{_e(n)}</li>" for n in a.notes)
        parts.append(f'<div class="pr-notice pr-warn pr-notes"><strong>{_e(t(lang, "notes_title"))}</strong>'
                     f"<ul>{items}</ul></div>")
    if a.citations:
        parts.append(f'<h3 class="pr-sources">{_e(t(lang, "sources_title", n=len(a.citations)))}</h3>')
        parts.extend(citation_card(c, tw, lang) for c, tw in zip(a.citations, twins))
    return "\n".join(parts)


# Markdown that could load or link something: images and links ``![x](u)`` ``[x](u)`` ``[x]: u``,
# autolinks ``<u>``, bare ``http://`` / ``www.`` / ``a@b`` links, and backslash tricks; written
# as character references, which Markdown shows as the characters and never parses as syntax.
_MD_ENTITIES = {"[": "&#91;", "]": "&#93;", "(": "&#40;", ")": "&#41;", "!": "&#33;", ":/": "&#58;/",
                "@": "&#64;", "\\": "&#92;", "$": "&#36;", "`": "&#96;"}
_MD_RE = re.compile("|".join(re.escape(k) for k in _MD_ENTITIES) + r"|(?i:www)\.")


def _md(text: str) -> str:
    """Text for the chatbot (Markdown): no HTML gets through, control characters go, and no
    Markdown image, link, autolink or bare URL is left to render (so nothing is fetched or linked)."""
    text = "".join(ch for ch in text if ch in "\n\t" or ord(ch) >= 32)
    text = html.escape(text, quote=False)
    return _MD_RE.sub(lambda m: _MD_ENTITIES.get(m.group(0)) or m.group(0)[:-1] + "&#46;", text)


def answer_message(a: Answer) -> str:
    lang = _ui_lang(a.language)
    if a.refused:
        return f"ℹ️ **{_md(t(lang, 'refusal_title'))}**\n\n{_md(a.text)}"
    return _md(a.text)


def _passage_item(p: Passage, lang: Lang, needle: str | None = None, max_chars: int = 420) -> str:
    text = p.text
    if needle:
        i = text.lower().find(needle.lower())
        if i > max_chars // 2:
            text = "… " + text[i - max_chars // 3:]
    if len(text) > max_chars:
        text = text[:max_chars].rsplit(" ", 1)[0] + " …"
    body = highlight(text, needle)[0] if needle else _e(text)
    kind = f' <span class="pr-badge">{_e(p.kind)}</span>' if p.kind else ""
    return (f'<li data-passage="{_e(p.id)}"><span class="pr-lang">{_e(p.lang.upper())}</span>'
            f'{_link(p.url, p.label)}{kind}<br><span class="pr-text">{body}</span></li>')


def cite_html(res: CiteResult, lang: Lang) -> str:
    """The lookup result: the provision's own text (NL and EN), then the referring passages by document."""
    parts: list[str] = []
    n = sum(len(v) for v in res.referring.values())
    d = len(res.referring)
    if res.provision:
        label = legal.label(res.provision, lang)
        parts.append(f'<h3 class="pr-own-title">{_e(t(lang, "cite_own", label=label))}</h3>')
        if res.own:
            cols = []
            for pl in ("nl", "en"):
                own = [p for p in res.own if p.lang == pl]
                items = "".join(
                    f'<div class="pr-card" data-passage="{_e(p.id)}"><div class="pr-card-head">'
                    f'<strong class="pr-label">{_e(p.label)}</strong> <span class="pr-title">{_e(p.title)}</span>'
                    f'</div><p class="pr-text" lang="{_e(p.lang)}">{_e(p.text)}</p>'
                    f'<div class="pr-meta">{_link(p.url, t(lang, "card_official"))} ↗</div></div>'
                    for p in own)
                cols.append(f'<div class="pr-own pr-own-{pl}"><h4>{_e(t(lang, f"cite_own_lang_{pl}"))}</h4>'
                            f'{items or _e(t(lang, "cite_own_none"))}</div>')
            parts.append(f'<div class="pr-cite-cols">{"".join(cols)}</div>')
        else:
            parts.append(notice(label, t(lang, "cite_own_none")))
        parts.append(f'<h3 class="pr-ref-title">{_e(t(lang, "cite_referring", label=label, n=n, d=d))}</h3>')
        needle = None
    else:
        parts.append(f'<h3 class="pr-ref-title">{_e(t(lang, "cite_phrase", query=res.query, n=n, d=d))}</h3>')
        needle = res.query.strip()
    if not res.referring:
        parts.append(f'<p class="pr-none">{_e(t(lang, "cite_none"))}</p>')
    for doc, ps in res.referring.items():
        items = "".join(_passage_item(p, lang, needle) for p in ps)
        parts.append(f'<details class="pr-ref" open data-doc="{_e(doc)}"><summary><strong>'
                     f'{_e(ui.doc_name(doc, lang))}</strong> ({len(ps)})</summary><ul>{items}</ul></details>')
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------- evaluation


def load_questions(path: Path = DEFAULT_QUESTIONS) -> list[dict[str, Any]]:
    if not Path(path).is_file():
        raise PolicyRagError(f"The evaluation set {path} does not exist.")
    out = []
    for i, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise PolicyRagError(f"{path}, line {i}: not valid JSON ({e}). Fix the line and retry.") from e
    return out


def gold_matches(gold: str, citation_doc: str, citation_provision: str) -> bool:
    """Does a citation (doc, provision) match a gold item "doc:provision" (hierarchically)?"""
    doc, _, prov = gold.partition(":") if ":" in gold else ("", "", gold)
    if doc and doc != citation_doc:
        return False
    return legal.matches(prov, citation_provision)


def score_answer(q: dict[str, Any], a: Answer | None, latency: float, error: str | None = None) -> dict[str, Any]:
    """One row of the evaluator's table: the answer, its citations, gold and simple automatic scores."""
    gold = list(q.get("gold") or [])
    answerable = bool(q.get("answerable", True))
    cites = [(c.passage.doc, c.passage.provision) for c in (a.citations if a else [])]
    hits = [g for g in gold if any(gold_matches(g, d, p) for d, p in cites)]
    refused = bool(a.refused) if a else None
    return {
        "id": q.get("id", ""),
        "lang": q.get("lang", ""),
        "question": q.get("question", ""),
        "answerable": answerable,
        "backend": a.backend if a else "",
        "answer": a.text if a else "",
        "refused": refused,
        "citations": [f"{d}:{p}" for d, p in cites],
        "quotes": [c.quote for c in a.citations] if a else [],
        "gold": gold,
        "key_points": list(q.get("key_points") or []),
        "gold_hit": (bool(hits) if gold else None) if answerable and a and not a.refused else (
            False if answerable and gold else None),
        "gold_recall": round(len(hits) / len(gold), 3) if gold else None,
        "refusal_correct": (refused == (not answerable)) if refused is not None else False,
        "latency_s": round(latency, 3),
        "notes": list(a.notes) if a else [],
        "error": error,
    }


def default_eval_runner(assistant: Assistant, questions_path: Path = DEFAULT_QUESTIONS) -> EvalRunner:
    """Runs the evaluation set (or a part) through ``assistant.ask`` and scores each answer."""

    def run(lang: str | None, limit: int | None, backend: str) -> list[dict[str, Any]]:
        qs = load_questions(questions_path)
        if lang in ("nl", "en"):
            qs = [q for q in qs if q.get("lang") == lang]
        if limit:
            qs = qs[: int(limit)]
        rows = []
        for q in qs:
            t0 = time.perf_counter()
            try:
                a, err = assistant.ask(q["question"], backend), None
            except PolicyRagError as e:
                a, err = None, str(e)
            rows.append(score_answer(q, a, time.perf_counter() - t0, err))
        return rows

    return run


class MarksStore:
    """The evaluator's faithfulness marks, kept in a JSON file (written atomically) so they
    survive a restart. A mark belongs to one question answered by one backend.

    Several worker processes may share the file (``policy-rag serve --workers N``): a mark is
    written under an exclusive lock on ``<file>.lock``, merged into what is on disk at that
    moment, and every read picks up what the other workers wrote since."""

    def __init__(self, path: Path | str = DEFAULT_MARKS) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._seen: tuple[int, ...] | None = None  # (inode, mtime_ns, size) of the file last read
        self.marks: dict[str, dict[str, Any]] = self._load()

    @staticmethod
    def key(qid: str, backend: str) -> str:
        return f"{qid}@{backend}"

    def _stamp(self) -> tuple[int, ...] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def _load(self) -> dict[str, dict[str, Any]]:
        if not self.path.is_file():
            return {}
        try:
            self._seen = self._stamp()
            data = json.loads(self.path.read_text(encoding="utf-8"))
            marks = data.get("marks", {}) if isinstance(data, dict) else {}
            return {k: v for k, v in marks.items() if isinstance(v, dict)}
        except (OSError, ValueError) as e:
            aside = self.path.with_name(f"{self.path.name}.unreadable-{int(time.time())}")
            log.warning("Marks file %s is unreadable (%s): moved it to %s and starting empty.", self.path, e, aside)
            try:
                self.path.rename(aside)
            except OSError:
                pass
            return {}

    def _refresh(self) -> None:
        """Re-read the file if another process changed it since."""
        if self._stamp() != self._seen:
            self.marks = self._load()

    def get(self, qid: str, backend: str) -> dict[str, Any] | None:
        with self._lock:
            self._refresh()
            return self.marks.get(self.key(qid, backend))

    def set(self, qid: str, backend: str, mark: str, comment: str = "", answer: str = "") -> None:
        if mark not in ui.MARKS:
            raise PolicyRagError(f"Unknown mark {mark!r}: choose one of {', '.join(ui.MARKS)}.")
        import fcntl

        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path.with_name(self.path.name + ".lock"), "a+b") as lockf:
                fcntl.flock(lockf, fcntl.LOCK_EX)  # released when the file closes
                self.marks = self._load()  # what the other workers wrote
                self.marks[self.key(qid, backend)] = {
                    "id": qid, "backend": backend, "mark": mark, "comment": comment or "", "answer": answer,
                    "marked_at": datetime.now(UTC).isoformat(timespec="seconds"),
                }
                # a new file of our own in the marks folder (never a name planted there, nor a
                # symlink followed out of it), then renamed over the marks file
                fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
                try:
                    with os.fdopen(fd, "w", encoding="utf-8") as f:
                        f.write(json.dumps({"version": 1, "marks": self.marks}, ensure_ascii=False, indent=1))
                    os.replace(tmp, self.path)
                except BaseException:
                    Path(tmp).unlink(missing_ok=True)
                    raise
                self._seen = self._stamp()


def merge_marks(rows: Sequence[dict[str, Any]], store: MarksStore) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        m = store.get(r["id"], r.get("backend", "")) or {}
        out.append({**r, "mark": m.get("mark", ""), "comment": m.get("comment", "")})
    return out


EXPORT_FIELDS = ["id", "lang", "question", "answerable", "backend", "answer", "refused", "citations", "gold",
                 "gold_hit", "gold_recall", "refusal_correct", "latency_s", "mark", "comment", "notes", "error"]


def export_rows(rows: Sequence[dict[str, Any]], store: MarksStore, folder: Path, fmt: str) -> Path:
    """Write the results with their marks as CSV or JSON in ``folder``; return the file."""
    merged = merge_marks(rows, store)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        path = folder / f"policy-rag-eval-{stamp}.json"
        path.write_text(json.dumps(merged, ensure_ascii=False, indent=1), encoding="utf-8")
        return path
    path = folder / f"policy-rag-eval-{stamp}.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=EXPORT_FIELDS, extrasaction="ignore")
        w.writeheader()
        for r in merged:
            w.writerow({k: "; ".join(map(str, v)) if isinstance(v, list) else ("" if v is None else v)
                        for k, v in r.items()})
    return path


def _pct(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def eval_summary(rows: Sequence[dict[str, Any]], store: MarksStore, lang: Lang = "nl") -> str:
    if not rows:
        return t(lang, "eval_none")
    lat = [r["latency_s"] for r in rows]
    merged = merge_marks(rows, store)
    return t(lang, "eval_summary", n=len(rows), hit=sum(1 for r in rows if r.get("gold_hit")),
             answerable=sum(1 for r in rows if r.get("answerable") and r.get("gold")),
             refusal=sum(1 for r in rows if r.get("refusal_correct")), p50=_pct(lat, 0.5), p95=_pct(lat, 0.95),
             marked=sum(1 for r in merged if r["mark"]))


TABLE_HEADERS = ["id", "vraag", "antwoord", "bronnen", "goud", "goud ✓", "weigering ✓", "s", "oordeel",
                 "opmerking"]
TABLE_WIDTHS: list[str | int] = ["6%", "16%", "30%", "12%", "12%", "5%", "5%", "4%", "5%", "5%"]


def eval_table(rows: Sequence[dict[str, Any]], store: MarksStore, lang: Lang = "nl") -> list[list[Any]]:
    yes, no = t(lang, "yes"), t(lang, "no")

    def yn(v: object) -> str:
        return "" if v is None else (yes if v else no)

    out = []
    for r in merge_marks(rows, store):
        answer = ("⛔ " if r.get("refused") else "") + (r.get("error") or r.get("answer", ""))
        out.append([r["id"], r["question"], answer, "\n".join(r["citations"]), "\n".join(r["gold"]),
                    yn(r["gold_hit"]), yn(r["refusal_correct"]), r["latency_s"],
                    t(lang, ui.MARKS[r["mark"]]) if r["mark"] in ui.MARKS else "", r["comment"]])
    return out


# ---------------------------------------------------------------------------------------- the app


def _twins(assistant: Assistant, a: Answer) -> list[Passage | None]:
    out: list[Passage | None] = []
    for c in a.citations:
        if c.alternate is not None or a.on:  # the answer chose the twin in force on its date
            out.append(c.alternate)
            continue
        try:
            out.append(assistant.retriever.alternate(c.passage))
        except Exception:  # a missing twin never breaks an answer
            log.exception("no twin for %s", c.passage.id)
            out.append(None)
    return out


def _question_lang(question: object) -> Lang:
    if isinstance(question, str) and question.strip() and len(question) <= 5000:
        try:
            return detect_language(question[:500])
        except Exception:
            return "nl"
    return "nl"


def _ui_updates(lang: Lang, backend: str) -> tuple[Any, ...]:
    """Input back on, labels in the question's language (the interface follows it)."""
    return (
        gr.update(label=t(lang, "question_label"), placeholder=t(lang, "question_placeholder"), interactive=True),
        gr.update(value=t(lang, "send"), interactive=True),
        gr.update(label=t(lang, "backend_label"), choices=ui.backend_choices(lang), value=backend),
        f'<div class="pr-disclaimer" role="note">{_e(t(lang, "disclaimer"))}</div>',
    )


def build_app(assistant: Assistant, *, eval_runner: EvalRunner | None = None,
              marks_path: Path | str | None = None, questions_path: Path | str | None = None,
              evaluator: bool | None = None) -> gr.Blocks:
    """The Gradio Blocks for ``assistant``; queue configured (one generation at a time).

    ``evaluator``: show the evaluator's tab and let its handlers run (evaluation, marks,
    export); by default ``POLICY_RAG_EVALUATOR`` decides (:func:`policy_rag.websec.evaluator_enabled`:
    on unless set to off; ``main`` turns it off for a server that is not on loopback)."""
    websec.use_private_gradio_temp()  # Gradio's cache in a per-process folder, removed at exit
    evaluator = websec.evaluator_enabled() if evaluator is None else evaluator
    runner = eval_runner or default_eval_runner(assistant, Path(questions_path or DEFAULT_QUESTIONS))
    store = MarksStore(marks_path or assistant.settings.marks_path)  # POLICY_RAG_MARKS
    export_dir = websec.temp_dir() / "exports"  # made on the first export, removed at exit
    default_backend = assistant.settings.llm if assistant.settings.llm in ("auto", "local", "hosted", "none") \
        else "auto"
    L: Lang = "nl"

    # ---------------------------------------------------------------- handlers
    def chat(question: Any, history: list[dict[str, Any]] | None, backend: str,
             current: str = "nl", on: Any = "") -> Iterator[tuple[Any, ...]]:
        history = list(history or [])
        backend = backend or default_backend
        blank = not isinstance(question, str) or not question.strip()
        lang = _ui_lang(current) if blank else _question_lang(question)
        try:
            day = inforce.parse_on(on if isinstance(on, str) else "", "The date")
        except inforce.InvalidDate:
            msg = t(lang, "on_error", value=str(on)[:40])
            yield (history, notice(t(lang, "on_title"), msg, "warn"), *_ui_updates(lang, backend), lang)
            return
        shown = question if isinstance(question, str) else ""
        shown = shown if len(shown) <= 600 else shown[:600] + " …"
        history.append({"role": "user", "content": _md(shown) or "…"})
        history.append({"role": "assistant", "content": t(lang, "searching")})
        busy = (gr.update(value="", interactive=False), gr.update(interactive=False))
        yield (history, "", *busy, gr.update(), gr.update(), gr.update())
        raw = ""
        last = 0.0
        try:
            final: Answer | None = None
            for item in assistant.stream(question, backend, day or None):
                if isinstance(item, Answer):
                    final = item
                    continue
                raw += item
                if time.monotonic() - last >= STREAM_EVERY:
                    last = time.monotonic()
                    history = [*history[:-1], {"role": "assistant", "content": f"{_md(raw)}\n\n{t(lang, 'checking')}"}]
                    yield (history, "", *busy, gr.update(), gr.update(), gr.update())
            if final is None:
                raise PolicyRagError("no answer was produced")
            lang = _ui_lang(final.language)
            history = [*history[:-1], {"role": "assistant", "content": answer_message(final)}]
            panel = answer_panel(final, _twins(assistant, final))
        except InvalidQuestion as e:
            # nothing to detect a language from: keep the interface's language
            lang = lang if blank else _ui_lang(e.lang)
            msg = INPUT_ERRORS[e.kind][lang] if blank and e.kind in ("empty", "binary") else str(e)
            history[-1] = {"role": "assistant", "content": f"⚠️ **{_md(t(lang, 'input_title'))}**\n\n{_md(msg)}"}
            panel = notice(t(lang, "input_title"), msg, "warn")
        except PolicyRagError as e:
            history[-1] = {"role": "assistant", "content": f"⚠️ **{_md(t(lang, 'error_title'))}**\n\n{_md(str(e))}"}
            panel = notice(t(lang, "error_title"), t(lang, "error_body", message=str(e)), "error")
        except Exception as e:  # never a stack trace in the page
            log.exception("answering failed")
            msg = f"{type(e).__name__}"
            history[-1] = {"role": "assistant", "content": f"⚠️ **{_md(t(lang, 'error_title'))}** ({_md(msg)})"}
            panel = notice(t(lang, "error_title"), t(lang, "error_body", message=msg), "error")
        yield (history, panel, *_ui_updates(lang, backend), lang)

    def answer(question: str, backend: str = "auto") -> dict:
        """The checked answer to ``question`` as JSON (``Answer.to_dict()``), the law in force
        today; on bad input ``{"error": message, "error_kind": ...}`` with the message in the
        question's language."""
        return answer_on(question, backend, "")

    def answer_on(question: str, backend: str = "auto", on: str = "") -> dict:
        """``answer`` with the law in force on ``on`` (YYYY-MM-DD; empty: today)."""
        try:
            return assistant.ask(question, backend or default_backend, inforce.parse_on(on, "The date") or None).to_dict()
        except InvalidQuestion as e:
            return {"question": question if isinstance(question, str) else "", "language": e.lang,
                    "error": str(e), "error_kind": e.kind, "refused": False, "citations": []}
        except PolicyRagError as e:
            return {"question": question if isinstance(question, str) else "", "language": _question_lang(question),
                    "error": str(e), "error_kind": "failed", "refused": False, "citations": []}
        except Exception as e:  # a message, never a stack trace
            log.exception("answering failed")
            return {"question": question if isinstance(question, str) else "", "language": _question_lang(question),
                    "error": type(e).__name__, "error_kind": "failed", "refused": False, "citations": []}

    def cite(query: str) -> dict:
        """Where a provision (or a phrase) is cited: ``CiteResult.to_dict()``."""
        q = query.strip() if isinstance(query, str) else ""
        if not q or len(q) > MAX_CITE_QUERY:
            return {"query": q[:MAX_CITE_QUERY], "error": t(_question_lang(q), "cite_empty"), "referring": {}}
        try:
            return assistant.cite(q, _question_lang(q)).to_dict()
        except PolicyRagError as e:
            return {"query": q, "error": str(e), "referring": {}}

    def cite_view(query: Any) -> str:
        q = query.strip() if isinstance(query, str) else ""
        lang = _question_lang(q) if q else "nl"
        if not q or "\x00" in q:
            return notice(t(lang, "cite_label"), t(lang, "cite_empty"), "warn")
        if len(q) > MAX_CITE_QUERY:
            q = q[:MAX_CITE_QUERY]
        try:
            # a provision query ("Article 6(2)") is English; "bijlage III" is Dutch
            res = assistant.cite(q, lang)
            return cite_html(res, lang)
        except PolicyRagError as e:
            return notice(t(lang, "error_title"), str(e), "error")
        except Exception as e:
            log.exception("lookup failed")
            return notice(t(lang, "error_title"), type(e).__name__, "error")

    def run_eval(lang: str, limit: float | None, backend: str) -> tuple[Any, ...]:
        if not evaluator:
            return [], gr.update(value=[]), t(L, "eval_disabled"), gr.update(choices=[], value=None)
        lang_sel = lang if lang in ("nl", "en") else None
        n = int(limit) if limit else None
        try:
            rows = runner(lang_sel, n, backend or "none")
        except Exception as e:
            log.exception("evaluation failed")
            msg = t(L, "eval_error", message=str(e) if isinstance(e, PolicyRagError) else type(e).__name__)
            return [], gr.update(value=[]), msg, gr.update(choices=[], value=None)
        choices = [(f"{r['id']} · {r['question'][:70]}", i) for i, r in enumerate(rows)]
        return (rows, gr.update(value=eval_table(rows, store, L)), eval_summary(rows, store, L),
                gr.update(choices=choices, value=0 if rows else None))

    def pick(rows: list[dict[str, Any]], i: Any) -> tuple[Any, ...]:
        if not evaluator or not rows or i is None or not (0 <= int(i) < len(rows)):
            return "", gr.update(value=None), gr.update(value="")
        r = rows[int(i)]
        m = store.get(r["id"], r.get("backend", "")) or {}
        detail = (f"**{_md(r['id'])}** ({_md(r.get('backend', ''))}): {_md(r['question'])}\n\n"
                  f"**{t(L, 'eval_detail_answer')}:** {_md(r.get('error') or r['answer'])}\n\n"
                  f"**{t(L, 'eval_detail_gold')}:** {_md(', '.join(r['gold']))}\n\n"
                  f"**{t(L, 'eval_detail_keypoints')}:** " + "; ".join(_md(k) for k in r.get("key_points", [])))
        return detail, gr.update(value=m.get("mark")), gr.update(value=m.get("comment", ""))

    def save_mark(rows: list[dict[str, Any]], i: Any, mark: str | None, comment: str) -> tuple[Any, ...]:
        if not evaluator:
            return gr.update(), gr.update(), t(L, "eval_disabled")
        if not rows or i is None or not mark or not (0 <= int(i) < len(rows)):
            return gr.update(), gr.update(), t(L, "eval_pick_first")
        r = rows[int(i)]
        store.set(r["id"], r.get("backend", ""), mark, comment or "", r.get("answer", ""))
        return (gr.update(value=eval_table(rows, store, L)), eval_summary(rows, store, L),
                t(L, "eval_saved", path=store.path, n=len(store.marks)))

    def export(rows: list[dict[str, Any]], fmt: str) -> Any:
        if not rows or not evaluator:
            return gr.update(value=None)
        return str(export_rows(rows, store, export_dir, fmt))

    # ---------------------------------------------------------------- layout
    with gr.Blocks(title="policy-rag", analytics_enabled=False) as demo:
        demo.policy_rag = {"store": store, "export_dir": export_dir, "assistant": assistant}
        ui_lang = gr.State("nl")
        gr.Markdown(f"## {t(L, 'title')}\n{t(L, 'subtitle')}")
        disclaimer = gr.HTML(f'<div class="pr-disclaimer" role="note">{_e(t(L, "disclaimer"))}</div>',
                             elem_id="pr-disclaimer", js_on_load=None)
        with gr.Tabs():
            with gr.Tab(t(L, "tab_chat"), id="chat"):
                chatbot = gr.Chatbot(
                    label="policy-rag", height=460, elem_id="pr-chat", sanitize_html=True,
                    placeholder=t(L, "chat_placeholder"), examples=[{"text": q} for q in ui.EXAMPLES],
                    feedback_options=None, buttons=["copy"], latex_delimiters=[],
                )
                with gr.Row():
                    question = gr.Textbox(label=t(L, "question_label"), placeholder=t(L, "question_placeholder"),
                                          scale=5, lines=1, max_lines=6, elem_id="pr-question")
                    send = gr.Button(t(L, "send"), variant="primary", scale=1, elem_id="pr-send")
                with gr.Row():
                    backend = gr.Dropdown(ui.backend_choices(L), value=default_backend, label=t(L, "backend_label"),
                                          scale=2, elem_id="pr-backend")
                    gr.Markdown(t(L, "backend_default", backend=_default_backend_label(assistant, L)),
                                elem_id="pr-backend-default")
                    clear = gr.Button(t(L, "clear"), variant="secondary", scale=1, elem_id="pr-clear")
                with gr.Accordion(t(L, "on_accordion"), open=False, elem_id="pr-on-box"):
                    on_date = gr.Textbox(label=t(L, "on_label"), placeholder=t(L, "on_placeholder"),
                                         info=t(L, "on_info"), value="", max_lines=1, elem_id="pr-on")
                panel = gr.HTML("", elem_id="pr-panel", js_on_load=None)

            with gr.Tab(t(L, "tab_cite"), id="cite"):
                with gr.Row():
                    cite_q = gr.Textbox(label=t(L, "cite_label"), placeholder=t(L, "cite_placeholder"), scale=5,
                                        elem_id="pr-cite-q")
                    cite_btn = gr.Button(t(L, "cite_button"), variant="primary", scale=1, elem_id="pr-cite-btn")
                gr.Examples([[q] for q in ui.CITE_EXAMPLES], inputs=[cite_q], label=t(L, "cite_examples"))
                cite_out = gr.HTML("", elem_id="pr-cite-out", js_on_load=None)

            if evaluator:  # the tab and its handlers exist only when the evaluator is on
                with gr.Tab(t(L, "tab_eval"), id="eval"):
                    gr.Markdown(t(L, "eval_intro"))
                    rows_state = gr.State([])
                    with gr.Row():
                        ev_lang = gr.Dropdown([(t(L, "eval_lang_all"), "all"), ("nl", "nl"), ("en", "en")], value="all",
                                              label=t(L, "eval_lang"))
                        ev_limit = gr.Number(value=10, precision=0, minimum=0, label=t(L, "eval_limit"))
                        ev_backend = gr.Dropdown(ui.backend_choices(L), value="none", label=t(L, "eval_backend"))
                        ev_run = gr.Button(t(L, "eval_run"), variant="primary", elem_id="pr-eval-run")
                    ev_summary = gr.Markdown(t(L, "eval_none"))
                    ev_table = gr.Dataframe(headers=TABLE_HEADERS, value=[], wrap=True, interactive=False,
                                            column_widths=TABLE_WIDTHS,
                                            elem_id="pr-eval-table", max_height=520)
                    with gr.Row():
                        with gr.Column(scale=3):
                            ev_pick = gr.Dropdown([], label=t(L, "eval_pick"), elem_id="pr-eval-pick")
                            ev_detail = gr.Markdown("")
                        with gr.Column(scale=2):
                            ev_mark = gr.Radio(ui.mark_choices(L), label=t(L, "eval_mark"), elem_id="pr-eval-mark")
                            ev_comment = gr.Textbox(label=t(L, "eval_comment"), lines=2)
                            ev_save = gr.Button(t(L, "eval_save"), elem_id="pr-eval-save")
                            ev_status = gr.Markdown(t(L, "eval_marks_file", path=store.path, n=len(store.marks)))
                    with gr.Row():
                        ev_csv = gr.Button(t(L, "eval_export_csv"))
                        ev_json = gr.Button(t(L, "eval_export_json"))
                        ev_file = gr.File(label="export", interactive=False)

        # ---------------------------------------------------------------- events
        chat_outputs = [chatbot, panel, question, send, backend, disclaimer, ui_lang]
        gr.on([send.click, question.submit], chat, inputs=[question, chatbot, backend, ui_lang, on_date],
              outputs=chat_outputs,
              api_name="chat", api_visibility="undocumented", concurrency_id=GENERATE, trigger_mode="once",
              show_progress="minimal")
        chatbot.example_select(_example_text, inputs=None, outputs=[question], api_visibility="private",
                               queue=False, trigger_mode="once", show_progress="hidden").then(
            chat, inputs=[question, chatbot, backend, ui_lang, on_date], outputs=chat_outputs, api_visibility="private",
            concurrency_id=GENERATE, show_progress="minimal")
        clear.click(lambda: ([], ""), None, [chatbot, panel], api_visibility="private", queue=False)
        # /answer and the lookups run side by side; a generation inside waits for a slot (Assistant.slots)
        gr.api(answer, api_name="answer", concurrency_limit=assistant.settings.api_concurrency)
        gr.api(answer_on, api_name="answer_on", concurrency_limit=assistant.settings.api_concurrency)
        gr.api(cite, api_name="cite", concurrency_limit=assistant.settings.api_concurrency)
        gr.on([cite_btn.click, cite_q.submit], cite_view, inputs=[cite_q], outputs=[cite_out],
              api_name="cite_html", api_visibility="undocumented",
              concurrency_limit=assistant.settings.api_concurrency)
        if evaluator:
            ev_run.click(run_eval, [ev_lang, ev_limit, ev_backend], [rows_state, ev_table, ev_summary, ev_pick],
                         api_name="run_eval", api_visibility="private", concurrency_id=GENERATE)
            ev_pick.change(pick, [rows_state, ev_pick], [ev_detail, ev_mark, ev_comment], api_visibility="private")
            ev_save.click(save_mark, [rows_state, ev_pick, ev_mark, ev_comment], [ev_table, ev_summary, ev_status],
                          api_visibility="private")
            ev_csv.click(lambda rows: export(rows, "csv"), [rows_state], [ev_file], api_visibility="private")
            ev_json.click(lambda rows: export(rows, "json"), [rows_state], [ev_file], api_visibility="private")

    # the chat (GENERATE) runs as many at once as the LLM has slots; the others wait in the queue
    # and see their place in it
    demo.queue(default_concurrency_limit=assistant.settings.llm_slots, max_size=64)
    # exposed for tests and for embedding: the pure handlers
    demo.handlers = {"chat": chat, "answer": answer, "answer_on": answer_on, "cite": cite, "cite_view": cite_view,
                     "run_eval": run_eval, "save_mark": save_mark, "export": export, "pick": pick}
    return demo


def _example_text(ev: gr.SelectData) -> str:
    return str(ev.value.get("text", "")) if isinstance(ev.value, dict) else str(ev.value)


def _default_backend_label(assistant: Assistant, lang: Lang) -> str:
    try:
        return backend_name(assistant.backend(None), lang)
    except PolicyRagError:
        return backend_name("none", lang)


def launch(demo: gr.Blocks, host: str = "127.0.0.1", port: int | None = 7860, **kw: Any) -> Any:
    """Start the server with the app's CSS, behind :func:`policy_rag.websec.harden` (Host check,
    no cross-origin use, size limits, only the routes and handlers the app uses, files only from
    its own temporary folder); no monitoring, no server-side rendering, no analytics."""
    from gradio.routes import App, ORJSONResponse

    app = websec.harden(App(default_response_class=ORJSONResponse), blocks=demo)
    kw.setdefault("enable_monitoring", False)
    kw.setdefault("ssr_mode", False)
    return demo.launch(server_name=host, server_port=port, css=CSS, show_error=False, allowed_paths=None,
                       footer_links=["api"], _app=app, **kw)


def main(host: str = "127.0.0.1", port: int = 7860, settings: Settings | None = None,
         marks_path: str | Path | None = None) -> None:
    """``policy-rag serve``: load the index and the embedding model, then serve (blocking)."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY"):
        os.environ.setdefault(var, "1")  # models load from their folders: no hub, no telemetry
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    assistant = Assistant(settings)
    t0 = time.perf_counter()
    assistant.retriever  # noqa: B018 - loads the index (a clear error if it is missing)
    assistant.embedder.embed_queries(["opwarmen"])  # load the embedding model before the first user
    log.info("index and embedding model ready in %.1f s", time.perf_counter() - t0)
    demo = build_app(assistant, marks_path=marks_path, evaluator=websec.evaluator_enabled(host))
    launch(demo, host, port)


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=7860)
    ap.add_argument("--marks", default=None, help="the evaluator's marks file (default eval/marks.json)")
    args = ap.parse_args()
    main(args.host, args.port, marks_path=args.marks)
