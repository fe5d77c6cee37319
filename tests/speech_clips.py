"""Speech clips made on the fly with espeak-ng (no files to ship, any language)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from model_zoo.speech.wer import normalised_words, word_error_rate  # noqa: F401 (the tests' scorer)

GERMAN = "Guten Morgen. Ich möchte heute ein Glas Wasser und ein Stück Brot kaufen."
# The first words of assets/audio/librivox_sense_and_sensibility.ogg, as LibriVox's text has them.
LIBRIVOX_TEXT = ("and mister john dashwood had then leisure to consider how much there might be "
                 "prudently in his power to do for them")
# What the German clip says, in English: translations are scored on these words (any of the spellings).
GERMAN_MEANING = ({"morning"}, {"glass"}, {"water"}, {"piece", "slice", "bit"}, {"bread", "loaf"},
                  {"buy", "purchase", "get"})
ENGLISH = ("The weather is nice today. I would like a glass of water and a piece of bread. "
           "Please call me tomorrow morning.")


def espeak(text: str, voice: str, dest: Path) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(dest), text], check=True, capture_output=True)
    return dest


def word_recall(reference: str, hypothesis: str) -> float:
    """The share of the reference's words (normalised as word_error_rate does) that the
    hypothesis holds, each counted once: 'did it hear this passage', whatever it heard around it."""
    pool = normalised_words(hypothesis)
    wanted = normalised_words(reference)
    found = 0
    for word in wanted:
        if word in pool:
            pool.remove(word)
            found += 1
    return found / max(1, len(wanted))


def meaning_recall(meaning: tuple[set[str], ...], text: str) -> float:
    """The share of the expected meaning's words found in `text`, each word one of its accepted
    spellings or synonyms: a translation is judged on what it says, not on one word choice."""
    words = set(normalised_words(text))
    return sum(bool(options & words) for options in meaning) / max(1, len(meaning))
