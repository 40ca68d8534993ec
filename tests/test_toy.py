"""Toy inputs of notebook 04: loss sequences, the weighting schemes fed with them, simulated outputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dmmlib import weighting
from dmmlib.lab import toy


def test_loss_sequence_decays_to_its_floors():
    losses = toy.loss_sequence(200, start=(1.0, 0.8), floor=(0.1, 0.5), rate=(0.5, 0.1), noise=0.0)
    assert losses.shape == (200, 2)
    np.testing.assert_allclose(losses[0], [1.0, 0.8])
    np.testing.assert_allclose(losses[-1], [0.1, 0.5], atol=1e-6)
    assert (np.diff(losses, axis=0) <= 0).all()


def test_loss_sequence_checks_its_arguments():
    with pytest.raises(ValueError, match="one value per attribute"):
        toy.loss_sequence(5, start=(1.0,), floor=(0.1, 0.2), rate=(0.1, 0.1))


def test_weight_trajectories_reproduce_each_scheme_by_hand():
    losses = np.array([[0.5, 0.4], [0.4, 0.5], [0.3, 0.5]])
    frame = toy.weight_trajectories(losses, ["a", "b"])
    assert len(frame) == 4 * 3 * 2
    ours = frame[frame.scheme == "ours (Eq. 4)"].pivot(index="update", columns="attribute", values="lambda")
    np.testing.assert_allclose(ours.loc[1], [1.0, 1.0])  # Eq. 4 needs two passes
    np.testing.assert_allclose(ours.loc[2], [0.2, 0.25], rtol=1e-6)  # |0.4-0.5|/0.5, |0.5-0.4|/0.4
    np.testing.assert_allclose(ours.loc[3], [0.25, 0.0], rtol=1e-6, atol=1e-7)
    dwa = frame[frame.scheme == "DWA"].pivot(index="update", columns="attribute", values="lambda")
    reference = weighting.DWAWeighting(2)
    for row in losses[:2]:
        expected = reference.update(torch.tensor(row))
    np.testing.assert_allclose(dwa.loc[2], expected.numpy(), rtol=1e-6)
    assert (frame[frame.scheme == "UW"]["lambda"] == 1.0).all()


def test_simulated_outputs_separate_the_classes():
    labels = np.where(np.random.default_rng(0).random((4000, 2)) < 0.3, 1, -1)
    outputs = toy.simulated_outputs(labels, separation=0.6, noise=0.5, seed=1)
    assert outputs.shape == labels.shape and outputs.dtype == np.float32
    assert abs(outputs[labels > 0].mean() - 0.6) < 0.05 and abs(outputs[labels < 0].mean() + 0.6) < 0.05
    np.testing.assert_array_equal(outputs, toy.simulated_outputs(labels, 0.6, 0.5, seed=1))
