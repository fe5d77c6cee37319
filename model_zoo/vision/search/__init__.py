"""Image search: galleries of images, searched by text, by image or both, and zero-shot labels.
Everything the Search tab and its endpoints do; no gradio here.

- service: search a gallery (`search`, `similar`) and the tab's engine banner;
- galleries: named galleries in a folder (names, info, removal, previews, `commit_change`) and
  the registry of those a process holds open (`GalleryRegistry`: the app's context owns one);
- indexing: adding uploads, zips and folders to a gallery, and re-indexing into CLIP;
- zero_shot: an image scored against comma-separated labels;
- text_match: the rule that finds images by the words written in them;
- gallery: one gallery on disk, a FAISS index plus its metadata. It imports faiss, so it is
  not imported here: import model_zoo.vision.search.gallery where you need it."""
from __future__ import annotations

from model_zoo.vision.search.galleries import (
    GalleryInfo, GalleryRegistry, check_gallery_name, commit_change, gallery_dir, gallery_info, list_galleries,
    open_gallery, remove_images, thumbnail_file)
from model_zoo.vision.search.indexing import (
    BATCH_SIZE, IMAGE_SUFFIXES, Embedded, IndexReport, Progress, Source, add_files, add_folder, can_reindex_into_clip,
    commit_embedded, embed_sources, folder_images, reindex, resolve_in_root)
from model_zoo.vision.search.service import (
    CLIP_KEY, MAX_K, SearchResult, check_k, compose_query, engine_banner, search, similar, standardised)
from model_zoo.vision.search.zero_shot import (
    DEFAULT_TEMPLATES, MAX_LABELS, ClassifyResult, classify, default_templates, parse_labels, parse_templates)

__all__ = [
    "BATCH_SIZE", "CLIP_KEY", "DEFAULT_TEMPLATES", "IMAGE_SUFFIXES", "MAX_K", "MAX_LABELS",
    "ClassifyResult", "Embedded", "GalleryInfo", "GalleryRegistry", "IndexReport", "Progress", "SearchResult", "Source",
    "add_files", "add_folder", "can_reindex_into_clip", "check_gallery_name", "check_k", "classify", "commit_change",
    "commit_embedded", "compose_query", "default_templates", "embed_sources", "engine_banner", "folder_images",
    "gallery_dir", "gallery_info", "list_galleries", "open_gallery", "parse_labels", "parse_templates", "reindex",
    "remove_images", "resolve_in_root", "search", "similar", "standardised", "thumbnail_file",
]
