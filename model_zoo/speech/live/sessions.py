"""Live sessions, one per Whisper model: each holds its captioner, the pinned model and (in
the app) a worker thread that decodes while the chunks keep arriving; `LiveSessions` opens
them, tells a second visitor to wait, and frees each on stop, on a dropped browser or after
an idle timeout."""
from __future__ import annotations

import logging
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Callable

from model_zoo.speech.live.captioner import LiveCaptioner, LiveOptions, LiveUpdate
from model_zoo.speech.live.decoding import RecognizerDecoder
from model_zoo.speech.whisper_common import DecodeOptions
from model_zoo.core.errors import InputError
from model_zoo.core.manager import ModelManager


class LiveBusy(InputError):
    """Another visitor's live session holds the model."""


@dataclass
class LiveSession:
    """A captioner, the pinned model, and (in the app) a worker thread that decodes while
    the browser's chunks keep arriving: the chunk handler only feeds and returns at once.
    Gradio keeps only the newest chunk of a stream while its handler is busy, so a
    handler that decoded in line would lose the audio sent meanwhile."""

    owner: str
    captioner: LiveCaptioner
    model_key: str
    stack: ExitStack
    last_seen: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    latest: LiveUpdate | None = None
    worker: threading.Thread | None = None
    stopping: threading.Event = field(default_factory=threading.Event)

    def start_worker(self) -> None:
        self.latest = self.captioner.update(decoded=False)
        self.worker = threading.Thread(target=self._work, name=f"live-captions-{self.owner[:8]}", daemon=True)
        self.worker.start()

    def _work(self) -> None:
        while not self.stopping.is_set():
            if self.captioner.waiting_s() < self.captioner.options.min_step_s:
                self.stopping.wait(0.05)
                continue
            with self.lock:
                if self.captioner.finished:
                    return
                try:
                    self.latest = self.captioner.step()
                except Exception:  # a failed decode ends the session, not the server
                    logging.getLogger("studio").exception("live captions: a decode failed")
                    self.captioner.finished = True
                    return

    def end_worker(self, timeout: float = 60.0) -> None:
        self.stopping.set()
        if self.worker is not None and self.worker is not threading.current_thread():
            self.worker.join(timeout)


class LiveSessions:
    """At most one live session per Whisper model key. A session pins its model (the
    manager never evicts it mid-sentence) until stop(), a dropped browser (the app calls
    drop(owner) from its unload event) or `idle_timeout_s` without a chunk."""

    def __init__(self, manager: ModelManager, idle_timeout_s: float = 15.0,
                 clock: Callable[[], float] = time.monotonic, background: bool = False) -> None:
        self.manager = manager
        self.background = background  # a worker thread decodes each session (the app)
        self.idle_timeout_s = idle_timeout_s
        self.clock = clock
        self._sessions: dict[str, LiveSession] = {}  # model key -> session
        self._stopped: dict[str, float] = {}  # owner -> when their last session stopped
        self._lock = threading.Lock()

    def get(self, owner: str, model_key: str) -> LiveSession | None:
        with self._lock:
            session = self._sessions.get(model_key)
        if session is not None and session.owner == owner:
            session.last_seen = self.clock()
            return session
        return None

    def open(self, owner: str, model_key: str, language: str | None, decode_options: DecodeOptions,
             options: LiveOptions | None = None) -> LiveSession:
        """`owner`'s session (a new one unless theirs is running), or LiveBusy naming the
        wait. The recorder's start and its first chunk may both ask: both get one session."""
        self.reap()
        with self._lock:
            self._stopped.pop(owner, None)
            current = self._sessions.get(model_key)
            if current is not None and current.owner == owner and not current.captioner.finished:
                current.last_seen = self.clock()
                return current
            if current is not None and current.owner != owner:
                idle = self.clock() - current.last_seen
                raise LiveBusy(
                    "Live captions are in use by another visitor right now: this machine serves one "
                    f"live session at a time (it frees itself when they stop, or {self.idle_timeout_s - idle:.0f} s "
                    "after they go quiet). Try again in a moment, or record a clip and transcribe it.")
            if current is not None:
                self._close(current)
            stack = ExitStack()
            try:
                recognizer = stack.enter_context(self.manager.use(model_key))  # pinned while live
            except BaseException:
                stack.close()
                raise
            captioner = LiveCaptioner(RecognizerDecoder(recognizer, decode_options), language, options)
            session = self._sessions[model_key] = LiveSession(owner, captioner, model_key, stack, self.clock())
            if self.background:
                session.start_worker()
            return session

    def stop(self, owner: str, model_key: str) -> LiveUpdate | None:
        """Finish `owner`'s session (final decode) and free the model."""
        with self._lock:
            session = self._sessions.get(model_key)
            if session is None or session.owner != owner:
                return None
            del self._sessions[model_key]
            self._stopped[owner] = self.clock()
        try:
            session.end_worker()
            with session.lock:
                return session.captioner.finish()
        finally:
            session.stack.close()

    def stopped_lately(self, owner: str, within_s: float = 5.0) -> bool:
        """Whether `owner` stopped a session in the last seconds: a chunk still on its way
        then must not open a new one."""
        with self._lock:
            at = self._stopped.get(owner)
        return at is not None and self.clock() - at < within_s

    def drop(self, owner: str) -> int:
        """End every session of `owner` without a final decode (the browser went away)."""
        with self._lock:
            gone = [k for k, s in self._sessions.items() if s.owner == owner]
            for key in gone:
                self._close(self._sessions.pop(key))
        return len(gone)

    def reap(self) -> int:
        """End sessions idle for longer than the timeout."""
        now = self.clock()
        with self._lock:
            stale = [k for k, s in self._sessions.items() if now - s.last_seen > self.idle_timeout_s]
            for key in stale:
                self._close(self._sessions.pop(key))
        return len(stale)

    def active(self) -> list[str]:
        with self._lock:
            return list(self._sessions)

    @staticmethod
    def _close(session: LiveSession) -> None:
        session.end_worker(timeout=0)  # a decode under way finishes on its own; nothing waits for it
        session.captioner.finished = True
        session.stack.close()
