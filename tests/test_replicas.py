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
    from model_zoo.vision.search import Embedded, GalleryRegistry, commit_embedded
    from model_zoo.vision.search.gallery import NewItem

    space = OwnerSpace(Path(data), mode, quota_mb=50)
    galleries = GalleryRegistry()  # the replica's open galleries, as its StudioContext holds them
    owner = visitor(space)
    barrier.wait(WAIT_S)
    for file in files:
        raw = Path(file).read_bytes()
        sha = hashlib.sha256(raw).hexdigest()
        item = NewItem(Path(file).name, sha, thumbnail_jpeg=raw)
        with space.using(owner, "galleries", GALLERY) as folder:
            commit_embedded(galleries.open(folder), Embedded([item], vector(sha)[None], None, MODEL, "clip"),
                            space.quota(owner))
    barrier.wait(WAIT_S)
    with space.using(owner, "galleries", GALLERY) as folder:
        gallery = galleries.open(folder)
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



KILL_STEPS = ("pinned", "locked", "thumbnail", "index", "manifest-temp", "committed")  # where in its write


def commit_photo(space, owner, file: str, die_pinned: bool = False) -> dict:
    """One request of a replica: add one photo to the visitor's gallery. Returns what the
    commit did (for a failure's report): ids added, the generation saved, where."""
    from model_zoo.vision.search import Embedded, commit_embedded, open_gallery
    from model_zoo.vision.search.gallery import NewItem

    raw = Path(file).read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    item = NewItem(Path(file).name, sha, thumbnail_jpeg=raw)
    with space.using(owner, "galleries", GALLERY) as folder:
        if die_pinned:
            die()
        gallery = open_gallery(folder)
        ids, raced = commit_embedded(gallery, Embedded([item], vector(sha)[None], None, MODEL, "clip"),
                                     space.quota(owner))
        return {"ids": ids, "raced": raced, "generation": gallery.generation, "items": len(gallery.items),
                "folder": str(gallery.folder)}


def die() -> None:
    """SIGKILL, as the OOM killer would: no handler, no cleanup, locks dropped by the kernel."""
    import os
    import signal

    os.kill(os.getpid(), signal.SIGKILL)


def arm_kill(step: str) -> None:
    """Make this process's next gallery save kill it at `step`: holding the gallery's lock with
    the change in memory ("locked"), once the photo's preview is written ("thumbnail"), once
    the new index file is ("index"), with the new manifest whole in its temp file but not
    renamed ("manifest-temp"), or just after the rename, the commit point ("committed")."""
    from model_zoo.core import storage
    from model_zoo.vision.search.gallery import MANIFEST, Gallery

    if step == "locked":
        Gallery._save = lambda self, quota=None: die()
        return
    real_write = storage.atomic_write_bytes
    suffix = {"thumbnail": ".jpg", "index": ".faiss", "manifest-temp": MANIFEST, "committed": MANIFEST}[step]

    def write_then_die(path, data: bytes, durable: bool = True) -> None:
        if not str(path).endswith(suffix):
            return real_write(path, data, durable)
        if step == "manifest-temp":
            with storage.atomic_file(path, durable) as handle:
                handle.write(data)
                handle.flush()
                die()
        real_write(path, data, durable)
        die()

    storage.atomic_write_bytes = write_then_die


def add_and_acknowledge(data: str, files: list[str], kill: tuple[int, str] | None, halfway, dead, out) -> None:
    """A replica answering one request after another: says "writing" before each commit and
    "acked" with what it did once the commit returned (what its visitor was told). `kill`
    (n, step): it dies at that step of its n-th write, begun once the other replica has made
    three. No `kill`: it sets `halfway` after its third write, and makes its last three once
    the other is `dead`, so it writes both while the other may be killed and after. Messages
    go through a pipe, each sent whole before the next step (a kill never cuts one); an
    exception goes too (its traceback) before the process fails."""
    import os
    import traceback

    try:
        from model_zoo.core.ownership import OwnerSpace

        space = OwnerSpace(Path(data), "private", quota_mb=50)
        owner = visitor(space)
        out.send(("ready", {"pid": os.getpid(), "owner": owner.id,
                            "secret": hashlib.sha256(space.secret).hexdigest()[:12],
                            "folder": str(space.folder(owner, "galleries") / GALLERY)}))
        for n, file in enumerate(files, 1):
            last = kill is not None and n == kill[0]
            if last:
                halfway.wait(WAIT_S)
                if kill[1] != "pinned":
                    arm_kill(kill[1])
            if kill is None and n == len(files) - 2:
                dead.wait(WAIT_S)
            out.send(("writing", Path(file).name))
            done = commit_photo(space, owner, file, die_pinned=last and kill[1] == "pinned")
            out.send(("acked", Path(file).name, done))
            if kill is None and n == 3:
                halfway.set()
        out.send(("done", None))
    except BaseException:
        out.send(("error", traceback.format_exc()))
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
    """Two replicas add photos to one visitor's gallery at once; one is killed with SIGKILL in
    the middle of its n-th write, at a step of it (KILL_STEPS), while the other is still
    writing; n and the step come from STUDIO_FAULT_SEED (printed). The other carries on (the
    kill left no lock held: flocks die with their process); every photo either replica
    acknowledged is in the gallery, which is whole (each item in the index, with its preview,
    one index file, one generation per commit: nothing written over); the killed write is
    there exactly when the kill came after its commit point. STUDIO_FAULT_LOAD=k runs k busy
    processes beside the replicas. A failure prints both replicas' owner ids, secrets and
    folders, the generation each commit saved, any traceback, and the data dir's tree."""
    import os
    import random
    import signal

    from model_zoo.core.ownership import OwnerSpace
    from model_zoo.vision.search import open_gallery

    seed = int(os.environ.get("STUDIO_FAULT_SEED", "4242"))
    load = int(os.environ.get("STUDIO_FAULT_LOAD", "0"))
    rng = random.Random(seed)
    kill_at, step = rng.randint(3, 8), rng.choice(KILL_STEPS)
    print(f"replica killed at step {step!r} of its write {kill_at} (seed {seed}, load {load})")
    data, photos = tmp_path / "data", tmp_path / "data" / "photos"
    photos.mkdir(parents=True)
    files = []
    for n in range(2 * PHOTOS_EACH + 4):
        files.append(str(photos / f"photo-{n:02d}.jpg"))
        Path(files[-1]).write_bytes(photo(100 + n))
    mine, theirs = files[0::2], files[1::2]
    halfway, dead, stop = CTX.Event(), CTX.Event(), CTX.Event()
    pipes = [CTX.Pipe(duplex=False), CTX.Pipe(duplex=False)]  # (receive, send), one each
    doomed, survivor = [CTX.Process(target=add_and_acknowledge, args=(str(data), part, kill, halfway, dead, send))
                        for part, kill, (_, send) in zip((mine, theirs), ((kill_at, step), None), pipes)]
    loaders = [CTX.Process(target=busy, args=(stop,), daemon=True) for _ in range(load)]
    for process in (doomed, survivor, *loaders):
        process.start()
    log: dict[str, list] = {"doomed": [], "survivor": []}

    def report() -> str:
        return "\n".join([f"seed {seed}: killed at step {step!r} of write {kill_at}, load {load}",
                          *(f"{role}: {entry}" for role, entries in log.items() for entry in entries),
                          "data dir:", data_dir_report(data)])

    try:
        doomed.join(WAIT_S)  # messages are small: the pipes hold them all until read
        dead.set()
        survivor.join(WAIT_S)
        for role, (receive, _) in zip(log, pipes):
            while receive.poll(0):
                log[role].append(receive.recv())
    finally:
        stop.set()
        for process in (doomed, survivor, *loaders):
            process.join(WAIT_S)
            if process.exitcode is None:  # hung: end it, then fail below
                process.kill()
    acked = {role: [m[1] for m in entries if m[0] == "acked"] for role, entries in log.items()}
    assert [m for entries in log.values() for m in entries if m[0] == "error"] == [], report()
    assert doomed.exitcode == -signal.SIGKILL and survivor.exitcode == 0, report()
    names_of = lambda part: [Path(f).name for f in part]
    assert acked == {"doomed": names_of(mine[:kill_at - 1]), "survivor": names_of(theirs)}, report()
    in_flight = Path(mine[kill_at - 1]).name

    space = OwnerSpace(data, "private", quota_mb=50)
    owner = visitor(space)
    with space.using(owner, "galleries", GALLERY) as folder:
        gallery = open_gallery(folder)
        with gallery.reading():
            names = {item.name for item in gallery.items.values()}
            found = {item.name: gallery.search(vector(item.sha256), 1)[0].name for item in gallery.items.values()}
            generation, ids = gallery.generation, set(gallery.items)
    log["checker"] = [{"owner": owner.id, "folder": str(folder), "generation": generation}]
    expected = set(acked["survivor"]) | set(acked["doomed"]) | ({in_flight} if step == "committed" else set())
    assert names == expected, report()  # nothing acknowledged lost; the killed write there iff committed
    assert generation == len(names), report()  # one generation per commit: no commit was written over
    assert all(name == top for name, top in found.items()), report()  # the index holds what the manifest lists
    assert sorted(p.name for p in (folder / "thumbs").iterdir()) == sorted(f"{i}.jpg" for i in ids), report()
    assert sorted(p.name for p in folder.iterdir()) == [".lock", f"index-{generation:06d}.faiss", "manifest.json",
                                                        "thumbs"], report()  # nothing the kill left
    after = photos / "after-the-kill.jpg"
    after.write_bytes(photo(999))
    commit_photo(space, owner, str(after))  # and the gallery takes writes again (no lock left held)
    with space.using(owner, "galleries", GALLERY) as folder:
        gallery = open_gallery(folder)
        with gallery.reading():
            assert {item.name for item in gallery.items.values()} == names | {after.name}, report()
