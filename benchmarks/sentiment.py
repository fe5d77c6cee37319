"""Sentences per second for the shipped sentiment head, against the naive baseline.

    HF_HUB_OFFLINE=1 python -m benchmarks.sentiment [--head default|fast] [--threads 2] [--n 1585]

`default` is the accurate shipped head (MPNet), `fast` the MiniLM one. All runs classify the same sentences (the held-out movie test split) with the same
head, in the same process:
  baseline  the bare transformers call: fp32, batches of 64 in arrival order, every
            sentence padded to 128 tokens; then the head
  fast      what the app does: length-bucketed batches, dynamic padding (max 64 tokens),
            at each CPU precision: fp32; bf16 (the app's default where the CPU has native
            bf16); int8 dynamic quantisation of the shared layers only, or of all layers
For a seed ensemble (the default head has 3 members) every run computes the shared lower
layers once per batch and then each member's tuned top layers, the baseline included; a
last row runs the first member alone, to show what the ensemble costs and buys.
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
    parser.add_argument("--head", default="default", help="a shipped or trained head (default, fast, ...)")
    args = parser.parse_args(argv)

    import torch

    from app.settings import load_settings
    from model_zoo.backends.text_encoder import at_precision, mean_pool
    from model_zoo.heads import lexicon_scores, mean_text_probs
    from model_zoo.manager import ModelManager
    from model_zoo.sentiment import HeadStore, text_encoder_of
    from scripts.train_default_head import fetch_icwsm, movie_split

    torch.set_num_threads(args.threads)
    settings = load_settings([], environ={**__import__("os").environ})
    folder, _ = fetch_icwsm(settings.data_dir / "datasets" / "vader_icwsm2014")
    texts, _, y, (_, _, test) = movie_split(folder)
    rows = test[: args.n] if args.n else test
    sentences, labels = [texts[i] for i in rows], y[rows]
    manager = ModelManager(settings.manager_config())
    store = HeadStore(settings.data_dir / "heads")
    with manager.use(text_encoder_of(store.card(args.head))) as encoder:
        card, head = store.load(args.head, encoder)
        max_length = card["encoders"]["text"]["max_length"]
        members = head.members
        n_lower = encoder.num_layers - len(members[0].text_top)
        lexicon = lexicon_scores(sentences)

        def classify(blocks: list[np.ndarray]) -> np.ndarray:
            return mean_text_probs(members, blocks, lexicon).argmax(1)

        @torch.inference_mode()
        def baseline() -> list[np.ndarray]:
            out: list[list[np.ndarray]] = [[] for _ in members]
            for start in range(0, len(sentences), 64):
                enc = encoder.tokenizer(sentences[start : start + 64], padding="max_length", truncation=True,
                                        max_length=128, return_tensors="pt")
                lower = encoder.lower_hidden(enc, n_lower)
                for blocks, member in zip(out, members):
                    hidden = encoder.run_layers(member.text_top, lower, enc["attention_mask"])
                    blocks.append(mean_pool(hidden, enc["attention_mask"]).numpy())
            return [np.concatenate(blocks) for blocks in out]

        tops = {precision: [at_precision(m.text_top, precision) for m in members]
                for precision in ("fp32", "bf16", "int8")}
        for precision in ("bf16", "int8"):
            encoder.variant(precision)  # built once at first use in the app; not part of the timing

        def fast(precision: str, top: str | None = None, first_only: bool = False):
            branches = tops[top or precision][: 1 if first_only else None]
            return lambda: encoder.embed_texts_branches(sentences, branches, batch_size=64, max_length=max_length,
                                                        precision=precision)

        runs = {
            "baseline (fp32, batch 64, pad 128)": baseline,
            "fast (bucketed, dynamic padding), fp32": fast("fp32"),
            "fast, bf16": fast("bf16"),
            "fast, int8 shared layers": fast("int8", "fp32"),
            "fast, int8 all layers": fast("int8"),
        }
        if len(members) > 1:
            runs["fast, bf16, first member alone"] = fast("bf16", first_only=True)
        for precision in ("fp32", "bf16", "int8"):  # warm-up: first-call allocations and kernels
            encoder.embed_texts_branches(sentences[:64], tops[precision], precision=precision)
        print(f"head '{args.head}' ({text_encoder_of(card)} text encoder, {len(members)} member(s)): {len(sentences)} sentences "
              f"(movie test split), {args.threads} threads, torch {torch.__version__}")
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
