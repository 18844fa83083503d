"""The verdict scorer (eval/score_verdicts.py): normalisation, matching and metrics on fake answers."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import make_passage
from policy_rag.types import Answer, Citation, Hit

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("score_verdicts", ROOT / "eval" / "score_verdicts.py")
sv = importlib.util.module_from_spec(_spec)
sys.modules["score_verdicts"] = sv
_spec.loader.exec_module(sv)

ART4_OLD = make_passage("ai-act/nl/art-4@2024-08-01", "Article 4", "Artikel 4",
                        "Aanbieders en gebruiksverantwoordelijken nemen maatregelen om, zoveel als mogelijk, te zorgen "
                        "voor een toereikend niveau van AI-geletterdheid bij hun personeel.")
ART4_NEW = make_passage("ai-act/nl/art-4", "Article 4", "Artikel 4",
                        "Aanbieders en gebruiksverantwoordelijken van AI-systemen nemen maatregelen om de ontwikkeling "
                        "van AI-geletterdheid van hun personeel te ondersteunen. Deze verplichting houdt niet in dat "
                        "aanbieders of gebruiksverantwoordelijken een bepaald niveau van AI-geletterdheid moeten "
                        "waarborgen voor personen.")
FINE = make_passage("ai-act/nl/art-99.3", "Article 99(3)", "Artikel 99, lid 3",
                    "Voor de niet-naleving van het verbod gelden administratieve geldboeten tot 35 000 000 EUR of, "
                    "indien de overtreder een onderneming is, tot 7 % van haar totale wereldwijde jaarlijkse omzet.")


def answer(text: str, cites: list[tuple] = (), *, verdict: str = "", refused: bool = False,
           timings: dict | None = None) -> Answer:
    return Answer(question="q", language="nl", text=text, refused=refused, backend="none",
                  citations=[Citation(n=i, passage=p, quote=qt) for i, (p, qt) in enumerate(cites, 1)],
                  timings=timings or {"total": 1.0}, verdict=verdict)


# ---------------------------------------------------------------- normalisation


@pytest.mark.parametrize("written", ["EUR 35 000 000", "35.000.000 euro", "35,000,000 EUR", "EUR 35 miljoen",
                                     "35 million euros", "35\u202f000\u202f000 EUR"])
def test_amounts_are_found_however_written(written):
    assert sv.element_found(["35 000 000"], f"De boete is maximaal {written}.")


def test_percent_spacing_and_decimal_comma():
    assert sv.element_found("7 %", "of 7% van de omzet")
    assert sv.element_found("7 500 000", "tot 7,5 miljoen euro")
    assert not sv.element_found("7 %", "of 3 % van de omzet")


@pytest.mark.parametrize("written", ["2 december 2027", "2 December 2027", "December 2, 2027", "2.12.2027",
                                     "2027-12-02"])
def test_dates_are_found_in_both_languages(written):
    assert sv.element_found("2027-12-02", f"De regels gelden vanaf {written} voor bijlage III.")
    assert not sv.element_found("2027-12-02", "De regels gelden vanaf 2 augustus 2027.")


def test_number_words_and_case():
    assert sv.element_found(["6 maanden", "6 months"], "ten minste zes maanden")
    assert sv.element_found(["2 days", "2 dagen"], "not later than two days after")
    assert sv.element_found(["Medisch", "medical"], "BEHALVE OM MEDISCHE REDENEN")
    assert not sv.element_found(["medisch", "medical"], "behalve om veiligheidsredenen")


@pytest.mark.parametrize("raw,canon", [
    ("yes", "yes"), ("Ja.", "yes"), ("Nee", "no"), ("no", "no"),
    ("Ja, onder voorwaarden", "yes-if"), ("yes-if", "yes-if"), ("Yes, if it is not obvious", "yes-if"),
    ("Nee, behalve om medische of veiligheidsredenen", "no-unless"), ("No, unless ...", "no-unless"),
    ("De bronnen zeggen het niet", "not-in-sources"), ("The sources do not say.", "not-in-sources"),
    ("not-in-sources", "not-in-sources"), ("", ""), (None, ""),
    ("Nearly", "nearly"), ("2 december 2027", "2 december 2027"),
])
def test_norm_verdict(raw, canon):
    assert sv.norm_verdict(raw) == canon


# ---------------------------------------------------------------- verdicts

FINE_Q = {"id": "nl-v003", "lang": "nl", "answerable": True, "gold": ["ai-act:Article 99(3)"],
          "verdict": "EUR 35 000 000 or 7 %", "verdict_kind": "amount", "verdict_also": [],
          "required_elements": [["35 000 000"], ["7 %"], ["hoger", "higher"]]}


def test_amount_verdict_needs_every_alternative():
    assert sv.verdict_correct(FINE_Q, "EUR 35 miljoen of 7 % van de omzet, het hoogste")
    assert not sv.verdict_correct(FINE_Q, "EUR 35 000 000")  # the percentage lost (issue 13)
    assert not sv.verdict_correct(FINE_Q, "yes")
    assert sv.verdict_correct(FINE_Q, "") is False


def test_date_list_and_categorical_verdicts():
    date_q = {"verdict": "2027-12-02", "verdict_kind": "date"}
    assert sv.verdict_correct(date_q, "2 december 2027")
    assert not sv.verdict_correct(date_q, "2 augustus 2026")
    list_q = {"verdict": "aanbieders|providers; machineleesbaar|machine-readable", "verdict_kind": "list"}
    assert sv.verdict_correct(list_q, "Providers, in a machine-readable format")
    assert not sv.verdict_correct(list_q, "deployers")
    cat_q = {"verdict": "no-unless", "verdict_kind": "categorical", "verdict_also": ["no"]}
    assert sv.verdict_correct(cat_q, "Nee, behalve om medische redenen")
    assert sv.verdict_correct(cat_q, "Nee")
    assert not sv.verdict_correct(cat_q, "Ja")
    assert sv.verdict_correct({"verdict": ""}, "yes") is None


# ---------------------------------------------------------------- one answer


def test_score_answer_elements_gold_and_verdict():
    ans = answer("Maximaal EUR 35 000 000 of 7 % van de omzet, indien dat hoger is [1].",
                 [(FINE, "tot 35 000 000 EUR")], verdict="EUR 35 000 000 or 7 %")
    rec = sv.score_answer(FINE_Q, ans)
    assert rec["verdict_correct"] and rec["gold_cited"] and not rec["no_verdict"]
    assert rec["required_recall"] == 1.0
    lost = sv.score_answer(FINE_Q, answer("EUR 35 000 000 [1]", [(FINE, "tot 35 000 000 EUR")]))
    assert lost["required_recall"] == pytest.approx(1 / 3)
    assert lost["no_verdict"] and lost["verdict_correct"] is False


def test_current_and_old_wording():
    q = {"id": "nl-a001", "lang": "nl", "answerable": True, "gold": ["ai-act:Article 4"],
         "current_wording": ["houdt niet in dat aanbieders of gebruiksverantwoordelijken een bepaald niveau"],
         "old_wording": ["te zorgen voor een toereikend niveau van AI-geletterdheid"]}
    new = sv.score_answer(q, answer("Nee [1].", [(ART4_NEW, "Deze verplichting houdt niet in dat aanbieders of\n"
                                                            "gebruiksverantwoordelijken een bepaald niveau")]))
    assert new["current_wording"] and not new["old_as_current"]
    old = sv.score_answer(q, answer("Ja [1].", [(ART4_OLD, "te zorgen voor een toereikend niveau van "
                                                           "AI-geletterdheid")]))
    assert not old["current_wording"] and old["old_as_current"]
    # the same quote from a passage marked as superseded on the date is history, not "as current"
    hist = make_passage("ai-act/nl/art-4@2024-08-01", "Article 4", "Artikel 4", ART4_OLD.text)
    hist.valid_to = "2026-07-27"
    both = sv.score_answer(q, answer("Nu [1]; vroeger [2].", [(ART4_NEW, "houdt niet in dat aanbieders of "
                                                                         "gebruiksverantwoordelijken een bepaald niveau"),
                                                              (hist, "te zorgen voor een toereikend niveau van "
                                                                     "AI-geletterdheid")]), "2026-12-02")
    assert both["current_wording"] and not both["old_as_current"]
    # ... but on a date before it was superseded, it is the wording in force
    assert sv.score_answer(q, answer("[1]", [(hist, "te zorgen voor een toereikend niveau van AI-geletterdheid")]),
                           "2025-06-01")["old_as_current"]


def test_refusals_both_ways_and_refusal_as_not_in_sources():
    una = {"id": "nl-v038", "lang": "nl", "answerable": False, "gold": [], "verdict": "not-in-sources",
           "verdict_kind": "categorical", "verdict_also": [], "required_elements": []}
    rec = sv.score_answer(una, answer("De bronnen zeggen het niet.", refused=True))
    assert rec["correct_refusal"] and rec["no_verdict"] and rec["verdict_correct"] is False
    assert rec["verdict_correct_refusal_as_nis"] is True
    rec2 = sv.score_answer(FINE_Q, answer("Daar zeggen de bronnen niets over.", refused=True))
    assert rec2["false_refusal"] and rec2["verdict_correct_refusal_as_nis"] is False
    assert "required_recall" in rec2 and rec2["required_recall"] == 0.0


def test_metrics_by_language():
    qs = [dict(FINE_Q, id="nl-1", lang="nl"), dict(FINE_Q, id="en-1", lang="en"),
          {"id": "en-2", "lang": "en", "answerable": False, "gold": [], "verdict": "not-in-sources",
           "verdict_kind": "categorical", "verdict_also": []}]
    recs = [sv.score_answer(qs[0], answer("EUR 35 000 000 of 7 %, hoger [1]", [(FINE, "35 000 000 EUR")],
                                          verdict="EUR 35 000 000 or 7 %", timings={"first_token": 1.0, "total": 4.0})),
            sv.score_answer(qs[1], answer("EUR 35 000 000 [1]", [(FINE, "35 000 000 EUR")],
                                          timings={"first_token": 3.0, "total": 8.0})),
            sv.score_answer(qs[2], answer("The sources do not say.", refused=True, verdict="not-in-sources",
                                          timings={"total": 0.5}))]
    recs[0]["rank"], recs[1]["rank"] = 2, 7
    m = sv.by_lang(qs, recs)
    assert m["nl"]["verdict_acc"] == 1.0 and m["en"]["verdict_acc"] == 0.5 and m["en"]["no_verdict"] == 1
    assert m["all"]["recall@5"] == 0.5 and m["all"]["gold_cited"] == 1.0
    assert m["en"]["correct_refusal"] == 1.0 and m["all"]["false_refusal"] == 0.0
    assert m["all"]["first_token_p50"] == 2.0 and m["all"]["total_p50"] == 4.0
    assert m["all"]["required_recall"] == pytest.approx((1.0 + 1 / 3) / 2)


# ---------------------------------------------------------------- the run, with a fake assistant


class FakeAssistant:
    def __init__(self, takes_on: bool) -> None:
        self.seen: list[tuple[str, str | None]] = []
        self.index = SimpleNamespace(passages=[ART4_NEW, FINE])
        outer = self

        class Retriever:
            def search(self, question, k=10, **kw):  # noqa: ANN001
                outer.seen.append(("search", kw.get("on")))
                return SimpleNamespace(hits=[Hit(passage=ART4_NEW, score=1.0, rank=1)])

        self.retriever = Retriever()
        if takes_on:
            self.ask = self._ask_on  # type: ignore[method-assign]

    def backend(self, requested):  # noqa: ANN001
        return requested

    def ask(self, question, backend):  # noqa: ANN001
        return self._ask_on(question, backend)

    def _ask_on(self, question, backend, on=None):  # noqa: ANN001
        self.seen.append(("ask", on))
        return answer("Nee [1].", [(ART4_NEW, "houdt niet in dat aanbieders of gebruiksverantwoordelijken een "
                                              "bepaald niveau")], verdict="no")


def _write(tmp_path: Path, rows: list[dict]) -> Path:
    p = tmp_path / "q.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return p


ROWS = [{"id": "nl-a001", "lang": "nl", "question": "Moet mijn personeel een AI-training volgen?", "answerable": True,
         "on": "2025-06-01", "gold": ["ai-act:Article 4"], "verdict": "no", "verdict_kind": "categorical",
         "verdict_also": [], "required_elements": [], "split": "tune",
         "current_wording": ["bepaald niveau"], "old_wording": []},
        {"id": "nl-a002", "lang": "nl", "question": "Blind?", "answerable": True, "gold": ["ai-act:Article 4"],
         "split": "blind"}]


@pytest.mark.parametrize("takes_on", [False, True])
def test_run_file_passes_on_only_when_supported(tmp_path, takes_on):
    a = FakeAssistant(takes_on)
    res = sv.run_file(a, _write(tmp_path, ROWS), backend="none", split="tune", lang=None, limit=None, on=None,
                      progress=False)
    assert res["questions"] == 1  # the blind question is left out
    assert res["on_supported"]["ask"] is takes_on and res["on_supported"]["search"] is False
    assert ("ask", "2025-06-01" if takes_on else None) in a.seen
    m = res["by_lang"]["nl"]
    assert m["recall@5"] == 1.0 and m["verdict_acc"] == 1.0 and m["current_wording"] == 1.0


def test_blind_split_needs_the_flag(tmp_path):
    with pytest.raises(SystemExit):
        sv.main(["--split", "blind", "--questions", str(_write(tmp_path, ROWS))])
    with pytest.raises(SystemExit):
        sv.main(["--on", "1 juni 2025"])


def test_table_and_cpu():
    res = {"file": "verdicts.jsonl", "split": "tune", "backend": "none",
           "by_lang": sv.by_lang([FINE_Q], [sv.score_answer(FINE_Q, answer("x"))])}
    out = sv.table([res])
    assert "verdicts.jsonl" in out and "nl" in out and "all" in out
    assert isinstance(sv.cpu_model(), str) and sv.cpu_model()


def test_an_interrupted_run_reports_the_questions_done(tmp_path):
    a = FakeAssistant(takes_on=False)
    calls = []

    def ask(question, backend):  # noqa: ANN001
        calls.append(question)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return FakeAssistant._ask_on(a, question, backend)

    a.ask = ask
    rows = [dict(ROWS[0], id=f"nl-a00{i}", question=f"Vraag nummer {i}?") for i in range(1, 4)]
    res = sv.run_file(a, _write(tmp_path, rows), backend="none", split="tune", lang=None, limit=None, on=None,
                      progress=False)
    assert res["interrupted"] and res["questions"] == 1 and res["of_questions"] == 3
    assert res["by_lang"]["nl"]["n"] == 1 and len(res["per_question"]) == 1
