"""English: the studio's default language, and the authority on which keys exist."""

STRINGS: dict[str, str] = {
    # -- the page and what every tab shares ---------------------------------------------------
    "studio.header": "**Multimodal Studio** · transcribe and translate speech, read sentiment, search and caption "
                     "images, search inside videos and imagine new pictures, all on this machine.",
    "studio.how_it_works": "How it works",
    "error.disk_full": "The server's disk is full, so nothing was saved (what was saved before is intact). "
                       "Remove images or heads you no longer need, or ask the operator to free space.",
    "error.unexpected": "Something went wrong on the server ({kind}: {detail}). The details are in the server log.",
    "error.provide": "Please provide {article} {what}.",
    "error.file_gone": "The {what} could not be found on the server ({name}); please upload it again.",
    "error.shared_gallery": "'{name}' is a shared gallery and read-only here: type another name to start a "
                            "gallery of your own.",
    "error.no_gallery": "No such gallery '{name}': add images to it first (or pick the sample gallery).",
    # what file_path asks for (error.provide / error.file_gone)
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

    # -- Sentiment ----------------------------------------------------------------------------------
    "sentiment.title": "Sentiment",

    # -- Train a head -------------------------------------------------------------------------------
    "training.title": "Train a head",

    # -- Search -------------------------------------------------------------------------------------
    "search.title": "Search",

    # -- Captioning ---------------------------------------------------------------------------------
    "captioning.title": "Captioning",

    # -- Video --------------------------------------------------------------------------------------
    "videos.title": "Video",

    # -- Imagine ------------------------------------------------------------------------------------
    "imagine.title": "Imagine",

    # -- System -------------------------------------------------------------------------------------
    "system.title": "System",
}
