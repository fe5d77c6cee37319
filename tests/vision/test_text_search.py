"""Finding gallery images by the words written in them: query parsing, matching and the
fusion with the engine's similarity (fast), then a real gallery of photos and painted
signs searched by a sign's word (slow)."""
from __future__ import annotations

import pytest

from model_zoo.vision.search import text_match as tm


@pytest.mark.parametrize("query, words", [
    ("a sign that says bakery", ["bakery"]), ('"bakery"', ["bakery"]), ("bakery", ["bakery"]),
    ('the "post office" sign', ["post", "office"]), ("a shop sign reading Fresh Fish", ["fresh", "fish"]),
    ("a photo with the word EXIT", ["exit"]), ("Café sign", ["cafe"]), ("a photo of a sign", []),
    ("欢迎光临", ["欢迎光临"]), ("「欢迎光临」", ["欢迎光临"]), ("写着欢迎光临的招牌", ["欢迎光临"]),
    ("一张写着营业中的照片", ["营业中"]), ("营业中 OPEN", ["营业中", "open"]),
])
def test_the_words_a_query_wants_written(query, words):
    assert tm.wanted_words(query) == words


def test_matching_tolerates_ocr_slips_and_joined_words():
    assert tm.match(["bakery"], "BAKERY") == 1.0
    assert tm.match(["bakery"], "BAKEHY") == 1.0  # one letter misread
    assert tm.match(["post", "office"], "POSTOFFICE") == 1.0
    assert tm.match(["fresh", "fish"], "FRESH MEAT") == 0.5
    assert tm.match(["cat"], "CAT CAFE") == 1.0 and tm.match(["cat"], "CART") == 0.0  # short words: exact only
    assert tm.match(["bakery"], "") == 0.0 and tm.match(["bakery"], None) == 0.0 and tm.match([], "BAKERY") == 0.0


def test_chinese_is_matched_inside_the_text_it_was_written_in():
    """Chinese has no spaces: a query's characters are looked for inside the text read (the
    old ASCII-only words dropped every Chinese character, so no Chinese query ever matched)."""
    assert tm.match(["光临"], "欢迎光临") == 1.0 and tm.match(["欢迎光临"], "欢迎 光临") == 1.0
    assert tm.match(["营业中"], "今日营业中 OPEN") == 1.0 and tm.match(["open"], "今日营业中 OPEN") == 1.0
    assert tm.match(["临"], "欢迎光临") == 0.0  # one character alone: too common to mean the sign
    assert tm.match(["光临"], "BAKERY") == 0.0 and tm.normalise("ＯＰＥＮ") == ["open"]


def test_items_without_text_keep_their_score():
    found = tm.matches("a sign that says bakery", {1: "BAKERY", 2: "", 3: None, 4: "PHARMACY"})
    assert found == {1: 1.0}
    assert tm.fuse(0.31, 0.0) == 0.31  # plain photos: exactly the engine's similarity
    assert tm.fuse(0.05, 1.0) > tm.fuse(0.95, 0.0)  # the named word outranks any similarity gap
    assert tm.matches("a photo of a cat", {1: "BAKERY"}) == {}


# -- a real gallery ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sign_gallery(tmp_path_factory):
    """The sample photos plus four painted signs, indexed with text reading, and the same
    photos indexed without it (an older gallery: text never read)."""
    from model_zoo.core.manager import ManagerConfig, ModelManager
    from model_zoo.vision import search
    from tests.vision.signs import GALLERY, render_sign

    work = tmp_path_factory.mktemp("signs")
    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=work / "cache", offline=True, vision="labels"))
    signs = [
        render_sign("BAKERY", "brick_wall", work / "bakery.jpg"),
        render_sign("PHARMACY", "temple", work / "pharmacy.jpg", board=(20, 110, 60)),
        render_sign("HOTEL", "grass", work / "hotel.jpg", board=(30, 40, 150)),
        render_sign("COFFEE", "horse_silhouette", work / "coffee-sign.jpg", board=(240, 200, 40), ink=(20, 20, 30)),
    ]
    photos = sorted(p for p in GALLERY.glob("*.jpg") if p.stem != "text_page")
    with_text = search.add_files(manager, work / "galleries" / "with-text", [*photos, *signs])
    older = search.add_files(manager, work / "galleries" / "older", [*photos, *signs], read_text=False)
    return manager, work / "galleries", with_text, older


@pytest.mark.slow
def test_a_sign_word_finds_its_photo_first(sign_gallery):
    from model_zoo.vision import search

    manager, galleries, report, _ = sign_gallery
    assert report.with_text == 4  # the four signs; no plain photo got phantom text
    for query in ("a sign that says bakery", '"bakery"', "bakery"):
        result = search.search(manager, galleries / "with-text", query, None, 5)
        assert result.results[0]["name"] == "bakery.jpg", (query, result.results)
        assert result.results[0]["text"] == "BAKERY" and "path" not in result.results[0]
    assert search.search(manager, galleries / "with-text", "pharmacy", None, 3).results[0]["name"] == "pharmacy.jpg"


@pytest.mark.slow
def test_plain_photos_are_not_pushed_down_by_text(sign_gallery):
    """Queries that name no written word rank the photos exactly as without text reading."""
    from model_zoo.vision import search

    manager, galleries, _, _ = sign_gallery
    for query in ("a photo of a cat", "an astronaut", "a motorcycle", "a cup of coffee", "a rocket launch"):
        new = search.search(manager, galleries / "with-text", query, None, 8).results
        old = search.search(manager, galleries / "older", query, None, 8).results
        plain_new = [(r["name"], r["score"]) for r in new if not r["text"]]
        plain_old = [(r["name"], r["score"]) for r in old if r["name"] in {n for n, _ in plain_new}]
        assert plain_new == plain_old, query


@pytest.mark.slow
def test_an_older_gallery_loads_works_and_gets_text_when_its_images_come_again(sign_gallery):
    import json

    from model_zoo.vision import search
    from tests.vision.signs import GALLERY

    manager, galleries, _, older = sign_gallery
    folder = galleries / "older"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert older.with_text == 0 and all(item["text"] is None for item in manifest["items"])  # read_text=False
    for item in manifest["items"]:  # as written before galleries stored text: no key at all
        item.pop("text", None)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    held = search.GalleryRegistry()  # as the app holds its galleries open
    assert search.search(manager, folder, "bakery", None, 3, galleries=held).results  # loads, answers (engine alone)
    bakery = next(p for p in (galleries.parent).glob("bakery.jpg"))
    again = search.add_files(manager, folder, [bakery, GALLERY / "cat.jpg"], galleries=held)
    assert again.added == 0 and again.skipped == 2 and again.with_text == 1
    assert search.search(manager, folder, "bakery", None, 3, galleries=held).results[0]["name"] == "bakery.jpg"
    held.clear()  # and it was saved
    items = {i["name"]: i for i in json.loads((folder / "manifest.json").read_text())["items"]}
    assert items["bakery.jpg"]["text"] == "BAKERY" and items["cat.jpg"]["text"] == ""
    assert items["astronaut.jpg"].get("text") is None


@pytest.mark.slow
def test_a_chinese_sign_is_found_by_a_chinese_query(tmp_path):
    """PP-OCRv5 reads the painted 欢迎光临; the query 光临, or 写着欢迎光临的招牌, finds that photo
    first, whatever the image engine makes of Chinese (it reads English: docs/search.md)."""
    from model_zoo.core.manager import ManagerConfig, ModelManager
    from model_zoo.vision import search
    from tests.vision.signs import GALLERY, render_sign

    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path / "cache", offline=True, vision="labels"))
    sign = render_sign("欢迎光临", "brick_wall", tmp_path / "welcome.jpg")
    photos = [GALLERY / f"{name}.jpg" for name in ("cat", "coffee", "rocket", "temple")]
    folder = tmp_path / "galleries" / "zh"
    search.add_files(manager, folder, [*photos, sign])
    for query in ("光临", "写着欢迎光临的招牌", "「欢迎光临」"):
        hits = search.search(manager, folder, query, k=3).results
        assert hits[0]["name"] == "welcome.jpg", (query, hits)
