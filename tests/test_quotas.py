"""Quotas under concurrency, through the tabs' own handlers (tiny models, no server): one
visitor firing many writes at once, and several visitors at once, never take an owner past
the quota, whatever writes them (galleries, heads, video indexes, result files)."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import gradio as gr
import pytest

from app.settings import load_settings
from components import search, sentiment
from components.context import StudioContext
from model_zoo.core.ownership import QuotaExceeded

PHOTOS = sorted((Path(__file__).resolve().parent.parent / "assets" / "gallery").glob("*.jpg"))


def make_ctx(manager, data_dir: Path, quota_mb: float) -> StudioContext:
    settings = load_settings(["--data-dir", str(data_dir), "--owner-quota-mb", str(quota_mb)], environ={})
    return StudioContext(manager, settings)


def one_gallery_bytes(manager, data_dir: Path) -> int:
    """What one photo's gallery takes on disk (to size a quota that holds about one)."""
    ctx = make_ctx(manager, data_dir, 100)
    owner = ctx.space.anonymous("session", "measure-0000")
    search.index_images(ctx, [{"path": str(PHOTOS[0])}], "probe", owner=owner)
    return ctx.space.used_bytes(owner)


def fire(calls: list) -> list:
    """Run the calls all at once (released together); each result or the error it raised."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        try:
            return call()
        except (gr.Error, QuotaExceeded) as exc:
            return exc

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_six_concurrent_index_calls_of_one_visitor_stay_within_the_quota(tiny_bridge_manager, tmp_path):
    """The issue's case: with --owner-quota-mb 0.05 six /index_images calls at once had two
    accepted, because each checked the folder before writing and none saw the others."""
    one = one_gallery_bytes(tiny_bridge_manager, tmp_path / "probe")
    ctx = make_ctx(tiny_bridge_manager, tmp_path / "data", quota_mb=1.5 * one / 2**20)  # room for about one
    visitor = ctx.space.anonymous("session", "visitor-0001")
    calls = [lambda n=n: search.index_images(ctx, [{"path": str(PHOTOS[n])}], f"g{n}", owner=visitor)
             for n in range(6)]
    results = fire(calls)
    accepted = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if not isinstance(r, dict)]
    assert accepted and len(refused) >= 4, results  # one or two small photos fit; not six
    assert all("Your space is full" in str(r) for r in refused)
    assert ctx.space.used_bytes(visitor) <= ctx.space.quota_bytes
    assert ctx.space.reserved_bytes(visitor) == 0


def test_concurrent_writes_of_several_visitors_each_stay_within_their_quota(tiny_bridge_manager, tmp_path):
    """Three visitors, each adding to one gallery from four requests at once, and writing
    batch results meanwhile: each owner ends within the quota, and one's use never counts
    against another."""
    one = one_gallery_bytes(tiny_bridge_manager, tmp_path / "probe")
    ctx = make_ctx(tiny_bridge_manager, tmp_path / "data", quota_mb=2.5 * one / 2**20)
    visitors = [ctx.space.anonymous("session", f"visitor-{n:04d}") for n in range(3)]
    table = tmp_path / "rows.csv"
    table.write_text("text\n" + "".join(f"a fine sentence number {n}\n" for n in range(200)))
    calls = []
    for v, owner in enumerate(visitors):
        calls += [lambda n=n, owner=owner, v=v: search.index_images(ctx, [{"path": str(PHOTOS[4 * v + n])}], "mine",
                                                                    owner=owner) for n in range(4)]
        calls += [lambda owner=owner: sentiment.batch_predict(ctx, {"path": str(table)}, "text", "fast", owner=owner)]
    results = fire(calls)
    assert any(isinstance(r, dict) for r in results)  # the quota lets some writes in...
    assert any(isinstance(r, Exception) for r in results)  # ...and refuses the rest
    for owner in visitors:
        assert 0 < ctx.space.used_bytes(owner) <= ctx.space.quota_bytes
        assert ctx.space.reserved_bytes(owner) == 0


def test_every_writer_of_an_owner_s_items_admits_through_the_quota(tiny_bridge_manager, tmp_path):
    """A full owner is refused by each kind of write, and nothing is left half-written."""
    from model_zoo.fusion.training import save_head
    from model_zoo.video import store

    ctx = make_ctx(tiny_bridge_manager, tmp_path / "data", quota_mb=0.01)  # about 10 KB
    owner = ctx.space.anonymous("session", "visitor-full")
    quota = ctx.space.quota(owner)
    import numpy as np
    import torch

    with pytest.raises(QuotaExceeded):
        save_head(ctx.space.folder(owner, "heads") / "big", {"w": torch.zeros(64, 64)}, {"name": "big"}, quota=quota)
    index = store.VideoIndex(name="clip", source="clip.mp4", sha256="0" * 64, duration_s=1.0, scenes=[],
                             frame_vectors=np.zeros((0, 4), np.float32), frame_model="m", segments=[],
                             search_segments=[], segment_vectors=np.zeros((64, 64), np.float32), text_model="t",
                             language="", transcript="", translation="", keyframes=[b"x" * 20_000], notes=[],
                             timing={})
    with pytest.raises(QuotaExceeded):
        store.save_index(ctx.space.folder(owner, "videos") / "clip", index, quota)
    with pytest.raises(gr.Error, match="Your space is full"):
        search.index_images_api(ctx, [{"path": str(p)} for p in PHOTOS[:4]], "mine", owner=owner)
    assert ctx.space.used_bytes(owner) == 0
    leftovers = [p for p in (ctx.space.owners_root / owner.id).rglob("*") if p.is_file()
                 and ".last-use" not in p.parts]
    assert leftovers == []
