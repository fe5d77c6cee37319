"""Live captions: the agreement policy with a fake decoder (pure logic, fast), then real
Whisper base fed real speech chunk by chunk (slow)."""
from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from pathlib import Path

import numpy as np
import pytest

from model_zoo.speech.whisper_common import DecodeOptions, Segment
from model_zoo.speech.live.agreement import align_prefix, common_prefix
from model_zoo.speech.live import (
    LiveBusy,
    LiveCaptioner,
    LiveOptions,
    LiveSessions,
    live_decode_options,
    to_mono_16k,
)
from model_zoo.speech.service import to_srt, to_vtt
from tests.speech_clips import ENGLISH, LIBRIVOX_TEXT, espeak, word_error_rate, word_recall

SR = 16_000
ASSETS = Path(__file__).resolve().parents[2] / "assets" / "audio"


# -- a scripted decoder: the text heard so far, with a wobble at the window's end --------------
class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class ScriptedDecoder:
    """Speaks `sentences` at `words_per_s` from the session's start. A decode of a window
    returns the words spoken inside it, grouped per sentence, the last word garbled the
    first time it appears (as Whisper guesses a half-heard word)."""

    def __init__(self, sentences: list[str], words_per_s: float = 2.5, language: str = "en") -> None:
        self.words = [(w, i) for i, s in enumerate(sentences) for w in s.split()]
        self.rate = words_per_s
        self.language = language
        self.captioner: LiveCaptioner | None = None
        self.calls: list[tuple[float, str]] = []
        self.seen: set[int] = set()
        self.speech_s = float("inf")  # words are only heard while the speaker talks

    def __call__(self, audio: np.ndarray, task: str, language: str | None):
        captioner = self.captioner
        start_s = captioner.offset / SR
        end_s = start_s + len(audio) / SR
        self.calls.append((end_s, task))
        first = int(round(start_s * self.rate))
        last = min(len(self.words), int(min(end_s, self.speech_s) * self.rate))
        heard = self.words[first:last]
        segments: list[Segment] = []
        for n, (word, sentence) in enumerate(heard):
            index = first + n
            cut_off = end_s < (index + 1) / self.rate + 0.15  # the window ends right after it
            if index == last - 1 and cut_off and index not in self.seen:
                word = word[::-1]  # a word at the window's edge is a guess the first time
                self.seen.add(index)
            at = index / self.rate - start_s
            if segments and segments[-1][0] == sentence:
                segments[-1][1].append(word)
                segments[-1][3] = at + 1 / self.rate
            else:
                segments.append([sentence, [word], at, at + 1 / self.rate])
        text = [Segment(round(a, 2), round(b, 2), " ".join(ws)) for _, ws, a, b in segments]
        if task == "translate":
            text = [Segment(s.start, s.end, "EN " + s.text) for s in text]
        return self.language, text


SENTENCES = ["the cat sat on the mat.", "it was warm and quiet there.", "then the dog came in and barked."]


def speech_vad(audio: np.ndarray) -> list[tuple[int, int]]:
    """Everything louder than a whisper is speech (the fake audio is a constant level)."""
    loud = np.flatnonzero(np.abs(audio) > 0.01)
    return [(int(loud[0]), int(loud[-1]) + 1)] if len(loud) else []


def run_scripted(seconds: float, chunk_s: float = 0.5, language: str = "en", tail_silence_s: float = 0.0):
    clock = FakeClock()
    decoder = ScriptedDecoder(SENTENCES, language=language)
    captioner = LiveCaptioner(decoder, None, LiveOptions(min_step_s=1.0), vad=speech_vad, clock=clock)
    decoder.captioner, decoder.speech_s = captioner, seconds
    audio = np.concatenate(
        [np.full(int(seconds * SR), 0.1, np.float32), np.zeros(int(tail_silence_s * SR), np.float32)]
    )
    updates = []
    step = int(chunk_s * SR)
    for at in range(0, len(audio), step):
        clock.t = (at + step) / SR + 0.2  # each step answers 0.2 s after its chunk ends
        captioner.feed(audio[at:at + step])
        updates.append(captioner.step())
    updates.append(captioner.finish())
    return captioner, decoder, updates


def test_words_commit_only_after_two_decodes_agree():
    captioner, decoder, updates = run_scripted(8.4)
    final = updates[-1].committed
    assert final == " ".join(SENTENCES)
    for update in updates[:-1]:
        # no garbled guess ever reaches the committed text
        assert all(w in " ".join(SENTENCES).split() for w in update.committed.split()), update.committed
    growing = [u.committed for u in updates]
    assert all(b.startswith(a) for a, b in zip(growing, growing[1:]))  # text only grows
    assert any(u.pending for u in updates)  # uncommitted words were shown as pending


def test_window_is_trimmed_at_committed_sentence_ends():
    captioner, decoder, updates = run_scripted(8.4)
    mid = [u for u in updates if u.segments and not u.final]
    assert mid, "a finished sentence should be cut off before the session ends"
    assert mid[0].segments[0].text == SENTENCES[0]
    assert captioner.segments[0].start == pytest.approx(0.0) and captioner.segments[0].end == pytest.approx(
        2.4, abs=0.01
    )
    # every decode after the first trim starts past the first sentence: shorter windows
    assert len(decoder.calls) >= 3
    srt = to_srt(captioner.subtitles())
    assert srt.startswith("1\n00:00:00,000 --> 00:00:02,400\nthe cat sat on the mat.")
    assert to_vtt(captioner.subtitles()).startswith("WEBVTT")
    assert [s.text for s in captioner.segments] == SENTENCES


def test_english_needs_no_translation_decodes():
    captioner, decoder, updates = run_scripted(8.4)
    assert {task for _, task in decoder.calls} == {"transcribe"}
    assert updates[-1].translation == updates[-1].committed


def test_other_languages_translate_each_committed_block():
    captioner, decoder, updates = run_scripted(8.4, language="de")
    translations = [c for c in decoder.calls if c[1] == "translate"]
    assert 1 <= len(translations) <= len(SENTENCES)  # per block of finished sentences, not per step
    assert updates[-1].translation.startswith("EN the cat sat")
    assert updates[-1].language == "de"
    assert "EN" in to_srt(captioner.subtitles(english=True))


def test_a_pause_after_speech_commits_the_utterance():
    captioner, decoder, updates = run_scripted(2.4, tail_silence_s=2.0)
    before_finish = updates[-2]
    assert before_finish.committed == SENTENCES[0] and not before_finish.pending


def test_silence_is_not_decoded():
    clock = FakeClock()
    calls = []
    captioner = LiveCaptioner(lambda a, t, lang: calls.append(len(a)) or ("en", []), "en", vad=speech_vad, clock=clock)
    for _ in range(20):
        captioner.feed(np.zeros(SR // 2, np.float32))
        update = captioner.step()
    assert calls == [] and update.skipped_silence_s >= 8.0
    assert len(captioner.audio) <= SR * 1.5  # the silence was dropped, not kept
    assert captioner.finish().committed == ""


def test_alignment_finds_the_committed_words_in_a_new_hypothesis():
    assert align_prefix(["and", "mr.", "john"], "And Mr. John Dashwood had".split())[0] == 3
    h, consumed = align_prefix(["and", "mister", "john"], "And Mr. John Dashwood".split())
    assert h == 3 and consumed == [0, 1, 2, 3]  # one word changed: still the same boundary
    h, consumed = align_prefix(["and", "john"], "and so john had".split())
    assert h == 3 and consumed[3] == 2
    assert common_prefix(["Then-", "leisure"], ["then", "leisure,", "to"]) == 2


def test_browser_chunks_become_16k_mono_float():
    stereo = (np.stack([np.full(48_000, 16_384), np.zeros(48_000)], axis=1)).astype(np.int16)
    out = to_mono_16k(48_000, stereo)
    assert out.dtype == np.float32 and len(out) == SR and abs(float(out.mean()) - 0.25) < 1e-3


def test_live_decoding_is_greedy_on_a_short_window():
    options = live_decode_options(DecodeOptions(min_window_s=10.0))
    assert options.beam_size == 1 and options.temperatures == (0.0,) and options.min_window_s <= 3


# -- one session per model -----------------------------------------------------------------
class FakeManager:
    def __init__(self, model: object | None = None) -> None:
        self.pinned = 0
        self.model = object() if model is None else model

    def use(self, key):
        from contextlib import contextmanager

        @contextmanager
        def pinned():
            self.pinned += 1
            try:
                yield self.model
            finally:
                self.pinned -= 1

        return pinned()


def test_one_session_per_model_and_it_frees_itself():
    clock = FakeClock()
    manager = FakeManager()
    sessions = LiveSessions(manager, idle_timeout_s=10, clock=clock)
    first = sessions.open("alice", "whisper-base", "en", DecodeOptions())
    assert sessions.open("alice", "whisper-base", "en", DecodeOptions()) is first  # Record and 1st chunk race
    assert manager.pinned == 1
    with pytest.raises(LiveBusy, match="in use by another visitor"):
        sessions.open("bob", "whisper-base", "en", DecodeOptions())
    assert sessions.get("alice", "whisper-base") is first and sessions.get("bob", "whisper-base") is None
    assert sessions.stop("alice", "whisper-base") is not None and manager.pinned == 0
    assert sessions.stopped_lately("alice") and not sessions.stopped_lately("bob")  # late chunks reopen nothing
    sessions.open("bob", "whisper-base", "en", DecodeOptions())
    assert sessions.drop("bob") == 1 and manager.pinned == 0  # a dropped browser
    sessions.open("carol", "whisper-base", "en", DecodeOptions())
    clock.t = 11  # carol went quiet: the next visitor takes over
    sessions.open("dave", "whisper-base", "en", DecodeOptions())
    assert sessions.active() == ["whisper-base"] and manager.pinned == 1


class BlockingRecognizer:
    """A Whisper stand-in whose decode waits until the test releases it."""

    def __init__(self) -> None:
        self.decoding = threading.Event()
        self.release = threading.Event()

    def recognize(self, audio, tasks, language, options):
        self.decoding.set()
        self.release.wait()
        return SimpleNamespace(language="en", segments={tasks[0]: [Segment(0.0, len(audio) / SR, "and mister john")]})


def test_feeding_never_waits_for_a_decode_under_way():
    """The app's way (background=True): while the worker is inside a decode, the chunk handler's
    feed still returns. The decode is held until after the feed, so a feed that waited for it
    could never finish: the event below would not be set."""
    from model_zoo.speech.audio import decode_audio

    recognizer = BlockingRecognizer()
    manager = FakeManager(recognizer)
    sessions = LiveSessions(manager, background=True)
    session = sessions.open("visitor", "whisper-base", "en", live_decode_options(DecodeOptions()))
    speech = decode_audio(ASSETS / "librivox_sense_and_sensibility.ogg").samples
    session.captioner.feed(speech[:SR * 2])
    assert recognizer.decoding.wait(120), "the worker never started a decode"
    fed = threading.Event()
    threading.Thread(target=lambda: (session.captioner.feed(speech[SR * 2:SR * 3]), fed.set()), daemon=True).start()
    try:
        assert fed.wait(120), "feed waited for the decode under way"
        assert not recognizer.release.is_set()
    finally:
        recognizer.release.set()
    final = sessions.stop("visitor", "whisper-base")
    assert final.final and "john" in final.committed and manager.pinned == 0


# -- real Whisper base, real speech --------------------------------------------------------------
def feed(captioner: LiveCaptioner, samples: np.ndarray, chunk_s: float = 0.5):
    """Chunks as a speaker's browser sends them, each step taken as its chunk arrives. The
    captioner's clock is the audio's own (tests.FakeClock), so every window it decodes is
    the same on any machine, load or thread count."""
    step = int(chunk_s * SR)
    updates = []
    for at in range(0, len(samples), step):
        captioner.feed(samples[at:at + step])
        captioner.clock.t = (at + step) / SR
        updates.append(captioner.step())
    updates.append(captioner.finish())
    return updates


@pytest.fixture
def whisper(real_manager):
    with real_manager.use("whisper-base") as recognizer:  # released after the test (the next one unloads)
        yield recognizer


@pytest.fixture(scope="module")
def reading(tmp_path_factory) -> np.ndarray:
    """Real English: the LibriVox clip, a second of silence, then an espeak paragraph."""
    from model_zoo.speech.audio import decode_audio

    spoken = espeak(ENGLISH, "en-us", tmp_path_factory.mktemp("live") / "en.wav")
    parts = [decode_audio(ASSETS / "librivox_sense_and_sensibility.ogg").samples, np.zeros(SR * 3, np.float32),
             decode_audio(spoken).samples]
    return np.concatenate(parts)


@pytest.mark.slow
def test_real_speech_streams_close_to_the_offline_transcript(whisper, reading):
    from model_zoo.speech.live import RecognizerDecoder

    options = live_decode_options(DecodeOptions())
    captioner = LiveCaptioner(RecognizerDecoder(whisper, options), None, clock=FakeClock())
    updates = feed(captioner, reading)
    offline = " ".join(
        s.text for s in whisper.recognize(reading, ("transcribe",), None, DecodeOptions()).segments["transcribe"]
    )
    final = updates[-1]
    assert final.language == "en"
    assert word_error_rate(offline, final.committed) <= 0.15, (offline, final.committed)
    growing = [u.committed for u in updates]
    assert all(b.startswith(a) for a, b in zip(growing, growing[1:])), growing
    assert sum(1 for a, b in zip(growing, growing[1:]) if b != a) >= 2  # it grew while speech went on
    assert final.skipped_silence_s > 0  # the pause between the readings was not decoded
    assert word_recall(LIBRIVOX_TEXT, final.committed) >= 0.7, final.committed  # the reading ...
    assert word_recall(ENGLISH, final.committed) >= 0.7, final.committed  # ... and the espeak paragraph
    ends = [s.end for s in final.segments]
    assert ends == sorted(ends) and ends[-1] <= len(reading) / SR + 0.5


@pytest.mark.slow
def test_session_is_freed_after_stop(real_manager, reading):
    """The app's way: a worker thread decodes while chunks keep coming (feeding never
    waits for a decode); stop gives the final text and unpins the model."""
    sessions = LiveSessions(real_manager, background=True)
    session = sessions.open("visitor", "whisper-base", "en", live_decode_options(DecodeOptions()))
    for at in range(0, SR * 5, SR // 2):
        session.captioner.feed(reading[at:at + SR // 2])
    deadline = time.monotonic() + 120  # waits on the worker's first decode, however loaded the machine
    while not (session.latest.committed or session.latest.pending) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert session.latest.decoded and (session.latest.committed or session.latest.pending)
    final = sessions.stop("visitor", "whisper-base")
    assert final.final and real_manager.unload("whisper-base")  # no longer pinned: the manager may evict it
    assert sessions.active() == [] and not session.worker.is_alive()
    # stop decodes what is left: the 5 s come out as the offline path reads them
    with real_manager.use("whisper-base") as whisper:
        offline = whisper.recognize(reading[:SR * 5], ("transcribe",), "en", DecodeOptions()).segments["transcribe"]
    assert word_error_rate(" ".join(s.text for s in offline), final.committed) <= 0.3, (offline, final.committed)
    real_manager.unload("whisper-base")  # leave the memory to the next test


def test_stream_chunks_are_read_past_a_stale_header(tmp_path):
    """Gradio's recorder sends chunks that waited during a busy step under the first
    chunk's header: every sample after the header counts, not the declared size."""
    import io
    import wave

    from model_zoo.core.errors import InputError
    from model_zoo.speech.live import read_stream_chunk

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(48_000)
        out.writeframes(np.zeros(24_000, np.int16).tobytes())  # header says 0.5 s
    chunk = tmp_path / "chunk.wav"
    chunk.write_bytes(buffer.getvalue()[:44] + np.full(96_000, 1000, np.int16).tobytes())  # 2 s follow
    rate, samples = read_stream_chunk(chunk)
    assert rate == 48_000 and len(samples) == 96_000 and samples[-1] == 1000
    (tmp_path / "bad.wav").write_bytes(b"not a wav at all")
    with pytest.raises(InputError, match="not a WAV"):
        read_stream_chunk(tmp_path / "bad.wav")


def test_a_backlog_is_caught_up_in_windows_whisper_can_take():
    """A minute of speech arriving at once (a slow first model load) never makes a window
    longer than Whisper's 30 s."""
    clock = FakeClock()
    sentences = [f"sentence number {i} is here." for i in range(30)]  # 60 s at 2.5 words a second
    decoder = ScriptedDecoder(sentences)
    sizes = []

    def decode(audio, task, language):
        sizes.append(len(audio) / SR)
        return decoder(audio, task, language)

    captioner = LiveCaptioner(decode, "en", vad=speech_vad, clock=clock)
    decoder.captioner = captioner
    captioner.feed(np.full(SR * 64, 0.1, np.float32))
    update = captioner.step()
    assert update.decoded and max(sizes) <= 6
    final = captioner.finish()
    assert max(sizes) < 28
    assert word_error_rate(" ".join(sentences), final.committed) < 0.1


def test_hallucinations_past_the_audio_are_dropped():
    from model_zoo.speech.live.agreement import clean_segments

    raw = [Segment(0.0, 5.1, "Had he married a more amiable woman,"), Segment(5.1, 9.9, "he might... then-"),
           Segment(9.94, 19.94, "He might even have been made still more respectable."), Segment(3, 4, "...")]
    assert [s.text for s in clean_segments(raw, 10.0)] == ["Had he married a more amiable woman,", "he might... then"]
    loop = [Segment(float(i), i + 1.0, "Had he married?") for i in range(20)]
    assert len(clean_segments(loop, 1.0)) == 1
