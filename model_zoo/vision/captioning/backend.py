"""Image captioners through transformers' image-to-text models: one backend for BLIP
(Salesforce/blip-image-captioning-base, the default), GIT (microsoft/git-base-coco) and
ViT-GPT2 style VisionEncoderDecoder models (nlpconnect/vit-gpt2-image-captioning).

Surface: `caption(images, strategy=..., num_candidates=..., ...)` -> per image a list of
`Generated(text, confidence)`, best first; images are captioned as one batched
`generate` call. Confidence is the geometric mean of the captioner's own token
probabilities, so candidates can be ordered even when no CLIP is there to rerank them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch
from PIL import Image
from transformers import AutoImageProcessor, AutoModelForImageTextToText, AutoTokenizer

from model_zoo.core import devices
from model_zoo.vision.captioning.options import STRATEGIES
from model_zoo.core.errors import WeightsUnavailable
from model_zoo.core.loading import LoadRequest
from model_zoo.core.weights import fetch_weights as fetch  # noqa: F401 (the manager calls it)
from model_zoo.core.weights import locate

# Imported first, under the import lock (model_zoo.core.backends): what the Auto classes resolve lazily
# for BLIP, GIT and ViT-GPT2.
FIRST_IMPORTS = (
    "transformers.modeling_utils", "transformers.configuration_utils", "transformers.tokenization_utils_base",
    "transformers.generation.utils", "transformers.models.auto.modeling_auto",
    "transformers.models.auto.tokenization_auto", "transformers.models.auto.configuration_auto",
    "transformers.models.auto.image_processing_auto", "transformers.models.blip.modeling_blip",
    "transformers.models.blip.image_processing_blip", "transformers.models.git.modeling_git",
    "transformers.models.vision_encoder_decoder.modeling_vision_encoder_decoder",
    "transformers.models.vit.modeling_vit", "transformers.models.gpt2.modeling_gpt2",
)

@dataclass(frozen=True)
class Generated:
    text: str
    confidence: float  # geometric-mean token probability, 0..1


@dataclass
class Captioner:
    model: torch.nn.Module
    image_processor: Any
    tokenizer: Any
    device: str
    dtype: torch.dtype
    name: str

    @property
    def nbytes(self) -> int:
        return devices.module_nbytes(self.model)

    @property
    def model_type(self) -> str:
        return str(self.model.config.model_type)

    @torch.inference_mode()
    def caption(
        self,
        images: Sequence[Image.Image],
        *,
        strategy: str = "beam",
        num_candidates: int = 3,
        max_new_tokens: int = 30,
        num_beams: int = 3,
        top_p: float = 0.9,
        temperature: float = 1.0,
        prompt: str = "",
    ) -> list[list[Generated]]:
        """Captions for a batch of RGB images: one generate call for the whole batch."""
        if not images:
            return []
        pixels = self.image_processor(list(images), return_tensors="pt").pixel_values
        decoding = decoding_kwargs(strategy, num_candidates, num_beams, top_p, temperature)
        out = self.model.generate(
            pixel_values=pixels.to(self.device, self.dtype),
            max_new_tokens=max_new_tokens,
            output_scores=True,
            return_dict_in_generate=True,
            **self._prompt_inputs(prompt, len(images)),
            **decoding,
        )
        token_logprobs = self.model.compute_transition_scores(
            out.sequences, out.scores, getattr(out, "beam_indices", None), normalize_logits=strategy != "beam"
        )
        confidences = self._confidences(out.sequences[:, -token_logprobs.shape[1]:], token_logprobs.float())
        texts = self.tokenizer.batch_decode(out.sequences, skip_special_tokens=True)
        per_image = decoding["num_return_sequences"]
        generated = [Generated(" ".join(t.split()), float(c)) for t, c in zip(texts, confidences)]
        return [best_unique(generated[i : i + per_image], prompt) for i in range(0, len(generated), per_image)]

    def _prompt_inputs(self, prompt: str, batch: int) -> dict[str, torch.Tensor]:
        """A text prompt the caption must continue, in the form each family expects."""
        prompt = prompt.strip()
        ids = self.tokenizer(prompt, add_special_tokens=False).input_ids if prompt else []
        if self.model_type == "vision-encoder-decoder":  # explicit mask: GPT-2's pad token is its end token
            decoder_ids = self._repeat([self.model.config.decoder_start_token_id, *ids], batch)
            return {"decoder_input_ids": decoder_ids, "decoder_attention_mask": torch.ones_like(decoder_ids)}
        if not ids:
            return {}
        if self.model_type == "blip":  # BLIP's generate swaps [CLS] for [DEC] and drops the final [SEP]
            input_ids = self._repeat([self.tokenizer.cls_token_id, *ids, self.tokenizer.sep_token_id], batch)
            return {"input_ids": input_ids, "attention_mask": torch.ones_like(input_ids)}
        return {"input_ids": self._repeat([self.tokenizer.cls_token_id, *ids], batch)}  # GIT starts at [CLS]

    def _repeat(self, ids: list[int], batch: int) -> torch.Tensor:
        return torch.tensor([ids] * batch, dtype=torch.long, device=self.device)

    def _eos_ids(self) -> set[int]:
        if self.model_type == "blip":  # BLIP ends captions at [SEP], whatever its config's eos says
            return {int(self.model.config.text_config.sep_token_id)}
        eos = self.model.generation_config.eos_token_id
        return {int(e) for e in (eos if isinstance(eos, (list, tuple)) else [eos]) if e is not None}

    def _confidences(self, generated: torch.Tensor, logprobs: torch.Tensor) -> torch.Tensor:
        """exp(mean log-prob) over each caption's tokens up to and including its end token."""
        is_end = torch.zeros_like(generated, dtype=torch.bool)
        for eos in self._eos_ids():
            is_end |= generated == eos
        ended_before = (is_end.long().cumsum(dim=1) - is_end.long()) > 0
        valid = (~ended_before).float()
        mean = (logprobs.clamp(min=-1e4) * valid).sum(dim=1) / valid.sum(dim=1).clamp(min=1)
        return mean.exp().cpu()


def decoding_kwargs(strategy: str, num_candidates: int, num_beams: int, top_p: float, temperature: float) -> dict:
    """generate() arguments for greedy, beam or nucleus decoding of N candidates."""
    if strategy == "greedy":  # one deterministic path: a single candidate
        return {"do_sample": False, "num_beams": 1, "num_return_sequences": 1}
    if strategy == "beam":
        beams = max(num_beams, num_candidates)
        return {"do_sample": False, "num_beams": beams, "num_return_sequences": num_candidates}
    if strategy == "nucleus":
        return {"do_sample": True, "num_beams": 1, "top_p": top_p, "top_k": 0, "temperature": temperature,
                "num_return_sequences": num_candidates}
    raise ValueError(f"unknown decoding strategy '{strategy}'; use one of {', '.join(STRATEGIES)}")


def best_unique(candidates: list[Generated], prompt: str = "") -> list[Generated]:
    """Most confident first, each distinct caption once (beams and samples often repeat);
    captions that say nothing beyond the prompt go, unless nothing else is left."""
    ranked = sorted(candidates, key=lambda c: c.confidence, reverse=True)
    empty = {"", " ".join(prompt.lower().split())}
    seen: set[str] = set()
    unique = []
    for candidate in ranked:
        key = candidate.text.lower()
        if key not in seen and key not in empty:
            seen.add(key)
            unique.append(candidate)
    return unique or ranked[:1]


def load(request: LoadRequest) -> Captioner:
    where = locate(request.spec, request.cache_dir, request.offline)
    dtype = devices.torch_dtype(request.dtype)
    try:
        image_processor = AutoImageProcessor.from_pretrained(where)
        tokenizer = AutoTokenizer.from_pretrained(where)
        model = AutoModelForImageTextToText.from_pretrained(where, dtype=dtype)
    except OSError as exc:  # missing files, or the hub unreachable
        raise WeightsUnavailable(request.spec.key, f"loading {request.spec.source} failed ({exc}).",
                                 request.spec.how_to_get) from exc
    except ValueError as exc:  # a folder of some other kind of model
        raise WeightsUnavailable(request.spec.key, f"{request.spec.source} is not an image captioner "
                                 f"transformers can load ({exc}).", request.spec.how_to_get) from exc
    if model.generation_config.pad_token_id is None:  # GPT-2 decoders have no pad token
        model.generation_config.pad_token_id = model.generation_config.eos_token_id
    model.to(request.device).eval()
    return Captioner(model, image_processor, tokenizer, request.device, dtype, name=request.spec.source)
