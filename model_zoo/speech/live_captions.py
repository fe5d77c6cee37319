"""Live captions: speech becomes text (and English) while the speaker is still talking.

The service's face: the names the Speech tab, the benchmarks and the scripts use, from the
modules that do the work:

- live_captioner: `LiveCaptioner`, the streaming policy (a plain class fed 16 kHz float32
  chunks, no gradio: feed, step, finish), its `LiveOptions` and what it shows
  (`LiveUpdate`, `CaptionSegment`);
- live_agreement: LocalAgreement-2's word alignment and the cleaning of Whisper's segments;
- live_vad: Silero VAD spans and where the window is cut;
- live_decoding: how a window is decoded (`RecognizerDecoder` over either Whisper backend,
  `live_decode_options`);
- live_microphone: the browser's streamed WAV chunks as 16 kHz mono;
- live_sessions: `LiveSessions` keeps one session per Whisper model (the model stays pinned
  while it runs, a worker thread decodes) and frees it on stop, on a dropped browser or
  after an idle timeout."""
from __future__ import annotations

from model_zoo.speech.live_captioner import CaptionSegment, LiveCaptioner, LiveOptions, LiveUpdate
from model_zoo.speech.live_decoding import RecognizerDecoder, WindowDecoder, live_decode_options
from model_zoo.speech.live_microphone import read_stream_chunk, to_mono_16k
from model_zoo.speech.live_sessions import LiveBusy, LiveSession, LiveSessions

__all__ = [
    "CaptionSegment", "LiveBusy", "LiveCaptioner", "LiveOptions", "LiveSession", "LiveSessions", "LiveUpdate",
    "RecognizerDecoder", "WindowDecoder", "live_decode_options", "read_stream_chunk", "to_mono_16k",
]
