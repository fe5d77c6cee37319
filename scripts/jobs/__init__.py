"""A tab's work over a whole folder, headless: index images (index_folder), caption them
(caption_folder), transcribe audio (transcribe_folder), index videos (index_videos); on one
process or many under `accelerate launch` (sharding.py: the settings flags, the file list, the
split between processes)."""
