"""Load test: N concurrent gradio_client sessions for T seconds against 127.0.0.1.

    python -m benchmarks.serving.load --clients 32 --seconds 60

Starts the app itself (offline, on a free local port) unless --url is given, sends a
mix of real requests (sentiment on text, speech on a short clip, the model list, and a
malformed request that must come back as a clear error), and prints throughput,
p50 / p95 latency per endpoint, failures, and the server's peak RSS against the memory
budget. Bounded in count (--max-requests) and time; it only ever talks to loopback."""
from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from benchmarks.serving.apps import start_app, stop_app

REPO = Path(__file__).resolve().parents[2]
SENTENCES = [
    "An absolute delight from start to finish.",
    "The plot was dull and the acting worse.",
    "I would happily watch it again tomorrow.",
    "A tedious, overlong mess.",
]


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: int = 0

    def record(self, name: str, seconds: float, failure: str | None) -> None:
        with self.lock:
            self.latencies[name].append(seconds)
            if failure:
                self.failures[name].append(failure)


def make_clip(folder: Path) -> Path:
    clip = folder / "load-clip.wav"
    subprocess.run(["espeak-ng", "-w", str(clip), "The weather is lovely today."], check=True)
    return clip


def request_mix(clip: Path, bad_file: Path):
    """(name, api_name, args, must_fail) choices, weighted by repetition."""
    from gradio_client import handle_file

    return [
        ("sentiment", "/sentiment", lambda: (random.choice(SENTENCES), None, None, "default"), False),
        ("sentiment", "/sentiment", lambda: (random.choice(SENTENCES), None, None, "default"), False),
        ("speech", "/speech_translate", lambda: (handle_file(str(clip)), "transcribe", "en", 1), False),
        ("models", "/models", lambda: (), False),
        ("bad-audio", "/speech_translate", lambda: (handle_file(str(bad_file)), "translate", "auto", 5), True),
    ]


def session(url: str, mix, tally: Tally, stop_at: float, max_requests: int) -> None:
    from gradio_client import Client

    client = Client(url, verbose=False)
    while time.time() < stop_at:
        with tally.lock:
            if tally.sent >= max_requests:
                return
            tally.sent += 1
        name, api_name, args, must_fail = random.choice(mix)
        started = time.perf_counter()
        failure = None
        try:
            client.predict(*args(), api_name=api_name)
            if must_fail:
                failure = "malformed request was accepted"
        except Exception as exc:  # gradio_client raises AppError carrying the gr.Error message
            if not must_fail or not str(exc).strip():
                failure = f"{type(exc).__name__}: {exc}"[:200]
        tally.record(name, time.perf_counter() - started, failure)




def watch_rss(pid: int, stop: threading.Event, peak: list[int]) -> None:
    process = psutil.Process(pid)
    while not stop.is_set():
        try:
            rss = process.memory_info().rss + sum(c.memory_info().rss for c in process.children(recursive=True))
            peak[0] = max(peak[0], rss)
        except psutil.Error:
            return
        stop.wait(0.2)


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--max-requests", type=int, default=5000)
    parser.add_argument("--url", help="an already running app on 127.0.0.1 (default: start one)")
    parser.add_argument("--budget-mb", type=float, default=8192, help="the manager's CPU budget")
    parser.add_argument("--margin-mb", type=float, default=1536, help="allowed RSS beyond the budget")
    args = parser.parse_args()
    if args.url and not args.url.startswith(("http://127.", "http://localhost")):
        sys.exit("load tests only target this machine (127.0.0.1 / localhost)")

    work = Path(tempfile.mkdtemp(prefix="mms-load-"))
    server, url = None, args.url
    if not args.url:
        server, url = start_app(work / "data", "--offline", "--preload", "whisper-base,mpnet",
                                env={"HF_HUB_OFFLINE": "1"})
    bad = work / "not-audio.wav"
    bad.write_bytes(b"this is not a wav file")
    mix = request_mix(make_clip(work), bad)
    peak, stop = [0], threading.Event()
    if server:
        threading.Thread(target=watch_rss, args=(server.pid, stop, peak), daemon=True).start()
    tally = Tally()
    started = time.time()
    stop_at = started + args.seconds
    threads = [threading.Thread(target=session, args=(url, mix, tally, stop_at, args.max_requests))
               for _ in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=args.seconds + 300)
    elapsed = time.time() - started
    stop.set()
    if server:
        stop_app(server)

    total = sum(len(v) for v in tally.latencies.values())
    failures = sum(len(v) for v in tally.failures.values())
    print(
        f"{args.clients} clients, {elapsed:.1f} s, {total} requests, {total / elapsed:.2f} req/s, {failures} failures"
    )
    print(f"{'endpoint':<12}{'n':>6}{'p50 s':>9}{'p95 s':>9}{'fail':>6}")
    for name, values in sorted(tally.latencies.items()):
        print(f"{name:<12}{len(values):>6}{percentile(values, 50):>9.2f}{percentile(values, 95):>9.2f}"
              f"{len(tally.failures[name]):>6}")
    for name, messages in tally.failures.items():
        for message in messages[:3]:
            print(f"  failure {name}: {message}")
    if server:
        limit = args.budget_mb + args.margin_mb
        print(f"server peak RSS {peak[0] / 2**20:.0f} MB (budget {args.budget_mb:.0f} MB + margin "
              f"{args.margin_mb:.0f} MB = {limit:.0f} MB): {'OK' if peak[0] / 2**20 <= limit else 'OVER'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
