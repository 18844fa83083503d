"""The verdict read from a decisive quote (verdict.derive) for the wordings that gave none or a
wrong one: scope ("is niet van toepassing op"), a lead-in's permission, "kunnen"/"may", a legal
fiction ("shall be considered"), who a rule binds, periods and thresholds, the amount of the
quote that speaks to the question, a derogation, and "the higher or the lower".
All sentences are made up in the style of EU legislation."""

from __future__ import annotations

import pytest

from policy_rag import verdict


@pytest.mark.parametrize(("question", "kind"), [
    ("Wie moet de melding doen?", "who"),
    ("Who must keep the records?", "who"),
    ("Welke ondernemingen mogen het korte formulier gebruiken?", "who"),
    ("Binnen hoeveel dagen moet de melding gebeuren?", "amount"),
    ("Hoe lang moet de exploitant de gegevens bewaren?", "amount"),
    ("How long must the records be kept?", "amount"),
    ("Is the penalty the higher or the lower of the two amounts?", "choice"),
    ("Mag ik dit doen?", "yesno"),
    ("Wat doet het toezichtsbureau?", ""),
    # a bare "when" after a yes/no opener is a conjunction; at the end it asks the date
    ("Do I have to inform my staff when I use an AI system to select job applicants?", "yesno"),
    ("Moet ik mijn personeel informeren wanneer ik AI gebruik?", "yesno"),
    ("When does the duty apply?", "date"),
    ("Geldt het verbod al, en wanneer?", "date"),
    ("How quickly must a provider report the incident?", "amount"),
    ("Hoe snel moet de melding gebeuren?", "amount"),
])
def test_question_kinds(question: str, kind: str) -> None:
    assert verdict.question_kind(question) == kind


def test_scope_exclusion_and_only_if() -> None:
    q = "Valt een rekenmodel voor zuiver academisch onderzoek onder deze regeling?"
    quote = "Deze regeling is niet van toepassing op rekenmodellen die uitsluitend voor academisch onderzoek dienen."
    assert verdict.derive(q, "yesno", [(quote, "")], "nl") == "no"
    q = "Does the Regulation apply to a hobbyist using a drone at home?"
    quote = "This Regulation does not apply to natural persons using drones in a purely personal activity."
    assert verdict.derive(q, "yesno", [(quote, "")], "en") == "no"
    q = "Is deze regeling van toepassing op systemen die al voor de datum in gebruik waren?"
    quote = ("Deze regeling is alleen van toepassing op systemen die vóór die datum in gebruik zijn gesteld, "
             "indien zij daarna ingrijpend worden gewijzigd.")
    assert verdict.derive(q, "yesno", [(quote, "")], "nl") == "no-unless"
    # a scope quote does not answer a question about something else
    assert verdict.derive("Mag ik de gegevens bewaren?", "yesno", [(quote, "")], "nl") == ""


def test_permission_from_kunnen_and_from_a_lead_in() -> None:
    q = "Mogen kleine coöperaties het verkorte formulier gebruiken?"
    quote = "Kleine coöperaties kunnen het verkorte formulier gebruiken."
    assert verdict.derive(q, "yesno", [(quote, "")], "nl") == "yes"
    quote = "Kleine coöperaties kunnen het verkorte formulier gebruiken, mits zij geen dochterondernemingen hebben."
    assert verdict.derive(q, "yesno", [(quote, "")], "nl") == "yes-if"
    assert verdict.derive(q, "yesno", [("Kleine coöperaties kunnen het formulier niet gebruiken.", "")], "nl") != "yes"
    lead = ("Voor zover dit strikt noodzakelijk is, mogen exploitanten gezondheidsgegevens verwerken, mits aan alle "
            "volgende voorwaarden is voldaan:")
    point = "b) de gegevens worden na afloop verwijderd;"
    q = "Mag een exploitant gezondheidsgegevens verwerken?"
    assert verdict.derive(q, "yesno", [(point, lead)], "nl") == "yes-if"
    # "in so far as their use is permitted" is a condition of a list, not a permission
    lead = "Listed systems are the following, in so far as their use is permitted under national law:"
    point = "(c) systems used to rank tenants by their payment history;"
    assert verdict.derive("Can a landlord avoid the listing?", "yesno", [(point, lead)], "en") == ""


def test_a_legal_fiction_is_not_a_duty() -> None:
    quote = "A ranking system shall always be considered to be listed where it profiles natural persons."
    assert verdict.derive("Can a ranking system avoid being listed?", "yesno", [(quote, "")], "en") == ""
    quote = "The operator shall keep the records for five years."
    assert verdict.derive("Must the operator keep the records?", "yesno", [(quote, "")], "en") == "yes"


def test_who_is_the_subject_of_the_rule() -> None:
    q = "Who must register a listed system in the central register before it is sold?"
    quote = ("Before selling a listed system, with the exception of systems referred to in point 2, the provider "
             "or, where applicable, the authorised representative shall register the system in the central register.")
    assert verdict.derive(q, "who", [(quote, "")], "en") == \
        "the provider or, where applicable, the authorised representative"
    q = "Wie moet ervoor zorgen dat gegenereerde foto's zichtbaar gemarkeerd worden?"
    quote = "Aanbieders van fotogeneratoren zorgen ervoor dat gegenereerde foto's zichtbaar worden gemarkeerd."
    assert verdict.derive(q, "who", [(quote, "")], "nl") == "Aanbieders"
    q = "Welke ondernemingen mogen op vereenvoudigde wijze aan de registerplicht voldoen?"
    quote = "Kmo's kunnen op vereenvoudigde wijze aan de registerplicht voldoen, mits zij zelfstandig zijn."
    assert verdict.derive(q, "who", [(quote, "")], "nl") == "Kmo's"
    # a quote about something else names no one
    q = "Welke Nederlandse toezichthouder handhaaft de regeling?"
    quote = "Het AI-bureau raadpleegt in voorkomend geval de betrokken autoriteiten over de uitvoering."
    assert verdict.derive(q, "who", [(quote, "")], "nl") == ""


def test_periods_and_thresholds() -> None:
    q = "Hoe lang moet de exploitant de logboeken bewaren?"
    quote = "De exploitant bewaart de logboeken gedurende ten minste zes maanden."
    assert verdict.derive(q, "amount", [(quote, "")], "nl") == "6 maanden"
    q = "Boven welke hoeveelheid rekenkracht geldt het vermoeden?"
    quote = "Het vermoeden geldt wanneer de gebruikte rekenkracht groter is dan 10^24 bewerkingen."
    assert verdict.derive(q, "amount", [(quote, "")], "nl") == "10^24"
    q = "Binnen hoeveel dagen moet de exploitant een storing melden?"
    general = "De exploitant meldt een storing uiterlijk 20 dagen nadat hij zich ervan bewust wordt."
    special = "Niettegenstaande lid 2 meldt de exploitant een storing met dodelijke afloop uiterlijk vijf dagen na."
    assert verdict.derive(q, "amount", [(special, ""), (general, "")], "nl") == "20 dagen"
    assert verdict.derive(q, "amount", [(special, "")], "nl") == "5 dagen"


def test_amount_from_the_quote_that_speaks_to_the_question() -> None:
    q = "What is the maximum fine the Agency can impose on a provider of a ranking model?"
    other = "Breaches of the ban on listed practices shall be subject to fines of up to EUR 9 000 000."
    right = "The Agency may impose on providers of ranking models fines not exceeding EUR 2 000 000."
    assert verdict.derive(q, "amount", [(other, ""), (right, "")], "en") == "EUR 2 000 000"


def test_the_higher_or_the_lower() -> None:
    q = "For a cooperative, is the fine capped at the higher or the lower of the amount and the percentage?"
    quote = "For cooperatives, each fine shall be up to the percentage or amount, whichever thereof is lower."
    assert verdict.derive(q, "choice", [(quote, "")], "en") == "The lower"
    quote = "Voor coöperaties bedraagt elke boete ten hoogste het percentage of het bedrag, indien dat hoger is."
    assert verdict.derive("Geldt het hogere of het lagere bedrag?", "choice", [(quote, "")], "nl") == "Het hoogste"
    assert verdict.reconcile("choice", "yes", "The lower") == "The lower"
    assert verdict.reconcile("who", "", "Aanbieders") == "Aanbieders"


@pytest.mark.parametrize(("question", "kind"), [
    ("Moet een verzekeraar die scores gebruikt een effectbeoordeling doen, en vanaf wanneer?", "yesno"),
    ("Are apps that fake voices banned, and since when?", "yesno"),
    ("Vanaf wanneer geldt het verbod?", "date"),
    ("When we register a listed system, must we still give a summary of our reasons?", "yesno"),
    ("Als ik een chatbot gebruik, moet ik dat dan melden?", "yesno"),
    ("When does the ban apply?", "date"),
])
def test_yes_no_questions_with_a_date_or_a_condition(question: str, kind: str) -> None:
    assert verdict.question_kind(question) == kind


def test_rights_and_deleted_provisions() -> None:
    q = "Heb ik recht op uitleg als een bank een besluit over mij neemt met een scoresysteem?"
    quote = ("Elke getroffen persoon op wie een besluit van toepassing is, met uitzondering van besluiten over "
             "leningen, heeft het recht om van de bank uitleg te verkrijgen.")
    assert verdict.derive(q, "yesno", [(quote, "")], "nl") == "yes-if"
    quote = "Any affected person shall have the right to obtain an explanation from the bank."
    assert verdict.derive("Do I have a right to an explanation?", "yesno", [(quote, "")], "en") == "yes"
    quote = "Annex IX, Section C, point 4: geschrapt / deleted."
    assert verdict.derive("Must we still give a summary of our reasons?", "yesno", [(quote, "")], "en") == "no"
    # a deleted provision does not say whether something is allowed
    assert verdict.derive("May we still use the old form?", "yesno", [(quote, "")], "en") == ""


def test_a_may_with_obligations_as_a_noun_is_a_permission() -> None:
    q = "Mag de exploitant delen van zijn privacytoets opnemen in de grondrechtentoets?"
    quote = ("Indien een van de in dit artikel vastgelegde verplichtingen reeds is nagekomen door de privacytoets, "
             "kan de exploitant relevante delen daarvan opnemen in de grondrechtentoets.")
    assert verdict.derive(q, "yesno", [(quote, "")], "nl") == "yes"


def test_the_decisive_sentence_is_never_a_heading() -> None:
    from policy_rag.answer import decisive
    from policy_rag.types import Passage

    p = Passage(id="x/nl/art-9.4", doc="x", lang="nl", provision="Article 9(4)", label="Artikel 9, lid 4", title="",
                url="", text="Artikel 9, lid 4: 4. Niet-naleving van de registerplicht wordt bestraft met een "
                              "geldboete van ten hoogste 15 000 000 EUR.")
    assert decisive(p, "Welke boete geldt volgens artikel 9?", "nl").startswith("Niet-naleving")


def test_scope_of_another_act_or_a_list_of_cases() -> None:
    q = "Valt mijn rekenmodel onder deze regeling?"
    other = "Verordening (EU) 2019/1020 is van toepassing op rekenmodellen die onder deze regeling vallen."
    assert verdict.derive(q, "yesno", [(other, "")], "nl") == ""
    assert verdict.derive("Is deze verordening van toepassing op mijn rekenmodel?", "yesno",
                          [("Deze verordening is van toepassing op:", "")], "nl") == "yes-if"


def test_a_duty_laid_on_another_party_gives_no_verdict() -> None:
    quote = ("Exploitanten van rekenmodellen nemen maatregelen om de vaardigheden van hun personeel en andere "
             "personen die namens hen de modellen gebruiken te ondersteunen.")
    assert verdict.derive("Moet mijn accountant een cursus volgen?", "yesno", [(quote, "")], "nl") == ""
    # the duty is the operators' towards the staff the question asks about: the staff need not
    assert verdict.derive("Moet mijn personeel een cursus volgen?", "yesno", [(quote, "")], "nl") == "no"
    assert verdict.derive("Does the law require my employees to take a course?", "yesno", [(quote, "")], "nl") == "no"
    assert verdict.derive("Moet een exploitant maatregelen nemen?", "yesno", [(quote, "")], "nl") == "yes"
    assert verdict.derive("Moeten we maatregelen nemen?", "yesno", [(quote, "")], "nl") == "yes"
    quote = "Deployers of a text generator shall disclose that the text has been artificially generated."
    assert verdict.derive("Must a generated news text be disclosed?", "yesno", [(quote, "")], "en") == "yes"


def test_a_count_or_a_period_is_not_a_sum_of_money() -> None:
    quote = "Het toezichtsbureau telt 140 medewerkers en een budget van 46 miljoen EUR, te besteden binnen 3 maanden."
    assert verdict.derive("Hoeveel medewerkers telt het toezichtsbureau?", "amount", [(quote, "")], "nl") == \
        "140 medewerkers"
    assert verdict.derive("Hoeveel lidstaten doen mee?", "amount", [(quote, "")], "nl") == ""
    assert verdict.derive("Hoeveel geld krijgt het bureau?", "amount", [(quote, "")], "nl") == "46 miljoen EUR"
    assert verdict.derive("Binnen hoeveel maanden moet het budget op zijn?", "amount", [(quote, "")], "nl") == \
        "3 maanden"


def test_the_verdict_line_of_a_party_starts_with_a_capital() -> None:
    assert verdict.line("the provider", "en") == "The provider."
    assert verdict.line("2 augustus 2027", "nl") == "2 augustus 2027."


def test_another_partys_may_is_no_permission_for_the_asker() -> None:
    quote = "De Commissie kan de exploitant een geldboete opleggen van ten hoogste 5 000 EUR."
    assert verdict.derive("Mag ik mijn model zonder registratie gebruiken?", "yesno", [(quote, "")], "nl") == ""
    quote = "Exploitanten kunnen de gegevens na afloop in een register opnemen."
    assert verdict.derive("Mogen de lidstaten de gegevens in een register opnemen?", "yesno", [(quote, "")],
                          "nl") == ""
    assert verdict.derive("Mag een exploitant de gegevens in een register opnemen?", "yesno", [(quote, "")],
                          "nl") == "yes"
    quote = "Kmo's, met inbegrip van start-ups, en kleine midcapondernemingen, kunnen het korte formulier gebruiken."
    assert verdict.derive("Mogen kleine midcapondernemingen het korte formulier gebruiken?", "yesno",
                          [(quote, "")], "nl") == "yes"


def test_the_same_party_across_languages() -> None:
    quote = "Gebruiksverantwoordelijken van een tekstgenerator maken bekend dat de tekst kunstmatig is gegenereerd."
    assert verdict.derive("Must a deployer tell readers that a text is generated?", "yesno", [(quote, "")],
                          "en") == "yes"
    assert verdict.derive("Must an importer tell readers that a text is generated?", "yesno", [(quote, "")],
                          "en") == ""


def test_a_may_or_must_of_no_party_is_no_permission() -> None:
    """"A score may lead to ..." is a possibility, "the treatment must take place in ..." a
    condition of a scenario: neither lets the asker do anything, so neither is a "Ja"."""
    q = "Mag een gemeente burgers een sociale score geven waardoor ze nadelig worden behandeld?"
    assert verdict.derive(q, "yesno", [("A score may lead to unfavourable treatment even if it is produced by "
                                        "another organisation.", "")], "nl") == ""
    assert verdict.derive(q, "yesno", [("In the first scenario, the unfavourable treatment must take place in "
                                        "social contexts unrelated to those where the data was collected.", "")],
                          "nl") == ""
    # the same modals with a party are a permission / a duty to do it
    assert verdict.derive(q, "yesno", [("Een gemeente kan burgers een score geven voor hun deelname aan "
                                        "vrijwilligerswerk.", "")], "nl") == "yes"
    q = "May deployers keep the logs?"
    assert verdict.derive(q, "yesno", [("Deployers shall keep the logs for at least six months.", "")], "en") == "yes-if"


def test_permitted_inside_a_condition_of_the_quote_is_no_permission() -> None:
    """An Annex III heading "Biometrics, in so far as their use is permitted under ... law:" does
    not answer "May I use emotion recognition on my staff?" with "yes"."""
    q = "Mag ik emotieherkenning gebruiken om de stemming van mijn personeel te meten?"
    quote = "Biometrie, voor zover het gebruik ervan is toegestaan op grond van het toepasselijke Unierecht of nationale recht:"
    assert verdict.derive(q, "yesno", [(quote, "")], "nl") == ""
    quote = "Het gebruik van zulke systemen is toegestaan op de werkplek."
    assert verdict.derive(q, "yesno", [(quote, "")], "nl") == "yes"
    # a relative clause describes the systems, it permits nothing
    quote = ("Deze verplichting is niet van toepassing op voor emotieherkenning gebruikte AI-systemen, die bij wet "
             "zijn toegestaan om strafbare feiten op te sporen.")
    assert verdict.derive(q, "yesno", [(quote, "")], "nl") == ""


def test_a_quote_the_sentence_already_shows_is_not_repeated_under_it() -> None:
    from policy_rag.types import Citation, Passage

    quote = "De informatie wordt uiterlijk op het moment van de eerste interactie verstrekt."
    other = "Aanbieders zorgen ervoor dat natuurlijke personen worden geïnformeerd."
    cites = [Citation(n=1, passage=Passage(id="a", doc="ai-act", lang="nl", provision="Article 50(5)",
                                           label="Artikel 50, lid 5", title="", text=quote, url=""), quote=quote),
             Citation(n=2, passage=Passage(id="b", doc="ai-act", lang="nl", provision="Article 50(1)",
                                           label="Artikel 50, lid 1", title="", text=other, url=""), quote=other)]
    shape = verdict.Shape("Moeten we klanten informeren?", "nl", [])
    shape.parts.append("De informatie wordt uiterlijk op het moment van de eerste interactie verstrekt. [1]")
    shape.shown = 1
    tail = shape.tail(cites, set())
    assert "Artikel 50, lid 5" not in tail  # the sentence is the quote: shown once
    assert "“Aanbieders zorgen ervoor dat natuurlijke personen worden geïnformeerd.” [2]" in tail


def test_conditions_to_be_met_are_no_duty() -> None:
    quote = ("Naast de in Verordening (EU) 2016/679 vastgestelde bepalingen moeten voor een dergelijke verwerking "
             "alle volgende voorwaarden zijn vervuld: a) de opsporing van vooringenomenheid kan niet anders;")
    q = "Does the omnibus oblige deployers to detect bias using special categories of personal data?"
    assert verdict.derive(q, "yesno", [(quote, "")], "en") == ""
    assert verdict.derive("Must deployers keep logs?", "yesno",
                          [("Deployers shall keep the logs automatically generated by the system.", "")], "en") == "yes"


def test_whether_a_partys_fine_is_the_lower_of_the_two() -> None:
    smes = ("In het geval van kmo’s, met inbegrip van start-ups, komt elke in dit artikel bedoelde boete neer op de "
            "percentages of, indien dat lager is, het bedrag als bedoeld in de leden 3, 4 en 5.")
    midcaps = ("In het geval van kleine midcapondernemingen bedraagt elke in de leden 4 en 5 bedoelde geldboete ten "
               "hoogste de daarin bedoelde percentages of bedragen, indien deze lager zijn.")
    assert verdict.derive("Krijgen kmo's een lagere maximumboete dan grote bedrijven?", "yesno", [(smes, "")], "nl") == "yes"
    assert verdict.derive("Is the fine for SMEs the higher of the two?", "yesno", [(smes, "")], "en") == "no"
    q = "Do small mid-cap companies get the same 'whichever is lower' fine cap as SMEs?"
    assert verdict.derive(q, "yesno", [(smes, "")], "en") == ""  # the quote is the SMEs', not the mid-caps'
    assert verdict.derive(q, "yesno", [(smes, ""), (midcaps, "")], "en") == "yes"
    assert verdict.derive("Do providers get a lower fine?", "yesno", [(smes, "")], "en") == ""


def test_a_system_named_by_an_annex_iii_point_is_high_risk_under_conditions() -> None:
    lead = "High-risk AI systems pursuant to Article 6(2) are the AI systems listed in any of the following areas:"
    point = ("(a) AI systems intended to be used for the recruitment or selection of natural persons, in particular to "
             "place targeted job advertisements, to analyse and filter job applications, and to evaluate candidates;")
    q = "Is a CV-screening tool that ranks job applicants a high-risk AI system?"
    assert verdict.derive(q, "yesno", [(point, lead)], "en") == "yes-if"
    # one shared word is not the system the point names
    assert verdict.derive("Is a spam filter for my mailbox a high-risk AI system?", "yesno", [(point, lead)], "en") == ""
    assert verdict.derive(q, "yesno", [(point, "")], "en") == ""  # not a point of the high-risk list
    q = "Can an Annex III system that evaluates job applicants avoid high-risk status under Article 6(3)?"
    assert verdict.derive(q, "yesno", [(point, lead)], "en") == ""  # asks about the derogation, not the list


def test_dutch_inflections_count_as_the_same_word_for_a_listed_point() -> None:
    lead = "AI-systemen met een hoog risico op grond van artikel 6, lid 2, zijn de vermelde AI-systemen op de volgende gebieden:"
    point = ("a) AI-systemen die bedoeld zijn om te worden gebruikt voor het werven of selecteren van natuurlijke "
             "personen, met name voor het analyseren en filteren van sollicitaties, en het beoordelen van kandidaten;")
    q = "Is software die met AI de cv's van sollicitanten selecteert een hoog-risico AI-systeem?"
    assert verdict.derive(q, "yesno", [(point, lead)], "nl") == "yes-if"  # selecteert/selecteren, sollicitanten/-ties
    q = "Is software die sollicitanten een cijfer geeft voor hun handschrift een hoog-risico AI-systeem?"
    assert verdict.derive(q, "yesno", [(point, lead)], "nl") == ""  # one shared word only


def test_an_exception_to_another_duty_gives_no_verdict() -> None:
    """"Deze verplichting is niet van toepassing op ..." says when a duty stated elsewhere does not
    apply: it does not tell whether the duty asked about exists (it gave "Ja, onder voorwaarden"
    to an employer asking about informing staff)."""
    q = "Moet ik als werkgever mijn personeel informeren als ik een AI-systeem gebruik om sollicitanten te selecteren?"
    exc = ("Deze verplichting is niet van toepassing op voor biometrische categorisering gebruikte AI-systemen, die "
           "bij wet zijn toegestaan om strafbare feiten op te sporen.")
    duty = ("Voordat een AI-systeem met een hoog risico op de werkplek wordt gebruikt, delen gebruiksverantwoordelijken "
            "die werkgever zijn de betrokken werknemers mee dat zij aan het gebruik ervan zullen worden onderworpen.")
    assert verdict.derive(q, "yesno", [(exc, "")], "nl") == ""
    assert verdict.derive(q, "yesno", [(exc, ""), (duty, "")], "nl") == "yes"  # the next quote answers
    en = "The obligations referred to in paragraph 1 shall not apply to AI systems authorised by law to detect crime."
    assert verdict.derive("Must we label our chatbot?", "yesno", [(en, "")], "en") == ""
    # ... but it still answers a question about the excepted case itself
    q = "Must we inform people when AI systems authorised by law to detect crime are used?"
    assert verdict.derive(q, "yesno", [(en, "")], "en") == "no"


def test_a_count_keeps_its_qualifier() -> None:
    quote = "Het AI-bureau zal meer dan 140 medewerkers in dienst hebben, waaronder technologiespecialisten."
    assert verdict.derive("Hoeveel medewerkers krijgt het AI-bureau?", "amount", [(quote, "")], "nl") == \
        "meer dan 140 medewerkers"
    quote = "The AI Office employs 140 staff members."
    assert verdict.derive("How many staff does the AI Office have?", "amount", [(quote, "")], "en") == "140 staff"


def test_the_derogation_from_the_high_risk_list_and_its_exception() -> None:
    """Article 6(3): a system of the list is not high-risk where it meets a condition (read with
    the paragraph's lead-in), but always is where it profiles people."""
    always = ("Notwithstanding the first subparagraph, an AI system referred to in Annex III shall always be "
              "considered to be high-risk where the AI system performs profiling of natural persons.")
    q = "Can an Annex III system that profiles natural persons avoid high-risk status under Article 6(3)?"
    assert verdict.derive(q, "yesno", [(always, "")], "en") == "no"
    assert verdict.derive("Is our Annex III system that profiles natural persons high-risk?", "yesno",
                          [(always, "")], "en") == "yes"
    # the question denies the case: this sentence does not answer it
    assert verdict.derive("Our Annex III tool does not profile anyone. Is it high-risk?", "yesno",
                          [(always, "")], "en") == ""
    lead = ("In afwijking van lid 2 wordt een in bijlage III bedoeld AI-systeem niet als AI-systeem met een hoog risico "
            "beschouwd wanneer het geen significant risico inhoudt. De eerste alinea is van toepassing wanneer aan een "
            "van de volgende voorwaarden is voldaan:")
    point = "a) het AI-systeem is bedoeld om een beperkte procedurele taak uit te voeren;"
    q = ("Ons bijlage III-systeem voert alleen een beperkte procedurele taak uit en maakt geen profielen. "
         "Is het dan toch hoog risico?")
    assert verdict.derive(q, "yesno", [(point, lead)], "nl") == "no"
    assert verdict.derive(q, "yesno", [(point, "")], "nl") == ""  # without its lead-in the point says nothing
    other = "d) het AI-systeem is bedoeld om een voorbereidende taak uit te voeren voor een beoordeling;"
    assert verdict.derive(q, "yesno", [(other, lead)], "nl") == ""  # "bijlage III" and "taak" only: another condition
    assert verdict.asks_high_risk(q) and not verdict.asks_high_risk("Moet ik een risicobeheersysteem opzetten?")


def test_free_of_charge_in_other_words() -> None:
    quote = ("d) de toegang tot de testomgevingen voor kmo's, waaronder start-ups, kosteloos is, onverminderd "
             "uitzonderlijke kosten die de autoriteiten op billijke wijze mogen verhalen;")
    assert verdict.derive("Hebben kmo's gratis toegang tot een testomgeving?", "yesno", [(quote, "")], "nl") == "yes-if"
    assert verdict.derive("Is access to the sandbox free of charge for SMEs?", "yesno",
                          [("Access for SMEs shall be free of charge.", "")], "en") == "yes"
    assert verdict.derive("Is access free of charge?", "yesno",
                          [("Access shall not be free of charge for large undertakings.", "")], "en") != "yes"
    assert verdict.derive("Moeten kmo's de testomgeving gebruiken?", "yesno", [(quote, "")], "nl") != "yes-if"


def test_which_authority_is_competent() -> None:
    lead = ("Het AI-bureau is exclusief bevoegd voor het toezicht op en de handhaving van de verplichtingen uit hoofde "
            "van deze verordening met betrekking tot de volgende AI-systemen:")
    q = "Is het AI-bureau exclusief bevoegd voor het toezicht op AI-systemen op basis van een eigen model?"
    assert verdict.derive(q, "yesno", [(lead, "")], "nl") == "yes-if"  # for the systems it lists
    point = "a) AI-systemen die gebaseerd zijn op AI-modellen voor algemene doeleinden van dezelfde aanbieder;"
    en = "Is the AI Office the supervisor for an AI system built on a general-purpose AI model by the same provider?"
    assert verdict.derive(en, "yesno", [(point, lead)], "nl") == "yes-if"
    # another authority's competence says nothing of the one asked about
    assert verdict.derive("Is de Commissie bevoegd voor het toezicht op deze systemen?", "yesno", [(lead, "")],
                          "nl") == ""
    assert verdict.derive("Is the AI Office competent for national sandboxes?", "yesno",
                          [("The AI Office is not competent for national sandboxes.", "")], "en") == "no"


def test_a_sentence_against_the_verdict_line() -> None:
    # a flat yes under a conditional verdict drops the condition; a yes under a no contradicts it
    assert verdict.against("Ja, software die cv's selecteert is een hoog-risico AI-systeem.", "yes-if")
    assert not verdict.against("Ja, als het systeem profilering uitvoert is het hoog risico.", "yes-if")
    assert verdict.against("Yes, it may be used.", "no-unless")
    assert verdict.against("Nee, dat hoeft niet.", "yes")
    assert not verdict.against("Nee, dat hoeft niet.", "no")
    assert not verdict.against("No, except for medical or safety reasons.", "no-unless")
    # no verdict, or one that is not a yes or no, or a sentence that does not open with one
    assert not verdict.against("Ja, dat moet.", "")
    assert not verdict.against("Ja, dat moet.", "2 augustus 2026")
    assert not verdict.against("No provider may place it on the market.", "yes")


def test_another_kind_of_act_than_the_one_asked_is_a_no() -> None:
    art72_3 = ("De Commissie stelt uiterlijk op 2 september 2027 richtsnoeren vast, met inbegrip van een model, voor "
               "het plan voor monitoring na het in de handel brengen en houdt daarbij zoveel mogelijk rekening met het "
               "advies van de AI-board.")
    q = "Komt er nog een uitvoeringshandeling met een model voor het plan voor monitoring na het in de handel brengen?"
    assert verdict.question_kind(q) == "yesno"
    assert verdict.derive(q, "yesno", [(art72_3, "")], "nl") == "no"
    # the kind the quote provides for, or a quote about something else: not this rule's "no"
    assert verdict.derive("Komen er richtsnoeren met een model voor het plan voor monitoring?", "yesno",
                          [(art72_3, "")], "nl") != "no"
    assert verdict.derive("Komt er een uitvoeringshandeling over de EU-databank?", "yesno", [(art72_3, "")], "nl") == ""


def test_a_price_no_decisive_sentence_names_is_not_in_the_sources() -> None:
    art49_1 = ("Before placing on the market or putting into service a high-risk AI system listed in Annex III, the "
               "provider or, where applicable, the authorised representative shall register themselves and their "
               "system in the EU database referred to in Article 71.")
    q = "How much does it cost to register an AI system in the EU database?"
    assert verdict.question_kind(q) == "amount"
    assert verdict.derive(q, "amount", [(art49_1, "")], "en") == "not-in-sources"
    # a sum, or "free of charge", is an answer; a fine is never "not in the sources" by this rule
    sandbox = "Access to the AI regulatory sandboxes shall be free of charge for SMEs, including start-ups."
    assert verdict.derive("How much does sandbox access cost an SME?", "amount", [(sandbox, "")], "en") == ""
    assert verdict.derive("How much is the fine for a prohibited practice?", "amount", [(art49_1, "")], "en") == ""
    assert verdict.derive(q, "amount", [], "en") == ""


def test_may_it_be_done_without_what_a_party_must_do() -> None:
    art50_1 = ("Providers shall ensure that AI systems intended to interact directly with natural persons are designed "
               "and developed in such a way that the natural persons concerned are informed that they are interacting "
               "with an AI system, unless this is obvious from the point of view of a natural person who is reasonably "
               "well-informed, observant and circumspect.")
    q = "Can we use a customer service chatbot without telling customers it is AI?"
    assert verdict.derive(q, "yesno", [(art50_1, "")], "en") == "no-unless"
    # without "without", a permission question on a duty keeps its reading
    assert verdict.derive("Can we use a customer service chatbot?", "yesno", [(art50_1, "")], "en") != "no-unless"


def test_do_i_need_asks_a_duty() -> None:
    art16_f = ("Providers of high-risk AI systems shall ensure that the high-risk AI system undergoes the relevant "
               "conformity assessment procedure prior to its being placed on the market.")
    q = "Do providers need a conformity assessment for a high-risk AI system?"
    assert verdict.question_kind(q) == "yesno"
    assert verdict.derive(q, "yesno", [(art16_f, "")], "en") == "yes"


def test_to_whom_names_the_party_addressed() -> None:
    art75_1a = ("In afwijking van artikel 73 melden aanbieders van AI-systemen met een hoog risico die onder de "
                "bevoegdheid van het AI-bureau vallen, elk ernstig incident aan het AI-bureau.")
    q = "Ons AI-systeem valt onder het toezicht van het AI-bureau. Bij wie moeten we een ernstig incident melden?"
    assert verdict.question_kind(q) == "who"
    assert verdict.derive(q, "who", [(art75_1a, "")], "nl") == "het AI-bureau"
    assert verdict.derive("Wie moet een ernstig incident melden bij het AI-bureau?", "who",
                          [(art75_1a, "")], "nl") == "aanbieders"


def test_a_system_an_annex_iii_point_excludes_is_not_listed() -> None:
    lead = "High-risk AI systems pursuant to Article 6(2) are the AI systems listed in any of the following areas:"
    excl = ("This does not include AI systems to the output of which natural persons are not directly exposed, such "
            "as tools used to organise, optimise or structure political campaigns from an administrative or "
            "logistical point of view.")
    q = ("We sell a tool that helps political parties organise campaign logistics; voters never see its output. "
         "Is it a high-risk AI system?")
    assert verdict.derive(q, "yesno", [(excl, lead)], "en") == "no"
    point = ("(b) AI systems intended to be used for influencing the outcome of an election or the voting behaviour "
             "of natural persons. " + excl)
    assert verdict.derive("Is an AI system that influences the voting behaviour in an election high-risk?", "yesno",
                          [(point, lead)], "en") == "yes-if"


def test_a_reduced_fee_answers_a_discount_question() -> None:
    art62_2 = ("The specific interests and needs of the SME providers shall be taken into account when setting the fees "
               "for conformity assessment under Article 43, reducing those fees proportionately to their size.")
    assert verdict.derive("Do SMEs get a discount on conformity assessment fees?", "yesno", [(art62_2, "")], "en") == "yes"
    assert verdict.derive("Do SMEs get a discount on conformity assessment fees?", "yesno",
                          [("The fees for conformity assessment shall not be reduced.", "")], "en") != "yes"


def test_a_ban_of_something_the_question_does_not_name_gives_no_verdict() -> None:
    par145 = ("Importantly, as internal market legislation, the prohibitions in Article 5(1)(a) and (b) AI Act cover "
              "not only the use, but also the placing on the market of the AI system.")
    assert verdict.derive("Are deepfakes banned under the AI Act?", "yesno", [(par145, "")], "en") == ""
    art5_1_f = ("The following AI practices shall be prohibited: the use of AI systems to infer emotions of a natural "
                "person in the areas of workplace, except for medical or safety reasons.")
    assert verdict.derive("Is emotion recognition in the workplace banned under the AI Act?", "yesno",
                          [(art5_1_f, "")], "en") == "yes-if"
