"""Blocks assembly: one line per tab, the queue, upload limits, auth, served paths."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import gradio as gr

from components import captioning, imagine, search, sentiment, speech, system, training, video, visitor
from components.common.i18n import I18N, i18n
from components.context import SHARED_TABS, StudioContext
from model_zoo.core.manager import ModelManager
from model_zoo.core.ownership import Cleaner

from . import mcp_server, zerogpu
from .settings import REPO_ROOT, Settings

log = logging.getLogger("studio")

# Adding a tab: one module in components/ and one line here. The tabs that run on
# packaged weights come first, so a visitor's first click works offline too.
TABS = [
    speech,
    sentiment,
    training,
    search,
    captioning,
    video,
    imagine,
    system,
]

# One line: what the studio does, in the browser's language (components/locales: studio.header).
HEADER = "studio.header"
# Below the tabs where MCP is on: how an agent connects (studio.footer_mcp names mcp_server.PATH,
# which tests/test_i18n.py checks, since a page's text cannot take fields).
FOOTER_MCP = "studio.footer_mcp"


@dataclass
class Studio:
    """The built app: its Blocks (launch it), the context its tabs share (the manager,
    settings and services: for the warm start, tests and scripts), and close() for both."""
    demo: gr.Blocks
    ctx: StudioContext

    def close(self) -> None:
        """Close the server, then stop the cleaner (expired visitors' items) it started."""
        try:
            self.demo.close()
        finally:
            self.ctx.close()


def build_demo(settings: Settings, manager: ModelManager | None = None) -> Studio:
    manager = manager or ModelManager(settings.manager_config())
    ctx = StudioContext(manager=manager, settings=settings)
    with gr.Blocks(title="Multimodal Studio", delete_cache=settings.delete_cache) as demo:
        gr.Markdown(i18n(HEADER), elem_id="studio-header")
        visitor.setup(ctx)  # who is asking: the browser's visitor id, sign-in where the Space has OAuth
        with gr.Tabs() as tabs:
            ctx.share(SHARED_TABS, tabs)  # a tab may select another (Imagine's "Caption it")
            for tab in TABS:
                with gr.Tab(i18n(tab.TITLE_KEY), id=tab.__name__.rsplit(".", 1)[-1]):
                    tab.build(ctx)
        if mcp_server.enabled(settings):
            gr.Markdown(i18n(FOOTER_MCP), elem_id="studio-footer-mcp")
        visitor.wire(demo, ctx)
    demo.queue(default_concurrency_limit=settings.concurrency, max_size=settings.queue_size)
    zerogpu.wrap_heavy_events(demo, settings.zerogpu_durations)  # a no-op off ZeroGPU Spaces
    # Expired visitors' items go in the background (and what a killed sweep left, now); Studio.close stops it.
    ctx.cleaner = Cleaner(ctx.space).start()
    return Studio(demo, ctx)


def launch_kwargs(settings: Settings) -> dict[str, Any]:
    """Everything launch() needs: binding, limits, auth, what may be served."""
    return dict(
        server_name=settings.host,
        server_port=settings.port,
        share=settings.share,
        auth=settings.auth_pairs or None,
        max_file_size=f"{settings.max_file_size_mb}mb",
        allowed_paths=[str(REPO_ROOT / "assets")],
        show_error=True,
        theme=gr.themes.Soft(primary_hue="indigo"),
        css_paths=[REPO_ROOT / "assets" / "style.css"],
        footer_links=["api", "gradio", "settings"],  # "Use via API or MCP" where MCP is on
        i18n=I18N,  # English and Chinese (components/locales); the browser's language picks
        **mcp_server.launch_options(settings),
    )
