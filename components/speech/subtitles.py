"""The Speech tab's subtitle downloads (SRT and VTT), written the same way for an uploaded
clip (the tab's main part) and for a live session (`live`)."""
from __future__ import annotations

from pathlib import Path

from model_zoo.core.storage import atomic_write_text
from model_zoo.speech import service as speech

from ..common.outputs import output_folder


def subtitle_files(result: speech.SpeechResult, audio_name: str) -> list[str]:
    """SRT and VTT files of the shown segments, in a fresh folder that later calls prune
    after an hour (Gradio serves its own copy)."""
    if not result.segments:
        return []
    folder = output_folder("subtitles")
    stem = Path(audio_name).stem or "speech"
    files = []
    for suffix, text in ((".srt", speech.to_srt(result.segments)), (".vtt", speech.to_vtt(result.segments))):
        target = folder / f"{stem}{suffix}"
        atomic_write_text(target, text)
        files.append(str(target))
    return files
