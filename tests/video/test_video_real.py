"""The example clip through the real packaged models (slow): Whisper base, EfficientNet-Lite
with the label bridge, MPNet. The clip shows a photo every 5 s over a sentence about it
(assets/video/README.md)."""
from __future__ import annotations

import pytest

from model_zoo.speech.service import to_srt, to_vtt
from model_zoo.video import service
from tests.speech_clips import GERMAN, GERMAN_MEANING, meaning_recall, word_error_rate, word_recall
from tests.video.clips import EXAMPLE

pytestmark = pytest.mark.slow
SLOTS = {"coffee": 0.0, "cat": 5.0, "rocket": 10.0, "astronaut": 15.0, "galaxies": 20.0}
SAID = ("Here is a cup of coffee.", "Now a tabby cat.", "The mission budget was two million dollars.",
        "An astronaut in a space suit.", "And finally, thousands of distant galaxies.")  # one a slot


@pytest.fixture(scope="module")
def indexed(real_manager, tmp_path_factory):
    folder = tmp_path_factory.mktemp("videos") / "example"
    return folder, service.index_video(real_manager, EXAMPLE, folder)


def inside(hit: dict, slot_start: float) -> bool:
    middle = (hit["start"] + hit["end"]) / 2
    return slot_start <= middle < slot_start + 5.0


def test_the_example_is_indexed_with_a_scene_per_photo_and_its_words(indexed):
    _, report = indexed
    assert [s["start"] for s in report.scenes] == [0.0, 5.0, 10.0, 15.0, 20.0]
    assert report.language == "en" and 24 < report.duration_s < 26
    assert word_error_rate(" ".join(SAID), report.transcript) <= 0.25, report.transcript
    assert "espresso" in report.scenes[0]["caption"] or "coffee" in report.scenes[0]["caption"]
    assert "cat" in report.scenes[1]["caption"]
    assert to_srt(report.segments).startswith("1\n00:00:0") and to_vtt(report.segments).startswith("WEBVTT")


@pytest.mark.parametrize("query, slot", [("a cup of coffee", "coffee"), ("a cat", "cat"), ("a rocket", "rocket"),
                                         ("an astronaut", "astronaut"), ("galaxies in space", "galaxies")])
def test_a_search_for_an_object_lands_in_its_slot(real_manager, indexed, query, slot):
    folder, _ = indexed
    best = service.search_video(real_manager, folder, query, 3).results[0]
    assert inside(best, SLOTS[slot]), best


@pytest.mark.parametrize("query", ["where the budget is mentioned", "two million dollars"])
def test_a_search_for_spoken_words_lands_where_they_are_said(real_manager, indexed, query):
    folder, _ = indexed
    best = service.search_video(real_manager, folder, query, 3).results[0]
    assert inside(best, SLOTS["rocket"]) and word_recall(SAID[2], best["transcript"]) >= 0.5, best


def test_speech_that_is_not_english_is_searched_through_its_translation(real_manager, tmp_path):
    from tests.video.clips import REPO, ffmpeg

    clip = tmp_path / "german.mp4"  # a still photo over the German example clip
    ffmpeg("-loop", "1", "-t", "12", "-i", str(REPO / "assets" / "gallery" / "coffee.jpg"),
           "-i", str(REPO / "assets" / "audio" / "german_water_bread.ogg"),
           "-vf", "scale=320:240:force_original_aspect_ratio=decrease,pad=320:240:(ow-iw)/2:(oh-ih)/2,format=yuv420p",
           "-c:v", "libx264", "-c:a", "aac", "-shortest", str(clip))
    report = service.index_video(real_manager, clip, tmp_path / "german")
    # what Whisper hears differs by CPU, threads and load ("ein Stück Rot", "Glas Masse"): bound it, never one word
    assert report.language == "de" and word_error_rate(GERMAN, report.transcript) <= 0.35, report.transcript
    assert meaning_recall(GERMAN_MEANING, report.translation) >= 0.6, report.translation
    assert any("English translation" in note for note in report.notes)
    best = service.search_video(real_manager, tmp_path / "german", "a piece of bread", 1).results[0]
    # found through what was said (its English), not through the coffee photo on screen
    assert best["found_by"] == "said" and best["transcript"] and best["start"] < 5, best
