"""Half-size copies of the shipped heads (what scripts/ops/deploy_space.py uploads) against
the files in the repo: movie test split accuracy, changed predictions and bytes.

    HF_HUB_OFFLINE=1 python -m benchmarks.quality.half_heads [--head default] [--dtypes float16,bfloat16,int8]
                                                             [--limit N]

Every copy is scored at fp32 the way scripts/sentiment/train_default_head.py scored the card's
figure (each part's members averaged, parts weighed by the blend); the copies' tuned
layers branch off one run of the encoder's shared lower layers, so a copy costs only
its own top layers."""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]


def folder_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*.safetensors")) / 2**20


def blend_probs(manager, roots: dict[str, Path], head: str, sentences: list[str]) -> dict[str, np.ndarray]:
    """name -> (n, 2) probabilities of the head in each root, the parts weighed as the app does."""
    from model_zoo.fusion.heads import lexicon_scores, load_head, mean_text_probs
    from model_zoo.sentiment.service import HeadStore, text_encoder_of

    lexicon = lexicon_scores(sentences)
    parts = {name: HeadStore(root, root).parts(head) for name, root in roots.items()}
    out = {name: 0.0 for name in roots}
    for i, first in enumerate(next(iter(parts.values()))):
        with manager.use(text_encoder_of(first.card)) as encoder:
            models = {name: load_head(p[i].folder, encoder)[1] for name, p in parts.items()}
            tops = [m.text_top for model in models.values() for m in model.members]
            unique, index = _dedupe(tops)  # fp16 copies of layers stored in fp16 are the same layers
            started = time.perf_counter()
            computed = encoder.embed_texts_branches(sentences, unique, max_length=first.card["encoders"]["text"]
                                                    .get("max_length"))
            blocks = [computed[j] for j in index]
            print(f"  part {first.key}: {len(unique)} distinct branches of {len(tops)} over {len(sentences)} "
                  f"sentences in {time.perf_counter() - started:.0f} s", flush=True)
            for name, model in models.items():
                n = len(model.members)
                out[name] = out[name] + parts[name][i].weight * mean_text_probs(model.members, blocks[:n], lexicon)
                blocks = blocks[n:]
    return out


def _dedupe(tops: list) -> tuple[list, list[int]]:
    """(distinct branches, index of each branch among them): equal weights, one run."""
    import torch

    unique: list = []
    index: list[int] = []
    for top in tops:
        state = list(top.state_dict().values())
        same = [j for j, u in enumerate(unique)
                if all(torch.equal(a, b) for a, b in zip(state, u.state_dict().values()))]
        if not same:
            unique.append(top)
        index.append(same[0] if same else len(unique) - 1)
    return unique, index


def main(argv: list[str] | None = None) -> None:
    from model_zoo.fusion.heads import save_half
    from model_zoo.core.manager import ManagerConfig, ModelManager
    from scripts.sentiment.vader_data import fetch_icwsm, movie_split

    parser = argparse.ArgumentParser()
    parser.add_argument("--head", default="default")
    parser.add_argument("--dtypes", default="float16,int8")
    parser.add_argument("--limit", type=int, default=0, help="only the first N test sentences (0: all)")
    args = parser.parse_args(argv)

    cache = Path.home() / ".cache" / "multimodal-studio"
    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=cache, offline=True))
    shipped = REPO / "assets" / "heads"
    import json

    card = json.loads((shipped / args.head / "card.json").read_text())
    folder, _ = fetch_icwsm(cache / "datasets" / "vader_icwsm2014")
    texts, _, y, (_, _, test) = movie_split(folder, card["data"]["split_seed"])
    test = test[: args.limit] if args.limit else test
    sentences, truth = [texts[i] for i in test], y[test].astype(bool)

    roots = {"repo": shipped}
    for dtype in args.dtypes.split(","):
        roots[dtype] = Path(tempfile.mkdtemp()) / "heads"
        save_half(shipped / args.head, roots[dtype] / args.head, dtype)
    probs = blend_probs(manager, roots, args.head, sentences)
    reference = probs["repo"][:, 1] > probs["repo"][:, 0]
    print(f"card: accuracy {card['metrics']['accuracy']:.4f}")
    for name, root in roots.items():
        labels = probs[name][:, 1] > probs[name][:, 0]
        gap = np.abs(probs[name] - probs["repo"]).max()
        print(f"{name}: {folder_mb(root / args.head):.1f} MB, accuracy {np.mean(labels == truth):.4f} "
              f"({int(np.sum(labels == truth))}/{len(labels)}), {int((labels != reference).sum())} predictions "
              f"differ from the repo's, largest probability change {gap:.5f}", flush=True)


if __name__ == "__main__":
    main()
