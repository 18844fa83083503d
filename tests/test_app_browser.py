"""The real app in headless Chromium: the real index, the real embedding model, backend
"none" (plus one question to the local LLM when its GGUF is there), driven by Playwright.

Needs Debian's chromium (``apt-get install chromium``) and the Playwright package
(``pip install playwright``; not ``playwright install``: the browser is the system one).
Screenshots go to ``test-output/browser/`` at the repository root (gitignored).
Also measures 20 concurrent ``gradio_client`` calls against the real app (latency, memory).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from policy_rag.settings import REPO_ROOT, get_settings

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CHROMIUM = os.environ.get("POLICY_RAG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
OUT = REPO_ROOT / "test-output" / "browser"
ANSWER_TIMEOUT_MS = 120_000
LLM_TIMEOUT_MS = 300_000


def _skip_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is missing: `.venv/bin/pip install playwright` (the package only)"
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).is_file()):
        return f"no Chromium at {CHROMIUM}: `apt-get install chromium` (Debian), or set POLICY_RAG_CHROMIUM"
    s = get_settings()
    if not (Path(s.index_dir) / "current").exists() and not (Path(s.index_dir) / "manifest.json").exists():
        return f"no index in {s.index_dir}: build it with `policy-rag ingest` (or `make setup`)"
    if not Path(s.embed_model).exists():
        return f"no embedding model at {s.embed_model}: run `make setup` (or `python -m policy_rag.models`)"
    return None


_reason = _skip_reason()
if _reason:
    pytest.skip(_reason, allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from test_app import free_port, load_app  # noqa: E402

appmod = load_app()


def rss_mb() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MB, from /proc."""
    vals = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            k, v = line.split(":", 1)
            vals[k] = int(v.split()[0]) / 1024
    return vals.get("VmRSS", 0.0), vals.get("VmHWM", 0.0)


@pytest.fixture(scope="module")
def real_app(tmp_path_factory: pytest.TempPathFactory):
    """The real Assistant over the real index, default backend "none", on a free loopback port."""
    from policy_rag.assistant import Assistant

    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    assistant = Assistant(get_settings(llm="none"))
    t0 = time.perf_counter()
    assistant.retriever  # noqa: B018
    assistant.embedder.embed_queries(["opwarmen"])
    warm = time.perf_counter() - t0
    demo = appmod.build_app(assistant, marks_path=tmp_path_factory.mktemp("marks") / "marks.json")
    port = free_port()
    appmod.launch(demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    try:
        yield {"url": f"http://127.0.0.1:{port}/", "assistant": assistant, "demo": demo, "warm_s": warm}
    finally:
        demo.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, real_app) -> Page:  # noqa: ANN001
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="nl-NL")
    p = ctx.new_page()
    p.goto(real_app["url"])
    p.wait_for_selector("#pr-question textarea", timeout=60_000)
    try:
        yield p
    finally:
        ctx.close()


def shot(page: Page, name: str) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def ask(page: Page, question: str) -> None:
    page.fill("#pr-question textarea", question)
    page.click("#pr-send")


def test_dutch_question_answer_and_citation_card(page: Page) -> None:
    expect(page.get_by_text("Dit is informatie, geen juridisch advies").first).to_be_visible()
    expect(page.get_by_text("Mag ik emotieherkenning gebruiken op de werkplek?").first).to_be_visible()
    shot(page, "01-empty-chat")
    ask(page, "Mag ik emotieherkenning gebruiken op de werkplek?")
    page.wait_for_selector("#pr-panel .pr-status", timeout=ANSWER_TIMEOUT_MS)
    status = page.inner_text("#pr-panel .pr-status")
    assert "Gemaakt met" in status and "geen taalmodel" in status
    card = page.locator("#pr-panel .pr-card").first
    expect(card).to_be_visible()
    assert card.locator("mark").count() >= 1
    link = card.locator(".pr-meta a").first
    assert link.get_attribute("target") == "_blank" and "noopener" in (link.get_attribute("rel") or "")
    assert (link.get_attribute("href") or "").startswith("https://")
    # the other language, one click away
    twin = card.locator("details.pr-twin")
    if twin.count():
        twin.locator("summary").click()
        expect(twin.locator(".pr-text")).to_be_visible()
    chat = page.inner_text("#pr-chat")
    assert "De meest relevante passages" in chat or "De bronnen geven geen antwoord" in chat
    shot(page, "02-dutch-answer-with-cards")


def test_example_question_and_english_switches_the_labels(page: Page) -> None:
    page.get_by_text("Which obligations apply to deployers of high-risk AI systems?").first.click()
    page.wait_for_selector("#pr-panel .pr-status", timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("#pr-panel .pr-status")).to_contain_text("Made with")
    expect(page.get_by_text("This is information, not legal advice").first).to_be_visible()
    expect(page.locator("#pr-send")).to_have_text("Ask")
    shot(page, "03-english-example")


def test_empty_and_huge_input_are_messages(page: Page) -> None:
    page.click("#pr-send")
    expect(page.locator("#pr-chat")).to_contain_text("Stel een vraag: de invoer is leeg.", timeout=30_000)
    ask(page, "waarom " * 400)
    expect(page.locator("#pr-chat")).to_contain_text("De vraag is te lang", timeout=30_000)
    assert page.locator(".toast-body.error, .error-message").count() == 0
    shot(page, "04-bad-input")


def test_lookup_tab_artikel_6_lid_2(page: Page) -> None:
    page.get_by_role("tab", name="Waar wordt dit geciteerd?").click()
    page.fill("#pr-cite-q textarea", "Artikel 6, lid 2")
    page.click("#pr-cite-btn")
    page.wait_for_selector("#pr-cite-out .pr-ref-title", timeout=60_000)
    title = page.inner_text("#pr-cite-out .pr-ref-title")
    assert "Artikel 6, lid 2" in title
    expect(page.locator("#pr-cite-out .pr-own-nl .pr-card").first).to_be_visible()
    expect(page.locator("#pr-cite-out .pr-own-en .pr-card").first).to_be_visible()
    refs = page.locator("#pr-cite-out details.pr-ref")
    assert refs.count() >= 1, title  # Annex III and recitals refer to Article 6(2)
    docs = refs.evaluate_all("els => els.map(e => e.dataset.doc)")
    assert "ai-act" in docs
    links = page.locator("#pr-cite-out details.pr-ref a")
    assert links.count() >= 1 and links.first.get_attribute("target") == "_blank"
    shot(page, "05-lookup-artikel-6-lid-2")


def test_local_llm_question(page: Page, real_app: dict[str, Any]) -> None:
    from policy_rag.generate import llama_cpp_available

    s = real_app["assistant"].settings
    if not (Path(s.llm_model_path).is_file() and llama_cpp_available()):
        pytest.skip(f"no local LLM ({s.llm_model_path}): `policy-rag models --llm 1.5b`")
    page.locator("#pr-backend input").click()
    page.get_by_role("option", name="Lokaal model (llama.cpp)").click()
    ask(page, "Mag ik emotieherkenning gebruiken op de werkplek?")  # "from when" would not reach the model
    page.wait_for_selector("#pr-panel .pr-status", timeout=LLM_TIMEOUT_MS)
    expect(page.locator("#pr-panel .pr-status")).to_contain_text("lokaal model")
    assert page.locator("#pr-panel .pr-card").count() >= 1 or page.locator("#pr-panel .pr-refusal").count() == 1
    shot(page, "06-local-llm-answer")


def test_twenty_concurrent_gradio_client_calls_on_the_real_index(real_app: dict[str, Any]) -> None:
    """20 questions at once through gradio_client (backend none): all answered, memory stable.
    The figures are written to test-output/browser/load.json."""
    from gradio_client import Client

    questions = [
        "Mag ik emotieherkenning gebruiken op de werkplek?", "Wat is een gebruiksverantwoordelijke?",
        "Vanaf wanneer gelden de regels voor AI-modellen voor algemene doeleinden?",
        "Welke AI-praktijken zijn verboden?", "What is an AI system?",
    ]
    url = real_app["url"]
    Client(url, verbose=False).predict(questions[0], "none", api_name="/answer")  # warm
    rounds = []
    for _ in range(2):  # a second round shows whether memory keeps growing
        before = rss_mb()
        lat: list[float | None] = [None] * 20
        server: list[float] = []
        errors: list[BaseException] = []

        def call(i: int, lat: list[float | None] = lat, server: list[float] = server,
                 errors: list[BaseException] = errors) -> None:
            try:
                c = Client(url, verbose=False)
                t0 = time.perf_counter()
                r = c.predict(questions[i % len(questions)], "none", api_name="/answer")
                lat[i] = time.perf_counter() - t0
                assert "answer" in r and r["backend"] == "none", r
                server.append(r["timings"]["total"])
            except BaseException as e:  # noqa: BLE001
                errors.append(e)

        t0 = time.perf_counter()
        threads = [threading.Thread(target=call, args=(i,)) for i in range(20)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=600)
        wall = time.perf_counter() - t0
        after = rss_mb()
        assert not errors, errors
        done = sorted(x for x in lat if x is not None)
        assert len(done) == 20
        rounds.append({
            "wall_s": round(wall, 2),
            "p50_s": round(statistics.median(done), 3),
            "p95_s": round(done[min(19, round(0.95 * 19))], 3),
            "max_s": round(done[-1], 3),
            "server_total_p50_s": round(statistics.median(server), 3),
            "rss_before_mb": round(before[0]), "rss_after_mb": round(after[0]), "rss_peak_mb": round(after[1]),
        })
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "load.json").write_text(json.dumps({"warm_up_s": round(real_app["warm_s"], 1), "rounds": rounds},
                                              indent=1), encoding="utf-8")
    print(json.dumps(rounds, indent=1))
    # memory stable: the second round grows the process by less than 200 MB
    assert rounds[1]["rss_after_mb"] - rounds[1]["rss_before_mb"] < 200, rounds


def test_evaluator_view_run_mark_export(page: Page, real_app: dict[str, Any]) -> None:
    page.get_by_role("tab", name="Beoordelaar").click()
    page.locator("input[type=number]").first.fill("3")
    page.click("#pr-eval-run")
    expect(page.locator("#pr-eval-table")).to_contain_text("nl-001", timeout=ANSWER_TIMEOUT_MS)
    page.locator("#pr-eval-mark").get_by_text("deels").click()
    page.click("#pr-eval-save")
    expect(page.get_by_text("Opgeslagen in").first).to_be_visible(timeout=30_000)
    store = real_app["demo"].policy_rag["store"]
    assert store.get("nl-001", "none")["mark"] == "partly"
    page.get_by_role("button", name="Exporteer CSV").click()
    expect(page.locator("a[download]").first).to_be_attached(timeout=30_000)
    shot(page, "07-evaluator")
