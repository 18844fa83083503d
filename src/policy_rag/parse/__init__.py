"""Parsers: one module per source format, each turning a file into a Document of Blocks.

``parse_source(path, source)`` picks the parser from ``source.format`` (the manifest's
``format`` field). Parsers are imported when used, so importing this package is cheap
and a missing optional parser only matters for the format that needs it.

Every parser raises :class:`~policy_rag.errors.ParseError` (file, problem, what to do)
for input it cannot read; ingestion reports it, skips the file and goes on.
"""

from __future__ import annotations

import codecs
import logging
import re
import stat
from collections.abc import Callable
from importlib import import_module
from pathlib import Path

from policy_rag.errors import ParseError
from policy_rag.types import Document, Source

log = logging.getLogger(__name__)

# format -> (module under policy_rag.parse, function name). Imported lazily.
PARSERS: dict[str, tuple[str, str]] = {
    "eurlex-html": ("eurlex_html", "parse_eurlex_html"),
    "guidelines-pdf": ("guidelines_pdf", "parse_guidelines_pdf"),
    "omnibus-pdf": ("omnibus_pdf", "parse_omnibus_pdf"),
    "page-text": ("page", "parse_page_text"),
    "page-markdown": ("page", "parse_page_markdown"),
}

__all__ = ["PARSERS", "parse_source", "read_text_file"]


def _parser_for(path: Path, source: Source) -> Callable[[Path, Source], Document]:
    entry = PARSERS.get(source.format)
    if entry is None:
        raise ParseError(
            path,
            f"unknown format {source.format!r} for source {source.id!r}",
            f"Known formats: {', '.join(sorted(PARSERS))}. Fix `format` in corpus/sources.toml.",
        )
    module_name, func_name = entry
    try:
        module = import_module(f"policy_rag.parse.{module_name}")
    except ModuleNotFoundError as e:
        raise ParseError(
            path,
            f"the parser for format {source.format!r} (policy_rag.parse.{module_name}) is not available ({e})",
            "Update policy-rag or install its dependencies (`make setup`).",
        ) from e
    func: Callable[[Path, Source], Document] = getattr(module, func_name)
    return func


DEFAULT_MAX_BYTES = 200 * 1024 * 1024  # the default of POLICY_RAG_MAX_SOURCE_MB


def check_readable(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> int:
    """The size of ``path``, or a ParseError if it is not a regular file or is larger than ``max_bytes``.

    Checked before any read: a device (/dev/zero), a FIFO or a folder would hang or fail a reader.
    """
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ParseError(path, "the file does not exist",
                         "Run `policy-rag fetch` (or check --mirror) to bring the corpus files in place.") from None
    except OSError as e:
        raise ParseError(path, f"the file cannot be opened ({e.strerror})", "Check its permissions.") from None
    if not stat.S_ISREG(st.st_mode):
        what = "a folder" if stat.S_ISDIR(st.st_mode) else "a device, FIFO or socket"
        raise ParseError(path, f"this is not a regular file but {what}",
                         "Point `path` in corpus/sources.toml at the document file.")
    if st.st_size > max_bytes:
        raise ParseError(path, f"the file is {st.st_size / 1e6:.0f} MB, over the limit of {max_bytes / 1e6:.0f} MB",
                         "Check that this is the right file, or raise POLICY_RAG_MAX_SOURCE_MB.")
    return st.st_size


def parse_source(path: Path | str, source: Source, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Document:
    """Parse the file ``path`` of manifest row ``source`` with the parser its format names."""
    path = Path(path)
    check_readable(path, max_bytes)
    parser = _parser_for(path, source)
    doc = parser(path, source)
    log.debug("%s: %d blocks (%s)", path, len(doc.blocks), source.format)
    return doc


# Text that was UTF-8 decoded as Latin-1/cp1252 and saved again ("Ã©" for "é",
# "â€™" for "’"). Never legitimate in Dutch or English policy text.
_MOJIBAKE = re.compile(r"Ã[\u0080-\u00bf©«¨¯ª¶¼½¾]|â€[\u0080-\u00bf™œ“”˜]|Â[\u00a0-\u00bf]")

_CONVERT_HINT = "Convert it to UTF-8 (e.g. `iconv -f {enc} -t UTF-8 in > out`) or fetch the original again."


def read_bytes(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of a source file (a regular file of at most ``max_bytes``), or a ParseError saying why not."""
    check_readable(path, max_bytes)
    try:
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise ParseError(path, f"the file grew over the limit of {max_bytes / 1e6:.0f} MB while being read",
                             "Check the file, or raise POLICY_RAG_MAX_SOURCE_MB.")
        return data
    except FileNotFoundError:
        raise ParseError(path, "the file does not exist", "Check the path, or run `policy-rag fetch`.") from None
    except OSError as e:
        raise ParseError(path, f"the file cannot be opened ({e.strerror})", "Check its permissions.") from e


def read_text_file(path: Path | str) -> str:
    """The contents of a UTF-8 text file (a BOM is allowed and removed), newlines normalised.

    Anything else raises ParseError saying what the file seems to be and what to do:
    UTF-16/UTF-32 (recognised by their BOM), binary data, or bytes that are not UTF-8
    (e.g. Windows-1252). Text is never decoded with a guessed 8-bit encoding, and
    already-garbled text ("Ã©", "â€™") is refused rather than indexed.
    """
    path = Path(path)
    data = read_bytes(path)

    for bom, enc in (
        (codecs.BOM_UTF32_LE, "UTF-32"),
        (codecs.BOM_UTF32_BE, "UTF-32"),
        (codecs.BOM_UTF16_LE, "UTF-16"),
        (codecs.BOM_UTF16_BE, "UTF-16"),
    ):
        if data.startswith(bom):
            raise ParseError(
                path,
                f"unknown encoding / not text (binary?): the file is {enc}-encoded, not UTF-8",
                _CONVERT_HINT.format(enc=enc),
            )
    if b"\x00" in data[:8192]:
        raise ParseError(
            path,
            "unknown encoding / not text (binary?): it contains NUL bytes (binary data, or UTF-16 without a BOM)",
            "Check that this is the right file; a text source must be saved as UTF-8.",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ParseError(
            path,
            f"unknown encoding / not text (binary?): it is not valid UTF-8 "
            f"(byte 0x{data[e.start]:02x} at offset {e.start}; perhaps Windows-1252/Latin-1)",
            _CONVERT_HINT.format(enc="WINDOWS-1252"),
        ) from None
    bad = _MOJIBAKE.search(text)
    if bad:
        raise ParseError(
            path,
            f"the text is garbled (mojibake such as {bad.group(0)!r}: UTF-8 that was decoded with the wrong encoding)",
            "Fetch the original file again instead of a re-saved copy.",
        )
    return text.replace("\r\n", "\n").replace("\r", "\n")
