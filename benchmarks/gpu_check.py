"""GPU proof in one prepared script: every model whose weights ship offline, loaded through
the ModelManager on one device, called the way its tab calls it, timed, sized and checked.

    python -m benchmarks.gpu_check [--device cuda|cpu|auto] [--out DIR] [--models a,b ...]

Models (`--models`, comma- or space-separated; default all):
  whisper-base         Whisper base via faster-whisper (CTranslate2): speech_translate on assets/audio
  ct2-convert          the CT2 -> openai-whisper conversion itself (cold, into a fresh folder), then
                       language detection with the converted model on the device
  whisper-base-openai  Whisper base via openai-whisper (converted from the CT2 pack): speech_translate
  minilm               MiniLM: the Sentiment tab's fast head (SentimentService.predict, attributions on)
  mpnet                MPNet: text vectors as Search's text queries and the label bridge embed them
  sentiment-default    the default sentiment head (MPNet + its tuned layers, MiniLM blend, VADER)
  efficientnet-lite0   EfficientNet-Lite0: the Captioning tab offline (label-based captions)
  label-bridge         the image engine offline (EfficientNet-Lite0 + MPNet): Search's indexing
                       vectors, a text query over them, and zero-shot classify
  tiny-diffusion       the Imagine tab on a tiny random diffusers pipeline built by tests/tiny
                       (save_pretrained, loaded like a real one): 1 step, 64x64
Aliases: "label bridge", "tiny diffusion", "diffusion", "openai-whisper", "whisper", ...

For each model one line: device, dtype (the manager's, from the registry's device policy),
load s, first call s, warm call s, resident MB (the manager's accounting; on CUDA also the
torch allocator's peak), and the output checked. On CUDA the same calls also run on the CPU
in this process and the device's answers are checked against them (same transcript within
WER 0.1, same label, image and text vectors within a cosine tolerance, diffusion pixels
within 4/255 on average), besides the fixed expectations; on the CPU the fixed expectations
alone (the LibriVox clip's known text within WER 0.1 with model_zoo.speech.wer, espresso
for the coffee photo, positive / negative for clear sentences, ...). Then:
  budget  a second manager with a tight budget over two single-model checks (the larger fits
          alone, the two do not fit together) runs their calls in turn, then both at once:
          models are evicted, nothing crashes, the answers stay the same;
  soak    a few threads call sentiment (other sentences), captions and the label bridge at
          once on the warm manager, sharing its service and caches as the app does.
`--reference` runs the CPU comparison on the CPU too (a second manager): it exercises the
comparison code a GPU run depends on; `--no-reference` skips it on a GPU.
The last line is exactly `gpu check: N of M models ran on DEVICE` (N: loaded and called on
DEVICE without an error; a failed output check still counts as ran and is shown on its
line). Exit code 0 when every selected model ran and passed and budget and soak passed,
else 1. Every figure goes to DIR/gpu_check.json (DIR: --out, default a fresh temp dir).

CUDA specifics: fp16 where the registry says so (checked against what actually runs:
parameter dtype, CTranslate2 compute type, openai-whisper's fp16 decoding over fp32
weights); torch.cuda.synchronize() around every timing; the peak of
torch.cuda.max_memory_allocated per model and overall, the driver's used memory
(mem_get_info: CTranslate2 allocates outside torch); empty_cache between phases.
faster-whisper's compute type is whatever the backend chooses (float16 on CUDA).

On a lent GPU machine (the `device` tool's `run`; no network there, Python 3.12 with its
own torch and transformers): the packages it lacks travel as wheels in an ignored `.whl/`
(device README: `pip download --no-deps --only-binary=:all: --python-version 3.12 ...`;
openai-whisper has no wheel: `pip wheel --no-deps openai-whisper==20250625 -w .whl`), and
one line runs it, with `carry: [".whl"]` and timeout_s 600 (it aims at under 5 minutes):

    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl && PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1 python3 -m benchmarks.gpu_check --device cuda --out $OUT --cache-dir /tmp/mms-cache

What stands in the way today (sizes estimated here from the installed files):
  - a call carries at most 64 MiB, the tracked tree included, and the tree alone is ~76 MiB
    (assets/heads ~68 MiB): every call from this checkout is refused until it shrinks (fp16
    heads, model_zoo.fusion.heads.save_half, would save ~34 MiB);
  - the missing code wheels are ~115 MiB (ctranslate2 ~41, av ~34, faiss-cpu ~18, diffusers
    ~17, the rest ~5) and the weight packs ~610 MiB: efficientnet-lite0 ~17, but MiniLM ~80,
    Whisper part 1 ~82 (part 2 ~46) and each MPNet part ~90 are over 64 MiB alone. So the
    whole set needs the packs split and staged over several back-to-back calls to one warm
    machine (ignored paths stay between calls; it is given back after 30 s idle), or a
    subset per visit (`--models efficientnet-lite0,tiny-diffusion` needs ~36 MiB of wheels);
  - its CUDA is 13, and PyPI's ctranslate2 loads libcublas.so.12: faster-whisper on CUDA
    should fail there at its first call (its line says so) unless cuBLAS 12 travels too;
    openai-whisper runs on torch's own CUDA.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import logging
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # tests.tiny builds the tiny diffusion pipeline
    sys.path.insert(0, str(REPO))

from model_zoo.core import devices  # noqa: E402
from model_zoo.core.manager import MB, ManagerConfig, ModelManager  # noqa: E402
from model_zoo.speech.wer import word_error_rate  # noqa: E402

AUDIO = REPO / "assets" / "audio"
GALLERY = REPO / "assets" / "gallery"
LIBRIVOX = AUDIO / "librivox_sense_and_sensibility.ogg"
FOX = AUDIO / "english_quick_fox.ogg"
GERMAN = AUDIO / "german_water_bread.ogg"
LIBRIVOX_TEXT = ("and mister john dashwood had then leisure to consider how much there might be "
                 "prudently in his power to do for them")
FOX_TEXT = ("The quick brown fox jumps over the lazy dog. I would like a glass of water and a piece "
            "of bread, please.")
POSITIVE = "An utterly charming, heartfelt story that stays with you long after the credits."
NEGATIVE = "The battery died after two days. Total waste of money."
# Other sentences for the soak, so it encodes rather than hits the shared embedding cache.
SOAK_TEXTS = (("A gorgeous, witty, seductive movie.", "positive"),
              ("The plot is paper-thin and the jokes land with a thud.", "negative"),
              ("Best coffee in town, and the staff are lovely!", "positive"),
              ("I would not recommend this hotel to anyone.", "negative"))
SENTENCES = ("A cat is sleeping on the sofa.", "A kitten naps on a couch.", "The rocket lifted off at dawn.")
BRIDGE_PHOTOS = ("cat.jpg", "coffee.jpg", "rocket.jpg")
BRIDGE_QUERIES = {"a photo of a cat": "cat.jpg", "a cup of coffee": "coffee.jpg", "a rocket launch": "rocket.jpg"}
CLASSIFY_LABELS = "espresso, cat, rocket, horse"
PROMPT = "a red cat on the sea"

WER_MAX = 0.1  # a transcript against its known text, and a device's transcript against the CPU's
TEXT_COS_MIN = 0.999  # a text vector on the device against the CPU's (fp16 vs fp32)
IMAGE_COS_MIN = 0.99  # an image vector (ConSE and visual features) on the device against the CPU's
SCORE_DIFF_MAX = 0.05  # a probability on the device against the CPU's (fp16 vs bf16/fp32)
PIXEL_DIFF_MAX = 4.0  # mean |difference| of a generated image's pixels (0-255) against the CPU's

ALIASES = {
    "whisper": "whisper-base", "faster-whisper": "whisper-base", "whisper-base": "whisper-base",
    "openai-whisper": "whisper-base-openai", "whisper-openai": "whisper-base-openai",
    "whisper-base-openai": "whisper-base-openai",
    "ct2-convert": "ct2-convert", "conversion": "ct2-convert", "convert": "ct2-convert", "ct2": "ct2-convert",
    "minilm": "minilm", "mpnet": "mpnet",
    "sentiment": "sentiment-default", "sentiment-default": "sentiment-default", "default-head": "sentiment-default",
    "efficientnet": "efficientnet-lite0", "efficientnet-lite0": "efficientnet-lite0",
    "label-bridge": "label-bridge", "bridge": "label-bridge", "labels": "label-bridge",
    "tiny-diffusion": "tiny-diffusion", "diffusion": "tiny-diffusion", "imagine": "tiny-diffusion",
}


# -- where the calls run -----------------------------------------------------------------------
class Ctx:
    """One manager on one device and what the tabs build over it (the sentiment service)."""

    def __init__(self, device: str, cache_dir: Path, work: Path, overrides: dict[str, str],
                 budget_mb: dict[str, float] | None = None, reference: bool = False,
                 precision: str = "auto") -> None:
        kind = devices.device_kind(device)
        config = ManagerConfig(device=device, cache_dir=cache_dir, offline=True, overrides=overrides, vision="labels",
                               budget_mb=budget_mb or {kind: 1 << 20})
        self.manager = ModelManager(config)
        self.device = self.manager.device
        self.kind = kind
        self.work = work
        self.reference = reference
        self.precision = precision  # the sentiment service's (settings.sentiment_precision: auto by default)
        self.state: dict[str, Any] = {}  # per-check handles (the converted model)
        self._sentiment = None
        self._lock = threading.Lock()

    @property
    def sentiment(self):
        """The tab's service (components.sentiment.service builds the same over its manager)."""
        with self._lock:
            if self._sentiment is None:
                from model_zoo.sentiment.heads import SHIPPED_HEADS, HeadStore
                from model_zoo.sentiment.service import SentimentService

                self._sentiment = SentimentService(self.manager, HeadStore(self.work / "heads", SHIPPED_HEADS),
                                                   precision=self.precision)
            return self._sentiment

    def sync(self) -> None:
        if self.kind == "cuda":
            import torch

            torch.cuda.synchronize()

    def timed(self, fn: Callable[[], Any]) -> tuple[Any, float]:
        self.sync()
        started = time.perf_counter()
        out = fn()
        self.sync()
        return out, time.perf_counter() - started

    def close(self) -> None:
        """Drop every resident model (and the converted one) and give the memory back."""
        self.state.clear()
        self._sentiment = None
        for key in self.manager.status_keys():
            self.manager.unload(key)
        devices.release_memory(self.device)


# -- the checks ------------------------------------------------------------------------------------
@dataclass
class Check:
    name: str
    keys: tuple[str, ...]  # registry keys it loads through the manager
    what: str  # the tab call, in words
    call: Callable[[Ctx, bool], dict]  # (ctx, fresh caches) -> output; "_"-keys stay out of the JSON
    expect: Callable[[dict], list[str]]  # problems against fixed expectations
    agree: Callable[[dict, dict], tuple[list[str], dict]]  # (device, cpu) -> problems, figures
    signature: Callable[[dict], Any]  # what must not change between calls (label, transcript, ...)
    summary: Callable[[dict], str]
    extras: Callable[[Ctx], dict] | None = None  # more inputs, timed once, checked by expect_extras
    expect_extras: Callable[[dict], list[str]] = lambda out: []
    agree_extras: Callable[[dict, dict], tuple[list[str], dict]] = lambda dev, cpu: ([], {})
    load: Callable[[Ctx], None] | None = None  # instead of the manager's preload (ct2-convert)
    soak: tuple[tuple[Callable[[Ctx, bool], dict], Callable[[dict], bool]], ...] = ()  # (call, right?) for the soak
    budget: bool = False  # may take part in the tight-budget phase (one key, cheap to reload)


def _cos_rows(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    num = (a * b).sum(axis=1)
    den = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return float(np.min(num / np.maximum(den, 1e-12)))


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


# sentiment --------------------------------------------------------------------------------------
def _sentiment(head: str, text: str) -> Callable[[Ctx, bool], dict]:
    def call(ctx: Ctx, fresh: bool = True) -> dict:
        from model_zoo.sentiment.inputs import EmbeddingCache

        svc = ctx.sentiment
        if fresh:  # each timed call encodes again, as a new sentence would
            svc.inputs.cache = EmbeddingCache()
        result = svc.predict(text, None, None, head, attribute=True)
        top = sorted(result.attributions, key=lambda w: -abs(w.weight))[:3]
        return {"text": text, "label": result.label, "scores": result.scores, "intensity": result.intensity,
                "top_words": [w.token for w in top], "head": result.head, "precision": svc.precision}

    return call


def _sentiment_expect(expected: str) -> Callable[[dict], list[str]]:
    def expect(out: dict) -> list[str]:
        return [] if out["label"] == expected else [f"{out['text']!r} read as {out['label']}, expected {expected}"]

    return expect


def _sentiment_agree(dev: dict, cpu: dict) -> tuple[list[str], dict]:
    diff = max(abs(dev["scores"][k] - cpu["scores"][k]) for k in cpu["scores"])
    problems = []
    if dev["label"] != cpu["label"] or diff > SCORE_DIFF_MAX:
        problems.append(f"{dev['label']} {dev['scores']} vs the CPU's {cpu['label']} {cpu['scores']}")
    figures = {"max_score_diff": round(diff, 4)}
    if dev.get("intensity") is not None and cpu.get("intensity") is not None:
        figures["intensity_diff"] = round(abs(dev["intensity"] - cpu["intensity"]), 4)
    return problems, figures


def _sentiment_check(name: str, keys: tuple[str, ...], head: str, budget: bool) -> Check:
    def extras(ctx: Ctx) -> dict:
        return {"negative": _sentiment(head, NEGATIVE)(ctx, True)}

    def expect_extras(extra: dict) -> list[str]:
        return _sentiment_expect("negative")(extra["negative"])

    def agree_extras(dev: dict, cpu: dict) -> tuple[list[str], dict]:
        problems, figures = _sentiment_agree(dev["negative"], cpu["negative"])
        return problems, {f"negative_{k}": v for k, v in figures.items()}

    return Check(
        name=name, keys=keys, what=f"SentimentService.predict(head={head}, attribute=True)",
        call=_sentiment(head, POSITIVE), expect=_sentiment_expect("positive"), agree=_sentiment_agree,
        signature=lambda out: out["label"], extras=extras, expect_extras=expect_extras, agree_extras=agree_extras,
        summary=lambda out: f"{out['label']} {max(out['scores'].values()):.2f} (text at {out['precision']})",
        soak=tuple((_sentiment(head, text), lambda out, want=label: out["label"] == want)
                   for text, label in SOAK_TEXTS),
        budget=budget,
    )


# text vectors ------------------------------------------------------------------------------------
def _mpnet_call(ctx: Ctx, fresh: bool = True) -> dict:
    with ctx.manager.use("mpnet") as encoder:
        vectors = encoder.embed_texts(list(SENTENCES))
    sims = vectors @ vectors.T
    return {"dim": int(vectors.shape[1]), "norms": [round(float(n), 4) for n in np.linalg.norm(vectors, axis=1)],
            "cat_kitten": round(float(sims[0, 1]), 4), "cat_rocket": round(float(sims[0, 2]), 4), "_vectors": vectors}


def _mpnet_expect(out: dict) -> list[str]:
    problems = []
    if out["dim"] != 768 or any(abs(n - 1) > 1e-3 for n in out["norms"]):
        problems.append(f"vectors of dim {out['dim']}, norms {out['norms']} (768, unit expected)")
    if not out["cat_kitten"] > out["cat_rocket"] + 0.2:
        problems.append(f"cat~kitten {out['cat_kitten']} is not well above cat~rocket {out['cat_rocket']}")
    return problems


def _vectors_agree(key: str, minimum: float) -> Callable[[dict, dict], tuple[list[str], dict]]:
    def agree(dev: dict, cpu: dict) -> tuple[list[str], dict]:
        cos = _cos_rows(dev[key], cpu[key])
        problems = [] if cos >= minimum else [f"vectors off the CPU's: cosine {cos:.4f} < {minimum}"]
        return problems, {"min_cos": round(cos, 5)}

    return agree


MPNET = Check(
    name="mpnet", keys=("mpnet",), what="encoder.embed_texts (Search's text query, the label bridge's text side)",
    call=_mpnet_call, expect=_mpnet_expect, agree=_vectors_agree("_vectors", TEXT_COS_MIN),
    signature=lambda out: (out["dim"], round(out["cat_kitten"], 2)),
    summary=lambda out: f"cat~kitten {out['cat_kitten']:.2f} > cat~rocket {out['cat_rocket']:.2f}",
    budget=True,
)


# vision -----------------------------------------------------------------------------------------
def _caption(photo: str) -> Callable[[Ctx, bool], dict]:
    def call(ctx: Ctx, fresh: bool = True) -> dict:
        from model_zoo.vision import captioning

        result = captioning.caption_image(ctx.manager, GALLERY / photo, captioning.CaptionOptions(num_candidates=3))
        return {"photo": photo, "caption": result.caption, "captions_from": result.captions_from,
                "candidates": [[c.text, c.probability] for c in result.candidates], "model": result.model}

    return call


def _caption_expect(word: str) -> Callable[[dict], list[str]]:
    def expect(out: dict) -> list[str]:
        problems = [] if word in out["caption"].lower() else [
            f"{out['photo']} captioned {out['caption']!r} (no '{word}')"]
        if out["captions_from"] != "labels":
            problems.append(f"captions came from {out['captions_from']}, not EfficientNet's labels")
        return problems

    return expect


def _caption_agree(dev: dict, cpu: dict) -> tuple[list[str], dict]:
    diff = abs(dev["candidates"][0][1] - cpu["candidates"][0][1])
    problems = [] if dev["caption"] == cpu["caption"] and diff <= SCORE_DIFF_MAX else [
        f"{dev['caption']!r} ({dev['candidates'][0][1]}) vs the CPU's {cpu['caption']!r} ({cpu['candidates'][0][1]})"]
    return problems, {"top_probability_diff": round(diff, 4)}


def _efficientnet_check() -> Check:
    def extras(ctx: Ctx) -> dict:
        return {"coffee": _caption("coffee.jpg")(ctx, True)}

    def agree_extras(dev: dict, cpu: dict) -> tuple[list[str], dict]:
        problems, figures = _caption_agree(dev["coffee"], cpu["coffee"])
        return problems, {f"coffee_{k}": v for k, v in figures.items()}

    return Check(
        name="efficientnet-lite0", keys=("efficientnet-lite0",), what="captioning.caption_image (label-based, offline)",
        call=_caption("cat.jpg"), expect=_caption_expect("cat"), agree=_caption_agree,
        signature=lambda out: out["caption"], extras=extras,
        expect_extras=lambda extra: _caption_expect("espresso")(extra["coffee"]), agree_extras=agree_extras,
        summary=lambda out: f"{out['caption']!r} {out['candidates'][0][1]:.2f}",
        soak=((_caption("cat.jpg"), lambda out: not _caption_expect("cat")(out)),
              (_caption("coffee.jpg"), lambda out: not _caption_expect("espresso")(out))),
        budget=True,
    )


def _bridge_call(ctx: Ctx, fresh: bool = True) -> dict:
    from model_zoo.vision import engine as vision
    from model_zoo.vision import search

    embedded = search.embed_sources(ctx.manager, [search.Source(p, GALLERY / p) for p in BRIDGE_PHOTOS], None)
    classified = search.classify(ctx.manager, GALLERY / "coffee.jpg", CLASSIFY_LABELS)
    with vision.open_engine(ctx.manager, "labels") as engine:
        queries = engine.embed_texts(list(BRIDGE_QUERIES))
    names = [item.name for item in embedded.items]
    best = {query: names[int(i)] for query, i in zip(BRIDGE_QUERIES, np.argmax(queries @ embedded.vectors.T, axis=1))}
    return {"engine": classified.engine, "model": classified.model, "classify": classified.scores,
            "classify_top": next(iter(classified.scores)), "query_best": best,
            "_semantic": embedded.vectors, "_visual": embedded.visual}


def _bridge_expect(out: dict) -> list[str]:
    problems = []
    if out["engine"] != "labels":
        problems.append(f"answered by the {out['engine']} engine, not the label bridge")
    if out["classify_top"] != "espresso":
        problems.append(f"coffee.jpg classified as {out['classify_top']} ({out['classify']})")
    wrong = {q: got for q, got in out["query_best"].items() if got != BRIDGE_QUERIES[q]}
    if wrong:
        problems.append(f"text queries found the wrong photo: {wrong}")
    return problems


def _bridge_agree(dev: dict, cpu: dict) -> tuple[list[str], dict]:
    semantic, visual = _cos_rows(dev["_semantic"], cpu["_semantic"]), _cos_rows(dev["_visual"], cpu["_visual"])
    diff = max(abs(dev["classify"][k] - cpu["classify"][k]) for k in cpu["classify"])
    problems = []
    if min(semantic, visual) < IMAGE_COS_MIN:
        problems.append(f"image vectors off the CPU's: cosine {semantic:.4f} (ConSE), {visual:.4f} (visual)")
    if dev["classify_top"] != cpu["classify_top"] or diff > SCORE_DIFF_MAX:
        problems.append(f"classify {dev['classify']} vs the CPU's {cpu['classify']}")
    return problems, {"min_cos_semantic": round(semantic, 5), "min_cos_visual": round(visual, 5),
                      "max_classify_diff": round(diff, 4)}


BRIDGE = Check(
    name="label-bridge", keys=("efficientnet-lite0", "mpnet"),
    what="search.embed_sources + a text query + search.classify (the label bridge)",
    call=_bridge_call, expect=_bridge_expect, agree=_bridge_agree,
    signature=lambda out: (out["classify_top"], tuple(sorted(out["query_best"].items()))),
    summary=lambda out: f"coffee -> {out['classify_top']} {out['classify'][out['classify_top']]:.2f}, "
                        f"{sum(g == BRIDGE_QUERIES[q] for q, g in out['query_best'].items())}/3 queries right",
    soak=((_bridge_call, lambda out: not _bridge_expect(out)),),
)


# imagine ----------------------------------------------------------------------------------------
def _imagine_call(ctx: Ctx, fresh: bool = True) -> dict:
    from PIL import Image

    from model_zoo.imagine import service as imagine

    out_dir = ctx.work / ("imagine-cpu" if ctx.reference else "imagine")
    result = imagine.generate(ctx.manager, imagine.ImagineRequest(PROMPT, steps=1, seed=7, width=64, height=64),
                              out_dir)
    with Image.open(result.files[0]) as image:
        pixels = np.asarray(image.convert("RGB"), dtype=np.float32)
    return {"size": list(pixels.shape[1::-1]), "mean": round(float(pixels.mean()), 3),
            "std": round(float(pixels.std()), 3), "finite": bool(np.isfinite(pixels).all()),
            "steps_run": result.timing["steps_run"], "device": result.device, "file": str(result.files[0]),
            "_pixels": pixels}


def _imagine_expect(out: dict) -> list[str]:
    problems = []
    if out["size"] != [64, 64] or out["steps_run"] != 1:
        problems.append(f"image {out['size']} after {out['steps_run']} step(s), 64x64 after 1 expected")
    if not out["finite"] or out["std"] < 1.0:
        problems.append(f"a flat or broken image (mean {out['mean']}, std {out['std']})")
    return problems


def _imagine_agree(dev: dict, cpu: dict) -> tuple[list[str], dict]:
    diff = float(np.abs(dev["_pixels"] - cpu["_pixels"]).mean())
    return ([] if diff <= PIXEL_DIFF_MAX else [f"pixels {diff:.2f}/255 off the CPU's on average"]), \
        {"mean_abs_pixel_diff": round(diff, 3)}


def _imagine_signature(out: dict) -> Any:
    return hash(out["_pixels"].tobytes())  # same seed, same device: the same pixels (the tab's rule)


DIFFUSION = Check(
    name="tiny-diffusion", keys=("diffusion",), what="imagine.generate (1 step, 64x64, seed 7)",
    call=_imagine_call, expect=_imagine_expect, agree=_imagine_agree, signature=_imagine_signature,
    summary=lambda out: f"{out['size'][0]}x{out['size'][1]} PNG, mean {out['mean']:.0f} std {out['std']:.0f}",
    budget=True,
)


def all_checks() -> list[Check]:
    return [
        _speech_check("whisper-base", "whisper-base", "faster-whisper"),
        CONVERT,
        _speech_check("whisper-base-openai", "whisper-base-openai", "openai-whisper"),
        _sentiment_check("minilm", ("minilm",), "fast", budget=True),
        MPNET,
        _sentiment_check("sentiment-default", ("mpnet", "minilm"), "default", budget=False),
        _efficientnet_check(),
        BRIDGE,
        DIFFUSION,
    ]


def select(names: list[str] | None) -> list[Check]:
    checks = all_checks()
    if not names:
        return checks
    wanted: list[str] = []
    tokens = [t.strip() for chunk in names for t in chunk.split(",") if t.strip()]
    for token in tokens:
        key = ALIASES.get(token.lower().replace(" ", "-").replace("_", "-"))
        if key is None:
            raise SystemExit(f"unknown model '{token}': one of {', '.join(c.name for c in checks)}")
        if key not in wanted:
            wanted.append(key)
    return [c for c in checks if c.name in wanted]


# -- figures ---------------------------------------------------------------------------------------
def runtime_dtype(model: Any) -> str:
    """What actually runs (not what the policy says): CTranslate2's compute type, openai-whisper's
    decoding precision over its weights, a torch model's parameters, a pipeline's UNet."""
    if hasattr(model, "compute_type"):
        return str(model.compute_type)
    inner = getattr(model, "model", None)
    if hasattr(model, "fp16") and inner is not None:  # openai-whisper: fp32 weights, fp16 decoding on CUDA
        weights = str(next(inner.parameters()).dtype).replace("torch.", "")
        return f"{'float16' if model.fp16 else 'float32'} decoding, {weights} weights"
    if hasattr(model, "text2image"):
        return str(model.text2image.unet.dtype).replace("torch.", "")
    if hasattr(model, "dtype") and not callable(model.dtype):
        return str(model.dtype).replace("torch.", "")
    if inner is not None and hasattr(inner, "parameters"):
        return str(next(inner.parameters()).dtype).replace("torch.", "")
    return "?"


def policy_problems(ctx: Ctx, keys: tuple[str, ...], runtime: dict[str, str]) -> list[str]:
    """fp16 where the registry's device policy says so: is that what runs?"""
    problems = []
    for key in keys:
        wanted = ctx.manager.spec(key).dtype_for(ctx.device)
        got = runtime.get(key, "")
        if wanted == "float16" and "float16" not in got:
            problems.append(f"{key}: the policy says float16 on {ctx.device}, {got} runs")
        if wanted == "int8" and "int8" not in got:
            problems.append(f"{key}: the policy says int8 on {ctx.device}, {got} runs")
    return problems


class CudaMemory:
    """torch's allocator peak and the driver's view (CTranslate2 allocates outside torch)."""

    def __init__(self, ctx: Ctx) -> None:
        self.on = ctx.kind == "cuda"
        if self.on:
            import torch

            self.torch = torch

    def start(self) -> dict:
        if not self.on:
            return {}
        self.torch.cuda.synchronize()
        self.torch.cuda.reset_peak_memory_stats()
        return {"allocated_before_mb": round(self.torch.cuda.memory_allocated() / MB, 1)}

    def stop(self, before: dict) -> dict:
        if not self.on:
            return {}
        self.torch.cuda.synchronize()
        free, total = self.torch.cuda.mem_get_info()
        peak = self.torch.cuda.max_memory_allocated() / MB
        return {**before, "max_allocated_mb": round(peak, 1),
                "peak_over_before_mb": round(peak - before["allocated_before_mb"], 1),
                "allocated_after_mb": round(self.torch.cuda.memory_allocated() / MB, 1),
                "driver_used_mb": round((total - free) / MB, 1)}


def public(out: Any) -> Any:
    """The JSON-able part of an output: '_' keys (vectors, pixels) left out."""
    if isinstance(out, dict):
        return {k: public(v) for k, v in out.items() if not str(k).startswith("_")}
    if isinstance(out, (list, tuple)):
        return [public(v) for v in out]
    if isinstance(out, (np.floating, np.integer)):
        return out.item()
    return out


# -- one model ---------------------------------------------------------------------------------------
def import_backends(ctx: Ctx, check: Check) -> float:
    """Import the libraries first, so load s is the load itself (torch, transformers,
    CTranslate2 and diffusers imports are paid once per process, whichever model comes first)."""
    from model_zoo.core.backends import LOADERS

    modules = [LOADERS[ctx.manager.spec(key).family] for key in check.keys]
    modules += {"whisper-base": ["model_zoo.speech.service"],
                "whisper-base-openai": ["model_zoo.speech.service", "whisper"],
                "ct2-convert": ["model_zoo.speech.ct2_whisper_convert", "model_zoo.speech.service", "whisper"],
                "minilm": ["model_zoo.sentiment.service"], "sentiment-default": ["model_zoo.sentiment.service"],
                "efficientnet-lite0": ["model_zoo.vision.captioning"], "label-bridge": ["model_zoo.vision.search"],
                "tiny-diffusion": ["model_zoo.imagine.service"]}.get(check.name, [])
    started = time.perf_counter()
    for module in modules:
        importlib.import_module(module)
    if check.name == "tiny-diffusion":  # its loading bars would break the one-line-per-model report
        from diffusers.utils import logging as diffusers_logging

        diffusers_logging.disable_progress_bar()
    return time.perf_counter() - started


def run_check(ctx: Ctx, check: Check) -> dict:
    """Load, call twice (first, warm), call on the extra inputs, check. `ran`: the first call
    answered on this manager's device; any later failure is one of the row's problems."""
    row: dict[str, Any] = {"name": check.name, "keys": list(check.keys), "what": check.what, "device": None,
                           "dtype": None, "ran": False, "ok": False, "problems": [], "error": None}
    memory = CudaMemory(ctx)
    before = memory.start()
    loaded = False
    try:
        row["import_s"] = round(import_backends(ctx, check), 3)
        row["already_resident"] = sorted(k for k in check.keys if _state(ctx, k) == "loaded")
        if check.load is not None:
            _, load_s = ctx.timed(lambda: check.load(ctx))
        else:
            _, load_s = ctx.timed(lambda: ctx.manager.preload(list(check.keys)))
        loaded = True
        row["load_s"] = round(load_s, 3)
        row["loaded_mb"] = round(sum(s.bytes for s in ctx.manager.status() if s.key in check.keys) / MB, 1)
        first, first_s = ctx.timed(lambda: check.call(ctx, True))
        row.update(ran=True, first_s=round(first_s, 3), output=first)
        row["problems"] += check.expect(first)
        if not ctx.reference:  # the CPU reference needs the answers, not the warm timing
            warm, warm_s = ctx.timed(lambda: check.call(ctx, True))
            row.update(warm_s=round(warm_s, 3), warm_output=warm)
            if check.signature(warm) != check.signature(first):
                row["problems"].append("the warm call answered differently from the first")
        if check.extras is not None:
            extra, extras_s = ctx.timed(lambda: check.extras(ctx))
            row.update(extras_s=round(extras_s, 3), extras=extra)
            row["problems"] += check.expect_extras(extra)
    except Exception as exc:  # noqa: BLE001 - one model's failure is a line of the report, not the end
        row["error"] = f"{type(exc).__name__}: {exc}"
        row["traceback"] = traceback.format_exc(limit=8)
        if row["ran"]:
            row["problems"].append(row["error"])
    if loaded:
        try:
            describe_device(ctx, check, row)
            row["problems"] += policy_problems(ctx, check.keys, row.get("runtime_dtypes", {})) if row["ran"] else []
        except Exception as exc:  # noqa: BLE001
            row["problems"].append(f"describing the loaded model failed: {type(exc).__name__}: {exc}")
    if check.load is not None and ctx.state.pop(check.name, None) is not None:  # the converted model: done
        devices.release_memory(ctx.device)
    row["cuda"] = memory.stop(before)
    row["ok"] = row["ran"] and not row["problems"]
    return row


def _state(ctx: Ctx, key: str) -> str:
    return next((s.state for s in ctx.manager.status() if s.key == key), "unloaded")


def describe_device(ctx: Ctx, check: Check, row: dict) -> None:
    """Device, dtype and resident bytes as the manager accounts for them, and what really runs."""
    if check.load is not None:  # ct2-convert: the converted model, outside the manager
        _, device, info = ctx.state[check.name]
        row.update(device=device, dtype="float32", runtime_dtypes={"ct2-convert": info["runtime_dtype"]},
                   resident_mb=round(info["nbytes"] / MB, 1))
        return
    status = {s.key: s for s in ctx.manager.status() if s.key in check.keys}
    runtime = {}
    for key in check.keys:
        with ctx.manager.use(key) as model:
            runtime[key] = runtime_dtype(model)
    row["device"] = "/".join(sorted({str(s.device) for s in status.values()}))
    row["dtype"] = "/".join(dict.fromkeys(str(status[k].dtype) for k in check.keys))
    row["runtime_dtypes"] = runtime
    row["resident_mb"] = round(sum(s.bytes for s in status.values()) / MB, 1)
    row["manager"] = {k: {"load_s": s.load_s, "bytes": s.bytes, "loads": s.loads, "hits": s.hits}
                      for k, s in status.items()}


def compare_with_cpu(check: Check, row: dict, ref: dict) -> None:
    """The device's answers against the CPU's, same calls in the same process (the fixed
    expectations stay checked too)."""
    row["reference"] = {"output": ref.get("output"), "extras": ref.get("extras"), "error": ref.get("error"),
                        "load_s": ref.get("load_s"), "first_s": ref.get("first_s"), "problems": ref.get("problems")}
    if not row["ran"]:
        return
    if not ref.get("ran"):
        row["problems"].append(f"no CPU reference to compare with: {ref.get('error')}")
    else:
        problems, figures = check.agree(row["output"], ref["output"])
        if check.extras is not None and row.get("extras") is not None and ref.get("extras") is not None:
            more, more_figures = check.agree_extras(row["extras"], ref["extras"])
            problems, figures = problems + more, {**figures, **more_figures}
        row["problems"] += problems
        row["agreement"] = figures
    row["ok"] = row["ran"] and not row["problems"]


# -- budget and soak ------------------------------------------------------------------------------------
class _Evictions(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.unloaded: list[str] = []
        self.warnings: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("unloading "):
            self.unloaded.append(message.split()[1])
        elif record.levelno >= logging.WARNING:
            self.warnings.append(message)


@contextlib.contextmanager
def _manager_log() -> Any:
    logger = logging.getLogger("model_zoo.core.manager")
    handler, level, propagate = _Evictions(), logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # counted here, not printed
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


BUDGET_PREFERENCE = ("minilm", "efficientnet-lite0", "mpnet", "tiny-diffusion", "whisper-base", "whisper-base-openai")


def budget_phase(device: str, cache_dir: Path, work: Path, overrides: dict, rows: dict[str, dict],
                 checks: list[Check]) -> dict:
    """A tight budget over two single-model checks (the cheapest to reload that ran): the larger
    fits alone, the two do not fit together. Their calls in turn, twice round (each load evicts
    the other), then both at once, twice (both pinned: over budget for a moment, never evicted
    mid-call). Evictions happen, nothing fails, the answers stay the same, and after the turns
    the resident models are within the budget. Sizes are those measured right after each
    model's load in the main pass; on the CPU the sentiment service here runs its encoders at
    fp32, so no bf16 copy grows a model after its load (the manager counts growth only at the
    next load)."""
    ran = {c.name: c for c in checks if c.budget and rows[c.name]["ran"] and rows[c.name].get("loaded_mb")}
    pair = [ran[name] for name in BUDGET_PREFERENCE if name in ran][:2]
    if len(pair) < 2:
        return {"skipped": "needs two single-model checks that ran (e.g. minilm and efficientnet-lite0)", "ok": True}
    small, large = sorted(pair, key=lambda c: rows[c.name]["loaded_mb"])
    sizes = {c.name: rows[c.name]["loaded_mb"] for c in (large, small)}
    estimates = {c.name: float(_spec_mb(c)) for c in (large, small)}  # what the manager assumes before a load
    low, high = max(*sizes.values(), *estimates.values()), sum(sizes.values())
    # Within [low, high): each fits alone even by its estimate, and the two never fit together.
    budget_mb = round((low + high) / 2, 1) if low < high else round(sizes[large.name] + sizes[small.name] / 2, 1)
    kind = devices.device_kind(device)
    ctx = Ctx(device, cache_dir, work / "budget", overrides, budget_mb={kind: budget_mb}, precision="fp32")
    report: dict[str, Any] = {"budget_mb": {kind: budget_mb}, "models": [large.name, small.name],
                              "sizes_mb": sizes, "estimates_mb": estimates,
                              "calls": 0, "failed": [], "changed": []}
    memory = CudaMemory(ctx)
    before = memory.start()
    started = time.perf_counter()
    with _manager_log() as log:
        for _ in range(2):
            for check in (large, small):
                _budget_call(ctx, check, rows, report)
        report["evictions_in_turns"] = len(log.unloaded)
        report["resident_after_turns_mb"] = round(ctx.manager.loaded_bytes(kind) / MB, 1)
        for _ in range(2):
            threads = [threading.Thread(target=_budget_call, args=(ctx, c, rows, report)) for c in (large, small)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    report["seconds"] = round(time.perf_counter() - started, 2)
    report["evictions"] = len(log.unloaded)
    report["evicted"] = log.unloaded
    report["manager_warnings"] = log.warnings[:5]
    report["loads"] = {s.key: s.loads for s in ctx.manager.status() if s.loads}
    report["resident_after_mb"] = round(ctx.manager.loaded_bytes(kind) / MB, 1)
    report["cuda"] = memory.stop(before)
    report["ok"] = (not report["failed"] and not report["changed"] and report["evictions_in_turns"] > 0
                    and report["resident_after_turns_mb"] <= budget_mb and report["calls"] == 8)
    ctx.close()
    return report


def _spec_mb(check: Check) -> int:
    from model_zoo.core.registry import REGISTRY

    return REGISTRY[check.keys[0]].size_mb


_REPORT_LOCK = threading.Lock()


def _budget_call(ctx: Ctx, check: Check, rows: dict[str, dict], report: dict) -> None:
    try:
        out = check.call(ctx, True)
        with _REPORT_LOCK:
            report["calls"] += 1
            if check.signature(out) != check.signature(rows[check.name]["output"]):
                report["changed"].append(check.name)
    except Exception as exc:  # noqa: BLE001
        with _REPORT_LOCK:
            report["failed"].append(f"{check.name}: {type(exc).__name__}: {exc}")


def soak_phase(ctx: Ctx, rows: dict[str, dict], checks: list[Check], threads: int, calls: int) -> dict:
    """`threads` visitors at once, each `calls` calls over sentiment (other sentences than the
    timed ones, so the shared embedding cache does not answer for the model), captions and the
    label bridge, on the warm manager with the shared service and caches, as the app shares them."""
    pool = [(c.name, call, right) for c in checks if rows[c.name]["ran"] for call, right in c.soak]
    if not pool:
        return {"skipped": "no sentiment, caption or label-bridge check ran", "ok": True}
    latencies: list[float] = []
    failed: list[str] = []
    wrong: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def visitor(number: int) -> None:
        barrier.wait()
        for i in range(calls):
            name, call, right = pool[(number * calls + i) % len(pool)]  # every case, given enough calls
            started = time.perf_counter()
            try:
                out = call(ctx, False)
                with lock:
                    latencies.append(time.perf_counter() - started)
                    if not right(out):
                        wrong.append(f"{name}: {public(out)}")
            except Exception as exc:  # noqa: BLE001
                with lock:
                    failed.append(f"{name}: {type(exc).__name__}: {exc}")

    memory = CudaMemory(ctx)
    before = memory.start()
    started = time.perf_counter()
    workers = [threading.Thread(target=visitor, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - started
    return {"threads": threads, "calls_each": calls, "models": list(dict.fromkeys(name for name, _, _ in pool)),
            "ok_calls": len(latencies), "failed": failed, "wrong": wrong[:5], "seconds": round(seconds, 2),
            "p50_s": round(statistics.median(latencies), 3) if latencies else None,
            "max_s": round(max(latencies), 3) if latencies else None, "cuda": memory.stop(before),
            "ok": not failed and not wrong and len(latencies) == threads * calls}


# -- the run -----------------------------------------------------------------------------------------
def environment(device: str) -> dict:
    import importlib.metadata as md

    info: dict[str, Any] = {"python": platform.python_version(), "machine": platform.machine(),
                            "cpus": os.cpu_count(), "device": device}
    for dist in ("torch", "transformers", "diffusers", "ctranslate2", "faster-whisper", "openai-whisper", "triton"):
        try:
            info[dist] = md.version(dist)
        except md.PackageNotFoundError:
            info[dist] = None
    if devices.device_kind(device) == "cuda":
        import torch

        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
        info["cuda_runtime"] = torch.version.cuda
        info["gpu_memory_mb"] = round(torch.cuda.get_device_properties(torch.device(device)).total_memory / MB)
    return info


def line(row: dict, cuda: bool) -> str:
    """One model: device, dtype, load / first / warm seconds, resident MB, what it answered, verdict."""
    if not row["ran"]:
        where = f"{row['device']:<6} {row['dtype']:<8}" if row["device"] else f"{'-':<6} {'-':<8}"
        return f"{row['name']:<19} {where} FAILED: {row['error']}"
    verdict = "ok" if row["ok"] else "CHECK FAILED: " + "; ".join(row["problems"])[:400]
    summary = CHECKS_BY_NAME[row["name"]].summary(row["output"])
    seconds = "  ".join(f"{what} {row[key]:6.2f} s" if key in row else f"{what}    - s"
                        for what, key in (("load", "load_s"), ("first", "first_s"), ("warm", "warm_s")))
    peak = f"  peak +{row['cuda'].get('peak_over_before_mb', 0):.0f} MB" if cuda else ""
    resident = row.get("resident_mb", 0)
    return (f"{row['name']:<19} {row['device']:<6} {row['dtype']:<8} {seconds}  "
            f"resident {resident:6.{0 if resident >= 10 else 1}f} MB{peak}  {summary}  [{verdict}]")


CHECKS_BY_NAME = {c.name: c for c in all_checks()}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu_check", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto", help="cuda, cuda:N, cpu or auto (default: the best present)")
    parser.add_argument("--out", type=Path, default=None, help="folder for gpu_check.json (default: a fresh temp dir)")
    parser.add_argument("--models", nargs="+", default=None,
                        help="which: " + ", ".join(c.name for c in all_checks()) + " (default all)")
    parser.add_argument("--cache-dir", type=Path, default=ManagerConfig().cache_dir,
                        help="the model cache (packs joined, the converted Whisper); default the app's")
    reference = parser.add_mutually_exclusive_group()
    reference.add_argument("--no-reference", action="store_true", help="on a GPU: skip the CPU reference run")
    reference.add_argument("--reference", action="store_true",
                           help="on the CPU too: the calls again on a second manager, compared as on a GPU")
    parser.add_argument("--soak-threads", type=int, default=4)
    parser.add_argument("--soak-calls", type=int, default=3)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    checks = select(args.models)
    try:
        device = devices.pick_device(args.device)
    except ValueError as exc:
        print(f"{exc}", file=sys.stderr)
        print(f"gpu check: 0 of {len(checks)} models ran on {args.device}", flush=True)
        return 2
    kind = devices.device_kind(device)
    cuda = kind == "cuda"
    with_reference = args.reference or (kind != "cpu" and not args.no_reference)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="gpu-check-"))
    work = out / "work"
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    report: dict[str, Any] = {
        "device": device, "models": [c.name for c in checks], "cpu_reference": with_reference,
        "environment": environment(device),
        "thresholds": {"wer": WER_MAX, "text_cos": TEXT_COS_MIN, "image_cos": IMAGE_COS_MIN,
                       "score_diff": SCORE_DIFF_MAX, "pixel_diff": PIXEL_DIFF_MAX}}
    gpu = f" ({report['environment']['gpu']}, CUDA {report['environment']['cuda_runtime']})" if cuda else ""
    print(f"gpu check on {device}{gpu}: {', '.join(c.name for c in checks)}", flush=True)
    if cuda:
        import torch

        if ":" in device:  # the memory figures read the current device
            torch.cuda.set_device(torch.device(device))
        _, report["cuda_init_s"] = _timed_cuda(lambda: torch.zeros(1, device=device))
    overrides = {"captioner": str(work / "no-captioner")}  # captions from EfficientNet's labels, whatever is cached
    if any(c.name == "tiny-diffusion" for c in checks):
        from tests.tiny.diffusion import save_tiny_diffusion

        overrides["diffusion"] = str(save_tiny_diffusion(work / "tiny-diffusion"))
    ctx = Ctx(device, args.cache_dir, work, overrides)
    rows: dict[str, dict] = {}
    for check in checks:
        rows[check.name] = run_check(ctx, check)
        if with_reference:  # the line waits for the comparison; say where the run is meanwhile
            print(f"  {check.name} on {device}: {'ran' if rows[check.name]['ran'] else 'failed'}", file=sys.stderr,
                  flush=True)
        else:
            print(line(rows[check.name], cuda), flush=True)
    if with_reference:
        print("  the same calls on the CPU, for reference ...", file=sys.stderr, flush=True)
        ref_ctx = Ctx("cpu", args.cache_dir, work, overrides, reference=True)
        for check in checks:
            compare_with_cpu(check, rows[check.name], run_check(ref_ctx, check))
            print(line(rows[check.name], cuda), flush=True)
        ref_ctx.close()
    report["budget"] = budget_phase(device, args.cache_dir, work, overrides, rows, checks)
    print(budget_line(report["budget"]), flush=True)
    report["soak"] = soak_phase(ctx, rows, checks, args.soak_threads, args.soak_calls)
    print(soak_line(report["soak"]), flush=True)
    ctx.close()
    report["rows"] = [public(rows[c.name]) for c in checks]
    ran = sum(1 for c in checks if rows[c.name]["ran"] and devices.device_kind(rows[c.name]["device"] or "") == kind)
    report["ran"], report["passed"] = ran, sum(1 for c in checks if rows[c.name]["ok"])
    report["seconds"] = round(time.perf_counter() - started, 1)
    if cuda:  # the peaks were reset per phase: the run's peak is the largest of them
        peaks = [r["cuda"].get("max_allocated_mb", 0) for r in rows.values()]
        peaks += [report[p].get("cuda", {}).get("max_allocated_mb", 0) for p in ("budget", "soak")]
        report["cuda_max_allocated_mb"] = max(peaks)
    report["ok"] = report["passed"] == len(checks) and report["budget"]["ok"] and report["soak"]["ok"]
    path = out / "gpu_check.json"
    path.write_text(json.dumps(public(report), indent=2, default=str))
    verdict = lambda ok: "ok" if ok else "FAILED"  # noqa: E731
    print(f"{report['passed']} of {len(checks)} passed their checks, budget {verdict(report['budget']['ok'])}, "
          f"soak {verdict(report['soak']['ok'])}; {report['seconds']:.0f} s in all"
          + (f"; torch peak {report['cuda_max_allocated_mb']:.0f} MB" if cuda else ""))
    print(f"figures: {path}")
    print(f"gpu check: {ran} of {len(checks)} models ran on {device}", flush=True)
    return 0 if report["ok"] else 1


def _timed_cuda(fn: Callable[[], Any]) -> tuple[Any, float]:
    import torch

    started = time.perf_counter()
    out = fn()
    torch.cuda.synchronize()
    return out, round(time.perf_counter() - started, 3)


def budget_line(budget: dict) -> str:
    if "skipped" in budget:
        return f"budget: skipped ({budget['skipped']})"
    (kind, mb), = budget["budget_mb"].items()
    trouble = "; ".join(budget["failed"] + [f"{n} answered differently" for n in budget["changed"]])
    return (f"budget: {kind} {mb} MB over {', '.join(budget['models'])}: {budget['evictions']} evictions, "
            f"{budget['calls']} calls ok (4 in turn, 2x2 at once), resident after the turns "
            f"{budget['resident_after_turns_mb']:.0f} MB"
            + (f"  [FAILED: {trouble or 'no eviction, or over budget when idle'}]" if not budget["ok"] else "  [ok]"))


def soak_line(soak: dict) -> str:
    if "skipped" in soak:
        return f"soak: skipped ({soak['skipped']})"
    trouble = "; ".join(soak["failed"][:3] + [f"wrong answer from {w}" for w in soak["wrong"][:3]])
    return (f"soak: {soak['threads']} threads x {soak['calls_each']} calls ({', '.join(soak['models'])}): "
            f"{soak['ok_calls']} ok, {len(soak['failed'])} failed, p50 {soak['p50_s']} s, max {soak['max_s']} s"
            + (f"  [FAILED: {trouble}]" if not soak["ok"] else "  [ok]"))


if __name__ == "__main__":
    sys.exit(main())
