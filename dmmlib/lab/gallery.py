"""Faces picked for figures: positive examples of attributes, and LFW's two image versions side by side.

Each function returns ``(images, captions)``: ``images`` are ``(H, W, 3)`` uint8 arrays as stored on disk,
``captions`` short strings, ready for :func:`dmmlib.lab.plots.face_grid`. Picks are reproducible (a seeded draw).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dmmlib.attributes import ATTRIBUTES, PAPER_GROUPS, AttributeGroups
from dmmlib.data.celeba import CelebA
from dmmlib.data.lfwa import ATTRIBUTE_FILE, INDEX_FILE, VERSION_FOLDERS, read_indices, read_lfw_att_40


def _image(dataset: CelebA, index: int) -> np.ndarray:
    """One image of ``dataset`` as stored (the transform is bypassed), HWC uint8."""
    with dataset.store.open(dataset.filenames[index]) as image:
        return np.asarray(image.convert("RGB"))


def positive_examples(
    dataset: CelebA, attributes: Sequence[str], per_attribute: int = 3, seed: int = 0,
    groups: AttributeGroups = PAPER_GROUPS,
) -> tuple[list[np.ndarray], list[str]]:  # fmt: skip
    """``per_attribute`` images labelled +1 for each of ``attributes`` (fewer when the split has fewer).

    Captions read ``"<attribute> (objective|subjective)"`` and the file name.
    """
    unknown = [a for a in attributes if a not in ATTRIBUTES]
    if unknown:
        raise ValueError(f"unknown attribute {unknown[0]!r}; valid names are dmmlib.attributes.ATTRIBUTES")
    if per_attribute < 1:
        raise ValueError(f"per_attribute must be >= 1, got {per_attribute}")
    rng = np.random.default_rng(seed)
    labels = dataset.attributes.numpy()
    images, captions = [], []
    for name in attributes:
        positives = np.flatnonzero(labels[:, ATTRIBUTES.index(name)] > 0)
        chosen = rng.choice(positives, size=min(per_attribute, len(positives)), replace=False)
        for index in sorted(chosen.tolist()):
            images.append(_image(dataset, index))
            captions.append(f"{name} ({groups.group_of(name)})\n{dataset.filenames[index]}")
    return images, captions


def lfwa_versions(root: str | os.PathLike[str], count: int = 4, split: str = "test",
                  seed: int = 0) -> tuple[list[np.ndarray], list[str]]:  # fmt: skip
    """``count`` LFWA images of ``split``, each as original then deep-funneled (2 * count images)."""
    from PIL import Image

    root = Path(root)
    _, names, _ = read_lfw_att_40(root / ATTRIBUTE_FILE)
    train, test = read_indices(root / INDEX_FILE)
    chosen = {"train": train, "test": test}[split]
    picks = np.random.default_rng(seed).choice(chosen, size=min(count, len(chosen)), replace=False)
    images, captions = [], []
    for i in sorted(picks.tolist()):
        for version, folder in VERSION_FOLDERS.items():
            with Image.open(root / folder / names[i]) as image:
                images.append(np.asarray(image.convert("RGB")))
            captions.append(f"{version}\n{Path(names[i]).name}")
    return images, captions
