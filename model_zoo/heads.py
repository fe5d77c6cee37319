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

from .fusion import FusionHead, HeadConfig
from .training import load_head_files, save_head

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
    lex = torch.from_numpy(lexicon)
    probs = [torch.softmax(m.fusion({"text": torch.from_numpy(block), "lexicon": lex}), -1)
             for m, block in zip(members, text_blocks)]
    return torch.stack(probs).mean(0).numpy()


def top_layer_copies(encoder, n: int) -> nn.ModuleList:
    """Trainable copies of the encoder's last n layers (the shared model stays frozen)."""
    layers = copy.deepcopy(encoder.model.encoder.layer[len(encoder.model.encoder.layer) - n :])
    for p in layers.parameters():
        p.requires_grad_(True)
    return layers


def build_from_card(card: dict, tensors: dict[str, torch.Tensor], encoder=None) -> SentimentModel | HeadEnsemble:
    """Rebuild a saved head (or ensemble). Tuned text layers need the text encoder (for their shape)."""
    cfg = HeadConfig(modalities=dict(card["modalities"]), labels=list(card["labels"]), fusion=card["fusion"],
                     hidden=int(card["hidden"]), dropout=float(card.get("dropout", 0.1)))
    n_top = int(card.get("text_top_layers", 0))
    if n_top and encoder is None:
        raise ValueError("this head tunes the text encoder's top layers: pass the loaded encoder")

    def one() -> SentimentModel:
        return SentimentModel(cfg, top_layer_copies(encoder, n_top) if n_top else None)

    n_members = int(card.get("members", 0))
    model = HeadEnsemble([one() for _ in range(n_members)]) if n_members else one()
    model.load_state_dict({k: v.float() for k, v in tensors.items()})
    return model.eval()


def load_head(folder: Path, encoder=None) -> tuple[dict, SentimentModel | HeadEnsemble]:
    card, tensors = load_head_files(folder)
    return card, build_from_card(card, tensors, encoder)


def blend_into(folder: Path, parts: dict[str, tuple[Path, float]]) -> None:
    """Make the head in `folder` a blend: copies of the heads given go into its parts/
    folder, each weighing its probabilities by the weight given; its own weights keep the
    rest. Heads on different text encoders err differently, so a blend of two can beat
    either. Rewritten as one unit, like any head."""
    card, tensors = load_head_files(folder)
    card["blend"] = [{"part": name, "weight": float(weight)} for name, (_, weight) in parts.items()]
    save_head(folder, tensors, card, parts={name: source for name, (source, _) in parts.items()})
