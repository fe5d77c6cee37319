"""Files the tabs write for the browser to download (generated PNGs, subtitles). Gradio copies
each returned file into its own cache, so ours are only needed for a moment; without pruning
a long-running Space keeps every one of them."""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

OUTPUT_MAX_AGE_S = 3600  # well past the moment Gradio copies a returned file


def output_folder(kind: str, max_age_s: float = OUTPUT_MAX_AGE_S) -> Path:
    """A new folder for one call's files under <tmp>/multimodal-studio-<kind>/; the folders
    of earlier calls older than `max_age_s` are removed first."""
    parent = Path(tempfile.gettempdir()) / f"multimodal-studio-{kind}"
    parent.mkdir(parents=True, exist_ok=True)
    prune(parent, max_age_s)
    return Path(tempfile.mkdtemp(prefix="run-", dir=parent))


def prune(parent: Path, max_age_s: float) -> int:
    """Remove the run folders (and stray files) in `parent` last changed over `max_age_s` ago."""
    cutoff, removed = time.time() - max_age_s, 0
    for entry in parent.iterdir():
        try:
            if entry.stat().st_mtime >= cutoff:
                continue
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed += 1
        except FileNotFoundError:  # another worker removed it first
            continue
    return removed
