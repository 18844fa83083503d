"""Reading PDFs with pypdf: plain page text, or lines with their position and font.

Two entry points:

* :func:`read_pdf_pages` returns the text of each page (what pypdf extracts), for
  simple uses and checks.
* :func:`read_pdf_lines` returns, per page, the text lines with the position, font
  size and weight of their first fragment. Fragments set in a clearly smaller font than
  the body (footnote markers, footnote text) are left out of the line text and flagged,
  so a format-specific parser can drop footnotes and page furniture reliably.

Both check the file first and raise :class:`~policy_rag.errors.ParseError` with the
problem and what to do for: an empty file, a file that is not a PDF (e.g. an HTML page
saved under a ``.pdf`` name), a corrupt or truncated PDF, an encrypted PDF, and a PDF
without extractable text (a scan). pypdf's own warnings (hundreds on some files) are
counted and logged once per file instead of flooding the log.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policy_rag.errors import ParseError

log = logging.getLogger(__name__)

# A fragment smaller than this share of the body font size is "small": a footnote
# marker (superscript) or footnote text. Body 12 pt -> markers 5-8 pt, footnotes 8-10 pt.
SMALL_FONT_RATIO = 0.88

# A footnote marker: digits, asterisks, daggers (possibly several: "12, 13").
_MARKER = re.compile(r"^[\s\d,*†‡()]+$")

_GAP = "\x00"  # stands where a footnote marker was cut out, until the line is assembled

_REDOWNLOAD = "Download the file again from its official URL (`policy-rag fetch`)"


@dataclass
class PdfLine:
    """One text line of a PDF page, as pypdf's text extraction lays it out."""

    page: int  # 1-based page number
    text: str  # the line's text without small-font fragments (footnote markers)
    x: float  # position (points, origin bottom left) of the first body-size fragment
    y: float
    size: float  # font size of that fragment (points, after text/CTM scaling)
    bold: bool  # every body-size fragment of the line is in a bold font
    italic: bool  # every body-size fragment of the line is in an italic font
    starts_small: bool  # the line begins with a small fragment (e.g. a footnote number)
    small_text: str = ""  # the small fragments of the line, for parsers that want them

    @property
    def is_small(self) -> bool:
        """The line has only small-font text (footnote text, a stray marker)."""
        return not self.text.strip() and bool(self.small_text.strip())


class _CountingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.count = 0
        self.first = ""

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            self.count += 1
            if not self.first:
                self.first = record.getMessage()


@contextmanager
def _quiet_pypdf(path: Path) -> Iterator[None]:
    """Collect pypdf's warnings while reading one file; log one summary line instead."""
    pypdf_log = logging.getLogger("pypdf")
    handler = _CountingHandler()
    old_level, old_propagate = pypdf_log.level, pypdf_log.propagate
    pypdf_log.addHandler(handler)
    pypdf_log.propagate = False
    pypdf_log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        pypdf_log.removeHandler(handler)
        pypdf_log.setLevel(old_level)
        pypdf_log.propagate = old_propagate
        if handler.count:
            log.info(
                "pypdf reported %d warning(s) while reading %s (first: %s)",
                handler.count,
                path,
                handler.first,
            )


def _sniff(head: bytes) -> str:
    """A short guess of what a non-PDF file is, for the error message."""
    low = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if low.startswith((b"<!doctype html", b"<html")) or b"<html" in low[:1024]:
        return "an HTML page (probably a web or error/login page saved under a .pdf name)"
    if low.startswith(b"<?xml") or low.startswith(b"<"):
        return "an XML/HTML document"
    if low.startswith(b"pk\x03\x04"):
        return "a ZIP archive (maybe a .docx or a zipped download)"
    if low.startswith((b"{", b"[")):
        return "JSON"
    try:
        head.decode("utf-8")
        return "a text file"
    except UnicodeDecodeError:
        return "binary data of an unknown kind"


def check_pdf_file(path: Path) -> bytes:
    """Read the file and check that it plausibly is a complete PDF. Returns its bytes."""
    from . import read_bytes

    data = read_bytes(path)
    if not data:
        raise ParseError(path, "the file is empty (0 bytes)", _REDOWNLOAD + ".")
    if b"%PDF-" not in data[:1024]:
        raise ParseError(
            path,
            f"this is not a PDF (no %PDF header); it looks like {_sniff(data[:2048])}",
            _REDOWNLOAD + " and check that the URL serves the PDF itself, not a landing page.",
        )
    if b"%%EOF" not in data[-2048:]:
        raise ParseError(
            path,
            "the PDF is truncated (no %%EOF marker at its end; the download was probably cut off)",
            _REDOWNLOAD + ".",
        )
    return data


def _open_reader(path: Path) -> Any:
    """A pypdf reader for ``path``, decrypted if it only has an empty user password."""
    import pypdf  # heavy-ish import, only when a PDF is read
    from pypdf.errors import PdfReadError, PyPdfError

    check_pdf_file(path)
    try:
        reader = pypdf.PdfReader(str(path), strict=False)
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, IndexError) as e:
        raise ParseError(path, f"the PDF is corrupt ({type(e).__name__}: {e})", _REDOWNLOAD + ".") from e
    if reader.is_encrypted:
        ok = False
        try:
            ok = bool(reader.decrypt(""))
        except Exception as e:  # DependencyError (AES without `cryptography`), bad handler...
            log.debug("decrypting %s with an empty password failed: %s", path, e)
        if not ok:
            raise ParseError(
                path,
                "the PDF is encrypted (password-protected) and cannot be read",
                "Obtain an unprotected copy from the official URL, or remove the protection "
                "(e.g. `qpdf --decrypt --password=... in.pdf out.pdf`) if you are allowed to.",
            )
    try:
        n = len(reader.pages)
    except Exception as e:
        raise ParseError(path, f"the PDF is corrupt: its page tree cannot be read ({e})", _REDOWNLOAD + ".") from e
    if n == 0:
        raise ParseError(path, "the PDF has no pages", _REDOWNLOAD + ".")
    return reader


def _no_text_error(path: Path, n_pages: int) -> ParseError:
    return ParseError(
        path,
        f"no extractable text on any of its {n_pages} page(s) (a scanned or image-only PDF?)",
        "Run OCR on it first (e.g. `ocrmypdf in.pdf out.pdf`) or use a text version of the document.",
    )


def read_pdf_pages(path: Path | str) -> list[str]:
    """The extracted text of each page (index 0 = page 1).

    Raises ParseError for an empty, non-PDF, corrupt, truncated or encrypted file and for
    a PDF with no extractable text at all.
    """
    path = Path(path)
    with _quiet_pypdf(path):
        reader = _open_reader(path)
        pages: list[str] = []
        for i, page in enumerate(reader.pages):
            try:
                pages.append(page.extract_text() or "")
            except Exception as e:
                raise ParseError(
                    path, f"the PDF is corrupt: page {i + 1} cannot be read ({type(e).__name__}: {e})", _REDOWNLOAD + "."
                ) from e
    if not any(p.strip() for p in pages):
        raise _no_text_error(path, len(pages))
    empty = sum(1 for p in pages if not p.strip())
    if empty:
        log.warning("%s: %d of %d pages have no extractable text", path, empty, len(pages))
    return pages


# --- lines with layout ---------------------------------------------------------------

_Frag = tuple[str, float, float, float, str]  # text, x, y, size, font name


def _page_fragments(page: Any) -> list[_Frag]:
    frags: list[_Frag] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        if not text:
            return
        # Effective size and position: the text matrix scaled by the CTM.
        scale = abs(float(tm[3]) * float(cm[3])) or 1.0
        x = float(tm[4]) * float(cm[0]) + float(cm[4])
        y = float(tm[5]) * float(cm[3]) + float(cm[5])
        name = ""
        if font:
            try:
                name = str(font.get("/BaseFont", "") or "")
            except Exception:
                name = ""
        frags.append((text, x, y, float(size or 0) * scale, name))

    page.extract_text(visitor_text=visit)
    return frags


def _body_size(pages: list[list[_Frag]]) -> float:
    counts: Counter[float] = Counter()
    for frags in pages:
        for text, _x, _y, size, _f in frags:
            if text.strip():
                counts[round(size, 1)] += len(text.strip())
    return counts.most_common(1)[0][0] if counts else 0.0


def _lines_of_page(frags: list[_Frag], page_no: int, body: float) -> list[PdfLine]:
    """Split the page's fragments into lines at the newlines pypdf puts in the text."""
    lines: list[PdfLine] = []
    cur: list[_Frag] = []

    def flush() -> None:
        if not cur:
            return
        small_lim = body * SMALL_FONT_RATIO
        parts: list[str] = []
        small: list[str] = []
        first: _Frag | None = None
        starts_small = False
        seen_any = False
        bold = italic = True
        for f in cur:
            text, _x, _y, size, font = f
            blank = not text.strip()
            if blank:
                parts.append(text)  # spaces pypdf inserted between fragments
                continue
            is_small = 0 < size < small_lim
            if not seen_any:
                starts_small = is_small
                seen_any = True
            if is_small:
                small.append(text)
                if _MARKER.match(text):
                    parts.append(_GAP)  # "Act’)1 entered" -> "Act’) entered"
                else:
                    parts.append(text)  # e.g. a quote mark set in a small font: keep
                continue
            if first is None:
                first = f
            low = font.lower()
            bold = bold and ("bold" in low or "black" in low or "heavy" in low)
            italic = italic and ("italic" in low or "oblique" in low)
            parts.append(text)
        ref = first or next((f for f in cur if f[0].strip()), None)
        if ref is not None:
            # A line with only small text is a footnote (or a stray marker): no body text.
            text = "".join(parts) if first else ""
            # Where a marker was cut out: "years6." -> "years ." -> "years."
            text = re.sub(r"\s*" + _GAP + r"\s*(?=[.,;:!?)\]’”])", "", text).replace(_GAP, " ")
            text = re.sub(r"[ \t\u00a0]+", " ", text).strip()
            lines.append(
                PdfLine(
                    page=page_no,
                    text=text,
                    x=ref[1],
                    y=ref[2],
                    size=ref[3],
                    bold=bold and first is not None,
                    italic=italic and first is not None,
                    starts_small=starts_small,
                    small_text=" ".join(small),
                )
            )
        cur.clear()

    for text, x, y, size, font in frags:
        pieces = text.split("\n")
        for k, piece in enumerate(pieces):
            if k > 0:
                flush()
            if piece:
                cur.append((piece, x, y, size, font))
    flush()
    return lines


def read_pdf_lines(path: Path | str) -> list[list[PdfLine]]:
    """Per page (index 0 = page 1), its text lines with position and font information.

    Raises the same ParseErrors as :func:`read_pdf_pages`.
    """
    path = Path(path)
    with _quiet_pypdf(path):
        reader = _open_reader(path)
        raw: list[list[_Frag]] = []
        for i, page in enumerate(reader.pages):
            try:
                raw.append(_page_fragments(page))
            except Exception as e:
                raise ParseError(
                    path, f"the PDF is corrupt: page {i + 1} cannot be read ({type(e).__name__}: {e})", _REDOWNLOAD + "."
                ) from e
    body = _body_size(raw)
    if body == 0:
        raise _no_text_error(path, len(raw))
    return [_lines_of_page(frags, i + 1, body) for i, frags in enumerate(raw)]


# --- joining lines into running text --------------------------------------------------

# A line that starts a list item keeps its own line: "(i) ...", "(a) ...", "a) ...",
# "1) ...", "- ...", "• ...".
_LIST_ITEM = re.compile(r"^(?:\((?:[ivxlc]+|[a-z]|\d{1,3})\)|(?:[a-z]|\d{1,3}|[ivx]+)\)|[-–•▪●◦]\s)")


def join_lines(lines: list[str]) -> str:
    """Join layout lines into running text.

    A line ending in a hyphen joins the next without a space, keeping the hyphen: in
    these documents a line-final hyphen is a real one ("post-" + "deployment",
    "AI-" + "systemen"); Word does not hyphenate them. List items start a new line.
    Runs of spaces collapse; no blank lines remain.
    """
    out = ""
    for raw in lines:
        line = re.sub(r"\s+", " ", raw).strip()
        if not line:
            continue
        if not out:
            out = line
        elif re.search(r"\w-$", out) and re.match(r"\w", line):
            out += line
        elif _LIST_ITEM.match(line):
            out += "\n" + line
        else:
            out += " " + line
    return out
