"""Algorithm 1's training history as tables: one row per update of lambda and tau (``history.json`` of a run).

The trainer records per update t: iteration, epoch, lr, training loss, the whole-validation losses per attribute
(Eq. 2) and their mean, the landmark loss (Eq. 1), the weights lambda (Eq. 4 or another scheme) and the
thresholds tau (Eq. 6), and validation accuracy. These helpers turn that list of dicts into long data frames that
seaborn plots directly (Figs. 5-7 of the paper).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from dmmlib.attributes import ATTRIBUTES

#: Per-attribute entries of a history record and the name each gets as a column of :func:`per_attribute`.
PER_ATTRIBUTE_KEYS = {"val_attr_losses": "validation loss", "lambda": "lambda", "tau": "tau",
                      "val_accuracy": "validation accuracy"}  # fmt: skip


def scalars(history: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The scalar entries of each update (t, iteration, epoch, lr, losses, mean accuracy), one row per update."""
    return pd.DataFrame([{k: v for k, v in h.items() if not isinstance(v, (list, tuple, dict))} for h in history])


def per_attribute(history: Sequence[Mapping[str, Any]], key: str,
                  attributes: Sequence[str] | None = None) -> pd.DataFrame:
    """Long frame (iteration, epoch, attribute, <value>) of one per-attribute entry, e.g. ``"lambda"``."""
    if key not in PER_ATTRIBUTE_KEYS:
        raise KeyError(f"{key!r} is not a per-attribute history entry; use one of {list(PER_ATTRIBUTE_KEYS)}")
    wanted = list(attributes) if attributes is not None else list(ATTRIBUTES)
    unknown = sorted(set(wanted) - set(ATTRIBUTES))
    if unknown:
        raise KeyError(f"unknown attribute names {unknown}")
    rows = []
    for record in history:
        values = record[key]
        for name in wanted:
            rows.append({"iteration": record["iteration"], "epoch": record["epoch"], "attribute": name,
                         PER_ATTRIBUTE_KEYS[key]: float(values[ATTRIBUTES.index(name)])})  # fmt: skip
    return pd.DataFrame(rows)


def combine(frames: Mapping[str, pd.DataFrame], column: str = "run") -> pd.DataFrame:
    """Stack frames of several runs, labelling each row with its run in ``column``."""
    return pd.concat([frame.assign(**{column: label}) for label, frame in frames.items()], ignore_index=True)
