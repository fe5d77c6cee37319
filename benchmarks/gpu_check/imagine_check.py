"""The check of the Imagine tab, on the tiny diffusers pipeline model_zoo/testing builds."""
from __future__ import annotations

from typing import Any

import numpy as np

from .context import Check, Ctx
from .inputs import PIXEL_DIFF_MAX, PROMPT


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
