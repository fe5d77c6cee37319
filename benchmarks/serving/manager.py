"""The ModelManager's overhead per use against a bare call on an already loaded model.

    python -m benchmarks.serving.manager [--n 20000]

Both loops call the same function on the same object; the managed loop goes through
`with manager.use(key) as model:` (lock, LRU touch, pin, unpin). Also times a real
MiniLM embedding of one sentence to put the overhead in proportion."""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from tempfile import mkdtemp

from model_zoo.core.manager import ManagerConfig, ModelManager
from model_zoo.core.registry import ModelSpec


class Resident:
    nbytes = 1 << 20

    def work(self, x: int) -> int:
        return x + 1


def per_call(fn, n: int, repeats: int = 5) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for i in range(n):
            fn(i)
        samples.append((time.perf_counter() - start) / n)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--real", action="store_true", help="also time MiniLM from its pack")
    args = parser.parse_args()

    model = Resident()
    spec = ModelSpec(key="m", family="fake", role="bench", source="m", description="m", size_mb=1)
    manager = ModelManager(ManagerConfig(device="cpu"), loaders={"fake": lambda r: model}, registry={"m": spec})

    def managed(i: int) -> int:
        with manager.use("m") as m:
            return m.work(i)

    bare_s, managed_s = per_call(model.work, args.n), per_call(managed, args.n)
    print(f"bare call        {bare_s * 1e6:8.2f} us")
    print(f"through manager  {managed_s * 1e6:8.2f} us   overhead {(managed_s - bare_s) * 1e6:.2f} us/use")
    if args.real:
        real = ModelManager(ManagerConfig(device="cpu", cache_dir=Path(mkdtemp()), offline=True))
        with real.use("minilm") as encoder:
            bare = per_call(lambda i: encoder.embed_texts(["a short sentence to embed"]), 50, 3)

        def via_manager(i):
            with real.use("minilm") as enc:
                return enc.embed_texts(["a short sentence to embed"])

        managed_real = per_call(via_manager, 50, 3)
        print(f"MiniLM one sentence: bare {bare * 1e3:.2f} ms, via manager {managed_real * 1e3:.2f} ms, "
              f"ratio {managed_real / bare:.3f}")
    print(f"overhead per use vs a {bare_s * 1e6:.2f} us bare call: {(managed_s - bare_s) * 1e6:.2f} us")


if __name__ == "__main__":
    main()
