"""How label-based captions say a class: the article ("an espresso", "a unicycle", "an SLR
camera"), the name ("a / b" alternatives: the first), and the kind a species or breed name
does not say ("an Egyptian Mau, a breed of cat"). Shared by captioning.labels and seen."""
from __future__ import annotations

import re
from typing import Sequence

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


def no_article(named: str) -> bool:
    """Plurals and mass nouns take no article: 'a photo of sunglasses'."""
    return named.lower() in _NO_ARTICLE


def caption_label(label: str) -> str:
    """A class name as a caption names it: the first of 'a / b' alternatives."""
    return label.split(" / ")[0].strip()


def label_caption(label: str, kind: str | None = None) -> str:
    """'a photo of an espresso'; with a kind the name does not say: 'a photo of an
    Egyptian Mau, a breed of cat', 'a photo of a brambling, a bird'."""
    named = caption_label(label)
    article = "" if no_article(named) else indefinite_article(named) + " "
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
