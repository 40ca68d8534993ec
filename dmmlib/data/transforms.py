"""Joint image + landmark transforms, and the DataLoader factory.

The loader ships uint8 tensors (3, H, W); the model converts to float and normalises inside, so workers do the
least work and batches are 4x smaller than float32. Landmarks travel in :func:`dmmlib.landmark_schema.normalise`
form, which a resize of the whole image leaves unchanged and a horizontal flip turns into
:func:`~dmmlib.landmark_schema.flip_normalised`.

A transform is any callable ``(image, landmarks) -> (uint8 tensor (3, H, W), landmarks (136,) float32)`` that
receives a PIL image *opened but not yet decoded*: that lets JPEG decoding downscale in the DCT domain
(``Image.draft``), several times faster than decoding at full size and resizing.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from dmmlib.landmark_schema import flip_normalised

Transform = Callable[[Image.Image, np.ndarray], tuple[torch.Tensor, np.ndarray]]


def to_uint8_tensor(image: Image.Image, flip: bool = False) -> torch.Tensor:
    """RGB PIL image -> uint8 tensor (3, H, W), without a float round trip; ``flip`` mirrors it left-right.

    One copy: the (H, W, 3) pixels are rearranged to (3, H, W), and mirrored when asked, in the same numpy copy
    (``bench/data_pipeline.py``: half the cost of a copy, a permute and a second copy, plus a PIL transpose).
    """
    if image.mode != "RGB":
        image = image.convert("RGB")
    pixels = np.asarray(image).transpose(2, 0, 1)
    if flip:
        pixels = pixels[:, :, ::-1]
    pixels = np.ascontiguousarray(pixels)
    if not pixels.flags.writeable:  # already contiguous (a 1-pixel-high image): still a view of PIL's buffer
        pixels = pixels.copy()
    return torch.from_numpy(pixels)


def decode_resized(image: Image.Image, size: tuple[int, int] | None) -> Image.Image:
    """Decode ``image`` as RGB at ``size`` = (H, W), letting JPEG decode at 1/2, 1/4 or 1/8 scale when it can.

    ``draft`` picks the smallest DCT scale that still covers the requested size, so quality is unchanged.
    """
    if size is None:
        image.load()
        return image.convert("RGB") if image.mode != "RGB" else image
    height, width = size
    if image.format == "JPEG":
        image.draft("RGB", (width, height))
    image = image.convert("RGB") if image.mode != "RGB" else image
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=None)
    return image


class ResizeFlip:
    """Resize to (H, W), then flip horizontally with probability ``flip_p`` (landmarks flipped with it).

    The flip draws from torch's generator, which the DataLoader seeds per worker, so runs are reproducible.
    """

    def __init__(self, size: tuple[int, int] | None, flip_p: float = 0.5) -> None:
        if size is not None and (len(size) != 2 or min(size) < 1):
            raise ValueError(f"size must be (height, width) with positive entries, got {size!r}")
        if not 0.0 <= flip_p <= 1.0:
            raise ValueError(f"flip_p must be a probability in [0, 1], got {flip_p}")
        self.size = None if size is None else (int(size[0]), int(size[1]))
        self.flip_p = flip_p

    def __call__(self, image: Image.Image, landmarks: np.ndarray) -> tuple[torch.Tensor, np.ndarray]:
        image = decode_resized(image, self.size)
        landmarks = np.asarray(landmarks, dtype=np.float32)
        flip = self.flip_p > 0 and torch.rand(()).item() < self.flip_p
        if flip:
            landmarks = flip_normalised(landmarks).astype(np.float32)
        return to_uint8_tensor(image, flip), landmarks

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, flip_p={self.flip_p})"


def train_transform(size: tuple[int, int] | None) -> ResizeFlip:
    """Training: resize to (H, W) and a random horizontal flip."""
    return ResizeFlip(size, flip_p=0.5)


def eval_transform(size: tuple[int, int] | None) -> ResizeFlip:
    """Evaluation: resize only."""
    return ResizeFlip(size, flip_p=0.0)


def make_loader(
    dataset: Dataset,
    batch_size: int,
    shuffle: bool = False,
    generator: torch.Generator | None = None,
    num_workers: int = 0,
    pin_memory: bool = False,
    persistent_workers: bool = False,
    drop_last: bool = False,
) -> DataLoader:
    """A DataLoader for the dict samples of :class:`~dmmlib.data.celeba.CelebA` and friends.

    ``generator`` fixes the shuffle order and the workers' seeds; ``persistent_workers`` keeps workers (and
    their open zip files) alive between epochs; it needs ``num_workers > 0``.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        generator=generator,
        num_workers=num_workers,
        pin_memory=pin_memory,
        persistent_workers=persistent_workers and num_workers > 0,
        drop_last=drop_last,
    )
