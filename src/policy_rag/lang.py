"""Question language: Dutch or English, Dutch when unsure.

langdetect is unsure on short questions ("Sinds wanneer is sociale scoring verboden?"
gives nl 0.57 / en 0.43), and sometimes says Afrikaans for Dutch. Only the nl and en
probabilities are compared; a few very common function words settle close calls.
"""

from __future__ import annotations

import re
import threading

from .types import Lang

_NL_HINTS = frozenset(
    "de het een en van is zijn wat welke wie wanneer waar hoe mag moet moeten ik mijn wij we onze "
    "niet geen voor met bij op aan als dat dit die ook nog welk kan kunnen wordt worden er "
    "verboden artikel lid bijlage overweging".split()
)
_EN_HINTS = frozenset(
    "the a an and of is are what which who when where how may must i my we our not no for with "
    "at on to as that this these also can could does do be been shall article annex recital".split()
)
_WORD = re.compile(r"[a-zà-ÿ]+")
_lock = threading.Lock()
_seeded = False


def detect_language(text: str, default: Lang = "nl") -> Lang:
    global _seeded
    words = _WORD.findall(text.lower())
    if not words:
        return default
    nl_hint = sum(w in _NL_HINTS for w in words)
    en_hint = sum(w in _EN_HINTS for w in words)
    p_nl = p_en = 0.0
    try:
        from langdetect import DetectorFactory, detect_langs
        from langdetect.lang_detect_exception import LangDetectException

        with _lock:  # langdetect's factory is global state
            if not _seeded:
                DetectorFactory.seed = 0
                _seeded = True
            try:
                for c in detect_langs(text):
                    if c.lang == "nl" or c.lang == "af":  # Afrikaans: short Dutch questions
                        p_nl += c.prob
                    elif c.lang == "en":
                        p_en += c.prob
            except LangDetectException:
                pass
    except ImportError:  # pragma: no cover
        pass
    # function words are strong evidence on short questions
    score_en = p_en + 0.15 * en_hint
    score_nl = p_nl + 0.15 * nl_hint
    if score_en > score_nl + 0.1:
        return "en"
    if score_nl > score_en + 0.1:
        return "nl"
    return default
