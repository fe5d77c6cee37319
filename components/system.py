"""System tab: what models exist, which are resident, on which device, at what cost.

Everyone sees the models' state (and /models); only the operator may unload a model or see the
server's data dir and disk use (operator_of: the rule is the same for the page and for a
request crafted by hand against the private events)."""
from __future__ import annotations

import ipaddress

import gradio as gr

from . import visitor
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


def budget_text(ctx: StudioContext, operator: bool = False) -> str:
    """The resident models against the budget; the data dir only for the operator."""
    config = ctx.manager.config
    budgets = ", ".join(f"{kind} {mb:,} MB" for kind, mb in config.budget_mb.items())
    used = ctx.manager.loaded_bytes() / 2**20
    warming = [s.key for s in ctx.manager.status() if s.state == "warming"]  # app/warm.py, after launch
    return (f"**Device policy:** `{config.device}` · **Memory budget:** {budgets} · "
            f"**Resident now:** {used:,.0f} MB · **Offline:** {config.offline} · "
            + (f"**Data dir:** `{ctx.settings.data_dir}` · " if operator else "")
            + f"**Warm start:** `{ctx.settings.warm}`"
            + (f", warming {', '.join(warming)} now" if warming else ""))


# -- who operates this server ---------------------------------------------------------------
def is_operator(settings, username: str | None, hf_user: str | None, client_host: str | None,
                forwarded: bool) -> bool:
    """The operator's rule: a user named in --operators (a --auth user or a Hugging Face account;
    on Spaces the Space's owner by default); with --auth and no names, every --auth user; with
    neither, only a browser on this machine (loopback, not relayed by a proxy on it)."""
    names = settings.operator_names
    user = hf_user or username
    if names:
        return bool(user) and user in names
    if settings.auth_pairs:
        return bool(username) and username in {name for name, _ in settings.auth_pairs}
    if settings.oauth or forwarded or not client_host:
        return False  # a Space (or a proxy) without named operators: nobody operates from the page
    try:
        return ipaddress.ip_address(client_host).is_loopback
    except ValueError:
        return client_host == "localhost"


def operator_of(ctx: StudioContext, request: gr.Request | None, profile: gr.OAuthProfile | None = None) -> bool:
    """Whether this request comes from the operator (is_operator on what Gradio says of it)."""
    if request is None:
        return False
    headers = {k.lower(): v for k, v in dict(getattr(request, "headers", None) or {}).items()}
    client = getattr(request, "client", None)
    return is_operator(ctx.settings, getattr(request, "username", None), getattr(profile, "username", None),
                       getattr(client, "host", None), "x-forwarded-for" in headers or "forwarded" in headers)


def disk_text(ctx: StudioContext) -> str:
    """For the operator: disk use by kind, visitors' and shared, and how many owners (no names)."""
    report = ctx.space.report()
    mb = lambda n: f"{n / 2**20:,.1f} MB"
    kinds = " · ".join(f"{kind} {mb(report.owner_bytes[kind])}" for kind in report.owner_bytes)
    shared = " · ".join(f"{kind} {mb(n)}" for kind, n in report.shared_bytes.items())
    mode = ctx.space.mode
    return (f"**Data mode:** `{mode}` · **Visitors' items:** {kinds} · **Shared:** {shared} · "
            f"**Owners:** {report.owners_anonymous} anonymous, {report.owners_signed_in} signed in · "
            f"**In use now:** {report.in_use} · **Trash:** {mb(report.trash_bytes)}"
            + (f" · anonymous items expire {ctx.space.ttl_s / 3600:g} h after their last use; quota "
               f"{ctx.space.quota_bytes / 2**20:,.0f} MB per owner" if mode == "private" else ""))


# -- handlers: plain functions of the context (the events and the endpoint call these) -----
def refresh_view(ctx: StudioContext, request: gr.Request = None,
                 profile: gr.OAuthProfile | None = None) -> tuple[str, list[list]]:
    return budget_text(ctx, operator_of(ctx, request, profile)), status_rows(ctx)


def operator_view(ctx: StudioContext, request: gr.Request = None, profile: gr.OAuthProfile | None = None):
    """On page load: the operator's controls shown to the operator only."""
    return gr.update(visible=operator_of(ctx, request, profile))


@user_facing
def disk_report(ctx: StudioContext, request: gr.Request = None, profile: gr.OAuthProfile | None = None) -> str:
    if not operator_of(ctx, request, profile):
        raise gr.Error("Only the operator of this server sees its disk use.")
    return disk_text(ctx)


@user_facing
def unload_model(ctx: StudioContext, model_key: str, request: gr.Request = None,
                 profile: gr.OAuthProfile | None = None) -> tuple[str, list[list]]:
    if not operator_of(ctx, request, profile):  # the page hides the button; a crafted request meets this
        raise gr.Error("Only the operator of this server can unload models.")
    if not model_key:
        raise gr.Error("Choose a model to unload.")
    if not ctx.manager.unload(model_key):
        gr.Info(f"{model_key} is not loaded, or is in use right now.")
    return refresh_view(ctx, request, profile)


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
    table = gr.Dataframe(value=status_rows(ctx), headers=_COLUMNS, interactive=False, wrap=True)
    refresh = gr.Button("Refresh", variant="secondary")
    with gr.Column(visible=False) as operator_only:  # shown on page load to the operator alone
        disk = gr.Markdown(f"**Data mode:** `{ctx.space.mode}` · disk use by kind and owners: press *Refresh*.")
        with gr.Row():
            key = gr.Dropdown(choices=list(ctx.manager.status_keys()), label="Model", scale=2)
            unload = gr.Button("Unload", variant="stop")
            show_disk = gr.Button("Refresh disk use", variant="secondary")

    refresh.click(bind(ctx, refresh_view), outputs=[summary, table], api_visibility="private")
    show_disk.click(bind(ctx, disk_report), outputs=disk, api_visibility="private")  # walks the data dir: on demand
    unload.click(bind(ctx, unload_model), inputs=key, outputs=[summary, table], api_visibility="private")
    gr.Timer(10).tick(bind(ctx, refresh_view), outputs=[summary, table], api_visibility="private", queue=False)
    visitor.on_page_load(ctx, bind(ctx, operator_view), [], [operator_only])
    gr.api(mcp_tool(bind(ctx, models)), api_name="models")
