"""Cold start: seconds from `python app.py` to the first HTTP 200, against a bare
`python -c "import gradio"` in the same run (the floor any Gradio app pays).

    python -m benchmarks.cold_start [--runs 3]"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks.load import free_port

REPO = Path(__file__).resolve().parent.parent


def seconds_to_200() -> float:
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--data-dir", tempfile.mkdtemp()],
                              cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
                    if response.status == 200:
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.05)
    finally:
        server.terminate()
        server.wait(timeout=30)


def seconds_to_import_gradio() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import gradio"], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    app = [seconds_to_200() for _ in range(args.runs)]
    floor = [seconds_to_import_gradio() for _ in range(args.runs)]
    print(f"python app.py -> first HTTP 200: median {statistics.median(app):.2f} s  (runs: "
          + ", ".join(f"{s:.2f}" for s in app) + ")")
    print(f"bare `import gradio`:           median {statistics.median(floor):.2f} s")
    print(f"ratio app / import gradio: {statistics.median(app) / statistics.median(floor):.2f}")


if __name__ == "__main__":
    main()
