"""Batch captioning throughput against a bare one-at-a-time `generate` loop.

    python -m benchmarks.models.captioning [--images 32] [--batch-size 8] [--hidden 32 --layers 1] [--threads 1]
    python -m benchmarks.models.captioning --model /path/to/blip-image-captioning-base

Three ways over the same image files, same greedy decoding, same maximum length:
  bare, one at a time   open + processor + model.generate per image (what a script does)
  bare, batched         the same with `batch-size` images per generate call
  studio batch          model_zoo.vision.captioning.caption_batch through the ModelManager
                        (file checks, per-token confidences, CSV-ready rows; no CLIP)
and prints images/s for each and the ratios. No captioner weights exist on the build
machines, so by default it runs a random BLIP saved to disk (model_zoo/testing/captioner.py)
and loaded through the same code path; its sizes are flags, and --model takes real weights."""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.models.timing import timed


def make_images(folder: Path, count: int) -> list[Path]:
    """Photos from scikit-image, cycled and cropped differently so no two are the same."""
    from PIL import Image
    from skimage import data

    sources = [
        Image.fromarray(getattr(data, name)()).convert("RGB") for name in ("astronaut", "coffee", "chelsea", "rocket")
    ]
    files = []
    for i in range(count):
        image = sources[i % len(sources)]
        box = (i % 7 * 8, i % 5 * 8, image.width - i % 3 * 16, image.height - i % 4 * 16)
        files.append(folder / f"image{i:03d}.jpg")
        image.crop(box).save(files[-1], quality=90)
    return files


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", default="", help="a real captioner folder or hub id (default: random BLIP)")
    parser.add_argument("--hidden", type=int, default=32, help="width of the random BLIP")
    parser.add_argument("--layers", type=int, default=1, help="layers per tower of the random BLIP")
    parser.add_argument("--image-size", type=int, default=32, help="input resolution of the random BLIP")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default); on a "
                        "busy machine 1 avoids threads spinning against other work")
    args = parser.parse_args()

    import torch
    from PIL import Image
    from transformers import AutoImageProcessor, AutoModelForImageTextToText

    from model_zoo.vision import captioning
    from model_zoo.vision.captioning import CaptionOptions, ImageInput
    from model_zoo.core.manager import ManagerConfig, ModelManager

    work = Path(tempfile.mkdtemp(prefix="bench-captioning-"))
    source = args.model
    if not source:
        from model_zoo.testing.captioner import save_tiny_blip

        source = str(save_tiny_blip(work / "blip", hidden=args.hidden, layers=args.layers, image_size=args.image_size))
    files = make_images(work, args.images)
    if args.threads:
        torch.set_num_threads(args.threads)

    processor = AutoImageProcessor.from_pretrained(source)
    model = AutoModelForImageTextToText.from_pretrained(source).eval()
    params = sum(p.numel() for p in model.parameters())

    @torch.inference_mode()
    def bare(batch_size: int) -> None:
        for start in range(0, len(files), batch_size):
            images = [Image.open(f).convert("RGB") for f in files[start : start + batch_size]]
            pixels = processor(images, return_tensors="pt").pixel_values
            model.generate(pixel_values=pixels, max_new_tokens=args.max_new_tokens, do_sample=False, num_beams=1)

    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=work / "cache", offline=True,
                                         overrides={"captioner": source}))
    inputs = [ImageInput(f.name, f) for f in files]
    options = CaptionOptions(strategy="greedy", max_new_tokens=args.max_new_tokens, rerank=False)

    def studio() -> None:
        captioning.caption_batch(manager, inputs, options, batch_size=args.batch_size)

    seconds = timed({"bare one at a time": lambda: bare(1),
                     f"bare batched ({args.batch_size})": lambda: bare(args.batch_size),
                     f"studio batch ({args.batch_size})": studio}, args.repeats)
    rate = {name: len(files) / s for name, s in seconds.items()}

    what = args.model or (f"random BLIP, hidden {args.hidden}, {args.layers} layer(s), "
                          f"{args.image_size}px (no captioner weights on this machine)")
    print(f"model: {what}; {params / 1e6:.2f}M parameters; torch threads {torch.get_num_threads()}")
    print(f"{len(files)} images, greedy, max {args.max_new_tokens} new tokens, median of {args.repeats}")
    for name, value in rate.items():
        print(f"  {name:<24} {value:8.1f} images/s")
    studio_rate = rate[f"studio batch ({args.batch_size})"]
    print(f"studio batch / bare one-at-a-time: {studio_rate / rate['bare one at a time']:.2f}x")
    print(f"studio batch / bare batched:       {studio_rate / rate[f'bare batched ({args.batch_size})']:.2f}x "
          "(below 1: the studio's own cost, i.e. file checks and confidences)")


if __name__ == "__main__":
    main()
