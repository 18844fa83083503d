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


# --- the question path (embed.query_path) ---------------------------------------------------


def _exported(tmp_path):
    """A model folder and its (stand-in) ONNX export in the cache, as `make setup` leaves them."""
    from policy_rag.onnx_backend import export_dir

    model = tmp_path / "models" / "embeddinggemma-300m"
    model.mkdir(parents=True)
    out = export_dir(tmp_path / "cache", model)
    out.mkdir(parents=True)
    (out / "model.onnx").write_bytes(b"stand-in")
    return model, tmp_path / "cache"


def test_questions_take_openvino_only_where_it_was_measured_faster(tmp_path, monkeypatch):
    from policy_rag.embed import query_path

    model, cache = _exported(tmp_path)
    fast = parse_cpuinfo(SAPPHIRE_RAPIDS)
    monkeypatch.setattr("policy_rag.embed._installed", lambda *names: True)
    assert query_path("auto", fast, model, cache)[0] == "openvino-bf16"
    assert query_path("torch", fast, model, cache) == ("torch", "set by POLICY_RAG_QUERY_BACKEND")
    backend, why = query_path("auto", parse_cpuinfo(EPYC_AVX2), model, cache)  # no native bfloat16
    assert backend == "torch" and "bfloat16" in why
    backend, why = query_path("auto", fast, model, tmp_path / "other-cache")  # never exported
    assert backend == "torch" and "make setup" in why
    backend, why = query_path("auto", fast, tmp_path / "no-such-model", cache)
    assert backend == "torch" and "not a local folder" in why
    monkeypatch.setattr("policy_rag.embed._installed", lambda *names: False)  # not installed
    backend, why = query_path("auto", fast, model, cache)
    assert backend == "torch" and "pip install -e '.[onnx]'" in why


def test_openvino_bfloat16_questions_may_search_a_torch_index():
    assert compatible(ID.format("openvino-bfloat16"), ID.format("bfloat16"))
    assert compatible(ID.format("openvino-bfloat16"), ID.format("float32"))
    assert not compatible(ID.format("openvino-bfloat16"), ID.format("onnx-float32-int8-dynamic-avx2"))


def test_query_backend_setting_is_checked(monkeypatch):
    from policy_rag.errors import SettingsError
    from policy_rag.settings import Settings

    monkeypatch.setenv("POLICY_RAG_QUERY_BACKEND", "cuda")
    with pytest.raises(SettingsError, match="POLICY_RAG_QUERY_BACKEND='cuda' is not one of auto, torch"):
        Settings()


class _Fast:
    """A stand-in for the OpenVINO question path: vectors from FakeEmbedder, or a failure."""

    def __init__(self, fail: bool = False) -> None:
        from policy_rag.embed import FakeEmbedder

        self.fake, self.fail, self.calls = FakeEmbedder(dim=16), fail, 0

    def embed_queries(self, texts):
        self.calls += 1
        if self.fail:
            raise RuntimeError("model.onnx is damaged")
        return self.fake.embed_queries(texts)


def _embedder_on(tmp_path, monkeypatch, fast):
    from policy_rag.embed import QueryCache
    from policy_rag.settings import Settings

    model, cache = _exported(tmp_path)
    monkeypatch.setattr("policy_rag.embed.cpu_info", lambda: parse_cpuinfo(SAPPHIRE_RAPIDS))
    monkeypatch.setattr("policy_rag.embed._installed", lambda *names: True)
    e = SentenceTransformerEmbedder(Settings(cache=cache, embed_model=str(model), embed_dtype="float32"))
    assert e.query_backend == "openvino-bf16" and e.describe_queries()["threads"] == 1
    e._fast, e.cache = fast, QueryCache(10)
    return e


def test_questions_on_the_fast_path_never_load_torch(tmp_path, monkeypatch):
    import numpy as np

    e = _embedder_on(tmp_path, monkeypatch, _Fast())
    e._load = lambda: pytest.fail("torch was loaded for a question")  # type: ignore[method-assign]
    v = e.embed_queries(["Mag ik emotieherkenning gebruiken?"])
    assert v.shape == (1, 16) and np.isclose(np.linalg.norm(v[0]), 1.0) and e._fast.calls == 1


def test_a_failing_fast_path_falls_back_to_torch_and_says_why(tmp_path, monkeypatch, caplog):
    import numpy as np

    from policy_rag.embed import FakeEmbedder

    class ST:
        def encode(self, texts, prompt_name=None, **_):
            return FakeEmbedder(dim=16).embed_queries(texts)

    e = _embedder_on(tmp_path, monkeypatch, _Fast(fail=True))
    e._model = type("HF", (), {"_model": ST()})()
    with caplog.at_level("WARNING", logger="policy_rag.embed"):
        v = e.embed_queries(["Wat is een AI-systeem?"])
    np.testing.assert_allclose(v[0], FakeEmbedder(dim=16).embed_queries(["Wat is een AI-systeem?"])[0], rtol=1e-6)
    assert e.query_backend == "torch" and "damaged" in e.query_reason and e._fast is None
    assert "embedded with torch from now on" in caplog.text


def test_setup_exports_only_where_questions_would_use_it(tmp_path, monkeypatch):
    from policy_rag import onnx_backend
    from policy_rag.settings import Settings

    model = tmp_path / "models" / "embeddinggemma-300m"
    model.mkdir(parents=True)
    s = Settings(cache=tmp_path / "cache", embed_model=str(model))
    made = []

    def export(model_path, out_dir):
        out_dir.mkdir(parents=True)
        (out_dir / "model.onnx").write_bytes(b"stand-in")
        made.append(out_dir)
        return out_dir / "model.onnx"

    monkeypatch.setattr(onnx_backend, "export_onnx", export)
    monkeypatch.setattr("policy_rag.embed._installed", lambda *names: True)
    monkeypatch.setattr(onnx_backend, "cpu_info", lambda: parse_cpuinfo(EPYC_AVX2))
    assert "no native bfloat16" in onnx_backend.prepare(s) and not made
    monkeypatch.setattr(onnx_backend, "cpu_info", lambda: parse_cpuinfo(SAPPHIRE_RAPIDS))
    assert "no export needed" in onnx_backend.prepare(s.with_(query_backend="torch")) and not made
    assert onnx_backend.prepare(s).startswith("exported") and len(made) == 1
    assert onnx_backend.prepare(s).startswith("ONNX export cached") and len(made) == 1
