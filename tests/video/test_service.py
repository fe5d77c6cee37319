"""The video service end to end on tiny random models (fast): a clip without audio is indexed
by its pictures, stored atomically, searched; the tab's handlers keep visitors apart."""
from __future__ import annotations

import json

import pytest

from model_zoo.core.errors import InputError
from model_zoo.video import service, store
from tests.video.clips import colour_clip


@pytest.fixture(scope="module")
def silent_clip(tmp_path_factory):
    return colour_clip(tmp_path_factory.mktemp("clips") / "colours.mp4", ("red", "green", "blue", "white"), 3.0)


def test_a_video_without_audio_is_indexed_by_its_pictures(tiny_bridge_manager, silent_clip, tmp_path):
    folder = tmp_path / "videos" / "colours"
    steps = []
    report = service.index_video(tiny_bridge_manager, silent_clip, folder, progress=lambda f, d: steps.append(f))
    assert [(s["start"], s["end"]) for s in report.scenes] == [(0.0, 3.0), (3.0, 6.0), (6.0, 9.0), (9.0, 12.0)]
    assert report.segments == [] and report.transcript == ""
    assert any("no audio track" in note for note in report.notes)
    assert report.engine == "labels" and "path" not in json.dumps(report.__dict__)
    assert steps == sorted(steps) and steps[-1] >= 0.97
    assert {p.name for p in folder.iterdir()} == {"index.json", "frames.npy", "speech.npy", "keyframes"}
    assert len(list((folder / "keyframes").glob("*.jpg"))) == 4
    result = service.search_video(tiny_bridge_manager, folder, "something green", 3)
    assert len(result.results) == 3
    assert all(hit["found_by"] == "seen" and hit["transcript"] == "" for hit in result.results)
    assert {"start", "end", "score", "caption", "transcript"} <= set(result.results[0])


def test_reindexing_swaps_the_whole_folder_and_the_cache_follows_the_disk(tiny_bridge_manager, silent_clip, tmp_path):
    folder, videos = tmp_path / "colours", store.VideoIndexCache()
    service.index_video(tiny_bridge_manager, silent_clip, folder, videos=videos)
    first = store.load_index(folder, videos)
    assert store.load_index(folder, videos) is first and folder in videos  # held while the file is the same
    service.index_video(tiny_bridge_manager, silent_clip, folder, videos=videos)
    assert folder not in videos  # the save dropped it
    again = store.load_index(folder, videos)
    assert again is not first and again.sha256 == first.sha256
    assert [p.name for p in tmp_path.iterdir()] == ["colours"]  # no staging folder left behind
    store.save_index(folder, again)  # as another replica saves it: this cache is not told
    assert folder in videos and store.load_index(folder, videos) is not again  # the stamp changed: read again
    assert store.load_index(folder) is not store.load_index(folder)  # no cache: read from disk each time


def test_search_checks_its_inputs(tiny_bridge_manager, tmp_path):
    with pytest.raises(InputError, match="indexed"):
        service.search_video(tiny_bridge_manager, tmp_path / "nothing", "a cat")
    with pytest.raises(InputError, match="Type what to look for"):
        service.search_video(tiny_bridge_manager, tmp_path / "nothing", "  ")
    with pytest.raises(InputError, match="k"):
        service.search_video(tiny_bridge_manager, tmp_path / "nothing", "a cat", k=0)


def test_names(tmp_path):
    assert store.name_from_file("My clip (2).mp4") == "My-clip-2"
    assert store.name_from_file("....mp4") == "video"
    for bad in ("../x", "", "a/b", ".hidden"):
        with pytest.raises(InputError):
            store.check_video_name(bad)


def test_the_tab_keeps_each_visitors_videos_apart(tiny_bridge_manager, silent_clip, tmp_path):
    from app.settings import load_settings
    from components import video
    from components.context import StudioContext

    ctx = StudioContext(tiny_bridge_manager, load_settings(["--data-dir", str(tmp_path)], environ={}))
    alice, bob = ctx.space.anonymous("session", "alice-session"), ctx.space.anonymous("session", "bob-session-1")
    report = video.index_video(ctx, {"path": str(silent_clip), "orig_name": "Colours!.mp4"}, "", owner=alice)
    assert report["video"] == "Colours"
    assert video.visible_videos(ctx, alice) == ["Colours"] and video.visible_videos(ctx, bob) == []
    assert video.search_video(ctx, "red", "Colours", 2, owner=alice)["results"]
    assert ctx.space.folder(alice, "videos") / "Colours" in ctx.videos  # the context's cache, passed down
    with pytest.raises(InputError, match="No video named"):
        video.search_video(ctx, "red", "Colours", 2, owner=bob)
    added = video.add_keyframes_to_gallery(ctx, "Colours", "frames", owner=alice)
    assert added["added"] == 4 and added["total"] == 4
    assert (ctx.space.folder(alice, "galleries") / "frames" / "manifest.json").is_file()
    assert ctx.space.folder(alice, "galleries") / "frames" in ctx.galleries  # held open by the context


def test_a_video_cut_off_midway_is_indexed_as_far_as_it_goes(tiny_bridge_manager, tmp_path):
    from tests.video.clips import ffmpeg

    whole = colour_clip(tmp_path / "whole.mp4", ("red", "green", "blue", "white", "black", "yellow"), 10.0)
    fast = tmp_path / "fast.mp4"  # the index (moov) first, as a streamed upload has it: the cut loses the end
    ffmpeg("-i", str(whole), "-c", "copy", "-movflags", "+faststart", str(fast))
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(fast.read_bytes()[: fast.stat().st_size // 2])
    report = service.index_video(tiny_bridge_manager, cut, tmp_path / "videos" / "cut")
    assert 1 <= len(report.scenes) < 6
    assert any("truncated" in note for note in report.notes), report.notes
