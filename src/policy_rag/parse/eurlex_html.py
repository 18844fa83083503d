"""EUR-Lex Official Journal HTML (CONVEX layout) -> Document of Blocks.

Written for the OJ rendering of Regulation (EU) 2024/1689 in English and Dutch (same markup).
What the markup offers and how it is used:

- ``<div class="eli-subdivision" id="rct_27">``: a recital, one table whose cells are the
  number "(27)" and the text. One block "Recital 27", kind "recital".
- ``<div class="eli-subdivision" id="art_5">``: an article; ``p.oj-ti-art`` ("Article 5") and
  ``div.eli-title > p.oj-sti-art`` (the heading). Numbered paragraphs are ``<div id="005.001">``
  (article.paragraph, three digits each): one block per paragraph, "Article 5(1)", anchor
  "005.001". Articles without numbered paragraphs are one block "Article 4", anchor "art_4".
- Points (a), (b)... are list tables (one row: a marker cell and a content cell). They stay in
  their paragraph's block unless the paragraph is longer than ``max_words`` words; then each
  point is its own block "Article 5(1)(f)" with ``context`` = the paragraph's lead-in (the
  chapeau), and the paragraph keeps a block of its own for what is not in a point (lead-in and
  closing subparagraphs) when there is more than the bare lead-in. A paragraph whose list
  markers repeat (Article 43(1) has two lists (a), (b)) is never split.
- Article 3: each numbered definition "(N)" is a block "Article 3(N)", kind "definition", with
  the lead-in ("For the purposes of this Regulation, the following definitions apply:") as context.
- ``<div class="eli-container" id="anx_III">``: an annex; ``p.oj-doc-ti`` holds "ANNEX III" and
  the annex title; ``p.oj-ti-grseq-1`` holds section headings ("Section A. ...",
  "Afdeling 1") and, in some annexes, numbered point headings ("3. Quality management
  system"); points are list tables ("1.", "(a)", "3.1.") or ``div.oj-enumeration-spacing``
  (Annex VI). The lead-in before the first point is a block "Annex III"; each top-level point
  is a block "Annex III(4)", long points are split at their points "(a)" / "3.1" as articles
  are. Where point numbers restart per section (Annexes VIII and XI) the section is part of
  the provision: "Annex VIII, Section A(1)". An annex without numbered or lettered points
  (Annex II, a dashed list) is one block. Annex points are split whatever their length, so
  both language versions give the same annex provisions.

Paragraph numbers come from the paragraph ids, which are unique and agree between the language
versions. The printed number is checked against them: the original Dutch OJ text of Article 73
prints its paragraphs 1-9, 11, 11 (fixed to 10, 11 by corrigendum C1 of 19.12.2025); its ids
are 073.010 and 073.011, so the blocks are "Article 73(10)" (anchor 073.010) and
"Article 73(11)" (anchor 073.011), the text keeps the printed "11." and the mismatch is
reported in ``Document.warnings``. Without an id a repeated number becomes the next free one,
also with a warning. Provisions are unique within a Document.

Footnote call-outs ("(*1)", "(12)") are dropped; other superscripts are written "10^25".
The title, citations, preamble header, enacting formula and signature are not blocks.
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from policy_rag import legal
from policy_rag.errors import ParseError
from policy_rag.types import Block, BlockKind, Document, Source

try:  # bs4 >= 4.11
    from bs4 import XMLParsedAsHTMLWarning
except ImportError:  # pragma: no cover
    XMLParsedAsHTMLWarning = UserWarning  # type: ignore[assignment,misc]

log = logging.getLogger(__name__)

MAX_WORDS = 220  # a paragraph / annex point longer than this is split at its points
DEFINITIONS_ARTICLE = "3"  # the article whose numbered points are definitions

_UNIT_ID = re.compile(r"^(rct_\d+|art_\d+|anx_[IVXLC]+)$")
_PARA_ID = re.compile(r"^(\d{3})\.(\d{3})$")
_WS = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,;:.)](?:\s|$))")
_PRINTED_PARA = re.compile(r"^(\d+)\.\s")
_LETTER_MARKER = re.compile(r"^\(?([a-z]{1,2})\)$")  # EN "(a)", NL "a)"
_NUMBER_MARKER = re.compile(r"^\(?(\d{1,3})\)$")  # EN "(1)", NL "1)"
_ANNEX_NUMBER_MARKER = re.compile(r"^(\d{1,2}(?:\.\d{1,2})*)\.?$")
_SECTION_HEADING = re.compile(r"^(?:Section|Afdeling)\s+([A-Z]|\d{1,2})\b")
_NUMBERED_HEADING = re.compile(r"^(\d{1,2})\.\s+\S")


def _id(tag: Tag) -> str:
    value = tag.get("id")
    return value if isinstance(value, str) else ""


def _classes(tag: Tag) -> list[str]:
    value = tag.get("class")
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _clean(s: str) -> str:
    s = _WS.sub(" ", s).strip()
    return _SPACE_BEFORE_PUNCT.sub(r"\1", s).strip()


def _words(lines: list[str]) -> int:
    return sum(len(line.split()) for line in lines)


# --------------------------------------------------------------------------- rendering


@dataclass
class _Unit:
    """A direct child of a container: a list item (marker "(a)", "1.") or running text."""

    marker: str  # "" for running text
    lines: list[str]
    content: Tag | None = None  # the content cell of a list item


def _is_inline(tag: Tag) -> bool:
    if tag.name in ("span", "a", "b", "i", "em", "strong", "sup", "sub"):
        return True
    return tag.name == "p" and "inline" in (tag.get("style") or "")


def _list_item(table: Tag) -> tuple[str, Tag] | None:
    """A one-row list table -> (marker, content cell); None for any other table."""
    body = table.find("tbody", recursive=False) or table
    rows = body.find_all("tr", recursive=False)
    if len(rows) != 1:
        return None
    cells = rows[0].find_all("td", recursive=False)
    if len(cells) < 2:
        return None
    return _clean(cells[-2].get_text(" ")), cells[-1]


def _units(container: Tag) -> list[_Unit]:
    return _units_of(list(container.children))


def _units_of(nodes: list[object]) -> list[_Unit]:
    """The units of a run of sibling nodes: list items, paragraphs, inline text merged."""
    units: list[_Unit] = []
    buf: list[str] = []

    def flush() -> None:
        text = _clean("".join(buf))
        buf.clear()
        if text:
            units.append(_Unit("", [text]))

    for child in nodes:
        if isinstance(child, Comment):
            continue
        if isinstance(child, NavigableString):
            buf.append(str(child))
            continue
        if not isinstance(child, Tag) or child.name in ("col", "colgroup"):
            continue
        if child.name == "br":
            flush()
        elif _is_inline(child):
            buf.append(child.get_text())
        elif child.name == "table":
            flush()
            item = _list_item(child)
            if item is None:
                for row in child.find_all("tr"):
                    cells = [_clean(td.get_text(" ")) for td in row.find_all("td", recursive=False)]
                    if any(cells):
                        units.append(_Unit("", [" | ".join(c for c in cells if c)]))
                continue
            marker, cell = item
            inner = _lines(cell)
            if marker and inner:
                inner[0] = f"{marker} {inner[0]}"
            elif marker:
                inner = [marker]
            units.append(_Unit(marker, inner, cell))
        elif child.name == "div" and "oj-enumeration-spacing" in _classes(child):
            flush()
            text = _clean(child.get_text(" "))
            m = _ANNEX_NUMBER_MARKER.match(text.split(" ", 1)[0]) if text else None
            units.append(_Unit(m.group(0) if m else "", [text]) if text else _Unit("", []))
        elif child.name == "p":
            flush()
            text = _clean(child.get_text())
            if text:
                units.append(_Unit("", [text]))
        else:  # div and anything else: a block of its own
            flush()
            inner = _lines(child)
            if inner:
                units.append(_Unit("", inner))
    flush()
    return [u for u in units if u.lines]


def _lines(container: Tag) -> list[str]:
    return [line for u in _units(container) for line in u.lines]


def _prepare(soup: BeautifulSoup) -> None:
    """Drop footnote call-outs, write other superscripts as ^n."""
    for tag in soup.select("span.oj-note-tag"):
        holder = tag.find_parent("a") or tag
        holder.decompose()
    for tag in soup.select("span.oj-super"):
        tag.replace_with(f"^{tag.get_text(strip=True)}")


# --------------------------------------------------------------------------- building blocks


@dataclass
class _Builder:
    lang: str
    max_words: int
    blocks: list[Block] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)

    def add(self, provision: str, title: str, lines: list[str], kind: BlockKind, anchor: str, context: str = "") -> None:
        text = "\n".join(line for line in lines if line)
        if not text:
            return
        if legal.parse(provision) is None:  # e.g. "Article 1000": no citable id; the unit is left out
            raise ValueError(f"{provision!r} is not a provision number policy-rag can cite")
        if provision in self.seen:  # never expected after the numbering checks; keep ids unique
            msg = f"{provision}: appears twice; the second block was dropped"
            self.warnings.append(msg)
            log.warning(msg)
            return
        self.seen.add(provision)
        refs = [r for r in legal.find_refs(text, self.lang) if r != provision]
        self.blocks.append(
            Block(
                provision=provision,
                label=legal.label(provision, self.lang),
                title=title,
                text=text,
                kind=kind,
                anchor=anchor,
                refs=refs,
                context=context,
            )
        )

    def warn(self, msg: str) -> None:
        self.warnings.append(msg)
        log.warning(msg)

    # -- lists of points
    def split_points(
        self,
        units: list[_Unit],
        base: legal.Provision,
        title: str,
        kind: BlockKind,
        anchor: str,
        marker_re: re.Pattern[str],
        extra_context: str = "",
        force: bool = False,
    ) -> bool:
        """Emit one block per point of `units` if long enough (or `force`); False if not split."""
        points = [u for u in units if u.marker and marker_re.match(u.marker)]
        keys = [_marker_key(u.marker) for u in points]
        lines = [line for u in units for line in u.lines]
        if len(points) < 2 or len(set(keys)) != len(keys):
            return False
        if not force and _words(lines) <= self.max_words:
            return False
        first = units.index(points[0])
        lead = [line for u in units[:first] for line in u.lines]
        rest = [line for u in units[first:] if u not in points for line in u.lines]
        chapeau = _PRINTED_PARA.sub("", lead[-1]) if lead else ""
        context = " ".join(x for x in (extra_context, chapeau) if x)
        if rest or len(lead) > 1:
            self.add(base.canonical, title, lead + rest, kind, anchor, extra_context)
        for u, key in zip(points, keys, strict=True):
            # "3.1" below annex point 3 is Annex VII(3.1), not (3)(3.1)
            path = base.path[:-1] + tuple(key.split(".")) if "." in key else (*base.path, key)
            prov = legal.Provision(base.kind, base.number, path, base.section)
            self.add(prov.canonical, title, u.lines, kind, anchor, context)
        return True


def _marker_key(marker: str) -> str:
    """"(a)" -> "a", "(12)" -> "12", "3.1." -> "3.1"."""
    return marker.strip("().").strip()


# --------------------------------------------------------------------------- the units


def _recital(b: _Builder, div: Tag) -> None:
    number = _id(div).split("_", 1)[1]
    units = _units(div)
    lines: list[str] = []
    for u in units:
        if u.marker and u.content is not None:
            if _marker_key(u.marker) != number:
                b.warn(f"Recital {number}: printed number {u.marker} differs from its id; using the id")
            lines.extend(_lines(u.content))
        else:
            lines.extend(u.lines)
    b.add(f"Recital {number}", "", lines, "recital", _id(div))


def _article_heading(div: Tag) -> str:
    sub = div.select_one("div.eli-title p.oj-sti-art") or div.select_one("p.oj-sti-art")
    return _clean(sub.get_text()) if sub else ""


def _article(b: _Builder, div: Tag) -> None:
    number = _id(div).split("_", 1)[1]
    title = _article_heading(div)
    paras = [c for c in div.find_all("div", recursive=False) if _PARA_ID.match(_id(c))]
    art = legal.Provision("article", number)
    if not paras:
        units = _units_of([c for c in div.children if not _is_heading(c)])
        if number == DEFINITIONS_ARTICLE:
            _definitions(b, units, title, _id(div))
            return
        if not b.split_points(units, art, title, "article", _id(div), _LETTER_MARKER):
            b.add(art.canonical, title, [x for u in units for x in u.lines], "article", _id(div))
        return
    used: set[str] = set()
    for p in paras:
        m = _PARA_ID.match(_id(p))
        assert m is not None
        para = str(int(m.group(2)))
        units = _units(p)
        first = units[0].lines[0] if units and units[0].lines else ""
        printed = _PRINTED_PARA.match(first)
        if int(m.group(1)) != int(number):
            b.warn(f"Article {number}: paragraph id {p['id']} names another article")
        if printed and printed.group(1) != para:
            b.warn(
                f"Article {number}: the paragraph printed as {printed.group(1)}. has id {p['id']}; "
                f"it is Article {number}({para}) (anchor {p['id']}) after the id"
            )
        if para in used:  # ids repeat: take the next free number
            para = str(max(int(x) for x in used) + 1)
            b.warn(f"Article {number}: paragraph id {p['id']} repeats; numbered {para}")
        used.add(para)
        prov = legal.Provision("article", number, (para,))
        if not b.split_points(units, prov, title, "article", _id(p), _LETTER_MARKER):
            b.add(prov.canonical, title, [x for u in units for x in u.lines], "article", _id(p))
    # text of the article outside its numbered paragraphs (not expected in this act)
    stray = [c for c in div.children if isinstance(c, Tag) and not _is_heading(c) and c not in paras]
    if stray:
        b.warn(f"Article {number}: text outside its numbered paragraphs was left out")


def _is_heading(node: object) -> bool:
    if not isinstance(node, Tag):
        return False
    cls = _classes(node)
    return "oj-ti-art" in cls or "eli-title" in cls or "oj-sti-art" in cls


def _definitions(b: _Builder, units: list[_Unit], title: str, anchor: str) -> None:
    first = next((i for i, u in enumerate(units) if _NUMBER_MARKER.match(u.marker)), len(units))
    lead = [x for u in units[:first] for x in u.lines]
    context = lead[-1] if lead else ""
    if len(lead) > 1:
        b.add(f"Article {DEFINITIONS_ARTICLE}", title, lead, "definition", anchor)
    for u in units[first:]:
        m = _NUMBER_MARKER.match(u.marker)
        if not m:
            b.warn(f"Article {DEFINITIONS_ARTICLE}: text between definitions was left out: {u.lines[0][:60]!r}")
            continue
        b.add(f"Article {DEFINITIONS_ARTICLE}({m.group(1)})", title, u.lines, "definition", anchor, context)


@dataclass
class _Point:
    key: str  # "4", "a", "3"
    section: str
    units: list[_Unit]
    letter: bool = False  # a top-level lettered point "(a)" (Annex XIII)


@dataclass
class _Section:
    key: str
    heading: str
    intro: list[str] = field(default_factory=list)


def _annex(b: _Builder, div: Tag) -> None:
    roman = _id(div).split("_", 1)[1]
    anchor = _id(div)
    children = [c for c in div.children if isinstance(c, Tag)]
    doc_ti = [c for c in children if "oj-doc-ti" in _classes(c)]
    title = _clean(" ".join(c.get_text() for c in doc_ti[1:])) if len(doc_ti) > 1 else ""
    intro: list[str] = []
    sections: list[_Section] = []
    points: list[_Point] = []
    current: _Point | None = None
    for c in children:
        cls = _classes(c)
        if "oj-doc-ti" in cls:
            continue
        if "oj-ti-grseq-1" in cls:
            text = _clean(c.get_text())
            sm = _SECTION_HEADING.match(text)
            nm = _NUMBERED_HEADING.match(text)
            if sm:
                sections.append(_Section(sm.group(1), text))
                current = None
            elif nm:
                current = _Point(nm.group(1), sections[-1].key if sections else "", [_Unit("", [text])])
                points.append(current)
            elif current is not None:
                current.units.append(_Unit("", [text]))
            elif sections:
                sections[-1].heading += f" — {text}"
            else:
                intro.append(text)
            continue
        for u in _units_of([c]):
            key = _marker_key(u.marker) if u.marker else ""
            section = sections[-1].key if sections else ""
            if key.isdigit() and _ANNEX_NUMBER_MARKER.match(u.marker):  # "4." (not "3.1.")
                current = _Point(key, section, [u])
                points.append(current)
            elif _LETTER_MARKER.match(u.marker) and (current is None or current.letter):
                # top-level lettered points (Annex XIII)
                current = _Point(key, section, [u], letter=True)
                points.append(current)
            elif current is not None:  # sub-points "(a)" / "3.1.", text of the point
                current.units.append(u)
            elif sections:
                sections[-1].intro.extend(u.lines)
            else:
                intro.extend(u.lines)
    all_lines = intro + [x for s in sections for x in [s.heading, *s.intro]] + [
        x for p in points for u in p.units for x in u.lines
    ]
    if not points:
        b.add(f"Annex {roman}", title, all_lines, "annex", anchor)
        return
    keys = [p.key for p in points]
    by_section = len(set(keys)) != len(keys) and len(sections) > 1
    if by_section and len({(p.section, p.key) for p in points}) != len(points):
        b.warn(f"Annex {roman}: point numbers repeat within a section; later repeats were dropped")
    chapeau = intro[-1] if intro and intro[-1].rstrip().endswith(":") else ""
    b.add(f"Annex {roman}", title, intro, "annex", anchor)
    heads = {s.key: s for s in sections}
    if by_section:
        for s in sections:
            b.add(f"Annex {roman}, Section {s.key}", title, [s.heading, *s.intro], "annex", anchor)
    elif any(s.intro for s in sections):
        for s in sections:
            if s.intro:
                b.warn(f"Annex {roman}: the lead-in of {s.heading[:40]!r} is only in the context of its points")
    for p in points:
        sec = heads.get(p.section)
        sec_ctx = ""
        if sec is not None:
            sec_lead = sec.intro[-1] if sec.intro and sec.intro[-1].rstrip().endswith(":") else ""
            sec_ctx = " ".join(x for x in (sec.heading, sec_lead) if x)
        context = sec_ctx if sec_ctx else chapeau
        prov = legal.Provision("annex", roman, tuple(p.key.split(".")), p.section if by_section else "")
        units = p.units
        if len(units) == 1 and units[0].content is not None:
            # a list-table point: its inner units are the candidates for splitting
            inner = _units(units[0].content)
            if inner:
                marker = units[0].marker
                if inner[0].marker:
                    inner.insert(0, _Unit("", [marker]))
                else:
                    inner[0] = _Unit("", [f"{marker} {inner[0].lines[0]}", *inner[0].lines[1:]])
                units = inner
        subs = re.compile(r"^(?:\(?[a-z]{1,2}\)|" + re.escape(p.key) + r"\.\d{1,2}\.?)$")
        if not b.split_points(units, prov, title, "annex", anchor, subs, extra_context=context):
            b.add(prov.canonical, title, [x for u in units for x in u.lines], "annex", anchor, context)


# --------------------------------------------------------------------------- entry point


def parse_eurlex_html(path: Path, source: Source, *, max_words: int = MAX_WORDS) -> Document:
    """Parse the EUR-Lex OJ HTML of the AI Act (EN or NL) into blocks at the finest citable unit.

    Raises ParseError when the file holds no article, recital or annex.
    """
    from policy_rag.parse import read_bytes

    path = Path(path)
    raw = read_bytes(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(raw, "lxml")
    _prepare(soup)
    lang = source.lang
    b = _Builder(lang=lang, max_words=max_words)
    for div in soup.find_all("div", id=_UNIT_ID):
        unit = _id(div)
        try:
            if unit.startswith("rct_"):
                _recital(b, div)
            elif unit.startswith("art_"):
                _article(b, div)
            else:
                _annex(b, div)
        except Exception as e:  # one odd unit must not lose the document
            b.warn(f"{unit}: could not be read ({type(e).__name__}: {e}); left out")
            log.warning("eurlex_html: %s in %s could not be read (%s: %s); left out", unit, path, type(e).__name__, e)
            log.debug("eurlex_html: %s in %s", unit, path, exc_info=True)  # the traceback, for -v
    if not b.blocks:
        raise ParseError(
            path,
            "no article, recital or annex found",
            "Check that this is the EUR-Lex HTML of the act (Official Journal rendering, "
            "with ids such as art_5, rct_27, anx_III), not a search page or a PDF saved as HTML.",
        )
    log.info(
        "eurlex_html: %s: %d blocks, %d warnings", path.name, len(b.blocks), len(b.warnings)
    )
    return Document(source=source, blocks=b.blocks, warnings=b.warnings)


# --------------------------------------------------------------------------- chapters

_STRUCT_ID = re.compile(r'\bid="(cpt_([IVXL]+)(?:\.sct_(\d{1,2}))?|art_(\d{1,3}[a-z]?))"')


def chapters_of(path: Path | str, max_bytes: int = 50 * 1024 * 1024) -> dict[str, str]:
    """Which chapter (and section) each article sits in, from the OJ ids in document order:
    {"Article 6": "Chapter III, Section 1", "Article 4": "Chapter I"}. {} when the file has none."""
    with open(path, "rb") as f:
        html = f.read(max_bytes).decode("utf-8", errors="replace")
    out: dict[str, str] = {}
    chapter = section = ""
    for m in _STRUCT_ID.finditer(html):
        if m.group(2):
            chapter, section = m.group(2), m.group(3) or ""
        elif m.group(4) and chapter:
            out[f"Article {m.group(4)}"] = f"Chapter {chapter}" + (f", Section {section}" if section else "")
    return out
