"""Live captions: speech becomes text (and English) while the speaker is still talking.

The service's face: the names the Speech tab, the benchmarks and the scripts use, from the
modules that do the work:

- captioner: `LiveCaptioner`, the streaming policy (a plain class fed 16 kHz float32
  chunks, no gradio: feed, step, finish), its `LiveOptions` and what it shows
  (`LiveUpdate`, `CaptionSegment`);
- agreement: LocalAgreement-2's word alignment and the cleaning of Whisper's segments;
- vad: Silero VAD spans and where the window is cut;
- decoding: how a window is decoded (`RecognizerDecoder` over either Whisper backend,
  `live_decode_options`);
- microphone: the browser's streamed WAV chunks as 16 kHz mono;
- sessions: `LiveSessions` keeps one session per Whisper model (the model stays pinned
  while it runs, a worker thread decodes) and frees it on stop, on a dropped browser or
  after an idle timeout."""
from __future__ import annotations

from model_zoo.speech.live.captioner import CaptionSegment, LiveCaptioner, LiveOptions, LiveUpdate
from model_zoo.speech.live.decoding import RecognizerDecoder, WindowDecoder, live_decode_options
from model_zoo.speech.live.microphone import read_stream_chunk, to_mono_16k
from model_zoo.speech.live.sessions import LiveBusy, LiveSession, LiveSessions

__all__ = [
    "CaptionSegment", "LiveBusy", "LiveCaptioner", "LiveOptions", "LiveSession", "LiveSessions", "LiveUpdate",
    "RecognizerDecoder", "WindowDecoder", "live_decode_options", "read_stream_chunk", "to_mono_16k",
]
