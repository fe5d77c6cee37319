"""Word error rate: how benchmarks and tests score a transcript against a reference."""
from __future__ import annotations


def normalised_words(text: str) -> list[str]:
    """Lower-cased words without punctuation; 'Mr.'/'Mrs.' read as LibriVox references spell them."""
    text = text.lower().replace("mr.", "mister").replace("mrs.", "missus")
    return "".join(c if c.isalnum() or c.isspace() else " " for c in text).split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word-level Levenshtein distance / reference length."""
    ref, hyp = normalised_words(reference), normalised_words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, start=1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / max(1, len(ref))
