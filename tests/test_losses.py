"""Eqs. 1-3 against hand-computed values."""

import pytest
import torch

from dmmlib.losses import attribute_losses, joint_loss, landmark_loss


def test_eq2_is_the_mean_squared_error_of_each_attribute():
    pred = torch.tensor([[0.5, -1.0], [1.5, 0.0]])
    target = torch.tensor([[1, -1], [1, 1]], dtype=torch.int8)
    # attribute 0: ((-0.5)^2 + 0.5^2) / 2 = 0.25; attribute 1: (0^2 + 1^2) / 2 = 0.5
    assert attribute_losses(pred, target).tolist() == [0.25, 0.5]


def test_eq1_is_the_mean_over_images_of_the_squared_distance_over_all_coordinates():
    pred = torch.tensor([[0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]])
    target = torch.tensor([[0.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    # image 0: 0 + 1 + 0 + 1 = 2; image 1: 4; mean 3
    assert landmark_loss(pred, target).item() == 3.0


def test_eq1_mask_leaves_out_placeholder_images():
    pred = torch.tensor([[0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]])
    target = torch.zeros(2, 4)
    assert landmark_loss(pred, target, mask=torch.tensor([False, True])).item() == 4.0


def test_eq1_with_every_image_masked_is_zero():
    assert landmark_loss(torch.ones(2, 4), torch.zeros(2, 4), mask=torch.tensor([False, False])).item() == 0.0


def test_eq3_weights_the_attribute_losses_and_adds_beta_times_the_landmark_loss():
    loss = joint_loss(torch.tensor([0.25, 0.5]), torch.tensor([2.0, 4.0]), torch.tensor(3.0), beta=0.5)
    assert loss.item() == pytest.approx(0.5 + 2.0 + 1.5)


def test_eq3_without_a_landmark_task_has_no_beta_term():
    assert joint_loss(torch.tensor([0.25, 0.5]), torch.tensor([2.0, 4.0]), None).item() == pytest.approx(2.5)


def test_losses_are_float32_under_bf16_inputs():
    pred = torch.tensor([[0.5, -1.0]], dtype=torch.bfloat16)
    assert attribute_losses(pred, torch.tensor([[1, -1]])).dtype == torch.float32
