"""Build a labelled validation set of REAL photos for tuning the label bridge
(scripts/tune_label_bridge.py), from photos that ship inside installed packages.

    python -m scripts.validation_photos [FOLDER]          # default /tmp/mms-vision-val
    python -m scripts.validation_photos FOLDER --no-apt   # Python packages only (17 photos + 2 crops)
    python -m scripts.validation_photos FOLDER --debs DIR # use .deb files already downloaded

Writes FOLDER/*.jpg|png and FOLDER/labels.csv with columns file,name,kind,source: `name` is
what a person would call the main object ("cat", "coffee cup"); `kind` is `photo` (a whole
photo) or `crop` (an object cut out of one of the photos, a few extra items, kept apart so
results can be read with and without them). Names were written down from looking at the
photos, before any model saw them.

Sources (no network but package registries):
  scikit-image (skimage/data in the wheel), scikit-learn (load_sample_images),
  matplotlib (mpl-data/sample_data), gradio (media_assets, test_data), and three Debian
  packages fetched with `apt-get download` and unpacked with `dpkg-deb -x` (not installed):
  opencv-doc (examples/data and friends), mate-backgrounds (nature photos),
  lomiri-wallpapers-20.04 (one bird photo).
Skipped on purpose: calibration boards, logos, drawings and renders, paintings (starry_night,
graffiti), stereo/flow duplicates (aloeR, basketball2, rubberwhale), textures (brick, grass,
gravel), photos with synthetic motion blur (clock_motion, licenseplate_motion), microscopy.
The repo's assets/gallery/*.jpg are resized copies of the scikit-image/scikit-learn photos,
so they are not added again. Photos larger than 1024 px on the long side are downscaled
(JPEG q92); smaller ones are copied byte for byte."""
from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

DEFAULT_FOLDER = Path("/tmp/mms-vision-val")
MAX_SIDE = 1024
DEBS = ("opencv-doc", "mate-backgrounds", "lomiri-wallpapers-20.04")


@dataclass(frozen=True)
class Item:
    out: str  # file name in the validation folder (without suffix)
    name: str  # what a person calls the main object
    where: str  # "pkg:<python package>/<path>" or "deb:<path inside the unpacked debs>"
    crop: tuple[int, int, int, int] | None = None  # (left, top, right, bottom) in the source's pixels


_OCV = "deb:usr/share/doc/opencv-doc/examples/"
_MATE = "deb:usr/share/backgrounds/mate/nature/"
ITEMS: tuple[Item, ...] = (
    # scikit-image
    Item("astronaut", "astronaut", "pkg:skimage/data/astronaut.png"),
    Item("coffee", "coffee cup", "pkg:skimage/data/coffee.png"),
    Item("chelsea", "cat", "pkg:skimage/data/chelsea.png"),
    Item("rocket", "rocket", "pkg:skimage/data/rocket.jpg"),
    Item("motorcycle", "motorcycle", "pkg:skimage/data/motorcycle_left.png"),
    Item("cameraman", "camera", "pkg:skimage/data/camera.png"),
    Item("coins", "coin", "pkg:skimage/data/coins.png"),
    Item("moon", "moon", "pkg:skimage/data/moon.png"),
    Item("hubble", "galaxy", "pkg:skimage/data/hubble_deep_field.jpg"),
    # scikit-learn, matplotlib
    Item("china", "temple", "pkg:sklearn/datasets/images/china.jpg"),
    Item("sklearn_flower", "flower", "pkg:sklearn/datasets/images/flower.jpg"),
    Item("grace_hopper", "woman", "pkg:matplotlib/mpl-data/sample_data/grace_hopper.jpg"),
    # gradio
    Item("cheetah_running", "cheetah", "pkg:gradio/media_assets/images/cheetah.jpg"),
    Item("cheetah_face", "cheetah", "pkg:gradio/media_assets/images/cheetah1.jpg"),
    Item("cheetah_cub", "cheetah", "pkg:gradio/test_data/cheetah2.jpg"),
    Item("lion", "lion", "pkg:gradio/media_assets/images/lion.jpg"),
    Item("eiffel", "eiffel tower", "pkg:gradio/media_assets/images/tower.jpg"),
    # opencv-doc
    Item("apple", "apple", _OCV + "data/apple.jpg"),
    Item("orange", "orange", _OCV + "data/orange.jpg"),
    Item("baboon", "baboon", _OCV + "data/baboon.jpg"),
    Item("butterfly", "butterfly", _OCV + "data/butterfly.jpg"),
    Item("butterfly_wing", "butterfly", _OCV + "dnn_superres/butterfly.png"),
    Item("building", "building", _OCV + "data/building.jpg"),
    Item("fruits", "fruit", _OCV + "data/fruits.jpg"),
    Item("palace", "palace", _OCV + "data/home.jpg"),
    Item("leuven", "street", _OCV + "data/leuvenA.jpg"),
    Item("messi", "soccer player", _OCV + "data/messi5.jpg"),
    Item("squirrel", "squirrel", _OCV + "data/squirrel_cls.jpg"),
    Item("plant", "potted plant", _OCV + "alphamat/input_images/plant.jpg"),
    Item("aloe", "aloe", _OCV + "data/aloeL.jpg"),
    Item("circuit_board", "circuit board", _OCV + "data/board.jpg"),
    Item("dog", "dog", _OCV + "data/chicky_512.png"),
    Item("notebook", "notebook", _OCV + "data/ela_original.jpg"),
    Item("robin", "robin", _OCV + "hfs/data/000.jpg"),
    Item("lake", "lake", _OCV + "hfs/data/001.jpg"),
    Item("tree", "tree", _OCV + "hfs/data/002.jpg"),
    Item("house", "house", _OCV + "reg/home.png"),
    Item("street_sign", "street sign", _OCV + "text/scenetext01.jpg"),
    Item("shop", "shop", _OCV + "text/scenetext06.jpg"),
    Item("candy", "candy", _OCV + "data/smarties.png"),
    # mate-backgrounds, lomiri-wallpapers-20.04
    Item("marigold", "flower", _MATE + "Garden.jpg"),
    Item("nuthatch", "bird", "deb:usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg"),
    # object crops of the photos above (kind=crop)
    Item("crop_coffee_cup", "coffee cup", "pkg:skimage/data/coffee.png", (170, 10, 430, 320)),
    Item("crop_flag", "flag", "pkg:skimage/data/astronaut.png", (0, 0, 100, 300)),
    Item("crop_lighter", "lighter", _OCV + "data/stuff.jpg", (250, 300, 410, 470)),
    Item("crop_kiwi", "kiwi", _OCV + "data/fruits.jpg", (0, 270, 120, 480)),
    Item("crop_lemon", "lemon", _OCV + "data/fruits.jpg", (320, 245, 512, 480)),
    Item("crop_soccer_ball", "soccer ball", _OCV + "data/messi5.jpg", (310, 270, 415, 342)),
    Item("crop_car", "car", _OCV + "text/scenetext01.jpg", (395, 415, 700, 580)),
    Item("crop_ladybug", "ladybug", _MATE + "LadyBird.jpg", (1536, 576, 2048, 1088)),
)


def package_dir(name: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(name)
    return Path(spec.origin).parent


def unpack_debs(into: Path, debs_dir: Path | None) -> Path | None:
    """Download (apt-get download, no install) and unpack DEBS into `into`; None if apt is unusable."""
    work = debs_dir or into / "debs"
    work.mkdir(parents=True, exist_ok=True)
    root = into / "root"
    for package in DEBS:
        found = sorted(work.glob(f"{package}_*.deb"))
        if not found:
            result = subprocess.run(["apt-get", "download", package], cwd=work, capture_output=True, text=True)
            found = sorted(work.glob(f"{package}_*.deb"))
            if not found:
                print(f"  could not download {package}: {result.stderr.strip()[-200:]}", file=sys.stderr)
                continue
        subprocess.run(["dpkg-deb", "-x", str(found[-1]), str(root)], check=True)
    return root if root.is_dir() else None


def resolve(where: str, deb_root: Path | None) -> Path | None:
    kind, _, rest = where.partition(":")
    if kind == "pkg":
        package, _, inner = rest.partition("/")
        try:
            path = package_dir(package) / inner
        except FileNotFoundError:
            return None
    else:
        if deb_root is None:
            return None
        path = deb_root / rest
    return path if path.is_file() else None


def write_item(item: Item, source: Path, folder: Path) -> str:
    from PIL import Image

    with Image.open(source) as image:
        if item.crop is None and max(image.size) <= MAX_SIDE:
            target = folder / f"{item.out}{source.suffix.lower()}"
            shutil.copyfile(source, target)
            return target.name
        image = image.convert("RGB")
        if item.crop is not None:
            image = image.crop(item.crop)
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.LANCZOS)
        target = folder / f"{item.out}.jpg"
        image.save(target, quality=92)
        return target.name


def source_label(where: str) -> str:
    """Where an item came from, for labels.csv: python package or Debian package, and path."""
    kind, _, rest = where.partition(":")
    if kind == "pkg":
        return rest
    if rest.startswith("usr/share/doc/"):
        return rest.removeprefix("usr/share/doc/")
    package = "mate-backgrounds" if "/mate/" in rest else "lomiri-wallpapers-20.04"
    return f"{package}/{rest}"


def build(folder: Path, use_apt: bool = True, debs_dir: Path | None = None) -> list[dict]:
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="mms-val-debs-") as scratch:
        deb_root = unpack_debs(Path(scratch), debs_dir) if use_apt else None
        for item in ITEMS:
            source = resolve(item.where, deb_root)
            if source is None:
                print(f"  missing: {item.where}", file=sys.stderr)
                continue
            name = write_item(item, source, folder)
            rows.append({"file": name, "name": item.name, "kind": "crop" if item.crop else "photo",
                         "source": source_label(item.where)})
    with open(folder / "labels.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["file", "name", "kind", "source"])
        writer.writeheader()
        writer.writerows(rows)
    return rows


def read_labels(folder: Path, crops: bool = True) -> list[dict]:
    """labels.csv rows ({file, name, kind, source}, `file` made absolute)."""
    with open(Path(folder) / "labels.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["file"] = str(Path(folder) / row["file"])
    return [r for r in rows if crops or r.get("kind", "photo") == "photo"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--no-apt", action="store_true", help="only photos inside Python packages")
    parser.add_argument("--debs", type=Path, default=None, help="folder holding (or to receive) the .deb files")
    args = parser.parse_args()
    rows = build(args.folder, use_apt=not args.no_apt, debs_dir=args.debs)
    photos = sum(r["kind"] == "photo" for r in rows)
    names = len({r["name"] for r in rows})
    print(f"{len(rows)} items ({photos} photos, {len(rows) - photos} crops), {names} distinct names -> "
          f"{args.folder / 'labels.csv'}")


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
