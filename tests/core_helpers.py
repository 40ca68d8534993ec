"""Shared fixtures of the model / training tests: a tiny learnable in-memory dataset and a tiny config.

``TinyFaces`` yields the batch dicts of the real data loader ("image" uint8, "attributes" +1/-1 int8,
"landmarks" float32 (2T,), "landmark_source" int64). Each attribute is drawn in its own cell of a 5 x 8 grid
(bright = +1), so a small CNN learns it within a few hundred iterations; the landmarks are a fixed smooth
function of the attributes
around a mean shape, as real normalised landmarks vary little around theirs.
"""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from dmmlib import device
from dmmlib.config import TrainConfig


class TinyFaces(Dataset):
    def __init__(self, n: int, size: tuple[int, int] = (40, 32), num_landmarks: int = 68, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        positive_rate = torch.linspace(0.1, 0.6, 40)  # imbalanced, so the adaptive thresholds have work to do
        self.attributes = torch.where(torch.rand(n, 40, generator=g) < positive_rate, 1, -1).to(torch.int8)
        cells = ((self.attributes.float() + 1) / 2).view(n, 1, 5, 8)
        pattern = torch.nn.functional.interpolate(cells, size=size, mode="nearest").expand(n, 3, *size)
        noise = torch.rand(n, 3, *size, generator=g)
        self.images = (pattern * 160 + noise * 90).clamp(0, 255).to(torch.uint8)
        fixed = torch.Generator().manual_seed(123)
        mean_shape = torch.rand(2 * num_landmarks, generator=fixed) * 1.2 - 0.6
        projection = torch.randn(40, 2 * num_landmarks, generator=fixed) * 0.1
        self.landmarks = (mean_shape + 0.05 * torch.tanh(self.attributes.float() @ projection)).float()

    def __len__(self) -> int:
        return len(self.attributes)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {
            "image": self.images[i],
            "attributes": self.attributes[i],
            "landmarks": self.landmarks[i],
            "landmark_source": torch.tensor(0, dtype=torch.int64),
        }


def tiny_config(**changes) -> TrainConfig:
    """A CPU-sized DMM-CNN run: small trunk, narrow heads, frequent updates."""
    settings = dict(
        backbone="resnet-small", input_size=(40, 32), objective_hidden=(32,), subjective_hidden=(64, 32),
        landmark_hidden=(32,), batch_size=16, val_batch_size=64, lr=0.003, update_interval=25, lr_patience=100,
        checkpoint_interval=1000, epochs=100, device="cpu",
    )  # fmt: skip
    settings.update(changes)
    return TrainConfig(**settings)


one_thread = device.one_thread  # the library's, kept here under the name the tests import
