"""Speech: transcription and translation with Whisper. Entry points: `service.speech_translate`
for whole clips (with SRT / VTT subtitles), `live` for the microphone stream,
`audio.decode_audio` for any file PyAV reads. Two backends sit beside them: faster-whisper
(CTranslate2) and openai-whisper, whose weights `ct2_whisper_convert` builds once from the
same offline pack; `wer` scores transcripts."""
