"""Verdicts, required elements and the wording in force: eval/verdicts.jsonl and eval/amended.jsonl.

    .venv/bin/python eval/score_verdicts.py                                  # tune split of both files, --backend none
    .venv/bin/python eval/score_verdicts.py --backend local --limit 25       # an evenly spread part, local LLM
    .venv/bin/python eval/score_verdicts.py --questions eval/amended.jsonl --on 2025-06-01
    .venv/bin/python eval/score_verdicts.py --split blind --blind-once       # the blind split: score it ONCE

Per file, backend and language (nl / en / all) it reports:

* retrieval (answerable questions): recall@5 = a gold provision among the top 5 passages
  (``policy_rag.evaluate.gold_matches``: the same rule as ``policy-rag eval``);
* ``gold_cited``: answers (not refused) that cite a gold provision;
* verdict accuracy: ``Answer.verdict`` normalised and compared with the expected verdict (and its
  ``verdict_also`` alternatives); an answer without a verdict counts as wrong and is counted
  apart as ``no_verdict``. ``verdict_acc_refusal_as_nis`` also counts a refusal without a verdict as
  "not-in-sources" (what a refusal says), for the ``none`` backend that may leave verdicts out;
* required-element recall: share of ``required_elements`` found in the answer text and its quotes
  (normalised: case, quotes, spaces and dots in numbers, "35 miljoen", number words, written dates);
* ``current_wording`` (amended.jsonl): answers whose text or citation quotes contain one of the
  question's ``current_wording`` substrings, and ``old_as_current``: answers that quote an
  ``old_wording`` substring other than from a passage marked as superseded on the question's date
  (``Passage.valid_to``); history stated in the answer's own text counts too, so read the records;
* refusals both ways (correct: unanswerable refused; false: answerable refused);
* first-token and total latency p50/p95 (``Answer.timings``).

A JSON report goes to eval/reports/score-verdicts/<UTC time>-<file>-<backend>.json and a table is
printed with the CPU model. The date: each question's ``on`` (amended.jsonl), else ``--on``, else
none; it is passed to ``Assistant.ask``/``retriever.search`` only when they take an ``on`` argument
(checked at run time; the report records ``on_supported``).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import signal
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from policy_rag.evaluate import (  # the same averages and percentiles as `policy-rag eval`
    _mean,
    _pct,
    evenly_spread,
)

ROOT = Path(__file__).resolve().parents[1]
FILES = (ROOT / "eval" / "verdicts.jsonl", ROOT / "eval" / "amended.jsonl")
REPORTS = ROOT / "eval" / "reports" / "score-verdicts"
CATEGORICAL = ("yes", "no", "yes-if", "no-unless", "not-in-sources")

# --------------------------------------------------------------------------- questions


def load(path: Path, *, split: str = "tune", lang: str | None = None, limit: int | None = None) -> list[dict]:
    """The questions of one file; ``split`` "tune", "blind" or "all"; ``limit`` takes an evenly
    spread part (every category and both languages, as ``policy-rag eval --limit``)."""
    qs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        q = json.loads(line)
        if split != "all" and q.get("split") != split:
            continue
        if lang and q["lang"] != lang:
            continue
        qs.append(q)
    return evenly_spread(qs, limit)


# --------------------------------------------------------------------------- normalisation

_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"], 1)}
_MONTHS.update({m: i for i, m in enumerate(
    ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
     "november", "december"], 1)})
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DMY = re.compile(rf"\b(\d{{1,2}})\s+({_MONTH_RE})\s+(\d{{4}})\b")
_MDY = re.compile(rf"\b({_MONTH_RE})\s+(\d{{1,2}}),?\s+(\d{{4}})\b")
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b")
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    ["", "", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]) if w}
_NUMBER_WORDS.update({w: str(i) for i, w in enumerate(
    ["", "", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen", "tien", "elf", "twaalf"]) if w})
_NUMBER_WORD_RE = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b")
_SCALE = re.compile(r"\b(\d+(?:[.,]\d+)?)\s*(miljoen|million|mln|miljard|billion)\b")
_GROUPED = re.compile(r"\b\d{1,3}(?:[ .,\u00a0\u202f]\d{3})+\b")


def _fold(s: str) -> str:
    s = unicodedata.normalize("NFC", s).replace("\u00ad", "")
    for a, b in (("’", "'"), ("‘", "'"), ("“", '"'), ("”", '"'), ("–", "-"), ("—", "-"), ("\u00a0", " "),
                 ("\u202f", " ")):
        s = s.replace(a, b)
    return s.lower()


def iso_dates(text: str) -> list[str]:
    """Dates written out in Dutch or English ("2 december 2027", "December 2, 2027", "2.12.2027") as ISO."""
    t = _fold(text)
    out = [f"{int(y):04d}-{_MONTHS[m]:02d}-{int(d):02d}" for d, m, y in _DMY.findall(t)]
    out += [f"{int(y):04d}-{_MONTHS[m]:02d}-{int(d):02d}" for m, d, y in _MDY.findall(t)]
    out += [f"{int(y):04d}-{int(mo):02d}-{int(d):02d}" for d, mo, y in _NUMERIC_DATE.findall(t)
            if 1 <= int(mo) <= 12 and 1 <= int(d) <= 31]
    out += re.findall(r"\b\d{4}-\d{2}-\d{2}\b", t)
    return out


def norm(text: str, dates: bool = True) -> str:
    """Lower case, one kind of quote and dash, number groups joined ("35 000 000", "35.000.000" and
    "35 miljoen" -> "35000000"), "7 %" -> "7%", number words -> digits, single spaces; the ISO form
    of every written date is appended, so an element "2027-12-02" finds "2 december 2027"."""
    t = _fold(text)
    found = iso_dates(t)

    def scale(m: re.Match) -> str:
        n = float(m.group(1).replace(",", "."))
        mult = 1_000_000_000 if m.group(2) in ("miljard", "billion") else 1_000_000
        return str(int(round(n * mult)))

    t = _GROUPED.sub(lambda m: re.sub(r"[ .,]", "", m.group(0)), t)
    t = _SCALE.sub(scale, t)
    t = re.sub(r"(\d)\s+%", r"\1%", t)
    t = re.sub(r"(\d),(\d)", r"\1.\2", t)  # decimal comma
    t = _NUMBER_WORD_RE.sub(lambda m: _NUMBER_WORDS[m.group(1)], t)
    t = re.sub(r"\s+", " ", t).strip()
    return t + (" " + " ".join(found) if found and dates else "")


def element_found(element: str | Sequence[str], text: str) -> bool:
    """A required element (a string, or a list of alternatives) occurs in ``text``, normalised."""
    alts = [element] if isinstance(element, str) else list(element)
    nt = norm(text)
    return any(norm(a, dates=False) and norm(a, dates=False) in nt for a in alts)


def squash(s: str) -> str:
    """For verbatim wording: no whitespace at all (PDF line breaks and hyphenation), folded case and quotes."""
    return re.sub(r"\s+", "", _fold(s))


def wording_found(substrings: Sequence[str], texts: Sequence[str]) -> bool:
    hay = [squash(t) for t in texts if t]
    return any(squash(s) and any(squash(s) in h for h in hay) for s in substrings)


_VERDICT_PREFIXES = [  # longest first; what a verdict may be written as, in both languages
    ("not-in-sources", ("not-in-sources", "not in sources", "de bronnen zeggen het niet", "de bronnen zeggen dat niet",
                        "the sources do not say", "the sources don't say", "niet in de bronnen")),
    ("no-unless", ("no-unless", "nee, behalve", "nee behalve", "nee, tenzij", "nee tenzij", "no, unless", "no unless",
                   "no, except", "no except")),
    ("yes-if", ("yes-if", "ja, onder voorwaarden", "ja onder voorwaarden", "ja, mits", "ja, als", "ja, indien",
                "yes, under conditions", "yes, if", "yes if", "yes, with conditions", "yes, provided")),
    ("yes", ("yes", "ja")),
    ("no", ("no", "nee")),
]


def norm_verdict(v: str | None) -> str:
    """Answer.verdict -> one of CATEGORICAL when it is one (in either language), else the value folded."""
    if not v:
        return ""
    t = re.sub(r"\s+", " ", _fold(v)).strip(" .!")
    for canon, forms in _VERDICT_PREFIXES:
        for f in forms:
            if t == f or (t.startswith(f) and not t[len(f):len(f) + 1].isalnum()):
                return canon
    return t


def _numbers(s: str) -> list[str]:
    return re.findall(r"\d+(?:\.\d+)?%?", norm(s, dates=False))


def value_matches(expected: str, kind: str, got: str) -> bool:
    """date: the ISO date occurs (written any way); amount: every number of the expected value occurs
    among the verdict's numbers ("EUR 35 000 000 or 7 %" needs 35000000 and 7%); list: every
    "; "-separated item has one of its "|"-alternatives in the verdict."""
    if not got:
        return False
    if kind == "date":
        return expected in norm(got)
    if kind == "amount":
        want, have = _numbers(expected), set(_numbers(got))
        return bool(want) and all(n in have for n in want)
    items = [i for i in expected.split(";") if i.strip()]
    return bool(items) and all(element_found([a.strip() for a in item.split("|")], got) for item in items)


def verdict_correct(q: dict, verdict: str | None) -> bool | None:
    """None when the question has no expected verdict."""
    exp = q.get("verdict") or ""
    if not exp:
        return None
    got = norm_verdict(verdict)
    if not got:
        return False
    kind = q.get("verdict_kind") or ("categorical" if exp in CATEGORICAL else "list")
    if kind == "categorical":
        return got in {exp, *q.get("verdict_also", [])}
    if got in CATEGORICAL:
        return False
    return value_matches(exp, kind, verdict or "")


# --------------------------------------------------------------------------- one answer


def _superseded(passage: Any, on: str | None) -> bool:
    vt = getattr(passage, "valid_to", "") or ""
    return bool(vt) and bool(on) and vt <= on  # type: ignore[operator]


def score_answer(q: dict, ans: Any, on: str | None = None) -> dict[str, Any]:
    """One question's record, from an Answer (or anything with its fields)."""
    from policy_rag.evaluate import gold_matches

    cites = list(getattr(ans, "citations", []) or [])
    quotes = [c.quote for c in cites]
    texts = [ans.text or "", *quotes]
    refused = bool(ans.refused)
    answerable = bool(q.get("answerable", True))
    verdict = getattr(ans, "verdict", "") or ""
    rec: dict[str, Any] = {
        "refused": refused,
        "correct_refusal": (not answerable) and refused,
        "false_refusal": answerable and refused,
        "verdict": verdict or None,
        "verdict_norm": norm_verdict(verdict) or None,
        "no_verdict": not verdict,
        "verdict_correct": verdict_correct(q, verdict),
        "gold_cited": any(gold_matches(g, c.passage.doc, c.passage.provision) for c in cites for g in q.get("gold", [])),
        "first_token": (getattr(ans, "timings", {}) or {}).get("first_token"),
        "total": (getattr(ans, "timings", {}) or {}).get("total"),
        "answer_on": getattr(ans, "on", "") or None,
    }
    if q.get("verdict"):
        lenient = rec["verdict_correct"]
        if not verdict and refused:
            lenient = q["verdict"] == "not-in-sources" or "not-in-sources" in q.get("verdict_also", [])
        rec["verdict_correct_refusal_as_nis"] = lenient
    req = q.get("required_elements") or []
    if req and answerable:
        joined = "\n".join(texts)
        found = [element_found(e, joined) for e in req]
        rec["required_found"] = found
        rec["required_recall"] = sum(found) / len(found)
    if q.get("current_wording"):
        rec["current_wording"] = (not refused) and wording_found(q["current_wording"], texts)
    if q.get("old_wording"):
        live = [ans.text or ""] + [c.quote for c in cites if not _superseded(c.passage, on)]
        rec["old_as_current"] = (not refused) and wording_found(q["old_wording"], live)
    return rec


# --------------------------------------------------------------------------- aggregates


def metrics(qs: Sequence[dict], recs: Sequence[dict]) -> dict[str, Any]:
    ans = [r for q, r in zip(qs, recs) if q.get("answerable", True)]
    una = [r for q, r in zip(qs, recs) if not q.get("answerable", True)]
    with_v = [r for q, r in zip(qs, recs) if q.get("verdict")]
    return {
        "n": len(recs),
        "recall@5": _mean([r.get("rank") is not None and r["rank"] <= 5 for r in ans if "rank" in r]),
        "gold_cited": _mean([r["gold_cited"] for r in ans if not r["refused"]]),
        "verdict_acc": _mean([r["verdict_correct"] for r in with_v]),
        "verdict_acc_refusal_as_nis": _mean([r.get("verdict_correct_refusal_as_nis") for r in with_v]),
        "no_verdict": sum(bool(r["no_verdict"]) for r in with_v),
        "n_verdict": len(with_v),
        "required_recall": _mean([r.get("required_recall") for r in ans]),
        "current_wording": _mean([r.get("current_wording") for r in recs]),
        "old_as_current": sum(bool(r.get("old_as_current")) for r in recs),
        "correct_refusal": _mean([r["correct_refusal"] for r in una]),
        "false_refusal": _mean([r["false_refusal"] for r in ans]),
        "first_token_p50": _pct([r["first_token"] for r in recs], 50),
        "first_token_p95": _pct([r["first_token"] for r in recs], 95),
        "total_p50": _pct([r["total"] for r in recs], 50),
        "total_p95": _pct([r["total"] for r in recs], 95),
        "verdicts_seen": dict(Counter(r["verdict_norm"] or "-" for r in with_v).most_common(8)),
    }


def by_lang(qs: Sequence[dict], recs: Sequence[dict]) -> dict[str, dict]:
    out = {}
    for lg in ("nl", "en", "all"):
        idx = [i for i, q in enumerate(qs) if lg == "all" or q["lang"] == lg]
        if idx:
            out[lg] = metrics([qs[i] for i in idx], [recs[i] for i in idx])
    return out


# --------------------------------------------------------------------------- the run


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def _takes_on(fn: Any) -> bool:
    try:
        return "on" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def run_file(a: Any, path: Path, *, backend: str, split: str, lang: str | None, limit: int | None,
             on: str | None, progress: bool = True) -> dict[str, Any]:
    from policy_rag.evaluate import first_gold_rank

    qs = load(path, split=split, lang=lang, limit=limit)
    ask_on, search_on = _takes_on(a.ask), _takes_on(a.retriever.search)
    b = a.backend(backend)
    recs, per_q = [], []
    interrupted = False
    for i, q in enumerate(qs, 1):
        q_on = q.get("on") or on
        t = time.perf_counter()
        try:
            kw = {"on": q_on} if (q_on and search_on) else {}
            res = a.retriever.search(q["question"], k=10, **kw)
            ranked = [(h.passage.doc, h.passage.provision) for h in res.hits]
            kw = {"on": q_on} if (q_on and ask_on) else {}
            ans = a.ask(q["question"], b, **kw)
            rec = score_answer(q, ans, q_on)
            if q.get("answerable", True):
                rec["rank"] = first_gold_rank(ranked, q.get("gold", []))
            rec.update(answer=ans.text, citations=[{"id": c.passage.id, "provision": c.passage.provision,
                                                    "quote": c.quote} for c in ans.citations],
                       refusal_reason=ans.refusal_reason or None, retrieved=[h.passage.id for h in res.hits[:5]])
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM: stop here, report the questions done
            interrupted = True
            break
        except Exception as e:  # a failed question is recorded; the run goes on
            rec = {"refused": True, "correct_refusal": not q.get("answerable", True),
                   "false_refusal": bool(q.get("answerable", True)), "verdict": None, "verdict_norm": None,
                   "no_verdict": True, "verdict_correct": False if q.get("verdict") else None,
                   "verdict_correct_refusal_as_nis": False if q.get("verdict") else None,
                   "gold_cited": False, "first_token": None, "total": None, "error": repr(e)}
        recs.append(rec)
        per_q.append({"id": q["id"], "lang": q["lang"], "question": q["question"], "on": q_on,
                      "expected": q.get("verdict"), **rec})
        if progress:
            print(f"  {path.name} {i}/{len(qs)} {q['id']} {time.perf_counter() - t:.1f}s", file=sys.stderr)
    done = qs[:len(recs)]
    return {"file": path.name, "split": split, "backend": b, "lang": lang, "limit": limit, "on": on,
            "on_supported": {"ask": ask_on, "search": search_on}, "questions": len(done),
            "interrupted": interrupted, "of_questions": len(qs), "by_lang": by_lang(done, recs), "per_question": per_q}


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.2f}"
    return str(v)


COLUMNS = [("R@5", "recall@5"), ("cited", "gold_cited"), ("verdict", "verdict_acc"),
           ("v+ref", "verdict_acc_refusal_as_nis"), ("no-v", "no_verdict"), ("req", "required_recall"),
           ("cur", "current_wording"), ("old!", "old_as_current"), ("ref-ok", "correct_refusal"),
           ("ref-bad", "false_refusal"), ("ft50", "first_token_p50"), ("ft95", "first_token_p95"),
           ("tot50", "total_p50"), ("tot95", "total_p95")]


def table(results: Sequence[dict]) -> str:
    head = f"{'file':<16}{'split':<6}{'backend':<8}{'lang':<5}{'n':>4} " + " ".join(f"{c:>7}" for c, _ in COLUMNS)
    lines = [head, "-" * len(head)]
    for r in results:
        for lg, m in r["by_lang"].items():
            lines.append(f"{r['file']:<16}{r['split']:<6}{r['backend']:<8}{lg:<5}{m['n']:>4} "
                         + " ".join(f"{_fmt(m[k]):>7}" for _, k in COLUMNS))
    return "\n".join(lines)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--questions", action="append", help="question file(s); default both verdicts.jsonl and amended.jsonl")
    p.add_argument("--split", choices=("tune", "blind", "all"), default="tune")
    p.add_argument("--blind-once", action="store_true", help="required to score the blind split (do it once)")
    p.add_argument("--backend", default="none", choices=("none", "local", "hosted"))
    p.add_argument("--lang", choices=("nl", "en"))
    p.add_argument("--limit", type=int, help="an evenly spread part of each file")
    p.add_argument("--on", help="YYYY-MM-DD: the date whose law is asked (questions with their own `on` keep it)")
    p.add_argument("--out", help="report path (default eval/reports/score-verdicts/<time>-<file>-<backend>.json)")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    if args.split in ("blind", "all") and not args.blind_once:
        p.error("the blind split is scored once, for a before/after figure: add --blind-once if that is what this is")
    if args.on and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", args.on):
        p.error("--on takes a date as YYYY-MM-DD")
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from policy_rag.assistant import Assistant

    files = [Path(f) for f in args.questions] if args.questions else list(FILES)
    signal.signal(signal.SIGTERM, _interrupt)  # a run cut short still writes its report
    a = Assistant()
    started = datetime.now(UTC)
    results = []
    for f in files:
        results.append(run_file(a, f, backend=args.backend, split=args.split, lang=args.lang, limit=args.limit,
                                on=args.on, progress=not args.quiet))
        if results[-1]["interrupted"]:
            break
    commit = os.popen(f"git -C {ROOT} rev-parse --short HEAD 2>/dev/null").read().strip()
    report = {"started": started.isoformat(timespec="seconds"),
              "finished": datetime.now(UTC).isoformat(timespec="seconds"),
              "cpu": cpu_model(), "cores": os.cpu_count(), "commit": commit, "passages": len(a.index.passages),
              "results": results}
    stem = "+".join(f.stem for f in files)
    out = Path(args.out) if args.out else REPORTS / f"{started.strftime('%Y%m%dT%H%M%SZ')}-{stem}-{args.split}-{args.backend}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    print(f"CPU: {report['cpu']} ({report['cores']} cores), code {commit}, {report['passages']} passages")
    print(table(results))
    for r in results:
        if r["interrupted"]:
            print(f"note: {r['file']}: interrupted after {r['questions']} of {r['of_questions']} questions")
        if r["questions"] and not (r["on_supported"]["ask"] and r["on_supported"]["search"]):
            print(f"note: {r['file']}: the Assistant does not take `on` yet (ask {r['on_supported']['ask']}, "
                  f"search {r['on_supported']['search']}): answered with the index as it is")
    print(f"report: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
