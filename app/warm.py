"""Warm start: once the page is served, load in a background thread the models a first
visitor is likely to need, so the first click does not pay for them (on 2 cores the first
Sentiment click otherwise loads MPNet, MiniLM and the default head: about 10 s).

- `--warm none`: nothing; `default`: the Speech tab's Whisper, then the default sentiment
  head's text encoders and the head itself; `all`: then every other model whose weights
  are here, in registry order.
- Never evicts: a model whose size estimate does not fit the memory budget left is skipped.
- Single-flight: loads go through ModelManager, so a visitor asking for a model being
  warmed waits for that load instead of starting a second one.
- The System tab shows those models as 'warming'. stop() (at shutdown) lets the model
  being loaded finish and starts no other; the thread is a daemon, so exit never waits.
- Off on ZeroGPU: there the `spaces` package forbids CUDA outside a `@spaces.GPU` call.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from components.context import StudioContext
from model_zoo.core import imports

from .settings import WARM_MODES
from .zerogpu import on_zero_gpu

log = logging.getLogger(__name__)
_SENTENCE = "A warm start: the first visitor should not wait."


@dataclass
class WarmReport:
    mode: str
    warmed: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # key -> why
    seconds: float = 0.0
    cancelled: bool = False


class Warmer:
    def __init__(self, ctx: StudioContext, mode: str = "default") -> None:
        if mode not in WARM_MODES:
            raise ValueError(f"--warm {mode!r}: choose one of {', '.join(WARM_MODES)}")
        if mode != "none" and on_zero_gpu():  # CUDA may only be touched inside a @spaces.GPU call there
            log.info("warm start off on ZeroGPU: models load inside the first GPU call of each worker")
            mode = "none"
        self.ctx, self.mode = ctx, mode
        self.cancel = threading.Event()
        self.report = WarmReport(mode)
        self._thread: threading.Thread | None = None

    # -- what to warm -------------------------------------------------------------------
    def steps(self) -> list[tuple[str, Callable[[], Any]]]:
        """(name, action) in order. Registry keys load through the manager; 'head:<name>'
        runs one sentence through the default head (loads its parts, converts its layers)."""
        if self.mode == "none":
            return []
        from model_zoo.speech.service import BACKENDS

        keys = [BACKENDS.get(self.ctx.settings.whisper_backend, "whisper-base")]
        head, head_keys = self._sentiment_head()
        keys += [k for k in head_keys if k not in keys]
        steps: list[tuple[str, Callable[[], Any]]] = [(key, self._loader(key)) for key in keys]
        if head:
            steps.append((f"head:{head}", lambda: self._warm_head(head, head_keys)))
        if self.mode == "all":
            steps += [(key, self._loader(key)) for key in self.ctx.manager.status_keys() if key not in keys]
        return steps

    def _sentiment(self):
        from components.common.heads import service

        return service(self.ctx)

    def _sentiment_head(self) -> tuple[str | None, list[str]]:
        """The head the Sentiment tab starts on and the text encoders it reads with."""
        from model_zoo.sentiment.service import text_encoder_of

        try:
            svc = self._sentiment()
            head = svc.default_head()
            if svc.head_problem(head) is not None:
                return None, []
            return head, [text_encoder_of(part.card) for part in svc.store.parts(head)]
        except Exception as exc:  # a broken head must not stop the rest of the warm start
            log.warning("warm start: the default sentiment head cannot be warmed: %s", exc)
            return None, []

    def _warm_head(self, head: str, encoders: list[str]) -> None:
        if not all(key in self.report.warmed for key in encoders):  # would load (and evict) them itself
            raise _Skip("its text encoders were not warmed")
        self._sentiment().predict_texts([_SENTENCE], head)

    def _loader(self, key: str) -> Callable[[], Any]:
        manager = self.ctx.manager

        def load() -> None:
            problem = manager.weights_problem(key)
            if problem is not None:
                raise _Skip(f"weights missing ({problem.detail})")
            if not manager.fits(key):
                raise _Skip("does not fit the memory budget left")
            manager.preload([key], cancel=self.cancel, warming=True)

        return load

    # -- running ------------------------------------------------------------------------
    def run(self) -> WarmReport:
        started = time.perf_counter()
        imports.ensure_primed()  # first, alone: the libraries every tab imports (see model_zoo.core.imports)
        for name, action in self.steps():
            if self.cancel.is_set():
                self.report.cancelled = True
                break
            try:
                action()
                self.report.warmed.append(name)
            except _Skip as why:
                self.report.skipped[name] = str(why)
            except Exception as exc:  # a visitor's use will report it properly
                self.report.skipped[name] = f"failed: {exc}"
                log.warning("warm start: %s failed: %s", name, exc)
        self.report.seconds = time.perf_counter() - started
        if self.mode != "none":
            log.info("warm start (%s) done in %.1f s: warmed %s; skipped %s", self.mode, self.report.seconds,
                     ", ".join(self.report.warmed) or "nothing", self.report.skipped or "nothing")
        return self.report

    def start(self) -> "Warmer":
        """Run in a daemon thread (call after launch: the page never waits for it)."""
        if self.mode != "none" and self._thread is None:
            self._thread = threading.Thread(target=self.run, name="warm-start", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Start no further load; wait up to `timeout` for the one in progress."""
        self.cancel.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


class _Skip(Exception):
    """A step left out on purpose (missing weights, no room in the budget)."""
