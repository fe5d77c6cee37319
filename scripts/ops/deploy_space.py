"""Put the app on a Hugging Face Space in one command.

    python -m scripts.ops.deploy_space --space OWNER/NAME [--hardware cpu-basic|zero-a10g|t4-small|...]
                                   [--private] [--dry-run] [--head-dtype float16|bfloat16|int8]

What the Space needs is assembled in a staging folder (a temp dir): app.py, app/,
components/, model_zoo/, assets/ (the shipped heads rewritten at half size, shards under
50 MB), README.md (its front matter completed for the hardware), requirements.txt,
packages.txt and the Hub's LFS patterns (.gitattributes). No tests, benchmarks, scripts or
caches: the staged code imports none of them (checked). Then `create_repo(...,
repo_type="space", space_sdk="gradio", exist_ok=True)`, `upload_folder` (it sends large
and binary files through LFS itself, and deletes files an earlier deploy left that this one
no longer has) and `request_space_hardware`.

--dry-run stages the same folder, prints every file with its size and whether it goes by
LFS, and the front matter, and touches no network. Spaces install requirements.txt only:
MPNet (the default head's encoder) then comes from the hub, fetched while the Space builds
(`preload_from_hub`), the other default models from the packs in requirements.txt."""
from __future__ import annotations

import argparse
import ast
import fnmatch
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SPACE_FILES = ("app.py", "app", "components", "model_zoo", "assets", "README.md", "requirements.txt", "packages.txt")
NOT_SHIPPED = ("__pycache__", "*.pyc", ".*", "*.tmp")  # caches, editor and temp files
DEV_ONLY = ("tests", "benchmarks", "scripts")  # must not be imported by the staged code
HEADS = Path("assets") / "heads"
HEAD_SHARD_MB = 48  # each weight file under 50 MB
MB = 1 << 20
# The Hub refuses a push holding a binary file over 1 MB or any file over 10 MB outside LFS.
BINARY_LIMIT, ANY_LIMIT = 1 * MB, 10 * MB
# The patterns a new Hub repo's .gitattributes sends by LFS (staged as the Space's .gitattributes).
LFS_PATTERNS = ("*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5", "*.joblib", "*.lfs.*",
                "*.mlmodel", "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.ot", "*.parquet", "*.pb",
                "*.pickle", "*.pkl", "*.pt", "*.pth", "*.rar", "*.safetensors", "saved_model/**/*", "*.tar.*",
                "*.tar", "*.tflite", "*.tgz", "*.wasm", "*.xz", "*.zip", "*.zst", "*tfevents*")
# Models a Space fetches from the hub (their packs are in requirements-packs.txt, which Spaces
# do not install), downloaded while the Space builds: the files the text encoder reads.
PRELOAD_FROM_HUB = [
    "sentence-transformers/all-mpnet-base-v2 config.json,model.safetensors,tokenizer.json,tokenizer_config.json,"
    "vocab.txt,special_tokens_map.json,modules.json,sentence_bert_config.json,config_sentence_transformers.json,"
    "1_Pooling/config.json",
]
HARDWARE_CHOICES = ("cpu-basic", "cpu-upgrade", "zero-a10g", "t4-small", "t4-medium", "l4x1", "a10g-small",
                    "a10g-large", "a100-large")


@dataclass(frozen=True)
class StagedFile:
    path: str  # relative, POSIX
    size: int
    lfs: str  # why it goes by LFS, or "" (a plain git file)


@dataclass
class Staging:
    folder: Path
    files: list[StagedFile]
    front_matter: str


# -- what goes by LFS -----------------------------------------------------------------
def is_binary(path: Path) -> bool:
    """Git's rule of thumb: a NUL byte in the first 8 KB, or not valid UTF-8 text."""
    head = path.open("rb").read(8192)
    if b"\0" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(head) - 4  # a multi-byte character cut at the 8 KB edge is still text
    return False


def lfs_reason(relative: str, size: int, binary: bool, patterns: tuple[str, ...] = LFS_PATTERNS) -> str:
    name = relative.rsplit("/", 1)[-1]
    for pattern in patterns:
        if fnmatch.fnmatch(name, pattern) or fnmatch.fnmatch(relative, pattern):
            return f"pattern {pattern}"
    if size > ANY_LIMIT:
        return "over 10 MB"
    if binary and size > BINARY_LIMIT:
        return "binary over 1 MB"
    return ""


def gitattributes(patterns: tuple[str, ...] = LFS_PATTERNS) -> str:
    return "".join(f"{p} filter=lfs diff=lfs merge=lfs -text\n" for p in patterns)


# -- staging --------------------------------------------------------------------------
def _shipped(path: Path) -> bool:
    return not any(fnmatch.fnmatch(part, pattern) for part in path.parts for pattern in NOT_SHIPPED)


def copy_sources(repo: Path, out: Path) -> None:
    """SPACE_FILES, minus caches, and minus the heads (written at half size by stage_heads)."""
    for name in SPACE_FILES:
        source = repo / name
        if source.is_file():
            shutil.copy2(source, out / name)
            continue
        for file in sorted(source.rglob("*")):
            relative = file.relative_to(repo)
            if file.is_file() and _shipped(relative) and HEADS not in relative.parents:
                (out / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(file, out / relative)


def stage_heads(repo: Path, out: Path, dtype: str) -> list[Path]:
    """Every shipped head (and its blend parts) at `dtype`, in shards under 50 MB."""
    from model_zoo.fusion.heads import save_half

    written = []
    for folder in sorted((repo / HEADS).iterdir()):
        if (folder / "card.json").is_file() and _shipped(folder.relative_to(repo)):
            written += save_half(folder, out / HEADS / folder.name, dtype, shard_mb=HEAD_SHARD_MB)
    return written


def space_readme(readme: str, hardware: str, requirements: str) -> tuple[str, str]:
    """(README with the Space's front matter completed, that front matter as YAML)."""
    from huggingface_hub import SpaceCard

    card = SpaceCard(readme)
    data = card.data
    pinned = {line.split("==")[0].split("[")[0].strip().lower(): line.split("==")[1].split()[0]  # gradio[mcp]: gradio
              for line in requirements.splitlines() if "==" in line and not line.startswith("#")}
    if data.sdk != "gradio" or data.sdk_version != pinned.get("gradio"):
        raise SystemExit(f"README front matter says sdk {data.sdk} {data.sdk_version}, requirements.txt pins "
                         f"gradio=={pinned.get('gradio')}: make them agree before deploying.")
    data.python_version = str(data.python_version or "3.11")
    data.app_file = data.app_file or "app.py"
    data.suggested_hardware = hardware
    data.preload_from_hub = list(PRELOAD_FROM_HUB)
    text = str(card)
    return text, text.split("---", 2)[1].strip()


def dev_imports(folder: Path) -> list[str]:
    """'file: module' for every import of tests/benchmarks/scripts in the staged code."""
    found = []
    for file in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"), str(file))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            found += [f"{file.relative_to(folder)}: {n}" for n in names if n.split(".")[0] in DEV_ONLY]
    return found


def stage(out: Path, hardware: str = "cpu-basic", head_dtype: str = "float16", repo: Path = REPO) -> Staging:
    """Assemble in `out` exactly what the Space needs; list each file and how it travels."""
    copy_sources(repo, out)
    stage_heads(repo, out, head_dtype)
    readme, front = space_readme((repo / "README.md").read_text(encoding="utf-8"), hardware,
                                 (repo / "requirements.txt").read_text(encoding="utf-8"))
    (out / "README.md").write_text(readme, encoding="utf-8")
    (out / ".gitattributes").write_text(gitattributes(), encoding="utf-8")
    leaks = dev_imports(out)
    if leaks:
        raise SystemExit("the app imports files the Space does not get:\n  " + "\n  ".join(leaks))
    files = []
    for file in sorted(p for p in out.rglob("*") if p.is_file()):
        relative, size = file.relative_to(out).as_posix(), file.stat().st_size
        files.append(StagedFile(relative, size, lfs_reason(relative, size, is_binary(file))))
    return Staging(out, files, front)


# -- the Hub --------------------------------------------------------------------------
def upload(staging: Staging, space: str, hardware: str, private: bool) -> str:
    from huggingface_hub import HfApi, SpaceHardware
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi()  # the token: HF_TOKEN or `hf auth login`, as huggingface_hub finds it
    url = api.create_repo(space, repo_type="space", space_sdk="gradio", private=private, exist_ok=True)
    api.upload_folder(repo_id=space, repo_type="space", folder_path=staging.folder,
                      commit_message="Deploy Multimodal Studio (scripts/ops/deploy_space.py)",
                      delete_patterns=["*"])  # what an earlier deploy left and this one no longer has
    try:
        api.request_space_hardware(space, hardware=SpaceHardware(hardware))
    except HfHubHTTPError as exc:  # e.g. paid hardware without billing, ZeroGPU without PRO
        print(f"The Space is up, but its hardware could not be set to {hardware}: {exc}. "
              f"Set it in the Space's settings.", file=sys.stderr)
    return str(url)


def describe(staging: Staging) -> str:
    lines = [f"{'size':>12}  {'LFS':<22}  file"]
    for f in staging.files:
        lines.append(f"{f.size:>12,}  {f.lfs or 'no':<22}  {f.path}")
    total = sum(f.size for f in staging.files)
    lfs = sum(f.size for f in staging.files if f.lfs)
    lines.append(f"{len(staging.files)} files, {total / MB:.1f} MB ({lfs / MB:.1f} MB by LFS)")
    lines.append("front matter:\n---\n" + staging.front_matter + "\n---")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m scripts.ops.deploy_space", description=__doc__.split("\n\n")[0])
    parser.add_argument("--space", required=True, help="OWNER/NAME of the Space (created if missing)")
    parser.add_argument("--hardware", default="cpu-basic", choices=HARDWARE_CHOICES)
    parser.add_argument("--private", action="store_true")
    parser.add_argument("--dry-run", action="store_true", help="stage and list; no network")
    parser.add_argument("--head-dtype", default="float16", choices=("float16", "bfloat16", "int8"),
                        help="how the shipped heads' weights are stored on the Space (computed in fp32)")
    parser.add_argument("--staging", type=Path, help="stage here and keep it (default: a temp dir, removed)")
    args = parser.parse_args(argv)
    if args.space.count("/") != 1:
        parser.error("--space is OWNER/NAME")
    folder = args.staging or Path(tempfile.mkdtemp(prefix="mms-space-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        staging = stage(folder, args.hardware, args.head_dtype)
        print(describe(staging))
        if args.dry_run:
            print(f"dry run: nothing was sent to {args.space}")
        else:
            print(f"deployed: {upload(staging, args.space, args.hardware, args.private)}")
    finally:
        if args.staging is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
