"""The paper's reported numbers load from package data, with sources, and agree with one another."""

from __future__ import annotations

import pytest

from dmmlib import attributes
from dmmlib.lab import paper


def test_table2_has_the_four_schemes_with_sources():
    frame = paper.table2()
    assert list(frame.scheme) == ["UW", "DWA", "AW", "ours"]
    assert frame.set_index("scheme").loc["ours", "celeba_mean_accuracy"] == 91.70
    assert frame.source.str.len().min() > 0


def test_dmmcnn_per_attribute_mean_recomputes_to_the_reported_mean():
    frame = paper.dmmcnn_celeba_per_attribute()
    assert list(frame.attribute) == list(attributes.ATTRIBUTES)
    assert frame.accuracy.mean() == pytest.approx(paper.mean_accuracy("DMM-CNN", "CelebA"), abs=0.005)


def test_table2_ours_equals_table3_dmmcnn_means():
    ours = paper.table2().set_index("scheme").loc["ours"]
    assert ours.celeba_mean_accuracy == paper.mean_accuracy("DMM-CNN", "CelebA")
    assert ours.lfwa_mean_accuracy == paper.mean_accuracy("DMM-CNN", "LFWA")


def test_unknown_mean_is_a_key_error_not_zero():
    with pytest.raises(KeyError, match="reports no mean"):
        paper.mean_accuracy("PANDA", "CelebA")


def test_attribute_frequencies_are_fractions_in_celeba_order():
    freq = paper.attribute_frequencies()
    assert list(freq.index) == list(attributes.ATTRIBUTES)
    assert freq["Bald"] == pytest.approx(0.0224, abs=5e-4)
    assert freq["Young"] == pytest.approx(0.7736, abs=5e-4)
