"""The trainable fusion head, independent of what it is trained for: fusion modules over a
dict of modality tensors (`modules`), heads that put frozen encoders and a fusion module
together (`heads`), the fit loop with accelerate (`training.fit`), and labelled datasets
from CSV / JSONL (`datasets`)."""
