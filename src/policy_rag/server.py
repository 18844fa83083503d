"""The one ASGI app: the HTTP API (/v1), the MCP server (/mcp) and the Gradio app (/).

    policy-rag serve                 # one process: http://127.0.0.1:7860 (UI, /v1, /mcp)
    policy-rag serve --workers 4     # the UI process in front, /v1 and /mcp served by 4 workers
    policy-rag mcp                   # the MCP server over stdio (for a desktop AI assistant)

Everything goes through one :class:`~policy_rag.assistant.Assistant` per process and returns
the JSON the CLI prints with ``--json``. The API is stateless (the index is read-only), so
any number of worker processes can serve it. Gradio's queue is not: it keeps each browser's
events in the process that took them, and a browser (and ``gradio_client``) joins the queue
and reads its results on two different connections, which a pool of workers hands to two
different processes. So with ``--workers N`` (N > 1) the UI runs in one front process that
also forwards /v1 and /mcp to N uvicorn worker processes, each on its own loopback port: the
front sends each request to the worker with the fewest requests in flight (on one shared port
the kernel decides which worker takes a connection, and under load one worker's generation slot
evidently queued most answers: eval/load.py, 144 s against 86 s for 8 answers). The workers stop when the front process stops, however
it stops.

Concurrency: search, cite, show and extractive answers run side by side in threads
(``settings.api_concurrency`` at a time per process); generations wait for one of
``settings.llm_slots`` slots (the LLM's capacity: 1 for the in-process model, the number of
parallel slots of an LLM server). A server error is answered with a generic JSON body and an
error id; the traceback goes to the log only.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import contextlib  # noqa: E402
import html  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import AsyncIterator, Callable, Generator, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from types import ModuleType  # noqa: E402
from typing import Any  # noqa: E402

import anyio  # noqa: E402
import anyio.to_thread  # noqa: E402
from fastapi import APIRouter, FastAPI, Query, Request  # noqa: E402
from fastapi.exceptions import RequestValidationError  # noqa: E402
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse  # noqa: E402
from pydantic import BaseModel, Field  # noqa: E402

from . import websec  # noqa: E402
from .answer import validate_question  # noqa: E402
from .assistant import Assistant, error_dict, search_dict, show_dict  # noqa: E402
from .compute import cores  # noqa: E402
from .errors import IndexMismatchError, MissingIndexError, ModelUnavailableError, PolicyRagError  # noqa: E402
from .lang import detect_language  # noqa: E402
from .settings import REPO_ROOT, Settings, get_settings  # noqa: E402
from .types import Answer  # noqa: E402

log = logging.getLogger("policy_rag.server")

API = "/v1"
MCP_PATH = "/mcp"
MAX_BODY = 64 * 1024  # bytes: a question is at most 2,000 characters
MAX_CITE_QUERY = 300
ENV_HOST = "POLICY_RAG_SERVE_HOST"  # the public host, for the workers of a pool
VERSION = "1"


# ---------------------------------------------------------------------------------------- requests


class AskRequest(BaseModel):
    question: str = Field(description="The question, in Dutch or English (at most 2,000 characters).")
    backend: str | None = Field(None, description="auto | local | hosted | none (default: the server's "
                                                  "POLICY_RAG_LLM). none: an extractive answer, no LLM.")
    on: str | None = Field(None, description="A date, YYYY-MM-DD: the answer uses the law in force on that "
                                             "date (default: the server's POLICY_RAG_ON, else today). A bad date "
                                             "is a 400 naming it.")
    stream: bool = Field(False, description="Server-sent events: `token` events with the answer's text, "
                                            "each sentence once it has passed the checks, then one `answer` event with "
                                            "the checked answer (the same JSON as without stream), or `error`.")


class SearchRequest(BaseModel):
    question: str = Field(description="The question or keywords.")
    k: int = Field(10, ge=1, le=50, description="How many passages.")
    on: str | None = Field(None, description="A date, YYYY-MM-DD: only the wordings in force on that date "
                                             "(see /v1/ask).")


def _check_date(on: str | None) -> str | None:
    """``on`` as an ISO date (None: not given); a bad one is InvalidDate (a 400) naming it."""
    from .inforce import parse_on

    return parse_on(on, 'The date "on":') or None if on is not None else None


def _status(exc: PolicyRagError) -> int:
    if isinstance(exc, ModelUnavailableError | MissingIndexError | IndexMismatchError):
        return 503  # the server's side: a model or the index is missing or unreachable
    return 400


def _error(question: object, exc: PolicyRagError) -> JSONResponse:
    return JSONResponse(error_dict(question, exc), status_code=_status(exc))


def _lang(q: str) -> str:
    try:
        return detect_language(q) if q.strip() else "nl"
    except Exception:  # noqa: BLE001 - a language guess never fails a request
        return "nl"


# ---------------------------------------------------------------------------------------- the API


class Api:
    """The /v1 endpoints over one assistant."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        s = assistant.settings
        # cheap work (search, cite, show, extractive answers): this many threads at once
        self.cheap = anyio.CapacityLimiter(s.api_concurrency)
        # generating requests mostly wait for a slot (Assistant.slots): their own threads, so
        # waiting generations never take the threads of cheap requests
        self.generating = anyio.CapacityLimiter(max(64, 4 * s.llm_slots))

    async def run(self, fn: Callable[..., Any], *args: Any, generates: bool = False) -> Any:
        return await anyio.to_thread.run_sync(fn, *args, limiter=self.generating if generates else self.cheap)

    def router(self) -> APIRouter:
        r = APIRouter(prefix=API)
        a = self.assistant

        @r.post("/ask", summary="An answer with checked citations",
                description="The same JSON as `policy-rag ask --json`. Bad input: 400 with the message in the "
                            "question's language. With `\"stream\": true`: server-sent events.")
        async def ask(req: AskRequest) -> Any:
            try:
                _check_date(req.on)
                backend = a.backend(req.backend)  # an unknown or unavailable backend: before anything runs
                if req.stream:
                    validate_question(req.question)
            except PolicyRagError as e:
                return _error(req.question, e)
            generates = backend != "none"
            if req.stream:
                return StreamingResponse(self._sse(req, backend, generates), media_type="text/event-stream",
                                         headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
            try:
                ans: Answer = await self.run(a.ask, req.question, backend, req.on or None, generates=generates)
            except PolicyRagError as e:
                return _error(req.question, e)
            return ans.to_dict()

        @r.post("/search", summary="Ranked passages for a question",
                description="The same JSON as `policy-rag search --json`.")
        async def search(req: SearchRequest) -> Any:
            try:
                on = _check_date(req.on)
                res = await self.run(a.search, req.question, req.k, on)
            except PolicyRagError as e:
                return _error(req.question, e)
            return search_dict(req.question, res)

        @r.get("/cite", summary="Where a provision (or a phrase) is cited",
               description="`q`: 'Artikel 6, lid 2', 'Article 6(2)', 'bijlage III' or a phrase. The same JSON "
                           "as `policy-rag cite --json`.")
        async def cite(q: str = Query("", description="A provision or a phrase (at most 300 characters)."),
                       on: str | None = Query(None, description="A date, YYYY-MM-DD: the wordings in force then "
                                                                "(default today).")) -> Any:
            query = q.strip()
            try:
                day = _check_date(on)
            except PolicyRagError as e:
                return JSONResponse({"query": query[:MAX_CITE_QUERY], "error": str(e), "error_kind": "invalid_date"},
                                    status_code=400)
            if not query or len(query) > MAX_CITE_QUERY or "\x00" in query:
                from .ui_text import t

                lang = _lang(query[:MAX_CITE_QUERY])
                msg = t("en" if lang == "en" else "nl", "cite_empty")
                if len(query) > MAX_CITE_QUERY:
                    msg += f" (at most {MAX_CITE_QUERY} characters)"
                return JSONResponse({"query": query[:MAX_CITE_QUERY], "error": msg, "error_kind": "invalid"},
                                    status_code=400)
            try:
                res = await self.run(a.cite, query, None, day)
            except PolicyRagError as e:
                return JSONResponse({"query": query, "error": str(e), "error_kind": "failed"},
                                    status_code=_status(e))
            return res.to_dict()

        @r.get("/passages/{pid:path}", summary="One passage with its context and its other-language twin",
               description="Ids look like `ai-act/nl/art-5.1.f`; the same JSON as `policy-rag show --json`.")
        async def passage(pid: str, context: int = Query(1, ge=0, le=5),
                          on: str | None = Query(None, description="A date, YYYY-MM-DD: for a plain id, the "
                                                                   "wording in force then.")) -> Any:
            try:
                day = _check_date(on)
            except PolicyRagError as e:
                return JSONResponse({"id": pid[:200], "error": str(e), "error_kind": "invalid_date"}, status_code=400)
            try:
                p, around, twin = await self.run(a.show, pid, context, day)
            except PolicyRagError as e:
                return JSONResponse({"id": pid, "error": str(e)}, status_code=_status(e))
            if p is None:
                return JSONResponse({"id": pid, "error": f"No passage with id {pid[:200]!r}. Find ids with "
                                                         "`policy-rag search` or POST /v1/search."},
                                    status_code=404)
            return show_dict(p, around, twin, a.index)

        @r.get("/health", summary="Is this process ready, and how busy is its LLM")
        async def health() -> Any:
            try:
                n = len(a.index.passages)
                default = a.backend(None)
            except PolicyRagError as e:
                return JSONResponse({"status": "unavailable", "error": str(e), "pid": os.getpid()}, status_code=503)
            return {"status": "ok", "pid": os.getpid(), "passages": n, "default_backend": default,
                    "llm_slots": a.slots.n, "generating": a.slots.running, "waiting": a.slots.waiting,
                    "api_version": VERSION}

        return r

    def _sse(self, req: AskRequest, backend: str, generates: bool) -> AsyncIterator[bytes]:
        a = self.assistant

        def events() -> Generator[bytes, None, None]:
            if generates and a.slots.position() >= a.slots.n:
                yield _event("queued", {"ahead": a.slots.position() - a.slots.n + 1})
            try:
                for item in a.stream(req.question, backend, req.on or None):
                    if isinstance(item, Answer):
                        yield _event("answer", item.to_dict())
                    else:
                        yield _event("token", {"text": item, "checked": True})  # checked sentences only
            except PolicyRagError as e:
                yield _event("error", error_dict(req.question, e))
            except Exception:  # never a stack trace in the stream
                eid = uuid.uuid4().hex[:12]
                log.exception("streaming an answer failed (error id %s)", eid)
                yield _event("error", {"error": f"Internal server error (id {eid}).", "error_id": eid,
                                       "error_kind": "internal"})

        async def agen() -> AsyncIterator[bytes]:
            it = events()
            limiter = self.generating if generates else self.cheap
            done = b""  # the events are never empty
            try:
                while True:
                    chunk = await anyio.to_thread.run_sync(next, it, done, limiter=limiter)
                    if chunk is done:
                        break
                    yield chunk
            finally:
                await anyio.to_thread.run_sync(it.close, limiter=limiter)  # a client gone: stop generating

        return agen()


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


# ---------------------------------------------------------------------------------------- errors


class ApiGuard:
    """For /v1 and /mcp: too large a body is a 413, and an unexpected error a generic 500 with an
    error id (the traceback goes to the log, never to the client)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path.startswith(API + "/") or path == MCP_PATH):
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length and length.isdigit() and int(length) > MAX_BODY:
            await JSONResponse({"error": f"The request body is larger than {MAX_BODY // 1024} KB.",
                                "error_kind": "too_large"}, status_code=413)(scope, receive, send)
            return
        started = False

        async def send_(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_)
        except Exception:
            eid = uuid.uuid4().hex[:12]
            log.exception("%s %s failed (error id %s)", scope.get("method"), path, eid)
            if not started:
                await JSONResponse({"error": f"Internal server error. It was logged with id {eid}; quote it "
                                             "when you report the problem.", "error_id": eid,
                                    "error_kind": "internal"}, status_code=500)(scope, receive, send)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    errs = exc.errors() if isinstance(exc, RequestValidationError) else []
    parts = []
    for e in errs[:5]:
        if e.get("type") == "json_invalid":
            parts.append("the body is not valid JSON")
            continue
        loc = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
        parts.append(f"{loc or 'body'}: {e.get('msg', 'invalid')}")
    msg = "Invalid request: " + ("; ".join(parts) or "the body must be JSON") + \
        f". See {API}/docs for what each endpoint takes."
    return JSONResponse({"error": msg, "error_kind": "invalid_request"}, status_code=422)


# ---------------------------------------------------------------------------------------- docs


def docs_html(schema: dict[str, Any]) -> str:
    """The API's documentation as one HTML page built from the OpenAPI schema: no script, no
    style sheet from elsewhere (the server makes and causes no outbound connections)."""
    e = html.escape
    rows = []
    for path, ops in schema.get("paths", {}).items():
        for method, op in ops.items():
            params = "".join(
                f"<li><code>{e(p['name'])}</code> ({e(p['in'])}{', required' if p.get('required') else ''})"
                f"{': ' + e(p.get('description', '')) if p.get('description') else ''}</li>"
                for p in op.get("parameters", []))
            body = ""
            ref = (op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
                   .get("$ref", ""))
            if ref:
                name = ref.rsplit("/", 1)[-1]
                props = schema.get("components", {}).get("schemas", {}).get(name, {}).get("properties", {})
                body = "<p>JSON body:</p><ul>" + "".join(
                    f"<li><code>{e(k)}</code>: {e(v.get('description', ''))}"
                    f"{' (default ' + e(json.dumps(v['default'])) + ')' if 'default' in v else ''}</li>"
                    for k, v in props.items()) + "</ul>"
            rows.append(f"<section><h2><code>{e(method.upper())} {e(path)}</code></h2>"
                        f"<p><strong>{e(op.get('summary', ''))}</strong></p><p>{e(op.get('description', ''))}</p>"
                        f"{'<ul>' + params + '</ul>' if params else ''}{body}</section>")
    example = ('curl -s -X POST http://127.0.0.1:7860/v1/ask -H "Content-Type: application/json" \\\n'
               "  -d '{\"question\": \"Mag ik emotieherkenning gebruiken op de werkplek?\", \"backend\": \"none\"}'")
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>policy-rag API</title>"
            "<style>body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;"
            "line-height:1.5}code,pre{background:#f3f3f3;padding:.1em .3em}section{border-top:1px solid #ddd}"
            "</style></head><body><h1>policy-rag HTTP API</h1>"
            f"<p>Machine-readable: <a href='{API}/openapi.json'>{API}/openapi.json</a>. The MCP server "
            f"(tools search, ask, cite, show) is at <code>{MCP_PATH}</code> (streamable HTTP). Errors are JSON "
            "with an <code>error</code> message: 400 bad input, 404 unknown passage, 422 a malformed request, "
            "503 a model or the index unavailable, 500 with an <code>error_id</code>.</p>"
            f"<pre>{e(example)}</pre>{''.join(rows)}</body></html>")


# ---------------------------------------------------------------------------------------- MCP


def build_mcp(assistant: Assistant) -> Any:
    """The MCP server with the tools search, ask, cite, show (the official ``mcp`` package)."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    mcp = MCPServer(
        "policy-rag", version=VERSION,
        instructions="Answers about EU AI policy (the AI Act, its guidelines, the Dutch government's pages) "
                     "in Dutch or English, with citations checked against the official text. This is "
                     "information, not legal advice. Use `search` for passages, `ask` for an answer with "
                     "citations, `cite` to see where a provision is referred to, `show` for one passage.",
        log_level="WARNING")

    def call(fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except PolicyRagError as e:
            raise ToolError(str(e)) from None

    @mcp.tool(name="search", description="Ranked passages of the official texts for a question (Dutch or "
                                          "English), with ids, labels, links and scores. on: a date YYYY-MM-DD, the "
                                          "wordings in force then (default today).")
    def search(question: str, k: int = 10, on: str = "") -> dict[str, Any]:
        k = max(1, min(50, int(k)))
        return search_dict(question, call(assistant.search, question, k, call(_check_date, on or None)))

    @mcp.tool(name="ask", description="An answer with citations checked against the sources (or a refusal "
                                       "when the sources do not answer). backend: auto, local, hosted or none "
                                       "(extractive, no LLM); empty for the server's default. on: a date "
                                       "YYYY-MM-DD, the law in force then (default today).")
    def ask(question: str, backend: str = "", on: str = "") -> dict[str, Any]:
        return call(assistant.ask, question, backend or None, call(_check_date, on or None)).to_dict()

    @mcp.tool(name="cite", description="Where a provision ('Artikel 6, lid 2', 'Article 6(2)', 'bijlage III') "
                                        "or a phrase is cited: its own text and every passage referring to it.")
    def cite(query: str, on: str = "") -> dict[str, Any]:
        q = query.strip()
        if not q or len(q) > MAX_CITE_QUERY:
            raise ToolError(f"Enter a provision or a phrase (1 to {MAX_CITE_QUERY} characters).")
        return call(assistant.cite, q, None, call(_check_date, on or None)).to_dict()

    @mcp.tool(name="show", description="One passage by id (e.g. 'ai-act/nl/art-5.1.f', from search), with the "
                                        "passages around it and its twin in the other language.")
    def show(id: str, context: int = 1, on: str = "") -> dict[str, Any]:  # noqa: A002 - the tool's argument name
        p, around, twin = call(assistant.show, id, max(0, min(5, int(context))), call(_check_date, on or None))
        if p is None:
            raise ToolError(f"No passage with id {id[:200]!r}. Find ids with the search tool.")
        return show_dict(p, around, twin, assistant.index)

    return mcp


def serve_mcp_stdio(settings: Settings | None = None) -> int:
    """``policy-rag mcp``: the MCP server over stdin/stdout (logs go to stderr)."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    assistant = Assistant(settings)
    with _stdout_to_stderr():  # nothing a library prints while loading may reach the protocol stream
        assistant.warm()
    anyio.run(build_mcp(assistant).run_stdio_async)
    return 0


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


# ---------------------------------------------------------------------------------------- the app


def load_app_module() -> ModuleType:
    """The Gradio app (app.py at the repository root), loaded once per process."""
    if "policy_rag_app" in sys.modules:
        return sys.modules["policy_rag_app"]
    path = REPO_ROOT / "app.py"
    spec = importlib.util.spec_from_file_location("policy_rag_app", path)
    if spec is None or spec.loader is None or not path.is_file():
        raise PolicyRagError(f"The app {path} was not found.")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["policy_rag_app"] = mod
    spec.loader.exec_module(mod)
    return mod


def create_app(assistant: Assistant | None = None, *, settings: Settings | None = None, host: str = "127.0.0.1",
               port: int = 7860, ui: bool = True, api: bool = True, proxy_to: str | list[str] | None = None,
               marks_path: str | Path | None = None) -> FastAPI:
    """The ASGI app. ``ui``: the Gradio app at /; ``api``: /v1 and /mcp served here; ``proxy_to``:
    /v1 and /mcp forwarded to that base URL, or those (the workers), instead."""
    assistant = assistant or Assistant(settings)
    mcp = build_mcp(assistant) if api and not proxy_to else None
    proxy = _Proxy([proxy_to] if isinstance(proxy_to, str) else proxy_to) if proxy_to else None

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            if mcp is not None:
                await stack.enter_async_context(mcp.session_manager.run())
            if proxy is not None:
                stack.push_async_callback(proxy.aclose)
            yield

    app = FastAPI(title="policy-rag", version=VERSION, openapi_url=f"{API}/openapi.json", docs_url=None,
                  redoc_url=None, lifespan=lifespan,
                  description="Answers with checked citations over EU AI policy (Dutch and English). "
                              "Information, not legal advice.")
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.state.assistant = assistant
    if proxy is not None:
        app.add_api_route(f"{API}/{{rest:path}}", proxy.handle, methods=["GET", "POST"], include_in_schema=False)
        app.add_api_route(MCP_PATH, proxy.handle, methods=["GET", "POST", "DELETE"], include_in_schema=False)
    elif api:
        app.include_router(Api(assistant).router())

        @app.get(f"{API}/docs", include_in_schema=False)
        async def docs() -> HTMLResponse:
            return HTMLResponse(docs_html(app.openapi()))

        assert mcp is not None
        # streamable HTTP, stateless and plain JSON: any worker can answer any request
        mcp_app = mcp.streamable_http_app(streamable_http_path=MCP_PATH, stateless_http=True, json_response=True,
                                          host=host)
        app.router.routes.extend(mcp_app.routes)
    if ui:
        appmod = load_app_module()
        demo = appmod.build_app(assistant, marks_path=marks_path, evaluator=websec.evaluator_enabled(host))
        import gradio as gr

        gr.mount_gradio_app(app, demo, path="/", server_name=host, server_port=port, css=appmod.CSS,
                            show_error=False, allowed_paths=None, footer_links=["api"])
        app.state.demo = demo
    app.add_middleware(ApiGuard)
    # Host-header check, no cross-origin use, body size limit, only the routes and Gradio
    # handlers the app uses, files only from its own temporary folder (websec.py)
    websec.harden(app)
    return app


class _Proxy:
    """Forwards /v1 and /mcp requests to the workers (streamed both ways), each request to the
    worker with the fewest requests in flight."""

    # and the front's own Host and Origin: the front has checked them (websec); a worker checks
    # the request as one to its own loopback address
    HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization",
           "proxy-authenticate", "content-length", "host", "origin", "referer"}

    def __init__(self, bases: list[str]) -> None:
        import httpx

        self.bases = [b.rstrip("/") for b in bases]
        # idle connections are dropped here (2 s) well before the workers drop them (30 s), so a
        # request is never sent on a connection the worker is closing
        self.clients = [httpx.AsyncClient(base_url=b, timeout=httpx.Timeout(600.0, connect=10.0),
                                          limits=httpx.Limits(max_connections=256, max_keepalive_connections=64,
                                                              keepalive_expiry=2.0)) for b in self.bases]
        self.inflight = [0] * len(self.bases)
        self.turn = 0

    async def aclose(self) -> None:
        for c in self.clients:
            await c.aclose()

    def pick(self) -> int:
        self.turn += 1
        n = len(self.bases)
        return min(range(n), key=lambda i: (self.inflight[i], (i - self.turn) % n))

    async def handle(self, request: Request) -> Any:
        import httpx
        from starlette.background import BackgroundTask

        i = self.pick()
        client = self.clients[i]
        headers = [(k, v) for k, v in request.headers.raw if k.decode("latin-1").lower() not in self.HOP]
        req = client.build_request(request.method, request.url.path, params=request.url.query or None,
                                   headers=headers, content=await request.body())
        self.inflight[i] += 1
        try:
            try:
                resp = await client.send(req, stream=True)
            except (httpx.RemoteProtocolError, httpx.ReadError):  # a connection closed under us: once more
                resp = await client.send(req, stream=True)  # (every /v1 and /mcp call only reads)
        except httpx.HTTPError as e:
            self.inflight[i] -= 1
            log.warning("the API worker at %s did not answer: %s %s", self.bases[i], type(e).__name__, e)
            return JSONResponse({"error": "The API workers are not answering (starting or stopped); try again "
                                          "shortly.", "error_kind": "unavailable"}, status_code=503)

        async def done() -> None:
            self.inflight[i] -= 1
            await resp.aclose()

        out = {k: v for k, v in resp.headers.items() if k.lower() not in self.HOP}
        return StreamingResponse(resp.aiter_raw(), status_code=resp.status_code, headers=out,
                                 background=BackgroundTask(done))


def api_from_env() -> FastAPI:
    """The app of one pool worker (uvicorn ``--factory``): /v1 and /mcp, settings from the environment."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    assistant = Assistant(get_settings())
    t0 = time.perf_counter()
    assistant.warm()
    log.info("worker %d: index and embedding model ready in %.1f s", os.getpid(), time.perf_counter() - t0)
    return create_app(assistant, host=os.environ.get(ENV_HOST, "127.0.0.1"), ui=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the pool's process: receive SIGTERM when the front process dies (Linux)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def threads_per_worker(workers: int, n_cores: int | None = None) -> int:
    """torch threads for each of ``workers`` processes: together no more than the cores. More
    threads than cores spin while they wait for each other (on 2 busy cores one query took
    0.8-1.8 CPU-s with 2 threads against 0.13 with 1, eval/bench.py)."""
    return max(1, (n_cores or cores()) // max(1, workers))


def start_pool(workers: int, host: str, env: dict[str, str] | None = None) -> list[tuple[subprocess.Popen, str]]:
    """N uvicorn processes serving /v1 and /mcp, each on a free loopback port: [(process, base URL)].
    Unless POLICY_RAG_EMBED_THREADS is set, each gets cores/N torch threads."""
    penv = {**os.environ, **(env or {}), ENV_HOST: host}
    if not penv.get("POLICY_RAG_EMBED_THREADS"):
        penv["POLICY_RAG_EMBED_THREADS"] = str(threads_per_worker(workers))
    src = str(Path(__file__).resolve().parents[1])  # the workers import this very package
    penv["PYTHONPATH"] = os.pathsep.join(x for x in (src, penv.get("PYTHONPATH", "")) if x)
    pool = []
    for _ in range(workers):
        port = _free_port()
        cmd = [sys.executable, "-m", "uvicorn", "policy_rag.server:api_from_env", "--factory",
               "--host", "127.0.0.1", "--port", str(port), "--timeout-graceful-shutdown", "5",
               "--timeout-keep-alive", "30", "--log-level", "warning", "--no-access-log"]
        proc = subprocess.Popen(cmd, env=penv, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        pool.append((proc, f"http://127.0.0.1:{port}"))
    return pool


def wait_ready(base: str, proc: subprocess.Popen | None = None, timeout: float = 600.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise PolicyRagError(f"The API workers exited with status {proc.returncode} while starting; see the "
                                 "log above.")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}{API}/health", timeout=5).status_code == 200:
                return
        time.sleep(0.5)
    raise PolicyRagError(f"The API workers did not become ready within {timeout:.0f} s.")


def serve(host: str = "127.0.0.1", port: int = 7860, workers: int = 1, settings: Settings | None = None,
          marks_path: str | Path | None = None) -> int:
    """``policy-rag serve``: the UI, /v1 and /mcp on ``host:port`` until interrupted.

    ``workers`` > 1: /v1 and /mcp are served by that many uvicorn processes (each loads the index
    and the embedding model), the UI by this process in front of them."""
    import uvicorn

    if workers < 1:
        raise PolicyRagError(f"--workers must be 1 or more, not {workers}.")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = settings or get_settings()
    if workers > 1 and not settings.embed_threads:  # the front's share too (it serves the UI's searches)
        settings = settings.with_(embed_threads=threads_per_worker(workers))
    assistant = Assistant(settings)
    pool: list[tuple[subprocess.Popen, str]] = []
    try:
        if workers > 1:
            pool = start_pool(workers, host)
        t0 = time.perf_counter()
        assistant.warm()  # a missing index is a clear error before anything listens
        log.info("index and embedding model ready in %.1f s", time.perf_counter() - t0)
        for proc, base in pool:
            wait_ready(base, proc)
        if pool:
            log.info("%d API workers ready: %s", workers, ", ".join(b for _, b in pool))
        app = create_app(assistant, host=host, port=port, proxy_to=[b for _, b in pool] or None,
                         marks_path=marks_path)
        log.info("serving on http://%s:%d (UI /, API %s, docs %s/docs, MCP %s)", host, port, API, API, MCP_PATH)
        uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5)
    finally:
        for proc, _ in pool:
            with contextlib.suppress(Exception):
                proc.send_signal(signal.SIGINT)
        for proc, _ in pool:
            _stop(proc)
    return 0


def _stop(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
