"""`policy-rag eval`: retrieval and answer scores on eval/questions.jsonl, fully offline.

Per language and overall:

* retrieval: recall@1/5/10 (a gold provision among the top k), MRR@10, nDCG@10, for the
  project's retriever and two baselines run in the same process on the same questions:
  keyword-only (BM25 over the same passages) and "llama-index defaults" (SentenceSplitter's
  1024-token chunks of the same documents, same embedding model, FAISS flat inner product);
* answers (one backend): share of answers citing a gold provision; citation quotes found
  verbatim; ALCE-style citation recall (each sentence supported by its citations) and
  precision (each citation supports its sentence); faithfulness (supported sentences);
  key points covered; refusal accuracy, false refusals; answer-language match; latency.

Support is judged by EmbeddingGemma similarity between the sentence and the best sentence
of the cited passage (threshold ``JUDGE_THRESHOLD``, calibrated on eval/calibration.jsonl),
a different test from the lexical-first checker in answer.py, but not independent of it.

Reports go to eval/reports/<timestamp>/ (results.json, report.html), with a comparison
to the previous report that flags regressions.
"""

from __future__ import annotations

import html
import json
import logging
import math
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from . import legal
from .errors import PolicyRagError
from .settings import REPO_ROOT, Settings
from .types import Answer, Passage

log = logging.getLogger(__name__)

QUESTIONS = REPO_ROOT / "eval" / "questions.jsonl"
REPORTS = REPO_ROOT / "eval" / "reports"
TAGS_REPORTED = ("en-only-source", "nl-only-source", "changed-by-omnibus")  # retrieval shown by these tags too
JUDGE_THRESHOLD = 0.52  # best on eval/calibration.jsonl (19 of 24 right), see eval/calibrate.py
REGRESSION_DELTA = 0.02


# --- the set -------------------------------------------------------------------------------


@dataclass
class Question:
    id: str
    lang: str
    question: str
    answerable: bool
    gold: list[str]
    key_points: list[str]
    category: str = ""
    tags: list[str] | None = None


def load_questions(path: Path = QUESTIONS, *, lang: str | None = None, limit: int | None = None) -> list[Question]:
    qs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        d = json.loads(line)
        q = Question(id=d["id"], lang=d["lang"], question=d["question"], answerable=d["answerable"],
                     gold=d.get("gold", []), key_points=d.get("key_points", []), category=d.get("category", ""),
                     tags=d.get("tags", []))
        if lang and q.lang != lang:
            continue
        qs.append(q)
    # an evenly spread part: every category, both languages, answerable and not
    return evenly_spread(qs, limit)


def evenly_spread(items: list, limit: int | None) -> list:
    """``limit`` items taken at even steps through ``items`` (all of them without a limit)."""
    if limit and limit < len(items):
        step = len(items) / limit
        return [items[int(i * step)] for i in range(limit)]
    return items


def gold_matches(gold: str, doc: str, provision: str) -> bool:
    """'ai-act:Article 5(1)' matches a passage of doc ai-act at or under/over that provision;
    a bare doc id ('page-ai-office') matches any passage of that document."""
    gdoc, _, gprov = gold.partition(":")
    if gdoc != doc:
        return False
    return not gprov or legal.matches(gprov, provision)


def first_gold_rank(ranked: Sequence[tuple[str, str]], gold: Sequence[str]) -> int | None:
    for r, (doc, prov) in enumerate(ranked, 1):
        if any(gold_matches(g, doc, prov) for g in gold):
            return r
    return None


def retrieval_metrics(ranked_lists: Sequence[Sequence[Sequence[tuple[str, str]]]], golds: Sequence[Sequence[str]]
                      ) -> dict[str, float]:
    """ranked_lists[i] = top-10 results of question i, each result a list of (doc, provision)
    it covers (one for a passage; several for a baseline chunk spanning provisions)."""
    n = len(golds)
    if not n:
        return {}
    r1 = r5 = r10 = 0
    mrr = ndcg = 0.0
    for ranked, gold in zip(ranked_lists, golds):
        rels = [1.0 if any(gold_matches(g, d, p) for d, p in res for g in gold) else 0.0 for res in ranked[:10]]
        first = next((i for i, x in enumerate(rels) if x), None)
        if first is not None:
            r1 += first < 1
            r5 += first < 5
            r10 += first < 10
            mrr += 1.0 / (first + 1)
        dcg = sum(x / math.log2(i + 2) for i, x in enumerate(rels))
        ideal_n = min(len(gold), 10) or 1
        idcg = sum(1.0 / math.log2(i + 2) for i in range(ideal_n))
        ndcg += min(1.0, dcg / idcg)
    return {"recall@1": r1 / n, "recall@5": r5 / n, "recall@10": r10 / n, "mrr@10": mrr / n, "ndcg@10": ndcg / n,
            "n": n}


# --- baselines -----------------------------------------------------------------------------


class LlamaIndexDefaultsBaseline:
    """BASELINE.md's naive pipeline: get_text / pypdf pages, SentenceSplitter() defaults, same model."""

    def __init__(self, settings: Settings, embedder: Any, passages: Sequence[Passage]) -> None:
        self.settings = settings
        self.embedder = embedder
        self.chunks: list[str] = []
        self.covers: list[list[tuple[str, str]]] = []
        self.vectors: np.ndarray | None = None
        self._passages = passages

    @staticmethod
    def _raw_text(path: Path, fmt: str) -> str:
        if fmt.endswith("pdf"):
            from pypdf import PdfReader

            return "\n".join((pg.extract_text() or "") for pg in PdfReader(str(path)).pages)
        if fmt == "eurlex-html":
            from bs4 import BeautifulSoup

            return BeautifulSoup(path.read_bytes(), "lxml").get_text("\n")
        return path.read_text(encoding="utf-8")

    def build(self, progress: Callable[[int], None] | None = None) -> None:
        from llama_index.core import Document as LIDocument
        from llama_index.core.node_parser import SentenceSplitter

        from .embed import VectorCache, embed_passages
        from .sources import available_sources

        splitter = SentenceSplitter()
        norm = lambda s: re.sub(r"\s+", " ", s).strip().lower()  # noqa: E731
        by_source: dict[str, list[Passage]] = {}
        for p in self._passages:
            by_source.setdefault(p.source_id, []).append(p)
        fake_passages: list[Passage] = []
        for source, path in available_sources(self.settings)[0]:
            text = self._raw_text(path, source.format)
            nodes = splitter.get_nodes_from_documents([LIDocument(text=text)])
            keys = [(p.doc, p.provision, norm(p.text)[:80]) for p in by_source.get(source.id, [])]
            for node in nodes:
                chunk = node.get_content()
                nc = norm(chunk)
                self.chunks.append(chunk)
                self.covers.append(list(dict.fromkeys((d, pr) for d, pr, k in keys if k and k[:60] in nc)))
                fp = Passage(id=f"baseline/{len(fake_passages)}", doc=source.doc, lang=source.lang,
                             provision="", label="", title="", url="", text=chunk)
                from .chunk import content_hash

                fp.content_hash = content_hash(fp)
                fake_passages.append(fp)
        cache = VectorCache(self.settings.cache / "embeddings.sqlite", self.embedder.model_id)
        try:
            self.vectors, _ = embed_passages(self.embedder, fake_passages, cache, progress)
        finally:
            cache.close()

    def search(self, question: str, k: int = 10) -> list[list[tuple[str, str]]]:
        assert self.vectors is not None
        q = self.embedder.embed_queries([question])[0]
        order = np.argsort(-(self.vectors @ q))[:k]
        return [self.covers[i] for i in order]


# --- answer scoring --------------------------------------------------------------------------

_CITED_UNIT = re.compile(r"(.+?)((?:\s*\[\d+\])+)", re.S)
_CITE = re.compile(r"\[(\d+)\]")


def answer_sentences(text: str) -> list[tuple[str, list[int]]]:
    """The claims of an answer with the citation numbers each carries.

    A claim is the text up to a group of citation marks ("… verboden [1][2]."), so both a
    generated answer and an extractive one ("- Artikel 5 …: “quote” [1]") split right;
    text after the last mark is a claim without citations; intro lines ending in ':' are not claims.
    """
    out: list[tuple[str, list[int]]] = []
    end = 0
    for m in _CITED_UNIT.finditer(text):
        out.append((m.group(1), [int(n) for n in _CITE.findall(m.group(2))]))
        end = m.end()
    tail = text[end:]
    out.extend((line, []) for line in tail.split("\n"))
    claims = []
    for claim, nums in out:
        lines = [ln for ln in claim.split("\n") if ln.strip() and not ln.rstrip().endswith(":")]
        bare = " ".join(lines).strip(" .-•“”\"")
        if lines and lines[0].lstrip().startswith("- ") and ": " in bare:  # "- Artikel 5, lid 1: lead-in “quote”"
            bare = bare.split(": ", 1)[1]
        bare = bare.replace("“", "").replace("”", "").strip()
        if len(bare.split()) >= 3:
            claims.append((bare, nums))
    return claims


class Judge:
    """Does a passage support a sentence? EmbeddingGemma similarity to its best sentence."""

    def __init__(self, embedder: Any, threshold: float = JUDGE_THRESHOLD) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self._vecs: dict[str, np.ndarray] = {}  # the same sentences come back (key points x sentences)

    def _embed(self, texts: list[str]) -> np.ndarray:
        new = list(dict.fromkeys(x for x in texts if x not in self._vecs))
        if new:
            if len(self._vecs) > 20_000:
                self._vecs.clear()
            self._vecs.update(zip(new, self.embedder.embed_queries(new)))
        return np.stack([self._vecs[x] for x in texts])

    def score(self, sentence: str, passage_text: str) -> float:
        from .answer import sentence_spans

        parts = [passage_text[s:e] for s, e in sentence_spans(passage_text)] or [passage_text]
        vecs = self._embed([sentence, *parts])
        return float(np.max(vecs[1:] @ vecs[0]))

    def supports(self, sentence: str, passage_text: str) -> bool:
        from .answer import numbers_supported

        return self.score(sentence, passage_text) >= self.threshold and numbers_supported(sentence, passage_text)


def score_answer(q: Question, ans: Answer, judge: Judge | None) -> dict[str, Any]:
    from .lang import detect_language

    cites = {c.n: c for c in ans.citations}
    rec: dict[str, Any] = {
        "refused": ans.refused,
        "correct_refusal": (not q.answerable) and ans.refused,
        "false_refusal": q.answerable and ans.refused,
        "verbatim": [c.quote in c.passage.text for c in ans.citations],
        "cites_gold": any(gold_matches(g, c.passage.doc, c.passage.provision) for c in ans.citations for g in q.gold),
        "language_match": detect_language(ans.text) == q.lang if not ans.refused else True,
        "first_token": ans.timings.get("first_token"),
        "total": ans.timings.get("total"),
        "refusal_reason": ans.refusal_reason or None,
        "answerable_odds": ans.answerable_odds,
    }
    if judge and not ans.refused:
        sents = answer_sentences(ans.text)
        supported = precise = n_cites = 0
        for s, nums in sents:
            ok = [judge.supports(s, cites[n].passage.text) for n in nums if n in cites]
            supported += any(ok)
            precise += sum(ok)
            n_cites += len(ok)
        rec["sentences"] = len(sents)
        rec["citation_recall"] = supported / len(sents) if sents else None
        rec["citation_precision"] = precise / n_cites if n_cites else None
        if q.key_points:
            covered = 0
            for kp in q.key_points:
                covered += max((judge.score(kp, s) for s, _ in sents), default=0.0) >= judge.threshold or \
                    kp.lower() in ans.text.lower()
            rec["key_points"] = covered / len(q.key_points)
    return rec


def _mean(xs: Sequence[float | bool | None]) -> float | None:
    vals = [float(x) for x in xs if x is not None]
    return sum(vals) / len(vals) if vals else None


def _pct(xs: Sequence[float | None], p: float) -> float | None:
    vals = sorted(x for x in xs if x is not None)
    if not vals:
        return None
    return float(np.percentile(vals, p))


def answer_metrics(qs: Sequence[Question], recs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    ans_recs = [r for q, r in zip(qs, recs) if q.answerable]
    una = [r for q, r in zip(qs, recs) if not q.answerable]
    quotes = [v for r in recs for v in r["verbatim"]]
    return {
        "n": len(recs),
        "cites_gold": _mean([r["cites_gold"] for r in ans_recs if not r["refused"]]),
        "cites_gold_all_answerable": _mean([r["cites_gold"] for r in ans_recs]),
        "verbatim_quotes": _mean(quotes),
        "quotes": len(quotes),
        "citation_recall": _mean([r.get("citation_recall") for r in recs]),
        "citation_precision": _mean([r.get("citation_precision") for r in recs]),
        "faithfulness": _mean([r.get("citation_recall") for r in recs]),
        "key_points": _mean([r.get("key_points") for r in ans_recs]),
        "refusal_accuracy": _mean([r["correct_refusal"] for r in una]),
        "false_refusal_rate": _mean([r["false_refusal"] for r in ans_recs]),
        "language_match": _mean([r["language_match"] for r in recs]),
        "latency_total_p50": _pct([r["total"] for r in recs], 50),
        "latency_total_p95": _pct([r["total"] for r in recs], 95),
        "first_token_p50": _pct([r["first_token"] for r in recs], 50),
        "first_token_p95": _pct([r["first_token"] for r in recs], 95),
        # why answerable questions were refused, and how unanswerable ones were (counts)
        "false_refusal_reasons": _count(r.get("refusal_reason") for r in ans_recs if r["refused"]),
        "refusal_reasons": _count(r.get("refusal_reason") for r in una if r["refused"]),
    }


def _count(xs: Any) -> str:
    return ", ".join(f"{k} {n}" for k, n in Counter(x or "?" for x in xs).most_common()) or "-"


# --- the run ---------------------------------------------------------------------------------


def _by_lang(qs: Sequence[Question], values: Sequence[Any], fn: Callable[[list[Question], list[Any]], dict]
             ) -> dict[str, dict]:
    out = {}
    for lg in ("nl", "en", "all"):
        idx = [i for i, q in enumerate(qs) if lg == "all" or q.lang == lg]
        if idx:
            out[lg] = fn([qs[i] for i in idx], [values[i] for i in idx])
    return out


def run(settings: Settings, *, lang: str | None = None, limit: int | None = None, backend: str = "none",
        questions: Path = QUESTIONS, retrieval_only: bool = False, baselines: bool = True, out: Path | None = None,
        progress: Callable[[str, int], Callable[[int], None]] | None = None, assistant: Any = None) -> dict:
    from .assistant import Assistant

    progress = progress or (lambda stage, total: (lambda n: None))
    a = assistant or Assistant(settings)
    qs = load_questions(questions, lang=lang, limit=limit)
    answerable = [q for q in qs if q.answerable]
    results: dict[str, Any] = {"started": datetime.now(UTC).isoformat(timespec="seconds"),
                               "settings": {"backend": backend, "lang": lang, "limit": limit,
                                            "questions": questions.name,
                                            "model_id": a.embedder.model_id,
                                            "passages": len(a.index.passages)},
                               "questions": len(qs)}
    per_q: dict[str, dict[str, Any]] = {q.id: {"id": q.id, "lang": q.lang, "question": q.question,
                                               "gold": q.gold, "answerable": q.answerable,
                                               "category": q.category} for q in qs}

    # retrieval: the project
    adv = progress("search", len(answerable))
    ranked_sys, lat = [], []
    for q in answerable:
        t = time.perf_counter()
        res = a.retriever.search(q.question, k=10)
        lat.append(time.perf_counter() - t)
        ranked = [[(h.passage.doc, h.passage.provision)] for h in res.hits]
        ranked_sys.append(ranked)
        per_q[q.id]["retrieved"] = [h.passage.id for h in res.hits]
        per_q[q.id]["first_gold_rank"] = first_gold_rank([r[0] for r in ranked], q.gold)
        per_q[q.id]["top_dense"] = res.top_dense
        adv(1)
    systems = {"policy-rag (hybrid, structure-aware)": ranked_sys}

    if baselines:
        adv = progress("bm25", len(answerable))
        ranked_bm25 = []
        for q in answerable:
            ranked_bm25.append([[(a.index.passages[i].doc, a.index.passages[i].provision)]
                                for i, _ in a.index.keyword_search(q.question, 10, q.lang)])
            adv(1)
        systems["baseline: BM25 only (same passages)"] = ranked_bm25
        base = LlamaIndexDefaultsBaseline(settings, a.embedder, a.index.passages)
        base.build(progress("baseline-embed", 0))
        adv = progress("baseline", len(answerable))
        ranked_li = []
        for q in answerable:
            ranked_li.append(base.search(q.question))
            adv(1)
        systems["baseline: llama-index defaults (1024-token chunks)"] = ranked_li
        results["baseline_chunks"] = len(base.chunks)

    results["retrieval"] = {
        name: _by_lang(answerable, ranked, lambda qq, rr: retrieval_metrics(rr, [q.gold for q in qq]))
        for name, ranked in systems.items()
    }
    # the hard cases, on their own: the answer only in the other language, or changed by the omnibus
    results["retrieval_by_tag"] = {
        tag: retrieval_metrics([r for q, r in zip(answerable, ranked_sys) if tag in (q.tags or [])],
                               [q.gold for q in answerable if tag in (q.tags or [])])
        for tag in TAGS_REPORTED if any(tag in (q.tags or []) for q in answerable)}
    results["search_latency"] = {"p50": _pct(lat, 50), "p95": _pct(lat, 95)}
    # refusal signal from retrieval alone (top dense cosine), for calibration
    results["top_dense"] = {
        "answerable_median": statistics.median([per_q[q.id]["top_dense"] for q in answerable]) if answerable else None}

    if not retrieval_only:
        judge = Judge(a.embedder)
        b = a.backend(backend)
        results["settings"]["backend"] = b
        adv = progress(f"ask ({b})", len(qs))
        recs = []
        for q in qs:
            try:
                ans = a.ask(q.question, b)
                rec = score_answer(q, ans, judge)
                per_q[q.id].update(answer=ans.text, refused=ans.refused, notes=ans.notes,
                                   citations=[{"n": c.n, "id": c.passage.id, "provision": c.passage.provision,
                                               "quote": c.quote} for c in ans.citations], scores=rec)
            except Exception as e:  # a failed question is recorded, the run goes on
                log.exception("question %s failed", q.id)
                rec = {"refused": True, "correct_refusal": not q.answerable, "false_refusal": q.answerable,
                       "verbatim": [], "cites_gold": False, "language_match": False, "first_token": None,
                       "total": None, "error": str(e)}
                per_q[q.id].update(error=str(e), scores=rec)
            recs.append(rec)
            adv(1)
        results["answers"] = _by_lang(qs, recs, lambda qq, rr: answer_metrics(qq, rr))
    results["per_question"] = list(per_q.values())
    results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    write_report(results, out)
    return results


# --- report --------------------------------------------------------------------------------------


def _flatten(results: dict) -> dict[str, float]:
    flat: dict[str, float] = {}
    for name, by in results.get("retrieval", {}).items():
        for lg, m in by.items():
            for k, v in m.items():
                if k != "n":
                    flat[f"retrieval/{name}/{lg}/{k}"] = v
    for lg, m in results.get("answers", {}).items():
        for k, v in m.items():
            if isinstance(v, float) and "latency" not in k and "first_token" not in k:
                flat[f"answers/{lg}/{k}"] = v
    return flat


LOWER_IS_BETTER = ("false_refusal_rate",)


def compare(prev: dict, cur: dict) -> list[dict]:
    a, b = _flatten(prev), _flatten(cur)
    rows = []
    for k in sorted(set(a) & set(b)):
        delta = b[k] - a[k]
        worse = delta > REGRESSION_DELTA if k.endswith(LOWER_IS_BETTER) else delta < -REGRESSION_DELTA
        rows.append({"metric": k, "previous": a[k], "current": b[k], "delta": delta, "regression": worse})
    return rows


def _comparable(settings: dict) -> tuple:
    return (*(settings.get(k) for k in ("backend", "lang", "limit")), settings.get("questions", QUESTIONS.name))


def _previous(reports: Path, exclude: Path, settings: dict, n_questions: int | None = None) -> dict | None:
    """The newest earlier report run with the same question file (and as many questions in it:
    a grown set is another set), backend, language and limit."""
    cands = sorted(d for d in reports.glob("*/results.json") if d.parent != exclude)
    for p in reversed(cands):
        try:
            prev = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if _comparable(prev.get("settings", {})) == _comparable(settings) and (
                n_questions is None or prev.get("questions") == n_questions):
            return prev
    return None


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3f}"
    return html.escape(str(v))


def _bar(v: float | None, width: int = 120) -> str:
    if v is None:
        return ""
    w = max(0, min(width, int(v * width)))
    return f'<svg width="{width}" height="10"><rect width="{w}" height="10" fill="#3b6ea5"/></svg>'


def render_html(results: dict, comparison: list[dict]) -> str:
    h = ["<!doctype html><meta charset='utf-8'><title>policy-rag evaluation</title>",
         "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;"
         "margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f3f3f3}"
         "td:first-child{text-align:left}.bad{background:#fdd}.ok{background:#dfd}</style>",
         f"<h1>policy-rag evaluation</h1><p>{_fmt(results['started'])} · {results['questions']} questions · "
         f"settings {html.escape(json.dumps(results['settings']))}</p>"]
    h.append("<h2>Retrieval (answerable questions)</h2><table><tr><th>system</th><th>lang</th><th>n</th>"
             "<th>R@1</th><th>R@5</th><th>R@10</th><th>MRR@10</th><th>nDCG@10</th><th>R@5</th></tr>")
    for name, by in results.get("retrieval", {}).items():
        for lg, m in by.items():
            h.append(f"<tr><td>{html.escape(name)}</td><td>{lg}</td><td>{m['n']}</td>" + "".join(
                f"<td>{_fmt(m[k])}</td>" for k in ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10"))
                + f"<td>{_bar(m['recall@5'])}</td></tr>")
    h.append("</table>")
    if results.get("retrieval_by_tag"):
        h.append("<h3>policy-rag by tag</h3><table><tr><th>tag</th><th>n</th><th>R@1</th><th>R@5</th><th>R@10</th>"
                 "<th>MRR@10</th></tr>")
        for tag, m in results["retrieval_by_tag"].items():
            h.append(f"<tr><td>{html.escape(tag)}</td><td>{m['n']}</td>" + "".join(
                f"<td>{_fmt(m[k])}</td>" for k in ("recall@1", "recall@5", "recall@10", "mrr@10")) + "</tr>")
        h.append("</table>")
    if "answers" in results:
        keys = ["n", "cites_gold", "verbatim_quotes", "citation_recall", "citation_precision", "faithfulness",
                "key_points", "refusal_accuracy", "false_refusal_rate", "language_match", "first_token_p50",
                "latency_total_p50", "latency_total_p95"]
        h.append(f"<h2>Answers (backend {html.escape(str(results['settings']['backend']))})</h2><table><tr>"
                 "<th>lang</th>" + "".join(f"<th>{k}</th>" for k in keys) + "</tr>")
        for lg, m in results["answers"].items():
            h.append(f"<tr><td>{lg}</td>" + "".join(f"<td>{_fmt(m.get(k))}</td>" for k in keys) + "</tr>")
        h.append("</table>")
    if comparison:
        regs = [r for r in comparison if r["regression"]]
        h.append(f"<h2>Against the previous run: {len(regs)} regression(s)</h2><table><tr><th>metric</th>"
                 "<th>previous</th><th>current</th><th>Δ</th></tr>")
        for r in comparison:
            cls = "bad" if r["regression"] else ("ok" if abs(r["delta"]) > REGRESSION_DELTA else "")
            h.append(f"<tr class='{cls}'><td>{html.escape(r['metric'])}</td><td>{_fmt(r['previous'])}</td>"
                     f"<td>{_fmt(r['current'])}</td><td>{r['delta']:+.3f}</td></tr>")
        h.append("</table>")
    h.append("<h2>Per question</h2><table><tr><th>id</th><th>question</th><th>gold</th><th>first gold rank</th>"
             "<th>answer</th><th>citations</th></tr>")
    for r in results["per_question"]:
        cites = "<br>".join(html.escape(f"[{c['n']}] {c['id']}") for c in r.get("citations", []))
        h.append(f"<tr><td>{html.escape(r['id'])}</td><td>{html.escape(r['question'])}</td>"
                 f"<td>{html.escape(', '.join(r['gold']))}</td><td>{_fmt(r.get('first_gold_rank'))}</td>"
                 f"<td style='text-align:left'>{html.escape(r.get('answer', ''))}</td><td>{cites}</td></tr>")
    h.append("</table>")
    return "\n".join(h)


def write_report(results: dict, out: Path | None = None) -> Path:
    out = out or REPORTS / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out.mkdir(parents=True, exist_ok=True)
    prev = _previous(out.parent, out, results.get("settings", {}), results.get("questions"))
    comparison = compare(prev, results) if prev else []
    results["comparison"] = comparison
    results["report_dir"] = str(out)
    (out / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str),
                                      encoding="utf-8")
    (out / "report.html").write_text(render_html(results, comparison), encoding="utf-8")
    return out


def summary_lines(results: dict) -> list[str]:
    lines = []
    for name, by in results.get("retrieval", {}).items():
        for lg, m in by.items():
            lines.append(f"{name:<52} {lg:<3} n={m['n']:<3} R@1 {m['recall@1']:.2f}  R@5 {m['recall@5']:.2f}  "
                         f"R@10 {m['recall@10']:.2f}  MRR {m['mrr@10']:.2f}  nDCG {m['ndcg@10']:.2f}")
    for tag, m in results.get("retrieval_by_tag", {}).items():
        lines.append(f"policy-rag, tag {tag:<37} n={m['n']:<3} R@5 {m['recall@5']:.2f}  MRR {m['mrr@10']:.2f}")
    for lg, m in results.get("answers", {}).items():
        lines.append(f"answers {lg:<3} " + "  ".join(f"{k} {_fmt(v)}" for k, v in m.items()))
    regs = [r for r in results.get("comparison", []) if r["regression"]]
    lines.append(f"{len(regs)} regression(s) against the previous run" + (": " + ", ".join(
        r["metric"] for r in regs[:8]) if regs else ""))
    lines.append(f"report: {results['report_dir']}/report.html")
    return lines


def main(args: Any, settings: Settings) -> int:
    from .cli import _progress_factory

    questions = Path(args.questions) if getattr(args, "questions", None) else QUESTIONS
    if not questions.is_file():
        raise PolicyRagError(f"The question file {questions} does not exist: give a JSONL file like "
                             f"{QUESTIONS.relative_to(REPO_ROOT)} with --questions.")
    res = run(settings, lang=args.lang, limit=args.limit, backend=args.backend, questions=questions,
              retrieval_only=args.retrieval_only,
              baselines=not args.no_baselines, out=Path(args.out) if args.out else None,
              progress=_progress_factory(sys.stderr.isatty() or True))
    for line in summary_lines(res):
        print(line)
    return 0
