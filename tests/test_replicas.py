"""Several app processes on one data dir (replicas behind a balancer), without starting the
app: real OS processes (multiprocessing, spawn) run the stores' own code on one folder at
the same time. Nothing is lost, and each process sees what the other wrote without a restart.
No sleeping and no clocks: processes meet at barriers and report through queues."""
from __future__ import annotations

import hashlib
import io
import multiprocessing
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

CTX = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing shared but the disk
WAIT_S = 60  # a barrier that is never met fails the test instead of hanging it
MODEL, DIM = "space-test", 16
BROWSER = "0123456789abcdef" * 2  # one visitor's browser id: both replicas serve the same visitor
GALLERY = "holiday"
PHOTOS_EACH = 10


def photo(seed: int) -> bytes:
    """A small JPEG of its own (seeded noise over a gradient)."""
    rng = np.random.default_rng(seed)
    array = (np.linspace(0, 255, 48 * 48 * 3).reshape(48, 48, 3) * 0.5 + rng.integers(0, 128, (48, 48, 3)))
    buffer = io.BytesIO()
    Image.fromarray(array.astype(np.uint8)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def vector(sha256: str) -> np.ndarray:
    """A unit vector fixed by the photo's bytes (what an engine would give, reproducibly)."""
    v = np.random.default_rng(int(sha256[:8], 16)).standard_normal(DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def visitor(space):
    from model_zoo.core.ownership import OPERATOR

    return space.anonymous("browser", BROWSER) if space.private else OPERATOR


def add_photos(data: str, mode: str, files: list[str], barrier, out) -> None:
    """One replica: adds its photos one request at a time, then, once the other is done too,
    reports what it sees (its cached gallery, opened before the other's last additions)."""
    from model_zoo.core.ownership import OwnerSpace
    from model_zoo.vision.search import Embedded, commit_embedded, open_gallery
    from model_zoo.vision.search.gallery import NewItem

    space = OwnerSpace(Path(data), mode, quota_mb=50)
    owner = visitor(space)
    barrier.wait(WAIT_S)
    for file in files:
        raw = Path(file).read_bytes()
        sha = hashlib.sha256(raw).hexdigest()
        item = NewItem(Path(file).name, sha, thumbnail_jpeg=raw)
        with space.using(owner, "galleries", GALLERY) as folder:
            commit_embedded(open_gallery(folder), Embedded([item], vector(sha)[None], None, MODEL, "clip"),
                            space.quota(owner))
    barrier.wait(WAIT_S)
    with space.using(owner, "galleries", GALLERY) as folder:
        gallery = open_gallery(folder)
        with gallery.reading():
            names = sorted(item.name for item in gallery.items.values())
            top = {name: gallery.search(vector(hashlib.sha256(Path(data, "photos", name).read_bytes()).hexdigest()),
                                        1)[0].name for name in names}
        out.put({"owner": owner.id, "names": names, "ids": sorted(gallery.items), "top": top,
                 "thumbs": sorted(p.name for p in (folder / "thumbs").glob("*.jpg"))})


def run_together(target, argument_lists: list[tuple]) -> list:
    """Start one process per argument tuple (each gets the shared barrier and queue last),
    collect one report from each, and check that all ended cleanly."""
    barrier, out = CTX.Barrier(len(argument_lists)), CTX.Queue()
    processes = [CTX.Process(target=target, args=(*args, barrier, out)) for args in argument_lists]
    for process in processes:
        process.start()
    try:
        reports = [out.get(timeout=WAIT_S * 2) for _ in processes]
    finally:
        for process in processes:
            process.join(WAIT_S)
    assert [p.exitcode for p in processes] == [0] * len(processes)
    return reports


@pytest.mark.parametrize("mode", ["private", "shared"])
def test_two_processes_adding_to_one_gallery_lose_nothing_and_see_everything(tmp_path, mode):
    photos = tmp_path / "data" / "photos"
    photos.mkdir(parents=True)
    files = []
    for n in range(2 * PHOTOS_EACH):
        files.append(str(photos / f"photo-{n:02d}.jpg"))
        Path(files[-1]).write_bytes(photo(n))
    reports = run_together(add_photos, [(str(tmp_path / "data"), mode, files[0::2]),
                                        (str(tmp_path / "data"), mode, files[1::2])])
    everything = sorted(Path(f).name for f in files)
    assert reports[0]["owner"] == reports[1]["owner"]  # one secret, made once, for both replicas
    for report in reports:
        assert report["names"] == everything  # nobody's addition overwritten, the other's seen
        assert report["ids"] == list(range(len(files)))  # every id given once
        assert all(name == top for name, top in report["top"].items())  # in the index, not only the list
        assert report["thumbs"] == [f"{i}.jpg" for i in sorted(range(len(files)), key=str)]


def hold_item(data: str, barrier, out) -> None:
    """A request in one replica that uses a gallery for as long as the other replica sweeps."""
    from model_zoo.core.ownership import OwnerSpace

    space = OwnerSpace(Path(data), "private", ttl_hours=1)
    with space.using(visitor(space), "galleries", "old"):
        barrier.wait(WAIT_S)  # 1: pinned
        barrier.wait(WAIT_S)  # 2: the other replica has swept
    out.put("released")
    barrier.wait(WAIT_S)  # 3: released


def test_the_cleaner_in_one_process_never_removes_an_item_in_use_in_another(tmp_path):
    from model_zoo.core.ownership import OwnerSpace

    data = tmp_path / "data"
    space = OwnerSpace(data, "private", ttl_hours=1)
    owner = visitor(space)
    with space.using(owner, "galleries", "old") as item:
        item.mkdir(parents=True)
        (item / "manifest.json").write_text("{}")
    later = space.last_use(owner, "galleries", "old") + 48 * 3600  # long expired by then
    barrier, out = CTX.Barrier(2), CTX.Queue()
    holder = CTX.Process(target=hold_item, args=(str(data), barrier, out))
    holder.start()
    try:
        barrier.wait(WAIT_S)
        report = space.sweep(now=later)
        assert report.deleted == [] and report.in_use == 1 and item.is_dir()
        barrier.wait(WAIT_S)
        assert out.get(timeout=WAIT_S) == "released"
        barrier.wait(WAIT_S)
        report = space.sweep(now=later)
    finally:
        holder.join(WAIT_S)
    assert holder.exitcode == 0
    assert report.deleted == [f"{owner.id}/galleries/old"] and not item.exists()
    assert not (data / "owners" / owner.id).exists()  # its last item gone, so is its folder
    assert [p.name for p in (data / "owners" / ".pins").iterdir() if p.name.startswith(owner.id)] == []


class Dims:
    dim = 8  # what a tiny head needs of its text encoder (no tuned layers)


def head_weights(store, name: str) -> float:
    _, model = store.load_part(store.parts(name)[0])
    return round(sum(float(t.double().sum()) for t in model.tensors().values()), 6)


def heads_replica(root: str, role: str, barrier, out) -> None:
    """role "trainer" saves head "mine" twice; role "reader" lists and loads it after each save."""
    from model_zoo.sentiment.heads import HeadStore
    from model_zoo.testing.sentiment import save_tiny_head

    store = HeadStore(Path(root) / "trained", Path(root) / "shipped")
    seen = [store.names()]
    for seed in (1, 2):
        if role == "trainer":
            save_tiny_head(Path(root) / "trained" / "mine", Dims(), {"text": Dims.dim}, seed=seed)
        barrier.wait(WAIT_S)  # saved
        seen.append((store.names(), head_weights(store, "mine")))
        barrier.wait(WAIT_S)  # loaded, before the next save
    out.put({"role": role, "seen": seen})


def test_a_head_saved_by_one_process_is_listed_and_loaded_by_another(tmp_path):
    reports = run_together(heads_replica, [(str(tmp_path), "trainer"), (str(tmp_path), "reader")])
    by_role = {report["role"]: report["seen"] for report in reports}
    assert by_role["reader"][0] == []  # nothing before the first save
    assert by_role["reader"] == by_role["trainer"]  # the same heads, the same weights, after each save
    assert by_role["reader"][1][1] != by_role["reader"][2][1]  # the second save replaced the loaded head



def commit_photo(space, owner, file: str) -> dict:
    """One request of a replica: add one photo to the visitor's gallery. Returns what the
    commit did (for the failure report): ids added, the generation saved, where."""
    from model_zoo.vision.search import Embedded, commit_embedded, open_gallery
    from model_zoo.vision.search.gallery import NewItem

    raw = Path(file).read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    item = NewItem(Path(file).name, sha, thumbnail_jpeg=raw)
    with space.using(owner, "galleries", GALLERY) as folder:
        gallery = open_gallery(folder)
        ids, raced = commit_embedded(gallery, Embedded([item], vector(sha)[None], None, MODEL, "clip"),
                                     space.quota(owner))
        inodes = {}
        for part in (gallery.folder, gallery.lock_file, gallery.folder / "manifest.json"):
            try:
                inodes[part.name] = part.stat().st_ino
            except OSError:
                inodes[part.name] = None
        return {"ids": ids, "raced": raced, "generation": gallery.generation, "items": len(gallery.items),
                "folder": str(gallery.folder), "inodes": inodes}


def add_and_acknowledge(data: str, files: list[str], go, out) -> None:
    """A replica answering one request after another: says "writing" before each commit and
    "acked" once it returned (what its visitor was told), then waits to be killed or ends.
    An exception goes over the queue (its traceback) before the process fails."""
    import os
    import traceback

    try:
        from model_zoo.core.ownership import OwnerSpace

        space = OwnerSpace(Path(data), "private", quota_mb=50)
        owner = visitor(space)
        out.put(("ready", {"pid": os.getpid(), "owner": owner.id,
                           "secret": hashlib.sha256(space.secret).hexdigest()[:12],
                           "folder": str(space.folder(owner, "galleries") / GALLERY)}))
        go.wait(WAIT_S)
        for file in files:
            out.put(("writing", Path(file).name))
            done = commit_photo(space, owner, file)
            out.put(("acked", Path(file).name, done))
        out.put(("done", None))
    except BaseException:
        out.put(("error", traceback.format_exc()))
        raise


def busy(stop) -> None:
    """Load for the stress hook: spin until told to stop (shakes the replicas' timing)."""
    while not stop.is_set():
        sum(range(10_000))


def data_dir_report(data: Path) -> str:
    """Everything under the data dir but the photos (inode, size), and what each manifest
    found there says: for a failure's report."""
    import json
    import os

    lines = []
    for root, dirs, files in os.walk(data):
        dirs[:] = sorted(d for d in dirs if Path(root, d) != data / "photos")
        for name in sorted(files) + [d + "/" for d in dirs]:
            path = Path(root, name.rstrip("/"))
            try:
                st = os.lstat(path)
                lines.append(f"  {path.relative_to(data)}  ino={st.st_ino} size={st.st_size}")
            except OSError as exc:
                lines.append(f"  {path.relative_to(data)}  ({exc})")
            if name == "manifest.json":
                try:
                    manifest = json.loads(path.read_text("utf-8"))
                    lines.append(f"    generation {manifest.get('generation')}, next_id {manifest.get('next_id')}, "
                                 f"items {[(i['id'], i['name']) for i in manifest['items']]}")
                except (OSError, ValueError, KeyError) as exc:
                    lines.append(f"    unreadable: {exc!r}")
    return "\n".join(lines)


def test_a_replica_killed_mid_write_loses_nothing_the_other_acknowledged(tmp_path):
    """Two replicas add photos to one visitor's gallery at once; one is killed with SIGKILL
    the moment it starts a write (the n-th, n seeded). The other carries on (the kill left no
    lock held: flocks die with their process) and every photo either replica acknowledged is
    in the gallery, which is whole; the killed write is there or not, never half.
    Stress hooks: STUDIO_FAULT_SEED moves the kill; STUDIO_FAULT_LOAD=k runs k busy processes
    beside the replicas. A failure prints the data dir, both replicas' owner ids, folders and
    the generation each commit saved, and any traceback a replica sent."""
    import os
    import random
    import signal

    from model_zoo.core.ownership import OwnerSpace
    from model_zoo.vision.search import open_gallery

    seed = int(os.environ.get("STUDIO_FAULT_SEED", "4242"))
    load = int(os.environ.get("STUDIO_FAULT_LOAD", "0"))
    kill_at = random.Random(seed).randint(3, 8)
    print("replica killed as it starts write", kill_at, "(seed", seed, ", load", load, ")")
    data, photos = tmp_path / "data", tmp_path / "data" / "photos"
    photos.mkdir(parents=True)
    files = []
    for n in range(2 * PHOTOS_EACH + 4):
        files.append(str(photos / f"photo-{n:02d}.jpg"))
        Path(files[-1]).write_bytes(photo(100 + n))
    go, stop = CTX.Event(), CTX.Event()
    queues = [CTX.Queue(), CTX.Queue()]  # one each: a kill may leave the doomed one's pipe half written
    doomed, survivor = [CTX.Process(target=add_and_acknowledge, args=(str(data), part, go, queue))
                        for part, queue in zip((files[0::2], files[1::2]), queues)]
    loaders = [CTX.Process(target=busy, args=(stop,), daemon=True) for _ in range(load)]
    for process in (doomed, survivor, *loaders):
        process.start()
    log: dict[str, list] = {"doomed": [], "survivor": []}
    acked: dict[str, list[str]] = {"doomed": [], "survivor": []}
    in_flight = None

    def report() -> str:
        return "\n".join([f"seed {seed}, kill at write {kill_at}, in flight {in_flight}, load {load}",
                          *(f"{role}: {entry}" for role, entries in log.items() for entry in entries),
                          "data dir:", data_dir_report(data)])

    try:
        for role, queue in zip(log, queues):
            message = queue.get(timeout=WAIT_S)
            log[role].append(message)
            assert message[0] == "ready", report()
        go.set()
        writes = 0
        while True:  # the doomed replica's messages until its kill_at-th write starts
            message = queues[0].get(timeout=WAIT_S)
            log["doomed"].append(message)
            assert message[0] != "error", report()
            if message[0] == "acked":
                acked["doomed"].append(message[1])
            elif message[0] == "writing":
                writes += 1
                if writes == kill_at:
                    os.kill(doomed.pid, signal.SIGKILL)
                    in_flight = message[1]
                    break
        while (message := queues[1].get(timeout=WAIT_S))[0] != "done":
            log["survivor"].append(message)
            assert message[0] != "error", report()
            if message[0] == "acked":
                acked["survivor"].append(message[1])
    finally:
        stop.set()
        doomed.join(WAIT_S)
        survivor.join(WAIT_S)
        for process in loaders:
            process.join(WAIT_S)
    assert doomed.exitcode == -signal.SIGKILL and survivor.exitcode == 0, report()
    assert len(acked["survivor"]) == PHOTOS_EACH + 2 and len(acked["doomed"]) == kill_at - 1, report()

    space = OwnerSpace(data, "private", quota_mb=50)
    owner = visitor(space)
    with space.using(owner, "galleries", GALLERY) as folder:
        gallery = open_gallery(folder)
        with gallery.reading():
            names = {item.name for item in gallery.items.values()}
            found = {item.name: gallery.search(vector(item.sha256), 1)[0].name for item in gallery.items.values()}
    log["checker"] = [{"owner": owner.id, "folder": str(folder), "generation": gallery.generation}]
    assert set(acked["survivor"]) | set(acked["doomed"]) <= names, report()  # nothing acknowledged was lost
    doomed_names = [Path(f).name for f in files[0::2]]
    present = [name in names for name in doomed_names]
    # the kill lands a little after the n-th write starts: its writes in between are whole or absent, in order
    assert present == sorted(present, reverse=True), report()
    assert names <= set(acked["survivor"]) | set(doomed_names), report()
    assert all(name == top for name, top in found.items()), report()  # the index holds what the manifest lists
    assert all((folder / "thumbs" / f"{i}.jpg").is_file() for i in gallery.items), report()
    after = photos / "after-the-kill.jpg"
    after.write_bytes(photo(999))
    commit_photo(space, owner, str(after))  # and the gallery takes writes again (no lock left held)
    with space.using(owner, "galleries", GALLERY) as folder:
        gallery = open_gallery(folder)
        with gallery.reading():
            assert {item.name for item in gallery.items.values()} == names | {after.name}, report()
