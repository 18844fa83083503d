"""The law in force on a date (inforce.py): the validity filter in the retriever, labels of
amended provisions, notes on changes to come, the English text of an amended provision, the
"from when" router over the application-dates table, and the date setting at every entry point.

Fake passages carry the version fields the ingest side writes (types.Passage.valid_from ...);
the one integration test at the end asks the real index and is skipped until it has versions."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from conftest import make_index, make_passage, sample_passages
from policy_rag import inforce
from policy_rag.amend import APPLICATION_DATES_FILE
from policy_rag.answer import Answerer
from policy_rag.assistant import Assistant
from policy_rag.cli import build_parser
from policy_rag.retrieve import Retriever
from policy_rag.types import ApplicationDate, Passage

OMNIBUS_VERSION = "PE-CONS 30/26, 18.6.2026 (published as Regulation (EU) 2026/1744, PB L 24.7.2026)"
OLD_NL_4 = ("Aanbieders en gebruiksverantwoordelijken van AI-systemen nemen maatregelen om, zoveel als mogelijk, te "
            "zorgen voor een toereikend niveau van AI-geletterdheid bij hun personeel.")
NEW_NL_4 = ("Aanbieders en gebruiksverantwoordelijken van AI-systemen nemen maatregelen om de ontwikkeling van "
            "AI-geletterdheid van hun personeel te ondersteunen. Deze verplichting houdt niet in dat een bepaald "
            "niveau van AI-geletterdheid moet worden gewaarborgd.")
OLD_EN_4 = ("Providers and deployers of AI systems shall take measures to ensure, to their best extent, a sufficient "
            "level of AI literacy of their staff.")
ART_113_NEW = ("Evenwel zijn:\nc) hoofdstuk III, de afdelingen 1, 2 en 3, van toepassing met ingang van:\n"
               "i) 2 december 2027 voor wat betreft AI-systemen die op grond van artikel 6, lid 2, en bijlage III als "
               "AI-systemen met een hoog risico zijn aangemerkt, en\nii) 2 augustus 2028 voor wat betreft AI-systemen "
               "die op grond van artikel 6, lid 1, en bijlage I als AI-systemen met een hoog risico zijn aangemerkt.")
ART_113_OLD = ("Evenwel zijn:\nc) artikel 6, lid 1, en de overeenkomstige verplichtingen van deze verordening van "
               "toepassing met ingang van 2 augustus 2027.")


def _v(p: Passage, **kw: object) -> Passage:
    for k, v in kw.items():
        setattr(p, k, v)
    return p


def versioned_passages() -> list[Passage]:
    """The sample passages with Article 4 as amended (NL old and new, EN old kept with the Dutch
    note), Article 113 as amended, Article 50(2) that changes later, and the omnibus points."""
    keep = [p for p in sample_passages() if not p.id.endswith("/art-4") and p.id != "omnibus/nl/art-1.3"]
    ps = keep + [
        _v(make_passage("ai-act/nl/art-4@2024-08-01", "Article 4", "Artikel 4", OLD_NL_4, title="AI-geletterdheid"),
           valid_from="2024-08-01", valid_to="2026-12-02"),
        _v(make_passage("ai-act/nl/art-4", "Article 4", "Artikel 4", NEW_NL_4, title="AI-geletterdheid"),
           valid_from="2026-12-02", amended_by=["omnibus/nl/art-1.5"]),
        _v(make_passage("ai-act/en/art-4", "Article 4", "Article 4", OLD_EN_4, title="AI literacy"),
           valid_from="2024-08-01", valid_to="2026-12-02", amended_by=["omnibus/nl/art-1.5"],
           current_note=NEW_NL_4, current_note_source="omnibus/nl/art-1.5"),
        _v(make_passage("omnibus/nl/art-1.5", "Article 1(5)", "Artikel 1, punt 5)",
                        f"artikel 4 wordt vervangen door: “Artikel 4 AI-geletterdheid {NEW_NL_4}”",
                        kind="amendment", amends=["Article 4"], title="Wijzigingen in Verordening (EU) 2024/1689"),
           version=OMNIBUS_VERSION),
        _v(make_passage("ai-act/nl/art-113@2024-08-01", "Article 113", "Artikel 113", ART_113_OLD,
                        title="Inwerkingtreding en toepassing"), valid_from="2024-08-01", valid_to="2026-12-02"),
        _v(make_passage("ai-act/nl/art-113", "Article 113", "Artikel 113", ART_113_NEW,
                        title="Inwerkingtreding en toepassing"),
           valid_from="2026-12-02", amended_by=["omnibus/nl/art-1.40"]),
        _v(make_passage("omnibus/nl/art-1.40", "Article 1(40)", "Artikel 1, punt 40)",
                        "in artikel 113 wordt de derde alinea als volgt gewijzigd: b) punt c) wordt vervangen door: "
                        "“c) hoofdstuk III, de afdelingen 1, 2 en 3, van toepassing met ingang van: i) 2 december 2027 "
                        "voor wat betreft AI-systemen die op grond van artikel 6, lid 2, en bijlage III als AI-systemen "
                        "met een hoog risico zijn aangemerkt”", kind="amendment", amends=["Article 113(c)"]),
           version=OMNIBUS_VERSION),
        make_passage("ai-act/nl/anx-iii.1", "Annex III(1)", "Bijlage III, punt 1",
                     "Biometrie, voor zover het gebruik ervan is toegestaan.", kind="annex",
                     title="AI-systemen met een hoog risico als bedoeld in artikel 6, lid 2"),
        make_passage("ai-act/nl/anx-i.1", "Annex I(1)", "Bijlage I, punt 1",
                     "Richtlijn 2006/42/EG betreffende machines.", kind="annex",
                     title="Lijst van harmonisatiewetgeving van de Unie"),
        _v(make_passage("ai-act/nl/art-50.2", "Article 50(2)", "Artikel 50, lid 2",
                        "Aanbieders van AI-systemen die synthetische content genereren, zorgen ervoor dat de output "
                        "wordt gemarkeerd in een machineleesbaar formaat.", title="Transparantieverplichtingen"),
           valid_from="2024-08-01", valid_to="2027-02-02"),
        _v(make_passage("ai-act/nl/art-50.2@2027-02-02", "Article 50(2)", "Artikel 50, lid 2",
                        "Aanbieders van AI-systemen die synthetische content genereren, markeren de output in een "
                        "machineleesbaar formaat en maken hem detecteerbaar.", title="Transparantieverplichtingen"),
           valid_from="2027-02-02", amended_by=["omnibus/nl/art-1.30"]),
        _v(make_passage("omnibus/nl/art-1.30", "Article 1(30)", "Artikel 1, punt 30)",
                        "in artikel 50 wordt lid 2 vervangen door: “2. Aanbieders ... markeren de output.”",
                        kind="amendment", amends=["Article 50(2)"]), version=OMNIBUS_VERSION),
    ]
    for i, p in enumerate(ps):
        p.order = i
    return ps


TABLE = [
    ApplicationDate(provisions=("Chapter III, Sections 1-3", "Annex III", "Article 6(2)"),
                    scope="AI-systemen die op grond van artikel 6, lid 2, en bijlage III als AI-systemen met een "
                          "hoog risico zijn aangemerkt", date="2027-12-02", source="ai-act/nl/art-113",
                    set_by="omnibus/nl/art-1.40"),
    ApplicationDate(provisions=("Chapter III, Sections 1-3", "Annex I", "Article 6(1)"),
                    scope="AI-systemen die op grond van artikel 6, lid 1, en bijlage I als AI-systemen met een hoog "
                          "risico zijn aangemerkt", date="2028-08-02", source="ai-act/nl/art-113",
                    set_by="omnibus/nl/art-1.40"),
    ApplicationDate(provisions=("Chapter I", "Chapter II"), scope="de hoofdstukken I en II", date="2025-02-02",
                    source="ai-act/nl/art-113"),
]


@pytest.fixture
def vindex(fake_embedder, tmp_path: Path):  # noqa: ANN001
    idx = make_index(versioned_passages(), fake_embedder)
    build = tmp_path / "build"
    build.mkdir()
    (build / APPLICATION_DATES_FILE).write_text(json.dumps({"rows": [r.to_dict() for r in TABLE]}),
                                               encoding="utf-8")
    idx.path = build
    return idx


@pytest.fixture
def retriever(vindex, fake_embedder, settings) -> Retriever:  # noqa: ANN001
    return Retriever(vindex, fake_embedder, settings)


@pytest.fixture
def vassistant(vindex, fake_embedder, settings) -> Assistant:  # noqa: ANN001
    return Assistant(settings.with_(llm="none"), embedder=fake_embedder, index=vindex)


def ids(result) -> list[str]:  # noqa: ANN001
    return [h.passage.id for h in result.hits]


# --------------------------------------------------------------------------------- the filter


def test_search_returns_the_wording_in_force_on_the_date(retriever: Retriever) -> None:
    q = "Moet mijn personeel AI-geletterdheid hebben?"
    old = retriever.search(q, on="2025-06-01", lang="nl")
    assert "ai-act/nl/art-4@2024-08-01" in ids(old) and "ai-act/nl/art-4" not in ids(old)
    assert old.on == "2025-06-01"
    new = retriever.search(q, on="2026-12-02", lang="nl")
    assert "ai-act/nl/art-4" in ids(new) and "ai-act/nl/art-4@2024-08-01" not in ids(new)
    # the text that changes later: in force until then, not after
    assert "ai-act/nl/art-50.2" in ids(retriever.search("synthetische content markeren", on="2026-12-02", k=20))
    later = ids(retriever.search("synthetische content markeren", on="2027-03-01", k=20))
    assert "ai-act/nl/art-50.2@2027-02-02" in later and "ai-act/nl/art-50.2" not in later


def test_bm25_and_dense_both_leave_out_what_is_not_in_force(retriever: Retriever) -> None:
    # the old words only the old Dutch wording has ("toereikend niveau", "zoveel als mogelijk")
    res = retriever.search("zoveel als mogelijk toereikend niveau", on="2027-01-01", lang="nl", k=20)
    assert not any("@" in i for i in ids(res) if i.startswith("ai-act/nl/art-4"))
    allowed = retriever.index._inforce_versions.allowed("2027-01-01")
    assert retriever.index.position("ai-act/nl/art-4@2024-08-01") not in allowed


def test_an_english_amended_provision_is_kept_and_marked(retriever: Retriever) -> None:
    res = retriever.search("What must providers do about AI literacy of their staff?", on="2026-12-15", lang="en",
                           k=20)
    en4 = [h.passage for h in res.hits if h.passage.id == "ai-act/en/art-4"]
    assert en4 and inforce.status(en4[0], "2026-12-15") == "amended"
    from policy_rag.assistant import search_dict

    d = search_dict(res.question, res)
    assert d["on"] == "2026-12-15"
    assert next(h for h in d["hits"] if h["id"] == "ai-act/en/art-4")["status"] == "amended"
    assert {h["status"] for h in d["hits"] if h["id"] != "ai-act/en/art-4"} == {"in-force"}
    # on a date before the amendment it is simply the law
    assert inforce.status(en4[0], "2025-06-01") == "in-force"
    v = inforce.view(retriever.index)
    assert v.kept_amended(en4[0], "2026-12-15") and not v.kept_amended(en4[0], "2025-06-01")
    # the Dutch twin shown on a date is the wording in force then
    assert retriever.alternate(en4[0], "2025-06-01").id == "ai-act/nl/art-4@2024-08-01"
    assert retriever.alternate(en4[0], "2026-12-15").id == "ai-act/nl/art-4"


def test_an_index_without_versions_is_not_filtered(small_index, fake_embedder, settings) -> None:  # noqa: ANN001
    r = Retriever(small_index, fake_embedder, settings)
    assert inforce.view(small_index).allowed("2025-01-01") is None
    assert "ai-act/nl/art-4" in ids(r.search("AI-geletterdheid personeel", on="2025-01-01", lang="nl"))


# --------------------------------------------------------------------------------- labels and notes


def test_amended_labels_in_dutch_and_english(vindex, monkeypatch) -> None:  # noqa: ANN001
    v = inforce.view(vindex)
    nl4 = vindex.get("ai-act/nl/art-4")
    assert inforce.amended_label(nl4, v, "nl") == "Artikel 4 (vervangen bij Verordening (EU) 2026/1744, art. 1, punt 5)"
    en4 = vindex.get("ai-act/en/art-4")
    assert inforce.amended_label(en4, v, "en", "2026-12-15") == (
        "Article 4 (replaced by Regulation (EU) 2026/1744, Art. 1, point 5)")
    # a wording that ends is not labelled as the amended one (on its own dates it is the law as it was)
    assert inforce.amended_label(en4, v, "en", "2025-06-01") == "Article 4"
    old4 = _v(make_passage("ai-act/nl/art-4@2024-08-01", "Article 4", "Artikel 4", OLD_NL_4),
              valid_from="2024-08-01", valid_to="2026-12-02", amended_by=["omnibus/nl/art-1.5"])
    assert inforce.amended_label(old4, v, "nl", "2025-06-01") == "Artikel 4"
    art113 = vindex.get("ai-act/nl/art-113")
    assert inforce.amended_label(art113, v, "en").endswith("(amended by Regulation (EU) 2026/1744, Art. 1, point 40)")
    # before the amending act was in force, the label does not name it
    monkeypatch.setattr(v.get(art113.amended_by[0]), "valid_from", "2026-12-02")
    assert inforce.amended_label(art113, v, "en", "2025-06-01") == art113.label
    assert inforce.amended_label(art113, v, "en", "2026-12-15").endswith("Art. 1, point 40)")
    assert inforce.amended_label(vindex.get("ai-act/nl/art-5.1.f"), v, "nl") == "Artikel 5, lid 1, punt f)"
    ins = make_passage("omnibus/nl/art-1.6", "Article 1(6)", "Artikel 1, punt 6)",
                       "het volgende artikel wordt ingevoegd: “Artikel 4 bis ...”", kind="amendment")
    assert inforce.change_kind(ins) == "inserted"
    assert inforce.VERB["inserted"]["nl"] == "ingevoegd bij" and inforce.VERB["deleted"]["en"] == "deleted by"


def test_an_answer_cites_the_new_wording_with_its_label_link_and_old_version(vassistant: Assistant) -> None:
    ans = vassistant.ask("Moet mijn personeel een AI-training volgen voor AI-geletterdheid?", "none", "2026-12-02")
    assert ans.on == "2026-12-02" and ans.to_dict()["on"] == "2026-12-02"
    c = next(c for c in ans.citations if c.passage.id == "ai-act/nl/art-4")
    d = c.to_dict()
    assert d["label"] == "Artikel 4 (vervangen bij Verordening (EU) 2026/1744, art. 1, punt 5)"
    assert d["amended_by"][0]["id"] == "omnibus/nl/art-1.5" and d["amended_by"][0]["url"]
    old = [v for v in d["versions"] if not v["this"]]
    assert [(v["id"], v["valid_from"], v["valid_to"]) for v in old] == [
        ("ai-act/nl/art-4@2024-08-01", "2024-08-01", "2026-12-02")]
    assert "toereikend niveau" not in ans.text  # the old wording is not the answer
    # on 2025-06-01 the old wording is the law
    before = vassistant.ask("Moet mijn personeel een AI-training volgen voor AI-geletterdheid?", "none", "2025-06-01")
    assert any(c.passage.id == "ai-act/nl/art-4@2024-08-01" for c in before.citations)
    assert not any(c.passage.id == "ai-act/nl/art-4" for c in before.citations)


def test_english_question_quotes_the_dutch_note_never_the_2024_wording(vassistant: Assistant) -> None:
    ans = vassistant.ask("What does Article 4 require about the AI literacy of staff?", "none", "2026-12-15")
    c = next(c for c in ans.citations if c.passage.id == "ai-act/en/art-4")
    assert c.passage.lang == "nl" and c.quote in NEW_NL_4 and c.quote in c.passage.text
    assert "in Dutch" in c.passage.label and "replaced by Regulation (EU) 2026/1744" in c.passage.label
    assert "sufficient level" not in ans.text and "sufficient level" not in c.quote
    assert any(n.startswith("Article 4 was replaced by Regulation (EU) 2026/1744, Art. 1, point 5 (applicable from "
                   "2 December 2026)") and "no longer the law" in n for n in ans.notes)
    assert c.alternate is not None and c.alternate.id == "ai-act/nl/art-4"


def test_a_change_to_come_is_noted_with_its_date_and_text(vassistant: Assistant) -> None:
    ans = vassistant.ask("Moet synthetische content gemarkeerd worden in een machineleesbaar formaat?", "none",
                         "2026-12-15")
    assert any(c.passage.id == "ai-act/nl/art-50.2" for c in ans.citations)
    note = next(n for n in ans.notes if "Artikel 50, lid 2" in n)
    assert "2 februari 2027" in note and "detecteerbaar" in note and "Verordening (EU) 2026/1744, art. 1, punt 30" in note


def test_show_gives_history_and_the_wording_on_a_date(vassistant: Assistant) -> None:
    from policy_rag.assistant import show_dict

    p, _, _ = vassistant.show("ai-act/nl/art-4", on="2025-06-01")
    assert p.id == "ai-act/nl/art-4@2024-08-01"
    p, around, twin = vassistant.show("ai-act/nl/art-4")
    d = show_dict(p, around, twin, vassistant.index)
    assert d["label"].startswith("Artikel 4 (vervangen bij")
    assert [v["id"] for v in d["versions"]] == ["ai-act/nl/art-4@2024-08-01", "ai-act/nl/art-4"]


# --------------------------------------------------------------------------------- dates


def test_parse_on_and_its_errors() -> None:
    assert inforce.parse_on("2026-12-02") == "2026-12-02"
    assert inforce.parse_on(" ") == "" and inforce.parse_on(None) == ""
    for bad in ("2.8.2025", "2026-13-01", "2026-02-30", "morgen", "20261202"):
        with pytest.raises(inforce.InvalidDate, match="YYYY-MM-DD") as e:
            inforce.parse_on(bad, "--on")
        assert repr(bad) in str(e.value) and "--on" in str(e.value)
    assert inforce.resolve_on(None) == date.today().isoformat()
    assert inforce.resolve_on("", "2025-01-01") == "2025-01-01"
    assert inforce.on_line("2026-12-02", "nl") == "Geldende tekst op 2 december 2026"
    assert inforce.on_line("2026-12-02", "en") == "Law in force on 2 December 2026"


def test_settings_on_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from policy_rag.settings import Settings

    monkeypatch.setenv("POLICY_RAG_ON", "2025-06-01")
    assert Settings().on == "2025-06-01"
    monkeypatch.setenv("POLICY_RAG_ON", "1 juni")
    with pytest.raises(inforce.InvalidDate, match="POLICY_RAG_ON"):
        Settings()
    monkeypatch.delenv("POLICY_RAG_ON")
    assert Settings().on == ""  # today, decided at question time


def test_cli_on_flag(capsys: pytest.CaptureFixture[str]) -> None:
    ap = build_parser()
    for cmd in (["ask", "q"], ["search", "q"], ["show", "ai-act/nl/art-4"], ["cite", "Artikel 4"]):
        assert ap.parse_args([*cmd, "--on", "2025-06-01"]).on == "2025-06-01"
        assert ap.parse_args(cmd).on is None
    with pytest.raises(SystemExit) as e:
        ap.parse_args(["ask", "q", "--on", "2.8.2025"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "'2.8.2025'" in err and "YYYY-MM-DD" in err and "--on" in err


def test_cli_ask_prints_the_date(vassistant: Assistant, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    from policy_rag import cli

    monkeypatch.setattr("policy_rag.assistant.Assistant", lambda settings: vassistant)
    assert cli.main(["ask", "Moet mijn personeel AI-geletterdheid hebben?", "--llm", "none", "--on",
                     "2026-12-02"]) == 0
    out = capsys.readouterr().out
    assert "Geldende tekst op 2 december 2026" in out and "vervangen bij Verordening (EU) 2026/1744" in out
    assert cli.main(["show", "ai-act/nl/art-4"]) == 0
    out = capsys.readouterr().out
    assert "current label: Artikel 4 (vervangen bij Verordening (EU) 2026/1744, art. 1, punt 5)" in out
    assert "changed by: Artikel 1, punt 5)" in out and "from 1 August 2024 to 2 December 2026" in out
    assert cli.main(["search", "What does Article 4 require about AI literacy?", "--on", "2026-12-15"]) == 0
    out = capsys.readouterr().out
    assert "Law in force on 15 December 2026" in out
    assert "ai-act/en/art-4" in out and "[amended; the text in force exists in Dutch only]" in out


# --------------------------------------------------------------------------------- from when


def test_from_when_questions_are_recognised() -> None:
    for q in ("Vanaf wanneer gelden de regels voor hoog-risico AI-systemen uit bijlage III?",
              "Wanneer gaan de regels voor GPAI gelden?", "Per wanneer geldt artikel 5?",
              "Wat is de ingangsdatum van hoofdstuk III?", "From when do the prohibitions apply?",
              "When will the high-risk rules apply?", "When does Article 50 apply?"):
        assert inforce.asks_from_when(q), q
    for q in ("Wat is een AI-systeem?", "Mag ik emotieherkenning gebruiken?", "When is a system high-risk?",
              "Wanneer treedt de digitale omnibus inzake AI in werking?"):  # the omnibus's own Article 4
        assert not inforce.asks_from_when(q), q


def test_the_router_matches_rows() -> None:
    m = inforce.match_dates
    assert [r.date for r in m("Vanaf wanneer gelden de regels voor hoog-risico AI-systemen uit bijlage III?",
                              TABLE)] == ["2027-12-02"]
    assert [r.date for r in m("From when do the rules for high-risk AI systems under Annex I apply?", TABLE)] == [
        "2028-08-02"]
    assert [r.date for r in m("Vanaf wanneer gelden de hoog-risico regels?", TABLE)] == ["2027-12-02", "2028-08-02"]
    assert [r.date for r in m("Vanaf wanneer geldt hoofdstuk II?", TABLE)] == ["2025-02-02"]
    assert m("Vanaf wanneer geldt dit?", TABLE) == []


NEW_PROHIBITIONS = ApplicationDate(provisions=("Article 5(1)(ba)", "Article 5(1)(bb)"),
                                   scope="met uitzondering van artikel 5, lid 1, eerste alinea, punten b bis) en b ter)",
                                   date="2026-12-02", source="ai-act/nl/art-113", set_by="omnibus/nl/art-1.40")


def test_a_prohibition_the_omnibus_added_has_its_own_date() -> None:
    table = [*TABLE, NEW_PROHIBITIONS]
    m = inforce.match_dates
    # the prohibitions in general: Chapter II's row, not the exception carved out of it
    assert [r.date for r in m("Sinds wanneer is sociale scoring verboden?", table)] == ["2025-02-02"]
    q = "Are apps that create sexual images of real people without their consent banned, and since when?"
    assert [r.date for r in m(q, table)] == ["2026-12-02"]
    assert [r.date for r in m("Vanaf wanneer is AI voor naaktbeelden verboden?", table)] == ["2026-12-02"]
    # the article as a whole: its chapter's date and the date of the points the omnibus added
    assert [r.date for r in m("Vanaf wanneer geldt artikel 5?", table, {"Article 5": "Chapter II"})] == [
        "2025-02-02", "2026-12-02"]


def test_a_yes_no_question_about_a_date_is_answered_from_the_table() -> None:
    rows = [NEW_PROHIBITIONS]
    q = "Gold op 1 september 2026 het verbod op AI die zonder toestemming intieme beelden maakt al?"
    assert inforce.asks_applied_on(q) == "2026-09-01"
    assert inforce.applies_verdict(q, rows, "2026-12-02") == "no"
    assert inforce.applies_verdict(q.replace("1 september 2026", "3 december 2026"), rows, "2026-12-02") == "yes"
    q = "Are apps that create sexual images of real people banned, and since when?"
    assert inforce.asks_applied_on(q) == ""
    assert inforce.applies_verdict(q, rows, "2026-12-02") == "yes"
    assert inforce.applies_verdict(q, rows, "2026-11-30") == "no"  # asked before the date: not yet banned
    # whether a system is high-risk is not a matter of dates
    assert inforce.applies_verdict("Is a CV tool high-risk, and since when?", TABLE[:1], "2026-12-02") == ""
    assert inforce.asks_applied_on("Wat vereiste artikel 4 op 1 juni 2025?") == ""


def test_a_cited_duty_that_does_not_apply_yet_is_said_so() -> None:
    rows = [
        ApplicationDate(provisions=("Chapter I", "Chapter II"), scope="", date="2025-02-02", source="s"),
        ApplicationDate(provisions=("Chapter III, Section 3", "Annex III", "Article 6(2)"), scope="",
                        date="2027-12-02", source="s"),
        ApplicationDate(provisions=("Chapter III, Section 3", "Annex I", "Article 6(1)"), scope="",
                        date="2028-08-02", source="s"),
        ApplicationDate(provisions=("Article 6(5)",), scope="", date="2026-08-02", source="s"),
        NEW_PROHIBITIONS,
    ]
    chapters = {"Article 26": "Chapter III, Section 3", "Article 6": "Chapter III, Section 1", "Article 5": "Chapter II"}
    pending = inforce.pending_rows
    assert [r.date for r in pending("Article 26(7)", rows, chapters, "2026-12-02")] == ["2027-12-02", "2028-08-02"]
    assert [r.date for r in pending("Annex III(4)(a)", rows, chapters, "2026-12-02")] == ["2027-12-02"]
    assert pending("Article 6(5)", rows, chapters, "2026-12-02") == []  # a row of its own, already applying
    assert pending("Article 5(1)(f)", rows, chapters, "2026-12-02") == []  # not the new points' row
    assert [r.date for r in pending("Article 5(1)(ba)", rows, chapters, "2026-11-01")] == ["2026-12-02"]
    assert pending("Article 26(7)", rows, chapters, "2028-09-01") == []
    assert pending("Recital 12", rows, chapters, "2026-12-02") == []
    line = inforce.not_yet_line(["Article 26(7)"], pending("Article 26(7)", rows, chapters, "2026-12-02"), "nl",
                                "2026-12-02")
    assert line == ("Let op: artikel 26, lid 7 is op 2 december 2026 nog niet van toepassing, pas met ingang van "
                    "2 december 2027 voor bijlage III en 2 augustus 2028 voor bijlage I (artikel 113).")
    assert inforce.not_yet_line(["Annex III(4)(a)", "Article 27(1)"], rows[1:2], "en", "2026-12-02") == (
        "Note: Annex III, point 4(a) and Article 27(1) do not apply yet on 2 December 2026; they apply from "
        "2 December 2027 (Article 113).")
    assert inforce.not_yet_line(["Article 26(7)"], [], "en", "2026-12-02") == ""


def test_the_table_file_of_the_ingest_side_and_articles_through_their_chapter(tmp_path: Path, vindex) -> None:  # noqa: ANN001
    # the ingest side writes {"rows": [...], "chapters": {...}} (amend.py)
    rows = [{"provisions": ["Chapter III, Section 1", "Chapter III, Section 3", "Article 6(2)", "Annex III"],
             "scope": "hoofdstuk III ... i) 2 december 2027 ... bijlage III ... hoog risico", "date": "2027-12-02",
             "source": "ai-act/nl/art-113", "set_by": "omnibus/nl/art-1.40"},
            {"provisions": ["Chapter III, Section 1", "Chapter III, Section 3", "Article 6(1)", "Annex I"],
             "scope": "ii) 2 augustus 2028 ... bijlage I ... hoog risico", "date": "2028-08-02",
             "source": "ai-act/nl/art-113", "set_by": "omnibus/nl/art-1.40"},
            {"provisions": ["Chapter III, Section 4", "Chapter V"], "scope": "hoofdstuk III, afdeling 4, hoofdstuk V",
             "date": "2025-08-02", "source": "ai-act/nl/art-113", "set_by": ""}]
    build = tmp_path / "b"
    build.mkdir()
    (build / APPLICATION_DATES_FILE).write_text(json.dumps(
        {"rows": rows, "chapters": {"Article 26": "Chapter III, Section 3", "Article 53": "Chapter V"}}))
    vindex.path = build
    vindex._inforce_dates = None
    table = inforce.application_dates(vindex)
    assert [r.date for r in table] == ["2027-12-02", "2028-08-02", "2025-08-02"]
    ch = inforce.chapters_of(vindex)
    m = inforce.match_dates
    assert [r.date for r in m("Vanaf wanneer geldt artikel 26?", table, ch)] == ["2027-12-02", "2028-08-02"]
    assert [r.date for r in m("Vanaf wanneer gelden de regels voor GPAI?", table, ch)] == ["2025-08-02"]
    assert [r.date for r in m("Vanaf wanneer gelden de regels voor hoog-risico AI-systemen uit bijlage III?",
                              table, ch)] == ["2027-12-02"]
    # the table is Article 113 as amended: before that wording applied it is not the law
    assert inforce.dates_on(vindex, "2026-12-02") == table
    assert inforce.dates_on(vindex, "2025-06-01") == []
    d = inforce.dated_answer("", "nl", table[:1], inforce.view(vindex), "2026-12-02")
    assert d is not None and d.text.startswith(
        "Volgens artikel 113 (zoals gewijzigd bij Verordening (EU) 2026/1744, art. 1, punt 40) zijn met ingang van "
        "2 december 2027 van toepassing: hoofdstuk III, afdeling 1; hoofdstuk III, afdeling 3; artikel 6, lid 2; "
        "bijlage III")


def test_from_when_is_answered_from_the_table(vassistant: Assistant) -> None:
    ans = vassistant.ask("Vanaf wanneer gelden de regels voor hoog-risico AI-systemen uit bijlage III?", "none",
                         "2026-12-02")
    assert not ans.refused and "2 december 2027" in ans.text and "2028" not in ans.text
    assert ans.verdict == "2027-12-02" and ans.to_dict()["verdict"] == "2027-12-02"
    cited = [c.passage.id for c in ans.citations]
    assert cited[:2] == ["ai-act/nl/art-113", "omnibus/nl/art-1.40"]
    assert all(c.quote in c.passage.text and "2 december 2027" in c.quote for c in ans.citations)
    en = vassistant.ask("From when do the rules for high-risk AI systems under Annex I apply?", "none", "2026-12-02")
    assert "2 August 2028" in en.text and "Regulation (EU) 2026/1744, Art. 1, point 40" in en.text


def test_yes_no_question_with_since_when_gets_no_date_as_its_verdict(vassistant: Assistant) -> None:
    """"Gelden de regels ..., en vanaf wanneer?" asks yes or no first: the table's date is in the
    text, but it is not the verdict (a yes/no verdict or none)."""
    ans = vassistant.ask("Gelden er regels voor hoog-risico AI-systemen uit bijlage III, en vanaf wanneer?", "none",
                         "2026-12-02")
    assert not ans.refused and "2 december 2027" in ans.text
    assert ans.verdict != "2027-12-02"


def test_from_when_ranks_article_113_first(retriever: Retriever) -> None:
    res = retriever.search("Vanaf wanneer gelden de regels voor hoog-risico AI-systemen uit bijlage III?",
                           on="2026-12-02")
    assert ids(res)[0] == "ai-act/nl/art-113"
    old = retriever.search("Vanaf wanneer gelden de regels voor hoog-risico AI-systemen uit bijlage III?",
                           on="2025-06-01")
    assert "ai-act/nl/art-113" not in ids(old)


def test_from_when_with_an_llm_is_answered_from_the_table_too(vindex, fake_embedder, settings,  # noqa: ANN001
                                                              fake_generator) -> None:  # noqa: ANN001
    """The table states the date; a small model reading Article 113 picked the wrong point of it
    (the Annex III date for Annex I, for the new prohibitions): it is not asked."""
    ans = Answerer(Retriever(vindex, fake_embedder, settings), settings)
    fake_generator.enqueue("De regels gelden met ingang van 2 augustus 2028 [1].")
    a = ans.answer("Vanaf wanneer gelden de regels voor hoog-risico AI-systemen uit bijlage III?", fake_generator,
                   "local", "2026-12-02")
    assert not fake_generator.prompts and any("artikel 113" in n for n in a.notes)
    assert a.verdict == "2027-12-02" and "2 december 2027" in a.text and "2028" not in a.text
    assert a.citations and a.citations[0].passage.id == "ai-act/nl/art-113"


def test_application_dates_absent_is_empty(small_index) -> None:  # noqa: ANN001
    assert inforce.application_dates(small_index) == []


# --------------------------------------------------------------------------------- the real index


@pytest.mark.integration
def test_from_when_on_the_real_index() -> None:
    import os

    from policy_rag.settings import get_settings

    s = get_settings(llm="none")
    idx_dir = Path(os.environ.get("POLICY_RAG_INDEX", str(s.index_dir)))
    passages = idx_dir / "current" / "passages.jsonl"
    if not passages.is_file():
        pytest.skip(f"no index at {idx_dir}")
    with passages.open(encoding="utf-8") as f:
        if not any(json.loads(line).get("valid_to") for line in f):
            pytest.skip(f"the index at {idx_dir} has no versioned passages (no passage with valid_to): "
                        "build it with the amending acts applied (issue 12, ingest side)")
    a = Assistant(s.with_(index_dir=idx_dir))
    ans = a.ask("Vanaf wanneer gelden de regels voor hoog-risico AI-systemen uit bijlage III?", "none")
    assert "2 december 2027" in ans.text and ans.verdict == "2027-12-02"
    cited = {(c.passage.doc, c.passage.provision) for c in ans.citations}
    assert any(doc == "ai-act" and prov.startswith("Article 113") for doc, prov in cited), cited
    assert ("omnibus", "Article 1(40)") in cited or any(d == "omnibus" and p.startswith("Article 1(40)")
                                                         for d, p in cited), cited


def test_a_new_wording_split_into_paragraphs_keeps_the_old_one_a_click_away(fake_embedder) -> None:  # noqa: ANN001
    ps = [_v(make_passage("ai-act/nl/art-4@2024-08-01", "Article 4", "Artikel 4", OLD_NL_4),
             valid_from="2024-08-01", valid_to="2026-07-27", amended_by=["omnibus/nl/art-1.5"]),
          _v(make_passage("ai-act/nl/art-4.1", "Article 4(1)", "Artikel 4, lid 1", "Lid een nieuw."),
             valid_from="2026-07-27", amended_by=["omnibus/nl/art-1.5"]),
          _v(make_passage("ai-act/nl/art-4.2", "Article 4(2)", "Artikel 4, lid 2", "Lid twee nieuw."),
             valid_from="2026-07-27", amended_by=["omnibus/nl/art-1.5"]),
          _v(make_passage("omnibus/nl/art-1.5", "Article 1(5)", "Artikel 1, punt 5)", "artikel 4 wordt vervangen door: …",
                          kind="amendment"), version=OMNIBUS_VERSION)]
    for i, p in enumerate(ps):
        p.order = i
    idx = make_index(ps, fake_embedder)
    v = inforce.view(idx)
    assert [d["id"] for d in inforce.version_dicts(ps[1], v)] == ["ai-act/nl/art-4@2024-08-01", "ai-act/nl/art-4.1"]
    assert [q.id for q in v.successors(ps[0])] == ["ai-act/nl/art-4.1", "ai-act/nl/art-4.2"]
    (note,) = inforce.notes_for([ps[0]], v, "2025-06-01", "nl")
    assert note.startswith("Let op: Artikel 4 wordt met ingang van 27 juli 2026 vervangen bij Verordening (EU) "
                           "2026/1744, art. 1, punt 5.") and "Lid een nieuw. Lid twee nieuw." in note


def test_the_dutch_wording_in_force_is_given_once_not_also_through_the_english_note(
        vassistant: Assistant, vindex) -> None:  # noqa: ANN001
    from policy_rag.retrieve import SearchResult
    from policy_rag.types import Hit

    en4, nl4 = vindex.get("ai-act/en/art-4"), vindex.get("ai-act/nl/art-4")
    other = next(p for p in vindex.passages if p.doc == "ai-act" and p.lang == "en" and not p.valid_to
                 and not p.id.endswith("/art-4"))

    def context(ps: list) -> list[tuple[str, str]]:
        hits = [Hit(passage=p, score=1.0 / r, why="fused", rank=r) for r, p in enumerate(ps, 1)]
        chosen, _ = vassistant.answerer.context(SearchResult("q", "en", hits, 0.9, on="2026-12-15"))
        return [(p.id, p.lang) for p in chosen]

    # alone, the English 2024 passage is read as its Dutch wording in force
    assert context([en4, other]) == [("ai-act/en/art-4", "nl"), (other.id, "en")]
    # with the Dutch passage of that wording also found, the wording is given once: that passage
    assert context([en4, nl4, other]) == [("ai-act/nl/art-4", "nl"), (other.id, "en")]
