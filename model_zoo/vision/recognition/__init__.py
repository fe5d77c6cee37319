"""What the ImageNet classifier recognises, in words: no model here, only its classes.

- seen: what the classifier is sure of (a class, a kind, a second object) from its class
  probabilities: the label bridge's captions and the `objects` of every vision result;
- wordnet: the WordNet hierarchy above ImageNet-1k's classes, from the shipped JSON;
- phrasing: how a class is said (article, name, the kind a species name does not say).

A leaf of model_zoo.vision: it imports nothing else of it (the engine imports it)."""
from __future__ import annotations

from model_zoo.vision.recognition.phrasing import (
    LABEL_TEMPLATE, caption_label, indefinite_article, label_caption, label_kind, no_article)
from model_zoo.vision.recognition.seen import Guess, Seen, SeenObject, describe
from model_zoo.vision.recognition.wordnet import ImageNetHierarchy, Kind, load_hierarchy, shipped_hierarchy

__all__ = [
    "LABEL_TEMPLATE", "Guess", "ImageNetHierarchy", "Kind", "Seen", "SeenObject",
    "caption_label", "describe", "indefinite_article", "label_caption", "label_kind", "load_hierarchy", "no_article",
    "shipped_hierarchy",
]
