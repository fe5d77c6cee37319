"""The run: arguments, every selected check on the device (and on the CPU for reference), the
budget and soak phases, one line per model, the JSON of every figure, the exit code."""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from model_zoo.core import devices
from model_zoo.core.manager import MB, ManagerConfig

from .budget_and_soak import budget_phase, soak_phase
from .checks import CHECKS_BY_NAME, all_checks, select
from .context import Ctx, public
from .inputs import IMAGE_COS_MIN, PIXEL_DIFF_MAX, SCORE_DIFF_MAX, TEXT_COS_MIN, WER_MAX
from .one_model import compare_with_cpu, run_check


# -- the run -----------------------------------------------------------------------------------------
def environment(device: str) -> dict:
    import importlib.metadata as md

    info: dict[str, Any] = {"python": platform.python_version(), "machine": platform.machine(),
                            "cpus": os.cpu_count(), "device": device}
    for dist in ("torch", "transformers", "diffusers", "ctranslate2", "faster-whisper", "openai-whisper", "triton"):
        try:
            info[dist] = md.version(dist)
        except md.PackageNotFoundError:
            info[dist] = None
    if devices.device_kind(device) == "cuda":
        import torch

        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
        info["cuda_runtime"] = torch.version.cuda
        info["gpu_memory_mb"] = round(torch.cuda.get_device_properties(torch.device(device)).total_memory / MB)
    return info


def line(row: dict, cuda: bool) -> str:
    """One model: device, dtype, load / first / warm seconds, resident MB, what it answered, verdict."""
    if not row["ran"]:
        where = f"{row['device']:<6} {row['dtype']:<8}" if row["device"] else f"{'-':<6} {'-':<8}"
        return f"{row['name']:<19} {where} FAILED: {row['error']}"
    verdict = "ok" if row["ok"] else "CHECK FAILED: " + "; ".join(row["problems"])[:400]
    summary = CHECKS_BY_NAME[row["name"]].summary(row["output"])
    seconds = "  ".join(f"{what} {row[key]:6.2f} s" if key in row else f"{what}    - s"
                        for what, key in (("load", "load_s"), ("first", "first_s"), ("warm", "warm_s")))
    peak = f"  peak +{row['cuda'].get('peak_over_before_mb', 0):.0f} MB" if cuda else ""
    resident = row.get("resident_mb", 0)
    return (f"{row['name']:<19} {row['device']:<6} {row['dtype']:<8} {seconds}  "
            f"resident {resident:6.{0 if resident >= 10 else 1}f} MB{peak}  {summary}  [{verdict}]")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    package_doc = sys.modules[__package__].__doc__  # the package's docstring, not this module's (no import cycle)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu_check", description=package_doc.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto", help="cuda, cuda:N, cpu or auto (default: the best present)")
    parser.add_argument("--out", type=Path, default=None, help="folder for gpu_check.json (default: a fresh temp dir)")
    parser.add_argument("--models", nargs="+", default=None,
                        help="which: " + ", ".join(c.name for c in all_checks()) + " (default all)")
    parser.add_argument("--cache-dir", type=Path, default=ManagerConfig().cache_dir,
                        help="the model cache (packs joined, the converted Whisper); default the app's")
    reference = parser.add_mutually_exclusive_group()
    reference.add_argument("--no-reference", action="store_true", help="on a GPU: skip the CPU reference run")
    reference.add_argument("--reference", action="store_true",
                           help="on the CPU too: the calls again on a second manager, compared as on a GPU")
    parser.add_argument("--soak-threads", type=int, default=4)
    parser.add_argument("--soak-calls", type=int, default=3)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    checks = select(args.models)
    try:
        device = devices.pick_device(args.device)
    except ValueError as exc:
        print(f"{exc}", file=sys.stderr)
        print(f"gpu check: 0 of {len(checks)} models ran on {args.device}", flush=True)
        return 2
    kind = devices.device_kind(device)
    cuda = kind == "cuda"
    with_reference = args.reference or (kind != "cpu" and not args.no_reference)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="gpu-check-"))
    work = out / "work"
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    report: dict[str, Any] = {
        "device": device, "models": [c.name for c in checks], "cpu_reference": with_reference,
        "environment": environment(device),
        "thresholds": {"wer": WER_MAX, "text_cos": TEXT_COS_MIN, "image_cos": IMAGE_COS_MIN,
                       "score_diff": SCORE_DIFF_MAX, "pixel_diff": PIXEL_DIFF_MAX}}
    gpu = f" ({report['environment']['gpu']}, CUDA {report['environment']['cuda_runtime']})" if cuda else ""
    print(f"gpu check on {device}{gpu}: {', '.join(c.name for c in checks)}", flush=True)
    if cuda:
        import torch

        if ":" in device:  # the memory figures read the current device
            torch.cuda.set_device(torch.device(device))
        _, report["cuda_init_s"] = _timed_cuda(lambda: torch.zeros(1, device=device))
    overrides = {"captioner": str(work / "no-captioner")}  # captions from EfficientNet's labels, whatever is cached
    if any(c.name == "tiny-diffusion" for c in checks):
        from model_zoo.testing.diffusion import save_tiny_diffusion

        overrides["diffusion"] = str(save_tiny_diffusion(work / "tiny-diffusion"))
    ctx = Ctx(device, args.cache_dir, work, overrides)
    rows: dict[str, dict] = {}
    for check in checks:
        rows[check.name] = run_check(ctx, check)
        if with_reference:  # the line waits for the comparison; say where the run is meanwhile
            print(f"  {check.name} on {device}: {'ran' if rows[check.name]['ran'] else 'failed'}", file=sys.stderr,
                  flush=True)
        else:
            print(line(rows[check.name], cuda), flush=True)
    if with_reference:
        print("  the same calls on the CPU, for reference ...", file=sys.stderr, flush=True)
        ref_ctx = Ctx("cpu", args.cache_dir, work, overrides, reference=True)
        for check in checks:
            compare_with_cpu(check, rows[check.name], run_check(ref_ctx, check))
            print(line(rows[check.name], cuda), flush=True)
        ref_ctx.close()
    report["budget"] = budget_phase(device, args.cache_dir, work, overrides, rows, checks)
    print(budget_line(report["budget"]), flush=True)
    report["soak"] = soak_phase(ctx, rows, checks, args.soak_threads, args.soak_calls)
    print(soak_line(report["soak"]), flush=True)
    ctx.close()
    report["rows"] = [public(rows[c.name]) for c in checks]
    ran = sum(1 for c in checks if rows[c.name]["ran"] and devices.device_kind(rows[c.name]["device"] or "") == kind)
    report["ran"], report["passed"] = ran, sum(1 for c in checks if rows[c.name]["ok"])
    report["seconds"] = round(time.perf_counter() - started, 1)
    if cuda:  # the peaks were reset per phase: the run's peak is the largest of them
        peaks = [r["cuda"].get("max_allocated_mb", 0) for r in rows.values()]
        peaks += [report[p].get("cuda", {}).get("max_allocated_mb", 0) for p in ("budget", "soak")]
        report["cuda_max_allocated_mb"] = max(peaks)
    report["ok"] = report["passed"] == len(checks) and report["budget"]["ok"] and report["soak"]["ok"]
    path = out / "gpu_check.json"
    path.write_text(json.dumps(public(report), indent=2, default=str))
    verdict = lambda ok: "ok" if ok else "FAILED"
    print(f"{report['passed']} of {len(checks)} passed their checks, budget {verdict(report['budget']['ok'])}, "
          f"soak {verdict(report['soak']['ok'])}; {report['seconds']:.0f} s in all"
          + (f"; torch peak {report['cuda_max_allocated_mb']:.0f} MB" if cuda else ""))
    print(f"figures: {path}")
    print(f"gpu check: {ran} of {len(checks)} models ran on {device}", flush=True)
    return 0 if report["ok"] else 1


def _timed_cuda(fn: Callable[[], Any]) -> tuple[Any, float]:
    import torch

    started = time.perf_counter()
    out = fn()
    torch.cuda.synchronize()
    return out, round(time.perf_counter() - started, 3)


def budget_line(budget: dict) -> str:
    if "skipped" in budget:
        return f"budget: skipped ({budget['skipped']})"
    (kind, mb), = budget["budget_mb"].items()
    trouble = "; ".join(budget["failed"] + [f"{n} answered differently" for n in budget["changed"]])
    return (f"budget: {kind} {mb} MB over {', '.join(budget['models'])}: {budget['evictions']} evictions, "
            f"{budget['calls']} calls ok (4 in turn, 2x2 at once), resident after the turns "
            f"{budget['resident_after_turns_mb']:.0f} MB"
            + (f"  [FAILED: {trouble or 'no eviction, or over budget when idle'}]" if not budget["ok"] else "  [ok]"))


def soak_line(soak: dict) -> str:
    if "skipped" in soak:
        return f"soak: skipped ({soak['skipped']})"
    trouble = "; ".join(soak["failed"][:3] + [f"wrong answer from {w}" for w in soak["wrong"][:3]])
    return (f"soak: {soak['threads']} threads x {soak['calls_each']} calls ({', '.join(soak['models'])}): "
            f"{soak['ok_calls']} ok, {len(soak['failed'])} failed, p50 {soak['p50_s']} s, max {soak['max_s']} s"
            + (f"  [FAILED: {trouble}]" if not soak["ok"] else "  [ok]"))
