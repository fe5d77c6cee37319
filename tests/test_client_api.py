"""Every endpoint of the API contract (docs/design.md), called as a user's script would:
through gradio_client against `python app.py`. Successes and errors (the client gets
the gr.Error message). CLIP and the captioner are tiny random models here (no real
weights on these machines), loaded by the same code as real checkpoints."""
from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client import handle_file

from tests.badfiles import speech_wav
from tests.speech_clips import GERMAN, GERMAN_MEANING, meaning_recall, word_error_rate

pytestmark = pytest.mark.slow
ASSETS = Path(__file__).resolve().parent.parent / "assets"
PHOTOS = [ASSETS / "gallery" / name for name in ("cat.jpg", "coffee.jpg", "rocket.jpg")]


def call_error(client, api_name: str, *args) -> str:
    with pytest.raises(Exception) as info:
        client.predict(*args, api_name=api_name)
    message = str(info.value)
    assert message and "Traceback" not in message
    return message


def test_models(tiny_client):
    models = {m["key"]: m for m in tiny_client.predict(api_name="/models")}
    assert {"whisper-base", "minilm", "clip", "captioner"} <= set(models)
    assert models["clip"]["weights"] == "local"  # the override is honoured


def test_speech_translate(tiny_client, tmp_path):
    clip = speech_wav(tmp_path / "de.wav", GERMAN, "de")
    result = tiny_client.predict(handle_file(str(clip)), "both", "auto", 5, api_name="/speech_translate")
    assert result["language"] == "de" and result["language_probability"] > 0.5
    assert meaning_recall(GERMAN_MEANING, result["translation"]) >= 0.6, result["translation"]
    assert word_error_rate(GERMAN, result["transcript"]) <= 0.35, result["transcript"]
    assert result["segments"] and {"start", "end", "text"} <= set(result["segments"][0])
    assert result["timing"]["rtf"] > 0 and result["duration_s"] > 3
    assert "task must be one of" in call_error(tiny_client, "/speech_translate", handle_file(str(clip)), "dance")


def test_sentiment(tiny_client):
    good = tiny_client.predict("What a wonderful, heartfelt film.", None, None, "default", api_name="/sentiment")
    bad = tiny_client.predict("A dull, tedious waste of two hours.", None, None, "default", api_name="/sentiment")
    assert good["label"] == "positive" and bad["label"] == "negative"
    assert abs(sum(good["scores"].values()) - 1) < 1e-3 and "text" in good["modalities"]
    assert set(good["contributions"]) <= set(good["modalities"]) | {"lexicon"}
    assert "text" in call_error(tiny_client, "/sentiment", "   ", None, None, "default").lower()


def test_gallery_index_search_and_classify(tiny_client):
    files = [handle_file(str(p)) for p in PHOTOS]
    added = tiny_client.predict(files, "client-test", api_name="/index_images")
    assert (added["added"], added["total"]) == (3, 3)
    again = tiny_client.predict(files[:1], "client-test", api_name="/index_images")
    assert (again["added"], again["skipped"], again["total"]) == (0, 1, 3)  # content-hash dedup
    by_image = tiny_client.predict("", handle_file(str(PHOTOS[0])), 2, "client-test", api_name="/search")
    assert len(by_image["results"]) == 2 and by_image["results"][0]["name"] == "cat.jpg"  # itself first
    assert by_image["results"][0]["score"] >= by_image["results"][1]["score"]
    by_text = tiny_client.predict("a cup of coffee", None, 3, "client-test", api_name="/search")
    assert {r["name"] for r in by_text["results"]} == {p.name for p in PHOTOS}
    scores = tiny_client.predict(handle_file(str(PHOTOS[0])), "cat, dog, rocket", api_name="/classify_image")["scores"]
    assert set(scores) == {"cat", "dog", "rocket"} and abs(sum(scores.values()) - 1) < 1e-3
    assert "k" in call_error(tiny_client, "/search", "coffee", None, 0, "client-test")


def test_caption(tiny_client):
    result = tiny_client.predict(handle_file(str(PHOTOS[1])), 3, api_name="/caption")
    assert isinstance(result["caption"], str) and result["candidates"]
    assert result["candidates"][0]["text"] == result["caption"]
    batch = tiny_client.predict([handle_file(str(p)) for p in PHOTOS[:2]], 2, api_name="/caption_batch")
    assert batch["captioned"] == 2 and len(batch["rows"]) == 2
    assert "image" in call_error(tiny_client, "/caption", handle_file(str(ASSETS / "style.css")), 3).lower()


def test_train_head_then_use_it(tiny_client):
    dataset = handle_file(str(ASSETS / "datasets" / "amazon_reviews_300.csv"))
    report = tiny_client.predict(dataset, "gated", 5, 0.002, 64, 32, 0, "client-head", "", api_name="/train_head")
    assert report["head"] == "client-head" and 0.5 < report["metrics"]["accuracy"] <= 1
    result = tiny_client.predict("Works great, I love it.", None, None, "client-head", api_name="/sentiment")
    assert result["head"] == "client-head" and result["label"] in report["metrics"]["labels"]
    assert "fusion" in call_error(tiny_client, "/train_head", dataset, "psychic", 5).lower()
