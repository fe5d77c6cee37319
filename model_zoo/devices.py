"""Device policy: cuda > mps > cpu unless told otherwise. torch is imported lazily."""
from __future__ import annotations

import gc


def pick_device(preference: str = "auto") -> str:
    """Resolve "auto" to the best device present; validate an explicit choice."""
    preference = (preference or "auto").lower()
    if preference == "cpu":
        return "cpu"
    import torch

    if preference == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
        return "cpu"
    kind = preference.split(":")[0]
    available = {
        "cuda": torch.cuda.is_available(),
        "mps": bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()),
    }
    if not available.get(kind, False):
        raise ValueError(f"device '{preference}' was asked for but is not available here")
    return preference


def device_kind(device: str) -> str:
    return device.split(":")[0]


def torch_dtype(name: str):
    """Map a dtype policy name to a torch dtype (int8 means fp32 weights + dynamic quant)."""
    import torch

    return {"float16": torch.float16, "bfloat16": torch.bfloat16}.get(name, torch.float32)


def release_memory(device: str) -> None:
    """Give freed memory back to the device after a model is dropped."""
    gc.collect()
    kind = device_kind(device)
    if kind not in ("cuda", "mps"):
        return
    import torch

    if kind == "cuda" and torch.cuda.is_available():
        torch.cuda.empty_cache()
    elif kind == "mps" and hasattr(torch, "mps"):
        torch.mps.empty_cache()


def module_nbytes(module) -> int:
    """Bytes held by a torch module's parameters and buffers."""
    tensors = list(module.parameters()) + list(module.buffers())
    return sum(t.numel() * t.element_size() for t in tensors)
