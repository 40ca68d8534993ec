"""Datasets: readers for real CelebA and LFWA, a synthetic CelebA/LFWA-format generator, loader transforms.

Submodules: :mod:`~dmmlib.data.celeba`, :mod:`~dmmlib.data.lfwa`, :mod:`~dmmlib.data.synthetic`,
:mod:`~dmmlib.data.transforms`. The names below load lazily, so ``import dmmlib.data`` stays cheap (the
generator does not need torch).
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "CelebA": "celeba",
    "find_celeba": "celeba",
    "verify_checksums": "celeba",
    "LFWA": "lfwa",
    "generate": "synthetic",
    "generate_lfwa": "synthetic",
    "ceiling_accuracy": "synthetic",
    "clean_labels": "synthetic",
    "sample_labels": "synthetic_labels",
    "make_loader": "transforms",
    "train_transform": "transforms",
    "eval_transform": "transforms",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
