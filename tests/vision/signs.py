"""Photos with a painted sign on them (a word in a bold face on a coloured board with a
border, slightly tilted and blurred), made on the fly from the sample gallery: the
validation images behind the OCR thresholds (model_zoo/vision/ocr/service.py)."""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

GALLERY = Path(__file__).resolve().parents[2] / "assets" / "gallery"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
CHINESE_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"  # fonts-wqy-microhei (packages-test.txt)


def _font(size: int, word: str = "") -> ImageFont.ImageFont:
    chinese = any("\u4e00" <= c <= "\u9fff" for c in word)
    try:
        return ImageFont.truetype(CHINESE_FONT if chinese else FONT, size)
    except OSError:
        if chinese:
            raise RuntimeError(f"no Chinese font at {CHINESE_FONT}: apt-get install fonts-wqy-microhei") from None
        return ImageFont.load_default(size=size)


def render_sign(word: str, photo: str, out: Path, board=(160, 30, 30), ink=(250, 245, 230), size: int = 48,
                where: tuple[int, int] = (120, 80), tilt: float = 4.0) -> Path:
    """`photo` (a name in assets/gallery) resized to 640 px wide, with `word` on a sign."""
    image = Image.open(GALLERY / f"{photo}.jpg").convert("RGB")
    image = image.resize((640, round(640 * image.height / image.width)))
    font = _font(size, word)
    left, top, right, bottom = ImageDraw.Draw(image).textbbox((0, 0), word, font=font)
    sign = Image.new("RGBA", (right - left + 40, bottom - top + 30), board + (255,))
    draw = ImageDraw.Draw(sign)
    draw.rectangle([2, 2, sign.width - 3, sign.height - 3], outline=ink, width=3)
    draw.text((20 - left, 15 - top), word, font=font, fill=ink)
    sign = sign.rotate(tilt, expand=True, resample=Image.BICUBIC)
    image.paste(sign, where, sign)
    image.filter(ImageFilter.GaussianBlur(0.6)).save(out, quality=88)
    return out
