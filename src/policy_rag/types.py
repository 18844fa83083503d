"""The records passed between the stages of policy-rag.

One way through, each stage takes the previous record and returns the next::

    Source (manifest row) -> Document (parsed, a list of Blocks)
      -> Passage (stable id, provision, deep link) -> vectors (row i = passage i)
      -> Hit (passage, score) -> Answer (text, citations, refused)

Everything here is plain data (dataclasses), cheap to build in tests and easy to
serialise to JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Lang = Literal["en", "nl"]

# What a block/passage is. "article" covers an article paragraph or point,
# "definition" a numbered definition of Article 3, "amendment" a point of the
# amending act (the digital omnibus) that changes a provision of the AI Act.
BlockKind = Literal[
    "article", "definition", "recital", "annex", "guideline", "amendment", "page", "other"
]


@dataclass(frozen=True)
class Source:
    """One document of the manifest (`corpus/sources.toml`)."""

    id: str  # manifest id of the *file*, e.g. "ai-act-en-html"
    doc: str  # id of the *work*, shared by its language versions, e.g. "ai-act"
    title: str
    lang: Lang
    kind: str  # "act" | "amending-act" | "guidelines" | "page"
    format: str  # "eurlex-html" | "guidelines-pdf" | "omnibus-pdf" | "page-text" | ...
    version: str  # e.g. "OJ L 2024/1689, 12.7.2024"
    url: str  # official URL (cited to users)
    path: str  # path of the file relative to the corpus folder / mirror
    sha256: str
    binding: bool = True  # legally binding text (act) vs guidance/web page
    ingest: bool = True  # False: listed for completeness (alternate formats)
    shipped: bool = False  # True: the file is committed in the repository's corpus/
    # Versions (amend.py): the day the act was published in the Official Journal (ISO), from
    # which its entry into force is derived with the act's own "treedt in werking op de ... dag
    # na die van de bekendmaking"; and, for an amending act, the doc id of the act it amends.
    published: str = ""
    amends: str = ""
    # a text with the corrigenda worked in (EUR-Lex consolidated, listed ingest = false): the
    # source id of the text it corrects; its articles replace the corrected text's where they differ
    corrects: str = ""


@dataclass
class Block:
    """One structural unit a parser found: a paragraph, point, recital, definition...

    Parsers return blocks at the finest citable unit they can; chunking may split a
    block that is too long for the embedding model, never merge two.
    """

    provision: str  # canonical, language independent: "Article 5(1)(f)", "Recital 27",
    #                 "Annex III(4)(a)", "Paragraph 42" (guidelines), "Section 3" (pages)
    label: str  # as a reader of the document's language writes it: "Artikel 5, lid 1, punt f"
    title: str  # heading of the article / section the block sits in
    text: str  # clean text of the block (no blank-line runs, no page furniture)
    kind: BlockKind = "other"
    anchor: str = ""  # fragment of the official URL for this block ("art_5"), "" if none
    refs: list[str] = field(default_factory=list)  # provisions this block refers to
    amends: list[str] = field(default_factory=list)  # AI Act provisions amended (omnibus)
    context: str = ""  # short lead-in that makes the block self-contained, e.g. the
    #                    chapeau of a list ("The following AI practices shall be prohibited:")
    # Versions, set by amend.py (see Passage): a block with ``history`` is a superseded wording,
    # its passage id gets "@" + valid_from. ``url``/``version`` override the source's when set
    # (a wording made by an amending act links to the amending provision).
    valid_from: str = ""
    valid_to: str = ""
    amended_by: list[str] = field(default_factory=list)
    current_note: str = ""
    current_note_source: str = ""
    history: bool = False
    url: str = ""
    version: str = ""


@dataclass
class Document:
    """A parsed source file."""

    source: Source
    blocks: list[Block]
    warnings: list[str] = field(default_factory=list)


@dataclass
class Passage:
    """The unit of retrieval and citation. Row i of the vector index is passage i."""

    id: str  # stable across re-ingests: "ai-act/nl/art-5.1.f"
    doc: str  # work id: the same for the NL and EN text of one act
    lang: Lang
    provision: str  # canonical: "Article 5(1)(f)"
    label: str  # "Artikel 5, lid 1, punt f"
    title: str
    url: str  # official URL + anchor of the article/paragraph where the source has one
    text: str
    kind: BlockKind = "other"
    binding: bool = True
    version: str = ""
    source_id: str = ""
    refs: list[str] = field(default_factory=list)
    amends: list[str] = field(default_factory=list)
    context: str = ""
    order: int = 0  # position in its document, for "show with context"
    content_hash: str = ""  # sha256 of what is embedded: re-ingest skips unchanged ones
    # character spans of ``text`` addressed to the assistant, not to a reader (guard.py): left
    # out of what the model reads and never quoted. Set at ingest; None: not scanned (an
    # index from before), then found when the passage is used.
    flagged: list[tuple[int, int]] | None = None
    # Versions (the law as amended, on a date). ISO dates "YYYY-MM-DD"; "" = open-ended.
    # This wording is the law on day d when valid_from <= d < valid_to. A superseded wording
    # keeps its passage (history, `show`, the date setting); the wording in force carries the
    # plain id, an earlier one the id + "@" + its valid_from ("ai-act/nl/art-4@2024-08-01").
    valid_from: str = ""
    valid_to: str = ""
    amended_by: list[str] = field(default_factory=list)  # ids of the amending passages
    # Amending text that applies to this passage but could not be worked into its wording
    # (an instruction not applied mechanically; an English text whose new wording exists only
    # in Dutch): answers quote it as the current law, labelled with its source.
    current_note: str = ""
    current_note_source: str = ""  # id of the amending passage the note quotes

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Passage:
        p = cls(**d)
        if p.flagged is not None:  # JSON gives lists
            p.flagged = [(int(s), int(e)) for s, e in p.flagged]
        return p

    def embed_text(self) -> str:
        """The text given to the embedding model and to BM25."""
        head = f"{self.label}. {self.title}".strip(". ")
        body = f"{self.context}\n{self.text}" if self.context else self.text
        return f"{head}\n{body}"


@dataclass(frozen=True)
class ApplicationDate:
    """One row of the table "from when does X apply" (Article 113 as amended), built at ingest."""

    provisions: tuple[str, ...]  # canonical: ("Article 5(1)(ba)",), ("Chapter III",), ("Annex III",)
    scope: str  # what the row covers, in the words of the act (Dutch): "AI-systemen ... bijlage III"
    date: str  # ISO "2027-12-02"
    source: str  # passage id of the provision that states it ("ai-act/nl/art-113.3.c")
    set_by: str = ""  # passage id of the amending point that set the date, "" if original

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Hit:
    passage: Passage
    score: float
    rank: int = 0
    why: str = ""  # "dense", "bm25", "provision", "fused"

    def to_dict(self) -> dict[str, Any]:
        d = self.passage.to_dict()
        d.update(rank=self.rank, score=round(float(self.score), 6), why=self.why)
        return d


@dataclass
class Citation:
    n: int  # the number used in the answer text: [1]
    passage: Passage
    quote: str  # exact words from passage.text that support the claim
    alternate: Passage | None = None  # the same provision in the other language, if any
    # versions (inforce.py): the amending passages ({id, kind, act, point, label, url, text}) and
    # every wording of the provision ({id, valid_from, valid_to, label, text, url, this}), oldest first
    amended_by: list[dict[str, Any]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        p = self.passage
        alt = self.alternate
        return {
            "n": self.n,
            "id": p.id,
            "doc": p.doc,
            "provision": p.provision,
            "label": p.label,
            "lang": p.lang,
            "url": p.url,
            "quote": self.quote,
            "text": p.text,
            "version": p.version,
            "binding": p.binding,
            "other_language": (
                {"id": alt.id, "lang": alt.lang, "label": alt.label, "url": alt.url, "text": alt.text}
                if alt else None
            ),
            "valid_from": p.valid_from,
            "valid_to": p.valid_to,
            "amended_by": self.amended_by,
            "versions": self.versions,
        }


# Why an answer is the refusal sentence
REFUSAL_REASONS = {
    "not-relevant": "retrieval found no passage similar enough to the question",
    "unknown-terms": "the question names something no source mentions",
    "asks-for-events": "the question asks what has happened since, or who holds a post: the sources do not record that",
    "national-body": "the question asks which body a Member State designated: EU texts leave that to each Member State",
    "no-amount": "the question asks for an amount of money and no passage found names one",
    "no-passages": "every passage found was left out (instructions to the assistant)",
    "judged-unanswerable": "the LLM, asked first, judged that the sources do not answer it",
    "model-refused": "the LLM wrote that the sources do not answer it",
    "unsupported": "no sentence of the answer is supported by its sources",
    "no-such-provision": "the question names a provision the AI Act does not have",
}


@dataclass
class Answer:
    question: str
    language: Lang
    text: str
    citations: list[Citation]
    refused: bool
    backend: str  # "local" | "hosted" | "none"
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # e.g. "Article 6 was amended by ..."
    hits: list[Hit] = field(default_factory=list)  # what retrieval returned
    refusal_reason: str = ""  # when refused: one of REFUSAL_REASONS
    answerable_odds: float | None = None  # the LLM's log-odds that the sources answer (None: not asked)
    on: str = ""  # ISO date whose law was answered ("" before versions existed)
    # the short answer where the question asks for one: "yes" | "no" | "yes-if" | "no-unless" |
    # "not-in-sources", or the date/amount/list asked for; "" when none could be derived
    verdict: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "language": self.language,
            "answer": self.text,
            "refused": self.refused,
            "refusal_reason": self.refusal_reason or None,
            "answerable_odds": None if self.answerable_odds is None else round(self.answerable_odds, 3),
            "on": self.on or None,
            "verdict": self.verdict or None,
            "backend": self.backend,
            "citations": [c.to_dict() for c in self.citations],
            "notes": self.notes,
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }
