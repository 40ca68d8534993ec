"""The side-by-side timing of notebook 02 on CelebA-like crops of dlib's real example faces."""

from __future__ import annotations

import pytest

from dmmlib.lab import landmark_timing
from dmmlib.suite.paths import shared_testdata


@pytest.fixture(scope="module")
def crops():
    folder = shared_testdata()
    if not (folder / landmark_timing.TESTING_XML).is_file():
        pytest.skip(f"real face photos not found in {folder} (see DESIGN.md section 6)")
    return landmark_timing.aligned_real_faces(folder, limit=3)


def test_crops_look_like_celeba(crops):
    assert len(crops) == 3
    image, five = crops[0]
    assert image.shape == (218, 178, 3) and five.shape == (5, 2)
    assert abs(five[0, 1] - 111) < 2 and abs(five[1, 1] - 111) < 2  # eyes on CelebA's eye line


def test_time_paths_table(crops):
    table = landmark_timing.time_paths(crops, repeats=1)
    assert list(table.columns) == ["five-point box (ms)", "HOG detector (ms)", "ratio", "point difference (px)",
                                   "fast-path source"]  # fmt: skip
    assert (table["five-point box (ms)"] > 0).all()
    assert (table["fast-path source"] == "FIVE_POINT_BOX").all()
    assert (table["point difference (px)"] < 3).all()


def test_time_paths_refuses_nothing():
    with pytest.raises(ValueError, match="no faces"):
        landmark_timing.time_paths([])
