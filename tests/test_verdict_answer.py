"""The answer's shape (verdict line, checked sentences, decisive quotes) through Answerer.stream,
with the LLM's reply as JSON (verdict.schema) or as plain text, and the extractive backend."""

from __future__ import annotations

import json

import httpx
import pytest

from conftest import FakeGenerator
from policy_rag.answer import Answerer
from policy_rag.errors import ModelUnavailableError
from policy_rag.generate import HostedGenerator, accepts_schema
from policy_rag.prompts import REFUSAL
from policy_rag.retrieve import Retriever
from policy_rag.types import Answer

MAY = "Mag ik emotieherkenning gebruiken op de werkplek?"


@pytest.fixture
def answerer(small_index, fake_embedder, settings):  # noqa: ANN001, ANN201
    """The JSON answer format (POLICY_RAG_ANSWER_FORMAT=json): most tests here are about it."""
    s = settings.with_(answer_format="json")
    return Answerer(Retriever(small_index, fake_embedder, s), s)


@pytest.fixture
def text_answerer(small_index, fake_embedder, settings):  # noqa: ANN001, ANN201
    """The default answer format: plain sentences with [n] marks."""
    assert settings.answer_format == "text"
    return Answerer(Retriever(small_index, fake_embedder, settings), settings)


class JsonGenerator(FakeGenerator):
    """Replies with JSON and records the schema it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.schemas: list[dict | None] = []

    def stream(self, messages, *, max_tokens, temperature, stop=None, schema=None):  # noqa: ANN001, ANN201
        self.schemas.append(schema)
        yield from super().stream(messages, max_tokens=max_tokens, temperature=temperature, stop=stop)


def reply(v: str, *sentences: tuple[str, int]) -> str:
    return json.dumps({"verdict": v, "sentences": [{"text": t, "source": n} for t, n in sentences]},
                      ensure_ascii=False)


def run(answerer: Answerer, question: str, gen: FakeGenerator) -> tuple[list[str], Answer]:
    items = list(answerer.stream(question, gen, "local"))
    assert isinstance(items[-1], Answer)
    return [i for i in items[:-1] if isinstance(i, str)], items[-1]


def test_json_answer_has_verdict_line_sentence_and_quote(answerer: Answerer) -> None:
    gen = JsonGenerator().enqueue(reply("no-unless", (
        "Emotieherkenning op de werkplek is verboden, behalve om medische of veiligheidsredenen.", 1)))
    pieces, ans = run(answerer, MAY, gen)
    assert gen.schemas[0] and gen.schemas[0]["required"] == ["verdict", "sentences"]
    assert "".join(pieces) == ans.text  # what was streamed is the answer
    assert ans.verdict == "no-unless" and ans.to_dict()["verdict"] == "no-unless"
    first, sentences, quotes = ans.text.split("\n\n")
    assert first.startswith("Nee, behalve") and "medische of veiligheidsredenen" in first
    assert sentences.endswith("[1]") and "behalve" in sentences
    assert quotes.startswith("- Artikel 5, lid 1, punt f): “") and ans.citations[0].quote in quotes
    assert not any("vervangen" in n for n in ans.notes)


def test_sentence_that_drops_the_exception_is_shown_as_its_quote(answerer: Answerer) -> None:
    wrong = "Het gebruik van AI-systemen om emoties op de werkplek af te leiden is verboden"
    gen = JsonGenerator().enqueue(reply("no", (wrong + ".", 1)))
    pieces, ans = run(answerer, MAY, gen)
    assert wrong not in ans.text.replace(ans.citations[0].quote, "")  # never shown as checked
    assert f"“{ans.citations[0].quote}” [1]" in ans.text and "behalve" in ans.citations[0].quote
    assert ans.text.count(ans.citations[0].quote) == 1  # not repeated under it
    assert any("vervangen door het letterlijke citaat" in n and "uitzondering" in n for n in ans.notes)
    # the model's "no" drops the exception the decisive quote carries: the quote's verdict is shown
    assert ans.verdict == "no-unless" and any("korte antwoord van het model (no)" in n for n in ans.notes)


def test_verdict_contradicting_the_quote_is_replaced(answerer: Answerer) -> None:
    gen = JsonGenerator().enqueue(reply("yes", (
        "Emotieherkenning op de werkplek is verboden, behalve om medische of veiligheidsredenen.", 1)))
    _, ans = run(answerer, MAY, gen)
    assert ans.verdict == "no-unless" and ans.text.startswith("Nee, behalve")


def test_a_sentence_whose_yes_is_not_the_verdicts_is_shown_as_its_quote(answerer: Answerer) -> None:
    # the sentence's words pass every rule against its quote, but it opens with "Ja" under "Nee, behalve"
    said = "Ja, emotieherkenning op de werkplek is verboden, behalve om medische of veiligheidsredenen"
    gen = JsonGenerator().enqueue(reply("no-unless", (said + ".", 1)))
    pieces, ans = run(answerer, MAY, gen)
    assert ans.text.startswith("Nee, behalve") and said not in ans.text
    assert f"“{ans.citations[0].quote}” [1]" in ans.text and "".join(pieces) == ans.text
    assert any("ja of nee anders dan de bron" in n for n in ans.notes)
    # without the "Ja," the same sentence is kept as checked
    gen = JsonGenerator().enqueue(reply("no-unless", (said[4:].capitalize() + ".", 1)))
    _, ans = run(answerer, MAY, gen)
    assert said[4:].capitalize() in ans.text and not any("ja of nee" in n for n in ans.notes)


def test_a_point_shown_in_place_of_a_sentence_keeps_its_lead_in() -> None:
    from policy_rag.answer import shown_quote
    lead = "De volgende AI-praktijken zijn verboden:"
    assert shown_quote("f) het gebruik van AI-systemen om emoties af te leiden;", lead, "[1]") == (
        "De volgende AI-praktijken zijn verboden: “f) het gebruik van AI-systemen om emoties af te leiden;” [1]")
    assert shown_quote("Aanbieders zorgen ervoor.", "", "[2]") == "“Aanbieders zorgen ervoor.” [2]"


def test_allowed_sentence_on_a_prohibiting_quote_never_shown(answerer: Answerer) -> None:
    gen = JsonGenerator().enqueue(reply("yes", ("Emotieherkenning op de werkplek is toegestaan.", 1)))
    _, ans = run(answerer, MAY, gen)
    assert "is toegestaan" not in ans.text and not ans.text.startswith("Ja")


def test_english_json_answer(answerer: Answerer) -> None:
    gen = JsonGenerator().enqueue(reply("yes-if", (
        "Providers and deployers must take measures to ensure a sufficient level of AI literacy of their staff.", 1)))
    _, ans = run(answerer, "Must providers take measures for the AI literacy of their staff?", gen)
    assert ans.language == "en" and ans.verdict in ("yes", "yes-if")
    assert ans.text.split("\n\n")[0] in ("Yes.", "Yes, under conditions.")
    assert "AI literacy" in ans.text.split("\n\n")[1]


def test_open_question_has_no_verdict_line(answerer: Answerer) -> None:
    gen = JsonGenerator().enqueue(reply("none", (
        "Aanbieders nemen maatregelen voor een toereikend niveau van AI-geletterdheid van hun personeel.", 1)))
    _, ans = run(answerer, "Wat zegt de wet over AI-geletterdheid?", gen)
    assert ans.verdict == "" and ans.text.startswith("Aanbieders")


def test_model_refusal_in_json_is_a_refusal(answerer: Answerer) -> None:
    gen = JsonGenerator().enqueue(reply("not-in-sources", (REFUSAL["nl"], 1)))
    _, ans = run(answerer, MAY, gen)
    assert ans.refused and ans.text == REFUSAL["nl"] and ans.verdict == "not-in-sources"


def test_plain_text_reply_gets_the_same_shape(answerer: Answerer, fake_generator: FakeGenerator) -> None:
    fake_generator.enqueue("Emotieherkenning op de werkplek is verboden, behalve om medische of veiligheidsredenen [1].")
    pieces, ans = run(answerer, MAY, fake_generator)
    assert "".join(pieces) == ans.text and ans.verdict == "no-unless"
    assert ans.text.startswith("Nee, behalve") and "\n\n- Artikel 5, lid 1, punt f): “" in ans.text


def test_text_format_sends_no_schema_and_reads_the_verdict_from_the_quote(text_answerer: Answerer) -> None:
    """By default the model writes sentences, not a verdict: no schema (no grammar), the text
    prompt, and the verdict comes from the decisive quote even when the sentence says "ja"."""
    gen = JsonGenerator().enqueue("Ja, emotieherkenning op de werkplek is verboden, behalve om medische of "
                                  "veiligheidsredenen [1].")
    pieces, ans = run(text_answerer, MAY, gen)
    assert gen.schemas == [None]
    system = gen.prompts[0][0]["content"]
    assert "JSON" not in system and "[1]" in system and REFUSAL["nl"] in system
    assert all("{" not in m["content"] for m in gen.prompts[0][1:-1])  # worked examples in plain text
    assert ans.verdict == "no-unless" and ans.text.startswith("Nee, behalve") and "".join(pieces) == ans.text


def test_text_format_prompt_is_english_for_english_questions(text_answerer: Answerer) -> None:
    passages = [h.passage for h in text_answerer.retriever.search(MAY).hits[:2]]
    msgs = text_answerer.messages("May I use emotion recognition at work?", "en", passages)
    assert msgs[0]["content"].startswith("You answer questions") and "JSON" not in msgs[0]["content"]
    assert msgs[-1]["content"].startswith("Sources:\n[1] ") and "[2] " in msgs[-1]["content"]
    assert msgs[-2]["content"].endswith("has switched it on [1].")  # the exception example, in plain text


def test_bad_answer_format_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from policy_rag.errors import SettingsError
    from policy_rag.settings import Settings

    monkeypatch.setenv("POLICY_RAG_ANSWER_FORMAT", "xml")
    with pytest.raises(SettingsError, match="POLICY_RAG_ANSWER_FORMAT='xml'.*text, json"):
        Settings()
    monkeypatch.setenv("POLICY_RAG_ANSWER_FORMAT", "JSON")
    assert Settings().answer_format == "json"


def test_extractive_answer_has_the_verdict_its_quote_supports(answerer: Answerer) -> None:
    ans = answerer.answer(MAY, None, "none")
    assert ans.verdict == "no-unless" and ans.text.startswith("Nee, behalve")
    ans = answerer.answer("Wat zegt de wet over AI-geletterdheid?", None, "none")
    assert ans.verdict == "" and not ans.text.startswith(("Ja", "Nee"))


def test_refusal_verdict_is_not_in_sources(answerer: Answerer, settings) -> None:  # noqa: ANN001
    answerer.settings = settings.with_(min_dense_score=0.99)
    ans = answerer.answer("Hoeveel belasting betaal ik op een leaseauto?", None, "none")
    assert ans.refused and ans.verdict == "not-in-sources"


def test_prompt_puts_fixed_instructions_first_and_evidence_last(answerer: Answerer) -> None:
    gen = JsonGenerator().enqueue(reply("no", ("x", 1)))
    run(answerer, MAY, gen)
    msgs = gen.prompts[0]
    other = JsonGenerator().enqueue(reply("no", ("x", 1)))
    run(answerer, "Wat zegt de wet over AI-geletterdheid?", other)
    assert msgs[:-1] == other.prompts[0][:-1]  # everything but the evidence and question is the same
    assert "JSON" in msgs[0]["content"] and "Bronnen:" in msgs[-1]["content"] and MAY in msgs[-1]["content"]


def test_accepts_schema() -> None:
    class Old:
        def stream(self, messages, *, max_tokens, temperature, stop=None):  # noqa: ANN001, ANN201
            yield ""

    assert not accepts_schema(Old()) and accepts_schema(JsonGenerator())


def test_hosted_sends_response_format_and_retries_without_it() -> None:
    seen: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        if "response_format" in body:
            return httpx.Response(400, json={"error": {"message": "response_format not supported"}})
        return httpx.Response(200, json={"choices": [{"message": {"content": "{\"verdict\": \"no\"}"}}]})

    gen = HostedGenerator("http://127.0.0.1:9/v1", "m")
    transport = httpx.MockTransport(handler)
    gen._client = lambda: httpx.Client(transport=transport)  # type: ignore[method-assign]
    out = "".join(gen.stream([{"role": "user", "content": "q"}], max_tokens=5, temperature=0.0,
                             schema={"type": "object"}))
    assert out == "{\"verdict\": \"no\"}"
    assert seen[0]["response_format"]["type"] == "json_schema"
    assert seen[0]["response_format"]["json_schema"]["schema"] == {"type": "object"}
    assert seen[1]["response_format"] == {"type": "json_object", "schema": {"type": "object"}}  # llama.cpp's form
    assert "response_format" not in seen[2] and len(seen) == 3
    # the refused forms are not sent again
    "".join(gen.stream([{"role": "user", "content": "q"}], max_tokens=5, temperature=0.0, schema={"type": "object"}))
    assert len(seen) == 4 and "response_format" not in seen[3]


def test_hosted_takes_the_json_object_form_after_a_500_naming_response_format() -> None:
    """llama-cpp-python's server answers OpenAI's json_schema form with a 500 (a validation error
    naming response_format) and takes {"type": "json_object", "schema": ...}."""
    seen: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        if body.get("response_format", {}).get("type") == "json_schema":
            return httpx.Response(500, text="1 validation error: ('body', 'response_format', 'type') Input should be "
                                            "'text' or 'json_object'")
        return httpx.Response(200, json={"choices": [{"message": {"content": "{\"verdict\": \"yes\"}"}}]})

    gen = HostedGenerator("http://127.0.0.1:9/v1", "m")
    transport = httpx.MockTransport(handler)
    gen._client = lambda: httpx.Client(transport=transport)  # type: ignore[method-assign]
    for _ in range(2):
        out = "".join(gen.stream([{"role": "user", "content": "q"}], max_tokens=5, temperature=0.0,
                                 schema={"type": "object"}))
        assert out == "{\"verdict\": \"yes\"}"
    assert [b["response_format"]["type"] for b in seen] == ["json_schema", "json_object", "json_object"]
    # a 500 that does not name response_format is the server's failure, not a refusal of the form
    gen2 = HostedGenerator("http://127.0.0.1:9/v1", "m")
    gen2._client = lambda: httpx.Client(  # type: ignore[method-assign]
        transport=httpx.MockTransport(lambda r: httpx.Response(500, text="out of memory")))
    with pytest.raises(ModelUnavailableError, match="HTTP 500"):
        "".join(gen2.stream([{"role": "user", "content": "q"}], max_tokens=5, temperature=0.0,
                            schema={"type": "object"}))


def test_app_answer_panel_shows_the_verdict(answerer: Answerer) -> None:
    import importlib.util
    import sys
    from pathlib import Path

    mod = sys.modules.get("policy_rag_app")
    if mod is None:
        spec = importlib.util.spec_from_file_location("policy_rag_app", Path(__file__).parent.parent / "app.py")
        assert spec and spec.loader
        mod = importlib.util.module_from_spec(spec)
        sys.modules["policy_rag_app"] = mod
        spec.loader.exec_module(mod)
    ans = answerer.answer(MAY, None, "none")
    html = mod.answer_panel(ans, [None] * len(ans.citations))
    assert 'class="pr-verdict" data-verdict="no-unless"' in html and "Kort antwoord" in html
    assert "Nee, behalve om medische of veiligheidsredenen" in html
    ans.verdict = ""
    assert "pr-verdict" not in mod.answer_panel(ans, [None] * len(ans.citations))


def test_local_generator_passes_the_schema_as_response_format(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # noqa: ANN001
    import sys
    import types

    from policy_rag import generate
    from policy_rag.generate import LocalGenerator

    calls: list[dict] = []

    class Llama:
        def __init__(self, **kw) -> None:  # noqa: ANN003
            pass

        def create_chat_completion(self, **kw):  # noqa: ANN003, ANN202
            calls.append(kw)
            yield {"choices": [{"delta": {"content": "{}"}}]}

    module = types.ModuleType("llama_cpp")
    module.Llama = Llama  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "llama_cpp", module)
    generate.llama_cpp_available.cache_clear()
    model = tmp_path / "tiny.gguf"
    model.write_bytes(b"GGUF")
    gen = LocalGenerator(model, n_ctx=512, n_threads=1)
    assert "".join(gen.stream([{"role": "user", "content": "q"}], max_tokens=4, temperature=0.0,
                               schema={"type": "object"})) == "{}"
    assert calls[0]["response_format"] == {"type": "json_object", "schema": {"type": "object"}}
    list(gen.stream([{"role": "user", "content": "q"}], max_tokens=4, temperature=0.0))
    assert calls[1]["response_format"] is None
    generate.llama_cpp_available.cache_clear()


@pytest.mark.integration
def test_real_local_model_keeps_to_the_schema() -> None:
    """The 0.5B model, held by the grammar, writes JSON the stream parser reads (verdict first)."""
    from policy_rag import verdict
    from policy_rag.models import llm_path
    from policy_rag.settings import get_settings

    small = llm_path(get_settings(), "0.5b")
    if not small.is_file():
        pytest.skip(f"{small} is missing")
    from policy_rag.generate import get_generator

    gen = get_generator(get_settings().with_(llm_model_path=str(small), llm_ctx=2048, llm_threads=2), "local")
    msgs = [{"role": "system", "content": "Answer with JSON: a verdict and sentences with their source number."},
            {"role": "user", "content": "Sources:\n[1] Article 5: Social scoring shall be prohibited.\n\n"
                                        "Question: Is social scoring allowed?"}]
    parsed = verdict.JsonAnswer()
    for piece in gen.stream(msgs, max_tokens=80, temperature=0.0, schema=verdict.schema(1)):
        parsed.feed(piece)
    assert parsed.is_json and parsed.verdict in (*verdict.CODES, "none"), parsed.text
    assert parsed.sentences and all(n == 1 for _, n in parsed.sentences), parsed.text


def test_generation_stops_after_the_kept_sentences(text_answerer: Answerer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A model that goes on is stopped once ANSWER_SENTENCES are kept (the stream is closed, so
    llama.cpp stops too) and the sentence it had begun is not shown."""
    import policy_rag.answer as answer_module

    monkeypatch.setattr(answer_module, "ANSWER_SENTENCES", 2)
    streamed: list[str] = []

    class Rambling(JsonGenerator):
        def stream(self, messages, **kw):  # noqa: ANN001, ANN003, ANN201
            for piece in super().stream(messages, **kw):
                streamed.append(piece)
                yield piece

    gen = Rambling().enqueue(
        "Emotieherkenning op de werkplek is verboden, behalve om medische of veiligheidsredenen [1]. "
        "AI-systemen die emoties op de werkplek afleiden zijn verboden, behalve om medische redenen [1]. "
        "Het afleiden van emoties van een natuurlijke persoon op de werkplek is verboden [1]. "
        "Dit wordt nooit gelezen want de generatie is gestopt [1].")
    pieces, ans = run(text_answerer, MAY, gen)
    assert "AI-systemen die emoties" in ans.text and "Het afleiden van emoties" not in ans.text
    assert "nooit gelezen" not in "".join(streamed)  # the model was not read to the end
    assert "".join(pieces) == ans.text and not ans.refused


def test_extractive_fallback_is_streamed_too(text_answerer: Answerer) -> None:
    """When no sentence of the model can be verified, the answer falls back to the quotes; a
    client reading only the stream (the API's token events) gets that answer as well."""
    gen = JsonGenerator().enqueue("Volgens de bronnen moet elke bakkerij een robot met een kroon dragen [1].")
    pieces, ans = run(text_answerer, MAY, gen)
    assert not ans.refused and ans.citations and any("letterlijk" in n for n in ans.notes)
    assert "".join(pieces) == ans.text and "bakkerij" not in ans.text


def test_one_sentence_by_default(text_answerer: Answerer) -> None:
    gen = JsonGenerator().enqueue(
        "Emotieherkenning op de werkplek is verboden, behalve om medische of veiligheidsredenen [1]. "
        "AI-systemen die emoties op de werkplek afleiden zijn verboden, behalve om medische redenen [1].")
    pieces, ans = run(text_answerer, MAY, gen)
    assert "Emotieherkenning op de werkplek is verboden" in ans.text and "AI-systemen die emoties" not in ans.text


def test_a_sentence_breaking_a_rule_and_the_verdict_is_one_replacement(answerer: Answerer) -> None:
    # "Ja," under "Nee, behalve" and the exception dropped: one sentence, replaced once
    gen = JsonGenerator().enqueue(reply("no-unless", ("Ja, emotieherkenning op de werkplek is verboden.", 1)))
    _, ans = run(answerer, MAY, gen)
    assert ans.text.startswith("Nee, behalve") and "Ja, emotieherkenning" not in ans.text
    assert any(n.startswith("1 zin(nen) van het model vervangen") for n in ans.notes)
