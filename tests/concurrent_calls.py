"""Run calls on threads so that a micro-batcher really batches them: the first call's batch
is held until every other call's items are queued, so the next batch holds them all. No
clocks decide anything (model_zoo.core.loading)."""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Sequence


def run_together(batcher: Any, calls: Sequence[Callable[[], Any]], items_behind: int, timeout: float = 60.0) -> list:
    """Results of `calls` (in order), the first of which leads alone while the rest queue
    `items_behind` items under its key. Raises the first error a call raised."""
    real, held = batcher.run, threading.Event()

    def hold_first(key, payload, items):
        if not held.is_set():
            held.set()
            end = time.monotonic() + timeout
            while batcher.pending(key) < items_behind:
                if time.monotonic() > end:
                    raise TimeoutError("the other calls never queued")
                time.sleep(0.001)
        return real(key, payload, items)

    batcher.run = hold_first
    outs: list[dict] = [{} for _ in calls]

    def target(call, out):
        try:
            out["result"] = call()
        except Exception as exc:  # handed back to the test
            out["error"] = exc

    try:
        first = threading.Thread(target=target, args=(calls[0], outs[0]), daemon=True)
        first.start()
        if not held.wait(timeout):
            raise TimeoutError("the first call never ran")
        rest = [threading.Thread(target=target, args=(c, o), daemon=True) for c, o in zip(calls[1:], outs[1:])]
        for thread in rest:
            thread.start()
        for thread in [first, *rest]:
            thread.join(timeout)
    finally:
        batcher.run = real
    for out in outs:
        if "error" in out:
            raise out["error"]
    return [out["result"] for out in outs]
