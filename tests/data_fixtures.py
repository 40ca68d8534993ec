"""Shared fixtures for the data tests: small synthetic datasets, written once per session, and layout builders.

Import the fixtures you use into a test module (``from data_fixtures import synthetic_celeba``).
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

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
