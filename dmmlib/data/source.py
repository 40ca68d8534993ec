"""What a dataset is, in a few JSON fields: the record a training run keeps of its data (``config.json``).

A run folder used to record its configuration but not its data, so that a reader had to guess the data from the
folder layout. :func:`record` describes a CelebA- or LFWA-format dataset from its root: the kind, whether it is
synthetic (the generator's ``synthetic.json`` is in the root) or real, the root as the caller gave it, and for
synthetic data the data seed and the generator's knobs. :func:`of` finds that record on a dataset object
(:class:`~dmmlib.data.celeba.CelebA`, :class:`~dmmlib.data.lfwa.LFWA`, or a torch ``Subset`` / ``ConcatDataset`` of
them).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

SYNTHETIC_MARKER = "synthetic.json"
SYNTHETIC, REAL = "synthetic", "real"
#: generation parameters that are not knobs (the knobs are every other parameter the generator records)
_NOT_KNOBS = ("seed", "num_images")


def record(kind: str, given_root: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """``{"kind", "source", "root"[, "data_seed", "num_images", "knobs"]}`` of the dataset under ``root`` (the folder
    that holds the files; ``given_root``, the folder the caller named, when None)."""
    found = Path(root if root is not None else given_root)
    out: dict[str, Any] = {"kind": kind, "source": REAL, "root": str(given_root)}
    marker = found / SYNTHETIC_MARKER
    if marker.is_file():
        try:
            params = json.loads(marker.read_text()).get("parameters", {})
        except (OSError, ValueError):
            params = {}
        out.update(source=SYNTHETIC, data_seed=params.get("seed"), num_images=params.get("num_images"),
                   knobs={k: v for k, v in params.items() if k not in _NOT_KNOBS})  # fmt: skip
    return out


def of(dataset: Any) -> dict[str, Any] | None:
    """The record of ``dataset`` (its ``source_record()``), looking inside ``Subset`` and ``ConcatDataset``; None
    for a dataset that cannot say (a custom one)."""
    describe = getattr(dataset, "source_record", None)
    if callable(describe):
        return describe()
    inner = getattr(dataset, "dataset", None)
    if inner is not None:
        return of(inner)
    parts = [of(d) for d in getattr(dataset, "datasets", [])]
    return parts[0] if parts and all(p == parts[0] for p in parts) else None
