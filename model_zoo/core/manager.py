"""ModelManager: one per process, shared by every tab.

- lazy: nothing loads before first use;
- single-flight: concurrent first uses of a model load it once; a failed load reaches
  every waiter of that attempt and the next use tries again;
- LRU under a memory budget per device kind; a model in use (inside `use()`) is pinned
  and never evicted mid-call; eviction gives device memory back;
- status() for the System tab and the /models endpoint.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Iterator, Mapping

from model_zoo.core import devices, imports
from model_zoo.core.loading import BatchPolicy
from model_zoo.core.checkpoints import WHISPER_HOME
from model_zoo.core.errors import WeightsUnavailable
from model_zoo.core.loading import LoadRequest
from model_zoo.core.registry import REGISTRY, ModelSpec, is_overridden, resolve

log = logging.getLogger(__name__)
MB = 1 << 20
# The defaults, here once: app.settings shows and parses them (--memory-budget-mb, --data-dir).
DEFAULT_BUDGET_MB: Mapping[str, int] = MappingProxyType({"cpu": 8192, "cuda": 6144, "mps": 6144})
DEFAULT_DATA_DIR = Path.home() / ".cache" / "multimodal-studio"  # app.settings may pick another (XDG, Spaces)


def cache_dir_of(data_dir: Path) -> Path:
    """Where models' files (joined packs, conversions) go under a data dir."""
    return Path(data_dir) / "cache"


@dataclass(frozen=True)
class ManagerConfig:
    device: str = "auto"
    budget_mb: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_BUDGET_MB))
    cache_dir: Path = cache_dir_of(DEFAULT_DATA_DIR)
    offline: bool = False
    overrides: Mapping[str, str] = field(default_factory=dict)
    vision: str = "auto"  # image-text engine: auto | clip | labels (see model_zoo.vision.engine)
    whisper_dir: Path = WHISPER_HOME  # openai-whisper's own folder, where a `<size>.pt` may already be
    # model key -> how it micro-batches concurrent calls (model_zoo.core.loading); the app's settings
    # give measured defaults, a script's bulk calls batch themselves and need none
    batching: Mapping[str, BatchPolicy] = field(default_factory=dict)

    def budget_bytes(self, device: str) -> int:
        """The budget of the device's kind; a kind the budget leaves out keeps its default."""
        kind = devices.device_kind(device)
        return int(self.budget_mb.get(kind, DEFAULT_BUDGET_MB.get(kind, DEFAULT_BUDGET_MB["cpu"])) * MB)


@dataclass
class ModelStatus:
    key: str
    family: str
    role: str
    description: str
    source: str
    weights: str  # where weights come from: offline pack, local path, or hub
    state: str  # unloaded | loading | warming (loading for the warm start) | loaded | failed
    device: str | None
    dtype: str | None
    bytes: int
    load_s: float | None
    loads: int
    hits: int
    in_use: int
    last_used: float | None
    error: str | None

    def to_dict(self) -> dict:
        return asdict(self)


Loader = Callable[[LoadRequest], Any]


class _Attempt:
    """One load attempt; its waiters all see the same outcome."""

    def __init__(self) -> None:
        self.error: BaseException | None = None


# Values derived once from loaded models (class vectors, say), held by the manager: built once
# per app and passed in, never a module-level dict.
class Memo:
    """Thread-safe build-once values by key. A build runs under the key's own lock, so two
    requests that need the same value build it once and different keys build side by side."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: str, build: Callable[[], Any]) -> Any:
        """The value for `key`, built by `build()` on first use (an exception is not kept)."""
        with self._guard:
            if key in self._values:
                return self._values[key]
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                if key in self._values:
                    return self._values[key]
            value = build()
            with self._guard:
                self._values[key] = value
            return value

    def __contains__(self, key: str) -> bool:
        with self._guard:
            return key in self._values

    def clear(self) -> None:
        with self._guard:
            self._values.clear()


@dataclass
class _Entry:
    spec: ModelSpec
    state: str = "unloaded"
    model: Any = None
    device: str | None = None
    dtype: str | None = None
    nbytes: int = 0
    load_s: float | None = None
    loads: int = 0
    hits: int = 0
    refs: int = 0
    last_used: float | None = None
    error: str | None = None
    attempt: _Attempt | None = None


class ModelManager:
    def __init__(
        self,
        config: ManagerConfig | None = None,
        loaders: Mapping[str, Loader] | None = None,
        registry: Mapping[str, ModelSpec] = REGISTRY,
        fetchers: Mapping[str, Callable[[LoadRequest], None]] | None = None,
    ) -> None:
        self.config = config or ManagerConfig()
        self._registry = registry
        self._loaders = dict(loaders or {})
        self._fetchers: dict[str, Callable[[LoadRequest], None] | None] = dict(fetchers or {})
        self._cond = threading.Condition()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # LRU order: oldest first
        self._device: str | None = None
        self._warming: set[str] = set()  # keys the warm start is loading (state 'warming')
        self.memo = Memo()  # values derived from the models once per app (class vectors)

    # -- public surface -------------------------------------------------------------
    def spec(self, key: str) -> ModelSpec:
        """The spec with the config's overrides applied (see registry.resolve)."""
        return resolve(key, self.config.overrides, self._registry)

    @property
    def device(self) -> str:
        if self._device is None:
            self._device = devices.pick_device(self.config.device)
        return self._device

    @contextmanager
    def use(self, key: str) -> Iterator[Any]:
        """Yield the loaded model for `key`, pinned for the duration of the block."""
        entry = self._acquire(key)
        try:
            yield entry.model
        finally:
            with self._cond:
                entry.refs -= 1
                entry.last_used = time.time()
                self._cond.notify_all()

    def preload(self, keys: list[str], cancel: threading.Event | None = None, warming: bool = False) -> list[str]:
        """Load `keys` in order; returns those now resident. Each load is single-flight with
        any visitor's request for the same model: one load, and both wait for it. warming:
        the background warm start (app/warm.py): status() says 'warming' while they load,
        and the loop stops before the next key once `cancel` is set."""
        loaded = []
        for key in keys:
            if cancel is not None and cancel.is_set():
                break
            if warming:
                with self._cond:
                    self._warming.add(key)
            try:
                with self.use(key):
                    loaded.append(key)
            finally:
                with self._cond:
                    self._warming.discard(key)
        return loaded

    def fits(self, key: str) -> bool:
        """Would `key` load without evicting anything (its size estimate within the budget
        left on the device)? The warm start never evicts a model to warm another."""
        budget = self.config.budget_bytes(self.device)
        return self.loaded_bytes(devices.device_kind(self.device)) + self.spec(key).size_mb * MB <= budget

    def weights_problem(self, key: str) -> WeightsUnavailable | None:
        """Why `key` cannot load here, decided cheaply (see weights.problem), or None. A
        resident model has no problem: no lookup on the hot path of every request."""
        from model_zoo.core.weights import problem

        with self._cond:
            entry = self._entries.get(key)
            if entry is not None and entry.state == "loaded":
                return None

        return problem(self.spec(key), Path(self.config.cache_dir), self.config.offline, Path(self.config.whisper_dir))

    def status_keys(self) -> list[str]:
        return list(self._registry)

    def unload(self, key: str) -> bool:
        """Drop a resident model now. False if it is not loaded or is in use."""
        with self._cond:
            entry = self._entries.get(key)
            if entry is None or entry.state != "loaded" or entry.refs:
                return False
            self._evict(entry)
        return True

    def status(self) -> list[ModelStatus]:
        with self._cond:
            return [self._status(key) for key in self._registry]

    def loaded_bytes(self, device_kind: str | None = None) -> int:
        with self._cond:
            return sum(
                e.nbytes
                for e in self._entries.values()
                if e.state == "loaded" and (device_kind is None or devices.device_kind(e.device) == device_kind)
            )

    # -- loading --------------------------------------------------------------------
    def _entry(self, key: str) -> _Entry:
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry(spec=self.spec(key))
        return entry

    def _acquire(self, key: str) -> _Entry:
        with self._cond:
            entry = self._entry(key)
            while True:
                if entry.state == "loaded":
                    entry.refs += 1
                    entry.hits += 1
                    entry.last_used = time.time()
                    self._entries.move_to_end(key)
                    return entry
                if entry.state != "loading":
                    break
                attempt = entry.attempt
                # B023 is safe here: the predicate runs inside wait_for, in this iteration (this `attempt`)
                self._cond.wait_for(lambda: entry.attempt is not attempt or entry.state != "loading")  # noqa: B023
                if attempt.error is not None:
                    raise attempt.error
            attempt = entry.attempt = _Attempt()
            entry.state, entry.error = "loading", None
        return self._load(entry, attempt)

    def _load(self, entry: _Entry, attempt: _Attempt) -> _Entry:
        spec = entry.spec = self.spec(entry.spec.key)
        try:
            device = self.device
            dtype = spec.dtype_for(device)
            with self._cond:
                self._make_room(device, spec.size_mb * MB, keep=spec.key)
            started = time.perf_counter()
            # a family's first imports run alone (model_zoo.core.imports); its fetch (a download,
            # a pack unpacked) beside any other family's; the build itself one at a time
            loader = imports.first_import(spec.family, lambda: self._loader_for(spec.family))
            request = LoadRequest(spec, device, dtype, Path(self.config.cache_dir), self.config.offline,
                                  Path(self.config.whisper_dir), self.config.batching.get(spec.key))
            self._fetch(spec.family, request)  # a download or a pack's unpacking: beside other loads
            with imports.building():  # libraries patch torch process-wide while they build
                model = loader(request)
            load_s = time.perf_counter() - started
            nbytes = _measure(model) or spec.size_mb * MB
        except BaseException as exc:  # every waiter of this attempt sees it
            with self._cond:
                attempt.error = exc
                entry.state, entry.error = "failed", str(exc)
                self._cond.notify_all()
            raise
        with self._cond:
            entry.model, entry.device, entry.dtype, entry.nbytes = model, device, dtype, nbytes
            entry.state, entry.load_s, entry.loads = "loaded", load_s, entry.loads + 1
            entry.refs += 1
            entry.last_used = time.time()
            self._entries.move_to_end(spec.key)
            self._make_room(device, 0, keep=spec.key)
            self._cond.notify_all()
        log.info("loaded %s on %s (%s) in %.2fs, %.0f MB", spec.key, device, dtype, load_s, nbytes / MB)
        return entry

    def _fetch(self, family: str, request: LoadRequest) -> None:
        """The family's fetch (model_zoo.core.backends), outside the build lock. One that fails
        is left to the load, which says what is missing in its own words."""
        fetch = self._fetchers.get(family)
        if fetch is None:
            return
        try:
            fetch(request)
        except Exception as exc:
            log.debug("fetching %s's weights ahead of its load failed: %s", request.spec.key, exc)

    def _loader_for(self, family: str) -> Loader:
        """The family's loader, its backend module and first imports imported (the manager
        calls this under the import lock the first time: see model_zoo.core.imports)."""
        if family not in self._loaders:
            from model_zoo.core.backends import loader_for

            self._loaders[family] = loader_for(family)
        if family not in self._fetchers:
            from model_zoo.core.backends import fetcher_for

            self._fetchers[family] = fetcher_for(family)
        return self._loaders[family]

    # -- eviction -------------------------------------------------------------------
    def _make_room(self, device: str, incoming: int, keep: str) -> None:
        """Evict least-recently-used idle models on `device` until `incoming` fits."""
        kind = devices.device_kind(device)
        budget = self.config.budget_bytes(device)
        resident = [
            e for e in self._entries.values() if e.state == "loaded" and devices.device_kind(e.device) == kind
        ]
        for entry in resident:  # a model may have grown since it loaded (e.g. a bf16 copy beside it)
            entry.nbytes = _measure(entry.model) or entry.nbytes
        used = sum(e.nbytes for e in resident)
        for victim in resident:  # oldest first
            if used + incoming <= budget:
                return
            if victim.refs == 0 and victim.spec.key != keep:
                used -= victim.nbytes
                self._evict(victim)
        if used + incoming > budget:
            what = f"{keep} needs {incoming / MB:.0f} MB (estimate) beside" if incoming else "resident:"
            log.warning("memory budget on %s (%.0f MB) exceeded: %s %.0f MB held by models in use", kind, budget / MB,
                        what, used / MB)

    def _evict(self, entry: _Entry) -> None:
        device = entry.device or "cpu"
        log.info("unloading %s from %s", entry.spec.key, device)
        entry.model, entry.state, entry.nbytes = None, "unloaded", 0
        devices.release_memory(device)

    def _status(self, key: str) -> ModelStatus:
        entry = self._entries.get(key) or _Entry(spec=self.spec(key))
        if entry.state == "loaded":
            entry.nbytes = _measure(entry.model) or entry.nbytes
        spec = entry.spec
        return ModelStatus(
            key=key,
            family=spec.family,
            role=spec.role,
            description=spec.description,
            source=spec.source,
            weights=weights_origin(spec),
            state="warming" if entry.state == "loading" and key in self._warming else entry.state,
            device=entry.device,
            dtype=entry.dtype,
            bytes=entry.nbytes,
            load_s=None if entry.load_s is None else round(entry.load_s, 3),
            loads=entry.loads,
            hits=entry.hits,
            in_use=entry.refs,
            last_used=entry.last_used,
            error=entry.error,
        )


def weights_origin(spec: ModelSpec) -> str:
    """Where the weights would come from, without touching disk beyond a stat."""
    if spec.pack and not is_overridden(spec):
        return "offline pack"
    if Path(spec.source.rpartition(":")[2] or spec.source).expanduser().exists():
        return "local"
    return "hub"


def _measure(model: Any) -> int:
    """Resident bytes of a loaded model: its own `nbytes`, or its torch parameters."""
    nbytes = getattr(model, "nbytes", None)
    if isinstance(nbytes, int):
        return nbytes
    if hasattr(model, "parameters") and hasattr(model, "buffers"):
        return devices.module_nbytes(model)
    return 0
