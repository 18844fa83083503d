"""Web page parsing (plain text and Markdown) and reading text files safely.

Tiny pages in tests/data/ reproduce the furniture of the real ones; the tests marked
``integration`` parse the real pages of the corpus.
"""

from __future__ import annotations

import codecs
import os
import time
from pathlib import Path

import pytest

from policy_rag.errors import ParseError
from policy_rag.parse import parse_source, read_text_file
from policy_rag.parse.page import parse_page_markdown, parse_page_text
from policy_rag.types import Source

DATA = Path(__file__).parent / "data"


def source(fmt: str, title: str = "Test page", lang: str = "nl") -> Source:
    return Source(id="page-test", doc="page-test", title=title, lang=lang, kind="page", format=fmt,
                  version="", url="https://example.org/page", path="page", sha256="", binding=False)


# --- read_text_file ------------------------------------------------------------------


def test_utf8_with_bom_and_crlf(tmp_path: Path) -> None:
    p = tmp_path / "page_bom.txt"
    p.write_bytes(codecs.BOM_UTF8 + "Artificiële intelligentie\r\nregel 2".encode())
    assert read_text_file(p) == "Artificiële intelligentie\nregel 2"


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        ("bad_utf16.txt", "Artificiële intelligentie".encode("utf-16"), "UTF-16"),
        ("bad_utf16_nobom.txt", "Artificiële intelligentie".encode("utf-16-le"), "NUL bytes"),
        ("bad_random.txt", bytes(range(128, 256)) * 8, "not valid UTF-8"),
        ("bad_cp1252.txt", "Artificiële intelligentie – €".encode("cp1252"), "not valid UTF-8"),
    ],
)
def test_unknown_encodings_are_refused(tmp_path: Path, name: str, data: bytes, problem: str) -> None:
    p = tmp_path / name
    p.write_bytes(data)
    with pytest.raises(ParseError) as e:
        read_text_file(p)
    msg = str(e.value)
    assert str(p) in msg and "unknown encoding / not text (binary?)" in msg and problem in msg
    assert "UTF-8" in e.value.hint


def test_random_bytes_never_become_text(tmp_path: Path) -> None:
    p = tmp_path / "bad_urandom.md"
    p.write_bytes(os.urandom(4096) + b"\x00")
    with pytest.raises(ParseError):
        read_text_file(p)


def test_mojibake_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "bad_mojibake.txt"
    p.write_text("Artificiële intelligentie".encode().decode("cp1252"), encoding="utf-8")  # "ArtificiÃ«le"
    with pytest.raises(ParseError) as e:
        read_text_file(p)
    assert "mojibake" in str(e.value) and str(p) in str(e.value)


def test_missing_text_file(tmp_path: Path) -> None:
    with pytest.raises(ParseError) as e:
        read_text_file(tmp_path / "nope.txt")
    assert "does not exist" in str(e.value)


# --- page-text ------------------------------------------------------------------------


def test_page_text_sections_without_furniture() -> None:
    doc = parse_source(DATA / "page_small.txt", source("page-text"))
    assert [(b.provision, b.label) for b in doc.blocks] == [
        ("Section 1", "Europese aanpak van AI"),
        ("Section 2", "De AI-verordening"),
    ]
    first, second = doc.blocks
    assert first.title == "Europese aanpak van AI" and first.kind == "page" and first.anchor == ""
    assert first.text == "De EU-aanpak bevordert excellentie en vertrouwen."
    assert second.text == ("De AI-verordening introduceert een aanpak op basis van vier risiconiveaus.\n"
                           "De EU zal dit bereiken door:\n"
                           "1. de ontwikkeling van AI mogelijk maken\n"
                           "2. de plek worden waar AI gedijt")
    all_text = "\n".join(b.label + b.text for b in doc.blocks)
    for furniture in ("Skip to main content", "digitale toekomst", "Laatste nieuws", "Press release",
                      "Gerelateerde inhoud"):
        assert furniture not in all_text


@pytest.mark.parametrize(
    ("name", "content", "parser"),
    [
        ("bad_only_furniture.txt", "Skip to main content\nDe digitale toekomst van Europa vormgeven\n\n"
                                   "Laatste nieuws\n\nSome news item.\n", parse_page_text),
        ("bad_empty.txt", "", parse_page_text),
        ("bad_only_nav.md", "[Skip to main content](#main-content)\n\n* [Home](/en)\n\n# \n\n"
                            "![logo](/logo.svg)\n", parse_page_markdown),
        ("bad_blank.md", "\n\n   \n", parse_page_markdown),
    ],
)
def test_page_without_text(tmp_path: Path, name: str, content: str, parser) -> None:
    p = tmp_path / name
    p.write_text(content, encoding="utf-8")
    with pytest.raises(ParseError) as e:
        parser(p, source("page-text"))
    msg = str(e.value)
    assert str(p) in msg and "no text" in msg and "fetch it again" in msg


def test_html_page_with_no_text(tmp_path: Path) -> None:
    """A saved HTML shell (scripts, no words) given as a page: refused, not indexed."""
    p = tmp_path / "bad_shell.md"
    p.write_text("[Skip to main content](#main)\n\n![](/img/a.png)\n\n---\n", encoding="utf-8")
    with pytest.raises(ParseError):
        parse_source(p, source("page-markdown"))


def test_page_in_utf16_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "bad_page_utf16.txt"
    p.write_bytes((DATA / "page_small.txt").read_text("utf-8").encode("utf-16"))
    with pytest.raises(ParseError) as e:
        parse_source(p, source("page-text"))
    assert "UTF-16" in str(e.value) and "iconv" in str(e.value)


# --- page-markdown ----------------------------------------------------------------------


def test_page_markdown_links_menus_and_emphasis() -> None:
    doc = parse_source(DATA / "page_small.md", source("page-markdown", title="AI Pact", lang="en"))
    assert [(b.provision, b.label, b.title) for b in doc.blocks] == [
        ("Section 1", "AI Pact", "AI Pact"),
        ("Section 2", "What is the AI Pact?", "What is the AI Pact?"),
        ("Section 3", "Pillar I", "What is the AI Pact? — Pillar I"),
    ]
    assert doc.blocks[0].text == "The AI Pact encourages organisations to plan ahead."
    assert doc.blocks[1].text == ("The AI Act entered into force on August 1, 2024. "
                                  "See the AI Office, and sign up.")
    assert doc.blocks[2].text == "- Pillar I gathers the network\n- identifying high-risk systems"
    all_text = "\n".join(b.label + b.text for b in doc.blocks)
    for furniture in ("http", "](", "**", "\\", "Skip to", "Nederlands", "Select your language",
                      "Home", "Page Contents", "Quick links", "Related Content", "Capture.JPG"):
        assert furniture not in all_text


# --- the real pages ---------------------------------------------------------------------


def _real(sid: str):
    import tomllib

    from policy_rag.settings import REPO_ROOT, default_mirror

    rows = tomllib.loads((REPO_ROOT / "corpus" / "sources.toml").read_text("utf-8"))["source"]
    src = Source(**next(r for r in rows if r["id"] == sid))
    for base in (REPO_ROOT / "corpus", Path(default_mirror() or "/nonexistent")):
        if (base / src.path).is_file():
            t = time.perf_counter()
            doc = parse_source(base / src.path, src)
            return doc, time.perf_counter() - t
    pytest.skip(f"{src.path} is neither in corpus/ nor in the mirror")


FURNITURE = ("Skip to main content", "De digitale toekomst van Europa vormgeven", "Shaping Europe",
             "Laatste nieuws", "Latest News", "Gerelateerde inhoud", "Related Content", "Zoek verder",
             "Press release", "Grote afbeelding", "http", "](", "**", "machinevertaling", "Source URL",
             "© European Union", "Select your language", "Nederlands", "Page Contents", "Quick links",
             "Last update", "Print as PDF", "Follow us", "Contact us", "Privacy")


@pytest.mark.integration
@pytest.mark.parametrize(
    ("sid", "n_sections", "first_title", "a_heading"),
    [
        ("page-european-approach-nl", 6, "Europese aanpak van artificiële intelligentie", "De AI-verordening"),
        ("page-ai-office-nl", 9, "Europees AI-bureau", "De structuur van het AI-bureau"),
        ("page-ai-pact-en", 7, "AI Pact", "What are the benefits of the Pact for participants?"),
    ],
)
def test_real_pages(sid: str, n_sections: int, first_title: str, a_heading: str) -> None:
    doc, seconds = _real(sid)
    assert len(doc.blocks) == n_sections
    assert [b.provision for b in doc.blocks] == [f"Section {i}" for i in range(1, n_sections + 1)]
    assert doc.blocks[0].title == first_title
    assert a_heading in [b.label for b in doc.blocks]
    for b in doc.blocks:
        assert b.kind == "page" and b.anchor == "" and b.text and "\n\n" not in b.text
        for f in FURNITURE:
            assert f not in b.text and f not in b.title, (b.provision, f)
    assert seconds < 1


@pytest.mark.integration
def test_real_ai_office_page_keeps_link_texts() -> None:
    doc, _ = _real("page-ai-office-nl")
    first = doc.blocks[0].text
    assert "Het AI-bureau is binnen de Europese Commissie opgericht als het centrum" in first
    assert "Daartoe is de AI-verordening het allereerste" in first
    vacatures = doc.blocks[-1]
    assert "CNECT-AIOFFICE@ec.europa.eu voor algemene vragen" in vacatures.text
