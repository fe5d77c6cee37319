"""One owner for the first import of each heavy library.

Two threads importing transformers-based libraries for the first time at once can wait
on each other's module locks; CPython breaks that deadlock by handing one of them a
half-initialised module, and the call fails with "cannot import name 'PreTrainedModel'
from 'transformers'". That is exactly a visitor's first click during the warm start.

So everything that may import a heavy library for the first time goes through one
process-wide lock:
- `first_load(family)`: the manager holds it around a model family's first load, which
  imports the backend module and resolves the lazy classes inside transformers or
  diffusers. Once a family has loaded, its later loads run concurrently.
- `ensure_primed()`: the libraries that the tabs' own code imports outside a model load
  (torch, PyAV, FAISS, scikit-learn, accelerate, matplotlib, VADER, ...) are imported once,
  under the lock, by the warm start's first step or else by the first request; every
  request handler (components.common.user_facing) waits for that before it runs.
"""
from __future__ import annotations

import importlib
import logging
import threading
import time
from contextlib import contextmanager
from typing import Iterator

log = logging.getLogger(__name__)

_LOCK = threading.RLock()
_READY_FAMILIES: set[str] = set()

_primed = threading.Event()

# What the tabs' code imports outside a model load (a model family's own libraries,
# transformers, diffusers, open_clip, CTranslate2, load under first_load instead).
COMMON = ("numpy", "torch", "PIL.Image", "pandas", "av", "faiss", "matplotlib", "matplotlib.figure",
          "scipy.signal", "sklearn.metrics", "sklearn.model_selection", "accelerate", "accelerate.utils",
          "vaderSentiment.vaderSentiment", "faster_whisper.vad")


@contextmanager
def first_load(family: str) -> Iterator[None]:
    """Hold the import lock around `family`'s first successful load (see module doc)."""
    if family in _READY_FAMILIES:
        yield
        return
    with _LOCK:
        yield
        _READY_FAMILIES.add(family)


def family_ready(family: str) -> bool:
    return family in _READY_FAMILIES


def ensure_primed(names: tuple[str, ...] = COMMON) -> None:
    """Import `names` once, under the lock; callers that come meanwhile wait for it.
    A library that fails to import is logged and left to the code that needs it."""
    if _primed.is_set():
        return
    with _LOCK:
        if _primed.is_set():
            return
        started = time.perf_counter()
        for name in names:
            try:
                importlib.import_module(name)
            except Exception as exc:  # an optional library missing must not stop the rest
                log.warning("cannot import %s: %s", name, exc)
        _primed.set()
        log.info("shared libraries imported in %.1f s", time.perf_counter() - started)
