"""A question about what a Commission page describes is answered from the page: when the page
leads the fused ranking, the guidance cap does not pull in law that only mentions the subject."""

from __future__ import annotations

from conftest import make_index, make_passage
from policy_rag.retrieve import Retriever


def passages():  # noqa: ANN201
    ps = [make_passage(f"page-ai-office/nl/sec-{i}", "", "Europees AI-bureau",
                       f"Het Europees AI-bureau ondersteunt betrouwbare AI, taak {i}.", kind="page", binding=False)
          for i in range(1, 5)]
    ps += [make_passage("ai-act/nl/art-112.5", "Article 112(5)", "Artikel 112, lid 5",
                        "Uiterlijk op 2 augustus 2028 evalueert de Commissie de werking van het AI-bureau."),
           make_passage("ai-act/nl/art-64.1", "Article 64(1)", "Artikel 64, lid 1",
                        "De Commissie ontwikkelt deskundigheid op het gebied van AI via het AI-bureau.")]
    ps += [make_passage(f"guidelines-prohibited/en/par-{i}", f"Paragraph {i}", f"para. {i}",
                        f"Guidance paragraph {i} on emotion recognition.", kind="guideline", binding=False)
           for i in range(1, 4)]
    for i, p in enumerate(ps):
        p.order = i
    return ps


def ids(r: Retriever, rows: list[int]) -> list[str]:
    """What search() does after fusing, for a ranking of passage rows."""
    ranked = [(i, 1.0 - n / 100) for n, i in enumerate(rows)]
    topic = r.page_topic(ranked)
    return [h.passage.id for h in r._collapse_and_balance(r.page_first(ranked, topic), "nl", 6, free_doc=topic)]


def test_a_page_that_leads_the_ranking_is_not_interleaved_with_law(fake_embedder, settings) -> None:  # noqa: ANN001
    r = Retriever(make_index(passages(), fake_embedder), fake_embedder, settings)
    assert r.page_topic([(i, 1.0) for i in (0, 1, 4, 2, 5)]) == "page-ai-office"
    # page sections lead, an article scores between them: the page's sections first, then the law
    assert ids(r, [0, 1, 4, 2, 5, 3]) == [f"page-ai-office/nl/sec-{i}" for i in (1, 2, 3, 4)] + [
        "ai-act/nl/art-112.5", "ai-act/nl/art-64.1"]


def test_law_that_leads_keeps_its_place_and_the_page_follows_uncapped(fake_embedder, settings) -> None:  # noqa: ANN001
    r = Retriever(make_index(passages(), fake_embedder), fake_embedder, settings)
    # a definition ranks first ("What does the AI Office do?" -> Article 3(47)), the page fills the rest
    assert r.page_topic([(i, 1.0) for i in (4, 0, 1, 2, 5)]) == "page-ai-office"
    assert ids(r, [4, 0, 1, 5, 2]) == ["ai-act/nl/art-112.5", "page-ai-office/nl/sec-1", "page-ai-office/nl/sec-2",
                                       "ai-act/nl/art-64.1", "page-ai-office/nl/sec-3"]


def test_the_cap_still_holds_without_a_topic_page(fake_embedder, settings) -> None:  # noqa: ANN001
    r = Retriever(make_index(passages(), fake_embedder), fake_embedder, settings)
    assert r.page_topic([(i, 1.0) for i in (0, 6, 4, 7, 1)]) is None  # two page passages of five
    # guidelines lead: the cap keeps half of every prefix for the law, as before
    assert ids(r, [6, 7, 8, 4, 5]) == ["guidelines-prohibited/en/par-1", "ai-act/nl/art-112.5",
                                       "guidelines-prohibited/en/par-2", "ai-act/nl/art-64.1",
                                       "guidelines-prohibited/en/par-3"]
    # a page first but not most of the top: the law comes second
    assert ids(r, [0, 6, 7, 4, 5])[:2] == ["page-ai-office/nl/sec-1", "ai-act/nl/art-112.5"]
