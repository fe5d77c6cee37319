"""Text-to-image (and image-to-image) through diffusers' own auto pipelines.

`load()` builds the text-to-image pipeline with AutoPipelineForText2Image (whatever the
folder's model_index.json names: Stable Diffusion, SD-Turbo, SDXL(-Turbo), LCM, ...) and
the image-to-image one from the same components with AutoPipelineForImage2Image.from_pipe
(no second copy of the weights). Surface: `generate(...)` -> `Generation`.

Device policy: fp16 on CUDA/MPS, fp32 on CPU. On a GPU too small for the whole pipeline
(weights plus working memory), `enable_model_cpu_offload` (accelerate) keeps only the
running component on the GPU; attention slicing where memory is tight (offload, MPS); VAE
tiling always (it engages only above the VAE's tile size, so 512 px images are unchanged).
Generators are always on the CPU and seeded explicitly: the same seed and settings give
the same image on the same device."""
from __future__ import annotations

import inspect
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
from PIL import Image

from model_zoo.core import devices
from model_zoo.core.errors import WeightsUnavailable
from model_zoo.imagine.service import KNOWN_DEFAULTS, Defaults
from model_zoo.core.loading import LoadRequest
from model_zoo.core.weights import locate

# Imported first, under the import lock (model_zoo.core.backends): diffusers' pipelines (lazy attributes)
# and the transformers text encoders they load. Two first imports of these at once handed one thread a
# half-initialised transformers ("cannot import name 'PreTrainedModel'"); the download stays outside.
FIRST_IMPORTS = (
    "transformers.modeling_utils", "transformers.models.clip.modeling_clip",
    "transformers.models.clip.tokenization_clip", "diffusers", "diffusers.pipelines.auto_pipeline",
    "diffusers:AutoPipelineForText2Image", "diffusers:StableDiffusionPipeline", "diffusers:StableDiffusionXLPipeline",
)

GiB = 1 << 30
# Activations, VAE decode and the CUDA context on top of the weights (fp16, 512 px, batch 1-4).
WORKING_MEMORY = int(1.5 * GiB)


def defaults_for(source: str, pipeline: Any) -> Defaults:
    """The registry's published settings for a known source, else a guess from the
    scheduler: LCM 4 steps; a trailing-timestep Euler (ancestral) scheduler is a turbo
    model's, 1 step and no guidance; anything else the classic 25 steps at guidance 7.5."""
    if source in KNOWN_DEFAULTS:
        return KNOWN_DEFAULTS[source]
    unet = getattr(pipeline, "unet", None)
    sample = getattr(getattr(unet, "config", None), "sample_size", 64) or 64
    sample = sample[0] if isinstance(sample, (list, tuple)) else sample
    size = int(sample) * int(getattr(pipeline, "vae_scale_factor", 8))
    scheduler = pipeline.scheduler
    name = type(scheduler).__name__
    if name == "LCMScheduler":
        guidance = 8.0 if "LatentConsistency" in type(pipeline).__name__ else 1.0
        return Defaults(steps=4, guidance=guidance, size=size)
    if name.startswith("EulerAncestral") and scheduler.config.get("timestep_spacing") == "trailing":
        return Defaults(steps=1, guidance=0.0, size=size)
    return Defaults(steps=25, guidance=7.5, size=size)


@dataclass
class Generation:
    images: list[Image.Image]
    seeds: list[int]
    steps_run: int  # denoising steps actually run (image-to-image runs steps x strength)
    step_seconds: list[float] = field(default_factory=list)  # time between consecutive step ends
    total_s: float = 0.0
    nsfw: list[bool] = field(default_factory=list)  # the model's own safety checker, where it ships one
    negative_used: bool = False


@dataclass
class Diffusion:
    text2image: Any
    device: str
    dtype: torch.dtype
    name: str
    defaults: Defaults
    offload: bool = False
    _image2image: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def nbytes(self) -> int:
        """The whole pipeline's size: every component's parameters and buffers."""
        return components_nbytes(self.text2image)

    @property
    def pipeline_class(self) -> str:
        return type(self.text2image).__name__

    @property
    def image2image(self) -> Any:
        if self._image2image is None:
            from diffusers import AutoPipelineForImage2Image

            pipe = AutoPipelineForImage2Image.from_pipe(self.text2image)
            pipe.set_progress_bar_config(disable=True)
            self._image2image = pipe
        return self._image2image

    @torch.inference_mode()
    def generate(
        self,
        prompt: str,
        *,
        negative_prompt: str = "",
        steps: int,
        guidance: float,
        seeds: Sequence[int],
        width: int,
        height: int,
        init_image: Image.Image | None = None,
        strength: float = 0.6,
        on_step: Callable[[int, int], None] | None = None,
    ) -> Generation:
        """One batched pipeline call, one CPU generator per image (image i is
        reproducible alone from seeds[i]). `on_step(done, total)` runs after each
        denoising step; an exception raised there stops the run."""
        pipe = self.text2image if init_image is None else self.image2image
        marks: list[float] = []

        def step_end(pipeline: Any, index: int, timestep: Any, tensors: dict) -> dict:
            marks.append(time.perf_counter())
            if on_step is not None:
                on_step(index + 1, int(getattr(pipeline, "num_timesteps", 0) or steps))
            return tensors

        kwargs: dict[str, Any] = dict(
            prompt=prompt, num_inference_steps=steps, guidance_scale=guidance,
            num_images_per_prompt=len(seeds), generator=[torch.Generator("cpu").manual_seed(s) for s in seeds],
            callback_on_step_end=step_end,
        )
        negative = bool(negative_prompt) and guidance > 1.0 and _takes(pipe, "negative_prompt")
        if negative:  # without classifier-free guidance a negative prompt does nothing
            kwargs["negative_prompt"] = negative_prompt
        if init_image is None:
            kwargs.update(width=width, height=height)
        else:
            kwargs.update(image=init_image.convert("RGB").resize((width, height), Image.LANCZOS), strength=strength)
        with self._lock:  # one pipeline object: its scheduler holds per-call state
            self._prepare_offload(pipe)
            started = time.perf_counter()
            out = pipe(**kwargs)
            total = time.perf_counter() - started
        nsfw = getattr(out, "nsfw_content_detected", None) or [False] * len(out.images)
        return Generation(list(out.images), list(seeds), len(marks), step_seconds=_gaps(started, marks),
                          total_s=total, nsfw=[bool(x) for x in nsfw], negative_used=negative)

    def _prepare_offload(self, pipe: Any) -> None:
        """Offload hooks live on the shared components; the pipeline about to run must
        own them (each call's end re-arms the hooks of the pipeline that ran)."""
        if self.offload and not getattr(pipe, "_all_hooks", None):
            pipe.enable_model_cpu_offload(device=self.device)


def _takes(pipe: Any, argument: str) -> bool:
    return argument in inspect.signature(pipe.__call__).parameters


def _gaps(started: float, marks: list[float]) -> list[float]:
    """Seconds per step: between consecutive step ends, and for the first from the call's start
    (which also holds the prompt encoding)."""
    return [b - a for a, b in zip([started, *marks], marks)]


def components_nbytes(pipeline: Any) -> int:
    return sum(devices.module_nbytes(c) for c in pipeline.components.values() if isinstance(c, torch.nn.Module))


def needs_offload(device: str, weights_bytes: int) -> bool:
    """On CUDA: offload when the weights plus working memory do not fit in what is free."""
    if devices.device_kind(device) != "cuda" or not torch.cuda.is_available():
        return False
    free, _total = torch.cuda.mem_get_info(torch.device(device))
    return weights_bytes + WORKING_MEMORY > free


def weight_variants(dtype: torch.dtype) -> list[str | None]:
    """Which weight files to try: a repo's fp16 variant first where the model runs in fp16
    (half the download), else the plain files; each falls back to the other."""
    return ["fp16", None] if dtype == torch.float16 else [None, "fp16"]


def _from_pretrained(auto: Any, where: str, dtype: torch.dtype) -> Any:
    """safetensors only (never a pickle); the first weight variant that is there."""
    first, second = weight_variants(dtype)
    try:
        return auto.from_pretrained(where, dtype=dtype, use_safetensors=True, variant=first)
    except (OSError, ValueError) as exc:
        try:
            return auto.from_pretrained(where, dtype=dtype, use_safetensors=True, variant=second)
        except (OSError, ValueError):
            raise exc from None


def fetch(request: LoadRequest) -> None:
    """Download the pipeline's files (the weight variant its dtype wants) before the build lock;
    a local folder or pack: nothing to do. Errors are left to load(), which words them."""
    from diffusers import DiffusionPipeline

    where = locate(request.spec, request.cache_dir, request.offline)
    if Path(where).expanduser().exists():
        return
    first, second = weight_variants(devices.torch_dtype(request.dtype))
    try:
        DiffusionPipeline.download(where, variant=first, use_safetensors=True)
    except (OSError, ValueError):
        DiffusionPipeline.download(where, variant=second, use_safetensors=True)


def load(request: LoadRequest) -> Diffusion:
    from diffusers import AutoPipelineForText2Image

    spec = request.spec
    where = locate(spec, request.cache_dir, request.offline)
    dtype = devices.torch_dtype(request.dtype)
    try:
        pipe = _from_pretrained(AutoPipelineForText2Image, where, dtype)
    except OSError as exc:  # missing files (or no safetensors), or the hub unreachable
        raise WeightsUnavailable(spec.key, f"loading {spec.source} failed ({exc}).", spec.how_to_get) from exc
    except (ValueError, KeyError) as exc:  # a folder of some other kind of model
        raise WeightsUnavailable(spec.key, f"{spec.source} is not a text-to-image pipeline diffusers' "
                                 f"AutoPipelineForText2Image can load ({exc}).", spec.how_to_get) from exc
    pipe.set_progress_bar_config(disable=True)
    offload = needs_offload(request.device, components_nbytes(pipe))
    if offload:
        pipe.enable_model_cpu_offload(device=request.device)
        pipe.enable_attention_slicing()
    else:
        pipe.to(request.device)
        if devices.device_kind(request.device) == "mps":
            pipe.enable_attention_slicing()  # diffusers' advice for Apple GPUs
    vae = getattr(pipe, "vae", None)
    if vae is not None and hasattr(vae, "enable_tiling"):
        vae.enable_tiling()
    return Diffusion(pipe, request.device, dtype, name=spec.source, defaults=defaults_for(spec.source, pipe),
                     offload=offload)
