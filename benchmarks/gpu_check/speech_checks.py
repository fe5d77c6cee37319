"""Checks of speech: Whisper base through faster-whisper and openai-whisper, and the CT2 ->
openai-whisper conversion itself."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable

from model_zoo.core import devices
from model_zoo.speech.wer import word_error_rate

from .context import Check, Ctx
from .inputs import FOX, FOX_TEXT, GERMAN, LIBRIVOX, LIBRIVOX_TEXT, WER_MAX


# speech ------------------------------------------------------------------------------------------
def _speech(backend: str, path: Path, task: str) -> Callable[[Ctx, bool], dict]:
    def call(ctx: Ctx, fresh: bool = True) -> dict:
        from model_zoo.speech import service as speech

        result = speech.speech_translate(ctx.manager, path, task=task, language="auto", beam_size=5, backend=backend)
        return {"clip": path.name, "language": result.language, "language_probability": result.language_probability,
                "transcript": result.transcript, "translation": result.translation, "model": result.model,
                "rtf": result.timing.get("rtf"), "encoder_window_s": result.timing.get("encoder_window_s")}

    return call


def _speech_extras(backend: str) -> Callable[[Ctx], dict]:
    def extras(ctx: Ctx) -> dict:
        return {"fox": _speech(backend, FOX, "transcribe")(ctx, True),
                "german": _speech(backend, GERMAN, "both")(ctx, True)}

    return extras


def _speech_expect(out: dict) -> list[str]:
    problems = []
    wer = word_error_rate(LIBRIVOX_TEXT, out["transcript"])
    out["wer_vs_known_text"] = round(wer, 4)
    if out["language"] != "en":
        problems.append(f"LibriVox clip heard as '{out['language']}', not English")
    if wer > WER_MAX:
        problems.append(f"LibriVox transcript WER {wer:.2f} > {WER_MAX}: {out['transcript']!r}")
    return problems


def _speech_expect_extras(extra: dict) -> list[str]:
    problems = []
    fox, german = extra["fox"], extra["german"]
    fox["wer_vs_known_text"] = round(word_error_rate(FOX_TEXT, fox["transcript"]), 4)
    if fox["language"] != "en" or fox["wer_vs_known_text"] > 0.25:  # espeak's voice: looser than LibriVox
        problems.append(f"quick-fox clip: {fox['language']}, WER {fox['wer_vs_known_text']:.2f}: {fox['transcript']!r}")
    said = german["translation"].lower()
    if german["language"] != "de" or "water" not in said or "bread" not in said:
        problems.append(f"German clip: heard '{german['language']}', translated {german['translation']!r}")
    return problems


def _speech_agree(dev: dict, cpu: dict) -> tuple[list[str], dict]:
    wer = word_error_rate(cpu["transcript"], dev["transcript"])
    problems = [] if wer <= WER_MAX and dev["language"] == cpu["language"] else [
        f"transcript differs from the CPU's (WER {wer:.2f}, {dev['language']} vs {cpu['language']}): "
        f"{dev['transcript']!r} vs {cpu['transcript']!r}"]
    diff = abs(dev["language_probability"] - cpu["language_probability"])
    return problems, {"wer_vs_cpu": round(wer, 4), "language_probability_diff": round(diff, 4)}


def _speech_agree_extras(dev: dict, cpu: dict) -> tuple[list[str], dict]:
    problems, figures = [], {}
    for clip in ("fox", "german"):
        wer = word_error_rate(cpu[clip]["transcript"], dev[clip]["transcript"])
        figures[f"{clip}_wer_vs_cpu"] = round(wer, 4)
        if wer > WER_MAX or dev[clip]["language"] != cpu[clip]["language"]:
            problems.append(f"{clip} clip differs from the CPU's (WER {wer:.2f}): {dev[clip]['transcript']!r} "
                            f"vs {cpu[clip]['transcript']!r}")
    return problems, figures


def _speech_check(name: str, key: str, backend: str) -> Check:
    return Check(
        name=name, keys=(key,), what=f"speech_translate(backend={backend}, task=both, beam 5) on assets/audio",
        call=_speech(backend, LIBRIVOX, "both"), expect=_speech_expect, agree=_speech_agree,
        signature=lambda out: out["transcript"], extras=_speech_extras(backend),
        expect_extras=_speech_expect_extras, agree_extras=_speech_agree_extras,
        summary=lambda out: f"'{out['language']}', WER {out.get('wer_vs_known_text', -1):.2f} vs the known text",
        budget=True,
    )


# the conversion ---------------------------------------------------------------------------------
def _convert_load(ctx: Ctx) -> None:
    """Cold conversion into a fresh folder (the reference run reads the cache instead), then the
    converted model onto the device. Leaves the app's own cached conversion in place (copied
    from this one when missing or stale), so whisper-base-openai loads as every later process."""
    from model_zoo.core import packs
    from model_zoo.speech import ct2_whisper_convert as convert
    from model_zoo.speech import openai_whisper_backend

    cache_dir = Path(ctx.manager.config.cache_dir)
    (pack, pack_s) = ctx.timed(lambda: packs.pack_dir("whisper-base", cache_dir))
    app_cache = cache_dir / openai_whisper_backend.CONVERTED_FOLDER  # where the backend keeps its conversion
    info: dict[str, Any] = {"pack_s": round(pack_s, 3)}
    if ctx.reference:
        model = convert.converted_model(pack, app_cache, packs.WHISPER_BASE_SHA256)
    else:
        fresh = ctx.work / "converted"
        shutil.rmtree(fresh, ignore_errors=True)
        model, convert_s = ctx.timed(lambda: convert.converted_model(pack, fresh, packs.WHISPER_BASE_SHA256))
        _, cache_read_s = ctx.timed(lambda: convert.converted_model(pack, fresh, packs.WHISPER_BASE_SHA256))
        info.update(convert_s=round(convert_s, 3), cache_read_s=round(cache_read_s, 3))
        stamp = json.loads((fresh / convert.STAMP_FILE).read_text())
        info["sha256"] = stamp["sha256"]
        if _stamp_of_valid_cache(app_cache, convert) is None:  # missing or stale: install this conversion
            from model_zoo.core.storage import atomic_write_bytes, atomic_write_text

            atomic_write_bytes(app_cache / convert.WEIGHTS_FILE, (fresh / convert.WEIGHTS_FILE).read_bytes())
            atomic_write_text(app_cache / convert.STAMP_FILE, (fresh / convert.STAMP_FILE).read_text())
            info["installed_app_cache"] = True
        info["same_tensors_as_app_cache"] = _same_tensors(fresh / convert.WEIGHTS_FILE,
                                                          app_cache / convert.WEIGHTS_FILE)
    device = "cpu" if ctx.kind == "mps" else ctx.device  # as the backend: sparse ops lack MPS kernels
    model.to(device).eval()
    info["nbytes"] = devices.module_nbytes(model)
    info["runtime_dtype"] = str(next(model.parameters()).dtype).replace("torch.", "")
    ctx.state["ct2-convert"] = (model, device, info)


def _same_tensors(a: Path, b: Path) -> bool:
    """Two conversions hold the same tensors (their bytes may differ: safetensors writes the
    header's metadata in no fixed order)."""
    from safetensors.torch import load_file

    first, second = load_file(str(a)), load_file(str(b))
    return first.keys() == second.keys() and all(
        first[k].dtype == second[k].dtype and bool((first[k] == second[k]).all()) for k in first)


def _stamp_of_valid_cache(folder: Path, convert: Any) -> dict | None:
    """The stamp of a cached conversion the backend would use as it is (same converter, same
    source, intact bytes), else None."""
    from model_zoo.core import packs
    from model_zoo.core.storage import sha256_file

    try:
        stamp = json.loads((folder / convert.STAMP_FILE).read_text())
        intact = sha256_file(folder / convert.WEIGHTS_FILE) == stamp.get("sha256")
    except (OSError, ValueError):
        return None
    current = (stamp.get("converter_version") == convert.CONVERTER_VERSION
               and stamp.get("source_sha256") == packs.WHISPER_BASE_SHA256)
    return stamp if intact and current else None


def _convert_call(ctx: Ctx, fresh: bool = True) -> dict:
    import torch
    import whisper

    from model_zoo.speech import service as speech

    model, device, info = ctx.state["ct2-convert"]
    audio = speech.load_clip(LIBRIVOX, 30)
    mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio), model.dims.n_mels).to(device)
    with torch.inference_mode():
        _, probs = model.detect_language(mel)
    code = max(probs, key=probs.get)
    return {"language": code, "language_probability": round(float(probs[code]), 4),
            **{k: v for k, v in info.items() if k != "nbytes"}}


def _convert_expect(out: dict) -> list[str]:
    problems = []
    if out["language"] != "en" or out["language_probability"] < 0.8:
        problems.append(f"the converted model hears the LibriVox clip as '{out['language']}' "
                        f"(p {out['language_probability']:.2f})")
    if out.get("same_tensors_as_app_cache") is False:
        problems.append("a fresh conversion holds other tensors than the app's cached one (same source and converter)")
    return problems


def _convert_agree(dev: dict, cpu: dict) -> tuple[list[str], dict]:
    diff = abs(dev["language_probability"] - cpu["language_probability"])
    problems = [] if dev["language"] == cpu["language"] and diff <= 0.02 else [
        f"language {dev['language']} p {dev['language_probability']:.3f} vs the CPU's {cpu['language']} "
        f"p {cpu['language_probability']:.3f}"]
    return problems, {"language_probability_diff": round(diff, 4)}


CONVERT = Check(
    name="ct2-convert", keys=(), what="ct2_whisper_convert.converted_model (cold), then detect_language on the device",
    load=_convert_load, call=_convert_call, expect=_convert_expect, agree=_convert_agree,
    signature=lambda out: out["language"],
    summary=lambda out: (f"convert {out.get('convert_s', 0):.1f} s, cache read {out.get('cache_read_s', 0):.1f} s, "
                         f"'{out['language']}' p {out['language_probability']:.2f}"),
)
