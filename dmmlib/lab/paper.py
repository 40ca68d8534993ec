"""The numbers the paper reports, loaded from CSV files shipped as package data, each row with its source.

Only values read from the paper (or, for the competing methods of Table 3, from their original papers) are here;
a missing cell is unknown, not zero. The copies in ``dmmlib/resources`` come from ``shared/paper/`` (FACTS.md).
Nothing in this module is ever presented as a result of this suite: notebooks show these numbers *beside* the
numbers a run computed.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import pandas as pd

TABLE3_SOURCE = "paper Table 3 (competitors as quoted there, from their original papers)"


def _read(name: str) -> pd.DataFrame:
    with resources.files("dmmlib").joinpath("resources", name).open("r", encoding="utf-8") as handle:
        return pd.read_csv(handle)


@cache
def table2() -> pd.DataFrame:
    """Table 2: mean accuracy (%) of the four weighting schemes on CelebA and LFWA."""
    return _read("table2_reported.csv")


@cache
def table1() -> pd.DataFrame:
    """What is known of Table 1 (the variants): two means and two stated gains over the Baseline."""
    return _read("table1_reported.csv")


@cache
def table3() -> pd.DataFrame:
    """Table 3: per-attribute accuracy (%) of the compared methods; rows with attribute ``Mean`` are means."""
    frame = _read("table3_reported.csv")
    frame["source"] = TABLE3_SOURCE
    return frame


@cache
def dmmcnn_celeba_per_attribute() -> pd.DataFrame:
    """DMM-CNN's 40 per-attribute CelebA accuracies (%), with the source of the transcription."""
    return _read("dmmcnn_celeba_per_attribute.csv")


@cache
def attribute_frequencies() -> pd.Series:
    """Fraction of positive labels of each attribute over all 202,599 CelebA images (CelebA order)."""
    frame = _read("celeba_attribute_counts.csv")
    return pd.Series((frame["positives"] / frame["total"]).to_numpy(), index=frame["attribute"], name="celeba")


def mean_accuracy(method: str = "DMM-CNN", dataset: str = "CelebA") -> float:
    """A reported mean accuracy from Table 3 (KeyError when the paper does not give it)."""
    frame = table3()
    row = frame[(frame.method == method) & (frame.dataset == dataset) & (frame.attribute == "Mean")]
    if row.empty:
        raise KeyError(f"the paper reports no mean accuracy for {method} on {dataset}")
    return float(row.accuracy.iloc[0])
