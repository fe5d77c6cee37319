"""The malformed-input sweep: bad inputs across every endpoint, through gradio_client
against `python app.py`. Each must come back as a clear message (no traceback, naming
what is wrong), and the same endpoint must answer a good request right after it."""
from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client import handle_file

from tests import badfiles

pytestmark = pytest.mark.slow
ASSETS = Path(__file__).resolve().parent.parent / "assets"
CAT = ASSETS / "gallery" / "cat.jpg"
DATASET = ASSETS / "datasets" / "amazon_reviews_300.csv"


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bad")
    files = {**badfiles.bad_audio(folder / "audio"), **badfiles.bad_images(folder / "images")}
    files["long.wav"] = badfiles.too_long_audio(folder, 31 * 60)  # the shipped app allows 30 minutes
    files["speech.wav"] = badfiles.speech_wav(folder / "speech.wav", "Good morning, how are you today?")
    tables = folder / "tables"
    tables.mkdir()
    (tables / "no-label.csv").write_text("text,score\nnice,1\nbad,0\n")
    (tables / "one-class.csv").write_text("text,label\n" + "".join(f"fine {i},positive\n" for i in range(20)))
    (tables / "empty.csv").write_text("")
    (tables / "missing-image.csv").write_text(
        "text,image,label\n" + "".join(f"row {i},nowhere/{i}.jpg,{'ab'[i % 2]}\n" for i in range(20)))
    files.update({name: tables / name for name in ("no-label.csv", "one-class.csv", "empty.csv", "missing-image.csv")})
    return files


def f(bad: dict, name: str):
    return handle_file(str(bad[name]))


# (case id, api_name, args builder, fragment the message must contain (lower case))
SPEECH = [
    ("speech-empty", lambda b: (f(b, "empty.wav"), "translate", "auto", 5), "empty"),
    ("speech-text-file", lambda b: (f(b, "text-as.wav"), "translate", "auto", 5), "audio"),
    ("speech-truncated-header", lambda b: (f(b, "truncated-header.wav"), "translate", "auto", 5), "audio"),
    ("speech-garbage-header", lambda b: (f(b, "garbage-header.wav"), "translate", "auto", 5), "audio"),
    ("speech-zero-seconds", lambda b: (f(b, "zero-seconds.wav"), "translate", "auto", 5), "no audio"),
    ("speech-silence", lambda b: (f(b, "silence.wav"), "translate", "auto", 5), "silen"),
    ("speech-image-as-mp3", lambda b: (f(b, "png-as.mp3"), "translate", "auto", 5), "audio"),
    ("speech-too-long", lambda b: (f(b, "long.wav"), "translate", "auto", 5), "limit"),
    ("speech-bad-task", lambda b: (f(b, "speech.wav"), "dance", "auto", 5), "task"),
    ("speech-bad-beam", lambda b: (f(b, "speech.wav"), "translate", "auto", 0), "beam"),
    ("speech-bad-language", lambda b: (f(b, "speech.wav"), "translate", "klingon", 5), "language"),
]
SENTIMENT = [
    ("sentiment-empty", lambda b: ("", None, None, "default"), "text"),
    ("sentiment-blank", lambda b: ("   \n ", None, None, "default"), "text"),
    ("sentiment-unknown-head", lambda b: ("nice", None, None, "no-such-head"), "head"),
    ("sentiment-bad-image", lambda b: ("nice", f(b, "truncated.jpg"), None, "default"), "truncated"),
    ("sentiment-bad-audio", lambda b: ("nice", None, f(b, "empty.wav"), "default"), "empty"),
]
CAPTION = [
    ("caption-empty", lambda b: (f(b, "empty.jpg"), 3), "empty"),
    ("caption-text-file", lambda b: (f(b, "notes.png"), 3), "not an image"),
    ("caption-truncated", lambda b: (f(b, "truncated.jpg"), 3), "truncated"),
    ("caption-huge", lambda b: (f(b, "huge.png"), 3), "size"),
    ("caption-audio-as-jpg", lambda b: (f(b, "wav-as.jpg"), 3), "not an image"),
    ("caption-candidates-range", lambda b: (handle_file(str(CAT)), 500), "candidates"),
]
INDEX = [
    ("index-not-images", lambda b: ([f(b, "notes.png"), f(b, "empty.jpg")], "sweep"), "image"),
    ("index-no-files", lambda b: ([], "sweep"), "choose"),
    ("index-escaping-name", lambda b: ([handle_file(str(CAT))], "../../etc"), "gallery"),
]
SEARCH = [
    ("search-k-zero", lambda b: ("a cat", None, 0, "sweep-good"), "k"),
    ("search-k-huge", lambda b: ("a cat", None, 100000, "sweep-good"), "k"),
    ("search-nothing-to-search", lambda b: ("", None, 4, "sweep-good"), "text"),
    (
        "search-empty-gallery",
        lambda b: ("a cat", None, 4, "never-filled"),
        "no such gallery",
    ),  # never filled: it does not exist
    ("search-bad-image", lambda b: ("", f(b, "truncated.jpg"), 4, "sweep-good"), "truncated"),
]
CLASSIFY = [
    ("classify-no-labels", lambda b: (handle_file(str(CAT)), ""), "label"),
    ("classify-only-commas", lambda b: (handle_file(str(CAT)), " , ,, "), "label"),
    ("classify-bad-image", lambda b: (f(b, "notes.png"), "cat, dog"), "not an image"),
]
TRAIN = [
    ("train-missing-label-column", lambda b: (f(b, "no-label.csv"), "gated", 2), "label"),
    ("train-single-class", lambda b: (f(b, "one-class.csv"), "gated", 2), "class"),
    ("train-empty-table", lambda b: (f(b, "empty.csv"), "gated", 2), "empty"),
    ("train-broken-media-paths", lambda b: (f(b, "missing-image.csv"), "gated", 2), "row"),
    ("train-unknown-fusion", lambda b: (handle_file(str(DATASET)), "psychic", 2), "fusion"),
    ("train-image-not-table", lambda b: (handle_file(str(CAT)), "gated", 2), "csv"),
]
GOOD = {
    "/speech_translate": lambda b: (
        (f(b, "speech.wav"), "transcribe", "en", 1),
        lambda r: "morning" in r["transcript"].lower(),
    ),
    "/sentiment": lambda b: (("A lovely, warm film.", None, None, "default"), lambda r: r["label"] == "positive"),
    "/caption": lambda b: ((handle_file(str(CAT)), 2), lambda r: bool(r["candidates"])),
    "/index_images": lambda b: (([handle_file(str(CAT))], "sweep-good"), lambda r: r["total"] == 1),
    "/search": lambda b: (("a cat", None, 1, "sweep-good"), lambda r: r["results"][0]["name"] == "cat.jpg"),
    "/classify_image": lambda b: ((handle_file(str(CAT)), "cat, dog"), lambda r: len(r["scores"]) == 2),
    "/train_head": lambda b: ((handle_file(str(DATASET)), "early", 2), lambda r: r["metrics"]["accuracy"] > 0),
}
CASES = ([(c, "/speech_translate", a, m) for c, a, m in SPEECH] + [(c, "/sentiment", a, m) for c, a, m in SENTIMENT]
         + [(c, "/caption", a, m) for c, a, m in CAPTION] + [(c, "/index_images", a, m) for c, a, m in INDEX]
         + [(c, "/search", a, m) for c, a, m in SEARCH] + [(c, "/classify_image", a, m) for c, a, m in CLASSIFY]
         + [(c, "/train_head", a, m) for c, a, m in TRAIN])


def test_the_sweep_is_broad():
    assert len(CASES) >= 30 and {api for _, api, _, _ in CASES} == set(GOOD)


@pytest.mark.parametrize("case, api_name, build_args, fragment", CASES, ids=[c[0] for c in CASES])
def test_bad_input_then_good_request(tiny_client, bad, case, api_name, build_args, fragment):
    if api_name == "/search":  # the gallery the good search needs
        tiny_client.predict(*GOOD["/index_images"](bad)[0], api_name="/index_images")
    with pytest.raises(Exception) as info:
        tiny_client.predict(*build_args(bad), api_name=api_name)
    message = str(info.value)
    print(f"{case}: {message}")
    assert "Traceback" not in message and "Something went wrong" not in message
    assert fragment in message.lower(), message
    args, check = GOOD[api_name](bad)
    assert check(tiny_client.predict(*args, api_name=api_name))
