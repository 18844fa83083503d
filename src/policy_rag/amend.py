"""Amending acts applied to the act they amend, at ingest: the law as it stands, with versions.

An amending act (a manifest row with ``amends = "<doc>"`` and kind "amending-act") is parsed by
its own parser into blocks of kind "amendment", one per point of its amending article ("Article
1(5)": ``artikel 4 wordt vervangen door: “Artikel 4 ...”;``). Here:

1. ``parse_instructions`` reads the Dutch amending instructions of each point into
   `Instruction`s: the phrases of EU amending acts ("wordt vervangen door", "wordt ingevoegd",
   "wordt toegevoegd", "wordt geschrapt", "wordt als volgt gewijzigd" with nested a), b), i)
   sub-points) and their targets (artikel, lid, alinea, punt, aanhef, titel, bijlage, afdeling).
   Inserted numbers are canonical as in legal.py: "4 bis" -> "4a", "b ter" -> "bb".
2. ``Act`` holds the amended act's blocks as *units* (an article paragraph with its points, an
   article without paragraphs, a definition, an annex point) made of text lines (a paragraph's
   lead, its points "a) ...", its further subparagraphs). ``Act.apply`` carries out one
   instruction on units (replace/insert/add/delete a paragraph, article, annex or annex point)
   or on the lines of a unit (a point, subparagraph, lead-in). What cannot be applied
   mechanically gets status "not applied" with the reason, never dropped: the target's passages
   then carry the amending text as ``current_note``.
3. ``consolidate`` applies every amending act, in the order of their entry into force, and
   returns the documents with versioned blocks: a unit left unchanged keeps its blocks as the
   parser gave them (same ids, same content hashes); a changed wording becomes a history block
   (``history``, id + "@" + valid_from, valid_to = the amending act's entry into force) followed
   by the current block (plain id, valid_from = that date, ``amended_by``). The other language
   version of the amended act (no text of the amending act in that language) gets valid_to,
   amended_by and the new Dutch wording as ``current_note``.
4. Dates: an act's entry into force is derived from its publication date (manifest ``published``)
   and its own sentence "treedt in werking op de twintigste dag na die van de bekendmaking"
   (2024-07-12 + 20 days = 2024-08-01). ``application_dates`` reads the article on entry into
   force and application (Article 113) *as consolidated* into `ApplicationDate` rows, written at
   ingest to ``application_dates.json`` in the index build; ``load_application_dates(dir)`` reads
   them back.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import logging
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import legal
from .types import ApplicationDate, Block, BlockKind, Document

log = logging.getLogger(__name__)

APPLICATION_DATES_FILE = "application_dates.json"
AMENDMENTS_FILE = "amendments.json"
MAX_WORDS = 220  # as parse/eurlex_html.py: a paragraph longer than this is split at its points

_SUF = legal.SUFFIX_RE  # "(?:\s+(?:bis|ter|...))?"
_MONTHS_NL = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
              "oktober", "november", "december")
_MONTHS_EN = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
              "october", "november", "december")
_ORDINALS_NL = ("eerste tweede derde vierde vijfde zesde zevende achtste negende tiende elfde twaalfde dertiende "
                "veertiende vijftiende zestiende zeventiende achttiende negentiende twintigste").split()
_ORDINALS_EN = ("first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
                "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth").split()
_ALINEA = {w: i + 1 for i, w in enumerate(_ORDINALS_NL[:10])}


# --------------------------------------------------------------------------- dates


_EIF_NL = re.compile(r"treedt in werking op de (?:(\w+) )?dag (?:na|volgend op) (?:die van )?de bekendmaking", re.I)
_EIF_EN = re.compile(r"(?:shall )?enters? into force on the (?:(\w+) )?day following (?:that of )?its publication",
                     re.I)


def entry_into_force(doc: Document) -> tuple[str, str]:
    """(ISO date, provision that says so) of the act's entry into force, or ("", reason).

    Derived from the manifest's ``published`` and the act's own sentence on entry into force:
    "treedt in werking op de twintigste dag na die van de bekendmaking" = published + 20 days;
    "op de dag na" = + 1.
    """
    src = doc.source
    if not src.published:
        return "", f"{src.id}: no `published` date in corpus/sources.toml"
    published = dt.date.fromisoformat(src.published)
    for b in doc.blocks:
        if b.kind not in ("article", "other"):
            continue
        m = _EIF_NL.search(b.text) or _EIF_EN.search(b.text)
        if not m:
            continue
        word = (m.group(1) or "").lower()
        if not word:
            days = 1
        elif word in _ORDINALS_NL:
            days = _ORDINALS_NL.index(word) + 1
        elif word in _ORDINALS_EN:
            days = _ORDINALS_EN.index(word) + 1
        else:
            return "", f"{src.id}: {b.provision}: the day of entry into force ({word!r}) is not a known ordinal"
        return (published + dt.timedelta(days=days)).isoformat(), b.provision
    return "", f"{src.id}: no sentence on entry into force ('treedt in werking op de ... dag na ...') found"


_DATE_NL = re.compile(r"\b(\d{1,2})\s+(" + "|".join(_MONTHS_NL) + r")\s+(\d{4})\b", re.I)


def _iso(m: re.Match[str]) -> str:
    return dt.date(int(m.group(3)), _MONTHS_NL.index(m.group(2).lower()) + 1, int(m.group(1))).isoformat()


# --------------------------------------------------------------------------- instructions

_VERBS = r"(vervangen door|ingevoegd|toegevoegd|geschrapt|als volgt gewijzigd)"
_VERB_RE = re.compile(r"\b(?:wordt|worden)\b[^“:]*?\b" + _VERBS + r"\s*:?", re.I)
_MARKER = re.compile(r"^([a-z]|[ivx]{1,5})\)\s+")
_ROMAN = {"i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x"}
_ACTION = {"vervangen door": "replace", "ingevoegd": "insert", "toegevoegd": "add", "geschrapt": "delete",
           "als volgt gewijzigd": "modify"}


@dataclass
class Target:
    """Where an instruction acts, canonical where it can be: top "Article 5" / "Annex I"."""

    top: str = ""
    section: str = ""  # "afdeling B" of an annex
    lid: list[str] = field(default_factory=list)  # ["1"], ["2", "3"] (canonical: "1a")
    alinea: int = 0  # 1 = eerste alinea; 0 = not named; -1 = laatste
    punt: list[str] = field(default_factory=list)  # ["e"], ["7", "9"], ["14"]
    part: str = ""  # "aanhef" | "titel"
    obj: str = ""  # what is inserted/added: "lid" | "punt" | "artikel" | "bijlage" | "alinea"

    def describe(self) -> str:
        s = self.top or (f"(new {self.obj})" if self.obj else "?")
        if self.section:
            s += f", afdeling {self.section}"
        if self.lid:
            s += "(" + ",".join(self.lid) + ")"
        if self.alinea:
            s += f", alinea {self.alinea}"
        if self.punt:
            s += "(" + ",".join(self.punt) + ")"
        if self.part:
            s += f", {self.part}"
        return s


@dataclass
class Instruction:
    """One amending instruction: a point of the amending article, or one of its sub-points."""

    act: str  # doc id of the amending act ("omnibus")
    point: str  # the amending block's provision: "Article 1(5)"
    sub: str  # "" for the point itself, "b", "b.i" for its sub-points
    source_id: str  # passage id of the amending block ("omnibus/nl/art-1.5")
    text: str  # the whole amending text of this (sub-)point, instruction and new text
    action: str  # "replace" | "insert" | "add" | "delete" | "modify" (container) | "unknown"
    target: Target
    new_text: str = ""
    amends: str = ""  # doc id of the amended act
    date: str = ""  # entry into force of the amending act
    status: str = "pending"  # "applied" | "not applied" | "container"
    reason: str = ""
    changed: list[str] = field(default_factory=list)  # units changed (provisions)

    @property
    def label(self) -> str:
        return self.point + "".join(f"({x})" for x in self.sub.split(".") if x)

    def to_dict(self) -> dict[str, Any]:
        return {"act": self.act, "point": self.point, "sub": self.sub, "label": self.label,
                "source_id": self.source_id, "action": self.action, "target": self.target.describe(),
                "status": self.status, "reason": self.reason, "changed": self.changed, "date": self.date,
                "text": self.text}


_ITEM = r"\b(?:\d{1,3}|[a-z])\b" + _SUF
_LIST = _ITEM + r"\)?(?:\s*(?:,|en|of|tot en met)\s*(?:lid\s+)?" + _ITEM + r"\)?)*"
_ART_LIST = _ITEM + r"(?:\s*(?:,|en|tot en met)\s*" + _ITEM + r"(?![,\s]*(?:lid|leden|punt)))*"
_T_ART = re.compile(r"\bartikel\s+(\d{1,3}" + _SUF + r")\b", re.I)
_T_ANNEX = re.compile(r"\bbijlage\s+([IVXLC]+)\b", re.I)
_T_SECTION = re.compile(r"\bafdeling\s+([A-Z0-9]{1,3})\b", re.I)
_T_LEDEN = re.compile(r"\bleden\s+(" + _LIST + r")", re.I)
_T_LID = re.compile(r"\blid\s+(\d{1,3}" + _SUF + r")\b", re.I)
_T_ALINEA = re.compile(r"\b(eerste|tweede|derde|vierde|vijfde|zesde|zevende|achtste|laatste)\s+alinea\b", re.I)
_T_PUNTEN = re.compile(r"\bpunten\s+(" + _LIST + r")", re.I)
_T_PUNT = re.compile(r"\bpunt\s+(" + _ITEM + r")\)?", re.I)
_T_PART = re.compile(r"\b(aanhef|titel)\b", re.I)
_T_OBJ = re.compile(r"\b(?:het|de)\s+volgende\s+(lid|leden|punt|punten|artikel|artikelen|bijlage|bijlagen|alinea|"
                    r"alinea’s|alinea's)\b", re.I)
_OBJ = {"leden": "lid", "punten": "punt", "artikelen": "artikel", "bijlagen": "bijlage", "alinea’s": "alinea",
        "alinea's": "alinea"}


def _items(s: str) -> list[str]:
    """ "2 en 3" -> ["2", "3"], "b bis) en b ter" -> ["ba", "bb"], "102 tot en met 110" -> 102..110."""
    out: list[str] = []
    toks = re.findall(r"tot en met|" + _ITEM, s)
    i = 0
    while i < len(toks):
        t = toks[i]
        if t == "tot en met" and out and i + 1 < len(toks):
            a, b = out[-1], legal.number_from_latin(toks[i + 1])
            if a.isdigit() and b.isdigit():
                out.extend(str(n) for n in range(int(a) + 1, int(b) + 1))
            elif len(a) == 1 and len(b) == 1 and a.isalpha() and b.isalpha():
                out.extend(chr(c) for c in range(ord(a) + 1, ord(b) + 1))
            else:
                out.append(b)
            i += 2
            continue
        if t != "tot en met":
            out.append(legal.number_from_latin(t))
        i += 1
    return out


_LEVELS = ("top", "section", "lid", "alinea", "punt", "part")


def parse_target(head: str, parent: Target | None = None) -> Target:
    """The target named by an instruction's words (before the new text), inside ``parent``'s.

    A level the instruction names replaces the parent's and drops the parent's lower levels:
    under "artikel 5 wordt als volgt gewijzigd", "in lid 1 worden de volgende punten ingevoegd"
    is Article 5, lid 1; under "in artikel 96 wordt lid 1 als volgt gewijzigd", "in de eerste
    alinea wordt punt a) vervangen" is Article 96, lid 1, alinea 1, punt a.
    """
    t = Target()
    if m := _T_ART.search(head):
        t.top = f"Article {legal.number_from_latin(m.group(1))}"
    elif m := _T_ANNEX.search(head):
        t.top = f"Annex {m.group(1).upper()}"
    if m := _T_SECTION.search(head):
        t.section = m.group(1).upper()
    if m := _T_LEDEN.search(head):
        t.lid = _items(m.group(1))
    elif m := _T_LID.search(head):
        t.lid = [legal.number_from_latin(m.group(1))]
    if m := _T_ALINEA.search(head):
        w = m.group(1).lower()
        t.alinea = -1 if w == "laatste" else _ALINEA[w]
    if m := _T_PUNTEN.search(head):
        t.punt = _items(m.group(1))
    elif m := _T_PUNT.search(head):
        t.punt = [legal.number_from_latin(m.group(1))]
    if m := _T_PART.search(head):
        t.part = m.group(1).lower()
    if m := _T_OBJ.search(head):
        t.obj = _OBJ.get(m.group(1).lower(), m.group(1).lower())
    if parent is None:
        return t
    named = [lv for lv in _LEVELS if getattr(t, lv)]
    first = _LEVELS.index(named[0]) if named else len(_LEVELS)
    merged = Target(obj=t.obj)
    for i, lv in enumerate(_LEVELS):
        setattr(merged, lv, getattr(parent if i < first else t, lv))
    return merged


def _strip_quote(body: str) -> str:
    """The new text of an instruction without the quotation marks and the closing "”;"."""
    s = body.strip()
    s = re.sub(r"\s*(?:;|\.)?\s*(?:en|of)?\s*$", "", s) if re.search(r"”\s*[;.]?\s*(?:en|of)\s*$", s) else s
    s = re.sub(r"”\s*[;.]?\s*$", "", s)
    s = re.sub(r"^“", "", s)
    if s.count("“") > s.count("”"):  # a stray opening quote after a number ("1. “AI-systemen")
        s = re.sub(r"^(\d{1,3}" + _SUF + r"\.\s+)“", r"\1", s, count=1)
    return s.strip()


@dataclass
class _Node:
    marker: str
    level: int
    lines: list[str]
    parent: int = -1  # index in the node list


def _is_instruction(line: str) -> bool:
    rest = _MARKER.sub("", line, count=1)
    before = rest.split("“", 1)[0]
    return bool(_VERB_RE.search(before))


def _split_nodes(text: str) -> list[_Node]:
    """A point's text -> its instruction and sub-instructions (a), b), i) ...), by quote depth."""
    lines = [ln for ln in text.split("\n") if ln.strip()]
    if not lines:
        return []
    nodes = [_Node("", 0, [lines[0]])]
    depth = max(0, lines[0].count("“") - lines[0].count("”"))
    prev = lines[0]
    for line in lines[1:]:
        m = _MARKER.match(line)
        closed = depth <= 0 or bool(re.search(r"”\s*[;.]?\s*(?:en|of)?\s*$", prev))
        if m and closed and _is_instruction(line):
            marker = m.group(1)
            # a roman numeral is a sub-point of the last letter sub-point that is a container
            level = 1
            last1 = next((k for k in range(len(nodes) - 1, -1, -1) if nodes[k].level == 1), -1)
            if marker in _ROMAN and last1 >= 0 and _VERB_RE.search(nodes[last1].lines[0]) and \
                    "als volgt gewijzigd" in nodes[last1].lines[0].split("“", 1)[0] and \
                    not (marker == "i" and nodes[last1].marker == "h"):
                level = 2
            parent = next(k for k in range(len(nodes) - 1, -1, -1) if nodes[k].level < level)
            nodes.append(_Node(marker, level, [line], parent))
            depth = 0
        else:
            nodes[-1].lines.append(line)
        depth = max(0, depth + line.count("“") - line.count("”"))
        prev = line
    return nodes


def parse_point(block: Block, *, act: str, source_id: str, amends: str = "", date: str = "") -> list[Instruction]:
    """One amending point (a block of kind "amendment") -> its instructions, the point first."""
    nodes = _split_nodes(block.text)
    out: list[Instruction] = []
    targets: list[Target] = []
    subs: list[str] = []
    for k, node in enumerate(nodes):
        full = "\n".join(node.lines)
        body_text = _MARKER.sub("", full, count=1) if node.level else full
        m = _VERB_RE.search(body_text.split("“", 1)[0])
        parent_t = targets[node.parent] if node.parent >= 0 else None
        sub = ""
        if node.level:
            ps = subs[node.parent]
            sub = f"{ps}.{node.marker}" if ps else node.marker
        subs.append(sub)
        if not m:
            t = parse_target(body_text, parent_t)
            targets.append(t)
            out.append(Instruction(act, block.provision, sub, source_id, full, "unknown", t, amends=amends,
                                   date=date))
            continue
        head, body = body_text[: m.end()], body_text[m.end():]
        t = parse_target(head, parent_t)
        if not t.top and parent_t is None:
            t.top = ""
        targets.append(t)
        action = _ACTION[m.group(1).lower()]
        has_children = any(n.parent == k for n in nodes)
        new_text = _strip_quote(body)
        if action == "modify" and not has_children:
            action = "replace" if new_text else "unknown"  # "Punt 14 wordt als volgt gewijzigd: “14) ...”"
        out.append(Instruction(act, block.provision, sub, source_id, full, action, t, new_text, amends, date))
    return out


# --------------------------------------------------------------------------- the act as units

_LINE_MARKER = re.compile(r"^((?:\d{1,3}|[a-z]{1,2}|[ivx]{1,5})" + _SUF + r")\)\s")
_PARA_START = re.compile(r"^(\d{1,3}" + _SUF + r")\.\s")
_PRINTED_PARA = re.compile(r"^\d{1,3}" + _SUF + r"\.\s+")


def _unit_key(provision: str) -> str | None:
    p = legal.parse(provision)
    if p is None or p.kind not in ("article", "annex"):
        return None
    if p.kind == "article":
        if p.path and (p.number == "3" or p.path[0][0].isdigit()):
            return legal.Provision("article", p.number, p.path[:1]).canonical
        return legal.Provision("article", p.number).canonical
    return legal.Provision("annex", p.number, p.path[:1], p.section).canonical


@dataclass
class Unit:
    """A paragraph (with its points), an article without paragraphs, a definition or an annex point."""

    key: str  # "Article 5(1)", "Article 4", "Article 3(14)", "Annex I(1)", "Annex VIII, Section B"
    kind: str
    title: str
    anchor: str
    lines: list[str]
    blocks: list[Block]  # the blocks of the wording in force before the current act's changes
    extra_context: str = ""  # annex section heading given as context
    split: bool = False  # its points are blocks of their own
    changed_by: list[str] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (amending text, source id)
    point_origin: dict[str, str] = field(default_factory=dict)  # point marker -> source id that set it
    url: str = ""
    version: str = ""
    history: list[Block] = field(default_factory=list)  # superseded wordings, placed before its blocks

    @property
    def top(self) -> str:
        return legal.article_of(self.key)


def _point_key(line: str, last_letter: str) -> str | None:
    m = _LINE_MARKER.match(line)
    if not m:
        return None
    return legal.number_from_latin(m.group(1))


def _is_sub(key: str, last_letter: str) -> bool:
    """A roman sub-point (i, ii, ...) rather than the letter point after ``last_letter``."""
    if key not in _ROMAN:
        return False
    return not (len(key) == 1 and last_letter and ord(key) == ord(last_letter[0]) + 1)


def _roles(lines: list[str]) -> list[tuple[str, str] | None]:
    """Per line: ("top", key) for a point, ("sub", key) for a roman sub-point, None for text.

    "i)" after "h)" is a sub-point when "ii)" follows (Article 5(1)(h)(i)), else the letter i.
    """
    keys = [_point_key(ln, "") for ln in lines]
    out: list[tuple[str, str] | None] = []
    last_top, prev_sub = "", ""
    for i, k in enumerate(keys):
        if k is None:
            out.append(None)
            prev_sub = ""
            continue
        nxt = next((x for x in keys[i + 1:] if x is not None), None)
        successor = bool(last_top) and len(last_top) == 1 and len(k) == 1 and ord(k) == ord(last_top) + 1
        roman_next = legal.int_to_roman(legal.roman_to_int(k) + 1).lower() if k in _ROMAN else ""
        if k in _ROMAN and (len(k) > 1 or prev_sub or not successor or (nxt is not None and nxt == roman_next)):
            out.append(("sub", k))
            prev_sub = k
        else:
            out.append(("top", k))
            last_top, prev_sub = k, ""
    return out


def _unit_from_blocks(key: str, blocks: list[Block]) -> Unit:
    lead_b = next((b for b in blocks if b.provision == key), None)
    points = [b for b in blocks if b.provision != key]
    first = blocks[0]
    extra = lead_b.context if lead_b is not None else ""
    if not points:
        lines = lead_b.text.split("\n") if lead_b else []
        return Unit(key, first.kind, first.title, first.anchor, lines, list(blocks), extra, False)
    ctx = points[0].context
    if extra and ctx.startswith(extra):
        chap = ctx[len(extra):].strip()
    elif lead_b is None and legal.parse(key) and legal.parse(key).kind == "annex":  # type: ignore[union-attr]
        chap, extra = "", ctx
    else:
        chap = ctx
    lead_lines = lead_b.text.split("\n") if lead_b else ([chap] if chap else [])
    i = next((k for k, ln in enumerate(lead_lines) if _PRINTED_PARA.sub("", ln) == chap), 0)
    lead, rest = lead_lines[: i + 1], lead_lines[i + 1:]
    lines = lead + [ln for b in points for ln in b.text.split("\n")] + rest
    return Unit(key, first.kind, first.title, first.anchor, lines, list(blocks), extra, True)


class Act:
    """The blocks of one language version of an act, grouped into units, in document order."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.items: list[Block | Unit] = []
        groups: dict[str, list[Block]] = {}
        for b in doc.blocks:
            key = _unit_key(b.provision) if b.kind in ("article", "definition", "annex") else None
            if key is None:
                self.items.append(b)
            elif key in groups:
                groups[key].append(b)
            else:
                groups[key] = [b]
                self.items.append(Unit(key, "", "", "", [], []))  # placeholder, filled below
        for k, it in enumerate(self.items):
            if isinstance(it, Unit):
                self.items[k] = _unit_from_blocks(it.key, groups[it.key])

    # -- lookup
    def units(self) -> list[Unit]:
        return [u for u in self.items if isinstance(u, Unit)]

    def find(self, key: str) -> Unit | None:
        return next((u for u in self.units() if u.key == key), None)

    def of_top(self, top: str) -> list[Unit]:
        return [u for u in self.units() if u.top == top]

    def index(self, unit: Unit) -> int:
        return next(k for k, it in enumerate(self.items) if it is unit)

    def remove(self, unit: Unit, source_id: str, when: str) -> None:
        """Take a unit out; its blocks stay as history (valid_to = ``when``) where it was."""
        k = self.index(unit)
        gone = Unit("__removed__", "", "", "", [], [])
        gone.history = unit.history + [replace(b, history=True, valid_to=when,
                                               amended_by=list(dict.fromkeys([*unit.changed_by, source_id])))
                                       for b in unit.blocks]
        self.items[k] = gone

    def insert_after(self, anchor: Unit | None, units: list[Unit], before: Unit | None = None) -> None:
        if anchor is not None:
            k = self.index(anchor) + 1
        elif before is not None:
            k = self.index(before)
        else:
            k = len(self.items)
        self.items[k:k] = units


def _split_numbered(text: str, first: re.Match[str] | None, marker: str) -> list[tuple[str, list[str]]]:
    """Text cut at its numbers, each found only where the *next* number may follow the one before
    ("1" then "2" or "1 bis"): ``marker`` is the regex that precedes and follows a number (a format
    string with one ``{}`` for the number in Latin form). [(number, lines)], [] without ``first``."""
    if not first:
        return []
    cur = legal.number_from_latin(first.group(1))
    found = [(0, cur)]
    pos = first.end()
    while True:
        nxt = None
        for cand in _successors(cur):
            m = re.compile(marker.format(re.escape(legal.number_to_latin(cand)))).search(text, pos)
            if m and (nxt is None or m.start() < nxt[0].start()):
                nxt = (m, cand)
        if nxt is None:
            break
        m, cand = nxt
        found.append((m.start(1), cand))
        pos = m.end()
        cur = cand
    out = []
    for i, (start, num) in enumerate(found):
        end = found[i + 1][0] if i + 1 < len(found) else len(text)
        out.append((num, [ln.strip() for ln in text[start:end].strip().split("\n") if ln.strip()]))
    return out


def _split_paragraphs(text: str) -> list[tuple[str, list[str]]]:
    """New text of paragraphs ("1. ... 2. ...", "1 bis. ... 1 ter. ...") -> [(number, lines)].

    Numbers are found at a sentence end followed by the *next* number only ("1", then "2" or
    "1 bis"), so "in lid 1. De" is not a paragraph. Points stay on lines of their own.
    """
    return _split_numbered(text, _PARA_START.match(text), r"(?:(?<=[.;:”])\s+|\n)({})\.\s+(?=[A-Z“(])")


def _successors(n: str) -> list[str]:
    """Numbers that may follow paragraph/point ``n``: "1" -> "2", "1a"; "1a" -> "1b", "2"."""
    m = re.match(r"^(\d{1,3})([a-j]?)$", n)
    if m:
        base, suf = int(m.group(1)), m.group(2)
        nxt_suf = chr(ord(suf) + 1) if suf else "a"
        return [f"{base + 1}", f"{base}{nxt_suf}"]
    ml = re.match(r"^([a-z])([a-j]?)$", n)
    if ml:
        letter, lsuf = ml.group(1), ml.group(2)
        return [chr(ord(letter) + 1), f"{letter}{chr(ord(lsuf) + 1) if lsuf else 'a'}"]
    return []


def _split_items(text: str) -> list[tuple[str, list[str]]]:
    """New points ("b bis) ...; b ter) ...", "14 bis) ...; 14 ter) ...") -> [(number, lines)]."""
    return _split_numbered(text, _LINE_MARKER.match(text), r"(?:(?<=[;:.])\s+|\n)({})\)\s+")


_NEW_ARTICLE = re.compile(r"(?:^|(?<=[.;:”])\s+|\n)Artikel\s+(\d{1,3}" + _SUF + r")\s+", re.I)
_NEW_ANNEX = re.compile(r"^Bijlage\s+([IVXLC]+)\s+", re.I)


def _split_articles(text: str) -> list[tuple[str, str, str]]:
    """ "Artikel 75 bis Title 1. ... Artikel 75 ter ..." -> [(number, title, body)]."""
    # headings in sequence only: "Artikel 75 bis", then "Artikel 75 ter" or "Artikel 76"
    ms: list[re.Match[str]] = []
    for m in _NEW_ARTICLE.finditer(text):
        if not text[m.start():].lstrip().startswith("Artikel"):
            continue
        num = legal.number_from_latin(m.group(1))
        if not ms or num in _successors(legal.number_from_latin(ms[-1].group(1))):
            ms.append(m)
    out = []
    for i, m in enumerate(ms):
        end = ms[i + 1].start() if i + 1 < len(ms) else len(text)
        chunk = text[m.end():end].strip()
        num = legal.number_from_latin(m.group(1))
        pm = re.search(r"(?:^|\s)1\.\s+(?=[A-Z“])", chunk)
        if pm:
            title, body = chunk[: pm.start()].strip(), chunk[pm.start():].strip()
        else:  # no numbered paragraphs: the title is the first line's words up to the first sentence
            first, _, more = chunk.partition("\n")
            tm = re.match(r"^(.{3,200}?)\s+(?=[A-Z][a-z])", first)
            title = tm.group(1) if tm else ""
            body = (first[len(title):].strip() + ("\n" + more if more else "")).strip()
        out.append((num, title, body))
    return out


# --------------------------------------------------------------------------- applying


class NotApplied(Exception):
    """An instruction that cannot be carried out mechanically; the message says why."""


def _alinea_range(lines: list[str], k: int) -> tuple[int, int]:
    """Lines [start, end) of subparagraph k (1-based, -1 = last): a line that is not a point starts one."""
    starts = [i for i, ln in enumerate(lines) if i == 0 or not _LINE_MARKER.match(ln)]
    if k == -1:
        k = len(starts)
    if k < 1 or k > len(starts):
        raise NotApplied(f"it names subparagraph {k}; the text has {len(starts)}")
    start = starts[k - 1]
    end = starts[k] if k < len(starts) else len(lines)
    return start, end


def _point_extent(lines: list[str], key: str, lo: int, hi: int) -> tuple[int, int] | None:
    roles = _roles(lines)
    for i in range(lo, hi):
        r = roles[i]
        if r is None or r[0] != "top" or r[1] != key:
            continue
        j = i + 1
        while j < hi and roles[j] is not None and roles[j][0] == "sub":  # type: ignore[index]
            j += 1
        return i, j
    return None


def _last_point_end(lines: list[str], lo: int, hi: int) -> int | None:
    end = None
    for i in range(lo, hi):
        if _LINE_MARKER.match(lines[i]):
            end = i + 1
    return end


def _predecessor(key: str) -> list[str]:
    """Which existing point/paragraph an inserted one follows: "ba" -> "b"; "bb" -> "ba", "b"."""
    m = re.match(r"^(\d{1,3}|[a-z])([a-j])$", key)
    if not m:
        if key.isdigit():
            return [str(int(key) - 1)]
        if len(key) == 1 and key.isalpha():
            return [chr(ord(key) - 1)]
        return []
    base, suf = m.group(1), m.group(2)
    return ([base + chr(ord(suf) - 1)] if suf > "a" else []) + [base]


class Applier:
    def __init__(self, act: Act, lang: str = "nl", when: str = "") -> None:
        self.act = act
        self.lang = lang
        self.when = when
        self._src = ""

    def _remove(self, unit: Unit) -> None:
        self.act.remove(unit, self._src, self.when)

    def apply(self, ins: Instruction) -> None:
        """Carry out one instruction; sets its status/reason/changed (never raises)."""
        if ins.action == "modify":
            ins.status = "container"
            return
        try:
            if ins.action == "unknown":
                raise NotApplied("no amending phrase (vervangen door / ingevoegd / toegevoegd / geschrapt) was "
                                 "recognised")
            if not ins.target.top and ins.target.obj not in ("artikel", "bijlage"):
                raise NotApplied("it names no article or annex")
            self._src = ins.source_id
            changed = self._apply(ins)
            ins.status = "applied"
            ins.changed = changed
            for key in changed:
                u = self.act.find(key)
                if u is not None and ins.source_id not in u.changed_by:
                    u.changed_by.append(ins.source_id)
        except NotApplied as e:
            ins.status = "not applied"
            ins.reason = str(e)
            for u in self._note_targets(ins):
                u.notes.append((ins.text, ins.source_id))

    def _note_targets(self, ins: Instruction) -> list[Unit]:
        t = ins.target
        if t.lid:
            found = [u for u in (self.act.find(f"{t.top}({n})") for n in t.lid) if u is not None]
            if found:
                return found
        return self.act.of_top(t.top)

    # -- dispatch
    def _apply(self, ins: Instruction) -> list[str]:
        t, a = ins.target, ins.action
        if t.part == "titel":
            if a != "replace":
                raise NotApplied("only the replacement of a title is supported")
            units = self.act.of_top(t.top)
            if not units:
                raise NotApplied(f"{t.top} is not in the text")
            for u in units:
                u.title = ins.new_text.strip()
            return [u.key for u in units]
        if a in ("insert", "add") and t.obj in ("artikel", "bijlage"):
            return self._insert_tops(ins)
        if a in ("insert", "add") and t.obj == "lid":
            return self._insert_paragraphs(ins)
        if not t.lid and not t.alinea and not t.punt and not t.part and not t.obj:
            if a == "replace":
                return self._replace_top(ins)
            if a == "delete":
                units = self.act.of_top(t.top)
                if not units:
                    raise NotApplied(f"{t.top} is not in the text")
                for u in units:
                    self._remove(u)
                return [u.key for u in units]
            raise NotApplied(f"'{a}' of a whole {t.top} without saying what is inserted")
        if t.lid and not t.alinea and not t.punt and not t.part and not t.obj:
            return self._paragraphs(ins)
        return self._in_unit(ins)

    def _top_units_or_fail(self, top: str) -> list[Unit]:
        units = self.act.of_top(top)
        if not units:
            raise NotApplied(f"{top} is not in the text")
        return units

    def _new_unit(self, key: str, lines: list[str], like: Unit | None, ins: Instruction, title: str = "",
                  kind: str = "") -> Unit:
        anchor = like.anchor if like is not None else ""
        return Unit(key, kind or (like.kind if like else "article"), title or (like.title if like else ""),
                    anchor, lines, [], like.extra_context if like else "", False, [ins.source_id])

    def _replace_top(self, ins: Instruction) -> list[str]:
        t = ins.target
        old = self._top_units_or_fail(t.top)
        if t.top.startswith("Annex"):
            raise NotApplied("the replacement of a whole annex is not supported")
        arts = _split_articles(ins.new_text)
        if len(arts) != 1 or f"Article {arts[0][0]}" != t.top:
            raise NotApplied(f"the new text does not start with the heading of {t.top}")
        new = self._article_units(t.top, arts[0][1], arts[0][2], old[0], ins)
        self.act.insert_after(old[-1], new)
        for u in old:
            self._remove(u)
        return [u.key for u in new]

    def _article_units(self, top: str, title: str, body: str, like: Unit | None, ins: Instruction) -> list[Unit]:
        paras = _split_paragraphs(body)
        anchor = f"art_{top.split()[1]}"
        if not paras:
            u = self._new_unit(top, [ln for ln in body.split("\n") if ln.strip()], like, ins, title, "article")
            u.anchor = like.anchor if like is not None and like.top == top else anchor
            return [u]
        out = []
        for num, lines in paras:
            u = self._new_unit(f"{top}({num})", lines, like, ins, title, "article")
            u.anchor = like.anchor if like is not None and like.top == top else anchor
            out.append(u)
        return out

    def _insert_tops(self, ins: Instruction) -> list[str]:
        t = ins.target
        if t.obj == "bijlage":
            m = _NEW_ANNEX.match(ins.new_text)
            if not m:
                raise NotApplied("the new annex does not start with 'Bijlage <number>'")
            roman = m.group(1).upper()
            key = f"Annex {roman}"
            if self.act.of_top(key):
                raise NotApplied(f"{key} already exists")
            body = ins.new_text[m.end():].strip()
            annexes = [u for u in self.act.units() if u.top.startswith("Annex ")]
            u = Unit(key, "annex", "", f"anx_{roman}", [ln for ln in body.split("\n") if ln.strip()], [], "",
                     False, [ins.source_id])
            # the title runs up to the first numbered heading ("1. Inleiding")
            tm = re.match(r"^(.{3,400}?)\s+(?=1\.\s)", u.lines[0]) if u.lines else None
            if tm:
                u.title = tm.group(1)
                u.lines[0] = u.lines[0][tm.end():]
            self.act.insert_after(annexes[-1] if annexes else None, [u])
            return [key]
        arts = _split_articles(ins.new_text)
        if not arts:
            raise NotApplied("the new text does not start with 'Artikel <number>'")
        changed: list[str] = []
        for num, title, body in arts:
            top = f"Article {num}"
            if self.act.of_top(top):
                raise NotApplied(f"{top} already exists")
            new = self._article_units(top, title, body, None, ins)
            anchor = self._after_top(num)
            self.act.insert_after(anchor, new)
            changed.extend(u.key for u in new)
        return changed

    def _after_top(self, num: str) -> Unit | None:
        """The last unit of the article an inserted article "75b" follows (75a, else 75)."""
        for pred in _predecessor(num) + [re.sub(r"[a-j]$", "", num)]:
            units = self.act.of_top(f"Article {pred}")
            if units:
                return units[-1]
        return None

    def _insert_paragraphs(self, ins: Instruction) -> list[str]:
        t = ins.target
        units = self._top_units_or_fail(t.top)
        if any(u.key == t.top for u in units):
            raise NotApplied(f"{t.top} has no numbered paragraphs to insert a paragraph among")
        paras = _split_paragraphs(ins.new_text)
        if not paras:
            raise NotApplied("the new text does not start with a paragraph number ('1 bis.')")
        changed = []
        for num, lines in paras:
            key = f"{t.top}({num})"
            if self.act.find(key) is not None:
                raise NotApplied(f"{key} already exists")
            anchor = None
            if ins.action == "insert":
                for pred in _predecessor(num):
                    anchor = self.act.find(f"{t.top}({pred})") or anchor
                    if anchor is not None:
                        break
                if anchor is None:
                    raise NotApplied(f"no paragraph of {t.top} for {key} to follow")
            else:
                anchor = self.act.of_top(t.top)[-1]
            new = self._new_unit(key, lines, units[0], ins, kind="article")
            self.act.insert_after(anchor, [new])
            changed.append(key)
        return changed

    def _paragraphs(self, ins: Instruction) -> list[str]:
        t = ins.target
        self._top_units_or_fail(t.top)
        keys = [f"{t.top}({n})" for n in t.lid]
        units = [self.act.find(k) for k in keys]
        missing = [k for k, u in zip(keys, units, strict=True) if u is None]
        if missing:
            raise NotApplied(f"{', '.join(missing)} not in the text")
        if ins.action == "delete":
            for u in units:
                self._remove(u)  # type: ignore[arg-type]
            return keys
        if ins.action != "replace":
            raise NotApplied(f"'{ins.action}' of a paragraph without a new paragraph number")
        paras = _split_paragraphs(ins.new_text)
        if len(keys) == 1 and not paras:
            paras = [(t.lid[0], [ln for ln in ins.new_text.split("\n") if ln.strip()])]
        if [n for n, _ in paras] != list(t.lid):
            raise NotApplied(f"the new text numbers its paragraphs {[n for n, _ in paras]}, the instruction "
                             f"names {list(t.lid)}")
        for u, (_, lines) in zip(units, paras, strict=True):
            u.lines = lines  # type: ignore[union-attr]
        return keys

    def _container(self, t: Target) -> tuple[str, list[Unit]]:
        """The provision whose points/subparagraphs an instruction addresses, and its units."""
        base = t.top + "".join(f"({n})" for n in t.lid[:1])
        if t.section and t.top.startswith("Annex"):
            sectioned = legal.parse(t.top).number in legal.SECTIONED_ANNEXES  # type: ignore[union-attr]
            if sectioned:
                base = f"{t.top}, Section {t.section}"
        units = [u for u in self.act.units() if u.key == base or u.key.startswith(base + "(")]
        if t.section and t.top.startswith("Annex") and not base.endswith(f"Section {t.section}"):
            # a section that is only a heading (Annex I): its points carry it as context
            units = [u for u in units if u.extra_context.lower().startswith(f"afdeling {t.section.lower()}")
                     or u.key == base]
        return base, units

    def _in_unit(self, ins: Instruction) -> list[str]:
        t, a = ins.target, ins.action
        if len(t.lid) > 1:
            raise NotApplied("a change inside several paragraphs at once")
        base, units = self._container(t)
        if not units:
            raise NotApplied(f"{base} is not in the text")
        child_units = [u for u in units if u.key != base]
        # points that are units of their own (definitions of Article 3, annex points)
        if child_units and (t.punt or (t.obj == "punt")) and not t.alinea and not t.part:
            return self._point_units(ins, base, child_units)
        unit = next((u for u in units if u.key == base), None)
        if unit is None:
            raise NotApplied(f"{base} is not one text in the act as parsed")
        lines = list(unit.lines)
        lo, hi = _alinea_range(lines, t.alinea) if t.alinea else (0, len(lines))
        new_lines = [ln for ln in ins.new_text.split("\n") if ln.strip()]
        if t.part == "aanhef":
            if a != "replace":
                raise NotApplied("only the replacement of a lead-in is supported")
            lines[lo:lo + 1] = new_lines
        elif t.punt:
            if a == "replace" or a == "delete":
                for key in t.punt:
                    ext = _point_extent(lines, key, lo, hi)
                    if ext is None:
                        raise NotApplied(f"{base}: point {legal.number_to_latin(key)}) not found")
                    repl = new_lines if a == "replace" else []
                    lines[ext[0]:ext[1]] = repl
                    hi += len(repl) - (ext[1] - ext[0])
                    if a == "replace":
                        unit.point_origin[key] = ins.source_id
            else:
                raise NotApplied(f"'{a}' at point {', '.join(t.punt)} without a new point")
        elif t.obj == "punt":
            added: list[str] = []
            items = _split_items(ins.new_text)
            if not items:
                raise NotApplied("the new text does not start with a point ('d)', 'b bis)')")
            for key, item_lines in items:
                if _point_extent(lines, key, lo, hi) is not None:
                    raise NotApplied(f"{base}: point {legal.number_to_latin(key)}) already exists")
                if a == "insert":
                    ext = next((e for p in _predecessor(key) if (e := _point_extent(lines, p, lo, hi))), None)
                    if ext is None:
                        raise NotApplied(f"{base}: no point for {legal.number_to_latin(key)}) to follow")
                    at = ext[1]
                else:
                    at = _last_point_end(lines, lo, hi) or hi
                lines[at:at] = item_lines
                hi += len(item_lines)
                unit.point_origin[key] = ins.source_id
                added.append(f"{base}({key})")
        elif t.obj == "alinea":
            if a != "add":
                raise NotApplied("an inserted subparagraph does not say where it goes")
            at = hi if t.alinea else len(lines)
            lines[at:at] = new_lines
        elif t.alinea:
            if a == "replace":
                lines[lo:hi] = new_lines
            elif a == "delete":
                del lines[lo:hi]
            else:
                raise NotApplied(f"'{a}' at a subparagraph without saying what is inserted")
        else:
            raise NotApplied("the instruction names no point, subparagraph or lead-in inside " + base)
        if not lines:
            raise NotApplied(f"{base} would be left empty")
        unit.lines = lines
        return [unit.key, *(added if t.obj == "punt" and not t.punt else [])]

    def _point_units(self, ins: Instruction, base: str, units: list[Unit]) -> list[str]:
        t, a = ins.target, ins.action
        if t.punt and a in ("replace", "delete"):
            changed = []
            for key in t.punt:
                u = self.act.find(f"{base}({key})")
                if u is None:
                    raise NotApplied(f"{base}({key}) is not in the text")
                if a == "delete":
                    self._remove(u)
                else:
                    u.lines = [ln for ln in ins.new_text.split("\n") if ln.strip()]
                changed.append(u.key)
            return changed
        if a not in ("insert", "add"):
            raise NotApplied(f"'{a}' at points without a new point")
        items = _split_items(ins.new_text)
        numbered = re.match(r"^(\d{1,3}" + _SUF + r")\.\s", ins.new_text)
        if not items and numbered:  # annex points "21. ..."
            items = [(legal.number_from_latin(numbered.group(1)), [ln for ln in ins.new_text.split("\n") if ln])]
        if not items:
            raise NotApplied("the new text does not start with a point number")
        changed = []
        for key, item_lines in items:
            nk = f"{base}({key})"
            if self.act.find(nk) is not None:
                raise NotApplied(f"{nk} already exists")
            if a == "insert":
                anchor = next((u for p in _predecessor(key) if (u := self.act.find(f"{base}({p})"))), None)
                if anchor is None:
                    raise NotApplied(f"no point for {nk} to follow")
            else:
                anchor = units[-1]
            new = self._new_unit(nk, item_lines, anchor, ins)
            self.act.insert_after(anchor, [new])
            changed.append(nk)
        return changed


# --------------------------------------------------------------------------- blocks out


def _emit(unit: Unit, lang: str) -> list[Block]:
    """A unit's blocks, cut as parse/eurlex_html.py cuts them (points split when long, annexes always)."""
    lines = [ln for ln in unit.lines if ln.strip()]
    annex = unit.key.startswith("Annex")
    kind: BlockKind = "article"
    if unit.kind in ("definition", "annex"):
        kind = "definition" if unit.kind == "definition" else "annex"
    pts: list[tuple[int, int, str]] = []
    for i, r in enumerate(_roles(lines)):
        if r is None:
            continue
        role, pk = r
        if role == "sub" or pk[0].isdigit():
            if pts and role == "sub" and pts[-1][1] == i:
                pts[-1] = (pts[-1][0], i + 1, pts[-1][2])
            continue
        pts.append((i, i + 1, pk))
    keys = [k for _, _, k in pts]
    words = sum(len(ln.split()) for ln in lines)
    split = len(pts) >= 2 and len(set(keys)) == len(keys) and (annex or words > MAX_WORDS) and \
        not unit.key.startswith("Article 3(")
    base = legal.parse(unit.key)
    assert base is not None

    def block(prov: str, text_lines: list[str], context: str) -> Block:
        text = "\n".join(text_lines)
        refs = [r for r in legal.find_refs(text, lang) if r != prov]
        return Block(prov, legal.label(prov, lang), unit.title, text, kind, unit.anchor, refs, [], context,
                     url=unit.url, version=unit.version)

    if not split:
        return [block(unit.key, lines, unit.extra_context)]
    first = pts[0][0]
    lead = lines[:first]
    inside = {i for s, e, _ in pts for i in range(s, e)}
    rest = [ln for i, ln in enumerate(lines) if i >= first and i not in inside]
    chapeau = _PRINTED_PARA.sub("", lead[-1]) if lead else ""
    context = " ".join(x for x in (unit.extra_context, chapeau) if x)
    out = []
    if rest or len(lead) > 1:
        out.append(block(unit.key, lead + rest, unit.extra_context))
    for s, e, k in pts:
        prov = legal.Provision(base.kind, base.number, (*base.path, k), base.section).canonical
        out.append(block(prov, lines[s:e], context))
    return out


def _same(a: Block, b: Block) -> bool:
    return (a.text, a.context, a.title) == (b.text, b.context, b.title)


@dataclass
class Consolidation:
    """What ``consolidate`` made: the documents to chunk, every instruction, dates, warnings."""

    documents: list[Document]
    instructions: list[Instruction] = field(default_factory=list)
    application_dates: list[ApplicationDate] = field(default_factory=list)
    unresolved_dates: list[dict[str, Any]] = field(default_factory=list)
    entry_into_force: dict[str, str] = field(default_factory=dict)  # source id -> ISO date
    warnings: list[str] = field(default_factory=list)
    corrected: list[str] = field(default_factory=list)  # "<source id>: <provision>" taken from a corrected text
    chapters: dict[str, str] = field(default_factory=dict)  # "Article 6" -> "Chapter III, Section 1" (as amended)

    def summary(self) -> dict[str, Any]:
        acts = [i for i in self.instructions if i.status != "container"]
        return {"instructions": len(acts), "applied": sum(i.status == "applied" for i in acts),
                "not_applied": sum(i.status == "not applied" for i in acts),
                "points": len({(i.act, i.point) for i in self.instructions})}


# --------------------------------------------------------------------------- corrigenda

_MARK = re.compile(r"[▼►◄]\s*[A-Z]\d*\b|[▼►◄]")  # EUR-Lex consolidation markers (▼B, ▼C2, ►C1 ... ◄)
_FOOTNOTE = re.compile(r"\s*\(\s*\*?\s*\d{1,2}\s*\)(?=[\s;:,.]|$)")  # "( 1 )", "( *2 )"
_BARE_MARKER = re.compile(r"(\d{1,3}\.|\(?[a-z]{1,4}\)|\d{1,3}\)|—|-)")


def _clean(s: str) -> str:
    return re.sub(r"\s+", " ", _FOOTNOTE.sub("", _MARK.sub("", s))).strip()


def _norm(s: str) -> str:
    """Text compared without layout: no leading paragraph number, superscript mark, footnote call."""
    return _PRINTED_PARA.sub("", _clean(s).replace("^", ""))


def _consolidated_lines(text: str) -> list[str]:
    """Lines of a consolidated text, a lone marker ("1.", "a)") joined to the line after it."""
    out: list[str] = []
    for raw in text.split("\n"):
        ln = _clean(raw)
        if not ln:
            continue
        if out and _BARE_MARKER.fullmatch(out[-1]):
            out[-1] += " " + ln
        else:
            out.append(ln)
    return out


def apply_corrections(doc: Document, corrected: Document) -> tuple[Document, list[str]]:
    """The text with the corrigenda of ``corrected`` (a consolidated text of the same act and
    language) worked into its articles: a paragraph (or definition) whose text differs, beyond
    layout, takes the consolidated wording; one whose printed number differs takes the number
    (Article 73: the OJ prints 11. for paragraph 10). Corrigenda apply from the start: the
    passages keep their ids and dates, no history. Returns the document and what was corrected.
    Recitals are kept (the consolidated text has none); annexes are left as published."""
    act = Act(doc)
    changed: list[str] = []
    for b in corrected.blocks:
        top = legal.parse(b.provision)
        if top is None or top.kind != "article" or top.path:
            continue
        units = act.of_top(b.provision)
        if not units:
            continue
        lines = _consolidated_lines(b.text)
        if lines and re.match(r"^Artikel\s+\d", lines[0]):
            lines = lines[1:]
        if lines and lines[0] == _clean(units[0].title):
            lines = lines[1:]
        pairs: list[tuple[Unit, list[str]]] = []
        if len(units) == 1 and units[0].key == b.provision:
            pairs = [(units[0], lines)]
        else:
            rx = re.compile(r"^(\d{1,3})\)\s") if top.number == "3" else _PRINTED_PARA
            starts = [i for i, ln in enumerate(lines) if rx.match(ln)]
            paras = [lines[s:e] for s, e in zip(starts, [*starts[1:], len(lines)], strict=True)]
            numbered = [u for u in units if u.key != b.provision]
            if len(paras) != len(numbered):
                continue  # the structure differs: left as published
            pairs = list(zip(numbered, paras, strict=True))
        for u, para in pairs:
            if not para or not u.lines:
                continue
            a, c = _norm(" ".join(u.lines)), _norm(" ".join(para))
            if a != c:
                ops = [(t, i2 - i1) for t, i1, i2, _, _ in
                       difflib.SequenceMatcher(None, a, c, autojunk=False).get_opcodes() if t != "equal"]
                if all(t == "delete" and n >= 30 for t, n in ops):  # only an OJ footnote left out: layout
                    continue
                u.lines = para
                changed.append(u.key)
                continue
            mine, theirs = _PRINTED_PARA.match(_clean(u.lines[0])), _PRINTED_PARA.match(para[0])
            if mine and theirs and mine.group(0) != theirs.group(0):
                u.lines = [_PRINTED_PARA.sub(theirs.group(0), u.lines[0], count=1), *u.lines[1:]]
                changed.append(u.key)
    if not changed:
        return doc, []
    lang = doc.source.lang
    for u in act.units():
        if u.key not in changed:
            continue
        old = {ob.provision: ob for ob in u.blocks}
        u.blocks = [ob if (ob := old.get(nb.provision)) is not None and _same(ob, nb)
                    else replace(nb, anchor=ob.anchor if ob is not None else nb.anchor)
                    for nb in _emit(u, lang)]
    blocks: list[Block] = []
    for it in act.items:
        blocks.extend(it.blocks if isinstance(it, Unit) else [it])
    return replace(doc, blocks=blocks), changed


def _passage_id(doc: Document, block: Block) -> str:
    return f"{doc.source.doc}/{doc.source.lang}/{legal.id_suffix(block.provision)}"


def consolidate(documents: list[Document], corrections: dict[str, Document] | None = None,
                chapters: dict[str, dict[str, str]] | None = None) -> Consolidation:
    """Apply every amending act among ``documents`` to the act it amends (same language).

    Returns the documents in the same order: the amended acts' blocks versioned, the amending
    acts' and the amended acts' blocks dated (valid_from = entry into force), the other language
    versions of an amended act marked where the amended wording exists only in the amending
    act's language. Documents with nothing to do with amendments are returned as they are.
    """
    res = Consolidation(documents=list(documents))
    for d in documents:  # the chapters of the text the application dates are read from
        if d.source.amends or not chapters or d.source.id not in chapters:
            continue
        if any(a.source.amends == d.source.doc and a.source.lang == d.source.lang for a in documents):
            res.chapters = dict(chapters[d.source.id])
    if corrections:
        for k, d in enumerate(res.documents):
            if d.source.id in corrections:
                res.documents[k], fixed = apply_corrections(d, corrections[d.source.id])
                res.corrected.extend(f"{d.source.id}: {p}" for p in fixed)
        documents = res.documents
    amending = [d for d in documents if d.source.amends]
    if not amending:
        return res
    dates: dict[str, str] = {}
    for d in documents:
        if d.source.published:
            date, why = entry_into_force(d)
            if date:
                dates[d.source.id] = date
                res.entry_into_force[d.source.id] = date
            else:
                res.warnings.append(why)
    out = list(documents)
    for target_doc in sorted({d.source.amends for d in amending}):
        acts = sorted((d for d in amending if d.source.amends == target_doc),
                      key=lambda d: dates.get(d.source.id, "9999"))
        versions = [k for k, d in enumerate(out) if d.source.doc == target_doc and d.source.kind == "act"]
        for lang in sorted({out[k].source.lang for k in versions}):
            k_lang = next(k for k in versions if out[k].source.lang == lang)
            base = out[k_lang]
            mine = [a for a in acts if a.source.lang == lang]
            if mine:
                out[k_lang] = _consolidate_one(base, mine, dates, res)
        # other languages: mark what changed
        nl_done = {out[k].source.lang: out[k] for k in versions}
        for k in versions:
            if not any(a.source.lang == out[k].source.lang for a in acts):
                src_lang = next((lg for lg in nl_done if any(a.source.lang == lg for a in acts)), None)
                if src_lang:
                    texts = {_passage_id(a, b): b.text for a in acts for b in a.blocks}
                    out[k] = _mark_other_language(out[k], nl_done[src_lang], dates, texts)
    for k, d in enumerate(out):  # the amending acts' own passages apply from their entry into force
        if d.source.amends and d.source.id in dates:
            out[k] = replace(d, blocks=[replace(b, valid_from=dates[d.source.id]) for b in d.blocks])
    res.documents = out
    return res


def _consolidate_one(doc: Document, acts: list[Document], dates: dict[str, str], res: Consolidation) -> Document:
    base_from = dates.get(doc.source.id, "")
    if not base_from:
        res.warnings.append(f"{doc.source.id}: its entry into force is unknown; its wordings get no valid_from")
    dated = [replace(b, valid_from=b.valid_from or base_from) for b in doc.blocks]
    act = Act(replace(doc, blocks=dated))
    lang = doc.source.lang
    for amending in acts:
        when = dates.get(amending.source.id, "")
        if not when:
            res.warnings.append(f"{amending.source.id}: entry into force unknown; its amendments are not applied")
        instrs: list[Instruction] = []
        for b in amending.blocks:
            if b.kind != "amendment":
                continue
            instrs.extend(parse_point(b, act=amending.source.doc, source_id=_passage_id(amending, b),
                                      amends=doc.source.doc, date=when))
        res.instructions.extend(instrs)
        if not when:
            for ins in instrs:
                ins.status, ins.reason = "not applied", "the amending act's entry into force is unknown"
            continue
        applier = Applier(act, lang, when)
        for ins in instrs:
            applier.apply(ins)
        for ins in instrs:  # a container is applied when all its sub-points are
            if ins.status == "container":
                kids = [j for j in instrs if j.point == ins.point and j.sub.startswith(ins.sub) and j is not ins
                        and j.status != "container"]
                bad = [j for j in kids if j.status != "applied"]
                ins.status = "applied" if kids and not bad else "not applied"
                ins.reason = "" if not bad else "sub-point(s) not applied: " + ", ".join(j.label for j in bad)
        version = f"{doc.source.version}, gewijzigd bij {amending.source.title}"
        url_of = {_passage_id(amending, b): amending.source.url + (f"#{b.anchor}" if b.anchor else "")
                  for b in amending.blocks}
        for u in act.units():
            if not u.changed_by or not any(s in url_of for s in u.changed_by):
                continue
            srcs = [s for s in u.changed_by if s in url_of]
            u.url, u.version = url_of[srcs[0]], version
            new_blocks = _emit(u, lang)
            old = {b.provision: b for b in u.blocks}  # the wording before this act (new units: none)
            kept: list[Block] = []
            hist: list[Block] = []
            for nb in new_blocks:
                ob = old.pop(nb.provision, None)
                if ob is not None and _same(ob, nb):
                    kept.append(ob)
                    continue
                if ob is not None:
                    hist.append(replace(ob, history=True, valid_to=when, amended_by=list(srcs)))
                kept.append(replace(nb, valid_from=when, amended_by=list(srcs)))
            for ob in old.values():  # points that are gone
                hist.append(replace(ob, history=True, valid_to=when, amended_by=list(srcs)))
            u.history.extend(hist)
            u.blocks = kept
            u.changed_by = [s for s in u.changed_by if s not in url_of]
    # notes of instructions not applied
    for u in act.units():
        if u.notes:
            text = "\n\n".join(t for t, _ in u.notes)
            u.blocks = [replace(b, current_note=text, current_note_source=u.notes[0][1],
                                amended_by=list(dict.fromkeys([*b.amended_by, *(s for _, s in u.notes)])))
                        for b in u.blocks]
    blocks: list[Block] = []
    for it in act.items:
        if isinstance(it, Unit):
            blocks.extend(it.history)
            blocks.extend(it.blocks)
        else:
            blocks.append(it)
    # the application dates, from the article on entry into force and application as consolidated
    rows, unresolved = application_dates(act, doc, res.instructions, dates)
    res.application_dates.extend(rows)
    res.unresolved_dates.extend(unresolved)
    if res.chapters:  # an inserted article sits in the chapter of the article it follows
        last = ""
        for u in act.units():
            top = u.top
            if top.startswith("Article "):
                if top in res.chapters:
                    last = res.chapters[top]
                elif last:
                    res.chapters[top] = last
    return replace(doc, blocks=blocks)


def _mark_other_language(doc: Document, amended: Document, dates: dict[str, str],
                         amending_text: dict[str, str]) -> Document:
    """The other language version: passages whose provision was amended get valid_to, amended_by
    and the new wording (in the amending act's language) as current note; a provision that got
    new points/paragraphs notes them on its nearest existing ancestor."""
    base_from = dates.get(doc.source.id, "")
    current = {b.provision: b for b in amended.blocks if not b.history}
    hist = [b for b in amended.blocks if b.history]
    new_only = [b for b in amended.blocks if not b.history and b.amended_by and b.valid_from != b.valid_to]
    own = {b.provision for b in doc.blocks}
    notes: dict[str, list[tuple[str, str, str, list[str]]]] = {}  # provision -> (note, source, valid_to, by)
    for h in hist:
        cur = current.get(h.provision)
        src = h.amended_by[0] if h.amended_by else ""
        note = (f"{cur.label}: {cur.text}" if cur is not None else
                f"{h.label}: geschrapt / deleted. {amending_text.get(src, '')}".strip())
        notes.setdefault(h.provision, []).append((note, src, h.valid_to, h.amended_by))
    old_provs = {h.provision for h in hist}
    covered = {c for h in hist for c in current if c == h.provision}
    for h in hist:  # a wording replaced by finer provisions (Article 4 -> Article 4(1), (2), (3))
        if h.provision not in current:
            kids = [b for p, b in current.items() if p.startswith(h.provision + "(") and b.amended_by
                    and set(b.amended_by) & set(h.amended_by)]
            if kids:
                covered.update(b.provision for b in kids)
                note = "\n".join(f"{b.label}: {b.text}" for b in kids)
                notes[h.provision] = [(note, h.amended_by[0] if h.amended_by else "", h.valid_to, h.amended_by)]
    for b in new_only:
        if b.provision in old_provs or b.provision in own or b.provision in covered:
            continue
        anc = legal.parent(b.provision)
        while anc and anc not in own:
            anc = legal.parent(anc)
        if anc is None or anc == legal.article_of(b.provision) and anc not in own:
            # a new paragraph of an article cut into paragraphs: note it on the one it follows
            pp = legal.parse(b.provision)
            if pp is None or not pp.path:
                continue
            anc = next((c for pred in _predecessor(pp.path[-1])
                        if (c := legal.Provision(pp.kind, pp.number, (*pp.path[:-1], pred), pp.section).canonical)
                        in own), None)
            if anc is None:
                continue
        notes.setdefault(anc, []).append((f"{b.label}: {b.text}", b.amended_by[0] if b.amended_by else "",
                                          "", b.amended_by))
    # unapplied instructions' notes
    for b in amended.blocks:
        if b.current_note and b.provision in own:
            notes.setdefault(b.provision, []).append((b.current_note, b.current_note_source, "", b.amended_by))
    blocks = []
    for b in doc.blocks:
        b = replace(b, valid_from=b.valid_from or base_from)
        ns = notes.get(b.provision)
        if ns:
            to = min((n[2] for n in ns if n[2]), default="")
            by = list(dict.fromkeys(s for n in ns for s in n[3]))
            text = "\n\n".join(dict.fromkeys(n[0] for n in ns))
            b = replace(b, valid_to=to, amended_by=by, current_note=text, current_note_source=ns[0][1])
        blocks.append(b)
    return replace(doc, blocks=blocks)


# --------------------------------------------------------------------------- application dates

_CHAPTERS = re.compile(r"\bhoofdstuk(?:ken)?\s+([IVXL]+(?:\s*(?:,|en)\s*[IVXL]+\b)*)"
                       r"(?:,\s*(?:de\s+)?afdeling(?:en)?\s+(\d{1,2}(?:\s*(?:,|en)\s*\d{1,2})*))?", re.I)
_EXCEPT = re.compile(r",?\s*met uitzondering van\s+", re.I)
_PLACEHOLDER = re.compile(r"…\s*\[([^\]]+)\]|\[([^\]]*datum[^\]]*)\]", re.I)


def provisions_nl(text: str) -> list[str]:
    """Provisions named in Dutch text, canonical: chapters ("Chapter III, Section 1"), articles with
    inserted numbers ("artikel 5, lid 1, eerste alinea, punten b bis) en b ter)" -> Article
    5(1)(ba), Article 5(1)(bb)), ranges ("de artikelen 102 tot en met 110"), annexes."""
    out: list[str] = []
    for m in _CHAPTERS.finditer(text):
        chs = re.findall(r"[IVXL]+", m.group(1))
        secs = re.findall(r"\d{1,2}", m.group(2) or "")
        for ch in chs:
            if secs and ch == chs[-1]:
                out.extend(f"Chapter {ch}, Section {s}" for s in secs)
            else:
                out.append(f"Chapter {ch}")
    rest = _CHAPTERS.sub(" ", text)
    for seg in re.split(r"(?=\bartikel(?:en)?\s+\d)", rest, flags=re.I):
        ma = re.match(r"artikel(?:en)?\s+(" + _ART_LIST + r")", seg, re.I)
        if not ma:
            continue
        arts = _items(ma.group(1))
        tail = seg[ma.end():]
        tail = re.split(r"\b(?:bijlage|van toepassing|voor wat betreft|die van toepassing)\b", tail, maxsplit=1)[0]
        leden: list[str] = []
        if ml := re.search(r"\bleden\s+(" + _LIST + r")", tail, re.I):
            leden = _items(ml.group(1))
        elif ml := re.search(r"\blid\s+(\d{1,3}" + _SUF + r")", tail, re.I):
            leden = [legal.number_from_latin(ml.group(1))]
        punten: list[str] = []
        if mp := re.search(r"\bpunten\s+(" + _LIST + r")", tail, re.I):
            punten = _items(mp.group(1))
        elif mp := re.search(r"\bpunt\s+(" + _ITEM + r")\)", tail, re.I):
            punten = [legal.number_from_latin(mp.group(1))]
        for a in arts:
            for ld in leden or [""]:
                for pt in punten or [""]:
                    out.append(f"Article {a}" + (f"({ld})" if ld else "") + (f"({pt})" if pt else ""))
    for m in re.finditer(r"\bbijlage\s+([IVXL]+)\b", text, re.I):
        out.append(f"Annex {m.group(1).upper()}")
    return list(dict.fromkeys(out))


def application_dates(act: Act, doc: Document, instructions: list[Instruction],
                      dates: dict[str, str]) -> tuple[list[ApplicationDate], list[dict[str, Any]]]:
    """Rows of "from when does X apply", read from the act's article on entry into force and
    application as consolidated (Article 113: a general date, then "Evenwel zijn: a) ... b) ...").

    Each point gives a row for what it names with its date, and a row per exception: with its own
    date ("met uitzondering van ..., die van toepassing zijn met ingang van 2 december 2026") or,
    without one, the general date. A point with sub-points (c) i), ii)) gives one row per
    sub-point, naming also what the sub-point names (Annex III). A placeholder date
    ("… [de datum van inwerkingtreding van deze wijzigingsrichtlijn]") is resolved when it names the
    amending act's entry into force, and reported in ``unresolved`` either way.
    """
    unit = next((u for u in act.units() if any(_EIF_NL.search(ln) for ln in u.lines)
                 and any("van toepassing met ingang van" in ln for ln in u.lines)), None)
    rows: list[ApplicationDate] = []
    unresolved: list[dict[str, Any]] = []
    if unit is None:
        return rows, unresolved
    cur = next((b for b in unit.blocks if b.provision == unit.key), unit.blocks[0] if unit.blocks else None)
    source = _passage_id(doc, cur) if cur is not None else ""
    by_point = {}
    for ins in instructions:
        if ins.status == "applied" and ins.target.top == unit.top:
            for key in ins.target.punt or [k for k, _ in _split_items(ins.new_text)]:
                by_point[key] = ins.source_id
    general = ""
    lines = unit.lines
    i = 0
    while i < len(lines):
        ln = lines[i]
        mk = _LINE_MARKER.match(ln)
        if not mk:
            m = re.search(r"van toepassing met ingang van\s+(\d{1,2}\s+\w+\s+\d{4})", ln)
            if m and (dm := _DATE_NL.search(m.group(1))):
                general = _iso(dm)
                rows.append(ApplicationDate(("Regulation",), ln.strip(), general, source, ""))
            i += 1
            continue
        key = legal.number_from_latin(mk.group(1))
        subs = []
        j = i + 1
        while j < len(lines) and (sk := _point_key(lines[j], key)) is not None and _is_sub(sk, key):
            subs.append(lines[j])
            j += 1
        set_by = by_point.get(key, "")
        main = ln[mk.end():]
        head, _, exc = main.partition(" met uitzondering van ") if " met uitzondering van " in main else \
            (main, "", "")
        main_provs = provisions_nl(head.split("van toepassing")[0])
        if subs:
            for s in subs:
                st = _LINE_MARKER.sub("", s, count=1)
                d = _DATE_NL.search(st)
                if d:
                    rows.append(ApplicationDate(tuple(main_provs + [p for p in provisions_nl(st)
                                                                    if p not in main_provs]),
                                                f"{main.strip()} {s.strip()}", _iso(d), source, set_by))
        else:
            d = _DATE_NL.search(head) or (None if exc else _DATE_NL.search(main))
            ph = _PLACEHOLDER.search(main)
            if d:
                rows.append(ApplicationDate(tuple(main_provs), main.strip(), _iso(d), source, set_by))
            elif ph:
                what = (ph.group(1) or ph.group(2) or "").strip()
                resolved = ""
                if re.search(r"inwerkingtreding van deze wijzigings", what, re.I):
                    amending = next((i2 for i2 in instructions if i2.source_id == set_by), None)
                    resolved = amending.date if amending else ""
                unresolved.append({"provisions": main_provs, "text": main.strip(), "placeholder": what,
                                   "set_by": set_by, "resolved": resolved,
                                   "reason": ("a placeholder in the amending act's text; resolved as the "
                                              "amending act's entry into force" if resolved else
                                              "a placeholder date that names no date the text gives")})
                if resolved:
                    rows.append(ApplicationDate(tuple(main_provs), f"{main.strip()} [= {resolved}: datum van "
                                                f"inwerkingtreding van de wijzigingsverordening]", resolved, source,
                                                set_by))
        if exc:
            ed = re.search(r"die van toepassing (?:zijn|is) met ingang van\s+(.+)", exc)
            provs = provisions_nl(exc.split("die van toepassing")[0])
            edate = _DATE_NL.search(ed.group(1)) if ed else None
            if provs:
                rows.append(ApplicationDate(tuple(provs), f"met uitzondering van {exc.strip()}",
                                            _iso(edate) if edate else general, source, set_by))
        i = j
    return rows, unresolved


def index_files(res: Consolidation) -> dict[str, str]:
    """The files an index build gets (index.Index.extras): application_dates.json, amendments.json."""
    return {
        APPLICATION_DATES_FILE: json.dumps(
            {"rows": [r.to_dict() for r in res.application_dates], "unresolved": res.unresolved_dates,
             "entry_into_force": res.entry_into_force, "chapters": res.chapters}, ensure_ascii=False, indent=1),
        AMENDMENTS_FILE: json.dumps(
            {"summary": res.summary(), "instructions": [i.to_dict() for i in res.instructions],
             "warnings": res.warnings, "corrected": res.corrected}, ensure_ascii=False, indent=1),
    }


def load_application_dates(folder: Path | str) -> list[ApplicationDate]:
    """The ApplicationDate rows of an index build folder ([] when the index has none)."""
    path = Path(folder) / APPLICATION_DATES_FILE
    if not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return [ApplicationDate(tuple(r["provisions"]), r["scope"], r["date"], r["source"], r.get("set_by", ""))
            for r in data.get("rows", [])]


def load_chapters(folder: Path | str) -> dict[str, str]:
    """Which chapter/section each article of the amended act sits in ({"Article 26": "Chapter III, Section 3"})."""
    path = Path(folder) / APPLICATION_DATES_FILE
    if not path.exists():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8")).get("chapters", {}))


def dates_for(provision: str, rows: list[ApplicationDate], chapters: dict[str, str]) -> list[ApplicationDate]:
    """The application dates of a provision: the rows that name it or what contains it (its
    article, its chapter section, its chapter), the most specific first, else the general row
    ("Regulation"); then the rows for parts of it with a date of their own (exceptions: Article
    5(1)(ba) under Article 5). "Article 26" -> the two rows of Chapter III, Section 3 (Annex III
    systems 2027-12-02, Annex I systems 2028-08-02)."""
    want = legal.parse(provision)
    if want is None:
        return []
    key = want.key()
    place = chapters.get(legal.article_of(provision), "")
    chapter = place.split(",")[0]
    best: list[tuple[int, ApplicationDate]] = []
    parts: list[ApplicationDate] = []
    for r in rows:
        score = -1
        for p in r.provisions:
            pp = legal.parse(p)
            if pp is not None and len(pp.key()) <= len(key) and key[: len(pp.key())] == pp.key():
                score = max(score, 10 + len(pp.key()))
            elif pp is not None and len(pp.key()) > len(key) and pp.key()[: len(key)] == key:
                parts.append(r)
            elif place and p == place:
                score = max(score, 5)
            elif chapter and p == chapter:
                score = max(score, 4)
            elif p == "Regulation":
                score = max(score, 0)
        if score >= 0:
            best.append((score, r))
    top = max((s for s, _ in best), default=-1)
    out = [r for s, r in best if s == top]
    return out + [r for r in dict.fromkeys(parts) if r not in out]


def load_amendments(folder: Path | str) -> dict[str, Any]:
    """The amendments report of an index build folder: {"summary", "instructions", "warnings"}."""
    path = Path(folder) / AMENDMENTS_FILE
    if not path.exists():
        return {"summary": {}, "instructions": [], "warnings": []}
    return json.loads(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- versions (show)


def in_force(p: Any, on: str) -> bool:
    """Is this wording the law on day ``on`` (ISO)? valid_from <= on < valid_to, "" open-ended."""
    return (not p.valid_from or p.valid_from <= on) and (not p.valid_to or on < p.valid_to)


def base_id(pid: str) -> str:
    """ "ai-act/nl/art-4@2024-08-01" -> "ai-act/nl/art-4"; "...art-4.1@2024-08-01~2" -> "...art-4.1"."""
    return re.sub(r"[@~].*$", "", pid)


def versions(passages: list[Any], pid: str, on: str = "") -> dict[str, Any] | None:
    """Every wording of the provision a passage id names (and of the provisions below it): the
    passages in force on ``on`` (default today), the earlier/later wordings with their dates,
    and the amending passages that changed them. None when the id names no provision."""
    doc, _, rest = base_id(pid).partition("/")
    lang, _, suffix = rest.partition("/")
    try:
        prov = legal.from_id_suffix(suffix)
    except ValueError:
        return None
    want = legal.parse(prov)
    if want is None:
        return None
    on = on or dt.date.today().isoformat()
    key = want.key()
    mine = [p for p in passages if p.doc == doc and p.lang == lang and (pp := legal.parse(p.provision)) is not None
            and pp.key()[: len(key)] == key]
    if not mine:
        return None
    # a wording of an enclosing provision replaced by the same amendment (Article 4 -> Article 4(1))
    srcs = {s for p in mine for s in p.amended_by}
    mine += [p for p in passages if p.doc == doc and p.lang == lang and p.valid_to and srcs & set(p.amended_by)
             and (pp := legal.parse(p.provision)) is not None and len(pp.key()) < len(key)
             and key[: len(pp.key())] == pp.key()]
    by_id = {p.id: p for p in passages}
    current = [p for p in mine if in_force(p, on)]
    wordings: dict[tuple[str, str], list[Any]] = {}
    for p in mine:
        if p not in current:
            wordings.setdefault((p.valid_from, p.valid_to), []).append(p)
    changed: list[str] = list(dict.fromkeys(s for p in mine for s in p.amended_by))
    return {
        "provision": prov,
        "on": on,
        "current": [p.id for p in current],
        "current_text": "\n".join(p.text for p in current),
        "notes": [{"id": p.id, "note": p.current_note, "source": p.current_note_source}
                  for p in current if p.current_note],
        "history": [{"valid_from": f, "valid_to": t, "ids": [p.id for p in ps], "text": "\n".join(p.text for p in ps)}
                    for (f, t), ps in sorted(wordings.items())],
        "changed_by": [{"id": s, "label": by_id[s].label if s in by_id else s,
                        "version": by_id[s].version if s in by_id else "", "url": by_id[s].url if s in by_id else "",
                        "text": by_id[s].text if s in by_id else ""} for s in changed],
    }
