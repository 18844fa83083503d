import pytest

from policy_rag.retrieve import Retriever, twin_id


def test_twin_id():
    assert twin_id("ai-act/nl/art-5.1.f", "en") == "ai-act/en/art-5.1.f"
    assert twin_id("ai-act/nl/art-5.1~2", "en") == "ai-act/en/art-5.1"


def test_named_provision_goes_first_in_question_language(small_index, fake_embedder, settings):
    r = Retriever(small_index, fake_embedder, settings)
    res = r.search("Wat zegt artikel 26 lid 8?", k=5)
    assert res.provision == "Article 26(8)"
    assert res.hits[0].passage.id == "ai-act/en/art-26.8"  # no Dutch twin in this index


def test_same_provision_counts_once_shown_in_question_language(small_index, fake_embedder, settings):
    r = Retriever(small_index, fake_embedder, settings)
    res = r.search("Is emotieherkenning op de werkplek verboden?", k=8, lang="nl")
    keys = [twin_id(h.passage.id, "en") for h in res.hits]
    assert len(keys) == len(set(keys))
    ids = [h.passage.id for h in res.hits]
    assert "ai-act/nl/art-5.1.f" in ids and "ai-act/en/art-5.1.f" not in ids
    assert r.alternate(small_index.get("ai-act/nl/art-5.1.f")).id == "ai-act/en/art-5.1.f"


def test_guidance_cannot_crowd_out_the_law(small_index, fake_embedder, settings):
    r = Retriever(small_index, fake_embedder, settings)
    res = r.search("emotion recognition workplace prohibition", k=2, lang="en")
    assert any(h.passage.binding for h in res.hits)
    assert sum(not h.passage.binding for h in res.hits) <= 1


def test_unknown_names_and_abbreviations(small_index, fake_embedder, settings):
    from policy_rag.retrieve import expand_query

    r = Retriever(small_index, fake_embedder, settings)
    assert r.unknown_terms("Wat kost een keuring bij TÜV in Nederland?") == ["TÜV"]
    assert r.unknown_terms("Mag ik in Nederland emotieherkenning gebruiken?") == []
    assert r.unknown_terms("Wat zegt Artikel 4 over AI-geletterdheid?") == []
    # where the business is from: the act applies to providers established in a third country
    assert r.unknown_terms("Ons bedrijf zit in Zwitserland en wil AI verkopen.") == []
    assert r.unknown_terms("We are a US company selling AI in the EU.") == []
    assert r.unknown_terms("Onze Amerikaanse leverancier zegt dat het mag.") == []
    # ... but a country's own law is not in the sources
    assert r.unknown_terms("What obligations do China's interim measures impose?") == ["China"]
    assert r.unknown_terms("Wat verplicht de Canadese AI-wetgeving?") == ["Canadese"]
    assert "general-purpose AI model" in expand_query("What must GPAI providers do?")


def test_unknown_names_allow_cognates_and_mostly_known_names(small_index, fake_embedder, settings):
    r = Retriever(small_index, fake_embedder, settings)
    # "Registry" shares "regist" with "registration": a name the other language may spell differently
    assert r.unknown_terms("What does the Registry say about literacy?") == []
    # a name whose other words the sources mostly have ("Literacy", "Registration") is not held against it
    assert r.unknown_terms("What does the Literacy Zephyr Registration do?") == []
    # ... but a name mostly unknown is, and acronyms get no allowance
    assert r.unknown_terms("What did the Zephyr Quantum Literacy Registration decide?") == ["Zephyr", "Quantum"]
    assert r.unknown_terms("What does the Literacy ZQX Registration do?") == ["ZQX"]


def test_a_provision_named_as_the_setting_nudges_its_best_passages_only(fake_embedder, settings):
    """'Wanneer is een systeem uit bijlage III toch geen hoog risico?' is answered by Article 6(3);
    boosting every point of Annex III would bury it under eight annex points."""
    from conftest import make_index, make_passage
    from policy_rag.retrieve import NUDGED

    annex = [make_passage(f"ai-act/nl/anx-iii.{n}", f"Annex III({n})", f"Bijlage III, punt {n}", f"Gebied {n}.",
                          kind="annex") for n in range(1, 9)]
    art = make_passage("ai-act/nl/art-6.3", "Article 6(3)", "Artikel 6, lid 3",
                       "Een in bijlage III bedoeld AI-systeem wordt niet als AI-systeem met een hoog risico beschouwd ...")
    fines = [make_passage(f"ai-act/nl/art-99.{n}", f"Article 99({n})", f"Artikel 99, lid {n}", f"Boete {n}.")
             for n in range(1, 6)]
    ps = [*annex, art, *fines]
    r = Retriever(make_index(ps, fake_embedder), fake_embedder, settings)
    fused = {i: 1.0 / (60 + i) for i in range(len(ps))}  # annex points 1, 2 rank best, then the rest in order
    boosted = r.priors("Wanneer is een systeem uit bijlage III toch geen hoog risico?", "nl", "Annex III", fused)
    assert sorted(boosted) == list(range(NUDGED))
    # a specific provision is asked for itself: all of it is boosted
    assert len(r.priors("Wat zegt bijlage III, punt 4?", "nl", "Annex III(4)", fused)) == 1
    # a topic's provision (fines: Article 99) likewise: its best passages, not all twenty paragraphs
    boosted = r.priors("Hoe hoog is de boete voor een verboden praktijk?", "nl", None, fused)
    assert sorted(boosted) == [9, 10][:NUDGED]


def test_everyday_terms_get_the_acts_words():
    from policy_rag.retrieve import expand_query

    assert "interact directly with natural persons" in expand_query("Does my customer-service chatbot need a disclosure?")
    assert "directe interactie" in expand_query("Onze datingchatbot speelt in op eenzaamheid")
    assert "interact directly" in expand_query("Must we say that our web shop's support chat is an AI bot?")
    assert "directe interactie" in expand_query("Moet onze klantenchat melden dat het een AI-bot is?")
    assert expand_query("Wat is een robot?") == "Wat is een robot?"
    assert "machine-readable" in expand_query("Moeten AI-beelden een watermerk krijgen?")
    assert expand_query("Is emotieherkenning verboden?") == "Is emotieherkenning verboden?"


@pytest.mark.parametrize(("question", "matches"), [
    ("Mag ik emotieherkenning gebruiken om de stemming van mijn personeel te meten?", True),
    ("We want a webcam tool that infers whether our call-centre staff are stressed. Is that allowed?", True),
    ("Can a school read its pupils' emotions during exams?", True),
    ("Is emotieherkenning een hoog-risicosysteem?", False),  # no workplace or school: not only 5(1)(f)
    ("Moet mijn personeel een AI-training volgen?", False),  # staff, but no feelings
])
def test_feelings_at_work_or_school_point_to_article_5_1_f(question, matches):
    from policy_rag.retrieve import _TOPIC_PRIORS, WORKPLACE_EMOTIONS

    assert bool(WORKPLACE_EMOTIONS.search(question)) is matches
    assert any(p is WORKPLACE_EMOTIONS and prov == "Article 5(1)(f)" for p, _, prov, _ in _TOPIC_PRIORS)


@pytest.mark.parametrize(("question", "matches"), [
    ("Moet ik als werkgever mijn personeel informeren als ik een AI-systeem gebruik om sollicitanten te selecteren?",
     True),
    ("Do we have to tell our employees before we use an AI tool to plan their shifts?", True),
    ("Moet de ondernemingsraad op de hoogte worden gesteld?", False),  # no informing word in the order it asks
    ("Moet mijn personeel een AI-training volgen?", False),  # staff, but no informing
    ("Moeten we klanten vertellen dat ze met AI praten?", False),  # informing, but not staff
])
def test_informing_staff_points_to_article_26_7(question, matches):
    from policy_rag.retrieve import _TOPIC_PRIORS, INFORM_WORKERS

    assert bool(INFORM_WORKERS.search(question)) is matches
    assert any(p is INFORM_WORKERS and prov == "Article 26(7)" for p, _, prov, _ in _TOPIC_PRIORS)


@pytest.mark.parametrize(("question", "matches"), [
    ("Ons bedrijf zit in Zwitserland. Geldt de AI-verordening dan voor ons?", True),
    ("Does the AI Act apply to a provider established outside the EU?", True),
    ("We are a US company. Do we need an authorised representative?", False),  # not whether it applies
    ("Geldt de AI-verordening voor mijn webshop?", False),  # no third country
])
def test_a_business_outside_the_union_asking_about_scope_points_to_article_2_1(question, matches):
    from policy_rag.retrieve import _TOPIC_PRIORS, THIRD_COUNTRY_SCOPE

    assert bool(THIRD_COUNTRY_SCOPE.search(question)) is matches
    assert any(p is THIRD_COUNTRY_SCOPE and prov == "Article 2(1)" for p, _, prov, _ in _TOPIC_PRIORS)


def test_feelings_words_are_read_as_emotion_recognition() -> None:
    from policy_rag.retrieve import expand_query

    q = "Ons callcenter wil aan de stem herkennen of klanten boos of ongeduldig zijn. Mag dat?"
    assert "emotion recognition system" in expand_query(q)
    assert "emotion" not in expand_query("Mag ons callcenter AI gebruiken om gesprekken samen te vatten?")
