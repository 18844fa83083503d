"""parse/eurlex_html.py on tiny real fragments (tests/data) and on the real OJ files (mirror)."""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pytest

from policy_rag import legal
from policy_rag.errors import ParseError
from policy_rag.parse.eurlex_html import parse_eurlex_html
from policy_rag.settings import default_mirror
from policy_rag.types import Block, Document, Source

DATA = Path(__file__).parent / "data"
OJ_PATHS = {"en": "en/ai-act/OJ_L_202401689_EN_TXT.html", "nl": "nl/ai-act/OJ_L_202401689_NL_TXT.html"}


def _source(lang: str) -> Source:
    return Source(
        id=f"ai-act-{lang}-html",
        doc="ai-act",
        title="AI Act",
        lang=lang,  # type: ignore[arg-type]
        kind="act",
        format="eurlex-html",
        version="OJ L, 2024/1689, 12.7.2024",
        url=f"https://eur-lex.europa.eu/legal-content/{lang.upper()}/TXT/HTML/?uri=OJ:L_202401689",
        path=OJ_PATHS[lang],
        sha256="",
    )


def _by_provision(doc: Document) -> dict[str, Block]:
    return {b.provision: b for b in doc.blocks}


# --------------------------------------------------------------------------- fragments


@pytest.fixture(scope="module")
def frag() -> dict[str, Document]:
    return {lang: parse_eurlex_html(DATA / f"eurlex_{lang}_fragment.html", _source(lang)) for lang in ("en", "nl")}


def test_fragment_blocks_in_document_order(frag: dict[str, Document]) -> None:
    provs = [b.provision for b in frag["en"].blocks]
    assert provs[:7] == ["Recital 27", "Article 3(1)", "Article 3(2)", "Article 3(3)", "Article 3(4)",
                         "Article 3(5)", "Article 5(1)"]
    assert provs[-5:] == ["Annex III", "Annex III(1)", "Annex III(2)", "Annex III(3)", "Annex III(4)"]
    # the same provisions in both languages (the NL fragment adds Article 73)
    nl = [b.provision for b in frag["nl"].blocks if not b.provision.startswith("Article 73")]
    assert nl == provs


def test_fragment_article_5_points_en(frag: dict[str, Document]) -> None:
    blocks = _by_provision(frag["en"])
    for point in "abcdefgh":
        assert f"Article 5(1)({point})" in blocks
    f = blocks["Article 5(1)(f)"]
    assert f.kind == "article"
    assert f.label == "Article 5(1), point (f)"
    assert f.title == "Prohibited AI practices"
    assert f.anchor == "005.001"
    assert f.context == "The following AI practices shall be prohibited:"
    assert f.text.startswith("(f) the placing on the market, the putting into service for this specific purpose")
    assert "infer emotions of a natural person in the areas of workplace and education" in f.text
    # sub-points stay inside their point, one line each
    h = blocks["Article 5(1)(h)"].text.splitlines()
    assert [line[:5] for line in h[1:4]] == ["(i) t", "(ii) ", "(iii)"]
    # the paragraph keeps its lead-in and its closing subparagraph
    p = blocks["Article 5(1)"]
    assert p.text.startswith("1. The following AI practices shall be prohibited:")
    assert "Point (h) of the first subparagraph is without prejudice to" in p.text
    # short paragraphs are not split
    assert "Article 5(3)" in blocks and not any(k.startswith("Article 5(3)(") for k in blocks)
    assert blocks["Article 5(3)"].anchor == "005.003"


def test_fragment_article_5_points_nl(frag: dict[str, Document]) -> None:
    f = _by_provision(frag["nl"])["Article 5(1)(f)"]
    assert f.label == "Artikel 5, lid 1, punt f)"
    assert f.title == "Verboden AI-praktijken"
    assert f.context == "De volgende AI-praktijken zijn verboden:"
    assert f.text.startswith("f) het in de handel brengen")
    assert f.anchor == "005.001"


def test_fragment_definitions(frag: dict[str, Document]) -> None:
    en, nl = _by_provision(frag["en"]), _by_provision(frag["nl"])
    d = en["Article 3(1)"]
    assert d.kind == "definition"
    assert d.label == "Article 3, point (1)"
    assert d.context == "For the purposes of this Regulation, the following definitions apply:"
    assert d.text.startswith("(1) ‘AI system’ means a machine-based system")
    assert d.anchor == "art_3"
    n4 = nl["Article 3(4)"]
    assert n4.label == "Artikel 3, punt 4)"
    assert n4.context == "Voor de toepassing van deze verordening wordt verstaan onder:"
    assert "gebruiksverantwoordelijke" in n4.text
    assert n4.title == "Definities"


def test_fragment_recital(frag: dict[str, Document]) -> None:
    r = _by_provision(frag["en"])["Recital 27"]
    assert (r.kind, r.label, r.anchor, r.title) == ("recital", "Recital 27", "rct_27", "")
    assert r.text.startswith("While the risk-based approach is the basis")
    assert _by_provision(frag["nl"])["Recital 27"].label == "Overweging 27"


def test_fragment_annex_iii(frag: dict[str, Document]) -> None:
    en = _by_provision(frag["en"])
    intro = en["Annex III"]
    assert intro.kind == "annex"
    assert intro.title == "High-risk AI systems referred to in Article 6(2)"
    assert intro.text.startswith("High-risk AI systems pursuant to Article 6(2) are the AI systems listed")
    p4 = en["Annex III(4)"]
    assert p4.label == "Annex III, point 4"
    assert p4.anchor == "anx_III"
    assert p4.text.startswith("4. Employment, workers’ management and access to self-employment:\n(a) AI systems")
    assert p4.context == intro.text
    assert p4.refs == []
    nl4 = _by_provision(frag["nl"])["Annex III(4)"]
    assert nl4.label == "Bijlage III, punt 4"
    assert nl4.title == "In artikel 6, lid 2, bedoelde AI-systemen met een hoog risico"


def test_fragment_refs(frag: dict[str, Document]) -> None:
    en = _by_provision(frag["en"])
    assert en["Article 5(1)(h)"].refs == ["Annex II"]
    assert "Article 6(2)" in en["Annex III"].refs
    # "Article 9 of Regulation (EU) 2016/679" is another act
    assert en["Article 5(1)"].refs == []


def test_fragment_text_is_clean(frag: dict[str, Document]) -> None:
    for doc in frag.values():
        for b in doc.blocks:
            assert b.text == b.text.strip()
            assert "\n\n" not in b.text and "  " not in b.text and "\xa0" not in b.text
            assert not re.search(r"\(\*\d*\)", b.text)


def test_nl_article_73_duplicate_paragraph_number(frag: dict[str, Document]) -> None:
    """The original NL OJ text prints Article 73's paragraphs 1-9, 11, 11; the ids are 073.010 and 073.011."""
    doc = frag["nl"]
    blocks = _by_provision(doc)
    ten, eleven = blocks["Article 73(10)"], blocks["Article 73(11)"]
    assert (ten.anchor, eleven.anchor) == ("073.010", "073.011")
    assert ten.text.startswith("11. ") and eleven.text.startswith("11. ")  # printed as in the source
    assert ten.label == "Artikel 73, lid 10"
    assert len(doc.warnings) == 1 and "073.010" in doc.warnings[0]
    assert not any(k.startswith("Article 73(") and k not in {f"Article 73({n})" for n in range(1, 12)} for k in blocks)


def test_repeated_paragraph_id_gets_next_free_number(tmp_path: Path) -> None:
    html = (DATA / "eurlex_nl_fragment.html").read_text(encoding="utf-8").replace('id="073.011"', 'id="073.010"')
    path = tmp_path / "dup.html"
    path.write_text(html, encoding="utf-8")
    doc = parse_eurlex_html(path, _source("nl"))
    blocks = _by_provision(doc)
    assert blocks["Article 73(11)"].anchor == "073.010"
    assert blocks["Article 73(11)"].text.startswith("11. De nationale bevoegde autoriteiten")
    assert any("repeats" in w for w in doc.warnings)
    provs = [b.provision for b in doc.blocks]
    assert len(provs) == len(set(provs))


def test_no_articles_raises_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.html"
    path.write_text("<html><body><p>Search results: nothing found</p></body></html>", encoding="utf-8")
    with pytest.raises(ParseError, match="no article, recital or annex found") as e:
        parse_eurlex_html(path, _source("en"))
    assert "EUR-Lex HTML of the act" in str(e.value)


def test_missing_file_raises_parse_error(tmp_path: Path) -> None:
    with pytest.raises(ParseError):
        parse_eurlex_html(tmp_path / "nope.html", _source("en"))


# --------------------------------------------------------------------------- the real files


def _mirror_file(lang: str) -> Path:
    mirror = default_mirror()
    if not mirror:
        pytest.skip("no corpus mirror (set POLICY_RAG_MIRROR or place it at ../shared/corpus)")
    path = Path(mirror) / OJ_PATHS[lang]
    if not path.is_file():
        pytest.skip(f"{path} is not in the mirror")
    return path


@pytest.fixture(scope="module")
def real() -> dict[str, Document]:
    docs = {}
    for lang in ("en", "nl"):
        path = _mirror_file(lang)
        t = time.perf_counter()
        docs[lang] = parse_eurlex_html(path, _source(lang))
        assert time.perf_counter() - t < 10, "parsing one OJ file should take a few seconds at most"
    return docs


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_real_counts(real: dict[str, Document], lang: str) -> None:
    doc = real[lang]
    parsed = [legal.parse(b.provision) for b in doc.blocks]
    assert all(p is not None for p in parsed)
    articles = {p.number for p in parsed if p and p.kind == "article"}
    recitals = {p.number for p in parsed if p and p.kind == "recital"}
    annexes = {p.number for p in parsed if p and p.kind == "annex"}
    assert len(articles) == 113 and articles == {str(n) for n in range(1, 114)}
    assert len(recitals) == 180
    assert len(annexes) == 13 and annexes == {legal.int_to_roman(n) for n in range(1, 14)}
    kinds = Counter(b.kind for b in doc.blocks)
    assert kinds["definition"] == 68
    assert kinds["recital"] == 180
    definitions = [b.provision for b in doc.blocks if b.kind == "definition"]
    assert definitions == [f"Article 3({n})" for n in range(1, 69)]


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_real_ids_unique_and_labelled(real: dict[str, Document], lang: str) -> None:
    doc = real[lang]
    provs = [b.provision for b in doc.blocks]
    assert len(provs) == len(set(provs))
    suffixes = [legal.id_suffix(p) for p in provs]
    assert len(suffixes) == len(set(suffixes))
    for b in doc.blocks:
        assert b.text and b.label == legal.label(b.provision, lang)
        assert b.anchor
        if b.kind == "article":
            assert b.title, b.provision
        assert "\n\n" not in b.text and "  " not in b.text


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_real_article_5_points(real: dict[str, Document], lang: str) -> None:
    blocks = _by_provision(real[lang])
    for point in "abcdefgh":
        b = blocks[f"Article 5(1)({point})"]
        assert b.anchor == "005.001"
        assert b.context
    assert "Article 5(1)(i)" not in blocks


def test_real_warnings(real: dict[str, Document]) -> None:
    assert real["en"].warnings == []
    assert len(real["nl"].warnings) == 1 and "Article 73" in real["nl"].warnings[0]
    assert _by_provision(real["nl"])["Article 73(10)"].anchor == "073.010"


def test_real_languages_align(real: dict[str, Document]) -> None:
    """Paragraph, definition, recital and annex provisions are the same in both languages; only
    the word-count decision to split a paragraph at its points may differ (Article 14(4))."""
    en = {b.provision for b in real["en"].blocks}
    nl = {b.provision for b in real["nl"].blocks}
    assert len(en ^ nl) < 30, sorted(en ^ nl)
    for p in en - nl:
        assert any(legal.matches(p, q) for q in nl), p
    for p in nl - en:
        assert any(legal.matches(p, q) for q in en), p
