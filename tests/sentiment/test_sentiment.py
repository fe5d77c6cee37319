"""Sentiment service and tab: heads store, tuned text layers, masking of missing or
unavailable modalities, the image space a head was trained in, bad input, batch mode, the
shipped head, and /sentiment."""
from __future__ import annotations

import sys
import types
import wave
from pathlib import Path

import numpy as np
import pytest

from model_zoo.sentiment import service as sentiment_service
from model_zoo.core.errors import InputError, WeightsUnavailable
from model_zoo.core.manager import ManagerConfig, ModelManager
from model_zoo.sentiment.service import EmbeddingCache, HeadStore, SentimentService
from model_zoo.testing.sentiment import save_tiny_head


@pytest.fixture(scope="module")
def tiny_manager(tiny_text_encoder_dir, tiny_clip_dir, tmp_path_factory) -> ModelManager:
    return ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path_factory.mktemp("cache"), offline=True,
                                      overrides={"minilm": str(tiny_text_encoder_dir), "clip": str(tiny_clip_dir)}))


@pytest.fixture(scope="module")
def shipped(tiny_manager, tiny_clip_dir, tmp_path_factory) -> Path:
    """Stand-ins for the shipped heads, over the tiny encoder: 'default' tunes one text
    layer (like the real one); 'multi' reads text, lexicon, image and audio, its image
    encoder recorded as heads did before the label bridge (CLIP by its source)."""
    root = tmp_path_factory.mktemp("shipped-heads")
    with tiny_manager.use("minilm") as encoder:
        save_tiny_head(root / "default", encoder, {"text": encoder.dim, "lexicon": 4}, tuned_layers=1)
        save_tiny_head(root / "multi", encoder, {"text": encoder.dim, "lexicon": 4, "image": 16, "audio": encoder.dim},
                       fusion="attention", image_encoder={"model": "clip", "source": str(tiny_clip_dir), "dim": 16})
    return root


@pytest.fixture
def service(tiny_manager, shipped, tmp_path) -> SentimentService:
    return SentimentService(tiny_manager, HeadStore(tmp_path / "trained", shipped), max_chars=1000)


@pytest.fixture
def photo(tmp_path) -> str:
    from PIL import Image

    path = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(path)
    return str(path)


@pytest.fixture
def clip_wav(tmp_path) -> str:
    path = tmp_path / "clip.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(16000)
        out.writeframes((np.sin(np.arange(8000) / 5) * 3000).astype("<i2").tobytes())
    return str(path)


@pytest.fixture
def fake_speech(monkeypatch):
    """model_zoo.speech.service.transcript_of as the speech tab will provide it."""
    module = types.ModuleType("model_zoo.speech.service")
    module.transcript_of = lambda manager, path: "what a lovely film"
    monkeypatch.setitem(sys.modules, "model_zoo.speech.service", module)


def test_text_on_a_head_with_tuned_layers(service):
    result = service.predict("a good movie", head="default")
    assert result.label in ("negative", "positive")
    assert sum(result.scores.values()) == pytest.approx(1.0, abs=1e-3)
    assert result.modalities == ["text", "lexicon"]
    assert sum(result.contributions.values()) == pytest.approx(1.0, abs=1e-3)
    hits = service.cache.hits
    assert service.predict("a good movie", head="default").scores == result.scores
    assert service.cache.hits == hits + 1  # cached by content hash, not re-encoded


def test_tuned_layers_replace_only_the_top(tiny_manager):
    from model_zoo.fusion.heads import top_layer_copies

    with tiny_manager.use("minilm") as encoder:
        plain = encoder.embed_texts(["good fun", "a dull plot"])
        same = encoder.embed_texts(["good fun", "a dull plot"], top_layers=top_layer_copies(encoder, 1))
        tuned = top_layer_copies(encoder, 1)
        for p in tuned.parameters():
            p.data.add_(0.5)
        changed = encoder.embed_texts(["good fun", "a dull plot"], top_layers=tuned)
    assert np.allclose(plain, same, atol=1e-5)
    assert not np.allclose(plain, changed, atol=1e-3)
    with tiny_manager.use("minilm") as encoder:  # the shared model is untouched
        assert np.allclose(encoder.embed_texts(["good fun", "a dull plot"]), plain, atol=1e-6)


def test_a_seed_ensemble_averages_its_members(tiny_manager, tmp_path):
    """A head saved with members=2 predicts the mean of the two heads it is made of, and
    loads as one head (one name in the store)."""
    root = tmp_path / "shipped"
    with tiny_manager.use("minilm") as encoder:
        dims = {"text": encoder.dim, "lexicon": 4}
        save_tiny_head(root / "both", encoder, dims, tuned_layers=1, seed=3, members=2)
        save_tiny_head(root / "first", encoder, dims, tuned_layers=1, seed=3)
        save_tiny_head(root / "second", encoder, dims, tuned_layers=1, seed=4)
    svc = SentimentService(tiny_manager, HeadStore(tmp_path / "trained", root))
    texts = ["a good movie", "a dull plot", "fine"]
    both, first, second = (svc.predict_texts(texts, head) for head in ("both", "first", "second"))
    for b, f, s in zip(both, first, second):
        assert b.scores["positive"] == pytest.approx((f.scores["positive"] + s.scores["positive"]) / 2, abs=2e-4)
        for modality in b.contributions:
            mean = (f.contributions[modality] + s.contributions[modality]) / 2
            assert b.contributions[modality] == pytest.approx(mean, abs=2e-4)
    assert first[0].scores != second[0].scores  # the members do differ
    assert "2 seeds averaged" in svc.store.info("both").summary()
    # A single prediction agrees with batch mode.
    assert svc.predict("a good movie", head="both").scores == both[0].scores


def test_a_blend_weighs_heads_on_different_encoders(tmp_path, tiny_text_encoder_dir):
    """A blend (an MPNet ensemble with a MiniLM head in parts/, weight 0.25) answers the
    weighted mean of what the two heads answer alone, is one name in the store, says what
    it is made of, and needs both encoders."""
    from model_zoo.fusion.heads import blend_into
    from model_zoo.testing.text_encoder import save_tiny_mpnet_encoder

    overrides = {"minilm": str(tiny_text_encoder_dir), "mpnet": str(save_tiny_mpnet_encoder(tmp_path / "mpnet"))}
    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True, overrides=overrides))
    root = tmp_path / "shipped"
    with manager.use("mpnet") as mpnet, manager.use("minilm") as minilm:
        for name in ("blend", "mpnet-alone"):
            save_tiny_head(root / name, mpnet, {"text": mpnet.dim, "lexicon": 4}, tuned_layers=1, members=2,
                           text_model="mpnet")
        part = save_tiny_head(root / "minilm-alone", minilm, {"text": minilm.dim, "lexicon": 4}, tuned_layers=1)
    blend_into(root / "blend", {"minilm": (part, 0.25)})
    svc = SentimentService(manager, HeadStore(tmp_path / "trained", root), precision="fp32")
    assert svc.store.names() == ["blend", "minilm-alone", "mpnet-alone"]  # parts are not heads of their own
    texts = ["a good movie", "a dull plot", "fine"]
    blend, mpnet_alone, minilm_alone = (svc.predict_texts(texts, h) for h in ("blend", "mpnet-alone", "minilm-alone"))
    for b, m, s in zip(blend, mpnet_alone, minilm_alone):
        assert b.scores["positive"] == pytest.approx(0.75 * m.scores["positive"] + 0.25 * s.scores["positive"],
                                                     abs=2e-4)
        for modality in b.contributions:
            mean = 0.75 * m.contributions[modality] + 0.25 * s.contributions[modality]
            assert b.contributions[modality] == pytest.approx(mean, abs=2e-4)
    assert mpnet_alone[0].scores != minilm_alone[0].scores  # the parts do differ
    assert "2 seeds averaged; blended with a minilm head at weight 0.25" in svc.store.info("blend").summary()
    no_minilm = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True,
                                           overrides={**overrides, "minilm": "nobody/missing"}))
    svc = SentimentService(no_minilm, HeadStore(tmp_path / "trained", root))
    with pytest.raises(WeightsUnavailable, match="MMS_MODEL_MINILM") as info:
        svc.predict("fine", head="blend")
    assert "'mpnet-alone' works without" in str(info.value)


def test_a_blend_with_a_missing_part_says_so(tiny_manager, tmp_path):
    import shutil

    from model_zoo.fusion.heads import blend_into

    root = tmp_path / "shipped"
    with tiny_manager.use("minilm") as encoder:
        save_tiny_head(root / "blend", encoder, {"text": encoder.dim, "lexicon": 4})
        part = save_tiny_head(tmp_path / "part", encoder, {"text": encoder.dim, "lexicon": 4}, seed=1)
    blend_into(root / "blend", {"other": (part, 0.5)})
    shutil.rmtree(root / "blend" / "parts" / "other")
    svc = SentimentService(tiny_manager, HeadStore(tmp_path / "trained", root))
    with pytest.raises(InputError, match="'blend' is incomplete: its part 'other' is missing"):
        svc.predict("fine", head="blend")


def test_the_training_script_measures_what_the_service_answers(tiny_manager, tmp_path):
    """scripts/sentiment/train_default_head and benchmarks/models/sentiment score heads with
    heads.mean_text_outputs, part by part: they must agree with the service (fp32) on a
    blend whose own weights are a seed ensemble, intensity included."""
    from model_zoo.fusion.heads import blend_into
    from scripts.sentiment.train_default_head import parts_outputs

    with tiny_manager.use("minilm") as encoder:
        dims = {"text": encoder.dim, "lexicon": 4}
        both = save_tiny_head(tmp_path / "shipped" / "both", encoder, dims, tuned_layers=1, members=2, intensity=True)
        part = save_tiny_head(tmp_path / "part", encoder, dims, tuned_layers=1, seed=5, intensity=True)
    blend_into(both, {"other": (part, 0.3)})
    svc = SentimentService(tiny_manager, HeadStore(tmp_path / "trained", tmp_path / "shipped"), precision="fp32")
    texts = ["a good movie", "a dull plot", "fine"]
    results = svc.predict_texts(texts, "both")
    parts = parts_outputs(tiny_manager, both, texts)
    assert [w for w, _, _ in parts] == pytest.approx([0.7, 0.3])
    probs = sum(w * p for w, p, _ in parts)
    assert np.allclose(probs[:, 1], [r.scores["positive"] for r in results], atol=2e-4)
    intensity = sum(w * i for w, _, i in parts)
    assert np.allclose(intensity, [r.intensity for r in results], atol=2e-3)
    assert all(-4 <= r.intensity <= 4 for r in results) and len({r.intensity for r in results}) == 3


def test_a_head_without_an_intensity_output_answers_none(service):
    result = service.predict("a good movie", head="default")
    assert result.intensity is None and result.to_dict()["intensity"] is None


def test_the_intensity_bar_says_how_strong_in_words():
    from components.sentiment import intensity_bar
    from model_zoo.sentiment.service import SentimentResult

    def bar(value):
        return intensity_bar(SentimentResult("positive", {}, [], {}, "h", intensity=value))

    assert "strongly positive" in bar(3.2) and "+3.20" in bar(3.2)
    assert "mildly negative" in bar(-1.0) and "left:37.5%" in bar(-1.0)  # from the middle leftwards
    assert "barely positive" in bar(0.2)
    assert "trained without ratings" in bar(None)


def test_empty_and_huge_text(service):
    with pytest.raises(InputError, match="enter some text"):
        service.predict("   ", head="default")
    huge = "good " * 200_000 + "end"  # 1 MB
    result = service.predict(huge, head="default")
    assert any(f"{len(huge):,} characters" in n and "first 1,000 were read" in n for n in result.notes)


def test_unknown_head_names_the_ones_there(service):
    with pytest.raises(InputError, match="no head called 'nope'.*default, multi"):
        service.predict("fine", head="nope")


def test_a_head_whose_encoder_is_missing_says_so_and_the_page_starts_on_one_that_runs(tiny_manager, tmp_path,
                                                                                     tiny_text_encoder_dir):
    """The shipped default reads text with MPNet; where MPNet's pack is absent the fast
    head (MiniLM) still runs, and asking for the default says what to install."""
    root = tmp_path / "shipped"
    with tiny_manager.use("minilm") as encoder:
        save_tiny_head(root / "default", encoder, {"text": encoder.dim, "lexicon": 4}, text_model="mpnet")
        save_tiny_head(root / "fast", encoder, {"text": encoder.dim, "lexicon": 4})
    no_mpnet = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True,
                                          overrides={"minilm": str(tiny_text_encoder_dir), "mpnet": "nobody/missing"}))
    svc = SentimentService(no_mpnet, HeadStore(tmp_path / "trained", root))
    assert svc.store.names() == ["default", "fast"]
    assert svc.default_head() == "fast"
    with pytest.raises(WeightsUnavailable, match="MMS_MODEL_MPNET") as info:
        svc.predict("fine", head="default")
    assert "'fast' works without" in str(info.value)
    assert svc.predict("fine", head="fast").label in ("negative", "positive")
    assert all(s.state == "unloaded" for s in no_mpnet.status() if s.key == "mpnet")


def test_a_head_tuned_on_mpnet_runs_through_the_service(tmp_path):
    from model_zoo.testing.text_encoder import save_tiny_mpnet_encoder

    mpnet = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True,
                                       overrides={"mpnet": str(save_tiny_mpnet_encoder(tmp_path / "mpnet"))}))
    with mpnet.use("mpnet") as encoder:
        save_tiny_head(tmp_path / "shipped" / "default", encoder, {"text": encoder.dim, "lexicon": 4},
                       tuned_layers=1, text_model="mpnet")
    svc = SentimentService(mpnet, HeadStore(tmp_path / "trained", tmp_path / "shipped"), precision="bf16")
    assert svc.default_head() == "default"
    results = svc.predict_texts(["a good movie", "a dull plot"], "default")
    assert [r.head for r in results] == ["default", "default"]
    assert abs(sum(results[0].scores.values()) - 1) < 1e-3


def test_bad_image_gets_the_image_error_before_any_model_loads(shipped, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not really a jpeg")
    no_models = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True,
                                           overrides={"minilm": "nobody/missing", "clip": "nobody/missing"}))
    svc = SentimentService(no_models, HeadStore(tmp_path / "trained", shipped))
    with pytest.raises(InputError, match="broken.jpg"):
        svc.predict("nice", image=str(broken), head="multi")
    assert all(s.state == "unloaded" for s in no_models.status())


def test_image_is_masked_when_the_head_or_clip_cannot_read_it(service, shipped, photo, tmp_path, tiny_text_encoder_dir,
                                                               tiny_clip_dir):
    on_text_head = service.predict("nice", image=photo, head="default")
    assert on_text_head.modalities == ["text", "lexicon"]
    assert any("does not read images" in n for n in on_text_head.notes)
    # Without CLIP the label bridge reads images here; a head trained in CLIP's space is
    # not fed label-bridge vectors: its image is left out (decided before any model loads).
    no_clip = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True,
                                         overrides={"minilm": str(tiny_text_encoder_dir), "clip": "nobody/missing"}))
    svc = SentimentService(no_clip, HeadStore(tmp_path / "trained", shipped))
    result = svc.predict("nice", image=photo, head="multi")
    assert result.modalities == ["text", "lexicon"] and "image" not in result.contributions
    [note] = [n for n in result.notes if "image was left out" in n]
    assert f"read by CLIP [{tiny_clip_dir}]" in note and "read by the offline label bridge" in note
    assert "MMS_MODEL_CLIP" in note  # what would bring CLIP
    assert all(s.state == "unloaded" for s in no_clip.status() if s.key in ("clip", "efficientnet-lite0", "mpnet"))
    with pytest.raises(InputError, match="Nothing this head can read.*CLIP"):  # an image alone: nothing left
        svc.predict("", image=photo, head="multi")


def test_a_head_from_another_clip_space_leaves_the_image_out(service, tiny_manager, photo, tiny_clip_dir):
    """Same engine kind, another space (a head trained on another CLIP): named, left out."""
    with tiny_manager.use("minilm") as encoder:
        save_tiny_head(service.store.trained_root / "other-clip", encoder, {"text": encoder.dim, "image": 16},
                       image_encoder={"model": "clip", "kind": "clip", "space": "ViT-B-32:laion2b_s34b_b79k",
                                      "dim": 16})
    result = service.predict("nice", image=photo, head="other-clip")
    assert result.modalities == ["text"]
    [note] = [n for n in result.notes if "image was left out" in n]
    assert "[ViT-B-32:laion2b_s34b_b79k]" in note and f"[{tiny_clip_dir}]" in note


def test_the_head_reads_images_with_its_own_engine_where_it_can(tiny_manager, tiny_text_encoder_dir, tiny_clip_dir,
                                                                photo, tmp_path):
    """With CLIP here, a head trained on the label bridge still reads images through the
    bridge (when --vision is auto and the bridge can run); --vision pins one engine."""
    from model_zoo.vision import engine as vision
    from model_zoo.sentiment.inputs import image_record
    from model_zoo.testing.text_encoder import save_tiny_mpnet_encoder

    overrides = {"minilm": str(tiny_text_encoder_dir), "clip": str(tiny_clip_dir),
                 "mpnet": str(save_tiny_mpnet_encoder(tmp_path / "mpnet"))}
    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True, overrides=overrides))
    assert vision.mode(manager) == "clip"
    with vision.open_engine(manager, "labels") as bridge:
        record = image_record(bridge)
    with manager.use("minilm") as encoder:
        save_tiny_head(tmp_path / "heads" / "bridged", encoder, {"text": encoder.dim, "image": bridge.dim},
                       image_encoder=record)
    result = SentimentService(manager, HeadStore(tmp_path / "heads", tmp_path / "none")).predict(
        "nice", image=photo, head="bridged")
    assert result.modalities == ["text", "image"] and not result.notes
    pinned = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True, overrides=overrides,
                                        vision="clip"))
    result = SentimentService(pinned, HeadStore(tmp_path / "heads", tmp_path / "none")).predict(
        "nice", image=photo, head="bridged")
    assert result.modalities == ["text"]
    [note] = result.notes
    assert "images are read by CLIP (chosen with --vision clip)" in note and f"[{record['space']}]" in note
    assert all(s.state == "unloaded" for s in pinned.status() if s.key != "minilm")  # no image engine loaded


def test_the_image_space_a_card_records():
    from model_zoo.sentiment.heads import image_space_of
    from model_zoo.sentiment.inputs import image_record

    text_only = {"modalities": {"text": 384}, "encoders": {"text": {"model": "minilm"}}}
    assert image_space_of(text_only) is None
    old = {"modalities": {"image": 512}, "encoders": {"image": {"model": "clip", "source": "ViT-B-32:x", "dim": 512}}}
    assert image_space_of(old) == ("clip", "ViT-B-32:x")  # heads saved before the label bridge
    assert image_space_of({"modalities": {"image": 16}, "encoders": {}}) == ("clip", None)  # nothing recorded: any CLIP
    bridge = types.SimpleNamespace(kind="labels", name="labels:efficientnet-lite0>mpnet:v1-abc", dim=768)
    record = image_record(bridge)
    assert record == {"model": "labels", "kind": "labels", "space": bridge.name, "dim": 768}
    assert image_space_of({"modalities": {"image": 768}, "encoders": {"image": record}}) == ("labels", bridge.name)
    clip = types.SimpleNamespace(kind="clip", name="ViT-B-32:x", dim=512)
    new_clip_card = {"modalities": {"image": 512}, "encoders": {"image": image_record(clip)}}
    assert image_space_of(new_clip_card) == ("clip", clip.name)
    assert image_record(clip)["source"] == clip.name  # what older readers look for


def test_image_vectors_of_two_spaces_never_share_a_cache_entry():
    from model_zoo.sentiment.inputs import embed_images_cached

    calls = []

    def engine(name: str, value: float):
        def embed(images):
            calls.append(name)
            return np.full((len(images), 3), value, np.float32)
        return types.SimpleNamespace(name=name, embed_images=embed)

    cache = EmbeddingCache()
    first = embed_images_cached(cache, engine("clip-space", 1.0), ["img"], [b"same bytes"])
    second = embed_images_cached(cache, engine("labels:bridge", 2.0), ["img"], [b"same bytes"])
    again = embed_images_cached(cache, engine("labels:bridge", 3.0), ["img"], [b"same bytes"])
    assert calls == ["clip-space", "labels:bridge"]  # the third was a hit in its own space
    assert first[0, 0] == 1.0 and second[0, 0] == 2.0 and again[0, 0] == 2.0


def test_the_image_modality_is_missing_only_when_no_engine_can_run(tmp_path):
    """Without CLIP the label bridge reads images (nothing missing); without either, the
    banner's reason names the bridge and what to install."""
    from model_zoo.sentiment.service import image_reader, unavailable_modalities

    def manager(**overrides):
        return ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True,
                                          overrides={"clip": "nobody/missing", **overrides}))

    bridge = manager()
    assert "image" not in unavailable_modalities(bridge)
    assert image_reader(bridge).startswith("the offline label bridge")
    neither = manager(**{"efficientnet-lite0": "efficientnet-lite0:/nowhere/weights.safetensors"})
    reason = unavailable_modalities(neither)["image"]
    assert "label bridge" in reason and "cannot run here" in reason and "efficientnet-lite0" in reason


def test_image_and_text_on_a_multimodal_head(service, photo):
    result = service.predict("nice", image=photo, head="multi")
    assert result.modalities == ["text", "lexicon", "image"]
    assert set(result.contributions) == {"text", "lexicon", "image"}
    assert sum(result.contributions.values()) == pytest.approx(1.0, abs=1e-3)
    image_only = service.predict("", image=photo, head="multi")
    assert image_only.modalities == ["image"]


def test_voice_clip_through_the_transcript(service, clip_wav, fake_speech):
    as_text = service.predict("", audio=clip_wav, head="default")
    assert any("lovely film" in n for n in as_text.notes) and as_text.modalities == ["text", "lexicon"]
    as_audio = service.predict("ok", audio=clip_wav, head="multi")
    assert "audio" in as_audio.modalities


def test_voice_clip_without_speech_service_is_left_out(service, clip_wav, monkeypatch):
    monkeypatch.setitem(sys.modules, "model_zoo.speech.service", None)  # import fails
    result = service.predict("great", audio=clip_wav, head="default")
    assert any("voice clip was left out" in n for n in result.notes)


def test_a_newly_saved_head_is_listed_at_once(service, tiny_manager):
    assert "mine" not in service.store.names()
    with tiny_manager.use("minilm") as encoder:
        save_tiny_head(service.store.trained_root / "mine", encoder, {"text": encoder.dim}, fusion="late")
    assert service.store.names()[0] == "default" and "mine" in service.store.names()
    assert service.predict("fun", head="mine").modalities == ["text"]


def test_embedding_cache_is_bounded():
    cache = EmbeddingCache(max_bytes=3 * 8)  # three rows of two float32
    keys = [cache.key("ns", bytes([i])) for i in range(5)]
    cache.get_or_compute(keys, lambda missing: np.ones((len(missing), 2)))
    calls = []
    cache.get_or_compute(keys[-3:], lambda missing: calls.append(missing) or np.ones((len(missing), 2)))
    assert calls == []  # the 3 newest stayed
    cache.get_or_compute(keys[:1], lambda missing: calls.append(missing) or np.ones((len(missing), 2)))
    assert calls == [[0]]  # the oldest had gone


# -- the tab -----------------------------------------------------------------------------
@pytest.fixture
def ctx(tiny_manager, shipped, tmp_path, monkeypatch):
    from app.settings import load_settings
    from components.context import StudioContext

    monkeypatch.setattr(sentiment_service, "SHIPPED_HEADS", shipped)
    return StudioContext(tiny_manager, load_settings(["--data-dir", str(tmp_path / "data")], environ={}))


def test_batch_mode_writes_the_csv_with_predictions(ctx, tmp_path):
    import pandas as pd

    from components.sentiment import batch_predict

    source = tmp_path / "reviews.csv"
    pd.DataFrame({"id": [1, 2, 3], "review": ["good fun", "a dull plot", "lovely"]}).to_csv(source, index=False)
    out, notes, preview = batch_predict(ctx, {"path": str(source)}, "review", "default")
    frame = pd.read_csv(out)
    columns = ["id", "review", "predicted_label", "language", "declined", "p_negative", "p_positive"]
    assert list(frame.columns) == columns
    assert set(frame.language) == {"en"} and not frame.declined.any()  # English reviews: read, not declined
    assert len(frame) == 3 and set(frame.predicted_label) <= {"negative", "positive"}
    with pytest.raises(InputError, match="no column 'text'.*id, review"):
        batch_predict(ctx, {"path": str(source)}, "text", "default")
    pd.DataFrame({"text": ["fine", ""]}).to_csv(source, index=False)
    with pytest.raises(InputError, match="Row 2: the text is empty"):
        batch_predict(ctx, {"path": str(source)}, "text", "default")


def test_sentiment_endpoint_through_gradio_client(ctx):
    from gradio_client import Client

    from tests.conftest import serve_in_process

    with serve_in_process(ctx.settings.data_dir, ctx.manager) as url:
        client = Client(url, verbose=False)
        result = client.predict("a good movie", None, None, "default", api_name="/sentiment")
        assert result["head"] == "default" and result["label"] in result["scores"]
        assert set(result["contributions"]) == {"text", "lexicon"}
        with pytest.raises(Exception, match="enter some text"):
            client.predict("", None, None, "default", api_name="/sentiment")


# -- the shipped heads, real MPNet and MiniLM ---------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("head", ["default", "fast"])
def test_shipped_head_gets_obvious_sentences_right(real_manager, tmp_path, head):
    svc = SentimentService(real_manager, HeadStore(tmp_path / "trained"), precision="bf16")
    card = svc.store.card(head)
    assert card["metrics"]["movie_test"]["n"] > 1000 and card["data"]["sha256"]
    assert svc.store.info("default").accuracy > svc.store.info("fast").accuracy  # why 'default' is the default
    positive = ["A gorgeous, witty, seductive movie.", "One of the best films of the year: moving and funny.",
                "I loved every minute of it."]
    negative = ["A tedious, badly acted mess.", "The plot is paper-thin and the jokes fall flat.",
                "I wanted my two hours back."]
    results = svc.predict_texts(positive + negative, head)
    assert [r.label for r in results] == ["positive"] * 3 + ["negative"] * 3
    assert all(r.scores[r.label] > 0.6 for r in results)  # the idiom ('two hours back') is the least sure


@pytest.mark.slow
@pytest.mark.parametrize("head", ["default", "fast"])
def test_shipped_heads_say_how_strong(real_manager, tmp_path, head):
    """Intensity follows the feeling: its sign is the label's, and a rave reads stronger
    than a mild complaint, which reads weaker than an outburst."""
    svc = SentimentService(real_manager, HeadStore(tmp_path / "trained"))
    rave, mild, outburst = svc.predict_texts(["The food was delicious, the best meal I have had in years!",
                                              "The food was a bit cold.",
                                              "The service was terrible, rude and slow. Never again!"], head)
    assert [r.label for r in (rave, mild, outburst)] == ["positive", "negative", "negative"]
    assert rave.intensity > 2 and outburst.intensity < -2
    assert outburst.intensity < mild.intensity < 0


@pytest.mark.slow
def test_the_default_heads_test_accuracy_is_what_its_card_says(real_manager, tmp_path):
    """The headline figures in the shipped default's card (movie test accuracy, intensity
    MAE), measured again through the service as the app runs it (precision auto: bf16
    where native may flip a sentence or two)."""
    from scripts.sentiment.vader_data import fetch_icwsm, movie_split

    svc = SentimentService(real_manager, HeadStore(tmp_path / "trained"))
    card = svc.store.card("default")
    folder, data_sha = fetch_icwsm(tmp_path / "vader_icwsm2014")  # pip download of the sdist
    assert data_sha == card["data"]["sha256"]
    texts, ratings, y, (_, _, test) = movie_split(folder, card["data"]["split_seed"])
    results = svc.predict_texts([texts[i] for i in test], "default")
    accuracy = float(np.mean(np.array([r.label == "positive" for r in results]) == y[test].astype(bool)))
    assert accuracy == pytest.approx(card["metrics"]["accuracy"], abs=0.003)
    mae = float(np.mean(np.abs(np.array([r.intensity for r in results]) - ratings[test])))
    assert mae == pytest.approx(card["metrics"]["movie_test"]["intensity"]["mae"], abs=0.01)
    assert mae < card["metrics"]["movie_test"]["vader_intensity"]["mae"]  # better than the anchor


@pytest.mark.slow
def test_voice_clip_through_real_whisper_on_the_shipped_head(real_manager, tmp_path):
    svc = SentimentService(real_manager, HeadStore(tmp_path / "trained"))
    clip = Path(__file__).resolve().parents[2] / "assets" / "audio" / "english_quick_fox.ogg"
    result = svc.predict("", audio=str(clip), head="default")
    assert result.modalities == ["text", "lexicon"]
    assert any("read as text" in n and "fox" in n.lower() for n in result.notes)
