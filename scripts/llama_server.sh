#!/usr/bin/env bash
# The LLM server for a team: llama.cpp's own `llama-server` (OpenAI-compatible, parallel slots with
# continuous batching), built once from the llama.cpp source inside the llama-cpp-python sdist that
# `make setup` uses, then run on the project's model.
#
#   scripts/llama_server.sh                         # 127.0.0.1:8000, 2 slots, the project's model
#   scripts/llama_server.sh --parallel 4 --port 8001 --host 0.0.0.0
#   scripts/llama_server.sh --build-only            # build (or find) the binary, print its path
#   scripts/llama_server.sh --print-binary          # the cached binary's path; exit 1 when not built
#   scripts/llama_server.sh -- --metrics            # anything after -- goes to llama-server as is
#
# The build (33 minutes on 2 busy cores here; not part of `make setup`) uses the flags of the
# llama-cpp-python wheel: GGML_NATIVE (this CPU's AVX2/AVX-512) but never AMX, which a CPU can
# list while its virtual machine does not enable it (SIGILL in tileloadd). The binary is cached in
# $POLICY_RAG_CACHE/bin/llama-server-<version>-<key>, the key a hash of the CPU's flags and the
# build flags (the same key as the wheel's in scripts/setup.sh), so another CPU gets its own build.
# Set LLAMA_SDIST to a downloaded llama_cpp_python-<version>.tar.gz to build without PyPI.
# Each slot has its own 4096-token context (--ctx-size is PARALLEL x 4096, shared among slots).
set -euo pipefail
exec </dev/null

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${POLICY_RAG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/policy-rag}
LLAMA_VERSION=0.3.36
LLAMA_CFLAGS=${LLAMA_CFLAGS:--mno-amx-tile -mno-amx-int8 -mno-amx-bf16}
CPU_KEY=$({ grep -m1 '^flags' /proc/cpuinfo 2>/dev/null; echo "$LLAMA_CFLAGS"; } | sha256sum | cut -c1-16)
BIN=$CACHE/bin/llama-server-$LLAMA_VERSION-$CPU_KEY
PIP=${PIP:-$ROOT/.venv/bin/pip}
[ -x "$PIP" ] || PIP=pip

MODEL=${POLICY_RAG_LLM_MODEL:-$CACHE/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf}
HOST=127.0.0.1
PORT=8000
PARALLEL=2
CTX_PER_SLOT=4096
THREADS=$(nproc)
ALIAS=local-model
MODE=serve
EXTRA=()
while [ $# -gt 0 ]; do
    case "$1" in
        --model) MODEL=$2; shift 2 ;;
        --host) HOST=$2; shift 2 ;;
        --port) PORT=$2; shift 2 ;;
        --parallel) PARALLEL=$2; shift 2 ;;
        --ctx-per-slot) CTX_PER_SLOT=$2; shift 2 ;;
        --threads) THREADS=$2; shift 2 ;;
        --alias) ALIAS=$2; shift 2 ;;
        --build-only) MODE=build; shift ;;
        --print-binary) MODE=print; shift ;;
        --) shift; EXTRA=("$@"); break ;;
        -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown option $1 (see --help; llama-server's own options go after --)" >&2; exit 2 ;;
    esac
done

if [ "$MODE" = print ]; then
    [ -x "$BIN" ] && { echo "$BIN"; exit 0; }
    echo "not built: $BIN (run scripts/llama_server.sh --build-only)" >&2; exit 1
fi

build() {
    local tmp sdist src
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/policy-rag-llama-server.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    sdist=${LLAMA_SDIST:-}
    if [ -z "$sdist" ]; then
        echo "downloading the llama-cpp-python $LLAMA_VERSION sdist (for its vendored llama.cpp)" >&2
        "$PIP" download -q --no-deps --no-binary :all: "llama-cpp-python==$LLAMA_VERSION" -d "$tmp" >&2
        sdist=$(ls "$tmp"/llama_cpp_python-"$LLAMA_VERSION".tar.gz)
    fi
    tar -xzf "$sdist" -C "$tmp"
    src=$tmp/llama_cpp_python-$LLAMA_VERSION/vendor/llama.cpp
    [ -f "$src/CMakeLists.txt" ] || { echo "error: no llama.cpp source in $sdist" >&2; exit 1; }
    echo "building llama-server once into $BIN (minutes on 2 cores)" >&2
    # static (one file to cache), no web UI download, no HTTPS, no curl: only the API is used
    CFLAGS="$LLAMA_CFLAGS" CXXFLAGS="$LLAMA_CFLAGS" nice -n 10 cmake -S "$src" -B "$tmp/build" \
        -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DBUILD_SHARED_LIBS=OFF \
        -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
        -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_OPENSSL=OFF >&2
    nice -n 10 cmake --build "$tmp/build" --target llama-server -j "${LLAMA_BUILD_JOBS:-2}" >&2
    mkdir -p "$(dirname "$BIN")"
    cp "$tmp/build/bin/llama-server" "$BIN.tmp" && mv "$BIN.tmp" "$BIN"
    rm -rf "$tmp"
    trap - EXIT
}

[ -x "$BIN" ] || build
if [ "$MODE" = build ]; then
    echo "$BIN"
    exit 0
fi

[ -f "$MODEL" ] || { echo "error: no model at $MODEL (run make setup, or pass --model FILE.gguf)" >&2; exit 1; }
exec "$BIN" --model "$MODEL" --alias "$ALIAS" --host "$HOST" --port "$PORT" \
    --parallel "$PARALLEL" --cont-batching --ctx-size $((PARALLEL * CTX_PER_SLOT)) \
    --threads "$THREADS" ${EXTRA[@]+"${EXTRA[@]}"}
