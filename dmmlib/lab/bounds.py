"""Accuracy tables with their two reference points: the majority class below and the ceiling above.

A mean accuracy means little alone. Always answering each attribute's majority class already scores about 80% on
CelebA-like data, and on synthetic data the generator knows the best any model can reach (the *ceiling*,
:func:`dmmlib.data.synthetic.ceiling_accuracy`). Tables 1 and 2 of the notebooks show every run between the two,
with its gap to the ceiling: a gap of several points says the runs stopped before learning what the data allow, so
differences between them measure training speed more than the method.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from dmmlib import metrics

MAJORITY = "majority class"
CEILING = "ceiling (best possible)"
GAP = "gap to ceiling"


def beside_bounds(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Mean accuracy (all / objective / subjective) of each run's per-attribute table (from
    :func:`dmmlib.metrics.attribute_table`, evaluated on the same split), then the majority-class row and, when the
    tables carry a ``ceiling_accuracy`` column, the ceiling row and each row's gap to the ceiling (all attributes)."""
    if not tables:
        raise ValueError("beside_bounds needs at least one run's table")
    means = {name: metrics.mean_table(table) for name, table in tables.items()}
    reference = next(iter(means.values()))
    rows = {name: mean["accuracy"] for name, mean in means.items()}
    rows[MAJORITY] = reference["majority_accuracy"]
    if "ceiling_accuracy" in reference:
        rows[CEILING] = reference["ceiling_accuracy"]
    frame = pd.DataFrame(rows).T[["all", "objective", "subjective"]]
    if CEILING in frame.index:
        frame[GAP] = frame.loc[CEILING, "all"] - frame["all"]
    return frame
