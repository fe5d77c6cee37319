"""The images of a batch as uploaded: files kept one row each, zips opened by the reader every
upload path shares (model_zoo.core.uploads: its size, count and name rules), each refused
file kept as a row of its own that says why."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from model_zoo.core import uploads
from model_zoo.core.errors import InputError
from model_zoo.core.uploads import UploadLimits

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}


@dataclass(frozen=True)
class ImageInput:
    name: str  # what the user calls it (file name, or member name inside a zip)
    file: Path | None
    error: str = ""  # why it was refused before decoding ("" when it was read)


def expand_uploads(files: Sequence[str | Path], workdir: Path, max_images: int,
                   limits: UploadLimits | None = None) -> list[ImageInput]:
    """Uploaded files as images to caption: zips are opened (safely) into `workdir`. Every
    file, read or refused, gets its own row: a refused one (a zip member of another kind, too
    large, badly named, a damaged zip...) carries its reason, an uploaded file that is not an
    image gets its decoder's. At most `max_images` files are read."""
    return read_batch(files, workdir, max_images, limits)[0]


def read_batch(files: Sequence[str | Path], workdir: Path, max_images: int,
               limits: UploadLimits | None = None) -> tuple[list[ImageInput], str]:
    """expand_uploads, and the refusals summed up in one sentence ("" when none)."""
    read = uploads.read_uploads(files, workdir, limits or UploadLimits(), members=IMAGE_SUFFIXES, what="image")
    if len(read.files) > max_images:
        raise _too_many(max_images)
    inputs = [ImageInput(f.name, f.file) for f in read.files]
    inputs += [ImageInput(r["name"], None, r["reason"]) for r in read.rejected]
    if not inputs:
        raise InputError("Please provide images (or a zip of images) to caption.")
    return inputs, read.summary(listed=False)


def _too_many(max_images: int) -> InputError:
    return InputError(f"That is more than {max_images} images; caption at most {max_images} at a time "
                      "(the limit is the caption_max_images setting).")
