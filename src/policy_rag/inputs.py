"""What a person types, made safe to process: normalised, bounded, and refused with a clear message.

Every entry point (CLI, app, a future HTTP API) goes through ``Assistant``, which cleans each
question here before it reaches the tokenizer:

* invisible marks that change nothing a reader sees (zero-width spaces, bidi overrides, a BOM,
  soft hyphens) are removed; line and paragraph separators, tabs and runs of spaces become one
  space; the text is NFC-normalised;
* characters no keyboard produces (NUL and other control characters, terminal escape sequences,
  lone surrogates, which is what undecodable bytes become, U+FFFD, noncharacters) are
  *unreadable*: a few are removed (the answer says how many), a question made of 10% or more
  of them is refused as binary;
* a question longer than ``max_chars`` (after cleaning; ``Settings.max_question_chars``, 2,000)
  is refused, not cut: an answer to half a question would look like an answer to all of it.

``read_lines`` reads questions from a byte stream (``ask -``): one line, one question, whatever the
bytes. UTF-8 is expected; a UTF-16 file with a BOM is decoded as such; a line that is not
UTF-8 but reads as Windows-1252 (Latin-1, as Notepad saves "café") is read so and noted; any
other line is one clear error, as is a line too long to be a question (read in bounded pieces,
so a 50 MB line costs no more memory than a short one).
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from .errors import PolicyRagError
from .prompts import INPUT_ERRORS
from .types import Lang

MAX_QUESTION_CHARS = 2000
# beyond this many characters a text is not cleaned first (cleaning 50 MB costs seconds):
# it is too long whatever cleaning would remove (100,000 spaces before a question are not)
MAX_RAW_CHARS = 1_000_000
ECHO_CHARS = 200  # how much of a bad question an error message repeats

# removed silently: zero-width and joiner marks, bidi embeddings/overrides/isolates, word joiner,
# invisible operators, BOM/ZWNBSP, soft hyphen, Arabic letter mark, Mongolian vowel separator
_INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]+")
# terminal escape sequences (a pasted colour code counts as one unreadable character)
_ANSI = re.compile(r"\x1b(?:\[[0-9;?]{0,32}[ -/]{0,4}[@-~]|\][^\x07\x1b]{0,256}(?:\x07|\x1b\\)?|[@-Z\\-_])")
# unreadable: C0/C1 controls except whitespace, lone surrogates, U+FFFD, U+FFFE/U+FFFF
_UNREADABLE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffd\ufffe\uffff]")
_SPACE = re.compile(r"[\s\u2028\u2029\x85]+")


class InvalidQuestion(PolicyRagError):
    """A question that cannot be processed; the message is in the user's language, ``kind`` names why."""

    def __init__(self, kind: str, lang: Lang = "nl", **kw: object) -> None:
        self.kind = kind
        self.lang = lang
        super().__init__(INPUT_ERRORS[kind][lang].format(**kw))


@dataclass(frozen=True)
class CleanQuestion:
    text: str
    removed: int = 0  # unreadable characters taken out


def _lang(text: str) -> Lang:
    from .lang import detect_language

    return detect_language(text[:500])


def clean_question(question: object, max_chars: int = MAX_QUESTION_CHARS) -> CleanQuestion:
    """The question normalised (see the module text), or InvalidQuestion."""
    if not isinstance(question, str):  # bytes too: decoding is the entry point's job (read_lines)
        raise InvalidQuestion("binary")
    if len(question) > max(MAX_RAW_CHARS, max_chars):
        head = safe_text(question[:500])
        raise InvalidQuestion("too_long", _lang(head), n=len(question), max=max_chars)
    text = _INVISIBLE.sub("", question)
    text, n_ansi = _ANSI.subn("\x00", text)
    text = _SPACE.sub(" ", text).strip()
    readable = _UNREADABLE.sub("", text)
    bad = len(text) - len(readable)
    if not readable.strip():
        raise InvalidQuestion("binary" if bad else "empty")
    if bad and bad * 10 >= len(text.replace(" ", "")):
        raise InvalidQuestion("binary", _lang(readable))
    text = unicodedata.normalize("NFC", _SPACE.sub(" ", readable).strip())
    if len(text) > max_chars:
        raise InvalidQuestion("too_long", _lang(text), n=len(text), max=max_chars)
    return CleanQuestion(text, bad)


def validate_question(question: object, max_chars: int = MAX_QUESTION_CHARS) -> str:
    """The cleaned question; InvalidQuestion (a message in the user's language) for empty, huge or binary input."""
    return clean_question(question, max_chars).text


def safe_text(text: str) -> str:
    """``text`` with lone surrogates replaced, so that it can always be written as UTF-8."""
    return text.encode("utf-8", "replace").decode("utf-8") if _has_surrogates(text) else text


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


def echo(text: str, limit: int = ECHO_CHARS) -> str:
    """What an error line repeats of a question: at most ``limit`` characters, always valid UTF-8."""
    text = safe_text(text)
    return text if len(text) <= limit else text[:limit] + f"… ({len(text):,} characters)"


# --------------------------------------------------------------------------- reading lines

MAX_LINE_BYTES = 64 * 1024  # a question of 2,000 characters is at most 8 kB of UTF-8
_CHUNK = 1 << 20
_CONTINUATION = [bytes([b]) for b in range(0x80, 0xC0)]
# non-ASCII bytes that Windows-1252 maps to letters and punctuation a Dutch or English text uses
_CP1252_TEXT = frozenset(range(0xA0, 0x100)) | {0x80, 0x85, 0x91, 0x92, 0x93, 0x94, 0x96, 0x97}


def _n_chars(chunk: bytes) -> int:
    """How many characters UTF-8 bytes hold (bytes that do not continue a character)."""
    return len(chunk) - sum(chunk.count(b) for b in _CONTINUATION)


def decode_line(raw: bytes) -> tuple[str, str]:
    """(text, note): UTF-8, else Windows-1252 when the line reads as such (note says so); else
    InvalidQuestion("encoding") naming the first bad byte."""
    try:
        return raw.decode("utf-8"), ""
    except UnicodeDecodeError as e:
        err = e
    high = [b for b in raw if b >= 0x80]
    if len(high) * 5 <= len(raw) and all(b in _CP1252_TEXT for b in high):
        return raw.decode("cp1252"), "cp1252"
    head = raw[: err.start].decode("utf-8", "replace")
    raise InvalidQuestion("encoding", _lang(head) if head.strip() else "nl",
                          byte=f"0x{raw[err.start]:02x}", pos=err.start + 1)


@dataclass
class Line:
    """One line of a question stream: its number and either the text or the reason it cannot be read."""

    number: int
    text: str = ""
    error: InvalidQuestion | None = None
    note: str = ""  # "cp1252": not UTF-8, read as Windows-1252


def _raw_lines(stream: BinaryIO, max_bytes: int) -> Iterator[tuple[bytes, int]]:
    """(line without its end, characters beyond max_bytes that were skipped: 0 if none)."""
    while True:
        line = stream.readline(max_bytes + 1)
        if not line:
            return
        if len(line) <= max_bytes or line.endswith(b"\n"):
            yield line.rstrip(b"\r\n"), 0
            continue
        skipped = _n_chars(line)
        while True:  # a line too long to be a question: count it, keep none of it
            part = stream.readline(_CHUNK)
            if not part:
                break
            skipped += _n_chars(part.rstrip(b"\r\n"))
            if part.endswith(b"\n"):
                break
        yield line[:max_bytes], skipped


def read_lines(stream: BinaryIO, max_chars: int = MAX_QUESTION_CHARS,
               max_bytes: int = MAX_LINE_BYTES) -> Iterator[Line]:
    """The non-blank lines of a byte stream, numbered from 1, each decoded or with its error."""
    import io

    buffered: Any = stream if hasattr(stream, "peek") else io.BufferedReader(stream)
    stream = buffered
    if buffered.peek(2)[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        yield from _utf16_lines(stream.read(), max_chars)
        return
    for n, (raw, skipped) in enumerate(_raw_lines(stream, max_bytes), 1):
        if n == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
        if skipped:
            text = raw.decode("utf-8", "replace")
            yield Line(n, echo(text, 60), InvalidQuestion("too_long", _lang(text), n=skipped, max=max_chars))
            continue
        if not raw.strip():
            continue
        try:
            text, note = decode_line(raw)
        except InvalidQuestion as e:
            yield Line(n, raw.decode("utf-8", "replace"), e)
            continue
        yield Line(n, text, None, note)


def _utf16_lines(data: bytes, max_chars: int) -> Iterator[Line]:
    try:
        text = data.decode("utf-16")
    except UnicodeDecodeError as e:
        yield Line(1, "", InvalidQuestion("encoding", "nl", byte=f"0x{data[e.start]:02x}", pos=e.start + 1))
        return
    for n, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if line.strip():
            yield Line(n, line)
