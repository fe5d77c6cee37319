"""Captioning: the transformers backend on tiny random BLIP / GIT / ViT-GPT2 models loaded
through the real code path, reranking by the image engine (CLIP with scores we control, or
the label bridge on tiny random models), label-based captions where the captioner has no
weights (wording, ordering, batches; the packaged EfficientNet-Lite0 on real photos in the
slow tests), batches and zips, bad input, and /caption + /caption_batch once each through
gradio_client."""
from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from app.settings import load_settings
from components import captioning as tab
from components.context import StudioContext
from model_zoo.vision import captioning
from model_zoo.vision import engine as vision
from model_zoo.vision.captioning import CaptionOptions, ImageInput
from model_zoo.vision.captioning import labels as caption_labels
from model_zoo.vision.captioning import rerank as caption_rerank
from model_zoo.vision.captioning.backend import Generated
from model_zoo.vision.recognition import phrasing
from model_zoo.core.errors import InputError, WeightsUnavailable
from model_zoo.core.manager import ManagerConfig, ModelManager
from tests.badfiles import bad_images
from tests.conftest import serve_in_process
from model_zoo.testing.captioner import save_tiny_blip, save_tiny_git, save_tiny_vit_gpt2

COLOURS = ("red", "navy", "forestgreen", "gold")
LABEL_CAPTION_STARTS = ("a photo of", "an unclear picture")  # label-based: named, or said to be unclear


@pytest.fixture(scope="module")
def tiny_blip_dir(tmp_path_factory) -> Path:
    return save_tiny_blip(tmp_path_factory.mktemp("tiny-blip"))


def _manager(cache: Path, **overrides: str) -> ModelManager:
    return ModelManager(ManagerConfig(device="cpu", cache_dir=cache, offline=True, overrides=overrides))


@pytest.fixture(scope="module")
def with_clip(tiny_blip_dir, tiny_clip_dir, tmp_path_factory) -> ModelManager:
    """Tiny captioner and tiny CLIP: candidates get reranked."""
    return _manager(tmp_path_factory.mktemp("cache"), captioner=str(tiny_blip_dir), clip=str(tiny_clip_dir))


@pytest.fixture(scope="module")
def without_clip(tiny_blip_dir, tiny_bridge_overrides, tmp_path_factory) -> ModelManager:
    """Tiny captioner, real `clip` source (its weights are absent offline): the label
    bridge, on a random EfficientNet-Lite0 and a tiny text encoder, reranks."""
    return _manager(tmp_path_factory.mktemp("cache"), captioner=str(tiny_blip_dir), **tiny_bridge_overrides)


@pytest.fixture(scope="module")
def labels_only(tiny_bridge_overrides, tmp_path_factory) -> ModelManager:
    """No captioner weights (the real, absent BLIP), a random EfficientNet-Lite0: label-based captions."""
    return _manager(tmp_path_factory.mktemp("cache"), **tiny_bridge_overrides)


@pytest.fixture
def photos(tmp_path) -> list[Path]:
    """Pictures with some structure (a disc on a background), so captions differ per image."""
    files = []
    for i, colour in enumerate(COLOURS):
        image = Image.new("RGB", (64 + 8 * i, 48), colour)
        image.paste((255 - 60 * i, 40 * i, 128), (10, 10, 30 + 4 * i, 40))
        files.append(tmp_path / f"{colour}.png")
        image.save(files[-1])
    return files


def _images(files: list[Path]) -> list[Image.Image]:
    return [Image.open(f).convert("RGB") for f in files]


# -- the backend -------------------------------------------------------------------------
@pytest.mark.parametrize("save", [save_tiny_blip, save_tiny_git, save_tiny_vit_gpt2], ids=["blip", "git", "vit-gpt2"])
def test_each_family_captions_through_the_same_backend(save, tmp_path, photos):
    manager = _manager(tmp_path / "cache", captioner=str(save(tmp_path / "model")))
    with manager.use("captioner") as captioner:
        plain = captioner.caption(_images(photos[:2]), strategy="beam", num_candidates=3, max_new_tokens=8)
        prompted = captioner.caption(_images(photos[:2]), strategy="greedy", prompt="a photo of", max_new_tokens=5)
    assert len(plain) == 2 and all(1 <= len(group) <= 3 for group in plain)
    for group in plain:
        confidences = [c.confidence for c in group]
        assert confidences == sorted(confidences, reverse=True) and all(0 < c <= 1 for c in confidences)
        assert len({c.text for c in group}) == len(group)  # duplicates are folded
    assert all(group[0].text.startswith("a photo of") for group in prompted)  # conditional captioning


def test_batched_generate_gives_the_captions_of_one_at_a_time(with_clip, photos):
    images = _images(photos)
    with with_clip.use("captioner") as captioner:
        batched = captioner.caption(images, strategy="greedy", max_new_tokens=10)
        single = [captioner.caption([image], strategy="greedy", max_new_tokens=10)[0] for image in images]
    assert [g[0].text for g in batched] == [g[0].text for g in single]
    assert np.allclose([g[0].confidence for g in batched], [g[0].confidence for g in single], atol=1e-4)
    assert len({g[0].text for g in batched}) > 1  # the pixels reach the decoder


def test_strategies_and_maximum_length(with_clip, photos):
    import torch

    image = _images(photos[:1])
    torch.manual_seed(0)
    with with_clip.use("captioner") as captioner:
        greedy = captioner.caption(image, strategy="greedy", num_candidates=5, max_new_tokens=10)[0]
        beam = captioner.caption(image, strategy="beam", num_candidates=4, num_beams=2, max_new_tokens=10)[0]
        nucleus = captioner.caption(image, strategy="nucleus", num_candidates=4, top_p=0.95, temperature=1.5,
                                    max_new_tokens=10)[0]
        short = captioner.caption(image, strategy="beam", num_candidates=2, max_new_tokens=3)[0]
    assert len(greedy) == 1 and len(beam) >= 2 and 1 <= len(nucleus) <= 4
    assert all(len(c.text.split()) <= 3 for c in short)  # each tiny-vocab token is one word


# -- reranking ---------------------------------------------------------------------------
def test_rerank_orders_by_the_similarities_given():
    generated = [Generated("off to the side", 0.9), Generated("exactly it", 0.2), Generated("close", 0.5)]
    image = np.array([1.0, 0.0])
    texts = np.array([[0.0, 1.0], [1.0, 0.0], [0.6, 0.8]])
    ranked = caption_rerank.rerank(generated, image, texts, logit_scale=10.0)
    assert [c.text for c in ranked] == ["exactly it", "close", "off to the side"]
    assert [c.score for c in ranked] == [1.0, 0.6, 0.0] and ranked[0].confidence == 0.2
    probabilities = [c.clip_probability for c in ranked]
    expected = np.exp([10.0, 6.0, 0.0]) / np.exp([10.0, 6.0, 0.0]).sum()
    assert np.allclose(probabilities, expected, atol=1e-4)


class FakeClip:
    """CLIP whose similarities we choose: texts mentioning 'rocket' match every image."""

    dim, logit_scale, nbytes = 2, 100.0, 1

    def embed_images(self, images):
        return np.tile([1.0, 0.0], (len(images), 1)).astype(np.float32)

    def embed_texts(self, texts):
        return np.array([[1.0, 0.0] if "rocket" in t else [0.0, 1.0] for t in texts], np.float32)


def test_clip_overrules_the_captioners_confidence():
    manager = ModelManager(ManagerConfig(device="cpu", vision="clip"),
                           loaders={"open_clip": lambda request: FakeClip()})
    groups = [[Generated("a cat", 0.9), Generated("a rocket in the sky", 0.1)]]
    [ranked], scored_by, note = caption_rerank.score_candidates(manager, [Image.new("RGB", (8, 8))], groups)
    assert scored_by == "clip" and note == ""
    assert ranked[0].text == "a rocket in the sky" and ranked[0].clip_probability > 0.99
    assert ranked[0].probability == ranked[0].clip_probability and ranked[0].similarity == ranked[0].clip_similarity


def test_the_label_bridge_reranks_without_filling_the_clip_fields():
    generated = [Generated("far", 0.9), Generated("near", 0.1)]
    ranked = caption_rerank.rerank(generated, np.array([1.0, 0.0]), np.array([[0.0, 1.0], [1.0, 0.0]]), 50.0,
                                   kind="labels")
    assert [c.text for c in ranked] == ["near", "far"] and ranked[0].similarity == 1.0
    assert ranked[0].probability > 0.99 and ranked[0].clip_similarity is None and ranked[0].clip_probability is None


def test_caption_image_scores_are_clip_cosines(with_clip, photos):
    result = captioning.caption_image(with_clip, photos[0], CaptionOptions(num_candidates=3, max_new_tokens=8))
    assert result.scored_by == "clip" and result.caption == result.candidates[0].text
    assert (result.engine, result.captions_from) == ("clip", "captioner")
    with with_clip.use("clip") as clip:
        image_vector = clip.embed_images(_images(photos[:1]))[0]
        expected = clip.embed_texts([c.text for c in result.candidates]) @ image_vector
    assert np.allclose([c.score for c in result.candidates], expected, atol=1e-3)
    assert [c.score for c in result.candidates] == sorted((c.score for c in result.candidates), reverse=True)
    assert "path" not in result.to_dict()


def test_without_clip_the_label_bridge_reranks_and_the_note_says_why(without_clip, photos):
    result = captioning.caption_image(without_clip, photos[0], CaptionOptions(num_candidates=3, max_new_tokens=8))
    assert (result.scored_by, result.engine, result.captions_from) == ("labels", "labels", "captioner")
    assert "label bridge" in result.note and "MMS_MODEL_CLIP" in result.note
    assert result.candidates and result.caption == result.candidates[0].text
    assert all(c.similarity is not None and c.clip_similarity is None for c in result.candidates)
    assert [c.score for c in result.candidates] == sorted((c.score for c in result.candidates), reverse=True)
    assert np.isclose(sum(c.probability for c in result.candidates), 1.0, atol=1e-3)
    with vision.open_engine(without_clip) as engine:  # the scores are the bridge's cosines
        expected = engine.embed_texts([c.text for c in result.candidates]) @ engine.embed_images(_images(photos[:1]))[0]
    assert np.allclose([c.score for c in result.candidates], expected, atol=1e-3)


def test_without_any_image_engine_the_captioner_orders_and_the_note_says_why(tiny_blip_dir, tiny_bridge_overrides,
                                                                              tmp_path, photos):
    manager = _manager(tmp_path / "cache", captioner=str(tiny_blip_dir),
                       **{**tiny_bridge_overrides, "mpnet": str(tmp_path / "no-such-encoder")})
    result = captioning.caption_image(manager, photos[0], CaptionOptions(num_candidates=3, max_new_tokens=8))
    assert (result.scored_by, result.engine) == ("captioner", "captioner") and "MMS_MODEL_MPNET" in result.note
    assert [c.score for c in result.candidates] == [c.confidence for c in result.candidates]
    off = captioning.caption_image(manager, photos[0], CaptionOptions(max_new_tokens=8, rerank=False))
    assert off.scored_by == "captioner" and "off" in off.note


# -- label-based captions ----------------------------------------------------------------
@pytest.mark.parametrize("label, caption", [
    ("espresso", "a photo of an espresso"),
    ("tabby cat", "a photo of a tabby cat"),
    ("hourglass", "a photo of an hourglass"),
    ("honeycomb", "a photo of a honeycomb"),
    ("umbrella", "a photo of an umbrella"),
    ("unicycle", "a photo of a unicycle"),
    ("one-piece bathing suit", "a photo of a one-piece bathing suit"),
    ("European green lizard", "a photo of a European green lizard"),
    ("Egyptian Mau", "a photo of an Egyptian Mau"),
    ("iPod", "a photo of an iPod"),
    ("SLR camera", "a photo of an SLR camera"),
    ("CD player", "a photo of a CD player"),
    ("T-shirt", "a photo of a T-shirt"),
    ("sunglasses", "a photo of sunglasses"),  # plurals and mass nouns take no article
    ("swim trunks / shorts", "a photo of swim trunks"),  # the first of 'a / b'
])
def test_label_caption_wording_and_article(label, caption):
    assert phrasing.label_caption(label) == caption


def _thousand_labels() -> list[str]:
    labels = [f"thing {i}" for i in range(1000)]
    labels[3], labels[5], labels[950] = "missile", "missile", "orange"
    labels[12], labels[817] = "house finch", "sports car"
    labels[285], labels[281], labels[160] = "Egyptian Mau", "tabby cat", "Afghan Hound"
    labels[155] = "Shih Tzu"
    return labels


def test_label_candidates_are_ordered_by_probability_merged_and_counted():
    labels = _thousand_labels()
    probabilities = np.full(1000, 0.0001)
    probabilities[[3, 5, 950, 285, 281, 155]] = [0.2, 0.15, 0.3, 0.1, 0.05, 0.04]
    candidates = caption_labels.label_candidates(probabilities, labels, 4)
    assert [c.text for c in candidates] == ["a photo of a missile", "a photo of an orange",
                                            "a photo of an Egyptian Mau, a breed of cat", "a photo of a tabby cat"]
    assert [c.score for c in candidates] == [0.35, 0.3, 0.1, 0.05]  # the two 'missile' classes are one caption
    assert all(c.score == c.confidence == c.probability for c in candidates)
    assert [c.label for c in candidates] == ["missile", "orange", "Egyptian Mau", "tabby cat"]
    assert caption_labels.label_candidates(probabilities, labels, 5)[-1].text == "a photo of a Shih Tzu, a breed of dog"
    assert len(caption_labels.label_candidates(probabilities, labels, 1)) == 1
    assert phrasing.label_kind(160, "Afghan Hound", labels) is None  # the name says it is a dog
    assert phrasing.label_kind(12, "house finch", labels) == "a bird"  # a species name: say what it is
    assert phrasing.label_kind(817, "sports car", labels) is None
    assert phrasing.label_kind(285, "Egyptian Mau", labels[:999]) is None  # only for the 1,000 ImageNet classes


def test_without_captioner_weights_captions_are_label_based(labels_only, photos):
    options = CaptionOptions(strategy="nucleus", num_candidates=4, prompt="a picture of")
    result = captioning.caption_image(labels_only, photos[0], options)
    assert (result.scored_by, result.engine, result.captions_from) == ("labels", "labels", "labels")
    assert result.model.startswith("efficientnet-lite0") and result.model.endswith("(label-based captions)")
    assert len(result.candidates) == 4 and result.caption == result.candidates[0].text
    # the first says what the classifier is sure of (a solid colour: nothing); the others name classes
    assert result.certainty in ("sure", "kind", "guess", "unclear") and result.objects
    assert result.caption.startswith("a photo of" if result.certainty != "unclear" else "an unclear picture")
    assert all(c.text.startswith("a photo of") and c.label for c in result.candidates[1:])
    scores = [c.score for c in result.candidates]
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)
    assert all(c.score == c.confidence == c.probability and c.clip_similarity is None for c in result.candidates)
    note = result.note
    assert "Label-based" in note and "MMS_MODEL_CAPTIONER" in note and "ImageNet" in note
    assert "Not used here" in note and "nucleus sampling" in note and "prompt 'a picture of'" in note
    greedy = captioning.caption_image(labels_only, photos[0], CaptionOptions(strategy="greedy", num_candidates=2))
    assert len(greedy.candidates) == 2  # the number of labels, whatever the (unused) decoding
    with pytest.raises(InputError, match="Number of candidates"):
        captioning.caption_image(labels_only, photos[0], CaptionOptions(num_candidates=11))
    as_dict = result.to_dict()
    assert {"caption", "candidates", "model", "engine", "captions_from", "scored_by", "note"} <= set(as_dict)
    assert "path" not in as_dict and as_dict["candidates"][0]["label"] == result.candidates[0].label


def test_a_missing_classifier_too_names_both_fixes(tmp_path, photos):
    manager = _manager(tmp_path / "cache", **{"efficientnet-lite0": f"efficientnet-lite0:{tmp_path / 'none.pth'}"})
    with pytest.raises(WeightsUnavailable) as info:
        captioning.caption_image(manager, photos[0])
    assert "MMS_MODEL_CAPTIONER" in str(info.value) and "MMS_MODEL_EFFICIENTNET_LITE0" in str(info.value)
    assert info.value.model_key == "captioner"


# -- options and bad input ---------------------------------------------------------------
@pytest.mark.parametrize("options, fragment", [
    (CaptionOptions(strategy="contrastive"), "Decoding must be one of"),
    (CaptionOptions(num_candidates=0), "Number of candidates"),
    (CaptionOptions(max_new_tokens=1000), "Maximum length"),
    (CaptionOptions(top_p=0.0), "top-p"),
    (CaptionOptions(prompt="x" * 300), "prompt is too long"),
])
def test_bad_options_are_refused(options, fragment):
    with pytest.raises(InputError, match=fragment):
        options.validated()


def test_greedy_means_one_candidate():
    assert CaptionOptions(strategy="greedy", num_candidates=5).validated().num_candidates == 1


def test_bad_images_get_their_own_error_and_good_ones_a_label_based_caption(labels_only, tmp_path, photos):
    ctx = StudioContext(labels_only, load_settings(["--data-dir", str(tmp_path)], environ={}))
    handler = tab.user_facing(tab.caption_one)
    expected = {"empty.jpg": "is empty", "notes.png": "not an image", "truncated.jpg": "truncated",
                "huge.png": "enormous size", "wav-as.jpg": "not an image"}
    for name, path in bad_images(tmp_path / "bad").items():
        with pytest.raises(gr.Error, match=expected[name]):
            handler(ctx, {"path": str(path)}, CaptionOptions())
        overlay, heading = tab.why_image(ctx, {"path": str(path)})  # Grad-CAM never raises: it says why not
        assert overlay is None and "not available" in heading and expected[name] in heading
    result = handler(ctx, {"path": str(photos[0])}, CaptionOptions())  # a good image: offline, from labels
    assert result.captions_from == "labels" and result.caption.startswith(LABEL_CAPTION_STARTS)
    banner = tab.weights_banner(ctx, "captioner")
    assert "label-based" in banner and "What a captioner would add" in banner and "MMS_MODEL_CAPTIONER" in banner
    details = tab.caption_details(result)
    assert "ImageNet label" in details and "class probability" in details and "Label-based" in details
    assert tab.candidate_bars(result) == {c.text: c.probability for c in result.candidates}
    overlay, heading = tab.why_image(ctx, {"path": str(photos[0])})
    assert overlay.size == Image.open(photos[0]).size and heading.startswith("Why: where the model looked for '")


def test_without_captioner_and_classifier_the_tab_says_both_fixes(tmp_path, photos):
    manager = _manager(tmp_path / "cache", **{"efficientnet-lite0": f"efficientnet-lite0:{tmp_path / 'none.pth'}"})
    ctx = StudioContext(manager, load_settings(["--data-dir", str(tmp_path)], environ={}))
    with pytest.raises(gr.Error) as info:
        tab.user_facing(tab.caption_one)(ctx, {"path": str(photos[0])}, CaptionOptions())
    assert "Salesforce/blip-image-captioning-base" in str(info.value) and "MMS_MODEL_CAPTIONER" in str(info.value)
    assert "Traceback" not in str(info.value)
    banner = tab.weights_banner(ctx, "captioner")
    assert "has no weights" in banner and "MMS_MODEL_EFFICIENTNET_LITE0" in banner
    overlay, heading = tab.why_image(ctx, {"path": str(photos[0])})
    assert overlay is None and "not available" in heading


def test_the_banner_says_who_reranks_when_a_captioner_is_there(without_clip, tmp_path):
    ctx = StudioContext(without_clip, load_settings(["--data-dir", str(tmp_path)], environ={}))
    banner = tab.weights_banner(ctx, "captioner")
    assert "label bridge reranks" in banner and "MMS_MODEL_CLIP" in banner


def test_the_tab_picks_a_known_captioner_and_says_nothing_when_weights_are_there(with_clip, tmp_path):
    ctx = StudioContext(with_clip, load_settings(["--data-dir", str(tmp_path), "--captioner", "captioner-git"],
                                                 environ={}))
    assert tab.captioner_key(ctx) == "captioner-git" and tab.captioner_key(ctx, "captioner") == "captioner"
    with pytest.raises(InputError, match="Unknown captioner 'gpt-9'"):
        tab.captioner_key(ctx, "gpt-9")
    assert tab.weights_banner(ctx, "captioner") == ""  # the tiny models are local folders
    assert "MMS_MODEL_CAPTIONER_GIT" in tab.weights_banner(ctx, "captioner-git")


# -- batches -----------------------------------------------------------------------------
def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_zip_members_are_extracted_flat_and_filtered(tmp_path, photos):
    png = photos[0].read_bytes()
    archive = _zip(tmp_path / "upload.zip", {"holiday/one.png": png, "../../escape.png": png, "readme.txt": b"hi",
                                             "__MACOSX/holiday/._one.png": b"junk", "holiday/": b""})
    inputs = captioning.expand_uploads([archive, photos[1]], tmp_path / "work", max_images=10)
    read = [i for i in inputs if i.file is not None]
    assert [i.name for i in read] == ["holiday/one.png", photos[1].name]  # no '..', no macOS junk, no text
    assert read[0].file.is_relative_to(tmp_path / "work") and read[0].file.read_bytes() == png
    assert not list(tmp_path.parent.glob("escape.png")) and not (tmp_path / "escape.png").exists()
    # refused files are rows of their own, each saying why (macOS metadata is no one's file: left out)
    refused = {i.name: i.error for i in inputs if i.file is None}
    assert set(refused) == {"../../escape.png", "readme.txt"} and "outside the archive" in refused["../../escape.png"]
    with pytest.raises(InputError, match="more than 2 images"):
        captioning.expand_uploads([archive, *photos[1:3]], tmp_path / "work2", max_images=2)
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really")
    [broken] = captioning.expand_uploads([tmp_path / "broken.zip"], tmp_path / "work3", max_images=10)
    assert broken.file is None and "not a readable zip" in broken.error


def test_a_batch_without_captioner_weights_is_label_based(labels_only, photos, tmp_path):
    bad = bad_images(tmp_path / "bad")["truncated.jpg"]
    inputs = [ImageInput(p.name, p) for p in photos] + [ImageInput("truncated.jpg", bad)]
    seen = []
    result = captioning.caption_batch(labels_only, inputs, CaptionOptions(num_candidates=2, prompt="ignored"),
                                      batch_size=3, on_progress=lambda done, total, what: seen.append((what, done)))
    assert (result.captioned, result.failed) == (4, 1)
    assert (result.scored_by, result.engine, result.captions_from) == ("labels", "labels", "labels")
    assert "label-based captions" in result.model and "MMS_MODEL_CAPTIONER" in result.note
    assert all(len(row.candidates) == 2 and row.caption.startswith(LABEL_CAPTION_STARTS) for row in result.rows[:4])
    assert "truncated" in result.rows[4].error and not result.rows[4].candidates
    assert ("Captioning from ImageNet labels", 3) in seen and ("Captioning from ImageNet labels", 4) in seen
    single = captioning.caption_image(labels_only, photos[1], CaptionOptions(num_candidates=2))
    assert result.rows[1].caption == single.caption
    table = list(csv.reader(io.StringIO(captioning.batch_csv(result))))
    assert table[1][3] == "labels" and len(table) == 6
    assert "class probability" in tab.batch_summary(result)


def test_batch_rows_progress_and_csv(with_clip, photos, tmp_path):
    bad = bad_images(tmp_path / "bad")["notes.png"]
    inputs = [ImageInput(p.name, p) for p in photos[:3]] + [ImageInput("notes.png", bad)]
    seen = []
    result = captioning.caption_batch(
        with_clip,
        inputs,
        CaptionOptions(strategy="greedy", max_new_tokens=8),
        batch_size=2,
        on_progress=lambda done, total, what: seen.append((what, done, total)),
    )
    assert (result.captioned, result.failed, result.scored_by) == (3, 1, "clip")
    assert (result.engine, result.captions_from) == ("clip", "captioner")
    assert [row.name for row in result.rows] == [p.name for p in photos[:3]] + ["notes.png"]
    assert all(row.candidates and not row.error for row in result.rows[:3])  # random weights may say ""
    assert "not an image" in result.rows[3].error and not result.rows[3].candidates
    assert ("Captioning", 2, 3) in seen and ("Captioning", 3, 3) in seen and result.images_per_s > 0
    single = captioning.caption_image(with_clip, photos[1], CaptionOptions(strategy="greedy", max_new_tokens=8))
    assert result.rows[1].caption == single.caption  # batching changes nothing but speed
    table = list(csv.reader(io.StringIO(captioning.batch_csv(result))))
    assert table[0][:3] == ["file", "caption", "score"] and len(table) == 5
    assert table[4][0] == "notes.png" and table[4][1] == "" and "not an image" in table[4][5]
    written = captioning.write_batch_csv(result, tmp_path / "out" / "captions.csv")
    assert written.read_bytes().decode() == captioning.batch_csv(result)


def test_a_batch_goes_into_a_search_gallery_with_its_captions(with_clip, photos, tmp_path):
    from model_zoo.vision import search

    ctx = StudioContext(with_clip, load_settings(["--data-dir", str(tmp_path)], environ={}))
    archive = _zip(tmp_path / "more.zip", {"trip/gold.png": photos[3].read_bytes()})
    result = tab.caption_many(ctx, [str(p) for p in photos[:3]] + [str(archive)], CaptionOptions(strategy="greedy"),
                              gallery="captioned")
    assert (result.gallery.added, result.gallery.total, result.gallery.note) == (4, 4, "")
    assert "Search tab" in tab.batch_summary(result)
    found = search.search(with_clip, tab.galleries_root(ctx) / "captioned", "a picture", k=8)
    assert {hit["name"]: hit["caption"] for hit in found.results} == {row.name.split("/")[-1]: row.caption
                                                                      for row in result.rows}
    again = tab.caption_many(ctx, [str(photos[0])], CaptionOptions(strategy="greedy"), gallery="captioned")
    assert (again.gallery.added, again.gallery.skipped) == (0, 1)  # same bytes: not added twice


def test_offline_a_label_based_batch_goes_into_a_gallery_by_the_label_bridge(labels_only, photos, tmp_path):
    from model_zoo.vision import search

    ctx = StudioContext(labels_only, load_settings(["--data-dir", str(tmp_path)], environ={}))
    with pytest.raises(InputError, match="not a usable gallery name"):
        tab.caption_many(ctx, [str(photos[0])], CaptionOptions(), gallery="../escape")
    result = tab.caption_many(ctx, [str(p) for p in photos[:2]], CaptionOptions(), gallery="captioned")
    assert result.captions_from == "labels" and result.captioned == 2
    assert (result.gallery.added, result.gallery.total, result.gallery.note) == (2, 2, "")
    found = search.search(labels_only, tab.galleries_root(ctx) / "captioned", "a photo", k=8)
    assert {hit["name"]: hit["caption"] for hit in found.results} == {row.name: row.caption for row in result.rows}


def test_a_gallery_needs_an_image_engine(tiny_blip_dir, tiny_bridge_overrides, photos, tmp_path):
    manager = _manager(tmp_path / "cache", captioner=str(tiny_blip_dir),
                       **{**tiny_bridge_overrides, "mpnet": str(tmp_path / "no-such-encoder")})
    ctx = StudioContext(manager, load_settings(["--data-dir", str(tmp_path)], environ={}))
    result = tab.caption_many(ctx, [str(photos[0])], CaptionOptions(strategy="greedy"), gallery="captioned")
    assert result.captioned == 1 and result.gallery.added == 0
    assert "Not added" in result.gallery.note and "MMS_MODEL_MPNET" in result.gallery.note


def test_a_batch_of_only_bad_files_loads_nothing(tmp_path):
    manager = _manager(tmp_path / "cache")
    inputs = [ImageInput(p.name, p) for p in bad_images(tmp_path / "bad").values()]
    with pytest.raises(InputError, match="None of the 5 files"):
        captioning.caption_batch(manager, inputs)
    states = {s.key: s.state for s in manager.status()}
    assert states["captioner"] == states["efficientnet-lite0"] == "unloaded"


# -- end to end ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def running_app(with_clip, tmp_path_factory):
    with serve_in_process(tmp_path_factory.mktemp("app-data"), with_clip) as url:
        yield url


def test_caption_endpoint_through_client(running_app, photos):
    from gradio_client import Client, handle_file

    result = Client(running_app, verbose=False).predict(handle_file(str(photos[0])), 2, api_name="/caption")
    assert set(result) >= {"caption", "candidates", "model", "scored_by"}
    assert result["caption"] == result["candidates"][0]["text"] and 1 <= len(result["candidates"]) <= 2
    assert result["scored_by"] == "clip" and isinstance(result["candidates"][0]["score"], float)


def test_caption_batch_endpoint_through_client(running_app, photos, tmp_path):
    from gradio_client import Client, handle_file

    archive = _zip(tmp_path / "more.zip", {"inside/a.png": photos[2].read_bytes()})
    files = [handle_file(str(photos[0])), handle_file(str(archive))]
    result = Client(running_app, verbose=False).predict(files, 1, "greedy", 30, "", "", "from-client",
                                                        api_name="/caption_batch")
    assert [row["name"] for row in result["rows"]] == [photos[0].name, "inside/a.png"]
    assert result["gallery"]["gallery"] == "from-client" and result["gallery"]["added"] == 2
    assert result["captioned"] == 2 and all(row["candidates"] and not row["error"] for row in result["rows"])


# -- real packaged weights: EfficientNet-Lite0 (and MPNet for the gallery) -------------------
GALLERY = Path(__file__).resolve().parents[2] / "assets" / "gallery"


def _expected_source(manager: ModelManager) -> str:
    """Offline here no captioner is cached: captions are label-based. Where a real one is,
    it answers (and these photos' captions still name what they show)."""
    return "labels" if manager.weights_problem("captioner") is not None else "captioner"


@pytest.mark.slow
def test_real_caption_of_the_coffee_photo_names_the_coffee(real_manager):
    result = captioning.caption_image(real_manager, GALLERY / "coffee.jpg", CaptionOptions(num_candidates=3))
    assert result.captions_from == _expected_source(real_manager)
    assert any(word in result.caption.lower() for word in ("espresso", "coffee", "cup")), result.caption
    if result.captions_from == "labels":
        assert result.caption == "a photo of an espresso" and result.candidates[0].score > 0.5
        assert len(result.candidates) == 3 and result.model == "efficientnet-lite0 (label-based captions)"


@pytest.mark.slow
def test_real_caption_of_the_cat_photo_names_a_cat(real_manager):
    result = captioning.caption_image(real_manager, GALLERY / "cat.jpg", CaptionOptions(num_candidates=3))
    assert result.captions_from == _expected_source(real_manager)
    assert "cat" in result.caption.lower(), result.caption
    if result.captions_from == "labels":  # tabby, tiger cat, Egyptian Mau: every candidate is a cat
        assert all("cat" in c.text for c in result.candidates), [c.text for c in result.candidates]


@pytest.mark.slow
def test_real_batch_with_one_bad_file(real_manager, tmp_path):
    names = ("coffee.jpg", "cat.jpg", "motorcycle.jpg", "temple.jpg")
    bad = bad_images(tmp_path / "bad")["notes.png"]
    inputs = [ImageInput(name, GALLERY / name) for name in names] + [ImageInput("notes.png", bad)]
    result = captioning.caption_batch(real_manager, inputs, CaptionOptions(num_candidates=2), batch_size=3)
    assert (result.captioned, result.failed) == (4, 1) and result.captions_from == _expected_source(real_manager)
    captions = {row.name: row.caption.lower() for row in result.rows}
    assert any(word in captions["coffee.jpg"] for word in ("espresso", "coffee", "cup"))
    assert "cat" in captions["cat.jpg"]
    if result.captions_from == "labels":
        assert any(word in captions["motorcycle.jpg"] for word in ("moped", "scooter", "motor"))
    assert "not an image" in result.rows[-1].error and captions["notes.png"] == ""


@pytest.mark.slow
def test_real_label_based_batch_goes_into_a_gallery_that_text_search_finds(real_manager, tmp_path):
    from model_zoo.vision import search

    ctx = StudioContext(real_manager, load_settings(["--data-dir", str(tmp_path)], environ={}))
    files = [str(GALLERY / name) for name in ("coffee.jpg", "cat.jpg", "motorcycle.jpg", "rocket.jpg")]
    result = tab.caption_many(ctx, files, CaptionOptions(), gallery="captioned")
    assert result.gallery.note == "" and result.gallery.added == 4
    found = search.search(real_manager, tab.galleries_root(ctx) / "captioned", "a cup of coffee", k=4)
    assert found.results[0]["name"] == "coffee.jpg"
    assert found.results[0]["caption"] == result.rows[0].caption
