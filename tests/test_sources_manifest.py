"""Manifest validation and safe paths (issue 17 item 3): one clear message per bad row naming
the row and the field, bad rows skipped; an unreadable manifest stops with a message; paths
never leave the corpus or mirror folder (for reading and for fetch writing); only regular
files are read, and every read is bounded."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from conftest import manifest_row, write_manifest
from policy_rag.errors import SourceError
from policy_rag.ingest import ingest
from policy_rag.sources import available_sources, fetch_all, load_manifest, read_manifest

GOOD = b"Europese aanpak\n\nDe Commissie wil van de EU een wereldwijde hub voor betrouwbare AI maken.\n"


def toml_row(**fields: str) -> str:
    """A [[source]] row; values are raw TOML (so a test can write `id = [1, 2]`)."""
    return "[[source]]\n" + "".join(f"{k} = {v}\n" for k, v in fields.items())


def good_fields(id_: str = "good", path: str = "good.txt", data: bytes = GOOD, **over: str) -> dict[str, str]:
    row = {k: json.dumps(v) for k, v in manifest_row(id_, path, data).items()}
    row.update(over)
    return row


def write(settings, text: str | bytes) -> None:
    settings.corpus_dir.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8") if isinstance(text, str) else text
    settings.manifest_path.write_bytes(data)


@pytest.mark.parametrize("encoding,match", [("utf-16", "UTF-16"), ("latin-1", "not valid UTF-8")])
def test_manifest_not_utf8_stops_with_a_clear_message(settings, encoding, match):
    write(settings, toml_row(**good_fields(title='"Café"')).encode(encoding))
    with pytest.raises(SourceError, match=match):
        read_manifest(settings.manifest_path)


@pytest.mark.parametrize("text,match", [
    ('[source]\nid = "x"\n', r"`source` must be a list of tables .*\[source\]"),
    ('source = "x"\n', "`source` must be a list of tables"),
    ("[[source]\nid = \n", "not valid TOML"),
])
def test_unsafe_manifest_structure_stops(settings, text, match):
    write(settings, text)
    with pytest.raises(SourceError, match=match):
        read_manifest(settings.manifest_path)


BAD_ROWS = {  # name -> (field overrides, what the message must say)
    "numeric-sha": ({"sha256": "123"}, "`sha256` must be a string"),
    "nonhex-sha": ({"sha256": json.dumps("z" * 64)}, "`sha256` must be 64 hexadecimal digits"),
    "short-sha": ({"sha256": json.dumps("ab" * 10)}, "`sha256` must be 64 hexadecimal digits"),
    "list-id": ({"id": "[1, 2]"}, "`id` must be a string"),
    "int-path": ({"path": "7"}, "`path` must be a string"),
    "empty-path": ({"path": '""'}, "`path` is empty"),
    "up-path": ({"path": '"../outside.txt"'}, "`path` = '../outside.txt' must be a relative path"),
    "abs-path": ({"path": '"/etc/passwd"'}, "`path` = '/etc/passwd' must be a relative path"),
    "bad-format": ({"format": '"docx"'}, "`format` must be one of"),
    "bad-kind": ({"kind": '"novel"'}, "`kind` must be one of"),
    "bad-lang": ({"lang": '"de"'}, "`lang` must be one of"),
    "bad-bool": ({"ingest": '"yes"'}, "`ingest` must be true or false"),
    "slash-doc": ({"doc": '"a/b"'}, "`doc` = 'a/b' may hold only"),
    "missing": ({"url": None}, "missing field(s) ['url']"),
    "unknown": ({"colour": '"red"'}, "unknown field(s) ['colour']"),
}


def test_each_bad_row_is_named_and_skipped_the_good_rows_kept(settings):
    rows = [toml_row(**good_fields())]
    for i, (name, (over, _)) in enumerate(BAD_ROWS.items()):
        fields = good_fields(name, f"f{i}.txt", doc=json.dumps(f"doc-{name}"))
        fields.update({k: v for k, v in over.items() if v is not None})
        for k in [k for k, v in over.items() if v is None]:
            del fields[k]
        rows.append(toml_row(**fields))
    rows.append("[[source]]\n")  # an empty row: missing fields
    write(settings, "\n".join(rows))
    sources, problems = read_manifest(settings.manifest_path)
    assert [s.id for s in sources] == ["good"]
    assert len(problems) == len(BAD_ROWS) + 1
    for i, (name, (_, says)) in enumerate(BAD_ROWS.items(), 2):
        (msg,) = [p for p in problems if f"source #{i} (" in p]
        shown = "?" if name == "list-id" else name
        assert f"source #{i} ({shown})" in msg and says in msg and msg.endswith("the row is skipped."), msg
    # strict mode (the shipped manifest's check) stops on the first report
    with pytest.raises(SourceError, match=r"source #2 \(numeric-sha\)"):
        load_manifest(settings.manifest_path)


def test_uppercase_sha256_is_accepted_and_normalised(settings, fake_embedder):
    digest = hashlib.sha256(GOOD).hexdigest().upper()
    write(settings, toml_row(**good_fields(sha256=json.dumps(digest))))
    (settings.corpus_dir / "good.txt").write_bytes(GOOD)
    (s,) = load_manifest(settings.manifest_path)
    assert s.sha256 == digest.lower()
    ok, problems = available_sources(settings)
    assert [x.id for x, _ in ok] == ["good"] and not problems


def test_duplicate_ids_and_doc_lang_pairs_are_rejected(settings, fake_embedder):
    other = b"Een andere pagina\n\nMet andere tekst over AI-geletterdheid en het AI-bureau.\n"
    write_manifest(settings, [
        manifest_row("a", "a.txt", GOOD),
        manifest_row("a", "b.txt", other),  # same id
        {**manifest_row("c", "c.txt", other), "doc": "a"},  # same doc + lang as row 1
        {**manifest_row("d", "d.txt", other), "doc": "a", "ingest": False},  # alternate: fine
        {**manifest_row("e", "e.txt", other), "doc": "a", "lang": "en"},  # other language: fine
    ])
    for name, data in (("a.txt", GOOD), ("b.txt", other), ("c.txt", other), ("e.txt", other)):
        (settings.corpus_dir / name).write_bytes(data)
    sources, problems = read_manifest(settings.manifest_path)
    assert [s.id for s in sources] == ["a", "d", "e"]
    assert "source #2 (a): duplicate id 'a'" in problems[0]
    assert "source #3 (c)" in problems[1] and "same passage ids" in problems[1]
    report = ingest(settings, fake_embedder)
    assert sorted(d["source"] for d in report.documents) == ["a", "e"]
    assert len(report.problems) == 2


def _fifo_and_dir(settings) -> None:
    os.mkfifo(settings.corpus_dir / "fifo.txt")
    (settings.corpus_dir / "dir.txt").mkdir()


def test_escaping_paths_and_non_regular_files_are_refused_before_reading(settings, fake_embedder, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(GOOD)
    settings.corpus_dir.mkdir(parents=True)
    (settings.corpus_dir / "out").symlink_to(outside)  # a folder link leading outside
    (settings.corpus_dir / "zero.txt").symlink_to("/dev/zero")
    (settings.corpus_dir / "good.txt").write_bytes(GOOD)
    _fifo_and_dir(settings)
    write_manifest(settings, [
        manifest_row("good", "good.txt", GOOD),
        manifest_row("via-link", "out/secret.txt", GOOD),
        manifest_row("zero", "zero.txt", GOOD),
        manifest_row("fifo", "fifo.txt", GOOD),
        manifest_row("dir", "dir.txt", GOOD),
    ])
    t = time.monotonic()
    ok, problems = available_sources(settings)
    assert time.monotonic() - t < 5  # /dev/zero and the FIFO did not hang the checksum
    assert [s.id for s, _ in ok] == ["good"]
    text = "\n".join(problems)
    assert "via-link:" in text and "leads outside the corpus folder" in text
    assert "zero:" in text and "leads outside" in text
    assert "fifo:" in text and "a device, FIFO or socket, not a regular file" in text
    assert "dir:" in text and "is a folder, not a regular file" in text
    report = ingest(settings, fake_embedder)
    assert [d["source"] for d in report.documents] == ["good"] and len(report.problems) == 4


def test_mirror_paths_leaving_the_mirror_are_refused(settings, tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (tmp_path / "elsewhere.txt").write_bytes(GOOD)
    (mirror / "link.txt").symlink_to(tmp_path / "elsewhere.txt")
    write_manifest(settings, [manifest_row("m", "link.txt", GOOD)])
    ok, problems = available_sources(settings.with_(mirror=str(mirror)))
    assert not ok and "leads outside the mirror folder" in problems[0]
    (r,) = fetch_all(settings, mirror=str(mirror), online=False)
    assert r.status == "refused" and "outside the mirror folder" in r.message
    assert not (settings.corpus_dir / "link.txt").exists()


def test_fetch_never_writes_outside_the_corpus_folder(settings, tmp_path):
    mirror = tmp_path / "mirror"
    (mirror / "sub").mkdir(parents=True)
    (mirror / "sub" / "x.txt").write_bytes(GOOD)
    outside = tmp_path / "outside"
    outside.mkdir()
    settings.corpus_dir.mkdir(parents=True)
    (settings.corpus_dir / "sub").symlink_to(outside)  # writing corpus/sub/x.txt would land outside
    write_manifest(settings, [manifest_row("x", "sub/x.txt", GOOD)])
    (r,) = fetch_all(settings, mirror=str(mirror), online=False)
    assert r.status == "refused" and "leads outside the corpus folder" in r.message
    assert list(outside.iterdir()) == []


def test_fetch_with_dotdot_path_in_a_raw_manifest_is_skipped_not_written(settings, tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (tmp_path / "x.txt").write_bytes(GOOD)
    write(settings, toml_row(**good_fields("x", "../x.txt")))
    problems: list[str] = []
    assert fetch_all(settings, mirror=str(mirror), online=False, problems=problems) == []
    assert "must be a relative path inside the corpus folder" in problems[0]


def test_every_read_is_bounded_by_the_size_setting(settings):
    big = b"AI " * 2000
    write_manifest(settings, [manifest_row("big", "big.txt", big)])
    (settings.corpus_dir / "big.txt").write_bytes(big)
    ok, problems = available_sources(settings.with_(max_source_mb=0.001))
    assert not ok and "over the limit of 0 MB (POLICY_RAG_MAX_SOURCE_MB)" in problems[0]


def test_cli_stops_on_an_unreadable_manifest_without_a_traceback(settings, monkeypatch, capsys):
    from policy_rag import cli

    write(settings, toml_row(**good_fields()).encode("utf-16"))
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    for cmd in (["ingest", "--quiet"], ["fetch", "--offline"]):
        assert cli.main(cmd) == 1
        err = capsys.readouterr().err
        assert "UTF-16" in err and "Traceback" not in err


def test_the_shipped_manifest_has_no_bad_rows(repo_root: Path):
    sources, problems = read_manifest(repo_root / "corpus" / "sources.toml")
    assert problems == [] and len(sources) >= 8
