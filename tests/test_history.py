"""History records become the long tables behind Figs. 5-7."""

from __future__ import annotations

import pytest

from dmmlib.attributes import ATTRIBUTES
from dmmlib.lab import history


def record(t: int, value: float) -> dict:
    return {"t": t, "iteration": 10 * t, "epoch": 1, "lr": 0.1, "val_mean_loss": value,
            "lambda": [value + j for j in range(40)], "tau": [0.0] * 40}  # fmt: skip


def test_scalars_drop_per_attribute_lists():
    frame = history.scalars([record(1, 0.5), record(2, 0.25)])
    assert list(frame.columns) == ["t", "iteration", "epoch", "lr", "val_mean_loss"]
    assert frame.val_mean_loss.tolist() == [0.5, 0.25]


def test_per_attribute_picks_the_named_columns_in_celeba_order():
    frame = history.per_attribute([record(1, 0.5), record(2, 0.25)], "lambda", ["Young", "Bald"])
    young = ATTRIBUTES.index("Young")
    assert frame[frame.attribute == "Young"]["lambda"].tolist() == [0.5 + young, 0.25 + young]
    assert frame.iteration.tolist() == [10, 10, 20, 20]


def test_unknown_key_or_attribute_is_named():
    with pytest.raises(KeyError, match="'lr' is not a per-attribute"):
        history.per_attribute([record(1, 0.5)], "lr")
    with pytest.raises(KeyError, match="Youth"):
        history.per_attribute([record(1, 0.5)], "tau", ["Youth"])


def test_combine_labels_runs():
    frame = history.combine({"a": history.scalars([record(1, 0.5)]), "b": history.scalars([record(1, 0.7)])})
    assert frame.run.tolist() == ["a", "b"]
