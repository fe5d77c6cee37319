"""Conformance of the REAL default image-text and captioning weights: CLIP (open_clip
ViT-B-32 laion2b_s34b_b79k), BLIP base, GIT base COCO and ViT-GPT2, wherever they sit in
the local Hugging Face hub cache (fetch them once online: `python -m scripts.ops.prefetch clip
captioner captioner-git captioner-vit-gpt2`). Each test asks the manager whether its
weights are here (model_zoo.core.weights.problem, through manager.weights_problem) and skips,
saying what is missing, when they are not: on the build machines (offline, nothing
cached) they all skip. Where the weights are, they run the app's real loading and
inference path on real photos: no mocks, no tiny models, the hub stays off."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model_zoo.vision import captioning
from model_zoo.vision import engine as vision
from model_zoo.vision.captioning import CaptionOptions
from model_zoo.core.errors import WeightsUnavailable
from model_zoo.vision.images import load_image
from model_zoo.core.manager import ModelManager
from model_zoo.core.registry import is_overridden

pytestmark = pytest.mark.slow
GALLERY = Path(__file__).resolve().parents[2] / "assets" / "gallery"
CAT, COFFEE = GALLERY / "cat.jpg", GALLERY / "coffee.jpg"


def require(manager: ModelManager, key: str) -> None:
    """Skip unless the registry's default weights for `key` are on this machine."""
    spec = manager.spec(key)
    if is_overridden(spec):
        pytest.skip(f"'{key}' is overridden ({spec.source}): these tests check the default weights")
    problem = manager.weights_problem(key)
    if problem is not None:
        pytest.skip(f"the real {key} weights are not in the local hub cache: {problem.detail}")


@pytest.fixture(scope="module")
def clip(real_manager):
    """The real CLIP, loaded once through the manager. weights.problem can only tell that
    *some* CLIP is cached (open_clip maps a tag to its repo); if it is another one, the
    loader's own check says so and the test skips."""
    require(real_manager, vision.CLIP_KEY)
    try:
        with vision.open_engine(real_manager, "clip") as engine:
            yield engine
    except WeightsUnavailable as exc:
        pytest.skip(f"the real CLIP weights are not in the local hub cache: {exc.detail}")


def test_clip_puts_the_cat_closer_to_a_cat_than_to_a_rocket(clip):
    assert clip.kind == "clip" and clip.name == "ViT-B-32:laion2b_s34b_b79k"
    image = clip.embed_images([load_image(CAT)])[0]
    texts = clip.embed_texts(["a photo of a cat", "a photo of a rocket"])
    assert np.allclose(np.linalg.norm(texts, axis=1), 1.0, atol=1e-3)
    assert np.isclose(np.linalg.norm(image), 1.0, atol=1e-3)
    cat, rocket = texts @ image
    assert cat > rocket + 0.05, (cat, rocket)


def test_clip_classifies_the_cat_among_cat_dog_rocket(clip):
    labels = ["cat", "dog", "rocket"]
    image = clip.embed_images([load_image(CAT)])[0]
    logits = clip.logit_scale * (clip.embed_texts([f"a photo of a {label}." for label in labels]) @ image)
    probabilities = np.exp(logits - logits.max())
    probabilities /= probabilities.sum()
    scores = dict(zip(labels, probabilities.round(3)))
    assert labels[int(np.argmax(probabilities))] == "cat" and probabilities.max() > 0.5, scores


@pytest.mark.parametrize("key, photo, words", [
    ("captioner", COFFEE, ("cup", "coffee")),  # BLIP base
    ("captioner", CAT, ("cat", "kitten")),
    ("captioner-git", COFFEE, ("cup", "coffee", "mug")),
    ("captioner-vit-gpt2", COFFEE, ("cup", "coffee", "mug")),
], ids=["blip-coffee", "blip-cat", "git-coffee", "vit-gpt2-coffee"])
def test_a_real_captioner_describes_the_photo(real_manager, key, photo, words):
    require(real_manager, key)
    result = captioning.caption_image(real_manager, photo, CaptionOptions(num_candidates=3, rerank=False), key)
    assert result.captions_from == "captioner" and result.model == real_manager.spec(key).source
    assert (result.scored_by, result.engine) == ("captioner", "captioner")
    assert any(word in result.caption.lower() for word in words), [c.text for c in result.candidates]
    confidences = [c.confidence for c in result.candidates]
    assert confidences == sorted(confidences, reverse=True) and all(0 < c <= 1 for c in confidences)


def test_clip_reranks_blips_candidates(real_manager, clip):
    require(real_manager, "captioner")
    result = captioning.caption_image(real_manager, COFFEE, CaptionOptions(num_candidates=3))
    assert (result.captions_from, result.scored_by, result.engine) == ("captioner", "clip", "clip")
    assert all(c.clip_similarity is not None and c.clip_similarity == c.similarity for c in result.candidates)
    assert [c.score for c in result.candidates] == sorted((c.score for c in result.candidates), reverse=True)
    assert any(word in result.caption.lower() for word in ("cup", "coffee"))
