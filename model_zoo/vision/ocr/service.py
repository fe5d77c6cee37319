"""Reading the text in an image (signs, labels, pages) with the packaged OCR (registry `ocr`:
PP-OCRv5 on onnxruntime, model_zoo.vision.ocr.backend), for /read_text, captions that
quote what a sign says, and galleries that find a photo by the words in it.

Thresholds, chosen on our own validation set (20 words painted as signs onto the sample
photos, blurred and tilted, plus 10 photos without text): every sign word came back at
confidence >= 0.946, and the only lines the recogniser returned on plain photos scored
<= 0.074 (a lone "0" on the moon, a CJK glyph on the flower). So a line is kept at
>= LINE_MIN_CONFIDENCE (0.6) with at least one letter or digit, and quoted in a caption
at >= QUOTE_MIN_CONFIDENCE (0.8) with at least two letters or digits. Recognition costs
more than detection; `read_if_any` runs the detector first and skips the recogniser
when there is no text box (most photos).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from PIL import Image, ImageDraw, ImageFont

from model_zoo.core.manager import ModelManager
from model_zoo.vision import images as image_io

OCR_KEY = "ocr"
LINE_MIN_CONFIDENCE = 0.6
QUOTE_MIN_CONFIDENCE = 0.8
QUOTE_MAX_CHARS = 60
MIN_SIDE = 8  # smaller images hold no legible text (and trip the detector's resizing)


@dataclass
class TextLine:
    text: str
    box: list[int]  # [x0, y0, x1, y1] in the image's pixels
    confidence: float


@dataclass
class ReadTextResult:
    text: str  # the kept lines, top to bottom, one a line ("" when none)
    lines: list[TextLine]
    engine: str  # the OCR model that read it
    timing: dict[str, float] = field(default_factory=dict)
    width: int = 0
    height: int = 0
    dropped: int = 0  # lines the recogniser returned below LINE_MIN_CONFIDENCE

    def to_dict(self) -> dict:
        return asdict(self)


def _alnum(text: str) -> int:
    return sum(ch.isalnum() for ch in text)


def keep_lines(lines: Iterable, min_confidence: float = LINE_MIN_CONFIDENCE) -> list[TextLine]:
    """Lines worth reporting: confident enough, with at least one letter or digit, text stripped."""
    kept = []
    for line in lines:
        text = " ".join(str(line.text).split())
        if float(line.confidence) >= min_confidence and _alnum(text) >= 1:
            kept.append(TextLine(text, [int(v) for v in line.box], round(float(line.confidence), 4)))
    return kept


def legible_text(lines: Sequence[TextLine], min_confidence: float = QUOTE_MIN_CONFIDENCE,
                 max_chars: int = QUOTE_MAX_CHARS) -> str:
    """What a caption may quote: the confident lines (two or more letters/digits) joined by
    spaces, cut at a word boundary to at most max_chars; "" when nothing is legible."""
    words = " ".join(line.text for line in lines if line.confidence >= min_confidence and _alnum(line.text) >= 2)
    if len(words) <= max_chars:
        return words
    cut = words[:max_chars].rsplit(" ", 1)[0]
    return (cut or words[:max_chars]) + "…"


def quote_in_caption(caption: str, text: str) -> str:
    """'a photo of a street sign' + 'BAKERY' -> 'a photo of a street sign that reads "BAKERY"';
    a caption of several parts or hedges ('a lizard, probably ...', 'a lemon and an orange')
    gets ', with text that reads "BAKERY"', which says nothing of which object bears it."""
    text = text.replace('"', "'").strip()
    if not text or not caption:
        return caption
    caption = caption.rstrip(" .")
    if "," in caption or " and " in caption or "may be" in caption or caption.startswith("an unclear"):
        return f'{caption}, with text that reads "{text}"'
    return f'{caption} that reads "{text}"'


def read_image(manager: ModelManager, image: Image.Image, detect_first: bool = False) -> ReadTextResult:
    """Read a decoded RGB image. With detect_first, the detector runs alone first and the
    recogniser only on the boxes it found (nothing more for photos without text; the same
    work and result otherwise)."""
    started = time.perf_counter()
    width, height = image.size
    with manager.use(OCR_KEY) as reader:
        loaded = time.perf_counter()
        detect_s = 0.0
        if min(width, height) < MIN_SIDE:
            raw = []
        elif detect_first:
            boxes = reader.detect(image)
            detect_s = time.perf_counter() - loaded
            raw = reader.read(image, boxes) if len(boxes) else []
        else:
            raw = reader.read(image)
        engine = reader.name
    done = time.perf_counter()
    lines = keep_lines(raw)
    timing = {"model_s": round(loaded - started, 3), "read_s": round(done - loaded, 3),
              "total_s": round(done - started, 3)}
    if detect_first:
        timing["detect_only_s"] = round(detect_s, 3)
    return ReadTextResult("\n".join(line.text for line in lines), lines, f"{engine} (PP-OCRv5, onnxruntime)",
                          timing, width, height, dropped=len(raw) - len(lines))


def read_text(manager: ModelManager, image_path: str | Path) -> ReadTextResult:
    """Read the text in one image file; a bad file raises InputError before any model loads."""
    return read_image(manager, image_io.load_image(image_path))


def read_if_any(manager: ModelManager, image: Image.Image) -> str:
    """The text of an image for a gallery index: detector first, recogniser only where it found text."""
    return read_image(manager, image, detect_first=True).text


def draw_boxes(
    image: Image.Image, lines: Sequence[TextLine], colour: tuple[int, int, int] = (255, 40, 40)
) -> Image.Image:
    """A copy of `image` with each line's box outlined and its text and confidence above it."""
    out = image.convert("RGB").copy()
    draw = ImageDraw.Draw(out)
    width = max(2, round(max(out.size) / 300))
    try:
        font = ImageFont.load_default(size=max(12, round(max(out.size) / 45)))
    except TypeError:  # Pillow without FreeType sizes
        font = ImageFont.load_default()
    for line in lines:
        x0, y0, x1, y1 = line.box
        draw.rectangle([x0, y0, x1, y1], outline=colour, width=width)
        label = f"{line.text} ({line.confidence:.2f})"
        left, top, right, bottom = draw.textbbox((x0, y0), label, font=font)
        y = y0 - (bottom - top) - 4 if y0 - (bottom - top) - 4 >= 0 else y1 + 2
        draw.rectangle([x0, y, x0 + (right - left) + 4, y + (bottom - top) + 4], fill=colour)
        draw.text((x0 + 2 - (left - x0), y + 2 - (top - y0)), label, fill=(255, 255, 255), font=font)
    return out
