"""System tab: what models exist, which are resident, on which device, at what cost."""
from __future__ import annotations

import gradio as gr

from .common import bind, mcp_tool, user_facing
from .context import StudioContext

TITLE = "System"
_COLUMNS = ["key", "role", "state", "device", "dtype", "MB", "load_s", "loads", "hits", "in_use", "weights", "source"]


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


def budget_text(ctx: StudioContext) -> str:
    config = ctx.manager.config
    budgets = ", ".join(f"{kind} {mb:,} MB" for kind, mb in config.budget_mb.items())
    used = ctx.manager.loaded_bytes() / 2**20
    warming = [s.key for s in ctx.manager.status() if s.state == "warming"]  # app/warm.py, after launch
    return (f"**Device policy:** `{config.device}` · **Memory budget:** {budgets} · "
            f"**Resident now:** {used:,.0f} MB · **Offline:** {config.offline} · "
            f"**Data dir:** `{ctx.settings.data_dir}` · **Warm start:** `{ctx.settings.warm}`"
            + (f", warming {', '.join(warming)} now" if warming else ""))


def disk_text(ctx: StudioContext) -> str:
    """For the operator: disk use by kind, visitors' and shared, and how many owners (no names)."""
    report = ctx.space.report()
    mb = lambda n: f"{n / 2**20:,.1f} MB"  # noqa: E731
    kinds = " · ".join(f"{kind} {mb(report.owner_bytes[kind])}" for kind in report.owner_bytes)
    shared = " · ".join(f"{kind} {mb(n)}" for kind, n in report.shared_bytes.items())
    mode = ctx.space.mode
    return (f"**Data mode:** `{mode}` · **Visitors' items:** {kinds} · **Shared:** {shared} · "
            f"**Owners:** {report.owners_anonymous} anonymous, {report.owners_signed_in} signed in · "
            f"**In use now:** {report.in_use} · **Trash:** {mb(report.trash_bytes)}"
            + (f" · anonymous items expire {ctx.space.ttl_s / 3600:g} h after their last use; quota "
               f"{ctx.space.quota_bytes / 2**20:,.0f} MB per owner" if mode == "private" else ""))


# -- handlers: plain functions of the context (the events and the endpoint call these) -----
def refresh_view(ctx: StudioContext) -> tuple[str, list[list]]:
    return budget_text(ctx), status_rows(ctx)


@user_facing
def unload_model(ctx: StudioContext, model_key: str) -> tuple[str, list[list]]:
    if not model_key:
        raise gr.Error("Choose a model to unload.")
    if not ctx.manager.unload(model_key):
        gr.Info(f"{model_key} is not loaded, or is in use right now.")
    return refresh_view(ctx)


def models(ctx: StudioContext) -> list[dict]:
    """List the models this server knows: what each does, where its weights come from, whether it is loaded
    now, on which device and at what memory cost. Use it to see which tools can answer here (e.g. whether
    generate_image's `diffusion` model has weights, or whether CLIP or the offline label bridge reads images).
    Returns:
        one entry per model: key, role, description, weights (where they come from: an offline pack, a local folder, or the hub), state (unloaded, loading, warming, loaded or failed), error (why it failed), source, device, dtype, bytes (memory), load_s, loads, hits, in_use
    """
    return models_status(ctx)


# -- layout and wiring -----------------------------------------------------------------------
def build(ctx: StudioContext) -> None:
    gr.Markdown("Every model the studio knows, loaded lazily on first use and kept under a memory "
                "budget (least recently used models are unloaded first; a model in use never is).")
    summary = gr.Markdown(budget_text(ctx))
    disk = gr.Markdown(f"**Data mode:** `{ctx.space.mode}` · disk use by kind and owners: press *Refresh*.")
    table = gr.Dataframe(value=status_rows(ctx), headers=_COLUMNS, interactive=False, wrap=True)
    with gr.Row():
        refresh = gr.Button("Refresh", variant="secondary")
        key = gr.Dropdown(choices=list(ctx.manager.status_keys()), label="Model", scale=2)
        unload = gr.Button("Unload", variant="stop")

    refresh.click(bind(ctx, refresh_view), outputs=[summary, table], api_visibility="private")
    refresh.click(bind(ctx, disk_text), outputs=disk, api_visibility="private")  # walks the data dir: on demand
    unload.click(bind(ctx, unload_model), inputs=key, outputs=[summary, table], api_visibility="private")
    gr.Timer(10).tick(bind(ctx, refresh_view), outputs=[summary, table], api_visibility="private", queue=False)
    gr.api(mcp_tool(bind(ctx, models)), api_name="models")
