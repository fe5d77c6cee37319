"""A trained head as a module: optional tuned top layers of the text encoder + a FusionHead.

Saved as head.safetensors (tensors prefixed `fusion.` and `text_top.`, or `members.<k>.`
for a seed ensemble whose card says `members: k`) + card.json;
rebuilt from the card, never unpickled. The tuned layers are small copies of the text
encoder's last layers; the shared encoder itself is never modified. A blend (card:
`blend`) also holds whole heads in parts/<name>/ whose probabilities are weighed with its
own (sentiment.HeadStore.parts)."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch
from torch import nn

from model_zoo.core import imports
from model_zoo.fusion.modules import Explanation, FusionHead, HeadConfig
from model_zoo.fusion.training import PARTS_DIR, load_head_files, save_head

LEXICON_DIM = 4  # VADER: neg, neu, pos, compound
_vader = None


def lexicon_scores(texts: list[str]) -> np.ndarray:
    """VADER's (neg, neu, pos, compound) per text: a second, lexicon-based text view."""
    global _vader
    if _vader is None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        _vader = SentimentIntensityAnalyzer()
    rows = [_vader.polarity_scores(t) for t in texts]
    return np.array([[r["neg"], r["neu"], r["pos"], r["compound"]] for r in rows], dtype=np.float32).reshape(-1, 4)


class SentimentModel(nn.Module):
    """What a head file holds. `text_top` (possibly empty) replaces the encoder's last layers."""

    def __init__(self, cfg: HeadConfig, text_top: nn.ModuleList | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        with imports.building():  # never beside a library's model load (its torch patches)
            self.fusion = FusionHead(cfg)
        self.text_top = text_top if text_top is not None else nn.ModuleList()

    def tensors(self) -> dict[str, torch.Tensor]:
        return {k: v for k, v in self.state_dict().items()}

    @property
    def members(self) -> list[SentimentModel]:
        """The heads whose probabilities are averaged: this one alone (see HeadEnsemble)."""
        return [self]


class HeadEnsemble(nn.Module):
    """Heads of one recipe trained with different seeds (tensors `members.<k>.*`); their
    probabilities and contributions are averaged. Seed ensembles smooth out the few points
    a single fine-tuning run wins or loses by chance; tuned top layers share the encoder's
    lower layers, so each member costs only its own layers."""

    def __init__(self, members: list[SentimentModel]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)
        self.cfg = members[0].cfg

    def tensors(self) -> dict[str, torch.Tensor]:
        return {k: v for k, v in self.state_dict().items()}


@torch.no_grad()
def mean_text_probs(members: list[SentimentModel], text_blocks: list[np.ndarray], lexicon: np.ndarray) -> np.ndarray:
    """(n, classes): the members' mean probabilities for texts, given each member's text
    embeddings (one block per member, in order) and VADER's scores. Members beyond the
    blocks given are left out."""
    return mean_text_outputs(members, text_blocks, lexicon)[0]


@torch.no_grad()
def mean_text_outputs(members: list[SentimentModel], text_blocks: list[np.ndarray], lexicon: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray | None]:
    """(probabilities (n, classes), intensity (n,) on the -4..4 scale or None): the
    members' means, as mean_text_probs."""
    lex = torch.from_numpy(lexicon)
    mean = mean_explanation([m.fusion.explain({"text": torch.from_numpy(block), "lexicon": lex})
                             for m, block in zip(members, text_blocks)])
    return mean.probs.numpy(), None if mean.intensity is None else mean.intensity.numpy()


def mean_explanation(explained: list[Explanation]) -> Explanation:
    """A seed ensemble's answer: its members' probabilities, contributions and intensity,
    averaged (intensity only if every member has that output)."""
    def mean(values: list[torch.Tensor]) -> torch.Tensor:
        return torch.stack(values).mean(0)

    intensities = [e.intensity for e in explained]
    return Explanation(mean([e.probs for e in explained]), mean([e.contributions for e in explained]),
                       None if any(i is None for i in intensities) else mean(intensities))


def top_layer_copies(encoder, n: int) -> nn.ModuleList:
    """Trainable copies of the encoder's last n layers (the shared model stays frozen)."""
    layers = copy.deepcopy(encoder.model.encoder.layer[len(encoder.model.encoder.layer) - n :])
    for p in layers.parameters():
        p.requires_grad_(True)
    return layers


def build_from_card(card: dict, tensors: dict[str, torch.Tensor], encoder=None) -> SentimentModel | HeadEnsemble:
    """Rebuild a saved head (or ensemble). Tuned text layers need the text encoder (for their shape)."""
    cfg = HeadConfig(modalities=dict(card["modalities"]), labels=list(card["labels"]), fusion=card["fusion"],
                     hidden=int(card["hidden"]), dropout=float(card.get("dropout", 0.1)),
                     intensity=bool(card.get("intensity")))
    n_top = int(card.get("text_top_layers", 0))
    if n_top and encoder is None:
        raise ValueError("this head tunes the text encoder's top layers: pass the loaded encoder")

    def one() -> SentimentModel:
        return SentimentModel(cfg, top_layer_copies(encoder, n_top) if n_top else None)

    n_members = int(card.get("members", 0))
    model = HeadEnsemble([one() for _ in range(n_members)]) if n_members else one()
    model.load_state_dict(to_fp32(tensors))
    return model.eval()


INT8_SCALE = ".int8_scale"  # beside an int8 matrix: its per-row fp32 scale (save_half(dtype="int8"))


def to_fp32(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Every tensor as fp32, whatever it was stored as: fp32, fp16, bf16, or an int8
    matrix with its per-row scale. Heads always compute in fp32."""
    out = {}
    for name, value in tensors.items():
        if name.endswith(INT8_SCALE):
            continue
        scale = tensors.get(name + INT8_SCALE)
        out[name] = value.float() * scale.float()[:, None] if scale is not None else value.float()
    return out


def _int8_rows(matrix: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric int8 per output row: (q, scale) with matrix ~= q * scale[:, None]."""
    scale = (matrix.float().abs().amax(dim=1) / 127).clamp_min(1e-12)
    return torch.round(matrix.float() / scale[:, None]).clamp(-127, 127).to(torch.int8), scale


def load_head(folder: Path, encoder=None) -> tuple[dict, SentimentModel | HeadEnsemble]:
    """A saved head, computing in fp32 whatever float dtype its file holds (fp32, or the
    fp16/bf16 copies `save_half` writes for a deploy: build_from_card upcasts)."""
    card, tensors = load_head_files(folder)
    return card, build_from_card(card, tensors, encoder)


HALF_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16}


def save_half(source: Path, target: Path, dtype: str = "float16", shard_mb: int = 48) -> list[Path]:
    """Copy the head in `source` (and each part of a blend, recursively) to `target` with
    its float tensors stored in `dtype` (float16, bfloat16, or int8: weight matrices as
    int8 with a per-row scale, the rest float16), shards of at most `shard_mb` (the usual
    head-0000N-of-0000M names), and a card whose hashes match the new files. Half the
    bytes to ship; load_head reads it back into fp32. Returns the folders written."""
    if dtype not in (*HALF_DTYPES, "int8"):
        raise ValueError(f"unknown head dtype '{dtype}': float16, bfloat16 or int8")
    card, tensors = load_head_files(source)
    half: dict[str, torch.Tensor] = {}
    for name, value in to_fp32(tensors).items():
        if dtype == "int8" and value.ndim == 2 and value.numel() >= 4096:  # weight matrices; the rest fp16
            half[name], half[name + INT8_SCALE] = _int8_rows(value)
        else:
            half[name] = value.to(HALF_DTYPES.get(dtype, torch.float16))
    save_head(target, half, {**card, "weights_dtype": dtype}, shard_mb=shard_mb)
    written = [target]
    for entry in card.get("blend") or []:  # parts/<name>/: whole heads of their own
        name = str(entry["part"])
        written += save_half(source / PARTS_DIR / name, target / PARTS_DIR / name, dtype, shard_mb)
    return written


def blend_into(folder: Path, parts: dict[str, tuple[Path, float]]) -> None:
    """Make the head in `folder` a blend: copies of the heads given go into its parts/
    folder, each weighing its probabilities by the weight given; its own weights keep the
    rest. Heads on different text encoders err differently, so a blend of two can beat
    either. Rewritten as one unit, like any head."""
    card, tensors = load_head_files(folder)
    card["blend"] = [{"part": name, "weight": float(weight)} for name, (_, weight) in parts.items()]
    save_head(folder, tensors, card, parts={name: source for name, (source, _) in parts.items()})
