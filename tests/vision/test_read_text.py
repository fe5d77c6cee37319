"""Reading text in images: thresholds, quoting, box drawing and bad input (fast, a fake
reader), then the packaged PP-OCRv5 on painted signs and plain photos, and /read_text and
/caption's text_in_image through gradio_client on the app as shipped (slow)."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import gradio as gr
import pytest
from PIL import Image

from model_zoo.core.errors import InputError
from model_zoo.core.manager import ManagerConfig, ModelManager
from model_zoo.vision.ocr import service as ocr
from model_zoo.vision.captioning.results import Candidate, CaptionResult
from model_zoo.vision.captioning import with_text_in_image
from model_zoo.vision.ocr.service import TextLine
from tests.badfiles import bad_images
from tests.vision.signs import GALLERY, render_sign


@dataclass
class Raw:
    text: str
    box: list
    confidence: float


class FakeReader:
    name = "fake-ocr"

    def __init__(self, lines=(), boxes=None):
        self.lines, self.boxes, self.reads = list(lines), boxes, 0

    def detect(self, image):
        return [line.box for line in self.lines] if self.boxes is None else self.boxes

    def read(self, image, boxes=None):
        self.reads += 1
        return list(self.lines)


class FakeManager:
    """Just what read_text and the caption facade ask of a manager."""

    def __init__(self, reader, keys=("ocr",), problem=None):
        self.reader, self.keys, self.problem = reader, keys, problem

    @contextmanager
    def use(self, key):
        assert key == ocr.OCR_KEY
        yield self.reader

    def status_keys(self):
        return list(self.keys)

    def weights_problem(self, key):
        return self.problem


def test_thresholds_keep_confident_lines_with_letters_or_digits():
    raw = [Raw(" BAKERY ", [1, 2, 30, 12], 0.95), Raw("0", [0, 0, 5, 5], 0.074), Raw("囍", [0, 0, 5, 5], 0.059),
           Raw("—", [0, 0, 5, 5], 0.99), Raw("OPEN  7  DAYS", [0, 20, 50, 30], 0.61)]
    kept = ocr.keep_lines(raw)
    assert [line.text for line in kept] == ["BAKERY", "OPEN 7 DAYS"]
    assert kept[0].box == [1, 2, 30, 12] and kept[0].confidence == 0.95


def test_legible_text_is_what_a_caption_quotes():
    lines = [TextLine("BAKERY", [0, 0, 1, 1], 0.95), TextLine("est. 1921", [0, 0, 1, 1], 0.7),
             TextLine("A", [0, 0, 1, 1], 0.99)]
    assert ocr.legible_text(lines) == "BAKERY"  # 0.7 is kept in `text`, not quoted; one letter is not quoted
    assert ocr.legible_text([]) == ""
    long = [TextLine("word " * 30, [0, 0, 1, 1], 0.9)]
    quoted = ocr.legible_text(long)
    assert len(quoted) <= ocr.QUOTE_MAX_CHARS + 1 and quoted.endswith("…")
    assert ocr.quote_in_caption("a photo of a street sign.", "BAKERY") == 'a photo of a street sign that reads "BAKERY"'
    assert ocr.quote_in_caption("a photo of a cat", "") == "a photo of a cat"
    assert ocr.quote_in_caption("a sign", 'say "hi"') == "a sign that reads \"say 'hi'\""
    hedged = "a photo of a lizard, probably an agama or a chameleon"  # a hedge or several objects: no one bearer
    assert ocr.quote_in_caption(hedged, "ZOO") == hedged + ", with text that reads \"ZOO\""
    assert ocr.quote_in_caption("a photo of a lemon and an orange", "SALE").endswith(", with text that reads \"SALE\"")


def test_read_image_detects_first_and_skips_recognition_without_boxes():
    image = Image.new("RGB", (64, 48), "white")
    reader = FakeReader([Raw("EXIT", [3, 4, 40, 20], 0.97)], boxes=[])
    result = ocr.read_image(FakeManager(reader), image, detect_first=True)
    assert result.text == "" and result.lines == [] and reader.reads == 0
    reader.boxes = None
    result = ocr.read_image(FakeManager(reader), image, detect_first=True)
    assert result.text == "EXIT" and reader.reads == 1 and (result.width, result.height) == (64, 48)
    assert "path" not in result.to_dict() and result.to_dict()["lines"][0]["box"] == [3, 4, 40, 20]
    tiny = ocr.read_image(FakeManager(reader), Image.new("RGB", (4, 4)))
    assert tiny.lines == [] and reader.reads == 1  # too small to hold text: no model call


def test_box_drawing_outlines_each_line():
    image = Image.new("RGB", (200, 120), "white")
    out = ocr.draw_boxes(image, [TextLine("HELLO", [40, 50, 160, 90], 0.9)])
    assert out.size == image.size and out is not image and image.getpixel((40, 70)) == (255, 255, 255)
    assert out.getpixel((40, 70)) != (255, 255, 255)  # the box's left edge
    assert ocr.draw_boxes(image, []).tobytes() == image.tobytes()


def test_bad_images_are_refused_before_any_model_loads(tmp_path):
    reader = FakeReader()
    expected = {"empty.jpg": "is empty", "notes.png": "not an image", "truncated.jpg": "truncated",
                "huge.png": "enormous size", "wav-as.jpg": "not an image"}
    for name, path in bad_images(tmp_path).items():
        with pytest.raises(InputError, match=expected[name]):
            ocr.read_text(FakeManager(reader), path)
    assert reader.reads == 0


def test_the_tab_handler_says_what_is_wrong(tmp_path):
    from components import captioning as tab

    class Ctx:
        manager = FakeManager(FakeReader())

    handler = tab.user_facing(tab.read_one)
    with pytest.raises(gr.Error, match="upload an image"):
        handler(Ctx(), None)
    with pytest.raises(gr.Error, match="is empty"):
        handler(Ctx(), {"path": str(bad_images(tmp_path)["empty.jpg"])})


def _result(*texts):
    candidates = [Candidate(text=t, score=0.5, confidence=0.5) for t in texts]
    return CaptionResult(caption=texts[0], candidates=candidates, model="m", scored_by="labels", decoding="d")


def test_captions_quote_legible_text_and_keep_their_order():
    image = Image.new("RGB", (64, 64))
    manager = FakeManager(FakeReader([Raw("BAKERY", [1, 1, 30, 10], 0.95), Raw("tiny print", [1, 20, 30, 25], 0.65)]))
    result = with_text_in_image(manager, image, _result("a photo of a street sign", "a photo of a shop"))
    assert result.caption == 'a photo of a street sign that reads "BAKERY"' == result.candidates[0].text
    assert result.candidates[1].text == 'a photo of a shop that reads "BAKERY"'
    assert result.text_in_image == "BAKERY\ntiny print" and "read_text_s" in result.timing
    plain = with_text_in_image(FakeManager(FakeReader()), image, _result("a photo of a cat"))
    assert plain.caption == "a photo of a cat" and plain.text_in_image == ""


def test_captions_stand_without_the_ocr():
    image = Image.new("RGB", (64, 64))
    base = _result("a photo of a cat")
    assert with_text_in_image(FakeManager(FakeReader(), keys=()), image, base) is base  # not in the registry
    assert with_text_in_image(FakeManager(FakeReader(), problem=object()), image, base) is base  # no weights

    class Broken(FakeReader):
        def read(self, image, boxes=None):
            raise RuntimeError("onnxruntime fell over")

    assert with_text_in_image(FakeManager(Broken()), image, base) is base


# -- the packaged model ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_manager(tmp_path_factory):
    return ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path_factory.mktemp("cache"), offline=True))


@pytest.mark.slow
def test_a_painted_sign_is_read_and_plain_photos_have_no_phantom_text(real_manager, tmp_path):
    sign = render_sign("BAKERY", "brick_wall", tmp_path / "bakery.jpg")
    result = ocr.read_text(real_manager, sign)
    assert result.text == "BAKERY" and result.lines[0].confidence >= ocr.QUOTE_MIN_CONFIDENCE
    x0, y0, x1, y1 = result.lines[0].box
    assert 100 <= x0 < x1 <= 480 and 60 <= y0 < y1 <= 220  # where the sign was painted
    assert result.engine.startswith("ppocrv5")
    for photo in ("astronaut", "coffee", "cat", "rocket", "flower", "moon", "grass"):
        assert ocr.read_text(real_manager, GALLERY / f"{photo}.jpg").text == "", photo
    page = ocr.read_text(real_manager, GALLERY / "text_page.jpg")
    assert "Region-based segmentation" in page.text and len(page.lines) >= 5


@pytest.mark.slow
def test_the_app_reads_text_and_quotes_it_in_captions(live_app, tmp_path):
    from gradio_client import Client, handle_file

    sign = render_sign("PHARMACY", "temple", tmp_path / "pharmacy.jpg", board=(20, 110, 60))
    client = Client(live_app, verbose=False)
    read = client.predict(handle_file(str(sign)), api_name="/read_text")
    assert read["text"] == "PHARMACY" and "path" not in read
    assert len(read["lines"][0]["box"]) == 4 and read["lines"][0]["confidence"] > 0.8
    caption = client.predict(handle_file(str(sign)), 3, api_name="/caption")
    assert caption["text_in_image"] == "PHARMACY" and caption["caption"].endswith('that reads "PHARMACY"')
    assert caption["candidates"][0]["text"] == caption["caption"]
    plain = client.predict(handle_file(str(GALLERY / "coffee.jpg")), 3, api_name="/caption")
    assert plain["text_in_image"] == "" and "reads" not in plain["caption"]
    with pytest.raises(Exception, match="is empty"):
        client.predict(handle_file(str(bad_images(tmp_path / "bad")["empty.jpg"])), api_name="/read_text")
