"""The Dutch digital omnibus on AI (PE-CONS 30/26, Regulation (EU) 2026/1744) as a Council PDF.

Council layout: every page carries the footer "PE-CONS 30/26 <page>" / "GIP.B NL" and
footnotes set in the body size, each starting with a small superscript number at the
left margin. Structure:

* cover page, title and citations ("Gezien ..."), "Overwegende hetgeen volgt:";
* recitals "(1)" ... "(47)" at the left margin, up to "HEBBEN DE VOLGENDE VERORDENING
  VASTGESTELD:";
* articles: a centred italic "Artikel N" and an italic title line. Articles 1-3 amend
  other acts: a chapeau ("Verordening (EU) 2024/1689 wordt als volgt gewijzigd:") and
  numbered amendment points "1)", "2)", ... at the left margin, with sub-points "a)" and
  the quoted new text indented. Article 4 (entry into force) has no numbered paragraphs;
  the signature block after "Gedaan te" is dropped.

Blocks: one per recital ("Recital N"), one per amendment point ("Article 1(3)", kind
"amendment" when the article amends Regulation (EU) 2024/1689, with ``amends`` = the AI
Act provisions the point changes; kind "article" for the points of the articles that
amend other regulations), one per article without points ("Article 4").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from policy_rag.errors import ParseError
from policy_rag.parse.pdf import PdfLine, join_lines, read_pdf_lines
from policy_rag.types import Block, BlockKind, Document, Source

log = logging.getLogger(__name__)

AI_ACT = "2024/1689"

_FOOTER_Y = 62.0  # "PE-CONS 30/26 41" at y 52.8, "GIP.B NL" at 33-37
_FOOTNOTE_MAX_Y = 430.0  # a footnote block starts in the lower part of a page
_RECITALS_START = re.compile(r"^Overwegende hetgeen volgt", re.I)
_ENACTING = re.compile(r"^HEBBEN DE VOLGENDE VERORDENING VASTGESTELD", re.I)
_RECITAL = re.compile(r"^\((\d{1,3})\)\s*")
_ARTICLE = re.compile(r"^Artikel (\d{1,3})$")
_POINT = re.compile(r"^(\d{1,3})\)\s*")
_SIGNATURE = re.compile(r"^Gedaan te\b")
_RULE = re.compile(r"^_{4,}$")
_AMENDS_ACT = re.compile(r"Verordening \(EU\) (\d{4}/\d+) wordt als volgt gewijzigd")


@dataclass
class _Unit:
    kind: str  # "recital" | "point" | "article"
    number: int
    page: int
    article: int = 0
    lines: list[str] = field(default_factory=list)
    xs: list[float] = field(default_factory=list)


@dataclass
class _Article:
    number: int
    page: int
    title: str = ""
    chapeau: list[str] = field(default_factory=list)  # text before the first point
    points: list[_Unit] = field(default_factory=list)


def _content_lines(pages: list[list[PdfLine]]) -> list[PdfLine]:
    """All lines without the page footer and the footnotes at the page bottoms."""
    out: list[PdfLine] = []
    for page in pages:
        body = [ln for ln in page if ln.y >= _FOOTER_Y and (ln.text or ln.small_text)]
        cut = next((k for k, ln in enumerate(body) if ln.starts_small and ln.y < _FOOTNOTE_MAX_Y), None)
        if cut is not None:
            top = body[cut].y
            body = [ln for k, ln in enumerate(body) if k < cut and ln.y > top]
        # "________________": the rule above a footnote of quoted new text (the footnote
        # itself belongs to the inserted text and is kept).
        out.extend(ln for ln in body if ln.text and not _RULE.match(ln.text))
    return out


def parse_omnibus_pdf(path: Path | str, source: Source) -> Document:
    """Parse the Council PDF of the digital omnibus into recital, amendment and article Blocks."""
    path = Path(path)
    lines = _content_lines(read_pdf_lines(path))
    if not lines:
        raise ParseError(path, "no text found after removing page furniture", "Check the file.")
    margin = min(ln.x for ln in lines)  # the left margin (56.6 pt)

    recitals: list[_Unit] = []
    articles: list[_Article] = []
    state = "preamble"
    cur_recital: _Unit | None = None
    i = 0
    while i < len(lines):
        ln = lines[i]
        text = ln.text
        at_margin = abs(ln.x - margin) < 3
        if state == "preamble":
            if _RECITALS_START.match(text):
                state = "recitals"
        elif state == "recitals":
            m = _RECITAL.match(text)
            if _ENACTING.match(text):
                state = "articles"
            elif m and at_margin and int(m.group(1)) == len(recitals) + 1:
                cur_recital = _Unit("recital", int(m.group(1)), ln.page, lines=[text[m.end():]])
                recitals.append(cur_recital)
            elif cur_recital is not None:
                cur_recital.lines.append(text)
        elif state == "articles":
            m = _ARTICLE.match(text)
            if m and ln.italic and ln.x > margin + 100 and int(m.group(1)) == len(articles) + 1:
                art = _Article(int(m.group(1)), ln.page)
                if i + 1 < len(lines) and lines[i + 1].italic:
                    i += 1
                    art.title = lines[i].text
                articles.append(art)
            elif _SIGNATURE.match(text) and at_margin:
                break
            elif articles:
                art = articles[-1]
                pm = _POINT.match(text)
                if pm and at_margin and int(pm.group(1)) == len(art.points) + 1:
                    art.points.append(
                        _Unit("point", int(pm.group(1)), ln.page, article=art.number, lines=[text], xs=[ln.x])
                    )
                elif art.points:
                    art.points[-1].lines.append(text)
                    art.points[-1].xs.append(ln.x)
                else:
                    art.chapeau.append(text)
        i += 1

    if not recitals and not articles:
        raise ParseError(
            path,
            "neither recitals nor articles were found; this does not look like the Council PDF of an amending act",
            f"Check the file and the `format` of source {source.id!r} in corpus/sources.toml.",
        )
    warnings: list[str] = []
    if state != "articles":
        warnings.append("the enacting formula ('HEBBEN DE VOLGENDE VERORDENING VASTGESTELD') was not found")

    refs_of = _refs_finder()
    blocks: list[Block] = []
    for r in recitals:
        text = join_lines(r.lines)
        blocks.append(
            Block(
                provision=f"Recital {r.number}",
                label=f"Overweging {r.number}",
                title="Overwegingen",
                text=text,
                kind="recital",
                anchor=f"page={r.page}",
                refs=refs_of(text),
            )
        )
    for art in articles:
        chapeau = join_lines(art.chapeau)
        am = _AMENDS_ACT.search(chapeau)
        amends_ai_act = bool(am and am.group(1) == AI_ACT)
        if not art.points:
            text = chapeau
            blocks.append(
                Block(
                    provision=f"Article {art.number}",
                    label=f"Artikel {art.number}",
                    title=art.title,
                    text=text,
                    kind="article",
                    anchor=f"page={art.page}",
                    refs=refs_of(text),
                )
            )
            continue
        for p in art.points:
            text = _POINT.sub("", join_lines(p.lines), count=1)  # the number is in the label
            kind: BlockKind = "amendment" if amends_ai_act else "article"
            amends = amended_provisions(list(zip(p.lines, p.xs, strict=False))) if amends_ai_act else []
            if amends_ai_act and not amends:
                warnings.append(f"Article {art.number}({p.number}): could not tell which AI Act provision it amends")
            blocks.append(
                Block(
                    provision=f"Article {art.number}({p.number})",
                    label=f"Artikel {art.number}, punt {p.number})",
                    title=art.title,
                    text=text,
                    kind=kind,
                    anchor=f"page={p.page}",
                    refs=refs_of(text) if amends_ai_act else [],
                    amends=amends,
                    context=chapeau,
                )
            )
    for w in warnings:
        log.warning("%s: %s", path, w)
    log.info(
        "%s: %d recitals, %d articles, %d blocks",
        path,
        len(recitals),
        len(articles),
        len(blocks),
    )
    return Document(source=source, blocks=blocks, warnings=warnings)


def _refs_finder() -> Callable[[str], list[str]]:
    """legal.find_refs for Dutch text if that module is available, else no refs."""
    try:
        from policy_rag.legal import find_refs
    except ImportError:  # pragma: no cover - legal.py is part of the package
        return lambda text: []

    def refs(text: str) -> list[str]:
        try:
            return find_refs(text, "nl")
        except Exception as e:  # a reference finder bug must not stop parsing
            log.debug("find_refs failed: %s", e)
            return []

    return refs


# --- which AI Act provisions an amendment point changes -------------------------------

_SUFFIX = {"bis": "a", "ter": "b", "quater": "c", "quinquies": "d", "sexies": "e", "septies": "f", "octies": "g"}
_SUF_RE = r"(?:\s+(?:bis|ter|quater|quinquies|sexies|septies|octies))?"
_ART_RE = re.compile(r"\bartikel\s+(\d{1,3}" + _SUF_RE + r")\b", re.I)
_ANNEX_RE = re.compile(r"\bbijlage\s+([IVXL]+)\b(?:,\s*afdeling\s+([A-Z])\b)?", re.I)
_LID_RE = re.compile(r"\blid\s+(\d{1,2}" + _SUF_RE + r")\b", re.I)
_LEDEN_RE = re.compile(r"\bleden\s+(\d{1,2}(?:\s*(?:,|en|tot en met)\s*\d{1,2})*)", re.I)
# A point is a number ("punt 14", "punt 14 bis)") or a letter with its bracket ("punt g)").
_PUNT_RE = re.compile(r"\bpunt\s+(\d{1,2}" + _SUF_RE + r"\b|[a-z]" + _SUF_RE + r"(?=\)))", re.I)
_ITEM = r"(?:\d{1,2}\b\)?|[a-z]\))"
_PUNTEN_RE = re.compile(r"\bpunten\s+(" + _ITEM + r"(?:\s*(?:,|en|tot en met)\s*" + _ITEM + r")*)", re.I)
# What an instruction inserts or adds: "het volgende lid", "de volgende punten", ...
_INSERTS = re.compile(
    r"\b(?:het|de)\s+volgende\s+(lid|leden|punt|punten|artikel|artikelen|bijlage|alinea|alinea’s)\b.*\b(?:ingevoegd|toegevoegd)"
)
_AS_FOLLOWS = re.compile(r"als volgt gewijzigd\s*:?\s*$")
# The first words of new text (in the quotation): a new article, annex, paragraph, point.
_NEW_ARTICLE = re.compile(r"^“?Artikel\s+(\d{1,3}" + _SUF_RE + r")\s*$")
_NEW_ANNEX = re.compile(r"^“?BIJLAGE\s+([IVXL]+)\b", re.I)
_NEW_PARA = re.compile(r"^“?(\d{1,2}" + _SUF_RE + r")\.\s")
_NEW_POINT = re.compile(r"^“?(\d{1,2}" + _SUF_RE + r"|[a-z]" + _SUF_RE + r")\)\s")
_SUB_INSTRUCTION = re.compile(r"^(?:[a-z]|[ivx]+)\)\s")
_QUOTE_END = re.compile(r"”\s*[;.]\s*(?:en|of)?\s*$")


def _num(s: str) -> str:
    """ "4 bis" -> "4a", "b bis" -> "ba" (the canonical English form of inserted provisions)."""
    parts = s.split()
    return parts[0] + (_SUFFIX[parts[1]] if len(parts) > 1 else "")


def _split_base(base: str) -> tuple[str, list[str]]:
    """ "Article 5(1)(a)" -> ("Article 5", ["1", "a"])."""
    m = re.match(r"^(Article \w+|Annex [IVXL]+(?:, Section [A-Z])?)((?:\(\w+\))*)$", base)
    if not m:
        return base, []
    return m.group(1), re.findall(r"\((\w+)\)", m.group(2))


def _targets(instr: str, base: str) -> list[str]:
    """Provisions one instruction names, relative to the parent instruction's ``base``."""
    art = _ART_RE.search(instr)
    annex = _ANNEX_RE.search(instr)
    path: list[str]
    if art and (not annex or art.start() < annex.start()):
        root, path, tail = f"Article {_num(art.group(1))}", [], instr[art.end():]
    elif annex:
        section = f", Section {annex.group(2)}" if annex.group(2) else ""
        root, path, tail = f"Annex {annex.group(1).upper()}{section}", [], instr[annex.end():]
    else:
        root, path = _split_base(base)
        tail = instr
    if not root:
        return []
    lid = _LID_RE.search(tail)
    leden = _LEDEN_RE.search(tail)
    if leden and not lid:
        return [f"{root}({n})" for n in re.findall(r"\d{1,2}", leden.group(1))]
    if lid:
        path = [_num(lid.group(1))]  # a paragraph replaces the parent's paragraph
        tail = tail[lid.end():]
    punten = _PUNTEN_RE.search(tail)
    punt = _PUNT_RE.search(tail)
    prefix = root + "".join(f"({p})" for p in path)
    if punten:
        return [f"{prefix}({p})" for p in re.findall(r"\d{1,2}|\b[a-z](?=\))", punten.group(1))]
    if punt:
        return [f"{prefix}({_num(punt.group(1))})"]
    return [prefix]


@dataclass
class _Instr:
    text: str
    x: float
    base: str = ""  # the single provision it names, for its sub-instructions
    targets: list[str] = field(default_factory=list)
    new_items: list[str] = field(default_factory=list)
    quote_x: float | None = None
    has_children: bool = False


def amended_provisions(point_lines: list[tuple[str, float]]) -> list[str]:
    """The AI Act provisions an amendment point of the omnibus changes, canonical, in order.

    ``point_lines`` are the point's lines with their x position; the first is "N) ...".
    Reads the instruction ("in artikel 1, lid 2, wordt punt g) vervangen door:" ->
    Article 1(2)(g)), sub-instructions under "... wordt als volgt gewijzigd:"
    ("a) lid 2 wordt vervangen door:" under artikel 2 -> Article 2(2)), and, for
    insertions, the numbers of the new text ("de volgende leden worden ingevoegd:
    “1 bis. ... 1 ter." -> Article 5(1a), Article 5(1b); "“Artikel 4 bis" -> Article 4a;
    "BIJLAGE XIV" -> Annex XIV).
    """
    if not point_lines:
        return []
    text0, x0 = point_lines[0]
    instrs: list[_Instr] = [_Instr(re.sub(r"^\d{1,3}\)\s*", "", text0), x0)]
    stack: list[_Instr] = [instrs[0]]  # open instructions, outermost first
    in_quote = False
    reading_instr = not re.search(r"[:;]", instrs[0].text)
    for text, x in point_lines[1:]:
        cur = stack[-1]
        if reading_instr and not in_quote:  # the instruction wraps onto this line
            cur.text += " " + text
            reading_instr = not re.search(r"[:;]", text)
            continue
        if in_quote:
            if cur.quote_x is not None and abs(x - cur.quote_x) < 3:
                _note_new_item(cur, text)
            if _QUOTE_END.search(text):
                in_quote = False
            continue
        if text.startswith("“"):
            cur.quote_x = x
            _note_new_item(cur, text)
            in_quote = not _QUOTE_END.search(text)
            continue
        if _SUB_INSTRUCTION.match(text):
            while len(stack) > 1 and x <= stack[-1].x + 1:
                stack.pop()
            parent = stack[-1]
            parent.has_children = True
            sub = _Instr(_SUB_INSTRUCTION.sub("", text, count=1), x)
            instrs.append(sub)
            stack.append(sub)
            reading_instr = not re.search(r"[:;]", sub.text)
            continue
        # Anything else (unquoted text after an instruction) is ignored.

    # Resolve targets top-down: each instruction relative to the nearest enclosing one.
    result: list[str] = []
    parents: list[_Instr] = []
    for ins in instrs:
        while parents and ins.x <= parents[-1].x + 1:
            parents.pop()
        base = parents[-1].base if parents else ""
        instr = re.split(r"[:;]", ins.text, maxsplit=1)[0]
        ins.targets = _targets(instr, base)
        ins.base = ins.targets[0] if len(ins.targets) == 1 else base
        parents.append(ins)
        if ins.has_children and _AS_FOLLOWS.search(instr + ":"):
            continue  # its sub-instructions say what changes
        what = _INSERTS.search(instr)
        if what and ins.new_items:
            kind = what.group(1)
            root, path = _split_base(ins.base)
            prefix = root + "".join(f"({p})" for p in path)
            for item in ins.new_items:
                if item.startswith(("Article ", "Annex ")):
                    result.append(item)
                elif kind in ("lid", "leden"):
                    result.append(f"{root}({item})")
                elif kind in ("punt", "punten"):
                    result.append(f"{prefix}({item})")
            if any(not i.startswith(("Article ", "Annex ")) for i in ins.new_items) and kind.startswith("alinea"):
                result.extend(ins.targets)
        else:
            result.extend(ins.targets)
    seen: set[str] = set()
    return [p for p in result if p and not (p in seen or seen.add(p))]  # type: ignore[func-returns-value]


def _note_new_item(ins: _Instr, text: str) -> None:
    """Record the number of a new article/annex/paragraph/point starting on this line."""
    for pattern, make in (
        (_NEW_ARTICLE, lambda g: f"Article {_num(g)}"),
        (_NEW_ANNEX, lambda g: f"Annex {g.upper()}"),
        (_NEW_PARA, _num),
        (_NEW_POINT, _num),
    ):
        m = pattern.match(text)
        if m:
            ins.new_items.append(make(m.group(1)))
            return
