"""Joint image + landmark transforms, and the DataLoader factory.

The loader ships uint8 tensors (3, H, W); the model converts to float and normalises inside, so workers do the
least work and batches are 4x smaller than float32. Landmarks travel in :func:`dmmlib.landmarks.schema.normalise`
form, which a resize of the whole image leaves unchanged and a horizontal flip turns into
:func:`~dmmlib.landmarks.schema.flip_normalised`.

A transform is any callable ``(image, landmarks) -> (uint8 tensor (3, H, W), landmarks (136,) float32)`` that
receives a PIL image *opened but not yet decoded*: that lets JPEG decoding downscale in the DCT domain
(``Image.draft``), several times faster than decoding at full size and resizing. A JPEG wanted at its stored
size (the paper's 218 x 178 on CelebA) is instead decoded by torchvision's libjpeg-turbo straight into a
(3, H, W) tensor (:func:`decode_jpeg_tensor`): the same pixels as PIL's decode, without PIL's copy out of its
image memory and the (H, W, 3) -> (3, H, W) rearrangement.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sized
from typing import cast

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from dmmlib.landmarks.schema import flip_normalised

# torchvision 0.29 deprecated its image decoders in favour of TorchCodec; until they go (then PIL takes over, see
# decode_jpeg_tensor) their per-call notice is not news to a training run's log.
warnings.filterwarnings("ignore", message="The image decoding and encoding capabilities of TorchVision",
                        category=DeprecationWarning)  # fmt: skip

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


def decode_jpeg_tensor(image: Image.Image) -> torch.Tensor | None:
    """An RGB JPEG opened by PIL but not decoded -> uint8 (3, H, W) decoded by ``torchvision.io.decode_jpeg``.

    Returns None (the caller decodes with PIL) for anything else: another format, a greyscale or CMYK JPEG, an
    image already loaded. The PIL image is closed once its bytes are read. A damaged file raises ``OSError``,
    as PIL's decoder would (``tests/test_transforms.py`` checks the pixels equal PIL's).
    """
    try:
        from torchvision.io import ImageReadMode, decode_jpeg
    except ImportError:  # a torchvision without image decoding (deprecated in 0.29): PIL decodes instead
        return None
    handle = getattr(image, "fp", None)
    if image.format != "JPEG" or image.mode != "RGB" or handle is None:
        return None
    handle.seek(0)
    data = torch.frombuffer(bytearray(handle.read()), dtype=torch.uint8)
    image.close()
    try:
        return decode_jpeg(data, mode=ImageReadMode.RGB)
    except RuntimeError as exc:
        raise OSError(f"cannot decode JPEG: {str(exc).splitlines()[-1]}") from exc


def crop_fraction(image_size: tuple[int, int], size: tuple[int, int]) -> tuple[float, float] | None:
    """The centred box of ``size``'s aspect ratio in an image of ``image_size = (W, H)``, as fractions ``(fx, fy)``
    of its width and height (one of them 1), or None when the aspect ratios already agree."""
    width, height = image_size
    target, actual = size[1] / size[0], width / height
    if abs(actual - target) <= 1e-9 * target:
        return None
    return (target / actual, 1.0) if actual > target else (1.0, actual / target)


def decode_resized(
    image: Image.Image, size: tuple[int, int] | None, crop: tuple[float, float] | None = None
) -> Image.Image:
    """Decode ``image`` as RGB at ``size`` = (H, W), letting JPEG decode at 1/2, 1/4 or 1/8 scale when it can.

    ``draft`` picks the smallest DCT scale that still covers the requested size, so quality is unchanged.
    ``crop = (fx, fy)`` first cuts the centred box of those fractions of the width and height (continuous
    coordinates: :func:`crop_landmarks` moves landmarks exactly with it).
    """
    if size is None:
        image.load()
        return image.convert("RGB") if image.mode != "RGB" else image
    height, width = size
    fx, fy = crop or (1.0, 1.0)
    if image.format == "JPEG":
        image.draft("RGB", (math.ceil(width / fx), math.ceil(height / fy)))
    image = image.convert("RGB") if image.mode != "RGB" else image
    if crop is not None:
        w, h = image.size
        box = (w * (1 - fx) / 2, h * (1 - fy) / 2, w * (1 + fx) / 2, h * (1 + fy) / 2)
        return image.resize((width, height), Image.Resampling.BILINEAR, box=box, reducing_gap=None)
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=None)
    return image


def crop_landmarks(landmarks: np.ndarray, crop: tuple[float, float]) -> np.ndarray:
    """Normalised landmarks (:func:`dmmlib.landmarks.schema.normalise`) of the centred crop ``(fx, fy)``: the
    crop's edges are at -1 and +1, so each coordinate is divided by the fraction kept along its axis."""
    points = np.asarray(landmarks, dtype=np.float32).reshape(-1, 2) / np.array(crop, dtype=np.float32)
    return points.reshape(np.shape(landmarks))


class ResizeFlip:
    """Resize to (H, W), then flip horizontally with probability ``flip_p`` (landmarks flipped with it).

    ``crop_to_aspect``: first cut the centred box of (H, W)'s aspect ratio, so the resize is uniform and faces
    keep their proportions (``TrainConfig.lfwa_crop_to_aspect`` says when that matters). The flip draws from
    torch's generator, which the DataLoader seeds per worker, so runs are reproducible.
    """

    def __init__(self, size: tuple[int, int] | None, flip_p: float = 0.5, crop_to_aspect: bool = False) -> None:
        if size is not None and (len(size) != 2 or min(size) < 1):
            raise ValueError(f"size must be (height, width) with positive entries, got {size!r}")
        if not 0.0 <= flip_p <= 1.0:
            raise ValueError(f"flip_p must be a probability in [0, 1], got {flip_p}")
        if crop_to_aspect and size is None:
            raise ValueError("crop_to_aspect needs a size: the aspect ratio to cut to")
        self.size = None if size is None else (int(size[0]), int(size[1]))
        self.flip_p = flip_p
        self.crop_to_aspect = crop_to_aspect

    def __call__(self, image: Image.Image, landmarks: np.ndarray) -> tuple[torch.Tensor, np.ndarray]:
        return self.augment(*self.prepare(image, landmarks))

    def prepare(self, image: Image.Image, landmarks: np.ndarray) -> tuple[torch.Tensor, np.ndarray]:
        """The deterministic part: decode (cut to the aspect ratio if asked), resize; landmarks follow.

        Its result is the same every epoch, so :class:`~dmmlib.data.decoded_cache.DecodedCache` may keep it.
        """
        # without a target size there is no aspect ratio to cut to
        crop = crop_fraction(image.size, self.size) if self.crop_to_aspect and self.size is not None else None
        stored = crop is None and (self.size is None or self.size == (image.size[1], image.size[0]))
        tensor = decode_jpeg_tensor(image) if stored else None
        if tensor is None:
            tensor = to_uint8_tensor(decode_resized(image, self.size, crop))
        landmarks = np.asarray(landmarks, dtype=np.float32)
        if crop is not None:
            landmarks = crop_landmarks(landmarks, crop)
        return tensor, landmarks

    def augment(self, tensor: torch.Tensor, landmarks: np.ndarray) -> tuple[torch.Tensor, np.ndarray]:
        """The random part: mirror with probability ``flip_p``, one draw from torch's generator per sample
        (none when ``flip_p`` is 0). Returns new arrays when it flips; never changes its inputs."""
        if self.flip_p > 0 and torch.rand(()).item() < self.flip_p:
            return tensor.flip(2), flip_normalised(landmarks).astype(np.float32)
        return tensor, landmarks

    def __repr__(self) -> str:
        crop = ", crop_to_aspect=True" if self.crop_to_aspect else ""
        return f"{type(self).__name__}(size={self.size}, flip_p={self.flip_p}{crop})"


def train_transform(
    size: tuple[int, int] | None, flip_p: float = 0.5, crop_to_aspect: bool = False
) -> ResizeFlip:
    """Training: resize to (H, W) and a random horizontal flip with probability ``flip_p``
    (``TrainConfig.flip_probability``)."""
    return ResizeFlip(size, flip_p=flip_p, crop_to_aspect=crop_to_aspect)


def eval_transform(size: tuple[int, int] | None, crop_to_aspect: bool = False) -> ResizeFlip:
    """Evaluation: resize only."""
    return ResizeFlip(size, flip_p=0.0, crop_to_aspect=crop_to_aspect)


def dataset_length(dataset: Dataset) -> int:
    """``len(dataset)``: dmmlib's datasets all have a length, which torch's ``Dataset`` type does not declare."""
    return len(cast(Sized, dataset))


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
