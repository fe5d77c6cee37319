"""English: the studio's default language, and the authority on which keys exist."""

STRINGS: dict[str, str] = {
    # -- the page and what every tab shares ---------------------------------------------------
    "studio.header": "**Multimodal Studio** · transcribe and translate speech, read sentiment, search and caption "
                     "images, search inside videos and imagine new pictures, all on this machine.",
    "studio.how_it_works": "How it works",
    "studio.list_separator": ", ",
    "studio.gallery": "Gallery",
    "studio.add_to_gallery": "Add to gallery",
    "studio.try": "Try",
    "studio.image": "Image",
    "studio.search": "Search",
    "studio.english_translation": "English translation",
    "studio.images_read_by": "Images are read here by {reader}.",
    "error.disk_full": "The server's disk is full, so nothing was saved (what was saved before is intact). "
                       "Remove images or heads you no longer need, or ask the operator to free space.",
    "error.unexpected": "Something went wrong on the server ({kind}: {detail}). The details are in the server log.",
    "error.provide": "Please provide {article} {what}.",
    "error.file_gone": "The {what} could not be found on the server ({name}); please upload it again.",
    "error.shared_gallery": "'{name}' is a shared gallery and read-only here: type another name to start a "
                            "gallery of your own.",
    "error.no_gallery": "No such gallery '{name}': add images to it first (or pick the sample gallery).",
    # what file_path asks for (error.provide / error.file_gone)
    "upload.audio": "recording or audio file",
    "upload.image": "image",
    "upload.query_image": "query image",
    "upload.voice": "voice clip",
    "upload.csv": "CSV file",
    "upload.dataset": "dataset (CSV, JSONL, Parquet or zip)",
    "upload.mic_chunk": "microphone chunk",
    "upload.file": "file",
    # what the classifier is sure of (Captioning, Search: components/common/seen.py)
    "seen.heading": "What the classifier is sure of",
    "seen.sure": "✓ sure",
    "seen.kind": "~ sure of the kind",
    "seen.guess": "? a guess",
    "seen.unclear": "– unclear",
    "seen.nothing": "nothing namable",
    "seen.main": "main",
    "seen.also": "also",
    "seen.columns": "| object | how sure | probability | may be | where |",

    # -- Speech -------------------------------------------------------------------------------------
    "speech.title": "Speech",
    "speech.intro": "Record or upload a clip: Whisper writes down what was said and translates it into English.",
    "speech.notice.no_whisper": "⚠️ Whisper's weights are not on this machine, so this tab cannot run yet: "
                                "[how to get them](#speech-how).",
    "speech.audio": "Audio",
    "speech.run": "Transcribe and translate",
    "speech.task": "Task",
    "speech.task.translate": "Translate to English",
    "speech.task.transcribe": "Transcribe (spoken language)",
    "speech.task.both": "Both",
    "speech.language": "Spoken language",
    "speech.auto": "auto-detect",
    "speech.beam": "Beam size",
    "speech.beam_info": "1 is fastest (greedy); 5 is Whisper's default",
    "speech.target": "Also translate the English text to",
    "speech.target_none": "no",
    "speech.target_info": "an optional NLLB-200 step after Whisper",
    "speech.target_info_missing": "needs the NLLB-200 model, which is not on this machine (see How it works)",
    "speech.transcript": "Transcript (spoken language)",
    "speech.target_text": "Text translation",
    "speech.target_label": "Translation to {language}",
    "speech.timeline": "Timeline: loudness over time, the recognised segments shaded (numbers as in the table)",
    "speech.segments": "Segments",
    "speech.col.start": "start (s)",
    "speech.col.end": "end (s)",
    "speech.col.text": "text",
    "speech.subtitles": "Subtitles (SRT, VTT)",
    "speech.examples": "Examples (click one, then run)",
    "speech.summary": "**Language:** {language} (`{code}`, p = {p}) · **Duration:** {duration} s · "
                      "**Processing:** {total} s · **Real-time factor:** {rtf} · **Model:** {model}",
    "speech.how": "{model} (`{key}`, backend `{backend}`) detects the language of a clip, writes down what "
                  "was said and translates it into English, with timed segments and SRT/VTT subtitles. Clips: wav, "
                  "mp3, flac, ogg, m4a or webm, up to {minutes} min. **Task** picks the text you get: the English "
                  "translation, the transcript in the spoken language, or both. **Beam size** trades speed for "
                  "accuracy. **Live captions** stream the microphone: grey words are Whisper's current guess and turn "
                  "black once two decodes in a row agree on them; other languages get their English translation a "
                  "sentence at a time; one live session runs at a time on this machine. JSON endpoint: "
                  "`/speech_translate`.",
    "speech.how.no_translator": "Translating the English text into other languages needs the optional `{key}` "
                                "model (NLLB-200), which is not on this machine: {how}",
    # Live captions (components/speech/live.py)
    "live.title": "Live captions from the microphone",
    "live.intro": "Press **Record** and speak: the words appear while you talk, and **Stop** saves them as subtitles.",
    "live.mic": "Live microphone",
    "live.stop": "Stop and save subtitles",
    "live.files": "Live session subtitles (SRT, VTT)",
    "live.idle": "Press <b>Record</b> and speak: the text appears here while you talk.",
    "live.transcript": "Transcript",
    "live.english": "English",
    "live.final": "final",
    "live.listening": "listening",
    "live.heard": "{seconds} s heard",
    "live.last_decode": "last decode {seconds} s",
    "live.silence": "{seconds} s of silence skipped",
    "live.loading": "loading Whisper",

    # -- Sentiment ----------------------------------------------------------------------------------
    "sentiment.title": "Sentiment",
    "sentiment.intro": "Type a sentence (add an image or a voice clip if you like) and read its sentiment.",
    "sentiment.notice.no_heads": "⚠️ The shipped heads are missing, so predictions cannot run: "
                                 "[how to fix it](#sentiment-how).",
    "sentiment.notice.partial": "⚠️ Some inputs or heads are unavailable on this machine: "
                                "[see which](#sentiment-how).",
    "sentiment.text": "Text",
    "sentiment.text_placeholder": "Type a sentence, e.g. a line from a review",
    "sentiment.image": "Image (optional)",
    "sentiment.audio": "Voice clip (optional)",
    "sentiment.head": "Head",
    "sentiment.head_info": "default: accurate; fast: about ten times quicker; heads you train appear here",
    "sentiment.run": "Read sentiment",
    "sentiment.scores": "Sentiment",
    "sentiment.strength": "How strong",
    "sentiment.words": "Words for (red) and against (purple) the label",
    "sentiment.leaned": "What the decision leaned on",
    "sentiment.input": "Input",
    "sentiment.share": "Share",
    "sentiment.examples": "Try a sentence (the last two bring an image or a voice clip)",
    "sentiment.batch": "Batch mode: a CSV in, the same CSV with predictions out",
    "sentiment.csv": "CSV file",
    "sentiment.column": "Text column",
    "sentiment.run_batch": "Predict every row",
    "sentiment.predictions": "Predictions (CSV)",
    "sentiment.first_rows": "First rows",
    "sentiment.predicting": "Predicting",
    "sentiment.explanation": "**{label}** from {modalities} (head `{head}`); the decision leaned most on **{top}**.",
    "sentiment.no_intensity": "This head was trained without ratings, so it has no intensity.",
    "sentiment.scale_hint": "mean human rating scale, -4..+4",
    "sentiment.very_negative": "-4 very negative",
    "sentiment.very_positive": "very positive +4",
    "sentiment.intensity": "<b>Intensity {value}</b> on -4..+4: {feeling}",
    "sentiment.barely_positive": "barely positive",
    "sentiment.mildly_positive": "mildly positive",
    "sentiment.clearly_positive": "clearly positive",
    "sentiment.strongly_positive": "strongly positive",
    "sentiment.barely_negative": "barely negative",
    "sentiment.mildly_negative": "mildly negative",
    "sentiment.clearly_negative": "clearly negative",
    "sentiment.strongly_negative": "strongly negative",
    "sentiment.label.positive": "positive",
    "sentiment.label.negative": "negative",
    "sentiment.label.neutral": "neutral",
    "sentiment.modality.text": "text",
    "sentiment.modality.image": "image",
    "sentiment.modality.audio": "voice",
    "sentiment.modality.lexicon": "lexicon",
    "sentiment.csv_unreadable": "'{name}' could not be read as CSV: {error}",
    "sentiment.csv_no_column": "'{name}' has no column '{column}' (columns: {columns}).",
    "sentiment.csv_no_rows": "'{name}' has no rows.",
    "sentiment.csv_too_long": "'{name}' has {rows} rows; batch mode takes up to {most}.",
    "sentiment.how": "A small fusion head on pretrained encoders reads the sentiment: a sentence encoder (text) "
                     "plus VADER lexicon scores, an image engine (CLIP, or offline the label bridge) and Whisper "
                     "transcripts (voice). Red words pushed the answer toward its label, purple ones against it; the "
                     "bars show which input the decision leaned on; the intensity is on the -4..+4 scale of mean "
                     "human ratings. Retrain the head on your own data in the *Train a head* tab; a head reads "
                     "images only with the engine it was trained on. **Batch mode** reads a whole CSV. JSON "
                     "endpoints: `/sentiment`, `/heads`.",
    "sentiment.how.head": "Head {summary}.",
    "sentiment.how.head_problem": "⚠️ Head `{name}` is unavailable here: {problem}",
    "sentiment.how.no_heads": "⚠️ The shipped heads are missing from {folder}; run "
                              "`python -m scripts.train_default_head` to rebuild them.",
    "sentiment.how.no_modality": "⚠️ {modality} input is unavailable here and is left out of predictions: {reason}",

    # -- Train a head -------------------------------------------------------------------------------
    "training.title": "Train a head",
    "training.intro": "Upload a table of labelled examples and train your own classification head on it.",
    "training.dataset": "Dataset",
    "training.example": "Example dataset",
    "training.name": "Head name",
    "training.name_placeholder": "default: the file name and a time stamp",
    "training.labels": "Expected labels (optional)",
    "training.labels_placeholder": "e.g. negative, positive",
    "training.labels_info": "rows with any other label are reported (catches typos)",
    "training.fusion": "Fusion",
    "training.fusion_info": "early: concat + MLP · late: per-modality classifiers · gated: GMU · "
                            "attention: transformer over modality tokens",
    "training.fusion.early": "early",
    "training.fusion.late": "late",
    "training.fusion.gated": "gated",
    "training.fusion.attention": "attention",
    "training.epochs": "Max epochs (early stopping may end sooner)",
    "training.lr": "Learning rate",
    "training.hidden": "Hidden size",
    "training.batch_size": "Batch size",
    "training.seed": "Seed",
    "training.run": "Train",
    "training.loss": "Loss",
    "training.validation": "Validation",
    "training.mse_plot": "Intensity: validation MSE (ratings²)",
    "training.epoch": "Epoch",
    "training.value": "Value",
    "training.curve": "Curve",
    "training.train_loss": "train loss",
    "training.val_loss": "val loss",
    "training.val_f1": "val macro-F1",
    "training.val_accuracy": "val accuracy",
    "training.val_mse": "val intensity MSE",
    "training.confusion": "Confusion matrix (test split; rows: true label, columns: predicted)",
    "training.done": "✅ Done.",
    "training.no_result": "Training ended without a result.",
    "training.saved": "Saved head **`{head}`** (best epoch {best} of {epochs}, {seconds} s; train/val/test = "
                      "{train}/{val}/{test} rows). It is now in the Sentiment tab's head list.",
    "training.test_scores": "Test split: accuracy **{accuracy}** · macro precision **{precision}** · "
                            "macro recall **{recall}** · macro-F1 **{f1}**{auc}",
    "training.auc": " · ROC-AUC **{auc}**",
    "training.per_class": "| class | precision | recall | F1 | support |",
    "training.intensity": "Intensity (the `score` column, -4..+4), test split: MSE **{mse}** · MAE **{mae}** · "
                          "Pearson r **{pearson}** over {n} rows with a score.",
    "training.n_a": "n/a",
    "training.how": "The table has a `label` column and any of `text`, `image`, `audio` (CSV, JSONL or Parquet; media "
                    "go in a zip with the table, paths relative to it). An optional numeric `score` column (how strong "
                    "the feeling is, a mean rating from -4 to +4; blank cells allowed) adds an intensity output, "
                    "scored by MSE, MAE and Pearson r. The encoders stay frozen: text is read by MiniLM + VADER, "
                    "images by CLIP where its weights are, else offline by the label bridge (the head records which "
                    "engine and reads images only with it), voice by Whisper. 70/15/15 stratified split, AdamW, class "
                    "weights, early stopping on validation macro-F1. The head is saved with your items and appears "
                    "in the Sentiment tab at once. JSON endpoint: `/train_head`.",

    # -- Search -------------------------------------------------------------------------------------
    "search.title": "Search",
    "search.intro": "Find images in a gallery by describing them, by showing a similar one, or both.",
    "search.notice.labels": "ℹ️ The label bridge answers here in place of CLIP: [what CLIP would add](#search-how).",
    "search.notice.no_engine": "⚠️ No image model can run on this machine: [how to fix it](#search-how).",
    "search.gallery_info": "Pick one, or type a new name to start a gallery.",
    "search.sample": "Load the sample gallery (16 photos from scikit-image and scikit-learn)",
    "search.reindex": "Re-index with CLIP",
    "search.tab_search": "Search",
    "search.tab_edit": "Add or remove images",
    "search.tab_classify": "Classify",
    "search.query": "Text query",
    "search.query_placeholder": "a cat lying on a sofa",
    "search.query_image": "Query image (optional)",
    "search.k": "Results (k)",
    "search.text_weight": "Text weight",
    "search.text_weight_info": "With both an image and text: how far the text moves the query.",
    "search.tiles": "Best matches (click one to pick it)",
    "search.picked": "Picked image id",
    "search.picked_placeholder": "click a result",
    "search.more_like": "More like this",
    "search.why": "Why? (Grad-CAM)",
    "search.why_image": "Where the classifier looked",
    "search.examples": "Try (on the sample gallery)",
    "search.uploads": "Images or .zip files",
    "search.server_folder": "Or a folder on the server, under the gallery root",
    "search.add_folder": "Add folder",
    "search.remove_ids": "Image ids to remove",
    "search.remove": "Remove",
    "search.labels": "Labels (comma-separated)",
    "search.templates": "Prompt templates (one per line, {} is the label)",
    "search.classify": "Classify",
    "search.probabilities": "Zero-shot probabilities",
    "search.no_id": "Gallery '{gallery}' has no image with id {id} (or its preview is gone).",
    "search.looked_for": "Where the classifier looked for **{label}** ({p}).",
    "search.pick_first": "Pick an image first: click a result (its id shows as #N).",
    "search.bad_ids": "Image ids are whole numbers, comma-separated (click a result to pick its id).",
    "search.report": "**{added}** added, **{skipped}** already there (same file), gallery **{gallery}** now holds "
                     "**{total}** images ({seconds} s).",
    "search.rejected": "- skipped `{name}`: {reason}",
    "search.more_rejected": "- ... and {count} more unreadable files",
    "search.empty": "Gallery **{gallery}** is empty: add images below, or load the sample gallery.",
    "search.summary": "Gallery **{gallery}**: {images} images, {index} index, embedded by {engine} (`{model}`).",
    "search.index_exact": "exact inner-product",
    "search.index_ivf": "approximate (IVF)",
    "search.engine_labels": "the label bridge",
    "search.can_reindex": " CLIP is available now: *Re-index with CLIP* builds a copy in its space.",
    "search.timing": "{count} results · {mode} query · encode {encode} ms · index search {search} ms · `{model}`",
    "search.mode.text": "text",
    "search.mode.image": "image",
    "search.mode.composed": "image+text",
    "search.mode.similar": "similar",
    "search.removed": "Removed; gallery **{gallery}** now holds {images} images.",
    "search.clip_answered": "CLIP answered (`{model}`).",
    "search.bridge_answered": "The label bridge answered. The classifier sees *{described}*.",
    "search.top_labels": "Its top ImageNet labels: {labels}.",
    "search.how": "Describe what you look for, show a similar image, or both (\"this photo, but at night\"); "
                  "*Classify* scores an image against labels you type, zero-shot. Models load on first use; "
                  "galleries are kept on disk under the data dir. JSON endpoints: `/index_images`, `/search`, "
                  "`/classify_image`, `/galleries`, `/remove_images`.",
    "search.how.private": "Galleries you make are yours alone (the sample gallery is everyone's, read-only); unless "
                          "you are signed in, they are deleted {hours} h after you last use them; up to {mb} MB "
                          "per visitor.",

    # -- Captioning ---------------------------------------------------------------------------------
    "captioning.title": "Captioning",

    # -- Video --------------------------------------------------------------------------------------
    "videos.title": "Video",

    # -- Imagine ------------------------------------------------------------------------------------
    "imagine.title": "Imagine",

    # -- System -------------------------------------------------------------------------------------
    "system.title": "System",
}

# The languages Whisper knows (Speech's dropdowns and summary), by code: STRINGS["lang.<code>"].
LANGUAGES: dict[str, str] = {
    "en": "English", "zh": "Chinese", "de": "German", "es": "Spanish", "ru": "Russian", "ko": "Korean",
    "fr": "French", "ja": "Japanese", "pt": "Portuguese", "tr": "Turkish", "pl": "Polish", "ca": "Catalan",
    "nl": "Dutch", "ar": "Arabic", "sv": "Swedish", "it": "Italian", "id": "Indonesian", "hi": "Hindi",
    "fi": "Finnish", "vi": "Vietnamese", "he": "Hebrew", "uk": "Ukrainian", "el": "Greek", "ms": "Malay",
    "cs": "Czech", "ro": "Romanian", "da": "Danish", "hu": "Hungarian", "ta": "Tamil", "no": "Norwegian",
    "th": "Thai", "ur": "Urdu", "hr": "Croatian", "bg": "Bulgarian", "lt": "Lithuanian", "la": "Latin", "mi": "Maori",
    "ml": "Malayalam", "cy": "Welsh", "sk": "Slovak", "te": "Telugu", "fa": "Persian", "lv": "Latvian",
    "bn": "Bengali", "sr": "Serbian", "az": "Azerbaijani", "sl": "Slovenian", "kn": "Kannada", "et": "Estonian",
    "mk": "Macedonian", "br": "Breton", "eu": "Basque", "is": "Icelandic", "hy": "Armenian", "ne": "Nepali",
    "mn": "Mongolian", "bs": "Bosnian", "kk": "Kazakh", "sq": "Albanian", "sw": "Swahili", "gl": "Galician",
    "mr": "Marathi", "pa": "Punjabi", "si": "Sinhala", "km": "Khmer", "sn": "Shona", "yo": "Yoruba", "so": "Somali",
    "af": "Afrikaans", "oc": "Occitan", "ka": "Georgian", "be": "Belarusian", "tg": "Tajik", "sd": "Sindhi",
    "gu": "Gujarati", "am": "Amharic", "yi": "Yiddish", "lo": "Lao", "uz": "Uzbek", "fo": "Faroese",
    "ht": "Haitian Creole", "ps": "Pashto", "tk": "Turkmen", "nn": "Nynorsk", "mt": "Maltese", "sa": "Sanskrit",
    "lb": "Luxembourgish", "my": "Burmese", "bo": "Tibetan", "tl": "Tagalog", "mg": "Malagasy", "as": "Assamese",
    "tt": "Tatar", "haw": "Hawaiian", "ln": "Lingala", "ha": "Hausa", "ba": "Bashkir", "jw": "Javanese",
    "su": "Sundanese", "yue": "Cantonese",
}
STRINGS.update({f"lang.{code}": name for code, name in LANGUAGES.items()})
