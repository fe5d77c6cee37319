"""LocalAgreement-2's word alignment for the live captioner: two decodes agree on a common
prefix of words (compared without case or punctuation), the already committed words are
found again in a new hypothesis, and Whisper's segments are cleaned of what must not be
compared."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from model_zoo.speech.whisper_common import Segment


def norm(word: str) -> str:
    return "".join(c for c in word.lower() if c.isalnum())


def common_prefix(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common prefix of two word lists, compared without case or
    punctuation (LocalAgreement's 'the two decodes agree')."""
    n = 0
    for x, y in zip(a, b):
        if norm(x) != norm(y):
            break
        n += 1
    return n


def align_prefix(committed: Sequence[str], hypothesis: Sequence[str]) -> tuple[int, list[int]]:
    """Where the already committed words end in a new hypothesis of the same window.
    Returns (h, consumed): the hypothesis prefix H[:h] that best matches `committed`
    (word edit distance), and consumed[i] = committed words matched by H[:i], i <= h.
    Whisper usually repeats the committed words verbatim (h == len(committed)); when it
    changes its mind about one of them the edit distance still finds the boundary."""
    c, n = [norm(w) for w in committed], [norm(w) for w in hypothesis]
    rows, cols = len(c) + 1, len(n) + 1
    dist = np.zeros((rows, cols), dtype=np.int32)
    dist[:, 0] = np.arange(rows)
    dist[0, :] = np.arange(cols)
    for i in range(1, rows):
        for j in range(1, cols):
            dist[i, j] = min(dist[i - 1, j] + 1, dist[i, j - 1] + 1, dist[i - 1, j - 1] + (c[i - 1] != n[j - 1]))
    last = dist[-1]
    # ties: prefer a prefix ending on the last committed word, then the closest length
    h = int(min(range(cols), key=lambda j: (last[j], bool(c) and (j == 0 or n[j - 1] != c[-1]), abs(j - len(c)))))
    consumed = [-1] * (h + 1)
    i, j = len(c), h
    while j > 0:  # walk back; the first visit of a column has its largest committed count
        if consumed[j] < 0:
            consumed[j] = i
        if i > 0 and dist[i, j] == dist[i - 1, j - 1] + (c[i - 1] != n[j - 1]):
            i, j = i - 1, j - 1
        elif i > 0 and dist[i, j] == dist[i - 1, j] + 1:
            i -= 1
        else:
            j -= 1
    consumed[0] = 0
    return h, consumed


def clean_segments(segments: Sequence[Segment], window_s: float) -> list[Segment]:
    """Whisper's segments of a window with what LocalAgreement must not compare dropped:
    punctuation-only 'words' ("..." on silence), the dash of a word cut off at the
    window's end ("then-"), a segment starting at the window's very end or repeating an
    earlier one (Whisper's hallucinations past the audio); times clipped to the window."""
    out: list[Segment] = []
    seen: set[str] = set()
    for segment in segments:
        words = [w[:-1] if w.endswith("-") and len(w) > 1 else w for w in segment.text.split() if norm(w)]
        key = " ".join(norm(w) for w in words)
        if key in seen or segment.start >= window_s - 0.3:
            break
        seen.add(key)
        if words:
            start = min(max(0.0, segment.start), window_s)
            out.append(Segment(start, min(max(segment.end, start), window_s), " ".join(words)))
    return out
