"""Chinese text in the sentiment service: which language a text is read as, routing Chinese
text to the Chinese model (registry zh-sentiment) whatever head was asked for, the decline
rule, and (slow) the real model on the hand-written validation sentences."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from model_zoo.core.manager import ManagerConfig, ModelManager
from model_zoo.core.registry import REGISTRY
from model_zoo.sentiment import chinese
from model_zoo.sentiment.language import chinese_units, detect_language, has_letters
from model_zoo.sentiment.service import ZH_MODEL, HeadStore, SentimentService
from model_zoo.testing.sentiment import save_tiny_head

REPO = Path(__file__).resolve().parents[2]
API_KEYS = {"label", "scores", "modalities", "contributions", "head", "attributions", "intensity", "notes"}


@pytest.mark.parametrize("text, expected", [
    ("今天天气真好，阳光明媚。", "zh"),
    ("這家餐廳的服務太差了。", "zh"),  # traditional characters
    ("我用iPhone 15拍的照片，效果很好", "zh"),  # a brand name inside Chinese
    ("What a lovely day.", "en"),
    ("I had dinner in 北京 with friends, it was great", "en"),  # a Chinese name inside English
    ("Qué día tan bonito", "en"),  # Latin script: the rule cannot tell Spanish from English (documented)
    ("今日はとても楽しかったです", "other"),  # kana: Japanese
    ("오늘 정말 행복해요", "other"),
    ("Сегодня хороший день", "other"),
    ("😀👍!!! 10/10", "other"),
    ("", "other"),
])
def test_the_language_a_text_is_read_as(text, expected):
    assert detect_language(text) == expected


def test_only_text_with_letters_has_letters():
    assert has_letters("好") and has_letters("ok") and not has_letters("😀 :) 123")


def test_chinese_units_put_the_text_back_together_and_are_bounded():
    text = "这家餐厅的菜又贵又难吃，服务员态度也很差。"
    units = chinese_units(text)
    assert "".join(units) == text and "难吃" in units
    long = text * 10
    assert "".join(chinese_units(long)) == long and len(chinese_units(long)) <= 32


def test_the_combine_rule_sums_calibrates_caps_and_declines():
    rule = chinese.CombineRule(weights={"use": 1.0, "lexicon": 1.0, "naive_bayes": 1.0}, temperature=2.0, cap=0.89,
                               decline_below=0.6)
    comps = np.array([[3.0, 3.0, 3.0], [-3.0, -3.0, -3.0], [0.3, -0.2, 0.1], [2.0, -2.0, 0.0]])
    p = rule.positive(comps)
    assert p[0] == pytest.approx(0.89) and p[1] == pytest.approx(0.11)  # capped: never more sure than 0.89
    assert 0.5 < p[2] < 0.6 and p[3] == pytest.approx(0.5)
    assert rule.declined(p).tolist() == [False, False, True, True]  # readers that cancel out: declined


def test_the_shipped_card_is_what_the_model_runs_and_reports_its_validation():
    card = chinese.read_card()
    rule = chinese.CombineRule.from_card(card)
    assert set(rule.weights) == set(chinese.COMPONENTS) and rule.cap < 0.9 and rule.temperature > 0
    validation = card["metrics"]["validation"]
    assert validation["n"] == 120 and validation["wrong_above_0.9"] == 0
    assert validation["right"] >= 0.9 * validation["n"]
    with np.load(chinese.ASSETS / chinese.HEAD) as head:
        assert head["w"].shape == (512,)


def test_the_chinese_model_has_one_registry_entry_with_a_loader():
    from model_zoo.core.backends import LOADERS

    [spec] = [s for s in REGISTRY.values() if s.family == "zh_sentiment"]
    assert spec.key == ZH_MODEL and spec.role == "sentiment" and spec.pack == "zh-sentiment"
    assert LOADERS["zh_sentiment"] == "model_zoo.sentiment.chinese"


# -- routing, with a stand-in for the Chinese model ------------------------------------------
class FakeChinese:
    """Says positive for 好, negative for 差, and is unsure of anything else."""

    rule = chinese.CombineRule(weights={k: 1.0 for k in chinese.COMPONENTS})
    nbytes = 1

    def __init__(self) -> None:
        self.seen: list[str] = []

    def predict(self, texts):
        self.seen += list(texts)
        out = []
        for t in texts:
            p = 0.85 if "好" in t else 0.15 if "差" in t else 0.55
            out.append(chinese.ZhPrediction(positive=p, components={k: 0.0 for k in chinese.COMPONENTS},
                                            declined=max(p, 1 - p) < 0.6))
        return out


@pytest.fixture(scope="module")
def fake_chinese() -> FakeChinese:
    return FakeChinese()


@pytest.fixture(scope="module")
def heads(tiny_text_encoder_dir, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("zh-heads")
    manager = ModelManager(ManagerConfig(device="cpu", offline=True, cache_dir=root / "cache",
                                         overrides={"minilm": str(tiny_text_encoder_dir)}))
    with manager.use("minilm") as encoder:
        save_tiny_head(root / "default", encoder, {"text": encoder.dim, "lexicon": 4})
        save_tiny_head(root / "three", encoder, {"text": encoder.dim}, labels=("bad", "meh", "good"))
    return root


def make_service(tiny_text_encoder_dir, heads, tmp_path, fake, zh_source) -> SentimentService:
    manager = ModelManager(ManagerConfig(device="cpu", offline=True, cache_dir=tmp_path / "cache",
                                         overrides={"minilm": str(tiny_text_encoder_dir), ZH_MODEL: str(zh_source)}),
                           loaders={"zh_sentiment": lambda request: fake})
    return SentimentService(manager, HeadStore(tmp_path / "trained", heads), max_chars=1000)


@pytest.fixture
def service(tiny_text_encoder_dir, heads, tmp_path, fake_chinese) -> SentimentService:
    return make_service(tiny_text_encoder_dir, heads, tmp_path, fake_chinese, tmp_path)  # an existing folder


def test_chinese_text_goes_to_the_chinese_model_whatever_head_was_asked_for(service, fake_chinese):
    result = service.predict("这家餐厅的菜很好吃", head="default")
    assert fake_chinese.seen[-1] == "这家餐厅的菜很好吃"
    assert (result.label, result.language, result.declined, result.head) == ("positive", "zh", False, ZH_MODEL)
    assert result.scores == {"negative": 0.15, "positive": 0.85}
    assert result.modalities == ["text"] and result.contributions == {"text": 1.0}
    assert any("Read as Chinese" in note and "'default'" in note for note in result.notes)
    as_json = result.to_dict()
    assert API_KEYS | {"language", "declined"} <= set(as_json)  # the contract's keys, and the two new ones


def test_an_unsure_chinese_answer_is_declined_in_plain_words(service):
    result = service.predict("我今天去了超市", head="default")
    assert result.language == "zh" and result.declined
    assert any("cannot judge this text's sentiment confidently" in note for note in result.notes)
    assert max(result.scores.values()) < 0.6


def test_english_text_keeps_the_heads_answer(service, fake_chinese):
    before = len(fake_chinese.seen)
    result = service.predict("a good movie", head="default")
    assert (result.language, result.declined, result.head) == ("en", False, "default")
    assert result.modalities == ["text", "lexicon"] and len(fake_chinese.seen) == before


def test_text_in_another_script_is_answered_by_the_head_but_declined(service):
    result = service.predict("今日はとても楽しかったです", head="default")
    assert (result.language, result.declined, result.head) == ("other", True, "default")
    assert any("not in English or Chinese" in note and "kana" in note for note in result.notes)
    emoji = service.predict("😀👍", head="default")
    assert (emoji.language, emoji.declined) == ("other", False)  # no letters: the head reads its symbols


def test_chinese_word_weights_come_from_the_chinese_model(service):
    result = service.predict("服务很好，价格也便宜", head="default", attribute=True)
    assert "".join(w.token for w in result.attributions) == "服务很好，价格也便宜"
    for word in result.attributions:  # the stand-in is sure only while 好 is there
        assert (word.weight > 0) == ("好" in word.token), result.attributions


def test_a_batch_mixes_languages_in_order(service):
    texts = ["服务太差了", "a good movie", "今日はとても楽しかったです", "天气很好"]
    seen = []
    results = service.predict_texts(texts, head="default", progress=seen.append)
    assert [r.language for r in results] == ["zh", "en", "other", "zh"]
    assert [r.label for r in results][::3] == ["negative", "positive"]
    assert [r.head for r in results] == [ZH_MODEL, "default", "default", ZH_MODEL]
    assert [r.declined for r in results] == [False, False, True, False]
    assert seen[-1] == 1.0


def test_a_large_chinese_batch_goes_through_in_chunks_and_in_order(service):
    texts = ["服务太差了", "天气很好", "我在看书"] * 100  # more rows than one chunk (256)
    results = service.predict_texts(texts, head="default")
    assert [r.label for r in results[:3]] * 100 == [r.label for r in results]
    assert [r.declined for r in results[:3]] == [False, False, True]


def test_a_head_with_other_labels_keeps_chinese_text_but_declines(service, fake_chinese):
    before = len(fake_chinese.seen)
    result = service.predict("服务太差了", head="three")
    assert result.head == "three" and result.label in ("bad", "meh", "good")
    assert (result.language, result.declined) == ("zh", True) and len(fake_chinese.seen) == before


def test_without_the_chinese_model_the_head_answers_declined_and_says_what_to_install(
        tiny_text_encoder_dir, heads, tmp_path, fake_chinese):
    svc = make_service(tiny_text_encoder_dir, heads, tmp_path, fake_chinese, tmp_path / "not-here")
    result = svc.predict("服务太差了", head="default")
    assert (result.language, result.declined, result.head) == ("zh", True, "default")
    assert any("Chinese sentiment model cannot load here" in note for note in result.notes)


# -- the real model --------------------------------------------------------------------------
def read_split(name: str) -> tuple[list[str], list[str]]:
    with open(REPO / "assets" / "datasets" / name, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [r["text"] for r in rows], [r["label"] for r in rows]


@pytest.mark.slow
def test_the_real_chinese_model_on_the_validation_sentences(real_manager, tmp_path):
    """The hand-written everyday sentences (never used for fitting): at least 90% right, no
    wrong answer above 0.9, and few declines."""
    svc = SentimentService(real_manager, HeadStore(tmp_path / "trained"))
    texts, labels = read_split("zh_sentiment_validation.csv")
    results = svc.predict_texts(texts, head="default")
    assert all(r.language == "zh" and r.head == ZH_MODEL for r in results)
    right = sum(r.label == y and not r.declined for r, y in zip(results, labels))
    wrong_confident = [(t, r.scores) for t, y, r in zip(texts, labels, results)
                       if r.label != y and max(r.scores.values()) > 0.9]
    assert right >= 0.9 * len(texts), right
    assert not wrong_confident
    assert sum(r.declined for r in results) <= 0.05 * len(texts)


@pytest.mark.slow
def test_the_real_chinese_model_through_the_service_with_word_weights(real_manager, tmp_path):
    svc = SentimentService(real_manager, HeadStore(tmp_path / "trained"))
    good = svc.predict("今天天气真好，我们一起去公园散步吧。", head="default", attribute=True)
    bad = svc.predict("这家酒店又脏又吵，服务员态度还很差。", head="fast", attribute=True)
    assert (good.label, bad.label) == ("positive", "negative")
    assert good.language == bad.language == "zh" and not good.declined and not bad.declined
    strongest = max(bad.attributions, key=lambda w: w.weight).token
    assert any(word in strongest for word in ("脏", "吵", "差")), bad.attributions
    english = svc.predict("What a lovely, sunny day.", head="fast")
    assert (english.language, english.declined, english.label) == ("en", False, "positive")
    status = {s.key: s for s in real_manager.status()}
    assert status[ZH_MODEL].state == "loaded" and status[ZH_MODEL].weights == "offline pack"


def test_the_tab_says_plainly_when_it_cannot_judge():
    """What the Sentiment tab shows: a declined result leads with 'Cannot judge' and shows no
    label scores; Chinese words keep no spaces between them; the language it was read as."""
    from components import sentiment as tab
    from model_zoo.sentiment.results import SentimentResult, WordWeight

    declined = SentimentResult(label="negative", scores={"negative": 0.55, "positive": 0.45}, modalities=["text"],
                               contributions={"text": 1.0}, head="zh-sentiment", language="zh", declined=True,
                               attributions=[WordWeight("明天", 0.1), WordWeight("开会", -0.2)])
    assert tab.explanation(declined).startswith("**Cannot judge this text's sentiment.** Read as Chinese")
    assert [token for token, _ in tab.highlighted(declined)] == ["明天", "开会"]
    assert "no intensity" in tab.intensity_bar(declined)
    answered = SentimentResult(label="positive", scores={"negative": 0.1, "positive": 0.9}, modalities=["text"],
                               contributions={"text": 1.0}, head="default")
    assert tab.explanation(answered).startswith("**positive**") and "Read as English" in tab.explanation(answered)
