"""The web surface, locked down: what the app's HTTP server answers, and to whom.

:func:`harden` wraps a FastAPI/Starlette app (Gradio's own app, or a FastAPI app with the
Gradio app mounted in it) in :class:`WebGuard`, an ASGI middleware that runs before
everything else, Gradio's own CORS middleware included:

- **Host check** (DNS rebinding): the ``Host`` header must name 127.0.0.1, localhost, [::1]
  or the address the server is bound to (with the server's port when one is given), or a
  name in ``POLICY_RAG_ALLOWED_HOSTS``; anything else is 400.
- **No cross-origin use**: a request with an ``Origin`` other than the page's own (or one in
  ``POLICY_RAG_ALLOWED_ORIGINS``) is refused (403) when it could change anything (POST, a CORS
  preflight, a websocket); other answers lose every ``Access-Control-*`` header, so a page on
  another origin cannot read them (Gradio allows any ``http://localhost:<port>`` with credentials).
- **Request size**: bodies over ``POLICY_RAG_MAX_BODY_BYTES`` (default 1 MiB) are 413.
- **Only the routes the app uses**: under ``…/gradio_api/`` only the queue, the named API
  calls, the app's info, the heartbeat and file downloads answer; upload, proxy, monitoring,
  component server, run history, MCP, streaming and the rest are 404. ``/monitoring`` is 404.
- **Files**: ``…/gradio_api/file=<path>`` serves only files under the app's own temporary
  folder (Gradio's cache); URLs, ``..`` in any encoding, and other paths are 403.
- **Which handlers run**: a body's ``fn_index`` (``/queue/join``, and ``/run/…``, ``/call/…``,
  ``/api/…``, where Gradio obeys it over the name in the URL) must be a public API name's or a
  handler's that the page's own components trigger (the UI needs those, e.g. ``/run/predict``
  for its unqueued events); without one, the name must be a public API name; else 403.

The rest of the module: :func:`official_hosts` / :func:`official_url` (the only links the
answers may carry), :func:`evaluator_enabled` (the evaluator's writers are off unless the app
serves on loopback or ``POLICY_RAG_EVALUATOR=on``) and :func:`temp_dir` (one temporary folder per
process, removed at exit).
"""

from __future__ import annotations

import atexit
import ipaddress
import json
import logging
import os
import re
import shutil
import tempfile
import tomllib
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

log = logging.getLogger("policy_rag.websec")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY_BYTES = 1024 * 1024
PUBLIC_API = ("answer", "cite", "chat", "cite_html")
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]", "::1")
# the sources' hosts, used when the manifest cannot be read
FALLBACK_HOSTS = frozenset({
    "eur-lex.europa.eu", "digital-strategy.ec.europa.eu", "ai-act-service-desk.ec.europa.eu",
    "data.consilium.europa.eu", "publications.europa.eu",
})

# what answers under …/gradio_api/ (the rest is 404)
_GRADIO_GET = re.compile(
    r"^/(info/?|heartbeat/[^/]+|queue/data|queue/status|startup-events|theme\.css|app_id/?|user/?|login_check/?"
    r"|call/(v2/)?[^/]+/[^/]+)$")
_GRADIO_POST = re.compile(r"^/(queue/join|cancel|reset/?|(run|api|call|call/v2)/[^/]+/?)$")
_NAMED_CALL = re.compile(r"^/(?:run|api|call|call/v2)/([^/]+)/?$")
_FILE = re.compile(r"^/file[=/](.*)$", re.DOTALL)


def _env_list(name: str) -> list[str]:
    return [x.strip() for x in os.environ.get(name, "").split(",") if x.strip()]


def _is_loopback(host: str | None) -> bool:
    h = (host or "").strip().strip("[]")
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


# ---------------------------------------------------------------------------------------- settings


def evaluator_enabled(host: str | None = None) -> bool:
    """May the evaluator's handlers (run the evaluation set, write marks, export) run?

    ``POLICY_RAG_EVALUATOR=on`` / ``off`` decide; otherwise (``auto``, the default) they run
    when the server is bound to a loopback address (``host`` None means "not known, loopback").
    A server on another address serves the chat and the lookup only."""
    v = os.environ.get("POLICY_RAG_EVALUATOR", "auto").strip().lower()
    if v in ("1", "on", "true", "yes"):
        return True
    if v in ("0", "off", "false", "no"):
        return False
    return host is None or _is_loopback(host)


_temp: dict[str, Path] = {}


def temp_dir() -> Path:
    """This process's temporary folder (created on first use, removed at exit). Gradio's
    cache goes here too when :func:`use_private_gradio_temp` ran before the app was built."""
    if "dir" not in _temp:
        _remove_stale_temp_dirs()
        _temp["dir"] = Path(tempfile.mkdtemp(prefix=f"policy-rag-{os.getpid()}-"))
        atexit.register(shutil.rmtree, _temp["dir"], True)
    return _temp["dir"]


def _remove_stale_temp_dirs() -> None:
    """Remove the folders of earlier processes that died without cleaning up (kill -9)."""
    for d in Path(tempfile.gettempdir()).glob("policy-rag-*-*"):
        m = re.match(r"^policy-rag-(\d+)-", d.name)
        if not m or not d.is_dir() or d.is_symlink():
            continue
        try:
            os.kill(int(m.group(1)), 0)
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except (PermissionError, OverflowError, ValueError):
            pass


def use_private_gradio_temp() -> Path:
    """Point ``GRADIO_TEMP_DIR`` at a folder inside :func:`temp_dir` (removed at exit) unless the
    environment already chose one; return Gradio's folder. Call before building the Blocks."""
    import sys

    if not os.environ.get("GRADIO_TEMP_DIR"):
        os.environ["GRADIO_TEMP_DIR"] = str(temp_dir() / "gradio")
    folder = os.environ["GRADIO_TEMP_DIR"]
    # Gradio read the variable once at import for a few module globals, one of which makes
    # ``<tmp>/gradio/vibe_edit_history`` at every app it builds: point those here too
    for name in ("gradio.routes", "gradio.route_utils", "gradio.mcp", "gradio.screen_recording_utils"):
        mod = sys.modules.get(name)
        if mod is not None and getattr(mod, "DEFAULT_TEMP_DIR", folder) != folder:
            mod.DEFAULT_TEMP_DIR = folder  # type: ignore[attr-defined]
    return Path(folder)


# ---------------------------------------------------------------------------------------- links


@lru_cache(maxsize=8)
def _manifest_hosts(path: str, mtime: float) -> frozenset[str]:
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    rows = data.get("source", [])
    hosts = set()
    for row in rows if isinstance(rows, list) else []:
        url = row.get("url") if isinstance(row, dict) else None
        if isinstance(url, str):
            h = urlsplit(url.strip()).hostname
            if h:
                hosts.add(h.lower())
    return frozenset(hosts)


@lru_cache(maxsize=4)
def _default_manifest(corpus_env: str) -> Path | None:
    from policy_rag.settings import get_settings

    try:
        return get_settings().manifest_path
    except Exception:  # a bad setting elsewhere must not break every link
        return None


def official_hosts(manifest: Path | str | None = None) -> frozenset[str]:
    """The hosts of the sources' official URLs (``url`` in the manifest), the only hosts an
    answer may link to. Falls back to the EU hosts the corpus uses when the manifest is unreadable."""
    if manifest is None:
        manifest = _default_manifest(os.environ.get("POLICY_RAG_CORPUS", ""))
        if manifest is None:
            return FALLBACK_HOSTS
    p = Path(manifest)
    try:
        return _manifest_hosts(str(p), p.stat().st_mtime) or FALLBACK_HOSTS
    except (OSError, ValueError, AttributeError) as e:
        log.warning("manifest %s unreadable for the link allow-list (%s): using the built-in hosts", p, e)
        return FALLBACK_HOSTS


_URL_OK = re.compile(r"^https?://[^\s\"'<>\\`]+$", re.IGNORECASE)


def official_url(url: str | None, hosts: Iterable[str] | None = None) -> str:
    """``url`` when it is an http(s) URL on one of the sources' official hosts, else ""."""
    u = (url or "").strip()
    if not _URL_OK.match(u):
        return ""
    try:
        parts = urlsplit(u)
        host = (parts.hostname or "").lower()
    except ValueError:
        return ""
    if parts.username or parts.password or not host:
        return ""
    return u if host in frozenset(hosts if hosts is not None else official_hosts()) else ""


# ---------------------------------------------------------------------------------------- the guard


def _decoded(s: str, rounds: int = 4) -> str:
    for _ in range(rounds):
        d = unquote(s)
        if d == s:
            break
        s = d
    return s


class _TooLarge(Exception):
    pass


class WebGuard:
    """The ASGI middleware :func:`harden` installs; see the module docstring for the rules."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: Iterable[str] | None = None,
                 allowed_origins: Iterable[str] | None = None, max_body: int | None = None,
                 file_roots: Iterable[str | Path] | None = None, api_names: Iterable[str] = PUBLIC_API,
                 blocks: Any = None, find_blocks: Callable[[], Any] | None = None) -> None:
        self.app = app
        self.allowed_hosts = {h.lower() for h in (allowed_hosts or ())} | {
            h.lower() for h in _env_list("POLICY_RAG_ALLOWED_HOSTS")}
        self.allowed_origins = {o.rstrip("/").lower() for o in (allowed_origins or ())} | {
            o.rstrip("/").lower() for o in _env_list("POLICY_RAG_ALLOWED_ORIGINS")}
        env_max = os.environ.get("POLICY_RAG_MAX_BODY_BYTES", "").strip()
        self.max_body = int(max_body if max_body is not None else (env_max or MAX_BODY_BYTES))
        self._file_roots = list(file_roots) if file_roots is not None else None
        self.api_names = frozenset(api_names)
        self._blocks = blocks
        self._find_blocks = find_blocks

    # ------------------------------------------------------------------ helpers
    def file_roots(self) -> list[Path]:
        from gradio.utils import get_upload_folder  # read late: GRADIO_TEMP_DIR may change before start

        roots = self._file_roots if self._file_roots is not None else [get_upload_folder()]
        return [Path(os.path.realpath(r)) for r in roots]

    def blocks(self) -> Any:
        if self._blocks is None and self._find_blocks is not None:
            self._blocks = self._find_blocks()
        return self._blocks

    def host_ok(self, scope: Scope, host: str | None) -> bool:
        if not host or any(c in host for c in " /\\@"):
            return False
        h = host.lower()
        if h in self.allowed_hosts:
            return True
        m = re.match(r"^(\[[0-9a-f:.]+\]|[^:]+)(?::(\d{1,5}))?$", h)
        if not m:
            return False
        name, port = m.group(1), m.group(2)
        if name in self.allowed_hosts:
            return True
        server = scope.get("server") or (None, None)
        if port is not None and server[1] is not None and int(port) != int(server[1]):
            return False
        bound = str(server[0] or "").lower()
        return name in LOOPBACK_NAMES or (bool(bound) and name.strip("[]") == bound.strip("[]")
                                          and bound not in ("0.0.0.0", "::"))

    def origin_ok(self, scope: Scope, origin: str, host: str) -> bool:
        o = origin.rstrip("/").lower()
        if o in self.allowed_origins:
            return True
        scheme = "https" if scope.get("scheme") in ("https", "wss") else "http"
        return o == f"{scheme}://{host.lower()}"

    def fn_allowed(self, fn_index: Any) -> bool:
        """A handler the UI triggers or a public API name; nothing else."""
        blocks = self.blocks()
        if blocks is None:
            return False
        fn = getattr(blocks, "fns", {}).get(fn_index) if isinstance(fn_index, int) else None
        if fn is None:
            return False
        if getattr(fn, "api_name", None) in self.api_names:
            return True
        return bool(getattr(fn, "targets", None))

    def file_ok(self, raw: str) -> bool:
        p = _decoded(raw)
        if not p or "\x00" in p or "\\" in p or re.match(r"^[a-z][a-z0-9+.-]*:", p, re.IGNORECASE):
            return False  # a URL (http:, file:, data:, c:) is never served
        if ".." in p.split("/") or not p.startswith("/"):
            return False
        real = Path(os.path.realpath(p))
        return any(real == r or r in real.parents for r in self.file_roots()) and real.is_file()

    # ------------------------------------------------------------------ ASGI
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        if sum(1 for k, _ in scope.get("headers", []) if k.lower() == b"host") > 1 or not self.host_ok(scope, host):
            log.warning("refused Host %r", host[:100])
            await self._reply(scope, send, 400, "Bad Host header: this server answers on its own address only "
                                                "(set POLICY_RAG_ALLOWED_HOSTS to add a name).")
            return
        origin = headers.get("origin")
        cross = origin is not None and not self.origin_ok(scope, origin, host)
        method = scope.get("method", "GET")
        if cross and (scope["type"] == "websocket" or method not in ("GET", "HEAD")):
            await self._reply(scope, send, 403, "Cross-origin request refused.")
            return
        path = scope.get("path", "")
        raw_path = (scope.get("raw_path") or b"").decode("latin-1") or path
        verdict = self.route(method, path, raw_path)
        if verdict is not None:
            await self._reply(scope, send, *verdict)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        try:
            length = int(headers.get("content-length", "0") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > self.max_body:
            await self._reply(scope, send, 413, f"Request body too large (limit {self.max_body} bytes).")
            return
        inner = path[path.find("/gradio_api/") + len("/gradio_api"):] if "/gradio_api/" in path else None
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            # read whole (it is small) so that an oversized body is refused before any handler runs
            try:
                body = await self._read_body(receive)
            except _TooLarge:
                await self._reply(scope, send, 413, f"Request body too large (limit {self.max_body} bytes).")
                return
            named = _NAMED_CALL.match(inner or "")
            if inner == "/queue/join" or named:
                # Gradio runs the handler the body's fn_index names, whatever the URL says
                try:
                    fn_index = json.loads(body or b"{}").get("fn_index")
                except (ValueError, AttributeError):
                    fn_index = None
                if (inner == "/queue/join" or fn_index is not None) and not self.fn_allowed(fn_index) or (
                        named and fn_index is None and named.group(1) not in self.api_names):
                    await self._reply(scope, send, 403, "This handler is not callable.")
                    return
            receive = _replay(body, receive)
        else:
            receive = self._bounded(receive)
        send = self._strip_cors(send) if origin is not None and cross else send
        try:
            await self.app(scope, receive, send)
        except _TooLarge:
            await self._reply(scope, send, 413, f"Request body too large (limit {self.max_body} bytes).")

    def route(self, method: str, path: str, raw_path: str) -> tuple[int, str] | None:
        """(status, message) for a refused route, None when it may go on."""
        if re.search(r"(^|/)monitoring(/|$)", path):
            return 404, "Not found."
        i = path.find("/gradio_api/")
        if i < 0:
            if path.endswith("/gradio_api"):
                return 404, "Not found."
            return None
        inner = path[i + len("/gradio_api"):]
        f = _FILE.match(inner)
        if f:
            raw_inner = raw_path[raw_path.find("/gradio_api/") + len("/gradio_api"):] if "/gradio_api/" in raw_path \
                else inner
            raw_f = _FILE.match(raw_inner)
            if method not in ("GET", "HEAD") or not self.file_ok(f.group(1)) or (
                    raw_f is not None and not self.file_ok(raw_f.group(1))):
                return 403, "This file is not served."
            return None
        if method in ("GET", "HEAD") and _GRADIO_GET.match(inner):
            if inner.startswith("/call/"):
                return self._named(inner.rsplit("/", 1)[0])
            return None
        if method == "POST" and _GRADIO_POST.match(inner):
            return None  # the handler it runs is checked with the body (see __call__)
        return 404, "Not found."

    def _named(self, inner: str) -> tuple[int, str] | None:
        m = _NAMED_CALL.match(inner)
        if m and m.group(1) not in self.api_names:
            return 403, "This handler is not callable."
        return None

    async def _read_body(self, receive: Receive) -> bytes:
        chunks, size = [], 0
        while True:
            msg = await receive()
            if msg["type"] != "http.request":
                break
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise _TooLarge
            chunks.append(chunk)
            if not msg.get("more_body", False):
                break
        return b"".join(chunks)

    def _bounded(self, receive: Receive) -> Receive:
        seen = 0

        async def wrapped() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_body:
                    raise _TooLarge
            return msg

        return wrapped

    @staticmethod
    def _strip_cors(send: Send) -> Send:
        async def wrapped(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                msg = dict(msg)
                msg["headers"] = [(k, v) for k, v in msg.get("headers", [])
                                  if not k.lower().startswith(b"access-control-")]
            await send(msg)

        return wrapped

    @staticmethod
    async def _reply(scope: Scope, send: Send, status: int, text: str) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = json.dumps({"detail": text}).encode()
        try:
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
        except Exception:  # the response had already started: nothing more to say
            log.debug("could not send %s", status)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body read already, then the client's own messages (a disconnect, when it comes)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _find_blocks(app: Any) -> Callable[[], Any]:
    """Late lookup of the Gradio Blocks an app serves (set by Gradio when it configures the
    app, or the app mounted in it by ``gr.mount_gradio_app``)."""

    def find() -> Any:
        if getattr(app, "blocks", None) is not None:
            return app.blocks
        for r in getattr(app, "routes", []):
            sub: Any = getattr(r, "app", None)
            if getattr(sub, "blocks", None) is not None:
                return sub.blocks
        return None

    return find


def harden(app: Any, *, blocks: Any = None, allowed_hosts: Iterable[str] | None = None,
           allowed_origins: Iterable[str] | None = None, max_body: int | None = None,
           file_roots: Iterable[str | Path] | None = None, api_names: Iterable[str] = PUBLIC_API) -> Any:
    """Put :class:`WebGuard` in front of ``app`` (a Starlette/FastAPI app) and return ``app``.

    The guard is the outermost layer whenever the app builds its middleware stack, so
    middleware added later (Gradio adds CORS and compression in ``create_app``) sits inside it;
    calling this on an app that already serves rebuilds its stack. Call it on the app uvicorn
    serves: Gradio's own app (``demo.launch(_app=harden(gr.routes.App(...)))``, see
    ``app.launch``) or the FastAPI app with the Gradio app mounted by ``gr.mount_gradio_app``.

    - ``blocks``: the Gradio Blocks whose ``fn_index`` values the page may send to
      ``/gradio_api/queue/join`` (found on the app or its mounts when not given);
    - ``allowed_hosts``: extra ``Host`` values (``name`` or ``name:port``), besides loopback,
      the bound address and ``POLICY_RAG_ALLOWED_HOSTS`` (comma-separated);
    - ``allowed_origins``: extra origins (``https://example.org``) allowed to call across
      origins, besides ``POLICY_RAG_ALLOWED_ORIGINS``; the page's own origin always is;
    - ``max_body``: the largest request body in bytes (``POLICY_RAG_MAX_BODY_BYTES``, 1 MiB);
    - ``file_roots``: the folders ``/gradio_api/file=`` may serve from (Gradio's temp folder);
    - ``api_names``: the API names callable by name (``/run``, ``/call``, ``/api``) and by
      ``fn_index`` even when no component triggers them.
    """
    opts = dict(allowed_hosts=allowed_hosts, allowed_origins=allowed_origins, max_body=max_body,
                file_roots=file_roots, api_names=api_names, blocks=blocks, find_blocks=_find_blocks(app))
    if getattr(app, "_policy_rag_guard", None) is not None:
        return app
    build = app.build_middleware_stack

    def build_guarded() -> ASGIApp:
        return WebGuard(build(), **opts)

    app.build_middleware_stack = build_guarded
    app._policy_rag_guard = opts
    if getattr(app, "middleware_stack", None) is not None:
        app.middleware_stack = app.build_middleware_stack()
    return app
