"""The trainable fusion head, by composition (TorchMultimodal's LateFusion pattern):

    {modality: embedding (B, d_m)} + mask (B, M) -> fusion module -> classifier logits

Fusion strategies:
- early:     concatenate the (masked) embeddings and an indicator of which are present -> MLP
- late:      one classifier per modality; their logits are mixed with learned weights
- gated:     a gated multimodal unit (Arevalo et al. 2017): tanh projections mixed by a softmax gate
- attention: a small transformer layer over one token per modality plus a [CLS] token

A missing modality is masked: its embedding is zeroed and it gets no weight (late,
gated), no attention (attention), or an "absent" indicator (early). So a text-only
input works on a text+image+audio head. Every strategy reports per-modality
contributions for each input (`FusionHead.explain`).

A head may also carry an intensity output (`HeadConfig.intensity`): one linear regressor
on the same fused vector, predicting the -4..+4 mean human rating divided by
INTENSITY_SCALE. It shares everything but its last layer with the classifier.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import torch
from torch import nn

from model_zoo.fusion.training import FUSIONS, INTENSITY_SCALE


@dataclass(frozen=True)
class HeadConfig:
    """Everything needed to rebuild a head from its card (JSON-serialisable)."""

    modalities: dict[str, int]  # modality -> embedding dim, in a fixed order
    labels: list[str]
    fusion: str = "gated"
    hidden: int = 128
    dropout: float = 0.1
    extra: dict = field(default_factory=dict)
    intensity: bool = False  # a regression output for the mean rating beside the classifier

    @property
    def names(self) -> list[str]:
        return list(self.modalities)


def _masked_softmax(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Softmax over modalities where masked-out entries get exactly zero weight."""
    scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return torch.nan_to_num(weights, nan=0.0)  # a row with nothing present


class EarlyFusion(nn.Module):
    def __init__(self, cfg: HeadConfig) -> None:
        super().__init__()
        width = sum(cfg.modalities.values()) + len(cfg.modalities)
        self.mlp = nn.Sequential(nn.Linear(width, cfg.hidden), nn.GELU(), nn.Dropout(cfg.dropout))
        self.out_dim = cfg.hidden

    def forward(self, xs: list[torch.Tensor], mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        masked = [x * mask[:, i : i + 1] for i, x in enumerate(xs)]
        return self.mlp(torch.cat([*masked, mask.float()], dim=-1)), None


class GatedFusion(nn.Module):
    """Gated multimodal unit generalised to M modalities with a softmax gate."""

    def __init__(self, cfg: HeadConfig) -> None:
        super().__init__()
        self.proj = nn.ModuleList(nn.Linear(d, cfg.hidden) for d in cfg.modalities.values())
        self.gate = nn.Linear(sum(cfg.modalities.values()), len(cfg.modalities))
        self.drop = nn.Dropout(cfg.dropout)
        self.out_dim = cfg.hidden

    def forward(self, xs: list[torch.Tensor], mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        masked = [x * mask[:, i : i + 1] for i, x in enumerate(xs)]
        h = torch.stack([torch.tanh(p(x)) for p, x in zip(self.proj, masked)], dim=1)  # (B, M, H)
        z = _masked_softmax(self.gate(torch.cat(masked, dim=-1)), mask)  # (B, M)
        return self.drop((z.unsqueeze(-1) * h).sum(1)), z


class AttentionFusion(nn.Module):
    """One pre-norm transformer layer over [CLS] + one token per present modality."""

    def __init__(self, cfg: HeadConfig, heads: int = 4) -> None:
        super().__init__()
        self.proj = nn.ModuleList(nn.Linear(d, cfg.hidden) for d in cfg.modalities.values())
        self.modality_embedding = nn.Parameter(torch.zeros(len(cfg.modalities), cfg.hidden))
        self.cls = nn.Parameter(torch.zeros(1, 1, cfg.hidden))
        self.norm1 = nn.LayerNorm(cfg.hidden)
        self.attn = nn.MultiheadAttention(cfg.hidden, heads, dropout=cfg.dropout, batch_first=True)
        self.norm2 = nn.LayerNorm(cfg.hidden)
        self.ffn = nn.Sequential(nn.Linear(cfg.hidden, 2 * cfg.hidden), nn.GELU(), nn.Dropout(cfg.dropout),
                                 nn.Linear(2 * cfg.hidden, cfg.hidden))
        self.out_dim = cfg.hidden

    def forward(self, xs: list[torch.Tensor], mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        tokens = torch.stack([p(x) for p, x in zip(self.proj, xs)], dim=1) + self.modality_embedding
        tokens = torch.cat([self.cls.expand(len(tokens), -1, -1), tokens], dim=1)  # (B, 1+M, H)
        present = torch.cat([torch.ones_like(mask[:, :1]), mask], dim=1)
        normed = self.norm1(tokens)
        attended, weights = self.attn(normed, normed, normed, key_padding_mask=~present, need_weights=True)
        tokens = tokens + attended
        tokens = tokens + self.ffn(self.norm2(tokens))
        cls_to_modalities = weights[:, 0, 1:]  # how much [CLS] read from each modality
        share = cls_to_modalities / cls_to_modalities.sum(-1, keepdim=True).clamp(min=1e-9)
        return tokens[:, 0], share


class LateFusion(nn.Module):
    """A classifier per modality; learned weights (softmax over present ones) mix their logits."""

    def __init__(self, cfg: HeadConfig) -> None:
        super().__init__()
        n = len(cfg.labels)
        self.heads = nn.ModuleList(
            nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(d, cfg.hidden), nn.GELU(), nn.Linear(cfg.hidden, n))
            for d in cfg.modalities.values()
        )
        self.weight_logits = nn.Parameter(torch.zeros(len(cfg.modalities)))
        self.out_dim = n

    def forward(self, xs: list[torch.Tensor], mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = torch.stack([h(x) for h, x in zip(self.heads, xs)], dim=1)  # (B, M, C)
        w = _masked_softmax(self.weight_logits.expand_as(mask), mask)
        return (w.unsqueeze(-1) * logits).sum(1), w


class Explanation(NamedTuple):
    probs: torch.Tensor  # (B, C)
    contributions: torch.Tensor  # (B, M), summing to 1 over present modalities
    intensity: torch.Tensor | None  # (B,) on the rating scale (-4..4); None: the head has no such output


_MODULES = {"early": EarlyFusion, "late": LateFusion, "gated": GatedFusion, "attention": AttentionFusion}


class FusionHead(nn.Module):
    """Embeddings (dict by modality) + mask -> fusion module -> classifier logits."""

    def __init__(self, cfg: HeadConfig) -> None:
        super().__init__()
        if cfg.fusion not in _MODULES:
            raise ValueError(f"unknown fusion '{cfg.fusion}'; choose one of {', '.join(FUSIONS)}")
        if len(cfg.labels) < 2:
            raise ValueError("a classifier needs at least two labels")
        self.cfg = cfg
        # No per-sample normalisation of inputs: it would erase the magnitude of small
        # views (4 lexicon scores); each fusion module's own projections learn the scales.
        self.fusion = _MODULES[cfg.fusion](cfg)
        late = cfg.fusion == "late"  # late fusion already ends in class logits
        self.classifier = nn.Identity() if late else nn.Linear(self.fusion.out_dim, len(cfg.labels))
        self.regressor = nn.Linear(self.fusion.out_dim, 1) if cfg.intensity else None

    def _inputs(self, features: dict[str, torch.Tensor], mask: torch.Tensor | None) -> tuple[list, torch.Tensor]:
        batch = next(iter(features.values())).shape[0]
        ref = next(iter(features.values()))
        xs = []
        for name, dim in self.cfg.modalities.items():
            x = features.get(name)
            xs.append(x.float() if x is not None else torch.zeros(batch, dim, device=ref.device))
        if mask is None:
            mask = torch.tensor([[name in features for name in self.cfg.names]] * batch, device=ref.device)
        return xs, mask.bool()

    def forward(self, features: dict[str, torch.Tensor], mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.outputs(features, mask)[0]

    def outputs(self, features: dict[str, torch.Tensor], mask: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(class logits (B, C), intensity (B,) in rating / INTENSITY_SCALE units, or None)."""
        xs, mask = self._inputs(features, mask)
        fused, _ = self.fusion(xs, mask)
        return self.classifier(fused), self._intensity(fused)

    def _intensity(self, fused: torch.Tensor) -> torch.Tensor | None:
        return None if self.regressor is None else self.regressor(fused).squeeze(-1)

    @torch.no_grad()
    def explain(self, features: dict[str, torch.Tensor], mask: torch.Tensor | None = None) -> Explanation:
        """Probabilities, per-modality contributions and (if the head has it) intensity.

        late/gated/attention report their own mixing weights; early fusion has none, so
        it reports occlusion: how much the top class's probability drops without each
        modality, normalised."""
        xs, mask = self._inputs(features, mask)
        fused, weights = self.fusion(xs, mask)
        probs = torch.softmax(self.classifier(fused), dim=-1)
        if weights is None:
            weights = self._occlusion(xs, mask, probs)
        intensity = self._intensity(fused)
        if intensity is not None:
            intensity = intensity.clamp(-1, 1) * INTENSITY_SCALE
        return Explanation(probs, weights * mask, intensity)

    def _occlusion(self, xs: list, mask: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
        top = probs.argmax(-1, keepdim=True)
        drops = []
        for i in range(mask.shape[1]):
            without = mask.clone()
            without[:, i] = False
            fused, _ = self.fusion(xs, without)
            p = torch.softmax(self.classifier(fused), dim=-1).gather(1, top)
            drops.append((probs.gather(1, top) - p).clamp(min=0).squeeze(1))
        drops = torch.stack(drops, dim=1) * mask
        total = drops.sum(-1, keepdim=True)
        uniform = mask.float() / mask.float().sum(-1, keepdim=True).clamp(min=1)
        return torch.where(total > 1e-9, drops / total.clamp(min=1e-9), uniform)
