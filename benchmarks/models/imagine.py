"""Seconds per denoising step through /generate_image against the bare diffusers call.

    python -m benchmarks.models.imagine [--size 256] [--steps 2 8] [--repeats 3] [--unet-width 64]
    python -m benchmarks.models.imagine --model /path/to/a/diffusers/folder   # e.g. LCM_Dreamshaper_v7

Both run the same pipeline folder with the same prompt, size, guidance and seed:
  bare       AutoPipelineForText2Image.from_pretrained(folder)(...) with a seeded CPU generator,
             called from a worker thread as the server calls it
  endpoint   gradio_client -> /generate_image on the app started in this process (the
             ModelManager, input checks, per-step progress callback, PNG written, file
             downloaded by the client)
Each at two step counts, taking turns (benchmarks.models.timing). Seconds per step two ways: the
median gap between step ends inside the loop (the endpoint reports its own as
timing.per_step_s; the bare call's is read with a no-op step callback), and the slope of
request time between the two step counts (fixed costs such as prompt encoding, VAE decode,
HTTP and the PNG cancel; noisier on a shared machine). The fixed cost per request too. No
diffusion weights exist on the build machines, so by
default it builds a random Stable Diffusion pipeline (model_zoo/testing/diffusion.py, wider UNet
than the tests'), loaded through the same code path as real weights; --model takes real ones."""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from benchmarks.models.timing import timed

PROMPT = "an astronaut riding a horse on the moon"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="", help="a diffusers text-to-image folder (default: a random SD)")
    parser.add_argument("--size", type=int, default=256, help="width and height in pixels")
    parser.add_argument("--steps", type=int, nargs=2, default=(2, 8), metavar=("FEW", "MORE"))
    parser.add_argument("--guidance", type=float, default=0.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--unet-width", type=int, default=64, help="channels of the random UNet's first level")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args()

    import torch
    from diffusers import AutoPipelineForText2Image
    from gradio_client import Client

    from app.blocks import build_demo, launch_kwargs
    from app.settings import load_settings
    from model_zoo.core.manager import ManagerConfig, ModelManager
    from app.network import free_port

    if args.threads:
        torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="bench-imagine-"))
    source = args.model
    if not source:
        from model_zoo.testing.diffusion import save_tiny_diffusion

        source = str(save_tiny_diffusion(work / "pipeline", width=args.unet_width, text_hidden=64))

    bare_pipe = AutoPipelineForText2Image.from_pretrained(source, use_safetensors=True)
    bare_pipe.set_progress_bar_config(disable=True)
    params = sum(p.numel() for c in bare_pipe.components.values() if isinstance(c, torch.nn.Module)
                 for p in c.parameters())

    # The server runs each request in a worker thread; the bare call runs in one too. (On a
    # crowded 2-core machine the same call from the main thread, with its OpenMP team of 2
    # spinning against other processes, measured ~10x slower than from a worker thread.)
    worker = ThreadPoolExecutor(max_workers=1)

    bare_gaps: dict[int, list[float]] = {}

    def bare(steps: int) -> None:
        marks: list[float] = []

        def mark(pipe, index, timestep, tensors):  # a no-op beyond the clock read
            marks.append(time.perf_counter())
            return tensors

        worker.submit(bare_pipe, PROMPT, num_inference_steps=steps, guidance_scale=args.guidance, width=args.size,
                      height=args.size, generator=torch.Generator("cpu").manual_seed(0),
                      callback_on_step_end=mark).result()
        bare_gaps.setdefault(steps, []).append(statistics.median(b - a for a, b in zip(marks, marks[1:])))

    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=work / "cache", offline=True,
                                         overrides={"diffusion": source}))
    settings = load_settings(["--port", str(free_port()), "--data-dir", str(work / "data"), "--offline"],
                             environ={})
    studio = build_demo(settings, manager=manager)
    studio.demo.launch(prevent_thread_lock=True, quiet=True, **launch_kwargs(settings))
    reported: dict[int, list[float]] = {}
    try:
        client = Client(f"http://127.0.0.1:{settings.port}/", verbose=False)

        def endpoint(steps: int) -> None:
            result = client.predict(PROMPT, "", steps, args.guidance, 0, args.size, args.size,
                                    api_name="/generate_image")
            reported.setdefault(steps, []).append(result["timing"]["per_step_s"])

        few, more = args.steps
        seconds = timed({f"bare, {few} steps": lambda: bare(few), f"bare, {more} steps": lambda: bare(more),
                         f"endpoint, {few} steps": lambda: endpoint(few),
                         f"endpoint, {more} steps": lambda: endpoint(more)}, args.repeats)
    finally:
        studio.close()

    what = args.model or f"random Stable Diffusion, UNet width {args.unet_width} (no diffusion weights here)"
    print(f"model: {what}; {params / 1e6:.2f}M parameters; {args.size}x{args.size}, guidance {args.guidance:g}; "
          f"torch threads {torch.get_num_threads()}; median of {args.repeats}")
    for name, value in seconds.items():
        print(f"  {name:<22} {value:8.3f} s")
    slope = {kind: (seconds[f"{kind}, {more} steps"] - seconds[f"{kind}, {few} steps"]) / (more - few)
             for kind in ("bare", "endpoint")}
    fixed = {kind: seconds[f"{kind}, {few} steps"] - few * slope[kind] for kind in slope}
    print(f"seconds per step: bare {slope['bare']:.4f}, endpoint {slope['endpoint']:.4f} "
          f"({slope['endpoint'] / slope['bare'] - 1:+.1%} per step)")
    print(f"fixed cost per request: bare {fixed['bare']:.3f} s, endpoint {fixed['endpoint']:.3f} s "
          f"(+{fixed['endpoint'] - fixed['bare']:.3f} s: manager, checks, PNG, HTTP and the download)")
    # Per step from inside the loop: median gap between step ends (round 0 is the warm-up). The
    # endpoint's is its own timing.per_step_s; the bare call's is read with a no-op callback.
    inside_bare = statistics.median(bare_gaps[more][1:])
    inside_endpoint = statistics.median(reported[more][1:])
    print(f"seconds per step inside the loop at {more} steps (median gap between step ends): bare "
          f"{inside_bare:.4f}, endpoint {inside_endpoint:.4f} ({inside_endpoint / inside_bare - 1:+.1%})")
    print(f"end to end at {more} steps: endpoint / bare = "
          f"{seconds[f'endpoint, {more} steps'] / seconds[f'bare, {more} steps']:.3f}")


if __name__ == "__main__":
    main()
