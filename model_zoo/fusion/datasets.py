"""Training tables for the fusion head: CSV, JSONL or Parquet (or a zip holding one table
plus its media), columns text, image, audio, label and an optional numeric score (the
sentiment's intensity, a mean rating on -4..+4). Every problem is an InputError that
names the column or the row (1-based, as a spreadsheet shows it)."""
from __future__ import annotations

import math
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from model_zoo.core import uploads
from model_zoo.core.errors import InputError
from model_zoo.core.uploads import UploadLimits
from model_zoo.core.storage import sha256_file
from model_zoo.fusion.training import INTENSITY_SCALE

TABLE_SUFFIXES = (".csv", ".jsonl", ".json", ".parquet")
MEDIA_COLUMNS = ("image", "audio")
INPUT_COLUMNS = ("text", *MEDIA_COLUMNS)
# what a dataset zip's members may be (the rest is refused, each named): the table and its media
DATASET_SUFFIXES = frozenset({*TABLE_SUFFIXES, ".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff",
                              ".wav", ".mp3", ".ogg", ".flac", ".m4a", ".opus", ".webm", ".aac", ".aif", ".aiff",
                              ".wma", ".amr", ".mp4"})
SCORE_COLUMN = "score"
MIN_SCORES = 10  # rows with a score: fewer cannot fill train, validation and test


@dataclass
class Dataset:
    texts: list[str | None]
    images: list[Path | None]
    audios: list[Path | None]
    labels: list[str]
    label_names: list[str]  # sorted unique labels
    modalities: list[str]  # input columns that are present and non-empty somewhere
    name: str
    sha256: str = ""  # of the uploaded file, recorded in the head's card
    scratch: Path | None = None  # where a zip was unpacked; removed by cleanup()
    rejected: list[dict] = field(default_factory=list)  # [{name, reason}]: zip members the upload reader refused
    note: str = ""  # those refusals in one sentence ("" when none)
    # the optional `score` column: a mean rating per row on -INTENSITY_SCALE..+INTENSITY_SCALE,
    # NaN where a cell is blank; None when the table has no such column
    scores: np.ndarray | None = None

    def cleanup(self) -> None:
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)

    @property
    def y(self) -> list[int]:
        index = {name: i for i, name in enumerate(self.label_names)}
        return [index[label] for label in self.labels]

    def __len__(self) -> int:
        return len(self.labels)


def read_table(path: Path):
    """A pandas DataFrame from a CSV/JSONL/Parquet file (all columns as given). Whatever the
    file holds (bad encodings, ragged rows, nested JSON, a Parquet file that is not one), the
    answer is the frame or an InputError naming the file."""
    import pandas as pd

    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise InputError(
            f"'{path.name}' is not a dataset this app reads: upload a CSV, JSONL, Parquet or a zip of one."
        )
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        elif suffix in (".jsonl", ".json"):
            frame = pd.read_json(path, lines=suffix == ".jsonl", dtype=False)
        else:
            frame = pd.read_parquet(path)
    except Exception as exc:
        raise InputError(f"'{path.name}' could not be read as a {suffix[1:].upper()} table ({_reason(exc)}).") from None
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"'{path.name}' is not a table (one record per row).")
    return frame


def _reason(exc: BaseException) -> str:
    """A reader's complaint fit for a visitor: its first line, no path, kept short."""
    text = (str(exc).strip().splitlines() or ["unreadable"])[0]
    text = re.sub(r"(?<![\w.:/])~?/\S+", "", text).strip(" :'\"") or "unreadable"
    return text[:160]


def unpack_zip(path: Path, into: Path, limits: UploadLimits | None = None) -> tuple[Path, uploads.Uploads]:
    """Open a dataset zip with the reader every upload path shares (model_zoo.core.uploads:
    sizes, counts, names that cannot escape `into`; members keep their relative paths, which
    the table names); return its one table and what was read (the refused members with why)."""
    read = uploads.read_uploads([path], into, limits or UploadLimits(), members=DATASET_SUFFIXES,
                                keep_folders=True, what="file")
    if not read.files and read.rejected and len(read.rejected) == 1 and read.rejected[0]["name"] == path.name:
        raise InputError(read.rejected[0]["reason"])  # the zip itself was refused
    tables = [f for f in read.files if f.file.suffix.lower() in TABLE_SUFFIXES]
    if len(tables) != 1:
        found = ", ".join(t.name for t in tables) or "none"
        why = (" " + read.summary(listed=False) + " " + " ".join(r["reason"] for r in read.rejected[:3])
               if read.rejected else "")
        raise InputError(f"The zip must hold exactly one table (CSV/JSONL/Parquet); found: {found}.{why}")
    return tables[0].file, read


def load_dataset(path: Path | str, workdir: Path | None = None, expected_labels: list[str] | None = None,
                 limits: UploadLimits | None = None) -> Dataset:
    """Read and validate a dataset. Media paths are resolved relative to the table;
    with `expected_labels`, any other label is an error naming its row (catches typos).
    A zip is unpacked into a scratch folder under `workdir` (removed on error, or by
    Dataset.cleanup() once the media have been encoded), under `limits` (the upload rules)."""
    path = Path(path)
    scratch = Path(tempfile.mkdtemp(prefix="dataset-", dir=workdir)) if path.suffix.lower() == ".zip" else None
    try:
        read = uploads.Uploads()
        if scratch:
            table_path, read = unpack_zip(path, scratch, limits)
        else:
            table_path = uploads.check_file(path, limits or UploadLimits(), "dataset")
        refused = {r["name"]: r["reason"] for r in read.rejected}
        frame = read_table(table_path)
        frame.columns = [str(c).strip().lower() for c in frame.columns]
        twice = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
        if twice:
            raise InputError(f"'{path.name}' has more than one column named {', '.join(map(repr, twice))} "
                             "(column names are read without case or spaces).")
        data = validate(frame, table_path.parent, path.name, expected_labels, refused)
    except BaseException:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        raise
    data.sha256 = sha256_file(path)
    data.scratch = scratch
    data.rejected, data.note = read.rejected, read.summary()
    return data


def _cell(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return None if text == "" or text.lower() in ("nan", "none", "null") else text


def validate(frame, media_root: Path, name: str, expected_labels: list[str] | None = None,
             refused: dict[str, str] | None = None) -> Dataset:
    columns = set(frame.columns)
    if "label" not in columns:
        raise InputError(f"'{name}' has no 'label' column (columns found: {', '.join(frame.columns)}).")
    present = [c for c in INPUT_COLUMNS if c in columns]
    if not present:
        raise InputError(f"'{name}' needs at least one input column: text, image or audio "
                         f"(columns found: {', '.join(frame.columns)}).")
    if len(frame) == 0:
        raise InputError(f"'{name}' has no rows.")
    labels = []
    for row, value in enumerate(frame["label"].tolist(), start=1):
        label = _cell(value)
        if label is None:
            raise InputError(f"Row {row}: the 'label' column is empty.")
        if expected_labels and label not in expected_labels:
            raise InputError(f"Row {row}: unknown label '{label}' (expected one of: {', '.join(expected_labels)}).")
        labels.append(label)
    label_names = sorted(set(labels))
    if len(label_names) < 2:
        raise InputError(f"Every row has the label '{label_names[0]}': a classifier needs at least two classes.")
    rare = [n for n in label_names if labels.count(n) < 2]
    if rare:
        raise InputError(f"Label(s) {', '.join(map(repr, rare))} occur only once: each class needs at least "
                         "2 rows (better 20+) so that it can appear in training and validation.")
    cells = {c: [_cell(v) for v in frame[c].tolist()] if c in columns else [None] * len(frame) for c in INPUT_COLUMNS}
    media = {c: [_media_path(media_root, v, c, row, refused or {}) for row, v in enumerate(cells[c], start=1)]
             for c in MEDIA_COLUMNS}
    for row in range(len(frame)):
        if all(cells[c][row] is None for c in INPUT_COLUMNS):
            raise InputError(f"Row {row + 1}: no text, image or audio; every row needs at least one input.")
    modalities = [c for c in INPUT_COLUMNS if any(v is not None for v in cells[c])]
    scores = _scores(frame[SCORE_COLUMN].tolist(), name) if SCORE_COLUMN in columns else None
    return Dataset(texts=cells["text"], images=media["image"], audios=media["audio"], labels=labels,
                   label_names=label_names, modalities=modalities, name=name, scores=scores)


def _scores(values: list, name: str) -> np.ndarray:
    """The score column as float64 (NaN for blank cells), checked row by row."""
    scale = INTENSITY_SCALE
    scores = np.full(len(values), np.nan)
    for row, value in enumerate(values, start=1):
        text = _cell(value)
        if text is None:
            continue
        try:
            if isinstance(value, bool):  # JSON true/false is not a rating
                raise ValueError
            number = float(text)
        except ValueError:
            raise InputError(f"Row {row}: the 'score' column holds '{text}', not a number (a mean rating "
                             f"from {-scale:g} to +{scale:g}; leave the cell blank if unknown).") from None
        if not math.isfinite(number) or abs(number) > scale:
            raise InputError(f"Row {row}: score {text} is outside {-scale:g}..+{scale:g}: the 'score' column is a "
                             f"sentiment intensity on the scale of mean human ratings ({-scale:g} most negative, "
                             f"+{scale:g} most positive); rescale it to that range.")
        scores[row - 1] = number
    known = int(np.sum(~np.isnan(scores)))
    if known < MIN_SCORES:
        raise InputError(f"'{name}' has a 'score' column with only {known} number(s); at least {MIN_SCORES} rows "
                         "need a score to train and test an intensity output (or remove the column).")
    return scores


def _media_path(root: Path, value: str | None, column: str, row: int, refused: dict[str, str]) -> Path | None:
    if value is None:
        return None
    try:
        candidate = (root / value).resolve()
    except (OSError, ValueError):  # a NUL byte, a name too long for the file system
        raise InputError(f"Row {row}, column '{column}': '{value[:80]}' is not a usable file name.") from None
    if not candidate.is_relative_to(root.resolve()):
        raise InputError(f"Row {row}, column '{column}': '{value}' points outside the dataset.")
    inside = candidate.relative_to(root.resolve()).as_posix()
    why = next((reason for member, reason in refused.items() if member == inside or member.endswith("/" + inside)),
               None)
    if why is not None:
        raise InputError(f"Row {row}, column '{column}': the file '{value}' was refused: {why}")
    if not candidate.is_file():
        raise InputError(f"Row {row}, column '{column}': the file '{value}' is not in the dataset "
                         "(media paths are relative to the table inside the zip).")
    return candidate
