"""legal.py: canonical provisions, labels, ids, hierarchy, references, query parsing."""

from __future__ import annotations

import pytest

from policy_rag import legal
from policy_rag.legal import (
    article_of,
    find_refs,
    from_id_suffix,
    id_suffix,
    label,
    matches,
    parent,
    parse_query_provision,
)

# --------------------------------------------------------------------------- labels


@pytest.mark.parametrize(
    ("provision", "en", "nl"),
    [
        ("Article 5", "Article 5", "Artikel 5"),
        ("Article 5(1)", "Article 5(1)", "Artikel 5, lid 1"),
        ("Article 5(1)(f)", "Article 5(1), point (f)", "Artikel 5, lid 1, punt f)"),
        ("Article 5(1)(h)(iii)", "Article 5(1), point (h)(iii)", "Artikel 5, lid 1, punt h), iii)"),
        ("Article 3(1)", "Article 3, point (1)", "Artikel 3, punt 1)"),
        ("Article 16(a)", "Article 16, point (a)", "Artikel 16, punt a)"),
        ("Recital 27", "Recital 27", "Overweging 27"),
        ("Annex III", "Annex III", "Bijlage III"),
        ("Annex III(4)", "Annex III, point 4", "Bijlage III, punt 4"),
        ("Annex III(4)(a)", "Annex III, point 4(a)", "Bijlage III, punt 4, a)"),
        ("Annex VII(4.1)", "Annex VII, point 4.1", "Bijlage VII, punt 4.1"),
        ("Annex XIII(a)", "Annex XIII, point (a)", "Bijlage XIII, punt a)"),
        ("Annex VIII, Section A(1)", "Annex VIII, Section A, point 1", "Bijlage VIII, afdeling A, punt 1"),
        ("Paragraph 42", "para. 42", "punt 42"),
        ("Section 3", "Section 3", "Sectie 3"),
    ],
)
def test_label(provision: str, en: str, nl: str) -> None:
    assert label(provision, "en") == en
    assert label(provision, "nl") == nl


def test_label_of_non_canonical_string_is_unchanged() -> None:
    assert label("Chapter III", "nl") == "Chapter III"


# --------------------------------------------------------------------------- ids


@pytest.mark.parametrize(
    ("provision", "suffix"),
    [
        ("Article 5", "art-5"),
        ("Article 5(1)(f)", "art-5.1.f"),
        ("Article 3(68)", "art-3.68"),
        ("Recital 27", "rct-27"),
        ("Annex III", "anx-iii"),
        ("Annex III(4)(a)", "anx-iii.4.a"),
        ("Annex VII(4.1)", "anx-vii.4.1"),
        ("Annex VIII, Section A(1)", "anx-viii.sec-a.1"),
        ("Annex XI, Section 2", "anx-xi.sec-2"),
        ("Paragraph 42", "par-42"),
        ("Section 3", "sec-3"),
    ],
)
def test_id_suffix_round_trip(provision: str, suffix: str) -> None:
    assert id_suffix(provision) == suffix
    assert from_id_suffix(suffix) == provision


def test_id_suffix_rejects_non_canonical() -> None:
    with pytest.raises(ValueError):
        id_suffix("Artikel 5")
    with pytest.raises(ValueError):
        from_id_suffix("xyz-5")


# --------------------------------------------------------------------------- hierarchy


def test_parent_and_article_of() -> None:
    assert parent("Article 5(1)(f)") == "Article 5(1)"
    assert parent("Article 5(1)") == "Article 5"
    assert parent("Article 5") is None
    assert parent("Annex III(4)(a)") == "Annex III(4)"
    assert parent("Annex VIII, Section A(1)") == "Annex VIII, Section A"
    assert parent("Annex VIII, Section A") == "Annex VIII"
    assert parent("Recital 27") is None
    assert article_of("Article 5(1)(f)") == "Article 5"
    assert article_of("Annex III(4)(a)") == "Annex III"
    assert article_of("Recital 27") == "Recital 27"


@pytest.mark.parametrize(
    ("gold", "got", "expected"),
    [
        ("Article 5", "Article 5(1)(f)", True),
        ("Article 5(1)(f)", "Article 5(1)", True),
        ("Article 5(1)(f)", "Article 5", True),
        ("Article 5(1)", "Article 5(1)", True),
        ("Article 5", "Article 50", False),
        ("Article 5(1)", "Article 5(2)", False),
        ("Article 5(1)(f)", "Article 5(1)(g)", False),
        ("Article 5(1)", "Article 5(10)", False),
        ("Annex III", "Annex III(4)", True),
        ("Annex III(4)", "Annex III(4)(a)", True),
        ("Annex III", "Annex II", False),
        ("Annex I", "Annex III", False),
        ("Annex VIII", "Annex VIII, Section A(1)", True),
        ("Annex VIII, Section A", "Annex VIII, Section B(1)", False),
        ("Recital 27", "Recital 27", True),
        ("Recital 2", "Recital 27", False),
        ("Article 27", "Recital 27", False),
        ("Paragraph 42", "Paragraph 42", True),
    ],
)
def test_matches(gold: str, got: str, expected: bool) -> None:
    assert matches(gold, got) is expected
    assert matches(got, gold) is expected


def test_canonical_normalises_and_leaves_other_strings() -> None:
    assert legal.canonical("Annex III(4)(a)") == "Annex III(4)(a)"
    assert legal.canonical("whatever") == "whatever"
    assert legal.parse("Article 5(1)(f)") == legal.Provision("article", "5", ("1", "f"))


def test_roman_numerals() -> None:
    assert legal.roman_to_int("XIII") == 13
    assert legal.roman_to_int("IIII") == 0  # not canonical
    assert legal.int_to_roman(4) == "IV"


# --------------------------------------------------------------------------- references, EN


@pytest.mark.parametrize(
    ("text", "refs"),
    [
        ("as referred to in Article 6(2)", ["Article 6(2)"]),
        ("Article 5(1), point (a)", ["Article 5(1)(a)"]),
        ("point (a) of Article 5(1)", ["Article 5(1)(a)"]),
        ("point (h) of the first subparagraph of Article 5(1)", ["Article 5(1)(h)"]),
        ("Article 5(1), first subparagraph, point (h)(iii)", ["Article 5(1)(h)(iii)"]),
        ("points (a) to (c) of Article 5(1)", ["Article 5(1)(a)", "Article 5(1)(b)", "Article 5(1)(c)"]),
        ("Articles 8 to 15", [f"Article {n}" for n in range(8, 16)]),
        ("Articles 9, 10 and 11", ["Article 9", "Article 10", "Article 11"]),
        ("Article 74(8) or (9)", ["Article 74(8)", "Article 74(9)"]),
        ("Article 6(1) and (3)", ["Article 6(1)", "Article 6(3)"]),
        (
            "Article 5(1), first subparagraph, point (h), (2) to (6) and Article 26(10) of this Regulation",
            ["Article 5(1)(h)", "Article 5(2)", "Article 5(3)", "Article 5(4)", "Article 5(5)", "Article 5(6)",
             "Article 26(10)"],
        ),
        ("paragraph 2 of Article 6", ["Article 6(2)"]),
        ("Article 3, point (49)(c)", ["Article 3(49)(c)"]),
        ("Annex III", ["Annex III"]),
        ("Annex III, point 4", ["Annex III(4)"]),
        ("Annex III, point 4(a)", ["Annex III(4)(a)"]),
        ("points 1 to 8 of Annex III", [f"Annex III({n})" for n in range(1, 9)]),
        ("Annexes I and III", ["Annex I", "Annex III"]),
        ("point 3 of Section A of Annex VIII", ["Annex VIII, Section A(3)"]),
        ("listed in Section B of Annex I", ["Annex I"]),  # Annex I numbers its points through
        ("Recital 27", ["Recital 27"]),
        ("recitals 27 and 28", ["Recital 27", "Recital 28"]),
        ("Article 5 of this Regulation", ["Article 5"]),
        ("Article 5 of Regulation (EU) 2024/1689", ["Article 5"]),
        ("Articles 6 and 6 and Article 6", ["Article 6"]),  # deduplicated
        ("Article 50 and Article 5.", ["Article 50", "Article 5"]),  # in order
    ],
)
def test_find_refs_en(text: str, refs: list[str]) -> None:
    assert find_refs(text, "en") == refs


@pytest.mark.parametrize(
    "text",
    [
        "Article 16 of Regulation (EU) 2016/679",
        "Article 114 TFEU",
        "Article 16 of the TFEU",
        "Article 4(3) of Regulation (EC) No 300/2008",
        "Article 10 of Directive (EU) 2016/680",
        "Article 2(1), points (a) and (b), of Regulation (EU) 2019/1020",
        "Articles 9 and 10 of Directive 2016/680",
        "Article 8 of that Regulation",
        "Article 21 of the Charter",
        "Chapter III, Section 2",
        "Article 290",  # beyond the 113 articles of the act
        "no reference at all, 5(1) alone",
    ],
)
def test_find_refs_en_excludes_other_acts(text: str) -> None:
    assert find_refs(text, "en") == []


def test_find_refs_mixed_keeps_only_the_ai_act() -> None:
    text = "Articles 9 and 10 of Directive 2016/680 and Article 12; see also Article 114 TFEU and Annex IV."
    assert find_refs(text, "en") == ["Article 12", "Annex IV"]


# --------------------------------------------------------------------------- references, NL


@pytest.mark.parametrize(
    ("text", "refs"),
    [
        ("artikel 6, lid 2", ["Article 6(2)"]),
        ("bedoeld in artikel 26, lid 8", ["Article 26(8)"]),
        ("artikel 5, lid 1, punt a)", ["Article 5(1)(a)"]),
        ("artikel 5, lid 1, eerste alinea, punt h), iii)", ["Article 5(1)(h)(iii)"]),
        ("artikel 5, lid 1, eerste alinea, punt h), i)", ["Article 5(1)(h)(i)"]),  # singular "punt": a sub-point
        ("artikel 5, lid 1, punten g) en h)", ["Article 5(1)(g)", "Article 5(1)(h)"]),
        ("de punten a), b) en c) van artikel 5, lid 1", ["Article 5(1)(a)", "Article 5(1)(b)", "Article 5(1)(c)"]),
        ("de artikelen 8 tot en met 15", [f"Article {n}" for n in range(8, 16)]),
        ("de artikelen 9, 10 en 11", ["Article 9", "Article 10", "Article 11"]),
        ("artikel 6, leden 1 en 2", ["Article 6(1)", "Article 6(2)"]),
        ("artikel 74, lid 8 of 9", ["Article 74(8)", "Article 74(9)"]),
        ("artikel 3, punt 1)", ["Article 3(1)"]),
        ("in artikel 3, punt 49), c), van de onderhavige verordening", ["Article 3(49)(c)"]),
        ("bijlage III", ["Annex III"]),
        ("punt 4 van bijlage III", ["Annex III(4)"]),
        ("bijlage III, punt 4, a)", ["Annex III(4)(a)"]),
        ("de punten 1 tot en met 8 van bijlage III", [f"Annex III({n})" for n in range(1, 9)]),
        ("in bijlage VIII, afdeling A, punt 3, bedoelde", ["Annex VIII, Section A(3)"]),
        ("overweging 27", ["Recital 27"]),
        ("artikel 5 van deze verordening", ["Article 5"]),
        ("artikel 4 bis", ["Article 4a"]),
    ],
)
def test_find_refs_nl(text: str, refs: list[str]) -> None:
    assert find_refs(text, "nl") == refs


@pytest.mark.parametrize(
    "text",
    [
        "artikel 2 van Richtlijn (EU) 2016/680",
        "artikel 16 VWEU",
        "artikel 9 van Verordening (EU) 2016/679",
        "zoals gedefinieerd in artikel 2, punt 4, van Verordening (EU) nr. 1025/2012",
        "artikel 8 van die verordening",
        "artikel 6 van het Verdrag",
    ],
)
def test_find_refs_nl_excludes_other_acts(text: str) -> None:
    assert find_refs(text, "nl") == []


def test_find_refs_range_is_capped() -> None:
    # a range wider than 30 keeps only its ends instead of exploding
    assert find_refs("Articles 1 to 113", "en") == ["Article 1", "Article 113"]


# --------------------------------------------------------------------------- queries


@pytest.mark.parametrize(
    ("query", "provision"),
    [
        ("artikel 26 lid 8", "Article 26(8)"),
        ("Wat zegt artikel 26 lid 8 over logs?", "Article 26(8)"),
        ("Artikel 6, lid 2", "Article 6(2)"),
        ("art. 5 lid 1 onder f", "Article 5(1)(f)"),
        ("art 5(1)(f)", "Article 5(1)(f)"),
        ("Article 6(2)", "Article 6(2)"),
        ("article 50", "Article 50"),
        ("What does Article 5(1), point (a) prohibit?", "Article 5(1)(a)"),
        ("bijlage III", "Annex III"),
        ("bijlage iii punt 4", "Annex III(4)"),
        ("Annex III point 4", "Annex III(4)"),
        ("overweging 27", "Recital 27"),
        ("recital 27", "Recital 27"),
    ],
)
def test_parse_query_provision(query: str, provision: str) -> None:
    assert parse_query_provision(query) == provision


@pytest.mark.parametrize(
    "query",
    [
        "wat is een gebruiksverantwoordelijke?",
        "What does the AI Act say about biometrics?",
        "Which practices are prohibited?",
        "artikel 16 VWEU",
        "",
    ],
)
def test_parse_query_provision_none(query: str) -> None:
    assert parse_query_provision(query) is None
