"""Spatial pyramid pooling: output sizes and values against a hand-computed max over each bin."""

import pytest
import torch

from dmmlib.spp import SpatialPyramidPooling


def test_one_level_gives_one_feature_per_channel():
    assert SpatialPyramidPooling(1)(torch.randn(2, 5, 7, 6)).shape == (2, 5)


def test_three_levels_give_fourteen_features_per_channel():
    assert SpatialPyramidPooling(3)(torch.randn(2, 5, 7, 6)).shape == (2, 70)


def test_output_features_of_the_paper_subjective_branch_is_28672():
    assert SpatialPyramidPooling(3).output_features(2048) == 28_672


def test_values_are_the_max_over_each_bin_level_by_level():
    # 3 x 4 map 0..11. Level 2 bins: rows [0,2) and [1,3), columns [0,2) and [2,4).
    # Level 3 bins: rows {0}, {1}, {2}; columns [0,2), [1,3), [2,4).
    x = torch.arange(12.0).view(1, 1, 3, 4)
    expected = [11, 5, 7, 9, 11, 1, 2, 3, 5, 6, 7, 9, 10, 11]
    assert SpatialPyramidPooling(3)(x)[0].tolist() == expected


def test_values_when_the_maximum_is_not_the_last_cell_of_a_bin():
    x = -torch.arange(12.0).view(1, 1, 3, 4)
    expected = [0, 0, -2, -4, -6, 0, -1, -2, -4, -5, -6, -8, -9, -10]
    assert SpatialPyramidPooling(3)(x)[0].tolist() == expected


def test_a_2x2_map_smaller_than_the_3x3_grid_shares_cells_between_bins():
    # For n = 2 and k = 3 the bins along an axis are {0}, {0, 1}, {1}.
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).view(1, 1, 2, 2)
    expected = [4, 1, 2, 3, 4, 1, 2, 2, 3, 4, 4, 3, 4, 4]
    assert SpatialPyramidPooling(3)(x)[0].tolist() == expected


def test_a_1x1_map_repeats_its_value_in_every_bin():
    assert SpatialPyramidPooling(3)(torch.full((1, 1, 1, 1), 7.0))[0].tolist() == [7.0] * 14


def test_features_within_a_level_are_ordered_channel_major():
    base = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    x = torch.stack([base, base + 100]).unsqueeze(0)
    assert SpatialPyramidPooling(2)(x)[0].tolist() == [4, 104, 1, 2, 3, 4, 101, 102, 103, 104]


def test_zero_levels_are_rejected():
    with pytest.raises(ValueError):
        SpatialPyramidPooling(0)
