"""One owner for the first import of each heavy library.

Two threads importing transformers-based libraries for the first time at once can wait
on each other's module locks; CPython breaks that deadlock by handing one of them a
half-initialised module, and the call fails with "cannot import name 'PreTrainedModel'
from 'transformers'". That is exactly a visitor's first click during the warm start.

So everything that may import a heavy library for the first time goes through one
process-wide lock, and holds it for the imports only:
- `first_import(family, importer)`: the manager runs a model family's importer under it the
  first time: it imports the family's backend module and the libraries that module declares
  in `FIRST_IMPORTS` (model_zoo.core.backends), resolving the lazy classes inside
  transformers or diffusers. The load itself (a download of gigabytes from the hub, the
  weights read from disk) runs after, outside the lock: one visitor's first Imagine click
  never holds up another family's first load, and two families load side by side. (One
  model still loads once: the manager is single-flight per model.)
- `ensure_primed()`: the libraries that the tabs' own code imports outside a model load
  (torch, PyAV, FAISS, scikit-learn, accelerate, matplotlib, VADER, ...) are imported once,
  under the lock, by the warm start's first step or else by the first request; every
  request handler (components.common.user_facing) waits for that before it runs.

A second lock, `building()`, lets one model be *built* at a time. While transformers,
diffusers or accelerate construct a model they patch torch for the whole process, not one
thread: the default dtype, the `nn.init` functions, `nn.Module.register_parameter` (so new
parameters land on the meta device). A module built meanwhile in another thread inherits
those patches: seen as "Cannot copy out of meta tensor" when MPNet loaded beside the tiny
diffusion pipeline on a fresh start. The manager holds it around every load, after the
backend's `fetch` has brought the weights (a download, a pack unpacked) outside it; code that
builds its own modules (a sentiment head, a bf16 or int8 copy) holds it too.
"""
from __future__ import annotations

import importlib
import logging
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator, Sequence, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

_LOCK = threading.RLock()
_READY_FAMILIES: set[str] = set()

_primed = threading.Event()
_BUILD_LOCK = threading.RLock()

# What the tabs' code imports outside a model load (a model family's own libraries,
# transformers, diffusers, open_clip, CTranslate2, come in first_import instead).
COMMON = ("numpy", "torch", "PIL.Image", "pandas", "av", "faiss", "matplotlib", "matplotlib.figure",
          "scipy.signal", "sklearn.metrics", "sklearn.model_selection", "accelerate", "accelerate.utils",
          "vaderSentiment.vaderSentiment", "faster_whisper.vad")


def first_import(family: str, importer: Callable[[], T]) -> T:
    """`importer()` (a family's first imports), under the import lock until the family has
    imported once; after that without it. Never put a download or a weight read in it."""
    if family in _READY_FAMILIES:
        return importer()
    with _LOCK:
        result = importer()
        _READY_FAMILIES.add(family)
        return result


def import_all(names: Sequence[str]) -> None:
    """Import each of `names` ("package.module", or "package.module:Name" to resolve a lazy
    attribute such as diffusers' pipelines). One that fails is logged and left to the code
    that needs it, which says what is missing in its own words."""
    for name in names:
        module_name, _, attribute = name.partition(":")
        try:
            module = importlib.import_module(module_name)
            if attribute:
                getattr(module, attribute)
        except Exception as exc:
            log.debug("first import of %s failed: %s", name, exc)


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


@contextmanager
def building() -> Iterator[None]:
    """Hold while constructing torch modules or loading a model: one build at a time in the
    process (see the module's docstring). Re-entrant: a loader may build a head inside."""
    with _BUILD_LOCK:
        yield
