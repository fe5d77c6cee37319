"""What the ImageNet classifier is sure of, in words: the label bridge's captions and the
`objects` every vision result carries.

One forward pass gives the whole picture's class probabilities and four corner regions'
(efficientnet_backend.REGION_NAMES). From them:
- **sure**: one class is likely (>= SURE): "a photo of an espresso";
- **kind**: no class is, but the classes of one WordNet kind together are (>= KIND_SURE):
  the kind is named and the classes hedged, "a photo of a lizard, probably an agama or a
  chameleon" (model_zoo/vision/recognition/wordnet.py: ImageNet's classes are WordNet noun synsets);
- **guess**: the best class is only plausible (>= LIKELY): "a photo of what may be an
  academic gown or a graduation cap";
- **unclear**: nothing is; the caption says so and names its best guess as a guess.
A second or third object is named where one region sees it clearly (>= REGION_SURE) and the
whole picture agrees it is there (>= REGION_AGREES): "a photo of a lemon and an orange".
Thresholds were set on our validation photos (scripts/vision/evaluate_vision.py), never a test set."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np

from model_zoo.vision.recognition.phrasing import (
    caption_label, indefinite_article, label_caption, label_kind, no_article)
from model_zoo.vision.recognition.wordnet import ImageNetHierarchy, Kind, shipped_hierarchy

SURE = 0.5  # a class this likely is named as fact
KIND_SURE = 0.5  # a kind whose classes together are this likely is named as fact
LIKELY = 0.15  # below this, with no sure kind, the picture is unclear
CANDIDATE_MIN = 0.05  # a class shown as one of the candidates
MAX_CANDIDATES = 3
GUESSES_SAID = 2  # a guess names its two most likely classes
REGION_SURE = 0.5  # a second object: this likely in one region...
REGION_AGREES = 0.03  # ...and at least this likely in the whole picture
REGION_CLEAR = 0.8  # a second object this likely in its region is named without "perhaps"
MAX_OBJECTS = 3
# Kinds worth naming: deep enough in WordNet ("animal", "vehicle", "clothing", "artifact" say
# little), not too broad ("vertebrate", "mammal"), and words people use.
MIN_KIND_DEPTH = 8
MAX_KIND_CLASSES = 150  # "dog" has 118 ImageNet breeds
MIN_KIND_COUNT = 1  # a kind's name must be a word people use (WordNet's SemCor count)
WHOLE = "whole picture"


@dataclass
class Guess:
    label: str  # an ImageNet class as people say it
    probability: float


@dataclass
class SeenObject:
    name: str  # what the caption calls it: a class ("espresso") or a kind ("lizard")
    certainty: str  # sure | kind | guess | unclear
    probability: float  # of the class, or of the kind (its classes' summed probability)
    kind: str | None  # the WordNet kind its candidates share, where one is likely
    candidates: list[Guess]  # the classes it may be, best first
    where: str  # "whole picture", or the region it was seen in ("top left", ...)
    phrase: str  # how the caption says it: "a lizard, probably an agama or a chameleon"


@dataclass
class Seen:
    caption: str
    certainty: str  # of the main object: sure | kind | guess | unclear
    objects: list[SeenObject] = field(default_factory=list)  # the main object first

    def to_dict(self) -> dict:
        return asdict(self)

    def object_dicts(self) -> list[dict]:
        """The objects as the API returns them."""
        return [asdict(o) for o in self.objects]

    def brief(self) -> dict:
        """What a gallery keeps per image: the words, how sure, and each object's top classes."""
        return {"described": self.caption, "certainty": self.certainty,
                "objects": [{"name": o.name, "certainty": o.certainty, "probability": o.probability,
                             "candidates": [asdict(g) for g in o.candidates], "where": o.where}
                            for o in self.objects]}


def with_article(label: str) -> str:
    named = caption_label(label)
    return named if no_article(named) else f"{indefinite_article(named)} {named}"


def either(labels: Sequence[str]) -> str:
    """'an agama', 'an agama or a chameleon', 'an agama, a chameleon or a gecko'."""
    said = [with_article(label) for label in labels]
    return said[0] if len(said) == 1 else ", ".join(said[:-1]) + " or " + said[-1]


def candidates_of(probabilities: np.ndarray, labels: Sequence[str], classes: Sequence[int] | None = None,
                  count: int = MAX_CANDIDATES) -> list[Guess]:
    """The most likely classes (among `classes`), those that read the same merged."""
    pool = np.asarray(classes if classes is not None else np.arange(len(probabilities)))
    merged: dict[str, float] = {}
    for index in pool[np.argsort(-probabilities[pool])][: count * 2 + 2]:
        name = caption_label(labels[index])
        merged[name] = merged.get(name, 0.0) + float(probabilities[index])
    best = sorted(merged.items(), key=lambda item: -item[1])[:count]
    return [Guess(name, round(p, 4)) for name, p in best]


def namable(kind: Kind) -> bool:
    return kind.depth >= MIN_KIND_DEPTH and kind.count >= MIN_KIND_COUNT and len(kind.classes) <= MAX_KIND_CLASSES


def sure_kind(hierarchy: ImageNetHierarchy, index: int, probabilities: np.ndarray) -> Kind | None:
    """The most specific familiar kind above class `index` that is likely as a whole."""
    for kind in hierarchy.ancestors(index):
        if namable(kind) and float(probabilities[list(kind.classes)].sum()) >= KIND_SURE:
            return kind
    return None


def main_object(probabilities: np.ndarray, labels: Sequence[str], hierarchy: ImageNetHierarchy | None) -> SeenObject:
    top = int(np.argmax(probabilities))
    best = candidates_of(probabilities, labels, count=1)[0]  # classes that read the same, summed
    p_top = best.probability
    if p_top >= SURE:
        phrase = label_caption(labels[top], label_kind(top, labels[top], labels)).removeprefix("a photo of ")
        return SeenObject(best.label, "sure", best.probability, None, [best], WHOLE, phrase)
    kind = sure_kind(hierarchy, top, probabilities) if hierarchy is not None else None
    if kind is not None:
        guesses = candidates_of(probabilities, labels, kind.classes)
        likely = [g.label for g in guesses if g.probability >= CANDIDATE_MIN]
        mass = float(probabilities[list(kind.classes)].sum())
        phrase = f"{with_article(kind.name)}, probably {either(likely)}" if likely else \
            f"{with_article(kind.name)} (which {kind.name} is unclear)"
        return SeenObject(kind.name, "kind", round(mass, 4), kind.name, guesses, WHOLE, phrase)
    guesses = [g for g in candidates_of(probabilities, labels) if g.probability >= CANDIDATE_MIN] or \
        candidates_of(probabilities, labels, count=1)
    if p_top >= LIKELY:
        phrase = f"what may be {either([g.label for g in guesses[:GUESSES_SAID]])}"
        return SeenObject(guesses[0].label, "guess", guesses[0].probability, None, guesses, WHOLE, phrase)
    phrase = f"nothing it can name (its best guess, {caption_label(labels[top])}, is {p_top:.0%})"
    return SeenObject(guesses[0].label, "unclear", guesses[0].probability, None, guesses, WHOLE, phrase)


def other_objects(probabilities: np.ndarray, regions: np.ndarray | None, labels: Sequence[str],
                  main: SeenObject, hierarchy: ImageNetHierarchy | None,
                  region_names: Sequence[str]) -> list[SeenObject]:
    """Objects besides the main one: clear in one region, present in the whole picture,
    and not the main object again (one of its candidates, or a class of its kind)."""
    if regions is None or not len(regions) or main.certainty == "unclear":
        return []
    in_region = regions.max(axis=0)
    found = np.flatnonzero((in_region >= REGION_SURE) & (probabilities >= REGION_AGREES))
    taken = {g.label for g in main.candidates} | {main.name}
    kind_classes = _classes_of_kind(hierarchy, main.kind)
    others: list[SeenObject] = []
    for index in found[np.argsort(-in_region[found])]:
        name = caption_label(labels[index])
        if name in taken or int(index) in kind_classes:
            continue
        taken.add(name)
        p_region = float(in_region[index])
        where = region_names[int(np.argmax(regions[:, index]))] if len(region_names) == len(regions) else ""
        clear = p_region >= REGION_CLEAR
        phrase = with_article(name) if clear else f"perhaps {with_article(name)}"
        others.append(SeenObject(name, "sure" if clear else "guess", round(p_region, 4), None,
                                 [Guess(name, round(p_region, 4))], where, phrase))
        if len(others) >= MAX_OBJECTS - 1:
            break
    return others


def _classes_of_kind(hierarchy: ImageNetHierarchy | None, kind: str | None) -> set[int]:
    if hierarchy is None or not kind:
        return set()
    return {c for found in hierarchy.kinds_named(kind) for c in found.classes}


def caption(objects: Sequence[SeenObject]) -> str:
    main, others = objects[0], list(objects[1:])
    if main.certainty == "unclear":
        return f"an unclear picture: the classifier sees {main.phrase}"
    if not others:
        return f"a photo of {main.phrase}"
    first = main.phrase if main.certainty != "kind" or "," not in main.phrase else \
        main.phrase.replace(", probably ", " (probably ", 1) + ")"
    phrases = [first] + [o.phrase for o in others]
    return "a photo of " + ", ".join(phrases[:-1]) + " and " + phrases[-1]


def describe(probabilities: np.ndarray, regions: np.ndarray | None, labels: Sequence[str],
             region_names: Sequence[str] = (), hierarchy: ImageNetHierarchy | None = None) -> Seen:
    """What one image shows, from its class probabilities (and its regions'), with how sure."""
    probabilities = np.asarray(probabilities, np.float64)
    if hierarchy is None and len(labels) == 1000:
        hierarchy = shipped_hierarchy()
    main = main_object(probabilities, labels, hierarchy)
    others = other_objects(probabilities, None if regions is None else np.asarray(regions, np.float64), labels,
                           main, hierarchy, region_names)
    objects = [main, *others]
    return Seen(caption(objects), main.certainty, objects)
