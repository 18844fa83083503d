"""Question + passages -> an answer whose every sentence is checked against its sources.

The small local model cites wrongly and invents on hard questions (MODELS.md), so
nothing it writes is trusted:

* each sentence of a generated answer must carry a citation ``[n]`` and be supported by
  a passage it was given: the passage sentence that supports it best becomes the
  citation's quote (verbatim by construction); a sentence that cites the wrong passage
  is re-attributed to the one that supports it; an unsupported sentence is dropped;
* if retrieval found nothing relevant enough, or the question asks for what the sources
  cannot record (events since, office holders) or for an amount no passage found names, or
  the model, asked first, judges that the sources do not answer the question, or it says so
  in its answer, or no supported sentence remains, the answer is the shared refusal sentence;
* passages are data: text in them addressed to the assistant (``guard.py``, flagged at
  ingest) is left out of the prompt and never quoted, an answer sentence that repeats it is
  dropped, and a claim about when the law applies (or that it does not) must be supported by
  the act itself, not by a web page or guideline;
* streamed, the answer is yielded sentence by sentence, each only once it has been checked.

Support is decided by stemmed content-word overlap, and across languages (a Dutch
sentence, an English guideline) by EmbeddingGemma similarity. See eval/README.md for
how the thresholds were calibrated.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from . import guard, inforce, legal, meaning, retrieve, verdict
from .generate import Generator, accepts_schema
from .index import tokenize
from .inputs import MAX_QUESTION_CHARS, InvalidQuestion, validate_question  # noqa: F401  (re-exported)
from .prompts import (
    AMENDED_NOTE,
    ANSWERABLE_PROMPT,
    DATES_NOTE,
    EXAMPLES,
    EXAMPLES_JSON,
    EXTRACTIVE_INTRO,
    FALLBACK_NOTE,
    INJECTED_NOTE,
    MEANING_NOTE,
    MEANING_RULES,
    NO_SUCH_PROVISION,
    QUARANTINE_NOTE,
    REFUSAL,
    SOURCE_TEMPLATE,
    SYSTEM_PROMPT,
    SYSTEM_PROMPT_JSON,
    UNSUPPORTED_NOTE,
    USER_PROMPT,
    VALIDITY_NOTE,
    VERDICT_NOTE,
)
from .retrieve import Retriever, SearchResult
from .settings import Settings
from .types import Answer, ApplicationDate, Citation, Lang, Passage

log = logging.getLogger(__name__)

CONTEXT_PASSAGES = 3  # passages an answer is built from (the extractive answer quotes from these)
# ... of which the LLM reads the first 2, each as its decisive sentence (with its lead-in): prompt
# reading is 55-80 tokens/s on 2 cores without AMX, so each new prompt token costs the first token
# ~15 ms. Against 3 passages cut to their 60 most relevant words: new prompt tokens p50 222 vs
# 316, first token p50 4.0 vs 5.7 s, total 7.5 vs 10.6 s, verdicts 11 vs 12 of 23, required
# elements 0.71 vs 0.61 (24 tune questions; eval/README.md, "Answer format")
LLM_PASSAGES = 2
# the LLM's sentences shown: generation stops once this many are kept (the decisive quotes follow
# them) ... 1 with 60 evidence words against 2 with 80: total p50 10.3 s against 14-15 s, the same
# verdicts and required elements on a 20-question tune sample (eval/README.md, "Answer format")
ANSWER_SENTENCES = 1
ANSWER_SENTENCES_READ = 4  # ... or once this many were read, kept or not
CONTEXT_BINDING = 2  # of which at least this many from binding text, when retrieval found them ...
CONTEXT_LAW_WINDOW = 5  # ... among its top 5
CONTEXT_WORDS = 120  # words kept of each (the sentences most relevant to the question)
EVIDENCE_WORDS = 100  # a decisive sentence is cut at this many words (the longest articles' run to ~90)
LEXICAL_SUPPORT = 0.6  # share of a sentence's content words found in the passage
SEMANTIC_SUPPORT = 0.62  # cosine (EmbeddingGemma, query prompt both sides) to a passage sentence
SEMANTIC_SUPPORT_CITED = 0.52  # for the passage the sentence itself cites (calibration optimum)
MIN_CONTENT_WORDS = 3  # a "sentence" with fewer content words cannot be checked, so is not kept
INJECTED_OVERLAP = 0.5  # share of a sentence's content words found in text flagged by the guard
# The sources are legal texts and policy pages as of their date: they do not record what has
# happened since (fines imposed, sandboxes opened, companies signed up) or who holds a post.
# A question that asks for that cannot be answered from them, however close the passages
# retrieval finds ("Has the Commission already fined a GPAI provider?" finds Article 101).
_SINCE = re.compile(
    r"\b(tot\s+(nu\s+)?toe|tot\s+dusver|tot\s+op\s+heden|inmiddels|vorig\s+jaar|afgelopen\s+jaar"
    r"|op\s+dit\s+moment|momenteel|op\s+het\s+moment"
    r"|so\s+far|to\s+date|as\s+of\s+(now|today)|by\s+now|last\s+year|currently|at\s+the\s+moment)\b",
    re.IGNORECASE,
)
# "Has X already fined / designated / signed ...": enforcement and uptake, not the rules
_ALREADY_DONE = re.compile(
    r"\b(has|have|heeft|hebben)\s+([\w-]+\s+){0,5}(already|al)\s+([\w-]+\s+){0,3}"
    r"(fined|beboet|imposed|opgelegd|sanctioned|gesanctioneerd|designated|aangewezen|registered|geregistreerd|"
    r"signed|ondertekend|joined|aangesloten|admitted|toegelaten|reported|gemeld|investigated|onderzocht)\b",
    re.IGNORECASE,
)
# ... unless it asks about a rule ("Which prohibitions currently apply?", "Is it allowed so far?")
# or whether the documents in the corpus have appeared ("Has the Commission already published guidelines?")
_RULE = re.compile(
    r"\b(in\s+force|into\s+force|in\s+werking|van\s+kracht|van\s+toepassing|appl(y|ies|icable)|gelden|geldt|"
    r"allowed|permitted|toegestaan|mag|mogen|verboden|prohibited|banned|must|moet|moeten|required|verplicht\w*|"
    r"guidelines?|richtsnoer\w*)\b",
    re.IGNORECASE,
)
_OFFICE_HOLDER = re.compile(
    r"\b(who\s+(is|are|was)|wie\s+(is|zijn|was)|hoe\s+heet|what\s+is\s+the\s+name\s+of|wat\s+is\s+de\s+naam\s+van)"
    r"\s+(\w+\s+){0,3}(head|director|leader|lead\s+scientific|adviser|advisor|commissioner|"
    r"hoofd|directeur|leider|leidende|adviseur|commissaris)\b",
    re.IGNORECASE,
)


# which body one Member State designated ("Welke Nederlandse toezichthouder handhaaft de AI-verordening?"):
# the act leaves that to each Member State (Article 70), so no EU text names it
_COUNTRY = (r"nederland\w*|belgi\w*|duits\w*|frans\w*|dutch|netherlands|belgian|german\w*|french|france|"
            r"spaans\w*|spanish|spain|itali\w*|oostenrijk\w*|austria\w*|ierland|ireland|irish")
_BODY = (r"toezichthouder\w*|autoriteit\w*|markttoezichtautoriteit\w*|instantie\w*|regulators?|authorit(?:y|ies)|"
         r"supervisors?|watchdogs?")
_WHICH = r"\b(welke|wie\s+is\s+de|which|who\s+is\s+the|what\s+is\s+the)"
_NATIONAL_BODY = re.compile(
    rf"{_WHICH}\s+({_COUNTRY})\s+({_BODY})\b|"
    rf"{_WHICH}\s+({_BODY})\b[^?]{{0,60}}\b(in|van|of)\s+(de\s+|the\s+)?({_COUNTRY})\b", re.I)


def asks_national_body(question: str) -> bool:
    return bool(_NATIONAL_BODY.search(question))


def asks_about_events(question: str) -> str | None:
    """The words by which the question asks for events or office holders the sources cannot record."""
    m = _OFFICE_HOLDER.search(question)
    if m:
        return m.group(0)
    m = _SINCE.search(question) or _ALREADY_DONE.search(question)
    if m and not _RULE.search(question):
        return m.group(0)
    return None


# Expected answer type: a question that asks for an amount of money (verdict.ASKS_MONEY) is
# answered by a passage that names an amount or speaks of costs or fees; when none of the
# passages found does, the sources do not answer it.
_AMOUNT = re.compile(
    r"(€|\bEUR\b|\beuro\b|\bmiljoen|\bmiljard|\bmillion|\bbillion|free\s+of\s+charge|kosteloos|gratis|"
    r"\bfees?\b|vergoeding|\bkosten\b|\bcosts?\b|\bbudget)",
    re.IGNORECASE,
)
AMOUNT_PASSAGES = 5  # of the top hits, one must name an amount


def lacks_amount(question: str, passages: Sequence[Passage]) -> bool:
    """The question asks for an amount of money and none of ``passages`` names one."""
    return bool(verdict.ASKS_MONEY.search(question)) and not any(_AMOUNT.search(p.text) for p in passages)


# a question about another document's numbering ("artikel 1, punt 3 van de omnibus", "guidelines
# paragraph 42") is not checked against the AI Act's
_OTHER_DOCUMENT = re.compile(r"\b(omnibus|2026/1744|richtsnoer\w*|guidelines?)\b", re.IGNORECASE)

_SENT = re.compile(r"[^.!?;\n]+(?:[.!?;]+|$)", re.MULTILINE)
_ENDS = re.compile(r"[.!?;\n]")  # streamed text that may hold a complete sentence
_CITE = re.compile(r"\[(\d{1,2})\]")
_WORDISH = re.compile(r"[^\W\d_]{2}")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences (and list items / clauses ending in ';') of a text."""
    spans = []
    for m in _SENT.finditer(text):
        s, e = m.span()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e - s > 1 and _WORDISH.search(text, s, e):  # "1." or "(a)" alone is a number, not a sentence
            spans.append((s, e))
    return spans


def is_hostile(p: Passage) -> bool:
    """Whether the passage holds text addressed to the assistant (guard.py)."""
    return bool(guard.flagged_spans(p))


def usable_spans(p: Passage) -> list[tuple[int, int]]:
    """The passage's sentences the model may read and an answer may quote: none that touches
    text addressed to the assistant."""
    flags = guard.flagged_spans(p)
    return [sp for sp in sentence_spans(p.text) if not guard.overlaps(sp, flags)]


@functools.lru_cache(maxsize=4096)
def _clean_context(context: str) -> str:
    return guard.visible(context, guard.find_injections(context))


def usable_context(p: Passage) -> str:
    """The passage's lead-in (a list's chapeau, shared by its points) without text addressed to
    the assistant."""
    return _clean_context(p.context) if p.context else ""


_POINT_LINE = re.compile(r"^\W{0,2}[a-z]{1,4}(?:\s?(?:bis|ter|quater))?\)\s", re.I)  # "(a) ", "a) ", "iv) "
LEAD_IN_WORDS = 80  # words kept of a list's lead-in inside a passage


def lead_in(p: Passage, quote: str) -> str:
    """What ``quote`` is read with: the passage's lead-in (the chapeau of a point passage), else,
    for a point of a list inside the passage, the passage's text before the list: "(a) the AI
    system is intended to perform a narrow procedural task" says nothing alone; under "an AI
    system referred to in Annex III shall not be considered to be high-risk where ... any of the
    following conditions is fulfilled:" it decides the question."""
    own = usable_context(p)
    if own or not _POINT_LINE.match(quote):
        return own
    at = p.text.find(quote)
    if at <= 0:
        return ""
    lines = [ln.strip() for ln in p.text[:at].splitlines() if ln.strip() and not _POINT_LINE.match(ln.strip())]
    words = re.sub(r"^\d+\s*(?:bis|ter)?\.\s*", "", " ".join(lines)).split()  # without the paragraph's "3."
    return " ".join(words[-LEAD_IN_WORDS:])


def usable_text(p: Passage) -> str:
    """The passage's text without what is addressed to the assistant."""
    if not guard.flagged_spans(p):
        return p.text
    return " ".join(p.text[slice(*sp)] for sp in usable_spans(p))


def _content(text: str, lang: str) -> set[str]:
    return {t for t in tokenize(text, lang) if not t.isdigit()}  # numbers: see numbers_supported


_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_THOUSANDS = re.compile(r"(?<=\d)[ .\u00a0\u202f](?=\d{3}\b)")


_PROHIBITION = re.compile(r"\b(verboden|verbod|shall be prohibited|is prohibited|are prohibited|prohibition)\b", re.I)
_PERMISSIVE = re.compile(r"\b(toegestaan|mag|mogen|kan worden gebruikt|kunnen worden gebruikt|is allowed|are allowed|"
                         r"permitted|may be used|can be used|is legal|is lawful)\b", re.I)
_NEGATION = re.compile(r"\b(niet|geen|nooit|verboden|not|no|never|prohibited|banned|cannot|can't|unless|tenzij|"
                       r"behalve|except|alleen|only)\b", re.I)


_NOT_PROHIBITED = re.compile(r"\b(niet verboden|geen verbod|not prohibited|not banned|no prohibition|"
                             r"valt niet onder het verbod|falls? outside the prohibition)\b", re.I)


def contradicts_prohibition(sentence: str, passage: Passage) -> bool:
    """A sentence that says a practice is allowed, citing a passage that prohibits it.

    The small model gets yes/no questions wrong ("Ja, emotieherkenning kan worden gebruikt op
    de werkplek [1]" citing Article 5(1)(f)); word overlap alone would accept that sentence.
    """
    source = f"{passage.context} {passage.text}"
    if not _PROHIBITION.search(source) or _NOT_PROHIBITED.search(source):
        return False  # the source does not prohibit, or itself says what is not prohibited
    return bool(_NOT_PROHIBITED.search(sentence)
                or (_PERMISSIVE.search(sentence) and not _NEGATION.search(sentence)))


def numbers(text: str) -> set[str]:
    """The numbers in a text, thousands separators removed ("35 000 000" -> "35000000")."""
    return {n.replace(",", ".") for n in _NUMBER.findall(_THOUSANDS.sub("", text))}


def numbered_text(p: Passage) -> str:
    """What a sentence citing ``p`` may take its numbers from: the text, its lead-in and the
    provision's own number ("Article 2(10) states that ..." citing Article 2(10))."""
    return f"{p.label} {p.provision} {usable_context(p)} {usable_text(p)}"


def numbers_supported(sentence: str, passage_text: str) -> bool:
    """Every number the sentence states (a date, an amount, a percentage) is in the passage."""
    return numbers(sentence) <= numbers(passage_text)


def lexical_support(sentence: str, s_lang: str, passage_text: str, p_lang: str) -> float:
    """Share of the sentence's content words found in the passage. A word counts if its stem in
    either language is there: Dutch answers quote English terms ("personal training") and back."""
    from .index import tokenize

    have = _content(passage_text, p_lang)
    words = [w for w in re.findall(r"[\w-]+", sentence.lower()) if tokenize(w, s_lang)]
    if not words:
        return 0.0
    found = sum(1 for w in words if set(tokenize(w, s_lang)) & have or set(tokenize(w, p_lang)) & have)
    return found / len(words)


def focus(p: Passage, question: str, lang: str, max_words: int = CONTEXT_WORDS) -> str:
    """The passage cut to its sentences most relevant to the question, in their order (text
    addressed to the assistant left out)."""
    flagged = bool(guard.flagged_spans(p))
    if not flagged and len(p.text.split()) <= max_words:
        return p.text
    spans = usable_spans(p)
    if not spans:
        return ""
    if flagged and sum(len(p.text[slice(*sp)].split()) for sp in spans) <= max_words:
        return " ".join(p.text[slice(*sp)] for sp in spans)
    q = _content(question, lang) | _content(question, p.lang)
    scored = sorted(range(len(spans)), key=lambda i: -len(_content(p.text[slice(*spans[i])], p.lang) & q))
    keep: set[int] = {0}
    n = len(p.text[slice(*spans[0])].split())
    for i in scored:
        w = len(p.text[slice(*spans[i])].split())
        if n + w > max_words:
            continue
        keep.add(i)
        n += w
    return " … ".join(p.text[slice(*spans[i])] for i in sorted(keep))


def llm_passages(question: str, lang: Lang, passages: Sequence[Passage]) -> list[Passage]:
    """The passages the LLM reads: the first LLM_PASSAGES; for a yes/no, amount, date, choice or
    "who" question, only the first passage of the context whose decisive sentence gives the value
    the quotes give, when they give one (the one the verdict is read from, even when it ranks
    third: Article 6(3) for "Can an Annex III system that profiles people avoid high-risk
    status?"). Given Article 50(1) and Article 5(1)(d) for "Moeten
    we klanten vertellen dat ze met AI praten?", the 1.5B model copied the prohibition of (d), a
    passage that does not speak to the question, under "Ja, onder voorwaarden" read from (1);
    given Article 26(7) and 27(1)(a), it mixed the two into one sentence. A question that names a
    provision gets that provision's passages only, when they are among them."""
    read = list(passages[:LLM_PASSAGES])
    named = legal.find_refs(question, lang)  # "an Annex III system ... under Article 6(3)": both

    def is_named(p: Passage) -> bool:
        return p.doc == "ai-act" and any(legal.matches(n, p.provision) for n in named)

    own = [p for p in read if is_named(p)]
    if own:  # "Wat vereiste artikel 4 ...?": Article 4, not the Article 80(4) ranked beside it
        read = own
    kind = verdict.question_kind(question)
    if kind not in ("yesno", "amount", "date", "choice", "who"):
        return read
    pool = [p for p in passages if is_named(p)] or list(passages)
    quotes = [(p, (d, lead_in(p, d))) for p in pool if (d := decisive(p, question, lang))]
    # the value the extractive answer gives (the amount that speaks most to the question, ...) and
    # the passage it is read from: "the Commission's fines on model providers", not the fines for
    # prohibited practices ranked first
    chosen = verdict.derive(question, kind, [q for _, q in quotes], lang)
    bearing = [p for p, q in quotes if chosen and verdict.derive(question, kind, [q], lang) == chosen]
    return bearing[:1] or read


def evidence(p: Passage, question: str, lang: Lang) -> str:
    """What the LLM reads of a passage: its lead-in and its decisive sentence (evidence first,
    issue 13), the sentence the verdict is read from; one longer than EVIDENCE_WORDS (a list
    or table without full stops) is cut there."""
    quote = decisive(p, question, lang)
    words = quote.split()
    text = " ".join(words[:EVIDENCE_WORDS]) + (" …" if len(words) > EVIDENCE_WORDS else "")
    return " ".join(f"{lead_in(p, quote)} {text}".split())


def decisive(p: Passage, question: str, lang: Lang) -> str:
    """The passage's sentence that answers the question most directly (most of its content
    words, the earliest on a tie): what the extractive answer quotes and the verdict is read
    from. "" when the passage has no usable sentence."""
    spans = usable_spans(p)
    if not spans:
        return ""
    q = _content(question, lang) | _content(question, "en" if lang == "nl" else "nl")
    kind = verdict.question_kind(question)
    # a sentence that answers may be preferred for a number, a date, whether something is allowed or
    # high-risk; not for a duty ("shall" is in many sentences of a passage, most of them beside the question)
    seek = kind in ("amount", "date") or verdict.asks_may(question) or verdict.asks_high_risk(question)

    def overlap(sp: tuple[int, int]) -> int:
        return len(_content(p.text[slice(*sp)], p.lang) & q)

    @functools.cache  # asked of the closest sentences first, then again to pick among them
    def gives(sp: tuple[int, int]) -> bool:  # the sentence answers what is asked: yes/no, the number, the date
        return bool(verdict.derive(question, kind, [(p.text[slice(*sp)], lead_in(p, p.text[slice(*sp)]))], lang))

    # a heading ("Artikel 99, lid 4: 4.", "6 bis.") is never the decisive sentence when the passage has one
    stating = [sp for sp in spans if len(_HEADING_WORD.findall(p.text, *sp)) >= DECISIVE_MIN_WORDS] or spans
    top = max(overlap(sp) for sp in stating)
    # of the sentences (nearly) as close to the question as the closest, the one that answers it:
    # "Mogen kleine midcaps het vereenvoudigde formulier gebruiken?" quotes "... kunnen ... op
    # vereenvoudigde wijze verstrekken", not the next sentence on who drafts the form
    slack = DECISIVE_SLACK if top > DECISIVE_SLACK else 0  # a sentence sharing no question word never answers
    near = [sp for sp in stating if overlap(sp) >= top - slack]
    if seek and kind in ("amount", "date") and not any(gives(sp) for sp in near):
        # the number asked for stands in a later sentence that names the subject once ("Die
        # dwangsommen ... bedragen ... niet meer dan 5 %", under a first sentence that names the
        # Office, the penalty and the imposing): that sentence
        near += [sp for sp in stating if sp not in near and overlap(sp) >= 1 and gives(sp)]
    best = max(near, key=lambda sp: (gives(sp), overlap(sp), -sp[0])) if seek else \
        max(stating, key=lambda sp: (overlap(sp), -sp[0]))
    return p.text[slice(*best)]


_HEADING_WORD = re.compile(r"[^\W\d_]{3,}")
DECISIVE_MIN_WORDS = 4  # words of 3+ letters a sentence needs to state anything
DECISIVE_SLACK = 1  # question words a sentence that gives the verdict may share less than the closest


@dataclass
class Checked:
    text: str
    citations: list[Citation]
    dropped: int = 0
    refused: bool = False
    support: list[float] = field(default_factory=list)
    reason: str = ""  # why refused: one of types.REFUSAL_REASONS
    injected: int = 0  # sentences dropped because they repeat text addressed to the assistant
    unbound: int = 0  # claims about the law's dates or validity that no passage of the act supports
    replaced: list[str] = field(default_factory=list)  # meaning rules broken by sentences shown as their quote
    dates: list[str] = field(default_factory=list)  # ISO dates a "from when" answer gives (its verdict)
    applies: str = ""  # "yes"/"no" a yes/no question about an application date gets from the dates table

    @classmethod
    def refusal(cls, lang: Lang, reason: str, dropped: int = 0, support: list[float] | None = None) -> Checked:
        """The shared refusal sentence, with why (one of types.REFUSAL_REASONS)."""
        return cls(REFUSAL[lang], [], dropped=dropped, refused=True, support=support or [], reason=reason)


def page_topic(passages: Sequence[Passage]) -> str | None:
    """The Commission page a question is about when retrieval says so (retrieve.page_topic) and
    the first passage is a section of it."""
    doc = retrieve.page_topic(passages)
    return doc if passages and passages[0].doc == doc else None


class Answerer:
    """Writes the answer for a retrieval result, with one of the backends, and checks it."""

    def __init__(self, retriever: Retriever, settings: Settings) -> None:
        self.retriever = retriever
        self.settings = settings
        self._act: dict[str, str] | None = None  # AI Act provision -> text, for no_such_provision

    # -- retrieval-level refusal -------------------------------------------------------
    def relevant(self, result: SearchResult, judged: bool = False) -> bool:
        """Whether retrieval found something relevant enough to answer from. ``judged``: an LLM
        will judge answerability next, so a lower similarity floor is enough."""
        if result.provision and result.hits and legal.matches(result.provision, result.hits[0].passage.provision):
            return True  # the question names a provision of the act, and that is what was found
        if result.unknown_terms:
            return False  # it asks about something no source mentions (a company, a country's law, ...)
        floor = self.settings.min_dense_score
        if result.lang == "en" and self.settings.min_dense_score_en is not None:
            floor = self.settings.min_dense_score_en
        if judged and self.settings.min_answerable_odds is not None:
            floor = min(floor, self.settings.min_dense_score_judged)
        return bool(result.hits) and result.top_dense >= floor

    def act(self) -> dict[str, str]:
        """AI Act provision -> the text of its passages, from the index (its size is read, not
        assumed), with the provisions an amending act inserts ("the new Article 60a")."""
        if self._act is None:
            act: dict[str, str] = {}
            for p in self.retriever.index.passages:
                if p.doc == "ai-act":
                    act[p.provision] = f"{act.get(p.provision, '')}\n{p.text}"
                for a in p.amends:
                    act.setdefault(a, p.text)
            self._act = act
        return self._act

    def missing_provision(self, provision: str, lang: Lang) -> str:
        """"" if the act has ``provision``; else which part it lacks and what it has instead."""
        act = self.act()
        missing = legal.missing_part(provision, act) if act else None
        if not missing:
            return ""
        return NO_SUCH_PROVISION[lang].format(label=legal.missing_label(missing, lang),
                                              has=legal.what_it_has(missing, act, lang))

    def no_such_provision(self, question: str, lang: Lang) -> str:
        """What to say when the question names a provision the AI Act does not have ("artikel 999
        lid 7", "Artikel 5, lid 99"); "" when every provision it names exists (or it names
        another document's numbering: the omnibus, the guidelines)."""
        if _OTHER_DOCUMENT.search(question):
            return ""
        for ref in legal.query_references(question)[:10]:
            msg = self.missing_provision(ref, lang)
            if msg:
                return msg
        return ""

    def early_refusal(self, question: str, result: SearchResult, judged: bool = False) -> str:
        """Why to refuse before any LLM is asked ("" if nothing speaks against answering): the
        question asks for what the sources cannot record or for an amount no passage found
        names, or retrieval found nothing relevant enough (``relevant``)."""
        if asks_about_events(question):
            return "asks-for-events"
        if asks_national_body(question):
            return "national-body"
        if lacks_amount(question, [h.passage for h in result.hits[:AMOUNT_PASSAGES]]):
            return "no-amount"
        if not self.relevant(result, judged):
            return "unknown-terms" if result.unknown_terms else "not-relevant"
        return ""

    def context(self, result: SearchResult) -> tuple[list[Passage], list[str]]:
        """The passages given to the model, and the ids of those holding text addressed to the
        assistant (that text is left out; a passage with nothing else is left out whole)."""
        quarantined = [h.passage.id for h in result.hits if is_hostile(h.passage)]
        safe = [h.passage for h in result.hits if usable_spans(h.passage)]
        # the law first (the guidelines explain it, they do not replace it), in rank order; but
        # only law that ranks near the top: a distant article must not push out the page or
        # guideline paragraph that answers ("how much does the EU invest in AI?")
        law = [p for p in safe[:CONTEXT_LAW_WINDOW] if p.binding and p.kind != "recital"][:CONTEXT_BINDING]
        if page_topic(safe):  # a question about what a Commission page describes: the page answers it
            law = []
        rest = [p for p in safe if p not in law]
        chosen = (law + rest)[:CONTEXT_PASSAGES]
        if result.on:  # the law in force on the date (inforce.py)
            versions = inforce.view(self.retriever.index)
            dated = [p for p in inforce.dated_passages(result.question, self.retriever.index, result.on,
                                                       fallback=False) if usable_spans(p)]
            if dated:  # "from when": the Article 113 wording and the point that set the date first
                chosen = (dated + [p for p in chosen if p.id not in {d.id for d in dated}])[:CONTEXT_PASSAGES]
            current = [inforce.as_current(p, versions, result.on, result.lang) for p in chosen]
            # an English passage read as its Dutch wording in force is left out when that wording's
            # own passage is already there (the same text would be cited twice)
            chosen = [c for c, p in zip(current, chosen, strict=True)
                      if c is p or not any(o is q and o.doc == c.doc and o.lang == c.lang
                                           and legal.matches(c.provision, o.provision)
                                           for o, q in zip(current, chosen, strict=True))]
        return chosen, quarantined

    def messages(self, question: str, lang: Lang, passages: Sequence[Passage],
                 as_json: bool = False) -> list[dict[str, str]]:
        """The fixed part first (instructions and worked examples, the same for every question, so
        llama.cpp's prompt cache keeps it), then the evidence: each passage's decisive sentence
        with its label and lead-in (:func:`evidence`), and the question. ``as_json``: the instructions and examples of the JSON
        reply (verdict.schema), else of plain sentences with [n] marks."""
        sources = "\n\n".join(
            SOURCE_TEMPLATE.format(n=i, label=p.label, text=evidence(p, question, lang))
            for i, p in enumerate(passages, 1)
        )
        examples = EXAMPLES_JSON[lang] if as_json else EXAMPLES[lang]
        system = SYSTEM_PROMPT_JSON[lang] if as_json else SYSTEM_PROMPT[lang].format(refusal=REFUSAL[lang])
        shots = [{"role": role, "content": text}
                 for example in examples for role, text in zip(("user", "assistant"), example)]
        return [
            {"role": "system", "content": system},
            *shots,
            {"role": "user", "content": USER_PROMPT[lang].format(sources=sources, question=question)},
        ]

    def answerability(self, generator: Generator, messages: list[dict[str, str]], lang: Lang,
                      timings: dict[str, float]) -> float | None:
        """Ask the model, before it writes, whether the sources answer the question: the
        log-odds of yes (None when the check is off or the backend cannot tell).

        Retrieval finds close passages for on-topic questions the corpus cannot answer ("who
        heads the AI Office?"); their scores look like those of answerable questions. The
        question is asked after ``messages``, the very messages the answer is written from,
        so the model reads the sources once (llama.cpp keeps the prompt cached)."""
        if self.settings.min_answerable_odds is None:
            return None
        t = time.perf_counter()
        odds = generator.yes_odds([*messages, {"role": "user", "content": ANSWERABLE_PROMPT[lang]}])
        timings["answerable"] = time.perf_counter() - t
        return odds

    def judged_unanswerable(self, odds: float | None) -> bool:
        threshold = self.settings.min_answerable_odds
        return odds is not None and threshold is not None and odds < threshold

    # -- checking ------------------------------------------------------------------------
    def _semantic(self, sentence: str, passages: Sequence[Passage],
                  cache: dict[int, tuple[list[tuple[int, int]], np.ndarray]]) -> dict[int, tuple[float, tuple[int, int]]]:
        """Best (cosine, sentence span) per passage, by embedding similarity (works across languages).

        ``cache`` keeps the passages' sentence vectors for the other sentences of the same answer."""
        emb = self.retriever.embedder
        for pi, p in enumerate(passages):
            if pi not in cache:
                spans = usable_spans(p)
                texts = [f"{usable_context(p)} {p.text[slice(*sp)]}".strip() for sp in spans]  # with the lead-in
                cache[pi] = (spans, emb.embed_queries(texts) if spans else np.zeros((0, 1)))
        q = emb.embed_queries([sentence])[0]
        best: dict[int, tuple[float, tuple[int, int]]] = {}
        for pi, (spans, vecs) in cache.items():
            if spans:
                sims = vecs @ q
                j = int(np.argmax(sims))
                best[pi] = (float(sims[j]), spans[j])
        return best

    def check(self, raw: str, lang: Lang, passages: Sequence[Passage], question: str = "") -> Checked:
        """Keep the sentences a given passage supports; quote that passage; renumber."""
        if model_refused(raw, lang):
            return Checked.refusal(lang, "model-refused")
        checker = SentenceChecker(self, lang, passages, question)
        text = raw.replace("\n", " ")
        for s, e in sentence_spans(text):
            checker.add(text[s:e])
        return checker.result()

    # -- the extractive backend ("none") ---------------------------------------------------
    def extractive(self, question: str, lang: Lang, passages: Sequence[Passage]) -> Checked:
        lines: list[str] = []
        citations: list[Citation] = []
        for p in passages[:3]:
            quote = decisive(p, question, lang)  # never text addressed to the assistant
            if not quote:
                continue
            citations.append(Citation(n=len(citations) + 1, passage=p, quote=quote))
            # "De volgende AI-praktijken zijn verboden:", or the text before a list inside the passage
            lead = f"{lead_in(p, quote)} " if lead_in(p, quote) else ""
            lines.append(f"- {p.label}: {lead}“{quote}” [{len(citations)}]")
        if not citations:
            return Checked.refusal(lang, "unsupported")
        return Checked(EXTRACTIVE_INTRO[lang] + "\n" + "\n".join(lines), citations)

    # -- the verdict and the answer's shape (verdict.py) -----------------------------------
    def evidence_quotes(self, question: str, lang: Lang, passages: Sequence[Passage]) -> list[tuple[str, str, str]]:
        """(decisive sentence, its language, its lead-in) of each passage, in context order."""
        out: list[tuple[str, str, str]] = []
        for p in passages:
            quote = decisive(p, question, lang)
            if quote:
                out.append((quote, p.lang, lead_in(p, quote)))
        return out

    def shape_extractive(self, question: str, lang: Lang, checked: Checked) -> str:
        """The verdict the extractive answer's quotes support (the first that gives one), put on
        a line before them; "" when none can be derived."""
        quotes = [(c.quote, c.passage.lang, lead_in(c.passage, c.quote)) for c in checked.citations]
        shape = verdict.Shape(question, lang, quotes)
        head = shape.decide([])
        if head:
            checked.text = f"{head}\n\n{checked.text}"
        return shape.verdict

    @staticmethod
    def _json_sentence(text: str, source: int) -> list[str]:
        """One sentence object of the JSON reply as the checker reads sentences: "... [n]"."""
        text = text.replace("\n", " ").strip().lstrip("…) ").replace(" … ", ". ")  # the evidence's "…" is not text
        spans = sentence_spans(text)
        return [f"{text[slice(*sp)]} [{source}]" if not _CITE.search(text[slice(*sp)]) else text[slice(*sp)]
                for sp in spans]

    # -- version awareness ---------------------------------------------------------------
    def amendment_notes(self, citations: Sequence[Citation], lang: Lang, on: str = "") -> list[str]:
        """What changes (and from when) for the provisions cited, with the index's versions
        (inforce.notes_for); an index without versions: which amending points name them."""
        versions = inforce.view(self.retriever.index)
        if versions.any and on:
            return inforce.notes_for([c.passage for c in citations], versions, on, lang)
        amending = [p for p in self.retriever.index.passages if p.amends]
        notes: list[str] = []
        for c in citations:
            if c.passage.doc != "ai-act":
                continue
            by = [a for a in amending if any(legal.matches(x, c.passage.provision) for x in a.amends)]
            if by:
                notes.append(AMENDED_NOTE[lang].format(
                    label=legal.label(c.passage.provision, lang),
                    amending=", ".join(dict.fromkeys(a.label for a in by[:3]))))
        return list(dict.fromkeys(notes))

    def not_yet(self, citations: Sequence[Citation], lang: Lang, on: str) -> str:
        """A line for each cited provision of the act that does not apply yet on ``on`` (Article 113:
        Chapter III's duties apply to Annex III systems from 2 December 2027), "" when all apply."""
        index = self.retriever.index
        rows, chapters = inforce.dates_on(index, on), inforce.chapters_of(index)
        if not rows or not on:
            return ""
        by_rows: dict[tuple[ApplicationDate, ...], list[str]] = {}  # provisions that wait for the same dates
        for c in citations:
            p = c.passage
            pending = inforce.pending_rows(p.provision, rows, chapters, on) if p.doc == "ai-act" and p.binding else []
            if pending and p.provision not in by_rows.setdefault(tuple(pending), []):
                by_rows[tuple(pending)].append(p.provision)
        return " ".join(inforce.not_yet_line(provs, list(pending), lang, on) for pending, provs in by_rows.items())

    def versions_of(self, citations: Sequence[Citation], lang: Lang, on: str) -> None:
        """Label each cited passage as amended ("Artikel 4 (vervangen bij ...)"), with its amending
        passages and every wording with its dates (the old one a click away), and its twin on ``on``."""
        versions = inforce.view(self.retriever.index)
        for c in citations:
            p = c.passage
            orig = versions.get(p.id) or p
            if versions.any:
                label = inforce.amended_label(orig, versions, lang, on)
                if p is not orig and p.text != orig.text:  # the amending text read for an old wording
                    label = f"{label} ({inforce.DUTCH_TEXT[lang]})"
                    c.alternate = versions.unit_on(p.id, "nl", on) if on else None
                else:
                    c.alternate = self.retriever.alternate(p, on)
                c.passage = replace(p, label=label)
                c.amended_by = inforce.amending_refs(orig, versions, lang)
                c.versions = inforce.version_dicts(orig, versions)
            else:
                c.alternate = self.retriever.alternate(p)

    def from_when(self, question: str, lang: Lang, on: str) -> Checked | None:
        """A "from when does X apply" question answered from the application-dates table
        (Article 113 as amended), citing Article 113 and the point that set the date; None when
        the question is not one or the table has no row for what it names."""
        yesno = verdict.question_kind(question) == "yesno"
        if not inforce.asks_from_when(question) and not (yesno and inforce.asks_applied_on(question)):
            return None
        index = self.retriever.index
        rows = inforce.match_dates(question, inforce.dates_on(index, on), inforce.chapters_of(index))
        dated = inforce.dated_answer(question, lang, rows, inforce.view(index), on) if rows else None
        if dated is None:
            return None
        cites = [Citation(n=i, passage=p, quote=q) for i, (p, q) in enumerate(zip(dated.passages, dated.quotes), 1)]
        checked = Checked(dated.text, cites)
        if not yesno:
            checked.dates = sorted({r.date for r in dated.rows})  # the verdict of a "from when" question
        else:  # "Is X banned, and since when?", "Gold op 1 september 2026 het verbod al?": yes or no first
            checked.applies = inforce.applies_verdict(question, dated.rows, on)
            head = verdict.line(checked.applies, lang)
            checked.text = f"{head}\n\n{checked.text}" if head else checked.text
        return checked

    # -- the whole job ---------------------------------------------------------------------
    def stream(self, question: str, generator: Generator | None, backend: str,
               on: str | None = None) -> Iterator[str | Answer]:
        """Yield the answer's text sentence by sentence, each once it has been checked (never the
        model's raw text), then the checked Answer (whose text is the pieces joined, unless the
        model refused or nothing was supported: then the refusal or the extractive fallback)."""
        t0 = time.perf_counter()
        q = validate_question(question, self.settings.max_question_chars)
        on = inforce.resolve_on(on, self.settings.on)  # the law in force on this date (inforce.py)
        result = self.retriever.search(q, on=on)
        lang = result.lang
        timings = {"retrieval": time.perf_counter() - t0}
        notes: list[str] = []
        odds: float | None = None
        answer_verdict = ""
        missing = self.no_such_provision(q, lang)
        dated = self.from_when(q, lang, on) if not missing else None
        early = "no-such-provision" if missing else "" if dated else self.early_refusal(
            q, result, judged=generator is not None)
        if dated is not None:  # "from when": the table answers, for every backend (a model adds only risk)
            checked = dated
            answer_verdict = dated.applies or ", ".join(dated.dates)
            if generator is not None:
                notes.append(DATES_NOTE[lang])
            yield checked.text
        elif early:
            checked = Checked.refusal(lang, early)
            checked.text = missing or checked.text
        else:
            passages, quarantined = self.context(result)
            if quarantined:
                notes.append(QUARANTINE_NOTE[lang].format(ids=", ".join(quarantined)))
            as_json = self.settings.answer_format == "json" and generator is not None and accepts_schema(generator)
            # what the LLM reads, and its sentences are checked against (nothing for the extractive backend)
            read = llm_passages(q, lang, passages) if generator is not None else []
            msgs = self.messages(q, lang, read, as_json) if read else []
            if generator is not None and msgs:
                odds = self.answerability(generator, msgs, lang, timings)
            if not passages:
                checked = Checked.refusal(lang, "no-passages")
            elif generator is None:
                checked = self.extractive(q, lang, passages)
                answer_verdict = self.shape_extractive(q, lang, checked)
                yield checked.text
            elif self.judged_unanswerable(odds):
                checked = Checked.refusal(lang, "judged-unanswerable")
            else:
                t = time.perf_counter()
                pieces: list[str] = []
                checker = SentenceChecker(self, lang, read, q)
                shape = verdict.Shape(q, lang, self.evidence_quotes(q, lang, read))
                reply = verdict.JsonAnswer()
                done = 0  # sentences of the raw (plain-text) reply checked so far
                kw: dict[str, Any] = {"schema": verdict.schema(len(read))} if as_json else {}
                stream = generator.stream(msgs, max_tokens=self.settings.max_tokens,
                                          temperature=self.settings.temperature, **kw)
                for piece in stream:
                    if not pieces:
                        timings["first_token"] = time.perf_counter() - t0
                    pieces.append(piece)
                    events = reply.feed(piece)
                    if reply.is_json:  # the constrained shape: a verdict, then sentences with their source
                        for kind, value in events:
                            if kind == "verdict":
                                shape.model_verdict = str(value)
                            elif not model_refused(value[0], lang):  # type: ignore[index]
                                yield from shape.pieces(checker, self._json_sentence(*value))  # type: ignore[misc]
                        if enough(shape.shown, len(reply.sentences)):
                            break  # enough: closing the stream ends the generation
                        continue
                    if not piece.strip() or (done == 0 and not _ENDS.search("".join(pieces))):
                        continue
                    text = "".join(pieces).replace("\n", " ")
                    if model_refused(text, lang):
                        continue  # the answer will be the refusal: show nothing more
                    spans = sentence_spans(text)
                    yield from shape.pieces(checker, [text[slice(*sp)] for sp in spans[done:-1]])
                    done = max(done, len(spans) - 1)  # every sentence but the last is complete
                    if enough(shape.shown, done):
                        pieces[:] = [text[:spans[done - 1][1]]]  # the sentence begun after them is dropped
                        break  # enough: closing the stream ends the generation
                if hasattr(stream, "close"):
                    stream.close()  # at once, not when garbage-collected: frees the model for the next question
                timings["generation"] = time.perf_counter() - t
                raw = "".join(pieces)
                if model_refused(raw, lang):
                    checked = Checked.refusal(lang, "model-refused")
                else:
                    if not reply.is_json:
                        text = raw.replace("\n", " ")
                        yield from shape.pieces(checker, [text[slice(*sp)] for sp in sentence_spans(text)[done:]])
                    checked = checker.result()
                    if not checked.refused:
                        tail = shape.tail(checker.citations, checker.quoted)
                        if tail:
                            yield tail
                        checked.text = shape.text
                timings["checked"] = time.perf_counter() - t0
                if checked.dropped and not checked.refused:
                    notes.append(UNSUPPORTED_NOTE[lang].format(n=checked.dropped))
                if checked.injected:
                    notes.append(INJECTED_NOTE[lang].format(n=checked.injected))
                if checked.unbound:
                    notes.append(VALIDITY_NOTE[lang].format(n=checked.unbound))
                if checked.replaced and not checked.refused:
                    rules = ", ".join(dict.fromkeys(MEANING_RULES[lang].get(r, r) for r in checked.replaced))
                    notes.append(MEANING_NOTE[lang].format(n=checker.replaced_sentences, rules=rules))
                if shape.overridden and not checked.refused:
                    notes.append(VERDICT_NOTE[lang].format(model=shape.model_verdict))
                answer_verdict = "" if checked.refused else shape.verdict
                if checked.refused and checked.reason == "unsupported" and self.settings.extractive_fallback:
                    # the sources were judged to answer, but the small model's text could not be
                    # verified: show the sources themselves rather than refuse
                    checked = self.extractive(q, lang, passages)
                    answer_verdict = self.shape_extractive(q, lang, checked)
                    notes.append(FALLBACK_NOTE[lang])
                    yield checked.text  # nothing of the model's was shown: the stream is this answer
        if not checked.refused:
            caveat = self.not_yet(checked.citations, lang, on)
            if caveat:  # the rule exists but does not apply yet: said under the answer, not only noted
                checked.text += f"\n\n{caveat}"
                yield f"\n\n{caveat}"
            notes.extend(self.amendment_notes(checked.citations, lang, on))
            self.versions_of(checked.citations, lang, on)
        timings["total"] = time.perf_counter() - t0
        yield Answer(question=q, language=lang, text=checked.text, citations=checked.citations,
                     refused=checked.refused, backend=backend, timings=timings, notes=notes,
                     hits=result.hits, refusal_reason=checked.reason if checked.refused else "",
                     answerable_odds=odds, on=on,
                     verdict="not-in-sources" if checked.refused else answer_verdict)

    def answer(self, question: str, generator: Generator | None, backend: str, on: str | None = None) -> Answer:
        final = None
        for item in self.stream(question, generator, backend, on):
            final = item
        assert isinstance(final, Answer)
        return final


def enough(kept: int, read: int) -> bool:
    """Stop generating: ANSWER_SENTENCES sentences were kept, or ANSWER_SENTENCES_READ read."""
    return kept >= ANSWER_SENTENCES or read >= ANSWER_SENTENCES_READ


def model_refused(raw: str, lang: Lang) -> bool:
    """The model wrote the refusal sentence (in either language)."""
    return REFUSAL[lang].rstrip(".").lower() in raw.lower() or REFUSAL["en"].rstrip(".").lower() in raw.lower()


def shown_quote(quote: str, lead: str, mark: str) -> str:
    """A quote shown in place of a sentence, under its lead-in when it has one ("... mits aan alle
    volgende voorwaarden is voldaan: “d) de bijzondere categorieën ...”"): a point says little alone."""
    return f"{lead} “{quote}” {mark}" if lead else f"“{quote}” {mark}"


class SentenceChecker:
    """Checks the sentences of one answer, one at a time, in order (so a streamed answer can
    be shown sentence by sentence, each once checked); ``result`` is the whole checked answer.

    A sentence is kept when a passage supports it; the passage sentence that supports it best
    becomes the quote. Text flagged by the guard neither supports nor is quoted, and a sentence
    that repeats it is dropped. A claim about when the law applies (or that it does not) is
    kept only when a binding passage (the act, the amending act) supports it."""

    def __init__(self, answerer: Answerer, lang: Lang, passages: Sequence[Passage], question: str = "") -> None:
        self.answerer = answerer
        self.lang = lang
        self.question = question  # a sentence that restates it rather than a source is not kept as checked
        self.passages = list(passages)
        self.kept: list[tuple[str, list[tuple[int, str]]]] = []  # sentence, [(passage index, quote)]
        self.vec_cache: dict[int, tuple[list[tuple[int, int]], np.ndarray]] = {}
        self.dropped = 0
        self.injected = 0
        self.unbound = 0
        self.support: list[float] = []
        self.numbers: dict[int, int] = {}  # passage index -> number in the answer (order of first use)
        self.citations: list[Citation] = []
        self.out: list[str] = []
        self.flagged = [(p.lang, guard.hidden(p.text, guard.flagged_spans(p)))
                        for p in self.passages if guard.flagged_spans(p)]
        self.replaced: list[str] = []  # meaning rules broken (meaning.py), one entry per rule and sentence
        self.replaced_sentences = 0
        self.quoted: set[str] = set()  # quotes shown in place of a sentence that said something else
        self.last: tuple[str, str, str] = ("", "", "")  # (quote, its language, lead-in) of the last kept sentence
        self.last_quoted = False  # the last kept sentence is shown as its quote

    def repeats_flagged(self, bare: str) -> bool:
        """The sentence says what text addressed to the assistant says, rather than what the
        passages' own text says (word overlap)."""
        lang = self.lang
        inj = max((lexical_support(bare, lang, t, pl) for pl, t in self.flagged), default=0.0)
        if inj < INJECTED_OVERLAP:
            return False
        clean = max((lexical_support(bare, lang, f"{usable_context(p)}\n{usable_text(p)}", p.lang) for p in self.passages),
                    default=0.0)
        return inj > clean

    def add(self, sent: str) -> str | None:
        """Check one sentence of the answer: its checked text (with renumbered citations) if it
        is kept, else None."""
        lang, passages = self.lang, self.passages
        cited = [int(n) - 1 for n in _CITE.findall(sent)]
        bare = re.sub(r"\s+([,.;:!?])", r"\1", _CITE.sub("", sent))
        bare = re.sub(r"([,;:])(?:\s*[,;:.])+", r"\1", bare).strip().rstrip(",;: ")
        if any(bare.rstrip(" .") == k for k, _ in self.kept):
            return None  # the small model sometimes repeats itself
        if len(_content(bare, lang)) < MIN_CONTENT_WORDS:
            if bare and not cited and self.kept:  # a trailing fragment: ignore silently
                return None
            if bare:
                self.dropped += 1
            return None
        if self.flagged and self.repeats_flagged(bare):
            self.injected += 1
            return None
        validity = guard.claims_validity(bare)
        supports: list[tuple[int, str]] = []
        best_score = 0.0
        # the passages it cites first, then the others (a sentence citing the wrong one is
        # re-attributed); each lexically (stemmed words, numbers), then by meaning. A claim
        # about the law's dates or validity: only the act itself.
        allowed = [i for i in range(len(passages)) if not validity or passages[i].binding]
        cited_ok = [i for i in dict.fromkeys(cited) if i in allowed]
        order = cited_ok + [i for i in allowed if i not in cited_ok]
        sem: dict[int, tuple[float, tuple[int, int]]] | None = None
        for pi in order:
            p = passages[pi]
            spans = usable_spans(p)
            if not spans or not numbers_supported(bare, numbered_text(p)):
                continue
            if contradicts_prohibition(bare, p):
                supports.clear()
                break
            # the lead-in ("The following AI practices shall be prohibited:") is part of what a point says
            whole = lexical_support(bare, lang, f"{usable_context(p)}\n{usable_text(p)}", p.lang)
            best_score = max(best_score, whole)
            if whole >= LEXICAL_SUPPORT:
                _, sp = max((lexical_support(bare, lang, p.text[slice(*sp)], p.lang), sp) for sp in spans)
                supports.append((pi, p.text[slice(*sp)]))
                break
            if pi in cited_ok or pi == order[-1]:
                if sem is None:
                    sem = self.answerer._semantic(bare, passages, self.vec_cache)
                sim, sp = sem.get(pi, (0.0, spans[0]))
                best_score = max(best_score, sim)
                if sim >= (SEMANTIC_SUPPORT_CITED if pi in cited_ok else SEMANTIC_SUPPORT):
                    supports.append((pi, p.text[slice(*sp)]))
                    break
        if not supports and sem is not None and not any(contradicts_prohibition(bare, p) for p in passages):
            # by meaning, any passage (a Dutch sentence, an English guideline)
            for pi, (sim, sp) in sorted(sem.items(), key=lambda kv: -kv[1][0]):
                if pi not in allowed:
                    continue
                if sim >= SEMANTIC_SUPPORT and numbers_supported(bare, numbered_text(passages[pi])):
                    supports.append((pi, passages[pi].text[slice(*sp)]))
                break
        self.support.append(best_score)
        if not supports:
            if validity:
                self.unbound += 1  # perhaps a page or guideline says so; the act does not
            else:
                self.dropped += 1
            return None
        # what it says must be what its quote says (obligation, prohibition, negation, exception,
        # every amount): else the quote itself is shown in its place, never the sentence
        pi, quote = supports[0]
        lead = lead_in(passages[pi], quote)
        broken = meaning.check(bare, quote, context=lead, s_lang=lang,
                               q_lang=passages[pi].lang, provision=passages[pi].provision,
                               passage=usable_text(passages[pi]), amends=passages[pi].amends,
                               question=self.question)
        if broken and quote in self.quoted:
            self.replaced.extend(broken)
            self.replaced_sentences += 1
            return None  # that quote is already shown
        sent = bare.rstrip(" .")
        self.kept.append((sent, supports))
        self.last = (quote, passages[pi].lang, lead)
        marks = []
        for pi, quote in supports:
            if pi not in self.numbers:
                self.numbers[pi] = len(self.numbers) + 1
                self.citations.append(Citation(n=self.numbers[pi], passage=passages[pi], quote=quote))
            marks.append(f"[{self.numbers[pi]}]")
        self.last_quoted = bool(broken)
        if broken:
            self.replaced.extend(broken)
            self.replaced_sentences += 1
            self.quoted.add(supports[0][1])
            self.out.append(shown_quote(supports[0][1], lead, marks[0]))
        else:
            self.out.append(f"{sent}. {''.join(dict.fromkeys(marks))}")
        return self.out[-1]

    def demote_last(self, rule: str) -> str | None:
        """The last kept sentence broke ``rule``, found only once the answer's verdict was settled
        (it opens with a yes or no the verdict does not give): show its quote in its place, as
        :meth:`add` does for a sentence that breaks a meaning rule; None when that quote is already
        shown. Returns what is shown now."""
        if self.last_quoted:
            return self.out[-1]  # already shown as its quote (it broke a meaning rule)
        pi, quote = self.kept[-1][1][0]
        self.replaced.append(rule)
        self.replaced_sentences += 1
        self.last_quoted = True
        if quote in self.quoted:
            self.out.pop()
            return None
        self.quoted.add(quote)
        self.out[-1] = shown_quote(quote, self.last[2], f"[{self.numbers[pi]}]")
        return self.out[-1]

    def result(self) -> Checked:
        if not self.kept:
            c = Checked.refusal(self.lang, "unsupported", dropped=self.dropped, support=self.support)
        else:
            c = Checked(" ".join(self.out), self.citations, dropped=self.dropped, support=self.support)
        c.injected, c.unbound = self.injected, self.unbound
        c.replaced = list(self.replaced)
        return c
