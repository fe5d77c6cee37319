"""One upload reader for every path (model_zoo.core.uploads): the same per-file, total and
entry-count limits (from the settings), names that cannot escape, each refusal named with its
reason and summed up in one sentence; and the tabs (gallery indexing, caption batches, training
datasets, single files) all read through it."""
from __future__ import annotations

import io
import stat
import struct
import zipfile
from pathlib import Path

import gradio as gr
import pytest
from PIL import Image

from model_zoo.core.errors import InputError
from model_zoo.core.uploads import MB, UploadLimits, check_file, read_uploads

SMALL = UploadLimits(max_file_bytes=1 * MB, max_total_bytes=3 * MB, max_files=20)


def png_bytes(seed: int = 0) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (seed * 40 % 256, 90, 160)).save(buffer, "PNG")
    return buffer.getvalue()


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def zeros_zip(path: Path, megabytes: int, member: str = "zeros.jpg") -> Path:
    """A zip bomb of zeros: `megabytes` MB that deflate to a few hundred KB."""
    block = bytes(MB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open(member, "w", force_zip64=True) as out:
            for _ in range(megabytes):
                out.write(block)
    return path


def lying_zip(path: Path, real_bytes: int, declared: int) -> Path:
    """One member that declares `declared` bytes but inflates to `real_bytes` (headers edited)."""
    make_zip(path, {"liar.png": bytes(real_bytes)})
    data = bytearray(path.read_bytes())
    local = data.find(b"PK\x03\x04")
    struct.pack_into("<I", data, local + 22, declared)
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, declared)
    path.write_bytes(bytes(data))
    return path


def mark_encrypted(path: Path, member: str) -> None:
    """Set the 'encrypted' flag of one member in its local and central headers."""
    data, name = bytearray(path.read_bytes()), member.encode()
    for signature, flags, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        at = data.find(signature)
        while at >= 0:
            if data[at + name_at: at + name_at + len(name)] == name:
                struct.pack_into("<H", data, at + flags, struct.unpack_from("<H", data, at + flags)[0] | 0x1)
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))


def test_a_zip_bomb_is_refused_by_name_not_skipped_in_silence(tmp_path, tiny_bridge_manager):
    """The issue's case: a 300 MB zip of zeros came back 'added 0, skipped 0, rejected []'."""
    from model_zoo.vision import search

    bomb = zeros_zip(tmp_path / "bomb.zip", 300)
    assert bomb.stat().st_size < 5 * MB
    with pytest.raises(InputError) as info:
        search.add_files(tiny_bridge_manager, tmp_path / "gallery", [bomb])  # the default limits: 200 MB a file
    message = str(info.value)
    assert "zeros.jpg" in message and "300 MB" in message and "200 MB" in message, message
    assert not list((tmp_path / "gallery").glob("*"))  # nothing written


def test_a_member_that_lies_about_its_size_stops_at_the_limit(tmp_path):
    liar = lying_zip(tmp_path / "liar.zip", real_bytes=3 * MB, declared=1000)
    read = read_uploads([liar], tmp_path / "out", SMALL)
    assert read.files == [] and [r["name"] for r in read.rejected] == ["liar.png"]
    assert (
        max((p.stat().st_size for p in (tmp_path / "out").rglob("*") if p.is_file()), default=0) <= SMALL.max_file_bytes
    )


def test_per_file_total_and_count_limits_each_name_the_file(tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(bytes(2 * MB))
    many = make_zip(tmp_path / "many.zip", {f"p{n}.png": png_bytes(n) for n in range(30)})
    bulky = make_zip(tmp_path / "bulky.zip", {f"b{n}.png": bytes(900_000) for n in range(5)})  # 4.5 MB in all
    read = read_uploads([big, many, bulky], tmp_path / "out", SMALL, members={".png"}, what="image")
    reasons = {r["name"]: r["reason"] for r in read.rejected}
    assert "1 MB" in reasons["big.png"] and "2 MB" in reasons["big.png"]
    assert "30 files" in reasons["many.zip"] and "20" in reasons["many.zip"]
    assert "unpacks to 4 MB" in reasons["bulky.zip"]
    assert read.files == [] and read.summary("image").startswith("3 images were refused")
    assert "To fix:" in read.summary() and "the limits" in read.summary()
    # files one by one: what fits is read, the rest refused one by one
    plain = []
    for n in range(4):
        plain.append(tmp_path / f"p{n}.png")
        plain[-1].write_bytes(bytes(900_000))
    some = read_uploads(plain, tmp_path / "out2", UploadLimits(max_file_bytes=MB, max_total_bytes=2 * MB, max_files=20))
    assert len(some.files) == 2 and len(some.rejected) == 2 and all("past 2 MB" in r["reason"] for r in some.rejected)


@pytest.mark.parametrize("name", ["../../escape.png", "/etc/escape.png", "..\\..\\escape.png", "C:/escape.png",
                                  "a/../../escape.png", "bell\x07.png"])
def test_names_that_could_escape_are_refused(tmp_path, name):
    archive = make_zip(tmp_path / "evil.zip", {name: png_bytes(), "fine/ok.png": png_bytes(1)})
    for keep_folders in (False, True):
        into = tmp_path / f"out-{keep_folders}"
        read = read_uploads([archive], into, SMALL, keep_folders=keep_folders)
        assert [f.name for f in read.files] == ["fine/ok.png"]
        assert len(read.rejected) == 1 and "outside the archive" in read.rejected[0]["reason"]
        assert all(p.resolve().is_relative_to(into.resolve()) for p in into.rglob("*"))
    assert not list(tmp_path.parent.rglob("escape.png")) and not Path("/etc/escape.png").exists()


def test_links_locked_nested_empty_and_twice_named_members_are_refused_and_metadata_skipped(tmp_path):
    archive = tmp_path / "odd.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        link = zipfile.ZipInfo("link.png")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zipped.writestr(link, "/etc/passwd")
        zipped.writestr("locked.png", png_bytes())  # marked encrypted below
        zipped.writestr("inner.zip", b"PK\x05\x06" + bytes(18))
        zipped.writestr("empty.png", b"")
        zipped.writestr("__MACOSX/._photo.png", b"junk")
        zipped.writestr(".hidden.png", b"junk")
        zipped.writestr("photo.png", png_bytes())
        zipped.writestr("./photo.png", png_bytes(2))  # the same path twice
        zipped.writestr("x" * 300 + ".png", png_bytes(3))  # too long for a file name (the fuzzer's find)
    mark_encrypted(archive, "locked.png")  # zipfile cannot write an encrypted member
    assert zipfile.ZipFile(archive).getinfo("locked.png").flag_bits & 0x1
    read = read_uploads([archive], tmp_path / "out", SMALL, keep_folders=True)
    reasons = {r["name"]: r["reason"] for r in read.rejected}
    assert [f.name for f in read.files] == ["photo.png"]
    assert "a link" in reasons["link.png"] and "password" in reasons["locked.png"]
    assert "zip inside the zip" in reasons["inner.zip"] and "empty" in reasons["empty.png"]
    assert "twice" in reasons["./photo.png"] and "too long" in reasons["x" * 119 + "…"]
    assert len(reasons) == 6  # metadata and hidden files: skipped
    assert not (tmp_path / "out" / "zip0" / "link.png").is_symlink()


def test_a_damaged_zip_and_a_missing_file_are_named(tmp_path):
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    read = read_uploads([broken, tmp_path / "gone.png"], tmp_path / "out", SMALL)
    reasons = {r["name"]: r["reason"] for r in read.rejected}
    assert "not a readable zip" in reasons["broken.zip"] and "could not be found" in reasons["gone.png"]
    with pytest.raises(InputError, match="empty"):
        empty = tmp_path / "empty.wav"
        empty.write_bytes(b"")
        check_file(empty, SMALL, "recording")


def test_every_upload_path_reads_with_the_limits_from_the_settings(tmp_path, tiny_bridge_manager):
    """--max-file-size-mb 1: the same 2 MB file is refused, by name, on every path: a gallery's
    zip, a caption batch's zip, a training dataset's zip and a single uploaded file."""
    import pandas as pd

    from app.settings import load_settings
    from components import captioning, search, sentiment, training
    from components.context import StudioContext

    ctx = StudioContext(tiny_bridge_manager, load_settings(
        ["--data-dir", str(tmp_path / "data"), "--max-file-size-mb", "1", "--max-expanded-mb", "8",
         "--max-upload-files", "50"], environ={}))
    assert ctx.upload_limits == UploadLimits(1 * MB, 8 * MB, 50)
    owner = ctx.space.anonymous("session", "limits-0001")
    huge = bytes(2 * MB)
    photos = make_zip(tmp_path / "photos.zip", {"big.png": huge, "small.png": png_bytes()})

    added = search.index_images(ctx, [{"path": str(photos)}], "mine", owner=owner)
    assert added["added"] == 1 and [r["name"] for r in added["rejected"]] == ["big.png"]
    assert "1 MB" in added["rejected"][0]["reason"] and added["note"].startswith("1 file was refused")

    from model_zoo.vision.captioning import CaptionOptions

    batch = captioning.caption_many(ctx, [{"path": str(photos)}], CaptionOptions(num_candidates=1), owner=owner)
    row = next(r for r in batch.rows if r.name == "big.png")
    assert "1 MB" in row.error and batch.captioned == 1 and batch.note.startswith("1 file was refused")

    table = pd.DataFrame({"text": ["good", "bad"] * 6, "image": ["big.png", "small.png"] * 6,
                          "label": ["pos", "neg"] * 6}).to_csv(index=False).encode()
    dataset = make_zip(tmp_path / "data.zip", {"table.csv": table, "big.png": huge, "small.png": png_bytes()})
    with pytest.raises(InputError, match=r"Row 1, column 'image': the file 'big.png' was refused: .*1 MB"):
        next(training.run_training(ctx, {"path": str(dataset)}, epochs=1, owner=owner))

    single = tmp_path / "single.png"
    single.write_bytes(huge)
    with pytest.raises(gr.Error, match="single.png.*1 MB"):
        search.classify_image_api(ctx, {"path": str(single)}, "cat, dog")
    csv = tmp_path / "big.csv"
    csv.write_bytes(b"text\n" + b"x" * (2 * MB))
    with pytest.raises(InputError, match="big.csv.*1 MB"):
        sentiment.batch_predict(ctx, {"path": str(csv)}, "text", "fast", owner=owner)
