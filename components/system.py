"""System tab: what models exist, which are resident, on which device, at what cost.

Everyone sees the models' state (and /models); only the operator may unload a model or see the
server's data dir and disk use (operator_of: the rule is the same for the page and for a
request crafted by hand against the private events)."""
from __future__ import annotations

import ipaddress

import gradio as gr

from . import visitor
from .common import bind, mcp_tool, user_facing
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


def budget_text(ctx: StudioContext, operator: bool = False, lang: str | None = None) -> str:
    """The resident models against the budget; the data dir only for the operator."""
    config = ctx.manager.config
    budgets = ", ".join(f"{kind} {mb:,} MB" for kind, mb in config.budget_mb.items())
    used = ctx.manager.loaded_bytes() / 2**20
    warming = [s.key for s in ctx.manager.status() if s.state == "warming"]  # app/warm.py, after launch
    data_dir = t("system.data_dir", lang, data_dir=ctx.settings.data_dir) if operator else ""
    return (t("system.budget", lang, device=config.device, budgets=budgets, used=f"{used:,.0f}",
              offline=t("studio.yes" if config.offline else "studio.no", lang), data_dir=data_dir,
              warm=ctx.settings.warm)
            + (t("system.warming", lang, keys=", ".join(f"`{key}`" for key in warming)) if warming else ""))


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
def refresh_view(ctx: StudioContext, request: gr.Request = None, profile: gr.OAuthProfile | None = None):
    """The figures (the data dir for the operator only) and the table, headers in the visitor's language."""
    lang = language_of(request)
    return budget_text(ctx, operator_of(ctx, request, profile), lang), table(status_rows(ctx), lang)


def operator_view(ctx: StudioContext, request: gr.Request = None, profile: gr.OAuthProfile | None = None):
    """On page load: the operator's controls shown to the operator only."""
    return gr.update(visible=operator_of(ctx, request, profile))


def on_page_load(ctx: StudioContext, request: gr.Request = None, profile: gr.OAuthProfile | None = None):
    """The figures and the table's headers in the visitor's language, and the data mode line."""
    return (*refresh_view(ctx, request, profile), t("system.disk_pending", language_of(request), mode=ctx.space.mode))


@user_facing
def disk_report(ctx: StudioContext, request: gr.Request = None, profile: gr.OAuthProfile | None = None) -> str:
    lang = language_of(request)
    if not operator_of(ctx, request, profile):
        raise gr.Error(t("system.only_operator_disk", lang))
    return disk_text(ctx, lang)


@user_facing
def unload_model(ctx: StudioContext, model_key: str, request: gr.Request = None,
                 profile: gr.OAuthProfile | None = None):
    if not operator_of(ctx, request, profile):  # the page hides the button; a crafted request meets this
        raise gr.Error(t("system.only_operator_unload", language_of(request)))
    if not model_key:
        raise gr.Error(t("system.choose", language_of(request)))
    if not ctx.manager.unload(model_key):
        gr.Info(t("system.not_loaded", language_of(request), key=model_key))
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
    intro("system.intro")
    with gr.Row():
        refresh = gr.Button(i18n("system.refresh"), variant="secondary", scale=1)
        with gr.Column(visible=False, scale=4) as operator_only:  # shown on page load to the operator alone
            with gr.Row():
                key = gr.Dropdown(choices=list(ctx.manager.status_keys()), label=i18n("studio.model"), scale=2)
                unload = gr.Button(i18n("system.unload"), variant="stop")
                show_disk = gr.Button(i18n("system.refresh_disk"), variant="secondary")
            disk = gr.Markdown(t("system.disk_pending", "en", mode=ctx.space.mode))
    table_view = gr.Dataframe(value=table(status_rows(ctx), "en"), interactive=False, wrap=True)
    summary = gr.Markdown(budget_text(ctx, lang="en"))
    with how_it_works("system"):
        gr.Markdown(i18n("system.how"))

    refresh.click(bind(ctx, refresh_view), outputs=[summary, table_view], api_visibility="private")
    show_disk.click(bind(ctx, disk_report), outputs=disk, api_visibility="private")  # walks the data dir: on demand
    unload.click(bind(ctx, unload_model), inputs=key, outputs=[summary, table_view], api_visibility="private")
    gr.Timer(10).tick(bind(ctx, refresh_view), outputs=[summary, table_view], api_visibility="private", queue=False)
    visitor.on_page_load(ctx, bind(ctx, on_page_load), [], [summary, table_view, disk])
    visitor.on_page_load(ctx, bind(ctx, operator_view), [], [operator_only])
    gr.api(mcp_tool(bind(ctx, models)), api_name="models")
