"""Which compute path embeds fast on this machine, and which embedding variants can be mixed.

bfloat16 halves the embedding time where the CPU multiplies bfloat16 natively (``avx512_bf16``
or AMX); elsewhere PyTorch emulates it and it is about five times *slower* than float32 (issue 14:
0.44 against 2.25 passages/s on an AVX2-only EPYC). So the dtype setting defaults to "auto":
bfloat16 where the CPU has native support, float32 otherwise.

A *variant* is how vectors were computed: backend, dtype, quantization. Its tag is part of the
embedder's ``model_id`` (``embeddinggemma-300m|bfloat16|q=...|d=...``), so the vector cache keeps
variants apart, and the index manifest records it. Vectors of *compatible* variants are close
enough (cosine >= 0.99 on corpus passages and questions, tests/test_compute.py and the figures in
eval/README.md) that a query embedded with one may search an index built with the other.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# the flags that decide (or explain) the speed of the embedding paths, as /proc/cpuinfo spells them
RELEVANT_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8")
BF16_FLAGS = ("avx512_bf16", "amx_bf16")

# oneDNN (PyTorch's kernels for bfloat16 matrix products) can be held below the CPU's best
# instruction set with ONEDNN_MAX_CPU_ISA; these values leave it without native bfloat16.
_ONEDNN_NO_BF16 = ("SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI")

DTYPES = ("float32", "bfloat16", "float16")


@dataclass(frozen=True)
class CpuInfo:
    model: str  # "Intel(R) Xeon(R) Processor", "AMD EPYC 7B13", "" where unknown
    flags: frozenset[str]  # the flags of the first processor in /proc/cpuinfo
    onednn_max_isa: str = ""  # ONEDNN_MAX_CPU_ISA, if set (an emulation of a smaller CPU)

    @property
    def native_bf16(self) -> bool:
        """The CPU multiplies bfloat16 in hardware, and oneDNN is allowed to use it."""
        if self.onednn_max_isa.upper() in _ONEDNN_NO_BF16:
            return False
        return any(f in self.flags for f in BF16_FLAGS)

    def relevant_flags(self) -> list[str]:
        return [f for f in RELEVANT_FLAGS if f in self.flags]

    def describe(self) -> str:
        """'Intel(R) Xeon(R) Processor (avx2 fma avx512f ...)', for logs and figures."""
        s = f"{self.model or 'unknown CPU'} ({' '.join(self.relevant_flags()) or 'none of ' + ', '.join(RELEVANT_FLAGS)})"
        if self.onednn_max_isa:
            s += f" with ONEDNN_MAX_CPU_ISA={self.onednn_max_isa}"
        return s

    def to_dict(self) -> dict:
        d: dict = {"model": self.model, "flags": self.relevant_flags()}
        if self.onednn_max_isa:
            d["onednn_max_cpu_isa"] = self.onednn_max_isa
        return d


def cores() -> int:
    """The CPU cores this process may run on (its affinity, else every core)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def parse_cpuinfo(text: str, onednn_max_isa: str = "") -> CpuInfo:
    """The model name and flags of the first processor listed in ``text`` (/proc/cpuinfo's format)."""
    model, flags = "", frozenset[str]()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and not model:
            model = value.strip()
        elif key == "flags" and not flags:
            flags = frozenset(value.split())
        if model and flags:
            break
    return CpuInfo(model=model, flags=flags, onednn_max_isa=onednn_max_isa)


_CPU: CpuInfo | None = None


def cpu_info(path: str = "/proc/cpuinfo") -> CpuInfo:
    """This machine's CPU (no flags where /proc/cpuinfo cannot be read: then float32 is chosen)."""
    global _CPU
    if _CPU is None or path != "/proc/cpuinfo":
        try:
            text = Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        info = parse_cpuinfo(text, os.environ.get("ONEDNN_MAX_CPU_ISA", ""))
        if path != "/proc/cpuinfo":
            return info
        _CPU = info
    return _CPU


def choose_dtype(setting: str, cpu: CpuInfo) -> tuple[str, str]:
    """(dtype, why) for the dtype setting: "auto" picks bfloat16 only where the CPU has it natively."""
    if setting != "auto":
        if setting not in DTYPES:
            from .errors import PolicyRagError

            raise PolicyRagError(
                f"POLICY_RAG_EMBED_DTYPE={setting!r} is not one of auto, {', '.join(DTYPES)}.")
        return setting, "set by POLICY_RAG_EMBED_DTYPE"
    if cpu.native_bf16:
        have = [f for f in BF16_FLAGS if f in cpu.flags]
        return "bfloat16", f"auto: the CPU has native bfloat16 ({', '.join(have)})"
    why = ("ONEDNN_MAX_CPU_ISA holds oneDNN below it" if cpu.onednn_max_isa.upper() in _ONEDNN_NO_BF16
           and any(f in cpu.flags for f in BF16_FLAGS) else "the CPU has no avx512_bf16 or amx_bf16")
    return "float32", f"auto: {why}, bfloat16 would be emulated (slow)"


# --- variants --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    backend: str = "torch"  # torch | onnx | openvino
    dtype: str = "float32"  # the compute dtype of the weights and activations
    quantization: str = ""  # "" or e.g. "int8-dynamic-avx512_vnni"

    @property
    def tag(self) -> str:
        """The variant's part of a model_id; a torch variant is its dtype (as before variants existed)."""
        parts = [self.dtype] if self.backend == "torch" else [self.backend, self.dtype]
        return "-".join([*parts, self.quantization] if self.quantization else parts)

    def to_dict(self) -> dict:
        return {"backend": self.backend, "dtype": self.dtype, "quantization": self.quantization or None}


# Variants whose vectors may be mixed: a query of one searches an index of another. Each was
# measured against torch float32 on 100 corpus passages and 50 questions (eval/embed_paths.py;
# minimum cosine: torch bfloat16 0.9999, ONNX Runtime and OpenVINO float32 1.0000, OpenVINO
# bfloat16 0.9997; figures in eval/README.md "Embedding on the CPU"; OpenVINO bfloat16 questions
# on a torch bfloat16 index also gave the same R@5 and MRR on every question set, within 0.01).
# ONNX int8 (minimum 0.947) is not: it asks for a rebuild.
COMPATIBLE: tuple[frozenset[str], ...] = (
    frozenset({"float32", "bfloat16", "onnx-float32", "openvino-float32", "openvino-bfloat16"}),
)


def split_model_id(model_id: str) -> tuple[str, str, str]:
    """(model name, variant tag, prompts) of ``name|tag|q=...|d=...``; a foreign id is its own name."""
    name, sep, rest = model_id.partition("|")
    if not sep:
        return model_id, "", ""
    tag, _, prompts = rest.partition("|")
    return name, tag, prompts


def compatible(a: str, b: str) -> bool:
    """Can vectors of model_id ``a`` and of model_id ``b`` be compared (same model, prompts, and
    the same or declared compatible variants)?"""
    if a == b:
        return True
    (na, ta, pa), (nb, tb, pb) = split_model_id(a), split_model_id(b)
    if not ta or not tb or (na, pa) != (nb, pb):
        return False
    return any(ta in group and tb in group for group in COMPATIBLE)
