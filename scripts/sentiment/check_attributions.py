"""Are the word attributions faithful? Delete each sentence's 3 top-attributed words and,
separately, 3 words drawn at random; the top ones must move the probability of the
predicted label more, on average over the movie test split (the VADER ICWSM-2014 movie
snippets, split as scripts/sentiment/train_default_head.py splits them for the shipped heads).

    HF_HUB_OFFLINE=1 python -m scripts.sentiment.check_attributions [--head fast|default] [--n 0] [--draws 3]

Sentences of 4 to attributions.MAX_UNITS words take part (3 deletions leave a word, and
every unit attributed is one word). For each: p = p(predicted label | sentence); the drop
is p - p(label | sentence without those 3 words). Printed: the mean drop for the top-3
and for random words (mean over --draws random draws per sentence), the share of
sentences whose label flips, and the share where the top-3 drop beats the random one.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np


def probabilities(svc, texts: list[str], head: str, labels: list[str]) -> np.ndarray:
    """(n, classes) probabilities of plain predictions, in the order of `labels`."""
    results = svc.predict_texts(texts, head)
    return np.array([[r.scores[label] for label in labels] for r in results])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--head", default="fast", help="a shipped or trained head (fast, default, ...)")
    parser.add_argument("--n", type=int, default=0, help="sentences of the test split to use (default: all)")
    parser.add_argument("--draws", type=int, default=3, help="random 3-word deletions per sentence")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    args = parser.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    from app.settings import load_settings
    from model_zoo.sentiment import attributions
    from model_zoo.core.manager import ModelManager
    from model_zoo.sentiment.service import HeadStore, SentimentService
    from scripts.sentiment.vader_data import fetch_icwsm, movie_split

    settings = load_settings([], environ={**os.environ})
    folder, _ = fetch_icwsm(settings.data_dir / "datasets" / "vader_icwsm2014")
    texts, _, _, (_, _, test) = movie_split(folder)
    rows = test[: args.n] if args.n else test
    sentences = [texts[i] for i in rows if 4 <= len(texts[i].split()) <= attributions.MAX_UNITS]
    svc = SentimentService(ModelManager(settings.manager_config()), HeadStore(settings.data_dir / "heads"))
    started = time.perf_counter()
    results = svc.predict_texts(sentences, args.head, attribute=True,
                                progress=lambda f: print(f"\rattributions {f:4.0%}", end="", file=sys.stderr))
    print(file=sys.stderr)
    labels = list(results[0].scores)
    rng = np.random.default_rng(args.seed)
    top_texts, random_texts = [], []
    for result in results:
        units = [w.token for w in result.attributions]
        top_texts.append(attributions.delete_units(units, attributions.top_units(result.attributions, 3)))
        random_texts += [attributions.delete_units(units, list(rng.choice(len(units), 3, replace=False)))
                         for _ in range(args.draws)]
    label = np.array([labels.index(r.label) for r in results])
    p = np.array([r.scores[r.label] for r in results])
    at = np.arange(len(results))
    p_top = probabilities(svc, top_texts, args.head, labels)
    p_random = probabilities(svc, random_texts, args.head, labels).reshape(len(results), args.draws, -1)
    drop_top = p - p_top[at, label]
    drop_random = p[:, None] - p_random[at, :, label]
    report = {
        "head": args.head, "sentences": len(results), "test_split": int(len(rows)), "draws": args.draws,
        "mean_drop_top3": round(float(drop_top.mean()), 4),
        "mean_drop_random3": round(float(drop_random.mean()), 4),
        "flipped_top3": round(float((p_top.argmax(1) != label).mean()), 4),
        "flipped_random3": round(float((p_random.argmax(2) != label[:, None]).mean()), 4),
        "top3_beats_random3": round(float((drop_top > drop_random.mean(1)).mean()), 4),
        "standard_error_of_difference": round(float((drop_top - drop_random.mean(1)).std(ddof=1)
                                                    / np.sqrt(len(results))), 4),
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
