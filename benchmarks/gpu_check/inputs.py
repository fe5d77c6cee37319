"""The GPU proof's inputs, their known answers, and how far a device may stray from the CPU."""
from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
if str(REPO) not in sys.path:  # model_zoo.testing builds the tiny diffusion pipeline
    sys.path.insert(0, str(REPO))

AUDIO = REPO / "assets" / "audio"
GALLERY = REPO / "assets" / "gallery"
LIBRIVOX = AUDIO / "librivox_sense_and_sensibility.ogg"
FOX = AUDIO / "english_quick_fox.ogg"
GERMAN = AUDIO / "german_water_bread.ogg"
LIBRIVOX_TEXT = ("and mister john dashwood had then leisure to consider how much there might be "
                 "prudently in his power to do for them")
FOX_TEXT = ("The quick brown fox jumps over the lazy dog. I would like a glass of water and a piece "
            "of bread, please.")
POSITIVE = "An utterly charming, heartfelt story that stays with you long after the credits."
NEGATIVE = "The battery died after two days. Total waste of money."
# Other sentences for the soak, so it encodes rather than hits the shared embedding cache.
SOAK_TEXTS = (("A gorgeous, witty, seductive movie.", "positive"),
              ("The plot is paper-thin and the jokes land with a thud.", "negative"),
              ("Best coffee in town, and the staff are lovely!", "positive"),
              ("I would not recommend this hotel to anyone.", "negative"))
SENTENCES = ("A cat is sleeping on the sofa.", "A kitten naps on a couch.", "The rocket lifted off at dawn.")
BRIDGE_PHOTOS = ("cat.jpg", "coffee.jpg", "rocket.jpg")
BRIDGE_QUERIES = {"a photo of a cat": "cat.jpg", "a cup of coffee": "coffee.jpg", "a rocket launch": "rocket.jpg"}
CLASSIFY_LABELS = "espresso, cat, rocket, horse"
PROMPT = "a red cat on the sea"

WER_MAX = 0.1  # a transcript against its known text, and a device's transcript against the CPU's
TEXT_COS_MIN = 0.999  # a text vector on the device against the CPU's (fp16 vs fp32)
IMAGE_COS_MIN = 0.99  # an image vector (ConSE and visual features) on the device against the CPU's
SCORE_DIFF_MAX = 0.05  # a probability on the device against the CPU's (fp16 vs bf16/fp32)
PIXEL_DIFF_MAX = 4.0  # mean |difference| of a generated image's pixels (0-255) against the CPU's
