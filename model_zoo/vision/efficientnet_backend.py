"""EfficientNet-Lite (ImageNet-1k) through `efficientnet-lite-pytorch`: the offline image
encoder. One forward pass gives both the class probabilities (for labels, label-based
captions and the label bridge into a sentence encoder's space) and the pooled
penultimate features (for image-to-image search). Grad-CAM explains the top label.

Sources (registry `efficientnet-lite0/1/2`, overridable like every model):
  "efficientnet-lite0"                          the offline pack (sha256-checked .pth)
  "efficientnet-lite0:/path/weights.safetensors" a local checkpoint (.safetensors or .pth)
State dicts are read without pickle: safetensors, or torch.load(weights_only=True).

Input normalisation is the TF-Lite one these weights were trained with, (x - 127) / 128
on 0-255 pixels, after a centre crop of 87.5% of the short side (TF's eval crop)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from PIL import Image

from model_zoo.core import devices
from model_zoo.core.loading import MicroBatcher, batcher_for
from model_zoo.core.errors import WeightsUnavailable
from model_zoo.core.loading import LoadRequest
from model_zoo.core.weights import locate

# Imported first, under the import lock (model_zoo.core.backends): what `load` imports inside.
FIRST_IMPORTS = ("efficientnet_lite_pytorch", "safetensors.torch")

# TF EfficientNet's eval crop. On our 50 validation items (scripts/vision/tune_label_bridge.py) the
# whole short side (1.0) gave text search R@1 0.74 / R@5 0.94 but zero-shot top-1 0.60 and
# label captions 0.62; 0.875 gives 0.70 / 0.92, 0.62 and 0.68: kept for the latter two.
CROP_FRACTION = 0.875
PIXEL_MEAN, PIXEL_STD = 127.0, 128.0


# Regions: the last feature map pooled over four overlapping windows (each about 60% of the
# side, one per corner) and read by the same classifier layer. They cost one small matrix
# product on top of the forward pass, and let a second object show where the whole-image
# average drowns it (model_zoo/vision/recognition/seen.py).
REGION_NAMES = ("top left", "top right", "bottom left", "bottom right")
REGION_FRACTION = 0.6


@dataclass
class Prediction:
    probabilities: np.ndarray  # (n, 1000) softmax over ImageNet-1k classes
    features: np.ndarray  # (n, 1280) pooled penultimate activations (before dropout and fc)
    regions: np.ndarray | None = None  # (n, 4, 1000) softmax per REGION_NAMES window


@dataclass
class ImageClassifier:
    model: torch.nn.Module
    device: str
    dtype: torch.dtype
    name: str  # identity: the spec's source
    image_size: int
    labels: list[str]  # ImageNet-1k class names as people say them, by class index
    region_names: tuple[str, ...] = REGION_NAMES  # Prediction.regions' windows, in order
    # concurrent calls of a few images share a forward pass (model_zoo.core.loading); None: each runs alone
    batcher: MicroBatcher | None = field(default=None, repr=False)

    @property
    def nbytes(self) -> int:
        return devices.module_nbytes(self.model)

    @property
    def feature_dim(self) -> int:
        return int(self.model._fc.in_features)

    def pixels(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """(n, 3, s, s) model input: centre crop, bicubic resize, TF-Lite normalisation."""
        arrays = [np.asarray(_centre_crop(image, self.image_size), dtype=np.float32) for image in images]
        batch = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2)
        return ((batch - PIXEL_MEAN) / PIXEL_STD).to(self.device, self.dtype)

    def predict(self, images: Sequence[Image.Image], batch_size: int = 32) -> Prediction:
        """Class probabilities, pooled features and corner windows of each image. A call of
        fewer images than the batcher's max_batch is preprocessed in the caller's thread and
        shares a forward pass with other callers' (model_zoo.core.loading); per-image
        results do not depend on the batch (BatchNorm in eval mode: 2e-7 in fp32)."""
        if self.batcher is None or not 0 < len(images) < self.batcher.policy.max_batch:
            return self._predict(images, batch_size)
        rows = self.batcher.submit(list(self.pixels(images)))
        return Prediction(*(np.stack([row[k] for row in rows]) for k in range(3)))

    @torch.inference_mode()
    def _predict(self, images: Sequence[Image.Image], batch_size: int) -> Prediction:
        parts = [self._forward(self.pixels(images[start : start + batch_size]))
                 for start in range(0, len(images), batch_size)]
        classes = len(self.labels)
        if not parts:
            return Prediction(np.zeros((0, classes), np.float32), np.zeros((0, self.feature_dim), np.float32),
                              np.zeros((0, len(REGION_NAMES), classes), np.float32))
        return Prediction(*(np.concatenate(arrays) for arrays in zip(*parts)))

    @torch.inference_mode()
    def _run_batch(self, key: object, payload: object, pixels: list[torch.Tensor]) -> list[tuple[np.ndarray, ...]]:
        """The batcher's runner: preprocessed images from every caller in one pass."""
        return list(zip(*self._forward(torch.stack(pixels))))

    def _forward(self, pixels: torch.Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(probabilities, features, regions) of a batch of model inputs."""
        activations = self.model.extract_features(pixels)
        pooled = self._pooled(activations)
        probabilities = self.model._fc(pooled).float().softmax(-1).cpu().numpy()
        return probabilities, pooled.float().cpu().numpy(), self._region_probabilities(activations)

    def _region_probabilities(self, activations: torch.Tensor) -> np.ndarray:
        """(n, 4, classes): the classifier layer on each corner window's mean activation."""
        side = activations.shape[-1]
        window = min(side, max(1, round(side * REGION_FRACTION)))
        pooled = torch.nn.functional.avg_pool2d(activations, window, stride=max(1, side - window))
        pooled = pooled[:, :, :2, :2].flatten(2).transpose(1, 2)  # (n, 4, channels), row-major corners
        if pooled.shape[1] < len(REGION_NAMES):  # a map too small to split: every window is the whole
            pooled = pooled[:, :1].expand(-1, len(REGION_NAMES), -1)
        return self.model._fc(pooled).float().softmax(-1).cpu().numpy()

    def gradcam(self, image: Image.Image, class_index: int) -> np.ndarray:
        """Grad-CAM (Selvaraju et al. 2017) of one class on the last convolution: an
        (h, w) map in [0, 1] over the model's input crop (see `crop_box`)."""
        with torch.no_grad():  # the graph starts at the last convolution's output
            activations = self.model.extract_features(self.pixels([image])).float()
        activations.requires_grad_(True)
        with torch.enable_grad():
            fc = self.model._fc
            logit = (
                self._pooled(activations)[0] @ fc.weight[int(class_index)].float() + fc.bias[int(class_index)].float()
            )
            (gradients,) = torch.autograd.grad(logit, activations)
        weights = gradients.mean(dim=(2, 3), keepdim=True)
        cam = torch.relu((weights * activations).sum(dim=1))[0].detach()
        peak = cam.max()
        return (cam / peak if peak > 0 else cam).cpu().numpy()

    def crop_box(self, image: Image.Image) -> tuple[int, int, int, int]:
        """The part of `image` the model sees (left, top, right, bottom)."""
        return _crop_box(image.size)

    @staticmethod
    def _pooled(activations: torch.Tensor) -> torch.Tensor:
        return activations.mean(dim=(2, 3))


def _crop_box(size: tuple[int, int]) -> tuple[int, int, int, int]:
    width, height = size
    side = max(1, round(min(width, height) * CROP_FRACTION))
    left, top = (width - side) // 2, (height - side) // 2
    return left, top, left + side, top + side


def _centre_crop(image: Image.Image, size: int) -> Image.Image:
    return image.convert("RGB").resize((size, size), Image.BICUBIC, box=_crop_box(image.size))


def imagenet_labels() -> list[str]:
    """ImageNet-1k class names as people say them (the cleaned list of the CLIP paper,
    shipped with open_clip), in class-index order. Read from its data module's file:
    importing open_clip costs seconds."""
    import importlib.util
    import runpy

    spec = importlib.util.find_spec("open_clip")
    names = runpy.run_path(str(Path(spec.origin).parent / "zero_shot_metadata.py"))["IMAGENET_CLASSNAMES"]
    if len(names) != 1000:
        raise RuntimeError(f"open_clip's ImageNet class list has {len(names)} names, expected 1000")
    return list(names)


def architecture_and_file(request: LoadRequest) -> tuple[str, Path]:
    """(architecture, state-dict file) for a source 'efficientnet-liteN[:/path]'."""
    source = request.spec.source
    architecture, _, path = source.partition(":")
    if path:
        return architecture, Path(path).expanduser()
    return architecture, Path(locate(request.spec, request.cache_dir, request.offline))


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """A state dict without pickle: safetensors, or torch.load(weights_only=True)."""
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    return torch.load(path, map_location="cpu", weights_only=True)


def load(request: LoadRequest) -> ImageClassifier:
    from efficientnet_lite_pytorch import EfficientNet

    architecture, path = architecture_and_file(request)
    if not path.is_file():
        raise WeightsUnavailable(request.spec.key, f"the checkpoint {path} does not exist.", request.spec.how_to_get)
    if not architecture.startswith("efficientnet-lite"):  # b0-b8 would load, with the wrong input scaling
        raise WeightsUnavailable(request.spec.key, f"'{architecture}' is not an EfficientNet-Lite model.",
                                 request.spec.how_to_get)
    try:
        model = EfficientNet.from_name(architecture)
    except ValueError as exc:
        raise WeightsUnavailable(request.spec.key, f"'{architecture}' is not an EfficientNet-Lite model ({exc}).",
                                 request.spec.how_to_get) from exc
    try:
        state = read_state_dict(path)
        if not isinstance(state, dict):
            raise TypeError(f"it holds a {type(state).__name__}, not a state dict")
        model.load_state_dict(state)
    except Exception as exc:  # damaged, truncated, pickled or wrong-architecture files alike
        raise WeightsUnavailable(request.spec.key, f"{path} is not a usable {architecture} checkpoint ({exc}).",
                                 request.spec.how_to_get) from exc
    dtype = devices.torch_dtype(request.dtype)
    model = model.to(device=request.device, dtype=dtype).eval()
    classifier = ImageClassifier(model, request.device, dtype, request.spec.source, int(model.input_image_size),
                                 imagenet_labels())
    classifier.batcher = batcher_for(classifier._run_batch, request.batch, request.spec.key)
    return classifier
