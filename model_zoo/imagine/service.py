"""Imagine: text to image, the mirror of captioning. A prompt (and optionally a start
image) becomes images through the `diffusion` family (model_zoo.imagine.diffusion_backend:
diffusers' auto pipelines); each image is saved as a PNG that carries its settings, so it
can be made again from them. No gradio and no torch at import: the tab imports this.

Inputs are checked before any model loads, so a bad request gets its own error even where
the weights are missing. 0 steps / a negative guidance mean the model's own defaults, a
negative seed a random one; image i of a batch uses seed + i, so any one image can be made
again alone."""
from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from PIL import Image, PngImagePlugin

from model_zoo.core.errors import InputError, StudioError, WeightsUnavailable
from model_zoo.vision.images import load_image
from model_zoo.core.manager import ModelManager
from model_zoo.core.storage import atomic_file

KEY = "diffusion"
ROLE = "text_to_image"
MAX_STEPS = 100
MAX_IMAGES = 4
MIN_SIDE = 64
MAX_SIDE = 1024
MAX_PIXELS = 1024 * 1024  # width x height x images, per request: what one call may hold in memory
MAX_PROMPT_CHARS = 2000
MAX_GUIDANCE = 30.0
MAX_SEED = 2**32 - 1
STEP_PROGRESS = Callable[[int, int], None]  # (steps done, steps in all)


@dataclass(frozen=True)
class Defaults:
    """What a model is made for: its step count, guidance and side length."""

    steps: int
    guidance: float
    size: int


# Published settings of the registry's models (their model cards). A folder of another
# model gets defaults from its scheduler (backends.diffusion_backend.defaults_for).
KNOWN_DEFAULTS = {
    "SimianLuo/LCM_Dreamshaper_v7": Defaults(steps=4, guidance=8.0, size=512),
    "stabilityai/sd-turbo": Defaults(steps=1, guidance=0.0, size=512),
    "stabilityai/sdxl-turbo": Defaults(steps=1, guidance=0.0, size=512),
}


class Cancelled(StudioError):
    """The person stopped the generation between two denoising steps."""

    def __init__(self) -> None:
        super().__init__("Generation cancelled.")


@dataclass
class ImagineRequest:
    prompt: str
    negative_prompt: str = ""
    steps: int = 0  # 0: the model's default
    guidance: float = -1.0  # negative: the model's default
    seed: int = -1  # negative: a random seed
    width: int = 512
    height: int = 512
    num_images: int = 1
    init_image: str | None = None  # a file: start from this image (image to image)
    strength: float = 0.6  # how far from the start image (1.0: ignore it)


@dataclass
class ImagineResult:
    files: list[Path]  # PNGs, each with its settings in text chunks
    seed: int  # the first image's; image i used seed + i
    seeds: list[int]
    steps: int
    guidance: float
    width: int
    height: int
    model: str  # the source that made them (hub id or folder)
    model_key: str
    prompt: str
    negative_prompt: str
    mode: str  # text | image
    strength: float | None
    timing: dict  # {total_s, per_step_s, steps_run}
    device: str
    nsfw: list[bool] = field(default_factory=list)
    note: str = ""

    def to_dict(self) -> dict:
        """JSON-ready (files as paths in `files`, never under a `path` key)."""
        out = asdict(self)
        out["files"] = [str(f) for f in self.files]
        return out

    def settings(self, index: int = 0) -> dict:
        """What makes image `index` again: pass these back (seed = its own)."""
        return {"prompt": self.prompt, "negative_prompt": self.negative_prompt, "steps": self.steps,
                "guidance": self.guidance, "seed": self.seeds[index], "width": self.width, "height": self.height,
                "model": self.model, "mode": self.mode, "strength": self.strength}


# -- checks (no model needed) -------------------------------------------------------------
def _whole(value: object, what: str) -> int:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"{what} must be a whole number, not '{value}'.") from None
    if number != int(number):
        raise InputError(f"{what} must be a whole number, not {value}.")
    return int(number)


def check_request(request: ImagineRequest) -> ImagineRequest:
    """The request with numbers coerced, or an InputError saying what to change."""
    prompt = (request.prompt or "").strip()
    if not prompt:
        raise InputError("Please type a prompt: describe the picture you want.")
    if len(prompt) > MAX_PROMPT_CHARS or len(request.negative_prompt or "") > MAX_PROMPT_CHARS:
        raise InputError(f"Prompts are limited to {MAX_PROMPT_CHARS} characters (the model reads about 75 words).")
    steps = _whole(request.steps, "Steps")
    if steps < 0 or steps > MAX_STEPS:
        raise InputError(f"Steps must be between 1 and {MAX_STEPS} (or 0 for the model's default), not {steps}.")
    try:
        guidance = float(request.guidance)
    except (TypeError, ValueError):
        raise InputError(f"Guidance must be a number, not '{request.guidance}'.") from None
    if guidance != guidance or guidance > MAX_GUIDANCE:  # NaN, or absurd
        raise InputError(f"Guidance must be between 0 and {MAX_GUIDANCE:g} (or -1 for the model's default).")
    seed = _whole(request.seed, "Seed")
    if seed > MAX_SEED:
        raise InputError(f"The seed must be between 0 and {MAX_SEED} (or -1 for a random one).")
    width, height = _whole(request.width, "Width"), _whole(request.height, "Height")
    for name, side in (("Width", width), ("Height", height)):
        if side % 8:
            raise InputError(f"{name} must be a multiple of 8 (the model works on 8x8 blocks); {side} is not. "
                             f"Try {max(MIN_SIDE, side // 8 * 8)}.")
        if not MIN_SIDE <= side <= MAX_SIDE:
            raise InputError(f"{name} must be between {MIN_SIDE} and {MAX_SIDE} pixels, not {side}.")
    count = _whole(request.num_images, "Number of images")
    if not 1 <= count <= MAX_IMAGES:
        raise InputError(f"Make between 1 and {MAX_IMAGES} images at a time, not {count}.")
    if width * height * count > MAX_PIXELS:
        raise InputError(f"{count} image(s) of {width} x {height} is too large for one request (at most "
                         f"{MAX_PIXELS / 2**20:.0f} megapixel in all, e.g. one 1024 x 1024 or four 512 x 512).")
    strength = float(request.strength)
    if request.init_image and not 0.0 < strength <= 1.0:
        raise InputError(f"Strength must be above 0 and at most 1, not {strength}.")
    return ImagineRequest(prompt, (request.negative_prompt or "").strip(), steps, guidance, seed, width, height,
                          count, request.init_image or None, strength)


def pick_seed(seed: int) -> int:
    """The seed to use: the one given, or a fresh random one (leaving room for seed + i)."""
    return seed if seed >= 0 else secrets.randbelow(MAX_SEED - MAX_IMAGES)


def seeds_for(seed: int, count: int) -> list[int]:
    return [(seed + i) % (MAX_SEED + 1) for i in range(count)]


# -- generation ---------------------------------------------------------------------------
def generate(
    manager: ModelManager,
    request: ImagineRequest,
    out_dir: Path,
    key: str = KEY,
    on_step: STEP_PROGRESS | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ImagineResult:
    """Images for `request`, saved under `out_dir`. `on_step(done, total)` after each
    denoising step; `cancelled()` is asked there too, and True stops the run (Cancelled)."""
    request = check_request(request)
    init = load_image(request.init_image) if request.init_image else None
    missing = manager.weights_problem(key)
    if missing is not None:
        raise missing
    seed = pick_seed(request.seed)
    seeds = seeds_for(seed, request.num_images)

    def step(done: int, total: int) -> None:
        if cancelled is not None and cancelled():
            raise Cancelled()
        if on_step is not None:
            on_step(done, total)

    with manager.use(key) as model:
        steps = request.steps or model.defaults.steps
        guidance = model.defaults.guidance if request.guidance < 0 else request.guidance
        note = ""
        if init is not None and steps * request.strength < 1:
            if request.steps:
                raise InputError(f"With strength {request.strength:g}, {steps} step(s) leave no step to run: "
                                 f"steps x strength must be at least 1 (try {int(-(-1 // request.strength))} steps).")
            steps = int(-(-1 // request.strength))  # ceil(1 / strength)
            note = (f"Starting from an image at strength {request.strength:g} needs at least {steps} steps "
                    "(steps x strength must reach 1): used that many.")
        started = time.perf_counter()
        made = model.generate(request.prompt, negative_prompt=request.negative_prompt, steps=steps,
                              guidance=guidance, seeds=seeds, width=request.width, height=request.height,
                              init_image=init, strength=request.strength, on_step=step)
        total = time.perf_counter() - started
        source, device = model.name, model.device
    result = ImagineResult(
        files=[], seed=seed, seeds=seeds, steps=steps, guidance=guidance, width=request.width,
        height=request.height, model=source, model_key=key, prompt=request.prompt,
        negative_prompt=request.negative_prompt, mode="image" if init is not None else "text",
        strength=request.strength if init is not None else None,
        timing={"total_s": round(total, 4), "per_step_s": round(per_step(made.step_seconds), 4),
                "steps_run": made.steps_run},
        device=device, nsfw=made.nsfw, note=note,
    )
    if request.negative_prompt and not made.negative_used:
        result.note = (result.note + " " if result.note else "") + (
            f"The negative prompt was not used: it needs guidance above 1 (this run: {guidance:g}) and a pipeline "
            "that takes one (LCM pipelines do not).")
    if any(made.nsfw):
        result.note = (result.note + " " if result.note else "") + (
            "The model's own safety checker blanked an image it judged unsafe.")
    result.files = [save_png(image, out_dir, result, i) for i, image in enumerate(made.images)]
    return result


def per_step(step_seconds: list[float]) -> float:
    """Seconds per denoising step: the median gap between step ends after the first (the
    first also holds the prompt encoding); with one step, that step."""
    gaps = sorted(step_seconds[1:] or step_seconds)
    if not gaps:
        return 0.0
    middle = len(gaps) // 2
    return gaps[middle] if len(gaps) % 2 else (gaps[middle - 1] + gaps[middle]) / 2


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "image"


def save_png(image: Image.Image, out_dir: Path, result: ImagineResult, index: int) -> Path:
    """The image as a PNG (atomically) named after its prompt and seed, its settings in a
    `parameters` text chunk (JSON), so the file itself says how to make it again."""
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", json.dumps(result.settings(index)))
    varied = "-from-image" if result.mode == "image" else ""
    path = Path(out_dir) / f"{_slug(result.prompt)}-{result.seeds[index]}{varied}.png"
    with atomic_file(path, durable=False) as handle:
        image.save(handle, format="PNG", pnginfo=info)
    return path


def settings_of(png: str | Path) -> dict:
    """The settings stored in a PNG this module saved ({} if none)."""
    with Image.open(png) as image:
        text = image.info.get("parameters") if hasattr(image, "info") else None
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return {}


# -- what the tab shows before anything loads ---------------------------------------------
def model_keys(manager: ModelManager) -> list[str]:
    """Registry keys of every text-to-image model (the tab lets people pick one)."""
    return [key for key in manager.status_keys() if manager.spec(key).role == ROLE]


def missing_weights(manager: ModelManager, key: str = KEY) -> WeightsUnavailable | None:
    """Cheaply (no torch, no diffusers): why `key` cannot load here, or None."""
    return manager.weights_problem(key)

