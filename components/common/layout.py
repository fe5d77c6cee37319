"""The shape every tab shares: at most one short sentence above its controls (and, where
weights are missing, one line linking into the tab's accordion); everything else (how it
works, which engine, what a missing model would add, how to get it) in a closed
"How it works" accordion below the results."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator
from weakref import WeakSet

import gradio as gr

from .i18n import i18n

# A link to "#<tab>-how" (the notice lines') opens that tab's accordion and scrolls to it.
OPEN_ON_LINK = """() => {
  if (window.__mmsHowLinks) return [];
  window.__mmsHowLinks = true;
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a[href$="-how"]');
    const box = link && document.getElementById(link.getAttribute('href').replace(/^#/, ''));
    if (!box) return;
    event.preventDefault();
    const toggle = box.querySelector('.label-wrap');
    if (toggle && !toggle.classList.contains('open')) toggle.click();
    box.scrollIntoView({behavior: 'smooth', block: 'start'});
  });
  return [];
}"""
_wired: WeakSet = WeakSet()


def how_id(tab: str) -> str:
    """The elem_id of a tab's "How it works" accordion (what its notice links to)."""
    return f"{tab}-how"


def intro(key: str) -> gr.Markdown:
    """The one sentence above a tab's controls."""
    return gr.Markdown(i18n(key), elem_classes=["tab-intro"])


def notice(key: str | None, elem_id: str | None = None) -> gr.Markdown:
    """The one line saying what is missing here, with a link into the accordion (the
    table's text holds the link); hidden when nothing is."""
    return gr.Markdown(i18n(key) if key else "", visible=bool(key), elem_classes=["tab-notice"], elem_id=elem_id)


def notice_update(key: str | None) -> dict:
    """The notice for another choice (a model dropdown's change)."""
    return gr.update(value=i18n(key) if key else "", visible=bool(key))


@contextmanager
def how_it_works(tab: str) -> Iterator[gr.Accordion]:
    """The tab's closed "How it works" accordion; a link to #<tab>-how opens it."""
    with gr.Accordion(i18n("studio.how_it_works"), open=False, elem_id=how_id(tab)) as box:
        yield box
    root = gr.context.Context.root_block
    if root is not None and root not in _wired:  # one listener per page, whichever tab asks first
        _wired.add(root)
        root.load(None, js=OPEN_ON_LINK, api_visibility="private")
