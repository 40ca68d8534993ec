"""Parameter counts of the Table 1 variants (built on the meta device) and layer tables."""

from __future__ import annotations

import torch

from dmmlib.lab import model_summary
from dmmlib.model import build_model

# ResNet-50 without avgpool and fc: 23,508,032 parameters (torchvision's 25,557,032 minus 2048 * 1000 + 1000).
RESNET50_TRUNK = 23_508_032
OBJECTIVE = 2048 * 1024 + 1024 + 1024 * 22 + 22
SUBJECTIVE = 14 * 2048 * 2048 + 2048 + 2048 * 1024 + 1024 + 1024 * 18 + 18


def landmark(t: int) -> int:
    return 2048 * 1024 + 1024 + 1024 * 2 * t + 2 * t


def test_dmm_cnn_counts_by_hand():
    table = model_summary.parameter_counts(["DMM-CNN", "Baseline"], num_landmarks=(72, 68)).set_index(["variant", "T"])
    assert (table["trunk"] == RESNET50_TRUNK).all()
    assert table.loc[("DMM-CNN", 72), "parameters"] == RESNET50_TRUNK + OBJECTIVE + SUBJECTIVE + landmark(72)
    assert table.loc[("DMM-CNN", 68), "parameters"] == RESNET50_TRUNK + OBJECTIVE + SUBJECTIVE + landmark(68)
    assert table.loc[("Baseline", 72), "heads"] == 2048 * 40 + 40
    assert table.loc[("Baseline", 72), "landmark outputs"] == 0
    assert abs(table.loc[("DMM-CNN", 72), "fp32 MB"] - 354.85) < 0.01


def test_head_layers_and_output_shapes_of_a_small_model():
    net = build_model("DMM-CNN", "resnet-small", objective_hidden=(8,), subjective_hidden=(16, 8),
                      landmark_hidden=(8,)).eval()  # fmt: skip
    layers = model_summary.head_layers(net)
    linear = layers[layers.type == "Linear"]
    assert linear.set_index("layer").loc["subjective_head.0", "in"] == 14 * 128
    assert linear.parameters.sum() == model_summary.count_parameters(net) - model_summary.count_parameters(net.trunk)
    shapes = model_summary.output_shapes(net, torch.zeros(2, 3, 64, 52, dtype=torch.uint8)).set_index("module")
    assert shapes.loc["trunk.layer4", "output shape"] == (2, 128, 4, 4)
    assert shapes.loc["subjective_head", "output shape"] == (2, 18)
    assert shapes.loc["landmark_head", "output shape"] == (2, 136)
    assert not net.trunk._forward_hooks  # hooks removed
