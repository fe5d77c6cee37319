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
  tiny-diffusion       the Imagine tab on a tiny random diffusers pipeline built by model_zoo/testing
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

    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl && \
    PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1 \
    python3 -m benchmarks.gpu_check --device cuda --out $OUT --cache-dir /tmp/mms-cache

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

import os

# Before anything imports numpy, torch or the hub libraries, whichever submodule is imported first.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# inputs first: it puts the repository root on sys.path (model_zoo.testing) before model_zoo is imported.
from .inputs import (
    BRIDGE_QUERIES, IMAGE_COS_MIN, PIXEL_DIFF_MAX, REPO, SCORE_DIFF_MAX, TEXT_COS_MIN, WER_MAX,
)
from .budget_and_soak import budget_phase, soak_phase
from .checks import ALIASES, CHECKS_BY_NAME, all_checks, select
from .context import Check, Ctx, CudaMemory, policy_problems, public, runtime_dtype
from .imagine_check import _imagine_agree
from .one_model import compare_with_cpu, run_check
from .runner import main, parse_args
from .speech_checks import _speech_agree
from .text_checks import _sentiment_agree, _vectors_agree

# What tests/test_gpu_check.py and callers reach as `gpu_check.<name>` (the "_" ones: the tolerances, tested alone).
__all__ = [
    "ALIASES", "BRIDGE_QUERIES", "CHECKS_BY_NAME", "Check", "Ctx", "CudaMemory", "IMAGE_COS_MIN", "PIXEL_DIFF_MAX",
    "REPO", "SCORE_DIFF_MAX", "TEXT_COS_MIN", "WER_MAX", "_imagine_agree", "_sentiment_agree", "_speech_agree",
    "_vectors_agree", "all_checks", "budget_phase", "compare_with_cpu", "main", "parse_args", "policy_problems",
    "public", "run_check", "runtime_dtype", "select", "soak_phase",
]
