"""Nothing lost: the app killed with SIGKILL at awkward moments, and a full disk.

Every case runs the real thing: `python app.py` (or the real save routine) in a subprocess,
killed with a real `os.kill(pid, SIGKILL)` (no mock, no test hook in the app), then the app
started again on the same data dir, as the same visitor: a gradio_client session is an
anonymous visitor whose owner id is an HMAC of its session hash under the data dir's secret
(components/visitor.py, model_zoo/core/ownership/), so a client given the old session hash
after the restart is that visitor again.

1. kill -9 while ~40 photos are being indexed (once mid-embedding, once the moment the commit
   starts writing): the gallery opens, answers, holds the before or the after state, never a
   mix, and indexing the same photos again adds exactly what is missing.
2. kill -9 while a head trains: /heads works, no half head is listed, an earlier head loads
   and answers /sentiment as before.
3. kill -9 at random moments of back-to-back head saves (the real `save_head` on the shipped
   fast head, in forked children of one warm interpreter): the folder always holds the last
   head saved or the one being saved, whole and loadable; the debris a kill leaves is ignored
   and cleared when the heads are next listed.
4. kill -9 during the default warm start (while the packs are joined and unpacked into the
   model cache, twice): after a restart on the same cache the first /sentiment and
   /speech_translate answer correctly, the joined packs match their sha256 and no partial
   join is left behind.
5. A full disk (the data dir on a small tmpfs): indexing and a head save are refused with the
   app's DISK_FULL message, never a traceback; the server stays up and what was saved before
   still answers."""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image, ImageDraw

from app.network import answers, free_port, wait_until_answers

REPO = Path(__file__).resolve().parent.parent
ASSETS = REPO / "assets"
DATASET = ASSETS / "datasets" / "amazon_reviews_300.csv"
FOX = ASSETS / "audio" / "english_quick_fox.ogg"
FAST_HEAD = ASSETS / "heads" / "fast"
DISK_FULL_START = "The server's disk is full"  # components/common.py DISK_FULL


# -- the app as a process we can kill ---------------------------------------------------
class App:
    """`python app.py` on a data dir: start it (again), kill -9 it, stop it. Gradio's upload
    cache and the logs live outside the data dir (the data dir may be a tiny tmpfs)."""

    def __init__(self, data: Path, scratch: Path, *extra: str, warm: str = "none") -> None:
        self.data, self.extra, self.warm = Path(data), extra, warm
        self.scratch = Path(scratch)
        (self.scratch / "gradio").mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.starts = 0

    @property
    def log(self) -> Path:
        return self.scratch / f"server-{self.starts}.log"

    def start(self, timeout: float = 120) -> str:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("MMS_")}  # no stray settings
        env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONUNBUFFERED="1",
                   GRADIO_ANALYTICS_ENABLED="False", GRADIO_TEMP_DIR=str(self.scratch / "gradio"))
        command = [sys.executable, str(REPO / "app.py"), "--port", str(port), "--data-dir", str(self.data),
                   "--offline", "--warm", self.warm, *self.extra]
        self.starts += 1
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{port}/"
        try:
            wait_until_answers(self.url, [self.process], [self.log], timeout=timeout, poll_s=0.2)
        except RuntimeError:
            self.kill()
            raise
        return self.url

    def answers(self) -> bool:
        return answers(self.url)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL, as the OOM killer or a pulled plug would: no handler, no cleanup."""
        if self.alive:
            os.kill(self.process.pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=30)


@pytest.fixture
def apps():
    """Makes Apps; every one still running at the end of the test is killed (its data dir is
    thrown away, and a graceful close takes seconds)."""
    made: list[App] = []

    def make(*args, **kwargs) -> App:
        made.append(App(*args, **kwargs))
        return made[-1]

    yield make
    for app in made:
        app.kill()


def visitor(url: str, session: str | None = None) -> Client:
    """A gradio_client session; with `session`, the visitor that session hash was before."""
    client = Client(url, verbose=False)
    if session:
        client.session_hash = session
    return client


def error_of(client: Client, *args, api_name: str) -> str:
    with pytest.raises(Exception) as info:
        client.predict(*args, api_name=api_name)
    message = str(info.value)
    assert "Traceback" not in message and "Something went wrong" not in message, message
    return message


def wait_for(condition, timeout: float, interval: float = 0.005) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


def debris(folder: Path) -> list[str]:
    """What an interrupted atomic write leaves: hidden temp files/folders, swapped-out folders."""
    found = []
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            if name.startswith(".") and (name.endswith(".tmp") or ".old-" in name):
                found.append(os.path.relpath(os.path.join(root, name), folder))
    return sorted(found)


def owner_folder(data: Path, kind: str, name: str) -> Path:
    """The one visitor folder of `kind` holding `name` (owners/<id>/<kind>/<name>)."""
    found = sorted(data.glob(f"owners/*/{kind}/{name}"))
    assert len(found) == 1, found
    return found[0]


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory) -> Path:
    """One model cache for the module's apps (MPNet is unpacked into it once): each data dir's
    `cache` is a link to it, except in the warm-start test, which fills it from nothing."""
    return tmp_path_factory.mktemp("faults-model-cache")


def data_dir(root: Path, cache: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "cache").symlink_to(cache, target_is_directory=True)
    return root


# -- photos and datasets -------------------------------------------------------------------
def make_photos(folder: Path, count: int, seed: int, size=(640, 480)) -> list[Path]:
    """Distinct pictures: a coloured gradient with random ellipses (different bytes each)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    width, height = size
    y, x = np.mgrid[0:height, 0:width]
    photos = []
    for number in range(count):
        base, slope = rng.uniform(0, 255, 3), rng.uniform(-0.5, 0.5, (3, 2))
        pixels = np.stack([(base[c] + slope[c, 0] * x + slope[c, 1] * y) % 256 for c in range(3)], -1)
        image = Image.fromarray(pixels.astype(np.uint8))
        draw = ImageDraw.Draw(image)
        for _ in range(6):
            x0, y0 = int(rng.integers(0, width - 40)), int(rng.integers(0, height - 40))
            draw.ellipse([x0, y0, x0 + int(rng.integers(20, 220)), y0 + int(rng.integers(20, 220))],
                         fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
        path = folder / f"s{seed}-{number:03d}.jpg"
        image.save(path, quality=90)
        photos.append(path)
    return photos


def noise_photos(folder: Path, count: int, seed: int) -> list[Path]:
    """Pictures that do not compress: each preview takes tens of KB on the disk."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    photos = []
    for number in range(count):
        path = folder / f"noise{seed}-{number:03d}.png"
        Image.fromarray(rng.integers(0, 256, (224, 224, 3), dtype=np.uint8)).save(path)
        photos.append(path)
    return photos


def uploads(paths) -> list:
    return [handle_file(str(p)) for p in paths]


def reviews(path: Path, rows_per_label: int | None = None, variants: int = 1) -> Path:
    """The shipped review CSV: a balanced subset, or the whole with reworded copies (distinct
    texts, so the encoder has real work)."""
    import pandas as pd

    data = pd.read_csv(DATASET)
    if rows_per_label:
        data = data.groupby("label").head(rows_per_label)
    copies = [data] + [data.assign(text=f"take {n}: " + data.text) for n in range(1, variants)]
    pd.concat(copies).to_csv(path, index=False)
    return path


# -- what a gallery holds on disk ----------------------------------------------------------
def gallery_names_on_disk(folder: Path) -> set[str]:
    """The committed gallery's image names, after checking it is whole: every index it names
    exists and holds exactly the manifest's ids, every item has its preview."""
    import faiss

    manifest = json.loads((folder / "manifest.json").read_text())
    ids = {item["id"] for item in manifest["items"]}
    for key in ("index_file", "visual_file"):
        if manifest.get(key):
            index = faiss.deserialize_index(np.fromfile(folder / manifest[key], dtype=np.uint8))
            assert set(faiss.vector_to_array(index.id_map).tolist()) == ids, f"{key} does not match the manifest"
    assert all((folder / "thumbs" / f"{i}.jpg").is_file() for i in ids)
    names = [item["name"] for item in manifest["items"]]
    assert len(names) == len(set(names))
    return set(names)


def gallery_names(client: Client, gallery: str, query: Path) -> set[str]:
    """What the gallery answers with: a search by image for everything (k=100)."""
    found = client.predict("", handle_file(str(query)), 100, gallery, api_name="/search")
    assert found["results"][0]["name"] == query.name  # a photo finds itself first
    return {hit["name"] for hit in found["results"]}


# -- 4. kill -9 during the warm start ------------------------------------------------------------
@pytest.mark.slow
def test_kill_during_the_warm_start_then_first_calls_answer(tmp_path, apps, model_cache):
    from model_zoo.core import packs

    data = tmp_path / "data"
    data.mkdir()
    (data / "cache").symlink_to(model_cache, target_is_directory=True)  # the module's cache, empty or not
    cache = model_cache
    for stale in list(cache.iterdir()):  # this test starts from an empty model cache
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    app = apps(data, tmp_path / "scratch", warm="default")
    whisper = cache / "whisper-base-ct2"

    seed = int(os.environ.get("STUDIO_FAULT_SEED", "4242"))  # another seed moves the kills: printed to replay
    rng = random.Random(seed)  # where each kill lands after its event
    print("kill delays seeded with", seed)
    app.start()  # kill while Whisper's model.bin is being joined
    seen = wait_for(lambda: any(whisper.glob(".model.bin.*.tmp")), 60, 0.002)
    time.sleep(rng.uniform(0, 0.05))  # the join takes well under a second once the parts are cached
    app.kill()
    print("1st kill:", "while joining Whisper" if seen else "(no join seen)", debris(cache))

    app.start()  # kill while MPNet's zip is joined or unpacked into its staging folder
    seen = wait_for(lambda: any(cache.glob(".all-mpnet-base-v2.*.tmp")), 90)
    time.sleep(rng.uniform(0, 2.0))  # either outcome (whole or not yet there) must restart cleanly
    app.kill()
    print("2nd kill:", "while unpacking MPNet" if seen else "(no unpacking seen)", debris(cache))

    client = visitor(app.start())  # the first calls land during the warm start, as a visitor's would
    happy = client.predict("What a wonderful, heartfelt film. I loved it.", None, None, "default",
                           api_name="/sentiment")
    sad = client.predict("A dull, painful mess. I hated every minute.", None, None, "default",
                         api_name="/sentiment")
    assert (happy["label"], sad["label"]) == ("positive", "negative")
    speech = client.predict(handle_file(str(FOX)), "transcribe", "auto", 1, api_name="/speech_translate")
    assert speech["language"] == "en" and "quick brown fox" in speech["transcript"].lower()
    from model_zoo.core.storage import sha256_file

    assert sha256_file(whisper / "model.bin") == packs.WHISPER_BASE_SHA256
    assert sha256_file(cache / "all-mpnet-base-v2" / "model.safetensors") == packs.MPNET_SAFETENSORS_SHA256
    assert wait_for(lambda: "warm start (default) done" in app.log.read_text(), 120, 0.5)
    assert not debris(cache), debris(cache)  # no partial join or unpacking left to fill the disk


# -- 1. kill -9 while indexing ---------------------------------------------------------------
@pytest.mark.slow
def test_kill_while_indexing_leaves_the_gallery_before_or_after(tmp_path, apps, model_cache):
    data = data_dir(tmp_path / "data", model_cache)
    app = apps(data, tmp_path / "scratch")
    first = make_photos(tmp_path / "photos", 8, seed=1)
    batch = make_photos(tmp_path / "photos", 40, seed=2)
    second_batch = make_photos(tmp_path / "photos", 8, seed=3)  # (b) needs one commit, not a big batch
    names = lambda paths: {p.name for p in paths}

    ann = visitor(app.start())
    session = ann.session_hash
    assert ann.predict(uploads(first), "trip", api_name="/index_images")["added"] == 8  # loads the models
    folder = owner_folder(data, "galleries", "trip")

    # (a) kill in the middle of embedding 40 photos: the moment the server logs its first batch of them
    job = ann.submit(uploads(batch), "trip", api_name="/index_images")
    assert wait_for(lambda: "embedded 32 of 40 images" in app.log.read_text(), 120, 0.002), "no batch seen"
    app.kill()
    print("killed after the first batch;", "the job had ended" if job.done() else "the job was running")
    on_disk = gallery_names_on_disk(folder)
    assert on_disk in (names(first), names(first + batch))

    ann = visitor(app.start(), session)
    assert "trip" in ann.predict(api_name="/galleries")["galleries"]
    answered = gallery_names(ann, "trip", first[0])
    assert answered == on_disk
    again = ann.predict(uploads(batch), "trip", api_name="/index_images")
    if on_disk == names(first):  # before: the 40 are added, all of them, once
        assert (again["added"], again["skipped"], again["total"]) == (40, 0, 48)
    else:
        assert (again["added"], again["skipped"], again["total"]) == (0, 40, 48)
    assert gallery_names(ann, "trip", batch[0]) == names(first + batch) == gallery_names_on_disk(folder)

    # (b) kill the moment the commit starts writing (the first new preview appears)
    thumbs = folder / "thumbs"
    held = len(list(thumbs.glob("*.jpg")))
    job = ann.submit(uploads(second_batch), "trip", api_name="/index_images")
    assert wait_for(lambda: len(os.listdir(thumbs)) > held, 120, 0.0005), "no commit seen"
    app.kill()
    on_disk = gallery_names_on_disk(folder)
    print("commit kill left the", "after" if len(on_disk) == 56 else "before", "state")
    assert on_disk in (names(first + batch), names(first + batch + second_batch))

    ann = visitor(app.start(), session)
    assert gallery_names(ann, "trip", first[1]) == on_disk
    again = ann.predict(uploads(second_batch), "trip", api_name="/index_images")
    assert again["added"] == 56 - len(on_disk) and again["added"] + again["skipped"] == 8
    assert again["total"] == 56
    assert gallery_names(ann, "trip", second_batch[-1]) == names(first + batch + second_batch)
    assert gallery_names_on_disk(folder) == names(first + batch + second_batch)
    leftovers = {p.name for p in thumbs.iterdir()} - {f"{i}.jpg" for i in range(56)}
    assert not leftovers and not debris(folder), (leftovers, debris(folder))


# -- 2. kill -9 while a head trains ------------------------------------------------------------
@pytest.mark.slow
def test_kill_while_training_keeps_the_heads_whole(tmp_path, apps, model_cache):
    data = data_dir(tmp_path / "data", model_cache)
    app = apps(data, tmp_path / "scratch")
    small = reviews(tmp_path / "small.csv", rows_per_label=20)
    large = reviews(tmp_path / "large.csv", variants=3)
    texts = ("I love it, it works perfectly and looks great.", "It broke after a day, a waste of money.")

    bob = visitor(app.start())
    session = bob.session_hash
    bob.predict(handle_file(str(small)), "gated", 5, 0.002, 32, 16, 0, "earlier", "", api_name="/train_head")
    before = [bob.predict(text, None, None, "earlier", api_name="/sentiment") for text in texts]

    bob.submit(handle_file(str(large)), "gated", 60, 0.002, 256, 8, 0, "killed", "", api_name="/train_head")
    # the moment the server logs the first epoch (features encoded, fitting under way; patience 8 leaves 8+ more)
    assert wait_for(lambda: "epoch 1/60 done" in app.log.read_text(), 180, 0.002), "no epoch seen"
    app.kill()
    heads = owner_folder(data, "heads", "earlier").parent
    visible = sorted(p.name for p in heads.iterdir() if not p.name.startswith("."))
    assert visible in (["earlier"], ["earlier", "killed"]), visible
    for name in visible:  # whatever has a head's name is whole: its weights match its card
        whole_head(heads / name)

    bob = visitor(app.start(), session)
    listed = bob.predict(api_name="/heads")["heads"]
    assert "earlier" in listed and {"default", "fast"} <= set(listed)
    assert ("killed" in listed) == ("killed" in visible)  # the kill fell after the save (rare): it is whole
    after = [bob.predict(text, None, None, "earlier", api_name="/sentiment") for text in texts]
    for old, new in zip(before, after):
        assert (new["label"], new["scores"], new["head"]) == (old["label"], old["scores"], "earlier")
    assert not debris(heads), debris(heads)  # the killed run's staging folder is gone
    # the name is free again, and a new head under it is whole
    report = bob.predict(handle_file(str(small)), "gated", 2, 0.002, 32, 16, 0, "killed", "", api_name="/train_head")
    assert report["head"] == "killed"
    assert bob.predict(texts[0], None, None, "killed", api_name="/sentiment")["head"] == "killed"


# -- 3. kill -9 inside head saves ---------------------------------------------------------------
# One interpreter imports torch once and loads the shipped fast head; for each round it forks
# a child that saves the head into FOLDER over and over (generation n+1, n+2, ...; the weights
# alternate between two versions, so a card and weights of two saves cannot pass the card's
# sha256), reporting "saved n" after each. The test kills the child at a random moment of a
# save. With SWAP=rename the child swaps folders the portable way (two renames), as where
# renameat2 is missing.
SAVER = r"""
import os, sys
from pathlib import Path
from model_zoo.core import storage
from model_zoo.fusion import training
from model_zoo.fusion.heads import load_head_files

if os.environ.get("SWAP") == "rename":
    storage._exchange = lambda a, b: False
card, tensors = load_head_files(Path(sys.argv[1]))
versions = [tensors, {k: -v if v.is_floating_point() else v for k, v in tensors.items()}]
print("ready", flush=True)
for line in sys.stdin:
    folder, generation = line.split()
    pid = os.fork()
    if pid == 0:
        try:
            n = int(generation)
            while True:
                n += 1
                training.save_head(Path(folder), versions[n % 2], {**card, "generation": n})
                os.write(1, f"saved {n}\n".encode())
        except BaseException as exc:
            os.write(1, f"error {exc!r}\n".encode())
        finally:
            os._exit(1)
    print(f"child {pid}", flush=True)
    os.waitpid(pid, 0)
    print("reaped", flush=True)
"""


def whole_head(folder: Path) -> dict:
    """The card of the head in `folder`, once its weights are checked against the card's sha256."""
    from model_zoo.fusion.training import load_head_files

    return load_head_files(folder)[0]


def head_generation(folder: Path) -> int:
    return int(whole_head(folder)["generation"])


@pytest.mark.parametrize("disk, swap", [("disk", "exchange"), ("tmpfs", "rename")])
def test_kill_during_head_saves_leaves_the_old_head_or_the_new(tmp_path, disk, swap):
    """On the test machine's disk and on a tmpfs (no fsync cost, so the file system steps are
    quicker and the kills fall in other places); each kill lands at a random moment of one
    save cycle, as timed on the spot."""
    from model_zoo.sentiment.heads import HeadStore

    root = tmp_path / "heads"
    root.mkdir()
    if disk == "tmpfs":
        mount(root, "128m")
    try:
        folder = root / "mine"
        saver = subprocess.Popen([sys.executable, "-c", SAVER, str(FAST_HEAD)], cwd=REPO, stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True,
                                 env=dict(os.environ, OMP_NUM_THREADS="1", SWAP=swap))
        try:
            assert saver.stdout.readline().strip() == "ready"
            rng = random.Random(1234)
            generation, outcomes, cycles, mid_write = 0, {"old": 0, "new": 0}, [], 0
            for _ in range(40):
                saver.stdin.write(f"{folder} {generation}\n")
                saver.stdin.flush()
                pid = int(saver.stdout.readline().split()[1])
                for _ in range(2):  # two saves of this round done: the time between is one cycle
                    line = saver.stdout.readline()
                    assert line.startswith("saved"), line
                    cycles.append(time.perf_counter())
                last = int(line.split()[1])
                time.sleep(rng.uniform(0, cycles[-1] - cycles[-2]))
                os.kill(pid, signal.SIGKILL)
                while (line := saver.stdout.readline().strip()) != "reaped":
                    assert line.startswith("saved"), line
                    last = int(line.split()[1])
                mid_write += bool(debris(root))  # the kill fell while the new folder was being written
                visible = sorted(p.name for p in root.iterdir() if not p.name.startswith("."))
                if visible != ["mine"]:  # the kill fell between two renames: a listing must repair it
                    print("between the renames:", visible, debris(root))
                    assert HeadStore(root, tmp_path / "none").names() == ["mine"], visible
                generation = head_generation(folder)
                assert generation in (last, last + 1), (generation, last)
                outcomes["old" if generation == last else "new"] += 1
            cycle_ms = 1000 * float(np.median(np.diff(cycles)[::2]))
            print(f"{disk}/{swap}: a save takes ~{cycle_ms:.0f} ms; after the kills the folder held the last "
                  f"saved head {outcomes['old']} times, the head being saved {outcomes['new']} times; "
                  f"{mid_write} kills fell while a folder was being written")
            assert mid_write, "no kill fell inside the file system part of a save"
        finally:
            saver.kill()
            saver.wait()
        assert HeadStore(root, tmp_path / "none").names() == ["mine"]  # the listing clears what kills left
        assert not debris(root), debris(root)
        assert head_generation(folder) == generation  # whole: its weights match its card
    finally:
        if disk == "tmpfs":
            unmount(root)


# -- 5. a full disk ---------------------------------------------------------------------------
def mount(folder: Path, size: str) -> None:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI and the test machines run as root)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here: {done.stderr.strip()}")


def unmount(folder: Path) -> None:
    if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def grow(ballast: Path, limit: int | None = None) -> None:
    """Append zeros to the ballast file until the disk is full (or `limit` bytes are added)."""
    written = 0
    with open(ballast, "ab", buffering=0) as handle:
        try:
            while limit is None or written < limit:
                written += handle.write(b"\0" * 4096)
        except OSError:
            pass


@pytest.mark.slow
def test_full_disk_is_refused_clearly_and_loses_nothing(tmp_path, apps, model_cache):
    data = tmp_path / "data"
    data.mkdir()
    mount(data, "4m")
    app = None
    try:
        data_dir(data, model_cache)  # the model cache stays on the big disk
        ballast = data / "ballast"  # space the test takes now and gives back at the end
        grow(ballast, 256 << 10)
        app = apps(data, tmp_path / "scratch")
        kept = make_photos(tmp_path / "photos", 6, seed=5, size=(320, 240))
        carol = visitor(app.start())
        assert carol.predict(uploads(kept), "keep", api_name="/index_images")["total"] == 6
        small = reviews(tmp_path / "small.csv", rows_per_label=20)
        carol.predict(handle_file(str(small)), "gated", 2, 0.002, 32, 16, 0, "kept-head", "", api_name="/train_head")
        text = "I love it, it works perfectly."
        before = carol.predict(text, None, None, "kept-head", api_name="/sentiment")

        # fill the disk with a growing gallery until the app says it is full
        total, message = 0, ""
        for round_ in range(40):
            batch = noise_photos(tmp_path / "noise", 12, seed=100 + round_)
            try:
                total = carol.predict(uploads(batch), "fill", api_name="/index_images")["total"]
            except Exception as exc:
                message = str(exc)
                break
        assert message, "the disk never filled up"
        assert message.startswith(DISK_FULL_START) and "Traceback" not in message, message
        print(f"disk full after {total} images in 'fill'")
        assert app.alive and app.answers()
        fill = owner_folder(data, "galleries", "fill")
        assert len(gallery_names_on_disk(fill)) == total
        assert len(carol.predict("", handle_file(str(kept[0])), 100, "fill", api_name="/search")["results"]) == total
        assert gallery_names(carol, "keep", kept[0]) == {p.name for p in kept} == gallery_names_on_disk(
            owner_folder(data, "galleries", "keep"))

        # nothing left at all: a head save and one more photo are refused the same way
        grow(ballast)
        message = error_of(carol, handle_file(str(small)), "gated", 2, 0.002, 32, 16, 0, "new-head", "",
                           api_name="/train_head")
        assert message.startswith(DISK_FULL_START), message
        message = error_of(carol, uploads(kept[:1] + batch[:1]), "keep", api_name="/index_images")
        assert message.startswith(DISK_FULL_START), message
        listed = carol.predict(api_name="/heads")["heads"]
        assert "kept-head" in listed and "new-head" not in listed
        heads = owner_folder(data, "heads", "kept-head").parent
        assert sorted(p.name for p in heads.iterdir() if not p.name.startswith(".")) == ["kept-head"]
        after = carol.predict(text, None, None, "kept-head", api_name="/sentiment")
        assert (after["label"], after["scores"]) == (before["label"], before["scores"])
        assert len(gallery_names(carol, "keep", kept[1])) == 6
        assert app.alive

        # space again: the same requests succeed, the gallery grows from where it was
        ballast.unlink()
        assert carol.predict(uploads(batch[:1]), "keep", api_name="/index_images")["total"] == 7
        report = carol.predict(handle_file(str(small)), "gated", 2, 0.002, 32, 16, 0, "new-head", "",
                               api_name="/train_head")
        assert carol.predict(text, None, None, report["head"], api_name="/sentiment")["head"] == "new-head"
        assert not debris(data), debris(data)
    finally:
        if app is not None:
            app.kill()  # its files are closed once it is gone; no graceful 5 s wait before the unmount
        unmount(data)
