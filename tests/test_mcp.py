"""The studio as an MCP server, as an agent meets it: `python app.py` as shipped (MCP on by default,
private mode, offline, warm start on; the session's shared app) and the real `mcp` client package
(streamable HTTP at /gradio_api/mcp/, ClientSession). The tools are listed with descriptions and
every parameter described; each answers on real material (speech by WER and meaning recall as in
the Speech tab, sentiment both ways, a painted sign read, photos captioned and labelled, a gallery
indexed and searched, the example video indexed and searched); files go in as data URIs and as
URLs of files this server serves, and come out as URLs; two agents never reach each other's
galleries or videos, whether they hold handles or header keys; bad input is a tool error a person
can act on and the server keeps answering; a tool call costs at most 1.5x the same call through
gradio_client."""
from __future__ import annotations

import asyncio
import base64
import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from model_zoo.core.ownership import OwnerSpace
from tests.speech_clips import GERMAN, GERMAN_MEANING, LIBRIVOX_TEXT, meaning_recall, word_error_rate
from tests.vision.signs import GALLERY, render_sign

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
AUDIO = REPO / "assets" / "audio"
VIDEO = REPO / "assets" / "video" / "example.mp4"
TOOLS = {"speech_translate", "sentiment", "caption", "read_text", "classify_image", "index_images", "search",
         "index_video", "search_video", "generate_image", "models"}
MIME = {".jpg": "image/jpeg", ".png": "image/png", ".ogg": "audio/ogg", ".mp4": "video/mp4", ".wav": "audio/wav"}


# -- a real MCP client -------------------------------------------------------------------------------
async def _session_calls(url: str, calls: list[tuple[str, dict]], headers: dict | None) -> list:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    async with streamablehttp_client(url, headers=headers) as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
            results = []
            for name, arguments in calls:
                if name == "list":
                    results.append((await session.list_tools()).tools)
                else:
                    results.append(await session.call_tool(name, arguments))
            return results


class Agent:
    """One MCP client: each call is a tool call over streamable HTTP, optionally with headers
    (an owner key in X-Studio-Key)."""

    def __init__(self, url: str, headers: dict | None = None) -> None:
        self.url, self.headers = url, headers

    def tools(self) -> list:
        return asyncio.run(_session_calls(self.url, [("list", {})], self.headers))[0]

    def call(self, tool: str, **arguments: Any):
        return asyncio.run(_session_calls(self.url, [(tool, arguments)], self.headers))[0]

    def answer(self, tool: str, **arguments: Any) -> dict:
        """The tool's JSON answer; fails the test with the tool's error text if it is one."""
        result = self.call(tool, **arguments)
        assert not result.isError, result.content[0].text
        return json.loads(result.content[0].text)

    def error(self, tool: str, **arguments: Any) -> str:
        result = self.call(tool, **arguments)
        assert result.isError, f"{tool} answered instead of failing: {result.content[0].text[:300]}"
        text = result.content[0].text
        assert "Traceback" not in text
        return text


def data_uri(path: Path, named: bool = False) -> str:
    """The file inline, as MCP clients send it (with its name as a parameter if `named`)."""
    name = f";name={path.name}" if named else ""
    return f"data:{MIME[path.suffix]}{name};base64," + base64.b64encode(Path(path).read_bytes()).decode()


@pytest.fixture(scope="module")
def app(shipped_app):
    return shipped_app


@pytest.fixture(scope="module")
def mcp_url(app) -> str:
    return app.url.rstrip("/") + "/gradio_api/mcp/"


@pytest.fixture(scope="module")
def agent(mcp_url) -> Agent:
    return Agent(mcp_url)


def served_url(app, path: Path) -> str:
    """A URL of a file this server serves (the repo's assets are allowed paths)."""
    return f"{app.url.rstrip('/')}/gradio_api/file={path}"


# -- the tools -----------------------------------------------------------------------------------------
def test_the_tools_are_listed_with_what_they_are_for_and_every_parameter_described(agent, app):
    tools = {tool.name: tool for tool in agent.tools()}
    assert set(tools) == TOOLS  # only these: training, batches and UI events are not tools
    for name, tool in tools.items():
        assert "Use" in tool.description and len(tool.description) > 120, name
        for parameter, schema in tool.inputSchema["properties"].items():
            assert len(schema.get("description", "")) > 15, f"{name}.{parameter} is not described"
    files = [(name, p, s) for name, tool in tools.items() for p, s in tool.inputSchema["properties"].items()
             if "Gradio File Input" in json.dumps(s)]
    assert {(name, p) for name, p, _ in files} == {
        ("speech_translate", "audio"), ("sentiment", "image"), ("sentiment", "audio"), ("caption", "image"),
        ("read_text", "image"), ("classify_image", "image"), ("index_images", "files"), ("search", "image"),
        ("index_video", "video")}
    for name, parameter, schema in files:
        assert "URL" in schema["description"] and "data URI" in schema["description"], (name, parameter)
    task = tools["speech_translate"].inputSchema["properties"]["task"]["description"]
    assert all(value in task for value in ('"translate"', '"transcribe"', '"both"'))
    assert "Agents: MCP at" in app.log()
    for _ in range(120):  # the app's own first call made Gradio's loopback client in the background
        if "MCP ready for agents" in app.log():
            break
        time.sleep(0.5)
    assert "MCP ready for agents" in app.log()
    config = urllib.request.urlopen(app.url.rstrip("/") + "/config", timeout=10).read().decode()
    assert "studio-footer-mcp" in config and "gradio_api/mcp/" in config  # the page says where agents connect
    assert json.loads(config)["mcp_server"] is True  # Gradio's footer: "Use via API or MCP"


def test_speech_is_transcribed_and_translated_as_in_the_speech_tab(agent, app):
    german = agent.answer("speech_translate", audio=data_uri(AUDIO / "german_water_bread.ogg"), task="both")
    assert german["language"] == "de", german
    assert word_error_rate(GERMAN, german["transcript"]) <= 0.25, german["transcript"]
    assert meaning_recall(GERMAN_MEANING, german["translation"]) >= 0.6, german["translation"]
    srt = urllib.request.urlopen(german["subtitles"]["srt"], timeout=10).read().decode()  # files come back as URLs
    assert "-->" in srt and german["subtitles"]["vtt"].startswith(app.url.rstrip("/"))
    # a URL of a file this server serves is read in place (one tool's output can feed the next)
    english = agent.answer("speech_translate", audio=served_url(app, AUDIO / "librivox_sense_and_sensibility.ogg"))
    assert english["language"] == "en"
    assert word_error_rate(LIBRIVOX_TEXT, english["translation"].replace("Mr.", "mister")) <= 0.05, english


def test_sentiment_reads_both_ways_and_explains(agent):
    good = agent.answer("sentiment", text="An utterly charming, heartfelt story that stays with you.")
    bad = agent.answer("sentiment", text="The battery died after two days. Total waste of money.")
    assert good["label"] == "positive" and bad["label"] == "negative", (good, bad)
    assert good["intensity"] > 0 > bad["intensity"]
    assert [w["token"] for w in good["attributions"]][:2] == ["An", "utterly"]
    assert max(good["attributions"], key=lambda w: w["weight"])["token"].strip(",.") in ("charming", "heartfelt")


def test_a_sign_is_read_and_photos_are_captioned_and_labelled(agent, app, tmp_path):
    sign = render_sign("PHARMACY", "temple", tmp_path / "pharmacy.jpg", board=(20, 110, 60))
    read = agent.answer("read_text", image=data_uri(sign))
    assert read["text"] == "PHARMACY" and read["lines"][0]["confidence"] > 0.8
    page = agent.answer("read_text", image=served_url(app, GALLERY / "text_page.jpg"))
    assert "Region-based segmentation" in page["text"]
    cat = agent.answer("caption", image=data_uri(GALLERY / "cat.jpg"))
    assert "cat" in cat["caption"].lower(), cat["caption"]
    labels = agent.answer("classify_image", image=data_uri(GALLERY / "coffee.jpg"), labels="a cat, coffee, a rocket")
    assert max(labels["scores"], key=labels["scores"].get) == "coffee", labels["scores"]


def test_the_models_are_listed(agent):
    result = agent.call("models")
    assert not result.isError
    models = {m["key"]: m for m in json.loads(result.content[0].text)}
    assert models["whisper-base"]["weights"] == "offline pack" and "diffusion" in models


def test_without_weights_generate_image_says_what_is_missing(agent):
    text = agent.error("generate_image", prompt="a lighthouse in a storm", width=64, height=64)
    assert "weights" in text.lower() and "prefetch" in text


# -- galleries and videos: each agent's own -------------------------------------------------------
PHOTOS = ["cat", "rocket", "coffee", "astronaut"]


def test_a_gallery_is_indexed_and_searched_through_its_handle_and_no_one_else_reaches_it(mcp_url, agent):
    ann, bob = Agent(mcp_url), Agent(mcp_url)
    made = ann.answer("index_images", files=[data_uri(GALLERY / f"{p}.jpg", named=True) for p in PHOTOS],
                      gallery="trip")
    assert (made["added"], made["total"], made["gallery"]) == (4, 4, "trip")
    handle = made["handle"]
    assert handle.startswith("trip@mms_") and OwnerSpace.valid_key(handle.split("@", 1)[1])
    by_id = dict(zip(made["ids"], PHOTOS))
    for query, wanted in (("a cat", "cat"), ("a rocket launch", "rocket"), ("a cup of coffee", "coffee")):
        hits = ann.answer("search", query=query, gallery=handle, k=2)["results"]
        assert by_id[hits[0]["id"]] == wanted and hits[0]["name"] == f"{wanted}.jpg", (query, hits)
    by_image = ann.answer("search", image=data_uri(GALLERY / "cat.jpg"), gallery=handle, k=1)["results"]
    assert by_id[by_image[0]["id"]] == "cat"
    # more images into the same gallery through the handle
    assert ann.answer("index_images", files=[data_uri(GALLERY / "moon.jpg")], gallery=handle)["total"] == 5
    # another agent, by name or by a key of its own, finds no such gallery; the handle is the only way in
    for who, gallery in ((bob, "trip"), (agent, "trip"), (bob, f"trip@{OwnerSpace.new_key()}")):
        assert "No such gallery 'trip'" in who.error("search", query="a cat", gallery=gallery)
    mine = bob.answer("index_images", files=[data_uri(GALLERY / "flower.jpg")], gallery="trip")
    assert mine["total"] == 1 and mine["handle"] != handle  # the same name, another gallery
    assert len(bob.answer("search", query="a cat", gallery=mine["handle"], k=5)["results"]) == 1
    assert len(ann.answer("search", query="a flower", gallery=handle, k=10)["results"]) == 5


def test_a_header_key_keeps_an_agents_items_across_calls_and_from_everyone_else(mcp_url, app):
    from gradio_client import Client

    key, other = OwnerSpace.new_key(), OwnerSpace.new_key()
    carol = Agent(mcp_url, {"X-Studio-Key": key})
    made = carol.answer("index_images", files=[data_uri(GALLERY / "cat.jpg")], gallery="pets")
    assert made["handle"] == f"pets@{key}"
    assert carol.answer("search", query="a cat", gallery="pets")["results"]  # by name: the key says whose
    bearer = Agent(mcp_url, {"Authorization": f"Bearer {key}"})
    assert bearer.answer("search", query="a cat", gallery="pets")["results"]
    for stranger in (Agent(mcp_url), Agent(mcp_url, {"X-Studio-Key": other})):
        assert "No such gallery 'pets'" in stranger.error("search", query="a cat", gallery="pets")
    # the same key reaches the same items from gradio_client; a plain session does not
    client = Client(app.url, verbose=False, headers={"X-Studio-Key": key})
    assert client.predict("a cat", None, 1, "pets", api_name="/search")["results"]
    with pytest.raises(Exception, match="No such gallery"):
        Client(app.url, verbose=False).predict("a cat", None, 1, "pets", api_name="/search")


def test_a_video_is_indexed_and_searched_by_its_agent_only(mcp_url):
    dave, eve = Agent(mcp_url), Agent(mcp_url)
    report = dave.answer("index_video", video=data_uri(VIDEO), name="example")
    assert report["video"] == "example" and len(report["scenes"]) == 5 and report["language"] == "en"
    assert report["handle"].startswith("example@mms_") and "-->" in urllib.request.urlopen(
        report["subtitles"]["srt"], timeout=10).read().decode()
    best = dave.answer("search_video", query="where the budget is mentioned", name=report["handle"], k=3)["results"][0]
    assert 10.0 <= (best["start"] + best["end"]) / 2 < 15.0, best
    assert "No video named" in eve.error("search_video", query="the budget", name="example")


def test_the_sse_transport_serves_the_same_tools_and_owners(mcp_url):
    from mcp import ClientSession
    from mcp.client.sse import sse_client

    key = OwnerSpace.new_key()

    async def over_sse(headers: dict | None, calls: list[tuple[str, dict]]) -> list:
        async with sse_client(mcp_url + "sse", headers=headers) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = [tool.name for tool in (await session.list_tools()).tools]
                return [tools] + [await session.call_tool(name, arguments) for name, arguments in calls]

    tools, made, found = asyncio.run(over_sse({"X-Studio-Key": key}, [
        ("index_images", {"files": [data_uri(GALLERY / "rocket.jpg")], "gallery": "sse"}),
        ("search", {"query": "a rocket", "gallery": "sse"})]))
    assert set(tools) == TOOLS
    assert json.loads(made.content[0].text)["handle"] == f"sse@{key}"
    assert len(json.loads(found.content[0].text)["results"]) == 1
    _, refused = asyncio.run(over_sse(None, [("search", {"query": "a rocket", "gallery": "sse"})]))
    assert refused.isError and "No such gallery 'sse'" in refused.content[0].text


# -- bad input ---------------------------------------------------------------------------------------
def test_bad_input_is_a_tool_error_a_person_can_act_on_and_the_server_keeps_answering(agent, mcp_url, app):
    logged = len(app.log())
    local = agent.error("read_text", image="/home/me/Pictures/sign.jpg")
    assert "cannot open paths on your machine" in local and "URL" in local and "data URI" in local
    assert "data URI" in agent.error("caption", image="data:image/jpeg;base64,@@not-base64@@")
    assert "public" in agent.error("read_text", image="http://10.1.2.3/sign.jpg")
    assert "not a file this server serves" in agent.error("read_text", image=served_url(app, Path("/etc/hostname")))
    assert "task must be one of" in agent.error("speech_translate", audio=data_uri(AUDIO / "english_quick_fox.ogg"),
                                                task="dance")
    handle = agent.answer("index_images", files=[data_uri(GALLERY / "cat.jpg")], gallery="bad-input")["handle"]
    assert "k (the number of results)" in agent.error("search", query="a cat", gallery=handle, k=0)
    assert "handle (name@key)" in agent.error("search", query="a cat", gallery="bad-input")
    assert "gallery name" in agent.error("index_images", files=[data_uri(GALLERY / "cat.jpg")], gallery="../etc")
    not_an_image = "data:image/jpeg;base64," + base64.b64encode(b"hello").decode()
    assert "not an image" in agent.error("caption", image=not_an_image)
    assert "owner key" in Agent(mcp_url, {"X-Studio-Key": "guessable"}).error("search", query="a cat")
    assert "Please upload an image" in agent.error("read_text", image="")
    assert agent.answer("sentiment", text="Still here, and glad of it.")["label"] == "positive"
    during = app.log()[logged:]  # Gradio prints each gr.Error's traceback; nothing else went wrong
    assert "ERROR" not in during and "Something went wrong" not in during
    assert during.count("Traceback") == during.count("gradio.exceptions.Error: ")
