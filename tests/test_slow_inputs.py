"""Splitting and cleaning take time linear in the input (issue 17, item 5).

Each case runs in a child process with a timeout, so a quadratic (or worse) path fails the test
instead of hanging it. The bound is relative, not absolute: ten times the input must take less
than thirty times as long (linear: ~10x; the quadratic splitter took 118x, the Markdown cleaner
90x, a heading ending in spaces was cubic)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from policy_rag.settings import REPO_ROOT

RATIO = 30  # ten times the input: at most this many times the time
TIMEOUT_S = 120

_CHILD = r"""
import json, sys, tempfile, time
from pathlib import Path
from policy_rag.chunk import split_long
from policy_rag.errors import ParseError
from policy_rag.parse.page import _clean_markdown_inline, _clean_markdown_line, parse_page_markdown
from policy_rag.types import Source

SRC = Source(id="p", doc="p", title="T", lang="nl", kind="page", format="page-markdown", version="v",
             url="https://example.eu/p", path="p.md", sha256="")
CASES = {
    "no-sentence-ends": lambda n: "woord " * (n // 6),
    "one-long-sentence-per-line": lambda n: ("woord " * 300 + "\n") * (n // 1800),
    "md-nested": lambda n: "[" * (n // 4) + "](" * (n // 4),
    "md-url-in-link-text": lambda n: ("[a \\(http" * n)[:n],
    "md-image": lambda n: ("![" * n)[:n] + "](x",
    "md-paren-link": lambda n: ("([http" * n)[:n],
    "md-angle-url": lambda n: ("<http:" * n)[:n],
    "md-escapes": lambda n: ("\\[" * n)[:n],
    "md-heading-spaces": lambda n: "# T\n\n## a" + " " * n + "x\n",
    "md-heading-hashes": lambda n: "# T\n\n## " + "# " * (n // 2) + "x\n",
}


def run(case, n):
    text = CASES[case](n)
    if case.startswith("md-heading"):
        f = Path(tempfile.mkdtemp()) / "p.md"
        f.write_text(text, encoding="utf-8")
        t = time.perf_counter()
        try:
            parse_page_markdown(f, SRC)
        except ParseError:
            pass
        return time.perf_counter() - t
    t = time.perf_counter()
    if case.startswith("md-"):
        _clean_markdown_line(_clean_markdown_inline(text))
    else:
        split_long(text, 220)
    return time.perf_counter() - t


case, small = sys.argv[1], int(sys.argv[2])
times = {}
for n in (small, small * 10):
    times[n] = min(run(case, n) for _ in range(3))
print(json.dumps({"small": times[small], "large": times[small * 10]}))
"""


@pytest.mark.parametrize("case, small", [
    ("no-sentence-ends", 48_000),  # 8k words -> 80k words
    ("one-long-sentence-per-line", 48_000),
    ("md-nested", 12_000),  # 12 KB -> 120 KB (the 43 s case)
    ("md-url-in-link-text", 12_000),
    ("md-image", 12_000),
    ("md-paren-link", 12_000),
    ("md-angle-url", 12_000),
    ("md-escapes", 12_000),
    ("md-heading-spaces", 3_000),
    ("md-heading-hashes", 12_000),
])
def test_time_grows_linearly_with_the_input(case: str, small: int) -> None:
    try:
        r = subprocess.run([sys.executable, "-c", _CHILD, case, str(small)], capture_output=True, text=True,
                           timeout=TIMEOUT_S, cwd=REPO_ROOT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{case}: did not finish within {TIMEOUT_S}s (superlinear)")
    assert r.returncode == 0, r.stderr[-2000:]
    t = json.loads(r.stdout)
    print(f"\n[slow-inputs] {case}: {small:,} chars {t['small'] * 1000:.1f} ms, "
          f"{small * 10:,} chars {t['large'] * 1000:.1f} ms ({t['large'] / max(t['small'], 1e-9):.1f}x)")
    # a floor of 5 ms for the small run: below it, timer noise dominates the ratio
    assert t["large"] < RATIO * max(t["small"], 0.005), t
