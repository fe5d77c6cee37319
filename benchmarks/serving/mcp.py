"""What an MCP tool call costs next to the same call through gradio_client, in one run.

    python -m benchmarks.serving.mcp [--repeats 5] [--url http://127.0.0.1:7860/]

Starts `python app.py` as the README starts it (on a free local port, its own data dir) unless
--url is given, then times each tool two ways, taking turns (one warm-up each, then the median of
--repeats, the first to go swapping every round): an agent's call through the real `mcp` client (streamable
HTTP at /gradio_api/mcp/, one session kept open, files sent as data URIs the way MCP clients send
them) and the same endpoint through gradio_client (files uploaded). Prints the CPU, each tool's
two medians and their ratio, and the first MCP call of the run (Gradio's MCP server makes its
loopback client then). The issue's bar: every ratio at most 1.5."""
from __future__ import annotations

import argparse
import asyncio
import base64
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

from benchmarks.serving.apps import cpu_name, start_app, stop_app

REPO = Path(__file__).resolve().parents[2]
GALLERY = REPO / "assets" / "gallery"
AUDIO = REPO / "assets" / "audio"
PHOTOS = [GALLERY / f"{name}.jpg" for name in ("cat", "rocket", "coffee", "astronaut")]
MIME = {".jpg": "image/jpeg", ".ogg": "audio/ogg"}


def data_uri(path: Path) -> str:
    return f"data:{MIME[path.suffix]};base64," + base64.b64encode(path.read_bytes()).decode()


class McpSession:
    """One MCP client session, open for the whole run, called from plain code: it lives in one
    task on an event loop of its own (anyio wants a session closed by the task that opened it)."""

    def __init__(self, url: str) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        ready = threading.Event()
        self.closing: asyncio.Event | None = None
        self.task = asyncio.run_coroutine_threadsafe(self._hold(url, ready), self.loop)
        while not ready.wait(0.1):
            if self.task.done():
                self.task.result()  # raises what went wrong

    async def _hold(self, url: str, ready: threading.Event) -> None:
        from mcp import ClientSession
        from mcp.client.streamable_http import streamablehttp_client

        self.closing = asyncio.Event()
        async with streamablehttp_client(url) as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                self.session = session
                ready.set()
                await self.closing.wait()

    def call(self, tool: str, **arguments: Any) -> str:
        result = asyncio.run_coroutine_threadsafe(self.session.call_tool(tool, arguments), self.loop).result()
        if result.isError:
            raise RuntimeError(f"{tool}: {result.content[0].text}")
        return result.content[0].text

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.closing.set)
        self.task.result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)


def cases(agent: McpSession, client: Any, gallery_handle: str) -> dict[str, tuple[Callable, Callable]]:
    """tool -> (the MCP call, the same gradio_client call)."""
    from gradio_client import handle_file

    sentence = "An utterly charming, heartfelt story that stays with you."
    page, cat, clip = GALLERY / "text_page.jpg", GALLERY / "cat.jpg", AUDIO / "english_quick_fox.ogg"
    return {
        "models": (lambda: agent.call("models"), lambda: client.predict(api_name="/models")),
        "sentiment": (lambda: agent.call("sentiment", text=sentence),
                      lambda: client.predict(sentence, None, None, "default", api_name="/sentiment")),
        "read_text": (lambda: agent.call("read_text", image=data_uri(page)),
                      lambda: client.predict(handle_file(str(page)), api_name="/read_text")),
        "caption": (lambda: agent.call("caption", image=data_uri(cat)),
                    lambda: client.predict(handle_file(str(cat)), api_name="/caption")),
        "search": (lambda: agent.call("search", query="a cat", gallery=gallery_handle, k=3),
                   lambda: client.predict("a cat", None, 3, "bench", api_name="/search")),
        "speech_translate": (lambda: agent.call("speech_translate", audio=data_uri(clip), task="transcribe"),
                             lambda: client.predict(handle_file(str(clip)), "transcribe",
                                                    api_name="/speech_translate")),
    }


def paired(first: Callable[[], object], second: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median seconds of each of two calls, after one warm-up each, taking turns and swapping who
    goes first every round (on a shared machine a burst of load, or a cache the previous call
    warmed, then favours neither)."""
    samples: tuple[list[float], list[float]] = ([], [])
    for round_number in range(repeats + 1):
        order = (0, 1) if round_number % 2 else (1, 0)
        for which in order:
            started = time.perf_counter()
            (first, second)[which]()
            if round_number:  # round 0 warms up
                samples[which].append(time.perf_counter() - started)
    return statistics.median(samples[0]), statistics.median(samples[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--url", help="an app already running on this machine (default: start one)")
    args = parser.parse_args()
    import json

    from gradio_client import Client, handle_file

    server = None
    if args.url:
        url = args.url.rstrip("/") + "/"
    else:
        server, url = start_app(Path(tempfile.mkdtemp(prefix="mms-bench-mcp-")))
    try:
        started = time.perf_counter()
        agent = McpSession(url + "gradio_api/mcp/")
        agent.call("models")
        first = time.perf_counter() - started
        client = Client(url, verbose=False)
        made = json.loads(agent.call("index_images", files=[data_uri(p) for p in PHOTOS], gallery="bench"))
        client.predict([handle_file(str(p)) for p in PHOTOS], "bench", api_name="/index_images")
        medians = {}
        for tool, (via_mcp, via_client) in cases(agent, client, made["handle"]).items():
            medians[f"{tool} mcp"], medians[f"{tool} client"] = paired(via_mcp, via_client, args.repeats)
        agent.close()
    finally:
        if server is not None:
            stop_app(server, timeout=60)
    print(f"CPU: {cpu_name()} ({os.cpu_count()} cores); median of {args.repeats} after one warm-up, turns taken")
    print(f"first MCP call of the run (session + loopback client + models): {first:.2f} s")
    print(f"{'tool':<18}{'gradio_client s':>16}{'MCP s':>10}{'MCP / client':>14}")
    worst = 0.0
    for tool in cases(agent, client, "").keys():
        mcp_s, client_s = medians[f"{tool} mcp"], medians[f"{tool} client"]
        worst = max(worst, mcp_s / client_s)
        print(f"{tool:<18}{client_s:>16.3f}{mcp_s:>10.3f}{mcp_s / client_s:>14.2f}")
    print(f"worst ratio {worst:.2f} ({'within' if worst <= 1.5 else 'OVER'} the 1.5 bar)")


if __name__ == "__main__":
    main()
