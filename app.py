"""Multimodal Studio entry point (Spaces' app_file): CLI flags -> Settings -> launch."""
from __future__ import annotations

import logging
import sys

from app.settings import load_settings


def main(argv: list[str] | None = None) -> None:
    settings = load_settings(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from app.blocks import build_demo, launch_kwargs  # after --help, which needs no gradio

    demo = build_demo(settings)
    if settings.preload:
        demo.studio.manager.preload(list(settings.preload))
    demo.launch(**launch_kwargs(settings))


if __name__ == "__main__":
    main()
