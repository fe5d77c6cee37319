"""Generated malformed uploads for every endpoint, from one seed: truncated, corrupted and
mislabelled images, audio and video; zips with hostile names, nested zips, bombs and broken
archives; CSV/JSONL/JSON/Parquet tables with wrong columns, huge cells and bad encodings; and
hostile text arguments. Each case is one call (api_name, arguments); tests/test_fuzz.py fires
them at the running app and checks that each is answered or refused clearly, that the server
stays up, writes nothing outside its data dir and keeps every owner within the quota.

Every file a case writes carries the run's marker (`fz<seed><run>`, run: a token of this run,
so files another run left behind are not taken for this one's) in its name, and so does each
member name inside its zips, so whatever the app wrote of them anywhere can be found after.

A longer run: STUDIO_FUZZ_CASES=2000 STUDIO_FUZZ_SEED=7 pytest -m slow tests/test_fuzz.py
(the seed of every run is printed; pass it back to replay a run)."""
from __future__ import annotations

import io
import json
import random
import stat
import struct
import wave
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from tests import badfiles

REPO = Path(__file__).resolve().parent.parent
PHOTOS = sorted((REPO / "assets" / "gallery").glob("*.jpg"))
CLIPS = sorted((REPO / "assets" / "audio").glob("*.ogg"))
VIDEO = REPO / "assets" / "video" / "example.mp4"
MB = 1 << 20


@dataclass
class Case:
    id: str
    api: str
    args: tuple  # paths stay Paths here: the runner wraps them with handle_file
    kind: str  # what was generated, for the report


class Maker:
    """Writes the files of one run under `folder`, every name marked with the run's marker."""

    def __init__(self, seed: int, folder: Path, run: str = "") -> None:
        self.rng = random.Random(seed)
        self.np = np.random.default_rng(seed)
        self.marker = f"fz{seed}{run}"
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0
        self._bomb: Path | None = None
        self._bad = {**badfiles.bad_audio(self.folder / f"{self.marker}-audio"),
                     **badfiles.bad_images(self.folder / f"{self.marker}-images")}

    def write(self, name: str, data: bytes) -> Path:
        self.count += 1
        path = self.folder / f"{self.marker}-{self.count:05d}-{name}"
        path.write_bytes(data)
        return path

    # -- bytes of each kind ------------------------------------------------------------------
    def photo(self) -> bytes:
        return self.rng.choice(PHOTOS).read_bytes()

    MODES = {"PNG": ["RGB", "L", "RGBA", "P", "I;16", "LA"], "TIFF": ["RGB", "CMYK", "L", "I;16", "RGBA"],
             "JPEG": ["RGB", "L", "CMYK"], "GIF": ["P", "L"], "BMP": ["RGB", "L", "P"], "WEBP": ["RGB", "RGBA"]}

    def noise_image(self, fmt: str = "PNG") -> bytes:
        width, height = self.rng.randint(1, 96), self.rng.randint(1, 96)
        mode = self.rng.choice(self.MODES[fmt])
        image = Image.fromarray(self.np.integers(0, 255, (height, width, 3), dtype=np.uint8))
        image = image.convert("I").convert("I;16") if mode == "I;16" else image.convert(mode)
        buffer = io.BytesIO()
        image.save(buffer, fmt)
        return buffer.getvalue()

    def mangle(self, data: bytes) -> tuple[str, bytes]:
        """One way to break a file: cut it, flip bytes in its header or body, pad it with junk."""
        how = self.rng.choice(["truncate", "truncate-early", "flip-header", "flip-body", "junk-tail", "zero-fill"])
        if how == "truncate":
            return how, data[: self.rng.randint(1, max(1, len(data) - 1))]
        if how == "truncate-early":
            return how, data[: self.rng.randint(1, min(64, len(data)))]
        if how == "zero-fill":
            cut = self.rng.randint(0, len(data))
            return how, data[:cut] + bytes(len(data) - cut)
        buffer = bytearray(data)
        if how == "junk-tail":
            return how, bytes(buffer) + self.np.integers(0, 255, self.rng.randint(1, 4096), dtype=np.uint8).tobytes()
        span = (0, min(len(buffer), 64)) if how == "flip-header" else (0, len(buffer))
        for _ in range(self.rng.randint(1, 16)):
            if buffer:
                at = self.rng.randrange(*span) if span[1] > span[0] else 0
                buffer[at] = self.rng.randrange(256)
        return how, bytes(buffer)

    def image_file(self) -> tuple[str, Path]:
        """A broken, mislabelled or odd image (now and then a good one: it must be answered)."""
        choice = self.rng.randrange(12)
        if choice == 0:
            return "good-photo", self.write("good.jpg", self.photo())
        if choice == 1:
            fmt = self.rng.choice(["PNG", "GIF", "BMP", "TIFF", "WEBP", "JPEG"])
            return f"odd-{fmt.lower()}", self.write(f"odd.{fmt.lower()}", self.noise_image(fmt))
        if choice == 2:
            how, data = self.mangle(self.photo())
            return f"photo-{how}", self.write(f"{how}.jpg", data)
        if choice == 3:
            how, data = self.mangle(self.noise_image("PNG"))
            return f"png-{how}", self.write(f"{how}.png", data)
        if choice == 4:  # mislabelled: one format's bytes under another's name
            data = self.rng.choice(
                [self.noise_image("PNG"), self.photo(), self.audio_bytes(), VIDEO.read_bytes()[:20000]]
            )
            return "mislabelled", self.write(f"mislabelled.{self.rng.choice(['jpg', 'png', 'webp', 'gif'])}", data)
        if choice == 5:
            width, height = self.rng.choice([(100_000, 100_000), (1, 10**6), (65535, 65535), (0, 0)])
            return "declares-huge", self.write("huge.png", badfiles.png_header_only(width, height))
        if choice == 6:
            return "random-bytes", self.write("random.jpg", self.np.integers(0, 255, self.rng.randint(0, 5000),
                                                                             dtype=np.uint8).tobytes())
        if choice == 7:
            return "text-as-image", self.write("notes.png", ("not an image — ünïcödé \x00\n" * 50).encode("utf-8"))
        if choice == 8:
            name = self.rng.choice(list(k for k in self._bad if k.endswith((".jpg", ".png"))))
            return f"badfiles-{name}", self.write(name, self._bad[name].read_bytes())
        if choice == 9:
            return "empty", self.write("empty.jpg", b"")
        if choice == 10:  # an image whose header names an enormous EXIF or ICC block
            return "header-lies", self.write("lies.jpg", b"\xff\xd8\xff\xe1\xff\xff" + b"Exif\x00\x00" + bytes(200))
        return "gif-frames", self.write("frames.gif", self.gif())

    def gif(self) -> bytes:
        frames = [Image.fromarray(self.np.integers(0, 255, (24, 24, 3), dtype=np.uint8)).convert("P")
                  for _ in range(self.rng.randint(1, 6))]
        buffer = io.BytesIO()
        frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=40)
        data = buffer.getvalue()
        return data if self.rng.random() < 0.5 else data[: len(data) // 2]

    def audio_bytes(self) -> bytes:
        rate = self.rng.choice([8000, 16000, 44100])
        seconds = self.rng.uniform(0.01, 1.5)
        samples = 0.3 * np.sin(np.linspace(0, 2 * np.pi * 440 * seconds, int(rate * seconds)))
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes((samples * 32767).astype("<i2").tobytes())
        return buffer.getvalue()

    def audio_file(self) -> tuple[str, Path]:
        choice = self.rng.randrange(8)
        if choice == 0:
            name = self.rng.choice(list(self._bad))
            return f"badfiles-{name}", self.write(name, self._bad[name].read_bytes())
        if choice == 1:
            how, data = self.mangle(self.audio_bytes())
            return f"wav-{how}", self.write(f"{how}.wav", data)
        if choice == 2:
            how, data = self.mangle(self.rng.choice(CLIPS).read_bytes())
            return f"ogg-{how}", self.write(f"{how}.ogg", data)
        if choice == 3:  # a WAV header with impossible fields
            rate, channels, bits = self.rng.choice([(0, 1, 16), (16000, 0, 16), (16000, 1, 3), (2**31 - 1, 65535, 64)])
            header = (b"RIFF" + struct.pack("<I", 36 + 800) + b"WAVE" + b"fmt " + struct.pack(
                "<IHHIIHH", 16, 1, channels, rate, (rate * max(channels, 1) * max(bits // 8, 1)) & 0xFFFFFFFF,
                max(channels, 1), bits)
                + b"data" + struct.pack("<I", 0xFFFFFFF0))
            return "wav-impossible-header", self.write("impossible.wav", header + bytes(800))
        if choice == 4:
            suffix = self.rng.choice(["mp3", "ogg", "flac", "m4a", "wav"])
            return "random-bytes", self.write(f"random.{suffix}", self.np.integers(0, 255, self.rng.randint(0, 8000),
                                                                                   dtype=np.uint8).tobytes())
        if choice == 5:
            return "image-as-audio", self.write(f"photo.{self.rng.choice(['wav', 'mp3', 'ogg'])}", self.photo())
        if choice == 6:
            return "video-as-audio", self.write("clip.wav", VIDEO.read_bytes()[: self.rng.randint(100, 60000)])
        return "empty", self.write("empty.wav", b"")

    def video_file(self) -> tuple[str, Path]:
        choice = self.rng.randrange(7)
        data = VIDEO.read_bytes()
        if choice == 0:
            return "video-truncated", self.write("cut.mp4", data[: self.rng.randint(1, len(data) // 8)])
        if choice == 1:
            how, broken = self.mangle(data)
            if how in ("junk-tail", "flip-body"):  # still a whole video: keep it a short one
                broken = broken[: len(data) // 10]
            return f"video-{how}", self.write(f"{how}.mp4", broken)
        if choice == 2:
            return "image-as-video", self.write(f"photo.{self.rng.choice(['mp4', 'webm', 'mov'])}", self.photo())
        if choice == 3:
            return "audio-as-video", self.write("speech.mp4", self.audio_bytes())
        if choice == 4:
            return "random-bytes", self.write("random.mp4", self.np.integers(0, 255, self.rng.randint(0, 20000),
                                                                             dtype=np.uint8).tobytes())
        if choice == 5:  # an mp4 box that claims to be enormous
            return "video-box-lies", self.write("lies.mp4", struct.pack(">I", 0xFFFFFFFF) + b"ftypisom" + bytes(64))
        return "empty", self.write("empty.mp4", b"")

    # -- archives ----------------------------------------------------------------------------
    def hostile_name(self, suffix: str) -> str:
        base = f"{self.marker}-{self.rng.randrange(10**6)}{suffix}"
        return self.rng.choice([
            base, f"folder/{base}", f"../../{base}", f"../../../../tmp/{base}", f"/tmp/{base}", f"..\\..\\{base}",
            f"C:/{base}", f"a/./b/../../../{base}", "x" * 300 + suffix, f"bell\x07{base}", f"ünï/{base}",
            f"__MACOSX/._{base}", f".hidden-{base}", f"dir/{base}/", f"space {base}",
        ])

    def zip_bytes(self, members: int | None = None, table: bytes | None = None) -> tuple[str, bytes]:
        buffer = io.BytesIO()
        kinds = []
        with zipfile.ZipFile(buffer, "w", self.rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])) as archive:
            if table is not None:
                archive.writestr(f"{self.marker}-table.csv", table)
            for _ in range(members if members is not None else self.rng.randint(0, 8)):
                what = self.rng.randrange(8)
                if what <= 2:
                    kind, path = self.image_file()
                    archive.writestr(self.hostile_name(path.suffix), path.read_bytes())
                    kinds.append(kind)
                elif what == 3:
                    archive.writestr(self.hostile_name(".txt"), "notes, not a photo")
                    kinds.append("text")
                elif what == 4:  # a zip inside
                    inner = io.BytesIO()
                    with zipfile.ZipFile(inner, "w") as nested:
                        nested.writestr(f"{self.marker}-inner.jpg", self.photo())
                    archive.writestr(self.hostile_name(".zip"), inner.getvalue())
                    kinds.append("nested")
                elif what == 5:  # a link
                    link = zipfile.ZipInfo(self.hostile_name(".jpg"))
                    link.external_attr = (stat.S_IFLNK | 0o777) << 16
                    archive.writestr(link, "/etc/passwd")
                    kinds.append("link")
                elif what == 6:
                    archive.writestr(self.hostile_name(".jpg"), b"")
                    kinds.append("empty")
                else:
                    archive.writestr(self.hostile_name(".jpg"), self.photo())
                    kinds.append("photo")
        data = buffer.getvalue()
        if self.rng.random() < 0.15:
            how, data = self.mangle(data)
            kinds.append(f"zip-{how}")
        return "zip[" + ",".join(kinds) + "]", data

    def bomb(self) -> Path:
        """One per run: a member of 210 MB of zeros (past the 200 MB a file may be), in 200 KB."""
        if self._bomb is None:
            self._bomb = self.folder / f"{self.marker}-bomb.zip"
            with zipfile.ZipFile(self._bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
                with archive.open(f"{self.marker}-zeros.jpg", "w", force_zip64=True) as out:
                    block = bytes(MB)
                    for _ in range(210):
                        out.write(block)
        return self._bomb

    def many_entries(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for n in range(5001):
                archive.writestr(f"{self.marker}-{n}.jpg", b"x")
        return buffer.getvalue()

    def zip_file(self) -> tuple[str, Path]:
        choice = self.rng.randrange(10)
        if choice == 0:
            return "zip-bomb", self.bomb()
        if choice == 1 and self.rng.random() < 0.3:
            return "zip-5001-entries", self.write("many.zip", self.many_entries())
        if choice == 2:
            return "zip-not-a-zip", self.write("fake.zip", b"PK\x03\x04" + self.photo()[:500])
        if choice == 3:
            kind, data = self.zip_bytes()
            return f"mislabelled-{kind}", self.write("photos.jpg", data)  # a zip under an image's name
        kind, data = self.zip_bytes()
        return kind, self.write("photos.zip", data)

    # -- tables ------------------------------------------------------------------------------
    def csv_text(self) -> tuple[str, str]:
        """A CSV that is wrong in at least one way (a valid one would train a head)."""
        rows = self.rng.randint(0, 30)
        choice = self.rng.randrange(10)
        labels = ["pos", "neg"]
        if choice == 0:
            return "no-label-column", "text,score\n" + "".join(f"nice {n},{n % 3}\n" for n in range(rows))
        if choice == 1:
            return "one-class", "text,label\n" + "".join(f"fine {n},pos\n" for n in range(rows + 2))
        if choice == 2:
            big = "w" * self.rng.choice([10**5, 10**6])
            return "huge-cells-one-class", f"text,label\n{big},pos\n{big},pos\n"
        if choice == 3:
            return "missing-media", "text,image,label\n" + "".join(
                f"r{n},{self.marker}/none-{n}.jpg,{labels[n % 2]}\n" for n in range(rows + 4))
        if choice == 4:
            return "ragged", "text,label\n" + "".join(f"a,b,c,d,{n}\n" if n % 2 else "x\n" for n in range(rows + 4))
        if choice == 5:
            return "duplicate-columns", "text,label,Label\n" + "".join(
                f"t{n},{labels[n % 2]},x\n" for n in range(rows + 4)
            )
        if choice == 6:
            return "bad-score", "text,label,score\n" + "".join(f"t{n},{labels[n % 2]},{'lots' if n % 3 else 9}\n"
                                                              for n in range(rows + 12))
        if choice == 7:
            return "only-header", "text,image,audio,label\n"
        if choice == 8:
            return "unbalanced-quotes", 'text,label\n"never closed,pos\n' + "x,neg\n" * rows
        return "no-input-columns", "label,other\n" + "".join(f"{labels[n % 2]},{n}\n" for n in range(rows + 4))

    def table_file(self) -> tuple[str, Path]:
        choice = self.rng.randrange(9)
        kind, text = self.csv_text()
        if choice <= 2:
            return f"csv-{kind}", self.write("table.csv", text.encode("utf-8"))
        if choice == 3:  # bad encodings: UTF-16, Latin-1, raw bytes, NULs
            encoding = self.rng.choice(["utf-16", "latin-1", "raw", "nul"])
            if encoding == "raw":
                data = self.np.integers(0, 255, self.rng.randint(1, 4000), dtype=np.uint8).tobytes()
            elif encoding == "nul":
                data = text.replace(",", ",\x00").encode("utf-8")
            else:
                data = (text + "café,pos\n").encode(encoding, errors="replace")
            return f"csv-{encoding}-{kind}", self.write("table.csv", data)
        if choice == 4:
            lines = self.rng.choice([
                ['{"text": "a", "label": "pos"}', "{not json", '{"text": 1}'],
                ['[1, 2, 3]', '"just a string"', "42"],
                ['{"text": {"nested": [1, 2]}, "label": ["pos"]}'] * 6,
                [""], ['{"label": "pos"}'] * 5,
            ])
            return "jsonl-malformed", self.write("table.jsonl", "\n".join(lines).encode())
        if choice == 5:
            data = self.rng.choice(['{"text": "a", "label": "pos"}', "[" * 50000 + "]" * 50000, "null",
                                    json.dumps({"rows": [{"text": "a", "label": "pos"}]}), "[1, 2"])
            return "json-malformed", self.write("table.json", data.encode())
        if choice == 6:
            data = self.rng.choice([text.encode(), self.photo(), b"PAR1" + bytes(100) + b"PAR1", self.parquet()[:200]])
            return "parquet-broken", self.write("table.parquet", data)
        if choice == 7:
            return "parquet-wrong-columns", self.write("table.parquet", self.parquet())
        kind, data = self.zip_bytes(members=self.rng.randint(0, 4), table=text.encode())
        return f"dataset-{kind}", self.write("dataset.zip", data)

    def parquet(self) -> bytes:
        import pandas as pd

        frame = pd.DataFrame({"words": ["a", "b", "c"], "value": [1, 2, 3], "nested": [[1], [2, 3], []]})
        buffer = io.BytesIO()
        frame.to_parquet(buffer)
        return buffer.getvalue()

    # -- text arguments -------------------------------------------------------------------------
    def text(self) -> str:
        return self.rng.choice([
            "", "   \n\t ", "a lovely film", "x" * self.rng.choice([1000, 100_000]), "\x00\x01\x02", "🙂" * 500,
            "\u202ereversed", "'; DROP TABLE galleries; --", "../../etc/passwd", "%s%s%n", "{{7*7}}",
        ])

    def name(self) -> str:
        return self.rng.choice([
            f"{self.marker}-g", "default", "sample", "../../etc", "/tmp/x", "a" * 300, "", " ", "con", ".",
            "..", "x/../../y", "name\x00nul", "ünïcödé", "sample-clip", f"{self.marker}.{self.rng.randrange(99)}",
        ])


# (api, how to make one case's arguments from a Maker) -> (kind, args)
def _index(m: Maker):
    files = [m.rng.choice([m.image_file, m.zip_file])() for _ in range(m.rng.randint(0, 4))]
    return "+".join(k for k, _ in files) or "no-files", ([p for _, p in files], m.name())


def _caption_batch(m: Maker):
    files = [m.rng.choice([m.image_file, m.zip_file])() for _ in range(m.rng.randint(1, 3))]
    return "+".join(k for k, _ in files), ([p for _, p in files], 1, "greedy", 10, "", "", m.rng.choice(["", m.name()]))


def _sentiment(m: Maker):
    image = m.image_file() if m.rng.random() < 0.4 else ("none", None)
    audio = m.audio_file() if m.rng.random() < 0.3 else ("none", None)
    return f"{image[0]}+{audio[0]}", (m.text(), image[1], audio[1], m.rng.choice(["default", "fast", m.name()]))


def _search(m: Maker):
    image = m.image_file() if m.rng.random() < 0.6 else ("none", None)
    return image[0], (m.text(), image[1], m.rng.choice([0, 1, 8, -3, 10**6]), m.name(), m.rng.choice([1.0, -5, 1e9]))


MAKERS: dict[str, Callable[[Maker], tuple[str, tuple]]] = {
    "/caption": lambda m: (lambda f: (f[0], (f[1], m.rng.choice([1, 3, 0, 500]))))(m.image_file()),
    "/read_text": lambda m: (lambda f: (f[0], (f[1],)))(m.image_file()),
    "/classify_image": lambda m: (lambda f: (f[0], (f[1], m.rng.choice(["cat, dog", "", m.text()]))))(m.image_file()),
    "/search": _search,
    "/index_images": _index,
    "/caption_batch": _caption_batch,
    "/sentiment": _sentiment,
    "/speech_translate": lambda m: (lambda f: (f[0], (f[1], m.rng.choice(["transcribe", "translate", "dance"]),
                                                      m.rng.choice(["auto", "en", "xx"]), m.rng.choice([1, 0]))))(
        m.audio_file()),
    "/index_video": lambda m: (lambda f: (f[0], (f[1], m.rng.choice(["", m.name()]))))(m.video_file()),
    "/search_video": lambda m: ("text", (m.text(), m.name(), m.rng.choice([1, 0, 10**6]))),
    "/train_head": lambda m: (lambda f: (f[0], (f[1], m.rng.choice(["early", "gated", "psychic"]), 1)))(m.table_file()),
    "/remove_images": lambda m: ("text", (m.rng.choice(["1,2", "x", "", "-1", "9" * 40]), m.name())),
    "/generate_image": lambda m: ("text", (m.text(), "", m.rng.choice([0, 1, -5]), -1, -1, 64, 64)),
}
# how often each endpoint comes up: the upload paths most
WEIGHTS = {"/caption": 3, "/read_text": 2, "/classify_image": 2, "/search": 2, "/index_images": 4, "/caption_batch": 2,
           "/sentiment": 2, "/speech_translate": 3, "/index_video": 2, "/search_video": 1, "/train_head": 4,
           "/remove_images": 1, "/generate_image": 1}


def cases(seed: int, count: int, folder: Path, run: str = "") -> list[Case]:
    """`count` cases from `seed`, their files under `folder` (names marked with `run` too): the
    same seed makes the same cases."""
    maker = Maker(seed, folder, run)
    apis = list(WEIGHTS)
    made = []
    for n in range(count):
        api = maker.rng.choices(apis, weights=[WEIGHTS[a] for a in apis])[0]
        kind, args = MAKERS[api](maker)
        made.append(Case(f"{n:04d}{api.replace('/', '-')}-{kind}"[:120], api, args, kind))
    return made
