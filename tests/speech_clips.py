"""Speech clips made on the fly with espeak-ng (no files to ship, any language)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

GERMAN = "Guten Morgen. Ich möchte heute ein Glas Wasser und ein Stück Brot kaufen."
ENGLISH = ("The weather is nice today. I would like a glass of water and a piece of bread. "
           "Please call me tomorrow morning.")


def espeak(text: str, voice: str, dest: Path) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(dest), text], check=True, capture_output=True)
    return dest


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word-level Levenshtein distance / reference length, on lower-cased words."""
    norm = lambda s: "".join(c if c.isalnum() or c.isspace() else " " for c in s.lower()).split()  # noqa: E731
    ref, hyp = norm(reference), norm(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, start=1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / max(1, len(ref))
