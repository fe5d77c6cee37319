"""Checks of vision offline: EfficientNet-Lite0's label-based captions and the label bridge
(Search's indexing vectors, a text query over them, zero-shot classify)."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .context import Check, Ctx, cos_rows
from .inputs import BRIDGE_PHOTOS, BRIDGE_QUERIES, CLASSIFY_LABELS, GALLERY, IMAGE_COS_MIN, SCORE_DIFF_MAX


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
    semantic, visual = cos_rows(dev["_semantic"], cpu["_semantic"]), cos_rows(dev["_visual"], cpu["_visual"])
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
