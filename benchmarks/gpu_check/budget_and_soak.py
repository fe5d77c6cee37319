"""The phases after the models: evictions under a tight memory budget, then a few threads at once."""
from __future__ import annotations

import contextlib
import logging
import statistics
import threading
import time
from pathlib import Path
from typing import Any

from model_zoo.core import devices
from model_zoo.core.manager import MB

from .context import Check, Ctx, CudaMemory, public


# -- budget and soak ------------------------------------------------------------------------------------
class _Evictions(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.unloaded: list[str] = []
        self.warnings: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("unloading "):
            self.unloaded.append(message.split()[1])
        elif record.levelno >= logging.WARNING:
            self.warnings.append(message)


@contextlib.contextmanager
def _manager_log() -> Any:
    logger = logging.getLogger("model_zoo.core.manager")
    handler, level, propagate = _Evictions(), logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # counted here, not printed
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


BUDGET_PREFERENCE = ("minilm", "efficientnet-lite0", "mpnet", "tiny-diffusion", "whisper-base", "whisper-base-openai")


def budget_phase(device: str, cache_dir: Path, work: Path, overrides: dict, rows: dict[str, dict],
                 checks: list[Check]) -> dict:
    """A tight budget over two single-model checks (the cheapest to reload that ran): the larger
    fits alone, the two do not fit together. Their calls in turn, twice round (each load evicts
    the other), then both at once, twice (both pinned: over budget for a moment, never evicted
    mid-call). Evictions happen, nothing fails, the answers stay the same, and after the turns
    the resident models are within the budget. Sizes are those measured right after each
    model's load in the main pass; on the CPU the sentiment service here runs its encoders at
    fp32, so no bf16 copy grows a model after its load (the manager counts growth only at the
    next load)."""
    ran = {c.name: c for c in checks if c.budget and rows[c.name]["ran"] and rows[c.name].get("loaded_mb")}
    pair = [ran[name] for name in BUDGET_PREFERENCE if name in ran][:2]
    if len(pair) < 2:
        return {"skipped": "needs two single-model checks that ran (e.g. minilm and efficientnet-lite0)", "ok": True}
    small, large = sorted(pair, key=lambda c: rows[c.name]["loaded_mb"])
    sizes = {c.name: rows[c.name]["loaded_mb"] for c in (large, small)}
    estimates = {c.name: float(_spec_mb(c)) for c in (large, small)}  # what the manager assumes before a load
    low, high = max(*sizes.values(), *estimates.values()), sum(sizes.values())
    # Within [low, high): each fits alone even by its estimate, and the two never fit together.
    budget_mb = round((low + high) / 2, 1) if low < high else round(sizes[large.name] + sizes[small.name] / 2, 1)
    kind = devices.device_kind(device)
    ctx = Ctx(device, cache_dir, work / "budget", overrides, budget_mb={kind: budget_mb}, precision="fp32")
    report: dict[str, Any] = {"budget_mb": {kind: budget_mb}, "models": [large.name, small.name],
                              "sizes_mb": sizes, "estimates_mb": estimates,
                              "calls": 0, "failed": [], "changed": []}
    memory = CudaMemory(ctx)
    before = memory.start()
    started = time.perf_counter()
    with _manager_log() as log:
        for _ in range(2):
            for check in (large, small):
                _budget_call(ctx, check, rows, report)
        report["evictions_in_turns"] = len(log.unloaded)
        report["resident_after_turns_mb"] = round(ctx.manager.loaded_bytes(kind) / MB, 1)
        for _ in range(2):
            threads = [threading.Thread(target=_budget_call, args=(ctx, c, rows, report)) for c in (large, small)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    report["seconds"] = round(time.perf_counter() - started, 2)
    report["evictions"] = len(log.unloaded)
    report["evicted"] = log.unloaded
    report["manager_warnings"] = log.warnings[:5]
    report["loads"] = {s.key: s.loads for s in ctx.manager.status() if s.loads}
    report["resident_after_mb"] = round(ctx.manager.loaded_bytes(kind) / MB, 1)
    report["cuda"] = memory.stop(before)
    report["ok"] = (not report["failed"] and not report["changed"] and report["evictions_in_turns"] > 0
                    and report["resident_after_turns_mb"] <= budget_mb and report["calls"] == 8)
    ctx.close()
    return report


def _spec_mb(check: Check) -> int:
    from model_zoo.core.registry import REGISTRY

    return REGISTRY[check.keys[0]].size_mb


_REPORT_LOCK = threading.Lock()


def _budget_call(ctx: Ctx, check: Check, rows: dict[str, dict], report: dict) -> None:
    try:
        out = check.call(ctx, True)
        with _REPORT_LOCK:
            report["calls"] += 1
            if check.signature(out) != check.signature(rows[check.name]["output"]):
                report["changed"].append(check.name)
    except Exception as exc:
        with _REPORT_LOCK:
            report["failed"].append(f"{check.name}: {type(exc).__name__}: {exc}")


def soak_phase(ctx: Ctx, rows: dict[str, dict], checks: list[Check], threads: int, calls: int) -> dict:
    """`threads` visitors at once, each `calls` calls over sentiment (other sentences than the
    timed ones, so the shared embedding cache does not answer for the model), captions and the
    label bridge, on the warm manager with the shared service and caches, as the app shares them."""
    pool = [(c.name, call, right) for c in checks if rows[c.name]["ran"] for call, right in c.soak]
    if not pool:
        return {"skipped": "no sentiment, caption or label-bridge check ran", "ok": True}
    latencies: list[float] = []
    failed: list[str] = []
    wrong: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def visitor(number: int) -> None:
        barrier.wait()
        for i in range(calls):
            name, call, right = pool[(number * calls + i) % len(pool)]  # every case, given enough calls
            started = time.perf_counter()
            try:
                out = call(ctx, False)
                with lock:
                    latencies.append(time.perf_counter() - started)
                    if not right(out):
                        wrong.append(f"{name}: {public(out)}")
            except Exception as exc:
                with lock:
                    failed.append(f"{name}: {type(exc).__name__}: {exc}")

    memory = CudaMemory(ctx)
    before = memory.start()
    started = time.perf_counter()
    workers = [threading.Thread(target=visitor, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - started
    return {"threads": threads, "calls_each": calls, "models": list(dict.fromkeys(name for name, _, _ in pool)),
            "ok_calls": len(latencies), "failed": failed, "wrong": wrong[:5], "seconds": round(seconds, 2),
            "p50_s": round(statistics.median(latencies), 3) if latencies else None,
            "max_s": round(max(latencies), 3) if latencies else None, "cuda": memory.stop(before),
            "ok": not failed and not wrong and len(latencies) == threads * calls}
