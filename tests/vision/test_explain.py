"""Grad-CAM (model_zoo.vision.explain): the overlay drawing on maps we choose, the plumbing on a
random EfficientNet-Lite0 (same loader as the packaged weights), bad input, and the real
packaged EfficientNet-Lite0 on real photos (slow)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model_zoo.vision import explain
from model_zoo.core.errors import InputError
from model_zoo.core.manager import ManagerConfig, ModelManager
from tests.badfiles import bad_images

GALLERY = Path(__file__).resolve().parents[2] / "assets" / "gallery"


@pytest.fixture(scope="module")
def random_classifier(tiny_bridge_overrides, tmp_path_factory) -> ModelManager:
    return ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path_factory.mktemp("cache"), offline=True,
                                      overrides=tiny_bridge_overrides))


@pytest.fixture
def photo(tmp_path) -> Path:
    image = Image.new("RGB", (120, 80), (90, 140, 60))
    image.paste((230, 30, 30), (40, 20, 80, 60))
    image.save(tmp_path / "photo.png")
    return tmp_path / "photo.png"


# -- drawing ---------------------------------------------------------------------------------
def test_upsample_is_smooth_and_in_range():
    heat = np.zeros((7, 7), np.float32)
    heat[3, 3] = 1.0
    big = explain.upsample(heat, (70, 50))
    assert big.shape == (50, 70) and 0.0 <= big.min() and big.max() <= 1.0
    assert big[25, 35] > 0.8 and big[0, 0] < 0.05  # peak in the middle, cold corners
    assert len(np.unique(np.round(big, 3))) > 20  # smooth, not seven blocks


def test_overlay_colours_the_crop_by_the_map_and_dims_the_rest():
    photo = Image.new("RGB", (100, 60), (128, 128, 128))
    box = (20, 0, 80, 60)
    heat = np.zeros((7, 7), np.float32)
    heat[:, :2] = 1.0  # the left of the crop is decisive
    overlay = explain.overlay_heatmap(photo, heat, box, explain.colormap_lut("jet"), alpha=0.6, outside=0.5)
    pixels = np.asarray(overlay).astype(int)
    assert overlay.size == photo.size and overlay.mode == "RGB"
    assert tuple(pixels[30, 5]) == (64, 64, 64)  # outside the crop: dimmed, not coloured
    hot, cold = pixels[30, 22], pixels[30, 77]
    assert hot[0] > hot[2] + 40 and cold[2] > cold[0] + 20  # jet: red where the map is 1, blue where 0
    assert abs(cold - 128).sum() < abs(hot - 128).sum()  # the map decides how strong the tint is
    unchanged = explain.overlay_heatmap(photo, heat, box, outside=1.0)
    assert tuple(np.asarray(unchanged)[30, 5]) == (128, 128, 128)


def test_unknown_colormap_and_bad_blend_are_refused(random_classifier, photo):
    with pytest.raises(InputError, match="Unknown colormap"):
        explain.gradcam(random_classifier, photo, colormap="no-such-map")
    with pytest.raises(InputError, match="between 0 and 1"):
        explain.gradcam(random_classifier, photo, alpha=2.0)


# -- the plumbing, on a random EfficientNet-Lite0 --------------------------------------------
def test_gradcam_of_the_top_label_and_of_a_chosen_class(random_classifier, photo):
    found = explain.gradcam(random_classifier, photo)
    assert found.overlay.size == (120, 80) and found.top
    assert found.heatmap.ndim == 2 and 0.0 <= found.heatmap.min() and found.heatmap.max() <= 1.0
    left, top, right, bottom = found.crop_box
    assert (right - left, bottom - top) == (70, 70) and (left, top) == (25, 5)  # 87.5 % of the short side, centred
    assert 0.0 < found.probability <= 1.0 and found.label and found.model.startswith("efficientnet-lite0")
    assert found.caption.startswith(f"Why: where the model looked for '{found.label}'")
    other = explain.gradcam(random_classifier, Image.open(photo), class_index=(found.class_index + 1) % 1000)
    assert other.class_index == (found.class_index + 1) % 1000 and not other.top
    as_dict = found.to_dict()
    assert "path" not in as_dict and "overlay" not in as_dict
    assert json.loads(json.dumps(as_dict))["crop_box"] == list(found.crop_box)


def test_greyscale_and_transparent_images_are_explained_in_colour(random_classifier, tmp_path):
    grey = Image.new("L", (50, 90), 100)
    found = explain.gradcam(random_classifier, grey)
    assert found.overlay.mode == "RGB" and found.overlay.size == (50, 90)
    Image.new("RGBA", (64, 64), (0, 0, 255, 0)).save(tmp_path / "clear.png")
    assert explain.gradcam(random_classifier, tmp_path / "clear.png").overlay.size == (64, 64)


@pytest.mark.parametrize("index", [-1, 1000, 2.5, True, "3"])
def test_bad_class_index_is_refused(random_classifier, photo, index):
    with pytest.raises(InputError, match="class index"):
        explain.gradcam(random_classifier, photo, class_index=index)


def test_bad_images_are_refused_before_any_model_loads(tmp_path):
    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path / "cache", offline=True))
    expected = {"empty.jpg": "is empty", "notes.png": "not an image", "truncated.jpg": "truncated",
                "huge.png": "enormous size", "wav-as.jpg": "not an image"}
    for name, path in bad_images(tmp_path / "bad").items():
        with pytest.raises(InputError, match=expected[name]):
            explain.gradcam(manager, path)
    with pytest.raises(InputError, match="provide an image"):
        explain.gradcam(manager, "")
    assert {s.key: s.state for s in manager.status()}["efficientnet-lite0"] == "unloaded"


# -- the packaged EfficientNet-Lite0 on real photos ------------------------------------------
@pytest.mark.slow
def test_real_gradcam_of_the_coffee_photo(real_manager):
    photo = Image.open(GALLERY / "coffee.jpg")
    found = explain.gradcam(real_manager, GALLERY / "coffee.jpg")
    assert found.label == "espresso" and found.probability > 0.5 and found.top
    assert found.overlay.size == photo.size
    assert found.heatmap.shape == (7, 7) and found.heatmap.max() == pytest.approx(1.0)
    assert found.heatmap.std() > 0.1 and found.heatmap.min() < 0.3  # not uniform: it looked somewhere
    assert found.timing["gradcam_s"] < 5.0
    assert not np.array_equal(np.asarray(found.overlay), np.asarray(photo.convert("RGB")))


@pytest.mark.slow
def test_real_gradcam_looks_at_the_cat_and_differs_by_class(real_manager):
    cat = explain.gradcam(real_manager, GALLERY / "cat.jpg")
    assert "cat" in cat.label.lower() or cat.label == "Egyptian Mau"
    assert cat.overlay.size == Image.open(GALLERY / "cat.jpg").size and cat.heatmap.std() > 0.1
    rocket = explain.gradcam(real_manager, GALLERY / "cat.jpg", class_index=812)  # 'space shuttle'
    assert rocket.label == "space shuttle" and rocket.probability < cat.probability
    assert not np.allclose(rocket.heatmap, cat.heatmap)
