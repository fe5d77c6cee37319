"""Multimodal Studio entry point (Spaces' app_file): CLI flags -> Settings -> launch."""
from __future__ import annotations

import logging
import signal
import sys

from app.settings import load_settings, resolve_offline


def main(argv: list[str] | None = None) -> None:
    settings = load_settings(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = resolve_offline(settings)  # before any library that reads HF_HUB_OFFLINE is imported
    from app import mcp_server
    from app.blocks import build_demo, launch_kwargs  # after --help, which needs no gradio
    from app.warm import Warmer

    studio = build_demo(settings)
    if settings.preload:
        studio.ctx.manager.preload(list(settings.preload))
    studio.demo.launch(prevent_thread_lock=True, **launch_kwargs(settings))
    mcp_server.report(studio.demo, settings)
    mcp_server.warm(studio.demo)  # Gradio's MCP loopback client, made before an agent waits for it
    warmer = Warmer(studio.ctx, settings.warm).start()  # after launch: the page never waits for it
    signal.signal(signal.SIGTERM, _interrupt)  # `docker stop`: close like Ctrl-C (PID 1 ignores it otherwise)
    try:
        studio.demo.block_thread()
    finally:
        warmer.stop()
        studio.close()


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _exit_now() -> None:
    """Exit once closed, atexit handlers run, without the interpreter's final garbage
    collection of the loaded models (measured: 40 s on a busy 2-core machine)."""
    import atexit
    import os

    atexit._run_exitfuncs()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
    _exit_now()
