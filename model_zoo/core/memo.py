"""Values derived once from loaded models (class vectors, say), held by whoever owns the
models: the manager, built once per app and passed in, never a module-level dict."""
from __future__ import annotations

import threading
from typing import Any, Callable


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
