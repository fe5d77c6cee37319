"""Dump what the built app offers, as JSON, to compare two versions of the code: the public
API (Blocks.get_api_info: every endpoint's name, parameters, defaults, types, returns,
description; what gradio_client's view_api reads) and the wiring of every event (triggers,
inputs, outputs, queue pool, visibility), in each data mode. Builds in-process and launches
nothing; no model loads.

    python -m scripts.ops.api_info > before.json   # change the code, then
    python -m scripts.ops.api_info > after.json && diff before.json after.json
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def wiring(demo: Any) -> list[dict]:
    """Each event as Gradio's config lists it, by component ids. No function names: a private
    event's api_name is its function's name (lambda_3, ...), which no client can call."""
    keys = ("targets", "inputs", "outputs", "api_name", "api_visibility", "queue", "concurrency_id",
            "concurrency_limit", "js", "cancels", "trigger_after", "trigger_only_on_success", "show_progress",
            "stream_every", "time_limit", "types")
    events = [{k: dep.get(k) for k in keys} for dep in demo.get_config_file()["dependencies"]]
    for event in events:
        if event["api_visibility"] == "private":
            event["api_name"] = None
    return events


def describe(data_mode: str, data_dir: Path) -> dict:
    from app.blocks import build_demo
    from app.settings import load_settings

    settings = load_settings(["--data-dir", str(data_dir), "--offline", "--data-mode", data_mode], environ={})
    built = build_demo(settings)
    demo = getattr(built, "demo", built)  # build_demo returns a Studio (demo + context)
    try:
        return {"api": demo.get_api_info(all_endpoints=True), "events": wiring(demo)}
    finally:
        built.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modes", default="private,shared", help="data modes to build, comma-separated")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    out = {}
    with tempfile.TemporaryDirectory(prefix="api-info-") as scratch:
        for mode in args.modes.split(","):
            out[mode] = describe(mode, Path(scratch) / mode)
    json.dump(out, sys.stdout, indent=1, sort_keys=True, default=str)
    print()


if __name__ == "__main__":
    main()
