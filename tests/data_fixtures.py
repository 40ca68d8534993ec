"""Shared fixtures for the data tests: small synthetic datasets, written once per session, and layout builders.

Import the fixtures you use into a test module (``from data_fixtures import synthetic_celeba``).
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
import torch

from dmmlib.data.synthetic import generate, generate_lfwa

NUM_IMAGES = 60


@pytest.fixture(scope="session")
def synthetic_celeba(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 60-image synthetic CelebA in the official layout (read-only: copy it before damaging it)."""
    return generate(tmp_path_factory.mktemp("celeba") / "official", NUM_IMAGES, seed=0, progress=False)


@pytest.fixture(scope="session")
def synthetic_lfwa(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_lfwa(tmp_path_factory.mktemp("lfwa") / "lfwa", 24, seed=0, progress=False)


def copy_dataset(source: Path, target: Path) -> Path:
    """A private copy of a generated dataset, for tests that damage files."""
    shutil.copytree(source, target)
    return target


def torchvision_layout(official: Path, target: Path, zipped: bool = False) -> Path:
    """Rebuild torchvision's flat layout (``target/celeba/...``) from an official-layout copy."""
    flat = target / "celeba"
    flat.mkdir(parents=True)
    for text in (official / "Anno").iterdir():
        shutil.copy(text, flat / text.name)
    shutil.copy(official / "Eval" / "list_eval_partition.txt", flat)
    images = official / "Img" / "img_align_celeba"
    if zipped:
        zip_images(images, flat / "img_align_celeba.zip")
    else:
        shutil.copytree(images, flat / "img_align_celeba")
    return target


def zip_images(folder: Path, archive: Path) -> Path:
    """Pack images like the official ``img_align_celeba.zip`` (members ``img_align_celeba/000001.jpg``)."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as z:
        for image in sorted(folder.iterdir()):
            z.write(image, f"img_align_celeba/{image.name}")
    return archive


def zipped_official_layout(official: Path, target: Path) -> Path:
    """The official layout with ``Img/img_align_celeba.zip`` instead of the extracted folder."""
    shutil.copytree(official, target, ignore=shutil.ignore_patterns("img_align_celeba"))
    zip_images(official / "Img" / "img_align_celeba", target / "Img" / "img_align_celeba.zip")
    return target


# --- real-format copies for the paper path (tests/test_paper_check.py) ---------------------------------------------
#: Files the generator writes that a released CelebA / LFWA does not have: the synthetic marker, its README, and the
#: drawn ground truth of the 68 landmarks. The real-format copies lack them, so that nothing on the paper path can
#: lean on them (dlib's landmarks, "real data" records, no ceiling).
CELEBA_EXTRAS = ("synthetic.json", "README.txt", "Anno/list_landmarks_68_align_celeba.txt")
LFWA_EXTRAS = ("synthetic.json", "landmarks_68_lfw.npy", "landmarks_68_lfw-deepfunneled.npy")


def real_format_copies(target: Path, celeba_images: int, lfwa_images: int) -> tuple[Path, Path]:
    """A CelebA in the official layout as released (annotations in ``Anno/`` and ``Eval/``, the images in
    ``Img/img_align_celeba.zip``) and an LFWA (``lfw_att_40.mat``, ``indices_train_test.mat``, ``lfw/`` and
    ``lfw-deepfunneled/``), drawn by the generator and stripped of what only synthetic copies carry."""
    drawn = generate(target / "drawn", celeba_images, seed=0, progress=False)
    celeba = zipped_official_layout(drawn, target / "celeba")
    lfwa = generate_lfwa(target / "lfwa", lfwa_images, seed=0, progress=False)
    for root, extras in ((celeba, CELEBA_EXTRAS), (lfwa, LFWA_EXTRAS)):
        for extra in extras:
            (root / extra).unlink()
    shutil.rmtree(drawn)
    return celeba, lfwa


def imagenet_style_resnet50(path: Path, images: torch.Tensor) -> Path:
    """Write a torchvision ResNet-50 state dict (``path``) that starts like a trained one: the weights file the paper
    path loads in place of ImageNet's, which tests cannot download.

    Random weights with each residual branch's last BatchNorm scale at zero (torchvision's ``zero_init_residual``),
    and every BatchNorm's running statistics measured on ``images`` (uint8, N x 3 x H x W, ImageNet-normalised as
    :class:`dmmlib.model.DMMNet` does), as a trained network's statistics match its weights. Why: a plain random
    ResNet-50 has running statistics (0, 1) far from its activations and residual sums that grow with depth; at
    the paper's lr its first SGD steps then change the eval-mode outputs by ~1e18, and Eq. 4 as printed turns that
    into inf within a few iterations (measured: validation loss 1.7 at iteration 0, 1.2e18 at iteration 3). With
    these weights the same run stays finite (1.1, 1.8, 1.1)."""
    import torchvision

    torch.manual_seed(0)
    net = torchvision.models.resnet50(weights=None, zero_init_residual=True)
    norms = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for norm in norms:
        norm.momentum = None  # a cumulative average over every batch seen
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    net.train()
    with torch.no_grad():
        for chunk in images.split(8):
            net((chunk.float() / 255 - mean) / std)
    for norm in norms:
        norm.momentum = 0.1
    torch.save(net.state_dict(), path)
    return path
