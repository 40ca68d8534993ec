"""Faces picked for the figures of notebook 01: positives of an attribute, LFW's two versions."""

from __future__ import annotations

import numpy as np
import pytest
from data_fixtures import synthetic_celeba, synthetic_lfwa  # noqa: F401 - fixtures

from dmmlib.attributes import ATTRIBUTES
from dmmlib.data.celeba import CelebA
from dmmlib.lab import gallery


def test_positive_examples_are_positive_and_reproducible(synthetic_celeba):  # noqa: F811
    data = CelebA(synthetic_celeba, "all")
    images, captions = gallery.positive_examples(data, ["Male", "Smiling"], per_attribute=2, seed=3)
    assert len(images) == len(captions) == 4
    assert images[0].shape == (218, 178, 3) and images[0].dtype == np.uint8
    assert captions[0].startswith("Male (objective)") and captions[2].startswith("Smiling (subjective)")
    for caption in captions:
        name, filename = caption.split(" (")[0], caption.split("\n")[1]
        row = data.filenames.index(filename)
        assert data.attributes[row, ATTRIBUTES.index(name)] == 1
    again = gallery.positive_examples(data, ["Male", "Smiling"], per_attribute=2, seed=3)[1]
    assert again == captions


def test_positive_examples_refuse_unknown_attributes(synthetic_celeba):  # noqa: F811
    with pytest.raises(ValueError, match="unknown attribute 'Smile'"):
        gallery.positive_examples(CelebA(synthetic_celeba, "all"), ["Smile"])


def test_lfwa_versions_alternate_original_and_deep_funneled(synthetic_lfwa):  # noqa: F811
    images, captions = gallery.lfwa_versions(synthetic_lfwa, count=3)
    assert len(images) == 6 and images[0].shape == (250, 250, 3)
    assert [c.split("\n")[0] for c in captions] == ["original", "deep-funneled"] * 3
    assert captions[0].split("\n")[1] == captions[1].split("\n")[1]  # the same picture, two versions
    assert not np.array_equal(images[0], images[1])
