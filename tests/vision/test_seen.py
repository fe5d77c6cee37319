"""What the classifier is sure of, in words (model_zoo/vision/recognition/seen.py): fast tests on made-up
class probabilities over the real ImageNet classes and WordNet hierarchy, then the packaged
EfficientNet-Lite0 on real photos: a hesitant lizard, two fruits, a patch of grass."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model_zoo.core.manager import ManagerConfig, ModelManager
from model_zoo.vision import captioning, search
from model_zoo.vision.recognition import seen
from model_zoo.vision.efficientnet_backend import REGION_NAMES, imagenet_labels

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "assets" / "vision" / "examples"
GALLERY = ROOT / "assets" / "gallery"
LABELS = imagenet_labels()


def probabilities(**named: float) -> np.ndarray:
    """Class probabilities: the named classes as given, the rest spread evenly."""
    p = np.zeros(len(LABELS))
    for name, value in named.items():
        p[LABELS.index(name.replace("_", " "))] = value
    rest = np.flatnonzero(p == 0)
    p[rest] = (1 - p.sum()) / len(rest)
    return p


def test_a_likely_class_is_named_as_fact():
    found = seen.describe(probabilities(espresso=0.9), None, LABELS)
    assert (found.caption, found.certainty) == ("a photo of an espresso", "sure")
    assert found.objects[0].candidates[0].label == "espresso" and found.objects[0].probability == pytest.approx(
        0.9, abs=1e-3
    )


def test_spread_over_one_kind_names_the_kind_and_hedges_the_classes():
    found = seen.describe(probabilities(agama=0.33, chameleon=0.22, **{"green iguana": 0.08, "Gila monster": 0.04}),
                          None, LABELS)
    assert found.certainty == "kind"
    assert found.caption == "a photo of a lizard, probably an agama, a chameleon or a green iguana"
    main = found.objects[0]
    assert main.kind == "lizard" and main.probability >= 0.67
    assert [g.label for g in main.candidates][:3] == ["agama", "chameleon", "green iguana"]


def test_spread_over_unrelated_classes_is_a_guess_and_flat_is_unclear():
    guess = seen.describe(probabilities(**{"academic gown": 0.3, "volcano": 0.2}), None, LABELS)
    assert guess.certainty == "guess" and guess.caption == "a photo of what may be an academic gown or a volcano"
    flat = seen.describe(probabilities(**{"velvet fabric": 0.05}), None, LABELS)
    assert flat.certainty == "unclear"
    assert flat.caption == "an unclear picture: the classifier sees nothing it can name (its best guess, " \
                           "velvet fabric, is 5%)"


def test_without_the_hierarchy_file_captions_name_classes(monkeypatch):
    monkeypatch.setattr(seen, "shipped_hierarchy", lambda: None)  # as where the JSON is missing or damaged
    found = seen.describe(probabilities(agama=0.33, chameleon=0.22), None, LABELS)
    assert found.certainty == "guess" and found.caption == "a photo of what may be an agama or a chameleon"


def regions_with(name: str, value: float) -> np.ndarray:
    regions = np.tile(probabilities(lemon=0.9), (4, 1))
    regions[3] = probabilities(**{name: value})
    return regions


def test_a_second_object_needs_its_region_and_the_whole_picture():
    whole = probabilities(lemon=0.8, orange=0.15)
    clear = seen.describe(whole, regions_with("orange", 0.9), LABELS, REGION_NAMES)
    assert clear.caption == "a photo of a lemon and an orange"
    assert clear.objects[1].where == "bottom right" and clear.objects[1].certainty == "sure"
    assert seen.describe(whole, regions_with("orange", 0.6), LABELS, REGION_NAMES).caption == \
        "a photo of a lemon and perhaps an orange"
    # seen in a region only (the whole picture does not agree), or not clearly: not named
    assert seen.describe(probabilities(lemon=0.8), regions_with("orange", 0.9), LABELS, REGION_NAMES).caption == \
        "a photo of a lemon"
    assert seen.describe(whole, regions_with("orange", 0.3), LABELS, REGION_NAMES).caption == "a photo of a lemon"


def test_a_hedged_main_object_is_not_named_again_as_a_second_one():
    whole = probabilities(agama=0.33, chameleon=0.3, **{"frilled-necked lizard": 0.05})
    found = seen.describe(whole, regions_with("frilled-necked lizard", 0.9), LABELS, REGION_NAMES)
    assert len(found.objects) == 1 and found.certainty == "kind"


def test_the_brief_a_gallery_keeps_is_small_and_complete():
    brief = seen.describe(probabilities(lemon=0.8, orange=0.15), regions_with("orange", 0.9), LABELS,
                          REGION_NAMES).brief()
    assert set(brief) == {"described", "certainty", "objects"} and len(brief["objects"]) == 2
    assert set(brief["objects"][0]) == {"name", "certainty", "probability", "candidates", "where"}


# -- the packaged classifier on real photos ---------------------------------------------------
@pytest.fixture(scope="module")
def real(tmp_path_factory) -> ModelManager:
    return ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path_factory.mktemp("cache"), offline=True,
                                      vision="labels"))


@pytest.mark.slow
def test_real_photos_hesitant_lizard_two_fruits_and_grass(real):
    lizard = captioning.caption_image(real, EXAMPLES / "lizard.jpg", read_text=False)
    assert lizard.caption == "a photo of a lizard, probably an agama or a chameleon" and lizard.certainty == "kind"
    main = lizard.objects[0]
    assert main["kind"] == "lizard" and {"agama", "chameleon"} <= {c["label"] for c in main["candidates"]}
    assert lizard.candidates[1].text in ("a photo of an agama", "a photo of a chameleon")  # the classes follow
    fruits = captioning.caption_image(real, EXAMPLES / "fruits.jpg", read_text=False)
    assert [o["name"] for o in fruits.objects] == ["lemon", "orange"]
    assert fruits.caption.startswith("a photo of a lemon and") and fruits.caption.endswith("an orange")
    grass = captioning.caption_image(real, GALLERY / "grass.jpg", read_text=False)
    assert grass.certainty == "unclear" and grass.caption.startswith("an unclear picture")


@pytest.mark.slow
def test_real_zero_shot_reads_a_kind_and_search_finds_a_second_object(real, tmp_path):
    labels = "frog, bird, lizard, dog, snake"
    result = search.classify(real, EXAMPLES / "lizard.jpg", labels)
    assert next(iter(result.scores)) == "lizard" and result.certainty == "kind"
    assert result.objects[0]["kind"] == "lizard" and result.described.startswith("a photo of a lizard")
    gallery = tmp_path / "galleries" / "mixed"
    files = [EXAMPLES / "lizard.jpg", EXAMPLES / "fruits.jpg", *sorted(GALLERY.glob("*.jpg"))]
    assert search.add_files(real, gallery, files).added == len(files)
    found = search.search(real, gallery, "a photo of a lizard", k=3).results
    assert found[0]["name"] == "lizard.jpg" and found[0]["seen"]["certainty"] == "kind"
    assert "fruits.jpg" in [hit["name"] for hit in search.search(real, gallery, "an orange", k=3).results]
