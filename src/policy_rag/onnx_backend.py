"""The embedding model on ONNX Runtime or OpenVINO (optional: ``pip install -e '.[onnx]'``).

The assembled sentence-transformers folder is exported once to ONNX as one graph (Gemma3
encoder, mean pooling, the two Dense layers, normalisation: ``input_ids`` + ``attention_mask``
-> ``sentence_embedding``), optionally quantised to int8 (dynamic, weights per channel), and
cached in ``<cache>/onnx/<key>/`` keyed by the model's checksum and the versions that made the
file (torch, transformers, onnx, onnxruntime), so a new version exports again.

Measured against torch float32 in eval/embed_paths.py (figures: eval/README.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .compute import CpuInfo, Variant, cpu_info
from .errors import ModelUnavailableError

log = logging.getLogger(__name__)

MAX_LENGTH = 512  # as the torch path (llama-index's HuggingFaceEmbedding max_length)
OPSET = 18


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {}
    for pkg in ("torch", "transformers", "sentence-transformers", "onnx", "onnxruntime"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "-"
    return out


def model_checksum(model_path: Path) -> str:
    """The model's sha256 from the stamp models.py writes beside the folder; else a hash of the
    weights' names and sizes (a folder that was not assembled by set-up)."""
    stamp = model_path.with_name(model_path.name + ".sha256")
    try:
        return str(json.loads(stamp.read_text(encoding="utf-8"))["sha256"])
    except (OSError, ValueError, KeyError):
        h = hashlib.sha256()
        for f in sorted(model_path.rglob("*")):
            if f.is_file():
                h.update(f"{f.relative_to(model_path)}:{f.stat().st_size}".encode())
        return h.hexdigest()


def export_dir(cache: Path, model_path: Path) -> Path:
    key = hashlib.sha256(json.dumps({"model": model_checksum(model_path), **_versions(), "opset": OPSET,
                                     "max_length": MAX_LENGTH}, sort_keys=True).encode()).hexdigest()[:16]
    return cache / "onnx" / f"{model_path.name}-{key}"


def export_onnx(model_path: Path, out_dir: Path) -> Path:
    """``out_dir/model.onnx``: the whole sentence-transformers pipeline in float32 (exported once)."""
    target = out_dir / "model.onnx"
    if target.exists():
        return target
    import torch
    from sentence_transformers import SentenceTransformer

    log.info("exporting %s to ONNX in %s (once)", model_path, out_dir)
    st = SentenceTransformer(str(model_path), device="cpu", model_kwargs={"dtype": torch.float32,
                                                                          "attn_implementation": "eager"})
    st.max_seq_length = MAX_LENGTH
    st.eval()

    class Pipeline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.st = st

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            features: dict[str, torch.Tensor] = {"input_ids": input_ids, "attention_mask": attention_mask}
            for module in self.st:
                features = module(features)
            return features["sentence_embedding"]

    enc = st.tokenize(["title: x | text: a short example passage", "another, somewhat longer example text"])
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    # torch.export (dynamo): transformers' attention masks are built with vmap, which the older
    # TorchScript tracer cannot follow
    batch, seq = torch.export.Dim("batch", min=1, max=4096), torch.export.Dim("seq", min=2, max=MAX_LENGTH)
    with torch.no_grad():
        torch.onnx.export(
            Pipeline().eval(), (enc["input_ids"], enc["attention_mask"]), str(tmp / "model.onnx"),
            input_names=["input_ids", "attention_mask"], output_names=["sentence_embedding"],
            dynamic_shapes={"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}},
            opset_version=OPSET, dynamo=True, external_data=True)
    (tmp / "versions.json").write_text(json.dumps(_versions(), indent=1), encoding="utf-8")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    if out_dir.exists():  # another process was faster
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    else:
        tmp.rename(out_dir)
    return target


def quantize_int8(src: Path) -> Path:
    """``model_int8.onnx`` beside ``src``: dynamic int8 quantisation of the matrix products (the
    activations are quantised per batch at run time; ONNX Runtime picks VNNI/AMX kernels itself)."""
    target = src.with_name("model_int8.onnx")
    if target.exists():
        return target
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # written in a folder of its own and moved in: the weights file keeps the name the graph refers to
    tmp = src.parent / "int8.tmp"
    tmp.mkdir(exist_ok=True)
    quantize_dynamic(str(src), str(tmp / target.name), weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul", "Gemm"], use_external_data_format=True)
    for f in sorted(tmp.iterdir(), key=lambda f: f.name == target.name):  # the graph last
        f.rename(src.parent / f.name)
    tmp.rmdir()
    return target


class OnnxEmbedder:
    """The embedding model on ONNX Runtime (``backend="onnx"``) or OpenVINO (``"openvino"``),
    float32 or int8. Same texts, prompts and normalisation as SentenceTransformerEmbedder."""

    def __init__(self, model_path: str, cache: Path, *, backend: str = "onnx", quantization: str = "",
                 query_prompt: str = "task: search result | query: ", batch: int = 16,
                 cpu: CpuInfo | None = None, threads: int | None = None) -> None:
        self.model_path = Path(model_path)
        self.cache = cache
        self.backend = backend
        self.cpu = cpu or cpu_info()
        # openvino-bf16: OpenVINO's own bfloat16 inference (native on AMX / avx512_bf16 CPUs)
        dtype = "bfloat16" if quantization == "bf16" else "float32"
        quant = f"int8-dynamic-{_isa(self.cpu)}" if quantization == "int8" else ""
        self.variant = Variant(backend=backend, dtype=dtype, quantization=quant)
        self.query_prompt = query_prompt
        self.batch = batch
        self.threads = threads
        self.model_id = f"{self.model_path.name}|{self.variant.tag}|q={query_prompt}|d=title: <label> | text: "
        self._run: Callable[[dict[str, np.ndarray]], np.ndarray] | None = None
        self._tok: Any = None
        self._lock = threading.Lock()

    def describe(self) -> dict:
        return {**self.variant.to_dict(), "chosen": "set by POLICY_RAG_EMBED_BACKEND", "cpu": self.cpu.to_dict()}

    def _load(self) -> None:
        with self._lock:
            if self._run is not None:
                return
            if not self.model_path.exists():
                raise ModelUnavailableError(f"Embedding model not found at {self.model_path}. Run `make setup`.")
            try:
                import onnx  # noqa: F401
                if self.backend == "openvino":
                    import openvino  # noqa: F401
                else:
                    import onnxruntime  # noqa: F401
            except ImportError as e:
                raise ModelUnavailableError(
                    f"The embedding backend {self.backend} needs a package that is not installed ({e.name}): "
                    "`pip install -e '.[onnx]'`, or set POLICY_RAG_EMBED_BACKEND=torch.") from e
            from transformers import AutoTokenizer

            path = export_onnx(self.model_path, export_dir(self.cache, self.model_path))
            if self.variant.quantization:
                path = quantize_int8(path)
            self._tok = AutoTokenizer.from_pretrained(str(self.model_path))
            if self.backend == "openvino":
                import openvino as ov

                core = ov.Core()
                # f32 unless asked: OpenVINO would otherwise run bfloat16 on AMX/avx512_bf16 CPUs by itself
                hint = "bf16" if self.variant.dtype == "bfloat16" else "f32"
                config: dict[str, Any] = {"INFERENCE_PRECISION_HINT": hint}
                if self.threads:
                    config["INFERENCE_NUM_THREADS"] = self.threads
                compiled = core.compile_model(str(path), "CPU", config)
                self._run = lambda feed: compiled(feed)[0]
            else:
                import onnxruntime as ort

                opts = ort.SessionOptions()
                if self.threads:
                    opts.intra_op_num_threads = self.threads
                sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
                self._run = lambda feed: sess.run(None, feed)[0]
            log.info("embedding model %s on %s (%s), CPU %s", path, self.backend, self.variant.tag,
                     self.cpu.describe())

    @property
    def dim(self) -> int:
        return int(self._encode(["x"]).shape[1])

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        self._load()
        assert self._run is not None
        enc = self._tok(list(texts), padding=True, truncation=True, max_length=MAX_LENGTH, return_tensors="np")
        feed = {"input_ids": enc["input_ids"].astype(np.int64), "attention_mask": enc["attention_mask"].astype(np.int64)}
        v = np.asarray(self._run(feed), dtype=np.float32)
        n = np.linalg.norm(v, axis=1, keepdims=True)
        n[n == 0] = 1.0
        return v / n

    def embed_documents(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), 0), dtype=np.float32)
        for start in range(0, len(order), self.batch):
            idx = order[start : start + self.batch]
            vecs = self._encode([texts[i] for i in idx])
            if out.shape[1] == 0:
                out = np.zeros((len(texts), vecs.shape[1]), dtype=np.float32)
            out[idx] = vecs
            if progress:
                progress(len(idx))
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self.query_prompt + t for t in texts])


def _isa(cpu: CpuInfo) -> str:
    """The instruction set int8 kernels will use here (part of the variant: results differ by ISA)."""
    for flag in ("amx_int8", "avx512_vnni", "avx_vnni", "avx2"):
        if flag in cpu.flags:
            return flag
    return "base"


def prepare(settings: Any = None) -> str:
    """Make the ONNX export the fast question path needs (embed.query_path), where it would be
    used: a CPU with native bfloat16 and OpenVINO installed. Returns what was done, for set-up's log."""
    import time

    from .embed import query_path
    from .settings import get_settings

    s = settings or get_settings()
    model = Path(s.embed_model)
    backend, why = query_path(s.query_backend, cpu_info(), model, s.cache, exported=False)
    if backend == "torch":
        return f"questions are embedded with torch: {why}; no export needed"
    target = export_dir(s.cache, model)
    if (target / "model.onnx").exists():
        return f"ONNX export cached: {target}"
    t = time.perf_counter()
    export_onnx(model, target)
    return f"exported the embedding model to {target} in {time.perf_counter() - t:.0f} s"


if __name__ == "__main__":  # `python -m policy_rag.onnx_backend`: the set-up step
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(prepare())
