"""Run the real-model tests the way other machines run them, to prove no assert leans on one
CPU's exact output: each configuration runs the same pytest selection and prints one line.

- avx2: an AVX2-only instruction set (CTranslate2, oneDNN and PyTorch's kernels capped at
  AVX2; text encoders then run fp32, as `--sentiment-precision auto` picks on such a CPU);
- one-thread: every library on one thread (OMP_NUM_THREADS=1 and friends);
- loaded: a busy loop holds one core for the whole run, as another tenant would.

    python -m scripts.ops.check_configurations                      # all three, the default selection
    python -m scripts.ops.check_configurations --only avx2 -- tests/speech -m slow

Exit status 0 only when every configuration passed."""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# The tests that load real packaged weights and assert on what they output (browser tests drive
# the same models through the page and take longest: run them with an explicit selection).
DEFAULT_SELECTION = ("tests/speech", "tests/video", "tests/vision", "tests/sentiment", "tests/text",
                     "-m", "slow and not browser")


@dataclass(frozen=True)
class Configuration:
    name: str
    env: dict[str, str] = field(default_factory=dict)
    busy_cores: int = 0


CONFIGURATIONS = (
    Configuration("avx2", {"CT2_FORCE_CPU_ISA": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}),
    Configuration("one-thread", {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}),
    Configuration("loaded", busy_cores=1),
)


def summary(output: str) -> str:
    """pytest's closing line ('3 passed, 1 skipped in 12.3s'), or the last line printed."""
    lines = [line.strip("= ") for line in output.strip().splitlines()]
    closing = [line for line in lines if re.search(r"\d+ (passed|failed|error)", line)]
    return (closing or lines or ["no output"])[-1]


def run(configuration: Configuration, selection: list[str]) -> tuple[bool, str]:
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(configuration.busy_cores)]
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *selection],
                              cwd=REPO, env={**os.environ, **configuration.env}, capture_output=True, text=True)
    finally:
        for loop in busy:
            loop.kill()
            loop.wait()
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        failed = [line for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
        print("\n".join(failed[:20]), file=sys.stderr)
    return (
        done.returncode == 0,
        f"{configuration.name}: {summary(done.stdout)} (exit {done.returncode}, {seconds:.0f} s)",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", choices=[c.name for c in CONFIGURATIONS],
                        help="run only this configuration (repeatable)")
    parser.add_argument("selection", nargs="*", help="pytest arguments after --; default: the real-model tests")
    args = parser.parse_args(argv)
    selection = args.selection or list(DEFAULT_SELECTION)
    passed = True
    for configuration in CONFIGURATIONS:
        if not args.only or configuration.name in args.only:
            ok, line = run(configuration, selection)
            print(line, flush=True)
            passed &= ok
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
