"""Prediction on a user's photo: alignment, Eq. 5 with the run's thresholds, clear errors for bad uploads."""

from __future__ import annotations

import io

import numpy as np
import pytest
import skimage.data
import torch
from PIL import Image

from dmmlib import landmarks, predict
from dmmlib.model import build_model
from dmmlib.suite import paths


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    return build_model("DMM-CNN", backbone="resnet-small", objective_hidden=(8,), subjective_hidden=(8, 8),
                       landmark_hidden=(8,))  # fmt: skip


def test_prediction_applies_eq5_with_the_given_thresholds(tiny_model):
    tau = torch.linspace(-0.2, 0.2, 40)
    result = predict.predict_photo(skimage.data.astronaut(), tiny_model, tau, (64, 52))
    table = result.table
    assert len(table) == 40 and result.aligned.image.shape == (218, 178, 3)
    expected = np.where(table["output"] > table["tau"], 1, -1)
    assert (table["prediction"].to_numpy() == expected).all()
    assert np.allclose(table["tau"], tau.numpy())
    assert result.model_landmarks.shape == (68, 2)


def test_photo_bytes_are_decoded_like_a_file(tiny_model):
    buffer = io.BytesIO()
    Image.fromarray(skimage.data.astronaut()).save(buffer, format="PNG")
    from_bytes = predict.load_photo(buffer.getvalue())
    assert from_bytes.shape == (512, 512, 3)


def test_empty_upload_is_refused():
    with pytest.raises(ValueError, match="empty"):
        predict.load_photo(b"")


def test_bytes_that_are_not_an_image_are_refused():
    with pytest.raises(ValueError, match="not an image"):
        predict.load_photo(b"this is not a photo")


def test_a_missing_photo_path_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.jpg"):
        predict.load_photo(tmp_path / "nowhere.jpg")


def test_a_photo_without_a_face_raises_no_face_found(tiny_model):
    dogs = paths.shared_testdata() / "dogs.jpg"
    if not dogs.exists():
        pytest.skip(f"real test photos not found at {dogs.parent}")
    with pytest.raises(landmarks.NoFaceFound):
        predict.predict_photo(dogs, tiny_model, torch.zeros(40), (64, 52))


def test_source_points_map_back_onto_the_aligned_points(tiny_model):
    from dmmlib.landmarks import shape as landmarks_shape

    result = predict.predict_photo(skimage.data.astronaut(), tiny_model, torch.zeros(40), (64, 52))
    again = landmarks_shape.apply_transform(result.aligned.matrix, result.source_points)
    assert np.allclose(again, result.aligned.points, atol=1e-3)
