"""Captioning: the transformers backend on tiny random BLIP / GIT / ViT-GPT2 models loaded
through the real code path, CLIP reranking with scores we control, batches and zips,
bad input, missing weights, and /caption + /caption_batch once each through gradio_client."""
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
from model_zoo import captioning
from model_zoo.backends.captioner import Generated
from model_zoo.captioning import CaptionOptions, ImageInput
from model_zoo.errors import InputError
from model_zoo.manager import ManagerConfig, ModelManager
from tests.badfiles import bad_images
from tests.conftest import serve_in_process
from tests.tiny.captioner import save_tiny_blip, save_tiny_git, save_tiny_vit_gpt2

COLOURS = ("red", "navy", "forestgreen", "gold")


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
def without_clip(tiny_blip_dir, tmp_path_factory) -> ModelManager:
    """Tiny captioner, real `clip` source: its weights are absent offline."""
    return _manager(tmp_path_factory.mktemp("cache"), captioner=str(tiny_blip_dir))


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
    ranked = captioning.rerank(generated, image, texts, logit_scale=10.0)
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
    manager = ModelManager(ManagerConfig(device="cpu"), loaders={"open_clip": lambda request: FakeClip()})
    groups = [[Generated("a cat", 0.9), Generated("a rocket in the sky", 0.1)]]
    [ranked], scored_by, note = captioning.score_candidates(manager, [Image.new("RGB", (8, 8))], groups)
    assert scored_by == "clip" and note == ""
    assert ranked[0].text == "a rocket in the sky" and ranked[0].clip_probability > 0.99


def test_caption_image_scores_are_clip_cosines(with_clip, photos):
    result = captioning.caption_image(with_clip, photos[0], CaptionOptions(num_candidates=3, max_new_tokens=8))
    assert result.scored_by == "clip" and result.caption == result.candidates[0].text
    with with_clip.use("clip") as clip:
        image_vector = clip.embed_images(_images(photos[:1]))[0]
        expected = clip.embed_texts([c.text for c in result.candidates]) @ image_vector
    assert np.allclose([c.score for c in result.candidates], expected, atol=1e-3)
    assert [c.score for c in result.candidates] == sorted((c.score for c in result.candidates), reverse=True)
    assert "path" not in result.to_dict()


def test_without_clip_weights_the_captioner_orders_and_the_note_says_why(without_clip, photos):
    result = captioning.caption_image(without_clip, photos[0], CaptionOptions(num_candidates=3, max_new_tokens=8))
    assert result.scored_by == "captioner" and "MMS_MODEL_CLIP" in result.note
    assert [c.score for c in result.candidates] == [c.confidence for c in result.candidates]
    assert result.candidates and result.caption == result.candidates[0].text


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


def test_bad_images_get_their_own_error_before_the_missing_weights(tmp_path, photos):
    ctx = StudioContext(_manager(tmp_path / "cache"), load_settings(["--data-dir", str(tmp_path)], environ={}))
    handler = tab.user_facing(tab.caption_one)
    expected = {"empty.jpg": "is empty", "notes.png": "not an image", "truncated.jpg": "truncated",
                "huge.png": "enormous size", "wav-as.jpg": "not an image"}
    for name, path in bad_images(tmp_path / "bad").items():
        with pytest.raises(gr.Error, match=expected[name]):
            handler(ctx, {"path": str(path)}, CaptionOptions())
    with pytest.raises(gr.Error) as info:  # a good image reaches the (absent) weights
        handler(ctx, {"path": str(photos[0])}, CaptionOptions())
    assert "Salesforce/blip-image-captioning-base" in str(info.value) and "MMS_MODEL_CAPTIONER" in str(info.value)
    banner = tab.weights_banner(ctx, "captioner")
    assert "How to fix" in banner and "MMS_MODEL_CAPTIONER" in banner and "No CLIP weights" in banner


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
    assert [i.name for i in inputs] == ["holiday/one.png", photos[1].name]  # no '..', no macOS junk, no text
    assert inputs[0].file.is_relative_to(tmp_path / "work") and inputs[0].file.read_bytes() == png
    assert not list(tmp_path.parent.glob("escape.png")) and not (tmp_path / "escape.png").exists()
    with pytest.raises(InputError, match="more than 2 images"):
        captioning.expand_uploads([archive, *photos[1:3]], tmp_path / "work2", max_images=2)
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(InputError, match="not a readable zip"):
        captioning.expand_uploads([tmp_path / "broken.zip"], tmp_path / "work3", max_images=10)


def test_batch_rows_progress_and_csv(with_clip, photos, tmp_path):
    bad = bad_images(tmp_path / "bad")["notes.png"]
    inputs = [ImageInput(p.name, p) for p in photos[:3]] + [ImageInput("notes.png", bad)]
    seen = []
    result = captioning.caption_batch(with_clip, inputs, CaptionOptions(strategy="greedy", max_new_tokens=8),
                                      batch_size=2, on_progress=lambda done, total, what: seen.append((what, done, total)))
    assert (result.captioned, result.failed, result.scored_by) == (3, 1, "clip")
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
    from model_zoo import search

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


def test_a_gallery_needs_clip_and_a_valid_name(without_clip, photos, tmp_path):
    ctx = StudioContext(without_clip, load_settings(["--data-dir", str(tmp_path)], environ={}))
    with pytest.raises(InputError, match="not a usable gallery name"):
        tab.caption_many(ctx, [str(photos[0])], CaptionOptions(), gallery="../escape")
    result = tab.caption_many(ctx, [str(photos[0])], CaptionOptions(strategy="greedy"), gallery="captioned")
    assert result.captioned == 1 and result.gallery.added == 0 and "MMS_MODEL_CLIP" in result.gallery.note


def test_a_batch_of_only_bad_files_loads_nothing(tmp_path):
    manager = _manager(tmp_path / "cache")
    inputs = [ImageInput(p.name, p) for p in bad_images(tmp_path / "bad").values()]
    with pytest.raises(InputError, match="None of the 5 files"):
        captioning.caption_batch(manager, inputs)
    assert {s.key: s.state for s in manager.status()}["captioner"] == "unloaded"


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
