"""Fusing what is seen with what is said: z-scores per modality, agreement on the timeline."""
from __future__ import annotations

import numpy as np

from model_zoo.video.fusion import fuse, zscores

SCENES = [(0.0, 5.0), (5.0, 10.0), (10.0, 15.0), (15.0, 20.0)]
SEGMENTS = [(0.5, 3.0), (5.5, 8.0), (10.5, 13.0), (15.5, 18.0)]


def test_zscores_ignore_each_modalitys_scale():
    a = zscores([0.1, 0.2, 0.3])
    assert np.allclose(a, zscores([10.0, 20.0, 30.0]))
    assert np.allclose(zscores([0.4, 0.4]), 0.0)  # no spread, no evidence


def test_a_moment_where_picture_and_words_agree_wins_and_the_range_is_one_slot():
    seen = [0.20, 0.21, 0.45, 0.22]  # label-bridge cosines: small scale
    said = [0.05, 0.10, 0.70, 0.12]  # sentence cosines: another scale
    hits = fuse(SCENES, seen, SEGMENTS, said, k=2)
    assert (hits[0].start, hits[0].end) in {(10.0, 15.0), (10.5, 13.0)}
    assert hits[0].seen > 1 and hits[0].said > 1
    assert all(not (10.0 <= h.start < 15.0) for h in hits[1:])  # the same moment is not listed twice


def test_one_modality_alone_still_finds_its_moment():
    seen = [0.3, 0.3, 0.3, 0.3]  # the picture says nothing
    said = [0.1, 0.1, 0.1, 0.9]  # the words do
    hits = fuse(SCENES, seen, SEGMENTS, said, k=1)
    assert hits[0].found_by == "said" and hits[0].start == 15.5


def test_scale_does_not_let_one_modality_drown_the_other():
    # the picture points at scene 1 with tiny cosines; speech is flat but on a large scale
    hits = fuse(SCENES, [0.01, 0.03, 0.01, 0.01], SEGMENTS, [0.5, 0.5, 0.5, 0.5], k=1)
    assert (hits[0].start, hits[0].end) == (5.0, 10.0)


def test_a_video_without_speech_ranks_by_the_pictures_alone():
    hits = fuse(SCENES, [0.1, 0.5, 0.2, 0.1], [], [], k=4)
    assert [h.start for h in hits][:2] == [5.0, 10.0]
    assert all(h.said == 0 for h in hits)


def test_a_sentence_and_the_scene_around_it_are_one_moment_not_two():
    scenes, segments = [(0.0, 5.0), (5.0, 10.0)], [(0.0, 2.0), (5.5, 7.0)]
    hits = fuse(scenes, [0.9, 0.1], segments, [0.8, 0.2], k=2)
    assert len([h for h in hits if h.start < 5.0]) == 1
    assert hits[1].start >= 5.0
