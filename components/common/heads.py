"""The sentiment service as every tab sees it (Sentiment, Train a head, the warm start): one
SentimentService and its caches for all visitors, its head store scoped per request to the
heads an owner may use (their own trained heads plus the shipped ones), and the owner's head
pinned while a request uses it so the cleaner leaves it be. Not a tab: the tabs import it, it
imports no tab. The heads themselves (store, training, scoping) are model_zoo.sentiment's."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from model_zoo.core.ownership import Owner
from model_zoo.sentiment.service import SentimentService

from ..context import StudioContext


def service(ctx: StudioContext) -> SentimentService:
    """The one service (and caches) for every visitor, made with the context; its store
    lists the trained heads of whichever owner `owned_heads` scopes it to (outside a scope:
    the operator's)."""
    return ctx.sentiment


@contextmanager
def owned_heads(ctx: StudioContext, owner: Owner, head: str | None = None) -> Iterator[SentimentService]:
    """The service seeing `owner`'s heads (plus the shipped ones); `head`, if the owner's
    own, is pinned meanwhile so the cleaner leaves it be."""
    svc = service(ctx)
    folder = ctx.space.folder(owner, "heads")
    with svc.store.scoped(folder):
        if head and ctx.space.safe_name(head) and (folder / head).is_dir():
            with ctx.space.using(owner, "heads", head):
                yield svc
        else:
            yield svc


def head_names(ctx: StudioContext, owner: Owner | None) -> list[str]:
    """Heads `owner` may pick: theirs and the shipped ones (only the shipped ones for None)."""
    svc = service(ctx)
    if owner is None:
        return [name for name in svc.store.names() if svc.store.folder(name)[1] == "shipped"]
    with owned_heads(ctx, owner):
        return svc.store.names()
