"""Question -> ranked passages: hybrid (dense + BM25), cross-lingual, provision-aware.

1. A question that names a provision ("artikel 26 lid 8", "Article 6(2)", "bijlage III")
   gets that provision's passages first.
2. Dense search (EmbeddingGemma, multilingual: a Dutch question finds English-only
   guidelines) and BM25 (Dutch and English stemming) are fused by reciprocal rank.
3. Balance (BASELINE.md failures 1 and 2): guidance may not crowd out the law, and a
   recital ranks below the article it explains.
4. The same provision in both languages counts once: the question's language is shown,
   the other language is kept as ``alternate``.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from . import inforce, legal
from .embed import Embedder
from .index import Index, twin_id
from .lang import detect_language
from .settings import Settings
from .types import Hit, Lang, Passage

log = logging.getLogger(__name__)

RECITAL_WEIGHT = 0.8  # a recital explains an article; rank it below an equally good article
PAGE_WEIGHT = 0.9
MAX_GUIDANCE_SHARE = 0.5  # at most half of the top k from non-binding texts, if law is available
BM25_WEIGHT = 0.8
TRANSLATED_WEIGHT = 0.3  # BM25 with translated keywords, over the documents only in the other language
OTHER_LANG_DENSE_BONUS = 0.8  # BM25 cannot see the other language: its dense rank counts more
DATED_WEIGHT = 6.0  # "from when does X apply": the Article 113 passage (and the point that set the date) first
# A question about what a Commission page describes (the AI Office's tasks and units, the AI
# Pact): the page ranks first and fills most of the top. Then the page answers it, and the
# balance below does not pull in law that only mentions the subject (Article 112(5) for "what
# does the AI Office do?"), which the answerer would otherwise put before the page.
PAGE_TOPIC_TOP = 5
PAGE_TOPIC_MIN = 3
PAGE_TOPIC_PULL = 8
NUDGED = 2  # a provision named as a setting ('uit bijlage III') or a topic's provision (fines: Article 99) boosts its best 2 passages

# What a legal reader knows before searching: where the act defines its terms, where it
# says from when it applies, where the fines are. A question of that kind gives the
# provision a boost (in reciprocal-rank units: weight w = as if ranked first in a list of weight w).
_DEFINITION_Q = re.compile(
    r"\b(wat (is|zijn|betekent|verstaat|houdt)|wat wordt .* verstaan|definitie|betekenis|wanneer ben ik|wie is|"
    r"what('s| is| are| does)|definition|meaning|mean by|who is|when am i|counts? as|geldt als)\b", re.I)
# "Which recital explains ...": the reader asks for the recitals themselves
_RECITAL_Q = re.compile(r"\b(overweging(en)?|considerans|recitals?)\b", re.I)
# feelings of staff or pupils, "de stemming van mijn personeel", "whether our staff are stressed":
# what Article 5(1)(f) prohibits (inferring emotions at the workplace and in education)
WORKPLACE_EMOTIONS = re.compile(
    r"\b(?=[^.?!]*\b(emoti\w*|stemming\w*|gemoed\w*|stress\w*|mood\w*|feelings?|gevoelens?)\b)"
    r"[^.?!]*\b(personeel|werknemers?|medewerkers?|werkvloer|werkplek|kantoor|leerlingen|studenten|"
    r"staff|employees?|workers?|workplace|office|call.?cent(er|re)|pupils|students)\b", re.I)
# telling staff about an AI system used on them, "moet ik mijn personeel informeren", "inform our
# employees": the employer's duty of Article 26(7) (before a high-risk system is used at work)
INFORM_WORKERS = re.compile(
    r"\b(?=[^.?!]*\b(informeren|inlichten|op\s+de\s+hoogte\s+(stellen|brengen)|mededelen|meedelen|vertellen|"
    r"inform|tell|notify|let\s+\w+\s+know)\b)"
    r"[^.?!]*\b(personeel|werknemers?|medewerkers?|werknemersvertegenwoordig\w*|ondernemingsraad|"
    r"staff|employees?|workers?|works\s+council|workers'?\s+representatives)\b", re.I)
# a business outside the Union asking whether the act applies to it: Article 2(1) (providers and
# deployers established in a third country, where the output is used in the Union)
THIRD_COUNTRY_SCOPE = re.compile(
    r"(?=[^?]*\b(zwitserland|zwitserse|swiss|switzerland|verenigde\s+staten|united\s+states|amerika\w*|american|"
    r"usa|us|vs|china|chinese|japan\w*|india\w*|canad\w*|uk|verenigd\s+koninkrijk|united\s+kingdom|brit\w*|"
    r"buiten\s+de\s+(eu|unie)|outside\s+the\s+(eu|union)|derde\s+land\w*|third\s+countr\w*)\b)"
    r"[^?]*\b(geldt|gelden|van\s+toepassing|valt|vallen|apply|applies|covered|fall\s+under|falls\s+under)\b", re.I)
_TOPIC_PRIORS: list[tuple[re.Pattern[str], str, str, float]] = [
    # (question pattern, doc, provision prefix, weight)
    (re.compile(r"\b(vanaf wanneer|sinds wanneer|wanneer (gaat|gaan|gelden|geldt|is|treedt)|datum|"
                r"from when|since when|when (do|does|will|did|is|are)|apply from|date|deadline|termijn)\b", re.I),
     "ai-act", "Article 113", 1.5),
    (re.compile(r"\b(boete|boetes|geldboete|sanctie|sancties|fine|fines|penalt\w*)\b", re.I), "ai-act", "Article 99", 1.0),
    (re.compile(r"\b(omnibus|2026/1744|gewijzigd|wijziging|amended|amendment|changed)\b", re.I), "omnibus", "", 0.6),
    (re.compile(r"\b(richtsnoer\w*|guideline\w*|commissie zegt|commission says)\b", re.I), "guidelines-", "", 0.4),
    (WORKPLACE_EMOTIONS, "ai-act", "Article 5(1)(f)", 1.0),
    (INFORM_WORKERS, "ai-act", "Article 26(7)", 1.0),
    (THIRD_COUNTRY_SCOPE, "ai-act", "Article 2(1)", 1.0),
]


@dataclass
class SearchResult:
    question: str
    lang: Lang
    hits: list[Hit]
    top_dense: float  # best cosine of the question to any passage (relevance signal)
    provision: str | None = None  # a provision named in the question
    timings: dict[str, float] = field(default_factory=dict)
    unknown_terms: list[str] = field(default_factory=list)  # names in the question no source contains
    on: str = ""  # ISO date whose law was searched (inforce.py): only the wordings in force then


# Abbreviations people use that the texts spell out: expanded for retrieval.
ABBREVIATIONS: dict[str, str] = {
    "gpai": "general-purpose AI model AI-model voor algemene doeleinden",
    "fria": "fundamental rights impact assessment effectbeoordeling grondrechten",
    "mkb": "kmo kleine en middelgrote ondernemingen",
    "sme": "SMEs small and medium-sized enterprises",
    "llm": "general-purpose AI model",
}
# Names that do not make a question unanswerable when the texts lack them: the EU law
# applies in every member state, so "in Nederland" asks about the same rules.
_COMMON_NAMES = frozenset("""nederland nederlandse nederlander netherlands dutch belgie belgië belgium belgische
europa europe europees europese eu ai chatgpt""".split())
# ... nor where the business is from: the act speaks of providers "established in a third country"
# ("Ons bedrijf zit in Zwitserland", "a US company", "onze Amerikaanse leverancier"); a country's own
# law ("China's interim measures", "de Canadese AI-wetgeving") stays unknown
_PLACE_NAME = r"[A-Z][\w-]*(?:\s+[A-Z][\w-]*)?"  # one or two capitalised words
ESTABLISHED_IN = re.compile(
    rf"\b(?:(?i:zit|zitten|gevestigd|gebaseerd|based|established|located|headquartered)\s+(?i:in|buiten)\s+"
    rf"(?i:de\s+|the\s+)?{_PLACE_NAME}|(?i:een|a|an|our|ons|onze|de|the)\s+{_PLACE_NAME}\s+(?i:company|companies|firm|"
    rf"vendor|supplier|provider|developer|start-?up|bedrijf|onderneming|leverancier|aanbieder|ontwikkelaar|"
    rf"moederbedrijf|parent))\b")
_NAME = re.compile(r"[\w\-]+")
_NAME_GLUE = frozenset("and of for the en van voor de het der".split())  # inside multi-word names
COGNATE_PREFIX = 6


# Everyday words for what the act names otherwise: a small business asks about "chatbots" and
# "watermarks", the act speaks of systems "intended to interact directly with natural persons"
# and outputs "marked in a machine-readable format". Both languages: the answer may be in either.
# Each entry was measured on the dev set (eval/README.md); "gezichtsherkenning" -> "biometric
# identification" made retrieval worse and is left out.
EVERYDAY_TERMS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"chat\s?bots?|\w+chatbots?|\b(ai|praat|spraak)\s?-?bots?\b|\b(support|klanten|live)\s?-?chat\b|"
                r"\bchat\s?(assistent|assistant|functie|function|widget)\w*", re.I),
     "AI-systeem voor directe interactie met natuurlijke personen; AI system intended to interact directly "
     "with natural persons"),
    (re.compile(r"watermer\w*|watermark\w*", re.I),
     "gemarkeerd in een machineleesbaar formaat, detecteerbaar als kunstmatig gegenereerd; marked in a "
     "machine-readable format and detectable as artificially generated"),
    (re.compile(r"\bkorting\w*|\bdiscounts?\b|\bgoedkoper\b|\bcheaper\b", re.I),
     "vergoedingen evenredig verlaagd; fees reduced proportionately"),
    # telling from a voice or a face whether someone is angry or impatient is emotion recognition
    (re.compile(r"\b(boos|bozer|woedend|geïrriteerd|geirriteerd|ongeduldig|gefrustreerd|verdrietig|blij|angstig|"
                r"angry|annoyed|impatient|frustrated|upset|happy|sad|anxious)\b", re.I),
     "systeem voor het herkennen van emoties; emotion recognition system"),
    (re.compile(r"sollicit\w*|job applicants?|recruit\w*|vacature\w*", re.I),
     "werving of selectie van natuurlijke personen; recruitment or selection of natural persons"),
]


def expand_query(question: str) -> str:
    """The question with the spelled-out forms of its abbreviations and the act's words for its everyday terms."""
    extra = [ABBREVIATIONS[w] for w in re.findall(r"[a-z]+", question.lower()) if w in ABBREVIATIONS]
    extra += [expansion for pattern, expansion in EVERYDAY_TERMS if pattern.search(question)]
    return f"{question} ({'; '.join(extra)})" if extra else question


_TERM = re.compile(r"^\(?\d+\)\s*[‘“'\"]([^’”'\"]{2,80})[’”'\"]")


def page_topic(passages: Sequence[Passage]) -> str | None:
    """The Commission page ranked passages are about: at least PAGE_TOPIC_MIN of the first
    PAGE_TOPIC_TOP are its sections (in either language); None otherwise."""
    pages = [p.doc for p in passages[:PAGE_TOPIC_TOP] if p.kind == "page"]
    doc = max(pages, key=pages.count, default=None)
    return doc if doc and pages.count(doc) >= PAGE_TOPIC_MIN else None


class Retriever:
    def __init__(self, index: Index, embedder: Embedder, settings: Settings) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self._terms: list[tuple[list[str], int]] | None = None
        self._vocab: set[str] | None = None
        self._prefixes: set[str] = set()
        self._rows: dict[tuple[str, str, bool], list[int]] = {}  # rows_of: the index is read-only

    def rows_of(self, doc: str, provision: str, prefix_doc: bool = False) -> list[int]:
        """The rows of ``doc`` (with ``prefix_doc``: of every doc starting so) whose provision is
        ``provision`` or inside or around it (``legal.matches``; "" any), in index order; computed
        once per (doc, provision) and kept (a scan of every passage took up to 25 ms a question)."""
        key = (doc, provision, prefix_doc)
        rows = self._rows.get(key)
        if rows is None:
            rows = [i for i, p in enumerate(self.index.passages)
                    if (p.doc.startswith(doc) if prefix_doc else p.doc == doc)
                    and (not provision or legal.matches(provision, p.provision))]
            if len(self._rows) >= 4096:  # provisions come from questions: keep the table bounded
                self._rows.clear()
            self._rows[key] = rows
        return rows

    def unknown_terms(self, question: str) -> list[str]:
        """Names (capitalised words, acronyms) in the question that occur in no passage.

        "What fee does TÜV charge", "the US executive order", "VAT in Belgium": when a
        question is about something the sources never mention, they cannot answer it, however
        similar the rest of the question is (BASELINE.md: a score threshold is not enough).

        A name may be written in the other language than the source that has it: "Apply AI
        Alliance" for a Dutch page's "alliantie", "Recovery and Resilience Facility" for its
        "herstel- en veerkrachtfaciliteit". So a capitalised word is not held against the
        question when it shares its first six letters with a word of the sources (a cognate),
        or when most words of the same name are known. Acronyms get no such
        allowance: "InvestAI", "JTC", "KvK" are either in the sources or not."""
        from .index import tokenize

        if self._vocab is None:
            raw: set[str] = set()
            for p in self.index.passages:
                raw.update(w.lower() for w in _NAME.findall(f"{p.title} {p.context} {p.text}"))
            self._vocab = raw
            self._prefixes = {w[:COGNATE_PREFIX] for w in raw if len(w) > COGNATE_PREFIX}
        words_of_sources = self._vocab
        vocab = self.index.bm25.vocab_dict

        def known(w: str) -> bool:
            lw = w.lower()
            return (w.isdigit() or lw in _COMMON_NAMES or lw in ABBREVIATIONS or lw in words_of_sources
                    or any(t in vocab for t in set(tokenize(w, "nl")) | set(tokenize(w, "en"))))

        origin = {w for m in ESTABLISHED_IN.finditer(question) for w in _NAME.findall(m.group(0))}
        words = _NAME.findall(question)
        # names: runs of capitalised words, joined by "and", "of", "en", "van", ...
        runs: list[list[int]] = []
        for i, w in enumerate(words):
            if w[:1].isupper() and i > 0:
                if runs and (runs[-1][-1] == i - 1 or (runs[-1][-1] == i - 2 and words[i - 1].lower() in _NAME_GLUE)):
                    runs[-1].append(i)
                else:
                    runs.append([i])
        run_of = {i: run for run in runs for i in run}
        out = []
        for i, w in enumerate(words):
            acronym = sum(c.isupper() for c in w) >= 2
            if not (acronym or i in run_of) or known(w) or w in origin:
                continue
            if not acronym:
                if len(w) > COGNATE_PREFIX and w[:COGNATE_PREFIX].lower() in self._prefixes:
                    continue  # a cognate of a word of the sources
                run = run_of[i]
                if len(run) > 1 and sum(known(words[j]) for j in run) > len(run) / 2:
                    continue  # part of a name whose other words the sources mostly have
            out.append(w)
        return out

    def defined_terms(self) -> list[tuple[list[str], int]]:
        """(stemmed tokens of the defined term, passage row) for every numbered definition."""
        if self._terms is None:
            from .index import tokenize

            self._terms = []
            for i, p in enumerate(self.index.passages):
                if p.kind != "definition":
                    continue
                m = _TERM.match(p.text)
                if m:
                    toks = tokenize(m.group(1), p.lang)
                    if toks:
                        self._terms.append((toks, i))
        return self._terms

    def priors(self, question: str, lang: Lang, provision: str | None,
               fused: dict[int, float], allowed: frozenset[int] | None = None) -> dict[int, float]:
        """Boosts from what the question asks for: a named provision, a defined term, a topic
        (``fused``: the scores so far, to pick the best passages of a provision that is only a
        nudge: one named as the question's setting, or a topic's provision)."""
        from .index import tokenize

        s = self.settings
        unit = 1.0 / (s.rrf_k + 1)
        boost: dict[int, float] = {}

        def add(i: int, w: float) -> None:
            boost[i] = boost.get(i, 0.0) + w * unit

        def best(rows: list[int]) -> list[int]:
            if allowed is not None:  # the wordings in force on the date only
                rows = [i for i in rows if i in allowed]
            return sorted(rows, key=lambda i: -fused.get(i, 0.0))[:NUDGED]

        if provision:
            specific = "(" in provision
            inside = self.rows_of("ai-act", provision)
            if not specific:
                # "uit bijlage III" names the setting of a question about something inside it
                # (or next to it): a nudge to the best of its passages, not a flood of all of them
                inside = best(inside)
            for i in inside:
                exact = self.index.passages[i].provision == provision
                # "artikel 26 lid 8" asks for that paragraph
                add(i, 3.0 if (specific and exact) else 1.0 if specific else 0.5)
        if _DEFINITION_Q.search(question):
            q = set(tokenize(question, lang)) | set(tokenize(question, "en" if lang == "nl" else "nl"))
            matched = [(len(t), i) for t, i in self.defined_terms() if set(t) <= q]
            if matched:
                longest = max(n for n, _ in matched)
                for n, i in matched:
                    add(i, 3.0 if n == longest else 1.0)
        for pattern, doc, prefix, w in _TOPIC_PRIORS:
            if pattern.search(question):
                topic = self.rows_of(doc, prefix, prefix_doc=True)
                if prefix:  # a provision (Article 99 has 20 paragraphs): its best passages only
                    topic = best(topic)
                for i in topic:
                    add(i, w)
        return boost

    def alternate(self, p: Passage, on: str | None = None) -> Passage | None:
        """The same provision in the other language, if the document has it (with ``on``: the
        wording shown on that date, inforce.py)."""
        other: Lang = "en" if p.lang == "nl" else "nl"
        versions = inforce.view(self.index)
        if on and versions.any:
            return versions.unit_on(p.id, other, on)
        return self.index.get(twin_id(inforce.base_id(p.id), other))

    def provision_passages(self, provision: str, lang: Lang, on: str | None = None) -> list[Passage]:
        """All AI Act passages of a provision (and its sub-provisions), question language first
        (with ``on``: the wordings shown on that date)."""
        versions = inforce.view(self.index)
        related = [p for p in self.index.passages if p.doc == "ai-act" and legal.matches(provision, p.provision)
                   and (not on or versions.shown(p, on))]
        # the provision itself and what is inside it; else the smallest unit that contains it
        ps = [p for p in related if len(p.provision) >= len(provision)] or related
        ps.sort(key=lambda p: (p.lang != lang, p.order))
        return ps

    def search(self, question: str, k: int | None = None, lang: Lang | None = None,
               on: str | None = None) -> SearchResult:
        """The passages for ``question`` among the wordings in force on ``on`` (default: the
        setting POLICY_RAG_ON, else today; inforce.py)."""
        k = k or self.settings.k
        s = self.settings
        on = inforce.resolve_on(on, s.on)
        versions = inforce.view(self.index)
        allowed = versions.allowed(on)
        extra = len(self.index.passages) - len(allowed) if allowed is not None else 0  # room for the rows left out
        timings: dict[str, float] = {}
        lang = lang or detect_language(question)
        asked = question
        question = expand_query(question)
        t = time.perf_counter()
        qvec = self.embedder.embed_queries([question])[0]
        timings["embed_query"] = time.perf_counter() - t

        t = time.perf_counter()
        dense = self._only(self.index.dense_search(qvec, s.dense_k + extra), allowed)
        timings["dense"] = time.perf_counter() - t
        t = time.perf_counter()
        keyword = self._only(self.index.keyword_search(question, s.bm25_k + extra, lang), allowed)
        translated = (self._only(self.index.translated_search(question, s.bm25_k + extra, lang), allowed)
                      if TRANSLATED_WEIGHT else [])
        timings["bm25"] = time.perf_counter() - t

        t = time.perf_counter()
        fused: dict[int, float] = {}
        # BM25 cannot see across languages: for a passage in the other language the dense
        # rank speaks for both signals
        dense_w = {lang: 1.0, "en" if lang == "nl" else "nl": 1.0 + OTHER_LANG_DENSE_BONUS}
        for ranked, weight in ((dense, lambda i: dense_w[self.index.passages[i].lang]),
                               (keyword, lambda i: BM25_WEIGHT), (translated, lambda i: TRANSLATED_WEIGHT)):
            for r, (i, _score) in enumerate(ranked):
                fused[i] = fused.get(i, 0.0) + weight(i) / (s.rrf_k + r + 1)
        provision = legal.parse_query_provision(question)
        for i, b in self.priors(question, lang, provision, fused, allowed).items():
            fused[i] = fused.get(i, 0.0) + b
        for p in inforce.dated_passages(asked, self.index, on):
            # "from when does X apply": the Article 113 wording (and the amending point) that says so first
            row = self.index.position(p.id)
            if row is not None:
                fused[row] = fused.get(row, 0.0) + DATED_WEIGHT / (s.rrf_k + 1)
        if allowed is not None:
            fused = {i: v for i, v in fused.items() if i in allowed}
        asks_recital = bool(_RECITAL_Q.search(question))
        for i in fused:
            p = self.index.passages[i]
            if p.kind == "recital" and not asks_recital:
                fused[i] *= RECITAL_WEIGHT
            elif p.kind == "page":
                fused[i] *= PAGE_WEIGHT
        ranked = sorted(fused.items(), key=lambda kv: -kv[1])
        topic = self.page_topic(ranked)
        hits = self._collapse_and_balance(self.page_first(ranked, topic), lang, k,
                                          on if allowed is not None else None, free_doc=topic)
        timings["fuse"] = time.perf_counter() - t
        top_dense = dense[0][1] if dense else 0.0
        return SearchResult(asked, lang, hits, float(top_dense), provision, timings, self.unknown_terms(asked),
                            on=on)

    @staticmethod
    def _only(ranked: list[tuple[int, float]], allowed: frozenset[int] | None) -> list[tuple[int, float]]:
        """``ranked`` without the rows not shown on the date (None: every row)."""
        return ranked if allowed is None else [(i, sc) for i, sc in ranked if i in allowed]

    def page_topic(self, ranked: list[tuple[int, float]]) -> str | None:
        """The Commission page the question is about, when the fused ranking says so (:func:`page_topic`)."""
        return page_topic([self.index.passages[i] for i, _ in ranked[:PAGE_TOPIC_TOP]])

    def page_first(self, ranked: list[tuple[int, float]], topic: str | None) -> list[tuple[int, float]]:
        """When the topic page also ranks first, its passages among the top PAGE_TOPIC_PULL go
        before the others there (law that scores in between only mentions the subject)."""
        if not topic or not ranked or self.index.passages[ranked[0][0]].doc != topic:
            return ranked
        near = ranked[:PAGE_TOPIC_PULL]
        return ([r for r in near if self.index.passages[r[0]].doc == topic]
                + [r for r in near if self.index.passages[r[0]].doc != topic] + ranked[PAGE_TOPIC_PULL:])

    def _collapse_and_balance(self, ranked: list[tuple[int, float]], lang: Lang,
                              k: int, on: str | None = None, free_doc: str | None = None) -> list[Hit]:
        """Ranked rows -> hits: one per provision (either language), guidance capped at about half
        of every prefix of the list, except the document ``free_doc`` (see ``page_topic``); ``on``:
        the date whose wordings are shown (inforce.py)."""
        out: list[Hit] = []
        seen: set[str] = set()  # language-independent keys: doc + provision id part
        versions = inforce.view(self.index) if on else None

        def key(p: Passage) -> str:
            pid = inforce.base_id(p.id)
            return twin_id(pid, "en") + ("~" + pid.split("~")[1] if "~" in pid else "")

        def add(p: Passage, score: float, why: str) -> None:
            kk = key(p)
            if kk in seen:
                return
            seen.add(kk)
            if p.lang != lang:  # show the question's language where the document has it
                if versions is not None:
                    twin = versions.unit_on(p.id, lang, on or "")
                else:
                    twin = self.index.get(twin_id(p.id, lang))
                if twin is not None and "~" not in p.id:
                    p = twin
            out.append(Hit(passage=p, score=score, why=why))

        def capped(p: Passage) -> bool:
            return not p.binding and p.doc != free_doc

        def guidance_allowed() -> bool:
            # at every prefix of the list, at most about half may be guidance
            n_guidance = sum(1 for h in out if capped(h.passage))
            return n_guidance + 1 <= math.ceil((len(out) + 1) * MAX_GUIDANCE_SHARE)

        deferred: list[tuple[Passage, float]] = []
        for i, score in ranked:
            while deferred and len(out) < k and guidance_allowed():
                add(*deferred.pop(0), "fused")
            if len(out) >= k:
                break
            p = self.index.passages[i]
            if capped(p) and not guidance_allowed():
                deferred.append((p, score))
                continue
            add(p, score, "fused")
        for p, score in deferred:  # fill up if the law ran out
            if len(out) >= k:
                break
            add(p, score, "fused")
        for r, h in enumerate(out, 1):
            h.rank = r
        return out
