"""Blocks assembly: one line per tab, the queue, upload limits, auth, served paths."""
from __future__ import annotations

import logging
from typing import Any

import gradio as gr

from components import captioning, search, sentiment, speech, system, training
from components.context import StudioContext
from model_zoo.manager import ModelManager

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
    system,
]

HEADER = """# Multimodal Studio
Pretrained multimodal models in your browser: captions, image search, speech translation
and sentiment, all running on this machine. Each tab's main action is also a JSON API
endpoint (see *Use via API* at the bottom of the page)."""


def build_demo(settings: Settings, manager: ModelManager | None = None) -> gr.Blocks:
    manager = manager or ModelManager(settings.manager_config())
    ctx = StudioContext(manager=manager, settings=settings)
    with gr.Blocks(title="Multimodal Studio") as demo:
        gr.Markdown(HEADER, elem_id="studio-header")
        with gr.Tabs():
            for tab in TABS:
                with gr.Tab(tab.TITLE, id=tab.__name__.rsplit(".", 1)[-1]):
                    tab.build(ctx)
    demo.queue(default_concurrency_limit=settings.concurrency, max_size=64)
    demo.studio = ctx  # handy for tests and scripts
    return demo


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
        footer_links=["api", "gradio", "settings"],
    )
