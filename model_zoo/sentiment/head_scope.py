"""A head store whose trained heads are those of the owner a request runs for.

One SentimentService (and its caches: embeddings, converted layers, the shipped heads
loaded once) serves every visitor; only where *trained* heads are listed, loaded and saved
changes per request. `scoped(folder)` sets that folder for the calling context (a
ContextVar: concurrent requests on other threads keep theirs); outside any scope the store
uses the folder it was made with (the operator's). Visitors' heads are loaded into a small
LRU, so thousands of visitors' heads never pile up in memory."""
from __future__ import annotations

import threading
from collections import OrderedDict
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Iterator, TypeVar

from model_zoo.fusion import training
from model_zoo.sentiment import service as sentiment_service
from model_zoo.sentiment.service import HeadStore, SentimentService

T = TypeVar("T")


class ScopedHeadStore(HeadStore):
    def __init__(self, trained_root: Path, shipped_root: Path | None = None, loaded_trained: int = 8) -> None:
        self._scope: ContextVar[Path | None] = ContextVar(f"head-scope-{id(self)}", default=None)
        super().__init__(trained_root, shipped_root)
        self._trained_cache: OrderedDict[tuple, tuple[dict, object]] = OrderedDict()
        self._trained_lock = threading.Lock()
        self.loaded_trained = loaded_trained

    @classmethod
    def wrapping(cls, store: HeadStore) -> "ScopedHeadStore":
        return cls(store.trained_root, store.shipped_root)

    # HeadStore reads and writes `self.trained_root`: here it follows the active scope.
    @property
    def trained_root(self) -> Path:
        return self._scope.get() or self._default_root

    @trained_root.setter
    def trained_root(self, value: Path) -> None:
        self._default_root = Path(value)

    @contextmanager
    def scoped(self, folder: Path) -> Iterator[None]:
        token = self._scope.set(Path(folder))
        try:
            yield
        finally:
            self._scope.reset(token)

    def iterate(self, folder: Path, steps: Iterator[T]) -> Iterator[T]:
        """A generator's steps, each run inside the scope: Gradio may run every step of a
        streaming handler on another thread, with a fresh copy of the context."""
        while True:
            with self.scoped(folder):
                try:
                    step = next(steps)
                except StopIteration:
                    return
            yield step

    def load_part(self, part, encoder=None) -> tuple[dict, object]:
        """Shipped heads: the base cache (loaded once for all). Trained ones: a small LRU
        keyed by folder and version, so a head never leaks into another owner's name."""
        folder = Path(part.folder)
        if folder.resolve().is_relative_to(Path(self.shipped_root).resolve()):
            return super().load_part(part, encoder)
        from model_zoo.fusion.heads import load_head

        key = (str(folder), (folder / training.HEAD_CARD).stat().st_mtime_ns)
        with self._trained_lock:
            if key in self._trained_cache:
                self._trained_cache.move_to_end(key)
                return self._trained_cache[key]
            loaded = load_head(folder, encoder)
            self._trained_cache[key] = loaded
            while len(self._trained_cache) > self.loaded_trained:
                self._trained_cache.popitem(last=False)
            return loaded


def scoped_service(manager, trained_root: Path, max_chars: int = 20_000, precision: str = "auto") -> SentimentService:
    """The service an app makes once and shares with every visitor (one embedding cache, the
    shipped heads loaded once), its trained heads scoped per request (ScopedHeadStore; outside
    a scope: those in `trained_root`). precision: see settings.sentiment_precision."""
    store = ScopedHeadStore(trained_root, sentiment_service.SHIPPED_HEADS)  # read now: tests point it elsewhere
    return SentimentService(manager, store, max_chars, precision=precision)
