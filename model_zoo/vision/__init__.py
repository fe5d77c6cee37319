"""Vision, by role:

- engine: the image engine (CLIP where its weights are, else the offline label bridge over
  EfficientNet-Lite), with its two backends beside it (open_clip_backend,
  efficientnet_backend); images: loading images and their checks; explain: Grad-CAM, where
  the classifier looked;
- captioning/: captions for one image or a batch (the transformers captioner backend inside);
- search/: galleries on disk with FAISS, search by text or image, zero-shot labels;
- recognition/: what the classifier recognises, in words (seen, the WordNet hierarchy,
  phrasing);
- ocr/: reading the text in images (the PP-OCRv5 backend inside)."""
