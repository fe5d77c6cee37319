"""System tab: what models exist, which are resident, on which device, at what cost."""
from __future__ import annotations

import gradio as gr

from . import visitor
from .common import bind, user_facing
from .common.i18n import i18n, language_of, t, text_or
from .common.layout import how_it_works, intro
from .context import StudioContext

TITLE = "System"  # the English tab name (tests select the tab by it); the page shows TITLE_KEY's
TITLE_KEY = "system.title"
_COLUMNS = ["system.col.key", "system.col.role", "system.col.state", "system.col.device", "system.col.dtype",
            "system.col.mb", "system.col.load_s", "system.col.loads", "system.col.hits", "system.col.in_use",
            "system.col.weights", "system.col.source"]


def models_status(ctx: StudioContext) -> list[dict]:
    """The /models payload: one dict per registry entry."""
    return [status.to_dict() for status in ctx.manager.status()]


def status_rows(ctx: StudioContext) -> list[list]:
    rows = []
    for s in models_status(ctx):
        mb = round(s["bytes"] / 2**20, 1)
        rows.append([s["key"], s["role"], s["state"], s["device"] or "", s["dtype"] or "", mb,
                     s["load_s"], s["loads"], s["hits"], s["in_use"], s["weights"], s["source"]])
    return rows


def table(rows: list[list], lang: str | None = None):
    """The models with their headers in the visitor's language (the page cannot translate a table's headers)."""
    import pandas as pd

    return pd.DataFrame(rows, columns=[t(key, lang) for key in _COLUMNS])


def budget_text(ctx: StudioContext, lang: str | None = None) -> str:
    config = ctx.manager.config
    budgets = ", ".join(f"{kind} {mb:,} MB" for kind, mb in config.budget_mb.items())
    used = ctx.manager.loaded_bytes() / 2**20
    warming = [s.key for s in ctx.manager.status() if s.state == "warming"]  # app/warm.py, after launch
    return (t("system.budget", lang, device=config.device, budgets=budgets, used=f"{used:,.0f}",
              offline=t("studio.yes" if config.offline else "studio.no", lang), data_dir=ctx.settings.data_dir,
              warm=ctx.settings.warm)
            + (t("system.warming", lang, keys=", ".join(f"`{key}`" for key in warming)) if warming else ""))


def disk_text(ctx: StudioContext, lang: str | None = None) -> str:
    """For the operator: disk use by kind, visitors' and shared, and how many owners (no names)."""
    report = ctx.space.report()
    mb = lambda n: f"{n / 2**20:,.1f} MB"
    kind = lambda name: text_or(f"system.kind.{name}", name, lang)
    kinds = " · ".join(f"{kind(name)} {mb(report.owner_bytes[name])}" for name in report.owner_bytes)
    shared = " · ".join(f"{kind(name)} {mb(n)}" for name, n in report.shared_bytes.items())
    mode = ctx.space.mode
    return (t("system.disk", lang, mode=mode, kinds=kinds, shared=shared, anonymous=report.owners_anonymous,
              signed_in=report.owners_signed_in, in_use=report.in_use, trash=mb(report.trash_bytes))
            + (t("system.disk_private", lang, hours=f"{ctx.space.ttl_s / 3600:g}",
                 mb=f"{ctx.space.quota_bytes / 2**20:,.0f}") if mode == "private" else ""))


# -- handlers: plain functions of the context (the events and the endpoint call these) -----
def refresh_view(ctx: StudioContext):
    lang = language_of()
    return budget_text(ctx, lang), table(status_rows(ctx), lang)


def on_disk(ctx: StudioContext) -> str:
    return disk_text(ctx, language_of())


def on_page_load(ctx: StudioContext):
    """The figures and the table's headers in the visitor's language, and the data mode line."""
    return (*refresh_view(ctx), t("system.disk_pending", mode=ctx.space.mode))


@user_facing
def unload_model(ctx: StudioContext, model_key: str):
    if not model_key:
        raise gr.Error(t("system.choose"))
    if not ctx.manager.unload(model_key):
        gr.Info(t("system.not_loaded", key=model_key))
    return refresh_view(ctx)


def models(ctx: StudioContext) -> list[dict]:
    """Every model: key, state, device, dtype, bytes, load_s, loads, hits, in_use."""
    return models_status(ctx)


# -- layout and wiring -----------------------------------------------------------------------
def build(ctx: StudioContext) -> None:
    intro("system.intro")
    with gr.Row():
        refresh = gr.Button(i18n("system.refresh"), variant="secondary")
        key = gr.Dropdown(choices=list(ctx.manager.status_keys()), label=i18n("studio.model"), scale=2)
        unload = gr.Button(i18n("system.unload"), variant="stop")
    table_view = gr.Dataframe(value=table(status_rows(ctx), "en"), interactive=False, wrap=True)
    summary = gr.Markdown(budget_text(ctx, "en"))
    disk = gr.Markdown(t("system.disk_pending", "en", mode=ctx.space.mode))
    with how_it_works("system"):
        gr.Markdown(i18n("system.how"))

    refresh.click(bind(ctx, refresh_view), outputs=[summary, table_view], api_visibility="private")
    refresh.click(bind(ctx, on_disk), outputs=disk, api_visibility="private")  # walks the data dir: on demand
    unload.click(bind(ctx, unload_model), inputs=key, outputs=[summary, table_view], api_visibility="private")
    gr.Timer(10).tick(bind(ctx, refresh_view), outputs=[summary, table_view], api_visibility="private", queue=False)
    visitor.on_page_load(ctx, bind(ctx, on_page_load), [], [summary, table_view, disk])
    gr.api(bind(ctx, models), api_name="models")
