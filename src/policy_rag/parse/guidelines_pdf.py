"""Commission guidelines PDFs (C(2025) 5052, C(2025) 5053): one Block per numbered paragraph.

The layout both documents share (Commission "PDF CoDe" from Word):

* a title page, then (5052 only) a table of contents on pages with roman page numbers;
* numbered paragraphs "(1)" ... "(433)" whose number sits at the left margin;
* bold numbered headings ("2.3. Material scope ...", "I. Purpose of the Guidelines",
  wrapping onto bold continuation lines) and bold(-italic) sub-headings without a
  number ("a) Subliminal techniques", "Scenario 1: ...", "Basic data processing");
* footnotes at the page bottom and footnote markers in a smaller font, the page
  number in the footer.

Footnotes and markers are recognised by font size (see :mod:`.pdf`) and dropped. The
title page and the table of contents are skipped because nothing counts before
paragraph (1). Text between a heading and the first paragraph after it (typically
"Article 5(1)(a) AI Act provides:" and the quoted provision) becomes that paragraph's
``context``, so it is neither lost nor mixed into the paragraph's own words.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from policy_rag.errors import ParseError
from policy_rag.parse.pdf import PdfLine, join_lines, read_pdf_lines
from policy_rag.types import Block, Document, Source

log = logging.getLogger(__name__)

_PARA = re.compile(r"^\((\d{1,4})\)\s*")
_NUM_HEADING = re.compile(r"^(\d{1,2}(?:\.\d{1,2})*)\.?\s+\S")  # "2.", "2.3.", "10.2.2.1."
_ROMAN_HEADING = re.compile(r"^([IVX]{1,5})\.\s+\S")  # "II. Objective ..."
_LETTER_HEADING = re.compile(r"^[a-z]\)\s")  # "a) Subliminal techniques"
_PAGE_NUMBER = re.compile(r"^(?:\d{1,4}|[IVXLC]{1,6})$")
_FOOTER_Y = 70.0  # points from the page bottom: page numbers sit below this
_SUB = 99  # level of unnumbered sub-headings
_MAX_GAP = 3


@dataclass
class _PdfText:
    page: int
    text: str


@dataclass
class _Item:
    """A numbered paragraph, or (number None) text under a heading outside any paragraph."""

    number: int | None
    page: int
    title: str
    section: str = ""  # number of the nearest numbered heading ("10.8"), for unnumbered text
    lines: list[str] = field(default_factory=list)
    context: list[str] = field(default_factory=list)


def _heading_level(text: str) -> int | None:
    """Nesting level of a bold heading line, or None if it is not a numbered heading."""
    if _ROMAN_HEADING.match(text):
        return 0
    m = _NUM_HEADING.match(text)
    if m:
        return m.group(1).count(".") + 1
    return None


def _heading_number(text: str) -> str:
    m = _ROMAN_HEADING.match(text) or _NUM_HEADING.match(text)
    return m.group(1) if m else ""


def _is_bold_line(line: PdfLine) -> bool:
    return line.bold and bool(line.text)


def parse_guidelines_pdf(path: Path | str, source: Source) -> Document:
    """Parse a Commission guidelines PDF into one ``guideline`` Block per numbered paragraph."""
    path = Path(path)
    pages = read_pdf_lines(path)
    lines = [
        ln
        for page in pages
        for ln in page
        if ln.text and not (ln.y < _FOOTER_Y and _PAGE_NUMBER.match(ln.text))
    ]
    # The left margin where paragraph numbers sit: the x of the first "(1)" line.
    start = next((i for i, ln in enumerate(lines) if ln.text.startswith("(1)") and not ln.bold), None)
    if start is None:
        raise ParseError(
            path,
            "no numbered paragraph '(1)' was found; this does not look like a Commission guidelines PDF",
            f"Check the file and the `format` of source {source.id!r} in corpus/sources.toml.",
        )
    margin = lines[start].x
    # Headings above paragraph (1) on its page belong to it: start at the page's top.
    start_page = lines[start].page
    while start > 0 and lines[start - 1].page == start_page:
        start -= 1

    items: list[_Item] = []
    stack: list[tuple[int, str]] = []  # (level, heading text): the heading path
    pending: list[_PdfText] = []  # text after a heading, before the next paragraph
    cur: _Item | None = None  # the open paragraph (None after a heading)
    last_number = 0
    warnings: list[str] = []

    def title() -> str:
        return " — ".join(h for _, h in stack)

    def flush_pending_as_section() -> None:
        """Text under a heading with no numbered paragraph after it: a block of its own."""
        if not pending:
            return
        # the nearest decimal-numbered heading ("10.8"); a roman one ("II.") is no section number
        section = next((n for _, h in reversed(stack) if (n := _heading_number(h))[:1].isdigit()), "")
        items.append(
            _Item(None, pending[0].page, title(), section=section or "0", lines=[p.text for p in pending])
        )
        pending.clear()

    i = start
    while i < len(lines):
        ln = lines[i]
        m = _PARA.match(ln.text)
        expected = last_number + 1
        # A paragraph number at the margin (some are set a few points further in), in
        # sequence; a gap of up to _MAX_GAP numbers is tolerated and reported.
        if m and not ln.bold and -4 < ln.x - margin < 16 and expected <= int(m.group(1)) <= expected + _MAX_GAP:
            number = int(m.group(1))
            if number != expected:
                warnings.append(f"paragraph(s) {expected}-{number - 1} not found (before page {ln.page})")
            cur = _Item(number, ln.page, title(), lines=[ln.text[m.end():]], context=[p.text for p in pending])
            items.append(cur)
            pending.clear()
            last_number = number
            i += 1
            continue
        level = _heading_level(ln.text) if _is_bold_line(ln) else -1
        if level is None and not (abs(ln.x - margin) < 4 or _LETTER_HEADING.match(ln.text)):
            # A bold line that is not a heading ("Article 5(1)(a) AI Act provides:",
            # a table header): ordinary text.
            level = -1
        if level != -1:
            text = ln.text
            # Bold continuation lines right below (a heading wrapped over 2-3 lines).
            while (
                i + 1 < len(lines)
                and _is_bold_line(lines[i + 1])
                and lines[i + 1].page == ln.page
                and 0 < ln.y - lines[i + 1].y < 1.6 * ln.size
                and lines[i + 1].x > margin + 4
                and not _LETTER_HEADING.match(lines[i + 1].text)
            ):
                i += 1
                ln = lines[i]
                text = join_lines([text, ln.text])
            flush_pending_as_section()
            lvl = _SUB if level is None else level
            while stack and stack[-1][0] >= lvl:
                stack.pop()
            stack.append((lvl, text))
            cur = None  # a heading ends the paragraph; what follows is context or a section
            i += 1
            continue
        # Ordinary text: part of the open paragraph, or held until we know what follows.
        if cur is not None:
            cur.lines.append(ln.text)
        else:
            pending.append(_PdfText(ln.page, ln.text))
        i += 1
    flush_pending_as_section()

    blocks: list[Block] = []
    seen: dict[str, int] = {}
    for it in items:
        if it.number is not None:
            provision, label = f"Paragraph {it.number}", f"para. {it.number}"
        else:
            provision, label = f"Section {it.section}", f"section {it.section}"
            seen[provision] = seen.get(provision, 0) + 1
            if seen[provision] > 1:  # two unnumbered stretches under one heading: one provision,
                label += f" ({seen[provision]})"  # and chunking gives the second the id "sec-N-2"
            log.info("%s: text outside numbered paragraphs kept as %s (page %d)", path, provision, it.page)
        blocks.append(
            Block(
                provision=provision,
                label=label,
                title=it.title,
                text=join_lines(it.lines),
                kind="guideline",
                anchor=f"page={it.page}",
                context=join_lines(it.context),
            )
        )
    if not blocks:
        raise ParseError(path, "no numbered paragraphs were found", "Check the file.")
    for w in warnings:
        log.warning("%s: %s", path, w)
    log.info("%s: %d blocks (%d numbered paragraphs)", path, len(blocks), sum(it.number is not None for it in items))
    return Document(source=source, blocks=blocks, warnings=warnings)

