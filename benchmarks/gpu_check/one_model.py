"""One model through one manager: load, call (first, warm, the extra inputs), check, describe
what runs on the device, and hold the device's answers to the CPU's."""
from __future__ import annotations

import importlib
import time
import traceback
from typing import Any

from model_zoo.core import devices
from model_zoo.core.manager import MB

from .context import Check, Ctx, CudaMemory, policy_problems, runtime_dtype


# -- one model ---------------------------------------------------------------------------------------
def import_backends(ctx: Ctx, check: Check) -> float:
    """Import the libraries first, so load s is the load itself (torch, transformers,
    CTranslate2 and diffusers imports are paid once per process, whichever model comes first)."""
    from model_zoo.core.backends import LOADERS

    modules = [LOADERS[ctx.manager.spec(key).family] for key in check.keys]
    modules += {"whisper-base": ["model_zoo.speech.service"],
                "whisper-base-openai": ["model_zoo.speech.service", "whisper"],
                "ct2-convert": ["model_zoo.speech.ct2_whisper_convert", "model_zoo.speech.service", "whisper"],
                "minilm": ["model_zoo.sentiment.service"], "sentiment-default": ["model_zoo.sentiment.service"],
                "efficientnet-lite0": ["model_zoo.vision.captioning"], "label-bridge": ["model_zoo.vision.search"],
                "tiny-diffusion": ["model_zoo.imagine.service"]}.get(check.name, [])
    started = time.perf_counter()
    for module in modules:
        importlib.import_module(module)
    if check.name == "tiny-diffusion":  # its loading bars would break the one-line-per-model report
        from diffusers.utils import logging as diffusers_logging

        diffusers_logging.disable_progress_bar()
    return time.perf_counter() - started


def run_check(ctx: Ctx, check: Check) -> dict:
    """Load, call twice (first, warm), call on the extra inputs, check. `ran`: the first call
    answered on this manager's device; any later failure is one of the row's problems."""
    row: dict[str, Any] = {"name": check.name, "keys": list(check.keys), "what": check.what, "device": None,
                           "dtype": None, "ran": False, "ok": False, "problems": [], "error": None}
    memory = CudaMemory(ctx)
    before = memory.start()
    loaded = False
    try:
        row["import_s"] = round(import_backends(ctx, check), 3)
        row["already_resident"] = sorted(k for k in check.keys if _state(ctx, k) == "loaded")
        if check.load is not None:
            _, load_s = ctx.timed(lambda: check.load(ctx))
        else:
            _, load_s = ctx.timed(lambda: ctx.manager.preload(list(check.keys)))
        loaded = True
        row["load_s"] = round(load_s, 3)
        row["loaded_mb"] = round(sum(s.bytes for s in ctx.manager.status() if s.key in check.keys) / MB, 1)
        first, first_s = ctx.timed(lambda: check.call(ctx, True))
        row.update(ran=True, first_s=round(first_s, 3), output=first)
        row["problems"] += check.expect(first)
        if not ctx.reference:  # the CPU reference needs the answers, not the warm timing
            warm, warm_s = ctx.timed(lambda: check.call(ctx, True))
            row.update(warm_s=round(warm_s, 3), warm_output=warm)
            if check.signature(warm) != check.signature(first):
                row["problems"].append("the warm call answered differently from the first")
        if check.extras is not None:
            extra, extras_s = ctx.timed(lambda: check.extras(ctx))
            row.update(extras_s=round(extras_s, 3), extras=extra)
            row["problems"] += check.expect_extras(extra)
    except Exception as exc:  # one model's failure is a line of the report, not the end
        row["error"] = f"{type(exc).__name__}: {exc}"
        row["traceback"] = traceback.format_exc(limit=8)
        if row["ran"]:
            row["problems"].append(row["error"])
    if loaded:
        try:
            describe_device(ctx, check, row)
            row["problems"] += policy_problems(ctx, check.keys, row.get("runtime_dtypes", {})) if row["ran"] else []
        except Exception as exc:
            row["problems"].append(f"describing the loaded model failed: {type(exc).__name__}: {exc}")
    if check.load is not None and ctx.state.pop(check.name, None) is not None:  # the converted model: done
        devices.release_memory(ctx.device)
    row["cuda"] = memory.stop(before)
    row["ok"] = row["ran"] and not row["problems"]
    return row


def _state(ctx: Ctx, key: str) -> str:
    return next((s.state for s in ctx.manager.status() if s.key == key), "unloaded")


def describe_device(ctx: Ctx, check: Check, row: dict) -> None:
    """Device, dtype and resident bytes as the manager accounts for them, and what really runs."""
    if check.load is not None:  # ct2-convert: the converted model, outside the manager
        _, device, info = ctx.state[check.name]
        row.update(device=device, dtype="float32", runtime_dtypes={"ct2-convert": info["runtime_dtype"]},
                   resident_mb=round(info["nbytes"] / MB, 1))
        return
    status = {s.key: s for s in ctx.manager.status() if s.key in check.keys}
    runtime = {}
    for key in check.keys:
        with ctx.manager.use(key) as model:
            runtime[key] = runtime_dtype(model)
    row["device"] = "/".join(sorted({str(s.device) for s in status.values()}))
    row["dtype"] = "/".join(dict.fromkeys(str(status[k].dtype) for k in check.keys))
    row["runtime_dtypes"] = runtime
    row["resident_mb"] = round(sum(s.bytes for s in status.values()) / MB, 1)
    row["manager"] = {k: {"load_s": s.load_s, "bytes": s.bytes, "loads": s.loads, "hits": s.hits}
                      for k, s in status.items()}


def compare_with_cpu(check: Check, row: dict, ref: dict) -> None:
    """The device's answers against the CPU's, same calls in the same process (the fixed
    expectations stay checked too)."""
    row["reference"] = {"output": ref.get("output"), "extras": ref.get("extras"), "error": ref.get("error"),
                        "load_s": ref.get("load_s"), "first_s": ref.get("first_s"), "problems": ref.get("problems")}
    if not row["ran"]:
        return
    if not ref.get("ran"):
        row["problems"].append(f"no CPU reference to compare with: {ref.get('error')}")
    else:
        problems, figures = check.agree(row["output"], ref["output"])
        if check.extras is not None and row.get("extras") is not None and ref.get("extras") is not None:
            more, more_figures = check.agree_extras(row["extras"], ref["extras"])
            problems, figures = problems + more, {**figures, **more_figures}
        row["problems"] += problems
        row["agreement"] = figures
    row["ok"] = row["ran"] and not row["problems"]
