"""Reading the text in images (signs, labels, pages) with the packaged OCR.

- service: reading an image (`read_image`, `read_text`, `read_if_any`), the thresholds, how
  a caption quotes a legible line, and the boxes drawn on the image;
- backend: PaddleOCR PP-OCRv5 on onnxruntime, which the model manager loads (its string is
  in model_zoo/core/backends.py); not imported here."""
from __future__ import annotations

from model_zoo.vision.ocr.service import (
    LINE_MIN_CONFIDENCE, OCR_KEY, QUOTE_MAX_CHARS, QUOTE_MIN_CONFIDENCE, ReadTextResult, TextLine, draw_boxes,
    keep_lines, legible_text, quote_in_caption, read_if_any, read_image, read_text)

__all__ = [
    "LINE_MIN_CONFIDENCE", "OCR_KEY", "QUOTE_MAX_CHARS", "QUOTE_MIN_CONFIDENCE", "ReadTextResult", "TextLine",
    "draw_boxes", "keep_lines", "legible_text", "quote_in_caption", "read_if_any", "read_image", "read_text",
]
