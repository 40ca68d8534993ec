"""Eq. 5 prediction at the boundary and Eq. 6 threshold updates, hand-computed."""

import numpy as np
import pytest
import torch

from dmmlib.thresholds import AdaptiveThresholds, FixedThresholds, make_thresholds, predict


def test_eq5_output_equal_to_tau_is_negative():
    outputs = torch.tensor([[0.5, 0.2, -0.1, 0.11]])
    tau = torch.tensor([0.5, 0.1, -0.1, 0.1])
    assert predict(outputs, tau).tolist() == [[-1, 1, -1, 1]]


def test_eq5_on_numpy_arrays():
    assert predict(np.array([[0.0, 0.3]]), np.array([0.0, 0.2])).tolist() == [[-1, 1]]


def test_eq6_raises_tau_when_false_positives_exceed_false_negatives():
    th = AdaptiveThresholds(1, gamma=0.01)
    # 0 + 0.01 * 3 * (30 - 10) / 100 = 0.006
    th.update(false_positives=[30], false_negatives=[10], num_samples=100, epoch=3)
    assert th.tau.tolist() == pytest.approx([0.006])


def test_eq6_lowers_tau_when_false_negatives_exceed_false_positives():
    th = AdaptiveThresholds(1, gamma=0.01)
    th.update(false_positives=[5], false_negatives=[25], num_samples=100, epoch=3)
    assert th.tau.tolist() == pytest.approx([-0.006])


def test_eq6_accumulates_with_the_current_epoch_as_factor():
    th = AdaptiveThresholds(2, gamma=0.01, initial=0.1)
    th.update([30, 5], [10, 25], 100, epoch=3)  # [0.106, 0.094]
    th.update([0, 0], [50, 0], 100, epoch=4)  # 0.106 + 0.01 * 4 * (-50) / 100 = 0.086
    assert th.tau.tolist() == pytest.approx([0.086, 0.094])


def test_fixed_thresholds_never_move():
    th = FixedThresholds(2)
    th.update([30, 5], [10, 25], 100, epoch=3)
    assert th.tau.tolist() == [0.0, 0.0]


def test_thresholds_state_round_trips():
    th = AdaptiveThresholds(2)
    th.update([30, 5], [10, 25], 100, epoch=3)
    fresh = AdaptiveThresholds(2)
    fresh.load_state_dict(th.state_dict())
    assert torch.equal(fresh.tau, th.tau)


def test_make_thresholds_fixed_is_zero_and_adaptive_starts_at_initial():
    assert make_thresholds("fixed", 3, initial=0.5).tau.tolist() == [0.0, 0.0, 0.0]
    assert make_thresholds("adaptive", 3, initial=0.5).tau.tolist() == [0.5, 0.5, 0.5]


def test_make_thresholds_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="adaptive"):
        make_thresholds("sometimes", 3)
