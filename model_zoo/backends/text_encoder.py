"""Sentence encoder (all-MiniLM-L6-v2 by default) through transformers.

Mean pooling over tokens and L2 normalisation, as sentence-transformers does for this
model. Batches are sorted by length and padded per batch (dynamic padding), which is
most of the speed on CPU for short sentences."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer

from .. import devices
from ..manager import LoadRequest
from ..weights import locate


@dataclass
class SentenceEncoder:
    model: torch.nn.Module
    tokenizer: object
    device: str
    max_length: int = 256

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    @property
    def nbytes(self) -> int:
        return devices.module_nbytes(self.model)

    @torch.inference_mode()
    def embed_texts(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """(n, dim) float32, unit-norm rows, in the order given."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = np.argsort([len(t) for t in texts])[::-1]
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            out[idx] = self._embed_batch([texts[i] for i in idx]).cpu().float().numpy()
        return out

    def _embed_batch(self, batch: list[str]) -> torch.Tensor:
        enc = self.tokenizer(
            batch, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        ).to(self.device)
        hidden = self.model(**enc).last_hidden_state
        return mean_pool(hidden, enc["attention_mask"])


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=-1)


def load(request: LoadRequest) -> SentenceEncoder:
    where = locate(request.spec, request.cache_dir, request.offline)
    tokenizer = AutoTokenizer.from_pretrained(where)
    model = AutoModel.from_pretrained(where, dtype=devices.torch_dtype(request.dtype))
    model.eval().to(request.device)
    return SentenceEncoder(model=model, tokenizer=tokenizer, device=request.device)
