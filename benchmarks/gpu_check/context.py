"""Where the calls run (Ctx: one manager on one device), what a check is, and the device
figures read off a loaded model (what dtype runs, the fp16 policy, CUDA memory)."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from model_zoo.core import devices
from model_zoo.core.manager import MB, ManagerConfig, ModelManager


# -- where the calls run -----------------------------------------------------------------------
class Ctx:
    """One manager on one device and what the tabs build over it (the sentiment service)."""

    def __init__(self, device: str, cache_dir: Path, work: Path, overrides: dict[str, str],
                 budget_mb: dict[str, float] | None = None, reference: bool = False,
                 precision: str = "auto") -> None:
        kind = devices.device_kind(device)
        config = ManagerConfig(device=device, cache_dir=cache_dir, offline=True, overrides=overrides, vision="labels",
                               budget_mb=budget_mb or {kind: 1 << 20})
        self.manager = ModelManager(config)
        self.device = self.manager.device
        self.kind = kind
        self.work = work
        self.reference = reference
        self.precision = precision  # the sentiment service's (settings.sentiment_precision: auto by default)
        self.state: dict[str, Any] = {}  # per-check handles (the converted model)
        self._sentiment = None
        self._lock = threading.Lock()

    @property
    def sentiment(self):
        """The tab's service (components.sentiment.service builds the same over its manager)."""
        with self._lock:
            if self._sentiment is None:
                from model_zoo.sentiment.heads import SHIPPED_HEADS, HeadStore
                from model_zoo.sentiment.service import SentimentService

                self._sentiment = SentimentService(self.manager, HeadStore(self.work / "heads", SHIPPED_HEADS),
                                                   precision=self.precision)
            return self._sentiment

    def sync(self) -> None:
        if self.kind == "cuda":
            import torch

            torch.cuda.synchronize()

    def timed(self, fn: Callable[[], Any]) -> tuple[Any, float]:
        self.sync()
        started = time.perf_counter()
        out = fn()
        self.sync()
        return out, time.perf_counter() - started

    def close(self) -> None:
        """Drop every resident model (and the converted one) and give the memory back."""
        self.state.clear()
        self._sentiment = None
        for key in self.manager.status_keys():
            self.manager.unload(key)
        devices.release_memory(self.device)


# -- what a check is ------------------------------------------------------------------------------
@dataclass
class Check:
    name: str
    keys: tuple[str, ...]  # registry keys it loads through the manager
    what: str  # the tab call, in words
    call: Callable[[Ctx, bool], dict]  # (ctx, fresh caches) -> output; "_"-keys stay out of the JSON
    expect: Callable[[dict], list[str]]  # problems against fixed expectations
    agree: Callable[[dict, dict], tuple[list[str], dict]]  # (device, cpu) -> problems, figures
    signature: Callable[[dict], Any]  # what must not change between calls (label, transcript, ...)
    summary: Callable[[dict], str]
    extras: Callable[[Ctx], dict] | None = None  # more inputs, timed once, checked by expect_extras
    expect_extras: Callable[[dict], list[str]] = lambda out: []
    agree_extras: Callable[[dict, dict], tuple[list[str], dict]] = lambda dev, cpu: ([], {})
    load: Callable[[Ctx], None] | None = None  # instead of the manager's preload (ct2-convert)
    soak: tuple[tuple[Callable[[Ctx, bool], dict], Callable[[dict], bool]], ...] = ()  # (call, right?) for the soak
    budget: bool = False  # may take part in the tight-budget phase (one key, cheap to reload)


def cos_rows(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    num = (a * b).sum(axis=1)
    den = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return float(np.min(num / np.maximum(den, 1e-12)))


# -- figures ---------------------------------------------------------------------------------------
def runtime_dtype(model: Any) -> str:
    """What actually runs (not what the policy says): CTranslate2's compute type, openai-whisper's
    decoding precision over its weights, a torch model's parameters, a pipeline's UNet."""
    if hasattr(model, "compute_type"):
        return str(model.compute_type)
    inner = getattr(model, "model", None)
    if hasattr(model, "fp16") and inner is not None:  # openai-whisper: fp32 weights, fp16 decoding on CUDA
        weights = str(next(inner.parameters()).dtype).replace("torch.", "")
        return f"{'float16' if model.fp16 else 'float32'} decoding, {weights} weights"
    if hasattr(model, "text2image"):
        return str(model.text2image.unet.dtype).replace("torch.", "")
    if hasattr(model, "dtype") and not callable(model.dtype):
        return str(model.dtype).replace("torch.", "")
    if inner is not None and hasattr(inner, "parameters"):
        return str(next(inner.parameters()).dtype).replace("torch.", "")
    return "?"


def policy_problems(ctx: Ctx, keys: tuple[str, ...], runtime: dict[str, str]) -> list[str]:
    """fp16 where the registry's device policy says so: is that what runs?"""
    problems = []
    for key in keys:
        wanted = ctx.manager.spec(key).dtype_for(ctx.device)
        got = runtime.get(key, "")
        if wanted == "float16" and "float16" not in got:
            problems.append(f"{key}: the policy says float16 on {ctx.device}, {got} runs")
        if wanted == "int8" and "int8" not in got:
            problems.append(f"{key}: the policy says int8 on {ctx.device}, {got} runs")
    return problems


class CudaMemory:
    """torch's allocator peak and the driver's view (CTranslate2 allocates outside torch)."""

    def __init__(self, ctx: Ctx) -> None:
        self.on = ctx.kind == "cuda"
        if self.on:
            import torch

            self.torch = torch

    def start(self) -> dict:
        if not self.on:
            return {}
        self.torch.cuda.synchronize()
        self.torch.cuda.reset_peak_memory_stats()
        return {"allocated_before_mb": round(self.torch.cuda.memory_allocated() / MB, 1)}

    def stop(self, before: dict) -> dict:
        if not self.on:
            return {}
        self.torch.cuda.synchronize()
        free, total = self.torch.cuda.mem_get_info()
        peak = self.torch.cuda.max_memory_allocated() / MB
        return {**before, "max_allocated_mb": round(peak, 1),
                "peak_over_before_mb": round(peak - before["allocated_before_mb"], 1),
                "allocated_after_mb": round(self.torch.cuda.memory_allocated() / MB, 1),
                "driver_used_mb": round((total - free) / MB, 1)}


def public(out: Any) -> Any:
    """The JSON-able part of an output: '_' keys (vectors, pixels) left out."""
    if isinstance(out, dict):
        return {k: public(v) for k, v in out.items() if not str(k).startswith("_")}
    if isinstance(out, (list, tuple)):
        return [public(v) for v in out]
    if isinstance(out, (np.floating, np.integer)):
        return out.item()
    return out
