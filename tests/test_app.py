"""The Gradio app (app.py) without any model: fake embedder, small index, fake generator.

The app is launched for real on a free loopback port and called through gradio_client,
as a user of the API would; the HTML builders and the evaluator's store are tested directly.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from conftest import FakeGenerator, make_passage
from policy_rag import ui_text
from policy_rag.assistant import Assistant
from policy_rag.errors import PolicyRagError
from policy_rag.prompts import INPUT_ERRORS, REFUSAL
from policy_rag.settings import REPO_ROOT
from policy_rag.types import Citation

gradio_client = pytest.importorskip("gradio_client")


def load_app() -> ModuleType:
    if "policy_rag_app" in sys.modules:
        return sys.modules["policy_rag_app"]
    spec = importlib.util.spec_from_file_location("policy_rag_app", REPO_ROOT / "app.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["policy_rag_app"] = mod
    spec.loader.exec_module(mod)
    return mod


appmod = load_app()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def assistant(settings, fake_embedder, small_index) -> Assistant:  # noqa: ANN001
    return Assistant(settings.with_(llm="none"), embedder=fake_embedder, index=small_index)


def with_fake_llm(assistant: Assistant, gen: FakeGenerator) -> Assistant:
    """Make backend "local" resolve to the fake generator (no GGUF needed)."""
    real = assistant.backend
    assistant.backend = lambda requested=None: "local" if requested == "local" else real(requested)  # type: ignore[method-assign]
    assistant.generator = lambda backend: gen if backend == "local" else None  # type: ignore[method-assign]
    return assistant


@pytest.fixture
def served(assistant: Assistant, tmp_path: Path):
    """The app on a free loopback port: (demo, url, client); always closed."""
    demo = appmod.build_app(assistant, marks_path=tmp_path / "marks.json")
    port = free_port()
    appmod.launch(demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        yield demo, url, gradio_client.Client(url, verbose=False)
    finally:
        demo.close()


def run_chat(demo: Any, question: object, backend: str = "none") -> list[tuple[Any, ...]]:
    return list(demo.handlers["chat"](question, [], backend))


# ------------------------------------------------------------------------------------ strings


def test_ui_text_has_the_same_keys_in_both_languages() -> None:
    assert ui_text.TEXT["nl"].keys() == ui_text.TEXT["en"].keys()
    assert ui_text.EXAMPLES[0] == "Mag ik emotieherkenning gebruiken op de werkplek?"
    assert "Dit is informatie, geen juridisch advies" in ui_text.t("nl", "disclaimer")
    assert ui_text.t(None, "send") == "Vraag"  # Dutch by default


def test_a_refusal_says_why_in_the_users_language() -> None:
    from policy_rag.types import REFUSAL_REASONS, Answer

    app = load_app()
    for reason in REFUSAL_REASONS:  # every reason has its sentence in both languages
        assert ui_text.t("nl", f"reason_{reason}") and ui_text.t("en", f"reason_{reason}")
    a = Answer(question="Wie is het hoofd van het AI-bureau?", language="nl", text=REFUSAL["nl"], citations=[],
               refused=True, backend="local", refusal_reason="judged-unanswerable", answerable_odds=-1.2)
    html = app.answer_panel(a, [])
    assert "Geen antwoord in de bronnen" in html and "Reden: het taalmodel beoordeelde vooraf" in html


# ------------------------------------------------------------------------------------ HTML


def hostile_citation() -> Citation:
    p = make_passage("ai-act/nl/art-50.1", "Article 50(1)", "Artikel 50, lid 1 <b>",
                     'Aanbieders zorgen <script>alert("x")</script> & ervoor dat   natuurlijke personen '
                     "worden geïnformeerd dat zij interageren met een AI-systeem.", title="Transparantie & co")
    p.version = "PB L, 2024/1689, 12.7.2024"
    p.url = "https://eur-lex.europa.eu/legal-content/NL/TXT/HTML/?uri=OJ:L_202401689#art_50"
    return Citation(n=1, passage=p, quote="ervoor dat natuurlijke personen worden geïnformeerd")


def test_card_highlights_the_quote_escapes_text_links_and_offers_the_twin() -> None:
    c = hostile_citation()
    twin = make_passage("ai-act/en/art-50.1", "Article 50(1)", "Article 50(1)",
                        "Providers shall ensure that natural persons are informed <i>that</i> they interact.")
    twin.url = "https://eur-lex.europa.eu/legal-content/EN/TXT/HTML/?uri=OJ:L_202401689#art_50"
    card = appmod.citation_card(c, twin, "nl")
    assert "<script>" not in card and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp;" in card
    # the quote is found across the run of spaces and highlighted inside the full paragraph
    assert "<mark>ervoor dat   natuurlijke personen worden geïnformeerd</mark>" in card
    assert "interageren met een AI-systeem." in card
    assert "Artikel 50, lid 1 &lt;b&gt;" in card and "Transparantie &amp; co" in card
    assert ('href="https://eur-lex.europa.eu/legal-content/NL/TXT/HTML/?uri=OJ:L_202401689#art_50" '
            'target="_blank" rel="noopener noreferrer"') in card
    assert "PB L, 2024/1689, 12.7.2024" in card and "AI-verordening" in card
    assert "<details" in card and "Dezelfde bepaling in het Engels" in card
    assert "&lt;i&gt;that&lt;/i&gt;" in card and "#art_50" in card
    card_en = appmod.citation_card(c, None, "en")
    assert "The same provision" not in card_en and "not in the sources in English" in card_en


def test_card_without_findable_quote_and_with_bad_url() -> None:
    c = hostile_citation()
    c.quote = "woorden die er niet staan <x>"
    c.passage.url = "javascript:alert(1)"
    card = appmod.citation_card(c, None, "nl")
    assert "<mark>woorden die er niet staan &lt;x&gt;</mark>" in card  # shown apart, escaped
    assert "javascript:" not in card and "href" not in card


def test_highlight_and_safe_url() -> None:
    assert appmod.highlight("A b C", "b c") == ("A <mark>b C</mark>", True)
    assert appmod.highlight("<a>", "") == ("&lt;a&gt;", False)
    assert appmod.safe_url("https://x.eu/a?b=1#c") == "https://x.eu/a?b=1#c"
    assert appmod.safe_url("data:text/html,hi") == "" and appmod.safe_url('https://x" onclick="') == ""


# ------------------------------------------------------------------------------------ chat


def test_chat_streams_checked_sentences_then_the_answer_with_cards(assistant: Assistant, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(appmod, "STREAM_EVERY", 0.0)
    monkeypatch.setattr("policy_rag.answer.ANSWER_SENTENCES", 2)  # the unsupported second sentence is read
    gen = FakeGenerator().enqueue(
        "Emotieherkenning op de werkplek is verboden, behalve om medische of veiligheidsredenen [1]. "
        "Bovendien mag u op dinsdag nooit koffie drinken [1].")
    demo = appmod.build_app(with_fake_llm(assistant, gen))
    try:
        steps = run_chat(demo, "Mag ik emotieherkenning gebruiken op de werkplek?", "local")
    finally:
        demo.close()
    history, panel = steps[-1][0], steps[-1][1]
    streamed = [s[0][-1]["content"] for s in steps[1:-1]]
    # only checked sentences stream in: the unsupported one is never shown, not even while streaming
    assert streamed and any("verboden" in s for s in streamed) and not any("koffie" in s for s in streamed)
    final = history[-1]["content"]
    assert "koffie" not in final and "verboden" in final
    assert 'data-backend="local"' in panel and "lokaal model" in panel
    assert "pr-card" in panel and "<mark>" in panel and "Artikel 5, lid 1, punt f)" in panel
    assert "Dezelfde bepaling in het Engels" in panel
    assert "weggelaten" in panel  # the dropped sentence is noted
    assert steps[0][2]["interactive"] is False and steps[-1][2]["interactive"] is True


def test_refusal_is_a_neutral_notice_not_an_error(assistant: Assistant) -> None:
    gen = FakeGenerator().enqueue(REFUSAL["nl"])
    demo = appmod.build_app(with_fake_llm(assistant, gen))
    try:
        history, panel = run_chat(demo, "Mag ik emotieherkenning gebruiken op de werkplek?", "local")[-1][:2]
    finally:
        demo.close()
    assert REFUSAL["nl"] in history[-1]["content"] and "Geen antwoord in de bronnen" in history[-1]["content"]
    assert "pr-refusal" in panel and "pr-error" not in panel and "pr-card" not in panel


def test_interface_follows_the_question_language(assistant: Assistant) -> None:
    demo = appmod.build_app(assistant)
    try:
        last = run_chat(demo, "Are emotion recognition systems at the workplace prohibited?")[-1]
        nl = run_chat(demo, "Mag ik emotieherkenning gebruiken op de werkplek?")[-1]
    finally:
        demo.close()
    assert last[2]["label"] == "Your question" and last[3]["value"] == "Ask"
    assert "not legal advice" in last[5] and last[6] == "en"
    assert "Made with" in last[1]
    assert nl[2]["label"] == "Uw vraag" and "geen juridisch advies" in nl[5] and nl[6] == "nl"


@pytest.mark.parametrize("question, kind", [("", "empty"), ("   ", "empty"), ("x" * 5000, "too_long"),
                                            ("wat is \x00\x01\x02 artikel 5", "binary"), (None, "binary")])
def test_bad_input_is_a_message_in_the_chat(assistant: Assistant, question: object, kind: str) -> None:
    demo = appmod.build_app(assistant)
    try:
        history, panel = run_chat(demo, question)[-1][:2]
    finally:
        demo.close()
    msg = history[-1]["content"]
    expected = INPUT_ERRORS[kind]["nl"].split("(")[0].split(":")[0]
    assert expected in msg and "Traceback" not in msg
    assert "pr-warn" in panel and "pr-error" not in panel


def test_empty_input_keeps_the_interface_language(assistant: Assistant) -> None:
    demo = appmod.build_app(assistant)
    try:
        history, panel = list(demo.handlers["chat"]("  ", [], "none", "en"))[-1][:2]
    finally:
        demo.close()
    assert INPUT_ERRORS["empty"]["en"] in history[-1]["content"] and "Question not processed" in panel


def test_an_unexpected_failure_is_a_message_not_a_trace(assistant: Assistant) -> None:
    def boom(question: str, backend: str | None = None):  # noqa: ANN202
        raise RuntimeError("secret internals")
        yield  # pragma: no cover

    assistant.stream = boom  # type: ignore[method-assign]
    demo = appmod.build_app(assistant)
    try:
        history, panel = run_chat(demo, "Wat is een gebruiksverantwoordelijke?")[-1][:2]
    finally:
        demo.close()
    assert "Er ging iets mis" in history[-1]["content"] and "secret internals" not in history[-1]["content"]
    assert "pr-error" in panel


# ------------------------------------------------------------------------------------ served app


def test_answer_endpoint_through_gradio_client(served) -> None:  # noqa: ANN001
    demo, url, client = served
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert "/answer" in api and "/cite" in api
    r = client.predict("Mag ik emotieherkenning gebruiken op de werkplek?", "none", api_name="/answer")
    assert r["backend"] == "none" and r["language"] == "nl" and not r["refused"]
    assert r["citations"][0]["id"] == "ai-act/nl/art-5.1.f"
    assert r["citations"][0]["quote"] in r["citations"][0]["text"]
    assert any("digitale omnibus" in n for n in r["notes"]) or r["notes"] == []
    json.dumps(r)


@pytest.mark.parametrize("question, kind", [("", "empty"), ("x" * 5000, "too_long"), ("a\x00b\x07c", "binary")])
def test_answer_endpoint_bad_input(served, question: str, kind: str) -> None:  # noqa: ANN001
    r = served[2].predict(question, "none", api_name="/answer")
    assert r["error_kind"] == kind and r["error"] and "Traceback" not in r["error"]


def test_cite_endpoint_and_view(served) -> None:  # noqa: ANN001
    demo, url, client = served
    r = client.predict("Artikel 5, lid 1, punt f", api_name="/cite")
    assert r["provision"] == "Article 5(1)(f)" and r["count"] == 2
    assert set(r["referring"]) == {"ai-act", "guidelines-prohibited"}
    page = demo.handlers["cite_view"]("Article 5(1)(f)")
    assert "pr-own-nl" in page and "pr-own-en" in page and "Recital 44" in page and "para. 242" in page
    assert 'target="_blank" rel="noopener noreferrer"' in page and "(1)" in page
    phrase = demo.handlers["cite_view"]("emotion recognition")
    assert "<mark>" in phrase.lower() or "<mark>" in phrase
    assert "pr-warn" in demo.handlers["cite_view"]("")


def test_no_file_outside_the_app_is_served(served) -> None:  # noqa: ANN001
    url = served[1]
    for path in (REPO_ROOT / "pyproject.toml", Path("/etc/passwd")):
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"{url}gradio_api/file={path}", timeout=10)
        assert e.value.code in (403, 404)


def test_twenty_concurrent_calls_are_all_answered(served) -> None:  # noqa: ANN001
    demo, url, _ = served
    results: list[Any] = [None] * 20
    errors: list[BaseException] = []

    def call(i: int) -> None:
        try:
            c = gradio_client.Client(url, verbose=False)
            q = ["Mag ik emotieherkenning gebruiken op de werkplek?", "Wat is AI-geletterdheid?", ""][i % 3]
            results[i] = c.predict(q, "none", api_name="/answer")
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(20)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not errors, errors
    assert all(isinstance(r, dict) for r in results)
    assert all(("answer" in r) or r.get("error_kind") == "empty" for r in results)


def test_a_second_chat_while_one_streams_is_queued(assistant: Assistant, tmp_path: Path) -> None:
    class SlowGenerator(FakeGenerator):
        def stream(self, messages, **kw):  # noqa: ANN001, ANN003, ANN201
            for piece in super().stream(messages, **kw):
                time.sleep(0.02)
                yield piece

    reply = "Emotieherkenning op de werkplek is verboden, behalve om medische of veiligheidsredenen [1]."
    gen = SlowGenerator().enqueue(reply, reply)
    demo = appmod.build_app(with_fake_llm(assistant, gen), marks_path=tmp_path / "m.json")
    port = free_port()
    appmod.launch(demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    try:
        client = gradio_client.Client(f"http://127.0.0.1:{port}/", verbose=False)
        # the last argument is the date field ("": today)
        jobs = [client.submit("Mag ik emotieherkenning gebruiken op de werkplek?", [], "local", "", api_name="/chat")
                for _ in range(2)]
        outs = [j.result(timeout=60) for j in jobs]
    finally:
        demo.close()
    for out in outs:
        assert "verboden" in str(out[0][-1]["content"]) and "pr-card" in out[1]


# ------------------------------------------------------------------------------------ evaluator


def test_marks_survive_a_restart_and_export(assistant: Assistant, tmp_path: Path) -> None:
    rows = [{"id": "nl-001", "lang": "nl", "question": "Mag het?", "answerable": True, "backend": "none",
             "answer": "Nee [1].", "refused": False, "citations": ["ai-act:Article 5(1)(f)"], "quotes": ["x"],
             "gold": ["ai-act:Article 5(1)(f)"], "key_points": ["verboden"], "gold_hit": True, "gold_recall": 1.0,
             "refusal_correct": True, "latency_s": 0.1, "notes": [], "error": None}]
    calls: list[tuple[Any, ...]] = []

    def runner(lang, limit, backend):  # noqa: ANN001, ANN202
        calls.append((lang, limit, backend))
        return rows

    marks = tmp_path / "eval" / "marks.json"
    demo = appmod.build_app(assistant, eval_runner=runner, marks_path=marks)
    try:
        state, table, summary, pick = demo.handlers["run_eval"]("nl", 5, "none")
        assert calls == [("nl", 5, "none")] and state == rows
        assert "1 vragen" in summary
        demo.handlers["save_mark"](state, 0, "partly", "mist de uitzondering; \"quote\", komma")
    finally:
        demo.close()
    saved = json.loads(marks.read_text(encoding="utf-8"))
    assert saved["marks"]["nl-001@none"]["mark"] == "partly"

    demo2 = appmod.build_app(assistant, eval_runner=runner, marks_path=marks)  # a restart
    try:
        store = demo2.policy_rag["store"]
        assert store.get("nl-001", "none")["comment"].startswith("mist de uitzondering")
        table = appmod.eval_table(rows, store)
        assert table[0][8] == "deels"
        csv_path = Path(demo2.handlers["export"](rows, "csv"))
        json_path = Path(demo2.handlers["export"](rows, "json"))
    finally:
        demo2.close()
    assert csv_path.parent == demo2.policy_rag["export_dir"]
    got = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    assert got[0]["mark"] == "partly" and got[0]["comment"] == "mist de uitzondering; \"quote\", komma"
    assert got[0]["gold"] == "ai-act:Article 5(1)(f)"
    exported = json.loads(json_path.read_text(encoding="utf-8"))
    assert exported[0]["mark"] == "partly" and exported[0]["citations"] == ["ai-act:Article 5(1)(f)"]


def test_unreadable_marks_file_is_kept_aside(tmp_path: Path) -> None:
    marks = tmp_path / "marks.json"
    marks.write_text("{not json", encoding="utf-8")
    store = appmod.MarksStore(marks)
    assert store.marks == {} and list(tmp_path.glob("marks.json.unreadable-*"))
    with pytest.raises(PolicyRagError, match="Unknown mark"):
        store.set("q", "none", "maybe")


def test_default_eval_runner_scores_gold_and_refusals(assistant: Assistant, tmp_path: Path) -> None:
    qs = tmp_path / "questions.jsonl"
    qs.write_text("\n".join(json.dumps(q) for q in [
        {"id": "nl-1", "lang": "nl", "question": "Mag ik emotieherkenning gebruiken op de werkplek?",
         "answerable": True, "gold": ["ai-act:Article 5(1)", "guidelines-prohibited:Paragraph 999"],
         "key_points": ["verboden"]},
        {"id": "en-1", "lang": "en", "question": "What does Article 4 say?", "answerable": True,
         "gold": ["omnibus:Article 4"], "key_points": []},
        {"id": "nl-2", "lang": "nl", "question": "Mag ik emotieherkenning gebruiken op de werkplek?",
         "answerable": False, "gold": [], "key_points": []},
    ]) + "\n", encoding="utf-8")
    run = appmod.default_eval_runner(assistant, qs)
    rows = run("nl", None, "none")
    assert [r["id"] for r in rows] == ["nl-1", "nl-2"]
    r = rows[0]
    assert r["gold_hit"] is True and r["gold_recall"] == 0.5 and r["refusal_correct"] is True
    assert rows[1]["refusal_correct"] is False  # answered a question that should be refused
    assert len(run(None, 1, "none")) == 1
    assert appmod.gold_matches("ai-act:Article 5", "ai-act", "Article 5(1)(f)")
    assert not appmod.gold_matches("ai-act:Article 5", "omnibus", "Article 5(1)(f)")
    assert not appmod.gold_matches("ai-act:Article 5", "ai-act", "Article 50")


# ------------------------------------------------------------------------------------ no loading, no foreign links

HOSTILE_MD = [
    "![x](http://127.0.0.1:9/x.png)", "[klik](http://127.0.0.1:9/l)", "![r][r]\n\n[r]: http://127.0.0.1:9/r.png",
    "<http://127.0.0.1:9/a>", "http://127.0.0.1:9/bare", "www.example.org/x", "mail@example.org",
    '<img src="http://127.0.0.1:9/i.png">', "<iframe src=http://127.0.0.1:9/f></iframe>",
    '<div style="background:url(http://127.0.0.1:9/c.png)">', "\\![x](http://127.0.0.1:9/e.png)",
    "$\\href{http://127.0.0.1:9/t}{t}$", "![x](data:image/png;base64,AAAA)", "[a](javascript:alert(1))",
]


@pytest.mark.parametrize("text", HOSTILE_MD)
def test_chat_text_leaves_no_markdown_that_loads_or_links(text: str) -> None:
    out = appmod._md(text)
    for needle in ("![", "](", "]:", "][", "<", "://", "www.", "@", "\\", "$"):
        assert needle not in out, (needle, out)
    assert html_unescape(out) == text  # the reader still sees what was written


def html_unescape(s: str) -> str:
    import html

    return html.unescape(s)


def test_card_links_only_to_the_sources_official_hosts() -> None:
    c = hostile_citation()
    for url in ("http://127.0.0.1:9/x", "https://evil.example/eur-lex.europa.eu", "https://eur-lex.europa.eu.evil.example/"):
        c.passage.url = url
        card = appmod.citation_card(c, None, "nl")
        assert "href" not in card and "<a " not in card, url
    c.passage.url = "https://digital-strategy.ec.europa.eu/nl/policies/ai-office"
    assert 'href="https://digital-strategy.ec.europa.eu/nl/policies/ai-office"' in appmod.citation_card(c, None, "nl")


def test_hostile_markdown_from_user_and_model_is_inert_in_chat(assistant: Assistant, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(appmod, "STREAM_EVERY", 0.0)
    reply = ("Emotieherkenning op de werkplek is verboden ![x](http://127.0.0.1:9/m.png) "
             "[hier](http://127.0.0.1:9/l) [1].")
    demo = appmod.build_app(with_fake_llm(assistant, FakeGenerator().enqueue(reply)))
    try:
        steps = run_chat(demo, "Mag ik emotieherkenning ![x](http://127.0.0.1:9/q.png) gebruiken op de werkplek?",
                         "local")
    finally:
        demo.close()
    contents = [str(m["content"]) for s in steps for m in s[0]]
    # the question is shown (escaped); the model's sentence may be dropped by the checker (it is
    # not what the passage says), and where any of it is shown it is inert too
    assert any("q.png" in c for c in contents)
    for c in contents:
        assert "](" not in c and "://" not in c and "<img" not in c, c


def test_user_text_is_escaped_in_every_html_the_app_returns(assistant: Assistant) -> None:
    """The 100+ hostile questions through the chat, the lookup and the JSON API: no tag the
    user wrote reaches an HTML answer unescaped, and no Markdown link or image a chat message."""
    import re

    from hostile_inputs import bad_questions

    tag = re.compile(r"<\s*(script|img|iframe|svg|style|object|embed|link|meta|base|form|input|math|video)\b"
                     r"|<a (?!href=\"https://(eur-lex|digital-strategy\.ec)\.europa\.eu/[^\"<>]*\" target=\"_blank\" "
                     r"rel=\"noopener noreferrer\">)", re.IGNORECASE)
    demo = appmod.build_app(assistant)
    try:
        questions = [q for _, q in bad_questions()] + [
            '"><img src=x onerror=alert(1)>', "<script>alert(1)</script>", "Artikel 5 <a href=//evil>x</a>"]
        for q in questions:
            q = q[:20_000]
            for step in run_chat(demo, q):
                assert not tag.search(step[1]), (q[:80], step[1][:300])
                for m in step[0]:
                    c = str(m["content"])
                    assert not tag.search(c) and "](" not in c and "://" not in c, (q[:80], c[:300])
            view = demo.handlers["cite_view"](q)
            assert not tag.search(view), (q[:80], view[:300])
    finally:
        demo.close()


# ------------------------------------------------------------------------------------ the law on a date


def _find(block: Any, kind: type) -> list[Any]:
    out = [block] if isinstance(block, kind) else []
    for child in getattr(block, "children", []) or []:
        out.extend(_find(child, kind))
    return out


def test_the_date_field_is_in_a_collapsed_accordion(assistant: Assistant, tmp_path: Path) -> None:
    import gradio as gr

    demo = appmod.build_app(assistant, marks_path=tmp_path / "m.json")
    boxes = [a for a in _find(demo, gr.Accordion) if a.elem_id == "pr-on-box"]
    assert len(boxes) == 1 and boxes[0].open is False
    assert boxes[0].label == ui_text.t("nl", "on_accordion")
    fields = [tb for tb in _find(boxes[0], gr.Textbox) if tb.elem_id == "pr-on"]
    assert fields and fields[0].label == "Datum (JJJJ-MM-DD)"
    assert ui_text.t("en", "on_label") == "Date (YYYY-MM-DD)"


def test_chat_on_a_date_shows_the_date_and_the_versions(tmp_path: Path, fake_embedder, settings) -> None:  # noqa: ANN001
    from datetime import date

    from conftest import make_index
    from test_inforce import versioned_passages

    a = Assistant(settings.with_(llm="none"), embedder=fake_embedder,
                  index=make_index(versioned_passages(), fake_embedder))
    demo = appmod.build_app(a, marks_path=tmp_path / "m.json")
    q = "Wat zegt artikel 4 over AI-geletterdheid van personeel?"
    history, panel = list(demo.handlers["chat"](q, [], "none", "nl", "2026-12-02"))[-1][:2]
    assert "Geldende tekst op 2 december 2026" in panel
    assert "Artikel 4 (vervangen bij Verordening (EU) 2026/1744, art. 1, punt 5)" in panel
    assert 'data-version="ai-act/nl/art-4@2024-08-01"' in panel and "van 1 augustus 2024 tot 2 december 2026" in panel
    _, panel = list(demo.handlers["chat"](q, [], "none", "nl", "2025-06-01"))[-1][:2]
    assert "Geldende tekst op 1 juni 2025" in panel and 'data-passage="ai-act/nl/art-4@2024-08-01"' in panel
    _, panel = list(demo.handlers["chat"](q, [], "none", "nl", "1-6-2025"))[-1][:2]
    assert "Datum niet herkend" in panel and "1-6-2025" in panel
    assert demo.handlers["answer_on"](q, "none", "2025-06-01")["on"] == "2025-06-01"
    assert "YYYY-MM-DD" in demo.handlers["answer_on"](q, "none", "juni")["error"]
    assert demo.handlers["answer"](q, "none")["on"] == date.today().isoformat()
