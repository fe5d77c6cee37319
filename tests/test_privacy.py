"""Privacy on a public demo, through the JSON API as a visitor's script meets it: two
gradio_client sessions each index their own photos and train their own (tiny) head;
neither can list, search, use or remove the other's; the shared sample gallery and the
shipped heads serve both; a third client naming the first one's gallery by name is told
there is no such gallery. With --data-mode shared everyone sees everything (a trusted
local install). CLIP and the text encoder are tiny random models (same loaders)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from gradio_client import Client, handle_file

from model_zoo.vision import search
from model_zoo.core.manager import ManagerConfig, ModelManager
from tests.conftest import serve_in_process

ASSETS = Path(__file__).resolve().parent.parent / "assets"
SAMPLES = ASSETS / "gallery"
ANN_PHOTOS = [SAMPLES / "cat.jpg", SAMPLES / "coffee.jpg"]
BOB_PHOTOS = [SAMPLES / "rocket.jpg", SAMPLES / "astronaut.jpg"]


@pytest.fixture(scope="module")
def manager(tiny_clip_dir, tiny_text_encoder_dir, tmp_path_factory) -> ModelManager:
    return ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path_factory.mktemp("privacy-cache"), offline=True,
                                      overrides={"clip": str(tiny_clip_dir), "minilm": str(tiny_text_encoder_dir)}))


@pytest.fixture(scope="module")
def reviews(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("privacy-data") / "reviews.csv"
    pd.DataFrame({"text": ["good fun", "lovely", "great plot", "a dull mess", "awful", "boring film"] * 3,
                  "label": ["pos", "pos", "pos", "neg", "neg", "neg"] * 3}).to_csv(path, index=False)
    return path


def with_sample_gallery(manager: ModelManager, data: Path) -> Path:
    """The operator's shared sample gallery (what the Search tab's button builds)."""
    search.add_files(manager, data / "galleries" / "sample", [SAMPLES / "temple.jpg", SAMPLES / "cat.jpg"])
    return data


def error_of(client: Client, *args, api_name: str) -> str:
    with pytest.raises(Exception) as info:
        client.predict(*args, api_name=api_name)
    assert "Traceback" not in str(info.value)
    return str(info.value)


def train_tiny_head(client: Client, reviews: Path, name: str) -> dict:
    return client.predict(handle_file(str(reviews)), "late", 2, 0.005, 16, 8, 0, name, "", api_name="/train_head")


@pytest.fixture(scope="module")
def private_app(manager, tmp_path_factory):
    data = with_sample_gallery(manager, tmp_path_factory.mktemp("private-app"))
    with serve_in_process(data, manager) as url:  # private is the default
        yield url, data


def test_two_sessions_never_see_each_others_galleries_or_heads(private_app, reviews):
    url, data = private_app
    ann, bob = Client(url, verbose=False), Client(url, verbose=False)
    assert ann.predict([handle_file(str(p)) for p in ANN_PHOTOS], "trip", api_name="/index_images")["added"] == 2
    assert bob.predict([handle_file(str(p)) for p in BOB_PHOTOS], "space", api_name="/index_images")["added"] == 2
    assert train_tiny_head(ann, reviews, "ann-head")["head"] == "ann-head"

    # Each lists its own and the shared ones, never the other's.
    assert ann.predict(api_name="/galleries")["galleries"] == ["sample", "trip"]
    assert bob.predict(api_name="/galleries")["galleries"] == ["sample", "space"]
    assert "ann-head" in ann.predict(api_name="/heads")["heads"]
    assert "ann-head" not in bob.predict(api_name="/heads")["heads"]
    assert {"default", "fast"} <= set(bob.predict(api_name="/heads")["heads"])  # shipped heads: everyone's

    # Each searches its own...
    found = ann.predict("a cup of coffee", None, 5, "trip", api_name="/search")
    assert sorted(hit["name"] for hit in found["results"]) == ["cat.jpg", "coffee.jpg"]
    assert ann.predict("fine film", None, None, "ann-head", api_name="/sentiment")["head"] == "ann-head"
    # ... and naming the other's is answered as if it did not exist.
    assert "no such gallery 'trip'" in error_of(bob, "a cat", None, 5, "trip", api_name="/search").lower()
    assert "no such gallery 'trip'" in error_of(bob, "0", "trip", api_name="/remove_images").lower()
    assert "no head called 'ann-head'" in error_of(bob, "fine film", None, None, "ann-head",
                                                   api_name="/sentiment").lower()
    # Bob may use the same names for his own things: another namespace, no clash.
    assert bob.predict([handle_file(str(BOB_PHOTOS[0]))], "trip", api_name="/index_images")["total"] == 1
    assert ann.predict("a cat", None, 5, "trip", api_name="/search")["results"][0]["name"] in {"cat.jpg", "coffee.jpg"}
    assert len(ann.predict("a cat", None, 5, "trip", api_name="/search")["results"]) == 2

    # A third client naming the first one's gallery: no such gallery.
    carol = Client(url, verbose=False)
    assert "no such gallery" in error_of(carol, "a cat", None, 5, "space", api_name="/search").lower()
    assert carol.predict(api_name="/galleries")["galleries"] == ["sample"]

    # The shared sample gallery serves everyone, read-only to visitors.
    for client in (ann, bob, carol):
        hits = client.predict("a temple", None, 2, "sample", api_name="/search")["results"]
        assert sorted(hit["name"] for hit in hits) == ["cat.jpg", "temple.jpg"]
    assert "read-only" in error_of(carol, [handle_file(str(BOB_PHOTOS[0]))], "sample", api_name="/index_images")
    assert "read-only" in error_of(carol, "0", "sample", api_name="/remove_images")

    # Removing from one's own gallery works, and touches no one else's.
    removed = ann.predict("0", "trip", api_name="/remove_images")
    assert removed["images"] == 1 and bob.predict("x", None, 5, "trip", api_name="/search")["results"]

    # On disk: each visitor in a folder of their own (named by a keyed hash, not by the session).
    owners = sorted(p.name for p in (data / "owners").iterdir() if not p.name.startswith("."))
    assert len(owners) == 2 and all(len(name) == 34 for name in owners)
    assert not (data / "galleries" / "trip").exists() and not (data / "heads" / "ann-head").exists()


def mcp_call(url: str, tool: str, arguments: dict, headers: dict | None = None):
    """One tool call through the real MCP client (streamable HTTP)."""
    import asyncio

    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    async def call():
        async with streamablehttp_client(url + "gradio_api/mcp/", headers=headers) as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await session.call_tool(tool, arguments)

    return asyncio.run(call())


def test_agents_are_owners_by_key_or_handle_and_a_script_with_the_key_shares_their_items(private_app, reviews):
    """An MCP call has no session of its own: the key it sends (X-Studio-Key), or the key in a handle,
    is its owner. A gradio_client script sending the same key is the same owner (it trains a head the
    agent then uses); no one without the key reaches it."""
    import base64
    import json

    from model_zoo.core.ownership import OwnerSpace

    url, _ = private_app
    key = OwnerSpace.new_key()
    script = Client(url, verbose=False, headers={"X-Studio-Key": key})
    assert train_tiny_head(script, reviews, "key-head")["head"] == "key-head"
    with_key = mcp_call(url, "sentiment", {"text": "fine film", "head": "key-head"}, {"X-Studio-Key": key})
    assert not with_key.isError and json.loads(with_key.content[0].text)["head"] == "key-head"
    by_handle = mcp_call(url, "sentiment", {"text": "fine film", "head": f"key-head@{key}"})
    assert json.loads(by_handle.content[0].text)["head"] == "key-head"
    for headers in (None, {"X-Studio-Key": OwnerSpace.new_key()}):
        refused = mcp_call(url, "sentiment", {"text": "fine film", "head": "key-head"}, headers)
        assert refused.isError and "no head called 'key-head'" in refused.content[0].text.lower()
    assert "no head called" in error_of(Client(url, verbose=False), "fine film", None, None, "key-head",
                                        api_name="/sentiment").lower()
    photo = "data:image/jpeg;base64," + base64.b64encode(ANN_PHOTOS[0].read_bytes()).decode()
    made = json.loads(mcp_call(url, "index_images", {"files": [photo], "gallery": "agent-trip"}).content[0].text)
    handle = made["handle"]
    assert handle.startswith("agent-trip@mms_") and made["added"] == 1
    assert len(Client(url, verbose=False).predict("a cat", None, 5, handle, api_name="/search")["results"]) == 1
    assert "no such gallery" in error_of(script, "a cat", None, 5, "agent-trip", api_name="/search").lower()
    refused = mcp_call(url, "search", {"query": "a cat", "gallery": "agent-trip"})
    assert refused.isError and "No such gallery 'agent-trip'" in refused.content[0].text


def test_in_the_shared_mode_everyone_sees_everything(manager, reviews, tmp_path):
    with serve_in_process(tmp_path, manager, environ={"MMS_DATA_MODE": "shared"}) as url:
        ann, bob = Client(url, verbose=False), Client(url, verbose=False)
        ann.predict([handle_file(str(p)) for p in ANN_PHOTOS], "trip", api_name="/index_images")
        train_tiny_head(ann, reviews, "ann-head")
        assert bob.predict(api_name="/galleries")["galleries"] == ["trip"]
        assert len(bob.predict("a cat", None, 5, "trip", api_name="/search")["results"]) == 2
        assert bob.predict("fine film", None, None, "ann-head", api_name="/sentiment")["head"] == "ann-head"
        bob.predict([handle_file(str(BOB_PHOTOS[0]))], "trip", api_name="/index_images")
        assert ann.predict("a cat", None, 5, "trip", api_name="/search")["results"][0]["name"]
        assert len(ann.predict("x", None, 5, "trip", api_name="/search")["results"]) == 3
    assert (tmp_path / "galleries" / "trip").is_dir() and (tmp_path / "heads" / "ann-head").is_dir()
    assert not (tmp_path / "owners").exists() or not any(p for p in (tmp_path / "owners").iterdir()
                                                         if not p.name.startswith("."))


def test_with_auth_a_user_keeps_their_galleries_across_sessions(manager, tmp_path):
    with serve_in_process(tmp_path, manager, environ={"MMS_AUTH": "ann:pw-a,bob:pw-b"}) as url:
        first = Client(url, auth=("ann", "pw-a"), verbose=False)
        first.predict([handle_file(str(ANN_PHOTOS[0]))], "mine", api_name="/index_images")
        again = Client(url, auth=("ann", "pw-a"), verbose=False)  # another session, the same user
        assert again.predict(api_name="/galleries")["galleries"] == ["mine"]
        bob = Client(url, auth=("bob", "pw-b"), verbose=False)
        assert bob.predict(api_name="/galleries")["galleries"] == []
        assert "no such gallery" in error_of(bob, "a cat", None, 5, "mine", api_name="/search").lower()
    (owner,) = [p for p in (tmp_path / "owners").iterdir() if not p.name.startswith(".")]
    assert owner.name.startswith("u-")  # a signed-in owner: kept, never expired
