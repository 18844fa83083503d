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
