"""The compute path follows the CPU: bfloat16 only with native support, float32 otherwise; the
setting overrides; vectors of incompatible variants are never mixed in one search."""

import pytest

from policy_rag import index as index_mod
from policy_rag.compute import Variant, choose_dtype, compatible, parse_cpuinfo, split_model_id
from policy_rag.embed import SentenceTransformerEmbedder
from policy_rag.errors import IndexMismatchError, PolicyRagError

# abridged /proc/cpuinfo of three machines (two processors each; only the first is read)
SAPPHIRE_RAPIDS = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz
flags\t\t: fpu sse2 avx avx2 fma avx512f avx512_vnni avx512_bf16 amx_bf16 amx_tile amx_int8

processor\t: 1
model name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz
flags\t\t: fpu sse2 avx avx2 fma avx512f avx512_vnni avx512_bf16 amx_bf16 amx_tile amx_int8
"""
EPYC_AVX2 = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7B12
flags\t\t: fpu sse2 avx avx2 fma bmi2
"""
COOPER_LAKE_NO_AMX = """model name\t: Intel(R) Xeon(R) CPU (Cooper Lake)
flags\t\t: avx2 fma avx512f avx512_bf16
"""
SKYLAKE_AVX512 = """model name\t: Intel(R) Xeon(R) Gold 6148
flags\t\t: avx2 fma avx512f avx512bw avx512_vnni
"""
ID = "embeddinggemma-300m|{}|q=task: search result | query: |d=title: <label> | text: "


@pytest.mark.parametrize(("text", "dtype"), [
    (SAPPHIRE_RAPIDS, "bfloat16"), (COOPER_LAKE_NO_AMX, "bfloat16"),
    (EPYC_AVX2, "float32"), (SKYLAKE_AVX512, "float32"), ("", "float32"),
])
def test_auto_picks_bfloat16_only_with_native_support(text, dtype):
    chosen, why = choose_dtype("auto", parse_cpuinfo(text))
    assert chosen == dtype and why.startswith("auto:")


def test_cpuinfo_model_and_relevant_flags():
    cpu = parse_cpuinfo(SAPPHIRE_RAPIDS)
    assert cpu.model == "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz"
    assert cpu.relevant_flags() == ["avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8"]
    assert "amx_bf16" in cpu.describe() and "sse2" not in cpu.describe()
    assert parse_cpuinfo(EPYC_AVX2).to_dict() == {"model": "AMD EPYC 7B12", "flags": ["avx2", "fma"]}


def test_onednn_held_to_avx2_counts_as_no_native_bfloat16():
    cpu = parse_cpuinfo(SAPPHIRE_RAPIDS, onednn_max_isa="AVX2")
    assert not cpu.native_bf16
    chosen, why = choose_dtype("auto", cpu)
    assert chosen == "float32" and "ONEDNN_MAX_CPU_ISA" in why
    assert parse_cpuinfo(SAPPHIRE_RAPIDS, onednn_max_isa="AVX512_CORE_AMX").native_bf16


def test_the_setting_overrides_the_machine():
    assert choose_dtype("bfloat16", parse_cpuinfo(EPYC_AVX2))[0] == "bfloat16"
    assert choose_dtype("float32", parse_cpuinfo(SAPPHIRE_RAPIDS))[0] == "float32"
    with pytest.raises(PolicyRagError, match="POLICY_RAG_EMBED_DTYPE"):
        choose_dtype("int4", parse_cpuinfo(EPYC_AVX2))


def test_embedder_model_id_carries_the_chosen_variant(settings, monkeypatch):
    monkeypatch.setattr("policy_rag.embed.cpu_info", lambda: parse_cpuinfo(EPYC_AVX2))
    e = SentenceTransformerEmbedder(settings.with_(embed_model="/nonexistent/embeddinggemma-300m", embed_dtype="auto"))
    assert split_model_id(e.model_id)[1] == "float32"
    d = e.describe()
    assert d["backend"] == "torch" and d["dtype"] == "float32" and d["cpu"]["model"] == "AMD EPYC 7B12"
    monkeypatch.setattr("policy_rag.embed.cpu_info", lambda: parse_cpuinfo(SAPPHIRE_RAPIDS))
    e = SentenceTransformerEmbedder(settings.with_(embed_model="/nonexistent/embeddinggemma-300m", embed_dtype="auto"))
    assert split_model_id(e.model_id)[1] == "bfloat16" and "amx_bf16" in e.describe()["chosen"]


def test_variant_tags():
    # a torch variant's tag is its dtype: ids (and cached vectors) from before variants stay valid
    assert Variant("torch", "bfloat16").tag == "bfloat16"
    assert Variant("onnx", "float32", "int8-dynamic-avx512_vnni").tag == "onnx-float32-int8-dynamic-avx512_vnni"


def test_compatible_variants():
    assert compatible(ID.format("float32"), ID.format("bfloat16"))
    assert compatible(ID.format("onnx-float32"), ID.format("bfloat16"))
    assert not compatible(ID.format("bfloat16"), ID.format("onnx-float32-int8-dynamic-avx2"))
    assert not compatible(ID.format("float32"), ID.format("float32").replace("embeddinggemma", "other"))
    assert not compatible(ID.format("float32"), ID.format("float32").replace("search result", "qa"))
    assert compatible("fake-512", "fake-512") and not compatible("fake-512", "fake-64")


def _save_with_model_id(tmp_path, small_index, model_id):
    small_index.manifest = {**small_index.manifest, "model_id": model_id}
    return index_mod.save(small_index, tmp_path / "index")


def test_compatible_variant_may_search_the_index(tmp_path, small_index):
    _save_with_model_id(tmp_path, small_index, ID.format("bfloat16"))
    idx = index_mod.load(tmp_path / "index", expect={"model_id": ID.format("float32")})
    assert len(idx.passages) == len(small_index.passages)


def test_incompatible_variant_names_the_setting_and_the_rebuild(tmp_path, small_index):
    _save_with_model_id(tmp_path, small_index, ID.format("bfloat16"))
    with pytest.raises(IndexMismatchError) as e:
        index_mod.load(tmp_path / "index", expect={"model_id": ID.format("onnx-float32-int8-dynamic-avx2")})
    msg = str(e.value)
    assert "POLICY_RAG_EMBED_DTYPE" in msg and "policy-rag ingest --rebuild" in msg and "'bfloat16'" in msg


def test_other_model_is_refused_with_the_rebuild(tmp_path, small_index):
    _save_with_model_id(tmp_path, small_index, ID.format("bfloat16"))
    with pytest.raises(IndexMismatchError, match="policy-rag ingest --rebuild"):
        index_mod.load(tmp_path / "index", expect={"model_id": ID.format("bfloat16").replace("300m", "1b")})


def test_unknown_backend_names_the_setting(settings):
    from policy_rag.embed import get_embedder
    from policy_rag.errors import ModelUnavailableError

    with pytest.raises(ModelUnavailableError, match="POLICY_RAG_EMBED_BACKEND"):
        get_embedder(settings.with_(embed_backend="tensorrt"))


def test_onnx_backend_without_its_packages_says_what_to_install(settings, tmp_path, monkeypatch):
    import sys

    from policy_rag.errors import ModelUnavailableError
    from policy_rag.onnx_backend import OnnxEmbedder

    (tmp_path / "model").mkdir()
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails as if not installed
    monkeypatch.setitem(sys.modules, "onnx", None)
    e = OnnxEmbedder(str(tmp_path / "model"), tmp_path / "cache", backend="onnx", quantization="int8",
                     cpu=parse_cpuinfo(EPYC_AVX2))
    assert split_model_id(e.model_id)[1] == "onnx-float32-int8-dynamic-avx2"
    with pytest.raises(ModelUnavailableError, match=r"pip install -e '\.\[onnx\]'"):
        e.embed_queries(["x"])


def test_onnx_export_is_cached_by_model_checksum(tmp_path):
    import json

    from policy_rag.onnx_backend import export_dir

    model = tmp_path / "models" / "embeddinggemma-300m"
    model.mkdir(parents=True)
    stamp = model.with_name(model.name + ".sha256")
    stamp.write_text(json.dumps({"sha256": "a" * 64}))
    first = export_dir(tmp_path / "cache", model)
    assert first == export_dir(tmp_path / "cache", model) and first.parent == tmp_path / "cache" / "onnx"
    stamp.write_text(json.dumps({"sha256": "b" * 64}))  # other weights: another export
    assert export_dir(tmp_path / "cache", model) != first
