"""The MCP server (tools search, ask, cite, show) through a real MCP client session
(``mcp.ClientSession``): over streamable HTTP on loopback (as ``policy-rag serve`` serves it at
/mcp) and over stdio (as ``policy-rag mcp`` does). Fast tests use the small fake index; the
integration test runs ``policy-rag mcp`` itself on the real index."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from policy_rag.server import create_app
from policy_rag.settings import REPO_ROOT
from test_server import QUESTION, Served, fake_assistant

TOOLS = {"search", "ask", "cite", "show"}
TIMEOUT = 120


def _data(result: Any) -> dict[str, Any]:
    """A tool result's JSON (structured content, else the text)."""
    assert not result.is_error, result.content
    if result.structured_content is not None:
        d = result.structured_content
        return d.get("result", d) if set(d) == {"result"} else d
    return json.loads(result.content[0].text)


async def _exercise(session: Any, *, passage: str, full: bool = True) -> dict[str, Any]:
    await session.initialize()
    tools = {t.name: t for t in (await session.list_tools()).tools}
    assert set(tools) >= TOOLS
    assert "question" in tools["ask"].input_schema["properties"]
    out: dict[str, Any] = {"tools": sorted(tools)}
    out["search"] = _data(await session.call_tool("search", {"question": QUESTION, "k": 3}))
    if full:
        out["ask"] = _data(await session.call_tool("ask", {"question": QUESTION, "backend": "none"}))
        out["cite"] = _data(await session.call_tool("cite", {"query": "Article 5(1)(f)"}))
        out["show"] = _data(await session.call_tool("show", {"id": passage}))
        bad = await session.call_tool("ask", {"question": "", "backend": "none"})
        assert bad.is_error and "leeg" in bad.content[0].text  # the CLI's message, no stack trace
        missing = await session.call_tool("show", {"id": "nope/xx/1"})
        assert missing.is_error and "No passage with id" in missing.content[0].text
        # the law in force on a date: "on" in every tool, a bad date is an error naming it
        dated = _data(await session.call_tool("ask", {"question": QUESTION, "backend": "none", "on": "2025-06-01"}))
        assert dated["on"] == "2025-06-01"
        bad_on = await session.call_tool("search", {"question": QUESTION, "on": "1 juni 2025"})
        assert bad_on.is_error and "'1 juni 2025'" in bad_on.content[0].text and "YYYY-MM-DD" in bad_on.content[0].text
    return out


def _check(out: dict[str, Any]) -> None:
    assert out["search"]["hits"] and out["search"]["hits"][0]["id"] == "ai-act/nl/art-5.1.f"
    assert out["ask"]["backend"] == "none" and out["ask"]["citations"]
    assert out["cite"]["provision"] == "Article 5(1)(f)" and out["cite"]["count"] >= 2
    assert out["show"]["passage"]["id"] == "ai-act/en/art-4"


def test_mcp_over_streamable_http(tmp_path: Path) -> None:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async def run(url: str) -> dict[str, Any]:
        with anyio.fail_after(TIMEOUT):
            async with streamable_http_client(url) as (read, write), ClientSession(read, write) as session:
                return await _exercise(session, passage="ai-act/en/art-4")

    with Served(create_app(fake_assistant(tmp_path), ui=False)) as s:
        out = anyio.run(run, f"{s.url}/mcp")
    _check(out)


STDIO_SERVER = """
import sys
sys.path[:0] = [{tests!r}, {src!r}]
from pathlib import Path
import anyio
from test_server import fake_assistant
from policy_rag.server import build_mcp
a = fake_assistant(Path({tmp!r}))
a.warm()
anyio.run(build_mcp(a).run_stdio_async)
"""


def test_mcp_over_stdio(tmp_path: Path) -> None:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    code = STDIO_SERVER.format(tests=str(REPO_ROOT / "tests"), src=str(REPO_ROOT / "src"), tmp=str(tmp_path))
    params = StdioServerParameters(command=sys.executable, args=["-c", code], cwd=str(tmp_path),
                                   env={"GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"})

    async def run() -> dict[str, Any]:
        with anyio.fail_after(TIMEOUT):
            async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
                return await _exercise(session, passage="ai-act/en/art-4")

    _check(anyio.run(run))


@pytest.mark.integration
def test_policy_rag_mcp_on_the_real_index(tmp_path: Path) -> None:
    """`policy-rag mcp` itself: the real index and embedding model, over stdio."""
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    from policy_rag.settings import get_settings

    s = get_settings()
    if not (Path(s.index_dir) / "current").exists():
        pytest.skip(f"no index in {s.index_dir}: `policy-rag ingest` (or POLICY_RAG_INDEX)")
    env = {k: v for k, v in os.environ.items() if k.startswith(("POLICY_RAG_", "HF_", "TRANSFORMERS_", "OPENBLAS"))}
    env["PYTHONPATH"] = str(REPO_ROOT / "src")
    params = StdioServerParameters(command=sys.executable, args=["-m", "policy_rag.cli", "mcp"], env=env,
                                   cwd=str(tmp_path))

    async def run() -> dict[str, Any]:
        with anyio.fail_after(300):
            async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
                out = await _exercise(session, passage="ai-act/nl/art-5", full=False)
                out["cite"] = _data(await session.call_tool("cite", {"query": "Artikel 6, lid 2"}))
                pid = out["search"]["hits"][0]["id"]
                out["show"] = _data(await session.call_tool("show", {"id": pid}))
                out["ask"] = _data(await session.call_tool("ask", {"question": QUESTION, "backend": "none"}))
                return out

    out = anyio.run(run)
    assert out["search"]["hits"] and out["cite"]["provision"] and out["show"]["passage"]["id"]
    assert out["ask"]["backend"] == "none"
