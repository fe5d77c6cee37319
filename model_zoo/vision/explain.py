"""Why the image model said what it said: Grad-CAM (Selvaraju et al., "Grad-CAM: Visual
Explanations from Deep Networks via Gradient-based Localization", ICCV 2017) on the
packaged EfficientNet-Lite0, which is always on the machine (it ships in a pip package).

`gradcam(manager, image)` explains the classifier's top ImageNet label (or a class you
name): one forward pass for the probabilities, one forward+backward for the map (about
0.15 s on two CPU cores). The map covers the centre crop the model sees (`crop_box`);
the overlay is the photo at its own size with the map upsampled smoothly onto that crop
in a colormap, and the part the model never saw dimmed. No gradio, no torch import here:
the classifier runs behind the model manager."""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from model_zoo.vision import images as image_io
from model_zoo.vision import engine as vision
from model_zoo.core.errors import InputError
from model_zoo.core.manager import ModelManager

COLORMAP = "jet"  # the usual Grad-CAM look: blue (ignored) to red (decisive)
ALPHA = 0.55  # strongest blend of the colormap over the photo (where the map is 1)
FLOOR = 0.35  # share of ALPHA where the map is 0, so the whole crop is visibly tinted
OUTSIDE = 0.45  # brightness kept outside the crop (1.0 leaves it as it is)


@dataclass
class GradCam:
    """One explanation. `heatmap` is (h, w) in [0, 1], top row first, over `crop_box`
    (left, top, right, bottom) of the photo; `overlay` is an RGB image of the photo's size."""

    label: str  # the ImageNet class explained
    class_index: int
    probability: float  # the classifier's probability of that class
    top: bool  # whether it is the classifier's top label
    heatmap: np.ndarray
    crop_box: tuple[int, int, int, int]
    overlay: Image.Image
    model: str
    timing: dict[str, float] = field(default_factory=dict)

    @property
    def caption(self) -> str:
        """What the picture shows, for a heading: "Why: where the model looked for 'espresso'"."""
        return f"Why: where the model looked for '{self.label}' ({self.probability:.0%})"

    def to_dict(self) -> dict:
        """JSON-safe (the overlay image is left out; no `path` key)."""
        return {"label": self.label, "class_index": self.class_index, "probability": self.probability,
                "top": self.top, "heatmap": np.round(self.heatmap, 3).tolist(), "crop_box": list(self.crop_box),
                "model": self.model, "timing": dict(self.timing)}


def gradcam(manager: ModelManager, image: Image.Image | str | Path, class_index: int | None = None,
            colormap: str = COLORMAP, alpha: float = ALPHA, outside: float = OUTSIDE) -> GradCam:
    """Grad-CAM of `class_index` (default: the top label) for `image` (a PIL image, or a
    file read safely with images.load_image: a bad file raises InputError before any
    model loads)."""
    photo = _photo(image)
    lut = colormap_lut(colormap)
    if not 0.0 <= alpha <= 1.0 or not 0.0 <= outside <= 1.0:
        raise InputError(f"alpha and outside must be between 0 and 1 (got {alpha}, {outside}).")
    started = time.perf_counter()
    with manager.use(vision.CLASSIFIER_KEY) as classifier:
        loaded = time.perf_counter()
        probabilities = classifier.predict([photo]).probabilities[0]
        top_index = int(np.argmax(probabilities))
        index = top_index if class_index is None else _check_index(class_index, len(classifier.labels))
        heatmap = np.asarray(classifier.gradcam(photo, index), np.float32)
        box = tuple(int(v) for v in classifier.crop_box(photo))
        label, model = classifier.labels[index], classifier.name
    explained = time.perf_counter()
    overlay = overlay_heatmap(photo, heatmap, box, lut, alpha, outside)
    timing = {"model_s": loaded - started, "gradcam_s": explained - loaded,
              "overlay_s": time.perf_counter() - explained}
    return GradCam(label=label, class_index=index, probability=round(float(probabilities[index]), 4),
                   top=index == top_index, heatmap=heatmap, crop_box=box, overlay=overlay, model=model,
                   timing={k: round(v, 3) for k, v in timing.items()})


def _photo(image: Image.Image | str | Path) -> Image.Image:
    if isinstance(image, Image.Image):
        return image_io.to_rgb(image)
    if isinstance(image, (str, Path)) and str(image):
        return image_io.load_image(image)
    raise InputError("Please provide an image to explain.")


def _check_index(class_index: int, classes: int) -> int:
    whole = isinstance(class_index, (int, np.integer)) and not isinstance(class_index, bool)
    if not whole or not 0 <= class_index < classes:
        raise InputError(f"The class index must be a whole number from 0 to {classes - 1} (got {class_index!r}).")
    return int(class_index)


@functools.lru_cache(maxsize=8)
def colormap_lut(name: str = COLORMAP) -> np.ndarray:
    """(256, 3) uint8 colours of a matplotlib colormap (matplotlib itself, not pyplot)."""
    import matplotlib

    try:
        cmap = matplotlib.colormaps[name]
    except KeyError:
        raise InputError(f"Unknown colormap '{name}': try jet, inferno, viridis or turbo.") from None
    return np.round(cmap(np.linspace(0.0, 1.0, 256))[:, :3] * 255).astype(np.uint8)


def upsample(heatmap: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The (h, w) map smoothly (bicubic) at `size` (width, height), clipped to [0, 1]."""
    width, height = max(1, int(size[0])), max(1, int(size[1]))
    grid = Image.fromarray(np.ascontiguousarray(heatmap, dtype=np.float32))
    return np.clip(np.asarray(grid.resize((width, height), Image.BICUBIC), np.float32), 0.0, 1.0)


def overlay_heatmap(photo: Image.Image, heatmap: np.ndarray, box: tuple[int, int, int, int],
                    lut: np.ndarray | None = None, alpha: float = ALPHA, outside: float = OUTSIDE) -> Image.Image:
    """`photo` with `heatmap` upsampled onto `box` in colour: blended more strongly where
    the map is high (FLOOR..1 times alpha), the rest of the photo kept at `outside` brightness."""
    lut = colormap_lut() if lut is None else lut
    photo = image_io.to_rgb(photo)
    left, top, right, bottom = box
    heat = upsample(heatmap, (right - left, bottom - top))
    coloured = Image.fromarray(lut[np.round(heat * 255).astype(np.uint8)])
    mask = Image.fromarray(np.round(alpha * (FLOOR + (1.0 - FLOOR) * heat) * 255).astype(np.uint8))
    crop = photo.crop(box)
    blended = Image.composite(coloured, crop, mask)
    base = photo if outside >= 1.0 else photo.point(lambda value: int(value * outside))
    base = base.copy() if base is photo else base
    base.paste(blended, (left, top))
    return base
