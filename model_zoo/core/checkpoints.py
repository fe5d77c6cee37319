"""Where openai-whisper's own `<size>.pt` checkpoints may be. Torch-free and below both
model_zoo.core.weights (which says whether weights are present) and the openai-whisper
backend (which loads them), so neither imports the other."""
from __future__ import annotations

from pathlib import Path

# Where a model converted from the CTranslate2 pack is cached, under the cache dir.
CONVERTED_FOLDER = "whisper-base-openai"
# openai-whisper's own download folder where XDG_CACHE_HOME is not set (app.settings reads that
# variable, as openai-whisper does, and passes the folder down as --whisper-dir).
WHISPER_HOME = Path.home() / ".cache" / "whisper"


def checkpoint_dirs(cache_dir: Path, whisper_dir: Path = WHISPER_HOME) -> list[Path]:
    """Where a `<size>.pt` may be: our cache, then openai-whisper's own folder."""
    return [Path(cache_dir) / "whisper", Path(whisper_dir)]


def find_checkpoint(source: str, cache_dir: Path, whisper_dir: Path = WHISPER_HOME) -> Path | None:
    """A local checkpoint for `source` (a .pt path or a size name like "base")."""
    path = Path(source).expanduser()
    if path.is_file():
        return path
    for folder in checkpoint_dirs(cache_dir, whisper_dir):
        if (folder / f"{source}.pt").is_file():
            return folder / f"{source}.pt"
    return None
