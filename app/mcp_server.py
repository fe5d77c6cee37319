"""The studio as an MCP server, for agents (Claude Desktop, Cursor, VS Code, any MCP client).

Gradio serves MCP itself: `launch(mcp_server=True)` (the `gradio[mcp]` extra) mounts a server at
/gradio_api/mcp/ (streamable HTTP; SSE at /gradio_api/mcp/sse) that turns public endpoints into
tools, each described by its function's docstring ("Args:" lines) and type hints, and runs each
call through the queue like any API call (so a heavy model's concurrency limit holds for agents
too). This module fits that server to the studio, once, as the app starts (`lifespan`, before
any request):

- tools: only the endpoints a tab marked with components.common.mcp_tool, each named as its
  API endpoint (`/sentiment` is the tool `sentiment`); the rest of the API (training, batches,
  gallery housekeeping) stays for gradio_client, and UI events are private anyway;
- files in: a file parameter takes an http(s) URL or a `data:` URI, in a list too (Gradio
  converts only single files); a URL of a file this server itself serves
  (.../gradio_api/file=...) is read in place, so one tool's output can feed the next on a
  local machine (Gradio would refuse to download from a private address); a local path is a
  tool error that says what to send instead;
- answers: a result dict comes back as JSON text, each image file in it also as MCP image
  content and every file as a URL the client can fetch (Gradio would send a Python repr).

Who owns what an agent makes (its galleries, videos, heads) is components.visitor's: an owner
key in a header, or the handle a tool returned. With --auth the studio serves no MCP: Gradio's
MCP endpoint asks for no login, and its unqueued calls would run without one."""
from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import importlib.util
import ipaddress
import json
import logging
import re
import threading
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable
from urllib.parse import unquote, urlparse

if TYPE_CHECKING:
    from .settings import Settings

log = logging.getLogger("studio.mcp")

PATH = "/gradio_api/mcp/"  # streamable HTTP; the SSE transport is PATH + "sse"
FILE_ROUTE = "/gradio_api/file="
LOCAL_PATH = ("'{name}' got '{value}', which is not a file this server can read: the server cannot open paths "
              "on your machine. Pass the file as an http(s) URL it can download, or inline as a data URI "
              "(data:image/jpeg;base64,... for an image, data:audio/ogg;base64,... for audio).")


def available() -> bool:
    """Whether the `mcp` package (the gradio[mcp] extra, pinned in requirements.txt) is installed."""
    return importlib.util.find_spec("mcp") is not None


def why_off(settings: "Settings") -> str | None:
    """Why the studio serves no MCP with these settings (None: it does)."""
    if not settings.mcp:
        return "--mcp false"
    if settings.auth:
        return ("--auth is set, and Gradio's MCP endpoint asks for no login (its unqueued calls would run "
                "without one): MCP is off")
    if not available():
        return "the `mcp` package is not installed (pip install -r requirements.txt): MCP is off"
    return None


def enabled(settings: "Settings") -> bool:
    return why_off(settings) is None


def launch_options(settings: "Settings") -> dict[str, Any]:
    """launch() keywords for the MCP server: on (and fitted to the studio as the app starts), or off."""
    if not enabled(settings):
        return {"mcp_server": False}
    return {"mcp_server": True, "app_kwargs": {"lifespan": partial(_lifespan, settings.max_file_size_mb << 20)}}


def report(demo: Any, settings: "Settings") -> None:
    """Say at start-up whether agents can reach the studio, and if not, why."""
    reason = why_off(settings)
    if reason is not None:
        (log.info if reason == "--mcp false" else log.warning)("No MCP server: %s.", reason)
    elif not getattr(demo, "mcp_server", False):
        log.error("The MCP server did not start: %s", getattr(demo, "mcp_error", None) or "unknown reason")
    else:
        log.info("Agents: MCP at %s%s", (demo.local_url or "").rstrip("/"), PATH)


def warm(demo: Any) -> threading.Thread | None:
    """In the background, once the server answers: one tool call of our own (`models`, no model
    needed), as a first agent would make it, so Gradio's MCP server makes its loopback client (a
    gradio_client reading the whole app's config: seconds on 2 cores) before an agent waits for it."""
    if not getattr(demo, "mcp_server", False) or not demo.local_url:
        return None
    url = demo.local_url.rstrip("/") + PATH

    def run() -> None:
        started = time.perf_counter()
        try:
            asyncio.run(_call_models(url))
        except Exception as exc:  # the first agent pays instead
            log.warning("MCP warm-up call failed (%s: %s)", type(exc).__name__, exc)
            return
        log.info("MCP ready for agents (first call %.1f s)", time.perf_counter() - started)

    thread = threading.Thread(target=run, name="mms-mcp-warm", daemon=True)
    thread.start()
    return thread


async def _call_models(url: str) -> None:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    async with streamablehttp_client(url) as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
            result = await session.call_tool("models", {})
            if result.isError:
                raise RuntimeError(result.content[0].text if result.content else "error")


@contextlib.asynccontextmanager
async def _lifespan(max_bytes: int, app: Any) -> AsyncIterator[None]:
    """Runs as the server starts, after Gradio made its MCP server, before the first request."""
    server = getattr(app.get_blocks(), "mcp_server_obj", None)
    if server is not None:
        configure(server, max_bytes)
    yield


def configure(server: Any, max_bytes: int) -> None:
    """Fit Gradio's MCP server (gradio.mcp.GradioMCPServer) to the studio: its tools, how file
    arguments are read, how answers are written."""
    server.tool_to_endpoint = tools(server.blocks, getattr(server, "tool_prefix", ""))
    server.convert_strings_to_filedata = partial(file_arguments, server, max_bytes)
    server.postprocess_output_data = partial(answers, server.postprocess_output_data, lambda: server.local_url)
    log.info("MCP server at %s: %d tools (%s)", PATH, len(server.tool_to_endpoint), ", ".join(server.tool_to_endpoint))


def tools(blocks: Any, prefix: str = "") -> dict[str, str]:
    """Tool name -> endpoint, for the public endpoints marked as tools (components.common.mcp_tool),
    in the order the tabs registered them. On a Space Gradio prefixes each tool with its name."""
    found: dict[str, str] = {}
    for block_fn in blocks.fns.values():
        fn = block_fn.fn
        if fn is None or getattr(fn, "_mcp_type", None) != "tool" or block_fn.api_visibility != "public":
            continue
        if block_fn.api_name:  # letters, digits and '_' only, as Gradio makes tool names
            found[re.sub(r"[^A-Za-z0-9_]", "_", f"{prefix}{block_fn.api_name}")] = f"/{block_fn.api_name}"
    return found


# -- files in ------------------------------------------------------------------------------------
def file_arguments(server: Any, max_bytes: int, arguments: dict[str, Any],
                   positions: list[list[str | int]]) -> dict[str, Any]:
    """A tool call's arguments with each file parameter (one file, an optional one, or a list)
    turned from the string an agent sends into what the endpoint takes (gradio_client's
    handle_file: the loopback call uploads it). Replaces GradioMCPServer.convert_strings_to_filedata,
    which converts single files only and answers a local path with a message about URLs alone."""
    names = {position[0] for position in positions if position and isinstance(position[0], str)}
    converted = dict(arguments)
    for name in names & set(arguments):
        value = arguments[name]
        if isinstance(value, list):
            converted[name] = [one_file(server, name, item, max_bytes) for item in value]
        else:
            converted[name] = one_file(server, name, value, max_bytes)
    return converted


def one_file(server: Any, name: str, value: Any, max_bytes: int) -> Any:
    from gradio.mcp import DEFAULT_TEMP_DIR
    from gradio import processing_utils
    from gradio_client import handle_file

    if value is None or isinstance(value, dict):  # nothing, or a FileData already
        return value
    if not isinstance(value, str):
        raise ValueError(f"'{name}' takes a file as a string: an http(s) URL or a data URI, "
                         f"not {type(value).__name__}.")
    text = value.strip()
    if not text:
        return None
    if text[:5].lower() == "data:":
        if len(text) * 3 // 4 > max_bytes:
            raise ValueError(f"The file in '{name}' is larger than this server accepts ({max_bytes >> 20} MB).")
        header, _, payload = text.partition(",")
        if not header.lower().endswith(";base64"):
            raise ValueError(f"'{name}' is a data URI without base64 data: send data:<type>;base64,<data>.")
        try:
            base64.b64decode(re.sub(r"\s+", "", payload), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"'{name}' is not a readable data URI (its data is not base64): send "
                             "data:<type>;base64,<data>.") from None
        if not payload.strip():
            raise ValueError(f"'{name}' is an empty data URI: send the file's bytes as data:<type>;base64,<data>.")
        return handle_file(processing_utils.save_base64_to_cache(text, DEFAULT_TEMP_DIR, _data_uri_name(header)))
    if text[:8].lower().startswith(("http://", "https://")):
        local = served_file(server, text)
        if local is not None:
            return handle_file(local)
        host = urlparse(text).hostname or ""
        if _private_host(host):
            raise ValueError(f"This server downloads files from public addresses only, and '{_short(text)}' points "
                             f"at a private or local one. Pass a public URL, or the file inline as a data URI.")
        return handle_file(text)  # Gradio downloads it (public addresses only)
    raise ValueError(LOCAL_PATH.format(name=name, value=_short(text)))


def _data_uri_name(header: str) -> str | None:
    """The file name a data URI may carry ('data:image/jpeg;name=cat.jpg;base64'), so a gallery or
    a video index knows its files by name rather than all as 'file.jpg'."""
    for part in header.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() in ("name", "filename") and value.strip():
            return Path(unquote(value.strip().strip('"'))).name or None
    return None


def served_file(server: Any, url: str) -> str | None:
    """The local path behind a URL of a file this server serves (its /gradio_api/file= route),
    checked as that route checks it (allowed, created by Gradio, never blocked); None for any
    other URL. Raises ValueError for such a URL that route would refuse."""
    from gradio import utils
    from gradio.data_classes import _StaticFiles
    from gradio.processing_utils import get_upload_folder

    parsed = urlparse(url)
    if FILE_ROUTE not in parsed.path or parsed.netloc not in _own_hosts(server):
        return None
    path = utils.abspath(unquote(parsed.path.split(FILE_ROUTE, 1)[1]))
    blocks = server.blocks
    allowed, _ = utils.is_allowed_file(path, blocked_paths=blocks.blocked_paths,
                                       allowed_paths=list(blocks.allowed_paths) + list(_StaticFiles.all_paths),
                                       created_paths=[get_upload_folder(), str(utils.get_cache_folder())])
    if not allowed or not Path(path).is_file():
        raise ValueError(f"'{_short(url)}' is not a file this server serves (it may have expired): pass another URL "
                         f"or the file inline as a data URI.")
    return str(path)


def _own_hosts(server: Any) -> set[str]:
    """host:port forms by which a caller reaches this server: the request's Host header and the local URL."""
    hosts = set()
    if server.local_url:
        local = urlparse(server.local_url)
        hosts.add(local.netloc)
        if local.port:
            hosts |= {f"127.0.0.1:{local.port}", f"localhost:{local.port}"}
    try:
        request = server.mcp_server.request_context.request
        if request is not None and request.headers.get("host"):
            hosts.add(request.headers["host"])
    except LookupError:  # outside a request (tests)
        pass
    return hosts


def _private_host(host: str) -> bool:
    if host.lower() in ("localhost", "") or host.lower().endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False  # a name: Gradio's download resolves it and refuses private addresses itself
    return not address.is_global


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


# -- answers out -----------------------------------------------------------------------------------
def answers(original: Callable[[Any, str], list], local_url: Callable[[], str | None], data: Any,
            root_url: str) -> list:
    """MCP content for a tool's outputs: a dict or list as JSON text (its files as URLs), then each
    image file in it as image content; anything else as Gradio writes it (a file on its own: image
    content and its URL). A file's URL is made for the address the agent called (a queued tool ran
    through Gradio's loopback client, whose answers name the local address)."""
    from gradio import processing_utils
    from gradio_client import utils as client_utils

    local = (local_url() or "").rstrip("/") or None
    content: list = []
    for output in data:
        if isinstance(output, (dict, list)):
            output = processing_utils.add_root_url(output, root_url, local)
        if not isinstance(output, (dict, list)) or client_utils.is_file_obj_with_meta(output):
            content += original([output], root_url)
            continue
        files: list[dict] = []
        text = json.dumps(_files_as_urls(output, files), ensure_ascii=False, default=str)
        content.append(original([text], root_url)[0])
        for file in files:
            content += [part for part in original([file], root_url) if getattr(part, "type", "") == "image"]
    return content


def _files_as_urls(node: Any, files: list[dict]) -> Any:
    from gradio_client import utils as client_utils

    if client_utils.is_file_obj_with_meta(node):
        files.append(node)
        return node.get("url") or node.get("path")
    if isinstance(node, dict):
        return {key: _files_as_urls(value, files) for key, value in node.items()}
    if isinstance(node, list):
        return [_files_as_urls(value, files) for value in node]
    return node
