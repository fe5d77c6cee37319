"""Sentence encoder (all-MiniLM-L6-v2 by default) through transformers.

Mean pooling over tokens and L2 normalisation, as sentence-transformers does for this
model. Batches are sorted by length and padded per batch (dynamic padding), which is
most of the speed on CPU for short sentences.

A trained head may bring its own copies of the top transformer layers (tuned for its
task): `embed_texts(texts, top_layers=...)` runs the shared lower layers of the resident
model and then the head's layers, so the shared model is never modified and the head
ships only a few MB of tensors. An ensemble's members each bring their own top layers
(`embed_texts_branches`): the lower layers still run once."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer
from transformers.masking_utils import create_bidirectional_mask

from model_zoo.core import devices, imports
from model_zoo.core.loading import MicroBatcher, batcher_for
from model_zoo.core.loading import LoadRequest
from model_zoo.core.weights import fetch_weights as fetch  # noqa: F401 (the manager calls it)
from model_zoo.core.weights import locate

# Imported first, under the import lock (model_zoo.core.backends): the shared parts of transformers and
# the model classes this family's checkpoints name (MPNet, MiniLM/BERT), resolved lazily by AutoModel.
FIRST_IMPORTS = (
    "transformers.modeling_utils", "transformers.configuration_utils", "transformers.tokenization_utils_base",
    "transformers.generation.utils", "transformers.models.auto.modeling_auto",
    "transformers.models.auto.tokenization_auto", "transformers.models.auto.configuration_auto",
    "transformers.models.mpnet.modeling_mpnet", "transformers.models.mpnet.tokenization_mpnet",
    "transformers.models.bert.modeling_bert", "transformers.models.bert.tokenization_bert",
)


@dataclass
class SentenceEncoder:
    model: torch.nn.Module
    tokenizer: object
    device: str
    max_length: int = 256
    _variants: dict[str, torch.nn.Module] = field(default_factory=dict, repr=False)  # bf16 / int8 copies
    # concurrent short calls share a forward pass (model_zoo.core.loading); None: each runs alone
    batcher: MicroBatcher | None = field(default=None, repr=False)

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    @property
    def num_layers(self) -> int:
        return len(self.model.encoder.layer)

    @property
    def nbytes(self) -> int:
        return sum(devices.module_nbytes(m) for m in [self.model, *self._variants.values()])

    def embed_texts(
        self,
        texts: Sequence[str],
        batch_size: int = 64,
        top_layers: torch.nn.ModuleList | None = None,
        max_length: int | None = None,
        precision: str = "native",
    ) -> np.ndarray:
        """(n, dim) float32, unit-norm rows, in the order given. With `top_layers`, the
        last len(top_layers) layers of the model are replaced by those (a tuned head's, at
        the same precision). precision (CPU): native/fp32, bf16 or int8; see `variant`."""
        branches = None if top_layers is None else [top_layers]
        return self.embed_texts_branches(texts, branches, batch_size, max_length, precision)[0]

    def embed_texts_branches(
        self,
        texts: Sequence[str],
        branches: Sequence[torch.nn.ModuleList] | None,
        batch_size: int = 64,
        max_length: int | None = None,
        precision: str = "native",
    ) -> list[np.ndarray]:
        """One (n, dim) array per branch of tuned top layers (an ensemble's members). The
        shared lower layers run once per batch and each branch continues from them, so a
        member costs only its own layers. branches None: the model as it is, one array.
        In fp32 a call of fewer texts than the batcher's max_batch shares a forward pass with
        other callers' (model_zoo.core.loading), with the answer it would get alone."""
        if self.batcher is None or not 0 < len(texts) < self.batcher.policy.max_batch:
            return self._embed(texts, branches, batch_size, max_length, precision)
        if not self.pads_exactly(precision):
            return self._embed(texts, branches, batch_size, max_length, precision)
        key = (precision, max_length, None if branches is None else tuple(id(b) for b in branches))
        rows = self.batcher.submit(list(texts), key, branches)
        return [np.stack([row[k] for row in rows]) for k in range(len(rows[0]))]

    def pads_exactly(self, precision: str) -> bool:
        """Whether a text padded beside longer ones embeds as it does alone: in fp32 (masked
        padding moves a row by 1e-7). In bf16 padding moves it by about 1e-3, and passes of
        texts of one token length only measured 0.6-0.9x of unbatched calls (benchmarks/
        batching.py); int8 quantises activations over the whole batch. Those run alone."""
        return precision in ("native", "fp32") and next(self.model.parameters()).dtype == torch.float32

    def _run_batch(self, key: tuple, branches, texts: list[str]) -> list[tuple[np.ndarray, ...]]:
        """The batcher's runner: every caller's texts in one padded pass."""
        precision, max_length, _ = key
        outs = self._embed(texts, branches, len(texts), max_length, precision)
        return [tuple(out[i] for out in outs) for i in range(len(texts))]

    @torch.inference_mode()
    def _embed(self, texts: Sequence[str], branches, batch_size: int, max_length: int | None,
               precision: str) -> list[np.ndarray]:
        outs = [np.empty((len(texts), self.dim), dtype=np.float32) for _ in (branches or [None])]
        if not len(texts):
            return outs
        model = self.variant(precision)
        order = np.argsort([len(t) for t in texts])[::-1]  # length buckets: little padding
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            pooled = self._embed_batch(model, [texts[i] for i in idx], branches, max_length)
            for out, rows in zip(outs, pooled):
                out[idx] = rows.cpu().float().numpy()
        return outs

    def tokenize(self, batch: Sequence[str], max_length: int | None = None) -> dict:
        return self.tokenizer(
            list(batch), padding=True, truncation=True, max_length=max_length or self.max_length,
            return_tensors="pt",
        ).to(self.device)

    def variant(self, precision: str) -> torch.nn.Module:
        """The shared model at a CPU precision, built once and kept beside it: bf16 (a
        bfloat16 copy: fast where the CPU has native bf16, accuracy unchanged) or int8
        (dynamically quantised Linear layers: fast on MiniLM, but it wrecks MPNet's
        accuracy; see benchmarks/models/sentiment.py). native/fp32: the model itself."""
        if precision in ("native", "fp32"):
            return self.model
        if precision not in self._variants:
            if self.device != "cpu":
                raise ValueError(f"{precision} copies are for the CPU; on {self.device} the model runs natively")
            self._variants[precision] = at_precision(self.model, precision)
        return self._variants[precision]

    def lower_hidden(self, enc: dict, upto: int, model: torch.nn.Module | None = None) -> torch.Tensor:
        """Hidden states after the first `upto` layers of the shared model."""
        model = model or self.model
        hidden = model.embeddings(input_ids=enc["input_ids"], token_type_ids=enc.get("token_type_ids"))
        return self.run_layers(model.encoder.layer[:upto], hidden, enc["attention_mask"], model)

    def run_layers(self, layers, hidden: torch.Tensor, attention_mask: torch.Tensor,
                   model: torch.nn.Module | None = None) -> torch.Tensor:
        """Run (some of) this encoder's layers, or tuned copies of them, over hidden states."""
        model = model or self.model
        return run_layers(layers, hidden, attention_mask, model.config, position_bias_of(model, hidden))

    def _embed_batch(self, model, batch: list[str], branches, max_length: int | None) -> list[torch.Tensor]:
        enc = self.tokenize(batch, max_length)
        mask = enc["attention_mask"]
        if not branches:
            return [mean_pool(model(**enc).last_hidden_state.float(), mask)]
        shared = self.num_layers - max(len(top) for top in branches)
        hidden = self.lower_hidden(enc, shared, model)
        pooled = []
        for top in branches:  # a shorter branch first runs the shared layers it keeps
            own = self.run_layers(model.encoder.layer[shared : self.num_layers - len(top)], hidden, mask, model)
            pooled.append(mean_pool(self.run_layers(top, own, mask, model).float(), mask))
        return pooled


def run_layers(layers, hidden: torch.Tensor, attention_mask: torch.Tensor, config,
               position_bias: torch.Tensor | None = None) -> torch.Tensor:
    """Run transformer layers over hidden states with padding masked, as the model does.
    BERT-style layers (MiniLM) return a tensor; MPNet's take the shared relative position
    bias and return a tuple."""
    if len(layers) == 0:
        return hidden
    mask = create_bidirectional_mask(config=config, inputs_embeds=hidden, attention_mask=attention_mask)
    for layer in layers:
        out = layer(hidden, mask) if position_bias is None else layer(hidden, mask, position_bias)
        hidden = out[0] if isinstance(out, tuple) else out
    return hidden


def position_bias_of(model: torch.nn.Module, hidden: torch.Tensor) -> torch.Tensor | None:
    """MPNet's relative position bias for this sequence length (computed once per batch by
    its encoder and shared by every layer); None for models without one."""
    compute = getattr(model.encoder, "compute_position_bias", None)
    return compute(hidden) if compute is not None else None


def at_precision(module: torch.nn.Module, precision: str) -> torch.nn.Module:
    """A copy of `module` at a CPU precision (bf16 or int8); fp32/native: the module itself."""
    if precision in ("native", "fp32"):
        return module
    if precision not in ("bf16", "int8"):
        raise ValueError(f"unknown precision '{precision}'")
    with imports.building():  # builds modules: never beside a library's model load
        if precision == "bf16":
            import copy

            return copy.deepcopy(module).to(torch.bfloat16).eval()
        return quantize_int8(module)


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
    encoder = SentenceEncoder(model=model, tokenizer=tokenizer, device=request.device)
    encoder.batcher = batcher_for(encoder._run_batch, request.batch, request.spec.key)
    return encoder
