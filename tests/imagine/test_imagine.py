"""Imagine: text to image and image to image through the service on a tiny random Stable
Diffusion pipeline saved to disk and loaded by the real loader (`--models diffusion=FOLDER`),
the reproducibility rule, bad input, the missing-weights message, the manager's accounting,
/generate_image through gradio_client on a live app, and "add to gallery" then search."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.settings import load_settings
from components import imagine as tab
from components import search as search_tab
from components.context import StudioContext
from model_zoo.imagine import service as imagine
from model_zoo.core.errors import InputError, WeightsUnavailable
from model_zoo.imagine.service import Cancelled, ImagineRequest
from model_zoo.core.manager import ManagerConfig, ModelManager
from model_zoo.core.ownership import OPERATOR
from tests.conftest import REPO, serve_in_process
from model_zoo.testing.diffusion import save_tiny_diffusion

CAT = REPO / "assets" / "gallery" / "cat.jpg"


@pytest.fixture(scope="module")
def tiny_diffusion_dir(tmp_path_factory) -> Path:
    return save_tiny_diffusion(tmp_path_factory.mktemp("tiny-diffusion"))


@pytest.fixture(scope="module")
def manager(tiny_diffusion_dir, tiny_clip_dir, tmp_path_factory) -> ModelManager:
    """The tiny pipeline as `diffusion`, tiny CLIP as the image engine (for galleries)."""
    return ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path_factory.mktemp("cache"), offline=True,
                                      overrides={"diffusion": str(tiny_diffusion_dir), "clip": str(tiny_clip_dir)}))


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def _make(manager, out: Path, **kwargs) -> imagine.ImagineResult:
    kwargs = {"width": 64, "height": 64, "steps": 2, **kwargs}
    return imagine.generate(manager, ImagineRequest(kwargs.pop("prompt", "a red cat on the sea"), **kwargs), out)


def test_text_to_image_through_the_service(manager, tiny_diffusion_dir, tmp_path):
    seen = []
    result = imagine.generate(manager, ImagineRequest("a red cat", steps=3, seed=5, width=96, height=64,
                                                      num_images=2), tmp_path, on_step=lambda *s: seen.append(s))
    assert seen == [(1, 3), (2, 3), (3, 3)]  # progress after every denoising step
    assert len(result.files) == 2 and result.seeds == [5, 6] and result.seed == 5
    for file in result.files:
        with Image.open(file) as image:
            assert image.format == "PNG" and image.size == (96, 64)
    assert (result.steps, result.guidance, result.width, result.height) == (3, 0.0, 96, 64)  # turbo-like defaults
    assert result.model == str(tiny_diffusion_dir) and result.mode == "text" and result.device == "cpu"
    assert result.timing["steps_run"] == 3 and 0 < result.timing["per_step_s"] <= result.timing["total_s"]
    # each PNG says how to make it again
    assert imagine.settings_of(result.files[1]) == {**result.settings(1), "seed": 6}
    defaults = _make(manager, tmp_path, steps=0, guidance=-1, seed=1)
    assert (defaults.steps, defaults.guidance) == (1, 0.0)  # the scheduler says turbo: 1 step, no guidance


def test_same_seed_same_pixels_different_seed_differs(manager, tmp_path):
    first = _make(manager, tmp_path / "a", seed=42)
    again = _make(manager, tmp_path / "b", seed=42)
    other = _make(manager, tmp_path / "c", seed=43)
    assert np.array_equal(_pixels(first.files[0]), _pixels(again.files[0]))
    assert not np.array_equal(_pixels(first.files[0]), _pixels(other.files[0]))
    batch = _make(manager, tmp_path / "d", seed=42, num_images=2)  # image i of a batch is seed + i alone
    assert np.array_equal(_pixels(batch.files[0]), _pixels(first.files[0]))
    assert np.array_equal(_pixels(batch.files[1]), _pixels(other.files[0]))
    random_seed = _make(manager, tmp_path / "e", seed=-1)
    assert 0 <= random_seed.seed <= imagine.MAX_SEED
    assert np.array_equal(_pixels(_make(manager, tmp_path / "f", seed=random_seed.seed).files[0]),
                          _pixels(random_seed.files[0]))  # the seed shown makes the same image


def test_image_to_image_starts_from_the_given_image(manager, tmp_path):
    varied = _make(manager, tmp_path / "a", seed=3, steps=4, init_image=str(CAT), strength=0.5)
    assert varied.mode == "image" and varied.strength == 0.5 and varied.timing["steps_run"] == 2
    again = _make(manager, tmp_path / "b", seed=3, steps=4, init_image=str(CAT), strength=0.5)
    assert np.array_equal(_pixels(varied.files[0]), _pixels(again.files[0]))
    from_text = _make(manager, tmp_path / "c", seed=3, steps=4)
    assert not np.array_equal(_pixels(varied.files[0]), _pixels(from_text.files[0]))
    bumped = _make(manager, tmp_path / "d", seed=3, steps=0, init_image=str(CAT), strength=0.25)
    assert bumped.steps == 4 and bumped.timing["steps_run"] == 1 and "steps x strength" in bumped.note
    with pytest.raises(InputError, match="steps x strength"):
        _make(manager, tmp_path / "e", steps=1, init_image=str(CAT), strength=0.5)


@pytest.mark.parametrize("change, message", [
    ({"prompt": "   "}, "type a prompt"),
    ({"width": 100}, "multiple of 8"),
    ({"height": 2048}, "between 64 and 1024"),
    ({"width": 1024, "height": 1024, "num_images": 2}, "too large for one request"),
    ({"steps": 1000}, "Steps must be between 1 and 100"),
    ({"steps": -2}, "Steps must be between"),
    ({"steps": 2.5}, "whole number"),
    ({"steps": "many"}, "whole number"),
    ({"guidance": float("nan")}, "Guidance"),
    ({"guidance": 500}, "Guidance"),
    ({"seed": 2**40}, "seed"),
    ({"num_images": 9}, "between 1 and 4 images"),
    ({"init_image": str(CAT), "strength": 0.0}, "Strength"),
    ({"init_image": str(REPO / "assets" / "style.css")}, "not an image"),
])
def test_bad_input_is_refused_before_any_model_loads(tmp_path, change, message):
    untouched = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True))  # no weights at all
    with pytest.raises(InputError, match=message):
        _make(untouched, tmp_path, **change)
    assert all(s.state == "unloaded" for s in untouched.status())


def test_cancel_stops_between_steps_and_the_model_stays_usable(manager, tmp_path):
    with pytest.raises(Cancelled):
        imagine.generate(manager, ImagineRequest("a cat", steps=3, width=64, height=64), tmp_path,
                         cancelled=lambda: True)
    status = {s.key: s for s in manager.status()}["diffusion"]
    assert status.state == "loaded" and status.in_use == 0
    assert _make(manager, tmp_path, seed=1).files


def test_missing_weights_say_what_and_how(tmp_path):
    bare = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True))
    missing = imagine.missing_weights(bare)
    assert isinstance(missing, WeightsUnavailable)
    text = str(missing)
    for needed in ("SimianLuo/LCM_Dreamshaper_v7", "scripts.ops.prefetch diffusion", "MMS_MODEL_DIFFUSION",
                   "--models diffusion="):
        assert needed in text
    with pytest.raises(WeightsUnavailable, match="LCM_Dreamshaper_v7"):
        _make(bare, tmp_path)
    ctx = StudioContext(bare, load_settings(["--data-dir", str(tmp_path / "data"), "--offline"]))
    banner = tab.weights_banner(ctx, "diffusion")
    assert "No text-to-image weights" in banner and "How to fix" in banner and "MMS_MODEL_DIFFUSION" in banner
    assert "diffusion-xl" in imagine.model_keys(bare)


def test_manager_counts_the_whole_pipeline_and_makes_room(tiny_diffusion_dir, tiny_clip_dir, tmp_path):
    from model_zoo.imagine.diffusion_backend import components_nbytes

    small = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True, budget_mb={"cpu": 1},
                                       overrides={"diffusion": str(tiny_diffusion_dir), "clip": str(tiny_clip_dir)}))
    with small.use("clip"):
        pass
    with small.use("diffusion") as pipe:
        assert pipe.nbytes == components_nbytes(pipe.text2image) > 0
        parts = [c for c in pipe.text2image.components.values() if hasattr(c, "parameters")]
        assert pipe.nbytes == sum(p.numel() * p.element_size() for c in parts
                                  for p in [*c.parameters(), *c.buffers()])
    states = {s.key: s for s in small.status()}
    assert states["diffusion"].bytes == pipe.nbytes
    assert states["clip"].state == "unloaded"  # idle, evicted to make room under the budget


def test_defaults_come_from_the_scheduler_for_unknown_folders(manager):
    from diffusers import LCMScheduler

    from model_zoo.imagine.diffusion_backend import defaults_for

    with manager.use("diffusion") as pipe:
        sd = pipe.text2image
        assert defaults_for("/some/folder", sd) == imagine.Defaults(1, 0.0, 512)
        assert defaults_for("SimianLuo/LCM_Dreamshaper_v7", sd) == imagine.Defaults(4, 8.0, 512)
        original = sd.scheduler
        try:
            sd.scheduler = LCMScheduler.from_config(original.config)
            assert defaults_for("/some/folder", sd).steps == 4
        finally:
            sd.scheduler = original


def test_add_to_gallery_then_search_finds_it(manager, tmp_path):
    ctx = StudioContext(manager, load_settings(["--data-dir", str(tmp_path / "data"), "--offline"]))
    made = tab.generate(ctx, ImagineRequest("a green tree on a mountain", steps=1, seed=9, width=64, height=64,
                                            num_images=2))
    files = [str(f) for f in made.files]
    report = tab.add_to_gallery(ctx, files, [made.prompt] * 2, "imagined", OPERATOR)
    assert report["added"] == 2 and report["total"] == 2
    again = tab.add_to_gallery(ctx, files[:1], [made.prompt], "imagined", OPERATOR)
    assert again["added"] == 0 and again["skipped"] == 1  # same bytes: kept once
    hits = search_tab.search_gallery(ctx, "", files[1], 2, "imagined", owner=OPERATOR)["results"]
    assert hits[0]["name"] == Path(files[1]).name and hits[0]["caption"] == made.prompt
    by_text = search_tab.search_gallery(ctx, made.prompt, None, 2, "imagined", owner=OPERATOR)["results"]
    assert {h["caption"] for h in by_text} == {made.prompt}


def test_generate_image_endpoint_through_gradio_client(manager, tmp_path):
    from gradio_client import Client

    with serve_in_process(tmp_path / "data", manager=manager) as url:
        client = Client(url, verbose=False)
        result = client.predict("a blue rocket in the sky", "", 2, -1, 11, 64, 64, api_name="/generate_image")
        assert (result["seed"], result["steps"], result["guidance"], result["width"], result["height"]) == \
            (11, 2, 0.0, 64, 64)
        assert result["model"] and set(result["timing"]) >= {"total_s", "per_step_s"}
        assert Path(result["image"]).is_file()  # downloaded by the client
        again = client.predict("a blue rocket in the sky", "", 2, -1, 11, 64, 64, api_name="/generate_image")
        assert np.array_equal(_pixels(Path(result["image"])), _pixels(Path(again["image"])))
        random = client.predict("a blue rocket in the sky", api_name="/generate_image", width=64, height=64)
        assert random["seed"] >= 0 and random["steps"] == 1  # the model's defaults
        for args, message in ((("", "", 2), "prompt"), (("a cat", "", 2, -1, 1, 100, 64), "multiple of 8"),
                              (("a cat", "", 5000), "Steps")):
            with pytest.raises(Exception) as info:
                client.predict(*args, api_name="/generate_image")
            assert message in str(info.value) and "Traceback" not in str(info.value)
        assert client.predict("a cat", "", 1, -1, 2, 64, 64, api_name="/generate_image")["seed"] == 2  # still up


def test_generate_image_as_an_mcp_tool_answers_with_the_image(manager, tmp_path):
    """Through the real MCP client: the picture comes back as image content (and as a URL in the JSON
    answer, with the settings that make it again); a bad request is a tool error."""
    import asyncio
    import base64
    import io
    import json

    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    async def call(url: str, **arguments):
        async with streamablehttp_client(url + "gradio_api/mcp/") as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await session.call_tool("generate_image", arguments)

    with serve_in_process(tmp_path / "data", manager=manager) as url:
        result = asyncio.run(call(url, prompt="a blue rocket in the sky", steps=2, seed=11, width=64, height=64))
        assert not result.isError, result.content[0].text
        text, image = result.content
        answer = json.loads(text.text)
        assert (answer["seed"], answer["steps"], answer["width"], answer["height"]) == (11, 2, 64, 64)
        assert answer["image"].startswith(url) and "/gradio_api/file=" in answer["image"]
        assert image.type == "image" and image.mimeType == "image/png"
        with Image.open(io.BytesIO(base64.b64decode(image.data))) as drawn:
            assert drawn.size == (64, 64)
            from urllib.request import urlopen
            with Image.open(io.BytesIO(urlopen(answer["image"], timeout=10).read())) as served:
                assert np.array_equal(np.asarray(drawn.convert("RGB")), np.asarray(served.convert("RGB")))
        failed = asyncio.run(call(url, prompt="a cat", width=100, height=64))
        assert failed.isError and "multiple of 8" in failed.content[0].text
