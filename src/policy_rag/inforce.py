"""The law in force on a date: which version of a passage applies, how an amended provision is
labelled, and "from when does X apply" from the application-dates table (Article 113 as amended).

The index keeps every wording (types.Passage.valid_from / valid_to: the law on day d when
valid_from <= d < valid_to; "" is open-ended). Retrieval shows only the wordings in force on the
date asked for, with one exception: a passage out of force that has no wording in force of the
same provision in its language but carries a ``current_note`` (the English 2024 text of an
amended provision: there is no English text of Regulation (EU) 2026/1744) stays, marked as amended,
and answers quote the Dutch note, never the old English wording as current.

Everything here is cheap: the version tables are built once per index (``view``) and the set of
rows allowed on a date is cached per date.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from .errors import PolicyRagError
from .types import ApplicationDate, Lang, Passage

log = logging.getLogger(__name__)

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
_AT = re.compile(r"@\d{4}-\d{2}-\d{2}")


class InvalidDate(PolicyRagError):
    """A date (``--on``, ``"on"``, POLICY_RAG_ON, the UI's date field) that is not YYYY-MM-DD."""

    kind = "invalid_date"

    def __init__(self, value: object, where: str = "the date") -> None:
        shown = str(value)[:40]
        self.value = shown
        super().__init__(f"{where} {shown!r} is not a date in the form YYYY-MM-DD (for example 2026-12-02).")


# --------------------------------------------------------------------------------- dates


def today() -> str:
    """Today's date from the clock, asked at question time (never at import)."""
    return date.today().isoformat()


def parse_on(value: object, where: str = "The date") -> str:
    """``value`` as an ISO date "YYYY-MM-DD"; "" or None is ""; anything else is InvalidDate."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidDate(value, where)
    text = value.strip()
    if not text:
        return ""
    if not _ISO.fullmatch(text):
        raise InvalidDate(value, where)
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise InvalidDate(value, where) from None


def resolve_on(on: str | None, default: str = "") -> str:
    """The date a question is answered on: ``on``, else the setting ``default`` (POLICY_RAG_ON),
    else today."""
    return parse_on(on) or parse_on(default, "POLICY_RAG_ON") or today()


_MONTHS = {
    "nl": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
           "november", "december"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
}


def long_date(iso: str, lang: Lang) -> str:
    """"2026-12-02" -> "2 december 2026" (NL) / "2 December 2026" (EN)."""
    try:
        d = date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{d.day} {_MONTHS[lang][d.month - 1]} {d.year}"


ON_LINE: dict[Lang, str] = {"nl": "Geldende tekst op {date}", "en": "Law in force on {date}"}


def on_line(iso: str, lang: Lang) -> str:
    """"Geldende tekst op 2 december 2026" / "Law in force on 2 December 2026"."""
    return ON_LINE[lang].format(date=long_date(iso, lang)) if iso else ""


# --------------------------------------------------------------------------------- versions


def base_id(pid: str) -> str:
    """The id without its version: "ai-act/nl/art-4@2024-08-01" -> "ai-act/nl/art-4"."""
    return _AT.sub("", pid)


def in_force(p: Passage, on: str) -> bool:
    """Whether this wording is the law on ``on`` (valid_from <= on < valid_to; "" open)."""
    return (not p.valid_from or p.valid_from <= on) and (not p.valid_to or on < p.valid_to)


def versioned(p: Passage) -> bool:
    return bool(p.valid_from or p.valid_to or p.amended_by)


def _lang_free(pid: str) -> str:
    """"ai-act/nl/art-4~2@2024-08-01" -> "ai-act/*/art-4~2": the same unit in either language."""
    doc, _lang, rest = (base_id(pid).split("/", 2) + ["", ""])[:3]
    return f"{doc}/*/{rest}"


class Versions:
    """The version tables of one index (built once): provision groups, histories, allowed rows."""

    def __init__(self, passages: list[Passage]) -> None:
        self.passages = passages
        self.any = any(versioned(p) for p in passages)
        self.by_id = {p.id: i for i, p in enumerate(passages)}
        # (doc, lang, provision) -> rows; lang-free base id -> rows (twins, histories)
        self.provision_rows: dict[tuple[str, str, str], list[int]] = {}
        self.unit_rows: dict[str, list[int]] = {}
        for i, p in enumerate(passages):
            self.provision_rows.setdefault((p.doc, p.lang, p.provision), []).append(i)
            self.unit_rows.setdefault(_lang_free(p.id), []).append(i)
        self._allowed: dict[str, frozenset[int] | None] = {}
        self._lock = threading.Lock()

    # -- on a date
    def kept_amended(self, p: Passage, on: str) -> bool:
        """Out of force on ``on`` but kept: no wording of its provision in its language is in force
        then, and it carries the amending text as ``current_note`` (English amended provisions)."""
        if in_force(p, on) or not p.current_note or (p.valid_from and on < p.valid_from):
            return False
        rows = self.provision_rows.get((p.doc, p.lang, p.provision), [])
        return not any(in_force(self.passages[i], on) for i in rows)

    def shown(self, p: Passage, on: str) -> bool:
        """Whether retrieval may return ``p`` on ``on``."""
        return in_force(p, on) or self.kept_amended(p, on)

    def allowed(self, on: str) -> frozenset[int] | None:
        """The rows retrieval may return on ``on``; None: every row (an index without versions)."""
        if not self.any:
            return None
        if on not in self._allowed:
            rows = frozenset(i for i, p in enumerate(self.passages) if self.shown(p, on))
            with self._lock:
                if len(self._allowed) > 64:
                    self._allowed.clear()
                self._allowed[on] = rows
        return self._allowed[on]

    def unit_on(self, pid: str, lang: str, on: str) -> Passage | None:
        """The wording of the unit ``pid`` (either language) in ``lang`` that retrieval shows on ``on``."""
        rows = [i for i in self.unit_rows.get(_lang_free(pid), []) if self.passages[i].lang == lang]
        if not rows:
            return None
        for i in rows:
            if in_force(self.passages[i], on):
                return self.passages[i]
        for i in rows:
            if self.kept_amended(self.passages[i], on):
                return self.passages[i]
        return None

    def related(self, p: Passage) -> list[Passage]:
        """The versioned passages of ``p``'s document and language whose provision contains or is
        inside ``p``'s ("Article 4" and "Article 4(1)": a new wording may be split otherwise)."""
        from .legal import article_of, matches

        art = article_of(p.provision)
        out: list[Passage] = []
        for (doc, lang, prov), rows in self.provision_rows.items():
            if doc != p.doc or lang != p.lang or article_of(prov) != art or not matches(prov, p.provision):
                continue
            out.extend(self.passages[i] for i in rows if versioned(self.passages[i]))
        return out

    def history(self, p: Passage) -> list[Passage]:
        """Every wording of ``p``'s provision in its language, oldest first: ``p``, and the
        passages of the provision (or what contains it, or is inside it) in force at other times."""
        period = (p.valid_from, p.valid_to)
        others = [q for q in self.related(p) if q.id != p.id and (q.valid_from, q.valid_to) != period]
        return sorted([p, *others], key=lambda q: (q.valid_from or "0000", q.order))

    def successors(self, p: Passage) -> list[Passage]:
        """The wording(s) of ``p``'s provision that follow it (valid_from == p.valid_to), in its
        language, in document order."""
        if not p.valid_to:
            return []
        return sorted((q for q in self.related(p) if q.valid_from == p.valid_to), key=lambda q: q.order)

    def successor(self, p: Passage) -> Passage | None:
        """The first wording that follows ``p`` (see ``successors``)."""
        nxt = self.successors(p)
        return nxt[0] if nxt else None

    def get(self, pid: str) -> Passage | None:
        i = self.by_id.get(pid)
        return self.passages[i] if i is not None else None


_VIEW_ATTR = "_inforce_versions"


def view(index: Any) -> Versions:
    """The version tables of ``index`` (built on first use, kept on the index)."""
    v = getattr(index, _VIEW_ATTR, None)
    if v is None or v.passages is not index.passages:
        v = Versions(index.passages)
        try:
            setattr(index, _VIEW_ATTR, v)
        except AttributeError:  # pragma: no cover - an index type without attributes: rebuild each time
            pass
    return v


AMENDED_MARK: dict[Lang, str] = {"nl": "gewijzigd; geldende tekst alleen in het Nederlands",
                                  "en": "amended; the text in force exists in Dutch only"}


def status(p: Passage, on: str) -> str:
    """"in-force", "amended" (out of force, kept with the amending text as note), "not-in-force"."""
    if in_force(p, on):
        return "in-force"
    return "amended" if p.current_note else "not-in-force"


# --------------------------------------------------------------------------------- labels

_ACT = re.compile(r"\((?:EU|EG|EEG)\)\s*(?:nr\.\s*)?(\d{4}/\d+)")
ACT_WORD: dict[Lang, str] = {"nl": "Verordening", "en": "Regulation"}
DEFAULT_ACT = {"omnibus": "2026/1744"}  # the amending acts of the corpus, by document id

# the instruction phrases of EU amending acts, in both languages: (kind, pattern)
_INSTRUCTIONS: list[tuple[str, re.Pattern[str]]] = [
    ("amended", re.compile(r"als volgt gewijzigd|amended as follows", re.I)),
    ("replaced", re.compile(r"wordt vervangen door|worden vervangen door|is replaced by|are replaced by", re.I)),
    ("inserted", re.compile(r"wordt ingevoegd|worden ingevoegd|is inserted|are inserted", re.I)),
    ("added", re.compile(r"wordt toegevoegd|worden toegevoegd|is added|are added", re.I)),
    ("deleted", re.compile(r"wordt geschrapt|worden geschrapt|is deleted|are deleted", re.I)),
]
VERB: dict[str, dict[Lang, str]] = {
    "replaced": {"nl": "vervangen bij", "en": "replaced by"},
    "inserted": {"nl": "ingevoegd bij", "en": "inserted by"},
    "added": {"nl": "toegevoegd bij", "en": "added by"},
    "deleted": {"nl": "geschrapt bij", "en": "deleted by"},
    "amended": {"nl": "gewijzigd bij", "en": "amended by"},
}


def change_kind(amending: Passage | None) -> str:
    """What the amending point does, by its first instruction phrase: replaced, inserted, added,
    deleted, or amended (also when it says nothing recognisable)."""
    if amending is None:
        return "amended"
    text = amending.text
    found = [(m.start(), kind) for kind, pat in _INSTRUCTIONS for m in [pat.search(text)] if m]
    return min(found)[1] if found else "amended"


def act_name(amending: Passage | None, lang: Lang, amending_id: str = "") -> str:
    """"Verordening (EU) 2026/1744" / "Regulation (EU) 2026/1744" for the amending passage."""
    number = ""
    if amending is not None:
        m = _ACT.search(amending.version) or _ACT.search(amending.title)
        number = m.group(1) if m else DEFAULT_ACT.get(amending.doc, "")
    else:
        number = DEFAULT_ACT.get(amending_id.split("/", 1)[0], "")
    return f"{ACT_WORD[lang]} (EU) {number}" if number else amending_id.split("/", 1)[0]


_POINT = re.compile(r"^Article (\w+)(?:\((\w+)\))?(?:\((\w+)\))?")


def point_label(amending: Passage | None, lang: Lang, amending_id: str = "") -> str:
    """"Article 1(5)" -> "art. 1, punt 5" (NL) / "Art. 1, point 5" (EN)."""
    provision = amending.provision if amending is not None else ""
    if not provision and amending_id:
        suffix = base_id(amending_id).split("/", 2)[-1].split("~")[0]
        try:
            from .legal import from_id_suffix

            provision = from_id_suffix(suffix)
        except ValueError:
            provision = ""
    m = _POINT.match(provision)
    if not m:
        return provision or amending_id
    art, point, sub = m.groups()
    if lang == "nl":
        return f"art. {art}" + (f", punt {point}" if point else "") + (f", onder {sub})" if sub else "")
    return f"Art. {art}" + (f", point {point}" if point else "") + (f"({sub})" if sub else "")


def amending_refs(p: Passage, versions: Versions, lang: Lang) -> list[dict[str, str]]:
    """The amending passages of ``p``: id, what they do, the act and point, a link."""
    out = []
    for aid in p.amended_by:
        a = versions.get(aid)
        kind = change_kind(a)
        out.append({"id": aid, "kind": kind, "act": act_name(a, lang, aid), "point": point_label(a, lang, aid),
                    "label": a.label if a is not None else aid, "url": a.url if a is not None else "",
                    "text": a.text if a is not None else ""})
    return out


def amended_label(p: Passage, versions: Versions, lang: Lang, on: str = "") -> str:
    """"Artikel 4 (vervangen bij Verordening (EU) 2026/1744, art. 1, punt 5)"; the plain label when
    ``p`` was not amended, or is a wording that ends (``valid_to``: superseded, or still in force
    with its change to come) other than an old wording kept on ``on`` for its amending text. Only the
    amendments in force on ``on`` are named."""
    # an amendment not yet in force on ``on`` is no part of the label (Article 6(1) cited on 1 June 2025)
    refs = [r for r in amending_refs(p, versions, lang)
            if not on or (a := versions.get(r["id"])) is None or in_force(a, on)]
    kept = bool(on and p.current_note and not in_force(p, on))
    if not refs or (p.valid_to and not kept):
        return p.label
    parts = [f"{VERB[r['kind']][lang]} {r['act']}, {r['point']}" for r in refs]
    return f"{p.label} ({'; '.join(parts)})"


def period(p: Passage, lang: Lang) -> str:
    """"van 1 augustus 2024 tot 2 december 2026" / "from 1 August 2024 to 2 December 2026"."""
    fr, to = p.valid_from, p.valid_to
    if lang == "nl":
        return " ".join(x for x in (f"van {long_date(fr, lang)}" if fr else "",
                                    f"tot {long_date(to, lang)}" if to else "") if x) or "zonder einddatum"
    return " ".join(x for x in (f"from {long_date(fr, lang)}" if fr else "",
                                f"to {long_date(to, lang)}" if to else "") if x) or "open-ended"


def version_dicts(p: Passage, versions: Versions) -> list[dict[str, Any]]:
    """Every wording of ``p``'s unit (oldest first): id, dates, label, text, link, whether it is ``p``."""
    return [{"id": q.id, "valid_from": q.valid_from, "valid_to": q.valid_to, "label": q.label, "text": q.text,
             "url": q.url, "amended_by": list(q.amended_by), "this": q.id == p.id}
            for q in versions.history(p) if versioned(q) or q.id != p.id]


# --------------------------------------------------------------------------------- notes

NOTES: dict[str, dict[Lang, str]] = {
    # a wording in force now that will change later
    "pending": {
        "nl": "Let op: {label} wordt met ingang van {date} {verb} {act}, {point}. De nieuwe tekst: “{text}”",
        "en": "Note: from {date}, {label} is {verb} {act}, {point}. The new wording: “{text}”",
    },
    # the same, when the new wording exists in Dutch only (an English passage)
    "pending_nl": {
        "nl": "Let op: {label} wordt met ingang van {date} {verb} {act}, {point}. De nieuwe tekst: “{text}”",
        "en": "Note: from {date}, {label} is {verb} {act}, {point}. The new wording exists in Dutch only "
              "(quoted in Dutch): “{text}”",
    },
    # an English passage out of force, kept: its 2024 wording is not the law
    "superseded_en": {
        "nl": "{label} is {verb} {act}, {point} (van toepassing met ingang van {date}). De Engelse tekst uit "
              "2024 geldt niet meer; van de nieuwe tekst is er alleen een Nederlandse versie, die hier wordt "
              "geciteerd.",
        "en": "{label} was {verb} {act}, {point} (applicable from {date}). The 2024 English wording is no longer "
              "the law; there is no English text of the amending act, so the quote is its Dutch text.",
    },
    # amending text that applies but is not worked into the wording
    "unapplied": {
        "nl": "Let op: voor {label} geldt ook deze wijziging, die niet in de tekst is verwerkt ({source}): "
              "“{text}”",
        "en": "Note: this amendment of {label} applies but is not worked into its wording ({source}); "
              "in Dutch: “{text}”",
    },
}
NOTE_CHARS = 400


def _short(text: str, n: int = NOTE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rsplit(" ", 1)[0] + " …"


def notes_for(passages: list[Passage], versions: Versions, on: str, lang: Lang) -> list[str]:
    """What the answer must say about the versions of the passages it cites: a change that is
    coming (what and from when), an English wording that is no longer the law, an amendment that
    applies but is not worked into the text."""
    notes: list[str] = []
    for p in passages:
        orig = versions.get(p.id) or p  # the index's passage (an answer may read a copy: as_current)
        label = orig.label
        if not in_force(p, on) and p.current_note:
            src = versions.get(p.current_note_source) if p.current_note_source else None
            kind = change_kind(src)
            aid = p.current_note_source or (p.amended_by[0] if p.amended_by else "")
            notes.append(NOTES["superseded_en"][lang].format(
                label=label, verb=VERB[kind][lang], act=act_name(src, lang, aid), point=point_label(src, lang, aid),
                date=long_date(p.valid_to, lang) if p.valid_to else "?"))
            continue
        nxt = versions.successor(p) if p.valid_to and in_force(p, on) else None
        if nxt is not None or (p.valid_to and in_force(p, on) and p.current_note):
            new = nxt if nxt is not None else p
            aid = new.amended_by[0] if new.amended_by else p.current_note_source
            a = versions.get(aid) if aid else None
            text = " ".join(q.text for q in versions.successors(p)) if nxt is not None else p.current_note
            key = "pending" if nxt is not None and nxt.lang == lang else "pending_nl"
            if nxt is not None and nxt.lang == "en" and lang == "nl":
                key = "pending"
            notes.append(NOTES[key][lang].format(
                label=label, date=long_date(p.valid_to, lang), verb=VERB[change_kind(a)][lang],
                act=act_name(a, lang, aid or ""), point=point_label(a, lang, aid or ""), text=_short(text)))
        elif p.current_note and in_force(p, on):
            src = versions.get(p.current_note_source)
            if src is not None and not in_force(src, on):  # the amending act was not yet in force on the date
                continue
            notes.append(NOTES["unapplied"][lang].format(
                label=label, source=src.label if src is not None else p.current_note_source or "?",
                text=_short(p.current_note)))
    return list(dict.fromkeys(notes))


DUTCH_TEXT: dict[Lang, str] = {"nl": "nieuwe tekst, in het Nederlands", "en": "new wording, in Dutch"}


def as_current(p: Passage, versions: Versions, on: str, lang: Lang) -> Passage:
    """The passage an answer may read and quote for ``p`` on ``on``: ``p`` itself when it is in
    force; for a kept out-of-force passage (English 2024 text of an amended provision) a copy whose
    text is the Dutch amending text (``current_note``), labelled as such, so the old wording is
    never quoted as current."""
    if in_force(p, on) or not p.current_note:
        return p
    src = versions.get(p.current_note_source) if p.current_note_source else None
    tag = DUTCH_TEXT[lang]
    return replace(p, text=p.current_note, lang="nl", label=f"{p.label} ({tag})", context="",
                   url=src.url if src is not None and src.url else p.url, flagged=None)


# --------------------------------------------------------------------------------- application dates

def application_dates(index: Any) -> list[ApplicationDate]:
    """The rows "from when does X apply" written at ingest into the index's build folder
    (amend.load_application_dates); [] when there are none or the file cannot be read."""
    from .amend import load_application_dates, load_chapters

    cached = getattr(index, "_inforce_dates", None)
    if cached is not None:
        return cached
    rows: list[ApplicationDate] = []
    chapters: dict[str, str] = {}
    path = getattr(index, "path", None)
    if path:
        try:
            rows, chapters = load_application_dates(path), load_chapters(path)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            log.warning("could not read the application dates of %s: %s", path, e)
            rows, chapters = [], {}
    try:
        index._inforce_dates = rows
        index._inforce_chapters = {str(k): str(v) for k, v in chapters.items()}
    except AttributeError:  # pragma: no cover
        pass
    return rows


def dates_on(index: Any, on: str) -> list[ApplicationDate]:
    """The application dates as the law stood on ``on``: the table is Article 113 as amended, so
    before that wording applied it is not the law ([]), and the passages in force then answer
    ("As the AI Act stood on 1 June 2025, from when would Article 6(1) apply?": 2 August 2027)."""
    rows = application_dates(index)
    versions = view(index)
    sources = [versions.get(r.source) for r in rows if r.source]
    return [] if any(p is not None and not in_force(p, on) for p in sources) else rows


def chapters_of(index: Any) -> dict[str, str]:
    """Article -> its chapter (and section) from the application-dates file ({} when it has none)."""
    application_dates(index)
    return getattr(index, "_inforce_chapters", {})


_FROM_WHEN = re.compile(
    r"\b(vanaf wanneer|per wanneer|sinds wanneer|ingangsdatum|datum van toepassing|"
    r"wanneer\s+(gaat|gaan|gelden|geldt|treedt|treden|is|zijn|wordt|worden)\b.*\b(gelden|van toepassing|in werking|"
    r"toepasselijk|geldig)|vanaf welke datum|"
    r"from when|since when|as of when|from what date|from which date|"
    r"when\s+(does|do|will|did|is|are)\b.*\b(apply|applies|applicable|take effect|enter into application|start))",
    re.I | re.S)


# the amending act's own entry into force is its own article (omnibus Article 4), not Article 113
_AMENDING_ACT_IN_FORCE = re.compile(r"\b(omnibus|2026/1744)\b.*\b(in werking|into force)\b|"
                                    r"\b(in werking|into force)\b.*\b(omnibus|2026/1744)\b", re.I | re.S)


def asks_from_when(question: str) -> bool:
    """The question asks from when something applies ("Vanaf wanneer gelden ...", "When does ... apply")."""
    return bool(_FROM_WHEN.search(question)) and not _AMENDING_ACT_IN_FORCE.search(question)


_ASKED_DATE = re.compile(r"\b(\d{1,2})\s+(" + "|".join(_MONTHS["nl"] + _MONTHS["en"]) + r")\s+(\d{4})\b", re.I)
# "Gold op 1 september 2026 het verbod ... al?", "Did the ban on X apply on 1 September 2026?"
_APPLIED = re.compile(r"\b(gold|golden|geldt|gelden|van\s+toepassing|in\s+werking|verboden|toegestaan|"
                      r"appl(y|ies|ied)|in\s+force|in\s+effect|banned|prohibited|allowed)\b", re.I)


def asks_applied_on(question: str) -> str:
    """The ISO date of a question asking whether a rule applied on that date; "" otherwise."""
    m = _ASKED_DATE.search(question)
    if not m or not _APPLIED.search(question):
        return ""
    month = [x.lower() for x in _MONTHS["nl"] + _MONTHS["en"]].index(m.group(2).lower()) % 12 + 1
    try:
        return date(int(m.group(3)), month, int(m.group(1))).isoformat()
    except ValueError:
        return ""


_ASKS_BANNED = re.compile(r"\b(verbod\w*|verboden|banned|prohibited|forbidden)\b", re.I)


def applies_verdict(question: str, rows: list[ApplicationDate], on: str) -> str:
    """Yes or no from the application dates of the rows a yes/no question is about: with a date
    in the question ("Gold op 1 september 2026 het verbod ... al?"), whether every row applied on
    it; without one, for a question whether a practice is banned ("Are apps that ... banned, and
    since when?") whose rows are all prohibitions of Article 5, whether they apply on ``on``.
    "" for anything else (whether a system is high-risk is not a matter of dates)."""
    if not rows:
        return ""
    when = asks_applied_on(question)
    if not when:
        if not (_ASKS_BANNED.search(question) and all(p.startswith("Article 5(") for r in rows
                                                       for p in r.provisions)):
            return ""
        when = on
    return "yes" if all(r.date <= when for r in rows) else "no"


# what a question may name, and how a row of the table shows it: (question pattern, provision
# prefixes in row.provisions, scope words (Dutch, lower case))
# the prohibitions the omnibus added (non-consensual intimate images, child sexual abuse material):
# their own row, which the general prohibitions' row names as its exception, so they weigh double
_NEW_PROHIBITIONS = re.compile(r"intiem\w*|intimate|seksu\w*|sexual\w*|naakt\w*|nud(e|es|ity|ify)\w*|"
                               r"kindermisbruik\w*|child\s+sexual|csam|pornogra\w*", re.I)
_CONCEPTS: list[tuple[re.Pattern[str], tuple[str, ...], tuple[str, ...]]] = [
    (re.compile(r"\b(bijlage|annex)\s+III\b", re.I), ("Annex III",), ("bijlage iii",)),
    (re.compile(r"\b(bijlage|annex)\s+I\b(?!\s*[IVX])", re.I), ("Annex I",), ("bijlage i ", "bijlage i,")),
    (re.compile(r"hoog[\s-]?risico|high[\s-]?risk", re.I), ("Chapter III", "Annex III", "Annex I", "Article 6"),
     ("hoog risico", "hoogrisico")),
    # the prohibitions in general: Chapter II's row (Article 5 named as such is an article, below)
    (re.compile(r"verbod|verboden|prohibit\w*|banned", re.I), ("Chapter II",), ("hoofdstuk ii ", "verbod")),
    (_NEW_PROHIBITIONS, ("Article 5(1)(ba)", "Article 5(1)(bb)"), ()),
    (re.compile(r"\bgpai\b|algemene doeleinden|general[\s-]purpose", re.I), ("Chapter V",), ("hoofdstuk v ",)),
    (re.compile(r"boete\w*|sanctie\w*|penalt\w*|fines?\b", re.I), ("Chapter XII", "Article 99", "Article 101"),
     ("hoofdstuk xii",)),
    (re.compile(r"aangemelde instanties|notified bod\w*", re.I), ("Chapter III, Section 4",), ("afdeling 4",)),
    (re.compile(r"governance|bestuur", re.I), ("Chapter VII",), ("hoofdstuk vii",)),
    (re.compile(r"ai-geletterdheid|ai literacy|geletterdheid|literacy", re.I), ("Article 4", "Chapter I"),
     ("hoofdstuk i ", "hoofdstukken i")),
]
_CHAPTER = re.compile(r"\b(?:hoofdstuk|chapter)\s+([IVXL]+)\b", re.I)
_ARTICLE = re.compile(r"\b(?:artikel|article|art\.)\s+(\d+\s*[a-z]?)\b", re.I)


def _row_text(row: ApplicationDate) -> str:
    return " " + " ".join([*row.provisions, row.scope]).lower().replace(",", " , ") + " "


def _has_provision(row: ApplicationDate, prefix: str) -> bool:
    from . import legal

    for p in row.provisions:
        if p == prefix or p.startswith(prefix + ",") or p.startswith(prefix + "("):
            return True
        if prefix.startswith(("Article", "Annex")) and p.startswith(("Article", "Annex")) and legal.matches(prefix, p):
            # "Annex I" must not match "Annex III": legal.matches compares at boundaries
            return True
    return False


def match_dates(question: str, rows: list[ApplicationDate],
                chapters: dict[str, str] | None = None) -> list[ApplicationDate]:
    """The rows of the table the question is about: the rows that share most of the things the
    question names (Annex III, high-risk, prohibitions, GPAI, a chapter, an article: also through
    ``chapters``, the chapter/section an article sits in); [] when it names none of them."""
    if not rows:
        return []
    # (provisions, words, either): a row scores once for a provision and once for the words, or
    # (either) once for one of them
    wanted: list[tuple[tuple[str, ...], tuple[str, ...], bool]] = []
    for pat, provs, words in _CONCEPTS:
        if pat.search(question):
            wanted.append((provs, words, False))
            if pat is _NEW_PROHIBITIONS:  # a specific prohibition outweighs the prohibitions in general
                wanted.append((provs, words, False))
    for m in _CHAPTER.finditer(question):
        n = m.group(1).upper()
        wanted.append(((f"Chapter {n}",), (f"hoofdstuk {n.lower()} ", f"hoofdstukken {n.lower()} "), False))
    for m in _ARTICLE.finditer(question):
        n = m.group(1).replace(" ", "")
        art = f"Article {n}"
        # also through its chapter, a row naming some of its points and its chapter's row alike:
        # "Vanaf wanneer geldt artikel 5?" is Chapter II's date (2 February 2025) and, for the
        # points the omnibus added, their own row (2 December 2026)
        where = (chapters or {}).get(art, "")
        wanted.append(((art, where) if where else (art,), (f"artikel {n} ", f"artikel {n},"), True))
    if not wanted:
        return []
    scored: list[tuple[int, int, ApplicationDate]] = []
    for i, row in enumerate(rows):
        text = _row_text(row)
        score = 0
        for provs, words, either in wanted:
            has, says = any(_has_provision(row, p) for p in provs), any(w in text for w in words)
            score += (has or says) if either else has + says
        if score:
            scored.append((score, i, row))
    if not scored:
        return []
    best = max(s for s, _, _ in scored)
    return [row for s, _, row in sorted(scored, key=lambda x: x[1]) if s == best]


FROM_WHEN_ANSWER: dict[Lang, str] = {
    "nl": "Volgens {source}{set_by} {verb} met ingang van {date} van toepassing: {scope}",
    "en": "Under {source}{set_by}, from {date} these apply: {scope}",
}


def provision_words(provision: str, lang: Lang) -> str:
    """"Chapter III, Section 1" -> "hoofdstuk III, afdeling 1"; "Article 6(2)" -> "artikel 6, lid 2"."""
    from .legal import label as legal_label

    if provision == "Regulation":
        return "de verordening" if lang == "nl" else "the Regulation"
    if provision.startswith("Chapter"):
        return provision.replace("Chapter", "hoofdstuk").replace("Section", "afdeling") if lang == "nl" else provision
    text = legal_label(provision, lang)
    return text[:1].lower() + text[1:] if lang == "nl" else text


SET_BY: dict[Lang, str] = {"nl": " (zoals gewijzigd bij {act}, {point})", "en": " (as amended by {act}, {point})"}


def pending_rows(provision: str, rows: list[ApplicationDate], chapters: dict[str, str],
                 on: str) -> list[ApplicationDate]:
    """The rows of the table that make ``provision`` apply only after ``on``: those naming it (or a
    point of it), else those naming its chapter or section ("Article 26(7)" sits in Chapter III,
    Section 3, which applies from 2 December 2027 for Annex III systems). [] when it applies on
    ``on`` or the table says nothing of it."""
    if not provision.startswith(("Article", "Annex")):
        return []
    article = re.sub(r"\(.*$", "", provision)

    def names(row: ApplicationDate) -> bool:  # the provision, a part of it, or what contains it
        return any(p in (provision, article) or p.startswith(provision + "(") or provision.startswith(p + "(")
                   for p in row.provisions)

    # a row of its own wins ("Article 6(5)" has one; "Article 5(1)(f)" is not "Article 5(1)(ba)")
    own = [r for r in rows if names(r)]
    where = chapters.get(article, "")
    covering = own or ([r for r in rows if _has_provision(r, where)] if where else [])
    return [r for r in covering if r.date > on]


NOT_YET: dict[Lang, tuple[str, str]] = {  # (one provision, several)
    "nl": ("Let op: {labels} is op {on} nog niet van toepassing, pas met ingang van {dates} (artikel 113).",
           "Let op: {labels} zijn op {on} nog niet van toepassing, pas met ingang van {dates} (artikel 113)."),
    "en": ("Note: {labels} does not apply yet on {on}; it applies from {dates} (Article 113).",
           "Note: {labels} do not apply yet on {on}; they apply from {dates} (Article 113)."),
}
_FOR: dict[Lang, str] = {"nl": "voor {what}", "en": "for {what}"}
_AND: dict[Lang, str] = {"nl": " en ", "en": " and "}


def _joined(items: list[str], lang: Lang) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])}{_AND[lang]}{items[-1]}"


def not_yet_line(provisions: list[str], rows: list[ApplicationDate], lang: Lang, on: str) -> str:
    """"Let op: artikel 26, lid 7 is op 2 december 2026 nog niet van toepassing, pas met ingang van
    2 december 2027 voor bijlage III en 2 augustus 2028 voor bijlage I (artikel 113)." for cited
    ``provisions`` that share the same ``pending_rows``; "" for none."""
    if not rows or not provisions:
        return ""
    parts = []
    for r in sorted(rows, key=lambda r: r.date):
        annexes = [provision_words(x, lang) for x in r.provisions if x.startswith("Annex")]
        what = _FOR[lang].format(what=_joined(annexes, lang)) if annexes and len(rows) > 1 else ""
        parts.append(f"{long_date(r.date, lang)} {what}".strip())
    one, several = NOT_YET[lang]
    return (one if len(provisions) == 1 else several).format(
        labels=_joined([provision_words(p, lang) for p in provisions], lang), on=long_date(on, lang),
        dates=_joined(list(dict.fromkeys(parts)), lang))


@dataclass
class DatedAnswer:
    """The answer to a "from when" question from the table: its text, the passages it cites (in
    order) and, per passage, the sentence quoted."""

    text: str
    passages: list[Passage]
    quotes: list[str]
    rows: list[ApplicationDate]


def _quote(p: Passage, iso: str) -> str:
    """The sentence or line of ``p`` that states the date (verbatim)."""
    want = [long_date(iso, "nl"), long_date(iso, "en")]
    from .answer import sentence_spans

    spans = sentence_spans(p.text)
    for s, e in spans:
        if any(w.lower() in p.text[s:e].lower() for w in want):
            return p.text[s:e]
    for line in p.text.splitlines():  # a line ("i) 2 december 2027 voor wat betreft ...")
        if any(w.lower() in line.lower() for w in want):
            return line.strip()
    return p.text[slice(*spans[0])] if spans else p.text


def dated_answer(question: str, lang: Lang, rows: list[ApplicationDate], versions: Versions,
                 on: str) -> DatedAnswer | None:
    """The answer from the rows ``match_dates`` chose: one sentence per row, each citing the
    Article 113 passage that states the date and the amending point that set it."""
    passages: list[Passage] = []
    quotes: list[str] = []
    lines: list[str] = []
    used: list[ApplicationDate] = []
    for row in rows:
        src = versions.get(row.source) or versions.unit_on(row.source, "nl", on) if row.source else None
        if src is None:
            continue
        marks = []
        for p in (src, versions.get(row.set_by) if row.set_by else None):
            if p is None:
                continue
            if p.id not in [q.id for q in passages]:
                passages.append(p)
                quotes.append(_quote(p, row.date))
            marks.append(f"[{[q.id for q in passages].index(p.id) + 1}]")
        a = versions.get(row.set_by) if row.set_by else None
        set_by = SET_BY[lang].format(act=act_name(a, lang, row.set_by), point=point_label(a, lang, row.set_by)) \
            if row.set_by else ""
        scope = "; ".join(provision_words(x, lang) for x in row.provisions) or row.scope
        from .legal import label as legal_label

        source_label = legal_label(src.provision, lang) if src.provision else src.label
        if lang == "nl":
            source_label = source_label[:1].lower() + source_label[1:]
        line = FROM_WHEN_ANSWER[lang].format(source=source_label, set_by=set_by, scope=scope,
                                             date=long_date(row.date, lang),
                                             verb="is" if len(row.provisions) == 1 else "zijn")
        lines.append(f"{line}. {''.join(marks)}")
        used.append(row)
    if not lines:
        return None
    return DatedAnswer(" ".join(lines), passages, quotes, used)


def dated_passages(question: str, index: Any, on: str, fallback: bool = True) -> list[Passage]:
    """For a "from when" question: the passages of the table rows it is about (the Article 113
    passage, the amending point), else (``fallback``) the Article 113 wordings shown on ``on``;
    [] for other questions."""
    if not asks_from_when(question):
        return []
    versions = view(index)
    rows = match_dates(question, dates_on(index, on), chapters_of(index))
    out: list[Passage] = []
    for row in rows:
        for pid in (row.source, row.set_by):
            p = versions.get(pid) if pid else None
            if p is not None and p not in out:
                out.append(p)
    if not out and fallback:
        # Article 113 as shown on the date, and the amending points that change it
        out = [p for p in index.passages if versions.shown(p, on) and (
            (p.doc == "ai-act" and p.provision.startswith("Article 113"))
            or any(a == "Article 113" or a.startswith("Article 113(") for a in p.amends))]
    return out
