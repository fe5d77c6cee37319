"""Batches follow the model to its device: collate builds them on the CPU, and on a GPU
accelerate has moved the model (a CUDA-only path, so the device here is 'meta')."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from model_zoo.fusion.training import predict_outputs


class _Recorder(nn.Module):
    def __init__(self, device: str) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1, device=device))
        self.seen: list[torch.device] = []

    def forward(self, inputs: dict) -> torch.Tensor:
        self.seen.append(inputs["text"].device)
        return torch.zeros(len(inputs["text"]), 2)


def collate(rows: np.ndarray):
    return {"text": torch.ones(len(rows), 3)}, torch.zeros(len(rows), dtype=torch.long)


def test_prediction_batches_are_moved_to_the_models_device():
    model = _Recorder("meta")
    probs, _ = predict_outputs(model, np.arange(5), collate, batch_size=2)
    assert probs.shape == (5, 2)
    assert model.seen == [torch.device("meta")] * 3


def test_a_model_on_the_cpu_gets_its_batches_untouched():
    model = _Recorder("cpu")
    predict_outputs(model, np.arange(3), collate)
    assert model.seen == [torch.device("cpu")]
