"""Soak: N simulated visitors use the app at once for T seconds, as visitors do.

    python -m benchmarks.serving.soak [--visitors 8] [--seconds 90] [--out soak.json] [--fail-on-error]
    python -m benchmarks.serving.soak --url http://127.0.0.1:7860/ [--pid 1234]
    python -m benchmarks.serving.soak --unique --visitors 12      # every input unique: what capacity is

By default it starts the app the way the README does (`python app.py` with its shipped
defaults: warm start on, private data mode; only a free port, a fresh data dir, a fresh
GRADIO_TEMP_DIR and `--offline` are added, and MMS_* variables are dropped), waits until
the page answers, then starts every visitor at once, so the first calls land during the
warm start. `--url` uses an app already running on this machine instead (its RSS is read
from `--pid` if given).

Each visitor is a gradio_client Client of its own (in private mode, a namespace of its
own) and loops until the deadline (a visit under way finishes, within one call timeout
past it): index 3-4 photos into its "default" gallery, search
it by text and by image, caption a photo, zero-shot label it, read the sentiment of a
sentence and, every third loop, transcribe a short example clip. Every visitor draws its
photos from one pool of 12, so two visitors often upload the same bytes at the same
moment. With `--unique` no input repeats: every photo is a fresh random crop of a pool photo
(new bytes, new pixels), every sentence and query is put together from parts with a visit
number, so no cache in the app (embeddings, results, duplicate uploads) can answer a call:
the capacity figures come from that mode.

Figures, per endpoint: ok and failed calls (a failure is an exception, a timeout, or an
answer missing what the API contract promises, e.g. `attributions` from /sentiment or a
non-empty `rejected` from /index_images), p50 / p95 latency of the ok calls (seconds from
submit to result, uploads and queueing included), and the first few distinct error
messages (a file name in parentheses shows as "(<file>)", so one kind of error counts
once). "connect" is the creation of each visitor's Client. Server RSS (the process
and its children) when the page first answers, at the end, and the peak in between.
The first distinct warnings and errors of the server's log (when it started the app)
follow the table. The last line printed is the summary:

    soak: V visitors x T s: N ok, F failed; p95 S s (worst endpoint); RSS +M MB

where the worst endpoint is the one with the highest p95 among sentiment, caption and
search. Exit code 0 (failures are data) unless the app fails to start (2), or
`--fail-on-error` is given and a call failed (1). Traffic goes to 127.0.0.1 only."""
from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from benchmarks.serving.apps import start_app, stop_app

REPO = Path(__file__).resolve().parents[2]
ENDPOINTS = ("connect", "index_images", "search", "caption", "classify_image", "sentiment", "speech_translate")
WORST_OF = ("sentiment", "caption", "search")
GALLERY = "default"
LABELS = "cat, dog, coffee, rocket"
QUERIES = ["a cat", "a cup of coffee", "a rocket on the launch pad", "a person in a space suit", "flowers"]
SENTENCES = [
    "An absolute delight from start to finish.",
    "The plot was dull and the acting worse.",
    "I would happily watch it again tomorrow.",
    "The coffee was cold and the service slow.",
    "What a lovely surprise, thank you!",
]
PNG_PHOTOS = ("astronaut", "chelsea", "camera")  # the rest are written as JPEG
ASSET_PHOTOS = ("cat.jpg", "temple.jpg", "moon.jpg", "motorcycle.jpg")
AUDIO = sorted((REPO / "assets" / "audio").glob("*.ogg"))
ERROR_SAMPLES = 5  # distinct messages kept per endpoint
FILE_NAME = re.compile(r"\([^()/\s]+\.\w{2,4}\)")  # '(cat.jpg)' in a message
LOG_PROBLEM = re.compile(r"^\d{4}-\d\d-\d\d [\d:,]+ (WARNING|ERROR|CRITICAL) ")
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception): ")


# -- figures -----------------------------------------------------------------------------

@dataclass
class EndpointStats:
    """One endpoint's calls: counts, latencies of the ok ones, distinct error samples."""
    name: str
    ok: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)  # message -> times seen (first ERROR_SAMPLES)
    other_errors: int = 0  # failures whose message was not among the samples

    def record(self, seconds: float, error: str | None) -> None:
        if error is None:
            self.ok += 1
            self.latencies.append(seconds)
        else:
            self.failed += 1
            kind = FILE_NAME.sub("(<file>)", error)  # one kind of error, whichever photo it hit
            if kind in self.errors or len(self.errors) < ERROR_SAMPLES:
                self.errors[kind] = self.errors.get(kind, 0) + 1
            else:
                self.other_errors += 1

    def percentile(self, q: int) -> float | None:
        if not self.latencies:
            return None
        if len(self.latencies) == 1:
            return self.latencies[0]
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[q - 1]

    def summary(self) -> dict:
        return {"ok": self.ok, "failed": self.failed, "p50_s": self.percentile(50), "p95_s": self.percentile(95),
                "max_s": max(self.latencies, default=None), "errors": self.errors,
                "other_errors": self.other_errors}


@dataclass
class Tally:
    """Every endpoint's stats, shared by the visitor threads."""
    stats: dict[str, EndpointStats] = field(default_factory=lambda: {n: EndpointStats(n) for n in ENDPOINTS})
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, name: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.stats[name].record(seconds, error)

    def totals(self) -> tuple[int, int]:
        return sum(s.ok for s in self.stats.values()), sum(s.failed for s in self.stats.values())

    def worst(self) -> tuple[str | None, float | None]:
        """(endpoint, p95) with the highest p95 among WORST_OF; (None, None) if none has an ok call."""
        measured = [(self.stats[n].percentile(95), n) for n in WORST_OF if self.stats[n].latencies]
        if not measured:
            return None, None
        p95, name = max(measured)
        return name, p95


# -- inputs ------------------------------------------------------------------------------

def write_photos(folder: Path) -> list[Path]:
    """The shared pool of 12 photos: skimage's, sklearn's and the repo's, written once."""
    import skimage.data
    from PIL import Image
    from sklearn.datasets import load_sample_images

    folder.mkdir(parents=True, exist_ok=True)
    arrays = {name: getattr(skimage.data, name)() for name in
              ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "camera")}
    samples = load_sample_images()
    arrays.update(zip(("china", "flower"), samples.images))
    photos = []
    for name, array in sorted(arrays.items()):
        path = folder / f"{name}.{'png' if name in PNG_PHOTOS else 'jpg'}"
        Image.fromarray(array).convert("RGB").save(path, quality=90)
        photos.append(path)
    for name in ASSET_PHOTOS:
        photos.append(Path(shutil.copy(REPO / "assets" / "gallery" / name, folder / name)))
    return photos


# -- the server ----------------------------------------------------------------------------

def rss_bytes(pid: int) -> int | None:
    """RSS of the process and all its children; None if it is gone."""
    import psutil

    try:
        process = psutil.Process(pid)
        total = process.memory_info().rss
        for child in process.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
        return total
    except psutil.Error:
        return None


def watch_peak(pid: int, stop: threading.Event, peak: list[int]) -> None:
    while not stop.wait(1.0):
        peak[0] = max(peak[0], rss_bytes(pid) or 0)


def log_problems(log_path: Path | None, limit: int = 10) -> list[str]:
    """The first distinct WARNING / ERROR records and exception lines of the server log."""
    if log_path is None or not log_path.is_file():
        return []
    found: list[str] = []
    for line in log_path.read_text(errors="replace").splitlines():
        line = line.strip()[:300]
        if (LOG_PROBLEM.search(line) or EXCEPTION_LINE.match(line)) and line not in found:
            found.append(line)
            if len(found) >= limit:
                break
    return found


# -- visitors ------------------------------------------------------------------------------

def error_text(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or repr(exc)
    return f"{type(exc).__name__}: {text}"[:400]


def call(client, tally: Tally, name: str, args: tuple, check: Callable[[Any], str | None],
         timeout: float) -> Any:
    """One API call, timed and recorded; returns the result (None on failure)."""
    started = time.perf_counter()
    job, result, error = None, None, None
    try:
        job = client.submit(*args, api_name=f"/{name}")
        result = job.result(timeout=timeout)
        error = check(result)
    except TimeoutError:
        if job is not None:
            job.cancel()
        error = f"TimeoutError: no answer within {timeout:g} s"
    except Exception as exc:  # gradio_client raises AppError carrying the gr.Error message
        error = error_text(exc)
    tally.record(name, time.perf_counter() - started, error)
    return None if error else result


def has(*keys: str) -> Callable[[Any], str | None]:
    """A check that the answer is a dict with non-empty `keys`."""
    def check(result: Any) -> str | None:
        if not isinstance(result, dict):
            return f"not a dict: {str(result)[:120]}"
        missing = [k for k in keys if k not in result or result[k] in (None, "", [], {})]
        return f"answer lacks {', '.join(missing)}: {sorted(result)}" if missing else None
    return check


def indexed(count: int) -> Callable[[Any], str | None]:
    """/index_images: every photo added or skipped as a duplicate, none rejected."""
    def check(result: Any) -> str | None:
        if problem := has("total")(result):
            return problem
        if result.get("rejected"):
            return "rejected: " + "; ".join(str(r.get("reason", r)) for r in result["rejected"])[:300]
        if result.get("added", 0) + result.get("skipped", 0) != count:
            return f"{count} sent, {result.get('added')} added + {result.get('skipped')} skipped"
        return None
    return check


OPENINGS = ["Honestly,", "To be fair,", "All in all,", "For what it's worth,", "In short,", "Frankly,"]
SUBJECTS = ["the film", "this phone", "the hotel", "our dinner", "the new album", "the update", "the tour"]
VERDICTS = ["was a delight", "was a letdown", "worked perfectly", "broke within a week", "felt far too long",
            "made my day", "was not worth the money", "surprised me in the best way"]
QUERY_WORDS = ["small", "bright", "old", "close-up", "blurry", "colourful", "dark", "distant"]


@dataclass
class UniqueInputs:
    """Inputs that never repeat (for --unique): a visit counter in every text, a fresh random
    crop of a pool photo for every upload. None: the plain soak's fixed lists and pool."""

    folder: Path
    count: int = 0

    def sentence(self, rng: random.Random) -> str:
        self.count += 1
        return f"{rng.choice(OPENINGS)} {rng.choice(SUBJECTS)} {rng.choice(VERDICTS)} (visit {self.count})."

    def query(self, rng: random.Random) -> str:
        self.count += 1
        return f"a {rng.choice(QUERY_WORDS)} photo of {rng.choice(QUERIES).removeprefix('a ')} #{self.count}"

    def photo(self, rng: random.Random, source: Path) -> Path:
        """A random crop (60-95 % a side) of `source`, resized to a random width: new pixels."""
        from PIL import Image

        self.count += 1
        with Image.open(source) as image:
            image = image.convert("RGB")
            width, height = image.size
            w, h = int(width * rng.uniform(0.6, 0.95)), int(height * rng.uniform(0.6, 0.95))
            left, top = rng.randint(0, width - w), rng.randint(0, height - h)
            crop = image.crop((left, top, left + w, top + h))
            size = rng.randint(256, 640)
            crop = crop.resize((size, max(1, round(size * h / w))))
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{source.stem}-{self.count}.jpg"
        crop.save(path, quality=rng.randint(80, 95))
        return path


def visitor(index: int, url: str, photos: list[Path], tally: Tally, start: threading.Barrier,
            deadline: float, timeout: float, seed: int, unique: UniqueInputs | None = None) -> None:
    """One visitor's session: visits (the loop below) until the deadline. A visit started
    before the deadline runs to its end, unless that is a call timeout past the deadline."""
    from gradio_client import Client, handle_file

    rng = random.Random(seed + index)
    start.wait()
    started = time.perf_counter()
    try:
        client = Client(url, verbose=False, analytics_enabled=False, download_files=False,
                        httpx_kwargs={"trust_env": False})
    except Exception as exc:
        tally.record("connect", time.perf_counter() - started, error_text(exc))
        return
    tally.record("connect", time.perf_counter() - started, None)
    loop = 0
    while time.time() < deadline:
        chosen = rng.sample(photos, rng.choice((3, 4)))
        if unique:
            chosen = [unique.photo(rng, path) for path in chosen]
        photo = rng.choice(chosen)
        photo_again = unique.photo(rng, photo) if unique else photo  # each call its own bytes
        query = unique.query(rng) if unique else rng.choice(QUERIES)
        sentence = unique.sentence(rng) if unique else rng.choice(SENTENCES)
        steps = [
            ("index_images", ([handle_file(str(p)) for p in chosen], GALLERY), indexed(len(chosen))),
            ("search", (query, None, 8, GALLERY), has("results")),
            ("search", ("", handle_file(str(photo)), 8, GALLERY), has("results")),
            ("caption", (handle_file(str(photo_again)), 3), has("caption", "candidates")),
            ("classify_image", (handle_file(str(unique.photo(rng, photo) if unique else photo)), LABELS),
             has("scores")),
            ("sentiment", (sentence, None, None, "default"), has("label", "scores", "attributions")),
        ]
        if (loop + index) % 3 == 0:  # the slowest: every third loop, staggered across visitors
            steps.append(("speech_translate", (handle_file(str(rng.choice(AUDIO))), "transcribe", "auto", 5),
                          has("transcript", "language")))
        for name, args, check in steps:
            if time.time() >= deadline + timeout:  # a started visit finishes, within bounds
                break
            call(client, tally, name, args, check, timeout)
        loop += 1
    client.close()


def run_visitors(url: str, photos: list[Path], tally: Tally, visitors: int, seconds: float,
                 timeout: float, seed: int, unique_dir: Path | None = None) -> float:
    """All visitors at once; returns the elapsed seconds."""
    barrier = threading.Barrier(visitors + 1)
    started = time.time()
    deadline = started + seconds
    threads = [threading.Thread(target=visitor, daemon=True, name=f"visitor-{i}",
                                args=(i, url, photos, tally, barrier, deadline, timeout, seed,
                                      UniqueInputs(unique_dir / f"visitor-{i}") if unique_dir else None))
               for i in range(visitors)]
    for thread in threads:
        thread.start()
    barrier.wait()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline + 2 * timeout + 60 - time.time()))
    return time.time() - started


# -- report --------------------------------------------------------------------------------

def fmt(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.2f}"


def table(tally: Tally) -> list[str]:
    lines = [f"{'endpoint':<18}{'ok':>6}{'failed':>8}{'p50 s':>9}{'p95 s':>9}{'max s':>9}"]
    for s in tally.stats.values():
        lines.append(f"{s.name:<18}{s.ok:>6}{s.failed:>8}{fmt(s.percentile(50)):>9}{fmt(s.percentile(95)):>9}"
                     f"{fmt(max(s.latencies, default=None)):>9}")
    return lines


def error_lines(tally: Tally) -> list[str]:
    lines = []
    for s in tally.stats.values():
        for message, count in s.errors.items():
            lines.append(f"  {s.name} x{count}: {message}")
        if s.other_errors:
            lines.append(f"  {s.name}: {s.other_errors} more failures with other messages")
    return lines


def last_line(visitors: int, seconds: float, tally: Tally, rss_delta_mb: float | None, unique: bool = False) -> str:
    ok, failed = tally.totals()
    name, p95 = tally.worst()
    worst = f"p95 {p95:.2f} s ({name})" if name else "p95 - s (no ok call)"
    rss = f"RSS {rss_delta_mb:+.0f} MB" if rss_delta_mb is not None else "RSS n/a"
    inputs = " (unique inputs)" if unique else ""
    return f"soak: {visitors} visitors x {seconds:g} s{inputs}: {ok} ok, {failed} failed; {worst}; {rss}"


def mb(value: int | None) -> float | None:
    return None if value is None else value / 2**20


# -- main ------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serving.soak", description=__doc__.split("\n")[0])
    parser.add_argument("--visitors", type=int, default=8, help="simulated visitors, each its own session")
    parser.add_argument("--seconds", type=float, default=90, help="how long visits start")
    parser.add_argument("--url", help="an app already running on this machine (default: start one)")
    parser.add_argument("--pid", type=int, help="with --url: the app's process, for its RSS")
    parser.add_argument("--call-timeout", type=float, default=120, help="seconds one call may take")
    parser.add_argument("--start-timeout", type=float, default=240, help="seconds the app may take to answer")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--unique", action="store_true",
                        help="no input repeats (fresh photo crops, numbered sentences): no cache answers")
    parser.add_argument("--out", type=Path, help="write every figure here as JSON")
    parser.add_argument("--fail-on-error", action="store_true", help="exit 1 when any call failed")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (server log, data)")
    args = parser.parse_args(argv)
    if args.url and urllib.parse.urlsplit(args.url).hostname not in ("127.0.0.1", "localhost"):
        parser.error("the soak only targets this machine (http://127.0.0.1 / http://localhost)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="mms-soak-"))
    server, log_path, pid, url = None, None, args.pid, args.url
    try:
        photos = write_photos(work / "photos")
        if not url:
            try:
                server, url = start_app(work / "data", "--offline", shipped_defaults=True, timeout=args.start_timeout,
                                        env={"HF_HUB_OFFLINE": "1", "GRADIO_TEMP_DIR": str(work / "gradio-tmp")})
                log_path = work / "data" / "server.log"
            except RuntimeError as exc:
                print(f"soak: {exc}", file=sys.stderr)
                return 2
            pid = server.pid
        print(f"soak: {args.visitors} visitors for {args.seconds:g} s on {url}"
              + (f" (server log {log_path})" if log_path and args.keep else ""), flush=True)
        rss_start = rss_bytes(pid) if pid else None
        peak, stop = [rss_start or 0], threading.Event()
        if pid:
            threading.Thread(target=watch_peak, args=(pid, stop, peak), daemon=True).start()
        tally = Tally()
        elapsed = run_visitors(url, photos, tally, args.visitors, args.seconds, args.call_timeout, args.seed,
                               work / "unique" if args.unique else None)
        stop.set()
        rss_end = rss_bytes(pid) if pid else None
        if server:
            stop_app(server)
        delta = mb(rss_end) - mb(rss_start) if rss_start and rss_end else None
        return report(args, tally, elapsed, url, log_path,
                      {"start": mb(rss_start), "end": mb(rss_end), "peak": mb(peak[0] or None), "delta": delta})
    finally:
        if server and server.poll() is None:
            stop_app(server)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def report(args: argparse.Namespace, tally: Tally, elapsed: float, url: str, log_path: Path | None,
           rss_mb: dict) -> int:
    """Prints the table, the error samples and the summary line; writes --out."""
    ok, failed = tally.totals()
    worst, worst_p95 = tally.worst()
    server_problems = log_problems(log_path)
    summary = last_line(args.visitors, args.seconds, tally, rss_mb["delta"], args.unique)
    print(f"{elapsed:.1f} s elapsed (deadline {args.seconds:g} s, then calls in flight finish)")
    print("\n".join(table(tally)))
    if failed:
        print("errors (first distinct messages per endpoint):")
        print("\n".join(error_lines(tally)))
    if server_problems:
        print("server log warnings and errors (first distinct lines):")
        print("\n".join(f"  {line}" for line in server_problems))
    if rss_mb["start"] is not None:
        print(f"server RSS: {rss_mb['start']:.0f} MB at start, {fmt_mb(rss_mb['end'])} at the end, "
              f"{fmt_mb(rss_mb['peak'])} peak")
    if args.out:
        args.out.write_text(json.dumps({
            "visitors": args.visitors, "seconds": args.seconds, "elapsed_s": elapsed, "url": url,
            "started_app": log_path is not None, "call_timeout_s": args.call_timeout, "seed": args.seed,
            "ok": ok, "failed": failed, "worst": {"endpoint": worst, "p95_s": worst_p95},
            "endpoints": {name: s.summary() for name, s in tally.stats.items()},
            "rss_mb": rss_mb, "server_log_problems": server_problems, "summary": summary,
        }, indent=2))
    print(summary, flush=True)
    return 1 if args.fail_on_error and failed else 0


def fmt_mb(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} MB"


if __name__ == "__main__":
    sys.exit(main())
