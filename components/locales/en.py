"""English: the studio's default language, and the authority on which keys exist."""

STRINGS: dict[str, str] = {
    # -- the page and what every tab shares ---------------------------------------------------
    "studio.header": "**Multimodal Studio** · transcribe and translate speech, read sentiment, search and caption "
                     "images, search inside videos and imagine new pictures, all on this machine.",
    # below the tabs where MCP is on; the path is app/mcp_server.PATH (a page's text takes no fields)
    "studio.footer_mcp": "**For agents:** this studio is also an MCP server: add `<this address>/gradio_api/mcp/` "
                         "(streamable HTTP; SSE at `/gradio_api/mcp/sse`) to Claude Desktop, Cursor or VS Code, and "
                         "its tools transcribe, read sentiment, caption, read text, label, index and search galleries "
                         "and videos, draw and list the models. An agent's galleries and videos are its own: keep "
                         "the handle a tool returns (see the README).",
    "studio.how_it_works": "How it works",
    "studio.yes": "yes",
    "studio.no": "no",
    "studio.list_separator": ", ",
    "studio.gallery": "Gallery",
    "studio.gallery_info": "an existing one, or type a new name",
    "studio.add_to_gallery": "Add to gallery",
    "studio.try": "Try",
    "studio.try_example": "Try an example",
    "studio.image": "Image",
    "studio.results": "Results",
    "studio.search": "Search",
    "studio.model": "Model",
    "studio.english_translation": "English translation",
    "studio.images_read_by": "Images are read here by {reader}.",
    "error.disk_full": "The server's disk is full, so nothing was saved (what was saved before is intact). "
                       "Remove images or heads you no longer need, or ask the operator to free space.",
    "error.disk_full_code": "{message} (error {code})",
    "error.unexpected": "Something went wrong on the server (error {code}; the operator's log has the details). "
                        "Please try again; if it happens again, tell the operator this error code.",
    "error.server_folder": "a folder on the server",  # in place of a server path a message would show
    "error.provide": "Please provide {article} {what}.",
    "error.file_gone": "The {what} could not be found on the server ({name}); please upload it again.",
    "error.shared_gallery": "'{name}' is a shared gallery and read-only here: type another name to start a "
                            "gallery of your own.",
    "error.no_gallery": "No such gallery '{name}': add images to it first (or pick the sample gallery). An agent "
                        "or script without a session of its own passes the handle (name@key) that index_images "
                        "returned.",
    # who is asking (components/visitor.py)
    "visitor.unknown": "This server keeps each visitor's galleries and heads apart and could not tell who is "
                       "asking: reload the page (from gradio_client, call through a Client, which opens a session).",
    "visitor.sign_in_unreadable": "Your Hugging Face sign-in could not be read (error {code}), so nothing was done: "
                                  "sign out and sign in again. What you saved while signed in is kept.",
    # what file_path asks for (error.provide / error.file_gone)
    "upload.audio": "recording or audio file",
    "upload.image": "image",
    "upload.query_image": "query image",
    "upload.voice": "voice clip",
    "upload.csv": "CSV file",
    "upload.dataset": "dataset (CSV, JSONL, Parquet or zip)",
    "upload.video": "video",
    "upload.start_image": "start image",
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
    "sentiment.explanation": "**{label}** from {modalities} (head `{head}`); the decision leaned most on **{top}**. "
                             "{read_as}.",
    # a text the studio does not vouch for (a Chinese answer too unsure, or a language no head reads)
    "sentiment.declined": "**Cannot judge this text's sentiment.** {read_as}; the model only leans *{label}* "
                          "(head `{head}`).",
    "sentiment.read_as": "Read as {language}",
    "sentiment.language.en": "English",
    "sentiment.language.zh": "Chinese",
    "sentiment.language.other": "a language the heads do not read",
    "sentiment.no_intensity": "This head was trained without ratings, so it has no intensity.",
    "sentiment.zh_no_intensity": "The Chinese model gives no intensity, only which way the text leans.",
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
    "sentiment.csv_not_csv": "'{name}' is not a CSV file: batch mode reads a .csv with a text column.",
    "sentiment.csv_duplicate_column": "'{name}' has more than one column named '{column}'.",
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
                              "`python -m scripts.sentiment.train_default_head` to rebuild them.",
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
    "search.clip_copy_shared": "'{target}', a CLIP copy of '{gallery}', is already shared: pick it in the gallery "
                               "list instead of re-indexing.",
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
                  "galleries are kept on disk under the data dir. The image engines read English queries; words written "
                  "in a picture are found in any language the text reader reads, Chinese included. JSON endpoints: `/index_images`, `/search`, "
                  "`/classify_image`, `/galleries`, `/remove_images`.",
    "search.how.private": "Galleries you make are yours alone (the sample gallery is everyone's, read-only); unless "
                          "you are signed in, they are deleted {hours} h after you last use them; up to {mb} MB "
                          "per visitor.",

    # -- Captioning ---------------------------------------------------------------------------------
    "captioning.title": "Captioning",
    "captioning.intro": "Describe an image in words, caption a whole batch, or read the text in a picture.",
    "captioning.notice.labels": "ℹ️ Captions are label-based on this machine: "
                                "[what a captioner would add](#captioning-how).",
    "captioning.notice.nothing": "⚠️ Neither the captioner nor the image classifier has weights here: "
                                 "[how to fix it](#captioning-how).",
    "captioning.notice.no_clip": "ℹ️ No CLIP here: the label bridge reranks the candidates "
                                 "([what CLIP would add](#captioning-how)).",
    "captioning.notice.no_engine": "ℹ️ No image engine here, so candidates keep the captioner's own order: "
                                   "[how to get one](#captioning-how).",
    "captioning.captioner": "Captioner",
    "captioning.decoding": "Decoding",
    "captioning.decoding.beam": "beam",
    "captioning.decoding.nucleus": "nucleus",
    "captioning.decoding.greedy": "greedy",
    "captioning.decoding_info": "beam: the most likely captions; nucleus: sampled, more varied; greedy: one caption, "
                                "fastest (label-based captions ignore these)",
    "captioning.rerank": "Rerank candidates (CLIP, or the label bridge)",
    "captioning.more": "More decoding options",
    "captioning.candidates": "Candidates",
    "captioning.candidates_info": "how many captions to propose (greedy gives one)",
    "captioning.max_length": "Maximum length (tokens)",
    "captioning.beams": "Beams",
    "captioning.beams_info": "beam search only",
    "captioning.top_p_info": "nucleus sampling only",
    "captioning.temperature": "Temperature",
    "captioning.prompt": "Prompt (optional)",
    "captioning.prompt_info": "conditional captioning: the caption continues this text",
    "captioning.tab_one": "One image",
    "captioning.tab_batch": "Batch",
    "captioning.tab_read": "Read text",
    "captioning.run": "Caption",
    "captioning.caption": "Caption",
    "captioning.why": "Why: where the model looked",
    "captioning.why_for": "Why: where the model looked for '{label}' ({p})",
    "captioning.why_unavailable": "Why: where the model looked: not available ({reason})",
    "captioning.why_failed": "Why: where the model looked: not available (the details are in the server log)",
    "captioning.bars": "Candidates (probability, or captioner confidence)",
    "captioning.raw": "What /caption returns",
    "captioning.files": "Images, or a zip of images",
    "captioning.to_gallery": "Also add them, captioned, to a search gallery",
    "captioning.run_batch": "Caption all",
    "captioning.csv": "Download CSV",
    "captioning.col.file": "file",
    "captioning.col.caption": "caption",
    "captioning.col.score": "score",
    "captioning.col.others": "other candidates",
    "captioning.col.error": "error",
    "captioning.text_image": "Image with text (a sign, a label, a page)",
    "captioning.read": "Read text",
    "captioning.boxes": "What was read, where",
    "captioning.text": "Text",
    "captioning.read_raw": "What /read_text returns",
    "captioning.need_image": "Please upload an image (or click an example) to caption.",
    "captioning.need_images": "Please upload images (or a zip of images) to caption.",
    "captioning.need_text_image": "Please upload an image (or click an example) to read its text.",
    "captioning.unknown": "Unknown captioner '{key}'; choose one of {keys}.",
    "captioning.ranked.labels": "class probability (label-based captions)",
    "captioning.ranked.clip": "CLIP",
    "captioning.ranked.bridge": "the label bridge",
    "captioning.ranked.captioner": "the captioner's confidence",
    "captioning.table.labels": "| caption | ImageNet label | probability |",
    "captioning.table.engine": "| candidate | {engine} similarity | {engine} probability | captioner confidence |",
    "captioning.table.captioner": "| candidate | captioner confidence |",
    "captioning.engine.clip": "CLIP",
    "captioning.engine.bridge": "label-bridge",
    "captioning.details": "**Model:** `{model}` · **Decoding:** {decoding} · **Ranked by:** {ranked} · caption "
                          "{caption_s} s, rerank {rerank_s} s",
    "captioning.text_in_image": "**Text in the image:** {text}",
    "captioning.batch_summary": "**{captioned}** captioned, **{failed}** failed · {rate} images/s ({seconds} s) · "
                                "`{model}` · {decoding} · ranked by {ranked}",
    "captioning.batch_added": "Added **{added}** to the search gallery **{gallery}** ({skipped} were already there; "
                              "it now holds {total}): find them in the Search tab.",
    "captioning.lines_read": "**{count}** line(s) read",
    "captioning.no_text": "**No text found** in this image",
    "captioning.read_summary": "{found} · `{engine}` · {seconds} s · lines kept at confidence >= {keep}, quoted in "
                               "captions at >= {quote}",
    "captioning.how": "{captioner} (`{source}`) proposes several captions; the image engine (CLIP `{clip}` where its "
                      "weights are, else the label bridge) scores each against the image and the best match wins. "
                      "Without captioner weights, captions are label-based: the {classifier}'s top ImageNet labels. "
                      "Beside the caption, Grad-CAM shows where that classifier looked. *Batch* captions many images "
                      "(or a zip), gives a CSV and can add them, captioned, to a search gallery; *Read text* reads "
                      "the text in an image with the packaged OCR and outlines each line. JSON endpoints: `/caption`, "
                      "`/caption_batch`, `/read_text`.",
    "captioning.how.nothing": "⚠️ **The captioner `{key}` has no weights on this machine**, nor has the image "
                              "classifier behind label-based captions: {detail}\n\n**How to fix:** {fix} Or, for "
                              "label-based captions: {classifier_fix}",
    "captioning.how.labels": "ℹ️ **Captions are label-based on this machine.** The captioner `{key}` ({captioner}) "
                             "has no weights here, so each caption names what the {classifier} recognises among the "
                             "1,000 ImageNet classes (\"a photo of an espresso\"), with the next most likely classes "
                             "as the alternatives, each with its probability; decoding options do not apply. "
                             "Everything on this tab works as is{galleries}.\n\n**What a captioner would add:** a "
                             "sentence of its own about the whole scene (what is happening, where, how many) and the "
                             "things ImageNet has no class for. **How to get it:** {fix}",
    "captioning.how.galleries": ", batches and search galleries included",
    "captioning.how.batches": ", batches included",
    "captioning.how.no_clip": "ℹ️ **No CLIP here: the label bridge reranks the candidates** by the ImageNet objects "
                              "it recognises in the image; CLIP would judge each whole sentence against the image.",
    "captioning.how.no_engine": "ℹ️ **No image engine here**: candidates keep the captioner's own order (no "
                                "reranking).",
    "captioning.how.get_clip": "How to get CLIP: {fix}",
    "captioning.how.labels_mode": "(The app runs with --vision labels.)",

    # -- Video --------------------------------------------------------------------------------------
    "videos.title": "Video",
    "videos.intro": "Drop a clip and search inside it by what is seen and what is said; click a hit to jump there.",
    "videos.video": "Video",
    "videos.name": "Index name",
    "videos.name_placeholder": "from the file name",
    "videos.example": "Use the example clip",
    "videos.run": "Index the video",
    "videos.query": "Search inside the video",
    "videos.query_placeholder": "a cat · where the budget is mentioned",
    "videos.hits": "Moments (click a row to jump there)",
    "videos.col.start": "start",
    "videos.col.end": "end",
    "videos.col.score": "score",
    "videos.col.found_by": "found by",
    "videos.col.caption": "caption",
    "videos.col.said": "said",
    "videos.found.seen": "seen",
    "videos.found.said": "said",
    "videos.found.both": "seen and said",
    "videos.scenes": "Scenes (keyframe, time, caption)",
    "videos.transcript": "Transcript",
    "videos.srt": "Subtitles (SRT)",
    "videos.vtt": "Subtitles (VTT)",
    "videos.gallery": "Add the keyframes to a gallery (Search tab)",
    "videos.add": "Add keyframes to gallery",
    "videos.need_index": "Index a video first (or type the name of one you indexed).",
    "videos.need_video": "Upload a video first (or use the example clip).",
    "videos.no_keyframes": "Video '{name}' has no keyframes to add.",
    "videos.english_tag": "[English]",
    "videos.report": "**{video}**: {duration} s, {scenes} scenes, {segments} transcript segments{language}.",
    "videos.report_language": " (language `{code}`)",
    "videos.timing": "Indexed in {total} s ({per_minute} s per minute of video): decode {decode} s · keyframes "
                     "{frames} s · speech {speech} s · transcript vectors {text} s. Image engine: {engine}.",
    "videos.added": "{added} keyframes added ({skipped} already there); gallery **{gallery}** now holds {total} "
                    "images: search it in the Search tab.",
    "videos.how": "Keyframes are taken at scene changes and read by the image engine; Whisper transcribes what is "
                  "said (translated to English where needed). A query is matched against both, and the scores are "
                  "fused (z-scores): each hit says whether it was found by what was seen, said, or both. Clips up to "
                  "{minutes} min and {mb} MB. Your indexed videos are yours alone, kept like your galleries; the "
                  "keyframes can go, captioned, into a search gallery. JSON endpoints: `/index_video`, "
                  "`/search_video`.",

    # -- Imagine ------------------------------------------------------------------------------------
    "imagine.title": "Imagine",
    "imagine.intro": "Describe a scene and get an image; then caption it or add it to a gallery.",
    "imagine.notice.no_weights": "⚠️ No text-to-image weights on this machine: [how to get them](#imagine-how).",
    "imagine.prompt": "Prompt",
    "imagine.prompt_placeholder": "an astronaut riding a horse on the moon, digital art",
    "imagine.negative": "Negative prompt (optional)",
    "imagine.negative_placeholder": "blurry, low quality",
    "imagine.negative_info": "what to keep out; needs guidance above 1 (LCM and turbo models ignore it)",
    "imagine.steps": "Steps",
    "imagine.steps_info": "0: the model's default (LCM 4, turbo 1)",
    "imagine.guidance": "Guidance",
    "imagine.guidance_info": "-1: the model's default (LCM 8, turbo 0)",
    "imagine.random_seed": "Random seed",
    "imagine.seed": "Seed",
    "imagine.seed_info": "the seed used shows here after a run",
    "imagine.width": "Width",
    "imagine.height": "Height",
    "imagine.count": "Images",
    "imagine.start": "Start from an image (optional)",
    "imagine.start_image": "Start image",
    "imagine.strength": "Strength",
    "imagine.strength_info": "how far to move away from it (1: ignore it)",
    "imagine.run": "Generate",
    "imagine.cancel": "Cancel",
    "imagine.result": "Result",
    "imagine.caption_it": "Caption it",
    "imagine.raw": "What /generate_image returns",
    "imagine.loading": "Loading the model (first use)",
    "imagine.denoising": "Denoising",
    "imagine.steps_unit": "steps",
    "imagine.seed_caption": "seed {seed}",
    "imagine.one_seed": "seed **{seed}**",
    "imagine.seeds": "seeds **{first}–{last}** (one per image)",
    "imagine.one_step": "**{steps}** step",
    "imagine.many_steps": "**{steps}** steps",
    "imagine.from_image": " · from your image at strength {strength}",
    "imagine.settings": "{seeds} · {steps} · guidance **{guidance}** · {width} x {height}{start} · `{model}` on "
                        "{device} · {total} s ({per_step} s/step)",
    "imagine.same_settings": "Same settings and seed make the same image on the same device; each PNG carries its "
                             "settings.",
    "imagine.cancelled": "Cancelled: the run stops after the current step.",
    "imagine.added": "Added to gallery **{gallery}** with its prompt as the caption (it now holds {total}): find it "
                     "in the Search tab.",
    "imagine.already": "Already in gallery **{gallery}** (same image).",
    "imagine.generate_first": "Generate an image first.",
    "imagine.unknown": "Unknown text-to-image model '{key}'; choose one of {keys}.",
    "imagine.how": "{who} draws the image in a few denoising steps; start from an image of yours to vary it. Then "
                   "**Caption it** (the Captioning tab describes it back), or **Add to gallery** with the prompt as "
                   "its caption and find it in Search. The same settings and seed make the same image on the same "
                   "device; each PNG carries its settings. JSON endpoint: `/generate_image`.",
    "imagine.how.override": "The diffusers pipeline at `{source}` (in place of {default})",
    "imagine.how.no_weights": "⚠️ **No text-to-image weights on this machine.** `{key}` ({description}) is not here: "
                              "{detail}\n\n**How to fix:** {fix}\n\nThe tab works as soon as they are there; nothing "
                              "else in the studio depends on them.",

    # -- System -------------------------------------------------------------------------------------
    "system.title": "System",
    "system.intro": "Every model the studio knows: what is loaded, on which device, at what cost.",
    "system.refresh": "Refresh",
    "system.unload": "Unload",
    "system.refresh_disk": "Refresh disk use",
    "system.col.key": "key",
    "system.col.role": "role",
    "system.col.state": "state",
    "system.col.device": "device",
    "system.col.dtype": "dtype",
    "system.col.mb": "MB",
    "system.col.load_s": "load_s",
    "system.col.loads": "loads",
    "system.col.hits": "hits",
    "system.col.in_use": "in_use",
    "system.col.weights": "weights",
    "system.col.source": "source",
    "system.budget": "**Device policy:** `{device}` · **Memory budget:** {budgets} · **Resident now:** {used} MB · "
                     "**Offline:** {offline} · {data_dir}**Warm start:** `{warm}`",
    "system.data_dir": "**Data dir:** `{data_dir}` · ",  # the operator's alone
    "system.warming": ", warming {keys} now",
    "system.disk": "**Data mode:** `{mode}` · **Visitors' items:** {kinds} · **Shared:** {shared} · **Owners:** "
                   "{anonymous} anonymous, {signed_in} signed in · **In use now:** {in_use} · **Trash:** {trash}",
    "system.disk_private": " · anonymous items expire {hours} h after their last use; quota {mb} MB per owner",
    "system.disk_pending": "**Data mode:** `{mode}` · disk use by kind and owners: press *Refresh disk use*.",
    "system.kind.galleries": "galleries",
    "system.kind.heads": "heads",
    "system.kind.batches": "batches",
    "system.kind.videos": "videos",
    "system.choose": "Choose a model to unload.",
    "system.not_loaded": "{key} is not loaded, or is in use right now.",
    "system.only_operator_unload": "Only the operator of this server can unload models.",
    "system.only_operator_disk": "Only the operator of this server sees its disk use.",
    "system.how": "Models load lazily on first use and stay under a memory budget: the least recently used are "
                  "unloaded first, and a model in use never is; the table refreshes every 10 s. Only the "
                  "server's operator (a browser on the server's own machine, or a user `--operators` names) sees "
                  "*Unload*, which frees a model now, the data dir and the disk use. JSON endpoint: `/models`.",
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
