"""Imagine: text to image (and image to image) with diffusers. `service.generate` checks,
seeds, times and saves each image with its settings; `diffusion_backend` loads any
diffusers text-to-image folder or hub repo with the device policy (fp16 on CUDA, offload
where the GPU is small)."""
