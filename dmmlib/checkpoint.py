"""Checkpoints: atomic writes, ``weights_only`` loading, and the random-number states that make resume exact.

A checkpoint holds only tensors, numbers, strings, lists, tuples, dicts and None, so it loads with
``torch.load(..., weights_only=True)`` (no arbitrary code runs when a checkpoint is opened). NumPy's RNG state is
converted to such types for that reason.
"""

from __future__ import annotations

import os
import pickle
import random
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dmmlib.files import atomic

CHECKPOINT_NAME = "checkpoint.pt"


def rng_state() -> dict[str, Any]:
    """The torch (CPU and CUDA), NumPy and Python global RNG states, in weights_only-loadable form."""
    np_state = np.random.get_state(legacy=False)
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {
            "key": torch.from_numpy(np_state["state"]["key"].astype(np.int64)),
            "pos": int(np_state["state"]["pos"]),
            "has_gauss": int(np_state["has_gauss"]),
            "gauss": float(np_state["gauss"]),
        },
        "python": list(random.getstate()),
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` recorded."""
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    np_state = state["numpy"]
    np.random.set_state({
        "bit_generator": "MT19937",
        "state": {"key": np_state["key"].numpy().astype(np.uint32), "pos": np_state["pos"]},
        "has_gauss": np_state["has_gauss"],
        "gauss": np_state["gauss"],
    })  # fmt: skip
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))


def save_checkpoint(path: str | os.PathLike[str], state: dict[str, Any]) -> Path:
    """Write ``state`` to ``path`` atomically (:mod:`dmmlib.files.atomic`): a crash mid-write keeps the old checkpoint."""
    return atomic.atomic_write(path, lambda handle: torch.save(state, handle))


class CheckpointError(ValueError):
    """A file that cannot be used as a checkpoint (unsafe, damaged, or something else); the message names it."""


#: Keys every checkpoint written by :class:`dmmlib.train` holds.
REQUIRED_KEYS = ("format", "config", "model", "optimizer", "state")


def load_weights_file(path: str | os.PathLike[str]) -> Any:
    """``torch.load(path, weights_only=True)`` onto the CPU, with a clear :class:`CheckpointError` naming the file
    when it holds arbitrary pickled objects (refused: loading them could run code), is truncated, or is not a
    PyTorch file at all."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Detected pickle protocol")  # a foreign pickle: refused below
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        reason = str(error).strip().splitlines()
        detail = next((line for line in reason if "Unsupported" in line or "global" in line.lower()), "")
        raise CheckpointError(
            f"{path}: refused to load: it holds pickled Python objects other than tensors and plain data, and "
            "loading those can run arbitrary code (torch.load weights_only=True). Only load files you made with "
            f"dmmlib, or re-save the tensors alone{f' ({detail.strip()[:200]})' if detail else ''}"
        ) from None
    except Exception as error:  # any other content: the unpickler's errors depend on where the bytes stop making sense
        size = path.stat().st_size
        raise CheckpointError(
            f"{path}: not a readable PyTorch checkpoint ({size} bytes; {type(error).__name__}: "
            f"{str(error).splitlines()[0][:120] if str(error) else 'unexpected end of file'}). It is truncated "
            "(e.g. copied while being written) or not a checkpoint: delete it to start afresh, or point to "
            "another file"
        ) from None


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a checkpoint file, or ``checkpoint.pt`` inside a run folder, onto the CPU (``weights_only``).

    Raises :class:`CheckpointError` naming the file when it is not a dmmlib training checkpoint.
    """
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    state = load_weights_file(path)
    if not isinstance(state, dict) or any(key not in state for key in REQUIRED_KEYS):
        found = sorted(state)[:6] if isinstance(state, dict) else type(state).__name__
        raise CheckpointError(
            f"{path}: not a dmmlib training checkpoint (expected the keys {list(REQUIRED_KEYS)}, found {found}). "
            "A bare state dict can initialise a model through TrainConfig.pretrained instead"
        )
    return state
