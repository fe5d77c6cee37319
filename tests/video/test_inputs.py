"""Bad files and limits: each gets an InputError that says what is wrong, before any model loads."""
from __future__ import annotations

import pytest

from app.settings import load_settings
from model_zoo.core.errors import InputError
from model_zoo.video import decode
from model_zoo.video.keyframes import KeyframePolicy
from model_zoo.video.service import VideoOptions, build_index
from tests.video.clips import EXAMPLE, bad_videos, colour_clip


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    return bad_videos(tmp_path_factory.mktemp("bad-videos"))


@pytest.mark.parametrize("name, says", [
    ("empty.mp4", "empty"),
    ("mp3-named.mp4", "no video track"),
    ("truncated.mp4", "could not be opened as a video"),
    ("text.mp4", "could not be opened as a video"),
])
def test_bad_files_are_refused_clearly(bad, name, says):
    with pytest.raises(InputError, match=says):
        decode.probe(bad[name], max_minutes=10)


def test_bad_files_fail_before_a_model_loads(bad):
    class NoModels:  # any model use would be a bug: the file is checked first
        def __getattr__(self, name):
            raise AssertionError(f"the manager was used ({name}) for a bad file")

    for path in bad.values():
        with pytest.raises(InputError):
            build_index(NoModels(), path, "x")


def test_the_length_and_size_limits_say_which_flag(tmp_path):
    with pytest.raises(InputError, match="--max-video-minutes"):
        decode.probe(EXAMPLE, max_minutes=0.1)
    with pytest.raises(InputError, match="--max-file-size-mb"):
        decode.probe(EXAMPLE, max_minutes=10, max_mb=0.01)
    info = decode.probe(EXAMPLE, max_minutes=10, max_mb=5)
    assert info.has_video and info.has_audio and 24 < info.duration_s < 26


def test_settings_give_the_video_limit_cli_over_env_over_default():
    assert load_settings([], environ={}).max_video_minutes == 10.0
    assert load_settings([], environ={"MMS_MAX_VIDEO_MINUTES": "3"}).max_video_minutes == 3.0
    assert (
        load_settings(["--max-video-minutes", "2.5"], environ={"MMS_MAX_VIDEO_MINUTES": "3"}).max_video_minutes == 2.5
    )


def test_sampled_frames_of_a_clip_without_audio(tmp_path):
    clip = colour_clip(tmp_path / "colours.mp4", seconds=2.0)
    info = decode.probe(clip, max_minutes=1)
    assert info.has_video and not info.has_audio
    frames = list(decode.sampled_frames(clip, every_s=0.5))
    assert [round(f.time_s, 1) for f in frames] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5]
    assert frames[0].image().size == (160, 120)


def test_the_example_is_small_and_licensed():
    assert EXAMPLE.stat().st_size < 1.5 * 2**20
    readme = (EXAMPLE.parent / "README.md").read_text()
    assert "public domain" in readme and "espeak-ng" in readme
    VideoOptions(keyframes=KeyframePolicy())  # the defaults construct
