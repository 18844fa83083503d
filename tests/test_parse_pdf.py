"""PDF parsing: the pypdf reader's input checks, the guidelines and omnibus parsers.

Small PDFs are written in tmp_path with pypdf (text placed with a chosen font, size and
position, like the real documents' layout). The tests marked ``integration`` parse the
real guideline and omnibus PDFs of the corpus mirror.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from policy_rag.errors import ParseError
from policy_rag.parse import parse_source
from policy_rag.parse.guidelines_pdf import parse_guidelines_pdf
from policy_rag.parse.omnibus_pdf import amended_provisions
from policy_rag.parse.pdf import join_lines, read_pdf_lines, read_pdf_pages
from policy_rag.types import Document, Source

# (x, y, size, bold, text): one text run on a page.
Run = tuple[float, float, float, bool, str]


def make_pdf(path: Path, pages: list[list[Run]]) -> Path:
    """Write a PDF whose pages hold the given text runs (Times-Roman / Times-Bold)."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    w = PdfWriter()
    for runs in pages:
        page = w.add_blank_page(595, 842)
        fonts = DictionaryObject()
        for key, base in (("/F1", "/Times-Roman"), ("/F2", "/Times-Bold")):
            font = DictionaryObject(
                {
                    NameObject("/Type"): NameObject("/Font"),
                    NameObject("/Subtype"): NameObject("/Type1"),
                    NameObject("/BaseFont"): NameObject(base),
                }
            )
            fonts[NameObject(key)] = w._add_object(font)
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): fonts})
        ops = []
        for x, y, size, bold, text in runs:
            esc = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"BT /{'F2' if bold else 'F1'} {size} Tf {x} {y} Td ({esc}) Tj ET")
        stream = DecodedStreamObject()
        stream.set_data("\n".join(ops).encode("latin-1"))
        page[NameObject("/Contents")] = w._add_object(stream)
    with path.open("wb") as f:
        w.write(f)
    return path


def source(fmt: str, lang: str = "en", sid: str = "test") -> Source:
    return Source(id=sid, doc=sid, title="Test document", lang=lang, kind="guidelines", format=fmt,
                  version="", url="https://example.org/doc.pdf", path="doc.pdf", sha256="")


def simple_pdf(tmp_path: Path) -> Path:
    return make_pdf(tmp_path / "simple.pdf", [[(72, 760, 12, False, "Hello PDF world")]])


# --- input checks: each bad file raises a ParseError naming the file and what to do ----


def test_reads_text_of_a_small_pdf(tmp_path: Path) -> None:
    assert read_pdf_pages(simple_pdf(tmp_path)) == ["Hello PDF world"]


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "bad_empty.pdf"
    p.write_bytes(b"")
    with pytest.raises(ParseError) as e:
        read_pdf_pages(p)
    msg = str(e.value)
    assert str(p) in msg and "empty" in msg and "Download the file again" in msg


def test_html_saved_as_pdf(tmp_path: Path) -> None:
    p = tmp_path / "bad_landing_page.pdf"
    p.write_text("<!DOCTYPE html><html><head><title>Log in</title></head><body>Please log in</body></html>")
    with pytest.raises(ParseError) as e:
        read_pdf_pages(p)
    msg = str(e.value)
    assert str(p) in msg and "not a PDF" in msg and "HTML page" in msg and "landing page" in msg


def test_truncated_pdf(tmp_path: Path) -> None:
    data = simple_pdf(tmp_path).read_bytes()
    p = tmp_path / "bad_truncated.pdf"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(ParseError) as e:
        read_pdf_pages(p)
    assert str(p) in str(e.value) and "truncated" in str(e.value)


def test_corrupt_pdf(tmp_path: Path) -> None:
    p = tmp_path / "bad_corrupt.pdf"
    p.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 20 + b"\nstartxref\n999999\n%%EOF\n")
    with pytest.raises(ParseError) as e:
        read_pdf_pages(p)
    msg = str(e.value)
    assert str(p) in msg and "corrupt" in msg and "Download the file again" in msg


def test_encrypted_pdf(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    w = PdfWriter(clone_from=simple_pdf(tmp_path))
    w.encrypt("secret", algorithm="RC4-128")  # RC4 needs no `cryptography` package
    p = tmp_path / "bad_encrypted.pdf"
    with p.open("wb") as f:
        w.write(f)
    with pytest.raises(ParseError) as e:
        read_pdf_pages(p)
    msg = str(e.value)
    assert str(p) in msg and "encrypted" in msg and "unprotected copy" in msg


def test_encrypted_with_empty_user_password_is_read(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    w = PdfWriter(clone_from=simple_pdf(tmp_path))
    w.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    p = tmp_path / "pdf_owner_password_only.pdf"
    with p.open("wb") as f:
        w.write(f)
    assert read_pdf_pages(p) == ["Hello PDF world"]


def test_pdf_without_text(tmp_path: Path) -> None:
    p = make_pdf(tmp_path / "bad_scanned.pdf", [[], []])
    for reader in (read_pdf_pages, read_pdf_lines):
        with pytest.raises(ParseError) as e:
            reader(p)
        msg = str(e.value)
        assert str(p) in msg and "no extractable text" in msg and "OCR" in msg


def test_pypdf_warnings_are_summarised_not_flooded(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data = simple_pdf(tmp_path).read_bytes()
    # A wrong startxref offset: pypdf warns and rebuilds the cross-reference table.
    head, _, _tail = data.rpartition(b"startxref")
    p = tmp_path / "pdf_bad_xref.pdf"
    p.write_bytes(head + b"startxref\n12\n%%EOF\n")
    with caplog.at_level(logging.DEBUG):
        assert read_pdf_pages(p) == ["Hello PDF world"]
    pypdf_records = [r for r in caplog.records if r.name.startswith("pypdf")]
    summaries = [r for r in caplog.records if "pypdf reported" in r.getMessage()]
    assert pypdf_records == []
    assert len(summaries) == 1 and str(p) in summaries[0].getMessage()


def test_unknown_format_names_it(tmp_path: Path) -> None:
    p = simple_pdf(tmp_path)
    with pytest.raises(ParseError) as e:
        parse_source(p, source("docx-magic"))
    msg = str(e.value)
    assert "'docx-magic'" in msg and "guidelines-pdf" in msg and "sources.toml" in msg


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ParseError) as e:
        parse_source(tmp_path / "nowhere.pdf", source("guidelines-pdf"))
    assert "does not exist" in str(e.value) and "policy-rag fetch" in str(e.value)


# --- layout lines and text joining ---------------------------------------------------


def test_lines_drop_footnote_markers_and_flag_footnotes(tmp_path: Path) -> None:
    p = make_pdf(
        tmp_path / "pdf_footnote.pdf",
        [[
            (72, 740, 12, False, "entered into force on 1 August 2024"),
            (260, 744.5, 8, False, "3"),
            (72, 80, 8, False, "3"),
            (80, 77, 9.96, False, "Article 113 AI Act."),
        ]],
    )
    lines = read_pdf_lines(p)[0]
    body = [ln for ln in lines if ln.text]
    assert [ln.text for ln in body] == ["entered into force on 1 August 2024"]
    assert any(ln.is_small and "Article 113" in ln.small_text for ln in lines)


def test_join_lines_keeps_real_hyphens_and_list_items() -> None:
    text = join_lines(["a lifecycle-based perspective in the post-", "deployment phase, namely:",
                       "(i) first item", "continued", "- a bullet"])
    assert text == ("a lifecycle-based perspective in the post-deployment phase, namely:\n"
                    "(i) first item continued\n- a bullet")


# --- guidelines parser on a small PDF in the real layout -----------------------------


def guidelines_like_pdf(tmp_path: Path) -> Path:
    title = [(96, 600, 12, True, "COMMUNICATION FROM THE COMMISSION"),
             (72, 560, 12, True, "Commission Guidelines on something")]
    toc = [(72, 750, 16, False, "CONTENTS"),
           (72, 725, 11, False, "1. Background ........................ 1"),
           (83, 705, 11, False, "1.1. Scope ........................ 2")]
    p1 = [
        (518, 38, 11, False, "1"),
        (72, 752, 12, True, "1. BACKGROUND AND OBJECTIVES"),
        (72, 730, 12, False, "(1) The AI Act entered into force on 1 August 2024"),
        (340, 734.5, 8, False, "1"),
        (107, 714, 12, False, "and lays down harmonised rules for post-"),
        (107, 698, 12, False, "market monitoring."),
        (72, 676, 12, False, "(2) Guidelines are not binding."),
        (93, 650, 12, True, "1.1. Scope of the prohibitions in"),
        (112, 634, 12, True, "Article 5 AI Act"),
        (107, 610, 12, True, "Article 5(1)(a) AI Act provides:"),
        (107, 590, 12, False, "1. The following AI practices shall be prohibited:"),
        (72, 560, 12, False, "(3) Several conditions must be fulfilled:"),
        (107, 540, 12, False, "(i) the practice is placing on the market;"),
        (72, 100, 5, False, "1"),
        (100, 97, 8, False, "Regulation (EU) 2024/1689 of the European Parliament."),
    ]
    p2 = [
        (518, 38, 11, False, "2"),
        (107, 760, 12, False, "(ii) the system deploys manipulative techniques."),
        (107, 730, 12, True, "a) Subliminal techniques"),
        (72, 700, 12, False, "(4) Subliminal techniques are beyond a person's consciousness."),
    ]
    return make_pdf(tmp_path / "pdf_guidelines_layout.pdf", [title, toc, p1, p2])


def test_guidelines_parser_on_layout(tmp_path: Path) -> None:
    doc = parse_guidelines_pdf(guidelines_like_pdf(tmp_path), source("guidelines-pdf"))
    by = {b.provision: b for b in doc.blocks}
    assert list(by) == ["Paragraph 1", "Paragraph 2", "Paragraph 3", "Paragraph 4"]
    p1 = by["Paragraph 1"]
    assert p1.label == "para. 1" and p1.kind == "guideline" and p1.anchor == "page=3"
    assert p1.title == "1. BACKGROUND AND OBJECTIVES"
    # footnote marker and footnote text gone, line-final hyphen kept and joined
    assert p1.text == ("The AI Act entered into force on 1 August 2024 and lays down harmonised rules "
                       "for post-market monitoring.")
    p3 = by["Paragraph 3"]
    assert p3.title == "1. BACKGROUND AND OBJECTIVES — 1.1. Scope of the prohibitions in Article 5 AI Act"
    assert p3.context.startswith("Article 5(1)(a) AI Act provides: 1. The following AI practices")
    assert p3.text.endswith("(ii) the system deploys manipulative techniques.")
    assert p3.text.count("\n") == 2  # two sub-points on their own lines
    assert by["Paragraph 4"].title.endswith("— a) Subliminal techniques")
    assert by["Paragraph 4"].anchor == "page=4"
    assert all("......" not in b.text and "Regulation (EU)" not in b.text for b in doc.blocks)


def test_guidelines_parser_rejects_other_pdf(tmp_path: Path) -> None:
    with pytest.raises(ParseError) as e:
        parse_guidelines_pdf(simple_pdf(tmp_path), source("guidelines-pdf", sid="guidelines-x"))
    assert "no numbered paragraph" in str(e.value) and "guidelines-x" in str(e.value)


# --- omnibus: which AI Act provisions an amendment point changes ---------------------

M, S, Q, Q2 = 56.6, 99.1, 127.5, 155.9  # x of points, sub-points, quoted text, deeper


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([("1) in artikel 1, lid 2, wordt punt g) vervangen door:", M), ("“g) maatregelen ...”;", S)],
         ["Article 1(2)(g)"]),
        ([("5) artikel 4 wordt vervangen door:", M), ("“Artikel 4", S), ("AI-geletterdheid", S)], ["Article 4"]),
        ([("6) het volgende artikel wordt ingevoegd:", M), ("“Artikel 4 bis", S)], ["Article 4a"]),
        ([("3) aan artikel 2 wordt het volgende lid toegevoegd:", M), ("“13. Voor AI-systemen ...", S),
          ("a) de in afdeling A ...", Q), ("b) een dergelijke ...”;", Q)], ["Article 2(13)"]),
        ([("2) artikel 2 wordt als volgt gewijzigd:", M), ("a) lid 2 wordt vervangen door:", S),
          ("“2. Op AI-systemen ...”;", Q), ("b) lid 7 wordt vervangen door:", S), ("“7. Het Unierecht ...”;", Q)],
         ["Article 2(2)", "Article 2(7)"]),
        ([("7) artikel 5 wordt als volgt gewijzigd:", M),
          ("a) in lid 1, eerste alinea, worden de volgende punten ingevoegd:", S),
          ("“b bis) het in de handel brengen ...", Q), ("die persoon ...;", Q2), ("b ter) het gebruiken ...”;", Q),
          ("b) de volgende leden worden ingevoegd:", S), ("“1 bis. Voor de toepassing ...", Q),
          ("a) het in lid 1 ...", Q2), ("1 ter. Voor de toepassing ...”;", Q)],
         ["Article 5(1)(ba)", "Article 5(1)(bb)", "Article 5(1a)", "Article 5(1b)"]),
        ([("42) in bijlage VIII, afdeling B, worden de punten 7 en 9 geschrapt;", M)],
         ["Annex VIII, Section B(7)", "Annex VIII, Section B(9)"]),
        ([("43) de volgende bijlage wordt toegevoegd:", M), ("“Bijlage XIV", S)], ["Annex XIV"]),
    ],
)
def test_amended_provisions(lines: list[tuple[str, float]], expected: list[str]) -> None:
    assert amended_provisions(lines) == expected


# --- the real files ---------------------------------------------------------------------


def _mirror() -> Path:
    from policy_rag.settings import default_mirror

    m = default_mirror()
    if not m or not Path(m).is_dir():
        pytest.skip("no corpus mirror: put the official files in ../shared/corpus or set POLICY_RAG_MIRROR")
    return Path(m)


def _manifest_source(sid: str) -> Source:
    import tomllib

    from policy_rag.settings import REPO_ROOT

    rows = tomllib.loads((REPO_ROOT / "corpus" / "sources.toml").read_text("utf-8"))["source"]
    return Source(**next(r for r in rows if r["id"] == sid))


_parsed: dict[str, tuple[Document, float]] = {}


def parsed(sid: str) -> tuple[Document, float]:
    """Parse a real corpus file once per test session; returns the document and seconds taken."""
    if sid not in _parsed:
        src = _manifest_source(sid)
        t = time.perf_counter()
        doc = parse_source(_mirror() / src.path, src)
        _parsed[sid] = (doc, time.perf_counter() - t)
    return _parsed[sid]


@pytest.mark.integration
@pytest.mark.parametrize(("sid", "n", "first_page"), [("guidelines-prohibited-en", 433, 6),
                                                       ("guidelines-ai-system-en", 64, 2)])
def test_real_guidelines_have_every_paragraph_once(sid: str, n: int, first_page: int) -> None:
    doc, seconds = parsed(sid)
    paras = [b for b in doc.blocks if b.provision.startswith("Paragraph ")]
    assert [b.provision for b in paras] == [f"Paragraph {i}" for i in range(1, n + 1)]
    assert doc.warnings == []
    assert paras[0].anchor == f"page={first_page}"  # title page and table of contents skipped
    pages = [int(b.anchor.removeprefix("page=")) for b in paras]
    assert pages == sorted(pages)
    assert all(b.kind == "guideline" and b.text and b.label == b.provision.replace("Paragraph", "para.")
               for b in paras)
    assert seconds < 60


@pytest.mark.integration
def test_real_guidelines_text_is_clean() -> None:
    doc, _ = parsed("guidelines-ai-system-en")
    by = {b.provision: b for b in doc.blocks}
    p42 = by["Paragraph 42"]
    assert p42.anchor == "page=9"
    assert p42.title.endswith("5.2. Systems outside the scope of the AI system definition — "
                              "Systems for improving mathematical optimization")
    assert "used in consolidated manner for many years. This includes" in p42.text  # marker 6 gone
    text = "\n".join(b.text for b in doc.blocks)
    assert "22989:2022" not in text  # footnote 5 (bottom of page 6) is not in any paragraph
    assert "machine-based" in by["Paragraph 11"].text

    doc52, _ = parsed("guidelines-prohibited-en")
    by52 = {b.provision: b for b in doc52.blocks}
    assert "(‘the Charter’)" in by52["Paragraph 8"].text  # a quote mark set in a small font is kept
    assert by52["Paragraph 60"].context.startswith("Article 5(1)(a) AI Act provides:")
    assert by52["Paragraph 60"].title.startswith("3. ARTICLE 5(1)(A) AND (B) AI ACT")
    # Section 10.8 (examples, no numbered paragraphs) is kept as a block of its own.
    assert by52["Section 10.8"].text.startswith("The police instals mobile CCTV cameras")
    assert "........" not in "\n".join(b.text for b in doc52.blocks)


@pytest.mark.integration
def test_real_omnibus() -> None:
    doc, seconds = parsed("omnibus-nl-pdf")
    recitals = [b for b in doc.blocks if b.kind == "recital"]
    assert [b.provision for b in recitals] == [f"Recital {i}" for i in range(1, 48)]
    assert recitals[0].label == "Overweging 1" and recitals[0].anchor == "page=4"
    assert recitals[-1].text.endswith("hun gezamenlijk advies uitgebracht,")
    by = {b.provision: b for b in doc.blocks}
    art1 = [b for b in doc.blocks if b.provision.startswith("Article 1(")]
    assert len(art1) == 43 and all(b.kind == "amendment" and b.amends for b in art1)
    assert all(b.title == "Wijzigingen in Verordening (EU) 2024/1689" for b in art1)
    assert by["Article 1(5)"].amends == ["Article 4"]
    assert by["Article 1(5)"].label == "Artikel 1, punt 5)"
    assert by["Article 1(5)"].text.startswith("artikel 4 wordt vervangen door: “Artikel 4 AI-geletterdheid")
    assert by["Article 1(1)"].amends == ["Article 1(2)(g)"]
    assert by["Article 1(8)"].amends == ["Article 6(1a)", "Article 6(1b)", "Article 6(1c)"]
    assert by["Article 1(32)"].amends == ["Article 75a", "Article 75b", "Article 75c", "Article 75d"]
    # Articles 2 and 3 amend Regulations (EU) 2018/1139 and 2023/1230, not the AI Act.
    for art, act, n in ((2, "2018/1139", 7), (3, "2023/1230", 3)):
        blocks = [b for b in doc.blocks if b.provision.startswith(f"Article {art}(")]
        assert len(blocks) == n
        assert all(b.kind == "article" and b.amends == [] and act in b.title for b in blocks)
    a4 = by["Article 4"]
    assert a4.title == "Inwerkingtreding en toepassing" and a4.anchor == "page=102"
    assert "Gedaan te" not in a4.text and "voorzitter" not in a4.text
    text = "\n".join(b.text + b.context for b in doc.blocks)
    assert "PE-CONS" not in text and "GIP.B" not in text
    assert "Standpunt van het Europees Parlement" not in text  # footnote 4
    assert seconds < 30
