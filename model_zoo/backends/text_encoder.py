"""Sentence encoder (all-MiniLM-L6-v2 by default) through transformers.

Mean pooling over tokens and L2 normalisation, as sentence-transformers does for this
model. Batches are sorted by length and padded per batch (dynamic padding), which is
most of the speed on CPU for short sentences.

A trained head may bring its own copies of the top transformer layers (tuned for its
task): `embed_texts(texts, top_layers=...)` runs the shared lower layers of the resident
model and then the head's layers, so the shared model is never modified and the head
ships only a few MB of tensors."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer
from transformers.masking_utils import create_bidirectional_mask

from .. import devices
from ..manager import LoadRequest
from ..weights import locate


@dataclass
class SentenceEncoder:
    model: torch.nn.Module
    tokenizer: object
    device: str
    max_length: int = 256
    _int8: torch.nn.Module | None = field(default=None, repr=False)  # built on first int8 use

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    @property
    def num_layers(self) -> int:
        return len(self.model.encoder.layer)

    @property
    def nbytes(self) -> int:
        extra = devices.module_nbytes(self._int8) if self._int8 is not None else 0
        return devices.module_nbytes(self.model) + extra

    @torch.inference_mode()
    def embed_texts(
        self,
        texts: Sequence[str],
        batch_size: int = 64,
        top_layers: torch.nn.ModuleList | None = None,
        max_length: int | None = None,
        int8: bool = False,
    ) -> np.ndarray:
        """(n, dim) float32, unit-norm rows, in the order given. With `top_layers`, the
        last len(top_layers) layers of the model are replaced by those (a tuned head's).
        int8: run a dynamically quantised copy (CPU only; faster, slightly less accurate: see
        benchmarks/sentiment.py)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = np.argsort([len(t) for t in texts])[::-1]  # length buckets: little padding
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            batch = [texts[i] for i in idx]
            model = self.int8_model() if int8 else self.model
            out[idx] = self._embed_batch(model, batch, top_layers, max_length).cpu().float().numpy()
        return out

    def tokenize(self, batch: Sequence[str], max_length: int | None = None) -> dict:
        return self.tokenizer(
            list(batch), padding=True, truncation=True, max_length=max_length or self.max_length,
            return_tensors="pt",
        ).to(self.device)

    def int8_model(self) -> torch.nn.Module:
        """A copy with int8 dynamically quantised Linear layers (the shared fp32 model is kept)."""
        if self._int8 is None:
            if self.device != "cpu":
                raise ValueError("int8 dynamic quantisation runs on CPU only")
            self._int8 = quantize_int8(self.model)
        return self._int8

    def lower_hidden(self, enc: dict, upto: int, model: torch.nn.Module | None = None) -> torch.Tensor:
        """Hidden states after the first `upto` layers of the shared model."""
        model = model or self.model
        hidden = model.embeddings(input_ids=enc["input_ids"], token_type_ids=enc.get("token_type_ids"))
        return run_layers(model.encoder.layer[:upto], hidden, enc["attention_mask"], model.config)

    def _embed_batch(self, model, batch: list[str], top_layers, max_length: int | None) -> torch.Tensor:
        enc = self.tokenize(batch, max_length)
        if top_layers is None:
            hidden = model(**enc).last_hidden_state
        else:
            hidden = self.lower_hidden(enc, self.num_layers - len(top_layers), model)
            hidden = run_layers(top_layers, hidden, enc["attention_mask"], model.config)
        return mean_pool(hidden, enc["attention_mask"])


def run_layers(layers, hidden: torch.Tensor, attention_mask: torch.Tensor, config) -> torch.Tensor:
    """Run transformer layers over hidden states with padding masked, as the model does."""
    if len(layers) == 0:
        return hidden
    mask = create_bidirectional_mask(config=config, inputs_embeds=hidden, attention_mask=attention_mask)
    for layer in layers:
        hidden = layer(hidden, mask)
    return hidden


def quantize_int8(module: torch.nn.Module) -> torch.nn.Module:
    """An int8 dynamically quantised copy of `module` (weights int8, activations
    quantised on the fly): the usual CPU speed-up for transformer encoders."""
    import copy
    import warnings

    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():  # torch flags the quantized-tensor API as deprecated; it still runs
        warnings.simplefilter("ignore")
        return quantize_dynamic(copy.deepcopy(module).eval(), {torch.nn.Linear}, dtype=torch.qint8)


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
