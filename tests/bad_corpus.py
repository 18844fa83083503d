"""A generated bad corpus (issue 15): over 200 broken files and manifest rows beside a few good
files, and a set of broken manifests. Used by tests/test_bad_corpus.py and eval/robustness.py.

Each case is one manifest row (or one whole manifest). ``run_rows`` ingests them all in one go
and says, per row, what happened: indexed, skipped with a clear message (naming the row's id
or file), skipped without a clear message ("unclear"), or not accounted for at all ("lost").
A crash is any exception that is not a PolicyRagError (a stack trace for the user).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).parent / "data"


@dataclass
class Case:
    id: str
    category: str
    path: str  # manifest path
    data: bytes | None  # file content written at corpus/path (None: write nothing / special)
    fmt: str = "page-text"
    lang: str = "en"
    doc: str = ""
    sha256: str | None = None  # None: the sha256 of data
    raw: dict[str, str] | None = None  # raw TOML values replacing fields
    setup: str = ""  # "fifo" | "dir" | "symlink:<target>"
    good: bool = False  # expected to be indexed


def _row_toml(c: Case) -> str:
    digest = c.sha256 if c.sha256 is not None else hashlib.sha256(c.data or b"").hexdigest()
    fields = {"id": c.id, "doc": c.doc or c.id, "title": c.id, "lang": c.lang, "kind": "page", "format": c.fmt,
              "version": "v", "url": f"https://example.eu/{c.id}", "path": c.path, "sha256": digest,
              "binding": False}
    out = {k: json.dumps(v) for k, v in fields.items()}
    for k, v in (c.raw or {}).items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    return "[[source]]\n" + "".join(f"{k} = {v}\n" for k, v in out.items())


def guideline_pdf_bytes(tmp: Path) -> bytes:
    from test_parse_pdf import make_pdf

    page = [
        (72, 752, 12, True, "1. BACKGROUND"),
        (72, 730, 12, False, "(1) The Commission adopts guidelines on the practical implementation of the AI Act."),
        (72, 700, 12, False, "(2) Guidelines are not binding; the Court of Justice interprets the AI Act."),
        (72, 670, 12, True, "2. EXAMPLES"),
        (72, 650, 12, False, "Example text under heading two."),
        (72, 620, 12, True, "Scenario A"),
        (72, 600, 12, False, "More example text under the same heading."),
    ]
    return make_pdf(tmp / "g.pdf", [page, page]).read_bytes()


def _html_without_articles(i: int) -> bytes:
    bodies = [
        "<html><body><h1>Search results</h1><p>No documents found.</p></body></html>",
        "<html><head><title>Cookie consent</title></head><body><div id='cookie'>Accept</div></body></html>",
        "<!DOCTYPE html><html><body>" + "<p>lorem ipsum</p>" * 500 + "</body></html>",
        "<html><body><div id='art_x'>Article x</div><div id='rct_'>?</div></body></html>",
        "<html>" + "<div>" * 5000 + "deep" + "</div>" * 5000 + "</html>",
        "<?xml version='1.0'?><root><item>not html</item></root>",
        "<html><body><script>alert(1)</script><div id='anx_Q'>annex?</div></body></html>",
        "<html><body><table><tr><td>(1)</td><td>a recital without its div</td></tr></table></body></html>",
        "just some text, no tags at all",
        "<html><body><div class='eli-subdivision' id='art_'>Article</div></body></html>",
    ]
    return bodies[i % len(bodies)].encode()


def bad_cases(tmp: Path) -> list[Case]:
    """The good files (4) and the bad rows (over 200), deterministic."""
    rng = random.Random(15)
    page = (DATA / "page_small.txt").read_bytes()
    md = (DATA / "page_small.md").read_bytes()
    html = (DATA / "eurlex_en_fragment.html").read_bytes()
    pdf = guideline_pdf_bytes(tmp)
    cases = [
        Case("good-page", "good", "good/page.txt", page, "page-text", "nl", good=True),
        Case("good-md", "good", "good/page.md", md, "page-markdown", "en", good=True),
        Case("good-act", "good", "good/act.html", html, "eurlex-html", "en", good=True),
        Case("good-pdf", "good", "good/g.pdf", pdf, "guidelines-pdf", "en", good=True),
    ]
    add = cases.append
    # truncated PDFs (some may still be readable: then they are indexed, which is fine)
    for i, cut in enumerate(sorted(rng.sample(range(1, len(pdf) - 1), 30))):
        add(Case(f"pdf-trunc-{i}", "truncated-pdf", f"bad/pdf-trunc-{i}.pdf", pdf[:cut], "guidelines-pdf"))
    # corrupted PDFs: random bytes overwritten
    for i in range(30):
        b = bytearray(pdf)
        for _ in range(1 + i * 3):
            b[rng.randrange(len(b))] = rng.randrange(256)
        add(Case(f"pdf-corrupt-{i}", "corrupted-pdf", f"bad/pdf-corrupt-{i}.pdf", bytes(b), "guidelines-pdf"))
    # zero-byte files, every format, both languages
    for fmt in ("eurlex-html", "guidelines-pdf", "omnibus-pdf", "page-text", "page-markdown"):
        for lang in ("en", "nl"):
            add(Case(f"zero-{fmt}-{lang}", "zero-byte", f"bad/zero-{fmt}-{lang}", b"", fmt, lang))
    # HTML without articles
    for i in range(10):
        add(Case(f"html-noart-{i}", "html-without-articles", f"bad/noart-{i}.html", _html_without_articles(i),
                 "eurlex-html"))
    # huge HTML: over the size cap (set to 3 MB by the runner) and a large one under it
    add(Case("html-huge", "huge-html", "bad/huge.html", b"<html><body>" + b"<p>x</p>" * 500_000 + b"</body></html>",
             "eurlex-html"))
    add(Case("html-big-noart", "huge-html", "bad/big.html", b"<html><body>" + b"<div>y</div>" * 150_000
             + b"</body></html>", "eurlex-html"))
    # the known crashes (issue 15 item 3)
    html_s = html.decode()
    add(Case("html-art1000", "known-crash", "bad/art1000.html",
             html_s.replace('id="art_5"', 'id="art_1000"').replace(">Article 5<", ">Article 1000<").encode(),
             "eurlex-html", doc="act-1000"))
    add(Case("md-20000-headings", "known-crash", "bad/heads.md",
             "".join(f"# H{i}\n\ntext {i}\n\n" for i in range(20_000)).encode(), "page-markdown"))
    # wrong encodings
    text = "Europese aanpak van AI: café, geëvalueerd, ‘betrouwbaar’ — België.\n\nTweede alinea over het AI-bureau.\n"
    encs = [("utf-16", True), ("utf-16-le", False), ("utf-16-be", False), ("utf-32", True), ("latin-1", False),
            ("cp1252", False), ("mac-roman", False), ("cp437", False)]
    for fmt in ("page-text", "page-markdown"):
        for enc, _ in encs:
            add(Case(f"enc-{fmt}-{enc}", "wrong-encoding", f"bad/enc-{enc}.{fmt}", text.encode(enc, "replace"),
                     fmt, "nl"))
        add(Case(f"enc-{fmt}-mojibake", "wrong-encoding", f"bad/moji.{fmt}",
                 text.encode("utf-8").decode("cp1252", "replace").encode("utf-8"), fmt, "nl"))
        add(Case(f"enc-{fmt}-random", "wrong-encoding", f"bad/rand.{fmt}", rng.randbytes(4096), fmt, "nl"))
        add(Case(f"enc-{fmt}-nul", "wrong-encoding", f"bad/nul.{fmt}", b"text\x00with\x00nul", fmt, "nl"))
    # a PDF that is HTML, HTML that is a PDF, and other format mix-ups
    for i, fmt in enumerate(("guidelines-pdf", "omnibus-pdf") * 3):
        add(Case(f"pdf-is-html-{i}", "pdf-is-html", f"bad/html{i}.pdf", _html_without_articles(i), fmt))
    for i in range(4):
        add(Case(f"html-is-pdf-{i}", "html-is-pdf", f"bad/pdf{i}.html", pdf[: len(pdf) - i * 100], "eurlex-html"))
    add(Case("pdf-as-text", "format-mixup", "bad/pdf.txt", pdf, "page-text"))
    add(Case("pdf-as-md", "format-mixup", "bad/pdf.md", pdf, "page-markdown"))
    add(Case("act-as-omnibus", "format-mixup", "bad/act-omni.pdf", html, "omnibus-pdf"))
    add(Case("guideline-as-omnibus", "format-mixup", "bad/g-omni.pdf", pdf, "omnibus-pdf"))
    # binary garbage in every format
    for i, fmt in enumerate(("eurlex-html", "guidelines-pdf", "omnibus-pdf", "page-text", "page-markdown") * 2):
        head = b"%PDF-1.7\n" if "pdf" in fmt and i < 5 else b""
        add(Case(f"garbage-{i}", "garbage", f"bad/garbage-{i}", head + rng.randbytes(2000), fmt))
    # checksum mismatches (good content, wrong sha256)
    for i in range(20):
        wrong = hashlib.sha256(f"other {i}".encode()).hexdigest()
        add(Case(f"sha-mismatch-{i}", "checksum-mismatch", f"bad/sha-{i}.txt", page, "page-text", "nl",
                 doc=f"sha-{i}", sha256=wrong))
    # paths leaving the corpus folder
    for i, p in enumerate(["../x.txt", "../../etc/passwd", "a/../../x.txt", "/etc/passwd", "//etc/passwd",
                           "./../x.txt", "a/./../../../x", "..", "C:\\x.txt", "a\\..\\..\\x"]):
        add(Case(f"path-escape-{i}", "dotdot-path", p, None))
    add(Case("path-link-out", "dotdot-path", "bad/link-out.txt", None, setup="symlink:/etc/hostname"))
    add(Case("path-link-zero", "non-regular", "bad/link-zero.txt", None, setup="symlink:/dev/zero"))
    # non-regular files
    for i in range(3):
        add(Case(f"fifo-{i}", "non-regular", f"bad/fifo-{i}.txt", None, setup="fifo"))
        add(Case(f"dir-{i}", "non-regular", f"bad/dir-{i}.txt", None, setup="dir"))
    # files listed but missing
    for i in range(5):
        add(Case(f"missing-{i}", "missing-file", f"bad/missing-{i}.txt", None))
    # duplicate ids and duplicate doc + lang
    for i in range(10):
        add(Case("good-page", "duplicate-id", f"bad/dup-{i}.txt", page, "page-text", "nl", doc=f"dup-{i}"))
    for i in range(10):
        add(Case(f"dup-doc-{i}", "duplicate-doc-lang", f"bad/dupdoc-{i}.txt", page, "page-text", "nl",
                 doc="good-page"))
    # bad field values
    raws = [{"sha256": "123"}, {"sha256": json.dumps("g" * 64)}, {"sha256": json.dumps("ab")}, {"id": "[1, 2]"},
            {"path": "7"}, {"path": '""'}, {"format": '"docx"'}, {"kind": '"poem"'}, {"lang": '"fr"'},
            {"ingest": '"yes"'}, {"binding": "1"}, {"doc": '"a/b"'}, {"url": '"ftp://x"'}, {"url": '"javascript:x"'},
            {"title": '""'}, {"version": "{ a = 1 }"}, {"lang": None}, {"sha256": None}, {"extra": '"x"'},
            {"id": '"has space"'}, {"id": '"../up"'}, {"doc": '""'}, {"path": '"a\\u0000b"'},
            {"sha256": json.dumps("A" * 63 + "!")}, {"title": json.dumps("t" * 3000)}]
    for i, raw in enumerate(raws):
        add(Case(f"field-{i}", "bad-field", f"bad/field-{i}.txt", page, "page-text", "nl", doc=f"field-{i}",
                 raw=raw))
    return cases


def write_corpus(corpus: Path, cases: list[Case]) -> None:
    corpus.mkdir(parents=True, exist_ok=True)
    for c in cases:
        target = corpus / c.path
        if c.data is None and not c.setup:
            continue
        if not target.resolve().is_relative_to(corpus.resolve()):
            continue  # never write outside
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() or target.is_symlink():
            continue
        if c.setup == "fifo":
            os.mkfifo(target)
        elif c.setup == "dir":
            target.mkdir()
        elif c.setup.startswith("symlink:"):
            target.symlink_to(c.setup.split(":", 1)[1])
        else:
            target.write_bytes(c.data or b"")
    (corpus / "sources.toml").write_text("\n".join(_row_toml(c) for c in cases), encoding="utf-8")


@dataclass
class Outcome:
    tried: int = 0
    indexed: list[str] = field(default_factory=list)
    clear: list[str] = field(default_factory=list)
    unclear: list[str] = field(default_factory=list)  # skipped, but the message does not name it
    lost: list[str] = field(default_factory=list)  # good but not indexed, or a bad row not accounted for
    crashes: list[str] = field(default_factory=list)


def _is_clear(msg: str) -> bool:
    return "Traceback" not in msg and ("Skipped" in msg or "skipped" in msg or "missing" in msg) and len(msg) < 2000


def run_rows(settings, embedder) -> tuple[Outcome, object]:
    """Ingest the generated corpus (written at settings.corpus_dir) once; classify every row."""
    from policy_rag.errors import PolicyRagError
    from policy_rag.ingest import ingest

    cases = bad_cases(settings.corpus_dir.parent)
    write_corpus(settings.corpus_dir, cases)
    out = Outcome(tried=len(cases))
    try:
        report = ingest(settings, embedder)
    except PolicyRagError as e:  # a clear stop: every row unaccounted for
        out.lost = [c.id for c in cases]
        return out, e
    except Exception as e:  # noqa: BLE001
        out.crashes.append(f"{type(e).__name__}: {e}")
        return out, e
    indexed = {d["source"] for d in report.documents}
    problems = report.problems
    for i, c in enumerate(cases, 1):
        row_tag = f"source #{i} ("
        mine = [p for p in problems if row_tag in p or p.startswith(f"{c.id}:")]
        if c.category == "duplicate-id":
            mine = [p for p in problems if row_tag in p]
        if c.id in indexed and c.category != "duplicate-id":
            out.indexed.append(c.id)
            if not c.good and c.category not in ("truncated-pdf", "corrupted-pdf", "format-mixup", "known-crash"):
                out.lost.append(f"{c.id}: indexed though it is bad ({c.category})")
        elif not mine:
            (out.lost if c.good else out.unclear).append(f"{c.id} ({c.category}): no message names it")
        elif all(_is_clear(m) for m in mine):
            out.clear.append(c.id)
        else:
            out.unclear.append(f"{c.id} ({c.category}): {mine[0][:300]}")
        if c.good and c.id not in indexed:
            out.lost.append(f"{c.id}: a good file was not indexed")
    return out, report


# --- broken manifests: each must stop with a clear message (or skip its rows), never a traceback


def bad_manifests() -> list[tuple[str, bytes]]:
    ok_row = _row_toml(Case("m", "x", "m.txt", b"m"))
    cases = [
        ("utf-16", ok_row.encode("utf-16")),
        ("utf-16-le-nobom", ok_row.encode("utf-16-le")),
        ("latin-1", (ok_row.replace('title = "m"', 'title = "café"')).encode("latin-1")),
        ("utf-32", ok_row.encode("utf-32")),
        ("source-table", b'[source]\nid = "x"\n'),
        ("source-string", b'source = "x"\n'),
        ("source-int-list", b"source = [1, 2]\n"),
        ("source-mixed", b'source = [{id = "x"}, "y"]\n'),
        ("empty", b""),
        ("only-comment", b"# nothing\n"),
        ("unclosed-table", b"[[source]\nid = 'x'\n"),
        ("bad-value", b"[[source]]\nid = \n"),
        ("bad-string", b'[[source]]\nid = "unterminated\n'),
        ("dup-key", b'[[source]]\nid = "a"\nid = "b"\n'),
        ("binary", bytes(range(256)) * 4),
        ("nul", b'[[source]]\nid = "a\x00"\n'),
        ("huge-line", b"# " + b"x" * 6_000_000 + b"\n"),
        ("bad-escape", b'[[source]]\nid = "\\q"\n'),
        ("inline-table-rows", b'source = {id = "x"}\n'),
        ("array-of-arrays", b"source = [[1], [2]]\n"),
        ("deep-nesting", b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n"),
        ("date-id", b"[[source]]\nid = 1979-05-27\n"),
    ]
    return cases
