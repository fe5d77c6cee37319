"""Tiny saved heads for the sentiment tests: random weights, saved and loaded through the
same path (safetensors + card.json) as the shipped head."""
from __future__ import annotations

from pathlib import Path


def save_tiny_head(folder: Path, encoder, modalities: dict[str, int], fusion: str = "gated",
                   tuned_layers: int = 0, labels=("negative", "positive"), seed: int = 0,
                   text_model: str = "minilm", members: int = 0, image_encoder: dict | None = None,
                   intensity: bool = False) -> Path:
    """A head over `modalities` (e.g. {"text": encoder.dim, "lexicon": 4}); with
    tuned_layers > 0 it also carries copies of the encoder's top layers, nudged away from
    the encoder's own. text_model: the registry key of the text encoder the card names.
    members > 0: a seed ensemble whose member k is the head this function saves with
    seed + k and members=0. image_encoder: what the card records for the image modality
    (e.g. {"model": "clip", "source": ..., "dim": 512}, as older heads did); None records nothing.
    intensity: the head also has an intensity (mean rating) output."""
    import torch

    from model_zoo.fusion.modules import HeadConfig
    from model_zoo.fusion.heads import SentimentModel, top_layer_copies
    from model_zoo.fusion.training import Card, save_head

    cfg = HeadConfig(modalities=modalities, labels=list(labels), fusion=fusion, hidden=16, intensity=intensity)

    def one(member_seed: int) -> SentimentModel:
        torch.manual_seed(member_seed)
        model = SentimentModel(cfg, top_layer_copies(encoder, tuned_layers) if tuned_layers else None)
        with torch.no_grad():
            for p in model.text_top.parameters():
                p.add_(0.05 * torch.randn_like(p))
        return model

    if members:
        tensors = {f"members.{k}.{name}": t for k in range(members) for name, t in one(seed + k).tensors().items()}
    else:
        tensors = one(seed).tensors()
    encoders = {"text": {"model": text_model, "dim": encoder.dim, "max_length": 32}}
    if image_encoder is not None:
        encoders["image"] = dict(image_encoder)
    card = Card(name=folder.name, labels=list(labels), fusion=fusion, modalities=modalities, encoders=encoders,
                hidden=16, dropout=0.1, metrics={"accuracy": 0.5}, data={"source": "random"}, training={},
                text_top_layers=tuned_layers, members=members,
                intensity={"scale": 4.0, "range": [-4, 4]} if intensity else {})
    return save_head(folder, tensors, card.to_dict())
