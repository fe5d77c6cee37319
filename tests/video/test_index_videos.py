"""scripts/jobs/index_videos.py: a folder of videos into the operator's index, resumable; the app's
visitors can search what it wrote (slow: real models)."""
from __future__ import annotations

import shutil

import pytest

from model_zoo.video import service
from tests.video.clips import EXAMPLE

pytestmark = pytest.mark.slow


def test_a_folder_is_indexed_once_and_a_rerun_skips_it(tmp_path, shared_cache, capsys, real_manager):
    from scripts.jobs import index_videos

    videos = tmp_path / "in"
    (videos / "2019").mkdir(parents=True)
    shutil.copy(EXAMPLE, videos / "2019" / "Trip 1.mp4")
    (videos / "broken.mp4").write_bytes(b"")
    data = tmp_path / "data"
    argv = [str(videos), "--data-dir", str(data), "--offline"]
    assert index_videos.main(argv) == 0
    out, err = capsys.readouterr()
    assert out.strip().endswith("1 videos indexed by 1 process") and "broken.mp4" in err
    assert (data / "videos" / "2019-Trip-1" / "index.json").is_file()
    assert index_videos.main(argv) == 0
    assert "0 indexed, 1 already there" in capsys.readouterr().out
    best = service.search_video(real_manager, data / "videos" / "2019-Trip-1", "two million dollars", 1).results[0]
    assert 10.0 <= best["start"] < 15.0
