"""Sentences per second for the shipped sentiment head, against the naive baseline.

    HF_HUB_OFFLINE=1 python -m benchmarks.models.sentiment [--head default|fast] [--threads 2] [--n 1585]

`default` is the accurate shipped head (an MPNet seed ensemble blended with a MiniLM head),
`fast` the MiniLM one. All runs classify the same sentences (the held-out movie test
split) with the same head, in the same process:
  baseline  the bare transformers call: fp32, batches of 64 in arrival order, every
            sentence padded to 128 tokens; then the head
  fast      what the app does: length-bucketed batches, dynamic padding (max 64 tokens),
            at each CPU precision: fp32; bf16 (the app's default where the CPU has native
            bf16; timed only there unless --bf16 always: emulated bf16 is many times
            slower than fp32); int8 dynamic quantisation of the shared layers only, or of
            all layers
For a seed ensemble every run computes the shared lower layers once per batch and then
each member's tuned top layers, the baseline included. A blend runs each of its parts
(each on its own encoder) and weighs their probabilities, as the app does. Last rows run
the first part alone and its first member alone, to show what the blend and the ensemble
cost and buy. Accuracy is printed beside each, so a speed-up that costs accuracy shows.
"""
from __future__ import annotations

import argparse
import contextlib
import time
from dataclasses import dataclass, field

import numpy as np


@dataclass
class PartRunner:
    """One part of a head on its encoder: its members' tuned tops at each precision."""

    weight: float
    encoder: object  # the loaded SentenceEncoder
    members: list
    max_length: int
    tops: dict[str, list] = field(default_factory=dict)

    def baseline(self, sentences: list[str]) -> list[np.ndarray]:
        import torch

        from model_zoo.text.sentence_encoder import mean_pool

        n_lower = self.encoder.num_layers - len(self.members[0].text_top)
        out: list[list[np.ndarray]] = [[] for _ in self.members]
        with torch.inference_mode():
            for start in range(0, len(sentences), 64):
                enc = self.encoder.tokenizer(sentences[start : start + 64], padding="max_length", truncation=True,
                                             max_length=128, return_tensors="pt")
                lower = self.encoder.lower_hidden(enc, n_lower)
                for blocks, member in zip(out, self.members):
                    hidden = self.encoder.run_layers(member.text_top, lower, enc["attention_mask"])
                    blocks.append(mean_pool(hidden, enc["attention_mask"]).numpy())
        return [np.concatenate(blocks) for blocks in out]

    def fast(self, sentences: list[str], precision: str, top: str | None = None,
             first_only: bool = False) -> list[np.ndarray]:
        branches = self.tops[top or precision][: 1 if first_only else None]
        return self.encoder.embed_texts_branches(sentences, branches, batch_size=64, max_length=self.max_length,
                                                 precision=precision)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--n", type=int, default=0, help="sentences (default: the whole test split)")
    parser.add_argument("--head", default="default", help="a shipped or trained head (default, fast, ...)")
    parser.add_argument("--bf16", choices=["native", "always"], default="native",
                        help="time bf16 only where the CPU has it natively (default), or always")
    args = parser.parse_args(argv)

    import torch

    from app.settings import load_settings
    from model_zoo.text.sentence_encoder import at_precision
    from model_zoo.core.devices import cpu_has_native_bf16
    from model_zoo.fusion.heads import lexicon_scores, mean_text_probs
    from model_zoo.core.manager import ModelManager
    from model_zoo.sentiment.service import HeadStore, text_encoder_of
    from scripts.sentiment.vader_data import fetch_icwsm, movie_split

    torch.set_num_threads(args.threads)
    settings = load_settings([], environ={**__import__("os").environ})
    folder, _ = fetch_icwsm(settings.data_dir / "datasets" / "vader_icwsm2014")
    texts, _, y, (_, _, test) = movie_split(folder)
    rows = test[: args.n] if args.n else test
    sentences, labels = [texts[i] for i in rows], y[rows]
    lexicon = lexicon_scores(sentences)
    precisions = ["fp32", "int8"] + (["bf16"] if args.bf16 == "always" or cpu_has_native_bf16() else [])
    manager = ModelManager(settings.manager_config())
    store = HeadStore(settings.data_dir / "heads")
    parts = []
    resident = contextlib.ExitStack()  # the parts' encoders stay loaded for every run
    head_parts = store.parts(args.head)
    for part in head_parts:
        encoder = resident.enter_context(manager.use(text_encoder_of(part.card)))
        card, head = store.load_part(part, encoder)
        runner = PartRunner(part.weight, encoder, list(head.members), card["encoders"]["text"]["max_length"])
        runner.tops = {p: [at_precision(m.text_top, p) for m in runner.members] for p in precisions}
        for precision in precisions:  # built once at first use in the app; warm-up, not timed
            encoder.variant(precision)
            encoder.embed_texts_branches(sentences[:64], runner.tops[precision], precision=precision)
        parts.append(runner)

    def classify(blocks_per_part: list[list[np.ndarray]], used: list[PartRunner]) -> np.ndarray:
        weight = sum(p.weight for p in used)  # a part alone keeps its whole say
        return sum(p.weight / weight * mean_text_probs(p.members, blocks, lexicon)
                   for p, blocks in zip(used, blocks_per_part)).argmax(1)

    def over(used: list[PartRunner], run):
        return lambda: ([run(p) for p in used], used)

    runs = {"baseline (fp32, batch 64, pad 128)": over(parts, lambda p: p.baseline(sentences)),
            "fast (bucketed, dynamic padding), fp32": over(parts, lambda p: p.fast(sentences, "fp32"))}
    if "bf16" in precisions:
        runs["fast, bf16"] = over(parts, lambda p: p.fast(sentences, "bf16"))
    runs["fast, int8 shared layers"] = over(parts, lambda p: p.fast(sentences, "int8", "fp32"))
    runs["fast, int8 all layers"] = over(parts, lambda p: p.fast(sentences, "int8"))
    best = "bf16" if "bf16" in precisions else "fp32"
    if len(parts) > 1:
        runs[f"fast, {best}, first part alone"] = over(parts[:1], lambda p: p.fast(sentences, best))
    if len(parts[0].members) > 1:
        runs[f"fast, {best}, its first member alone"] = over(parts[:1], lambda p: p.fast(sentences, best,
                                                                                         first_only=True))
    described = "; ".join(f"{text_encoder_of(part.card)} x{len(p.members)} member(s), weight {p.weight:.2f}"
                          for part, p in zip(head_parts, parts))
    print(f"head '{args.head}' ({described}): {len(sentences)} sentences (movie test split), {args.threads} threads, "
          f"native bf16: {cpu_has_native_bf16()}, torch {torch.__version__}")
    base_rate = None
    for name, run in runs.items():
        started = time.perf_counter()
        predictions = classify(*run())
        seconds = time.perf_counter() - started
        rate = len(sentences) / seconds
        base_rate = base_rate or rate
        accuracy = float((predictions == labels).mean())
        print(f"{name:42s} {rate:8.1f} sentences/s  x{rate / base_rate:5.2f}  accuracy {accuracy:.4f}")
    resident.close()


if __name__ == "__main__":
    main()
