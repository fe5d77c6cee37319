"""Real-time factor of /speech_translate end to end (gradio_client over HTTP) against the
bare faster-whisper call on the same clips and the same loaded model, greedy and beam 5.

    python -m benchmarks.models.speech [--repeats 3] [--clips DIR_OR_FILES ...] [--task translate]

Four figures per clip and beam size (median of --repeats runs, RTF = seconds / audio s):
  bare stock    WhisperModel.transcribe(path, task, beam_size): the library's defaults,
                language detection + decoding, each on a padded 30 s window
  bare short    the same library calls the app makes (encode the clip + 2 s margin, at
                least 10 s, once; detect the language and decode from that output)
  endpoint app  /speech_translate with the app's settings (short window)
  endpoint 30s  /speech_translate with --speech-min-window-s 30 (stock window)
and the ratios endpoint/bare (app overhead) and bare stock/endpoint app (speed-up).
With --backends ... openai-whisper (the default runs both), two more per clip and beam:
  openai bare   whisper.transcribe(model, path, task, beam_size): openai-whisper's own
                call and defaults (fp32 on CPU, 30 s window, no word times)
  openai ep     /speech_translate of an app on --whisper-backend openai-whisper (the same
                model, converted from the pack; language detection + word timestamps)
Clips: the example clips in assets/audio plus espeak-ng sentences made here; the
summary is over clips of 5 s or more (the issue's target: median RTF <= 0.15)."""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

from benchmarks.models.timing import median_seconds as timed

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

REPO = Path(__file__).resolve().parents[2]
SENTENCES = [
    ("en", "Good evening. The train to the city leaves at seven o'clock, and the next one an hour later."),
    ("de", "Der Zug in die Stadt fährt um sieben Uhr ab, und der nächste eine Stunde später. Bitte steigen Sie ein."),
]


def make_clips(folder: Path, extra: list[str]) -> list[Path]:
    clips = sorted((REPO / "assets" / "audio").glob("*.ogg"))
    for i, (voice, text) in enumerate(SENTENCES):
        dest = folder / f"espeak_{voice}_{i}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(dest), text], check=True, capture_output=True)
        clips.append(dest)
    for item in extra:
        path = Path(item)
        clips += (
            sorted(p for p in path.iterdir() if p.suffix in {".wav", ".ogg", ".mp3", ".flac"})
            if path.is_dir()
            else [path]
        )
    return clips


def bare_stock(model, path: Path, task: str, beam: int) -> str:
    segments, _ = model.transcribe(str(path), task=task, beam_size=beam)
    return " ".join(s.text for s in segments)


def bare_short(model, path: Path, task: str, beam: int) -> str:
    """What the app does, as bare library calls (see faster_whisper_backend)."""
    from faster_whisper.audio import decode_audio, pad_or_trim
    from faster_whisper.tokenizer import Tokenizer

    from model_zoo.speech.faster_whisper_backend import encoder_window_frames, transcription_options
    from model_zoo.speech.whisper_common import DecodeOptions

    options = DecodeOptions(beam_size=beam)
    features = model.feature_extractor(decode_audio(str(path)))
    frames = features.shape[-1] - 1
    encoded = model.encode(pad_or_trim(features[:, :frames], encoder_window_frames(frames, options)))
    language = model.model.detect_language(encoded)[0][0][0][2:-2]
    task = "transcribe" if language == "en" else task
    tokenizer = Tokenizer(model.hf_tokenizer, True, task=task, language=language)
    segments = model.generate_segments(features, tokenizer, transcription_options(tokenizer, options), False, encoded)
    return " ".join(s.text for s in segments)


def bare_openai(model, path: Path, task: str, beam: int) -> str:
    import whisper

    result = whisper.transcribe(model, str(path), task=task, beam_size=beam if beam > 1 else None, fp16=False)
    return result["text"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--task", default="translate", choices=["translate", "transcribe", "both"])
    parser.add_argument("--clips", nargs="*", default=[], help="extra audio files or folders")
    parser.add_argument("--beams", default="1,5", help="beam sizes, comma-separated")
    parser.add_argument("--backends", default="faster-whisper,openai-whisper")
    args = parser.parse_args()
    beams = [int(b) for b in args.beams.split(",")]
    backends = args.backends.split(",")

    from gradio_client import Client, handle_file

    from app.blocks import build_demo, launch_kwargs
    from app.settings import load_settings
    from model_zoo.speech.audio import decode_audio
    from model_zoo.core.manager import ModelManager
    from app.network import free_port

    work = Path(tempfile.mkdtemp(prefix="speech-bench-"))
    clips = make_clips(work, args.clips)
    base = ["--data-dir", str(work / "data"), "--offline", "--device", "cpu"]
    app_settings = load_settings(base + ["--port", str(free_port())], environ={})
    stock_settings = load_settings(base + ["--port", str(free_port()), "--speech-min-window-s", "30"], environ={})
    openai_settings = load_settings(base + ["--port", str(free_port()), "--whisper-backend", "openai-whisper"],
                                    environ={})
    manager = ModelManager(app_settings.manager_config())  # one model shared by both demos
    studios, clients = [], {}
    demo_settings = [("app", app_settings), ("30s", stock_settings)] if "faster-whisper" in backends else []
    demo_settings += [("openai", openai_settings)] if "openai-whisper" in backends else []
    for label, settings in demo_settings:
        studio = build_demo(settings, manager)
        studio.demo.launch(prevent_thread_lock=True, quiet=True, **launch_kwargs(settings))
        studios.append(studio)
        clients[label] = Client(f"http://127.0.0.1:{settings.port}/", verbose=False)
    bare_task = "translate" if args.task == "both" else args.task
    rows: list[dict] = []
    try:
        if "faster-whisper" in backends:
            rows += run_faster(manager, clients, clips, args, beams, bare_task, decode_audio, handle_file)
        if "openai-whisper" in backends:
            rows += run_openai(manager, clients, clips, args, beams, bare_task, decode_audio, handle_file)
    finally:
        for studio in studios:
            studio.close()
    summarise(rows, args, beams)


def run_openai(manager, clients, clips, args, beams, bare_task, decode_audio, handle_file) -> list[dict]:
    rows = []
    with manager.use("whisper-base-openai") as recognizer:
        model = recognizer.model
        bare_openai(model, clips[0], bare_task, 1)  # warm up
        clients["openai"].predict(handle_file(str(clips[0])), args.task, "auto", 1, api_name="/speech_translate")
        for clip in clips:
            duration = decode_audio(clip).duration_s
            for beam in beams:
                call = lambda: clients["openai"].predict(
                    handle_file(str(clip)), args.task, "auto", beam, api_name="/speech_translate")
                row = {"clip": clip.name, "dur": duration, "beam": beam,
                       "openai_bare": timed(lambda: bare_openai(model, clip, bare_task, beam), args.repeats) / duration,
                       "openai_ep": timed(call, args.repeats) / duration}
                rows.append(row)
                print(f"{row['clip'][:36]:36} {duration:5.1f}s beam {beam}  RTF openai bare {row['openai_bare']:.3f}"
                      f"  openai endpoint {row['openai_ep']:.3f}", flush=True)
    return rows


def run_faster(manager, clients, clips, args, beams, bare_task, decode_audio, handle_file) -> list[dict]:
    rows = []
    with manager.use("whisper-base") as recognizer:
        model = recognizer.model
        bare_stock(model, clips[0], bare_task, 1)  # warm up library, model and server
        clients["app"].predict(handle_file(str(clips[0])), args.task, "auto", 1, api_name="/speech_translate")
        for clip in clips:
            duration = decode_audio(clip).duration_s
            for beam in beams:
                def endpoint(label: str) -> float:
                    call = lambda: clients[label].predict(
                        handle_file(str(clip)), args.task, "auto", beam, api_name="/speech_translate")
                    return timed(call, args.repeats) / duration

                row = {
                    "clip": clip.name, "dur": duration, "beam": beam,
                    "bare_stock": timed(lambda: bare_stock(model, clip, bare_task, beam), args.repeats) / duration,
                    "bare_short": timed(lambda: bare_short(model, clip, bare_task, beam), args.repeats) / duration,
                    "ep_app": endpoint("app"), "ep_30s": endpoint("30s"),
                }
                rows.append(row)
                print(f"{row['clip'][:36]:36} {duration:5.1f}s beam {beam}  RTF bare stock {row['bare_stock']:.3f}"
                      f"  bare short {row['bare_short']:.3f}  endpoint app {row['ep_app']:.3f}"
                      f"  endpoint 30s {row['ep_30s']:.3f}", flush=True)
    return rows


def summarise(rows: list[dict], args, beams: list[int]) -> None:
    print(f"\ntask={args.task}, language=auto, repeats={args.repeats}, cpu cores={os.cpu_count()}; "
          "medians over clips of 5 s or more:")
    print(f"{'beam':>4} {'bare stock':>10} {'bare short':>10} {'endpoint app':>12} {'endpoint 30s':>12}"
          f" {'overhead app':>12} {'30s/stock':>10} {'speed-up':>8}")
    for beam in beams:
        chosen = [r for r in rows if r["beam"] == beam and r["dur"] >= 5 and "bare_stock" in r]
        if not chosen:
            continue
        med = {k: statistics.median(r[k] for r in chosen) for k in ("bare_stock", "bare_short", "ep_app", "ep_30s")}
        print(
            f"{beam:>4} {med['bare_stock']:>10.3f} {med['bare_short']:>10.3f} "
            f"{med['ep_app']:>12.3f} {med['ep_30s']:>12.3f}"
            f" {med['ep_app'] / med['bare_short']:>11.3f}x {med['ep_30s'] / med['bare_stock']:>9.3f}x"
            f" {med['bare_stock'] / med['ep_app']:>7.2f}x"
        )
    print("overhead app = endpoint app / bare short (same library work: the app's cost); "
          "30s/stock = endpoint 30s / bare stock (the endpoint encodes once where transcribe() encodes "
          "for detection and again for decoding); speed-up = bare stock / endpoint app.")
    summarise_openai(rows, beams)


def summarise_openai(rows: list[dict], beams: list[int]) -> None:
    faster = {(r["clip"], r["beam"]): r for r in rows if "ep_app" in r}
    print(f"\n{'beam':>4} {'openai bare':>11} {'openai ep':>9} {'ep/bare':>8} {'vs faster-whisper ep':>21}")
    for beam in beams:
        chosen = [r for r in rows if r["beam"] == beam and r["dur"] >= 5 and "openai_ep" in r]
        if not chosen:
            continue
        bare, ep = (statistics.median(r[k] for r in chosen) for k in ("openai_bare", "openai_ep"))
        paired = [faster[(r["clip"], beam)]["ep_app"] for r in chosen if (r["clip"], beam) in faster]
        versus = f"{ep / statistics.median(paired):>20.2f}x" if paired else f"{'-':>21}"
        print(f"{beam:>4} {bare:>11.3f} {ep:>9.3f} {ep / bare:>7.3f}x {versus}")
    print("openai ep/bare = the openai-whisper endpoint against its bare whisper.transcribe call (the endpoint "
          "also detects the language with its own encoder pass and times words); vs faster-whisper ep = how "
          "many times slower than the default backend's endpoint on the same clips.")


if __name__ == "__main__":
    main()
