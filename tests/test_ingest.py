"""Ingestion end to end with the fake embedder: a bad file is reported by name and skipped,
the rest is indexed; nothing changed means nothing embedded and no new build."""

import shutil
from pathlib import Path

from conftest import manifest_row, write_manifest
from policy_rag import index as index_mod
from policy_rag.ingest import ingest

PAGE = "tests/data/page_small.txt"


def test_bad_files_are_reported_by_name_and_skipped(settings, fake_embedder, repo_root):
    page = (repo_root / PAGE).read_bytes()
    corrupt = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage"
    html_as_pdf = b"<html><body>Not a PDF</body></html>"
    write_manifest(settings, [
        manifest_row("good-page", "good.txt", page),
        manifest_row("corrupt", "corrupt.pdf", corrupt, fmt="guidelines-pdf", lang="en"),
        manifest_row("not-pdf", "page.pdf", html_as_pdf, fmt="guidelines-pdf", lang="en"),
        manifest_row("empty", "empty.pdf", b"", fmt="guidelines-pdf", lang="en"),
    ])
    shutil.copyfile(repo_root / PAGE, settings.corpus_dir / "good.txt")
    (settings.corpus_dir / "corrupt.pdf").write_bytes(corrupt)
    (settings.corpus_dir / "page.pdf").write_bytes(html_as_pdf)
    (settings.corpus_dir / "empty.pdf").write_bytes(b"")

    report = ingest(settings, fake_embedder)
    assert [d["source"] for d in report.documents] == ["good-page"]
    problems = " ".join(report.problems)
    for name in ("corrupt.pdf", "page.pdf", "empty.pdf"):
        assert name in problems
    assert len(report.problems) == 3 and all("Skipped" in p for p in report.problems)
    idx = index_mod.load(settings.index_dir)
    assert len(idx.passages) == report.passages > 0
    assert all(p.url.startswith("https://example.eu/good-page") for p in idx.passages)


def test_reingest_unchanged_embeds_nothing_and_keeps_the_build(settings, fake_embedder, repo_root):
    page = (repo_root / PAGE).read_bytes()
    write_manifest(settings, [manifest_row("good-page", "good.txt", page)])
    shutil.copyfile(repo_root / PAGE, settings.corpus_dir / "good.txt")
    first = ingest(settings, fake_embedder)
    calls = fake_embedder.calls
    second = ingest(settings, fake_embedder)
    assert second.unchanged and second.embedded == 0 and fake_embedder.calls == calls
    assert second.index_path == first.index_path
    assert first.embedded == first.passages > 0


def test_reingest_with_the_same_inputs_does_not_parse_and_a_change_parses_again(
        settings, fake_embedder, repo_root, monkeypatch):
    import policy_rag.ingest as ingest_mod

    page = (repo_root / PAGE).read_bytes()
    write_manifest(settings, [manifest_row("good-page", "good.txt", page)])
    shutil.copyfile(repo_root / PAGE, settings.corpus_dir / "good.txt")
    first = ingest(settings, fake_embedder)
    parsed: list[str] = []
    real = ingest_mod.parse_source

    def counting(path, source, **kw):  # noqa: ANN001, ANN003, ANN202
        parsed.append(source.id)
        return real(path, source, **kw)

    monkeypatch.setattr(ingest_mod, "parse_source", counting)
    second = ingest(settings, fake_embedder)
    assert parsed == [] and second.unchanged and second.index_path == first.index_path
    assert second.passages == first.passages and [d["source"] for d in second.documents] == ["good-page"]
    assert second.sources == first.sources and second.documents == first.documents
    # a setting that shapes passages changes the inputs: parsed again (the vectors come from the cache)
    from dataclasses import replace

    third = ingest(replace(settings, max_passage_words=settings.max_passage_words - 1), fake_embedder)
    assert parsed == ["good-page"] and third.embedded <= third.passages
    # so does a new version of the code that makes passages
    monkeypatch.setattr(ingest_mod, "_PACKAGE", repo_root / "tests" / "data")
    fourth = ingest(settings, fake_embedder)
    assert parsed == ["good-page", "good-page"]
    # the passages came out the same: the build is kept and now records these inputs too
    assert fourth.unchanged and fourth.index_path == third.index_path
    ingest(settings, fake_embedder)
    assert parsed == ["good-page", "good-page"]


def test_rebuild_embeds_every_passage_again_into_a_new_build(settings, fake_embedder, repo_root):
    page = (repo_root / PAGE).read_bytes()
    write_manifest(settings, [manifest_row("good-page", "good.txt", page)])
    shutil.copyfile(repo_root / PAGE, settings.corpus_dir / "good.txt")
    first = ingest(settings, fake_embedder)
    calls = fake_embedder.calls
    # --rebuild ignores the vector cache (which holds every vector) and the unchanged index
    third = ingest(settings, fake_embedder, rebuild=True)
    assert not third.unchanged and third.embedded == third.passages == first.passages
    assert fake_embedder.calls == calls + first.passages
    assert third.index_path != first.index_path
    assert (settings.index_dir / "current").resolve() == Path(third.index_path)
    assert Path(first.index_path).exists()  # the previous build is kept (POLICY_RAG_KEEP_BUILDS, 2)
    idx = index_mod.load(settings.index_dir)
    assert idx.manifest["embedding"]["backend"] == "fake" and len(idx.passages) == first.passages
    # the re-embedded vectors are in the cache again: a build from no index takes them from there
    shutil.rmtree(settings.index_dir)
    fourth = ingest(settings, fake_embedder)
    assert fourth.embedded == 0 and fake_embedder.calls == calls + first.passages
