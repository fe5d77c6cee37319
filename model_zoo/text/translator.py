"""Text translation after speech recognition: NLLB-200 (or any transformers
seq2seq translator with NLLB-style language tokens) from English to a target language.
Optional: the speech tab offers it only when the weights are on this machine."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

from model_zoo.core import devices
from model_zoo.core.loading import LoadRequest
from model_zoo.core.weights import fetch_weights as fetch  # noqa: F401 (the manager calls it)
from model_zoo.core.weights import locate

# Imported first, under the import lock (model_zoo.core.backends): NLLB's classes, resolved lazily.
FIRST_IMPORTS = (
    "transformers.modeling_utils", "transformers.configuration_utils", "transformers.tokenization_utils_base",
    "transformers.generation.utils", "transformers.models.auto.modeling_auto",
    "transformers.models.auto.tokenization_auto", "transformers.models.auto.configuration_auto",
    "transformers.models.m2m_100.modeling_m2m_100", "transformers.models.nllb.tokenization_nllb",
)


@dataclass
class TextTranslator:
    model: torch.nn.Module
    tokenizer: object
    device: str
    max_new_tokens: int = 400  # hard cap; per call also at most ~2x the input (loop guard)

    @property
    def nbytes(self) -> int:
        return devices.module_nbytes(self.model)

    @torch.inference_mode()
    def translate(self, text: str, source: str, target: str) -> str:
        """`source` and `target` are NLLB codes such as eng_Latn, deu_Latn."""
        self.tokenizer.src_lang = source
        batch = self.tokenizer([text], return_tensors="pt", truncation=True, max_length=512).to(self.device)
        output = self.model.generate(
            **batch,
            forced_bos_token_id=self.tokenizer.convert_tokens_to_ids(target),
            max_new_tokens=min(self.max_new_tokens, 2 * batch["input_ids"].shape[1] + 16),
            num_beams=4,
        )
        return self.tokenizer.batch_decode(output, skip_special_tokens=True)[0].strip()


def load(request: LoadRequest) -> TextTranslator:
    where = locate(request.spec, request.cache_dir, request.offline)
    tokenizer = AutoTokenizer.from_pretrained(where)
    model = AutoModelForSeq2SeqLM.from_pretrained(where, dtype=devices.torch_dtype(request.dtype))
    model.eval().to(request.device)
    return TextTranslator(model=model, tokenizer=tokenizer, device=request.device)
