"""One ranking over what is seen and what is said.

Scenes are scored by the cosine between the query and their keyframe in the image engine's
space; transcript segments by the cosine in the sentence encoder's space. The two scales are
not comparable (a label-bridge cosine of 0.3 can be a clear match, a sentence cosine of 0.3 a
weak one), so each modality's scores are standardised over the whole video (z-scores: how far
a moment stands out from the rest of that video, in that modality's own spread). Then the two
are fused on the timeline: every scene and every segment is a candidate time range, and its
fused score is the weighted mean of its own z-score and the best z-score of the other modality
over the ranges it overlaps (0, the video's average, where the other modality has nothing
there; a modality the video lacks altogether, e.g. no speech, gets weight 0). A moment where
picture and words agree rises; a moment found by one modality alone still ranks by how far it
stands out. Overlapping candidates are merged: where two overlap by more than half of the
shorter one (a sentence inside its scene), the higher one is kept. Standardising rather
than rank fusion keeps "how much better" (one scene far above the rest beats several middling
ones), as the Search tab's image + text fusion does."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

Span = tuple[float, float]


@dataclass
class FusedHit:
    start: float
    end: float
    score: float  # fused z-score
    seen: float  # the scenes' z-score here (0 when the video has no pictures of it)
    said: float  # the segments' z-score here
    found_by: str  # "seen" | "said": the modality whose candidate this range is
    index: int  # the scene's or the segment's index


def zscores(scores: Sequence[float]) -> np.ndarray:
    values = np.asarray(scores, np.float64)
    if values.size == 0:
        return values
    spread = values.std()
    return (values - values.mean()) / spread if spread > 1e-12 else np.zeros_like(values)


def overlap(a: Span, b: Span) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def _best_over(span: Span, spans: Sequence[Span], z: np.ndarray) -> float:
    found = [float(z[n]) for n, other in enumerate(spans) if overlap(span, other) > 0]
    return max(found) if found else 0.0


def fuse(scenes: Sequence[Span], seen_scores: Sequence[float], segments: Sequence[Span],
         said_scores: Sequence[float], k: int, seen_weight: float = 1.0, said_weight: float = 1.0,
         merge_overlap: float = 0.5) -> list[FusedHit]:
    """The top-k time ranges (see the module docstring). `merge_overlap`: a candidate
    overlapping a better hit by more than this share of the shorter of the two is left out."""
    z_seen, z_said = zscores(seen_scores), zscores(said_scores)
    w_seen = seen_weight if len(scenes) else 0.0
    w_said = said_weight if len(segments) else 0.0
    total = max(w_seen + w_said, 1e-12)
    candidates: list[FusedHit] = []
    for n, span in enumerate(scenes):
        seen, said = float(z_seen[n]), _best_over(span, segments, z_said)
        candidates.append(FusedHit(span[0], span[1], (w_seen * seen + w_said * said) / total, seen, said, "seen", n))
    for n, span in enumerate(segments):
        seen, said = _best_over(span, scenes, z_seen), float(z_said[n])
        candidates.append(FusedHit(span[0], span[1], (w_seen * seen + w_said * said) / total, seen, said, "said", n))
    # best first; on a tie, the candidate its own modality ranks higher, then the shorter range
    candidates.sort(key=lambda h: (-h.score, -(h.seen if h.found_by == "seen" else h.said), h.end - h.start))
    hits: list[FusedHit] = []
    for candidate in candidates:
        span = (candidate.start, candidate.end)
        if any(overlap(span, (h.start, h.end)) > merge_overlap * max(min(span[1] - span[0], h.end - h.start), 1e-6)
               for h in hits):
            continue
        hits.append(candidate)
        if len(hits) == k:
            break
    return hits
