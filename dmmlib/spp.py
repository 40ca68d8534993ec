"""Spatial pyramid pooling (SPP), the pooling layer of the paper's two attribute branches (Sec. 3.2.1).

An n-level SPP layer divides the feature map into k x k blocks for k = 1..n, max-pools each block and concatenates
the results, so its output length ``C * sum_k k^2`` does not depend on the input size. The objective branch uses
n = 1 (global max pooling, C features), the subjective branch n = 3 (1 + 4 + 9 = 14 C features).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class SpatialPyramidPooling(nn.Module):
    """``(B, C, H, W) -> (B, C * sum_{k=1..levels} k*k)``, ordered level by level (k = 1 first).

    Within a level the features are ordered channel-major, then bins row by row. Bins are those of
    :func:`torch.nn.functional.adaptive_max_pool2d`: bin i of k along an axis of length n spans
    ``[floor(i n / k), ceil((i + 1) n / k))``, so they cover the map, may overlap by one cell when k does not
    divide n, and still work when the map is smaller than k x k (cells are then shared between bins).
    """

    def __init__(self, levels: int) -> None:
        super().__init__()
        if levels < 1:
            raise ValueError(f"SPP needs at least one level, got {levels}")
        self.levels = levels

    def output_features(self, channels: int) -> int:
        """The output length for a ``channels``-channel input."""
        return channels * sum(k * k for k in range(1, self.levels + 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = [F.adaptive_max_pool2d(x, k).flatten(1) for k in range(1, self.levels + 1)]
        return torch.cat(pooled, dim=1)

    def extra_repr(self) -> str:
        return f"levels={self.levels}"
