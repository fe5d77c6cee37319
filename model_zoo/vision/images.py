"""Safe image decoding for every tab: size limits, decompression-bomb guard, EXIF
orientation, and any mode (RGBA, P, CMYK, greyscale, 16-bit) to RGB. Bad files raise
InputError with a message naming the file and what is wrong with it."""
from __future__ import annotations

import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from model_zoo.core.errors import InputError

MAX_PIXELS = 50_000_000  # ~7000 x 7000; beyond this decoding is a memory hazard
MAX_BYTES = 50 << 20


def load_image(path: str | Path, max_pixels: int = MAX_PIXELS, max_bytes: int = MAX_BYTES) -> Image.Image:
    """Decode `path` fully into an upright RGB image, or raise InputError."""
    path = Path(path)
    name = path.name
    try:
        size = path.stat().st_size
    except OSError:
        raise InputError(f"'{name}' could not be read; please upload it again.") from None
    if size == 0:
        raise InputError(f"'{name}' is empty (0 bytes).")
    if size > max_bytes:
        raise InputError(f"'{name}' is {size / 2**20:.0f} MB; images up to {max_bytes / 2**20:.0f} MB are accepted.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
            width, height = image.size
            if width * height > max_pixels:
                raise InputError(
                    f"'{name}' is {width} x {height} pixels; "
                    f"images up to {max_pixels / 1e6:.0f} megapixels are accepted."
                )
            image.load()
    except InputError:
        raise
    except UnidentifiedImageError:
        raise InputError(f"'{name}' is not an image this app can read (JPEG, PNG, WebP, GIF, BMP, TIFF...).") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InputError(f"'{name}' declares an enormous size (a decompression bomb?); refused.") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"'{name}' is damaged or truncated and cannot be decoded ({exc}).") from None
    return to_rgb(ImageOps.exif_transpose(image))


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB with transparency flattened onto white (how people expect a PNG to look)."""
    if image.mode == "RGB":
        return image
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        return background
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        image = image.point(lambda value: value * (1 / 256)).convert("L")
    return image.convert("RGB")
