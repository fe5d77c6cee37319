"""The live captioner: speech becomes text (and English) while the speaker is still talking.

A plain class fed 16 kHz float32 chunks (no gradio): `LiveCaptioner.feed(chunk)` then
`step()` whenever there is time to decode; `finish()` at the end. The policy follows
whisper_streaming (Machacek et al. 2023):

- the audio since the last committed sentence end is one growing *window*, re-decoded
  from its start each step (the backends' short-window path: clip + 2 s encoded; see
  decoding);
- LocalAgreement-2: a word is *committed* only once two consecutive decodes agree on it
  (and on every word before it); the rest is *pending* and may still change (the word
  alignment is agreement's);
- the window is trimmed at the end of a fully committed segment that ends a sentence
  (or any committed segment once the window grows long), so decodes stay short;
- Silero VAD (shipped with faster-whisper, see vad) skips silence: no decode without
  speech, and a pause after speech closes the utterance (everything decoded is committed
  at once).

Committed text only ever grows. Non-English speech is translated to English a sentence
block at a time, by decoding the finished segments' audio with Whisper's translate task."""
from __future__ import annotations

import re
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Sequence

import numpy as np

from model_zoo.speech.audio import SAMPLE_RATE
from model_zoo.speech.live.agreement import align_prefix, clean_segments, common_prefix
from model_zoo.speech.live.decoding import WindowDecoder
from model_zoo.speech.live.vad import PAD, silero_speech, snap_to_silence
from model_zoo.speech.whisper_common import Segment
from model_zoo.core.errors import InputError
from model_zoo.speech.service import SpeechResult

SENTENCE_END = re.compile(r"[.?!。？！…]['\"”’)\]]*$")


# -- options, state and updates -------------------------------------------------------------
@dataclass(frozen=True)
class LiveOptions:
    min_step_s: float = 1.0  # decode again once this much new audio arrived
    max_step_s: float = 5.0  # at most this much new audio joins the window per decode
    max_window_s: float = 12.0  # beyond this, trim at any committed segment end
    hard_window_s: float = 24.0  # beyond this, commit all but the last segment (stays < 28 s)
    end_of_speech_s: float = 0.6  # a pause this long after speech closes the utterance
    lead_silence_s: float = 1.0  # silence kept before speech at the window start
    vad_threshold: float = 0.5
    detect_after_s: float = 2.0  # fix the language once a window holds this much audio
    translate: bool = True  # English text for non-English speech, per committed block


@dataclass
class Word:
    text: str
    segment: int  # index of the segment in the hypothesis it came from
    committed_at: float = 0.0  # session clock when committed


@dataclass
class CaptionSegment:
    """A finished caption: committed text, its place in the session's audio (seconds)."""

    start: float
    end: float
    text: str
    committed_at: float  # session clock when its last word was committed
    translation: str = ""

    def as_subtitle(self, english: bool) -> dict:
        return {"start": round(self.start, 2), "end": round(self.end, 2),
                "text": self.translation if english and self.translation else self.text}


@dataclass
class LiveUpdate:
    """What the screen shows after a step: committed text grows, pending text may change."""

    committed: str
    pending: str
    translation: str  # English of the committed text (the transcript itself for English)
    language: str | None
    audio_s: float  # audio received so far
    decoded: bool  # whether this step ran Whisper
    decode_s: float  # seconds the last decode took
    skipped_silence_s: float  # silence dropped without decoding, so far
    final: bool = False
    segments: list[CaptionSegment] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


# -- the streaming policy -------------------------------------------------------------------
class LiveCaptioner:
    """One live session: feed chunks, step, finish. feed() may run on another thread
    while step() decodes (it only appends to the inbox); step() and finish() must not
    run at once (LiveSession's worker and lock see to it)."""

    def __init__(
        self,
        decode: WindowDecoder,
        language: str | None = None,
        options: LiveOptions | None = None,
        vad: Callable[[np.ndarray], list[tuple[int, int]]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.decode = decode
        self.options = options or LiveOptions()
        self.language = language
        self.vad = vad or silero_speech
        self.clock = clock
        self.started: float | None = None
        self.audio = np.zeros(0, dtype=np.float32)  # the window (since the last trim)
        self.offset = 0  # samples of the session before the window
        self.received = 0  # samples received so far
        self.inbox = np.zeros(0, dtype=np.float32)  # received, not yet in the window
        self._chunks: list[np.ndarray] = []  # fed since the last step (feed's side)
        self._chunks_lock = threading.Lock()
        self.window_words: list[Word] = []  # committed, not yet in a finished segment
        self.previous_tail: list[str] = []  # the last decode's uncommitted words
        self.segments: list[CaptionSegment] = []
        self.last_decode_s = 0.0
        self.skipped_s = 0.0
        self.finished = False

    # -- input ---------------------------------------------------------------------------
    def feed(self, chunk: np.ndarray) -> None:
        """Append 16 kHz mono float32 samples (see to_mono_16k for browser chunks)."""
        if self.finished:
            raise InputError("This live session has ended; start a new one.")
        if self.started is None:
            self.started = self.clock()
        chunk = np.asarray(chunk, dtype=np.float32).reshape(-1)
        with self._chunks_lock:
            self._chunks.append(chunk)
            self.received += len(chunk)

    def waiting_s(self) -> float:
        """Seconds of audio received and not yet decoded."""
        with self._chunks_lock:
            return (len(self.inbox) + sum(len(c) for c in self._chunks)) / SAMPLE_RATE

    def _collect(self) -> None:
        with self._chunks_lock:
            chunks, self._chunks = self._chunks, []
        if chunks:
            self.inbox = np.concatenate([self.inbox, *chunks])

    def now(self) -> float:
        return 0.0 if self.started is None else self.clock() - self.started

    # -- one step ------------------------------------------------------------------------
    def step(self, force: bool = False) -> LiveUpdate:
        """Decode the window if enough new audio arrived (or `force`), commit what two
        consecutive decodes agree on, trim at committed sentence ends."""
        self._collect()
        new_s = len(self.inbox) / SAMPLE_RATE
        nothing = not len(self.inbox) and not (force and len(self.audio))
        if self.finished or nothing or (new_s < self.options.min_step_s and not force):
            return self.update(decoded=False)
        # a backlog (a slow first model load, a busy machine) is caught up a few seconds
        # per decode, so no window ever outgrows Whisper's 30 s
        take = min(len(self.inbox), int(self.options.max_step_s * SAMPLE_RATE))
        self.audio = np.concatenate([self.audio, self.inbox[:take]])
        self.inbox = self.inbox[take:]
        speech = self.vad(self.audio)
        if not speech:
            self._drop_silence()
            return self.update(decoded=False)
        speech = self._trim_leading_silence(speech)
        speech_end = speech[-1][1]
        paused = (len(self.audio) - speech_end) / SAMPLE_RATE >= self.options.end_of_speech_s
        # after a pause, decode the speech only: Whisper invents words in trailing silence
        words, segments = self._decode_window(speech_end + PAD if paused else len(self.audio))
        h, consumed = align_prefix([w.text for w in self.window_words], [w.text for w in words])
        tail = words[h:]
        agreed = common_prefix(self.previous_tail, [w.text for w in tail])
        stamp = self.now()
        self.window_words += [Word(w.text, w.segment, stamp) for w in tail[:agreed]]
        self.previous_tail = [w.text for w in tail[agreed:]]
        if paused:  # the utterance is over: commit it all
            self._commit(tail[agreed:], stamp)
            self._emit(segments, h, consumed, len(segments) - 1, trim_to=speech_end)
        else:
            self._trim(segments, words, h, consumed, done=h + agreed, speech=speech)
        return self.update(decoded=True)

    def finish(self) -> LiveUpdate:
        """Decode what is left once more and commit all of it (the speaker stopped)."""
        self._collect()
        while not self.finished and len(self.inbox) > self.options.max_step_s * SAMPLE_RATE:
            self.step(force=True)  # a backlog: catch up first
        self.audio, self.inbox = np.concatenate([self.audio, self.inbox]), self.inbox[:0]
        speech = self.vad(self.audio) if not self.finished and len(self.audio) else []
        if speech:
            words, segments = self._decode_window(speech[-1][1] + PAD)
            h, consumed = align_prefix([w.text for w in self.window_words], [w.text for w in words])
            self._commit(words[h:], self.now())
            self._emit(segments, h, consumed, len(segments) - 1, trim_to=len(self.audio))
        self.finished = True
        self.window_words, self.previous_tail = [], []
        return self.update(decoded=True, final=True)

    # -- internals -----------------------------------------------------------------------
    def _decode_window(self, upto: int | None = None) -> tuple[list[Word], list[Segment]]:
        started = time.perf_counter()
        audio = self.audio[:upto]
        detected, raw = self.decode(audio, "transcribe", self.language)
        window_s = len(audio) / SAMPLE_RATE
        segments = clean_segments(raw, window_s)
        if self.language is None and (window_s >= self.options.detect_after_s or self.window_words):
            self.language = detected  # fixed for the session: no flip-flopping mid-sentence
        self.last_decode_s = time.perf_counter() - started
        words = [Word(text, i) for i, s in enumerate(segments) for text in s.text.split()]
        return words, segments

    def _commit(self, tail: Sequence[Word], stamp: float) -> None:
        self.window_words += [Word(w.text, w.segment, stamp) for w in tail]
        self.previous_tail = []

    def _trim(self, segments: list[Segment], words: list[Word], h: int, consumed: list[int], done: int,
              speech: list[tuple[int, int]]) -> None:
        """Finish the committed segments up to the last sentence end (or up to the last
        committed segment when the window is long); commit by force near Whisper's 30 s.
        `done`: hypothesis words committed so far (H[:done])."""
        window_s = len(self.audio) / SAMPLE_RATE
        ends = [int(e) for e in np.cumsum([len(s.text.split()) for s in segments])]
        # the last segment may still grow ("ill-disposed." -> "ill-disposed, had he") unless it ends early
        complete = [i for i, end in enumerate(ends)
                    if end <= done and (i < len(segments) - 1 or segments[i].end < window_s - 0.5)]
        cut = next((i for i in reversed(complete) if SENTENCE_END.search(segments[i].text)), None)
        if cut is None and complete and window_s > self.options.max_window_s:
            cut = complete[-1]
        if cut is None and window_s > self.options.hard_window_s and segments:
            cut = max(0, len(segments) - 2)  # no agreement in 24 s: take all but the last segment
            self._commit(words[done:ends[cut]], self.now())
            self.previous_tail = [w.text for w in words[ends[cut]:]]
        if cut is not None:
            cut_at = snap_to_silence(int(segments[cut].end * SAMPLE_RATE), speech)
            self._emit(segments, h, consumed, cut, trim_to=cut_at)

    def _emit(self, segments: list[Segment], h: int, consumed: list[int], cut: int, trim_to: int) -> None:
        """Move the committed words of segments[:cut + 1] into finished segments and drop
        the window's audio up to `trim_to` (samples)."""
        ends = [int(e) for e in np.cumsum([len(s.text.split()) for s in segments])]
        pending, taken, block = list(self.window_words), 0, []
        last = cut == len(segments) - 1  # everything committed belongs to these segments
        for i in range(cut + 1):
            # committed words covering hypothesis words [:ends[i]]: through the alignment
            # inside H[:h], one for one beyond it (committed from this very hypothesis)
            upto = ends[i]
            count = consumed[upto] if upto <= h else consumed[h] + (upto - h)
            count = len(pending) if last and i == cut else min(max(count, taken), len(pending))
            if count > taken:
                mine = pending[taken:count]
                base = self.offset / SAMPLE_RATE
                end = min(segments[i].end, trim_to / SAMPLE_RATE)  # subtitles never overlap the next window
                block.append(CaptionSegment(
                    start=round(base + min(segments[i].start, end), 3), end=round(base + end, 3),
                    text=" ".join(w.text for w in mine),
                    committed_at=round(max(w.committed_at for w in mine), 3)))
                taken = count
        if last and taken < len(pending):  # committed words the last decode no longer holds
            rest, base = pending[taken:], self.offset / SAMPLE_RATE
            if block:
                block[-1].text += " " + " ".join(w.text for w in rest)
            else:
                block.append(CaptionSegment(round(base, 3), round(base + trim_to / SAMPLE_RATE, 3),
                                            " ".join(w.text for w in rest), round(rest[-1].committed_at, 3)))
            taken = len(pending)
        self.window_words = pending[taken:]
        self._translate(block)
        self.segments += block
        self._advance(trim_to)

    def _translate(self, block: list[CaptionSegment]) -> None:
        if not block:
            return
        if self.language == "en" or not self.options.translate:
            for segment in block:
                segment.translation = segment.text
            return
        base = self.offset / SAMPLE_RATE
        start, end = int((block[0].start - base) * SAMPLE_RATE), int((block[-1].end - base) * SAMPLE_RATE)
        _, english = self.decode(self.audio[max(0, start):end], "translate", self.language)
        text = " ".join(s.text for s in english).strip()
        block[0].translation = text  # one English block per source block: sentence order differs
        for segment in block[1:]:
            segment.translation = ""

    def _advance(self, samples: int) -> None:
        samples = max(0, min(samples, len(self.audio)))
        self.audio = self.audio[samples:]
        self.offset += samples

    def _drop_silence(self) -> None:
        keep = int(self.options.lead_silence_s * SAMPLE_RATE)
        if not self.window_words and len(self.audio) > keep:
            self.skipped_s += (len(self.audio) - keep) / SAMPLE_RATE
            self._advance(len(self.audio) - keep)

    def _trim_leading_silence(self, speech: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Drop silence before the first speech (keeping a little); spans shift with it."""
        keep = int(self.options.lead_silence_s * SAMPLE_RATE)
        cut = speech[0][0] - keep
        if self.window_words or cut <= 0:
            return speech
        self.skipped_s += cut / SAMPLE_RATE
        self._advance(cut)
        return [(a - cut, b - cut) for a, b in speech]

    # -- output --------------------------------------------------------------------------
    def update(self, decoded: bool, final: bool = False) -> LiveUpdate:
        finished = " ".join(s.text for s in self.segments)
        committed = " ".join(t for t in (finished, " ".join(w.text for w in self.window_words)) if t)
        english = " ".join(s.translation for s in self.segments if s.translation)
        if self.language == "en":
            english = committed
        return LiveUpdate(
            committed=committed,
            pending=" ".join(self.previous_tail),
            translation=english,
            language=self.language,
            audio_s=round(self.received / SAMPLE_RATE, 3),
            decoded=decoded,
            decode_s=round(self.last_decode_s, 3),
            skipped_silence_s=round(self.skipped_s, 3),
            final=final,
            segments=list(self.segments),
        )

    def subtitles(self, english: bool = False) -> list[dict]:
        """[{start, end, text}] of the finished segments, for speech.to_srt / to_vtt."""
        return [s.as_subtitle(english) for s in self.segments if (s.translation if english else s.text)]

    def result(self, model: str) -> SpeechResult:
        """The session as the upload path's SpeechResult (same subtitle writers, same API
        shape): task "both", segments of the transcript."""
        update = self.update(decoded=False, final=self.finished)
        duration = self.received / SAMPLE_RATE
        return SpeechResult(
            language=self.language or "", language_probability=1.0 if self.language else 0.0,
            duration_s=round(duration, 3), transcript=update.committed, translation=update.translation,
            segments=self.subtitles(),
            timing={"total_s": round(self.now(), 3), "rtf": round(self.now() / duration, 4) if duration else 0.0},
            model=model,
            task="both", notes=[] if self.segments else ["Whisper heard no speech in this session."])
