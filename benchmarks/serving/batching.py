"""Micro-batching, per model: requests served per second by C concurrent callers (closed
loop, one input per request, every input unique so no cache answers) with each request run
alone (batch 1: the app before batching) against the same callers through the model's
MicroBatcher (model_zoo.core.loading), at C = 1, 4, 8, 16, in one run.

    python -m benchmarks.serving.batching [--requests 48] [--callers 1,4,8,16] [--max-batch 16] [--wait-ms 2]
                                  [--rounds 2] [--models minilm:fp32,mpnet:fp32,efficientnet-lite0]

Rows: model (fp32: what the search query and the classifier run at; bf16 calls, what the
sentiment heads run at on a CPU with native bf16, never batch: see SentenceEncoder.pads_exactly),
callers, requests/s alone and batched, the ratio, the mean batch size, and the p50 latency
both ways (C = 1: the batcher must not slow one visitor). Inputs: sentences of 4-24 words
drawn (seeded) from a word list; photos
from scikit-image, each request a different random crop. Models: the offline packs."""
from __future__ import annotations

import argparse
import statistics
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

WORDS = ("the film was good bad great awful moving dull plot actors lovely boring story ending music "
         "not very quite a an and but slow fast funny sad warm cold long short camera scene").split()
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry")


def sentences(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=int(rng.integers(4, 25)))) for _ in range(n)]


def crops(n: int, seed: int) -> list:
    import skimage.data as data
    from PIL import Image

    rng = np.random.default_rng(seed)
    photos = [Image.fromarray(getattr(data, name)()).convert("RGB") for name in PHOTOS]
    out = []
    for i in range(n):
        photo = photos[i % len(photos)]
        w, h = photo.size
        side = int(min(w, h) * rng.uniform(0.5, 0.95))
        x, y = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
        out.append(photo.crop((x, y, x + side, y + side)))
    return out


def drive(call: Callable[[Any], Any], inputs: list, callers: int) -> tuple[float, list[float]]:
    """(requests/s, per-request seconds) of `callers` threads sharing `inputs` in a closed loop."""
    lock, it, latencies = threading.Lock(), iter(inputs), []

    def worker() -> None:
        while True:
            with lock:
                item = next(it, None)
            if item is None:
                return
            started = time.perf_counter()
            call(item)
            with lock:
                latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=worker) for _ in range(callers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(inputs) / (time.perf_counter() - started), latencies


def model_call(model: Any, precision: str) -> Callable[[Any], Any]:
    if hasattr(model, "embed_texts"):
        return lambda text: model.embed_texts([text], precision=precision)
    return lambda image: model.predict([image])


def bench(model: Any, precision: str, callers: list[int], requests: int, seed: int, rounds: int) -> list[dict]:
    make = sentences if hasattr(model, "embed_texts") else crops
    call, batcher, rows = model_call(model, precision), model.batcher, []
    call(make(1, seed)[0])  # warm-up (and the bf16 copy, built once)
    for c in callers:
        alone, batched, before = (0.0, []), (0.0, []), (batcher.stats.batches, batcher.stats.items)
        for turn in range(rounds):  # taking turns, best of each: a shared machine's bursts hit both alike
            model.batcher = None
            alone = max(alone, drive(call, make(requests, seed + 1000 * turn + c), c))
            model.batcher = batcher
            batched = max(batched, drive(call, make(requests, seed + 1000 * turn + 100 + c), c))
        (alone, alone_lat), (batched, batched_lat) = alone, batched
        batches = batcher.stats.batches - before[0]
        rows.append(dict(callers=c, alone=alone, batched=batched, ratio=batched / alone,
                         mean_batch=(batcher.stats.items - before[1]) / max(1, batches),
                         p50_alone_ms=1000 * statistics.median(alone_lat),
                         p50_batched_ms=1000 * statistics.median(batched_lat)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=48, help="requests per measurement")
    parser.add_argument("--callers", default="1,4,8,16")
    parser.add_argument("--max-batch", type=int, default=16)
    parser.add_argument("--wait-ms", type=float, default=2.0)
    parser.add_argument("--models", default="minilm:fp32,mpnet:fp32,efficientnet-lite0")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=2, help="turns of each measurement; the best counts")
    args = parser.parse_args()

    from model_zoo.core.loading import BatchPolicy
    from model_zoo.core.manager import ManagerConfig, ModelManager

    wanted = [item.partition(":") for item in args.models.split(",")]
    policy = BatchPolicy(args.max_batch, args.wait_ms)
    manager = ModelManager(ManagerConfig(device="cpu", offline=True, batching={k: policy for k, _, _ in wanted},
                                         cache_dir=Path.home() / ".cache" / "multimodal-studio" / "cache"))
    callers = [int(c) for c in args.callers.split(",")]
    print(f"max_batch {args.max_batch}, window {args.wait_ms} ms, {args.requests} requests per measurement")
    print(f"{'model':22} {'callers':>7} {'alone/s':>8} {'batched/s':>9} {'ratio':>6} {'batch':>6} "
          f"{'p50 alone':>10} {'p50 batched':>11}")
    for key, _, precision in wanted:
        with manager.use(key) as model:
            for row in bench(model, precision or "native", callers, args.requests, args.seed, args.rounds):
                print(f"{key + ':' + (precision or 'fp32'):22} {row['callers']:>7} {row['alone']:>8.1f} "
                      f"{row['batched']:>9.1f} {row['ratio']:>5.2f}x {row['mean_batch']:>6.1f} "
                      f"{row['p50_alone_ms']:>8.1f}ms {row['p50_batched_ms']:>9.1f}ms", flush=True)


if __name__ == "__main__":
    main()
