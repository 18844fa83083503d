"""Validity checks for the hand-made evaluation set (eval/questions.jsonl).

Fast and offline: only the JSONL file is read. The range checks against the corpus
(article/recital/annex/paragraph numbers) need no parsing either: the numbers are the
published structure of the documents (AI Act: 113 articles, 180 recitals, annexes I-XIII;
guidelines C(2025) 5052: paragraphs 1-433; C(2025) 5053: 1-64; omnibus: recitals 1-47,
Article 1 points 1-43, Articles 1-4). They run only when the corpus mirror is present,
so that a checkout without the mirror still passes.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "eval" / "questions.jsonl"
HELDOUT = ROOT / "eval" / "heldout.jsonl"  # written blind to the system; never tuned on
HELDOUT2 = ROOT / "eval" / "heldout2.jsonl"  # second blind held-out set (fourth session)
HELDOUT3 = ROOT / "eval" / "heldout3.jsonl"  # third blind held-out set (fifth session)
MIRROR = Path(os.environ.get("POLICY_RAG_MIRROR", ROOT.parent / "shared" / "corpus"))

DOCS = {
    "ai-act",
    "guidelines-prohibited",
    "guidelines-ai-system",
    "omnibus",
    "page-european-approach",
    "page-ai-office",
    "page-ai-pact",
}
PAGE_DOCS = {d for d in DOCS if d.startswith("page-")}
CATEGORIES = {
    "prohibited", "high-risk", "obligations", "transparency", "definitions", "timeline",
    "gpai", "governance", "penalties", "sme-support", "guidelines", "omnibus", "pages",
    "citation", "out-of-scope",
}
FIELDS = {"id", "lang", "question", "answerable", "gold", "key_points", "category", "tags"}

ROMAN = r"(?:XIII|XII|XI|X|IX|VIII|VII|VI|V|IV|III|II|I)"
# Canonical provisions per doc (see src/policy_rag/types.py, Block.provision).
PROVISION_RE = {
    "ai-act": re.compile(
        r"^(?:Article (?P<art>\d{1,3})(?:\((?:\d{1,2}[a-z]?)\)(?:\([a-z]{1,4}\))*)?"
        r"|Recital (?P<rct>\d{1,3})"
        rf"|Annex (?P<anx>{ROMAN})(?:\(\d{{1,2}}\)(?:\([a-z]\))?)?)$"
    ),
    "guidelines-prohibited": re.compile(r"^Paragraph (?P<par>\d{1,3})$"),
    "guidelines-ai-system": re.compile(r"^Paragraph (?P<par>\d{1,3})$"),
    "omnibus": re.compile(r"^(?:Article (?P<art>\d)(?:\((?P<point>\d{1,2})\))?|Recital (?P<rct>\d{1,2}))$"),
}
ID_RE = re.compile(r"^(nl|en)-h?\d{3}$")


def load(path: Path = QUESTIONS) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as e:  # pragma: no cover - message only
                    pytest.fail(f"line {n}: not JSON: {e}")
    return rows


QS = load()
HQS = load(HELDOUT)
HQS2 = load(HELDOUT2)
HQS3 = load(HELDOUT3)
ALL = QS + HQS + HQS2 + HQS3
HID_RE = re.compile(r"^(nl|en)-h\d{3}$")


def split_gold(g: str) -> tuple[str, str]:
    doc, _, prov = g.partition(":")
    return doc, prov


def test_size_and_unique_ids():
    assert len(QS) >= 160
    ids = [q["id"] for q in QS]
    dup = [i for i, c in Counter(ids).items() if c > 1]
    assert not dup, f"duplicate ids: {dup}"


@pytest.mark.parametrize("later", [1, 2, 3])
def test_heldout_sets_are_separate(later):
    sets = [QS, HQS, HQS2, HQS3]
    new, others = sets[later], [q for s in sets[:later] for q in s]
    assert len(new) >= 60
    assert all(HID_RE.match(q["id"]) for q in new)
    assert len({q["id"] for q in new}) == len(new)
    assert not {q["id"] for q in others} & {q["id"] for q in new}
    assert not {q["question"].lower() for q in others} & {q["question"].lower() for q in new}
    assert {q["lang"] for q in new} == {"nl", "en"} and any(not q["answerable"] for q in new)


@pytest.mark.parametrize("q", ALL, ids=[q["id"] for q in ALL])
def test_schema(q):
    assert set(q) == FIELDS, f"fields: {sorted(set(q) ^ FIELDS)}"
    assert ID_RE.match(q["id"]) and q["id"].startswith(q["lang"] + "-")
    assert q["lang"] in ("nl", "en")
    assert isinstance(q["question"], str) and len(q["question"].strip()) >= 8
    assert isinstance(q["answerable"], bool)
    assert isinstance(q["gold"], list) and all(isinstance(g, str) for g in q["gold"])
    assert isinstance(q["key_points"], list) and all(isinstance(k, str) and k.strip() for k in q["key_points"])
    assert isinstance(q["tags"], list) and all(isinstance(t, str) and t for t in q["tags"])
    assert q["category"] in CATEGORIES
    assert len(set(q["gold"])) == len(q["gold"]), "duplicate gold entry"
    if q["answerable"]:
        assert q["gold"], "answerable question without gold"
        assert 1 <= len(q["key_points"]) <= 3
        assert q["category"] != "out-of-scope"
    else:
        assert q["gold"] == [] and q["key_points"] == []
        assert q["category"] == "out-of-scope"


@pytest.mark.parametrize("q", [q for q in ALL if q["gold"]], ids=[q["id"] for q in ALL if q["gold"]])
def test_gold_well_formed(q):
    for g in q["gold"]:
        doc, prov = split_gold(g)
        assert doc in DOCS, f"{g}: unknown doc id"
        if doc in PAGE_DOCS:
            assert ":" not in g, f"{g}: web pages are cited at document level"
            continue
        assert PROVISION_RE[doc].match(prov), f"{g}: provision not canonical"


def test_language_mix():
    n = len(QS)
    langs = Counter(q["lang"] for q in QS)
    assert langs["nl"] / n >= 0.40 and langs["en"] / n >= 0.40, langs


def test_unanswerable_share():
    un = [q for q in QS if not q["answerable"]]
    assert len(un) / len(QS) >= 0.15, f"{len(un)} unanswerable of {len(QS)}"
    # both kinds: plainly off-topic and on-topic questions the corpus does not answer
    tags = Counter(t for q in un for t in q["tags"])
    assert tags["off-topic"] >= 5 and tags["on-topic-unanswerable"] >= 5, tags


def test_cross_language_tags():
    en_only = [q for q in QS if q["lang"] == "nl" and "en-only-source" in q["tags"]]
    assert len(en_only) >= 12
    for q in en_only:  # the answer is in an English-only source
        assert any(split_gold(g)[0] in ("guidelines-prohibited", "guidelines-ai-system", "page-ai-pact")
                   for g in q["gold"]), q["id"]
    nl_only = [q for q in QS if q["lang"] == "en" and "nl-only-source" in q["tags"]]
    assert len(nl_only) >= 3
    for q in nl_only:  # the most direct answer is in a Dutch-only source
        assert split_gold(q["gold"][0])[0] in ("omnibus", "page-european-approach", "page-ai-office"), q["id"]


def test_omnibus_questions():
    om = [q for q in QS if q["category"] == "omnibus"]
    assert len(om) >= 10
    for q in om:
        assert any(g.startswith("omnibus:") for g in q["gold"]), q["id"]
    # questions whose answer changed: the amendment point AND the provision of the AI Act it amends
    both = [q for q in om
            if any(re.match(r"^omnibus:Article 1\(\d+\)$", g) for g in q["gold"])
            and any(g.startswith("ai-act:") for g in q["gold"])]
    assert len(both) >= 10, len(both)


def test_definition_questions_point_at_article_3():
    defs = [q for q in QS if q["category"] == "definitions"]
    assert len(defs) >= 10
    for q in defs:
        assert q["gold"][0].startswith("ai-act:Article 3("), q["id"]


def test_categories_present():
    present = {q["category"] for q in QS}
    assert present == CATEGORIES, CATEGORIES - present


# ------------------------------------------------------------------ ranges against the corpus
RANGES = {
    ("ai-act", "art"): (1, 113),
    ("ai-act", "rct"): (1, 180),
    ("guidelines-prohibited", "par"): (1, 433),
    ("guidelines-ai-system", "par"): (1, 64),
    ("omnibus", "rct"): (1, 47),
    ("omnibus", "art"): (1, 4),
    ("omnibus", "point"): (1, 43),
}
ROMAN_VAL = {r: i for i, r in enumerate(
    ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII"], 1)}


@pytest.mark.skipif(not MIRROR.is_dir(), reason="corpus mirror not present")
def test_gold_within_document_ranges():
    # the mirror is only consulted for presence: the files of the referenced docs must exist
    for rel in ("en/ai-act/OJ_L_202401689_EN_TXT.html",
                "en/guidelines/C-2025-5052_Commission_Guidelines_prohibited_AI_practices_EN.pdf",
                "en/guidelines/C-2025-5053_Commission_Guidelines_AI_system_definition_EN.pdf",
                "nl/digital-omnibus/PE-30-2026-INIT_nl.pdf"):
        assert (MIRROR / rel).is_file(), rel
    bad = []
    for q in ALL:
        for g in q["gold"]:
            doc, prov = split_gold(g)
            if doc in PAGE_DOCS:
                continue
            m = PROVISION_RE[doc].match(prov)
            for key, val in m.groupdict().items():
                if val is None:
                    continue
                if key == "anx":
                    ok = val in ROMAN_VAL
                else:
                    lo, hi = RANGES[(doc, key)]
                    ok = lo <= int(val) <= hi
                if not ok:
                    bad.append(f"{q['id']}: {g}")
            if doc == "omnibus" and m.group("point") and m.group("art") not in ("1", "2", "3"):
                # Article 1 amends the AI Act point by point, Articles 2 and 3 other acts
                bad.append(f"{q['id']}: {g} (numbered amendment points are in Articles 1-3)")
    assert not bad, bad


# ------------------------------------------------------------------ verdict and amended-law sets
# eval/verdicts.jsonl (issue 13) and eval/amended.jsonl (issue 12), scored by eval/score_verdicts.py.
VERDICTS = ROOT / "eval" / "verdicts.jsonl"
AMENDED = ROOT / "eval" / "amended.jsonl"
VQS = load(VERDICTS)
AQS = load(AMENDED)
TODAY = "2026-12-02"
OMNIBUS_IN_FORCE = "2026-07-27"  # Regulation (EU) 2026/1744: OJ 24.7.2026, in force on the third day after
CATEGORICAL_VERDICTS = {"yes", "no", "yes-if", "no-unless", "not-in-sources"}
V_FIELDS = {"id", "lang", "question", "answerable", "gold", "verdict", "verdict_also", "verdict_kind",
            "required_elements", "category", "tags", "split"}
A_FIELDS = V_FIELDS | {"on", "current_wording", "old_wording"}
ISSUE_13_EXAMPLES = {
    "Wij gebruiken een chatbot op onze website. Moeten we klanten vertellen dat ze met AI praten?",
    "Moet mijn personeel een AI-training volgen?",
    "Wat is de maximale boete voor het gebruik van een verboden AI-praktijk?",
    "Mag ik emotieherkenning gebruiken op de werkplek?",
    "Wat doet het Europees AI-bureau?",
}


def _manifest_docs() -> set[str]:
    import tomllib

    data = tomllib.loads((ROOT / "corpus" / "sources.toml").read_text(encoding="utf-8"))
    return {s["doc"] for s in data["source"]}


def test_verdict_and_amended_sets_size_ids_and_splits():
    assert len(VQS) >= 80 and len(AQS) >= 30
    assert Counter(q["lang"] for q in VQS)["nl"] >= 40 and Counter(q["lang"] for q in VQS)["en"] >= 40
    assert {q["lang"] for q in AQS} == {"nl", "en"}
    ids = [q["id"] for q in VQS + AQS + ALL]
    assert not [i for i, c in Counter(ids).items() if c > 1]
    assert all(re.fullmatch(r"(nl|en)-v\d{3}", q["id"]) for q in VQS)
    assert all(re.fullmatch(r"(nl|en)-a\d{3}", q["id"]) for q in AQS)
    for qs in (VQS, AQS):
        assert {q["split"] for q in qs} == {"tune", "blind"}
        share = sum(q["split"] == "blind" for q in qs) / len(qs)
        assert 0.25 <= share <= 0.40, share  # about one third blind
    earlier = {q["question"].lower() for q in ALL}
    assert not earlier & {q["question"].lower() for q in VQS + AQS}, "a question of another file repeated"
    assert len({q["question"].lower() for q in VQS + AQS}) == len(VQS + AQS)


def test_issue_13_examples_are_in_the_tune_split():
    tune = {q["question"] for q in VQS if q["split"] == "tune"}
    assert ISSUE_13_EXAMPLES <= tune


@pytest.mark.parametrize("q", VQS + AQS, ids=[q["id"] for q in VQS + AQS])
def test_verdict_schema(q):
    from policy_rag import legal

    assert set(q) == (A_FIELDS if q["id"][3] == "a" else V_FIELDS), sorted(set(q) ^ V_FIELDS)
    assert q["id"].startswith(q["lang"] + "-") and len(q["question"].strip()) >= 8
    assert isinstance(q["answerable"], bool) and q["category"] in CATEGORIES
    assert all(isinstance(t, str) and t for t in q["tags"])
    docs = _manifest_docs()
    for g in q["gold"]:
        doc, prov = split_gold(g)
        assert doc in docs, f"{g}: doc not in corpus/sources.toml"
        if doc in PAGE_DOCS:
            assert not prov, f"{g}: web pages are cited at document level"
        else:
            assert legal.parse(prov) is not None and legal.canonical(prov) == prov, f"{g}: not canonical"
    kind, v = q["verdict_kind"], q["verdict"]
    assert set(q["verdict_also"]) <= CATEGORICAL_VERDICTS - {v}
    if kind == "categorical":
        assert v in CATEGORICAL_VERDICTS
    elif kind == "date":
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", v)
    elif kind == "amount":
        assert re.search(r"\d", v)
    elif kind == "list":
        assert v and all(i.strip() for i in v.split(";"))
    else:
        assert kind == "" and v == "" and q["id"][3] == "a", "only amended questions may ask for no verdict"
    for e in q["required_elements"]:
        alts = [e] if isinstance(e, str) else e
        assert alts and all(isinstance(a, str) and a.strip() for a in alts)
    if q["answerable"]:
        assert q["gold"] and q["category"] != "out-of-scope"
    else:
        assert q["gold"] == [] and v == "not-in-sources" and q["category"] == "out-of-scope"
        assert {"off-topic", "on-topic-unanswerable"} & set(q["tags"])


def test_verdict_set_mix():
    kinds = Counter(q["verdict_kind"] for q in VQS)
    assert kinds["categorical"] >= 40 and kinds["date"] >= 5 and kinds["amount"] >= 8 and kinds["list"] >= 4
    assert sum(not q["answerable"] for q in VQS) >= 6
    changed = [q for q in VQS if "changed-by-omnibus" in q["tags"]]
    assert len(changed) >= 10
    for q in changed:  # the law in force today: the omnibus point is in the gold
        assert any(g.startswith("omnibus:") for g in q["gold"]), q["id"]


@pytest.mark.parametrize("q", AQS, ids=[q["id"] for q in AQS])
def test_amended_question(q):
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", q["on"]) and q["on"] <= TODAY
    assert 1 <= len(q["current_wording"]) <= 3 and all(len(s) >= 10 for s in q["current_wording"])
    assert all(len(s) >= 10 for s in q["old_wording"])
    assert any(g.startswith("ai-act:") for g in q["gold"])
    if q["on"] >= OMNIBUS_IN_FORCE:  # the provision as amended AND the omnibus point that amended it
        assert any(re.fullmatch(r"omnibus:Article 1\(\d+\)", g) for g in q["gold"]), q["gold"]


def test_amended_set_has_earlier_dates_and_both_languages():
    earlier = [q for q in AQS if q["on"] < OMNIBUS_IN_FORCE]
    assert len(earlier) >= 3 and {q["lang"] for q in earlier} == {"nl", "en"}
    assert sum(q["on"] == TODAY for q in AQS) >= 25
    points = {g for q in AQS for g in q["gold"] if g.startswith("omnibus:Article 1(")}
    assert {"omnibus:Article 1(5)", "omnibus:Article 1(40)"} <= points and len(points) >= 15


def _squash(s: str) -> str:
    for a, b in (("’", "'"), ("‘", "'"), ("“", '"'), ("”", '"'), ("\u00ad", "")):
        s = s.replace(a, b)
    return re.sub(r"\s+", "", s).lower()


@pytest.mark.skipif(not MIRROR.is_dir(), reason="corpus mirror not present")
def test_wording_is_verbatim_from_the_corpus():
    """current_wording is copied from the text in force on the question's date (the omnibus's new text
    from its entry into force, the 2024 AI Act before), old_wording from the other one, and each
    occurs only where it should (so that quoting it tells the two versions apart)."""
    import warnings

    from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning
    from pypdf import PdfReader

    warnings.filterwarnings("ignore", category=XMLParsedAsHTMLWarning)
    omnibus = _squash("\n".join(p.extract_text() or "" for p in
                                PdfReader(str(MIRROR / "nl/digital-omnibus/PE-30-2026-INIT_nl.pdf")).pages))
    act = "".join(_squash(BeautifulSoup((MIRROR / rel).read_bytes(), "lxml").get_text(" ")) for rel in
                  ("nl/ai-act/OJ_L_202401689_NL_TXT.html", "en/ai-act/OJ_L_202401689_EN_TXT.html"))
    bad = []
    for q in AQS:
        now, then = (act, omnibus) if q["on"] < OMNIBUS_IN_FORCE else (omnibus, act)
        bad += [f"{q['id']} current: {s}" for s in q["current_wording"] if _squash(s) not in now or
                (now is omnibus and _squash(s) in act)]
        bad += [f"{q['id']} old: {s}" for s in q["old_wording"] if _squash(s) not in then or
                (then is act and _squash(s) in omnibus)]
    assert not bad, bad
