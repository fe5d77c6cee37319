"""Search benchmark: kNN latency of the gallery's indexes, recall of the approximate one,
and the indexing loop against the bare open_clip batch call.

    python -m benchmarks.models.search [--sizes 10000,100000,1000000] [--queries 200]

1. Index latency. Synthetic unit-norm 512-d vectors (the size of ViT-B-32 embeddings),
   clustered like real embeddings: 4096 random centres plus isotropic noise as large as
   the centre, so a vector's cosine to its centre is ~0.7 and clusters overlap. (Uniform
   random vectors on the sphere have no neighbours worth the name; `--uniform` runs that
   worst case.) Each size is timed with the gallery's exact index (IndexFlatIP behind
   IndexIDMap2) and its approximate one (model_zoo.vision.search.gallery.ivf_index, the index a gallery
   switches to past its exact limit), one query at a time as the app sends them, on held-out
   queries; recall@10 of the approximate results against the exact ones, with an nprobe sweep.
2. Indexing loop: model_zoo.vision.search.add_files (hash, decode, thumbnail, embed, FAISS add,
   atomic save) against the bare open_clip batch call (preprocess + encode_image) on the
   same decoded images, as a ratio. Uses the tiny random open_clip model (no real CLIP
   weights exist on the machines here); with ViT-B-32 the encoder's ~4.4 GFLOPs per image
   dominate and the ratio moves towards 1.
3. Text-encode time of one query, through the manager and bare, reported separately.
`--centres 40960` keeps ~24 vectors per cluster at 1M (as 4096 do at 100k): a harder case,
where neighbours share no structure beyond their own small cluster.
Memory: the 1M step holds the vectors twice (~4 GB) while it runs; it takes ~5 minutes."""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import model_zoo  # noqa: F401  first: sets the OpenMP wait policy before faiss and torch load
import faiss
from model_zoo.vision.search.gallery import EXACT_LIMIT, exact_index, ivf_index, single_threaded

DIM = 512
CENTRES = 4096


def synthetic(n: int, seed: int, uniform: bool = False, centres_n: int = CENTRES, chunk: int = 100_000) -> np.ndarray:
    """n unit-norm vectors: clustered (default) or uniform on the sphere."""
    centres = np.random.default_rng(12345).normal(size=(centres_n, DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    rng = np.random.default_rng(seed)
    out = np.empty((n, DIM), np.float32)
    for start in range(0, n, chunk):
        size = min(chunk, n - start)
        noise = rng.standard_normal((size, DIM), dtype=np.float32) / np.sqrt(DIM)
        block = noise if uniform else centres[rng.integers(0, centres_n, size)] + noise
        out[start:start + size] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def timed_queries(index: faiss.Index, queries: np.ndarray, k: int = 10) -> tuple[np.ndarray, list[float]]:
    """One query per call, like the app; returns ids and per-query latencies (ms)."""
    ids, latencies = [], []
    for row in queries:
        start = time.perf_counter()
        with single_threaded():  # as Gallery.search does
            _, found = index.search(row[None], k)
        latencies.append((time.perf_counter() - start) * 1e3)
        ids.append(found[0])
    return np.stack(ids), latencies


def p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def recall_at_10(approx: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact)]))


def bench_size(n: int, queries: int, uniform: bool, centres: int) -> None:
    started = time.perf_counter()
    vectors = synthetic(n, seed=1, uniform=uniform, centres_n=centres)
    probe = synthetic(queries, seed=2, uniform=uniform, centres_n=centres)
    ids = np.arange(n, dtype=np.int64)
    made = time.perf_counter()
    exact = exact_index(DIM)
    exact.add_with_ids(vectors, ids)
    exact_ids, exact_ms = timed_queries(exact, probe)
    del exact
    build_start = time.perf_counter()
    ivf = ivf_index(vectors, ids)
    build_s = time.perf_counter() - build_start
    del vectors
    chosen = ivf.nprobe
    print(
        f"\n{n:>9,} vectors  (generated in {made - started:.1f} s; "
        f"IVF{ivf.nlist} trained and filled in {build_s:.1f} s)"
    )
    used = "what a gallery of this size uses"
    print(f"  exact  IndexFlatIP            p50 {p(exact_ms, 50):7.2f} ms   p95 {p(exact_ms, 95):7.2f} ms"
          f"{'  <- ' + used if n <= EXACT_LIMIT else ''}")
    for nprobe in sorted({max(1, chosen // 4), max(1, chosen // 2), chosen, chosen * 2}):
        ivf.nprobe = nprobe
        found, ms = timed_queries(ivf, probe)
        mark = ("  <- default nprobe" + (", " + used if n > EXACT_LIMIT else "")) if nprobe == chosen else ""
        print(
            f"  approx IVF{ivf.nlist:<5} nprobe {nprobe:>4}  p50 {p(ms, 50):7.2f} ms   p95 {p(ms, 95):7.2f} ms"
            f"   recall@10 {recall_at_10(found, exact_ids):.3f}   speed-up p50 x{p(exact_ms, 50) / p(ms, 50):.1f}{mark}"
        )


def bench_indexing(images: int) -> None:
    from PIL import Image

    from model_zoo.vision import search
    from model_zoo.vision.images import load_image
    from model_zoo.core.manager import ManagerConfig, ModelManager
    from model_zoo.testing.open_clip import save_tiny_open_clip

    work = Path(tempfile.mkdtemp(prefix="mms-bench-"))
    clip_dir = save_tiny_open_clip(work / "tiny-clip")
    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=work / "cache", offline=True,
                                         overrides={"clip": str(clip_dir)}))
    sources = sorted((Path(__file__).resolve().parents[2] / "assets" / "gallery").glob("*.jpg"))
    files = []
    for number in range(images):  # distinct bytes (different crops), so dedup does not skip them
        with Image.open(sources[number % len(sources)]) as img:
            crop = img.convert("RGB").crop((number // len(sources), 0, img.width, img.height))
        files.append(work / f"img{number:04d}.jpg")
        crop.save(files[-1], quality=90)
    with manager.use("clip") as clip:  # load once: the comparison is steady-state
        decoded = [load_image(f) for f in files]
        bare_encode = best_of(3, lambda: clip.embed_images(decoded, batch_size=search.BATCH_SIZE))
        bare_decode_encode = best_of(
            3, lambda: clip.embed_images([load_image(f) for f in files], batch_size=search.BATCH_SIZE))
        texts = ["a photo of a cat"]
        bare_text = [_time(lambda: clip.embed_texts(texts)) for _ in range(50)]

    def via_manager():
        with manager.use("clip") as model:
            model.embed_texts(texts)

    managed_text = [_time(via_manager) for _ in range(50)]
    runs = iter(range(3))

    def index_all() -> None:  # a fresh gallery each run, so nothing is a duplicate
        report = search.add_files(manager, work / "galleries" / f"bench{next(runs)}", files)
        assert report.added == images, report

    loop = best_of(3, index_all)
    print(
        f"\nindexing {images} JPEGs (~384 px) with the tiny random open_clip model, "
        f"batch {search.BATCH_SIZE}, best of 3"
    )
    print(f"  bare open_clip batch call (preprocess + encode, images decoded) {images / bare_encode:8.1f} img/s")
    print(f"  bare decode + open_clip batch call                              {images / bare_decode_encode:8.1f} img/s")
    print(f"  search.add_files (hash, decode, thumbnail, embed, add, save)    {images / loop:8.1f} img/s"
          f"   ratio to bare encode {bare_encode / loop:.2f}, to bare decode+encode {bare_decode_encode / loop:.2f}")
    print(f"text encode, one query (tiny model): bare p50 {statistics.median(bare_text):.2f} ms, "
          f"through the manager p50 {statistics.median(managed_text):.2f} ms")
    print("  (real ViT-B-32 weights are absent here; its text tower is ~3 GFLOPs per query on CPU)")


def best_of(repeats: int, fn) -> float:
    """Fastest of a few runs (s): the least disturbed by the other jobs on the machine."""
    return min(_time(fn) for _ in range(repeats)) / 1e3


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--images", type=int, default=128, help="images for the indexing-loop comparison")
    parser.add_argument("--uniform", action="store_true", help="uniform random vectors (worst case)")
    parser.add_argument("--centres", type=int, default=CENTRES,
                        help="clusters in the synthetic data (fewer members per cluster: harder)")
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="faiss OpenMP threads for building indexes (0: all); queries use one, as the app does",
    )
    args = parser.parse_args()
    if args.threads:
        faiss.omp_set_num_threads(args.threads)
    print(f"faiss {faiss.__version__}, {faiss.omp_get_max_threads()} threads, {DIM}-d, "
          f"{'uniform' if args.uniform else f'{args.centres} clusters'}, {args.queries} single queries, k=10")
    if args.images:
        bench_indexing(args.images)
    for n in (int(s) for s in args.sizes.split(",") if s):
        bench_size(n, args.queries, args.uniform, args.centres)


if __name__ == "__main__":
    main()
