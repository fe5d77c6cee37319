"""Vision: the image engine (`engine`: CLIP where its weights are, else the offline label
bridge over EfficientNet-Lite), images and their checks (`images`), Grad-CAM (`explain`),
galleries on disk with FAISS (`gallery`), search and zero-shot labels (`search`), and
captions (`captioning`), with the open_clip, EfficientNet-Lite and transformers captioner
backends beside them."""
