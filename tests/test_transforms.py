"""Joint image + landmark transforms and the loader."""

# ruff: noqa: F811  (pytest injects the imported fixtures by parameter name)

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from data_fixtures import (
    synthetic_celeba,  # noqa: F401  (a fixture, used by parameter name)
    zipped_official_layout,
)
from PIL import Image

from dmmlib.data.celeba import CelebA
from dmmlib.data.transforms import ResizeFlip, eval_transform, make_loader, train_transform
from dmmlib.landmark_schema import flip_normalised


def image_and_landmarks(root: Path) -> tuple[Image.Image, np.ndarray]:
    sample = CelebA(root, "all", landmarks="file")[0]
    return Image.open(root / "Img/img_align_celeba/000001.jpg"), sample["landmarks"].numpy()


def test_eval_transform_resizes_to_uint8_and_keeps_normalised_landmarks(synthetic_celeba: Path):
    image, landmarks = image_and_landmarks(synthetic_celeba)
    tensor, out = eval_transform((64, 48))(image, landmarks)
    assert tensor.dtype == torch.uint8 and tensor.shape == (3, 64, 48)
    assert np.array_equal(out, landmarks)


def test_flip_mirrors_the_image_and_permutes_the_landmarks(synthetic_celeba: Path):
    image, landmarks = image_and_landmarks(synthetic_celeba)
    plain, _ = ResizeFlip((80, 64), flip_p=0.0)(image, landmarks)
    image, _ = image_and_landmarks(synthetic_celeba)
    flipped, out = ResizeFlip((80, 64), flip_p=1.0)(image, landmarks)
    assert torch.equal(flipped, plain.flip(-1))
    assert np.allclose(out, flip_normalised(landmarks))


def test_train_transform_flips_about_half_the_time_reproducibly(synthetic_celeba: Path):
    _, landmarks = image_and_landmarks(synthetic_celeba)
    transform = train_transform((32, 32))

    def flips(seed: int) -> list[bool]:
        torch.manual_seed(seed)
        out = []
        for _ in range(40):
            image = Image.open(synthetic_celeba / "Img/img_align_celeba/000001.jpg")
            out.append(not np.array_equal(transform(image, landmarks)[1], landmarks))
        return out

    assert flips(0) == flips(0) and 8 < sum(flips(0)) < 32


def test_bad_sizes_are_named():
    with pytest.raises(ValueError, match="size"):
        ResizeFlip((0, 10))
    with pytest.raises(ValueError, match="flip_p"):
        ResizeFlip((10, 10), flip_p=2)


def test_loader_batches_samples_from_the_zip_in_worker_processes(synthetic_celeba: Path, tmp_path: Path):
    root = zipped_official_layout(synthetic_celeba, tmp_path / "zipped")
    dataset = CelebA(root, "train", transform=eval_transform((40, 32)), landmarks="file")
    loader = make_loader(
        dataset, batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(0), num_workers=2
    )
    batches = list(loader)
    assert sum(len(b["filename"]) for b in batches) == len(dataset)
    first = batches[0]
    assert first["image"].shape == (8, 3, 40, 32) and first["image"].dtype == torch.uint8
    assert first["attributes"].shape == (8, 40) and first["landmarks"].shape == (8, 136)
