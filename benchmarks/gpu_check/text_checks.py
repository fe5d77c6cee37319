"""Checks of text: the sentiment heads (SentimentService.predict) and MPNet's text vectors."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .context import Check, Ctx, cos_rows
from .inputs import NEGATIVE, POSITIVE, SCORE_DIFF_MAX, SENTENCES, SOAK_TEXTS, TEXT_COS_MIN


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
        cos = cos_rows(dev[key], cpu[key])
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
