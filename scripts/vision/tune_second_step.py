"""The label bridge's second step, measured as the first sweep was (scripts/vision/tune_label_bridge.py,
whose machinery this reuses): test-time augmentation (flip, two crops), classifier ensembles
(Lite0/1/2) and class prompts with the WordNet kind, each level scored in every setting of the
other factors, on /tmp/mms-vision-val and -val2 (scripts/vision/validation_photos.py); then the
classifier cost per image of each level. None was adopted (README: "How the second step was
chosen").

    python -m scripts.vision.tune_second_step [--val DIR] [--val2 DIR] [--cache-dir DIR] [--timing-repeats 5]"""
from __future__ import annotations

import argparse
import itertools
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

import model_zoo  # noqa: F401  (sets the OpenMP wait policy first)
from scripts.vision.label_bridge_measures import (
    CROPS, QUERY, VARIANTS, PromptCache, caption_hit, evaluate, grouped_vectors)


# -- second step: test-time augmentation, classifier ensembles, class prompts with the WordNet kind --
ENSEMBLES = {"lite0": VARIANTS[:1], "lite0+1": VARIANTS[:2], "lite0+1+2": VARIANTS}
TTA_CROPS = {"0.875": (0.875,), "1.0": (1.0,), "0.875+1.0": (0.875, 1.0)}  # crops whose probabilities are averaged
FLIPS = {"none": (False,), "flip": (False, True)}  # + the horizontal mirror, averaged
KIND_TEMPLATE = "a photo of a {name}, a kind of {kind}."
PROMPT_LEVELS = ("photo", "kind", "photo+kind")  # 'a photo of a {}.' | the kind prompt | the mean of both
SECOND_TOP_TS, SECOND_TEMPERATURES = (5, 10, 20, 50), (1.0, 2.0, 3.0)
# Read on the 50 items of /tmp/mms-vision-val and the 100 of -val2 (50 new), objective wins of
# settings over the shipped level (engine's zero-shot without WordNet kinds in labels): flip 174/324,
# 199/324, 178/324 at +-1 item per metric and x2 the forward cost; 0.875+1.0 crops 129, 118, 55 of 216;
# lite0+1 75, 162, 137 and lite0+1+2 37, 158, 185 of 216 at x2.7 / x4.8; kind prompts 35, 132, 176
# of 216 (photo+kind 57, 124, 82). None wins on both sets with a gain past one item: none adopted.


def second_step(args) -> None:
    """Three factors of the shipped bridge (lite0, TF normalisation, backend.CROP_FRACTION, mpnet,
    CLIP names, top_t 20, temperature 2), each level scored in every setting of the others:
    flip TTA (+ 2 crops), ensembles (mean probabilities), class prompts with the class's nearest
    WordNet ancestor that people say (model_zoo.vision.recognition.wordnet, count > 0). Zero-shot is the
    app's: LabelBridge.label_probabilities (LABEL_SHARPNESS) over the set's names. A level 'wins'
    a setting when its objective (mean of R@1, R@5, ZS) beats the shipped level's there."""
    import contextlib
    import hashlib
    import subprocess
    import types

    from PIL import ImageOps

    from model_zoo.core.manager import ManagerConfig, ModelManager
    from model_zoo.vision import efficientnet_backend as backend
    from model_zoo.vision import engine as vision
    from model_zoo.vision.images import load_image
    from scripts.vision.validation_photos import read_labels

    cpu = [
        ln for ln in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines() if "Model name" in ln
    ]
    print("CPU:", cpu[0].split(":", 1)[1].strip() if cpu else "?")
    manager = ModelManager(ManagerConfig(device="cpu", offline=True, cache_dir=args.cache_dir))
    labels = backend.imagenet_labels()
    shipped = dict(ensemble="lite0", crop=str(backend.CROP_FRACTION), flip="none", prompts="photo",
                   top_t=vision.RECIPE.top_t, temperature=vision.RECIPE.temperature)
    kinds = None
    try:
        from model_zoo.vision.recognition.wordnet import load_hierarchy

        tree = load_hierarchy()
        kinds = [next((k.name.replace("_", " ") for k in tree.ancestors(i)
                       if k.count > 0 and k.name.replace("_", " ").lower() != labels[i].lower()), None)
                 for i in range(len(labels))]
        print(f"kinds: {sum(k is not None for k in kinds)}/1000 classes have a familiar ancestor, e.g. "
              + ", ".join(f"{labels[i]} -> {kinds[i]}" for i in (0, 1, 151, 281, 409, 817, 948)))
    except ImportError as exc:
        print(f"class prompts with the kind: skipped, no WordNet reader ({exc})")
    prompt_levels = PROMPT_LEVELS if kinds else PROMPT_LEVELS[:1]
    groups = {"photo": [[f"a photo of a {n}."] for n in labels]}
    if kinds:
        groups["kind"] = [
            [KIND_TEMPLATE.format(name=n, kind=k) if k else f"a photo of a {n}."] for n, k in zip(labels, kinds)
        ]
        groups["photo+kind"] = [a + b for a, b in zip(groups["photo"], groups["kind"])]
    with manager.use("mpnet") as encoder:
        cache = PromptCache(encoder, args.cache_dir / "tune" / "prompts-mpnet.npz")
        class_vecs = {level: grouped_vectors(cache, groups[level]) for level in prompt_levels}
    shipped_vecs = np.load(vision.SHIPPED_VECTORS / vision.class_vectors_file(manager.spec("mpnet").source, labels,
                                                                       vision.RECIPE.templates))
    print(
        "check: sweep's 'photo' class vectors == shipped: "
        f"max |diff| {np.abs(shipped_vecs - class_vecs['photo']).max():.1e}"
    )

    def views(images, crop, flip):
        backend.CROP_FRACTION = crop
        return [ImageOps.mirror(im) for im in images] if flip else images

    def view_probabilities(rows) -> dict:
        """{(variant, crop, flip): (n, 1000)}, cached on disk by the items' content."""
        digest = hashlib.sha256()
        for r in rows:
            digest.update(r["name"].encode() + Path(r["file"]).read_bytes())
        cache_file = args.cache_dir / "tune" / f"views-{digest.hexdigest()[:16]}.npz"
        parts = [(v, c, f) for v in VARIANTS for c in CROPS for f in (False, True)]
        if cache_file.is_file():
            stored = np.load(cache_file)
            return {(v, c, f): stored[f"{v}|{c}|{f}"] for v, c, f in parts}
        images, probs = [load_image(r["file"]) for r in rows], {}
        try:
            for variant in VARIANTS:
                with manager.use(variant) as classifier:
                    for _, crop, flip in (p for p in parts if p[0] == variant):
                        probs[variant, crop, flip] = classifier.predict(views(images, crop, flip)).probabilities
                manager.unload(variant)
        finally:
            backend.CROP_FRACTION = saved_crop
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache_file, **{f"{v}|{c}|{f}": p for (v, c, f), p in probs.items()})
        return probs

    # the sets: the first, the second (when built), and the second's items that the first lacks
    saved_crop, sets = backend.CROP_FRACTION, []
    for folder in (args.val, args.val2):
        if (folder / "labels.csv").is_file():
            rows = read_labels(folder)
            sets.append((str(folder), rows, view_probabilities(rows)))
    if len(sets) == 2:
        first = {Path(r["file"]).read_bytes() for r in sets[0][1]}
        new = np.array([Path(r["file"]).read_bytes() not in first for r in sets[1][1]])
        sets.append((f"{args.val2}, items not in {args.val}", [r for r, keep in zip(sets[1][1], new) if keep],
                     {k: p[new] for k, p in sets[1][2].items()}))
    bridge = vision.LabelBridge(types.SimpleNamespace(labels=labels, name="sweep"), None, class_vecs["photo"])
    print("zero-shot: LabelBridge.label_probabilities as the working tree has it; WordNet kinds in labels:",
          getattr(vision, "KINDS_IN_LABELS", "n/a"))

    for title, rows, probs in sets:
        names = list(dict.fromkeys(r["name"] for r in rows))
        with manager.use("mpnet") as encoder:
            cache = PromptCache(encoder, args.cache_dir / "tune" / "prompts-mpnet.npz")
            query_vecs = grouped_vectors(cache, [[QUERY.format(n)] for n in names])
            name_vecs = grouped_vectors(cache, [[f"a photo of a {n}."] for n in names])
        name_index = np.array([names.index(r["name"]) for r in rows])
        is_photo = np.array([r.get("kind", "photo") == "photo" for r in rows])
        print(f"\n== {title}: {len(rows)} items ({is_photo.sum()} photos), {len(names)} names")

        def zero_shot(p: np.ndarray) -> np.ndarray:
            try:  # the working tree's signature reads kind names through WordNet
                top = [bridge.label_probabilities(row, name_vecs, names).argmax() for row in p]
            except TypeError:
                top = [bridge.label_probabilities(row, name_vecs).argmax() for row in p]
            return (np.array(top) == name_index).astype(float)

        keys = ("ensemble", "crop", "flip", "prompts", "top_t", "temperature")
        grid = list(itertools.product(ENSEMBLES, TTA_CROPS, FLIPS, prompt_levels, SECOND_TOP_TS, SECOND_TEMPERATURES))
        image_probs = {(e, c, f): np.mean([probs[v, crop, flip] for v in ENSEMBLES[e] for crop in TTA_CROPS[c]
                                           for flip in FLIPS[f]], axis=0)
                       for e, c, f in itertools.product(ENSEMBLES, TTA_CROPS, FLIPS)}
        zs, cap, scores = {}, {}, {}
        for (e, c, f), p in image_probs.items():
            cap[e, c, f] = np.array(
                [caption_hit(r["name"], int(i), labels) for r, i in zip(rows, p.argmax(axis=1))], float
            )
            for level in prompt_levels:
                bridge.class_vectors = class_vecs[level]
                zs[e, c, f, level] = zero_shot(p)
        for combo in grid:
            e, c, f, level, top_t, temperature = combo
            s = evaluate(vision.conse(image_probs[e, c, f], class_vecs[level], top_t, temperature), query_vecs,
                         name_vecs, name_index)
            scores[combo] = (s.r1, s.r5, zs[e, c, f, level], cap[e, c, f])
        objective = {c: float(np.mean(sum(v[:3]) / 3)) for c, v in scores.items()}

        base = tuple(shipped[k] for k in keys)

        def line(combo, mask=slice(None)) -> str:
            return " ".join(f"{m} {v[mask].mean():.3f}" for m, v in zip(("R@1", "R@5", "ZS", "CAP"), scores[combo]))

        print("shipped:", dict(zip(keys, base)), "|", line(base), "| photos:", line(base, is_photo))
        print(
            "each level against the shipped level of its factor, in every setting of the other factors:"
            "\n  wins/losses/ties on the objective (mean R@1, R@5, ZS) | CAP wins/losses/ties over image-side settings"
            "\n  | deltas with every other factor at the shipped setting (photos only in brackets)"
        )
        for position, key in enumerate(keys[:4]):
            for level in [lv for lv in (ENSEMBLES, TTA_CROPS, FLIPS, prompt_levels)[position] if lv != base[position]]:
                won = lost = tied = 0
                cap_counts, seen = [0, 0, 0], set()
                for combo in grid:
                    if combo[position] != level:
                        continue
                    other = combo[:position] + (base[position],) + combo[position + 1:]
                    d = objective[combo] - objective[other]
                    won, lost, tied = won + (d > 1e-9), lost + (d < -1e-9), tied + (abs(d) <= 1e-9)
                    if combo[:3] not in seen:
                        seen.add(combo[:3])
                        dc = scores[combo][3].mean() - scores[other][3].mean()
                        cap_counts[0 if dc > 1e-9 else 1 if dc < -1e-9 else 2] += 1
                at = base[:position] + (level,) + base[position + 1:]
                deltas = " ".join(f"{m} {a.mean() - b.mean():+.3f} ({a[is_photo].mean() - b[is_photo].mean():+.3f})"
                                  for m, a, b in zip(("R@1", "R@5", "ZS", "CAP"), scores[at], scores[base]))
                diff = sum(scores[at][:3]) / 3 - sum(scores[base][:3]) / 3
                boots = [diff[np.random.default_rng(i).integers(0, len(diff), len(diff))].mean() for i in range(1000)]
                print(f"  {key:<8} {level:<10} obj {won}/{lost}/{tied} of {won + lost + tied}  "
                      f"CAP {cap_counts[0]}/{cap_counts[1]}/{cap_counts[2] if position < 3 else '-'}  | {deltas}  "
                      f"obj {diff.mean():+.3f} (90% {np.percentile(boots, 5):+.3f}..{np.percentile(boots, 95):+.3f})")
        print("  every image side at the shipped text side:")
        for e, c, f in itertools.product(ENSEMBLES, TTA_CROPS, FLIPS):
            combo = (e, c, f) + base[3:]
            print(f"    {e:<10} crop {c:<10} {f:<5} {line(combo)}  obj {objective[combo]:.3f}")

    # cost: seconds per image of each TTA / ensemble level's whole classifier pass, taking turns
    photos = [load_image(r["file"]) for r in read_labels(args.val) if r.get("kind", "photo") == "photo"]
    crop0 = float(shipped["crop"])
    levels = {
        "lite0": ("lite0", (crop0,), (False,)),
        "lite0 flip": ("lite0", (crop0,), (False, True)),
        "lite0 2 crops": ("lite0", (0.875, 1.0), (False,)),
        "lite0 flip+2 crops": ("lite0", (0.875, 1.0), (False, True)),
        "lite0+1": ("lite0+1", (crop0,), (False,)),
        "lite0+1+2": ("lite0+1+2", (crop0,), (False,)),
    }
    samples, repeats, load = {k: [] for k in levels}, args.timing_repeats, os.getloadavg()[0]
    if not repeats:
        return
    with contextlib.ExitStack() as stack:
        classifiers = {v: stack.enter_context(manager.use(v)) for v in VARIANTS}
        try:
            for round_number in range(repeats + 1):  # a fresh random order each round
                for level in np.random.default_rng(round_number).permutation(list(levels)):
                    e, crops, flips = levels[level]
                    started = time.perf_counter()
                    np.mean([classifiers[v].predict(views(photos, c, f)).probabilities
                             for v in ENSEMBLES[e] for c in crops for f in flips], axis=0)
                    if round_number:
                        samples[level].append((time.perf_counter() - started) / len(photos))
        finally:
            backend.CROP_FRACTION = saved_crop
    base_time = float(np.median(samples["lite0"]))
    print(
        f"\nclassifier cost per image ({len(photos)} photos, median of {repeats}, levels taking turns in random order, "
        f"torch threads {__import__('torch').get_num_threads()}, load average {load:.1f} -> {os.getloadavg()[0]:.1f}):"
    )
    for level, xs in samples.items():
        print(f"  {level:<20} {np.median(xs) * 1e3:7.1f} ms/image   x{np.median(xs) / base_time:.2f} of lite0")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--val", type=Path, default=Path("/tmp/mms-vision-val"))
    parser.add_argument("--val2", type=Path, default=Path("/tmp/mms-vision-val2"), help="the grown set, when built")
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/mms-tune-cache"))
    parser.add_argument("--timing-repeats", type=int, default=3, help="0: no timing")
    second_step(parser.parse_args())


if __name__ == "__main__":
    main()
