import pytest

from policy_rag.lang import detect_language


@pytest.mark.parametrize("q,lang", [
    ("Sinds wanneer is sociale scoring verboden?", "nl"),
    ("Mag ik ChatGPT gebruiken voor sollicitaties?", "nl"),
    ("Wat is een gebruiksverantwoordelijke?", "nl"),
    ("Which practices are prohibited under Article 5?", "en"),
    ("What is a deployer?", "en"),
    ("Is emotion recognition allowed at work?", "en"),
    ("", "nl"),
    ("???", "nl"),
])
def test_detects_nl_and_en_and_prefers_dutch_when_unsure(q, lang):
    assert detect_language(q) == lang
