"""The app as shipped, in its first seconds: `python app.py` with its defaults (warm start
on, private mode), each endpoint fired the moment the page answers, alone on a fresh
start and all at once; and visitors uploading the same bytes at the same time.

These are the failures a visitor met and the suite never saw while it drove a test-only
configuration: a first click during the warm start failed with "cannot import name
'PreTrainedModel' from 'transformers'" (two threads importing transformers-based libraries
at once), and an upload vanished when another visitor's request deleted the same
content-addressed file in Gradio's cache."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from gradio_client import handle_file

from tests.conftest import visitor_client, start_app, stop_app

ASSETS = Path(__file__).resolve().parent.parent / "assets"
PHOTOS = sorted((ASSETS / "gallery").glob("*.jpg"))
CLIP = ASSETS / "audio" / "english_quick_fox.ogg"
DATASET = ASSETS / "datasets" / "amazon_reviews_300.csv"


@pytest.fixture(scope="module")
def tiny_pipeline(tmp_path_factory) -> Path:
    from model_zoo.testing.diffusion import save_tiny_diffusion

    return save_tiny_diffusion(tmp_path_factory.mktemp("tiny-diffusion"))


def calls() -> dict[str, tuple]:
    """One call per endpoint that does work: api_name -> (args, check of the result)."""
    photo = lambda i=0: handle_file(str(PHOTOS[i]))
    return {
        "/speech_translate": (
            (handle_file(str(CLIP)), "transcribe", "auto", 1),
            lambda r: "fox" in r["transcript"].lower(),
        ),
        "/sentiment": (
            ("What a wonderful, heartfelt film.", None, None, "default"),
            lambda r: r["label"] == "positive" and r["attributions"],
        ),
        "/caption": ((photo(1), 3), lambda r: r["caption"] and r["candidates"]),
        "/caption_batch": (
            ([photo(0), photo(2)], 2),
            lambda r: r["captioned"] == 2 and all(row["caption"] for row in r["rows"]),
        ),
        "/classify_image": ((photo(0), "cat, dog, rocket"), lambda r: set(r["scores"]) == {"cat", "dog", "rocket"}),
        "/index_images": (([photo(0), photo(1)], "first"), lambda r: r["added"] == 2),
        "/search": (("a cat", None, 3, "searched"), lambda r: r["results"]),  # after indexing "searched" (see call)
        "/train_head": (
            (handle_file(str(DATASET)), "gated", 1, 0.002, 32, 32, 0, "first-head", ""),
            lambda r: r["head"] and r["metrics"]["accuracy"] > 0,
        ),
        "/generate_image": (("a red cube", "", 1, -1, 7, 64, 64), lambda r: r["seed"] == 7),
        "/models": ((), lambda r: len(r) > 5),
        "/galleries": (
            (),
            lambda r: isinstance(r["galleries"], list) and "first" not in r["galleries"],
        ),  # not another's
        "/heads": ((), lambda r: {"default", "fast"} <= set(r["heads"])),
    }


def call(url: str, api_name: str) -> tuple[str, object]:
    args, check = calls()[api_name]
    client = visitor_client(url)
    if api_name == "/search":  # a new visitor has no gallery yet: make one, as a visitor would
        client.predict([handle_file(str(PHOTOS[2]))], "searched", api_name="/index_images")
    result = client.predict(*args, api_name=api_name)
    assert check(result), f"{api_name} answered {result!r:.300}"
    return api_name, result


def fresh_app(tmp_path: Path, tiny_pipeline: Path):
    """A first start after the install: an empty model cache, the packs joined as calls arrive."""
    return start_app(tmp_path / "data", env={"MMS_MODEL_DIFFUSION": str(tiny_pipeline)}, fresh_cache=True)


@pytest.mark.slow
def test_every_endpoint_at_once_on_a_fresh_start(tmp_path, tiny_pipeline):
    """Every endpoint's first call lands the moment the page answers, all at once, during the
    warm start: each family's first load and first import races the others (one fresh start
    covers what seven single-endpoint starts did)."""
    server, url = fresh_app(tmp_path, tiny_pipeline)
    try:
        with ThreadPoolExecutor(len(calls())) as pool:
            futures = [pool.submit(call, url, name) for name in calls()]
            errors = {}
            for name, future in zip(calls(), futures):
                try:
                    future.result(timeout=600)
                except Exception as exc:  # collect them all: one failure should not hide another
                    errors[name] = f"{type(exc).__name__}: {exc}"
        assert not errors, f"{errors}\n--- the server's log ---\n{server_log_tail(tmp_path)}"
    finally:
        stop_app(server)


def server_log_tail(tmp_path: Path, chars: int = 6000) -> str:
    """The end of the app's log, so a failure in CI shows the server's side (the error code's line)."""
    log = tmp_path / "data" / "server.log"
    return log.read_text(errors="replace")[-chars:] if log.exists() else "(no log)"


@pytest.mark.slow
def test_visitors_uploading_the_same_file_at_once_each_keep_it(live_app):
    """Six visitors index the same two photos at the same moment (Gradio stores uploads by
    content, so they share one file), then search their own galleries: every call works,
    and the upload is still there for whoever comes next."""
    files = [PHOTOS[0], PHOTOS[3]]
    barrier = threading.Barrier(6)

    def visitor(i: int) -> tuple[dict, dict]:
        client = visitor_client(live_app)
        barrier.wait()
        added = client.predict([handle_file(str(p)) for p in files], "mine", api_name="/index_images")
        found = client.predict("", handle_file(str(files[0])), 2, "mine", api_name="/search")
        return added, found

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(visitor, range(6)))
    for added, found in results:
        assert added["added"] == 2 and added["total"] == 2
        assert found["results"] and found["results"][0]["name"] == files[0].name
    again = visitor_client(live_app).predict([handle_file(str(files[0]))], "later", api_name="/index_images")
    assert again["added"] == 1


def test_a_handler_never_deletes_an_upload():
    """Uploads are shared by content between visitors, so no request may delete one (Gradio's
    delete_cache sweeps them an hour after their last use). Only common/outputs.py deletes: the
    folders of files the tabs wrote themselves, an hour old."""
    import ast

    repo = Path(__file__).resolve().parent.parent
    for module in sorted((repo / "components").rglob("*.py")):
        tree = ast.parse(module.read_text())
        names = {getattr(node.func, "attr", getattr(node.func, "id", "")) for node in ast.walk(tree)
                 if isinstance(node, ast.Call)}
        assert not names & {"unlink", "remove", "rmtree", "forget_uploads"} or module.name == "outputs.py", module


def test_first_imports_of_two_families_never_overlap_but_their_fetches_do(tmp_path):
    """The manager holds the import lock around each family's first imports only, and the
    build lock around each build only: two families never import side by side the first time,
    never build side by side (libraries patch torch process-wide while they build), and their
    fetches (downloads, packs unpacked) always may run together."""
    from model_zoo.core import imports
    from model_zoo.core.manager import ManagerConfig, ModelManager
    from model_zoo.core.registry import ModelSpec

    lock = threading.Lock()
    importing, import_overlaps = [], []

    def inside(where: list, overlaps: list, key: str, seconds: float) -> None:
        with lock:
            where.append(key)
            if len(where) > 1:
                overlaps.append(tuple(where))
        time.sleep(seconds)
        with lock:
            where.remove(key)

    class Recording(ModelManager):
        def _loader_for(self, family):  # what runs under the import lock: a slow first import
            inside(importing, import_overlaps, family, 0.3)
            return super()._loader_for(family)

    both_fetching = threading.Barrier(2, timeout=120)  # passes only while both fetches are under way
    building, build_overlaps, loaded = [], [], []

    def fetch(request):
        both_fetching.wait()  # a fetch that had to wait for the other's end would break the barrier

    def slow_loader(request):
        inside(building, build_overlaps, request.spec.key, 0.3)
        loaded.append(request.spec.key)
        return object()

    families = [f"test-family-{time.time_ns()}-{i}" for i in range(2)]
    registry = {
        f"m{i}": ModelSpec(key=f"m{i}", family=families[i % 2], role="test", source="x", description="", size_mb=1)
        for i in range(2)
    }
    manager = Recording(ManagerConfig(device="cpu", cache_dir=tmp_path), registry=registry,
                        loaders={family: slow_loader for family in families},
                        fetchers={family: fetch for family in families})
    threads = [threading.Thread(target=manager.preload, args=([key],)) for key in ("m0", "m1")]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not import_overlaps and all(imports.family_ready(f) for f in families)
    assert sorted(loaded) == ["m0", "m1"] and not both_fetching.broken  # the fetches ran side by side
    assert not build_overlaps
