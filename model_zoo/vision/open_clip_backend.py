"""OpenCLIP image-text encoder: images and texts into one unit-norm embedding space.

Sources (registry `clip`, overridable with MMS_MODEL_CLIP / --models clip=...):
  "ViT-B-32:laion2b_s34b_b79k"      built-in name : pretrained tag (hub download)
  "ViT-B-32:/path/model.safetensors" built-in name : local checkpoint file
  "/path/to/folder"                  a folder with open_clip_config.json + weights
  "hf-hub:org/repo"                  an open_clip repo on the hub
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import open_clip
import torch
from PIL import Image

from model_zoo.core import devices
from model_zoo.core.errors import WeightsUnavailable
from model_zoo.core.loading import LoadRequest
from model_zoo.core.weights import hub_cached, hub_offline


@dataclass
class ClipModel:
    model: torch.nn.Module
    preprocess: Any
    tokenizer: Any
    device: str
    dtype: torch.dtype
    name: str  # identity of the embedding space (stored with indexes)
    dim: int
    kind: str = "clip"  # which engine (model_zoo.vision.engine): the label bridge says "labels"

    @property
    def nbytes(self) -> int:
        return devices.module_nbytes(self.model)

    @property
    def logit_scale(self) -> float:
        return float(self.model.logit_scale.exp().item())

    @torch.inference_mode()
    def embed_images(self, images: Sequence[Image.Image], batch_size: int = 32) -> np.ndarray:
        """(n, dim) float32 unit-norm image embeddings."""
        chunks = []
        for start in range(0, len(images), batch_size):
            pixels = torch.stack([self.preprocess(img) for img in images[start : start + batch_size]])
            features = self.model.encode_image(pixels.to(self.device, self.dtype))
            chunks.append(_normalise(features))
        return np.concatenate(chunks) if chunks else np.zeros((0, self.dim), np.float32)

    @torch.inference_mode()
    def embed_texts(self, texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
        """(n, dim) float32 unit-norm text embeddings."""
        chunks = []
        for start in range(0, len(texts), batch_size):
            tokens = self.tokenizer(list(texts[start : start + batch_size])).to(self.device)
            chunks.append(_normalise(self.model.encode_text(tokens)))
        return np.concatenate(chunks) if chunks else np.zeros((0, self.dim), np.float32)


def _normalise(features: torch.Tensor) -> np.ndarray:
    return torch.nn.functional.normalize(features.float(), dim=-1).cpu().numpy()


def model_args(source: str) -> tuple[str, str | None]:
    """(model_name, pretrained) for open_clip from a registry source string."""
    if source.startswith(("hf-hub:", "local-dir:")):
        return source, None
    if Path(source).expanduser().is_dir():
        return f"local-dir:{Path(source).expanduser()}", None
    name, _, pretrained = source.partition(":")
    return name, pretrained or None


def check_weights(request: LoadRequest, name: str, pretrained: str | None) -> None:
    """Offline and not cached: say so before open_clip tries the network."""
    if name.startswith("local-dir:") or (pretrained and Path(pretrained).expanduser().is_file()):
        return
    if name.startswith("hf-hub:"):
        repo = name.removeprefix("hf-hub:")
    else:
        cfg = open_clip.get_pretrained_cfg(name, pretrained or "") or {}
        repo = (cfg.get("hf_hub") or "").strip("/")
        if not repo:
            raise WeightsUnavailable(request.spec.key, f"open_clip knows no weights '{pretrained}' for {name}.",
                                     request.spec.how_to_get)
    if hub_cached(repo) is None and hub_offline(request.offline):
        raise WeightsUnavailable(
            request.spec.key,
            f"the weights of {request.spec.source} ({repo}) are not on this machine and the hub is off.",
            request.spec.how_to_get,
        )


def load(request: LoadRequest) -> ClipModel:
    name, pretrained = model_args(request.spec.source)
    check_weights(request, name, pretrained)
    try:
        model, _, preprocess = open_clip.create_model_and_transforms(name, pretrained=pretrained, device="cpu")
    except (OSError, RuntimeError) as exc:  # network or missing files
        raise WeightsUnavailable(request.spec.key, f"loading {request.spec.source} failed ({exc}).",
                                 request.spec.how_to_get) from exc
    dtype = devices.torch_dtype(request.dtype)
    model = model.to(device=request.device, dtype=dtype).eval()
    tokenizer = open_clip.get_tokenizer(name)
    with torch.inference_mode():
        dim = int(model.encode_text(tokenizer(["a"]).to(request.device)).shape[-1])
    return ClipModel(model, preprocess, tokenizer, request.device, dtype, name=request.spec.source, dim=dim)
