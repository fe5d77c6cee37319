"""The held-out check's three figures, through the same services the JSON API calls, on a
labelled folder of photos (labels.csv: file,name; scripts/validation_photos.py makes ours):

  search    every photo in one gallery; "a photo of a {name}" finds it (or another photo of
            that name): recall@1, recall@5
  classify  each photo against all the folder's names: the right one first (top-1)
  caption   the caption names the object: a word of the name in it (strict), or a close
            word from scripts.tune_label_bridge.CAPTION_SYNONYMS (lenient)

`HF_HUB_OFFLINE=1 python -m scripts.evaluate_vision --val /tmp/mms-vision-val`. Whatever the
engine answering here is (--vision, as the app would pick it). Never point it at a test set
while choosing anything."""
from __future__ import annotations

import argparse
import csv
import re
import tempfile
from pathlib import Path

from model_zoo.vision import captioning
from model_zoo.vision import search
from model_zoo.core.manager import ManagerConfig, ModelManager
from scripts.tune_label_bridge import CAPTION_SYNONYMS

_STOP = {"a", "an", "the", "of", "photo"}


def words(text: str) -> set[str]:
    return {w[:-1] if w.endswith("s") and len(w) > 3 else w for w in re.findall(r"[a-z]+", text.lower())} - _STOP


def names_it(name: str, caption: str, lenient: bool) -> bool:
    if words(name) & words(caption):
        return True
    return lenient and any(isinstance(s, str) and words(s) <= words(caption) for s in CAPTION_SYNONYMS.get(name, ()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--val", type=Path, default=Path("/tmp/mms-vision-val"))
    parser.add_argument("--vision", default="auto")
    parser.add_argument("--cache-dir", type=Path, default=None)
    args = parser.parse_args()
    with open(args.val / "labels.csv", newline="") as handle:
        rows = [(args.val / r["file"], r["name"]) for r in csv.DictReader(handle)]
    names = sorted({name for _, name in rows})
    name_of = {file.name: name for file, name in rows}  # several photos may share a name: any of them counts
    with tempfile.TemporaryDirectory() as scratch:
        cache = args.cache_dir or Path(scratch) / "cache"
        manager = ModelManager(ManagerConfig(device="cpu", cache_dir=cache, offline=True, vision=args.vision))
        gallery = Path(scratch) / "galleries" / "val"
        report = search.add_files(manager, gallery, [file for file, _ in rows])
        assert report.added == len(rows), report.rejected
        r1 = r5 = top1 = strict = lenient = 0
        for file, name in rows:
            hits = [name_of[h["name"]] for h in search.search(manager, gallery, f"a photo of a {name}", k=5).results]
            r1 += hits[0] == name
            r5 += name in hits
            top1 += next(iter(search.classify(manager, file, ", ".join(names)).scores)) == name
            caption = captioning.caption_image(manager, file).caption
            strict += names_it(name, caption, False)
            lenient += names_it(name, caption, True)
    n = len(rows)
    print(f"{n} photos, {len(names)} names, engine {report.engine} ({report.model})")
    print(f"search recall@1 {r1 / n:.3f}  recall@5 {r5 / n:.3f}  classify top-1 {top1 / n:.3f}  "
          f"caption names it {strict / n:.3f} (strict) {lenient / n:.3f} (close words)")


if __name__ == "__main__":
    main()
