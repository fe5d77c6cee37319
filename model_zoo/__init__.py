"""What models exist and how they run. Never imports gradio (see docs/design.md)."""

import os as _os

# torch and faiss each bundle an OpenMP runtime; with both loaded, idle threads of one spin
# while the other works, and on 2 cores a tiny CLIP text query went from 0.4 ms to 70-110 ms.
# Set before either library loads (both are imported lazily, after this package).
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
