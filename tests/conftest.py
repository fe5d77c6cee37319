"""Shared fixtures. Tests never reach a model hub: HF_HUB_OFFLINE=1 is set before any
library that reads it is imported."""
from __future__ import annotations

import os
import shutil
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import pytest

from model_zoo.core.manager import ManagerConfig, ModelManager
from app.network import free_port, wait_until_answers


# Packs a first start joins or unpacks into its data dir's model cache (~560 MB, seconds of disk
# and CPU each time): the tests assemble them once per run and hard-link them into the data dir
# of each app they start (its files are only ever replaced, never written in place). The tests
# of a first start itself (test_first_calls, test_faults) start on an empty cache.
SEEDED_PACKS = ("whisper-base", "mpnet")
_assembled: list[Path] = []


@pytest.fixture(scope="session", autouse=True)
def shared_cache(tmp_path_factory) -> Path:
    """One model cache for the session: the packs are assembled into it once, and every app
    the tests start gets them from here (seed_packs)."""
    cache = tmp_path_factory.mktemp("model-cache")
    _assembled[:] = [cache]
    return cache


def seed_packs(data: Path) -> None:
    """Hard-link the session's assembled packs into `data`/cache, assembling them first if this
    run has not yet (as the app would: the same packs.pack_dir, sha256 checked)."""
    if not _assembled:
        return  # outside a pytest session (a benchmark reusing start_app): the app assembles its own
    from model_zoo.core import packs

    from model_zoo.core.checkpoints import CONVERTED_FOLDER

    sources = [packs.pack_dir(name, _assembled[0]) for name in SEEDED_PACKS]
    converted = _assembled[0] / CONVERTED_FOLDER  # openai-whisper's model, where a test converted it already
    for source in sources + ([converted] if converted.is_dir() else []):
        target = data / "cache" / source.name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(source, target, copy_function=os.link)


@pytest.fixture(scope="session")
def real_manager(shared_cache, tmp_path_factory) -> ModelManager:
    """A manager over the real registry, offline, on CPU (packs only: not even a base.pt of
    openai-whisper's own folder)."""
    return ModelManager(ManagerConfig(device="cpu", cache_dir=shared_cache, offline=True,
                                      whisper_dir=tmp_path_factory.mktemp("no-openai-whisper")))


@pytest.fixture(scope="session")
def tiny_text_encoder_dir(tmp_path_factory) -> Path:
    from model_zoo.testing.text_encoder import save_tiny_text_encoder

    return save_tiny_text_encoder(tmp_path_factory.mktemp("tiny-text-encoder"))




@contextmanager
def serve_in_process(data_dir: Path, manager: ModelManager | None = None, environ: dict | None = None):
    """build_demo + launch on 127.0.0.1 and a free port, offline, in this process (so a
    test can hand in its own manager); yields the base URL, closes the server after."""
    from app.blocks import build_demo, launch_kwargs
    from app.settings import load_settings

    settings = load_settings(["--port", str(free_port()), "--data-dir", str(data_dir), "--offline"],
                             environ=environ or {})
    seed_packs(Path(data_dir))
    studio = build_demo(settings, manager=manager)
    studio.demo.launch(prevent_thread_lock=True, quiet=True, **launch_kwargs(settings))
    try:
        yield f"http://127.0.0.1:{settings.port}/"
    finally:
        studio.close()


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory) -> Path:
    from model_zoo.testing.open_clip import save_tiny_open_clip

    return save_tiny_open_clip(tmp_path_factory.mktemp("tiny-open-clip"))


@pytest.fixture(scope="session")
def tiny_clip_manager(tiny_clip_dir, tmp_path_factory) -> ModelManager:
    """A manager whose `clip` is the tiny random model (same loading path as real weights)."""
    cache = tmp_path_factory.mktemp("tiny-clip-cache")
    return ModelManager(ManagerConfig(device="cpu", cache_dir=cache, offline=True,
                                      overrides={"clip": str(tiny_clip_dir)}))


@pytest.fixture(scope="session")
def tiny_efficientnet_file(tmp_path_factory) -> Path:
    from model_zoo.testing.efficientnet import save_random_efficientnet

    return save_random_efficientnet(tmp_path_factory.mktemp("random-efficientnet"))


@pytest.fixture(scope="session")
def tiny_bridge_overrides(tiny_efficientnet_file, tiny_text_encoder_dir) -> dict:
    """The label bridge on a random EfficientNet-Lite0 and the tiny text encoder (same
    loading code as the packaged weights)."""
    return {"efficientnet-lite0": f"efficientnet-lite0:{tiny_efficientnet_file}", "mpnet": str(tiny_text_encoder_dir)}


@pytest.fixture(scope="session")
def tiny_bridge_manager(tiny_bridge_overrides, tmp_path_factory) -> ModelManager:
    """A manager that answers image requests with the label bridge on tiny random models."""
    return ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path_factory.mktemp("tiny-bridge-cache"),
                                      offline=True, overrides=tiny_bridge_overrides, vision="labels"))


def start_app(data: Path, *extra: str, env: dict | None = None, fresh_cache: bool = False):
    """`python app.py` as the README starts it (its shipped defaults: warm start on,
    private mode, no --offline, no HF_HUB_OFFLINE), in a subprocess on 127.0.0.1 and a free
    port, with its own data dir and Gradio cache, on a machine where no model hub answers
    (HF_ENDPOINT is a closed local port): the app must find that out and run offline itself.
    Returns (process, url) the moment the page answers, so a test's first call lands during
    the warm start, as a visitor's would. The log is data/server.log. Its model cache starts
    with this run's assembled packs (seed_packs), or empty with `fresh_cache`, as on a first
    start after the install."""
    import subprocess

    port = free_port()
    data.mkdir(parents=True, exist_ok=True)
    if not fresh_cache:
        seed_packs(data)
    log_path = data / "server.log"
    overrides = env or {}
    env = {name: value for name, value in os.environ.items()  # no stray settings, no offline flag
           if not name.startswith("MMS_") and name not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    no_hub = next(p for p in iter(free_port, None) if p != port)  # nothing listens there
    env.update(HF_ENDPOINT=f"http://127.0.0.1:{no_hub}", PYTHONUNBUFFERED="1",
               GRADIO_TEMP_DIR=str(data / "gradio-cache"), **overrides)
    command = [sys.executable, str(REPO / "app.py"), "--port", str(port), "--data-dir", str(data), *extra]
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_answers(url, [server], [log_path], timeout=120)
    except RuntimeError:
        server.kill()
        raise
    return server, url


# httpx's default 5 s read timeout covers an upload's answer too: a first call racing the warm
# start on a loaded 2-core machine can take longer to accept a file, which is no failure of the app.
PATIENT = {"timeout": 120}


def visitor_client(url: str):
    """A gradio_client session that waits for a busy server instead of timing out after 5 s."""
    from gradio_client import Client

    return Client(url, verbose=False, httpx_kwargs=dict(PATIENT))


def stop_app(server, graceful: bool = False) -> None:
    """Stop an app the test started. SIGKILL by default: what the app writes survives a kill
    (tests/test_faults.py), and a graceful close waits 5 s for the clients' open connections.
    `graceful`: SIGTERM, as `docker stop` sends, and the app must close and exit 0."""
    import subprocess

    if not graceful:
        server.kill()
        server.wait(timeout=30)
        return
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        raise AssertionError("the app did not close within 30 s of SIGTERM") from None
    assert server.returncode == 0, f"the app exited {server.returncode} on SIGTERM"


@dataclass(frozen=True)
class RunningApp:
    url: str
    data: Path
    pid: int

    def log(self) -> str:
        return (self.data / "server.log").read_text()


@pytest.fixture(scope="session")
def shipped_app(tmp_path_factory) -> RunningApp:
    """The app as shipped, as its users meet it on a machine with no model hub: packaged
    weights only. One for the whole run: every test that needs the plain shipped app (private
    mode, so each gradio_client visitor keeps its own galleries and videos) shares it."""
    data = tmp_path_factory.mktemp("live-data")
    server, url = start_app(data)
    yield RunningApp(url, data, server.pid)
    stop_app(server, graceful=True)  # after the whole run's visitors: closes like `docker stop`


@pytest.fixture(scope="session")
def live_app(shipped_app) -> str:
    return shipped_app.url


@pytest.fixture(scope="session")
def live_app_tiny(tmp_path_factory, tiny_clip_dir):
    """The app with tiny random CLIP and BLIP in place of the absent real weights, so
    every endpoint can answer (same loading code as real checkpoints)."""
    from model_zoo.testing.captioner import save_tiny_blip

    blip = save_tiny_blip(tmp_path_factory.mktemp("tiny-blip-live"))
    data = tmp_path_factory.mktemp("live-tiny-data")
    server, url = start_app(data, "--models", f"clip={tiny_clip_dir}", "--models", f"captioner={blip}")
    yield url, data
    stop_app(server)


@pytest.fixture(scope="session")
def tiny_client(live_app_tiny):
    """A gradio_client session on the app with tiny CLIP and BLIP."""
    from gradio_client import Client

    return Client(live_app_tiny[0], verbose=False)


# Fixtures that start the full app or load real weights: a test using one must be marked `slow`,
# so `pytest -m "not slow"` stays the quick loop it claims to be.
SLOW_FIXTURES = frozenset({"shipped_app", "live_app", "live_app_tiny", "tiny_client", "real_manager"})


def unmarked_slow_tests(items) -> list[str]:
    return [item.nodeid for item in items
            if SLOW_FIXTURES & set(item.fixturenames) and item.get_closest_marker("slow") is None]


def pytest_collection_modifyitems(config, items):
    unmarked = unmarked_slow_tests(items)
    if unmarked:
        raise pytest.UsageError("these tests start the app or load real weights but are not marked slow:\n"
                                + "\n".join(unmarked))


# The docs' pictures (`MMS_SCREENSHOT_DIR=docs/screenshots python -m pytest -m browser`) leave as
# 256-colour PNGs: Chromium writes them three times larger, and a page's flat colours and text
# read the same in a palette.
_session_started: list[float] = []


def pytest_sessionstart(session):
    import time

    _session_started[:] = [time.time()]


def pytest_sessionfinish(session, exitstatus):
    folder = os.environ.get("MMS_SCREENSHOT_DIR")
    if not folder or not _session_started:
        return
    for picture in sorted(Path(folder).glob("*.png")):
        if picture.stat().st_mtime >= _session_started[0]:  # written by this run
            shrink_screenshot(picture)


def shrink_screenshot(picture: Path) -> None:
    import io

    from PIL import Image

    from model_zoo.core import storage

    with Image.open(picture) as image:
        if image.mode == "P":  # shrunk already
            return
        palette = image.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    data = io.BytesIO()
    palette.save(data, "PNG", optimize=True)
    storage.atomic_write_bytes(picture, data.getvalue(), durable=False)
