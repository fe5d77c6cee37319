"""Speech clips made on the fly with espeak-ng (no files to ship, any language)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from model_zoo.speech.wer import word_error_rate  # noqa: F401 (the tests' scorer)

GERMAN = "Guten Morgen. Ich möchte heute ein Glas Wasser und ein Stück Brot kaufen."
ENGLISH = ("The weather is nice today. I would like a glass of water and a piece of bread. "
           "Please call me tomorrow morning.")


def espeak(text: str, voice: str, dest: Path) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(dest), text], check=True, capture_output=True)
    return dest
