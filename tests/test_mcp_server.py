"""app/mcp_server.py without a running server: which endpoints of the built app are tools (and
their names), how a file argument an agent sends becomes what an endpoint takes, how an answer
becomes MCP content, and when the studio serves no MCP. The app as shipped, with a real MCP
client, is tests/test_mcp.py."""
from __future__ import annotations

import base64
import json
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest
from PIL import Image

from app import mcp_server
from app.settings import REPO_ROOT, load_settings

ASSETS = REPO_ROOT / "assets"
CAT = ASSETS / "gallery" / "cat.jpg"
TOOLS = ["speech_translate", "sentiment", "index_images", "search", "classify_image", "read_text", "caption",
         "index_video", "search_video", "generate_image", "models"]


class Context:
    @property
    def request(self):
        raise LookupError("no request")  # as outside a request


def fake_server(port: int = 7860) -> SimpleNamespace:
    """What the adapter reads of gradio.mcp.GradioMCPServer."""
    blocks = SimpleNamespace(blocked_paths=[], allowed_paths=[str(ASSETS)])
    return SimpleNamespace(local_url=f"http://127.0.0.1:{port}/", blocks=blocks,
                           mcp_server=SimpleNamespace(request_context=Context()))


def test_the_tools_are_the_marked_endpoints_named_like_them(tmp_path):
    from app.blocks import build_demo

    studio = build_demo(load_settings(["--data-dir", str(tmp_path), "--offline"], environ={}))
    try:
        found = mcp_server.tools(studio.demo)
        assert list(found) == TOOLS and all(found[name] == f"/{name}" for name in found)
        public = {fn.api_name for fn in studio.demo.fns.values() if fn.fn and fn.api_visibility == "public"}
        assert public - set(TOOLS) == {"heads", "train_head", "galleries", "remove_images", "caption_batch"}
        assert mcp_server.tools(studio.demo, "my-studio_")["my_studio_models"] == "/models"  # a Space's prefix
    finally:
        studio.close()


def test_file_arguments_take_data_uris_urls_and_lists_and_refuse_local_paths(tmp_path):
    server = fake_server()
    uri = "data:image/jpeg;base64," + base64.b64encode(CAT.read_bytes()).decode()
    positions = [["image"], ["files", "items"], ["maybe", "oneOf", 1]]
    converted = mcp_server.file_arguments(server, 10 << 20, {"image": uri, "files": [uri, uri], "maybe": "",
                                                             "k": 3}, positions)
    assert Path(converted["image"]["path"]).read_bytes() == CAT.read_bytes()
    assert [Path(f["path"]).read_bytes() == CAT.read_bytes() for f in converted["files"]] == [True, True]
    assert converted["maybe"] is None and converted["k"] == 3
    named = "data:image/jpeg;name=my%20cat.jpg;base64," + uri.split(",", 1)[1]
    assert Path(mcp_server.one_file(server, "image", named, 1 << 20)["path"]).name == "my cat.jpg"
    own = mcp_server.one_file(server, "image", f"http://127.0.0.1:7860/gradio_api/file={CAT}", 1 << 20)
    assert own["path"] == str(CAT)  # a file this server serves: read in place
    public = mcp_server.one_file(server, "image", "https://example.org/cat.jpg", 1 << 20)
    assert public["path"] == "https://example.org/cat.jpg"  # Gradio downloads it (public addresses only)
    refusals = {
        "/home/me/cat.jpg": "cannot open paths on your machine",
        "file:///home/me/cat.jpg": "data URI",
        "http://192.168.1.5/cat.jpg": "public addresses only",
        "http://localhost:9000/cat.jpg": "public addresses only",
        f"http://127.0.0.1:7860/gradio_api/file={REPO_ROOT / 'app.py'}": "not a file this server serves",
        "data:image/jpeg,rawbytes": "without base64",
        "data:image/jpeg;base64,%%%": "not a readable data URI",
    }
    for value, message in refusals.items():
        with pytest.raises(ValueError, match=message):
            mcp_server.one_file(server, "image", value, 1 << 20)
    with pytest.raises(ValueError, match="larger than this server accepts"):
        mcp_server.one_file(server, "image", uri, 1000)
    with pytest.raises(ValueError, match="takes a file as a string"):
        mcp_server.one_file(server, "image", 42, 1 << 20)


def test_answers_are_json_with_files_as_urls_and_images_as_image_content(tmp_path):
    from gradio.mcp import GradioMCPServer

    picture = tmp_path / "drawn.png"
    Image.new("RGB", (16, 16), (200, 30, 30)).save(picture)
    subtitles = tmp_path / "clip.srt"
    subtitles.write_text("1\n00:00:00,000 --> 00:00:01,000\nhi\n")
    def echo(text: str) -> str:
        return text

    with gr.Blocks() as demo:
        gr.api(echo, api_name="echo")  # GradioMCPServer reads a Blocks' API
    server = GradioMCPServer(demo)
    local = "http://127.0.0.1:7860/"  # the loopback client's answers name the local address
    files = {"image": gr.FileData(path=str(picture), url=f"{local}gradio_api/file=drawn.png").model_dump(),
             "subtitles": {"srt": gr.FileData(path=str(subtitles), url="/gradio_api/file=clip.srt").model_dump()}}
    original = server.postprocess_output_data
    content = mcp_server.answers(original, lambda: local, [{"seed": 7, "label": "naïve", **files}], "http://host:1")
    assert [part.type for part in content] == ["text", "image"]
    answer = json.loads(content[0].text)
    assert answer == {"seed": 7, "label": "naïve", "image": "http://host:1/gradio_api/file=drawn.png",
                      "subtitles": {"srt": "http://host:1/gradio_api/file=clip.srt"}}
    assert content[1].mimeType == "image/png" and base64.b64decode(content[1].data)[:4] == b"\x89PNG"
    same = mcp_server.answers(original, lambda: local, [[{"key": "a"}]], "http://host:1")
    assert json.loads(same[0].text) == [{"key": "a"}]
    assert mcp_server.answers(original, lambda: None, ["plain"], "http://host:1")[0].text == "plain"


def test_mcp_is_on_by_default_and_off_with_auth_or_when_asked():
    on = load_settings([], environ={})
    assert on.mcp and mcp_server.enabled(on)
    assert mcp_server.launch_options(on)["mcp_server"] is True
    assert "no login" in mcp_server.why_off(load_settings(["--auth", "ann:secret"], environ={}))
    assert mcp_server.why_off(load_settings(["--mcp", "false"], environ={})) == "--mcp false"
    assert not load_settings([], environ={"MMS_MCP": "false"}).mcp
    assert mcp_server.launch_options(load_settings(["--mcp", "false"], environ={})) == {"mcp_server": False}
