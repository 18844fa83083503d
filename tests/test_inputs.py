"""Questions cleaned and bounded at the Assistant; stdin read as bytes; provisions the act lacks."""

from __future__ import annotations

import io
import random

import pytest

from conftest import make_index, make_passage
from hostile_harness import StrictEmbedder, act_passages, is_clear, json_lines, run_cli, use_fake_index
from policy_rag.answer import Answerer, sentence_spans
from policy_rag.assistant import Assistant, NoSuchProvision
from policy_rag.inputs import InvalidQuestion, clean_question, decode_line, echo, read_lines
from policy_rag.settings import Settings


@pytest.fixture
def strict() -> StrictEmbedder:
    return StrictEmbedder(dim=512)


@pytest.fixture
def act_assistant(strict: StrictEmbedder) -> Assistant:
    s = Settings(min_dense_score=0.05, min_dense_score_en=None)
    return Assistant(s, embedder=strict, index=make_index(act_passages(), strict))


# --- cleaning ------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw, clean", [
    ("Wat\u200b is\u200c een\u200d AI\u2060-systeem\ufeff?", "Wat is een AI-systeem?"),
    ("Wat is \u202everboden\u202c?", "Wat is verboden?"),
    ("\ufeffWat is een AI-systeem?", "Wat is een AI-systeem?"),
    ("Wat is\u2028verboden?\u2029", "Wat is verboden?"),
    ("Wat\x0bis\x0cverboden?", "Wat is verboden?"),
    ("  Wat\t\tis \r\n verboden?  ", "Wat is verboden?"),
    ("cafe\u0301", "café"),  # NFC
    (" " * 100_000 + "Wat is verboden?", "Wat is verboden?"),
])
def test_invisible_marks_and_spacing_are_normalised(raw: str, clean: str) -> None:
    q = clean_question(raw)
    assert q.text == clean and q.removed == 0


@pytest.mark.parametrize("raw, clean, removed", [
    ("Wat is \udcff een AI-systeem?", "Wat is een AI-systeem?", 1),
    ("Wat is \ud800 verboden?", "Wat is verboden?", 1),
    ("Wat is een AI-systeem?\x00", "Wat is een AI-systeem?", 1),
    ("Wat is \ufffd verboden?", "Wat is verboden?", 1),
])
def test_a_few_unreadable_characters_are_removed_and_counted(raw: str, clean: str, removed: int) -> None:
    q = clean_question(raw)
    assert (q.text, q.removed) == (clean, removed)
    q.text.encode("utf-8")  # never a lone surrogate


@pytest.mark.parametrize("raw, kind", [
    ("\udc80\udc81\udc82", "binary"), ("\x00\x00\x00", "binary"), ("Wat\x01 is\x02 een\x1b[31m AI\x7f-systeem?", "binary"),
    ("\u200b\u200c\u200d\ufeff", "empty"), ("", "empty"), ("x" * 2001, "too_long"), ("x" * 50_000_000, "too_long"),
    (None, "binary"),
])
def test_bad_questions_are_refused_with_their_kind(raw: object, kind: str) -> None:
    with pytest.raises(InvalidQuestion) as e:
        clean_question(raw)
    assert e.value.kind == kind and str(e.value)


def test_too_long_says_how_long_and_the_limit_from_the_settings(strict: StrictEmbedder) -> None:
    with pytest.raises(InvalidQuestion, match=r"\(2500 characters, at most 2000\)"):
        clean_question("What is an AI system? " * 113 + "x" * 14)
    a = Assistant(Settings(max_question_chars=40, min_dense_score=0.05), embedder=strict,
                  index=make_index(act_passages(5, 1, 1), strict))
    with pytest.raises(InvalidQuestion, match="maximaal 40"):
        a.ask("Welke AI-praktijken zijn verboden volgens artikel 5?", "none")
    assert a.search("Wat is verboden?").hits  # shorter: answered


def test_the_answer_says_when_characters_were_removed(act_assistant: Assistant) -> None:
    ans = act_assistant.ask("Wat is \udcff een AI-systeem?", "none")
    assert ans.question == "Wat is een AI-systeem?" and "1 onleesbare teken(s)" in ans.notes[0]


def test_echo_is_short_and_valid_utf8() -> None:
    e = echo("\udcff" + "x" * 50_000_000)
    assert len(e) < 260 and "50,000,001 characters" in e
    e.encode("utf-8")


# --- reading stdin -------------------------------------------------------------------------------


def _lines(data: bytes) -> list:
    return list(read_lines(io.BytesIO(data)))


def test_decode_line_reads_latin1_and_names_the_bad_byte() -> None:
    assert decode_line("Wat kost een café-AI?".encode("latin-1")) == ("Wat kost een café-AI?", "cp1252")
    assert decode_line(b"\x93Wat is verboden?\x94") == ("“Wat is verboden?”", "cp1252")
    with pytest.raises(InvalidQuestion, match="0x8f"):
        decode_line(b"ab\x8f\x90\x9d\x81")


def test_stdin_utf16_with_bom_is_decoded() -> None:
    data = "Wat is een AI-systeem?\r\nWhat is a provider?\r\nWat kost een café?\r\n".encode("utf-16")
    got = _lines(data)
    assert [x.text for x in got] == ["Wat is een AI-systeem?", "What is a provider?", "Wat kost een café?"]
    assert all(x.error is None for x in got)


def test_stdin_odd_lines_are_one_result_each() -> None:
    rnd = bytes(random.Random(7).randrange(256) for _ in range(4096)).replace(b"\n", b" ")
    data = b"\n".join([b"Wat\x00is\x00verboden?", b"x" * 1_000_000, "é".encode() * 25_000_000, rnd,
                       b"Wat is een AI-systeem?"]) + b"\n"
    got = _lines(data)
    assert [x.number for x in got] == [1, 2, 3, 4, 5]
    assert got[0].error is None  # decoded; the Assistant decides (here: binary, 2 of 16 characters)
    assert got[1].error.kind == "too_long" and "1000000" in str(got[1].error)
    assert got[2].error.kind == "too_long" and "25000000" in str(got[2].error) and len(got[2].text) < 100
    assert got[3].error is not None and got[3].error.kind == "encoding"
    assert got[4].text == "Wat is een AI-systeem?" and got[4].error is None


def test_cli_json_is_strict_utf8_and_echoes_little(monkeypatch, tmp_path, capsysbinary, strict) -> None:  # noqa: ANN001
    use_fake_index(monkeypatch, tmp_path, strict)
    data = b"Wat is \xed\xa0\x80 verboden?\n" + b"a\xffb" * 20_000 + b"\n" + "Wat kost een café-AI?".encode("latin-1") + b"\n"
    code, out, err = run_cli(monkeypatch, capsysbinary, ["ask", "-", "--json", "--llm", "none"], data)
    recs = json_lines(out)  # strict UTF-8
    assert code == 0 and len(recs) == 3, err
    assert b"\xff" not in out and b"\xed\xa0\x80" not in out
    assert recs[1]["error_kind"] in ("encoding", "too_long") and len(recs[1]["question"]) < 260 and is_clear(recs[1])
    assert recs[2]["question"] == "Wat kost een café-AI?" and "Windows-1252" in recs[2]["notes"][0]


# --- provisions the act does not have --------------------------------------------------------------


@pytest.mark.parametrize("question, says", [
    ("Wat staat er in artikel 999 lid 7?", ["geen artikel 999.", "artikelen 1 tot en met 113", "bijlagen I tot en met XIII",
                                            "overwegingen 1 tot en met 180"]),
    ("What does Article 999(7) say?", ["no Article 999.", "Articles 1 to 113", "Annexes I to XIII", "Recitals 1 to 180"]),
    ("Artikel 5, lid 99, punt zz)", ["geen artikel 5, lid 99.", "Artikel 5 heeft de leden 1 tot en met 8."]),
    ("Wat staat er in bijlage XCIX?", ["geen bijlage XCIX."]),
    ("Overweging 9999", ["geen overweging 9999."]),
])
def test_a_provision_the_act_lacks_is_named_not_answered_from_another(act_assistant: Assistant, question: str,
                                                                     says: list[str]) -> None:
    ans = act_assistant.ask(question, "none")
    assert ans.refused and ans.refusal_reason == "no-such-provision" and not ans.citations
    for s in says:
        assert s in ans.text, ans.text


@pytest.mark.parametrize("question", ["Wat staat er in artikel 5 lid 1 onder f?", "What does Article 50(1)(a) say?",
                                      "Wat staat er in bijlage XIII?", "Overweging 180", "artikel 1, punt 3 van de omnibus"])
def test_a_provision_the_act_has_is_not_flagged(act_assistant: Assistant, question: str) -> None:
    assert act_assistant.ask(question, "none").refusal_reason != "no-such-provision"


def test_the_ranges_come_from_the_index(strict: StrictEmbedder) -> None:
    a = Assistant(Settings(min_dense_score=0.05), embedder=strict, index=make_index(act_passages(100, 3, 20), strict))
    text = a.ask("Wat staat er in artikel 101?", "none").text
    assert "artikelen 1 tot en met 100" in text and "bijlagen I tot en met III" in text and "1 tot en met 20" in text


def test_cite_and_show_say_no_such_provision_in_the_users_language(monkeypatch, tmp_path, capsysbinary,
                                                                  strict, act_assistant) -> None:  # noqa: ANN001
    with pytest.raises(NoSuchProvision, match="geen artikel 999"):
        act_assistant.cite("artikel 999 lid 7")
    with pytest.raises(NoSuchProvision, match="no Article 5\\(99\\)"):
        act_assistant.cite("Article 5(99)")
    use_fake_index(monkeypatch, tmp_path, strict, act_passages())
    code, out, err = run_cli(monkeypatch, capsysbinary, ["cite", "Artikel 5, lid 99, punt zz)"])
    assert code == 1 and "geen artikel 5, lid 99" in err and "Traceback" not in err
    code, out, err = run_cli(monkeypatch, capsysbinary, ["show", "ai-act/nl/art-999.7"])
    assert code == 1 and "De AI-verordening heeft geen artikel 999" in err
    code, out, err = run_cli(monkeypatch, capsysbinary, ["show", "ai-act/en/art-5.99"])
    assert code == 1 and "The AI Act has no Article 5(99)" in err


def test_a_bare_paragraph_number_is_not_a_sentence(strict: StrictEmbedder) -> None:
    text = "1.\nDe volgende AI-praktijken zijn verboden:\n99.\n(a)"
    assert [text[s:e] for s, e in sentence_spans(text)] == ["De volgende AI-praktijken zijn verboden:"]
    p = make_passage("ai-act/nl/art-5.1", "Article 5(1)", "Artikel 5, lid 1", "1.\nDe volgende AI-praktijken zijn verboden:")
    ans = Answerer.__new__(Answerer).extractive("Artikel 5, lid 99, punt zz)", "nl", [p])
    assert ans.citations and ans.citations[0].quote == "De volgende AI-praktijken zijn verboden:"


def test_a_provision_an_amending_act_inserts_counts_as_present(strict: StrictEmbedder) -> None:
    ps = act_passages()
    ps.append(make_passage("omnibus/en/art-1.20", "Article 1(20)", "Article 1, point (20)",
                           "The following Article 60a is inserted: Real-world testing of AI systems.",
                           kind="amendment", amends=["Article 60a"]))
    a = Assistant(Settings(min_dense_score=0.05), embedder=strict, index=make_index(ps, strict))
    assert a.ask("Who supervises testing under the new Article 60a?", "none").refusal_reason != "no-such-provision"
    assert a.ask("What does Article 60b say?", "none").refusal_reason == "no-such-provision"


def test_text_mode_batch_reports_bad_lines_on_stderr_and_goes_on(monkeypatch, tmp_path, capsysbinary,
                                                                 strict) -> None:  # noqa: ANN001
    use_fake_index(monkeypatch, tmp_path, strict)
    data = b"Wat is AI-geletterdheid?\n\x00\x00\x00\nIs emotieherkenning op het werk verboden?\n"
    code, out, err = run_cli(monkeypatch, capsysbinary, ["ask", "-", "--llm", "none"], data)
    text = out.decode("utf-8")
    assert code == 0 and "line 2: De vraag bevat onleesbare" in err and "Traceback" not in err
    assert text.count("De meest relevante passages") == 2
    assert "1 of 3 questions failed" in err
