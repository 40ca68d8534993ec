"""Decoded, resized images of one split kept in memory from one epoch to the next.

Reading an image (open, decode the JPEG, resize) does the same work every epoch. On the teach preset it was a fifth
of an epoch on one thread (``bench/decoded_cache.py``, side by side) and about a third on 2 cores, where the steps
use both cores and the loader one (profiled: 5.5 s of a 14.4 s epoch). The cache keeps what the
deterministic part of a transform returns (:meth:`dmmlib.data.transforms.ResizeFlip.prepare`: the resized uint8
tensor and its landmarks); the random part (:meth:`~dmmlib.data.transforms.ResizeFlip.augment`, the flip) runs on
every read and draws from torch's generator exactly as without the cache, so a run computes the same numbers with
or without it (``tests/test_decoded_cache.py`` trains both ways and compares the weights).

A split is cached whole or not at all: the first image read sets the estimate (its bytes times the split's length),
and a split whose estimate exceeds the limit is never cached, so memory stays bounded by the limit and a split too
large for it (real CelebA at 218 x 178 is about 19 GB) costs nothing. Each process has its own cache: DataLoader
workers fill theirs when they persist between epochs (``TrainConfig.persistent_workers``), and start empty otherwise.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

Prepared = tuple[torch.Tensor, np.ndarray]
MIB = 2**20


class DecodedCache:
    """Up to ``size`` prepared samples, kept when the whole split fits in ``limit_mb`` MiB (0 turns it off)."""

    def __init__(self, size: int, limit_mb: float) -> None:
        if limit_mb < 0:
            raise ValueError(f"the image cache limit must be >= 0 MiB, got {limit_mb!r}")
        self.size = int(size)
        self.limit_bytes = float(limit_mb) * MIB
        self.entries: dict[int, Prepared] = {}
        self.enabled: bool | None = None if self.limit_bytes > 0 else False  # None: not decided yet

    @staticmethod
    def nbytes(sample: Prepared) -> int:
        tensor, landmarks = sample
        return tensor.numel() * tensor.element_size() + np.asarray(landmarks).nbytes

    def get(self, index: int, prepare: Callable[[], Prepared]) -> Prepared:
        """The prepared sample ``index``: from memory, or from ``prepare()`` (then kept if the split fits)."""
        sample = self.entries.get(index)
        if sample is not None:
            return sample
        sample = prepare()
        if self.enabled is None:
            self.enabled = self.nbytes(sample) * self.size <= self.limit_bytes
        if self.enabled:
            self.entries[index] = sample
        return sample

    def __len__(self) -> int:
        return len(self.entries)

    def __getstate__(self) -> dict:
        """Pickled for a DataLoader worker without its entries: each process fills its own."""
        state = self.__dict__.copy()
        state["entries"] = {}
        return state
