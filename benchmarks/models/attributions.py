"""What word attributions cost: a prediction with attributions against a plain one, per
sentence of the movie test split, through the service as the tab and /sentiment call it.

    HF_HUB_OFFLINE=1 python -m benchmarks.models.attributions [--head fast|default] [--n 100] [--threads 2]

Each sentence is timed both ways, back to back (plain, then with attributions, twice;
the faster of each pair kept), with no embedding cache, as a sentence arrives for the
first time. Printed: the median and mean of the per-sentence ratios, and the median by
sentence length; ratios, not absolute times, compare across machines (and stay steady
when other work shares the CPU, since both runs of a sentence share its conditions).
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--head", default="fast")
    parser.add_argument("--n", type=int, default=100, help="sentences of the test split")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)

    import torch

    from app.settings import load_settings
    from model_zoo.core.manager import ModelManager
    from model_zoo.sentiment.service import EmbeddingCache, HeadStore, SentimentService
    from scripts.sentiment.vader_data import fetch_icwsm, movie_split

    torch.set_num_threads(args.threads)
    settings = load_settings([], environ={**os.environ})
    folder, _ = fetch_icwsm(settings.data_dir / "datasets" / "vader_icwsm2014")
    texts, _, _, (_, _, test) = movie_split(folder)
    sentences = [texts[i] for i in test[: args.n]]
    svc = SentimentService(ModelManager(settings.manager_config()), HeadStore(settings.data_dir / "heads"),
                           cache=EmbeddingCache(max_bytes=0))  # nothing kept: every call encodes
    for text in sentences[:3]:  # warm-up: models loaded, layers converted
        svc.predict(text, head=args.head, attribute=True)
    plain, attributed, words = [], [], []
    for text in sentences:
        plain.append(best_of(lambda: svc.predict(text, head=args.head), args.repeats))
        attributed.append(best_of(lambda: svc.predict(text, head=args.head, attribute=True), args.repeats))
        words.append(len(text.split()))
    ratio, words = np.array(attributed) / np.array(plain), np.array(words)
    by_length = {f"{lo}-{hi - 1} words": {"n": int(k.sum()), "median_ratio": round(float(np.median(ratio[k])), 2)}
                 for lo, hi in ((1, 10), (10, 20), (20, 30), (30, 100)) if (k := (words >= lo) & (words < hi)).any()}
    report = {"head": args.head, "sentences": len(sentences), "mean_words": round(float(words.mean()), 1),
              "precision": svc.precision, "threads": args.threads,
              "plain_ms_median": round(1000 * float(np.median(plain)), 1),
              "attributed_ms_median": round(1000 * float(np.median(attributed)), 1),
              "ratio_median": round(float(np.median(ratio)), 2), "ratio_mean": round(float(ratio.mean()), 2),
              "ratio_of_totals": round(float(sum(attributed) / sum(plain)), 2), "by_length": by_length}
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
