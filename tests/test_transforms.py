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
from dmmlib.data.transforms import (
    ResizeFlip,
    crop_fraction,
    decode_jpeg_tensor,
    eval_transform,
    make_loader,
    to_uint8_tensor,
    train_transform,
)
from dmmlib.landmarks.schema import denormalise, flip_normalised, normalise
from dmmlib.suite.paths import shared_testdata


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


def test_stored_size_jpegs_decode_to_the_same_pixels_as_pil(synthetic_celeba: Path):
    photos = sorted((shared_testdata() / "dlib-faces").glob("*.jpg"))[:3]  # real camera JPEGs, when present
    for path in [synthetic_celeba / "Img/img_align_celeba/000001.jpg", *photos]:
        with Image.open(path) as image:
            reference = to_uint8_tensor(image.convert("RGB"))
        tensor = decode_jpeg_tensor(Image.open(path))
        assert tensor is not None and torch.equal(tensor, reference), path


def test_the_stored_size_path_flips_like_the_pil_path(synthetic_celeba: Path):
    image, landmarks = image_and_landmarks(synthetic_celeba)
    height, width = image.size[1], image.size[0]
    fast, out = ResizeFlip((height, width), flip_p=1.0)(image, landmarks)
    reference = to_uint8_tensor(Image.open(synthetic_celeba / "Img/img_align_celeba/000001.jpg").convert("RGB"), True)
    assert torch.equal(fast, reference) and np.allclose(out, flip_normalised(landmarks))


def test_greyscale_and_png_images_are_left_to_pil(tmp_path: Path):
    Image.new("L", (20, 10), 128).save(tmp_path / "grey.jpg")
    Image.new("RGB", (20, 10)).save(tmp_path / "colour.png")
    assert decode_jpeg_tensor(Image.open(tmp_path / "grey.jpg")) is None
    assert decode_jpeg_tensor(Image.open(tmp_path / "colour.png")) is None
    tensor, _ = eval_transform(None)(Image.open(tmp_path / "grey.jpg"), np.zeros(136, np.float32))
    assert tensor.shape == (3, 10, 20) and int(tensor.max()) == int(tensor.min()) == 128


def test_a_truncated_jpeg_raises_os_error_like_pil(tmp_path: Path):
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (60, 50, 3), dtype=np.uint8)).save(tmp_path / "a.jpg")
    data = (tmp_path / "a.jpg").read_bytes()
    (tmp_path / "a.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(OSError, match="JPEG"):
        decode_jpeg_tensor(Image.open(tmp_path / "a.jpg"))


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


def test_an_lfw_square_cut_to_the_input_aspect_keeps_the_face_proportions():
    assert crop_fraction((250, 250), (218, 178)) == pytest.approx((178 / 218, 1.0))  # 250 x 204.1
    assert crop_fraction((178, 218), (218, 178)) is None and crop_fraction((178, 218), (109, 89)) is None


def test_landmarks_follow_the_centred_cut_and_the_resize(tmp_path: Path):
    pixels = np.zeros((250, 250, 3), np.uint8)
    dots = np.array([[40.0, 60.0], [200.0, 180.0], [125.0, 125.0]])  # (x, y) pixels, one near each side
    for x, y in dots.astype(int):
        pixels[y - 1 : y + 2, x - 1 : x + 2] = 255
    Image.fromarray(pixels).save(tmp_path / "square.png")
    landmarks = np.zeros((68, 2), np.float32)
    landmarks[:3] = dots
    tensor, out = ResizeFlip((218, 178), flip_p=0.0, crop_to_aspect=True)(
        Image.open(tmp_path / "square.png"), normalise(landmarks, 250, 250)
    )
    assert tensor.shape == (3, 218, 178)
    grey = tensor.float().mean(0).numpy()
    for x, y in denormalise(out, 178, 218)[:3]:  # each landmark sits on its dot in the output
        assert grey[int(round(y)), int(round(x))] > 100, (x, y)
    left, scale = 250 * (1 - 178 / 218) / 2, 218 / 250  # the cut's left edge (continuous px), the uniform scale
    np.testing.assert_allclose(denormalise(out, 178, 218)[:3], (dots + 0.5 - [left, 0]) * scale - 0.5, atol=1e-3)


def test_a_zero_flip_probability_never_flips(synthetic_celeba: Path):
    image, landmarks = image_and_landmarks(synthetic_celeba)
    _, out = train_transform((80, 64), flip_p=0.0)(image, landmarks)
    assert np.array_equal(out, landmarks)


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
