"""Per-attribute metrics on hand-checked examples."""

import numpy as np
import pytest
import torch

from dmmlib.attributes import ATTRIBUTES, PAPER_GROUPS
from dmmlib.metrics import (
    accuracy,
    attribute_table,
    balanced_accuracy,
    false_positive_negative_counts,
    majority_accuracy,
    mean_table,
)


def _example():
    """4 images; column 0 has labels [+, +, -, -] and outputs [0.9, -0.2, 0.3, -0.5]; other columns are right."""
    targets = np.ones((4, 40))
    targets[2:] = -1
    outputs = targets * 0.7
    outputs[:, 0] = [0.9, -0.2, 0.3, -0.5]
    return outputs, targets


def test_false_positive_and_negative_counts_per_attribute():
    outputs = torch.tensor([[0.9, 0.1], [-0.2, 0.1], [0.3, -0.4], [-0.5, 0.0]])
    targets = torch.tensor([[1, 1], [1, -1], [-1, -1], [-1, 1]])
    fp, fn = false_positive_negative_counts(outputs, targets, torch.tensor([0.0, 0.0]))
    assert fp.tolist() == [1, 1] and fn.tolist() == [1, 1]


def test_counts_use_the_thresholds():
    outputs = torch.tensor([[0.9, 0.1], [-0.2, 0.1], [0.3, -0.4], [-0.5, 0.0]])
    targets = torch.tensor([[1, 1], [1, -1], [-1, -1], [-1, 1]])
    fp, fn = false_positive_negative_counts(outputs, targets, torch.tensor([0.5, -0.5]))
    assert fp.tolist() == [0, 2] and fn.tolist() == [1, 0]


def test_accuracy_per_attribute():
    outputs, targets = _example()
    acc = accuracy(outputs, targets, 0.0)
    assert acc[0] == 0.5 and acc[1:].tolist() == [1.0] * 39


def test_balanced_accuracy_averages_the_true_positive_and_true_negative_rates():
    outputs = np.array([[0.9], [-0.2], [0.1], [0.3], [-0.5]])
    targets = np.array([[1], [1], [1], [-1], [-1]])
    # predicted positive: 0.9, 0.1, 0.3 -> TPR 2/3 (two of three positives), TNR 1/2 (one of two negatives)
    assert balanced_accuracy(outputs, targets, 0.0)[0] == pytest.approx((2 / 3 + 1 / 2) / 2)


def test_balanced_accuracy_is_undefined_for_an_attribute_with_one_class():
    assert np.isnan(balanced_accuracy(np.array([[0.4], [-0.3]]), np.array([[1], [1]]), 0.0)[0])


def test_table_metrics_of_one_attribute():
    outputs, targets = _example()
    row = attribute_table(outputs, targets).loc[ATTRIBUTES[0]]
    # predictions [+, -, +, -]: TP 1, FN 1, FP 1, TN 1
    assert row["accuracy"] == 0.5
    assert row["balanced_accuracy"] == 0.5
    assert row["f1"] == 0.5
    # ranking by output: +, -, +, -  ->  precision 1/1 and 2/3 at the two positives
    assert row["average_precision"] == pytest.approx((1 + 2 / 3) / 2)
    assert row["positive_rate"] == 0.5


def test_majority_accuracy_predicts_the_reference_majority():
    targets = np.array([[1, -1], [1, -1], [-1, -1], [1, 1]])
    assert majority_accuracy(targets).tolist() == [0.75, 0.75]
    reference = np.array([[-1, 1], [-1, 1], [-1, 1]])
    assert majority_accuracy(targets, reference).tolist() == [0.25, 0.25]


def test_group_means_average_the_group_rows():
    outputs, targets = _example()
    means = mean_table(attribute_table(outputs, targets))
    assert ATTRIBUTES[0] in PAPER_GROUPS.objective  # 5_o_Clock_Shadow
    assert means.loc["objective", "accuracy"] == pytest.approx((21 + 0.5) / 22)
    assert means.loc["subjective", "accuracy"] == 1.0
    assert means.loc["all", "accuracy"] == pytest.approx(39.5 / 40)


def test_mean_table_gives_the_gap_to_a_ceiling_column():
    outputs, targets = _example()
    table = attribute_table(outputs, targets, 0.0).assign(ceiling_accuracy=0.9)
    means = mean_table(table)
    assert means.loc["all", "gap_to_ceiling"] == pytest.approx(0.9 - means.loc["all", "accuracy"])
    assert "gap_to_ceiling" not in mean_table(attribute_table(outputs, targets, 0.0))
