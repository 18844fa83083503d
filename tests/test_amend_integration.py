"""amend.py on the real corpus: the Dutch AI Act as amended by Regulation (EU) 2026/1744.

Parses the three documents from the mirror (about 10 s) and consolidates them once per module.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from policy_rag import amend
from policy_rag.chunk import chunk_document
from policy_rag.parse import parse_source
from policy_rag.sources import load_manifest
from policy_rag.types import Block, Document

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[1]
NEW_ART4 = "Deze verplichting houdt niet in"
OLD_ART4 = "te zorgen voor een toereikend niveau van AI-geletterdheid"


@pytest.fixture(scope="module")
def docs() -> dict[str, Document]:
    from policy_rag.settings import default_mirror

    m = default_mirror()
    if not m or not Path(m).is_dir():
        pytest.skip("no corpus mirror")
    srcs = {s.id: s for s in load_manifest(REPO / "corpus" / "sources.toml")}
    return {sid: parse_source(Path(m) / srcs[sid].path, srcs[sid])
            for sid in ("ai-act-en-html", "ai-act-nl-html", "omnibus-nl-pdf")}


@pytest.fixture(scope="module")
def res(docs: dict[str, Document]) -> amend.Consolidation:
    from policy_rag.parse.eurlex_html import chapters_of
    from policy_rag.settings import default_mirror

    chapters = {sid: chapters_of(Path(default_mirror()) / d.source.path) for sid, d in docs.items()
                if d.source.format == "eurlex-html"}
    return amend.consolidate(list(docs.values()), chapters=chapters)


@pytest.fixture(scope="module")
def passages(res: amend.Consolidation) -> list:
    return [p for d in res.documents for p in chunk_document(d)]


def test_entry_into_force_dates(res: amend.Consolidation) -> None:
    assert res.entry_into_force == {"ai-act-en-html": "2024-08-01", "ai-act-nl-html": "2024-08-01",
                                    "omnibus-nl-pdf": "2026-07-27"}


def test_every_point_is_accounted_for(res: amend.Consolidation) -> None:
    s = res.summary()
    assert s["points"] == 43  # Article 1, points 1-43
    assert s["applied"] + s["not_applied"] == s["instructions"] >= 80
    assert all(i.status in ("applied", "not applied", "container") for i in res.instructions)
    assert all(i.reason for i in res.instructions if i.status == "not applied")


def test_article_4_today_and_before(passages: list) -> None:
    today = amend.versions(passages, "ai-act/nl/art-4", on="2026-12-02")
    assert today is not None and NEW_ART4 in today["current_text"] and OLD_ART4 not in today["current_text"]
    assert today["changed_by"][0]["id"] == "omnibus/nl/art-1.5"
    before = amend.versions(passages, "ai-act/nl/art-4", on="2025-06-01")
    assert before is not None and OLD_ART4 in before["current_text"] and NEW_ART4 not in before["current_text"]
    ids = {p.id: p for p in passages}
    assert ids["ai-act/nl/art-4@2024-08-01"].valid_to == "2026-07-27"
    assert ids["ai-act/nl/art-4.1"].valid_from == "2026-07-27"
    en = ids["ai-act/en/art-4"]  # no English text of the omnibus: marked, the Dutch wording as note
    assert en.valid_to == "2026-07-27" and NEW_ART4 in en.current_note
    assert en.current_note_source == "omnibus/nl/art-1.5"


def test_application_dates_table(res: amend.Consolidation, passages: list) -> None:
    def date_of(prov: str) -> set[str]:
        return {r.date for r in res.application_dates if prov in r.provisions}

    assert date_of("Annex III") == {"2027-12-02"}
    assert date_of("Annex I") == {"2028-08-02"}
    new = ("Article 5(1)(ba)", "Article 5(1)(bb)", "Article 5(1a)", "Article 5(1b)")
    for prov in new:
        assert date_of(prov) == {"2026-12-02"}
    assert {r.set_by for r in res.application_dates if "Annex III" in r.provisions} == {"omnibus/nl/art-1.40"}
    # those points exist in Article 5 as consolidated, in force today
    current = {p.provision for p in passages if p.doc == "ai-act" and p.lang == "nl" and amend.in_force(p, "2026-12-02")}
    assert set(new) <= current
    assert date_of("Chapter I") == {"2025-02-02"}
    # "from when does Article 26 apply": Chapter III, Section 3, two dates by kind of system
    art26 = amend.dates_for("Article 26", res.application_dates, res.chapters)
    assert sorted(r.date for r in art26) == ["2027-12-02", "2028-08-02"]
    assert [r.date for r in amend.dates_for("Article 5(1)(ba)", res.application_dates, res.chapters)] == ["2026-12-02"]
    assert res.chapters["Article 4a"] == "Chapter I"


def test_unchanged_passages_keep_id_and_hash(docs: dict[str, Document], passages: list) -> None:
    before = {p.id: p.content_hash for p in chunk_document(docs["ai-act-nl-html"])}
    after = {p.id: p.content_hash for p in passages}
    same = [pid for pid, h in before.items() if after.get(pid) == h]
    assert len(same) > 0.9 * len(before)
    assert after.get("ai-act/nl/art-5.1.a") == before["ai-act/nl/art-5.1.a"]


def test_an_unapplied_amendment_carries_a_note(docs: dict[str, Document]) -> None:
    om = docs["omnibus-nl-pdf"]
    odd = "in artikel 4 wordt na de eerste zin de volgende zin ingevoegd: “Dit is een extra zin.”;"
    extra = Block("Article 1(44)", "Artikel 1, punt 44)", om.blocks[-1].title, odd, "amendment", "page=1",
                  [], ["Article 4"], "Verordening (EU) 2024/1689 wordt als volgt gewijzigd:")
    res = amend.consolidate([docs["ai-act-en-html"], docs["ai-act-nl-html"], replace(om, blocks=[*om.blocks, extra])])
    (ins,) = [i for i in res.instructions if i.point == "Article 1(44)"]
    assert ins.status == "not applied" and ins.reason
    nl = next(d for d in res.documents if d.source.id == "ai-act-nl-html")
    notes = [b for b in nl.blocks if b.provision.startswith("Article 4(") and not b.history]
    assert notes and all(b.current_note == odd and b.current_note_source == "omnibus/nl/art-1.44" for b in notes)


def test_corrigenda_article_73(docs: dict[str, Document]) -> None:
    srcs = {s.id: s for s in load_manifest(REPO / "corpus" / "sources.toml")}
    from policy_rag.settings import default_mirror

    cons = parse_source(Path(default_mirror()) / srcs["ai-act-nl-consolidated"].path, srcs["ai-act-nl-consolidated"])
    fixed, changed = amend.apply_corrections(docs["ai-act-nl-html"], cons)
    assert "Article 73(10)" in changed
    by = {b.provision: b for b in fixed.blocks}
    assert by["Article 73(10)"].text.startswith("10. ") and by["Article 73(11)"].text.startswith("11. ")
    assert sum(b.kind == "recital" for b in fixed.blocks) == 180  # the OJ recitals are kept
