"""Headless folder indexing: scripts.jobs.index_folder with 1 and with 2 processes on the same folder.

    python -m benchmarks.serving.index_folder [--images 200] [--repeats 1] [--data-dir /tmp/mms-bench-index]

The folder: assets/gallery's photos, each replicated with a different crop, flip, turn
and colour so that no two files share bytes (the gallery would skip duplicates), --images
in all. Each run indexes it into a fresh gallery of one data dir (packaged weights are
unpacked into its cache once), on the offline engine (the label bridge: EfficientNet-Lite0
+ MPNet, packaged weights):
  1 process    python -m scripts.jobs.index_folder DIR --gallery G --offline
  2 processes  accelerate launch --multi_gpu --num_processes 2 -m scripts.jobs.index_folder DIR ...
               (two CPU processes in one gloo group; torchrun gives each 1 OpenMP thread,
               the lone process keeps torch's default, one thread per core)
The two take turns, one warm-up round, median of --repeats. Printed: images/s of the
indexing itself as the script reports it (hash, decode, thumbnail, embed, FAISS add, the
main process's atomic saves; model loading excluded), images/s of the whole command
(start-up and model loading included), the 2-process/1-process ratios, and whether both
galleries hold the same ids and vectors."""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from app.network import free_port

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[2]
RATE = re.compile(r"(\d+) files in ([\d.]+) s: ([\d.]+) images/s embedded")


def make_folder(folder: Path, count: int) -> int:
    """`count` distinct photos under `folder` (two subfolders), augmented copies of
    assets/gallery's JPEGs."""
    from PIL import Image, ImageEnhance, ImageOps

    sources = [Image.open(p).convert("RGB") for p in sorted((REPO / "assets" / "gallery").glob("*.jpg"))]
    for i in range(count):
        image = sources[i % len(sources)]
        variant = i // len(sources)
        w, h = image.size
        image = image.crop(
            (variant % 5 * w // 40, variant % 3 * h // 40, w - variant % 4 * w // 40, h - variant % 7 * h // 60)
        )
        if variant % 2:
            image = ImageOps.mirror(image)
        image = image.rotate(variant % 4 * 3, expand=True)
        image = ImageEnhance.Color(image).enhance(0.6 + variant % 9 / 10)
        target = folder / f"part{i % 2}" / f"photo{i:04d}.jpg"
        target.parent.mkdir(parents=True, exist_ok=True)
        image.save(target, quality=88)
    return count




def command(processes: int, folder: Path, gallery: str, data: Path) -> list[str]:
    job = ["-m", "scripts.jobs.index_folder", str(folder), "--gallery", gallery, "--data-dir", str(data), "--offline"]
    if processes == 1:
        return [sys.executable, *job]
    return [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(processes),
            "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
            "--main_process_port", str(free_port()), *job]


def run(processes: int, folder: Path, gallery: str, data: Path) -> tuple[float, float]:
    """(indexing images/s as the script reports it, images/s of the whole command)."""
    started = time.perf_counter()
    done = subprocess.run(command(processes, folder, gallery, data), cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{processes} process(es) failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    found = RATE.search(done.stdout)
    last = done.stdout.strip().splitlines()[-1]
    print(f"    {processes} process(es): {last}; {found.group(0) if found else '?'}; command {wall:.1f} s", flush=True)
    files = int(found.group(1))
    return float(found.group(3)), files / wall


def same_gallery(a: Path, b: Path) -> str:
    import numpy as np

    from model_zoo.vision.search.gallery import Gallery, all_vectors

    one, two = Gallery(a), Gallery(b)
    ids_one, vectors_one = all_vectors(one.index)
    ids_two, vectors_two = all_vectors(two.index)
    same_items = {i: v.sha256 for i, v in one.items.items()} == {i: v.sha256 for i, v in two.items.items()}
    gap = float(np.abs(vectors_one[np.argsort(ids_one)] - vectors_two[np.argsort(ids_two)]).max())
    return f"same ids and files: {same_items}; largest vector difference {gap:.1e}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "mms-bench-index",
                        help="the scripts' data dir: its cache keeps the unpacked weights between runs")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="mms-bench-photos-"))
    make_folder(folder, args.images)
    print(f"{args.images} photos in {folder}; {os.cpu_count()} CPUs; engine: the label bridge (offline)")
    rates: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
    stamp = time.strftime("%H%M%S")
    for round_number in range(args.repeats + 1):  # round 0 warms up (unpacks weights, fills the page cache)
        for processes in (1, 2):
            result = run(processes, folder, f"bench-{stamp}-{round_number}-{processes}p", args.data_dir)
            if round_number:
                rates[processes].append(result)
    indexing = {p: statistics.median(r[0] for r in rs) for p, rs in rates.items()}
    whole = {p: statistics.median(r[1] for r in rs) for p, rs in rates.items()}
    print(f"median of {args.repeats} after one warm-up round, images/s:")
    print(f"    {'':<12} {'indexing':>9} {'whole command':>14}")
    for processes in (1, 2):
        print(
            f"    {processes} process{'es' if processes > 1 else '  '} "
            f"{indexing[processes]:9.2f} {whole[processes]:14.2f}"
        )
    print(f"    2 / 1:      {indexing[2] / indexing[1]:9.2f} {whole[2] / whole[1]:14.2f}")
    galleries = args.data_dir / "galleries"
    print("    " + same_gallery(galleries / f"bench-{stamp}-1-1p", galleries / f"bench-{stamp}-1-2p"))


if __name__ == "__main__":
    main()
