"""Which words of a text drove its predicted label, by occlusion: the text is run again
once without each word, in the same batch as the text itself, and a word's weight is how
much the predicted label's probability falls without it:

    weight(word) = p(label | text) - p(label | text without the word)

Occlusion rather than gradients because it reads the whole head as it answers: every view
of the text (the sentence encoder through the head's tuned top layers, and VADER's lexicon
scores, which have no gradient), every member of a seed ensemble and every part of a blend,
with whatever image or voice clip came with the text held fixed. It is faithful to deletion
by construction (scripts/sentiment/check_attributions.py measures that it is, on the movie test
split). The variants ride in one batch with the text, which a CPU runs far more
efficiently than one sentence at a time: about 3x a plain prediction for a sentence of
average length (benchmarks/models/attributions.py). Longer texts are occluded in spans of
consecutive words, at most MAX_UNITS of them, so a text never costs more than
MAX_UNITS + 1 sentences."""
from __future__ import annotations

import math

import numpy as np

from model_zoo.sentiment.results import WordWeight

MAX_UNITS = 32  # 90% of the movie test split's sentences have at most 31 words


def word_units(text: str, max_units: int = MAX_UNITS) -> list[str]:
    """The text's words (split on whitespace; punctuation stays on its word), in order;
    beyond max_units words, runs of consecutive words joined into max_units spans or fewer."""
    words = text.split()
    size = max(1, math.ceil(len(words) / max_units))
    return [" ".join(words[i : i + size]) for i in range(0, len(words), size)]


def occluded_texts(units: list[str]) -> list[str | None]:
    """The text without each unit in turn (None where nothing is left)."""
    return [" ".join(units[:k] + units[k + 1 :]) or None for k in range(len(units))]


def weigh(units: list[str], label: int, full: np.ndarray, occluded: np.ndarray) -> list[WordWeight]:
    """Each unit's weight from the head's probabilities for the text (full: (classes,)) and
    for the text without each unit (occluded: (units, classes))."""
    drops = full[label] - occluded[:, label]
    return [WordWeight(token=unit, weight=round(float(drop), 4)) for unit, drop in zip(units, drops)]


def top_units(weights: list[WordWeight], k: int) -> list[int]:
    """Indices of the k units that most supported the label (largest weights first)."""
    return [int(i) for i in np.argsort([-w.weight for w in weights], kind="stable")[:k]]


def delete_units(units: list[str], drop: list[int]) -> str:
    """The text made of the units that are not in `drop`."""
    gone = set(drop)
    return " ".join(unit for i, unit in enumerate(units) if i not in gone)
