"""/index_video and /search_video through gradio_client on the app as shipped (python app.py,
offline, private mode, warm start on): one call each, plus a bad file's message."""
from __future__ import annotations

import pytest
from gradio_client import Client, handle_file

from tests.video.clips import EXAMPLE, bad_videos

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(live_app):
    """One visitor of the shared shipped app (private mode: the video index is theirs alone)."""
    return Client(live_app, verbose=False)


def test_index_then_search_a_video(client):
    report = client.predict(handle_file(str(EXAMPLE)), "example", api_name="/index_video")
    assert isinstance(report, dict) and report["video"] == "example"
    assert {"video", "duration_s", "scenes", "transcript", "language", "segments", "timing"} <= set(report)
    assert len(report["scenes"]) == 5 and report["language"] == "en" and report["transcript"]
    found = client.predict("where the budget is mentioned", "example", 3, api_name="/search_video")
    best = found["results"][0]
    assert {"start", "end", "score", "caption", "transcript"} <= set(best) and "path" not in best
    assert 10.0 <= (best["start"] + best["end"]) / 2 < 15.0


def test_a_fake_video_gets_a_clear_error_and_the_server_stays_up(client, tmp_path):
    fake = bad_videos(tmp_path)["mp3-named.mp4"]
    with pytest.raises(Exception, match="no video track"):
        client.predict(handle_file(str(fake)), "fake", api_name="/index_video")
    with pytest.raises(Exception, match="No video named"):
        client.predict("a cat", "never-indexed", 3, api_name="/search_video")
    assert client.predict("a cat", "example", 1, api_name="/search_video")["results"]
