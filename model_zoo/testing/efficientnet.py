"""A randomly initialised EfficientNet-Lite state dict saved like a real local checkpoint,
so tests load it through the same loader as real weights, with a manager override:
overrides={"efficientnet-lite0": f"efficientnet-lite0:{path}"}."""
from __future__ import annotations

from pathlib import Path


def save_random_efficientnet(folder: Path, architecture: str = "efficientnet-lite0", fmt: str = "safetensors",
                             seed: int = 0) -> Path:
    """Write `folder/<architecture>-random.<safetensors|pth>` and return its path."""
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    if fmt not in ("safetensors", "pth"):
        raise ValueError(f"fmt must be 'safetensors' or 'pth', not '{fmt}'")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    model = EfficientNet.from_name(architecture)
    state = {key: value.detach().clone().contiguous() for key, value in model.state_dict().items()}
    path = folder / f"{architecture}-random.{fmt}"
    if fmt == "safetensors":
        from safetensors.torch import save_file

        save_file(state, str(path))
    else:
        torch.save(state, path)
    return path
