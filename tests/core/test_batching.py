"""The micro-batcher: a lone caller runs at once, concurrent callers share a batch, errors
reach the caller whose input caused them. Ordering is forced with events and the batcher's
own counters, never with clocks."""
from __future__ import annotations

import threading
import time

import pytest

from model_zoo.core.loading import BatchPolicy, MicroBatcher, batcher_for

WINDOW_MS = 60_000.0  # a window nobody may wait: a lone caller that waited it would hang the test


class Gate:
    """A run function whose first batch blocks until released, recording every batch."""

    def __init__(self) -> None:
        self.entered, self.release = threading.Event(), threading.Event()
        self.batches: list[list] = []

    def __call__(self, key, payload, items: list) -> list:
        self.batches.append(list(items))
        if len(self.batches) == 1:
            self.entered.set()
            assert self.release.wait(30)
        if "bad" in items:
            raise ValueError("bad item")
        return [(payload, item * 2) for item in items]


def wait_for(condition, timeout: float = 30.0) -> None:
    """Poll a condition the threads under test will make true (not a timing assertion)."""
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "condition never came true"
        time.sleep(0.001)


def in_thread(fn, *args, **kwargs) -> tuple[threading.Thread, dict]:
    out: dict = {}

    def target() -> None:
        try:
            out["result"] = fn(*args, **kwargs)
        except Exception as exc:  # handed to the test to check
            out["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, out


def test_a_lone_caller_runs_at_once_without_the_window():
    calls = []
    batcher = MicroBatcher(lambda key, payload, items: calls.append(items) or [i + 1 for i in items],
                           BatchPolicy(max_batch=8, max_wait_ms=WINDOW_MS))
    assert batcher.submit([1]) == [2]
    assert batcher.submit([1, 2, 3]) == [2, 3, 4]  # one caller's several items: still alone
    assert calls == [[1], [1, 2, 3]]
    assert batcher.stats.windows == 0 and batcher.stats.sizes == [1, 3]


def test_callers_queued_behind_a_running_batch_share_the_next_one():
    gate = Gate()
    batcher = MicroBatcher(gate, BatchPolicy(max_batch=3, max_wait_ms=WINDOW_MS))
    first, first_out = in_thread(batcher.submit, ["a"], payload="p")
    assert gate.entered.wait(30)
    others = [in_thread(batcher.submit, [word], payload="p") for word in ("b", "c", "d")]
    wait_for(lambda: batcher.pending() == 3)  # a full batch is queued: nobody waits the window
    gate.release.set()
    for thread, _ in [(first, first_out), *others]:
        thread.join(30)
    assert first_out["result"] == [("p", "aa")]
    assert [out["result"] for _, out in others] == [[("p", "bb")], [("p", "cc")], [("p", "dd")]]
    assert [len(b) for b in gate.batches] == [1, 3]
    assert sorted(gate.batches[1]) == ["b", "c", "d"]


def test_only_the_same_key_shares_a_batch():
    seen = []
    batcher = MicroBatcher(lambda key, payload, items: seen.append((key, list(items))) or items,
                           BatchPolicy(max_batch=4))
    assert batcher.submit([1], key="fp32") == [1]
    assert batcher.submit([2], key="bf16") == [2]
    assert seen == [("fp32", [1]), ("bf16", [2])]


def test_an_error_reaches_only_the_caller_who_caused_it():
    gate = Gate()
    batcher = MicroBatcher(gate, BatchPolicy(max_batch=2, max_wait_ms=WINDOW_MS))
    first, first_out = in_thread(batcher.submit, ["a"])
    assert gate.entered.wait(30)
    bad, bad_out = in_thread(batcher.submit, ["bad"])
    good, good_out = in_thread(batcher.submit, ["ok"])
    wait_for(lambda: batcher.pending() == 2)
    gate.release.set()
    for thread in (first, bad, good):
        thread.join(30)
    assert isinstance(bad_out["error"], ValueError)
    assert good_out["result"] == [(None, "okok")] and "error" not in good_out
    assert first_out["result"] == [(None, "aa")]


def test_a_lone_caller_s_error_is_raised_in_its_own_thread():
    batcher = MicroBatcher(lambda key, payload, items: 1 / 0, BatchPolicy(max_batch=4))
    with pytest.raises(ZeroDivisionError):
        batcher.submit([1])
    assert batcher.pending() == 0


def test_a_runner_that_loses_results_is_an_error_not_a_hang():
    batcher = MicroBatcher(lambda key, payload, items: items[:-1], BatchPolicy(max_batch=4))
    with pytest.raises(RuntimeError, match="1 results for 2 items"):
        batcher.submit([1, 2])


def test_many_threads_each_get_their_own_answers():
    rounds = []
    batcher = MicroBatcher(lambda key, payload, items: rounds.append(len(items)) or [i * i for i in items],
                           BatchPolicy(max_batch=8, max_wait_ms=1.0))
    outs = [in_thread(batcher.submit, [n, n + 1000]) for n in range(24)]
    for thread, _ in outs:
        thread.join(30)
    assert [out["result"] for _, out in outs] == [[n * n, (n + 1000) ** 2] for n in range(24)]
    assert sum(rounds) == 48 and max(rounds) <= 8


def test_policy_one_means_no_batcher():
    assert batcher_for(lambda *a: [], BatchPolicy(max_batch=1)) is None
    assert batcher_for(lambda *a: [], None) is None
    with pytest.raises(ValueError):
        MicroBatcher(lambda *a: [], BatchPolicy(max_batch=0))
