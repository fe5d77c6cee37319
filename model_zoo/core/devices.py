"""Device policy: cuda > mps > cpu unless told otherwise. torch is imported lazily."""
from __future__ import annotations

import gc
import os


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


CPU_PRECISIONS = ("auto", "fp32", "bf16", "int8")


# oneDNN ISA caps (ONEDNN_MAX_CPU_ISA) under which it still multiplies bf16 in hardware
_BF16_ISAS = ("BF16", "AMX", "FP16", "AVX10", "ALL")


def cpu_has_native_bf16(cpuinfo: str = "/proc/cpuinfo", isa_cap: str | None = None) -> bool:
    """True where the CPU multiplies bfloat16 in hardware (AVX512-BF16 or AMX): there a
    bf16 copy of a transformer encoder runs ~2-3x faster than fp32 at the same accuracy.
    Elsewhere bf16 is emulated and slower, so the answer must come from the flags, and from
    oneDNN's own cap where one is set (ONEDNN_MAX_CPU_ISA=AVX2 runs as an AVX2-only machine)."""
    if isa_cap is None:
        isa_cap = os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA") or ""
    cap = isa_cap.upper()
    if cap and not any(isa in cap for isa in _BF16_ISAS):
        return False
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def resolve_cpu_precision(choice: str, device: str) -> str:
    """The precision text encoders run at: 'native' off the CPU (the model's own dtype,
    fp16 on cuda/mps); on the CPU 'auto' means bf16 where native, else fp32."""
    choice = (choice or "auto").lower()
    if choice not in CPU_PRECISIONS:
        raise ValueError(f"unknown precision '{choice}': one of {', '.join(CPU_PRECISIONS)}")
    if device_kind(device) != "cpu":
        return "native"
    if choice == "auto":
        return "bf16" if cpu_has_native_bf16() else "fp32"
    return choice
