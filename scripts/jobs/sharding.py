"""Shared by the folder jobs (index_folder, caption_folder, transcribe_folder): the app's
settings flags, the file list, and the work split between processes.

One process:   python -m scripts.jobs.index_folder DIR --gallery NAME
Many:          accelerate launch --multi_gpu --num_processes P -m scripts.jobs.index_folder DIR --gallery NAME
               (one process per GPU; on a machine without GPUs, P CPU processes joined in one
               gloo group; across machines add --num_machines, --machine_rank, --main_process_ip)

The main process lists the files and hands the list to the others. The list is cut into
rounds of `--round-size` files, the same rounds for any number of processes; each round is
split between the processes (PartialState.split_between_processes: contiguous slices in
rank order), each works on its slice, the results are gathered in rank order (gather_object:
all_gather_object, which gloo and nccl both carry) and the main process alone writes them,
atomically. So a kill loses at most the round under way, a rerun skips what was written,
and the output is the same whatever the number of processes. Only the input folder has to
be readable at the same path on every machine; outputs are written by the main process.
No gradio here."""
from __future__ import annotations

import argparse
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Collection, Iterator, Sequence, TypeVar

import model_zoo  # noqa: F401 first: sets the OpenMP wait policy before torch and faiss load
from app.settings import Settings, build_parser, resolve_offline, settings_from_args
from model_zoo.core.manager import ModelManager

T = TypeVar("T")
R = TypeVar("R")
# The app's settings every job takes (same meaning, same MMS_* variables as `python app.py`).
COMMON_SETTINGS = ("device", "offline", "hub_check", "data_dir", "memory_budget_mb", "models")


@dataclass
class Job:
    args: argparse.Namespace
    settings: Settings


def parse_job(argv: Sequence[str] | None, prog: str, description: str,
              add_arguments: Callable[[argparse.ArgumentParser], None],
              settings: Collection[str] = (), round_size: int = 1000) -> Job:
    """The job's own arguments plus the app's flags named in `settings` (and COMMON_SETTINGS),
    parsed by the app's own parser pieces: flags > MMS_* environment > defaults."""
    parser = build_parser(only=(*COMMON_SETTINGS, *settings))
    parser.prog, parser.description = prog, description
    add_arguments(parser)
    parser.add_argument("--round-size", type=int, default=round_size,
                        help=f"files per round: each round is split between the processes and its results "
                             f"written at once (a kill loses at most one round) [{round_size}]")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.round_size < 1:
        parser.error("--round-size must be at least 1")
    return Job(args, resolve_offline(settings_from_args(vars(args))))  # offline where no hub answers, as the app


def list_files(folder: Path, suffixes: Collection[str]) -> list[Path]:
    """Files under `folder` (recursively) with one of `suffixes`, sorted by relative path;
    hidden files and folders are left out."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SystemExit(f"error: '{folder}' is not a folder")
    return sorted((p for p in folder.rglob("*")
                   if p.suffix.lower() in suffixes and p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts)),
                  key=lambda p: p.relative_to(folder).as_posix())


def relative_name(path: Path, folder: Path) -> str:
    """How outputs name a file: its path under the folder, with '/' (IMG_0001.jpg repeats
    across a photo library's folders; 2019/IMG_0001.jpg does not)."""
    return Path(path).relative_to(folder).as_posix()


class Team:
    """This process's place among the processes `accelerate launch` started (or alone)."""

    def __init__(self, state: Any) -> None:
        self.state = state  # accelerate.PartialState

    @property
    def rank(self) -> int:
        return int(self.state.process_index)

    @property
    def size(self) -> int:
        return int(self.state.num_processes)

    @property
    def is_main(self) -> bool:
        return bool(self.state.is_main_process)

    def split(self, items: list[T]):
        """This process's contiguous slice of `items` (a context manager, as accelerate's)."""
        return self.state.split_between_processes(items)

    def gather(self, value: R) -> list[R]:
        """Every process's `value`, in rank order, on every process."""
        if self.size == 1:
            return [value]
        from accelerate.utils import gather_object

        return gather_object([value])

    def broadcast(self, value: T) -> T:
        """The main process's `value`, on every process."""
        if self.size == 1:
            return value
        from accelerate.utils import broadcast_object_list

        return broadcast_object_list([value], from_process=0)[0]

    def wait(self) -> None:
        self.state.wait_for_everyone()

    @contextmanager
    def main_first(self) -> Iterator[None]:
        """The main process runs the block first (say, unpacking weights into the shared
        cache), the others after it, so they never race on the same files."""
        with self.state.main_process_first():
            yield

    def processes(self) -> str:
        return f"{self.size} process" + ("es" if self.size != 1 else "")


def start(settings: Settings) -> tuple[Team, Settings]:
    """Join the process group `accelerate launch` set up (a no-op alone). Without a GPU the
    processes join over gloo on CPU (PartialState(cpu=True): a plain one leaves each CPU
    process alone with all the work); with GPUs each process takes its own device."""
    import torch
    from accelerate import PartialState

    state = PartialState(cpu=not torch.cuda.is_available())
    if settings.device == "auto" and state.device.type == "cuda":
        settings = replace(settings, device=str(state.device))
    return Team(state), settings


def manager_for(settings: Settings) -> ModelManager:
    return ModelManager(settings.manager_config())


def warm_up(team: Team, manager: ModelManager, keys: Sequence[str]) -> None:
    """Load `keys` (those whose weights are here) on the main process first, then on the
    others: packaged weights are unpacked into the shared cache once, never by two
    processes at a time. The manager keeps them resident for every round."""
    present = [key for key in dict.fromkeys(keys) if manager.weights_problem(key) is None]
    with team.main_first():
        manager.preload(present)


Tick = Callable[[int], None]  # files of this process's slice done so far in the round


def run_rounds(team: Team, items: Sequence[T], round_size: int, work: Callable[[list[T], Tick], R],
               write: Callable[[list[R]], None], desc: str) -> float:
    """Cut `items` into rounds; each process runs `work` on its slice of a round; the main
    process `write`s the round's results (rank order = item order). A progress bar on the
    main process (its own slice's progress, scaled to the round, until the round is in).
    Returns the seconds the rounds took (start-up excluded)."""
    from tqdm.auto import tqdm

    team.wait()  # every process has loaded its models: time the work, not the start-up
    started = time.perf_counter()
    bar = tqdm(total=len(items), desc=desc, unit="file", disable=not team.is_main, file=sys.stderr)
    for start_at in range(0, len(items), round_size):
        chunk = list(items[start_at:start_at + round_size])

        def tick(done: int) -> None:
            estimate = start_at + min(len(chunk), done * team.size)
            if estimate > bar.n:
                bar.update(estimate - bar.n)

        with team.split(chunk) as share:
            result = work(list(share), tick)
        results = team.gather(result)
        if team.is_main:
            write(results)
        bar.update(start_at + len(chunk) - bar.n)
    bar.close()
    team.wait()
    return time.perf_counter() - started
