"""Ingestion end to end with the fake embedder: a bad file is reported by name and skipped,
the rest is indexed; nothing changed means nothing embedded and no new build."""

import hashlib
import shutil

from policy_rag import index as index_mod
from policy_rag.ingest import ingest

PAGE = "tests/data/page_small.txt"


def _manifest(settings, rows):
    settings.corpus_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for r in rows:
        out.append("[[source]]\n" + "\n".join(
            f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {str(v).lower()}" for k, v in r.items()))
    settings.manifest_path.write_text("\n\n".join(out), encoding="utf-8")


def _row(id_, path, fmt, data, lang="nl"):
    return {"id": id_, "doc": id_, "title": id_, "lang": lang, "kind": "page", "format": fmt, "version": "v",
            "url": f"https://example.eu/{id_}", "path": path, "sha256": hashlib.sha256(data).hexdigest(),
            "binding": False}


def test_bad_files_are_reported_by_name_and_skipped(settings, fake_embedder, repo_root):
    page = (repo_root / PAGE).read_bytes()
    corrupt = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage"
    html_as_pdf = b"<html><body>Not a PDF</body></html>"
    _manifest(settings, [
        _row("good-page", "good.txt", "page-text", page),
        _row("corrupt", "corrupt.pdf", "guidelines-pdf", corrupt, "en"),
        _row("not-pdf", "page.pdf", "guidelines-pdf", html_as_pdf, "en"),
        _row("empty", "empty.pdf", "guidelines-pdf", b"", "en"),
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
    _manifest(settings, [_row("good-page", "good.txt", "page-text", page)])
    shutil.copyfile(repo_root / PAGE, settings.corpus_dir / "good.txt")
    first = ingest(settings, fake_embedder)
    calls = fake_embedder.calls
    second = ingest(settings, fake_embedder)
    assert second.unchanged and second.embedded == 0 and fake_embedder.calls == calls
    assert second.index_path == first.index_path
    # --rebuild writes a new build but takes every vector from the cache
    third = ingest(settings, fake_embedder, rebuild=True)
    assert third.embedded == 0 and third.index_path != first.index_path and fake_embedder.calls == calls
