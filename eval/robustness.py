"""Ingest robustness figures for the closing note (issue 15): a generated bad corpus and broken
manifests, ingested in a temporary folder with the fake embedder (no model, ~30 s on 2 cores).

    PYTHONPATH=src:tests python eval/robustness.py

Prints one JSON line: rows and manifests tried, crashes (a stack trace), unclear messages (a
skipped row whose message does not name it), data lost (a good file not indexed) and the kill
points that tests/test_ingest_hardening.py tries. The same checks run in tests/test_bad_corpus.py.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

from bad_corpus import bad_manifests, run_rows  # noqa: E402
from policy_rag import cli  # noqa: E402
from policy_rag.embed import FakeEmbedder  # noqa: E402
from policy_rag.settings import Settings  # noqa: E402
from test_ingest_hardening import KILL_POINTS  # noqa: E402


def main() -> int:
    logging.disable(logging.WARNING)  # the skipped files are counted, not printed
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        settings = Settings(corpus_dir=base / "corpus", index_dir=base / "index", mirror="", cache=base / "cache",
                            max_source_mb=3)
        rows, _ = run_rows(settings, FakeEmbedder(64))
        mdir = base / "m"
        msettings = Settings(corpus_dir=mdir / "corpus", index_dir=mdir / "index", mirror="", cache=mdir / "cache")
        msettings.corpus_dir.mkdir(parents=True)
        cli.get_settings = lambda: msettings  # type: ignore[assignment]
        m_crash, m_unclear, runs = [], [], 0
        for name, data in bad_manifests():
            msettings.manifest_path.write_bytes(data)
            for cmd in (["ingest", "--quiet"], ["fetch", "--offline"]):
                runs += 1
                err = io.StringIO()
                try:
                    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                        code = cli.main(cmd)
                except Exception as e:  # noqa: BLE001
                    m_crash.append(f"{name} {cmd[0]}: {type(e).__name__}")
                    continue
                text = err.getvalue()
                if code == 0 or "Traceback" in text:
                    m_unclear.append(f"{name} {cmd[0]}")
    figures = {
        "bad_rows_tried": rows.tried - 4, "good_files": 4, "manifests_tried": len(bad_manifests()),
        "manifest_runs": runs, "indexed": len(rows.indexed), "skipped_clearly": len(rows.clear),
        "crashes": len(rows.crashes) + len(m_crash), "unclear_errors": len(rows.unclear) + len(m_unclear),
        "data_lost": len(rows.lost), "kill_points": KILL_POINTS,
    }
    print(json.dumps(figures))
    for line in rows.crashes + rows.unclear + rows.lost + m_crash + m_unclear:
        print("  ", line)
    return 0 if not (rows.crashes or rows.unclear or rows.lost or m_crash or m_unclear) else 1


if __name__ == "__main__":
    sys.exit(main())
