"""Keyframe selection on synthetic frames: cuts, the cap, the floor."""
from __future__ import annotations

import numpy as np

from model_zoo.video.keyframes import KeyframePolicy, difference, scene_spans, select_keyframes


def frames(levels: list[float]) -> list[np.ndarray]:
    return [np.full((24, 32), level, np.float32) for level in levels]


def test_a_cut_starts_a_scene_and_a_still_picture_does_not():
    times = [n * 0.5 for n in range(20)]  # 10 s at 2 fps; a cut at 5 s
    levels = [0.2] * 10 + [0.8] * 10
    assert select_keyframes(times, frames(levels)) == [0, 10]


def test_noise_below_the_threshold_is_not_a_cut():
    rng = np.random.default_rng(0)
    thumbs = [np.clip(0.5 + 0.02 * rng.standard_normal((24, 32)), 0, 1).astype(np.float32) for _ in range(20)]
    assert select_keyframes([n * 0.5 for n in range(20)], thumbs) == [0]
    assert difference(thumbs[0], thumbs[1]) < KeyframePolicy().threshold


def test_the_cap_holds_a_flickering_video_to_max_per_minute_and_takes_a_late_cut():
    policy = KeyframePolicy(max_per_minute=20)  # one per 3 s at most
    times = [n * 0.5 for n in range(120)]  # 60 s, every frame a cut
    keys = select_keyframes(times, frames([n % 2 for n in range(120)]), policy)
    assert len(keys) <= 20 + 1
    gaps = np.diff([times[k] for k in keys])
    assert gaps.min() >= policy.min_gap_s - 1e-6
    # a cut inside the gap is remembered: taken as soon as the gap has passed
    times = [n * 0.5 for n in range(12)]
    keys = select_keyframes(times, frames([0.0, 0.0, 1.0] + [1.0] * 9), policy)  # cut at 1 s
    assert [times[k] for k in keys] == [0.0, 3.0]


def test_the_floor_gives_a_still_video_a_keyframe_every_max_gap():
    policy = KeyframePolicy(min_per_minute=4)  # one per 15 s at least
    times = [n * 0.5 for n in range(121)]  # 60 s of one picture
    keys = select_keyframes(times, frames([0.3] * 121), policy)
    assert [times[k] for k in keys] == [0.0, 15.0, 30.0, 45.0, 60.0]


def test_scenes_run_from_keyframe_to_keyframe_and_the_last_to_the_end():
    assert scene_spans([0.0, 5.0, 12.5], 20.0) == [(0.0, 5.0), (5.0, 12.5), (12.5, 20.0)]
