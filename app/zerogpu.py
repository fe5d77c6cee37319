"""ZeroGPU: on a Spaces ZeroGPU Space a GPU is attached only while a function decorated
with `@spaces.GPU(duration=...)` runs. Everywhere else (a laptop, Docker, CPU or classic
GPU Spaces) the helpers here change nothing.

What is a heavy endpoint needs no list: every event that drives a model shares a queue
slot pool named `model:<name>` (StudioContext.queue_slot), so `wrap_heavy_events` wraps
exactly those after the Blocks are built. `spaces` is preinstalled on Spaces and is not a
requirement here."""
from __future__ import annotations

import importlib
import logging
import os
from typing import Any, Callable, Mapping

log = logging.getLogger(__name__)


def on_zero_gpu(environ: dict[str, str] | None = None) -> bool:
    """True on a ZeroGPU Space (Spaces sets SPACES_ZERO_GPU=true there; gradio reads the same)."""
    environ = os.environ if environ is None else environ
    return environ.get("SPACES_ZERO_GPU", "").strip().lower() in ("1", "true", "yes")


def _spaces_module() -> Any | None:
    try:
        return importlib.import_module("spaces")
    except Exception:  # not installed (anywhere but Spaces), or broken
        return None


def gpu(fn: Callable, duration: int, environ: dict[str, str] | None = None) -> Callable:
    """`fn` under `@spaces.GPU(duration=...)` on ZeroGPU; `fn` itself anywhere else."""
    if not on_zero_gpu(environ):
        return fn
    spaces = _spaces_module()
    if spaces is None:
        log.warning("SPACES_ZERO_GPU is set but the `spaces` package is missing: %s runs without a GPU",
                    getattr(fn, "__name__", fn))
        return fn
    return spaces.GPU(duration=duration)(fn)


def wrap_heavy_events(demo: Any, durations: Mapping[str, int], environ: dict[str, str] | None = None) -> list[str]:
    """Wrap the function of every model-driving event of a built Blocks with `gpu`, holding
    the GPU at most `durations[<model>]` seconds (pool `model:<model>`; "*": any other);
    returns the names wrapped (none off ZeroGPU)."""
    if not on_zero_gpu(environ):
        return []
    wrapped = []
    for block_fn in demo.fns.values():
        pool = block_fn.concurrency_id or ""
        if block_fn.fn is not None and pool.startswith("model:"):
            model = pool.removeprefix("model:").split(":")[0]  # a bulk lane ("model:vision:bulk"): its model's
            seconds = durations.get(model, durations["*"])
            block_fn.fn = gpu(block_fn.fn, seconds, environ)
            wrapped.append(block_fn.name)
    log.info("ZeroGPU: %d heavy events run under @spaces.GPU", len(wrapped))
    return wrapped
