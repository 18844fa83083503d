"""The short answer (the verdict) and the shape of every answer.

An answer reads, in the question's language and for every backend:

1. a verdict line where the question asks for one: "Ja" / "Nee" / "Ja, onder voorwaarden" /
   "Nee, behalve ..." / "De bronnen zeggen het niet" (English likewise), or the date or
   amount asked for;
2. one or two sentences stating the rule with its conditions and exceptions, each cited [n];
3. the decisive quote(s), verbatim.

Here: what kind of answer a question asks for (:func:`question_kind`), the verdict a quote
supports (:func:`derive`), whether a model's verdict contradicts it (:func:`reconcile`), the
verdict line (:func:`line`), the JSON schema the LLM writes to and the parser that reads its
stream (:class:`JsonAnswer`). ``Answer.verdict`` holds the code ("yes", "no", "yes-if",
"no-unless", "not-in-sources") or the date/amount itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

from . import meaning
from .types import Citation, Lang

CODES = ("yes", "no", "yes-if", "no-unless", "not-in-sources")
YES_SIDE = {"yes", "yes-if"}
NO_SIDE = {"no", "no-unless"}

LABELS: dict[Lang, dict[str, str]] = {
    "nl": {"yes": "Ja", "no": "Nee", "yes-if": "Ja, onder voorwaarden", "no-unless": "Nee, behalve",
           "not-in-sources": "De bronnen zeggen het niet"},
    "en": {"yes": "Yes", "no": "No", "yes-if": "Yes, under conditions", "no-unless": "No, except",
           "not-in-sources": "The sources do not say"},
}
SHORT_ANSWER: dict[Lang, str] = {"nl": "Kort antwoord", "en": "Short answer"}  # its heading in the app
UNLESS_FALLBACK: dict[Lang, str] = {"nl": "in de uitzonderingen hieronder", "en": "in the cases below"}
HIGHER: dict[Lang, str] = {"nl": "als dat hoger is", "en": "whichever is higher"}
LOWER: dict[Lang, str] = {"nl": "als dat lager is", "en": "whichever is lower"}
OR: dict[Lang, str] = {"nl": "of", "en": "or"}

_Q_SENT = re.compile(r"[^.!?]*\?")
_DATE_Q = re.compile(
    r"\b(vanaf\s+wanneer|tot\s+wanneer|per\s+wanneer|wanneer|welke\s+datum|op\s+welke\s+datum|sinds\s+wanneer|"
    r"uiterlijk\s+wanneer|from\s+when|since\s+when|until\s+when|by\s+when|when|what\s+date|which\s+date|"
    r"deadline)\b", re.I)
_AMOUNT_Q = re.compile(
    r"\b(hoeveel|hoe\s+hoog|maximale\s+boete|hoogste\s+boete|hoogte\s+van\s+de\s+boete|welke\s+boete|"
    r"how\s+much|how\s+high|how\s+large|maximum\s+fine|highest\s+fine|amount\s+of\s+the\s+fine|what\s+fine|"
    r"which\s+fine)\b", re.I)
_YN_NL = {"mag", "mogen", "moet", "moeten", "is", "zijn", "kan", "kunnen", "valt", "vallen", "geldt", "gelden",
          "heb", "hebben", "heeft", "wordt", "worden", "ben", "hoef", "hoeft", "hoeven", "krijg", "krijgt",
          "krijgen", "zal", "zullen", "dient", "dienen", "vereist", "bestaat", "bestaan", "staat",
          "telt", "tellen", "word", "blijft", "blijven", "zit", "vind", "vindt", "verbiedt", "verplicht"}
_YN_EN = {"can", "may", "must", "do", "does", "did", "is", "are", "am", "should", "shall", "have", "has", "will",
          "would", "could", "need", "might", "was", "were"}
_ASKS_PROHIBITED = re.compile(r"\b(verboden|verbod|illegaal|prohibited|banned|forbidden|illegal)\b", re.I)
_ASKS_OBLIGATION = re.compile(
    r"\b(moet|moeten|hoef|hoeft|hoeven|verplicht\w*|dient|dienen|must|required|obliged|obligation|need\s+to|"
    r"needs\s+to|have\s+to|has\s+to|should|shall)\b", re.I)
_ASKS_PERMISSION = re.compile(
    r"\b(mag|mogen|toegestaan|toegelaten|kan|kunnen|legaal|allowed|permitted|may|can|legal|lawful)\b", re.I)


def question_kind(question: str) -> str:
    """"yesno", "date", "amount", or "" (an open question: what, who, which, how)."""
    qs = _Q_SENT.findall(question)
    q = (qs[-1] if qs else question).strip()
    if _AMOUNT_Q.search(q):
        return "amount"
    if _DATE_Q.search(q):
        return "date"
    words = re.findall(r"[^\W\d_]+", q.lower())
    while words and words[0] in ("en", "dus", "maar", "and", "so", "but", "ok", "oké", "also", "ook"):
        words = words[1:]
    if words and (words[0] in _YN_NL or words[0] in _YN_EN):
        return "yesno"
    return ""


def _question_sentence(question: str) -> str:
    qs = _Q_SENT.findall(question)
    return (qs[-1] if qs else question).strip()


def derive_yesno(question: str, quote: str, context: str = "") -> str:
    """The yes/no verdict ``quote`` (with its lead-in ``context``) gives to ``question``, from
    their deontic words; "" when it cannot be told."""
    q = _question_sentence(question)
    src = meaning.polarity(f"{context} {quote}")
    exc = meaning.polarity(quote).exception
    prohibits = src.prohibited and not src.not_prohibited
    permits = src.not_prohibited or (src.allowed and not src.prohibited)
    if _ASKS_PROHIBITED.search(q):
        if prohibits:
            return "yes-if" if exc else "yes"
        if permits:
            return "no"
        return ""
    if _ASKS_OBLIGATION.search(q):
        if src.no_obligation:
            return "no"
        if src.obligation:
            return "yes-if" if exc else "yes"
        return ""
    if _ASKS_PERMISSION.search(q):
        if prohibits:
            return "no-unless" if exc else "no"
        if permits or src.obligation:
            return "yes-if" if (exc or src.obligation) else "yes"
    return ""


def derive_amount(quote: str, lang: Lang) -> str:
    """The amounts the quote names as alternatives: "EUR 35 000 000 or 7 %, whichever is higher"."""
    found = meaning.amounts(quote)
    if not found:
        return ""
    out = f" {OR[lang]} ".join(" ".join(a.split()) for a in dict.fromkeys(found))
    if len(found) > 1 and meaning.HIGHER.search(quote):
        out += f", {HIGHER[lang]}"
    elif len(found) > 1 and meaning.LOWER.search(quote):
        out += f", {LOWER[lang]}"
    return out


_BEFORE = re.compile(r"\b(vóór|voor|before|prior\s+to)\s*$", re.I)


def derive_date(quote: str) -> str:
    """The date the quote gives: the first that is not a condition ("placed on the market
    before 2 August 2025 ... by 2 August 2027" gives 2 August 2027)."""
    dates = list(meaning.DATE.finditer(quote))
    for m in dates:
        if not _BEFORE.search(quote[max(0, m.start() - 12):m.start()]):
            return " ".join(m.group(0).split())
    return " ".join(dates[0].group(0).split()) if dates else ""


def derive(question: str, kind: str, quotes: Sequence[tuple[str, str]], lang: Lang) -> str:
    """The verdict the first of ``quotes`` ((quote, lead-in), most decisive first) that gives
    one supports; "" when none does."""
    for quote, context in quotes:
        if kind == "yesno":
            v = derive_yesno(question, quote, context)
        elif kind == "amount":
            v = derive_amount(quote, lang)
        elif kind == "date":
            v = derive_date(quote)
        else:
            return ""
        if v:
            return v
    return ""


def contradicts(model: str, derived: str) -> bool:
    """The model's yes/no verdict says the opposite of the quote's, or drops its condition."""
    if not model or not derived:
        return False
    if (model in YES_SIDE and derived in NO_SIDE) or (model in NO_SIDE and derived in YES_SIDE):
        return True
    return derived in ("yes-if", "no-unless") and model in ("yes", "no")


def reconcile(kind: str, model: str, derived: str) -> str:
    """The verdict to show: for a date or amount the quote's own; for yes/no the model's unless
    the decisive quote contradicts it (then the quote's); "" for an open question."""
    model = (model or "").strip().lower()
    if kind in ("date", "amount"):
        return derived
    if kind != "yesno":
        return ""
    if model not in CODES or model == "not-in-sources":
        return derived
    return derived if contradicts(model, derived) else model


def line(verdict: str, lang: Lang, quotes: Sequence[tuple[str, str, str]] = ()) -> str:
    """The verdict line ("Nee, behalve where ... for medical or safety reasons."); ``quotes``
    (quote, its language, lead-in) name the exception of "no-unless"; "" for no verdict."""
    if not verdict:
        return ""
    if verdict not in CODES:
        return f"{verdict}."
    label = LABELS[lang][verdict]
    if verdict == "no-unless":
        clause = ""
        for quote, q_lang, _ in quotes:
            if q_lang == lang:
                clause = meaning.exception_clause(quote)
                if clause:
                    break
        if clause:
            marker = meaning.EXCEPTION.match(clause)
            rest = clause[marker.end():].strip() if marker else clause
            return f"{label} {rest}."
        return f"{label} {UNLESS_FALLBACK[lang]}."
    return f"{label}."


# ----------------------------------------------------------------------- constrained output

def schema(n_sources: int) -> dict:
    """The JSON the LLM writes: the verdict first, then 1-3 sentences each with the number of
    the source it comes from (so both are machine-readable)."""
    return {
        "type": "object",
        "properties": {
            "verdict": {"type": "string", "enum": [*CODES, "none"]},
            "sentences": {
                "type": "array",
                "minItems": 1,
                "maxItems": 3,
                "items": {
                    "type": "object",
                    "properties": {
                        "text": {"type": "string"},
                        "source": {"type": "integer", "enum": list(range(1, max(1, n_sources) + 1))},
                    },
                    "required": ["text", "source"],
                },
            },
        },
        "required": ["verdict", "sentences"],
    }


_VERDICT_FIELD = re.compile(r'"verdict"\s*:\s*"([^"\\]*)"')
_SENT_OBJ = re.compile(
    r'\{\s*(?:"text"\s*:\s*("(?:[^"\\]|\\.)*")\s*,\s*"source"\s*:\s*"?(\d+)"?'
    r'|"source"\s*:\s*"?(\d+)"?\s*,\s*"text"\s*:\s*("(?:[^"\\]|\\.)*"))\s*\}')


class JsonAnswer:
    """Reads the LLM's JSON reply as it streams: the verdict once its value is complete, each
    sentence once its object is closed. A reply that does not start with "{" is not JSON
    (a server that ignored the schema): ``is_json`` is False and the caller reads it as text."""

    def __init__(self) -> None:
        self.text = ""
        self.verdict: str | None = None
        self.sentences: list[tuple[str, int]] = []

    @property
    def is_json(self) -> bool | None:
        """True / False once the first non-blank character is known, else None."""
        s = self.text.lstrip()
        return None if not s else s.startswith("{") or s.startswith("```")

    def feed(self, piece: str) -> list[tuple[str, object]]:
        """Add a piece of the stream; return the events it completes: ("verdict", code) and
        ("sentence", (text, source))."""
        self.text += piece
        events: list[tuple[str, object]] = []
        if self.verdict is None:
            m = _VERDICT_FIELD.search(self.text)
            if m:
                self.verdict = m.group(1).strip().lower()
                events.append(("verdict", self.verdict))
        found = list(_SENT_OBJ.finditer(self.text))
        for m in found[len(self.sentences):]:
            raw, src = (m.group(1), m.group(2)) if m.group(1) is not None else (m.group(4), m.group(3))
            try:
                text = json.loads(raw)
            except ValueError:
                text = raw.strip('"')
            self.sentences.append((str(text), int(src)))
            events.append(("sentence", self.sentences[-1]))
        return events


# ----------------------------------------------------------------------- the answer's shape

class Shape:
    """Puts one answer together as it streams: the verdict line before the first checked
    sentence, the checked sentences, then the decisive quotes (those not already shown in place
    of a sentence). ``text`` is every piece joined, exactly what was streamed."""

    def __init__(self, question: str, lang: Lang, evidence: Sequence[tuple[str, str, str]]) -> None:
        self.question = question
        self.lang = lang
        self.kind = question_kind(question)
        self.evidence = list(evidence)  # (decisive sentence, its language, lead-in) per passage
        self.model_verdict = ""  # what the LLM wrote in its "verdict" field, if anything
        self.verdict = ""
        self.decided = False
        self.overridden = False  # the model's verdict was contradicted by the decisive quote
        self.parts: list[str] = []
        self.shown = 0

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def decide(self, first: Sequence[tuple[str, str, str]]) -> str:
        """Settle the verdict from the quote of the first kept sentence (``first``), then the
        evidence; return its line ("" for none)."""
        quotes = [*first, *self.evidence]
        derived = derive(self.question, self.kind, [(q, c) for q, _, c in quotes], self.lang)
        self.verdict = reconcile(self.kind, self.model_verdict, derived)
        mv = self.model_verdict.strip().lower()
        self.overridden = self.kind == "yesno" and mv in YES_SIDE | NO_SIDE and self.verdict != mv
        self.decided = True
        return line(self.verdict, self.lang, quotes)

    def pieces(self, checker: Any, sentences: Sequence[str]) -> Iterator[str]:
        """Check each sentence (``checker.add``); yield what is shown for the kept ones."""
        for sent in sentences:
            out = checker.add(sent)
            if not out:
                continue
            head = ""
            if not self.decided:
                ln = self.decide([checker.last] if checker.last[0] else [])
                head = f"{ln}\n\n" if ln else ""
            piece = head + (" " if self.shown else "") + out
            self.shown += 1
            self.parts.append(piece)
            yield piece

    def tail(self, citations: Sequence[Citation], quoted: set[str]) -> str:
        """The decisive quotes under the sentences, verbatim, one a line."""
        lines = [f"- {c.passage.label}: “{c.quote}” [{c.n}]" for c in citations if c.quote not in quoted]
        if not lines or not self.shown:
            return ""
        piece = "\n\n" + "\n".join(lines)
        self.parts.append(piece)
        return piece
