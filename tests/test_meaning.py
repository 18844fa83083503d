"""The meaning check (meaning.py) and the verdict (verdict.py), rule by rule, in Dutch and English.

The fixtures are the AI Act's own sentences (EUR-Lex text, as the index holds them) and the
wrong answers of issue 13."""

from __future__ import annotations

import pytest

from policy_rag import meaning, verdict

ART50_1_NL = ("1. Aanbieders zorgen ervoor dat AI-systemen die voor directe interactie met natuurlijke personen zijn "
              "bedoeld, zodanig worden ontworpen en ontwikkeld dat de betrokken natuurlijke personen worden geïnformeerd "
              "dat zij interageren met een AI-systeem, tenzij dit duidelijk is vanuit het oogpunt van een normaal "
              "geïnformeerde en redelijk omzichtige en oplettende natuurlijke persoon, rekening houdend met de "
              "omstandigheden en de gebruikscontext.")
ART50_1_EN = ("1. Providers shall ensure that AI systems intended to interact directly with natural persons are designed "
              "and developed in such a way that the natural persons concerned are informed that they are interacting "
              "with an AI system, unless this is obvious from the point of view of a natural person who is reasonably "
              "well-informed, observant and circumspect, taking into account the circumstances and the context of use.")
ART99_3_NL = ("3. Voor de niet-naleving van het verbod op de in artikel 5 bedoelde AI-praktijken gelden administratieve "
              "geldboeten tot 35 000 000 EUR of, indien de overtreder een onderneming is, tot 7 % van haar totale "
              "wereldwijde jaarlijkse omzet voor het voorafgaande boekjaar, indien dat hoger is.")
ART99_3_EN = ("3. Non-compliance with the prohibition of the AI practices referred to in Article 5 shall be subject to "
              "administrative fines of up to EUR 35 000 000 or, if the offender is an undertaking, up to 7 % of its total "
              "worldwide annual turnover for the preceding financial year, whichever is higher.")
ART5_CTX_NL = "De volgende AI-praktijken zijn verboden:"
ART5_1F_NL = ("f) het in de handel brengen, het voor dit specifieke doel in gebruik stellen of het gebruiken van "
              "AI-systemen om emoties van een natuurlijke persoon op de werkplek en in het onderwijs uit af te leiden, "
              "behalve wanneer het gebruik van het AI-systeem is bedoeld om uit medische of veiligheidsoverwegingen te "
              "worden ingevoerd of in de handel te worden gebracht;")
ART5_CTX_EN = "The following AI practices shall be prohibited:"
ART5_1F_EN = ("(f) the placing on the market, the putting into service for this specific purpose, or the use of AI "
              "systems to infer emotions of a natural person in the areas of workplace and education institutions, "
              "except where the use of the AI system is intended to be put in place or into the market for medical or "
              "safety reasons;")
ART4_NL = ("Aanbieders en gebruiksverantwoordelijken van AI-systemen nemen maatregelen om, zoveel als mogelijk, te zorgen "
           "voor een toereikend niveau van AI-geletterdheid bij hun personeel en andere personen die namens hen "
           "AI-systemen exploiteren en gebruiken, en houden daarbij rekening met hun technische kennis, ervaring, "
           "onderwijs en opleiding en de context waarin de AI-systemen zullen worden gebruikt, evenals met de personen "
           "of groepen personen ten aanzien van wie de AI-systemen zullen worden gebruikt.")
ART4_EN = ("Providers and deployers of AI systems shall take measures to ensure, to their best extent, a sufficient "
           "level of AI literacy of their staff and other persons dealing with the operation and use of AI systems on "
           "their behalf, taking into account their technical knowledge, experience, education and training and the "
           "context the AI systems are to be used in.")


def nl(sentence: str, quote: str, context: str = "") -> list[str]:
    return meaning.check(sentence, quote, context=context, s_lang="nl", q_lang="nl")


def en(sentence: str, quote: str, context: str = "") -> list[str]:
    return meaning.check(sentence, quote, context=context, s_lang="en", q_lang="en")


# -- issue 13's examples --------------------------------------------------------------------

def test_issue_chatbot_not_obliged_fails_both_languages() -> None:
    assert "obligation" in nl("Het is niet verplicht om klanten te vertellen dat ze met AI praten", ART50_1_NL)
    assert "obligation" in en("It is not required to tell customers that they are talking to AI", ART50_1_EN)
    assert "obligation" in meaning.check("Het is niet verplicht om klanten te vertellen dat ze met AI praten",
                                         ART50_1_EN, s_lang="nl", q_lang="en")  # across languages too


def test_issue_chatbot_obligation_with_its_exception_passes() -> None:
    assert nl("Aanbieders zorgen ervoor dat personen worden geïnformeerd dat zij interageren met een AI-systeem, "
              "tenzij dit duidelijk is", ART50_1_NL) == []
    assert en("Providers must ensure that people are informed that they are interacting with an AI system, unless "
              "this is obvious", ART50_1_EN) == []


def test_issue_fine_without_the_percentage_fails() -> None:
    assert "amount" in nl("De maximale boete is EUR 35 000 000", ART99_3_NL)
    assert "amount" in en("The maximum fine is EUR 35 000 000", ART99_3_EN)
    assert "amount" in en("The fine is up to EUR 35 000 000 or 7 % of turnover", ART99_3_EN)  # "whichever is higher"
    assert nl("De boete is tot 35 000 000 EUR of 7 % van de wereldwijde jaaromzet, als dat hoger is", ART99_3_NL) == []
    assert en("Fines go up to EUR 35 000 000 or 7 % of total worldwide annual turnover, whichever is higher",
              ART99_3_EN) == []


def test_issue_emotion_recognition_without_exception_fails() -> None:
    assert "exception" in nl("Emotieherkenning is niet toegestaan op de werkplek", ART5_1F_NL, ART5_CTX_NL)
    assert "exception" in en("Emotion recognition is prohibited in the workplace", ART5_1F_EN, ART5_CTX_EN)
    assert nl("Emotieherkenning op de werkplek is verboden, behalve om medische of veiligheidsredenen",
              ART5_1F_NL, ART5_CTX_NL) == []
    assert en("Emotion recognition in the workplace is prohibited, except for medical or safety reasons",
              ART5_1F_EN, ART5_CTX_EN) == []


def test_issue_ai_training_is_not_what_article_4_says() -> None:
    assert "duty" in nl("Aanbieders en gebruiksverantwoordelijken moeten een AI-training volgen", ART4_NL)
    assert "duty" in en("Staff must complete an AI course and pass an exam", ART4_EN)
    assert nl("Aanbieders en gebruiksverantwoordelijken moeten maatregelen nemen voor een toereikend niveau van "
              "AI-geletterdheid bij hun personeel", ART4_NL) == []
    assert en("Providers and deployers must take measures to ensure a sufficient level of AI literacy of their staff",
              ART4_EN) == []


# -- each rule in both languages ----------------------------------------------------------------

@pytest.mark.parametrize(("check", "sentence", "quote", "rule"), [
    (nl, "Gebruiksverantwoordelijken moeten het systeem registreren", "Gebruiksverantwoordelijken zijn niet verplicht "
         "het systeem te registreren.", "no-obligation"),
    (en, "Deployers must register the system", "Deployers are not required to register the system.", "no-obligation"),
    (nl, "Social scoring door een gemeente is toegestaan", "Social scoring door overheidsinstanties is verboden.",
     "prohibition"),
    (en, "Social scoring by a municipality is allowed", "Social scoring by public authorities shall be prohibited.",
     "prohibition"),
    (nl, "Dit systeem is verboden", "Dit systeem is niet verboden op grond van artikel 5.", "permission"),
    (en, "This system is prohibited", "This system is not prohibited under Article 5.", "permission"),
    (nl, "Het register is niet openbaar", "Het register is openbaar en toegankelijk voor iedereen.", "negation"),
    (en, "The database is not public", "The database shall be publicly accessible and user-friendly.", "negation"),
    (nl, "Aanbieders moeten een kwaliteitssysteem hebben", "Aanbieders moeten een kwaliteitssysteem hebben, "
         "met uitzondering van micro-ondernemingen.", "exception"),
    (en, "Providers must keep the logs", "Providers shall keep the logs, unless Union law provides otherwise.",
     "exception"),
    (nl, "Het systeem mag worden gebruikt", "Het systeem mag worden gebruikt mits de toezichthouder toestemming geeft.",
     "exception"),
    (en, "The system may be used", "The system may be used provided that the authority has given its permission.",
     "exception"),
    (nl, "De regels gelden vanaf 2 augustus 2026", "De regels gelden vanaf 2 augustus 2026 of, voor systemen in "
         "bijlage I, 2 augustus 2027.", "date"),
    (en, "The rules apply from 2 August 2026", "The rules apply from 2 August 2026 or, for systems in Annex I, "
         "2 August 2027.", "date"),
    (nl, "Voor kmo's is de boete 7 %", "Voor kmo's is de boete 7 % of 15 000 000 EUR, indien dat lager is.", "amount"),
    (en, "For SMEs the fine is 7 %", "For SMEs the fine is 7 % or EUR 15 000 000, whichever is lower.", "amount"),
])
def test_rule_fails(check, sentence: str, quote: str, rule: str) -> None:  # noqa: ANN001
    assert rule in check(sentence, quote)


@pytest.mark.parametrize(("check", "sentence", "quote"), [
    (nl, "Social scoring door overheidsinstanties is verboden", "Social scoring door overheidsinstanties is verboden."),
    (en, "Social scoring by public authorities is prohibited", "Social scoring by public authorities shall be "
         "prohibited."),
    (nl, "Gebruiksverantwoordelijken hoeven het systeem niet te registreren", "Gebruiksverantwoordelijken zijn niet "
         "verplicht het systeem te registreren."),
    (en, "The database is not public", "The database shall not be public."),
    (nl, "De regels gelden vanaf 2 augustus 2026 of 2 augustus 2027 voor bijlage I", "De regels gelden vanaf "
         "2 augustus 2026 of, voor systemen in bijlage I, 2 augustus 2027."),
    (en, "The AI Act entered into force on 1 August 2024", "This Regulation entered into force on 1 August 2024."),
])
def test_faithful_sentence_passes(check, sentence: str, quote: str) -> None:  # noqa: ANN001
    assert check(sentence, quote) == []


# -- the verdict ----------------------------------------------------------------------------

@pytest.mark.parametrize(("question", "kind"), [
    ("Wij gebruiken een chatbot op onze website. Moeten we klanten vertellen dat ze met AI praten?", "yesno"),
    ("Mag ik emotieherkenning gebruiken op de werkplek?", "yesno"),
    ("Wat is de maximale boete voor het gebruik van een verboden AI-praktijk?", "amount"),
    ("Vanaf wanneer geldt het verbod?", "date"),
    ("Is social scoring allowed?", "yesno"),
    ("How much can a fine be for a prohibited practice?", "amount"),
    ("When do the GPAI rules apply?", "date"),
    ("Wat doet het Europees AI-bureau?", ""),
    ("Which practices are prohibited?", ""),
])
def test_question_kind(question: str, kind: str) -> None:
    assert verdict.question_kind(question) == kind


def test_verdicts_of_the_issue_examples() -> None:
    q = "Wij gebruiken een chatbot op onze website. Moeten we klanten vertellen dat ze met AI praten?"
    assert verdict.derive(q, "yesno", [(ART50_1_NL, "")], "nl") == "yes-if"  # "tenzij dit duidelijk is"
    q = "Mag ik emotieherkenning gebruiken op de werkplek?"
    assert verdict.derive(q, "yesno", [(ART5_1F_NL, ART5_CTX_NL)], "nl") == "no-unless"
    line = verdict.line("no-unless", "nl", [(ART5_1F_NL, "nl", ART5_CTX_NL)])
    assert line.startswith("Nee, behalve wanneer") and "medische of veiligheidsoverwegingen" in line
    assert verdict.derive("Is emotion recognition at work allowed?", "yesno", [(ART5_1F_EN, ART5_CTX_EN)],
                          "en") == "no-unless"
    assert verdict.derive("x", "amount", [(ART99_3_EN, "")], "en") == "EUR 35 000 000 or 7 %, whichever is higher"
    assert verdict.derive("x", "amount", [(ART99_3_NL, "")], "nl") == "35 000 000 EUR of 7 %, als dat hoger is"
    assert verdict.derive("Is social scoring prohibited?", "yesno",
                          [("Social scoring by public authorities shall be prohibited.", "")], "en") == "yes"
    assert verdict.derive("Wat is een AI-systeem?", "", [(ART4_NL, "")], "nl") == ""


def test_model_verdict_contradicted_by_the_quote_is_replaced() -> None:
    assert verdict.reconcile("yesno", "no", "yes-if") == "yes-if"  # the chatbot answer
    assert verdict.reconcile("yesno", "no", "no-unless") == "no-unless"  # the exception it dropped
    assert verdict.reconcile("yesno", "yes-if", "yes") == "yes-if"  # a condition from elsewhere is kept
    assert verdict.reconcile("yesno", "yes", "") == "yes"  # nothing derived: the model's
    assert verdict.reconcile("amount", "yes", "EUR 1") == "EUR 1"
    assert verdict.reconcile("", "yes", "no") == ""


def test_json_answer_streams_verdict_and_sentences() -> None:
    reply = '{"verdict": "no-unless", "sentences": [{"text": "Het is \\"verboden\\", behalve x.", "source": 1}, ' \
            '{"text": "Tweede zin.", "source": 2}]}'
    j = verdict.JsonAnswer()
    events = []
    for i in range(0, len(reply), 7):
        events += j.feed(reply[i:i + 7])
    assert events[0] == ("verdict", "no-unless")
    assert events[1:] == [("sentence", ('Het is "verboden", behalve x.', 1)), ("sentence", ("Tweede zin.", 2))]
    assert j.is_json
    assert verdict.JsonAnswer().is_json is None
    k = verdict.JsonAnswer()
    k.feed("Plain text [1].")
    assert k.is_json is False


def test_dutch_present_tense_duty_and_shall_not_apply_exception() -> None:
    art50_4 = ("Gebruiksverantwoordelijken van een AI-systeem dat beeld-, audio- of videocontent genereert of bewerkt "
               "die een deepfake vormt, maken bekend dat de content kunstmatig is gegenereerd of gemanipuleerd.")
    q = "We gebruiken een deepfake in een reclame. Moeten we dat melden?"
    assert verdict.derive(q, "yesno", [(art50_4, "")], "nl") == "yes"
    art26_7 = ("Voordat een AI-systeem met een hoog risico op de werkplek in gebruik wordt gesteld of wordt gebruikt, "
               "delen gebruiksverantwoordelijken die werkgever zijn de werknemersvertegenwoordigers en de betrokken "
               "werknemers mee dat zij zullen worden onderworpen aan het gebruik van het AI-systeem met een hoog risico.")
    assert verdict.derive("Moet ik mijn personeel informeren?", "yesno", [(art26_7, "")], "nl") == "yes"
    assert "obligation" in nl("Het is niet verplicht te melden dat de content een deepfake is", art50_4)
    art5_1d = ("(d) the use of an AI system for making risk assessments of natural persons in order to predict the "
               "risk of a natural person committing a criminal offence, based solely on the profiling of a natural "
               "person; this prohibition shall not apply to AI systems used to support the human assessment")
    assert verdict.derive("Is predicting crime from a profile allowed?", "yesno", [(art5_1d, ART5_CTX_EN)],
                          "en") == "no-unless"


def test_date_verdict_skips_a_date_that_is_a_condition() -> None:
    art111_3 = ("3. Aanbieders van AI-modellen voor algemene doeleinden die vóór 2 augustus 2025 in de handel zijn "
                "gebracht, nemen de nodige stappen om uiterlijk 2 augustus 2027 aan de verplichtingen te voldoen.")
    assert verdict.derive("Wanneer moet het voldoen?", "date", [(art111_3, "")], "nl") == "2 augustus 2027"


ART50_7_NL = ("7. De Commissie stimuleert en faciliteert de opstelling van praktijkcodes op het niveau van de Unie om "
              "de doeltreffende uitvoering van de verplichtingen met betrekking tot het opsporen, markeren en labelen van "
              "kunstmatig gegenereerde of gemanipuleerde content te vergemakkelijken.")


def test_a_sentence_that_names_another_party_fails() -> None:
    # the omnibus gave this task to the Commission; the model wrote the old wording's AI Office
    wrong = ("Het AI-bureau stimuleert en faciliteert de opstelling van praktijkcodes op het niveau van de Unie "
             "om het labelen van kunstmatig gegenereerde content te vergemakkelijken.")
    assert "party" in meaning.check(wrong, ART50_7_NL)
    assert "party" in meaning.check("The AI Office encourages codes of practice at Union level.", ART50_7_NL,
                                    s_lang="en")
    right = "De Commissie stimuleert de opstelling van praktijkcodes op het niveau van de Unie."
    assert "party" not in meaning.check(right, ART50_7_NL)
    # the providers of Article 50(1), named in English against the Dutch quote: the same party
    assert "party" not in meaning.check("Providers must inform people that they interact with an AI system, "
                                        "unless this is obvious.", ART50_1_NL, s_lang="en")
    # deployers instead of providers
    assert "party" in meaning.check("Gebruiksverantwoordelijken zorgen ervoor dat personen worden geïnformeerd, "
                                    "tenzij dit duidelijk is.", ART50_1_NL)
    # a quote that names no party says nothing about who: no failure
    assert "party" not in meaning.check("Aanbieders informeren personen op duidelijke wijze.",
                                        "De informatie wordt op duidelijke wijze verstrekt.")


ART72_3_NL = ("De Commissie stelt uiterlijk op 2 september 2027 richtsnoeren vast, met inbegrip van een model, voor "
              "het plan voor monitoring na het in de handel brengen en houdt daarbij zoveel mogelijk rekening met het "
              "advies van de AI-board.")


def test_a_sentence_that_names_another_kind_of_act_fails() -> None:
    # the omnibus turned the implementing act of Article 72(3) into guidelines; the model kept the old kind
    wrong = "Ja, er komt nog een uitvoeringshandeling met een model voor het plan voor monitoring."
    assert "instrument" in meaning.check(wrong, ART72_3_NL)
    assert "instrument" in meaning.check("The Commission will adopt an implementing act with a template for the "
                                         "post-market monitoring plan.", ART72_3_NL, s_lang="en")
    # the passage's own kind, in either language
    assert "instrument" not in meaning.check("De Commissie stelt uiterlijk op 2 september 2027 richtsnoeren vast met "
                                             "een model voor het plan.", ART72_3_NL)
    assert "instrument" not in meaning.check("The Commission adopts guidelines with a template for the plan by "
                                             "2 September 2027.", ART72_3_NL, s_lang="en")
    assert meaning.instruments("uitvoeringshandelingen en gedelegeerde handelingen") == {"implementing-act",
                                                                                         "delegated-act"}


def test_a_sentence_that_names_another_provision_fails() -> None:
    art80_4 = ("Indien de aanbieder van een betrokken AI-systeem dat AI-systeem niet binnen de in lid 2 van dit artikel "
               "bedoelde termijn in overeenstemming brengt met die vereisten en verplichtingen, worden aan de aanbieder "
               "overeenkomstig artikel 99 geldboeten opgelegd.")
    wrong = "Artikel 4 over AI-geletterdheid vereiste dat aanbieders binnen de termijn in overeenstemming brengen."
    assert "provision" in meaning.check(wrong, art80_4, provision="Article 80(4)")
    # the provision's own number, or one its text names, may be named
    assert "provision" not in meaning.check("Volgens artikel 80, lid 4, krijgt de aanbieder geldboeten overeenkomstig "
                                            "artikel 99.", art80_4, provision="Article 80(4)")
    art113 = ("i) 2 december 2027 voor wat betreft AI-systemen die op grond van artikel 6, lid 2, en bijlage III als "
              "AI-systemen met een hoog risico zijn aangemerkt, en")
    assert "provision" in meaning.check("The high-risk obligations start for AI systems classified under Article 6(1) "
                                        "and Annex I on 2 December 2027.", art113, s_lang="en", provision="Article 113")
    assert "provision" not in meaning.check("The obligations apply to systems under Article 6(2) and Annex III from "
                                            "2 December 2027.", art113, s_lang="en", provision="Article 113")


def test_a_sentence_denying_the_high_risk_status_its_quote_gives_fails() -> None:
    lead = "High-risk AI systems pursuant to Article 6(2) are the AI systems listed in any of the following areas:"
    point = ("(a) AI systems intended to be used for the recruitment or selection of natural persons, in particular "
             "to analyse and filter job applications, and to evaluate candidates;")
    assert "classification" in meaning.check("CV-screening systems are not high-risk AI systems.", point,
                                             context=lead, s_lang="en", q_lang="en")
    assert "classification" not in meaning.check("CV-screening systems are high-risk AI systems.", point,
                                                 context=lead, s_lang="en", q_lang="en")
    art6_3 = ("By derogation from paragraph 2, an AI system referred to in Annex III shall not be considered to be "
              "high-risk where it does not pose a significant risk of harm.")
    assert "classification" not in meaning.check("An Annex III system that poses no significant risk is not "
                                                 "high-risk.", art6_3, s_lang="en", q_lang="en")


def test_a_point_is_read_with_its_paragraphs_subject() -> None:
    # the quote is point a); the paragraph names the AI Office: naming it is no other party
    art75_1 = ("1. Het AI-bureau is exclusief bevoegd voor het toezicht op en de handhaving van: a) AI-systemen die "
               "gebaseerd zijn op AI-modellen voor algemene doeleinden wanneer het model en het systeem door dezelfde "
               "aanbieder zijn ontwikkeld;")
    quote = ("a) AI-systemen die gebaseerd zijn op AI-modellen voor algemene doeleinden wanneer het model en het "
             "systeem door dezelfde aanbieder zijn ontwikkeld;")
    sentence = "Het AI-bureau is exclusief bevoegd voor AI-systemen die een aanbieder bouwt op zijn eigen model."
    assert "party" in meaning.check(sentence, quote)
    assert "party" not in meaning.check(sentence, quote, passage=art75_1)


def test_small_mid_caps_are_not_smes() -> None:
    art99_6 = ("In the case of SMEs, including start-ups, each fine referred to in this Article shall be up to the "
               "percentages or amount referred to in paragraphs 3, 4 and 5, whichever thereof is lower.")
    assert "party" in meaning.check("Small mid-cap companies get the same whichever-is-lower cap as SMEs.", art99_6,
                                    s_lang="en", q_lang="en")


def test_a_prohibition_read_from_a_passage_that_prohibits_nothing_fails() -> None:
    art113 = ("i) 2 december 2027 voor wat betreft AI-systemen die op grond van artikel 6, lid 2, en bijlage III als "
              "AI-systemen met een hoog risico zijn aangemerkt, en")
    wrong = "Het verbod op AI die materiaal van seksueel kindermisbruik genereert geldt vanaf 2 december 2027."
    assert "permission" in meaning.check(wrong, art113, provision="Article 113")
    lead = "De volgende AI-praktijken zijn verboden:"
    point = "f) het gebruiken van AI-systemen om emoties van een natuurlijke persoon op de werkplek af te leiden;"
    assert "permission" not in meaning.check("Het verbod op emotieherkenning op de werkplek geldt, behalve om medische "
                                             "redenen.", point, context=lead)


def test_the_provisions_a_sentence_may_name_are_its_quotes() -> None:
    # Article 113 names Article 6(1) in another point, with another date than the quote's
    art113 = ("Zij is van toepassing vanaf 2 augustus 2026. Artikel 6, lid 1, is van toepassing vanaf 2 augustus 2027. "
              "i) 2 december 2027 voor wat betreft AI-systemen die op grond van artikel 6, lid 2, en bijlage III als "
              "AI-systemen met een hoog risico zijn aangemerkt, en")
    quote = ("i) 2 december 2027 voor wat betreft AI-systemen die op grond van artikel 6, lid 2, en bijlage III als "
             "AI-systemen met een hoog risico zijn aangemerkt, en")
    assert "provision" in meaning.check("The obligations start for systems under Article 6(1) on 2 December 2027.",
                                        quote, s_lang="en", provision="Article 113", passage=art113)
    # an amending act's point speaks of the article it replaces
    point = "Aanbieders en gebruiksverantwoordelijken van AI-systemen nemen maatregelen om AI-geletterdheid te bevorderen."
    assert "provision" not in meaning.check("Artikel 4 vraagt dat aanbieders maatregelen nemen om AI-geletterdheid te "
                                            "bevorderen.", point, provision="Article 1(5)", amends=["Article 4"])


def test_a_scope_sentence_that_drops_the_quotes_condition_fails() -> None:
    quote = ("is deze verordening alleen van toepassing op operatoren van AI-systemen met een hoog risico, met "
             "uitzondering van de in lid 1 bedoelde systemen, die vóór die datum in de handel zijn gebracht, indien "
             "die systemen vanaf die datum aanzienlijke wijzigingen in hun ontwerp ondergaan.")
    wrong = "The AI Act applies to high-risk AI systems that were already on the market before the rules apply."
    assert "exception" in meaning.check(wrong, quote, s_lang="en", q_lang="nl")
    kept = "The AI Act applies to such systems only if their design changes significantly."
    assert "exception" not in meaning.check(kept, quote, s_lang="en", q_lang="nl")


def test_a_sentence_that_restates_the_question_fails() -> None:
    """The small model answers "Geldt X voor mij als ...?" with "X geldt voor mij als ...": the
    claim is the user's words, not the source's (seen on Article 74(1) and on the omnibus's CSAM
    prohibition: "Yes, an AI system that generates child sexual abuse material can be placed on
    the EU market")."""
    q = "Geldt de AI-verordening voor mij als ik als particulier een AI-app gebruik om mijn vakantie te plannen?"
    quote = ("Verordening (EU) 2019/1020 is van toepassing op AI-systemen die onder deze verordening vallen.")
    s = "De AI-verordening geldt voor mij als ik als particulier een AI-app gebruik om mijn vakantie te plannen."
    assert "question" in meaning.check(s, quote, s_lang="nl", q_lang="nl", question=q)
    assert "question" not in meaning.check(s, quote, s_lang="nl", q_lang="nl")  # no question: not judged
    # an English sentence on a Dutch quote shares few words with it in any case: not judged
    assert "question" not in meaning.check(s, quote, s_lang="en", q_lang="nl", question=q)
    # the source's own words, even when the question uses them too, are not an echo
    q = "Moeten aanbieders van chatbots mensen informeren dat ze met een AI-systeem praten?"
    quote = ("Aanbieders zorgen ervoor dat AI-systemen die voor directe interactie met natuurlijke personen zijn "
             "bedoeld, zodanig worden ontworpen dat de betrokken natuurlijke personen worden geïnformeerd dat zij "
             "interageren met een AI-systeem, tenzij dit duidelijk is.")
    s = "Aanbieders moeten ervoor zorgen dat natuurlijke personen worden geïnformeerd dat zij met een AI-systeem " \
        "interageren, tenzij dat duidelijk is."
    assert meaning.check(s, quote, s_lang="nl", q_lang="nl", question=q) == []
    # two of the question's words are a sentence applying the rule, not restating the question
    assert not meaning.echoes("Aanbieders van chatbots moeten mensen informeren, tenzij dat duidelijk is.", "nl",
                              q, quote)


@pytest.mark.parametrize(("sentence", "broken"), [
    # the two shapes the 1.5B model wrote for Article 26(7)'s "delen gebruiksverantwoordelijken ... mee dat"
    ("Ja, gebruiksverantwoordelijken die werkgever zijn werknemersvertegenwoordigers en de betrokken werknemers "
     "moeten voordat ik een hoog-risico AI-systeem op de werkvloer ga gebruiken.", True),
    ("Gebruiksverantwoordelijken die werknemersvertegenwoordigers en de betrokken werknemers mee dat zij zullen "
     "worden onderworpen aan het gebruik van het AI-systeem.", True),
    ("Gebruiksverantwoordelijken delen de betrokken werknemers mee dat zij aan het systeem worden onderworpen.", False),
    ("Gebruiksverantwoordelijken moeten werknemers inlichten voordat ze het systeem gebruiken.", False),
    ("Aanbieders moeten dat melden.", False),
    ("Ja, dat moet.", False),
])
def test_a_dutch_sentence_that_lost_its_verb_fails(sentence: str, broken: bool) -> None:
    quote = ("Voordat een AI-systeem met een hoog risico op de werkplek wordt gebruikt, delen gebruiksverantwoordelijken "
             "die werkgever zijn werknemersvertegenwoordigers en de betrokken werknemers mee dat zij zullen worden "
             "onderworpen aan het gebruik van het AI-systeem met een hoog risico.")
    assert meaning.broken_dutch(sentence) is broken
    assert ("grammar" in meaning.check(sentence, quote, s_lang="nl", q_lang="nl")) is broken
    assert "grammar" not in meaning.check(sentence, quote, s_lang="en", q_lang="nl")  # a Dutch rule


def test_a_dutch_duty_in_the_singular_present_tense() -> None:
    """"Alvorens ... in de handel te brengen, registreert die aanbieder ... in de EU-databank": a
    duty, as "registreren aanbieders" is; a sentence denying it fails."""
    quote = ("Alvorens een AI-systeem in de handel te brengen dat naar oordeel van de aanbieder geen hoog risico "
             "inhoudt, registreert die aanbieder zichzelf en dat systeem in de EU-databank.")
    assert meaning.polarity(quote).obligation
    assert meaning.polarity("De aanbieder meldt elk ernstig incident aan de autoriteit.").obligation
    assert not meaning.polarity("De aanbieder is gevestigd in de Unie.").obligation
    assert "obligation" in meaning.check("De aanbieder hoeft het systeem niet te registreren.", quote)


ART58_2_D_NL = ("d) de toegang tot de AI-testomgevingen voor regelgeving voor kmo’s, waaronder start-ups, kosteloos is, "
                "onverminderd uitzonderlijke kosten die de nationale bevoegde autoriteiten op billijke en evenredige "
                "wijze mogen verhalen;")


def test_free_without_what_may_still_be_charged_fails() -> None:
    assert "exception" in meaning.check("Kmo's hebben gratis toegang tot een AI-testomgeving voor regelgeving.",
                                        ART58_2_D_NL)
    assert "exception" in meaning.check("Access to the sandbox is free of charge for SMEs.", ART58_2_D_NL, s_lang="en")
    # keeping the exceptional costs, or a condition, keeps it
    assert "exception" not in meaning.check("De toegang is kosteloos voor kmo's, maar uitzonderlijke kosten mogen "
                                            "worden verhaald.", ART58_2_D_NL)
    # "without prejudice to" other law is no condition of a free service that the quote does not make free
    assert "exception" not in meaning.check("Deployers keep the logs for six months.",
                                            "Deployers shall keep the logs for six months, without prejudice to "
                                            "Union law.", s_lang="en")


def test_a_permission_without_its_lead_ins_condition_fails() -> None:
    lead = ("In uitzonderlijke gevallen mogen aanbieders bijzondere categorieën persoonsgegevens verwerken, mits aan "
            "alle volgende voorwaarden is voldaan:")
    point = "d) de bijzondere categorieën persoonsgegevens worden niet doorgegeven aan andere partijen;"
    wrong = "Aanbieders mogen bijzondere categorieën persoonsgegevens verwerken om vooringenomenheid op te sporen."
    assert "exception" in meaning.check(wrong, point, context=lead)
    assert "exception" not in meaning.check("Aanbieders mogen die gegevens alleen onder voorwaarden verwerken.", point,
                                            context=lead)
    assert "exception" not in meaning.check(wrong, point, context="De volgende gegevens worden verwerkt:")


def test_a_system_that_applies_instead_of_the_rule_fails() -> None:
    art2_6 = ("Deze verordening is niet van toepassing op AI-systemen of AI-modellen, met inbegrip van hun output, die "
              "specifiek zijn ontwikkeld en in gebruik gesteld met wetenschappelijk onderzoek als enig doel.")
    wrong = ("AI-modellen die we uitsluitend voor wetenschappelijk onderzoek hebben ontwikkeld zijn niet van toepassing "
             "op AI-systemen of AI-modellen.")
    assert "scope" in meaning.check(wrong, art2_6)
    assert "scope" in meaning.check("AI models developed only for research do not apply to AI systems.", art2_6,
                                    s_lang="en")
    for right in ("De AI-verordening is niet van toepassing op AI-modellen die alleen voor wetenschappelijk onderzoek "
                  "zijn ontwikkeld.", "Dit is niet van toepassing op AI-systemen voor onderzoek.",
                  "The obligations for AI systems apply to providers.",
                  "Emotion recognition systems exclude mere detection, which also applies to Article 5(1)(f)."):
        assert not meaning.inverted_scope(right), right


def test_a_sentence_that_opens_as_the_question_fails() -> None:
    art51_2 = ("Een AI-model voor algemene doeleinden wordt geacht capaciteiten met een grote impact te hebben wanneer "
               "de cumulatieve hoeveelheid berekeningen groter is dan 10^25.")
    q = "Boven welke hoeveelheid rekenkracht wordt vermoed dat een AI-model capaciteiten met een grote impact heeft?"
    said = "Boven welke hoeveelheid rekenkracht wordt vermoed dat een AI-model capaciteiten met een grote impact heeft."
    assert "question" in meaning.check(said, art51_2, question=q)
    assert "question" not in meaning.check("Een AI-model wordt geacht capaciteiten met een grote impact te hebben "
                                           "boven 10^25 berekeningen.", art51_2, question=q)
    assert not meaning.opens_as("Ja, dat mag.", "Mag ik dat?")  # too short a question to tell


def test_a_sentence_half_copied_from_the_other_language_fails() -> None:
    par209 = ("If the bank uses an AI system to fulfil its obligations, that should be done based only on the data as "
              "specified in that law which are objective and verifiable to ensure that the persons singled out as "
              "suspect are reasonably likely to commit anti-money laundering offences.")
    mixed = ("De bank moet de data als specifieerd in de wet gebruiken die objective en verifiable zijn, zodat de "
             "personen singled out als suspect reasonably likely zijn.")
    assert "language" in meaning.check(mixed, par209, s_lang="nl", q_lang="en")
    translated = ("De bank mag alleen objectieve en verifieerbare gegevens gebruiken die in die wet zijn "
                  "gespecificeerd.")
    assert "language" not in meaning.check(translated, par209, s_lang="nl", q_lang="en")
    # the same language: copying is quoting
    assert "language" not in meaning.check(par209, par209, s_lang="en", q_lang="en")
