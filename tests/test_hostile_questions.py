"""The reliability suite: every hostile question of tests/hostile_inputs.py through every entry
point (``Assistant.ask/search/cite``, ``show``, and the CLI's ``ask -`` / ``search -`` / ``cite``
with raw bytes on stdin). Each gets an answer or a clear message, never a stack trace. The figures
are printed (``pytest -s``): questions tried, crashes (goal 0), unclear errors (goal 0)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from conftest import make_index, sample_passages
from hostile_harness import (
    KNOWN_KINDS,
    StrictEmbedder,
    all_lines,
    encode_question,
    expected_lines,
    is_clear,
    json_lines,
    run_cli,
    use_fake_index,
)
from hostile_inputs import bad_question_lines, bad_questions
from policy_rag.assistant import Assistant
from policy_rag.errors import PolicyRagError
from policy_rag.settings import REPO_ROOT, Settings

PER_QUESTION_S = 10.0  # the fake index answers in milliseconds; a slow path shows up as seconds


@pytest.fixture
def strict() -> StrictEmbedder:
    return StrictEmbedder(dim=512)


@pytest.fixture
def hostile_assistant(strict: StrictEmbedder) -> Assistant:
    s = Settings(min_dense_score=0.05, min_dense_score_en=None)
    return Assistant(s, embedder=strict, index=make_index(sample_passages(), strict))


def _figures(entry: str, outcomes: Counter) -> None:
    tried = sum(outcomes.values())
    print(f"\n[reliability] {entry}: {tried} questions tried, {outcomes['crash']} crashes, "
          f"{outcomes['unclear']} unclear errors; {dict(outcomes)}")


@pytest.mark.parametrize("entry", ["ask", "search", "cite"])
def test_every_hostile_question_gets_an_answer_or_a_clear_message(hostile_assistant: Assistant, entry: str) -> None:
    a = hostile_assistant
    outcomes: Counter = Counter()
    crashes: list[str] = []
    slow: list[str] = []
    for name, q in bad_questions():
        t = time.perf_counter()
        try:
            if entry == "ask":
                ans = a.ask(q, "none")
                outcomes["refusal" if ans.refused else "answer"] += 1
                assert ans.text.strip()
                json.dumps(ans.to_dict(), ensure_ascii=False).encode("utf-8")  # always writable
            elif entry == "search":
                a.search(q)
                outcomes["answer"] += 1
            else:
                a.cite(q).to_dict()
                outcomes["answer"] += 1
        except PolicyRagError as e:
            clear = getattr(e, "kind", "") in KNOWN_KINDS and 10 < len(str(e)) < 400
            outcomes["clear-error" if clear else "unclear"] += 1
            str(e).encode("utf-8")
        except Exception as e:  # noqa: BLE001 - what the suite counts
            outcomes["crash"] += 1
            crashes.append(f"{name}: {type(e).__name__}: {str(e)[:120]}")
        if time.perf_counter() - t > PER_QUESTION_S:
            slow.append(name)
    _figures(f"Assistant.{entry}", outcomes)
    assert sum(outcomes.values()) >= 100
    assert not crashes, crashes
    assert outcomes["unclear"] == 0
    assert not slow, f"slower than {PER_QUESTION_S}s: {slow}"


def test_every_hostile_question_as_a_passage_id_for_show(monkeypatch, tmp_path, capsysbinary, strict) -> None:  # noqa: ANN001
    use_fake_index(monkeypatch, tmp_path, strict)
    outcomes: Counter = Counter()
    for name, q in bad_questions():
        try:
            code, out, err = run_cli(monkeypatch, capsysbinary, ["show", q])
        except Exception as e:  # noqa: BLE001
            outcomes["crash"] += 1
            print(name, type(e).__name__, e)
            continue
        clear = code == 1 and ("No passage" in err or "no " in err.lower()) and "Traceback" not in err and len(err) < 400
        outcomes["clear-error" if clear else "unclear"] += 1
    _figures("show", outcomes)
    assert outcomes["crash"] == 0 and outcomes["unclear"] == 0


def test_every_hostile_question_through_cli_cite(monkeypatch, tmp_path, capsysbinary, strict) -> None:  # noqa: ANN001
    use_fake_index(monkeypatch, tmp_path, strict)
    outcomes: Counter = Counter()
    for name, q in bad_questions() + [(n, raw.decode("utf-8", "surrogateescape")) for n, raw in bad_question_lines()]:
        try:
            code, out, err = run_cli(monkeypatch, capsysbinary, ["cite", q, "--json"])
        except Exception as e:  # noqa: BLE001
            outcomes["crash"] += 1
            print(name, type(e).__name__, e)
            continue
        recs = json_lines(out)
        assert len(recs) == 1, (name, out[:300])
        if code == 0 and "provision" in recs[0]:
            outcomes["answer"] += 1
        else:
            outcomes["clear-error" if code == 1 and is_clear(recs[0]) else "unclear"] += 1
    _figures("cli cite", outcomes)
    assert outcomes["crash"] == 0 and outcomes["unclear"] == 0


@pytest.mark.parametrize("cmd", [["ask", "-", "--json", "--llm", "none"], ["search", "-", "--json", "-k", "3"]])
def test_cli_batch_answers_every_line(monkeypatch, tmp_path, capsysbinary, strict, cmd) -> None:  # noqa: ANN001
    """All 117 hostile inputs piped as raw bytes: one JSON line each, the batch never stops."""
    use_fake_index(monkeypatch, tmp_path, strict)
    data = all_lines()
    t = time.perf_counter()
    code, out, err = run_cli(monkeypatch, capsysbinary, cmd, data)
    took = time.perf_counter() - t
    recs = json_lines(out)
    errors = [r for r in recs if "error" in r]
    unclear = [r for r in errors if not is_clear(r)]
    print(f"\n[reliability] cli {cmd[0]} -: {expected_lines(data)} lines, {len(recs)} JSON lines, "
          f"{len(errors)} clear or unclear errors ({Counter(r['error_kind'] for r in errors)}), "
          f"{len(unclear)} unclear, {took:.1f}s")
    assert code == 0, err
    assert "Traceback" not in err
    assert len(recs) == expected_lines(data)
    assert not unclear, unclear[:3]
    assert [r["line"] for r in recs] == sorted(r["line"] for r in recs)
    assert len(recs) - len(errors) > 50  # most are answered


def test_one_failing_line_does_not_stop_the_batch(monkeypatch, tmp_path, capsysbinary, strict) -> None:  # noqa: ANN001
    """The issue's case: the line with a lone surrogate (byte 0xff) in the middle of a batch, and a
    line whose answering fails unexpectedly: each gets one error line, the lines after are answered."""
    use_fake_index(monkeypatch, tmp_path, strict)
    real_ask = Assistant.ask

    def flaky(self, question, backend=None):  # noqa: ANN001, ANN202
        if "boom" in question:
            raise RuntimeError("internal detail")
        return real_ask(self, question, backend)

    monkeypatch.setattr(Assistant, "ask", flaky)
    data = (b"Wat is een AI-systeem?\n" + "Wat is \udcff een AI-systeem?".encode("utf-8", "surrogateescape")
            + b"\nboom question about AI literacy\nWat is AI-geletterdheid?\n")
    code, out, err = run_cli(monkeypatch, capsysbinary, ["ask", "-", "--json", "--llm", "none"], data)
    recs = json_lines(out)
    assert code == 0 and len(recs) == 4, err
    assert "error" not in recs[0] and "error" not in recs[1] and "error" not in recs[3]
    assert recs[2]["error_kind"] == "failed" and recs[2]["line"] == 3 and "internal detail" not in recs[2]["error"]
    assert "RuntimeError" in recs[2]["error"]


def test_every_line_failing_exits_non_zero(monkeypatch, tmp_path, capsysbinary, strict) -> None:  # noqa: ANN001
    use_fake_index(monkeypatch, tmp_path, strict)
    data = b"\x00\x01\x02\x03\n" + bytes(range(0x80, 0x100)) + b"\n" + b"x" * 3000 + b"\n"
    for cmd in (["ask", "-", "--json", "--llm", "none"], ["search", "-", "--json"]):
        code, out, err = run_cli(monkeypatch, capsysbinary, cmd, data)
        recs = json_lines(out)
        assert code == 1 and len(recs) == 3 and all(is_clear(r) for r in recs), (cmd, recs)
        assert [r["error_kind"] for r in recs] == ["binary", "encoding", "too_long"]
        assert "3 of 3 questions failed" in err


def test_no_index_is_one_clear_message_and_a_non_zero_exit(monkeypatch, tmp_path, capsysbinary, strict) -> None:  # noqa: ANN001
    monkeypatch.setenv("POLICY_RAG_INDEX", str(tmp_path / "no-index"))
    monkeypatch.setattr("policy_rag.assistant.get_embedder", lambda settings: strict)
    for cmd in (["ask", "-", "--json", "--llm", "none"], ["search", "-", "--json"]):
        code, out, err = run_cli(monkeypatch, capsysbinary, cmd, b"Wat is een AI-systeem?\nWat is verboden?\n")
        assert code == 1 and out == b"", (cmd, out)
        assert "policy-rag ingest" in err and "Traceback" not in err and err.count("No index") == 1


@pytest.mark.integration
def test_real_index_cli_batch_answers_every_hostile_line() -> None:
    """One batch with the real index and model (read-only): every line answered or a clear error."""
    env = {**os.environ}
    index = Path(env.get("POLICY_RAG_INDEX") or REPO_ROOT / "index")
    if not (index / "current").exists():
        pytest.skip(f"no index in {index}: run `make setup`")
    # the raw lines, the cases that reached the real tokenizer or the provision check, and every
    # third question (all of them run on the fake index above): about two minutes on 2 busy cores
    named = {"lone-surrogate", "lone-high-surrogate", "surrogates-only", "nul", "rtl-override", "zero-width",
             "fake-article-999", "fake-article-999-en", "fake-paragraph", "fake-annex", "fake-recital",
             "article-zero", "huge-number", "one-mb", "no-sentence-ends", "combining-flood"}
    qs = [q for i, (name, q) in enumerate(bad_questions()) if name in named or i % 3 == 0]
    data = b"\n".join([raw for _, raw in bad_question_lines()] + [encode_question(q) for q in qs]) + b"\n"
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "policy_rag.cli", "ask", "-", "--json", "--llm", "none"], input=data,
                       capture_output=True, timeout=600, cwd=REPO_ROOT, env=env)
    took = time.perf_counter() - t
    err = r.stderr.decode("utf-8", "replace")
    recs = json_lines(r.stdout)
    errors = [x for x in recs if "error" in x]
    unclear = [x for x in errors if not is_clear(x)]
    print(f"\n[reliability] real index, cli ask -: {expected_lines(data)} lines, {len(recs)} JSON lines, "
          f"{len(recs) - len(errors)} answered or refused, {len(errors)} errors "
          f"({Counter(x['error_kind'] for x in errors)}), {len(unclear)} unclear, {took:.0f}s")
    assert r.returncode == 0 and "Traceback" not in err, err[-2000:]
    assert len(recs) == expected_lines(data)
    assert not unclear, unclear[:3]
    by_q = {x.get("question"): x for x in recs}
    fake = by_q.get("Wat staat er in artikel 999 lid 7?")
    assert fake is not None and fake["refusal_reason"] == "no-such-provision" and "artikel 999" in fake["answer"]
