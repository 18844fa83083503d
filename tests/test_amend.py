"""amend.py: Dutch amending instructions parsed and applied to an act, with versions and dates.

Small made-up acts: an act "toy" (NL and EN) and an amending act "wijz" whose points are blocks
of kind "amendment", as parse/omnibus_pdf.py gives them.
"""

from __future__ import annotations

import json

import pytest

from policy_rag import amend, legal
from policy_rag.chunk import chunk_document
from policy_rag.types import Block, Document, Source


def _src(id_: str, doc: str, lang: str = "nl", *, kind: str = "act", published: str = "2024-07-12",
         amends: str = "") -> Source:
    return Source(id=id_, doc=doc, title=f"title {id_}", lang=lang, kind=kind, format="eurlex-html", version="v1",
                  url=f"https://example.org/{id_}", path=f"{id_}.html", sha256="0" * 64, published=published,
                  amends=amends)


def _b(prov: str, text: str, *, kind: str = "article", title: str = "Titel", context: str = "") -> Block:
    return Block(prov, legal.label(prov, "nl"), title, text, kind, "", [], [], context)  # type: ignore[arg-type]


def _act(lang: str = "nl") -> Document:
    return Document(_src(f"toy-{lang}", "toy", lang), [
        _b("Recital 1", "(1) Overweging.", kind="recital"),
        _b("Article 1(1)", "1. Dit is lid een."),
        _b("Article 1(2)", "2. De volgende dingen zijn verboden:\na) appels;\nb) peren;\nc) pruimen.\n"
                           "Punt b) geldt niet op zondag."),
        _b("Article 1(3)", "3. Dit is lid drie."),
        _b("Article 2", "Dit artikel heeft geen leden.", title="Oud"),
        _b("Article 3", "Deze verordening treedt in werking op de twintigste dag na die van de bekendmaking ervan.\n"
                        "Zij is van toepassing met ingang van 2 augustus 2026.\nEvenwel zijn:\n"
                        "a) de hoofdstukken I en II van toepassing met ingang van 2 februari 2025;\n"
                        "b) artikel 2 van toepassing met ingang van 2 augustus 2027.", title="Inwerkingtreding"),
        _b("Annex I(1)", "1. Richtlijn een", kind="annex", context="Afdeling A — Lijst"),
        _b("Annex I(2)", "2. Richtlijn twee", kind="annex", context="Afdeling B — Lijst"),
    ])


def _amending(*points: str, published: str = "2026-07-24") -> Document:
    blocks = [Block(f"Article 1({k})", f"Artikel 1, punt {k})", "Wijzigingen", text, "amendment", f"page={k}",
                    [], [], "Verordening (EU) 2024/1689 wordt als volgt gewijzigd:")
              for k, text in enumerate(points, 1)]
    blocks.append(Block("Article 2", "Artikel 2", "Inwerkingtreding",
                        "Deze verordening treedt in werking op de derde dag na die van de bekendmaking ervan in het "
                        "Publicatieblad van de Europese Unie.", "article"))
    return Document(_src("wijz-nl", "wijz", kind="amending-act", published=published, amends="toy"), blocks)


def _run(*points: str) -> tuple[amend.Consolidation, dict[str, list[Block]]]:
    res = amend.consolidate([_act("en"), _act("nl"), _amending(*points)])
    nl = next(d for d in res.documents if d.source.id == "toy-nl")
    by: dict[str, list[Block]] = {}
    for b in nl.blocks:
        by.setdefault(b.provision, []).append(b)
    return res, by


def _current(by: dict[str, list[Block]], prov: str) -> Block:
    return next(b for b in by[prov] if not b.history)


# --------------------------------------------------------------------------- dates


def test_entry_into_force_is_derived_from_publication_and_the_acts_own_sentence() -> None:
    assert amend.entry_into_force(_act())[0] == "2024-08-01"  # 12.7.2024 + 20 days
    assert amend.entry_into_force(_amending())[0] == "2026-07-27"  # 24.7.2026 + 3 days
    no_date = Document(_src("x", "x", published=""), _act().blocks)
    assert amend.entry_into_force(no_date)[0] == ""


# --------------------------------------------------------------------------- targets


@pytest.mark.parametrize(("head", "parent", "want"), [
    ("in artikel 43 wordt lid 3 vervangen door:", None, "Article 43(3)"),
    ("aan artikel 2 wordt het volgende lid toegevoegd:", None, "Article 2"),
    ("in bijlage VIII, afdeling B, worden de punten 7 en 9 geschrapt;", None, "Annex VIII, afdeling B(7,9)"),
    ("de leden 2 en 3 worden vervangen door:", "artikel 97 wordt als volgt gewijzigd:", "Article 97(2,3)"),
    ("in de eerste alinea wordt punt a) vervangen door:", "in artikel 96 wordt lid 1 als volgt gewijzigd:",
     "Article 96(1), alinea 1(a)"),
    ("het volgende punt wordt toegevoegd:", "in artikel 113 wordt de derde alinea als volgt gewijzigd:",
     "Article 113, alinea 3"),
    ("in lid 4 wordt het volgende punt ingevoegd:", "artikel 99 wordt als volgt gewijzigd:", "Article 99(4)"),
    ("in artikel 4 bis, lid 1 ter, wordt punt b bis) geschrapt;", None, "Article 4a(1b)(ba)"),
])
def test_parse_target(head: str, parent: str | None, want: str) -> None:
    p = amend.parse_target(parent) if parent else None
    assert amend.parse_target(head, p).describe() == want


# --------------------------------------------------------------------------- applying


def test_replace_a_paragraph_keeps_the_old_wording_as_history() -> None:
    res, by = _run("in artikel 1 wordt lid 3 vervangen door: “3. Dit is het nieuwe lid drie.”;")
    old, new = by["Article 1(3)"]
    assert old.history and old.valid_from == "2024-08-01" and old.valid_to == "2026-07-27"
    assert not new.history and new.valid_from == "2026-07-27" and new.valid_to == ""
    assert new.text == "3. Dit is het nieuwe lid drie."
    assert new.amended_by == old.amended_by == ["wijz/nl/art-1.1"]
    assert new.url == "https://example.org/wijz-nl#page=1"
    # unchanged provisions keep their block as parsed
    assert len(by["Article 1(1)"]) == 1 and by["Article 1(1)"][0].valid_from == "2024-08-01"
    assert res.instructions[0].status == "applied"


def test_ids_versions_and_content_hashes_through_chunking() -> None:
    res, _ = _run("in artikel 1 wordt lid 3 vervangen door: “3. Nieuw.”;")
    before = {p.id: p.content_hash for p in chunk_document(_act("nl"))}
    nl = next(d for d in res.documents if d.source.id == "toy-nl")
    after = {p.id: p for p in chunk_document(nl)}
    assert "toy/nl/art-1.3@2024-08-01" in after and after["toy/nl/art-1.3"].text == "3. Nieuw."
    assert after["toy/nl/art-1.3@2024-08-01"].valid_to == "2026-07-27"
    for pid, h in before.items():  # every unchanged passage: same id, same hash (the vector cache hits)
        if pid != "toy/nl/art-1.3":
            assert after[pid].content_hash == h


def test_insert_and_add_paragraphs_and_delete_one() -> None:
    _, by = _run(
        "artikel 1 wordt als volgt gewijzigd:\na) het volgende lid wordt ingevoegd: “1 bis. Ingevoegd lid.”;\n"
        "b) het volgende lid wordt toegevoegd: “4. Toegevoegd lid.”;\nc) lid 3 wordt geschrapt;")
    assert _current(by, "Article 1(1a)").text == "1 bis. Ingevoegd lid."
    assert _current(by, "Article 1(1a)").label == "Artikel 1, lid 1 bis"
    assert _current(by, "Article 1(4)").valid_from == "2026-07-27"
    (gone,) = by["Article 1(3)"]
    assert gone.history and gone.valid_to == "2026-07-27"  # deleted: history only, no current wording
    order = [p for p in by if p.startswith("Article 1(")]
    assert order == ["Article 1(1)", "Article 1(1a)", "Article 1(2)", "Article 1(3)", "Article 1(4)"]


def test_nested_points_insert_replace_and_subparagraphs() -> None:
    res, by = _run(
        "in artikel 1 wordt lid 2 als volgt gewijzigd:\n"
        "a) in de eerste alinea wordt het volgende punt ingevoegd: “b bis) bananen;”;\n"
        "b) punt c) wordt vervangen door: “c) kersen.”;\n"
        "c) de tweede alinea wordt vervangen door: “Punt b) geldt altijd.”;")
    new = _current(by, "Article 1(2)").text.split("\n")
    assert new == ["2. De volgende dingen zijn verboden:", "a) appels;", "b) peren;", "b bis) bananen;",
                   "c) kersen.", "Punt b) geldt altijd."]
    assert [i.label for i in res.instructions] == ["Article 1(1)", "Article 1(1)(a)", "Article 1(1)(b)",
                                                   "Article 1(1)(c)"]
    assert all(i.status == "applied" for i in res.instructions)


def test_replace_an_article_and_insert_one() -> None:
    _, by = _run("artikel 2 wordt vervangen door: “Artikel 2 Nieuw 1. Eerste lid. 2. Tweede lid.”;",
                 "het volgende artikel wordt ingevoegd: “Artikel 2 bis Extra 1. Een. 2. Twee.”;")
    (old,) = by["Article 2"]
    assert old.history and old.title == "Oud"
    assert _current(by, "Article 2(1)").text == "1. Eerste lid." and _current(by, "Article 2(1)").title == "Nieuw"
    assert _current(by, "Article 2a(2)").label == "Artikel 2 bis, lid 2"
    provs = list(by)
    assert provs.index("Article 2a(1)") == provs.index("Article 2(2)") + 1


def test_annex_points_deleted_and_added() -> None:
    _, by = _run("bijlage I wordt als volgt gewijzigd:\na) in afdeling A wordt punt 1 geschrapt;\n"
                 "b) in afdeling B wordt het volgende punt toegevoegd: “3. Richtlijn drie.”;")
    assert by["Annex I(1)"][0].history
    assert _current(by, "Annex I(3)").context == "Afdeling B — Lijst"


def test_an_instruction_that_cannot_be_applied_gets_a_reason_and_a_note() -> None:
    text = "in artikel 1, lid 1, wordt na de eerste zin de volgende zin ingevoegd: “Nieuwe zin.”;"
    res, by = _run(text)
    (ins,) = res.instructions
    assert ins.status == "not applied" and ins.reason
    (p,) = by["Article 1(1)"]
    assert not p.history and p.text == "1. Dit is lid een."  # the wording is left as it was ...
    assert p.current_note == text and p.current_note_source == "wijz/nl/art-1.1"  # ... with the note
    en = next(d for d in res.documents if d.source.id == "toy-en")
    assert next(b for b in en.blocks if b.provision == "Article 1(1)").current_note == text
    assert res.summary() == {"instructions": 1, "applied": 0, "not_applied": 1, "points": 1}


def test_a_missing_target_is_not_applied_and_says_why() -> None:
    res, _ = _run("in artikel 1 wordt lid 9 vervangen door: “9. Nergens.”;")
    assert res.instructions[0].status == "not applied" and "Article 1(9)" in res.instructions[0].reason


def test_other_language_gets_valid_to_and_the_new_dutch_wording() -> None:
    res, _ = _run("in artikel 1 wordt lid 3 vervangen door: “3. Nieuw.”;")
    en = next(d for d in res.documents if d.source.id == "toy-en")
    b = next(b for b in en.blocks if b.provision == "Article 1(3)")
    assert b.valid_to == "2026-07-27" and b.amended_by == ["wijz/nl/art-1.1"]
    assert "3. Nieuw." in b.current_note and b.current_note_source == "wijz/nl/art-1.1"
    assert not b.history  # the English wording keeps its id: there is no later English one


def test_application_dates_from_the_consolidated_article() -> None:
    res, _ = _run("in artikel 3 wordt de derde alinea als volgt gewijzigd:\n"
                  "a) punt b) wordt vervangen door: “b) artikel 2 van toepassing met ingang van:\n"
                  "i) 2 december 2027 voor wat betreft bijlage III, en\n"
                  "ii) 2 augustus 2028 voor wat betreft bijlage I.”;\n"
                  "b) het volgende punt wordt toegevoegd: “c) artikel 1, leden 1 bis en lid 1 ter, van toepassing "
                  "met ingang van … [de datum van inwerkingtreding van deze wijzigingsrichtlijn].”;")
    rows = {r.provisions: r for r in res.application_dates}
    assert rows[("Regulation",)].date == "2026-08-02" and rows[("Regulation",)].set_by == ""
    assert rows[("Chapter I", "Chapter II")].date == "2025-02-02"
    assert rows[("Article 2", "Annex III")].date == "2027-12-02"
    assert rows[("Article 2", "Annex III")].set_by == "wijz/nl/art-1.1"
    assert rows[("Article 2", "Annex I")].date == "2028-08-02"
    assert rows[("Article 2", "Annex III")].source == "toy/nl/art-3"
    # the placeholder is reported, and resolved only as the amending act's entry into force
    (u,) = res.unresolved_dates
    assert u["resolved"] == "2026-07-27" and "inwerkingtreding" in u["placeholder"]
    assert rows[("Article 1(1a)", "Article 1(1b)")].date == "2026-07-27"


def test_application_dates_file_round_trip(tmp_path) -> None:  # noqa: ANN001
    res, _ = _run("in artikel 1 wordt lid 3 vervangen door: “3. Nieuw.”;")
    for name, text in amend.index_files(res).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    rows = amend.load_application_dates(tmp_path)
    assert rows == res.application_dates and rows
    assert json.loads((tmp_path / amend.AMENDMENTS_FILE).read_text())["summary"]["applied"] == 1
    assert amend.load_application_dates(tmp_path / "none") == []


def test_versions_lists_current_and_history() -> None:
    res, _ = _run("artikel 2 wordt vervangen door: “Artikel 2 Nieuw 1. Eerste lid. 2. Tweede lid.”;")
    nl = next(d for d in res.documents if d.source.id == "toy-nl")
    ps = chunk_document(nl) + chunk_document(res.documents[2])
    v = amend.versions(ps, "toy/nl/art-2", on="2026-12-02")
    assert v is not None and v["current"] == ["toy/nl/art-2.1", "toy/nl/art-2.2"]
    assert v["history"][0]["ids"] == ["toy/nl/art-2@2024-08-01"]
    assert v["changed_by"][0]["id"] == "wijz/nl/art-1.1"
    old = amend.versions(ps, "toy/nl/art-2", on="2025-06-01")
    assert old is not None and old["current"] == ["toy/nl/art-2@2024-08-01"]


def test_no_amending_act_leaves_documents_untouched() -> None:
    docs = [_act("nl")]
    res = amend.consolidate(docs)
    assert res.documents[0] is docs[0] and not res.instructions


# --------------------------------------------------------------------------- legal.py additions


@pytest.mark.parametrize(("prov", "nl"), [
    ("Article 4a", "Artikel 4 bis"), ("Article 5(1)(ba)", "Artikel 5, lid 1, punt b bis)"),
    ("Article 5(1b)", "Artikel 5, lid 1 ter"), ("Article 3(14a)", "Artikel 3, punt 14 bis)"),
    ("Article 5(1)(h)(ii)", "Artikel 5, lid 1, punt h), ii)"), ("Article 75d", "Artikel 75 quinquies"),
])
def test_labels_of_inserted_provisions(prov: str, nl: str) -> None:
    assert legal.label(prov, "nl") == nl
    assert legal.from_id_suffix(legal.id_suffix(prov)) == prov


def test_latin_numbers_round_trip() -> None:
    for latin, canon in (("4 bis", "4a"), ("b ter", "bb"), ("1 quater", "1c"), ("14", "14"), ("ii", "ii")):
        assert legal.number_from_latin(latin) == canon
        assert legal.number_to_latin(canon) == latin


def test_manifest_published_and_amends_fields(tmp_path) -> None:  # noqa: ANN001
    from policy_rag.sources import read_manifest

    row = ('[[source]]\nid = "{id}"\ndoc = "{id}"\ntitle = "t"\nlang = "nl"\nkind = "act"\nformat = "eurlex-html"\n'
           'version = "v"\nurl = "https://e.org/x"\npath = "{id}.html"\nsha256 = "{sha}"\npublished = "{pub}"\n'
           'amends = "{am}"\n')
    m = tmp_path / "sources.toml"
    m.write_text(row.format(id="good", sha="0" * 64, pub="2026-07-24", am="ai-act")
                 + row.format(id="bad", sha="0" * 64, pub="24.7.2026", am=""), encoding="utf-8")
    sources, problems = read_manifest(m)
    assert [s.id for s in sources] == ["good"] and sources[0].published == "2026-07-24"
    assert sources[0].amends == "ai-act"
    assert len(problems) == 1 and "published" in problems[0] and "bad" in problems[0]


def test_index_build_holds_the_application_dates(tmp_path, small_index) -> None:  # noqa: ANN001
    from policy_rag import index as index_mod

    res, _ = _run("in artikel 1 wordt lid 3 vervangen door: “3. Nieuw.”;")
    small_index.extras = amend.index_files(res)
    index_mod.save(small_index, tmp_path / "index")
    loaded = index_mod.load(tmp_path / "index")
    assert loaded.application_dates == res.application_dates and loaded.application_dates
    assert amend.load_amendments(loaded.path)["summary"]["applied"] == 1
    small_index.extras = {"../evil.json": "{}"}  # only plain file names are written
    path = index_mod.save(small_index, tmp_path / "index2")
    assert not (path.parent / "evil.json").exists() and not (tmp_path / "evil.json").exists()


def test_cli_amendments_and_show_history(settings, monkeypatch, capsys, fake_embedder) -> None:  # noqa: ANN001
    from conftest import make_index
    from policy_rag import cli, embed
    from policy_rag import index as index_mod

    res, _ = _run("artikel 2 wordt vervangen door: “Artikel 2 Nieuw 1. Eerste lid. 2. Tweede lid.”;",
                  "in artikel 1, lid 1, wordt na de eerste zin de volgende zin ingevoegd: “Zin.”;")
    ps = [p for d in res.documents for p in chunk_document(d)]
    idx = make_index(ps, fake_embedder)
    idx.extras = amend.index_files(res)
    index_mod.save(idx, settings.index_dir)
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    monkeypatch.setattr(embed, "get_embedder", lambda s: fake_embedder)
    monkeypatch.setattr("policy_rag.assistant.get_embedder", lambda s: fake_embedder)
    assert cli.main(["amendments"]) == 0
    out = capsys.readouterr().out
    assert "1 of 2 amendment points and sub-points applied" in out and "not applied — " in out
    assert cli.main(["amendments", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [i["status"] for i in data["instructions"]] == ["applied", "not applied"]
    assert cli.main(["show", "toy/nl/art-2"]) == 0  # no passage of its own any more: its versions
    out = capsys.readouterr().out
    assert "toy/nl/art-2.1" in out and "wording 2024-08-01 – 2026-07-27: toy/nl/art-2@2024-08-01" in out
    assert "changed by wijz/nl/art-1.1" in out
    assert cli.main(["show", "toy/nl/art-2.1", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["passage"]["id"] == "toy/nl/art-2.1" and "context" in d  # the JSON as before, plus versions
    assert d["provision_versions"]["history"][0]["ids"] == ["toy/nl/art-2@2024-08-01"]
    assert cli.main(["show", "toy/nl/art-1.1"]) == 0
    assert "current law (wijz/nl/art-1.2)" in capsys.readouterr().out


def test_corrigenda_from_a_consolidated_text() -> None:
    oj = _act("nl")
    oj.blocks[2] = _b("Article 1(2)", oj.blocks[2].text.replace("b) peren;", "b) peeren;"))  # a misprint
    oj.blocks[3] = _b("Article 1(3)", "4. Dit is lid drie.")  # a wrong printed number
    cons = Document(_src("toy-nl-cons", "toy"), [
        _b("Article 1", "Artikel 1\nTitel\n1.\nDit is lid een.\n2.\nDe volgende dingen zijn verboden:\na)\nappels;\n"
                        "b)\nperen ( 1 );\nc)\npruimen.\nPunt b) geldt niet op zondag.\n▼C1\n3.\nDit is lid drie."),
    ])
    fixed, changed = amend.apply_corrections(oj, cons)
    assert changed == ["Article 1(2)", "Article 1(3)"]
    by = {b.provision: b for b in fixed.blocks}
    assert "b) peren;" in by["Article 1(2)"].text and by["Article 1(3)"].text == "3. Dit is lid drie."
    assert by["Article 1(1)"] is oj.blocks[1] and by["Recital 1"] is oj.blocks[0]  # unchanged: as parsed
    res = amend.consolidate([oj, _amending("in artikel 1 wordt lid 1 vervangen door: “1. Nieuw.”;")],
                            {"toy-nl": cons})
    assert res.corrected == ["toy-nl: Article 1(2)", "toy-nl: Article 1(3)"]
    nl = res.documents[0]
    assert [b.text for b in nl.blocks if b.provision == "Article 1(3)"] == ["3. Dit is lid drie."]
    assert not any(b.history for b in nl.blocks if b.provision == "Article 1(3)")  # a correction is no version


@pytest.mark.parametrize(("text", "refs"), [
    ("artikel 5, lid 1, eerste alinea, punten b bis) en b ter)", ["Article 5(1)(ba)", "Article 5(1)(bb)"]),
    ("de leden 1 bis en 1 ter van artikel 5", ["Article 5(1a)", "Article 5(1b)"]),
    ("artikel 3, punt 14 bis)", ["Article 3(14a)"]),
    ("artikel 99, lid 4, punt d bis)", ["Article 99(4)(da)"]),
    ("artikel 75 ter", ["Article 75b"]),
    ("het is beter zo", []),
])
def test_references_to_inserted_provisions(text: str, refs: list[str]) -> None:
    assert legal.find_refs(text, "nl") == refs
    assert legal.parse_query_provision(text) == (refs[0] if refs else None)


def test_chapters_and_dates_for_a_provision(tmp_path) -> None:  # noqa: ANN001
    from policy_rag.parse.eurlex_html import chapters_of

    html = tmp_path / "act.html"
    html.write_text('<div id="cpt_I"><div id="art_1"></div><div id="art_2"></div></div><div id="cpt_II">'
                    '<div id="cpt_II.sct_1"><div id="cpt_II.sct_1.tit_1"></div><div id="art_3"></div></div></div>',
                    encoding="utf-8")
    chapters = chapters_of(html)
    assert chapters == {"Article 1": "Chapter I", "Article 2": "Chapter I", "Article 3": "Chapter II, Section 1"}
    res = amend.consolidate([_act("nl"), _amending("het volgende artikel wordt ingevoegd: “Artikel 2 bis X 1. Een.”;",
                                                   "in artikel 3 wordt de derde alinea als volgt gewijzigd:\n"
                                                   "a) het volgende punt wordt toegevoegd: “c) hoofdstuk II, afdeling 1, "
                                                   "van toepassing met ingang van 2 december 2027.”;")],
                            chapters={"toy-nl": chapters})
    assert res.chapters["Article 2a"] == "Chapter I"  # an inserted article: the chapter of the one before
    rows = res.application_dates
    assert [r.date for r in amend.dates_for("Article 1(2)", rows, res.chapters)] == ["2025-02-02"]
    assert [r.date for r in amend.dates_for("Article 3", rows, res.chapters)] == ["2027-12-02"]
    assert [r.date for r in amend.dates_for("Article 2", rows, res.chapters)] == ["2027-08-02"]  # its own row
    assert [r.date for r in amend.dates_for("Annex I", rows, {})] == ["2026-08-02"]  # the general date
