"""What a backend's load() gets, and the micro-batcher it may build from it. Its own module,
below both the manager (which makes requests) and the backends (which take them), so
imports only point down.

Micro-batching (concurrent requests for one model run as one forward pass): on a CPU a
sentence encoder spends most of a short sentence's time on per-call overhead
(dispatch, small matrix products), so eight sentences in one pass cost little more than
one. A MicroBatcher gathers what callers submit and runs it in batches of at most
`max_batch` items, with no thread of its own: the first caller to find no batch running
becomes the leader and runs the batch for everyone queued; the others wait on their
entries. A caller alone runs at once: the leader waits up to `max_wait_ms` for more
items only while other callers' items are already queued (a burst is arriving), never
for a lone request.

Items are grouped by a key: only items with the same key share a batch (a sentence
encoder's key is its precision and tuned top layers). A failing batch of several callers
is run again caller by caller, so an error reaches only the caller whose input caused it.

The batcher belongs to the loaded model object (built by its backend's load() from the
settings' BatchPolicy); nothing here is module state."""
from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Generic, Hashable, Sequence, TypeVar

from model_zoo.core.checkpoints import WHISPER_HOME
from model_zoo.core.registry import ModelSpec

T = TypeVar("T")
R = TypeVar("R")

# run(key, payload, items) -> one result per item, in order. `payload` is what the first
# caller of the batch passed with its key (e.g. the tuned layers the key names).
RunBatch = Callable[[Hashable, Any, list], list]


@dataclass(frozen=True)
class BatchPolicy:
    """How one model batches: at most `max_batch` items a pass; a leader with others'
    items queued waits at most `max_wait_ms` for the batch to fill. max_batch 1: off."""

    max_batch: int = 1
    max_wait_ms: float = 0.0

    @property
    def enabled(self) -> bool:
        return self.max_batch > 1


@dataclass
class BatchStats:
    """Counters for tests and benchmarks (read under the batcher's lock)."""

    batches: int = 0
    items: int = 0
    windows: int = 0  # batches whose leader waited for more items
    sizes: list[int] = field(default_factory=list)  # the last 1,000 batch sizes

    def record(self, size: int, waited: bool) -> None:
        self.batches += 1
        self.items += size
        self.windows += int(waited)
        self.sizes = [*self.sizes[-999:], size]


@dataclass(eq=False)
class _Entry:
    item: Any
    caller: object  # one token per submit() call: a failed batch is retried per caller
    payload: Any
    done: bool = False
    result: Any = None
    error: BaseException | None = None


class MicroBatcher(Generic[T, R]):
    """Thread-safe micro-batcher over `run` (see the module docstring)."""

    def __init__(self, run: RunBatch, policy: BatchPolicy, name: str = "") -> None:
        if policy.max_batch < 1 or policy.max_wait_ms < 0:
            raise ValueError(f"a batch policy needs max_batch >= 1 and max_wait_ms >= 0, got {policy}")
        self.run, self.policy, self.name = run, policy, name
        self.stats = BatchStats()
        self._cond = threading.Condition()
        self._queues: dict[Hashable, deque[_Entry]] = {}
        self._leading: set[Hashable] = set()  # keys whose batch is being gathered or run

    def pending(self, key: Hashable = None) -> int:
        """Items queued under `key` and not yet taken into a batch."""
        with self._cond:
            return len(self._queues.get(key, ()))

    def submit(self, items: Sequence[T], key: Hashable = None, payload: Any = None) -> list[R]:
        """Run `items` (possibly beside other callers' items) and return their results in
        order; raises what running them raised."""
        caller = object()
        mine = [_Entry(item, caller, payload) for item in items]
        if not mine:
            return []
        with self._cond:
            self._queues.setdefault(key, deque()).extend(mine)
        while not self._finished(key, mine):
            self._lead(key)
        for entry in mine:
            if entry.error is not None:
                raise entry.error
        return [entry.result for entry in mine]

    def _finished(self, key: Hashable, mine: list[_Entry]) -> bool:
        """Wait until my items are done (True) or no one leads `key` (False: lead it)."""
        with self._cond:
            while key in self._leading and not all(e.done for e in mine):
                self._cond.wait()
            if all(e.done for e in mine):
                return True
            self._leading.add(key)
            return False

    def _lead(self, key: Hashable) -> None:
        """Take one batch from the queue of `key`, run it and hand out its results."""
        batch: list[_Entry] = []
        try:
            batch, waited = self._gather(key)
            if batch:
                self._run(key, batch)
                with self._cond:
                    self.stats.record(len(batch), waited)
        except BaseException as exc:  # an interrupt in the leader: no caller of its batch may wait forever
            self._fail([e for e in batch if not e.done], exc)
            raise
        finally:
            with self._cond:
                self._leading.discard(key)
                if not self._queues.get(key):
                    self._queues.pop(key, None)
                self._cond.notify_all()

    def _gather(self, key: Hashable) -> tuple[list[_Entry], bool]:
        """Up to max_batch queued entries. Waits for more only where the queue holds more than
        one caller's items (a burst): a lone caller never waits."""
        policy = self.policy
        with self._cond:
            queue = self._queues.setdefault(key, deque())
            waited = False
            if 1 < len({e.caller for e in queue}) and len(queue) < policy.max_batch and policy.max_wait_ms > 0:
                waited = True
                deadline = time.monotonic() + policy.max_wait_ms / 1000
                while len(queue) < policy.max_batch and (left := deadline - time.monotonic()) > 0:
                    self._cond.wait(left)
            batch = [queue.popleft() for _ in range(min(policy.max_batch, len(queue)))]
        return batch, waited

    def _run(self, key: Hashable, batch: list[_Entry]) -> None:
        try:
            self._deliver(batch, self._results(key, batch))
            return
        except Exception as exc:  # handed to the callers below, never swallowed
            callers = list(dict.fromkeys(e.caller for e in batch))
            if len(callers) == 1:
                self._fail(batch, exc)
                return
        for caller in callers:  # whose input failed it? each caller's items alone
            own = [e for e in batch if e.caller is caller]
            try:
                self._deliver(own, self._results(key, own))
            except Exception as exc:  # this caller's own error, raised in its thread
                self._fail(own, exc)

    def _results(self, key: Hashable, batch: list[_Entry]) -> list:
        results = list(self.run(key, batch[0].payload, [e.item for e in batch]))
        if len(results) != len(batch):
            raise RuntimeError(f"batch runner {self.name!r} gave {len(results)} results for {len(batch)} items")
        return results

    def _deliver(self, batch: list[_Entry], results: list) -> None:
        with self._cond:
            for entry, result in zip(batch, results):
                entry.result, entry.done = result, True
            self._cond.notify_all()

    def _fail(self, batch: list[_Entry], exc: BaseException) -> None:
        with self._cond:
            for entry in batch:
                entry.error, entry.done = exc, True
            self._cond.notify_all()


def batcher_for(run: RunBatch, policy: BatchPolicy | None, name: str = "") -> MicroBatcher | None:
    """A batcher where the policy batches at all; None (run directly) otherwise."""
    return MicroBatcher(run, policy, name) if policy is not None and policy.enabled else None


@dataclass(frozen=True)
class LoadRequest:
    """What a backend's load() gets: the resolved spec and where/how to run it."""

    spec: ModelSpec
    device: str
    dtype: str
    cache_dir: Path
    offline: bool
    whisper_dir: Path = WHISPER_HOME  # openai-whisper's own checkpoint folder
    batch: BatchPolicy | None = None  # how the built model micro-batches concurrent calls (None: it does not)
