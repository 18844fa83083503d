"""Does an answer sentence mean what the quote it was built on says? (Dutch and English)

The sentence checker (``answer.SentenceChecker``) decides which passage sentence supports an
answer sentence by words and by embedding similarity; both accept a sentence that says the
opposite ("Het is niet verplicht om klanten te vertellen ..." citing Article 50(1), which says
providers *shall* ensure that people are informed). This module compares what the two claim:

* obligation vs no obligation ("moet", "zorgen ervoor", "shall" vs "niet verplicht", "need not");
* prohibited vs allowed ("is verboden", "mag niet", "prohibited" vs "toegestaan", "may");
* negation: a negated sentence built on a quote that negates nothing;
* a condition or exception the quote carries ("behalve", "tenzij", "mits", "met uitzondering
  van", "unless", "except", "provided that") that the sentence, stating a rule, leaves out;
* every alternative of an amount or date: a sentence naming EUR 35 000 000 must also name the
  7 % (and "whichever is higher") the quote gives as its alternative;
* a duty the quote does not impose: "moeten een AI-training volgen" on Article 4, which speaks
  of measures for AI literacy (what the sentence says must be done is looked up in the quote).

:func:`check` returns the rules a sentence breaks (empty: nothing found against it). It reads
words, not minds: it is a guard against the contradictions a small model writes, tuned to
fail safe (a failing sentence is replaced by its quote, which is always true to the source).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from . import legal
from .index import tokenize

_I = re.IGNORECASE

NO_OBLIGATION = re.compile(
    r"\b(niet\s+verplicht\w*|geen\s+(wettelijke\s+)?verplichting\w*|hoeft\s+(\w+\s+){0,4}?niet|hoeven\s+(\w+\s+){0,4}?niet|"
    r"hoeft\s+geen|hoeven\s+geen|niet\s+nodig|niet\s+vereist|is\s+niet\s+verplicht|"
    r"not\s+(required|obliged|obligated|mandatory|necessary|compulsory)|no\s+(legal\s+)?(obligation|requirement|duty)|"
    r"need\s+not|needn't|(does|do|did)\s*(not|n't)\s+(have|need)\s+to|not\s+have\s+to|"
    r"under\s+no\s+obligation)\b", _I)
OBLIGATION = re.compile(
    r"\b(shall|must|is\s+required\s+to|are\s+required\s+to|required|obliged|obligated|obligation|has\s+to|have\s+to|"
    r"need\s+to|needs\s+to|ensure|ensures|moet|moeten|dient|dienen|is\s+verplicht|zijn\s+verplicht|verplicht\w*|"
    r"zorgen\s+ervoor|zorgt\s+ervoor|zorgen\s+voor|zorgt\s+voor|ervoor\s+zorgen|draagt\s+zorg|dragen\s+zorg|"
    r"waarborgen|waarborgt|nemen\s+maatregelen|neemt\s+maatregelen|take\s+measures|takes\s+measures|"
    # Dutch legislation states duties in the present tense: "gebruiksverantwoordelijken ... maken bekend"
    r"(aanbieders|gebruiksverantwoordelijken|importeurs|distributeurs|gemachtigden|exploitanten)\b(?:(?!\bniet\b|\bgeen\b|\bte\b)[^.;:]){0,120}?"
    r"\b(maken|delen|verstrekken|stellen|houden|bewaren|registreren|voeren|informeren|melden|voorzien|treffen|"
    r"passen|leggen|controleren|verifiëren|brengen)\b|"
    # ... also after a leading clause: "Voordat ... in gebruik wordt gesteld, delen gebruiksverantwoordelijken ... mee"
    r"\b(maken|delen|verstrekken|stellen|houden|bewaren|registreren|voeren|informeren|melden|voorzien|treffen|"
    r"passen|leggen|controleren|verifiëren|brengen)\s+(de\s+)?(aanbieders|gebruiksverantwoordelijken|importeurs|"
    r"distributeurs|gemachtigden|exploitanten)\b|"
    # ... and in the singular: "Alvorens ... in de handel te brengen, registreert die aanbieder ... in de EU-databank"
    r"\b(maakt|deelt|verstrekt|bewaart|registreert|voert|informeert|meldt|voorziet|treft|legt|controleert|verifieert|"
    r"brengt)\s+(de\s+|die\s+|elke\s+)?(aanbieder|gebruiksverantwoordelijke|importeur|distributeur|gemachtigde|"
    r"exploitant)\b|"
    r"\b(de|elke|die)\s+(aanbieder|gebruiksverantwoordelijke|importeur|distributeur|gemachtigde|exploitant)\b"
    r"(?:(?!\bniet\b|\bgeen\b|\bte\b)[^.;:]){0,80}?\b(maakt|deelt|verstrekt|bewaart|registreert|informeert|meldt|"
    r"treft|controleert|verifieert)\b)\b", _I)
NOT_PROHIBITED = re.compile(
    r"\b(niet\s+verboden|geen\s+verbod|not\s+prohibited|not\s+banned|not\s+forbidden|no\s+prohibition|"
    r"valt\s+niet\s+onder\s+het\s+verbod|vallen\s+niet\s+onder\s+het\s+verbod|falls?\s+outside\s+the\s+prohibition|"
    r"(does|do)\s+not\s+fall\s+under\s+the\s+prohibition)\b", _I)
PROHIBITED = re.compile(
    r"\b(verboden|verbod|verbiedt|mag\s+niet|mogen\s+niet|mag\s+geen|mogen\s+geen|niet\s+toegestaan|niet\s+mogen|"
    r"niet\s+gebruiken|is\s+niet\s+toegelaten|"
    r"shall\s+be\s+prohibited|prohibited|prohibition|banned|forbidden|not\s+allowed|not\s+permitted|may\s+not|shall\s+not|must\s+not|"
    r"cannot\s+be\s+used|can\s*not\s+be\s+used|is\s+illegal|are\s+illegal)\b", _I)
ALLOWED = re.compile(
    r"\b(toegestaan|toegelaten|mag|mogen|kan\s+worden\s+gebruikt|kunnen\s+worden\s+gebruikt|is\s+allowed|are\s+allowed|"
    r"allowed|permitted|permissible|may\s+be\s+used|can\s+be\s+used|is\s+legal|are\s+legal|is\s+lawful|are\s+lawful)\b", _I)
NEGATION = re.compile(r"\b(niet|geen|nooit|niets|not|no|never|none|nothing|cannot|can't|don't|doesn't|isn't|aren't)\b", _I)
# an exception or condition a rule carries (the list, and their close kin)
EXCEPTION = re.compile(
    r"\b(behalve|tenzij|mits|met\s+uitzondering\s+van|uitgezonderd|met\s+dien\s+verstande|"
    r"unless|except|excepting|provided\s+that|with\s+the\s+exception\s+of|save\s+where|save\s+for|"
    r"(shall|does|do)\s+not\s+apply|(is|zijn)\s+niet\s+van\s+toepassing|geldt\s+niet|gelden\s+niet)\b", _I)
# ... and the words by which a sentence keeps one (it need not use the quote's own word)
KEEPS_EXCEPTION = re.compile(
    r"\b(behalve|tenzij|mits|uitzondering\w*|uitgezonderd|alleen|slechts|enkel|uitsluitend|als|indien|wanneer|"
    r"voor\s+zover|onder\s+voorwaarde\w*|voorwaarde\w*|met\s+dien\s+verstande|"
    r"unless|except\w*|provided|only|if|where|when|insofar|conditions?|exempt\w*|not\s+apply|"
    r"niet\s+van\s+toepassing|geldt\s+niet|gelden\s+niet)\b", _I)

# free of charge, and what still may be charged: "kosteloos is, onverminderd uitzonderlijke kosten die
# ... mogen verhalen" (elsewhere "without prejudice to" saves other law and is no exception)
FREE = re.compile(r"\b(gratis|kosteloos|kosteloze|free\s+of\s+charge|for\s+free|without\s+charge|zonder\s+kosten|"
                  r"free\s+access|no\s+charge|kost\w*\s+(?:het\s+)?niets)\b", re.I)
NOT_FREE = re.compile(r"\b(niet|geen|not|no)\s+(\w+\s+){0,2}(gratis|kosteloos|free)\b", re.I)
WITHOUT_PREJUDICE = re.compile(r"\b(onverminderd|without\s+prejudice\s+to)\b", re.I)
_COSTS = re.compile(r"\b(kosten|costs?|fees?|vergoeding\w*|verhalen|recover\w*)\b", re.I)

# a sentence stating what a rule applies to
STATES_SCOPE = re.compile(r"\b(appl(y|ies)\s+to|(is|zijn)\s+van\s+toepassing\s+op|geldt\s+voor|gelden\s+voor|"
                          r"covers?|valt\s+onder|vallen\s+onder|falls?\s+under)\b", _I)

_MONTHS = (r"januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december|"
           r"january|february|march|may|june|july|august|october")
DATE = re.compile(rf"\b\d{{1,2}}\s+({_MONTHS})\s+\d{{4}}\b", _I)
MONEY = re.compile(r"(?:(?:€|\bEUR)\s?\d[\d\s.,\u00a0\u202f]*\d(?:\s?(?:miljoen|miljard|million|billion))?"
                   r"|\b\d[\d\s.,\u00a0\u202f]*\d\s?(?:EUR\b|euro\b)|\b\d+\s?(?:miljoen|miljard|million|billion)\s+(?:EUR|euro)\b)", _I)
PERCENT = re.compile(r"\b\d+(?:[.,]\d+)?\s?(?:%|procent\b|per\s?cent\b)", _I)
HIGHER = re.compile(r"\b(whichever\s+(\w+\s+)?is\s+higher|hoger\s+is|hoogste)\b", _I)
LOWER = re.compile(r"\b(whichever\s+(\w+\s+)?is\s+lower|lager\s+is|laagste)\b", _I)
KEEPS_HIGHER = re.compile(r"\b(higher|highest|greater|hoger|hoogste|hoogst|grootste)\b", _I)
KEEPS_LOWER = re.compile(r"\b(lower|lowest|lesser|lager|laagste|laagst|kleinste)\b", _I)
_ALT = re.compile(r"\b(or|of|whichever|naargelang|respectievelijk|respectively)\b", _I)

# words of a duty that say only that it is one (they are not what must be done)
_MODAL_STEMS = {"moet", "moeten", "dient", "dien", "shall", "must", "requir", "oblig", "oblige", "verplicht",
                "zorg", "ensur", "need", "nodig", "hebben", "heb", "have", "has", "be", "ben", "word", "zijn",
                "ervoor", "all", "alle", "ook", "also", "altijd", "always"}
DUTY_MISSING = 0.34  # share of what a sentence says must be done that the quote may lack
# the question restated as the answer: at least ECHO_MIN of the sentence's words, and ECHO_SHARE of
# them, come from the question and are not in its passage ("De AI-verordening geldt voor mij als ik
# als particulier een AI-app gebruik om mijn vakantie te plannen" on Article 74(1))
ECHO_MIN = 3
ECHO_SHARE = 0.4
WORD_HEAD = 6  # letters two inflections of a word share (word_head)


ROLES = {  # the parties in both languages, to compare who is asked about with who a rule names
    "provider": r"aanbieder|provider", "deployer": r"gebruiksverantwoordelijke|deployer",
    "importer": r"importeur|importer", "distributor": r"distributeur|distributor",
    "representative": r"gemachtigde|authori[sz]ed\s+representative", "operator": r"exploitant|operator",
    "commission": r"commissie|commission", "office": r"ai-bureau|ai\s+office", "states": r"lidstat|member\s+state",
    "authority": r"autoriteit|authorit|instantie|bod(y|ies)\b|board", "sme": r"kmo|\bsmes?\b|start-up",
    "midcap": r"midcap|mid-cap",
    "staff": r"personeel|werknemer|medewerker|\bstaff\b|employee|\bworkers?\b|personnel",
}
# the parties a sentence may not swap for another: who holds a duty, a power or a task
ACTORS = frozenset({"provider", "deployer", "importer", "distributor", "representative", "commission", "office",
                    "states", "sme", "midcap"})
# the kinds of act the law provides for, by either language's name: a sentence may name only those
# its passage names ("Ja, er komt een uitvoeringshandeling" on "De Commissie stelt ... richtsnoeren
# vast": the omnibus turned several implementing acts into guidelines)
INSTRUMENTS = {
    "implementing-act": re.compile(r"\b(uitvoeringshandeling\w*|implementing\s+acts?)\b", _I),
    "delegated-act": re.compile(r"\b(gedelegeerde\s+handeling\w*|delegated\s+acts?)\b", _I),
    "guidelines": re.compile(r"\b(richtsnoer\w*|guidelines?)\b", _I),
    "code": re.compile(r"\b(praktijkcode\w*|gedragscode\w*|codes?\s+of\s+(practice|conduct))\b", _I),
    "standard": re.compile(r"\b(geharmoniseerde\s+norm\w*|harmoni[sz]ed\s+standards?)\b", _I),
    "specification": re.compile(r"\b(gemeenschappelijke\s+specificatie\w*|common\s+specifications?)\b", _I),
}
# a sentence about a prohibition ("Het verbod op ... geldt vanaf ...")
SPEAKS_OF_PROHIBITION = re.compile(r"\b(verbod\w*|verboden|verbiedt|verbieden|prohibit\w*|bans?|banned|forbidden)\b", _I)
# the classification: "are not high-risk" against a quote that lists or deems them high-risk
NOT_HIGH_RISK = re.compile(r"\b(not|no|never|geen|niet|nooit)\b[^.;:]{0,60}?\b(high[- ]risk|hoog[- ]risico|hoog\s+risico)", _I)
IS_HIGH_RISK = re.compile(
    r"\bhigh-risk\s+AI\s+systems\b[^.;:]{0,60}\bare\s+the\s+AI\s+systems\b|"
    r"\bAI-systemen\s+met\s+een\s+hoog\s+risico\b[^.;:]{0,60}\bzijn\s+de\s+(\w+\s+)?AI-systemen\b|"
    r"\b(shall|must)\s+(also\s+)?be\s+considered\s+(to\s+be\s+)?high-risk\b|"
    r"\b(wordt|worden)\s+(\w+\s+){0,6}?(als|beschouwd\s+als)\s+(een\s+)?(AI-systeem|AI-systemen)\s+met\s+een\s+hoog\s+risico\b", _I)


def roles(text: str) -> set[str]:
    """The parties (keys of ROLES) ``text`` names, in either language."""
    return {role for role, rx in ROLES.items() if re.search(rx, text, re.I)}


@dataclass(frozen=True)
class Polarity:
    obligation: bool
    no_obligation: bool
    prohibited: bool
    not_prohibited: bool
    allowed: bool
    negated: bool
    exception: bool

    @property
    def deontic(self) -> bool:
        """States a rule: a duty, a prohibition or a permission (or their absence)."""
        return self.obligation or self.no_obligation or self.prohibited or self.not_prohibited or self.allowed


def instruments(text: str) -> set[str]:
    """The kinds of act ``text`` names (INSTRUMENTS' keys), whichever language it is in."""
    return {kind for kind, pattern in INSTRUMENTS.items() if pattern.search(text)}


def polarity(text: str) -> Polarity:
    """What a text claims, by its deontic words (both languages)."""
    no_obl = bool(NO_OBLIGATION.search(text))
    stripped = NO_OBLIGATION.sub(" ", text)
    not_proh = bool(NOT_PROHIBITED.search(text))
    rest = NOT_PROHIBITED.sub(" ", text)
    proh = bool(PROHIBITED.search(rest))
    allowed = bool(ALLOWED.search(PROHIBITED.sub(" ", rest))) and not proh
    return Polarity(obligation=bool(OBLIGATION.search(PROHIBITED.sub(" ", stripped))), no_obligation=no_obl,
                    prohibited=proh, not_prohibited=not_proh, allowed=allowed or not_proh,
                    negated=bool(NEGATION.search(text)), exception=bool(EXCEPTION.search(text)))


def amounts(text: str) -> list[str]:
    """The sums of money and the percentages a text names, in order, as written."""
    found = [(m.start(), m.group(0).strip()) for m in MONEY.finditer(text)]
    found += [(m.start(), m.group(0).strip()) for m in PERCENT.finditer(text)]
    return [s for _, s in sorted(found)]


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


def _alternative_dates(text: str) -> list[str]:
    """Dates the text gives as alternatives of each other ("... or 2 August 2027")."""
    ms = list(DATE.finditer(text))
    out: list[str] = []
    for a, b in zip(ms, ms[1:]):
        between = text[a.end():b.start()]
        if len(between) <= 80 and _ALT.search(between):
            out.extend([a.group(0), b.group(0)])
    return list(dict.fromkeys(out))


def _norm_date(s: str) -> str:
    return " ".join(s.lower().split())


def _duty_words(sentence: str, lang: str) -> list[str]:
    """Content-word stems of what the sentence says must be done: the words after its first
    obligation word ("moeten [een AI-training volgen]")."""
    m = OBLIGATION.search(sentence)
    if not m:
        return []
    tail = sentence[m.end():]
    stems = [t for t in tokenize(tail, lang) if not t.isdigit() and t not in _MODAL_STEMS]
    return [t for t in stems if "-" not in t]  # "ai-train" is also given as "ai" and "train"


def check(sentence: str, quote: str, *, context: str = "", s_lang: str = "nl", q_lang: str = "nl",
          provision: str = "", passage: str = "", amends: Sequence[str] = (), question: str = "") -> list[str]:
    """The rules ``sentence`` breaks against ``quote`` (the passage sentence it was built on)
    and ``context`` (the passage's lead-in, e.g. "The following AI practices shall be
    prohibited:", part of what a point of a list says), from the passage of ``provision``
    (canonical, "Article 80(4)") whose text is ``passage`` (the quote when not given): who a
    sentence may name is read from the whole passage, since a point's quote ("a) AI-systemen
    die ...") leaves its paragraph's subject ("Het AI-bureau is exclusief bevoegd voor:") out;
    which provisions, from the quote, its provision and what that provision ``amends`` (an
    amending act's point speaks of the AI Act's article it replaces). Empty when nothing was
    found against it.

    With ``question``, a sentence that restates the question rather than the source breaks
    "question" (:func:`echoes`).

    Rule names: "obligation", "no-obligation", "prohibition", "permission", "negation",
    "exception", "amount", "date", "duty", "party", "instrument", "provision", "classification",
    "question", "grammar", "scope", "language"."""
    fails: list[str] = []
    whole = f"{context} {passage or quote}"
    # another provision: "Artikel 4 vereiste dat ..." built on Article 80(4), "classified under
    # Article 6(1) and Annex I" on a quote about Article 6(2) and Annex III: every provision the
    # sentence names must be the quote's own or one the quote (or its lead-in) names
    named = legal.find_refs(sentence, s_lang)
    if named:
        # the quote's own (not the whole passage's: Article 113 names Article 6(1) in another
        # point, with another date, than the one the sentence took)
        known = [*legal.find_refs(f"{context} {quote}", q_lang), *([provision] if provision else []), *amends]
        if any(not any(legal.matches(r, k) for k in known) for r in named):
            fails.append("provision")
    # "are not high-risk" on a quote that lists them as high-risk (Annex III under its lead-in)
    if NOT_HIGH_RISK.search(sentence) and IS_HIGH_RISK.search(f"{context} {quote}") and not NOT_HIGH_RISK.search(whole):
        fails.append("classification")
    # another party: "Het AI-bureau stimuleert ..." on "De Commissie stimuleert ..." (the
    # omnibus moved that task): a sentence may not name an actor its quote does not
    quoted = roles(whole) & ACTORS
    if quoted and (roles(sentence) & ACTORS) - quoted:
        fails.append("party")
    # another kind of act: "an implementing act" on a passage that provides for guidelines
    if instruments(sentence) - instruments(whole):
        fails.append("instrument")
    s = polarity(sentence)
    q = polarity(f"{context} {quote}")
    q_own = polarity(quote)
    # obligation vs no obligation
    if s.no_obligation and q.obligation and not q.no_obligation:
        fails.append("obligation")  # "niet verplicht" on a quote that says "shall"
    elif s.obligation and not s.no_obligation and q.no_obligation and not q.obligation:
        fails.append("no-obligation")
    # prohibited vs allowed
    if q.prohibited and not q.not_prohibited and (s.not_prohibited or (s.allowed and not s.prohibited and not s.negated)):
        fails.append("prohibition")  # "mag / is toegestaan" on a quote that prohibits
    elif s.prohibited and not s.not_prohibited and (q.not_prohibited or (q.allowed and not q.prohibited)):
        fails.append("permission")  # "is verboden" on a quote that allows or says it is not prohibited
    # a prohibition (or its date) read from a passage that prohibits nothing: "Het verbod op AI die
    # ... genereert geldt vanaf 2 december 2027" on Article 113's date for Annex III systems
    if ("permission" not in fails and SPEAKS_OF_PROHIBITION.search(sentence)
            and not PROHIBITED.search(whole) and not SPEAKS_OF_PROHIBITION.search(whole)):
        fails.append("permission")
    # a negated sentence built on a quote that negates nothing
    if s.negated and not q.negated and not fails and not (s.prohibited and q.prohibited):
        fails.append("negation")
    # the quote's exception or condition, dropped by a sentence that states the rule (a duty, a
    # permission, or what the rule applies to: "The AI Act applies to high-risk systems already on
    # the market" on "is ... alleen van toepassing op ..., met uitzondering van ..., indien ...")
    # ... also the condition a list's lead-in puts on a permission ("mogen ... verwerken, mits aan alle
    # volgende voorwaarden is voldaan:" over a point of that list), and what a free service may still
    # cost ("kosteloos is, onverminderd uitzonderlijke kosten die ... mogen verhalen")
    lead_condition = bool(context.strip()) and bool(EXCEPTION.search(context)) and s.allowed and not s.negated
    free_condition = bool(FREE.search(sentence) and FREE.search(quote) and WITHOUT_PREJUDICE.search(quote)
                          and not _COSTS.search(FREE.sub(" ", sentence)))  # unless it keeps the costs
    if ((q_own.exception and (s.deontic or STATES_SCOPE.search(sentence)) or lead_condition or free_condition)
            and not KEEPS_EXCEPTION.search(sentence)):
        fails.append("exception")
    # every alternative of an amount: all or none
    q_amounts = amounts(quote)
    s_digits = {_digits(a) for a in amounts(sentence)}
    if len(q_amounts) >= 2 and s_digits & {_digits(a) for a in q_amounts}:
        missing = [a for a in q_amounts if _digits(a) not in s_digits]
        if (missing or (HIGHER.search(quote) and not KEEPS_HIGHER.search(sentence))
                or (LOWER.search(quote) and not KEEPS_LOWER.search(sentence))):
            fails.append("amount")
    # every alternative of a date
    alt = _alternative_dates(quote)
    s_dates = {_norm_date(d.group(0)) for d in DATE.finditer(sentence)}
    if alt and s_dates & {_norm_date(d) for d in alt} and not {_norm_date(d) for d in alt} <= s_dates:
        fails.append("date")
    # a duty the quote does not impose (same language only: across languages words differ)
    if s.obligation and not s.no_obligation and s_lang == q_lang and "obligation" not in fails:
        duty = _duty_words(sentence, s_lang)
        have = set(tokenize(f"{context} {quote}", q_lang))
        if len(duty) >= 2:
            missing_share = sum(1 for t in duty if t not in have) / len(duty)
            if missing_share > DUTY_MISSING:
                fails.append("duty")
    # (same language only: a sentence's words are not its Dutch quote's)
    if question and ((s_lang == q_lang and echoes(sentence, s_lang, question, f"{whole} {quote}"))
                     or opens_as(sentence, question)):
        fails.append("question")
    if s_lang != q_lang and half_copied(sentence, quote):
        fails.append("language")
    if s_lang == "nl" and broken_dutch(sentence):
        fails.append("grammar")
    if inverted_scope(sentence):
        fails.append("scope")
    return fails


_APPLIES_TO = re.compile(r"\b((?:is|zijn)\s+(?:niet\s+)?van\s+toepassing\s+op|(?:does|do)\s+not\s+apply\s+to|"
                         r"appl(?:y|ies)\s+to)\b", _I)
_THING = re.compile(r"\b(ai-?modell?en|ai-?model|ai-?systemen|ai-?systeem|systemen|systeem|modellen|model|models?|"
                    r"systems?|apps?|tools?|software|chatbots?)\b", _I)
_RULE_NOUN = re.compile(r"\b(\w*verordening|regels?|\w*verplichting\w*|\w*verbod\w*|wet|wetten|wetgeving|artikel\w*|bepaling\w*|"
                        r"eisen|vereisten|voorschrift\w*|\w*plicht\w*|hoofdstuk\w*|act|regulation|rules?|obligations?|"
                        r"requirements?|prohibitions?|articles?|provisions?|chapter|duty|duties|exceptions?|"
                        r"uitzondering\w*)\b", _I)


def inverted_scope(sentence: str) -> bool:
    """The sentence makes a system or model, not a rule, the thing that applies: "AI-modellen die
    we uitsluitend voor wetenschappelijk onderzoek hebben ontwikkeld zijn niet van toepassing op
    AI-systemen" (the small model's reading of "Deze verordening is niet van toepassing op
    AI-systemen ... die ... als enig doel"). A rule named before the verb ("De regels voor
    AI-systemen gelden ...") or a pronoun ("Dit is niet van toepassing op ...") is read as the rule."""
    m = _APPLIES_TO.search(sentence)
    if not m:
        return False
    subject = re.split(r"[,;:’']", sentence[:m.start()])[-1]  # its own clause
    return bool(_THING.search(subject)) and not _RULE_NOUN.search(subject)


# a Dutch modal with no verb to go with it: "... de betrokken werknemers moeten voordat ik ... ga gebruiken"
_MODAL_WITHOUT_VERB = re.compile(
    r"\b(?P<before>[^\W\d_]+)\s+(moet|moeten|mag|mogen|kan|kunnen|dient|dienen|hoeft|hoeven)\s+"
    r"(voordat|nadat|wanneer|indien|omdat|zodat|zodra|tenzij|mits)\b|"
    r"\b(?P<before2>[^\W\d_]+)\s+(moet|moeten|dient|dienen)\s*[.!?]?\s*$", _I)
# a separable verb's particle without its verb: "Gebruiksverantwoordelijken die ... werknemers mee dat ..."
_MEE_DAT = re.compile(r"\bmee\s*,?\s+dat\b", _I)
_DELEN = re.compile(r"\b(delen|deelt|deel|meedelen|meegedeeld|gedeeld)\b", _I)


def broken_dutch(sentence: str) -> bool:
    """The small model drops the verb of a Dutch duty that is split around its subject ("delen
    gebruiksverantwoordelijken ... mee dat ...") and writes a sentence without one. Two shapes
    of that are told here: a modal followed by a conjunction or the end, with no infinitive
    before it, and the particle "mee" before "dat" without its verb."""
    for m in _MODAL_WITHOUT_VERB.finditer(sentence):
        before = (m.group("before") or m.group("before2") or "").lower()
        if before not in _SHORT_WORDS and (not before.endswith("en") or before in _NOUN_EN):
            return True
    return bool(_MEE_DAT.search(sentence)) and not _DELEN.search(sentence)


_SHORT_WORDS = {"dat", "dit", "het", "wel", "niet", "ook", "u", "je", "jij", "wij", "we", "ik", "zij", "ze", "hij", "men",
                "er", "dus", "nog", "al", "toch", "zo", "altijd", "soms"}  # "Ja, dat moet."
_NOUN_EN = {"werknemersvertegenwoordigers", "personen", "lidstaten", "ondernemingen", "organen", "instanties",
            "systemen", "ai-systemen", "modellen", "burgers", "mensen"}


def echoes(sentence: str, s_lang: str, question: str, source: str) -> bool:
    """The sentence restates the question rather than the source: at least ECHO_MIN of its words,
    and ECHO_SHARE of them, are the question's and not in ``source`` (its passage, lead-in and
    quote; a word counts when one of its stems, Dutch or English, is there). A small model asked
    "Mag X?" writes "Ja, X mag." on a passage about something else; the words of that claim are
    the user's, not the law's."""
    have, asked = stems(source), stems(question)
    heads = {word_head(w) for w in re.findall(r"[^\W\d_]+", source.lower())} - {""}
    words = [w for w in re.findall(r"[^\W\d_][\w'’-]*", sentence.lower())
             if tokenize(w, s_lang) and not set(tokenize(w, s_lang)) & _MODAL_STEMS]
    echoed = [w for w in words if (st := stems(w)) and st & asked and not st & have and word_head(w) not in heads]
    return len(echoed) >= ECHO_MIN and len(echoed) >= ECHO_SHARE * len(words)


OPENING_WORDS = 3


def opens_as(sentence: str, question: str) -> bool:
    """The sentence opens with the question's first OPENING_WORDS words: the question restated
    ("Boven welke hoeveelheid rekenkracht wordt vermoed dat ..." as the answer to itself)."""
    q = re.split(r"(?<=[.?!])\s+", question.strip())
    asked = re.findall(r"[^\W_]+", (q[-1] if q else "").lower())[:OPENING_WORDS]
    said = re.findall(r"[^\W_]+", sentence.lower())[:OPENING_WORDS]
    return len(asked) == OPENING_WORDS and said == asked


COPIED_MIN = 3  # words of a sentence that are its other-language quote's own
_SAME_IN_BOTH = {"data", "model", "modellen", "software", "start", "ups", "start-ups", "chatbot", "online", "deepfake",
                 "deepfakes", "biometrische", "marketing", "design", "input", "output", "hardware", "cloud"}


def half_copied(sentence: str, quote: str) -> bool:
    """A sentence in one language that copies COPIED_MIN or more long words (six letters or more,
    not words both languages write alike) from its quote in the other: "... de data als specifieerd
    in de wet zijn objective en verifiable om te zorgen dat de personen singled out als suspect ...",
    the small model half translating an English guideline."""
    theirs = set(re.findall(r"[^\W\d_]{6,}", quote.lower()))
    copied = {w for w in re.findall(r"[^\W\d_]{6,}", sentence.lower()) if w in theirs and w not in _SAME_IN_BOTH}
    return len(copied) >= COPIED_MIN


def stems(text: str) -> set[str]:
    """The stems of ``text``'s words in both languages (numbers left out): a word counts as the
    same when either language's stemmer makes it so."""
    return {t for t in tokenize(text, "nl") + tokenize(text, "en") if not t.isdigit()}


def word_head(word: str) -> str:
    """The first WORD_HEAD letters of a long word, without accents and a participle's "ge": Dutch
    inflects past the stemmer, and two forms of a word share them ("geïnformeerd" and
    "informeren": "inform"; "selecteert" and "selecteren"; "sollicitanten" and "sollicitaties").
    "" for a shorter word."""
    plain = unicodedata.normalize("NFKD", word.lower()).encode("ascii", "ignore").decode()
    plain = plain[2:] if plain.startswith("ge") and len(plain) > 8 else plain
    return plain[:WORD_HEAD] if len(plain) >= WORD_HEAD else ""


def exception_clause(quote: str, max_words: int = 25) -> str:
    """The quote's exception from its marker to the end of that clause ("except where ... for
    medical or safety reasons"), or "" if it has none (or it is too long to name)."""
    m = EXCEPTION.search(quote)
    if not m:
        return ""
    rest = quote[m.start():]
    end = re.search(r"[;:.](\s|$)|\)\s|$", rest)
    clause = rest[: end.start() if end else len(rest)].strip().rstrip(",;:. ")
    words = clause.split()
    return clause if 1 < len(words) <= max_words else ""
