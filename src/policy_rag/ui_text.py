"""Every string the Gradio app shows, Dutch first, then English.

The app follows the question's language: labels are Dutch until a question is asked in
English (``Answer.language``). Keep the two dictionaries in step: ``test_app.py`` checks
that they have the same keys.
"""

from __future__ import annotations

from .types import Lang

TEXT: dict[Lang, dict[str, str]] = {
    "nl": {
        "title": "policy-rag: vragen over het Europese AI-beleid",
        "subtitle": "Antwoorden uit de AI-verordening, de richtsnoeren van de Commissie en de digitale omnibus, "
                    "met bronvermelding.",
        "disclaimer": "Dit is informatie, geen juridisch advies. Controleer altijd de officiële tekst "
                      "(de links bij elke bron).",
        # tabs
        "tab_chat": "Vraag het",
        "tab_cite": "Waar wordt dit geciteerd?",
        "tab_eval": "Beoordelaar",
        # chat
        "question_label": "Uw vraag",
        "question_placeholder": "Bijvoorbeeld: Mag ik emotieherkenning gebruiken op de werkplek?",
        "send": "Vraag",
        "clear": "Nieuw gesprek",
        "backend_label": "Taalmodel",
        "backend_auto": "Automatisch",
        "backend_local": "Lokaal model (llama.cpp)",
        "backend_hosted": "Gehost model (OpenAI-compatibel)",
        "backend_none": "Geen taalmodel (alleen passages)",
        "backend_used": "Gemaakt met: {backend}",
        "backend_default": "Standaard taalmodel: {backend}",
        "used_local": "lokaal model",
        "used_hosted": "gehost model",
        "used_none": "geen taalmodel (letterlijke passages)",
        "chat_placeholder": "Stel een vraag over de AI-verordening, in het Nederlands of in het Engels. "
                            "Of kies een voorbeeld:",
        "checking": "_(wordt gecontroleerd tegen de bronnen …)_",
        "searching": "_(bronnen zoeken …)_",
        "refusal_title": "Geen antwoord in de bronnen",
        "refusal_body": "De doorzochte teksten beantwoorden deze vraag niet. Dat is geen fout: probeer de vraag "
                        "anders te stellen, of zoek een bepaling op in het tabblad ‘Waar wordt dit geciteerd?’.",
        "refusal_reason": "Reden: {reason}",
        "reason_not-relevant": "geen passage lijkt genoeg op de vraag.",
        "reason_unknown-terms": "de vraag noemt iets dat in geen enkele bron voorkomt.",
        "reason_asks-for-events": "de vraag gaat over wat er inmiddels is gebeurd of wie een functie bekleedt; "
                                  "de bronnen zijn wet- en beleidsteksten en houden dat niet bij.",
        "reason_national-body": "de vraag vraagt welke instantie een lidstaat heeft aangewezen; de Europese teksten "
                                "laten dat aan elke lidstaat over en noemen die instantie niet.",
        "reason_no-amount": "de vraag vraagt naar een bedrag, en geen gevonden passage noemt er een.",
        "reason_no-passages": "de gevonden passages bevatten instructies aan de assistent en zijn genegeerd.",
        "reason_judged-unanswerable": "het taalmodel beoordeelde vooraf dat de gevonden passages het antwoord "
                                      "niet bevatten.",
        "reason_model-refused": "het taalmodel vond het antwoord niet in de passages.",
        "reason_unsupported": "geen enkele zin van het antwoord werd door de bronnen gestaafd.",
        "reason_no-such-provision": "de vraag noemt een bepaling die de AI-verordening niet heeft.",
        "input_title": "Vraag niet verwerkt",
        "error_title": "Er ging iets mis",
        "error_body": "Het antwoord kon niet worden gemaakt: {message}",
        "notes_title": "Let op",
        "sources_title": "Bronnen ({n})",
        "no_sources": "",
        "card_document": "Document",
        "card_version": "Versie",
        "card_official": "Officiële tekst bij deze bepaling",
        "card_twin_en": "Dezelfde bepaling in het Engels",
        "card_twin_nl": "Dezelfde bepaling in het Nederlands",
        "card_no_twin_en": "Deze tekst is niet in het Engels in de bronnen.",
        "card_no_twin_nl": "Deze tekst is niet in het Nederlands in de bronnen.",
        "card_guidance": "niet bindend",
        "card_binding": "bindend",
        "card_quote_missing": "Geciteerd:",
        # the law in force on a date
        "on_accordion": "Geldende tekst op een datum",
        "on_label": "Datum (JJJJ-MM-DD)",
        "on_placeholder": "leeg: vandaag",
        "on_info": "De antwoorden gebruiken de wettekst zoals die op deze datum gold (of zal gelden).",
        "on_used": "Geldende tekst op {date}",
        "on_title": "Datum niet herkend",
        "on_error": "‘{value}’ is geen datum in de vorm JJJJ-MM-DD (bijvoorbeeld 2026-12-02).",
        "card_amended_by": "Gewijzigd bij",
        "card_versions": "Andere teksten van deze bepaling",
        "card_version_period": "{label}, {period}",
        "card_this_version": "deze tekst",
        "timings": "{total:.1f} s",
        # cite
        "cite_label": "Bepaling of zinsdeel",
        "cite_placeholder": "Artikel 6, lid 2 · Article 6(2) · bijlage III · ‘emotieherkenning’",
        "cite_button": "Zoek verwijzingen",
        "cite_examples": "Voorbeelden",
        "cite_own": "De tekst van {label}",
        "cite_own_lang_nl": "Nederlands",
        "cite_own_lang_en": "Engels",
        "cite_own_none": "Deze bepaling staat niet in de index.",
        "cite_referring": "Verwijzingen naar {label}: {n} passage(s) in {d} document(en)",
        "cite_phrase": "Passages met ‘{query}’: {n} in {d} document(en)",
        "cite_none": "Geen passages gevonden die hiernaar verwijzen.",
        "cite_empty": "Vul een bepaling of een zinsdeel in.",
        # eval
        "eval_intro": "Draai (een deel van) de evaluatieset, bekijk per vraag het antwoord, de bronnen, de "
                      "gouden bepalingen en de automatische scores, en beoordeel de getrouwheid.",
        "eval_lang": "Taal",
        "eval_lang_all": "alle",
        "eval_limit": "Aantal vragen (0 = alle)",
        "eval_backend": "Taalmodel",
        "eval_run": "Evaluatie draaien",
        "eval_summary": "{n} vragen · gouden bepaling geciteerd: {hit}/{answerable} · weigering correct: "
                        "{refusal}/{n} · latentie p50 {p50:.2f} s, p95 {p95:.2f} s · beoordeeld: {marked}",
        "eval_none": "Nog geen resultaten: draai de evaluatie.",
        "eval_pick": "Vraag",
        "eval_mark": "Getrouwheid",
        "mark_supported": "ondersteund",
        "mark_partly": "deels",
        "mark_not": "niet ondersteund",
        "eval_comment": "Opmerking",
        "eval_save": "Beoordeling opslaan",
        "eval_saved": "Opgeslagen in {path} ({n} beoordelingen).",
        "eval_pick_first": "Kies eerst een vraag.",
        "eval_export_csv": "Exporteer CSV",
        "eval_export_json": "Exporteer JSON",
        "eval_marks_file": "Beoordelingen worden bewaard in {path} ({n} geladen).",
        "eval_error": "De evaluatie kon niet draaien: {message}",
        "eval_disabled": "De beoordelaar staat uit op deze server (zet POLICY_RAG_EVALUATOR=on om hem aan te zetten).",
        "eval_detail_answer": "Antwoord",
        "eval_detail_gold": "Gouden bepalingen",
        "eval_detail_keypoints": "Kernpunten",
        "yes": "ja",
        "no": "nee",
    },
    "en": {
        "title": "policy-rag: questions about EU AI policy",
        "subtitle": "Answers from the AI Act, the Commission's guidelines and the digital omnibus, with sources.",
        "disclaimer": "This is information, not legal advice. Always check the official text "
                      "(the links with each source).",
        "tab_chat": "Ask",
        "tab_cite": "Where is this cited?",
        "tab_eval": "Evaluator",
        "question_label": "Your question",
        "question_placeholder": "For example: May I use emotion recognition at the workplace?",
        "send": "Ask",
        "clear": "New conversation",
        "backend_label": "Language model",
        "backend_auto": "Automatic",
        "backend_local": "Local model (llama.cpp)",
        "backend_hosted": "Hosted model (OpenAI-compatible)",
        "backend_none": "No language model (passages only)",
        "backend_used": "Made with: {backend}",
        "backend_default": "Default language model: {backend}",
        "used_local": "local model",
        "used_hosted": "hosted model",
        "used_none": "no language model (verbatim passages)",
        "chat_placeholder": "Ask a question about the AI Act, in Dutch or in English. Or pick an example:",
        "checking": "_(being checked against the sources …)_",
        "searching": "_(searching the sources …)_",
        "refusal_title": "No answer in the sources",
        "refusal_body": "The texts searched do not answer this question. That is not an error: try asking it "
                        "differently, or look up a provision in the ‘Where is this cited?’ tab.",
        "refusal_reason": "Reason: {reason}",
        "reason_not-relevant": "no passage is similar enough to the question.",
        "reason_unknown-terms": "the question names something no source mentions.",
        "reason_asks-for-events": "the question asks what has happened since, or who holds a post; the sources "
                                  "are legal and policy texts and do not record that.",
        "reason_national-body": "the question asks which body a Member State designated; the EU texts leave that "
                                "to each Member State and do not name it.",
        "reason_no-amount": "the question asks for an amount of money, and no passage found names one.",
        "reason_no-passages": "the passages found contain instructions to the assistant and were ignored.",
        "reason_judged-unanswerable": "the language model judged first that the passages found do not contain "
                                      "the answer.",
        "reason_model-refused": "the language model did not find the answer in the passages.",
        "reason_unsupported": "no sentence of the answer was supported by the sources.",
        "reason_no-such-provision": "the question names a provision the AI Act does not have.",
        "input_title": "Question not processed",
        "error_title": "Something went wrong",
        "error_body": "The answer could not be made: {message}",
        "notes_title": "Note",
        "sources_title": "Sources ({n})",
        "no_sources": "",
        "card_document": "Document",
        "card_version": "Version",
        "card_official": "Official text at this provision",
        "card_twin_en": "The same provision in English",
        "card_twin_nl": "The same provision in Dutch",
        "card_no_twin_en": "This text is not in the sources in English.",
        "card_no_twin_nl": "This text is not in the sources in Dutch.",
        "card_guidance": "not binding",
        "card_binding": "binding",
        "card_quote_missing": "Quoted:",
        # the law in force on a date
        "on_accordion": "Law in force on a date",
        "on_label": "Date (YYYY-MM-DD)",
        "on_placeholder": "empty: today",
        "on_info": "Answers use the text of the law as it stood (or will stand) on this date.",
        "on_used": "Law in force on {date}",
        "on_title": "Date not recognised",
        "on_error": "‘{value}’ is not a date in the form YYYY-MM-DD (for example 2026-12-02).",
        "card_amended_by": "Amended by",
        "card_versions": "Other wordings of this provision",
        "card_version_period": "{label}, {period}",
        "card_this_version": "this wording",
        "timings": "{total:.1f} s",
        "cite_label": "Provision or phrase",
        "cite_placeholder": "Artikel 6, lid 2 · Article 6(2) · Annex III · ‘emotion recognition’",
        "cite_button": "Find references",
        "cite_examples": "Examples",
        "cite_own": "The text of {label}",
        "cite_own_lang_nl": "Dutch",
        "cite_own_lang_en": "English",
        "cite_own_none": "This provision is not in the index.",
        "cite_referring": "References to {label}: {n} passage(s) in {d} document(s)",
        "cite_phrase": "Passages containing ‘{query}’: {n} in {d} document(s)",
        "cite_none": "No passages found that refer to it.",
        "cite_empty": "Enter a provision or a phrase.",
        "eval_intro": "Run (part of) the evaluation set, see per question the answer, the sources, the gold "
                      "provisions and the automatic scores, and mark faithfulness.",
        "eval_lang": "Language",
        "eval_lang_all": "all",
        "eval_limit": "Number of questions (0 = all)",
        "eval_backend": "Language model",
        "eval_run": "Run evaluation",
        "eval_summary": "{n} questions · gold provision cited: {hit}/{answerable} · refusal correct: "
                        "{refusal}/{n} · latency p50 {p50:.2f} s, p95 {p95:.2f} s · marked: {marked}",
        "eval_none": "No results yet: run the evaluation.",
        "eval_pick": "Question",
        "eval_mark": "Faithfulness",
        "mark_supported": "supported",
        "mark_partly": "partly",
        "mark_not": "not supported",
        "eval_comment": "Comment",
        "eval_save": "Save mark",
        "eval_saved": "Saved in {path} ({n} marks).",
        "eval_pick_first": "Pick a question first.",
        "eval_export_csv": "Export CSV",
        "eval_export_json": "Export JSON",
        "eval_marks_file": "Marks are kept in {path} ({n} loaded).",
        "eval_error": "The evaluation could not run: {message}",
        "eval_disabled": "The evaluator is off on this server (set POLICY_RAG_EVALUATOR=on to switch it on).",
        "eval_detail_answer": "Answer",
        "eval_detail_gold": "Gold provisions",
        "eval_detail_keypoints": "Key points",
        "yes": "yes",
        "no": "no",
    },
}

# Shown on the empty chat: Dutch first, one English.
EXAMPLES: list[str] = [
    "Mag ik emotieherkenning gebruiken op de werkplek?",
    "Wat is een gebruiksverantwoordelijke?",
    "Vanaf wanneer gelden de regels voor AI-modellen voor algemene doeleinden?",
    "Welke AI-praktijken zijn verboden?",
    "Which obligations apply to deployers of high-risk AI systems?",
]

CITE_EXAMPLES: list[str] = ["Artikel 6, lid 2", "Article 6(2)", "bijlage III", "Artikel 5, lid 1, punt f"]

# The evaluator's three faithfulness marks (stored value -> label key).
MARKS: dict[str, str] = {"supported": "mark_supported", "partly": "mark_partly", "not": "mark_not"}

# Short names of the documents (work ids of the corpus manifest), used when the manifest is not at hand.
DOC_NAMES: dict[Lang, dict[str, str]] = {
    "nl": {
        "ai-act": "AI-verordening (EU) 2024/1689",
        "omnibus": "Digitale omnibus inzake AI (EU) 2026/1744",
        "guidelines-prohibited": "Richtsnoeren verboden AI-praktijken, C(2025) 5052",
        "guidelines-ai-system": "Richtsnoeren definitie AI-systeem, C(2025) 5053",
        "page-european-approach": "Webpagina ‘Europese aanpak van AI’",
        "page-ai-office": "Webpagina ‘Europees AI-bureau’",
        "page-ai-pact": "Webpagina ‘AI-pact’ (verouderd)",
    },
    "en": {
        "ai-act": "AI Act, Regulation (EU) 2024/1689",
        "omnibus": "Digital omnibus on AI, Regulation (EU) 2026/1744",
        "guidelines-prohibited": "Guidelines on prohibited AI practices, C(2025) 5052",
        "guidelines-ai-system": "Guidelines on the AI system definition, C(2025) 5053",
        "page-european-approach": "Web page ‘European approach to AI’",
        "page-ai-office": "Web page ‘European AI Office’",
        "page-ai-pact": "Web page ‘AI Pact’ (outdated)",
    },
}


def t(lang: str | None, key: str, **kw: object) -> str:
    """The string ``key`` in ``lang`` (Dutch when unknown), formatted with ``kw``."""
    table = TEXT["en"] if lang == "en" else TEXT["nl"]
    s = table[key]
    return s.format(**kw) if kw else s


def doc_name(doc: str, lang: str | None) -> str:
    return DOC_NAMES["en" if lang == "en" else "nl"].get(doc, doc)


def backend_choices(lang: str | None) -> list[tuple[str, str]]:
    return [(t(lang, f"backend_{b}"), b) for b in ("auto", "local", "hosted", "none")]


def mark_choices(lang: str | None) -> list[tuple[str, str]]:
    return [(t(lang, key), value) for value, key in MARKS.items()]
