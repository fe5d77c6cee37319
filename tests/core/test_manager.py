"""ModelManager: single-flight, LRU under a budget, pinning, failed-load retry, status."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from model_zoo.core.manager import MB, ManagerConfig, ModelManager
from model_zoo.core.registry import ModelSpec


class FakeModel:
    def __init__(self, key: str, nbytes: int) -> None:
        self.key, self.nbytes = key, nbytes


class FakeLoader:
    """Counts loads; can be told to be slow or to fail a number of times."""

    def __init__(self, delay: float = 0.0, failures: int = 0) -> None:
        self.delay, self.failures, self.calls = delay, failures, []
        self.lock = threading.Lock()

    def __call__(self, request):
        with self.lock:
            self.calls.append(request.spec.key)
            fail = self.failures > 0
            self.failures -= fail
        time.sleep(self.delay)
        if fail:
            raise RuntimeError(f"weights for {request.spec.key} are corrupt")
        return FakeModel(request.spec.key, request.spec.size_mb * MB)


def make_manager(loader, budget_mb=100, sizes=None) -> ModelManager:
    sizes = sizes or {"a": 40, "b": 40, "c": 40}
    registry = {k: ModelSpec(key=k, family="fake", role="test", source=k, description=k, size_mb=mb)
                for k, mb in sizes.items()}
    config = ManagerConfig(device="cpu", budget_mb={"cpu": budget_mb})
    return ModelManager(config, loaders={"fake": loader}, registry=registry)


def test_single_flight_under_16_threads():
    loader = FakeLoader(delay=0.3)
    manager = make_manager(loader)
    barrier = threading.Barrier(16)

    def use_a(_):
        barrier.wait()
        with manager.use("a") as model:
            return id(model)

    with ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(use_a, range(16)))
    assert loader.calls == ["a"]
    assert len(set(ids)) == 1
    status = {s.key: s for s in manager.status()}["a"]
    assert status.state == "loaded" and status.loads == 1 and status.hits == 15 and status.in_use == 0


def test_failed_load_reaches_every_waiter_then_retries():
    loader = FakeLoader(delay=0.3, failures=1)
    manager = make_manager(loader)
    barrier = threading.Barrier(8)

    def use_a(_):
        barrier.wait()
        try:
            with manager.use("a"):
                return "ok"
        except RuntimeError as exc:
            return str(exc)

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(use_a, range(8)))
    assert outcomes == ["weights for a are corrupt"] * 8
    assert loader.calls == ["a"]
    assert {s.key: s for s in manager.status()}["a"].state == "failed"
    with manager.use("a") as model:  # next use retries
        assert model.key == "a"
    assert loader.calls == ["a", "a"]


def test_lru_eviction_under_budget():
    loader = FakeLoader()
    manager = make_manager(loader, budget_mb=100)
    for key in ("a", "b"):
        with manager.use(key):
            pass
    with manager.use("a"):  # a is now most recently used
        pass
    with manager.use("c"):  # 120 MB > 100: the LRU model (b) goes
        pass
    states = {s.key: s.state for s in manager.status()}
    assert states == {"a": "loaded", "b": "unloaded", "c": "loaded"}
    assert manager.loaded_bytes("cpu") == 80 * MB


def test_a_model_that_grows_after_loading_is_counted_at_its_new_size():
    """A text encoder builds a bf16 copy beside itself on first use: the budget must see it."""
    loader = FakeLoader()
    manager = make_manager(loader, budget_mb=100)
    with manager.use("a") as model:
        model.nbytes = 70 * MB  # grew from 40 MB
    assert {s.key: s.bytes for s in manager.status()}["a"] == 70 * MB
    with manager.use("b"):  # 70 + 40 > 100: a goes, though its load-time size (40) would fit
        pass
    assert {s.key: s.state for s in manager.status()} == {"a": "unloaded", "b": "loaded", "c": "unloaded"}


def test_a_resident_model_has_no_weights_problem(tmp_path):
    """Requests check a head's encoder before use; once it is loaded that check is free."""
    manager = make_manager(FakeLoader())
    assert manager.weights_problem("a") is not None  # source "a": not on disk, not cached, offline
    with manager.use("a"):
        pass
    assert manager.weights_problem("a") is None
    manager.unload("a")
    assert manager.weights_problem("a") is not None


def test_model_in_use_is_never_evicted():
    loader = FakeLoader()
    manager = make_manager(loader, budget_mb=50)
    with manager.use("a") as pinned:
        with manager.use("b"):  # over budget, but a is pinned: both stay
            states = {s.key: s.state for s in manager.status()}
            assert states["a"] == "loaded" and states["b"] == "loaded"
            assert manager.unload("a") is False
        assert pinned.key == "a"
    with manager.use("c"):  # now a and b are idle: evicted down to budget
        pass
    states = {s.key: s.state for s in manager.status()}
    assert states == {"a": "unloaded", "b": "unloaded", "c": "loaded"}


def test_unload_and_status_fields():
    manager = make_manager(FakeLoader())
    assert manager.unload("a") is False
    with manager.use("a"):
        pass
    assert manager.unload("a") is True
    status = {s.key: s.to_dict() for s in manager.status()}["a"]
    assert status["state"] == "unloaded" and status["loads"] == 1
    assert set(status) >= {"key", "state", "device", "dtype", "bytes", "load_s", "hits", "last_used"}
    with manager.use("a"):
        pass
    status = {s.key: s.to_dict() for s in manager.status()}["a"]
    assert status["device"] == "cpu" and status["bytes"] == 40 * MB and status["load_s"] >= 0


def test_unknown_model_is_a_clear_error():
    with pytest.raises(KeyError, match="unknown model 'nope'"):
        with make_manager(FakeLoader()).use("nope"):
            pass


def test_a_first_load_never_holds_up_another_family_s_first_load(tmp_path):
    """One visitor's first Imagine click downloads gigabytes where the hub answers: that
    download (the backend's fetch) must hold neither the import lock nor the build lock, or
    every other family's first load waits for it. Here family A's fetch blocks on an event
    while family B's first load finishes; A still loads once for every visitor waiting on it
    (single-flight)."""
    families = [f"blocking-{time.time_ns()}", f"quick-{time.time_ns()}"]
    registry = {"a": ModelSpec(key="a", family=families[0], role="test", source="a", description="a", size_mb=1),
                "b": ModelSpec(key="b", family=families[1], role="test", source="b", description="b", size_mb=1)}
    entered, release = threading.Event(), threading.Event()
    calls = []

    def download(request):
        calls.append(request.spec.key)
        entered.set()
        assert release.wait(30), "the test never released the download"

    manager = ModelManager(ManagerConfig(device="cpu"), registry=registry,
                           loaders={families[0]: lambda request: FakeModel("a", MB), families[1]: FakeLoader()},
                           fetchers={families[0]: download})
    with ThreadPoolExecutor(5) as pool:
        waiting = [pool.submit(manager.preload, ["a"]) for _ in range(4)]
        assert entered.wait(10)
        quick = pool.submit(manager.preload, ["b"])
        try:
            assert quick.result(timeout=10) == ["b"]  # finished while A's first load is still under way
            assert not any(w.done() for w in waiting)
        finally:
            release.set()
        assert [w.result(timeout=10) for w in waiting] == [["a"]] * 4
    assert calls == ["a"]  # single-flight: one load for the four who asked


def test_a_backend_s_declared_first_imports_come_with_its_loader():
    """What a backend declares in FIRST_IMPORTS is imported by loader_for (under the import
    lock, by the manager), not inside load() where the lock no longer reaches."""
    import sys

    from model_zoo.core import backends

    load = backends.loader_for("efficientnet_lite")
    module = sys.modules[backends.LOADERS["efficientnet_lite"]]
    assert load is module.load and module.FIRST_IMPORTS
    assert all(name.partition(":")[0] in sys.modules for name in module.FIRST_IMPORTS)


def test_a_module_built_beside_a_library_load_never_inherits_its_torch_patches():
    """While a library builds a model it patches torch for the whole process (accelerate's
    init_empty_weights puts every new parameter on the meta device). A sentiment head built
    meanwhile in another thread waits for imports.building() and gets real parameters; without
    the lock it finished inside the window with meta ones ("Cannot copy out of meta tensor")."""
    import threading

    import torch
    from accelerate import init_empty_weights

    from model_zoo.core import imports
    from model_zoo.fusion.heads import SentimentModel
    from model_zoo.fusion.modules import HeadConfig

    built: dict[str, SentimentModel] = {}
    started = threading.Event()

    def build_head() -> None:
        started.set()
        built["head"] = SentimentModel(HeadConfig(modalities={"text": 8}, labels=["negative", "positive"]))

    with imports.building(), init_empty_weights():  # a load, as the manager runs one
        worker = threading.Thread(target=build_head)
        worker.start()
        assert started.wait(30)
        worker.join(timeout=1.0)  # a window in which an unguarded build would finish on meta
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert all(p.device == torch.device("cpu") for p in built["head"].parameters())
