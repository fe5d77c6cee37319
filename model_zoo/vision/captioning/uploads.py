"""The images of a batch as uploaded: files kept one row each, zips opened safely (no folder
from the archive reaches the file system, sizes and counts checked before anything is
written)."""
from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Sequence

from model_zoo.vision import images as image_io
from model_zoo.core.errors import InputError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}


@dataclass(frozen=True)
class ImageInput:
    name: str  # what the user calls it (file name, or member name inside a zip)
    file: Path


def expand_uploads(files: Sequence[str | Path], workdir: Path, max_images: int) -> list[ImageInput]:
    """Uploaded files as images to caption: zips are opened (safely) into `workdir`.
    Non-image members of a zip are skipped; uploaded files are all kept so that each one
    gets its own row (and its own error if it is not an image)."""
    inputs: list[ImageInput] = []
    for file in map(Path, files):
        if file.suffix.lower() == ".zip":
            inputs.extend(_unzip_images(file, workdir / f"zip{len(inputs)}", max_images - len(inputs), max_images))
        else:
            inputs.append(ImageInput(file.name, file))
        if len(inputs) > max_images:
            raise _too_many(max_images)
    if not inputs:
        raise InputError("Please provide images (or a zip of images) to caption.")
    return inputs


def _too_many(max_images: int) -> InputError:
    return InputError(f"That is more than {max_images} images; caption at most {max_images} at a time "
                      "(the limit is the caption_max_images setting).")


def _unzip_images(archive: Path, into: Path, room: int, max_images: int) -> list[ImageInput]:
    """Image members of a zip, extracted as `into/<number>/<base name>` (no folder from
    the archive reaches the file system), each within the image size limit,
    and no more than `room` of them (counted before anything is written)."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = [m for m in zipped.infolist() if _is_image_member(m)]
            if len(members) > room:
                raise _too_many(max_images)
            into.mkdir(parents=True, exist_ok=True)
            inputs = []
            for number, member in enumerate(members):
                if member.file_size > image_io.MAX_BYTES:
                    raise InputError(f"'{member.filename}' in {archive.name} is {member.file_size / 2**20:.0f} MB; "
                                     f"images up to {image_io.MAX_BYTES / 2**20:.0f} MB are accepted.")
                target = into / f"{number:05d}" / PurePosixPath(member.filename).name  # flat, name kept
                target.parent.mkdir()
                with zipped.open(member) as source:
                    target.write_bytes(source.read(image_io.MAX_BYTES + 1))
                inputs.append(ImageInput(member.filename, target))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, RuntimeError) as exc:
        raise InputError(f"'{archive.name}' is not a readable zip archive ({exc}).") from None
    if not inputs:
        raise InputError(f"'{archive.name}' holds no images (looked for {', '.join(sorted(IMAGE_SUFFIXES))}).")
    return inputs


def _is_image_member(member: zipfile.ZipInfo) -> bool:
    path = PurePosixPath(member.filename)
    hidden = any(part.startswith((".", "__MACOSX")) for part in path.parts)
    return not member.is_dir() and not hidden and path.suffix.lower() in IMAGE_SUFFIXES
