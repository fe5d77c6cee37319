"""A long job never starves its model's quick calls: adding photos, indexing a video and
captioning a batch run in a "bulk" pool of their own (`StudioContext.queue_slot(lane=...)`,
--bulk-concurrency slots), so however many are running or queued, every search, caption and
video-search slot stays free. Checked on the built Blocks, and live: with more indexing jobs
than the quick pool has slots, one held (blocked) and the rest queued, a search still answers
(tiny random CLIP, the same loaders as the real one)."""
from __future__ import annotations

import threading
import time
from pathlib import Path

from gradio_client import Client, handle_file
from gradio_client.utils import Status

from app.blocks import build_demo
from app.settings import Settings, load_settings
from model_zoo.core.manager import ManagerConfig, ModelManager
from tests.conftest import serve_in_process

SAMPLES = Path(__file__).resolve().parent.parent / "assets" / "gallery"
LONG_JOBS = {"index_images", "index_video", "caption_batch", "train_head"}
QUICK_CALLS = {"search", "classify_image", "search_video", "caption", "sentiment", "speech_translate"}


def pools(tmp_path) -> dict[str, str]:
    studio = build_demo(load_settings(["--data-dir", str(tmp_path)], environ={}))
    studio.close()
    return {fn.api_name: fn.concurrency_id for fn in studio.demo.fns.values() if fn.api_name}


def test_each_long_job_has_a_pool_apart_from_every_quick_call(tmp_path):
    by_endpoint = pools(tmp_path)
    assert LONG_JOBS | QUICK_CALLS <= set(by_endpoint)
    long_pools = {by_endpoint[name] for name in LONG_JOBS}
    assert not long_pools & {by_endpoint[name] for name in QUICK_CALLS}
    # the same model family: bulk lanes sit beside their model's quick pool
    assert by_endpoint["index_images"] == "model:vision:bulk" and by_endpoint["search"] == "model:vision"
    assert by_endpoint["index_video"] == "model:video:bulk" and by_endpoint["search_video"] == "model:video"
    assert by_endpoint["caption_batch"] == "model:captioner:bulk" and by_endpoint["caption"] == "model:captioner"


def in_queue(jobs, polls: int = 600) -> None:
    """Wait until the server has queued or started every job (their uploads done)."""
    for _ in range(polls):
        if all(job.status().code in (Status.IN_QUEUE, Status.PROCESSING, Status.PROGRESS) for job in jobs):
            return
        time.sleep(0.1)
    raise AssertionError(f"jobs not queued: {[job.status().code for job in jobs]}")


def test_a_search_answers_while_indexing_jobs_fill_the_queue(tmp_path, tiny_clip_dir, monkeypatch):
    import components.search as search_tab

    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path / "cache", offline=True,
                                         overrides={"clip": str(tiny_clip_dir)}))
    index_images = search_tab.index_images
    started, release = threading.Semaphore(0), threading.Event()
    hold = threading.Event()  # set once the gallery has a photo: later index calls block

    def held_index(*args, **kwargs):
        if hold.is_set():
            started.release()
            release.wait()
        return index_images(*args, **kwargs)

    monkeypatch.setattr(search_tab, "index_images", held_index)
    with serve_in_process(tmp_path / "data", manager) as url:
        client = Client(url, verbose=False)
        assert client.predict([handle_file(str(SAMPLES / "cat.jpg"))], "trip", api_name="/index_images")["added"] == 1
        hold.set()
        # more indexing jobs than the quick pool has slots: shared, they would hold every one
        photos = sorted(SAMPLES.glob("*.jpg"))[:Settings().concurrency + 1]
        jobs = [client.submit([handle_file(str(photo))], "trip", api_name="/index_images") for photo in photos]
        give_up = threading.Timer(120, release.set)  # a starved search would wait for this: the assert then fails
        give_up.start()
        try:
            assert started.acquire(timeout=120), "no indexing job started"
            in_queue(jobs)  # so the search is behind every one of them
            found = client.predict("a cat", None, 3, "trip", api_name="/search")
            assert not release.is_set()  # it answered while indexing was still held
            assert [hit["name"] for hit in found["results"]] == ["cat.jpg"]
        finally:
            give_up.cancel()
            release.set()
        assert sum(job.result()["added"] for job in jobs) == len([p for p in photos if p.name != "cat.jpg"])
