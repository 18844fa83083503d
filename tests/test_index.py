import json
import multiprocessing as mp
import os
import signal
import time

import numpy as np
import pytest

from policy_rag import index as index_mod
from policy_rag.errors import IndexMismatchError, MissingIndexError
from policy_rag.index import query_tokens, tokenize


def test_save_load_round_trip(tmp_path, small_index):
    path = index_mod.save(small_index, tmp_path / "index")
    assert (path / "index.faiss").exists() and (path / "manifest.json").exists()
    loaded = index_mod.load(tmp_path / "index", expect={"model_id": "fake-512"})
    assert [p.to_dict() for p in loaded.passages] == [p.to_dict() for p in small_index.passages]
    assert np.allclose(loaded.vectors, small_index.vectors)
    assert (tmp_path / "index" / "current").resolve() == path


def test_load_refuses_other_model_with_rebuild_hint(tmp_path, small_index):
    index_mod.save(small_index, tmp_path / "index")
    with pytest.raises(IndexMismatchError, match="policy-rag ingest"):
        index_mod.load(tmp_path / "index", expect={"model_id": "embeddinggemma"})


def test_load_refuses_other_format_version(tmp_path, small_index):
    path = index_mod.save(small_index, tmp_path / "index")
    man = json.loads((path / "manifest.json").read_text())
    man["format_version"] = 999
    (path / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        index_mod.load(tmp_path / "index")


def test_missing_index_says_how_to_build(tmp_path):
    with pytest.raises(MissingIndexError, match="policy-rag ingest"):
        index_mod.load(tmp_path / "nothing")


def test_second_save_replaces_and_prunes(tmp_path, small_index):
    first = index_mod.save(small_index, tmp_path / "index", keep=1)
    time.sleep(0.01)
    second = index_mod.save(small_index, tmp_path / "index", keep=1)
    assert not first.exists() and second.exists()
    assert (tmp_path / "index" / "current").resolve() == second


def _slow_save(small_index, index_dir):  # runs in a child process that gets killed
    import faiss

    real = faiss.write_index

    def slow(*a, **k):
        real(*a, **k)
        time.sleep(30)

    faiss.write_index = slow
    index_mod.save(small_index, index_dir)


def test_killed_build_leaves_last_good_index(tmp_path, small_index):
    good = index_mod.save(small_index, tmp_path / "index")
    proc = mp.get_context("fork").Process(target=_slow_save, args=(small_index, tmp_path / "index"))
    proc.start()
    deadline = time.time() + 20
    while time.time() < deadline and not list((tmp_path / "index").glob("build-*.tmp")):
        time.sleep(0.05)
    assert list((tmp_path / "index").glob("build-*.tmp")), "the child never started writing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.join()
    loaded = index_mod.load(tmp_path / "index")
    assert loaded.path == good and len(loaded.passages) == len(small_index.passages)
    # the next build cleans up the leftover
    index_mod.save(small_index, tmp_path / "index")
    assert not list((tmp_path / "index").glob("build-*.tmp"))


def test_tokenize_stems_and_drops_stopwords_in_both_languages():
    assert tokenize("De verboden praktijken van de aanbieders", "nl") == ["verbood", "praktijk", "aanbieder"]
    assert tokenize("The prohibited practices of providers", "en") == ["prohibit", "practic", "provid"]
    assert tokenize("AI-systemen", "nl") == ["ai-systeem", "ai", "systeem"]  # compound and its parts
    assert set(query_tokens("verboden practices")) >= {"verbood", "practic"}


def test_dense_and_keyword_search(small_index, fake_embedder):
    q = fake_embedder.embed_queries(["emotions workplace prohibited"])[0]
    ids = [small_index.passages[i].id for i, _ in small_index.dense_search(q, 3)]
    assert "ai-act/en/art-5.1.f" in ids
    kw = [small_index.passages[i].id for i, _ in small_index.keyword_search("AI-geletterdheid personeel", 3)]
    assert kw[0] == "ai-act/nl/art-4"
    assert small_index.keyword_search("", 3) == []


def test_decompounder_splits_unknown_dutch_compounds_into_known_words():
    from policy_rag.index import Decompounder

    d = Decompounder.from_texts([
        "de kredietwaardigheid van natuurlijke personen beoordelen; een beoordeling",
        "veiligheid, filter, personeel, dossier, camera, beelden, veiligheids- en gezondheidsrisico's",
    ])
    assert d.split("kredietwaardigheidsbeoordeling") == ["kredietwaardigheid", "beoordeling"]  # linking s
    assert d.split("veiligheidsfilters") == ["veiligheid", "filters"]  # the last part inflected
    assert d.split("camerabeelden") == ["camera", "beelden"]
    assert d.split("kredietwaardigheid") == []  # a known word stays whole
    assert d.split("cookiebanner") == []  # unknown parts: no split
    assert d.parts("Valt kredietwaardigheidsbeoordeling onder hoog risico?") == ["kredietwaardigheid", "beoordeling"]


def test_dutch_compound_in_question_finds_passage_with_its_parts():
    from policy_rag.index import Index
    from policy_rag.types import Passage

    def passage(pid, text, lang="nl"):
        return Passage(id=pid, doc="ai-act", lang=lang, provision=pid, label=pid, title="", text=text,
                       url="https://example.org", kind="article")

    ps = [passage("a", "AI-systemen die bedoeld zijn om de kredietwaardigheid van natuurlijke personen te beoordelen."),
          passage("b", "Een beoordeling van de technische documentatie."),
          passage("c", "Aanbieders stellen technische documentatie op.")]
    ix = Index(passages=ps, vectors=np.zeros((3, 4), dtype=np.float32))
    q = "Valt kredietwaardigheidsbeoordeling onder hoog risico?"
    assert ix.keyword_search(q, 3, "nl")[0][0] == 0
    assert all(i != 0 for i, _ in ix.keyword_search(q, 3, "en"))  # no splitting for English questions


def test_term_translator_learns_from_aligned_provisions():
    from policy_rag.index import TermTranslator

    pairs = [
        ("De kredietwaardigheid van personen beoordelen.", "Evaluate the creditworthiness of persons."),
        ("Kredietwaardigheid en kredietscores van personen.", "Creditworthiness and credit scores of persons."),
        ("Emoties op de werkplek afleiden is verboden.", "Inferring emotions in the workplace is prohibited."),
        ("Het afleiden van emoties van personen.", "The inferring of emotions of persons."),
        ("Biometrische systemen op de werkplek.", "Biometric systems in the workplace."),
    ]
    tr = TermTranslator(pairs)
    [kw] = tokenize("kredietwaardigheid", "nl")
    assert tr.translate(kw, "nl")[0] == tokenize("creditworthiness", "en")[0]
    [wp] = tokenize("workplace", "en")
    assert tr.translate(wp, "en")[0] == tokenize("werkplek", "nl")[0]
    assert tr.translate("onbekend", "nl") == []
    assert set(tr.query("emoties op de werkplek", "nl")) >= {tokenize("emotions", "en")[0], wp}


def test_translated_search_reaches_documents_only_in_the_other_language():
    from policy_rag.index import Index
    from policy_rag.types import Passage

    def passage(pid, text):
        doc, lang, _ = pid.split("/", 2)
        return Passage(id=pid, doc=doc, lang=lang, provision=pid, label=pid, title="", text=text,
                       url="https://example.org", kind="article")

    ps = [passage("ai-act/nl/a1", "Het afleiden van emoties op de werkplek is verboden."),
          passage("ai-act/en/a1", "Inferring emotions in the workplace is prohibited."),
          passage("ai-act/nl/a2", "Emoties van klanten in winkels."),
          passage("ai-act/en/a2", "Emotions of customers in shops."),
          passage("guide/en/p1", "A call centre inferring the emotions of its staff falls under the prohibition."),
          passage("guide/en/p2", "Customers in shops are not covered.")]
    ix = Index(passages=ps, vectors=np.zeros((6, 4), dtype=np.float32))
    hits = [ps[i].id for i, _ in ix.translated_search("Emoties van personeel afleiden?", 5, "nl")]
    assert hits and hits[0] == "guide/en/p1"
    assert all(h.startswith("guide/") for h in hits)  # the act is in both languages: searched directly
