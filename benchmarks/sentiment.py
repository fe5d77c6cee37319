"""Sentences per second for the shipped sentiment head, against the naive baseline.

    HF_HUB_OFFLINE=1 python -m benchmarks.sentiment [--threads 2] [--n 1585]

All three runs classify the same sentences (the held-out movie test split) with the same
head, in the same process:
  baseline  the bare transformers call: fp32, batches of 64 in arrival order, every
            sentence padded to 128 tokens; then the head
  fast      what the app does: length-bucketed batches, dynamic padding (max 64 tokens)
  fast+int8 the same with int8 dynamically quantised Linear layers: the shared lower
            layers only (what the app does), or also the head's tuned layers
Accuracy is printed beside each, so a speed-up that costs accuracy shows.
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--n", type=int, default=0, help="sentences (default: the whole test split)")
    args = parser.parse_args(argv)

    import torch

    from app.settings import load_settings
    from model_zoo.backends.text_encoder import mean_pool, quantize_int8, run_layers
    from model_zoo.heads import lexicon_scores
    from model_zoo.manager import ModelManager
    from model_zoo.sentiment import HeadStore
    from scripts.train_default_head import fetch_icwsm, movie_split

    torch.set_num_threads(args.threads)
    settings = load_settings([], environ={**__import__("os").environ})
    folder, _ = fetch_icwsm(settings.data_dir / "datasets" / "vader_icwsm2014")
    texts, _, y, (_, _, test) = movie_split(folder)
    rows = test[: args.n] if args.n else test
    sentences, labels = [texts[i] for i in rows], y[rows]
    manager = ModelManager(settings.manager_config())
    store = HeadStore(settings.data_dir / "heads")
    with manager.use("minilm") as encoder:
        card, head = store.load("default", encoder)
        max_length = card["encoders"]["text"]["max_length"]
        n_lower = encoder.num_layers - len(head.text_top)

        def classify(embeddings: np.ndarray) -> np.ndarray:
            feats = {"text": torch.from_numpy(embeddings), "lexicon": torch.from_numpy(lexicon_scores(sentences))}
            with torch.no_grad():
                return head.fusion(feats).argmax(1).numpy()

        @torch.inference_mode()
        def baseline() -> np.ndarray:
            out = []
            for start in range(0, len(sentences), 64):
                enc = encoder.tokenizer(sentences[start : start + 64], padding="max_length", truncation=True,
                                        max_length=128, return_tensors="pt")
                hidden = encoder.lower_hidden(enc, n_lower)
                hidden = run_layers(head.text_top, hidden, enc["attention_mask"], encoder.model.config)
                out.append(mean_pool(hidden, enc["attention_mask"]).numpy())
            return np.concatenate(out)

        int8_top = quantize_int8(head.text_top)
        encoder.int8_model()  # built once at load time in the app; not part of the timing
        runs = {
            "baseline (fp32, batch 64, pad 128)": baseline,
            "fast (bucketed, dynamic padding)": lambda: encoder.embed_texts(
                sentences, batch_size=64, top_layers=head.text_top, max_length=max_length),
            "fast + int8 shared layers": lambda: encoder.embed_texts(
                sentences, batch_size=64, top_layers=head.text_top, max_length=max_length, int8=True),
            "fast + int8 all layers": lambda: encoder.embed_texts(
                sentences, batch_size=64, top_layers=int8_top, max_length=max_length, int8=True),
        }
        # warm-up: first-call allocations and quantised kernels are not what we measure
        encoder.embed_texts(sentences[:64], top_layers=int8_top, int8=True)
        encoder.embed_texts(sentences[:64], top_layers=head.text_top)
        print(f"{len(sentences)} sentences (movie test split), {args.threads} threads, torch {torch.__version__}")
        base_rate = None
        for name, run in runs.items():
            started = time.perf_counter()
            predictions = classify(run())
            seconds = time.perf_counter() - started
            rate = len(sentences) / seconds
            base_rate = base_rate or rate
            accuracy = float((predictions == labels).mean())
            print(f"{name:38s} {rate:8.1f} sentences/s  x{rate / base_rate:5.2f}  accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()
