"""What the offline image engine makes of Chinese text queries: the 16 sample photos indexed
with the label bridge, eight everyday queries in English and in Chinese, the top hit of each.

    python -m benchmarks.quality.zh_search

Both engines embed queries with an English model (MPNet offline, CLIP's English text tower
online), so the Chinese column shows what a Chinese visitor would get: the figures are in
docs/search.md. Text written in the photos is matched in either language (text_match)."""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "gallery"
QUERIES = [("a cat", "一只猫", "cat.jpg"), ("a rocket", "火箭", "rocket.jpg"),
           ("a cup of coffee", "一杯咖啡", "coffee.jpg"), ("a horse", "马", "horse_silhouette.jpg"),
           ("the moon", "月亮", "moon.jpg"), ("a motorcycle", "摩托车", "motorcycle.jpg"),
           ("a flower", "花", "flower.jpg"), ("coins", "硬币", "coins.jpg")]


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    from model_zoo.core.manager import ManagerConfig, ModelManager
    from model_zoo.vision import search

    with tempfile.TemporaryDirectory(prefix="zh-search-") as work:
        manager = ModelManager(ManagerConfig(device="cpu", cache_dir=Path(work) / "cache", offline=True,
                                             vision="labels"))
        folder, galleries = Path(work) / "gallery", search.GalleryRegistry()
        search.add_files(manager, folder, sorted(ASSETS.glob("*.jpg")), galleries=galleries)
        right = {"en": 0, "zh": 0}
        print("| query (English) | top hit | score | query (Chinese) | top hit | score |")
        print("| --- | --- | --- | --- | --- | --- |")
        for english, chinese, wanted in QUERIES:
            row = []
            for language, query in (("en", english), ("zh", chinese)):
                top = search.search(manager, folder, query, k=1, galleries=galleries).results[0]
                right[language] += top["name"] == wanted
                row += [query, top["name"], f"{top['score']:.2f}"]
            print("| " + " | ".join(row) + " |")
        print(f"right photo first: English {right['en']} of {len(QUERIES)}, Chinese {right['zh']} of {len(QUERIES)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
