import hashlib

import pytest

from conftest import manifest_row, write_manifest
from policy_rag.errors import SourceError
from policy_rag.sources import available_sources, fetch_all, load_manifest


def _row(id_, path, content):
    return manifest_row(id_, path, content, url="http://127.0.0.1:9/unreachable")


def test_the_real_manifest_is_valid(repo_root):
    from policy_rag.settings import Settings

    sources = load_manifest(Settings(corpus_dir=repo_root / "corpus").manifest_path)
    assert {s.doc for s in sources} >= {"ai-act", "guidelines-prohibited", "omnibus"}
    shipped = [s for s in sources if s.shipped]
    assert len(shipped) == 2
    for s in shipped:  # the two Dutch pages ship in corpus/ with the right checksum
        assert hashlib.sha256((repo_root / "corpus" / s.path).read_bytes()).hexdigest() == s.sha256


def test_fetch_from_mirror_verifies_checksums(settings, tmp_path):
    mirror = tmp_path / "mirror"
    (mirror / "a").mkdir(parents=True)
    (mirror / "a" / "good.txt").write_bytes(b"good")
    (mirror / "a" / "bad.txt").write_bytes(b"tampered")
    write_manifest(settings, [_row("good", "a/good.txt", b"good"), _row("bad", "a/bad.txt", b"original"),
                               _row("gone", "a/gone.txt", b"x")])
    res = {r.source.id: r for r in fetch_all(settings, mirror=str(mirror), online=False)}
    assert res["good"].status == "copied" and (settings.corpus_dir / "a/good.txt").read_bytes() == b"good"
    assert res["bad"].status == "bad-checksum" and "sha256" in res["bad"].message
    assert not (settings.corpus_dir / "a/bad.txt").exists()
    assert res["gone"].status == "missing"
    # second run: already there
    assert {r.source.id: r.status for r in fetch_all(settings, mirror=str(mirror), online=False)}["good"] == "ok"


def test_unreachable_url_reports_missing_with_hint(settings):
    write_manifest(settings, [_row("web", "w.txt", b"w")])
    (r,) = fetch_all(settings, mirror="", online=True)
    assert r.status == "missing" and "--mirror" in r.message


def test_available_sources_skips_wrong_checksum_and_names_it(settings):
    write_manifest(settings, [_row("ok", "ok.txt", b"fine"), _row("bad", "bad.txt", b"expected")])
    (settings.corpus_dir / "ok.txt").write_bytes(b"fine")
    (settings.corpus_dir / "bad.txt").write_bytes(b"changed")
    ok, problems = available_sources(settings)
    assert [s.id for s, _ in ok] == ["ok"]
    assert len(problems) == 1 and problems[0].startswith("bad:") and "sha256" in problems[0]


def test_manifest_errors_name_the_row(settings):
    write_manifest(settings, [{"id": "x", "doc": "x"}])
    with pytest.raises(SourceError, match=r"source #1 \(x\).*missing field"):
        load_manifest(settings.manifest_path)


def test_cli_fetch_exits_3_naming_what_is_missing(settings, tmp_path, monkeypatch, capsys):
    from policy_rag import cli

    write_manifest(settings, [_row("here", "here.txt", b"h"), _row("gone", "gone.txt", b"g")])
    (settings.corpus_dir / "here.txt").write_bytes(b"h")
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    assert cli.main(["fetch", "--offline", "--mirror", str(tmp_path / "no-mirror")]) == cli.FETCH_INCOMPLETE
    err = capsys.readouterr().err
    assert "gone" in err and "--mirror" in err
    (settings.corpus_dir / "gone.txt").write_bytes(b"g")
    assert cli.main(["fetch", "--offline", "--mirror", str(tmp_path / "no-mirror")]) == 0
