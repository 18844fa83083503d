"""Provisions of the AI Act (Regulation (EU) 2024/1689): canonical names, labels, ids, references.

A *provision* is a canonical, language-independent string:

    "Article 5"  "Article 5(1)"  "Article 5(1)(f)"  "Article 5(1)(h)(iii)"
    "Article 3(1)"            definition point 1 of Article 3
    "Article 16(a)"           point (a) of an article without numbered paragraphs
    "Recital 27"
    "Annex III"  "Annex III(4)"  "Annex III(4)(a)"  "Annex VII(4.1)"  "Annex XIII(a)"
    "Annex VIII, Section A"  "Annex VIII, Section A(1)"   (annexes whose points restart per section)
    "Paragraph 42"            numbered paragraph of Commission guidelines
    "Section 3"               a section of a web page

`label` writes a provision as a reader of the document's language does ("Artikel 5, lid 1,
punt f)"), `id_suffix` turns it into the tail of a passage id ("art-5.1.f"), `matches` compares
two provisions hierarchically, `find_refs` finds cross-references to the AI Act in a text and
`parse_query_provision` reads a provision named loosely in a question ("art. 5 lid 1 onder f").
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger(__name__)

ProvisionKind = Literal["article", "recital", "annex", "paragraph", "section"]

# Sanity bounds of the AI Act: a number outside them is not a reference to it.
MAX_ARTICLE = 113
MAX_RECITAL = 180
MAX_ANNEX = 14  # Annex XIV: inserted by Regulation (EU) 2026/1744
# Annexes whose point numbers restart per section, so that the section is part of the provision
# ("Annex VIII, Section A(1)"); in the others (Annex I) a section is only a heading.
SECTIONED_ANNEXES = frozenset({"VIII", "XI"})
MAX_RANGE = 30  # "Articles 8 to 15" is expanded; a wider range keeps only its two ends

_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}


def roman_to_int(s: str) -> int:
    """"XIII" -> 13; 0 for anything that is not a roman numeral."""
    s = s.upper()
    if not s or any(c not in _ROMAN for c in s):
        return 0
    total = 0
    for i, c in enumerate(s):
        v = _ROMAN[c]
        total += -v if i + 1 < len(s) and _ROMAN[s[i + 1]] > v else v
    return total if int_to_roman(total) == s else 0


def int_to_roman(n: int) -> str:
    out = []
    for v, r in ((100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= v:
            out.append(r)
            n -= v
    return "".join(out)


# --------------------------------------------------------------------------- the structure


@dataclass(frozen=True)
class Provision:
    """A provision taken apart. `path` holds the levels below the top unit, as written in
    parentheses: ("1", "f") for Article 5(1)(f), ("4", "a") for Annex III(4)(a), ("4", "1") for
    Annex VII(4.1) (a number below a number is a decimal sub-point of an annex)."""

    kind: ProvisionKind
    number: str  # "5", "27", "III", "42", "3"
    path: tuple[str, ...] = ()
    section: str = ""  # annexes whose points restart per section: "A", "1"

    @property
    def canonical(self) -> str:
        if self.kind == "article":
            return f"Article {self.number}" + "".join(f"({p})" for p in self.path)
        if self.kind == "recital":
            return f"Recital {self.number}"
        if self.kind == "paragraph":
            return f"Paragraph {self.number}"
        if self.kind == "section":
            return f"Section {self.number}"
        head = f"Annex {self.number}" + (f", Section {self.section}" if self.section else "")
        return head + "".join(f"({p})" for p in _annex_groups(self.path))

    def key(self) -> tuple[str, ...]:
        """The hierarchy as a tuple: a provision contains another when its key is a prefix."""
        head = (self.kind, self.number) + ((f"s:{self.section}",) if self.section else ())
        return head + self.path


def _annex_groups(path: tuple[str, ...]) -> list[str]:
    """("4", "1", "a") -> ["4.1", "a"]: consecutive numbers of an annex path form one point."""
    groups: list[str] = []
    for p in path:
        if groups and p.isdigit() and groups[-1].replace(".", "").isdigit():
            groups[-1] += "." + p
        else:
            groups.append(p)
    return groups


_CANON_RE = {
    "article": re.compile(r"^Article (\d{1,3}[a-z]?)((?:\([0-9a-z]{1,4}\))*)$"),
    "recital": re.compile(r"^Recital (\d{1,3})$"),
    "annex": re.compile(r"^Annex ([IVXLC]+)(?:, Section ([A-Z0-9]{1,3}))?((?:\([0-9a-z.]{1,8}\))*)$"),
    "paragraph": re.compile(r"^Paragraph (\d{1,4})$"),
    "section": re.compile(r"^Section (\d{1,3}(?:\.\d{1,3})*)$"),
}


def parse(provision: str) -> Provision | None:
    """Canonical string -> Provision; None when the string is not canonical."""
    s = provision.strip()
    for kind, rx in _CANON_RE.items():
        m = rx.match(s)
        if not m:
            continue
        if kind == "article":
            return Provision("article", m.group(1), tuple(re.findall(r"\(([^)]+)\)", m.group(2))))
        if kind == "annex":
            path: list[str] = []
            for g in re.findall(r"\(([^)]+)\)", m.group(3)):
                path.extend(g.split("."))
            return Provision("annex", m.group(1), tuple(path), m.group(2) or "")
        return Provision(kind, m.group(1))  # type: ignore[arg-type]
    return None


def canonical(provision: str) -> str:
    """Normalise a canonical-looking string ("Annex III(4)(a)"); unchanged when not canonical."""
    p = parse(provision)
    return p.canonical if p else provision


# --------------------------------------------------------------------------- labels and ids

_ORDINAL_ROMAN = re.compile(r"^[ivx]+$")


def _is_letter_point(p: str) -> bool:
    return p.isalpha()


# Inserted provisions. Amending acts insert "artikel 4 bis", "lid 1 bis", "punt b ter)": the
# canonical form appends a letter, as the English text does ("Article 4a", "Article 5(1a)",
# "Article 5(1)(bb)"): bis = a, ter = b, quater = c, ... A path element of a number or a single
# letter followed by one letter a-j is an inserted one (roman numerals use only i, v, x, so
# "ii", "iv", "vi" never look inserted).
LATIN_SUFFIXES = ("bis", "ter", "quater", "quinquies", "sexies", "septies", "octies", "novies", "decies")
_SUFFIX_LETTER = {w: chr(ord("a") + i) for i, w in enumerate(LATIN_SUFFIXES)}
_LETTER_SUFFIX = {v: k for k, v in _SUFFIX_LETTER.items()}
_INSERTED = re.compile(r"^(\d{1,3}|[a-z])([a-j])$")
SUFFIX_RE = r"(?:\s+(?:" + "|".join(LATIN_SUFFIXES) + r"))?"


def number_from_latin(s: str) -> str:
    """Dutch/Latin numbering -> canonical: "4 bis" -> "4a", "b ter" -> "bb", "14" -> "14"."""
    parts = s.split()
    if len(parts) == 2 and parts[1].lower() in _SUFFIX_LETTER:
        return parts[0] + _SUFFIX_LETTER[parts[1].lower()]
    return s.strip()


def number_to_latin(n: str) -> str:
    """Canonical -> Dutch/Latin numbering: "4a" -> "4 bis", "bb" -> "b ter"; others unchanged."""
    m = _INSERTED.match(n)
    if not m or (m.group(1).isalpha() and m.group(1) in "ivx" and m.group(2) in "ivx"):
        return n
    return f"{m.group(1)} {_LETTER_SUFFIX[m.group(2)]}"


def label(provision: str, lang: str = "en") -> str:
    """How a reader of `lang` writes the provision.

    EN: "Article 5(1), point (f)", "Article 3, point (1)", "Recital 27", "Annex III, point 4(a)".
    NL: "Artikel 5, lid 1, punt f)", "Artikel 3, punt 1)", "Overweging 27", "Bijlage III, punt 4, a)".
    """
    p = parse(provision)
    if p is None:
        return provision
    nl = lang == "nl"
    if p.kind == "recital":
        return f"{'Overweging' if nl else 'Recital'} {p.number}"
    if p.kind == "paragraph":
        return f"{'punt' if nl else 'para.'} {p.number}"
    if p.kind == "section":
        return f"{'Sectie' if nl else 'Section'} {p.number}"
    if p.kind == "article":
        path = list(p.path)
        # Article 3's numbered definitions and a flat article's points are points, not paragraphs.
        para = ""
        if path and not (p.number == "3" or _is_letter_point(path[0])):
            para = path.pop(0)
        if nl:
            out = f"Artikel {number_to_latin(p.number)}" + (f", lid {number_to_latin(para)}" if para else "")
            if path:
                out += ", punt " + ", ".join(f"{number_to_latin(x)})" for x in path)
            return out
        out = f"Article {p.number}" + (f"({para})" if para else "")
        if path:
            out += ", point " + "".join(f"({x})" for x in path)
        return out
    # annex
    head = f"{'Bijlage' if nl else 'Annex'} {p.number}"
    if p.section:
        head += f", {'afdeling' if nl else 'Section'} {p.section}"
    groups = _annex_groups(p.path)
    if not groups:
        return head
    first, rest = groups[0], groups[1:]
    if nl:
        first = number_to_latin(first)
        point = f"{first})" if first[0].isalpha() else first
        return f"{head}, punt {point}" + "".join(f", {number_to_latin(x)})" for x in rest)
    point = f"({first})" if first.isalpha() else first
    return f"{head}, point {point}" + "".join(f"({x})" for x in rest)


_ID_PREFIX = {"article": "art", "recital": "rct", "annex": "anx", "paragraph": "par", "section": "sec"}
_PREFIX_KIND = {v: k for k, v in _ID_PREFIX.items()}


def id_suffix(provision: str) -> str:
    """"Article 5(1)(f)" -> "art-5.1.f", "Annex III(4)(a)" -> "anx-iii.4.a", "Recital 27" -> "rct-27",
    "Annex VIII, Section A(1)" -> "anx-viii.sec-a.1", "Paragraph 42" -> "par-42"."""
    p = parse(provision)
    if p is None:
        raise ValueError(f"not a canonical provision: {provision!r}")
    parts = [p.number.lower()]
    if p.section:
        parts.append(f"sec-{p.section.lower()}")
    parts.extend(x.lower() for x in p.path)
    return f"{_ID_PREFIX[p.kind]}-" + ".".join(parts)


def from_id_suffix(suffix: str) -> str:
    """Inverse of `id_suffix`: "art-5.1.f" -> "Article 5(1)(f)"."""
    prefix, _, rest = suffix.partition("-")
    kind = _PREFIX_KIND.get(prefix)
    if kind is None or not rest:
        raise ValueError(f"not a provision id: {suffix!r}")
    if kind == "section":
        return f"Section {rest}"
    parts = rest.split(".")
    number, path = parts[0], parts[1:]
    if kind == "article":
        return Provision("article", number, tuple(path)).canonical
    if kind == "annex":
        section = ""
        if path and path[0].startswith("sec-"):
            section = path.pop(0)[4:].upper()
        return Provision("annex", number.upper(), tuple(path), section).canonical
    return Provision(kind, number).canonical  # type: ignore[arg-type]


# --------------------------------------------------------------------------- hierarchy


def parent(provision: str) -> str | None:
    """"Article 5(1)(f)" -> "Article 5(1)" -> "Article 5" -> None."""
    p = parse(provision)
    if p is None:
        return None
    if p.path:
        path = p.path[:-1]
        return Provision(p.kind, p.number, path, p.section).canonical
    if p.section:
        return Provision(p.kind, p.number).canonical
    return None


def article_of(provision: str) -> str:
    """The top unit: "Article 5(1)(f)" -> "Article 5", "Annex III(4)(a)" -> "Annex III"."""
    p = parse(provision)
    if p is None:
        return provision
    return Provision(p.kind, p.number).canonical


def matches(gold: str, got: str) -> bool:
    """Hierarchical match in either direction at a boundary: "Article 5" ~ "Article 5(1)(f)",
    "Article 5(1)(f)" ~ "Article 5(1)"; "Article 5" is not "Article 50"."""
    a, b = parse(gold), parse(got)
    if a is None or b is None:
        return gold.strip() == got.strip()
    ka, kb = a.key(), b.key()
    n = min(len(ka), len(kb))
    return ka[:n] == kb[:n]


# --------------------------------------------------------------------------- references in text

_TOKEN_RE = re.compile(
    r"""
    (?P<range>\btot\s+en\s+met\b|\bt/m\b|[-\u2013](?=\s*\(?\d))
  | (?P<artabbr>\barts?\.(?=\s*\d))
  | (?P<paren>\(\s*(?:\d{1,3}[a-z]?|[a-z]{1,4})\s*\))
  | (?P<nlpt>\b(?:\d{1,3}[a-j]?|[a-z]{1,4})\)(?!\w))
  | (?P<num>\b\d{1,3}(?:\.\d{1,2})*(?:[a-z](?![a-z]))?\b)
  | (?P<word>[^\W\d_]+)
  | (?P<comma>,)
  | (?P<other>[^\s])
    """,
    re.VERBOSE | re.IGNORECASE,
)


@dataclass
class _Tok:
    kind: str
    value: str  # lower-cased text or the inside of a parenthesis
    raw: str
    start: int
    end: int


def _tokenize(text: str) -> list[_Tok]:
    toks = []
    for m in _TOKEN_RE.finditer(text):
        kind = m.lastgroup or "other"
        raw = m.group(0)
        if kind == "paren":
            value = raw.strip("() \t").lower()
        elif kind == "nlpt":
            value = raw[:-1].lower()
        elif kind == "artabbr":
            kind, value = "word", "article"
        else:
            value = raw.lower()
        toks.append(_Tok(kind, value, raw, m.start(), m.end()))
    return toks


@dataclass(frozen=True)
class _Vocab:
    article: frozenset[str]
    annex: frozenset[str]
    recital: frozenset[str]
    point: frozenset[str]
    paragraph: frozenset[str]
    subparagraph: frozenset[str]
    ordinal: frozenset[str]
    conj: frozenset[str]  # and / or
    range_: frozenset[str]
    of: frozenset[str]
    section: frozenset[str]
    filler: frozenset[str]  # words skipped between "point X of" and its target ("the")


_EN = _Vocab(
    article=frozenset({"article", "articles", "art"}),
    annex=frozenset({"annex", "annexes"}),
    recital=frozenset({"recital", "recitals"}),
    point=frozenset({"point", "points"}),
    paragraph=frozenset({"paragraph", "paragraphs"}),
    subparagraph=frozenset({"subparagraph", "subparagraphs"}),
    ordinal=frozenset({"first", "second", "third", "fourth", "fifth", "sixth", "last"}),
    conj=frozenset({"and", "or", "and/or"}),
    range_=frozenset({"to"}),
    of=frozenset({"of"}),
    section=frozenset({"section"}),
    filler=frozenset({"the", "this"}),
)
_NL = _Vocab(
    article=frozenset({"artikel", "artikelen", "art"}),
    annex=frozenset({"bijlage", "bijlagen"}),
    recital=frozenset({"overweging", "overwegingen"}),
    point=frozenset({"punt", "punten", "onder"}),
    paragraph=frozenset({"lid", "leden"}),
    subparagraph=frozenset({"alinea", "alinea's"}),
    ordinal=frozenset({"eerste", "tweede", "derde", "vierde", "vijfde", "zesde", "laatste"}),
    conj=frozenset({"en", "of", "en/of"}),
    range_=frozenset({"tot"}),
    of=frozenset({"van"}),
    section=frozenset({"afdeling"}),
    filler=frozenset({"de", "het", "deze"}),
)


def _merge(a: _Vocab, b: _Vocab) -> _Vocab:
    fields = a.__dataclass_fields__
    return _Vocab(**{f: getattr(a, f) | getattr(b, f) for f in fields})


_ANY = _merge(_EN, _NL)

# Text right after a reference that says it belongs to another act.
_OTHER_ACT_RE = re.compile(
    r"""^\s*,?\s*(?:
        (?:of|to|in|under|van|uit|bij)\s+(?:the\s+|de\s+|het\s+)?(?:
            (?:Commission\s+|Council\s+|Delegated\s+|Implementing\s+|Framework\s+)?
              (?:Regulation|Directive|Decision|Recommendation|Treaty|Treaties|Charter|Protocol|Convention)
          | (?:Gedelegeerde\s+|Uitvoerings)?(?:Verordening|Richtlijn|Besluit|Kaderbesluit|Verdrag|Handvest|Protocol|Aanbeveling)
          | uitvoeringsverordening|uitvoeringsbesluit
          | (?:that|those|the\s+said)\s+(?:Regulation|Directive|Decision|act|Treaty)
          | (?:die|dat|deze)\s+(?:richtlijn|besluit|kaderbesluit|verdragen|handeling)
          | die\s+verordening
          | TFEU|TEU|VWEU|VEU|GDPR|AVG
        )
      | TFEU|TEU|VWEU|VEU|GDPR|AVG|EUV|EVRM|ECHR
    )""",
    re.VERBOSE | re.IGNORECASE,
)
_THIS_ACT_RE = re.compile(
    r"^\s*,?\s*(?:of|van)\s+(?:Regulation|Verordening)\s+\(EU\)\s+(?:No\s+|nr\.\s+)?2024/1689",
    re.IGNORECASE,
)


def _section(annex: str, section: str) -> str:
    return section if annex in SECTIONED_ANNEXES else ""


def _other_act_follows(text: str, end: int) -> bool:
    tail = text[end : end + 120]
    return bool(_OTHER_ACT_RE.match(tail)) and not _THIS_ACT_RE.match(tail)


def _is_roman_like(s: str) -> bool:
    """"ii", "iv", "xii": a sub-point numeral; the single letters i, v, x are ambiguous."""
    return bool(_ORDINAL_ROMAN.match(s)) and len(s) > 1


def _expand(a: str, b: str, roman: bool = False) -> list[str]:
    """The members of a range "a to b": numbers, letters or small roman numerals."""
    if a.isdigit() and b.isdigit():
        lo, hi = int(a), int(b)
        if 0 < hi - lo <= MAX_RANGE:
            return [str(i) for i in range(lo, hi + 1)]
        return [a, b]
    if roman or (_is_roman_like(a) and _is_roman_like(b)):
        lo, hi = roman_to_int(a), roman_to_int(b)
        if lo and hi and 0 < hi - lo <= MAX_RANGE:
            return [int_to_roman(i).lower() for i in range(lo, hi + 1)]
        return [a, b]
    if len(a) == 1 and len(b) == 1 and a.isalpha() and b.isalpha() and a < b:
        return [chr(c) for c in range(ord(a), ord(b) + 1)]
    return [a, b]


class _Parser:
    """A small recursive-descent reader over the tokens of one text."""

    def __init__(self, text: str, vocab: _Vocab, loose: bool = False, bounded: bool = True) -> None:
        self.text = text
        self.v = vocab
        self.loose = loose
        self.bounded = bounded  # False: keep numbers beyond the act's ("artikel 999"), to say it has none
        self.toks = _tokenize(text)
        self.i = 0

    # -- token helpers
    def peek(self, k: int = 0) -> _Tok | None:
        j = self.i + k
        return self.toks[j] if 0 <= j < len(self.toks) else None

    def is_word(self, k: int, words: frozenset[str]) -> bool:
        t = self.peek(k)
        return t is not None and t.kind == "word" and t.value in words

    def number_at(self, k: int = 0) -> str | None:
        t = self.peek(k)
        if t is None:
            return None
        if t.kind == "num":
            return t.value
        if t.kind == "nlpt" and t.value.isdigit():
            return t.value
        return None

    def point_at(self, k: int = 0) -> str | None:
        """A point marker: "(a)", "a)", "(1)", "1)", or (loose) a bare letter "f"."""
        t = self.peek(k)
        if t is None:
            return None
        if t.kind in ("paren", "nlpt"):
            return t.value
        if t.kind == "num" and t.value.isdigit():  # "artikel 3, punt 4"
            return t.value
        if self.loose and t.kind == "word" and len(t.value) == 1 and t.value.isalpha():
            return t.value
        return None

    def skip_subparagraph(self) -> None:
        """", first subparagraph" / ", eerste alinea" carry no level of their own here."""
        k = 1 if self.peek() is not None and self.peek().kind == "comma" else 0  # type: ignore[union-attr]
        if self.is_word(k, self.v.ordinal) and self.is_word(k + 1, self.v.subparagraph):
            self.i += k + 2

    def sep(self) -> tuple[int, bool] | None:
        """A list separator at the cursor: (tokens, is_range) or None."""
        t = self.peek()
        if t is None:
            return None
        if t.kind == "range" or (t.kind == "word" and t.value in self.v.range_):
            return 1, True
        if t.kind == "word" and t.value in self.v.conj:
            return 1, False
        if t.kind == "comma":
            if self.is_word(1, self.v.conj):
                return 2, False
            return 1, False
        return None

    # -- grammar
    def points_list(self, singular: bool = False) -> list[tuple[str, ...]]:
        """Point markers with sub-points: "(a)(ii)", "(a) and (b)", "(a) to (d)", "h), iii)"."""
        out: list[tuple[str, ...]] = []
        pending_range = False
        while True:
            first = self.point_at()
            if first is None:
                break
            self.i += 1
            item = [first]
            while True:
                nxt = self.point_at()
                if nxt is not None and self.peek().kind == "paren":  # type: ignore[union-attr]
                    item.append(nxt)  # "(h)(iii)"
                    self.i += 1
                elif (
                    self.peek() is not None
                    and self.peek().kind == "comma"  # type: ignore[union-attr]
                    and self.peek(1) is not None
                    and self.peek(1).kind == "nlpt"  # type: ignore[union-attr]
                    and len(item) == 1
                    and (
                        (
                            first.isalpha()
                            and (
                                _is_roman_like(self.peek(1).value)  # type: ignore[union-attr]
                                # after the singular "punt h)", ", i)" is a sub-point, not point (i)
                                or (singular and bool(_ORDINAL_ROMAN.match(self.peek(1).value)))  # type: ignore[union-attr]
                            )
                        )
                        or (first.isdigit() and self.peek(1).value.isalpha())  # type: ignore[union-attr]
                    )
                ):
                    # NL sub-points: "punt h), iii)", "punt 49), c)"
                    item.append(self.peek(1).value)  # type: ignore[union-attr]
                    self.i += 2
                else:
                    break
            if out and pending_range:
                prev = out.pop()
                a, b = prev[-1], item[-1]
                for x in _expand(a, b, roman=len(item) > 1):
                    out.append((*prev[:-1], x))
            else:
                out.append(tuple(item))
            pending_range = False
            s = self.sep()
            nxt = self.point_at(s[0]) if s is not None else None
            if s is None or nxt is None or nxt.isdigit() != first.isdigit():
                break  # "point (h), (2) to (6)": the paragraphs are the caller's
            pending_range = s[1]
            self.i += s[0]
        return out

    def article_tail(self) -> list[tuple[str, ...]]:
        """After "Article N": "(1)(a)", ", lid 1", ", first subparagraph", ", point (a)"."""
        base: list[str] = []
        while self.peek() is not None and self.peek().kind == "paren":  # type: ignore[union-attr]
            base.append(self.peek().value)  # type: ignore[union-attr]
            self.i += 1
        # NL "lid 1" / "leden 1 en 2"
        k = 1 if self.peek() is not None and self.peek().kind == "comma" else 0  # type: ignore[union-attr]
        if not base and self.is_word(k, self.v.paragraph) and self.number_at(k + 1):
            self.i += k
            paras = self.number_list()
            if len(paras) > 1:
                return [(p,) for p in paras]
            base = [paras[0]]
        self.skip_subparagraph()
        k = 1 if self.peek() is not None and self.peek().kind == "comma" else 0  # type: ignore[union-attr]
        if self.is_word(k, self.v.point) and self.point_at(k + 1) is not None:
            save = self.i
            self.i += k + 1
            pts = self.points_list(singular=self.toks[self.i - 1].value in ("point", "punt", "onder"))
            if pts:
                return [tuple(base) + p for p in pts]
            self.i = save
        return [tuple(base)]

    def number_list(self) -> list[str]:
        """"lid 1" / "leden 1 en 2" / "leden 1 tot en met 3" (cursor on the keyword)."""
        self.i += 1
        out = [self.number_at() or ""]
        self.i += 1
        while True:
            s = self.sep()
            if s is None:
                break
            k = s[0]
            if self.is_word(k, self.v.paragraph):
                k += 1
            n = self.number_at(k)
            if n is None or "." in n:
                break
            self.i += k + 1
            out.extend(_expand(out.pop(), n)[0:] if s[1] else [n])
        return out

    def article_expr(self) -> tuple[list[str], int] | None:
        """Cursor on "Article(s)"/"artikel(en)": the provisions it names and the end offset."""
        start = self.i
        self.i += 1
        if self.number_at() is None:
            self.i = start
            return None
        items: list[tuple[str, tuple[str, ...]]] = []
        pending_range = False
        while True:
            num = self.number_at()
            if num is None or "." in num:
                break
            self.i += 1
            if self.is_word(0, frozenset({"bis", "ter", "quater"})):  # NL "4 bis" -> "4a"
                num += {"bis": "a", "ter": "b", "quater": "c"}[self.peek().value]  # type: ignore[union-attr]
                self.i += 1
            before = self.i
            tails = self.article_tail()
            via_lid = any(self.is_word(j - self.i, self.v.paragraph) for j in range(before, self.i))
            if pending_range and items and tails == [()] and not items[-1][1]:
                prev = items.pop()[0]
                items.extend((x, ()) for x in _expand(prev, num))
            else:
                items.extend((num, t) for t in tails)
            pending_range = False
            advanced = False
            while True:  # continuation: a sibling "(9)" / "lid 9", or another article number
                s = self.sep()
                if s is None:
                    break
                k, is_range = s
                nxt = self.peek(k)
                art, path = items[-1]
                if nxt is not None and nxt.kind == "paren" and path:
                    # "Article 74(8) or (9)": a sibling at the deepest level of the same kind
                    # ("Article 5(1), point (h), (2) to (6)": (2) is a paragraph)
                    level = max(
                        (j for j, x in enumerate(path) if x.isdigit() == nxt.value.isdigit()), default=len(path) - 1
                    )
                    self.i += k + 1
                    if is_range:
                        items.pop()
                        items.extend((art, (*path[:level], x)) for x in _expand(path[level], nxt.value))
                    else:
                        items.append((art, (*path[:level], nxt.value)))
                    continue
                kk = k + 1 if self.is_word(k, self.v.paragraph) else k
                n = self.number_at(kk)
                if path and len(path) == 1 and n is not None and (via_lid or kk > k) and not self.is_word(
                    kk + 1, self.v.of
                ):
                    # NL "artikel 74, lid 8 of (lid) 9": a sibling paragraph
                    self.i += kk + 1
                    if is_range:
                        items.pop()
                        items.extend((art, (x,)) for x in _expand(path[0], n))
                    else:
                        items.append((art, (n,)))
                    continue
                kk = k + 1 if self.is_word(k, self.v.article) else k
                n = self.number_at(kk)
                if n is not None and "." not in n:
                    self.i += kk
                    pending_range = is_range
                    advanced = True
                break
            if not advanced:
                break
        end = self.toks[self.i - 1].end
        out = []
        for art, path in items:
            base = re.match(r"\d+", art)
            if base is None or (self.bounded and not 1 <= int(base.group(0)) <= MAX_ARTICLE):
                continue
            out.append(Provision("article", art, path).canonical)
        return out, end

    def annex_expr(self) -> tuple[list[str], int] | None:
        """Cursor on "Annex"/"bijlage": "Annex III", "Annexes I and III", "Annex III, point 4(a)",
        "bijlage III, punt 4, a)", "Annex VIII, Section A"."""
        start = self.i
        self.i += 1
        annexes: list[str] = []
        while True:
            t = self.peek()
            if t is None or t.kind != "word" or not roman_to_int(t.raw) or not (
                t.raw.isupper() or self.loose
            ):
                break
            if roman_to_int(t.raw) > MAX_ANNEX and (self.bounded or not t.raw.isupper()):
                break
            annexes.append(t.raw.upper())
            self.i += 1
            s = self.sep()
            if s is None:
                break
            nxt = self.peek(s[0])
            if nxt is None or nxt.kind != "word" or not roman_to_int(nxt.raw) or not nxt.raw.isupper():
                break
            if s[1] and annexes:
                lo, hi = roman_to_int(annexes[-1]), roman_to_int(nxt.raw)
                if 0 < hi - lo <= MAX_ANNEX:
                    annexes.extend(int_to_roman(x) for x in range(lo + 1, hi))
            self.i += s[0]
        if not annexes:
            self.i = start
            return None
        out = [Provision("annex", a).canonical for a in annexes]
        if len(annexes) == 1:
            section = ""
            k = 1 if self.peek() is not None and self.peek().kind == "comma" else 0  # type: ignore[union-attr]
            if self.is_word(k, self.v.section):
                t = self.peek(k + 1)
                if t is not None and t.kind in ("word", "num") and len(t.raw) <= 2 and (
                    t.raw.isdigit() or t.raw.isupper()
                ):
                    section = t.raw.upper()
                    self.i += k + 2
            k = 1 if self.peek() is not None and self.peek().kind == "comma" else 0  # type: ignore[union-attr]
            if self.is_word(k, self.v.point) and (self.number_at(k + 1) or self.point_at(k + 1)):
                self.i += k
                paths = self.annex_points()
                out = [Provision("annex", annexes[0], p, _section(annexes[0], section)).canonical for p in paths]
            elif section:
                out = [Provision("annex", annexes[0], (), _section(annexes[0], section)).canonical]
        return out, self.toks[self.i - 1].end

    def annex_points(self) -> list[tuple[str, ...]]:
        """Cursor on "point(s)"/"punt(en)": "4", "4(a)", "4, a)", "1 to 8", "(a)", "3.1"."""
        self.i += 1
        out: list[tuple[str, ...]] = []
        pending_range = False
        while True:
            n = self.number_at()
            if n is not None:
                self.i += 1
                item: tuple[str, ...] = tuple(n.split("."))
                t = self.peek()
                if t is not None and t.kind == "paren" and t.value.isalpha():
                    item += (t.value,)
                    self.i += 1
                elif (
                    t is not None
                    and t.kind == "comma"
                    and self.peek(1) is not None
                    and self.peek(1).kind == "nlpt"  # type: ignore[union-attr]
                    and self.peek(1).value.isalpha()  # type: ignore[union-attr]
                ):
                    item += (self.peek(1).value,)  # type: ignore[union-attr]
                    self.i += 2
            else:
                pt = self.point_at()
                if pt is None:
                    break
                self.i += 1
                item = (pt,)
            if pending_range and out and len(out[-1]) == 1 and len(item) == 1:
                prev = out.pop()
                out.extend((x,) for x in _expand(prev[0], item[0]))
            else:
                out.append(item)
            pending_range = False
            s = self.sep()
            if s is None or (self.number_at(s[0]) is None and self.point_at(s[0]) is None):
                break
            pending_range = s[1]
            self.i += s[0]
        return out

    def recital_expr(self) -> tuple[list[str], int] | None:
        start = self.i
        self.i += 1
        nums: list[str] = []
        pending_range = False
        while True:
            t = self.peek()
            n = self.number_at()
            if n is None and t is not None and t.kind == "paren" and t.value.isdigit():
                n = t.value
            if n is None or not n.isdigit():
                break
            self.i += 1
            if pending_range and nums:
                nums.extend(_expand(nums.pop(), n))
            else:
                nums.append(n)
            s = self.sep()
            if s is None:
                break
            k = s[0]
            t2 = self.peek(k)
            if t2 is None or not (self.number_at(k) or (t2.kind == "paren" and t2.value.isdigit())):
                break
            pending_range = s[1]
            self.i += k
        if not nums:
            self.i = start
            return None
        out = [Provision("recital", n).canonical for n in nums if not self.bounded or 1 <= int(n) <= MAX_RECITAL]
        return out, self.toks[self.i - 1].end

    def point_first_expr(self) -> tuple[list[str], int] | None:
        """"point (a) of Article 5(1)", "points 1 to 8 of Annex III", "punt 4 van bijlage III",
        "paragraph 1 of Article 5", "lid 2 van artikel 6"."""
        start = self.i
        is_para = self.is_word(0, self.v.paragraph)
        if is_para:
            if self.number_at(1) is None:
                return None
            paras = self.number_list()
            pts: list[tuple[str, ...]] = [(p,) for p in paras]
        else:
            save = self.i
            self.i += 1
            if self.number_at() is not None:
                self.i = save
                pts = self.annex_points()
            else:
                pts = self.points_list(singular=self.toks[start].value in ("point", "punt", "onder"))
            if not pts:
                self.i = start
                return None
        self.skip_subparagraph()
        # "of the first subparagraph of", "of", "van"
        k = 1 if self.peek() is not None and self.peek().kind == "comma" else 0  # type: ignore[union-attr]
        if not self.is_word(k, self.v.of):
            self.i = start
            return None
        k += 1
        while self.is_word(k, self.v.filler):
            k += 1
        if self.is_word(k, self.v.ordinal) and self.is_word(k + 1, self.v.subparagraph) and self.is_word(k + 2, self.v.of):
            k += 3
        section = ""
        if self.is_word(k, self.v.section) and self.peek(k + 1) is not None and self.is_word(k + 2, self.v.of):
            section = self.peek(k + 1).raw.upper()  # type: ignore[union-attr]  # "point 3 of Section A of Annex VIII"
            k += 3
            while self.is_word(k, self.v.filler):
                k += 1
            if not self.is_word(k, self.v.annex):
                self.i = start
                return None
        self.i += k
        if self.is_word(0, self.v.article):
            res = self.article_expr()
            if not res or len(res[0]) != 1:
                self.i = start
                return None
            target = parse(res[0][0])
            assert target is not None
            return [Provision("article", target.number, target.path + p).canonical for p in pts], res[1]
        if self.is_word(0, self.v.annex) and not is_para:
            res = self.annex_expr()
            if not res or len(res[0]) != 1:
                self.i = start
                return None
            target = parse(res[0][0])
            assert target is not None
            sec = _section(target.number, section) or target.section
            return [Provision("annex", target.number, target.path + p, sec).canonical for p in pts], res[1]
        self.i = start
        return None

    def section_first_expr(self) -> tuple[list[str], int] | None:
        """"Section B of Annex I" / "afdeling B van bijlage I"; other sections (of a chapter) are no provision."""
        start = self.i
        t = self.peek(1)
        if t is None or len(t.raw) > 2 or not (t.raw.isupper() or t.raw.isdigit()) or not self.is_word(2, self.v.of):
            return None
        k = 3
        while self.is_word(k, self.v.filler):
            k += 1
        if not self.is_word(k, self.v.annex):
            return None
        self.i += k
        res = self.annex_expr()
        if not res or len(res[0]) != 1:
            self.i = start
            return None
        target = parse(res[0][0])
        assert target is not None
        return [Provision("annex", target.number, (), _section(target.number, t.raw.upper())).canonical], res[1]

    def run(self, first_only: bool = False) -> list[str]:
        found: list[str] = []
        while self.i < len(self.toks):
            at = self.i
            t = self.toks[at]
            res = None
            if t.kind == "word":
                if t.value in self.v.article:
                    res = self.article_expr()
                elif t.value in self.v.annex:
                    res = self.annex_expr()
                elif t.value in self.v.recital:
                    res = self.recital_expr()
                elif t.value in self.v.point or t.value in self.v.paragraph:
                    res = self.point_first_expr()
                elif t.value in self.v.section:
                    res = self.section_first_expr()
            if res is None:
                self.i += 1
                continue
            provs, end = res
            self.i = max(self.i, at + 1)
            if _other_act_follows(self.text, end):
                log.debug("reference at %d is to another act: %r", t.start, self.text[t.start : end + 40])
                continue
            for p in provs:
                if p not in found:
                    found.append(p)
            if first_only and found:
                break
        return found


def find_refs(text: str, lang: str = "en") -> list[str]:
    """Cross-references to provisions of the AI Act in `text`, canonical, deduplicated, in order.

    References to other acts ("Article 16 of Regulation (EU) 2016/679", "artikel 16 VWEU") are
    left out; "of this Regulation" / "van deze verordening" / "of Regulation (EU) 2024/1689" are kept.
    Ranges ("Articles 8 to 15", "de artikelen 8 tot en met 15") are expanded up to 30 members.
    """
    vocab = _NL if lang == "nl" else _EN
    return _Parser(_latin_numbers(text), vocab).run()


_LATIN_NUMBER = re.compile(r"\b(\d{1,3}|[a-z])\s+(" + "|".join(LATIN_SUFFIXES) + r")\b")


def _latin_numbers(text: str) -> str:
    """ "lid 1 bis" -> "lid 1a", "punt b ter)" -> "punt bb)": inserted numbers in their canonical form."""
    if "bis" not in text and "ter" not in text and "qu" not in text:
        return text
    return _LATIN_NUMBER.sub(lambda m: m.group(1) + _SUFFIX_LETTER[m.group(2)], text)


def parse_query_provision(q: str) -> str | None:
    """The provision a question or lookup names, in either language and loosely written:
    "artikel 26 lid 8" -> "Article 26(8)", "art. 5 lid 1 onder f" -> "Article 5(1)(f)",
    "Annex III point 4" -> "Annex III(4)", "overweging 27" -> "Recital 27". None if none named."""
    found = _Parser(_latin_numbers(q), _ANY, loose=True).run(first_only=True)
    return found[0] if found else None


# --------------------------------------------------------------------------- provisions that do not exist

# a number too long for the reference reader ("artikel 99999"): no act has that many
_HUGE_REF = re.compile(r"\b(artikel|article|art\.?|overweging|recital)\s+(\d{4,})\b", re.IGNORECASE)


_HUGE_CANON = re.compile(r"^(Article|Recital) \d{4,}$")


def missing_label(provision: str, lang: str = "en") -> str:
    """How a sentence names a provision the act lacks: "artikel 999" (NL, lower case mid-sentence)."""
    text = label(provision, lang)
    if lang == "nl":
        text = text.replace("Article ", "artikel ").replace("Recital ", "overweging ")
        text = text[:1].lower() + text[1:]
    return text


def query_references(q: str) -> list[str]:
    """Every provision a question names, as written, also those beyond the act's numbering:
    "Wat staat er in artikel 999 lid 7?" -> ["Article 999(7)"] (``parse_query_provision`` drops it)."""
    found = _Parser(q, _ANY, loose=True, bounded=False).run()
    for m in _HUGE_REF.finditer(q):
        kind = "recital" if m.group(1).lower() in ("overweging", "recital") else "article"
        found.append(Provision(kind, m.group(2)).canonical)  # type: ignore[arg-type]
    return found


def _from_key(key: tuple[str, ...]) -> str:
    kind, number, *rest = key
    section = rest.pop(0)[2:] if rest and rest[0].startswith("s:") else ""
    return Provision(kind, number, tuple(rest), section).canonical  # type: ignore[arg-type]


def _point_in_text(point: str, text: str) -> bool:
    """Whether a passage's text has the point marker "(f)" / "f)" / "(ii)" inside it."""
    return bool(re.search(rf"(?<![\w(])\(?{re.escape(point)}\)", text))


def missing_part(provision: str, act: dict[str, str]) -> str | None:
    """The outermost part of ``provision`` the act does not have, or None if it has it.

    ``act``: provision -> text of every passage of the act (what the index holds, so the act's
    size is read, not assumed). "Article 999(7)" -> "Article 999", "Article 5(99)(zz)" ->
    "Article 5(99)". A point below a passage that is not split further counts as present
    when the passage's text has its marker ("Article 50(1)(a)" inside "Article 50(1)")."""
    if _HUGE_CANON.match(provision):
        return provision
    p = parse(provision)
    if p is None or p.kind not in ("article", "annex", "recital"):
        return None
    keys: dict[tuple[str, ...], str] = {}
    for prov, text in act.items():
        q = parse(prov)
        if q is not None:
            keys[q.key()] = text
    prefixes = {k[:j] for k in keys for j in range(2, len(k) + 1)}
    want = p.key()
    for j in range(2, len(want) + 1):
        if want[:j] in prefixes:
            continue
        parent = want[:j - 1]
        leaf = j > 2 and parent in keys and not any(len(k) > len(parent) and k[:len(parent)] == parent for k in keys)
        part = want[j - 1]
        if leaf and not part.isdigit() and _point_in_text(part, keys[parent]):
            return None  # a point inside a passage that was not split at its points
        return _from_key(want[:j])
    return None


def _ranges(numbers: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for n in sorted(set(numbers)):
        if out and n == out[-1][1] + 1:
            out[-1] = (out[-1][0], n)
        else:
            out.append((n, n))
    return out


def what_it_has(missing: str, act: dict[str, str], lang: str = "en") -> str:
    """One sentence on what the act has instead of ``missing``: its articles, annexes and recitals,
    or the parts of the provision above it ("Article 5 has paragraphs 1 to 8")."""
    nl = lang == "nl"
    parsed = [q for q in (parse(x) for x in act) if q is not None]

    def span(nums: list[int], roman: bool = False) -> str:
        fmt = int_to_roman if roman else str
        parts = [fmt(a) if a == b else f"{fmt(a)} {'tot en met' if nl else 'to'} {fmt(b)}" for a, b in _ranges(nums)]
        return ", ".join(parts)

    above = parent(missing)
    up = parse(above) if above else None
    if up is None:
        arts = [int(re.match(r"\d+", q.number).group(0)) for q in parsed if q.kind == "article"]  # type: ignore[union-attr]
        anx = [roman_to_int(q.number) for q in parsed if q.kind == "annex"]
        rct = [int(q.number) for q in parsed if q.kind == "recital"]
        kinds = [(arts, False, "de artikelen", "Articles"), (anx, True, "de bijlagen", "Annexes"),
                 (rct, False, "de overwegingen", "Recitals")]
        parts = [f"{nl_name if nl else en_name} {span(nums, roman)}" for nums, roman, nl_name, en_name in kinds if nums]
        listed = " en ".join([", ".join(parts[:-1]), parts[-1]]) if len(parts) > 1 else "".join(parts)
        return f"{'Zij telt' if nl else 'It has'} {listed if nl else listed.replace(' en ', ' and ')}."
    pk = up.key()
    children = sorted({q.key()[len(pk)] for q in parsed if len(q.key()) > len(pk) and q.key()[:len(pk)] == pk},
                      key=lambda c: (not c.isdigit(), int(c) if c.isdigit() else 0, c))
    head = label(up.canonical, lang)
    if not children:
        return f"{head} {'is niet verder onderverdeeld' if nl else 'has no further parts'}."
    numbered = all(c.isdigit() for c in children)
    if numbered:
        what = ("leden" if nl else "paragraphs") if up.kind == "article" and not up.path and up.number != "3" \
            else ("punten" if nl else "points")
        return f"{head} {'heeft de' if nl else 'has'} {what} {span([int(c) for c in children])}."
    shown = ", ".join(f"{c})" if nl else f"({c})" for c in children[:12]) + (" …" if len(children) > 12 else "")
    return f"{head} {'heeft de punten' if nl else 'has points'} {shown}."
