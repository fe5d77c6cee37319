"""What captioning returns: the candidates of one image, one image's result, a batch's rows
and result, and what adding a batch to a search gallery did. Plain dataclasses; the API
returns them as dicts (`to_dict`)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Candidate:
    text: str
    score: float  # what the candidates are ordered by: the engine's similarity, else the confidence
    confidence: float  # the captioner's geometric-mean token probability (label-based: the class probability)
    clip_similarity: float | None = None  # cosine of CLIP image and text embeddings (CLIP only)
    clip_probability: float | None = None  # softmax over the candidates at CLIP's logit scale (CLIP only)
    similarity: float | None = None  # the engine's cosine (CLIP or label bridge) of image and text
    probability: float | None = None  # engine's softmax over the candidates; label-based: the class probability
    label: str | None = None  # label-based captions: the ImageNet class the caption names


@dataclass
class CaptionResult:
    caption: str
    candidates: list[Candidate]
    model: str  # the captioner, or for label-based captions the classifier ("... (label-based captions)")
    scored_by: str  # "clip", "labels" (label bridge, or label-based captions' class probability) or "captioner"
    decoding: str
    note: str = ""
    timing: dict[str, float] = field(default_factory=dict)
    engine: str = ""  # which engine answered: "clip" | "labels" | "captioner" (the captioner alone)
    captions_from: str = "captioner"  # "captioner", or "labels" for label-based captions
    text_in_image: str = ""  # what the OCR read in the image (model_zoo.vision.ocr.service), "" when none
    certainty: str = ""  # label-based: how sure the caption's main object is (sure | kind | guess | unclear)
    objects: list[dict] = field(default_factory=list)  # label-based: seen.SeenObject dicts, main first

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class BatchRow:
    name: str
    caption: str
    score: float | None
    candidates: list[Candidate]
    error: str = ""


@dataclass
class GalleryAdd:
    """What adding a captioned batch to a search gallery did."""

    gallery: str
    added: int
    skipped: int  # already in the gallery (same bytes)
    total: int  # images in the gallery afterwards
    note: str = ""  # why nothing was added, when nothing was


@dataclass
class BatchResult:
    rows: list[BatchRow]
    captioned: int
    failed: int
    model: str
    scored_by: str
    decoding: str
    seconds: float
    images_per_s: float
    note: str = ""
    gallery: GalleryAdd | None = None  # set when the batch was also added to a search gallery
    engine: str = ""  # which engine answered: "clip" | "labels" | "captioner"
    captions_from: str = "captioner"  # "captioner", or "labels" for label-based captions

    def to_dict(self) -> dict:
        return asdict(self)
