"""Commission web pages saved as plain text ("page-text") or Markdown ("page-markdown").

A page becomes one Block per section: the page title with its introduction, then one
per heading, in order ("Section 1", "Section 2", ...; empty sections, i.e. a heading
directly followed by a sub-heading, are skipped and the numbering counts only emitted
blocks). Long sections are NOT split here: chunking splits blocks that are too long.

Cleaning removes what a reader of the page does not read as its content:

* site furniture: "Skip to main content", the site name, the language menu, the main
  menu and breadcrumbs (everything before the page title, in Markdown the first H1),
  the in-page table of contents, "Print as PDF";
* everything from the first end-of-content marker on: "Laatste nieuws" / "Latest news",
  "Gerelateerde inhoud" / "Related content", "Quick links", "Last update", "Zoek verder",
  the eTranslation notice, "Source URL", the copyright line;
* Markdown syntax: links are reduced to their text (including this corpus's duplicated
  form "[text](url) (<url>)" and "[text \\(url\\)](url)"), bare and bracketed URLs and
  images are dropped, emphasis and escapes are removed, "*" bullets become "- ".
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from policy_rag.errors import ParseError
from policy_rag.types import Block, Document, Source

log = logging.getLogger(__name__)

# Lines that are page furniture wherever they appear (compared case-insensitively,
# after stripping; apostrophes normalised).
FURNITURE_LINES = frozenset(
    s.lower()
    for s in (
        "Skip to main content",
        "De digitale toekomst van Europa vormgeven",
        "Shaping Europe's digital future",
        "Print as PDF",
        "Afdrukken als pdf",
        "Share this page",
        "Deze pagina delen",
        "Menu",
        "Search",
        "Zoeken",
        "Close",
        "Sluiten",
        "Back to top",
        "Naar boven",
        "Page contents",
        "Inhoud van de pagina",
    )
)

# A heading or line that starts the end-of-page furniture: everything from it on is dropped.
END_MARKERS = frozenset(
    s.lower()
    for s in (
        "Laatste nieuws",
        "Latest news",
        "Gerelateerde inhoud",
        "Related content",
        "Quick links",
        "Snelkoppelingen",
        "Last update",
        "Laatste update",
        "Laatst bijgewerkt",
        "Zoek verder",
        "Browse further",
        "See also",
    )
)
_END_PREFIXES = (
    "dit is een machinevertaling",
    "this is a machine translation",
    "source url:",
    "© european union",
)

_WS = re.compile(r"[ \t\u00a0]+")


@dataclass
class _Section:
    level: int  # 1 = page title, 2.. = headings below it
    heading: str
    path: list[str] = field(default_factory=list)  # headings above it (level >= 2 only)
    paragraphs: list[str] = field(default_factory=list)


def _norm(s: str) -> str:
    return _WS.sub(" ", s.replace("’", "'")).strip().lower()


def _is_furniture(line: str) -> bool:
    return _norm(line) in FURNITURE_LINES


def _is_end(line: str) -> bool:
    n = _norm(line.lstrip("#").strip(" *"))
    return n in END_MARKERS or n.startswith(_END_PREFIXES)


# --- plain text ---------------------------------------------------------------------

_LIST_LINE = re.compile(r"^\s*(?:[-•▪*–]|\d{1,2}[.)]|[a-z][.)])\s")


def _looks_like_heading(par: list[str]) -> bool:
    """A one-line paragraph, short, without closing punctuation: a heading of the page."""
    if len(par) != 1:
        return False
    line = par[0].strip()
    return (
        0 < len(line) <= 100
        and len(line.split()) <= 12
        and not re.search(r"[.:;,!?]$", line)
        and not _LIST_LINE.match(par[0])
        and (line[0].isupper() or line[0].isdigit())
    )


def _paragraphs(lines: list[str]) -> list[list[str]]:
    pars: list[list[str]] = []
    cur: list[str] = []
    for line in lines:
        if line.strip():
            cur.append(line.rstrip())
        elif cur:
            pars.append(cur)
            cur = []
    if cur:
        pars.append(cur)
    return pars


def _clean_par(par: list[str]) -> str:
    """A paragraph's lines: whitespace collapsed, one line per source line (keeps lists)."""
    out = []
    for line in par:
        line = _WS.sub(" ", line).strip()
        line = re.sub(r"^[•▪●◦]\s*", "- ", line)
        if line:
            out.append(line)
    return "\n".join(out)


def parse_page_text(path: Path | str, source: Source) -> Document:
    """Parse a web page saved as plain text into one ``page`` Block per section."""
    from policy_rag.parse import read_text_file

    path = Path(path)
    lines = read_text_file(path).split("\n")
    kept: list[str] = []
    for line in lines:
        if _is_end(line) and kept:
            break
        kept.append("" if _is_furniture(line) else line)
    sections: list[_Section] = []
    for par in _paragraphs(kept):
        if _looks_like_heading(par):
            heading = _WS.sub(" ", par[0]).strip()
            sections.append(_Section(1 if not sections else 2, heading))
        else:
            if not sections:
                sections.append(_Section(1, source.title))
            sections[-1].paragraphs.append(_clean_par(par))
    return _document(path, source, sections)


# --- markdown -----------------------------------------------------------------------

# Link text and URLs never contain "[" (nor a URL "("): each match attempt then stops at the next
# bracket, so cleaning is linear in the text's length (with "[^\]]*" a 120 KB run of nested
# "[" / "](" took 50 s: every "[" scanned to the end of the text).
_IMAGE = re.compile(r"!\[[^\[\]]*\]\([^()\[]*\)", re.S)
_PAREN_URL_LINK = re.compile(r"\(\s*\[(?:https?:|mailto:)[^\[\]]*\]\([^()\[]*\)\s*\)")  # ([url](url))
_PAREN_ANGLE_URL = re.compile(r"\(\s*<[^<>\s]+>\s*\)")  # (<url>)
_LINK_WITH_URL_TEXT = re.compile(r"\[([^\[\]\\]*?)\s*\\\((?:https?:|mailto:)(?:[^\[\]\\]|\\(?!\)))*\\\)\s*\]\([^()\[]*\)")
_LINK = re.compile(r"\[([^\[\]]*)\]\([^()\[]*\)")
_ANGLE_URL = re.compile(r"<(?:https?:|mailto:)[^<>\s]+>")
_BARE_URL_PAREN = re.compile(r"\(\s*(?:https?:|mailto:)[^()\s]+\s*\)")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|&<>])")
# "## Heading ##": the closing hashes are stripped in code (``_atx_text``); as "(.*?)\s*#*\s*$" the
# pattern took cubic time on a heading line ending in a long run of spaces
_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.*)$")


def _atx_text(rest: str) -> str:
    """A heading's text without its trailing whitespace and closing hashes."""
    return rest.rstrip().rstrip("#").rstrip()

_ANCHOR_LINK = re.compile(r"\]\(#")  # in-page links: table of contents, "skip to"
# A list item or numbered item that is nothing but a link: a menu, breadcrumbs, a language menu.
_LINK_ONLY_ITEM = re.compile(r"^\s*(?:[*+-]|\d{1,2}\.)\s+\[[^\]]*\]\([^)]*\)\s*$")


def _setext_to_atx(lines: list[str]) -> list[str]:
    out: list[str] = []
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and not line.lstrip().startswith(("*", "-", "#", "|")):
            if re.match(r"^=+\s*$", nxt):
                out.append("# " + line.strip())
                continue
            if re.match(r"^-{3,}\s*$", nxt):
                out.append("## " + line.strip())
                continue
        if re.match(r"^(=+|-{3,})\s*$", line) and out and out[-1].startswith("#"):
            continue  # the underline of a setext heading just converted
        out.append(line)
    return out


def _clean_markdown_inline(text: str) -> str:
    text = _IMAGE.sub("", text)
    text = _PAREN_URL_LINK.sub("", text)
    text = _PAREN_ANGLE_URL.sub("", text)
    text = _LINK_WITH_URL_TEXT.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _ANGLE_URL.sub("", text)
    text = _BARE_URL_PAREN.sub("", text)
    return text


def _clean_markdown_line(line: str) -> str:
    line = re.sub(r"^\s*[*+]\s+", "- ", line)  # bullets
    line = re.sub(r"\*\*|__", "", line)  # bold
    line = re.sub(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])", r"\1", line)  # italics
    line = _ESCAPE.sub(r"\1", line)
    line = _WS.sub(" ", line).strip()
    line = re.sub(r"\s+([,.;:])", r"\1", line)  # "AI-pact ," left by a removed link
    return line


def parse_page_markdown(path: Path | str, source: Source) -> Document:
    """Parse a web page saved as Markdown into one ``page`` Block per section."""
    from policy_rag.parse import read_text_file

    path = Path(path)
    raw = read_text_file(path)
    lines = _setext_to_atx(raw.split("\n"))
    # The content starts at the page title (first H1); navigation, language menu and
    # breadcrumbs come before it.
    start = next((i for i, ln in enumerate(lines) if re.match(r"^\s{0,3}#\s", ln)), 0)
    lines = [ln for ln in lines[start:] if not (_ANCHOR_LINK.search(ln) or _LINK_ONLY_ITEM.match(ln))]
    text = _clean_markdown_inline("\n".join(lines))

    sections: list[_Section] = []
    stack: list[tuple[int, str]] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            if not sections:
                sections.append(_Section(1, source.title))
            sections[-1].paragraphs.extend(p for p in (_clean_par(par) for par in _paragraphs(buf)) if p)
            buf.clear()

    for line in text.split("\n"):
        m = _ATX.match(line)
        heading = _clean_markdown_line(_atx_text(m.group(2))) if m else ""
        if _is_end(heading if m else _clean_markdown_line(line)) and (sections or buf):
            break
        if m and not heading:
            continue  # an empty heading ("#")
        if m:
            flush()
            level = len(m.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            sec = _Section(level if sections else 1, heading, path=[h for lv, h in stack if lv > 1])
            stack.append((level, heading))
            sections.append(sec)
            continue
        clean = _clean_markdown_line(line)
        buf.append("" if _is_furniture(clean) or re.match(r"^-{3,}$", clean) else clean)
    flush()
    return _document(path, source, sections)


# --- shared -------------------------------------------------------------------------

MAX_SECTIONS = 999  # the largest number a "Section N" provision id can hold (legal.py)


def _document(path: Path, source: Source, sections: list[_Section]) -> Document:
    blocks: list[Block] = []
    for sec in sections:
        body = "\n".join(p for p in sec.paragraphs if p.strip())
        body = re.sub(r"\n{2,}", "\n", body).strip()
        if not body:
            continue
        n = len(blocks) + 1
        if n > MAX_SECTIONS:
            raise ParseError(
                path,
                f"the page has more than {MAX_SECTIONS} sections with text (headings); a page's sections are "
                f"cited as 'Section 1' ... 'Section {MAX_SECTIONS}'",
                "Check that this is the policy page itself (not a generated or concatenated file), "
                "or split it into several manifest rows.",
            )
        blocks.append(
            Block(
                provision=f"Section {n}",
                label=sec.heading,
                title=" — ".join([*sec.path, sec.heading]),
                text=body,
                kind="page",
                anchor="",
            )
        )
    if not blocks:
        raise ParseError(
            path,
            "no text left after removing page furniture (menus, links, footer)",
            "Check that the file holds the page's content (not an empty, redirect or cookie page) "
            "and fetch it again if needed.",
        )
    log.info("%s: %d sections", path, len(blocks))
    return Document(source=source, blocks=blocks)
