"""Video: search inside a clip by what is seen and what is said. A video is decoded once
with PyAV (decode); frames sampled a few times a second are compared as tiny
thumbnails, and a keyframe starts a new scene where the picture changes, with a floor (at
least a few keyframes a minute, however still the picture) and a cap (at most so many a
minute, however busy) so a long video stays cheap (keyframes). Each keyframe is embedded and
captioned by the image engine (model_zoo.vision: CLIP, or offline the label bridge); the audio
track is transcribed, and translated to English where it is not English, by the speech service
(model_zoo.speech), and each timed segment is embedded by the sentence encoder. The index
(frame vectors and times, segments with their vectors, captions, a small JPEG per keyframe) is
written atomically into one folder per video, in its owner's namespace (store). A query ranks
scenes by the image engine's text side and segments by the sentence encoder; the two cosine
scales differ, so each is standardised within the video and the two are fused on the timeline
(fusion). The service (service) is what the Video tab, its endpoints and scripts/jobs/index_videos.py
call. No gradio here."""
