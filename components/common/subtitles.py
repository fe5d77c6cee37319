"""Subtitle downloads (SRT and VTT) of timed segments, written the same way for every tab
that has them: an uploaded clip and a live session (Speech), an indexed video (Video)."""
from __future__ import annotations

from model_zoo.core.storage import atomic_write_text
from model_zoo.speech.service import to_srt, to_vtt

from .outputs import output_folder


def subtitle_files(segments: list[dict], stem: str) -> list[str]:
    """`stem`.srt and `stem`.vtt of `segments` ([{start, end, text}]) in a fresh folder that
    later calls prune after an hour (Gradio serves its own copy); [] when nothing was said."""
    if not segments:
        return []
    folder = output_folder("subtitles")
    files = []
    for suffix, text in ((".srt", to_srt(segments)), (".vtt", to_vtt(segments))):
        target = folder / f"{stem or 'speech'}{suffix}"
        atomic_write_text(target, text)
        files.append(str(target))
    return files
