"""Cold start: seconds from `python app.py` to the first HTTP 200, against a bare
`python -c "import gradio"` in the same run (the floor any Gradio app pays); with
--first-click, what a first visitor waits for a Sentiment answer and a speech clip with
the warm start off (`--warm none`) and on (`--warm default`).

    python -m benchmarks.serving.cold_start [--runs 3] [--warm default]
    python -m benchmarks.serving.cold_start --first-click [--click-after 30] [--runs 1]"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.serving.apps import start_app, stop_app

REPO = Path(__file__).resolve().parents[2]


def start(warm: str) -> tuple[subprocess.Popen, str, float]:
    """`python app.py` on a free port, offline, with a fresh data dir: (process, url,
    seconds to the first HTTP 200, polled every 50 ms)."""
    started = time.perf_counter()
    server, url = start_app(Path(tempfile.mkdtemp(prefix="mms-cold-start-")), timeout=600, poll_s=0.05,
                            env={"HF_HUB_OFFLINE": "1", "MMS_WARM": warm})
    return server, url, time.perf_counter() - started


def seconds_to_200(warm: str = "none") -> float:
    server, _, seconds = start(warm)
    stop_app(server)
    return seconds


def first_clicks(warm: str, click_after: float) -> dict[str, float]:
    """Seconds to the first page, then (`click_after` s later, a visitor reading the page)
    the first /sentiment answer on the default head and the first /speech_translate of a
    short clip (assets/audio), each timed through gradio_client."""
    from gradio_client import Client, handle_file

    server, url, to_200 = start(warm)
    page_at = time.perf_counter()
    try:
        client = Client(url, verbose=False)
        time.sleep(max(0.0, click_after - (time.perf_counter() - page_at)))
        t = time.perf_counter()
        client.predict("A gorgeous, witty, seductive movie.", None, None, "default", api_name="/sentiment")
        sentiment = time.perf_counter() - t
        clip = handle_file(str(REPO / "assets" / "audio" / "english_quick_fox.ogg"))
        t = time.perf_counter()
        client.predict(clip, "transcribe", "auto", 5, api_name="/speech_translate")
        speech = time.perf_counter() - t
        return {"to_200": to_200, "sentiment": sentiment, "speech": speech}
    finally:
        stop_app(server)


def seconds_to_import_gradio() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import gradio"], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warm", default="none", choices=("none", "default", "all"), help="MMS_WARM of the app")
    parser.add_argument(
        "--first-click", action="store_true", help="time a first visitor's clicks, warm none vs default"
    )
    parser.add_argument("--click-after", type=float, default=30.0, help="seconds between the page and the first click")
    args = parser.parse_args()
    if args.first_click:
        for warm in ("none", "default"):
            for _ in range(args.runs):
                r = first_clicks(warm, args.click_after)
                print(
                    f"--warm {warm:<8} first 200 {r['to_200']:.2f} s; {args.click_after:g} s later: first "
                    f"/sentiment {r['sentiment']:.2f} s, then first /speech_translate {r['speech']:.2f} s",
                    flush=True,
                )
        return
    app = [seconds_to_200(args.warm) for _ in range(args.runs)]
    floor = [seconds_to_import_gradio() for _ in range(args.runs)]
    print(f"python app.py -> first HTTP 200: median {statistics.median(app):.2f} s  (runs: "
          + ", ".join(f"{s:.2f}" for s in app) + ")")
    print(f"bare `import gradio`:           median {statistics.median(floor):.2f} s")
    print(f"ratio app / import gradio: {statistics.median(app) / statistics.median(floor):.2f}")


if __name__ == "__main__":
    main()
