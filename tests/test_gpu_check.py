"""benchmarks.gpu_check, the GPU proof script, on the CPU: the small packaged models (MiniLM,
EfficientNet-Lite0, the label bridge over MPNet) and the tiny diffusers pipeline, end to end
in this process with the CPU comparison a GPU run makes switched on (`--reference`); and,
without weights, the pieces only a GPU run reaches: the device-vs-CPU tolerances, the fp16
policy check, model selection, and a device that is not there."""
from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from benchmarks import gpu_check
from model_zoo.core.manager import ManagerConfig, ModelManager

SMALL = ["minilm,efficientnet-lite0", "label bridge", "tiny diffusion"]


@pytest.mark.slow
def test_small_models_on_cpu(tmp_path, shared_cache, capsys):
    code = gpu_check.main(["--device", "cpu", "--models", *SMALL, "--out", str(tmp_path / "out"),
                           "--cache-dir", str(shared_cache), "--reference", "--soak-threads", "4",
                           "--soak-calls", "2"])
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed[-1] == "gpu check: 4 of 4 models ran on cpu"
    assert code == 0, "\n".join(printed)
    names = ["minilm", "efficientnet-lite0", "label-bridge", "tiny-diffusion"]
    for name in names:  # one line per model, in order, each with its figures and verdict
        [found] = [text for text in printed if text.startswith(name + " ")]
        assert " cpu " in found and "load" in found and "warm" in found and "resident" in found
        assert found.endswith("[ok]"), found
    path = tmp_path / "out" / "gpu_check.json"
    assert printed[-2] == f"figures: {path}"

    report = json.loads(path.read_text())
    assert report["device"] == "cpu" and report["models"] == names and report["cpu_reference"]
    assert report["ran"] == report["passed"] == 4 and report["ok"]
    rows = {row["name"]: row for row in report["rows"]}
    for row in rows.values():
        assert row["ran"] and row["ok"] and not row["problems"] and row["error"] is None
        assert row["device"] == "cpu" and set(row["dtype"].split("/")) == {"float32"}
        assert row["load_s"] >= 0 and row["first_s"] > 0 and row["warm_s"] > 0 and row["resident_mb"] > 0
        assert row["reference"]["output"] is not None  # the CPU comparison ran ...
        assert row["agreement"]  # ... and a run against itself agrees exactly
        assert all(v in (0, 0.0, 1.0) for k, v in row["agreement"].items()), row["agreement"]
        assert not any(k.startswith("_") for k in row["output"])  # vectors and pixels stay out of the JSON
    assert rows["minilm"]["output"]["label"] == "positive"
    assert rows["minilm"]["extras"]["negative"]["label"] == "negative"
    assert "cat" in rows["efficientnet-lite0"]["output"]["caption"].lower()
    assert "espresso" in rows["efficientnet-lite0"]["extras"]["coffee"]["caption"].lower()
    bridge = rows["label-bridge"]["output"]
    assert bridge["engine"] == "labels" and bridge["classify_top"] == "espresso"
    assert bridge["query_best"] == gpu_check.BRIDGE_QUERIES
    assert sorted(rows["label-bridge"]["keys"]) == ["efficientnet-lite0", "mpnet"]
    assert rows["tiny-diffusion"]["output"]["size"] == [64, 64]

    budget = report["budget"]
    assert budget["ok"] and budget["models"] == ["minilm", "efficientnet-lite0"]
    (budget_mb,) = budget["budget_mb"].values()
    assert max(budget["sizes_mb"].values()) <= budget_mb < sum(budget["sizes_mb"].values())
    assert budget["evictions_in_turns"] >= 3 and budget["calls"] == 8 and not budget["failed"]
    assert budget["resident_after_turns_mb"] <= budget_mb
    soak = report["soak"]
    assert soak["ok"] and soak["ok_calls"] == 8 and not soak["failed"] and not soak["wrong"]
    assert soak["models"] == ["minilm", "efficientnet-lite0", "label-bridge"]  # 4 sentences, 2 photos, the bridge


# -- what only a GPU run reaches, without weights ------------------------------------------------
def test_models_are_picked_by_name_or_alias():
    assert [c.name for c in gpu_check.select(SMALL)] == ["minilm", "efficientnet-lite0", "label-bridge",
                                                         "tiny-diffusion"]
    assert [c.name for c in gpu_check.select(["openai-whisper", "whisper", "conversion"])] == [
        "whisper-base", "ct2-convert", "whisper-base-openai"]  # always in the report's order
    assert len(gpu_check.select(None)) == 9
    with pytest.raises(SystemExit, match="unknown model 'clip'"):
        gpu_check.select(["clip"])


def test_device_answers_are_held_to_the_cpu_within_tolerance():
    speech = {"transcript": "And Mr. John Dashwood had then leisure", "language": "en", "language_probability": 0.98}
    assert gpu_check._speech_agree({**speech, "transcript": "and mister john dashwood had then leisure"},
                                   speech)[0] == []
    problems, figures = gpu_check._speech_agree({**speech, "transcript": "and mister john had no pleasure"}, speech)
    assert problems and figures["wer_vs_cpu"] > gpu_check.WER_MAX

    cpu = {"label": "positive", "scores": {"negative": 0.1, "positive": 0.9}, "intensity": 2.0}
    assert gpu_check._sentiment_agree({**cpu, "scores": {"negative": 0.12, "positive": 0.88}}, cpu)[0] == []
    assert gpu_check._sentiment_agree({**cpu, "label": "negative"}, cpu)[0]
    assert gpu_check._sentiment_agree({**cpu, "scores": {"negative": 0.3, "positive": 0.7}}, cpu)[0]

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(3, 768)).astype(np.float32)
    near = vectors + rng.normal(scale=1e-3, size=vectors.shape).astype(np.float32)
    agree = gpu_check._vectors_agree("_vectors", gpu_check.TEXT_COS_MIN)
    assert agree({"_vectors": near}, {"_vectors": vectors})[0] == []
    assert agree({"_vectors": vectors[::-1].copy()}, {"_vectors": vectors})[0]

    pixels = rng.uniform(0, 255, size=(64, 64, 3)).astype(np.float32)
    assert gpu_check._imagine_agree({"_pixels": pixels + 1}, {"_pixels": pixels})[0] == []
    assert gpu_check._imagine_agree({"_pixels": 255 - pixels}, {"_pixels": pixels})[0]


def test_the_fp16_policy_is_checked_against_what_runs():
    """On CUDA the registry asks for float16 (CTranslate2 float16, openai-whisper's fp16
    decoding); on the CPU for int8 Whisper. What actually runs is compared with that."""
    ctx = SimpleNamespace(manager=ModelManager(ManagerConfig(device="cpu")), device="cuda")
    assert gpu_check.policy_problems(ctx, ("minilm", "whisper-base"), {"minilm": "float16",
                                                                       "whisper-base": "float16"}) == []
    assert gpu_check.policy_problems(ctx, ("whisper-base-openai",),
                                     {"whisper-base-openai": "float16 decoding, float32 weights"}) == []
    [problem] = gpu_check.policy_problems(ctx, ("mpnet",), {"mpnet": "float32"})
    assert "float16" in problem and "mpnet" in problem
    ctx.device = "cpu"
    runs = {"whisper-base": "int8", "minilm": "float32"}
    assert gpu_check.policy_problems(ctx, ("whisper-base", "minilm"), runs) == []
    assert gpu_check.policy_problems(ctx, ("whisper-base",), {"whisper-base": "float32"})


def test_what_runs_is_read_off_each_kind_of_model():
    import torch

    layer = torch.nn.Linear(2, 2).half()
    assert gpu_check.runtime_dtype(SimpleNamespace(compute_type="float16")) == "float16"  # faster-whisper
    whisper_like = SimpleNamespace(model=torch.nn.Linear(2, 2), fp16=True)
    assert gpu_check.runtime_dtype(whisper_like) == "float16 decoding, float32 weights"
    assert gpu_check.runtime_dtype(SimpleNamespace(model=layer)) == "float16"  # a sentence encoder
    assert gpu_check.runtime_dtype(SimpleNamespace(model=layer, dtype=torch.float16)) == "float16"  # EfficientNet
    pipeline = SimpleNamespace(text2image=SimpleNamespace(unet=SimpleNamespace(dtype=torch.float16)))
    assert gpu_check.runtime_dtype(pipeline) == "float16"


def test_a_device_that_is_not_there_says_so_on_the_last_line(capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is here: the real run is the proof")
    assert gpu_check.main(["--device", "cuda", "--models", "minilm"]) == 2
    out = capsys.readouterr()
    assert out.out.strip().splitlines()[-1] == "gpu check: 0 of 1 models ran on cuda"
    assert "not available" in out.err
