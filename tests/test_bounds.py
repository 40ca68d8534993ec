"""Accuracy tables show each run between the majority class and the ceiling."""

import numpy as np
import pytest

from dmmlib.lab.bounds import CEILING, GAP, MAJORITY, beside_bounds, per_attribute_beside_bounds
from dmmlib.metrics import attribute_table


def table(correct_fraction: float, ceiling: float | None = 0.95):
    """40 attributes, 10 images, labels +1 on 7 of them; the first ``correct_fraction`` of images answered right."""
    targets = np.where(np.arange(10)[:, None] < 7, 1, -1) * np.ones((10, 40))
    outputs = targets.copy()
    outputs[int(10 * correct_fraction):] *= -1
    frame = attribute_table(outputs, targets, 0.0)
    return frame if ceiling is None else frame.assign(ceiling_accuracy=ceiling)


def test_each_run_sits_between_the_majority_row_and_the_ceiling_row():
    frame = beside_bounds({"good": table(0.9), "poor": table(0.5)})
    assert list(frame.index) == ["good", "poor", MAJORITY, CEILING]
    assert frame.loc["good", "all"] == pytest.approx(0.9)
    assert frame.loc[MAJORITY, "all"] == pytest.approx(0.7)
    assert frame.loc["poor", GAP] == pytest.approx(0.95 - 0.5)
    assert frame.loc[CEILING, GAP] == 0


def test_without_a_ceiling_the_table_has_no_ceiling_row_nor_gap():
    frame = beside_bounds({"run": table(0.9, ceiling=None)})
    assert CEILING not in frame.index and GAP not in frame.columns


def test_per_attribute_tables_carry_the_majority_and_ceiling_columns():
    frame = per_attribute_beside_bounds({"good": table(0.9), "poor": table(0.5, ceiling=None)})
    assert list(frame.columns) == ["good", "poor", MAJORITY, CEILING] and len(frame) == 40
    assert frame["poor"].eq(0.5).all() and frame[MAJORITY].eq(0.7).all() and frame[CEILING].eq(0.95).all()
    assert CEILING not in per_attribute_beside_bounds({"run": table(0.9, ceiling=None)}).columns


def test_fit_diagnosis_tells_an_unlearnt_attribute_from_an_overfit_one():
    from dmmlib.lab.bounds import fit_diagnosis

    train = table(0.7).assign(accuracy=0.9)  # majority rate 0.7 on both splits
    test = table(0.7).assign(accuracy=0.88)
    train.loc[train.index[0], "accuracy"] = 0.705  # answers the majority class even on its own training images
    test.loc[test.index[0], "accuracy"] = 0.70
    train.loc[train.index[1], "accuracy"] = 0.99  # learnt its training images far better than the test images
    diagnosis = fit_diagnosis(train, test)["diagnosis"]
    assert diagnosis[train.index[0]] == "not learnt"
    assert diagnosis[train.index[1]] == "overfits"
    assert (diagnosis.drop(train.index[:2]) == "learnt").all()
    assert fit_diagnosis(train, test).index[0] == train.index[0]  # the largest gap to the ceiling first


def _summary(obj, subj):
    """A mean_table-like frame: (accuracy, majority_accuracy, balanced_accuracy) per group."""
    import pandas as pd

    columns = ["accuracy", "majority_accuracy", "balanced_accuracy"]
    return pd.DataFrame([obj, subj], index=["objective", "subjective"], columns=columns)


def test_group_sentence_does_not_let_imbalance_decide_which_group_is_easier():
    from dmmlib.lab import bounds

    flattered = bounds.group_sentence(_summary((0.90, 0.86, 0.70), (0.85, 0.75, 0.78)))
    assert "Raw accuracy is higher on objective" in flattered
    assert "subjective attributes come out *better*" in flattered  # +4 vs +10 points over the majority class
    easier = bounds.group_sentence(_summary((0.95, 0.86, 0.90), (0.80, 0.75, 0.70)))
    assert "objective attributes are the easier group" in easier
    mixed = bounds.group_sentence(_summary((0.95, 0.86, 0.70), (0.80, 0.75, 0.78)))
    assert "disagree" in mixed
