"""Shared helpers of the reliability tests: an embedder that fails like the real tokenizer on text
it cannot take, an index of the whole AI Act's numbering, and running the CLI in-process with raw
bytes on stdin."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np

from conftest import make_index, make_passage, sample_passages
from hostile_inputs import bad_question_lines, bad_questions
from policy_rag import cli
from policy_rag import index as index_mod
from policy_rag.embed import FakeEmbedder
from policy_rag.legal import int_to_roman

# what an error may be about; anything else is an unclear error
KNOWN_KINDS = {"empty", "too_long", "binary", "encoding", "no-such-provision", "failed"}


class StrictEmbedder(FakeEmbedder):
    """The fake embedder, but it fails where the real tokenizer does: on text that is not a str
    or cannot be encoded (a lone surrogate gave ``TypeError: TextEncodeInput must be Union[...]``)."""

    def embed_queries(self, texts) -> np.ndarray:  # noqa: ANN001
        for t in texts:
            try:
                t.encode("utf-8")
            except (AttributeError, UnicodeEncodeError) as e:
                raise TypeError("TextEncodeInput must be Union[TextInputSequence, Tuple[InputSequence, "
                                "InputSequence]]") from e
        return super().embed_queries(texts)


def act_passages(articles: int = 113, annexes: int = 13, recitals: int = 180) -> list:
    """The sample passages plus one short passage per article, annex and recital of an act of
    this size (Article 5 with paragraphs 1-8, Article 50(1) with points (a)-(b) in its text)."""
    ps = sample_passages()
    have = {p.id for p in ps}

    def add(pid: str, provision: str, label: str, text: str, kind: str = "article") -> None:
        if pid not in have:
            ps.append(make_passage(pid, provision, label, text, kind=kind))
            have.add(pid)

    for i in range(1, articles + 1):
        if i == 5:
            for par in range(1, 9):
                add(f"ai-act/en/art-5.{par}", f"Article 5({par})", f"Article 5({par})", f"Paragraph {par} text.")
        elif i == 50:
            add("ai-act/en/art-50.1", "Article 50(1)", "Article 50(1)",
                "Providers shall ensure that (a) people are informed; (b) outputs are marked.")
        else:
            add(f"ai-act/en/art-{i}", f"Article {i}", f"Article {i}", f"Text of article number {i}.")
    for i in range(1, annexes + 1):
        r = int_to_roman(i)
        add(f"ai-act/en/anx-{r.lower()}", f"Annex {r}", f"Annex {r}", f"Text of annex {r}.", kind="annex")
    for i in range(1, recitals + 1):
        add(f"ai-act/en/rct-{i}", f"Recital {i}", f"Recital {i}", f"Text of recital number {i}.", kind="recital")
    for i, p in enumerate(ps):
        p.order = i
    return ps


def save_index(path: Path, embedder: FakeEmbedder, passages: list | None = None) -> Path:
    index_mod.save(make_index(passages or sample_passages(), embedder), path)
    return path


def use_fake_index(monkeypatch, tmp_path: Path, embedder: FakeEmbedder, passages: list | None = None) -> None:  # noqa: ANN001
    """Make ``policy-rag`` (in-process) use a small index built with ``embedder``."""
    save_index(tmp_path / "index", embedder, passages)
    monkeypatch.setenv("POLICY_RAG_INDEX", str(tmp_path / "index"))
    monkeypatch.setenv("POLICY_RAG_MIN_DENSE_SCORE", "0.05")
    monkeypatch.setenv("POLICY_RAG_MIN_DENSE_SCORE_EN", "same")
    monkeypatch.setattr("policy_rag.assistant.get_embedder", lambda settings: embedder)


def run_cli(monkeypatch, capsysbinary, argv: list[str], stdin: bytes = b"") -> tuple[int, bytes, str]:  # noqa: ANN001
    """``policy-rag argv`` in-process with ``stdin`` as raw bytes: (exit code, stdout bytes, stderr)."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    code = cli.main(argv)
    out, err = capsysbinary.readouterr()
    return code, out, err.decode("utf-8", "replace")


def encode_question(q: str) -> bytes:
    """A question as a user's file could hold it: lone surrogates as the bytes they stand for."""
    try:
        return q.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return q.encode("utf-8", "surrogatepass")


def all_lines() -> bytes:
    """Every hostile question and every raw line, one per line (questions with newlines span several)."""
    parts = [raw for _, raw in bad_question_lines()] + [encode_question(q) for _, q in bad_questions()]
    return b"\n".join(parts) + b"\n"


def expected_lines(data: bytes) -> int:
    return sum(1 for line in data.split(b"\n") if line.strip())


def json_lines(out: bytes) -> list[dict]:
    """stdout as JSON lines; fails unless it is strict UTF-8 and every line is JSON."""
    text = out.decode("utf-8")  # strict: raw bytes echoed would fail here
    return [json.loads(line) for line in text.splitlines()]


def is_clear(rec: dict) -> bool:
    """An error line that a person can act on: a known kind, a sentence, nothing internal."""
    msg = rec.get("error", "")
    return (rec.get("error_kind") in KNOWN_KINDS and 10 < len(msg) < 400 and "Traceback" not in msg
            and "Error:" not in msg and len(rec.get("question", "")) <= 260)
