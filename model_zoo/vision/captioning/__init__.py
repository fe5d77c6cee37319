"""Captioning: a caption and scored alternatives for one image or a batch.

- service: one image (`caption_image`), with the text in it quoted (`with_text_in_image`);
- batch: many images, their CSV, and adding them to a search gallery;
- options, results, uploads: what a caption is asked with, what comes back, the images of
  a batch as uploaded (zips opened safely);
- rerank: the captioner's candidates scored by the image engine;
- labels: label-based captions from the ImageNet classifier where no captioner has weights;
- backend: the transformers captioners (BLIP, GIT, ViT-GPT2), loaded by the model manager
  from its string in model_zoo/core/backends.py; not imported here, so importing this
  package stays free of torch and transformers."""
from __future__ import annotations

from model_zoo.vision.captioning.batch import Progress, add_to_gallery, batch_csv, caption_batch, write_batch_csv
from model_zoo.vision.captioning.labels import CLASSIFIER_KEY
from model_zoo.vision.captioning.options import MAX_CANDIDATES, MAX_NEW_TOKENS, STRATEGIES, CaptionOptions
from model_zoo.vision.captioning.rerank import CLIP_KEY
from model_zoo.vision.captioning.results import BatchResult, BatchRow, Candidate, CaptionResult, GalleryAdd
from model_zoo.vision.captioning.service import caption_image, captioner_keys, missing_weights, with_text_in_image
from model_zoo.vision.captioning.uploads import IMAGE_SUFFIXES, ImageInput, expand_uploads, read_batch

__all__ = [
    "CLASSIFIER_KEY", "CLIP_KEY", "IMAGE_SUFFIXES", "MAX_CANDIDATES", "MAX_NEW_TOKENS", "STRATEGIES",
    "BatchResult", "BatchRow", "Candidate", "CaptionOptions", "CaptionResult", "GalleryAdd", "ImageInput", "Progress",
    "add_to_gallery", "batch_csv", "caption_batch", "caption_image", "captioner_keys", "expand_uploads", "read_batch",
    "missing_weights", "with_text_in_image", "write_batch_csv",
]
