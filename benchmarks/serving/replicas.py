"""The soak (benchmarks/serving/soak.py) through the balancer at 1 and at 2 replicas
(scripts/ops/serve_replicas.py), on one data dir, the app's shipped defaults plus --offline:

    python -m benchmarks.serving.replicas [--visitors 4] [--seconds 20] [--counts 1 2] [--data-dir D]

Each count starts its replicas fresh (warm start on) and runs the soak once they answer;
the model cache in the data dir is shared, so only the first start unpacks the packs. Prints
one line per count (calls ok and failed, calls per second, the worst endpoint's p95, RSS of
the first replica) and, last, the ratio of calls per second of the largest count to one.
On one machine replicas share its cores: expect more sessions held and steadier latency
under a slow call, not more throughput than the cores give (see docs/replicas.md)."""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from benchmarks.serving import soak
from scripts.ops import serve_replicas


def run_count(count: int, data_dir: Path, visitors: int, seconds: float, out: Path) -> dict:
    """Start `count` replicas, soak them through the balancer, stop them; the soak's figures."""
    cluster = serve_replicas.start(count, data_dir, app_args=["--offline"], timeout_s=300)
    try:
        code = soak.main(["--url", cluster.url, "--pid", str(cluster.replicas[0].pid), "--visitors", str(visitors),
                          "--seconds", str(seconds), "--call-timeout", "120", "--out", str(out)])
    finally:
        cluster.stop()
    figures = json.loads(out.read_text())
    figures["exit_code"] = code
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serving.replicas", description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 2], help="replica counts to compare [1 2]")
    parser.add_argument("--data-dir", type=Path, help="a data dir to reuse (its model cache is kept); default: temp")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="mms-replicas-bench-"))
    data_dir = args.data_dir or work / "data"
    rates = {}
    try:
        for count in args.counts:
            figures = run_count(count, data_dir, args.visitors, args.seconds, work / f"soak-{count}.json")
            rates[count] = figures["ok"] / max(figures["elapsed_s"], 1e-9)
            rss = (figures.get("rss_mb") or {}).get("start")
            print(f"replicas {count}: {figures['ok']} ok, {figures['failed']} failed, {rates[count]:.2f} calls/s, "
                  f"worst p95 {figures['worst']['p95_s'] or 0:.2f} s ({figures['worst']['endpoint']})"
                  + (f", RSS of one replica {rss:.0f} MB" if rss else ""), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if len(rates) > 1 and rates.get(min(rates)):
        ratio = rates[max(rates)] / rates[min(rates)]
        print(f"replicas: calls/s at {max(rates)} replicas / at {min(rates)}: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
