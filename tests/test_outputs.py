"""components.common.outputs: the files the tabs hand to Gradio (Imagine's PNGs, Video's
subtitles) go into one folder per call, and a later call removes folders over an hour old,
so a long-running Space does not keep every file it ever served."""
from __future__ import annotations

import os
import tempfile
import time

from components import imagine
from components.common.subtitles import subtitle_files
from components.common.outputs import OUTPUT_MAX_AGE_S, output_folder


def _age(path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_call_removes_only_old_folders(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    old, recent = output_folder("imagine"), output_folder("imagine")
    (old / "a.png").write_bytes(b"x")
    (recent / "b.png").write_bytes(b"y")
    _age(old, OUTPUT_MAX_AGE_S + 60)
    _age(recent, OUTPUT_MAX_AGE_S - 60)
    fresh = output_folder("imagine")
    assert fresh.parent == tmp_path / "multimodal-studio-imagine"
    assert not old.exists() and (recent / "b.png").exists() and fresh.is_dir()


def test_imagine_and_subtitles_write_into_pruned_folders(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert imagine.output_dir().parent == tmp_path / "multimodal-studio-imagine"
    report = {"video": "clip", "segments": [{"start": 0.0, "end": 1.5, "text": "hello"}]}
    srt, vtt = subtitle_files(report["segments"], report["video"])
    first = os.path.dirname(srt)
    assert os.path.dirname(first) == str(tmp_path / "multimodal-studio-subtitles")
    assert "hello" in open(srt, encoding="utf-8").read() and vtt.endswith("clip.vtt")
    _age(first, OUTPUT_MAX_AGE_S + 1)
    subtitle_files(report["segments"], report["video"])
    assert not os.path.exists(first)
