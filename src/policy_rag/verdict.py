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
    r"which\s+fine|hoe\s+lang|how\s+long|how\s+many|welke\s+hoeveelheid|what\s+amount|which\s+amount|"
    r"binnen\s+welke\s+termijn|within\s+what\s+period|how\s+quickly|how\s+soon|hoe\s+snel|hoe\s+spoedig)\b", re.I)
# a yes/no question with its date asked after it: "Moet X ..., en vanaf wanneer?"
_THEN_WHEN = re.compile(r"(,|\b(en|and))\s+(en\s+|and\s+)?(vanaf|sinds|since|from|per)\s+(wanneer|when)\W*$", re.I)
# a question that opens with a condition: "When we register X, must we ...?", "Als ik X doe, moet ik ...?"
_LEADING_CLAUSE = re.compile(r"^\W*(when|if|where|once|wanneer|als|indien|zodra)\b[^,?]{3,200},\s*", re.I)
# "who must ...", "welke ondernemingen mogen ...": the answer is who (the subject of the rule)
_WHO_Q = re.compile(
    r"^\W*(wie|who|(bij|aan|naar|tot)\s+wie|to\s+whom|(bij|aan)\s+welke\s+(instantie|autoriteit|toezichthouder)|"
    r"to\s+which\s+(body|authority)|welke\s+(ondernemingen|bedrijven|partij|partijen|organisaties|actoren|instantie|instanties|"
    r"autoriteit|autoriteiten|toezichthouder)|which\s+(companies|undertakings|enterprises|parties|organisations|"
    r"organizations|operators|actors|body|bodies|authority|authorities))\b", re.I)
# "hoger of lager", "the higher or the lower": the answer is one of the two
_CHOICE_Q = re.compile(r"\b(hogere?|higher)\s+of\s+(de\s+|het\s+)?(lagere?)\b|\b(lagere?)\s+of\s+(de\s+|het\s+)?hogere?\b|"
                       r"\bhigher\s+or\s+(the\s+)?lower\b|\blower\s+or\s+(the\s+)?higher\b", re.I)
_YN_NL = {"mag", "mogen", "moet", "moeten", "is", "zijn", "kan", "kunnen", "valt", "vallen", "geldt", "gelden",
          "heb", "hebben", "heeft", "wordt", "worden", "ben", "hoef", "hoeft", "hoeven", "krijg", "krijgt",
          "krijgen", "zal", "zullen", "dient", "dienen", "vereist", "bestaat", "bestaan", "staat",
          "telt", "tellen", "word", "blijft", "blijven", "zit", "vind", "vindt", "verbiedt", "verplicht",
          "gold", "golden", "was", "waren", "werd", "werden", "mocht", "mochten", "moest", "moesten", "kon", "konden",
          "komt", "komen", "stelt", "stellen"}
_YN_EN = {"can", "may", "must", "do", "does", "did", "is", "are", "am", "should", "shall", "have", "has", "will",
          "would", "could", "need", "might", "was", "were"}
_ASKS_PROHIBITED = re.compile(r"\b(verboden|verbod|illegaal|prohibited|banned|forbidden|illegal)\b", re.I)
_ASKS_OBLIGATION = re.compile(
    r"\b(moet|moeten|hoef|hoeft|hoeven|verplicht\w*|dient|dienen|must|requires?|required|obliges?|obliged|"
    r"obligation|need\s+to|need|needs|"
    r"needs\s+to|have\s+to|has\s+to|should|shall)\b", re.I)
# "Mag ik een chatbot gebruiken zonder dat te melden?", "Can we ... without telling ...?": leave a duty undone
_ASKS_SKIP = re.compile(r"\b(zonder|without)\b", re.I)
_ASKS_PERMISSION = re.compile(
    r"\b(mag|mogen|toegestaan|toegelaten|kan|kunnen|legaal|allowed|permitted|may|can|legal|lawful)\b", re.I)


def asks_may(question: str) -> bool:
    """A yes/no question whether something is allowed or banned ("Mag ik ...?", "Is X verboden?"),
    not whether it is required."""
    q = _question_sentence(question)
    return question_kind(question) == "yesno" and not _ASKS_OBLIGATION.search(q) and bool(
        _ASKS_PERMISSION.search(q) or _ASKS_PROHIBITED.search(q))


def question_kind(question: str) -> str:
    """"yesno", "date", "amount", "who" (who must / which undertakings may), "choice" (the higher
    or the lower), or "" (an open question: what, which, how)."""
    qs = _Q_SENT.findall(question)
    q = (qs[-1] if qs else question).strip()
    if _CHOICE_Q.search(q):
        return "choice"
    if _WHO_Q.search(q):
        return "who"
    words = re.findall(r"[^\W\d_]+", q.lower())
    while words and words[0] in ("en", "dus", "maar", "and", "so", "but", "ok", "oké", "also", "ook"):
        words = words[1:]
    yesno = bool(words) and (words[0] in _YN_NL or words[0] in _YN_EN)
    lead = _LEADING_CLAUSE.match(q)  # "When we register X, must we still ...?": the main clause asks
    if lead:
        main = re.findall(r"[^\W\d_]+", q[lead.end():].lower())
        if main and (main[0] in _YN_NL or main[0] in _YN_EN):
            return "yesno"
    if yesno and _THEN_WHEN.search(q):  # "Is X banned, and since when?": yes or no first
        return "yesno"
    if _AMOUNT_Q.search(q):
        return "amount"
    date = _DATE_Q.search(q)
    # "Do I have to inform my staff when I use ...?": a bare "when" after a yes/no opener is a
    # conjunction, not the question
    if date and not (yesno and date.group(0).lower() in ("when", "wanneer") and re.search(r"\w", q[date.end():])):
        return "date"
    return "yesno" if yesno else ""


def _question_sentence(question: str) -> str:
    qs = _Q_SENT.findall(question)
    return (qs[-1] if qs else question).strip()


# the rule's scope: "Deze verordening is niet van toepassing op ...", "This Regulation does not apply to ..."
_ASKS_SCOPE = re.compile(
    r"\b(van\s+toepassing|valt|vallen|onder\s+de\s+(ai-)?verordening|geldt|gelden|apply|applies|"
    r"fall\s+(under|within)|falls\s+(under|within)|covered|subject\s+to)\b", re.I)
_NOT_APPLY = re.compile(
    r"\b(is|zijn|blijft|blijven)\s+niet\s+van\s+toepassing\s+op|\bniet\s+van\s+toepassing\s+(is|zijn)\s+op|"
    r"\b(does|do|shall)\s+not\s+apply\s+to|\bvalt\s+niet\s+onder|\bvallen\s+niet\s+onder|"
    r"\bfalls?\s+outside\s+the\s+scope", re.I)
_ONLY_APPLY = re.compile(
    r"\b(alleen|slechts|uitsluitend)\s+van\s+toepassing\b|\bvan\s+toepassing\b[^.;]{0,40}\b(alleen|slechts|"
    r"uitsluitend)\b|\b(shall\s+)?only\s+apply\b|\bappl(y|ies)\s+only\b", re.I)
_OWN_SCOPE = re.compile(r"\b(deze|dit|this|that|die|dat)\s+(verordening|regulation|regeling|richtlijn|directive|act|"
                        r"artikel|article|hoofdstuk|chapter|afdeling|section|verplichting|obligation|verbod|"
                        r"prohibition|lid|paragraph)\b", re.I)
_APPLY = re.compile(r"\b(is|zijn)\s+van\s+toepassing\s+op\b|\b(shall\s+apply|applies)\s+to\b", re.I)
_IF = re.compile(r"\b(indien|als|wanneer|mits|if|where|provided\s+that)\b", re.I)
# "X kunnen ... op vereenvoudigde wijze verstrekken", "SMEs may provide ...": a permission
_MAY = re.compile(r"\b(kan|kunnen|may|can)\b(?!\s+(niet|geen|not)\b)", re.I)
_MAY_NOT = re.compile(r"\b(kan|kunnen)\s+(\w+\s+){0,3}?(niet|geen)\b|\b(cannot|can't|may\s+not|can\s+not)\b", re.I)


# conditions to be met are no duty of anyone: "moeten ... alle volgende voorwaarden zijn vervuld:",
# "all the following conditions shall be met:" (the conditions of a permission, Article 10(5))
_CONDITIONS_MET = re.compile(r"\b(voorwaarden|conditions|requirements)\b[^.;:]{0,60}?\b(zijn\s+vervuld|vervuld\s+zijn|"
                             r"worden\s+vervuld|vervuld|shall\s+be\s+(met|fulfilled)|must\s+be\s+(met|fulfilled)|are\s+met)\b",
                             re.I)
# a legal fiction is no duty: "shall be considered to be high-risk", "wordt geacht ... te hebben"
_DEEMED = re.compile(r"\b(shall|must)\s+(\w+\s+)?be\s+(considered|deemed|regarded|presumed)\b", re.I)


_PERMIT_AS_CONDITION = re.compile(
    r"\b(in\s+so\s+far\s+as|insofar\s+as|voor\s+zover|where|if|indien|als|wanneer|die|dat|which|that)\b[^:;]{0,80}?"
    r"\b(permitted|allowed|toegestaan|toegelaten)\b", re.I)


# a right: "heeft het recht om ... te verkrijgen", "shall have the right to obtain"
_ASKS_RIGHT = re.compile(r"\b(recht\s+op|recht\s+om|right\s+to|entitled\s+to)\b", re.I)
_RIGHT = re.compile(r"\b(heeft|hebben)\s+(het\s+)?recht\b|\b(has|have|shall\s+have)\s+the\s+right\b|"
                    r"\b(is|are)\s+entitled\b", re.I)
_NO_RIGHT = re.compile(r"\b(heeft|hebben)\s+geen\s+recht\b|\b(has|have)\s+no\s+right\b|"
                       r"\b(is|are)\s+not\s+entitled\b", re.I)
# a provision struck out: "Bijlage VIII, afdeling B, punt 7: geschrapt / deleted."
_DELETED = re.compile(r"^[^.;]{0,80}?:?\s*(geschrapt|vervallen|deleted|repealed)(\s*/\s*(geschrapt|deleted))?\W*$", re.I)


# who a yes/no question asks a duty of: "Moet [mijn personeel] ...?", "Must [an importer] ...?"
_ASKED_SUBJECT = re.compile(r"^\W*(?:moet|moeten|hoeft|hoeven|dient|dienen|must|shall|should)\s+"
                            r"(?:(?:mijn|onze|ons|uw|je|jouw|de|het|een|my|our|your|the|a|an)\s+)?([^\W\d_][\w-]*)", re.I)
# "Does the AI Act require [my employees] to ...?", "Verplicht de AI-verordening [mijn personeel] tot ...?"
_ASKED_REQUIRED = re.compile(r"\b(?:requires?|obliges?|verplicht)\s+(?:(?:mijn|onze|ons|uw|je|jouw|de|het|een|my|our|"
                             r"your|the|a|an)\s+)?([^\W\d_][\w-]*)\s+(?:to|om|tot)\b", re.I)
_PASSIVE = re.compile(r"\bbe\s+(\w+\s+)?\w+(ed|en|wn|ld|nt)\b|\b(worden|wordt)\b", re.I)
_ARTICLES = {"de", "het", "een", "the", "a", "an", "mijn", "onze", "uw", "my", "our", "your"}
_PRONOUNS = {"ik", "we", "wij", "je", "jij", "u", "jullie", "men", "i", "you", "they", "it", "het", "dat", "dit", "er",
             "ze", "zij", "hij", "he", "she", "one", "there", "this", "that"}


def _asked_party(question: str) -> str:
    """The party a yes/no question asks a duty of: "mijn personeel" in "Moet mijn personeel ...?",
    "my employees" in "Does the AI Act require my employees to ...?"; "" for none (a pronoun, or a
    passive question: "Must a news text be disclosed?" names what the duty is about)."""
    m = _ASKED_SUBJECT.match(question)
    if m and _PASSIVE.search(question):
        return ""
    m = m or _ASKED_REQUIRED.search(question)
    return m.group(1) if m and m.group(1).lower() not in _PRONOUNS else ""


def _duty_of_another(question: str, quote: str, context: str = "") -> bool:
    """The quote lays its duty on a party the question does not ask about: the question asks a
    duty of a named party ("mijn personeel") that the quote's duty-bearers ("Aanbieders en
    gebruiksverantwoordelijken") do not include."""
    asked_word = _asked_party(question)
    if not asked_word:
        return False
    bearer = None
    for text in (quote, context):
        verb = _RULE_VERB.search(text)
        bearer = _ACTORS.search(text, 0, verb.start() if verb else len(text)) or _ACTORS.search(text)
        if bearer:
            break
    if not bearer:
        return False
    asked, bears = meaning.roles(asked_word), meaning.roles(bearer.group(0))
    if asked and bears:  # "Must a deployer ...?" on "Gebruiksverantwoordelijken ... maken bekend"
        return not (asked & bears)
    return not (meaning.stems(asked_word) & meaning.stems(bearer.group(0)))


def _duty_towards_asked(question: str, quote: str) -> bool:
    """The quote's duty-bearers act on the very party the question asks a duty of: "Moet mijn
    personeel een training volgen?" on "Aanbieders en gebruiksverantwoordelijken nemen maatregelen
    ... AI-geletterdheid van hun personeel": the law asks it of the employer, not of the staff."""
    asked_word = _asked_party(question)
    verb = _DUTY_VERB.search(quote) or _RULE_VERB.search(quote)
    if not asked_word or not verb:
        return False
    after = quote[verb.end():]
    asked = meaning.roles(asked_word)
    return bool(asked & meaning.roles(after)) if asked else bool(meaning.stems(asked_word) & meaning.stems(after))


_ASKED_MAY = re.compile(r"^\W*(?:mag|mogen|kan|kunnen|may|can)\s+((?:[^\W\d_][\w'’-]*\s+){1,3})", re.I)
_AUTHORITY = re.compile(r"\b(commissie|commission|ai-bureau|ai\s+office|lidstaten|member\s+states?|autoriteit\w*|"
                        r"authorit(y|ies)|instanties?|bod(y|ies)|board|raad|council)\b", re.I)


def _may_of_another(question: str, quote: str) -> bool:
    """The quote's "kan / may" is another party's: the Commission's "kan ... opleggen" does not
    answer "Mag ik ...?", nor the authorities' power a question about providers. Its bearers are
    the parties named just before or after the modal."""
    may = _MAY.search(quote)
    if not may:
        return False
    window = quote[max(0, may.start() - 100): may.end() + 40]
    bearers = meaning.roles(" ".join(m.group(0) for m in _ACTOR_ONE.finditer(window)))
    if not bearers:
        return False
    asked = _ASKED_MAY.match(question)
    words = asked.group(1).split() if asked else []
    if not words or words[0].lower() in _PRONOUNS:  # "Mag ik ...?": a user, not an authority
        return bearers <= {"commission", "office", "states", "authority"}
    named = meaning.roles(" ".join(words))
    return bool(named) and not (named & bearers)


def _may_permits(question: str, quote: str) -> bool:
    """A "kan / may" that grants a party a permission: a party (one the act names, or the one the
    question asks about) is named just before or after the modal ("SMEs may provide ...", "kan de
    gebruiksverantwoordelijke ..."). Without one it is most often a possibility, not a
    permission: "A score may lead to detrimental treatment"."""
    if _MAY_NOT.search(quote):
        return False
    return _party_at(question, quote, _MAY)


_DUTY_VERB = re.compile(r"\b(shall|must|moet|moeten|dient|dienen|zorgt|zorgen|nemen|neemt)\b", re.I)


def _party_at(question: str, quote: str, modal: re.Pattern[str]) -> bool:
    """A party (one the act names, or the one the question asks about) is named just before or
    after the first ``modal`` of the quote: the modal is that party's permission or duty."""
    m = modal.search(quote)
    if not m:
        return False
    window = quote[max(0, m.start() - 80): m.end() + 40]
    if _ACTOR_ONE.search(window):
        return True
    asked = _ASKED_MAY.match(question)
    words = [w for w in (asked.group(1).split() if asked else [])
             if w.lower() not in _PRONOUNS and w.lower() not in _ARTICLES]
    return bool(words) and all(re.search(rf"\b{re.escape(w)}", window, re.I) for w in words[:2])


def derive_scope(question: str, quote: str) -> str:
    """Does the act (or a rule) apply? From a quote that says what it does (not) apply to:
    "is niet van toepassing op" gives "no", "is alleen van toepassing op ... indien" "no-unless"
    (no, except in the case it names), "is van toepassing op" "yes"; "" otherwise."""
    if not _ASKS_SCOPE.search(question):
        return ""
    if _NOT_APPLY.search(quote):
        return "no"
    only, applies = _ONLY_APPLY.search(quote), _APPLY.search(quote)
    m = only or applies
    # its subject must be this act or rule: "Verordening (EU) 2019/1020 is van toepassing op ..." is another act's
    if not m or not _OWN_SCOPE.search(quote, max(0, m.start() - 60), m.start() + 1):
        return ""
    if only:
        return "no-unless" if _IF.search(quote) else "yes-if"
    if applies and not meaning.NEGATION.search(quote):
        listed = quote.rstrip().endswith(":")  # "is van toepassing op:" and a list of the cases
        return "yes-if" if listed or meaning.EXCEPTION.search(quote) else "yes"
    return ""


# an exception to a rule stated elsewhere: "Deze verplichting is niet van toepassing op ...", "The
# obligations referred to in paragraph 1 shall not apply to ...", "Lid 1 is niet van toepassing"
_EXCEPTS_ANOTHER = re.compile(
    r"^\W*(?:(?:deze|die|dit|dat|de\s+in\s+[^.;]{1,40}?\s+(?:bedoelde|genoemde|vastgestelde)|het\s+in\s+[^.;]{1,40}?"
    r"\s+(?:bedoelde|genoemde)|this|that|these|those|the)\s+(?:\w+\s+)?(?:verplichting\w*|verbod|eis|eisen|vereiste\w*|"
    r"obligations?|prohibitions?|requirements?|duty|duties)\b|(?:lid|alinea|paragraph|subparagraph|the\s+first\s+"
    r"subparagraph|de\s+eerste\s+alinea)\s*\d*\b)[^.;]{0,120}?\b(?:(?:is|zijn|geldt|gelden)\s+niet(?:\s+van\s+toepassing)?|"
    r"(?:shall|does|do)\s+not\s+apply)\b", re.I)


def _excepted(question: str, quote: str) -> str | None:
    """For a quote that excepts cases from a duty or ban stated in another sentence: "no" when
    the question asks that duty or ban of the excepted case (it shares at least CLASSIFY_MIN of
    its own words with it), "" (no verdict) when it asks of another case, None for other quotes.
    "Moet ik mijn personeel informeren ...?" on Article 50(3)'s "Deze verplichting is niet van
    toepassing op ... systemen die bij wet zijn toegestaan om strafbare feiten op te sporen":
    whether the duty asked about exists is not said here."""
    m = _EXCEPTS_ANOTHER.match(quote)
    if not m:
        return None
    if _shared_words(question, quote[m.end():]) < CLASSIFY_MIN:  # the case: described anywhere in the question
        return ""
    q = _question_sentence(question)
    return "no" if (_ASKS_OBLIGATION.search(q) or _ASKS_PROHIBITED.search(q)) else None


def derive_yesno(question: str, quote: str, context: str = "") -> str:
    """The yes/no verdict ``quote`` (with its lead-in ``context``) gives to ``question``, from
    their deontic words; "" when it cannot be told. The lead-in lends its prohibition or duty
    ("The following AI practices shall be prohibited:") but not a permission: "in so far as their
    use is permitted" is a condition of the list, not an answer."""
    q = _question_sentence(question)
    excepted = _excepted(question, quote)
    if excepted is not None:
        return excepted
    derogation = derive_derogation(question, quote, context)  # before "shall be considered" is read away
    if derogation:
        return derogation
    quote, context = _DEEMED.sub(" ", quote), _DEEMED.sub(" ", context)
    own = meaning.polarity(quote)
    ctx = meaning.polarity(context) if context.strip() else None
    exc = own.exception
    prohibited = own.prohibited or bool(ctx and ctx.prohibited and not ctx.not_prohibited)
    prohibits = prohibited and not own.not_prohibited
    may = _may_permits(q, quote)
    # "Biometrie, voor zover het gebruik ervan is toegestaan ...", "systemen die bij wet zijn
    # toegestaan om ...": a condition or a description of what the rule is about, not a permission
    permits = own.not_prohibited or (own.allowed and not prohibited and not _PERMIT_AS_CONDITION.search(quote))
    # "... mogen aanbieders ... verwerken, mits aan alle volgende voorwaarden is voldaan:": the
    # lead-in permits, and the quoted point is one of its conditions
    ctx_permits = bool(ctx and ctx.allowed and not ctx.prohibited and not _PERMIT_AS_CONDITION.search(context))
    obligation = (own.obligation or bool(ctx and ctx.obligation)) and not _CONDITIONS_MET.search(quote)
    special = (derive_cap(q, quote) or derive_listed(question, quote, context) or derive_free(q, quote)
               or derive_reduced(q, quote) or derive_competent(q, quote, context) or derive_instrument(q, quote, context))
    if special:
        return special
    if _ASKS_RIGHT.search(q):
        if _NO_RIGHT.search(quote):
            return "no"
        if _RIGHT.search(quote):
            return "yes-if" if exc else "yes"
    if _DELETED.match(quote) and _ASKS_OBLIGATION.search(q):
        return "no"  # the provision that laid the duty down has been deleted
    if _ASKS_PROHIBITED.search(q):
        if prohibits and not _shared_words(question, f"{context} {quote}"):
            return ""  # a ban of something the question does not name ("the prohibitions in Article 5(1)(a) ...")
        if prohibits:
            return "yes-if" if exc else "yes"
        if permits:
            return "no"
        return ""
    if _ASKS_OBLIGATION.search(q):
        if own.no_obligation:
            return "no"
        if obligation and _duty_of_another(q, quote, context):
            # "Moet mijn personeel ...?" on "Aanbieders ... nemen maatregelen ... van hun personeel":
            # the duty is the employer's towards them, so no; on a rule about others: no verdict
            return "no" if _duty_towards_asked(q, quote) else ""
        if obligation:
            return "yes-if" if exc else "yes"
        return derive_scope(q, quote)
    if _ASKS_PERMISSION.search(q):
        if prohibits:
            return "no-unless" if exc else "no"
        if _ASKS_SKIP.search(q) and own.obligation and not own.no_obligation and _party_at(q, quote, _DUTY_VERB):
            return "no-unless" if exc else "no"  # may it be done without what a party must do: no
        if permits:
            return "yes-if" if (exc or own.obligation) else "yes"
        if may and not prohibited and not _may_of_another(q, quote):  # "kan de gebruiksverantwoordelijke ..."
            return "yes-if" if exc else "yes"
        if own.obligation and _party_at(q, quote, _DUTY_VERB):  # a party's duty to do it (not its list's)
            return "yes-if"
        if ctx_permits and not prohibited:
            return "yes-if"
    return derive_scope(q, quote)


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


# who a rule binds or entitles (the parties of the AI Act and the bodies that apply it)
_ACTOR = (r"(?:de\s+|het\s+|the\s+)?(?:aanbieders?|gebruiksverantwoordelijken?|importeurs?|distributeurs?|"
          r"gemachtigden?|exploitanten?|operatoren?|Commissie|AI-bureau|lidstaten|markttoezichtautoriteit(?:en)?|"
          r"(?:nationale\s+)?bevoegde\s+autoriteit(?:en)?|aangemelde\s+instanties?|AI-board|kmo['’]s|kmo|"
          r"kleine\s+midcapondernemingen|overheidsinstanties|"
          r"providers?|deployers?|importers?|distributors?|authori[sz]ed\s+representatives?|operators?|Commission|"
          r"AI\s+Office|Member\s+States?|market\s+surveillance\s+authorit(?:y|ies)|"
          r"(?:national\s+)?competent\s+authorit(?:y|ies)|notified\s+bod(?:y|ies)|Board|SMEs?|"
          r"small\s+mid-caps?(?:\s+(?:enterprises|companies))?|public\s+authorities)\b")
_ACTORS = re.compile(rf"\b{_ACTOR}(?:(?:\s*,\s*|\s+)(?:of|en|or|and)(?:\s*,?\s*(?:where\s+applicable|"
                     rf"in\s+voorkomend\s+geval),?)?\s+{_ACTOR})*", re.I)
_ACTOR_ONE = re.compile(rf"\b{_ACTOR}", re.I)
_RULE_VERB = re.compile(r"\b(shall|must|may|can|is\s+required|are\s+required|moet|moeten|mag|mogen|kan|kunnen|"
                        r"dient|dienen)\b", re.I)
WHO_COVERAGE = 0.5  # share of the question's words the quote must hold for its subject to answer "who"


_WH_WORDS = {"wie", "who", "welk", "welke", "which", "hoeveel", "how", "much", "many", "lang", "long"}


def coverage(question: str, text: str) -> float:
    """Share of the question's content words (stemmed both ways) that ``text`` holds."""
    q = meaning.stems(_question_sentence(question)) - _WH_WORDS
    return len(q & meaning.stems(text)) / len(q) if q else 0.0


_TO_WHOM_Q = re.compile(r"^\W*((bij|aan|naar|tot)\s+(wie|welke)|to\s+(whom|which))\b", re.I)
_TO_ACTOR = re.compile(rf"\b(?:aan|bij|to)\s+({_ACTOR})", re.I)


def derive_who(question: str, quote: str, context: str = "") -> str:
    """Who a rule binds: the parties named as the subject of the quote ("the provider or, where
    applicable, the authorised representative shall register ..." gives "the provider or, where
    applicable, the authorised representative"), the lead-in's when the quote is a point of its
    list; for "to whom" ("Bij wie moeten we een ernstig incident melden?") the party the quote
    addresses ("melden aanbieders ... elk ernstig incident aan het AI-bureau"); "" when the quote
    does not speak to the question or names no party."""
    if coverage(question, f"{context} {quote}") < WHO_COVERAGE:
        return ""
    if _TO_WHOM_Q.match(_question_sentence(question)):
        m = _TO_ACTOR.search(quote)
        return " ".join(m.group(1).split()) if m else ""
    for text in (quote, context):
        verb = _RULE_VERB.search(text)
        head = text[: verb.start()] if verb and text is quote and verb.start() > 0 else text
        m = _ACTORS.search(head) or _ACTORS.search(text)
        if m:
            return " ".join(m.group(0).split())
    return ""


_NUM_WORDS = {"een": 1, "één": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6, "zeven": 7, "acht": 8,
              "negen": 9, "tien": 10, "twaalf": 12, "vijftien": 15, "dertig": 30, "one": 1, "two": 2,
              "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
              "twelve": 12, "fifteen": 15, "thirty": 30}
_UNITS = (r"(?:werk)?dagen|dag|(?:working\s+)?days?|maanden|maand|months?|jaren|jaar|years?|weken|week|weeks?|"
          r"uur|uren|hours?|kalenderdagen|calendar\s+days")
QUANTITY = re.compile(rf"\b(\d+|{'|'.join(_NUM_WORDS)})\s+({_UNITS})\b|\b10\s?\^\s?\d+\b|\b10\d{{2}}\b(?=\s|$|[.,;])",
                      re.I)
_DEROGATION = re.compile(r"^\W*\w?\W*(niettegenstaande|in\s+afwijking\s+van|notwithstanding|by\s+way\s+of\s+derogation|"
                         r"by\s+derogation)\b", re.I)


def derive_quantity(quote: str) -> str:
    """A period or threshold the quote names: "zes maanden" gives "6 maanden", "10^25"."""
    m = QUANTITY.search(quote)
    if not m:
        return ""
    if m.group(1):
        n = m.group(1).lower()
        return f"{_NUM_WORDS.get(n, n)} {' '.join(m.group(2).split())}"
    return m.group(0).replace(" ", "")


_ASKS_PERIOD = re.compile(
    r"\b(hoe\s+lang|how\s+long|binnen\s+hoeveel|within\s+how\s+many|hoeveel\s+(dagen|maanden|jaar|jaren|weken|uur)|"
    r"how\s+many\s+(days|months|years|weeks|hours)|binnen\s+welke\s+termijn|within\s+what\s+period|"
    r"welke\s+hoeveelheid|what\s+amount\s+of|which\s+amount\s+of|boven\s+welke|above\s+what|drempel|threshold)\b",
    re.I)
_QUALIFIERS = (r"meer\s+dan|minder\s+dan|ten\s+minste|minstens|ten\s+hoogste|maximaal|hoogstens|bijna|ongeveer|"
               r"circa|ruim|more\s+than|less\s+than|fewer\s+than|at\s+least|at\s+most|up\s+to|nearly|almost|"
               r"about|around|over|under")
_COUNTED = re.compile(r"\b(?:hoeveel|how\s+many)\s+([^\W\d_]{3,})", re.I)


def derive_measure(question: str, quote: str, lang: Lang) -> str:
    """What a "how much / how long / how many" question asks, from the quote: a period or
    threshold for "hoe lang", "binnen hoeveel dagen", "boven welke hoeveelheid"; the number of
    what is counted for "hoeveel medewerkers" ("140 medewerkers"); else the sums of money and
    percentages (a fine)."""
    q = _question_sentence(question)
    if _ASKS_PERIOD.search(q):
        return derive_quantity(quote)
    counted = _COUNTED.search(q)
    if counted and not re.match(r"(boete|fine|geld|money|kost|cost|bedrag|amount)", counted.group(1), re.I):
        stem = counted.group(1).lower()[:5]
        # with its qualifier: "meer dan 140 medewerkers" is not "140 medewerkers"
        m = re.search(rf"(?:\b(?:{_QUALIFIERS})\s+)?\b(\d[\d .,\u00a0\u202f]*\d|\d)\s+({re.escape(stem)}\w*)",
                      quote, re.I)
        return " ".join(m.group(0).split()) if m else ""
    return derive_amount(quote, lang)


def _settles(quote: str) -> str:
    """"lower" or "higher": which of two amounts the quote keeps ("whichever is lower", "indien
    deze lager zijn"); "" for neither."""
    if meaning.LOWER.search(quote) or re.search(r"\b(indien|als)\s+(dat|deze|die)\s+lager\s+(is|zijn)\b", quote, re.I):
        return "lower"
    if meaning.HIGHER.search(quote) or re.search(r"\b(indien|als)\s+(dat|deze|die)\s+hoger\s+(is|zijn)\b", quote, re.I):
        return "higher"
    return ""


def derive_choice(question: str, quote: str, lang: Lang) -> str:
    """The higher or the lower of two amounts, as the quote settles it."""
    kept = _settles(quote)
    if not kept:
        return ""
    return {"lower": {"nl": "Het laagste", "en": "The lower"}, "higher": {"nl": "Het hoogste", "en": "The higher"}}[kept][lang]


_ASKS_HIGH_RISK = re.compile(r"\b(hoog[- ]?risico\w*|high[- ]risk)\b", re.I)
# Annex III's lead-in: "High-risk AI systems pursuant to Article 6(2) are the AI systems listed in ..."
_LISTS_HIGH_RISK = re.compile(r"\b(high-risk\s+AI\s+systems|AI-systemen\s+met\s+een\s+hoog\s+risico)\b[^.:]{0,60}?"
                              r"\b(are\s+the\s+AI\s+systems\s+listed|zijn\s+de\s+vermelde\s+AI-systemen)\b", re.I)
_GENERIC = frozenset({"ai", "ai-systeem", "ai-systemen", "systeem", "systemen", "system", "systems", "hoog", "risico",
                      "hoog-risico", "high", "risk", "high-risk", "softwar", "software", "tool", "app", "apps",
                      "natuurlijk", "natuurlijke", "person", "personen", "persons", "natural", "gebruik", "bruik",
                      "use", "used", "using", "bijlag", "bijlage", "annex", "iii", "act", "verorden", "verordening",
                      "ai-verordening", "regul", "regulation"})
# "Is/Are/Valt X ... high-risk?": the question asks what X is (not "Can X avoid high-risk status?")
_ASKS_WHAT_IT_IS = re.compile(r"^\W*(is|are|zijn|valt|vallen|geldt|gelden|telt|tellen|wordt|worden|does|do|would)\b",
                              re.I)
_LIST_EXCLUDES = re.compile(r"\b(this\s+(shall\s+|does\s+)?not\s+include|with\s+the\s+exception\s+of|"
                            r"hieronder\s+vallen\s+geen|dit\s+omvat\s+geen|met\s+uitzondering\s+van)\b", re.I)
CLASSIFY_MIN = 2  # the question's own words (not "AI", "system", "high-risk") the listed point must share


def derive_listed(question: str, quote: str, context: str) -> str:
    """Is the question's system high-risk? "yes-if" (Article 6(3) may still lift it) when the quote
    is a point of Annex III's list that shares at least CLASSIFY_MIN of the question's own words
    ("a CV-screening tool that ranks job applicants" and "filter job applications"); a single
    shared word is not enough ("spam filter" and "filter job applications")."""
    q = _question_sentence(question)
    if not (_ASKS_HIGH_RISK.search(q) and _ASKS_WHAT_IT_IS.match(q) and _LISTS_HIGH_RISK.search(context)):
        return ""
    # "This does not include AI systems ... such as tools used to organise ... political campaigns from
    # an administrative or logistical point of view": a system of the excluded kind is not listed
    # (the system is described in the whole question: "We sell a tool that ... Is it high-risk?")
    excluded = _LIST_EXCLUDES.search(quote)
    if excluded and _shared_words(question, quote[excluded.start():]) >= CLASSIFY_MIN:
        return "no"
    listed = quote[:excluded.start()] if excluded else quote
    return "yes-if" if _shared_words(question, listed) >= CLASSIFY_MIN else ""


# Article 6(3): "an AI system referred to in Annex III shall not be considered to be high-risk where ...",
# and its exception to the exception "shall always be considered to be high-risk where ... profiling"
_NOT_HIGH_LEAD = re.compile(r"\bshall\s+not\s+be\s+considered\s+(to\s+be\s+)?high-risk\b|"
                            r"\bniet\s+als\s+(een\s+)?AI-systeem\s+met\s+een\s+hoog\s+risico\s+beschouwd\b", re.I)
_ALWAYS_HIGH = re.compile(r"\b(?:shall\s+always\s+be\s+considered\s+(?:to\s+be\s+)?high-risk|altijd\s+als\s+(?:een\s+)?"
                          r"AI-systeem\s+met\s+een\s+hoog\s+risico\s+beschouwd)\s+(?:where|if|indien|wanneer)\s+"
                          r"(?P<cond>[^.;]+)", re.I)
_ASKS_AVOID = re.compile(r"\b(avoid|escape|exempt\w*|ontkom\w*|ontsnap\w*|ontlopen|vermijden|ontsnappen)\b", re.I)
_DENIED = re.compile(r"\b(geen|niet|no|not|without|zonder|never|nooit)\s+(\w+\s+){0,2}$", re.I)


def asks_high_risk(question: str) -> bool:
    """A yes/no question whether a system is high-risk, or can avoid being so."""
    q = _question_sentence(question)
    return question_kind(question) == "yesno" and bool(_ASKS_HIGH_RISK.search(q)) and bool(
        _ASKS_WHAT_IT_IS.match(q) or _ASKS_AVOID.search(q))


def derive_derogation(question: str, quote: str, context: str) -> str:
    """Is an Annex III system high-risk, or can it avoid being so, under a derogation from the list?
    From "shall always be considered to be high-risk where <case>" when the question's system is
    that case (not denied: "maakt geen profielen"): high-risk ("no" to avoiding it); from a
    condition of the derogation ("the AI system is intended to perform a narrow procedural task",
    read with its lead-in "... shall not be considered to be high-risk where ...") that the
    question's system meets (CLASSIFY_MIN shared words): not high-risk, unless it is that case."""
    q = _question_sentence(question)
    if not _ASKS_HIGH_RISK.search(q):
        return ""
    avoid = bool(_ASKS_AVOID.search(q))
    if not (avoid or _ASKS_WHAT_IT_IS.match(q)):
        return ""
    always = _ALWAYS_HIGH.search(quote)
    if always:
        cond = always.group("cond")
        hits = [m for m in re.finditer(r"[^\W\d_][\w'’-]*", question) if _shared_words(m.group(0), cond)]
        if any(not _DENIED.search(question[:m.start()]) for m in hits):
            return "no" if avoid else "yes"
        return ""
    if _NOT_HIGH_LEAD.search(context) and _shared_words(question, quote) >= CLASSIFY_MIN:
        return "yes-if" if avoid else "no"
    return ""


def _shared_words(question: str, text: str) -> int:
    """How many of the question's own words (not "AI", "system", "high-risk") ``text`` holds: the
    same stem, or, for long words, the same head (meaning.word_head)."""
    theirs = meaning.stems(text)
    heads = {meaning.word_head(t) for t in theirs} - {""}
    n = 0
    for word in dict.fromkeys(re.findall(r"[^\W\d_][\w'’-]*", question.lower())):
        own = meaning.stems(word)  # its Dutch and English stems: one word, counted once
        if own and not own & _GENERIC and any(w in theirs or meaning.word_head(w) in heads for w in own):
            n += 1
    return n


_ASKS_REDUCED = re.compile(r"\b(korting\w*|discounts?|goedkoper|cheaper|verlaagd\w*|reduced|reductions?)\b", re.I)
_REDUCED = re.compile(r"\b(verlaagd|verlaagt|verlagen|verlaging|reduc(?:e|es|ed|ing|tion))\b", re.I)


def derive_reduced(question: str, quote: str) -> str:
    """"Krijgen kmo's korting op de vergoeding voor een conformiteitsbeoordeling?" on "... bij het
    bepalen van de vergoedingen ..., waarbij die vergoedingen evenredig worden verlaagd": yes."""
    return "yes" if _ASKS_REDUCED.search(question) and _REDUCED.search(quote) and not meaning.NEGATION.search(quote) else ""


def derive_free(question: str, quote: str) -> str:
    """"Hebben kmo's gratis toegang tot ...?" on "de toegang ... voor kmo's ... kosteloos is,
    onverminderd uitzonderlijke kosten die ... mogen verhalen": yes, under its condition."""
    if not (meaning.FREE.search(question) and meaning.FREE.search(quote)) or meaning.NOT_FREE.search(quote):
        return ""
    return "yes-if" if (meaning.WITHOUT_PREJUDICE.search(quote) or meaning.EXCEPTION.search(quote)) else "yes"


# "Komt er (nog) een uitvoeringshandeling ...?", "Will the Commission adopt an implementing act ...?"
_ASKS_ADOPTED = re.compile(r"\b(komt\s+er|komen\s+er|stelt\s+(de\s+commissie\s+)?\w*\s*(een|nog)|vastgesteld|"
                           r"will\s+there\s+be|is\s+there\s+(going\s+to\s+be|to\s+be)|adopts?\b|adopted|issue\w*)\b",
                           re.I)


def derive_instrument(question: str, quote: str, context: str) -> str:
    """"Komt er nog een uitvoeringshandeling met een model voor het plan ...?" on "De Commissie stelt
    ... richtsnoeren vast, met inbegrip van een model, voor het plan ...": the act provides for
    another kind of act for the same thing (the omnibus turned several implementing acts into
    guidelines), so no. The question must name one kind (meaning.INSTRUMENTS) and ask whether it
    comes, and share CLASSIFY_MIN of its own words with the quote."""
    asked = meaning.instruments(question)
    if len(asked) != 1 or not _ASKS_ADOPTED.search(question):
        return ""
    provided = meaning.instruments(f"{context} {quote}")
    if not provided or asked <= provided:
        return ""
    return "no" if _shared_words(question, quote) >= CLASSIFY_MIN else ""


_ASKS_COMPETENT = re.compile(r"\b(bevoegd\w*|competent|competence|supervis\w*|toezicht\w*|responsible|"
                             r"verantwoordelijk\w*|in\s+charge)\b", re.I)
_COMPETENT = re.compile(r"\b(?:(?:is|zijn|shall\s+be|is\s+to\s+be)\s+(?P<neg>niet\s+|not\s+)?(?:exclusief\s+|exclusively\s+)?"
                        r"(?:bevoegd|competent|responsible|verantwoordelijk)|heeft\s+(?:exclusieve\s+)?bevoegdhe\w+|"
                        r"has\s+(?:exclusive\s+)?(?:competence|powers?))\b", re.I)
_AUTHORITIES = frozenset({"office", "commission", "states", "authority"})


def derive_competent(question: str, quote: str, context: str) -> str:
    """"Is the AI Office the supervisor for X?" on "Het AI-bureau is exclusief bevoegd voor het
    toezicht op ... de volgende AI-systemen: a) X": yes, for the cases the rule lists (yes-if).
    Only when the quote makes the authority asked about competent: another authority's
    competence says nothing of it."""
    if not _ASKS_COMPETENT.search(question):
        return ""
    asked = meaning.roles(question) & _AUTHORITIES
    text = f"{context} {quote}".strip()
    m = _COMPETENT.search(text)
    if not asked or not m or not (meaning.roles(text[max(0, m.start() - 80):m.start()]) & asked):
        return ""
    if m.group("neg"):
        return "no"
    return "yes-if" if (text.endswith(":") or context or meaning.EXCEPTION.search(text)) else "yes"


_ASKS_LOWER = re.compile(r"\b(lower|lowest|lager\w*|laagst\w*)\b", re.I)
_ASKS_HIGHER = re.compile(r"\b(higher|highest|hoger\w*|hoogst\w*)\b", re.I)
_ASKS_FINE = re.compile(r"\b(boete\w*|geldboete\w*|maximumboete\w*|fines?|penalt\w*)\b", re.I)


def derive_cap(question: str, quote: str) -> str:
    """A yes/no question whether a party's fine is the lower (or higher) of amount and percentage
    ("Krijgen kmo's een lagere maximumboete?", "Is the fine for a small mid-cap capped at whichever
    is lower?"): "yes" when the quote sets that party's cap that way, "no" when it keeps the other;
    "" when the question asks no such thing or the quote is about another party."""
    if not _ASKS_FINE.search(question):
        return ""
    asked = "lower" if _ASKS_LOWER.search(question) else "higher" if _ASKS_HIGHER.search(question) else ""
    kept = _settles(quote)
    first = min(((m.start(), role) for role, rx in meaning.ROLES.items() if role in meaning.ACTORS
                 for m in [re.search(rx, question, re.I)] if m), default=None)
    if not asked or not kept or not first or first[1] not in meaning.roles(quote):
        return ""
    return "yes" if asked == kept else "no"


def _value(question: str, kind: str, quote: str, context: str, lang: Lang) -> str:
    if kind == "yesno":
        return derive_yesno(question, quote, context)
    if kind == "amount":
        return derive_measure(question, quote, lang)
    if kind == "date":
        return derive_date(quote)
    if kind == "who":
        return derive_who(question, quote, context)
    if kind == "choice":
        return derive_choice(question, quote, lang)
    return ""


def derive(question: str, kind: str, quotes: Sequence[tuple[str, str]], lang: Lang) -> str:
    """The verdict the first of ``quotes`` ((quote, lead-in), most decisive first) that gives
    one supports; "" when none does. An amount is taken from the quote that speaks most to the
    question (the Commission's fines on model providers, not the fines for prohibited practices),
    and a derogation ("Notwithstanding paragraph 2, in the event of death ...") gives way to
    the rule it departs from when another quote gives a value."""
    found: list[tuple[float, int, str]] = []
    for i, (quote, context) in enumerate(quotes):
        if kind not in ("yesno", "amount", "date", "who", "choice"):
            return ""
        v = _value(question, kind, quote, context, lang)
        if not v:
            continue
        if kind != "amount":
            return v
        derogation = bool(_DEROGATION.search(quote))
        found.append((-1.0 if derogation else coverage(question, f"{context} {quote}"), -i, v))
    if found:
        return max(found)[2]
    return "not-in-sources" if kind == "amount" and unpriced(question, quotes) else ""


# a question that asks for an amount of money: "what does it cost", "how large is the budget"
ASKS_MONEY = re.compile(
    r"\b(kost|kosten|kostte|cost|costs|fee|fees|tarief|tarieven|prijs|price|budget|begroot|salaris|salary|"
    r"subsidie\w*|grants?|hoeveel\s+geld|how\s+much\s+money|how\s+much\s+(does|did|will|is)|investeert|invests?|"
    r"uitgegeven|spent)\b",
    re.IGNORECASE,
)
_FINE = re.compile(r"\b(boete\w*|geldboete\w*|fines?|penalt\w*|sancti\w*)\b", re.I)


def unpriced(question: str, quotes: Sequence[tuple[str, str]]) -> bool:
    """The question asks for an amount of money (not a fine: the act always names those) and none
    of ``quotes`` (the decisive sentences, with their lead-ins) names a sum or says it is free: the
    sources do not say ("How much does it cost to register an AI system in the EU database?" on
    Article 49's duty to register). Stricter than the early refusal (answer.lacks_amount), which a
    passage that merely speaks of costs or fees holds off."""
    q = _question_sentence(question)
    if not ASKS_MONEY.search(q) or _FINE.search(q):
        return False
    return bool(quotes) and not any(meaning.MONEY.search(f"{c} {t}") or meaning.FREE.search(f"{c} {t}") for t, c in quotes)


def contradicts(model: str, derived: str) -> bool:
    """The model's yes/no verdict says the opposite of the quote's, or drops its condition."""
    if not model or not derived:
        return False
    if (model in YES_SIDE and derived in NO_SIDE) or (model in NO_SIDE and derived in YES_SIDE):
        return True
    return derived in ("yes-if", "no-unless") and model in ("yes", "no")


def reconcile(kind: str, model: str, derived: str) -> str:
    """The verdict to show: for a date, amount, party or choice the quote's own; for yes/no the
    model's unless the decisive quote contradicts it (then the quote's); "" for an open question."""
    model = (model or "").strip().lower()
    if kind in ("date", "amount", "who", "choice"):
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
    if verdict not in CODES:  # a date, amount or party: "The provider or ... representative."
        return f"{verdict[:1].upper()}{verdict[1:]}."
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


_OPENS_YES = re.compile(r"^\s*(ja|yes)\s*[,.!]", re.I)
_OPENS_NO = re.compile(r"^\s*(nee|neen|no)\s*[,.!]", re.I)


def against(sentence: str, verdict: str) -> bool:
    """The sentence opens with a yes or no that the verdict line does not give: "Ja," under "Nee"
    (or "Nee, behalve"), "No," under "Yes", or a flat "Ja, X is een hoog-risico AI-systeem" under
    "Ja, onder voorwaarden" that names no condition (the small model drops Article 6(3)'s)."""
    if verdict not in CODES or verdict == "not-in-sources":
        return False
    if _OPENS_YES.match(sentence):
        return verdict in NO_SIDE or (verdict == "yes-if" and not meaning.KEEPS_EXCEPTION.search(sentence))
    if _OPENS_NO.match(sentence):
        return verdict in YES_SIDE or (verdict == "no-unless" and not meaning.KEEPS_EXCEPTION.search(sentence))
    return False


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

def _bare(text: str) -> str:
    """Text reduced to its lower-case words and numbers: "[1]" marks, quotes and punctuation out."""
    return " ".join(re.findall(r"[^\W_]+", re.sub(r"\[\d+\]", " ", text).lower()))


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
        """Check each sentence (``checker.add``); yield what is shown for the kept ones. A
        sentence that opens with a yes or no the verdict line does not give is shown as its quote
        (``checker.demote_last``)."""
        for sent in sentences:
            out = checker.add(sent)
            if not out:
                continue
            head = ""
            if not self.decided:
                ln = self.decide([checker.last] if checker.last[0] else [])
                head = f"{ln}\n\n" if ln else ""
            if against(out, self.verdict):
                out = checker.demote_last("verdict")
                if not out:
                    continue
            piece = head + (" " if self.shown else "") + out
            self.shown += 1
            self.parts.append(piece)
            yield piece

    def tail(self, citations: Sequence[Citation], quoted: set[str]) -> str:
        """The decisive quotes under the sentences, verbatim, one a line; a quote the sentences
        already show word for word (the model copied it, or it stands in for a sentence) is not
        shown twice."""
        shown = _bare(self.text)
        lines = [f"- {c.passage.label}: “{c.quote}” [{c.n}]" for c in citations
                 if c.quote not in quoted and _bare(c.quote) not in shown]
        if not lines or not self.shown:
            return ""
        piece = "\n\n" + "\n".join(lines)
        self.parts.append(piece)
        return piece
