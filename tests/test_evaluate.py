import json

import pytest

from policy_rag.evaluate import (
    answer_sentences,
    compare,
    first_gold_rank,
    gold_matches,
    load_questions,
    render_html,
    retrieval_metrics,
    write_report,
)


def test_gold_matching_is_hierarchical_and_doc_level_for_pages():
    assert gold_matches("ai-act:Article 5", "ai-act", "Article 5(1)(f)")
    assert gold_matches("ai-act:Article 5(1)(f)", "ai-act", "Article 5(1)")
    assert not gold_matches("ai-act:Article 5", "ai-act", "Article 50(1)")
    assert not gold_matches("ai-act:Article 5", "omnibus", "Article 5")
    assert gold_matches("page-ai-office", "page-ai-office", "Section 3")


def test_retrieval_metrics():
    gold = [["ai-act:Article 4"], ["ai-act:Article 5"]]
    ranked = [[[("ai-act", "Article 4")], [("ai-act", "Article 9")]],
              [[("ai-act", "Article 9")], [("ai-act", "Article 10")], [("ai-act", "Article 5(1)")]]]
    m = retrieval_metrics(ranked, gold)
    assert m["recall@1"] == 0.5 and m["recall@5"] == 1.0 and m["mrr@10"] == pytest.approx((1 + 1 / 3) / 2)
    assert first_gold_rank([r[0] for r in ranked[1]], gold[1]) == 3


def test_answer_sentences_split_at_citation_marks():
    extractive = "Intro:\n- Artikel 5, lid 1, punt f): “het gebruik van AI is verboden;” [1]\n- para. 2: “Several conditions apply here.” [2]"
    assert answer_sentences(extractive) == [("het gebruik van AI is verboden;", [1]),
                                            ("Several conditions apply here", [2])]
    assert answer_sentences("Het is verboden om X te doen [1]. Ook moet je Y doen [2][3]. En iets zonder bron.") == [
        ("Het is verboden om X te doen", [1]), ("Ook moet je Y doen", [2, 3]), ("En iets zonder bron", [])]


def test_report_written_with_regressions_flagged(tmp_path):
    base = {"started": "x", "questions": 1, "settings": {"backend": "none"}, "per_question": [],
            "retrieval": {"sys": {"all": {"recall@1": 0.5, "recall@5": 0.9, "recall@10": 1.0, "mrr@10": 0.6,
                                          "ndcg@10": 0.7, "n": 10}}},
            "answers": {"all": {"false_refusal_rate": 0.05, "refusal_accuracy": 0.8}}}
    write_report(json.loads(json.dumps(base)), tmp_path / "r1")
    other = json.loads(json.dumps(base))
    other["settings"] = {"backend": "local"}
    other["retrieval"]["sys"]["all"]["recall@5"] = 0.1
    write_report(other, tmp_path / "r1b")  # another backend: not what r2 is compared with
    worse = json.loads(json.dumps(base))
    worse["retrieval"]["sys"]["all"]["recall@5"] = 0.8
    worse["answers"]["all"]["false_refusal_rate"] = 0.2
    out = write_report(worse, tmp_path / "r2")
    regs = {r["metric"] for r in json.loads((out / "results.json").read_text())["comparison"] if r["regression"]}
    assert regs == {"retrieval/sys/all/recall@5", "answers/all/false_refusal_rate"}
    assert "2 regression(s)" in (out / "report.html").read_text()
    assert compare(base, base) and not any(r["regression"] for r in compare(base, base))
    grown = json.loads(json.dumps(worse))
    grown["questions"] = 2  # more questions in the same file: another set, nothing to compare with
    out3 = write_report(grown, tmp_path / "r3")
    assert json.loads((out3 / "results.json").read_text())["comparison"] == []
    assert "<h2>Retrieval" in render_html(base, [])


def test_the_set_loads_and_limit_spreads_evenly():
    qs = load_questions(limit=40)
    assert len(qs) == 40 and {q.lang for q in qs} == {"nl", "en"}
    assert any(not q.answerable for q in qs) and any(q.answerable for q in qs)


def test_run_reports_retrieval_by_tag(tmp_path, small_index, fake_embedder, settings):
    from policy_rag.assistant import Assistant
    from policy_rag.evaluate import run, summary_lines

    rows = [
        {"id": "nl-001", "lang": "nl", "question": "Is emotieherkenning op de werkplek verboden?", "answerable": True,
         "gold": ["guidelines-prohibited:Paragraph 242"], "key_points": ["verboden"], "category": "guidelines",
         "tags": ["en-only-source"]},
        {"id": "en-001", "lang": "en", "question": "What does Article 26(8) require?", "answerable": True,
         "gold": ["ai-act:Article 26(8)"], "key_points": ["registration"], "category": "obligations", "tags": []},
        {"id": "en-002", "lang": "en", "question": "What is the VAT rate in Belgium?", "answerable": False,
         "gold": [], "key_points": [], "category": "out-of-scope", "tags": ["off-topic"]},
    ]
    qfile = tmp_path / "q.jsonl"
    qfile.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    a = Assistant(settings, embedder=fake_embedder, index=small_index)
    res = run(settings, questions=qfile, retrieval_only=True, baselines=False, out=tmp_path / "rep", assistant=a)
    by_tag = res["retrieval_by_tag"]
    assert set(by_tag) == {"en-only-source"}  # tags no answerable question carries are left out
    assert by_tag["en-only-source"]["n"] == 1
    assert res["retrieval"]["policy-rag (hybrid, structure-aware)"]["all"]["n"] == 2
    assert any("tag en-only-source" in line for line in summary_lines(res))
    assert "policy-rag by tag" in (tmp_path / "rep" / "report.html").read_text()


def test_judge_embeds_each_text_once(fake_embedder):
    from policy_rag.evaluate import Judge

    calls: list[int] = []
    embed = fake_embedder.embed_queries

    def counting(texts):
        calls.append(len(texts))
        return embed(texts)

    fake_embedder.embed_queries = counting
    judge = Judge(fake_embedder, threshold=0.5)
    passage = "Emotion recognition at work is prohibited. There are exceptions for medical reasons."
    first = judge.score("Emotion recognition at work is prohibited.", passage)
    assert first > 0.99  # the sentence itself is in the passage
    assert judge.score("Emotion recognition at work is prohibited.", passage) == first
    assert calls == [2]  # the sentence is also the passage's first: embedded once; the second call embeds nothing
    assert judge.score("Something else entirely.", passage) < first
    assert calls == [2, 1]
