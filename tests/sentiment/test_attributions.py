"""Word attributions of the sentiment service (occlusion, batched with the prediction):
each word's weight is the fall of the label's probability without it, for every kind of
head (tuned layers, seed ensembles, blends, images held fixed); long texts in spans; the
tab's highlighted text; /sentiment returns them in the order of the text; and on the real
fast head, the word whose removal flips the label comes first."""
from __future__ import annotations

import pytest

from model_zoo.sentiment import attributions
from model_zoo.sentiment.service import HeadStore, SentimentService
from tests.sentiment.test_sentiment import ctx, photo, service, shipped, tiny_manager  # noqa: F401 (shared fixtures)
from model_zoo.testing.sentiment import save_tiny_head

TEXT = "a good movie , not a dull plot"


def expected_weights(svc: SentimentService, text: str, head: str, **inputs) -> tuple[str, list[float]]:
    """(label, the label's probability drop without each word), each from a plain prediction."""
    full = svc.predict(text, head=head, **inputs)
    words = text.split()
    drops = []
    for k in range(len(words)):
        rest = " ".join(words[:k] + words[k + 1 :])
        drops.append(full.scores[full.label] - svc.predict(rest, head=head, **inputs).scores[full.label])
    return full.label, drops


def test_each_word_weighs_the_fall_of_the_label_without_it(service):
    result = service.predict(TEXT, head="default", attribute=True)
    assert [w.token for w in result.attributions] == TEXT.split()  # every word, in the order of the text
    label, drops = expected_weights(service, TEXT, "default")
    assert result.label == label
    assert [w.weight for w in result.attributions] == pytest.approx(drops, abs=3e-4)
    assert any(abs(d) > 1e-3 for d in drops)  # the words do matter to this head
    plain = service.predict(TEXT, head="default")
    assert result.scores == plain.scores and result.contributions == plain.contributions and not plain.attributions


def test_a_blend_of_seed_ensembles_is_attributed_as_a_whole(tiny_manager, tmp_path):
    from model_zoo.fusion.heads import blend_into

    with tiny_manager.use("minilm") as encoder:
        dims = {"text": encoder.dim, "lexicon": 4}
        both = save_tiny_head(tmp_path / "shipped" / "both", encoder, dims, tuned_layers=1, members=2, seed=7)
        part = save_tiny_head(tmp_path / "part", encoder, dims, tuned_layers=1, seed=9)
    blend_into(both, {"other": (part, 0.3)})
    svc = SentimentService(tiny_manager, HeadStore(tmp_path / "trained", tmp_path / "shipped"), precision="fp32")
    result = svc.predict(TEXT, head="both", attribute=True)
    _, drops = expected_weights(svc, TEXT, "both")
    assert [w.weight for w in result.attributions] == pytest.approx(drops, abs=3e-4)


def test_the_image_stays_while_words_are_taken_out(service, photo):
    result = service.predict("lovely fun", image=photo, head="multi", attribute=True)
    assert result.modalities == ["text", "lexicon", "image"]
    _, drops = expected_weights(service, "lovely fun", "multi", image=photo)
    assert [w.weight for w in result.attributions] == pytest.approx(drops, abs=3e-4)
    assert service.predict("", image=photo, head="multi", attribute=True).attributions == []  # no text, no words


def test_a_single_word_is_weighed_against_no_text(service):
    result = service.predict("great", head="default", attribute=True)
    [only] = result.attributions
    assert only.token == "great" and -1 <= only.weight <= 1


def test_batch_mode_attributes_like_single_predictions(service):
    texts = ["good fun", "a dull , boring plot", "the movie was not awful"]
    batch = service.predict_texts(texts, "default", attribute=True)
    for text, result in zip(texts, batch):
        single = service.predict(text, head="default", attribute=True)
        assert result.scores == single.scores
        assert [(w.token, w.weight) for w in result.attributions] == [(w.token, w.weight) for w in single.attributions]
    assert all(not r.attributions for r in service.predict_texts(texts, "default"))  # off unless asked


def test_long_texts_are_occluded_in_spans_of_words(service):
    words = [f"w{i}" for i in range(70)]
    units = attributions.word_units(" ".join(words))
    assert len(units) <= attributions.MAX_UNITS and " ".join(units).split() == words
    assert attributions.word_units("  a\tb \n c ") == ["a", "b", "c"]
    text = " ".join(["good fun"] * 40)  # 80 words
    result = service.predict(text, head="default", attribute=True)
    assert len(result.attributions) <= attributions.MAX_UNITS
    assert " ".join(w.token for w in result.attributions) == text


def test_top_units_and_deleting_them():
    weights = [attributions.WordWeight(t, w) for t, w in [("a", 0.1), ("b", -0.2), ("c", 0.5), ("d", 0.3)]]
    assert attributions.top_units(weights, 2) == [2, 3]
    assert attributions.delete_units(["a", "b", "c", "d"], [2, 3]) == "a b"


def test_the_tab_highlights_words_with_signed_scaled_weights():
    from components.sentiment import highlighted
    from model_zoo.sentiment.service import SentimentResult, WordWeight

    result = SentimentResult(label="positive", scores={}, modalities=["text"], contributions={}, head="h",
                             attributions=[WordWeight("not", -0.1), WordWeight("bad", 0.4), WordWeight("!", 0.0)])
    assert highlighted(result) == [("not ", -0.25), ("bad ", 1.0), ("! ", 0.0)]


def test_the_endpoint_returns_attributions_in_text_order(ctx):
    from gradio_client import Client

    from tests.conftest import serve_in_process

    with serve_in_process(ctx.settings.data_dir, ctx.manager) as url:
        result = Client(url, verbose=False).predict(TEXT, None, None, "default", api_name="/sentiment")
    assert [a["token"] for a in result["attributions"]] == TEXT.split()
    assert all(set(a) == {"token", "weight"} and isinstance(a["weight"], float) for a in result["attributions"])
    assert set(result["contributions"]) == {"text", "lexicon"}


@pytest.mark.slow
@pytest.mark.parametrize("head, sentence, without", [
    ("fast", "The service was terrible.", "The service was"),
    ("default", "The food was cold.", "The food was"),
])
def test_the_word_that_flips_the_label_comes_first(real_manager, tmp_path, head, sentence, without):
    svc = SentimentService(real_manager, HeadStore(tmp_path / "trained"))
    result = svc.predict(sentence, head=head, attribute=True)
    assert result.label == "negative"
    assert svc.predict(without, head=head).label == "positive"  # without its key word, it flips
    top = attributions.top_units(result.attributions, 1)[0]
    assert result.attributions[top].token == sentence.split()[-1]
    assert result.attributions[top].weight > 0.5  # p(negative) falls by more than half without it
