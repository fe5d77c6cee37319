"""Keyframes at scene changes: a sampled frame becomes a keyframe when its tiny thumbnail
(32x24, in colour: red to green can have the same brightness) differs enough from the last
sampled frame's (mean absolute difference), under a cap (at most `max_per_minute`, i.e. a
minimum gap; a change inside the gap is remembered and
taken as soon as the gap has passed) and a floor (at least `min_per_minute`: a still picture
gets a keyframe every 60/min_per_minute s anyway). The first frame is always one. Each
keyframe starts a scene that runs to the next keyframe (or the end). Pure numpy: testable on
synthetic frames."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np


@dataclass(frozen=True)
class KeyframePolicy:
    sample_every_s: float = 0.5  # frames compared per second: 2
    threshold: float = 0.08  # mean |difference| of [0, 1] thumbnail pixels that counts as a cut
    max_per_minute: float = 20.0  # cap: one keyframe per 3 s at most
    min_per_minute: float = 4.0  # floor: one keyframe per 15 s at least
    thumb: tuple[int, int] = (32, 24)

    @property
    def min_gap_s(self) -> float:
        return 60.0 / self.max_per_minute

    @property
    def max_gap_s(self) -> float:
        return 60.0 / self.min_per_minute


def difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(a, np.float32) - np.asarray(b, np.float32))))


class KeyframeSelector:
    """Streaming: offer() each sampled frame in time order; True when it is a keyframe."""

    def __init__(self, policy: KeyframePolicy = KeyframePolicy()) -> None:
        self.policy = policy
        self.last_key: float | None = None
        self.previous: np.ndarray | None = None
        self.pending = False  # a cut seen inside the minimum gap, not taken yet

    def offer(self, time_s: float, tiny: np.ndarray) -> bool:
        p = self.policy
        changed = self.previous is not None and difference(tiny, self.previous) >= p.threshold
        self.previous = tiny
        if self.last_key is None:
            self.last_key = time_s
            return True
        since = time_s - self.last_key
        if changed and since + 1e-6 < p.min_gap_s:
            self.pending = True
            return False
        if changed or (self.pending and since + 1e-6 >= p.min_gap_s) or since + 1e-6 >= p.max_gap_s:
            self.last_key, self.pending = time_s, False
            return True
        return False


def select_keyframes(times: Sequence[float], thumbs: Iterable[np.ndarray],
                     policy: KeyframePolicy = KeyframePolicy()) -> list[int]:
    """Indices of the keyframes among sampled frames (times ascending)."""
    selector = KeyframeSelector(policy)
    return [n for n, (t, tiny) in enumerate(zip(times, thumbs)) if selector.offer(t, tiny)]


def scene_spans(key_times: Sequence[float], duration_s: float) -> list[tuple[float, float]]:
    """[start, end] of each scene: from its keyframe to the next (the last to the end)."""
    ends = list(key_times[1:]) + [max(duration_s, key_times[-1] if key_times else 0.0)]
    return [(round(float(s), 3), round(float(e), 3)) for s, e in zip(key_times, ends)]
