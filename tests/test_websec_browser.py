"""Hostile text in the real page (headless Chromium, Playwright): Markdown and HTML in a
question, in the model's streamed text, in its final answer, in a source card and in the
lookup fetch nothing and link nowhere but the sources' official hosts; the page itself loads
nothing from anywhere but the app (no fonts, CDN or analytics).

Fake embedder, small index and a scripted answer stream: no model needed, a few seconds.
Needs Debian's chromium and the Playwright package (see test_app_browser.py).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = [pytest.mark.browser]

CHROMIUM = os.environ.get("POLICY_RAG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

try:
    import playwright.sync_api  # noqa: F401
except ImportError:
    pytest.skip("Playwright for Python is missing: `.venv/bin/pip install playwright`", allow_module_level=True)
if not (shutil.which(CHROMIUM) or Path(CHROMIUM).is_file()):
    pytest.skip(f"no Chromium at {CHROMIUM}: `apt-get install chromium`, or set POLICY_RAG_CHROMIUM",
                allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from conftest import make_passage  # noqa: E402
from policy_rag.assistant import Assistant  # noqa: E402
from policy_rag.types import Answer, Citation  # noqa: E402
from test_app import free_port, load_app  # noqa: E402
from test_websec import Counter  # noqa: E402

appmod = load_app()


def hostile(url: str, tag: str) -> str:
    """Every way text could make the browser fetch or link ``url``."""
    return (f"Zie ![x]({url}/{tag}-md.png) en [klik]({url}/{tag}-link) en <img src=\"{url}/{tag}-img.png\"> "
            f"<iframe src=\"{url}/{tag}-frame\"></iframe> <div style=\"background:url({url}/{tag}-css.png)\">d</div> "
            f"<{url}/{tag}-auto> {url}/{tag}-bare www.example.org/{tag} mail@example.org "
            f"![ref][r]\n\n[r]: {url}/{tag}-ref.png\n\n<svg><image href=\"{url}/{tag}-svg.png\"/></svg> "
            f"$\\href{{{url}/{tag}-tex}}{{t}}$ [1].")


@pytest.fixture
def assistant(settings, fake_embedder, small_index) -> Assistant:  # noqa: ANN001
    return Assistant(settings.with_(llm="none"), embedder=fake_embedder, index=small_index)


@pytest.fixture
def counter() -> Iterator[Counter]:
    c = Counter()
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def hostile_app(assistant: Assistant, counter: Counter, tmp_path: Path) -> Iterator[str]:
    p = make_passage("ai-act/nl/art-5.1.f", "Article 5(1)(f)", "Artikel 5, lid 1, punt f)",
                     hostile(counter.url, "card") + " Het gebruik van emotieherkenning op de werkplek is verboden.")
    p.url = f"{counter.url}/card-official"  # a passage whose URL is not an official host
    twin = make_passage("ai-act/en/art-5.1.f", "Article 5(1)(f)", "Article 5(1)(f)", hostile(counter.url, "twin"))
    twin.url = "https://eur-lex.europa.eu/legal-content/EN/TXT/HTML/?uri=OJ:L_202401689#art_5"

    def stream(question: str, backend: str | None = None, on: str | None = None) -> Iterator[str | Answer]:
        for piece in hostile(counter.url, "stream").split(" "):
            time.sleep(0.02)
            yield piece + " "
        yield Answer(question=question, language="nl", text=hostile(counter.url, "final"),
                     citations=[Citation(n=1, passage=p, quote="emotieherkenning")], refused=False, backend="local",
                     notes=[hostile(counter.url, "note")])

    assistant.stream = stream  # type: ignore[method-assign]
    assistant.retriever.alternate = lambda passage: twin  # type: ignore[method-assign]
    demo = appmod.build_app(assistant, marks_path=tmp_path / "marks.json")
    port = free_port()
    appmod.launch(demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        demo.close()


def test_hostile_text_fetches_nothing_and_links_only_official_hosts(hostile_app: str, counter: Counter) -> None:
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.goto(hostile_app + "/")
            page.wait_for_selector("#pr-question textarea", timeout=60_000)
            page.fill("#pr-question textarea", hostile(counter.url, "question"))
            page.click("#pr-send")
            page.wait_for_selector("#pr-panel .pr-card", timeout=60_000)
            page.get_by_role("tab", name="Waar wordt dit geciteerd?").click()
            page.fill("#pr-cite-q textarea", f"![x]({counter.url}/cite.png) <img src={counter.url}/cite2.png>")
            page.click("#pr-cite-btn")
            page.wait_for_selector("#pr-cite-out .pr-notice, #pr-cite-out .pr-ref-title", timeout=60_000)
            page.wait_for_timeout(1500)  # time for any late fetch
            chat = page.inner_text("#pr-chat")
            links = page.eval_on_selector_all("#pr-chat a[href], #pr-panel a[href], #pr-cite-out a[href]",
                                              "els => els.map(e => e.href)")
            media = page.eval_on_selector_all("#pr-chat img, #pr-chat iframe, #pr-chat image, #pr-panel img, "
                                              "#pr-panel iframe, #pr-cite-out img", "els => els.length")
        finally:
            browser.close()
    assert counter.hits == [], counter.hits  # the goal: 0 URLs fetched
    app_host = urlsplit(hostile_app).netloc
    outside = [u for u in requests if urlsplit(u).scheme in ("http", "https", "ws", "wss")
               and urlsplit(u).netloc != app_host]
    assert outside == [], outside
    assert media == 0
    assert all(urlsplit(u).hostname in ("eur-lex.europa.eu", "digital-strategy.ec.europa.eu") for u in links), links
    assert "question-md.png" in chat and "final-md.png" in chat  # shown as text, not dropped


def test_the_page_loads_nothing_from_outside(hostile_app: str) -> None:
    """Fonts, scripts, analytics: every request of the page goes to the app itself."""
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.goto(hostile_app + "/")
            page.wait_for_selector("#pr-question textarea", timeout=60_000)
            page.wait_for_timeout(2000)  # (never "networkidle": the heartbeat stays open)
            page.get_by_role("tab", name="Beoordelaar").click()
            page.wait_for_timeout(500)
            page.get_by_text("Use via API").first.click()  # the API page too
            page.wait_for_timeout(2000)
        finally:
            browser.close()
    app_host = urlsplit(hostile_app).netloc
    outside = sorted({u for u in requests if urlsplit(u).scheme not in ("data", "blob")
                      and urlsplit(u).netloc != app_host})
    print(f"{len(requests)} requests, {len(outside)} outside the app")
    assert requests and outside == [], outside


def test_evaluator_tab_works_behind_the_guard_and_renders_rows_inertly(
        assistant: Assistant, counter: Counter, tmp_path: Path) -> None:
    """The UI's own handlers (run, pick, mark, export and the download through
    ``/gradio_api/file=``) pass the guard; hostile text in the rows fetches nothing."""
    rows = [{"id": "nl-001", "lang": "nl", "question": hostile(counter.url, "evalq"), "answerable": True,
             "backend": "none", "answer": hostile(counter.url, "evala"), "refused": False,
             "citations": ["ai-act:Article 5(1)(f)"], "quotes": ["x"], "gold": ["ai-act:Article 5(1)(f)"],
             "key_points": [hostile(counter.url, "evalk")], "gold_hit": True, "gold_recall": 1.0,
             "refusal_correct": True, "latency_s": 0.1, "notes": [], "error": None}]
    marks = tmp_path / "marks" / "marks.json"
    demo = appmod.build_app(assistant, eval_runner=lambda lang, limit, backend: rows, marks_path=marks,
                            evaluator=True)
    port = free_port()
    appmod.launch(demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(accept_downloads=True)
                page.goto(f"http://127.0.0.1:{port}/")
                page.wait_for_selector("#pr-question textarea", timeout=60_000)
                page.get_by_role("tab", name="Beoordelaar").click()
                page.click("#pr-eval-run")
                expect(page.locator("#pr-eval-table")).to_contain_text("nl-001", timeout=30_000)
                page.locator("#pr-eval-mark").get_by_text("deels").click()
                page.click("#pr-eval-save")
                page.get_by_text("Opgeslagen in").first.wait_for(timeout=30_000)
                page.get_by_role("button", name="Exporteer CSV").click()
                link = page.locator("a[download]").first
                link.wait_for(state="attached", timeout=30_000)
                href = link.get_attribute("href") or ""
                got = page.request.get(href if href.startswith("http") else f"http://127.0.0.1:{port}{href}")
                status, body = got.status, got.text()
                page.wait_for_timeout(1000)
            finally:
                browser.close()
    finally:
        demo.close()
    assert status == 200 and "nl-001" in body and "partly" in body, (href, status)
    assert json.loads(marks.read_text(encoding="utf-8"))["marks"]["nl-001@none"]["mark"] == "partly"
    assert counter.hits == [], counter.hits
