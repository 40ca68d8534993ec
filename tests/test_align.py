"""Specification of dmmlib.align: any face photo to CelebA's 178 x 218 template by a similarity transform."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dmmlib import align as align_module
from dmmlib.align import (
    CELEBA_ANCHORS_3,
    CELEBA_SIZE,
    CELEBA_TEMPLATE_5,
    NoFaceFound,
    align_face,
    align_face_with_landmarks,
    template_transform,
)
from dmmlib.landmarks import landmarks_for_image, load_xml_annotations
from dmmlib.landmarks.schema import LandmarkSource
from dmmlib.landmarks.shape import apply_transform, five_points_from_68
from dmmlib.suite.paths import shared_testdata

EYE_TOLERANCE_PX = 3.0


@pytest.fixture(scope="module")
def testdata() -> Path:
    folder = shared_testdata()
    if not (folder / "testing_with_face_landmarks.xml").is_file():
        pytest.skip(
            f"real face photos not found in {folder} (set DMM_SHARED_TESTDATA or see DESIGN.md section 6)"
        )
    return folder


def shifted_template(dx: float, dy: float) -> np.ndarray:
    return CELEBA_TEMPLATE_5 + np.array([dx, dy])


def test_template_points_map_onto_themselves():
    np.testing.assert_allclose(template_transform(CELEBA_TEMPLATE_5, method="five"), np.eye(2, 3), atol=1e-9)


def test_celeba_method_puts_eyes_and_mouth_centre_on_celebas_anchors():
    five = CELEBA_TEMPLATE_5.copy()
    five[3:, 1] += 0.514  # mouth corners whose midpoint is exactly CelebA's mouth anchor
    five[3:, 0] += CELEBA_ANCHORS_3[2, 0] - five[3:, 0].mean()
    matrix = template_transform(five * 3 + 40, method="celeba")
    np.testing.assert_allclose(apply_transform(matrix, five * 3 + 40)[:2], CELEBA_ANCHORS_3[:2], atol=1e-3)


def test_default_fit_weights_the_eyes_and_puts_them_nearer_the_template_than_the_mouth():
    five = CELEBA_TEMPLATE_5.copy()
    five[3:, 1] += 12.0  # a long face: the mouth corners 12 px lower than the template's
    aligned = apply_transform(template_transform(five), five)
    eye_error = np.linalg.norm(aligned[:2] - CELEBA_TEMPLATE_5[:2], axis=1).max()
    mouth_error = np.linalg.norm(aligned[3:] - CELEBA_TEMPLATE_5[3:], axis=1).max()
    equal = apply_transform(template_transform(five, method="five"), five)
    assert eye_error < 1.0 and eye_error < np.linalg.norm(equal[:2] - CELEBA_TEMPLATE_5[:2], axis=1).max() / 3
    assert mouth_error > 5.0


def test_a_translated_face_is_shifted_back_pixel_for_pixel():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (300, 260, 3), dtype=np.uint8)
    crop = align_face(image, five_points=shifted_template(30, 40), method="five")
    assert crop.shape == (*CELEBA_SIZE, 3) and crop.dtype == np.uint8
    np.testing.assert_array_equal(crop, image[40 : 40 + 218, 30 : 30 + 178])


def test_other_sizes_scale_the_template_uniformly():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (300, 260, 3), dtype=np.uint8)
    assert align_face(image, five_points=shifted_template(30, 40), size=(109, 89)).shape == (109, 89, 3)


def test_bad_size_and_method_are_refused_with_the_parameter_named():
    image = np.zeros((300, 260, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="size"):
        align_face(image, five_points=CELEBA_TEMPLATE_5, size=(0, 10))
    with pytest.raises(ValueError, match="method"):
        align_face(image, five_points=CELEBA_TEMPLATE_5, method="affine")
    with pytest.raises(ValueError, match="five_points"):
        align_face(image, five_points=np.zeros((4, 2)))


def test_the_crop_is_resampled_from_the_face_region_alone_with_the_whole_photos_pixels():
    from skimage.transform import AffineTransform, warp

    rng = np.random.default_rng(2)
    photo = rng.integers(0, 256, (900, 700, 3), dtype=np.uint8)
    for scale, shift in ((0.6, (300, 420)), (1.7, (40, 600))):  # a large face, a small one near the bottom edge
        matrix = template_transform(CELEBA_TEMPLATE_5 / scale + np.array(shift))
        whole = warp(photo, AffineTransform(matrix=np.linalg.inv(np.vstack([matrix, [0, 0, 1]]))),
                     output_shape=CELEBA_SIZE, order=3, mode="edge", preserve_range=True, clip=False)  # fmt: skip
        expected = np.clip(np.rint(whole), 0, 255).astype(np.uint8)
        np.testing.assert_array_equal(align_face(photo, five_points=CELEBA_TEMPLATE_5 / scale + np.array(shift)),
                                      expected)  # fmt: skip


def test_given_five_points_need_no_landmark_model(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("no model should run when five points are given")

    monkeypatch.setattr(align_module, "predict_landmarks", forbidden)
    monkeypatch.setattr(align_module, "find_faces", forbidden)
    align_face(np.zeros((300, 260, 3), dtype=np.uint8), five_points=shifted_template(10, 10))


@pytest.fixture(scope="module")
def eye_errors(testdata) -> dict[str, np.ndarray]:
    """Per real face, the larger of its two eye-centre distances (px) from CelebA's eye anchors after alignment:
    of the annotated points carried into the crop, and of points re-predicted on the crop by the detector path."""
    carried, repredicted = [], []
    for name in ("training_with_face_landmarks.xml", "testing_with_face_landmarks.xml"):
        for face in load_xml_annotations(testdata / name):
            aligned = align_face_with_landmarks(face.image, five_points=five_points_from_68(face.points))
            points, source = landmarks_for_image(aligned.image)
            assert source == LandmarkSource.DETECTOR
            carried.append(np.linalg.norm(aligned.five[:2] - CELEBA_ANCHORS_3[:2], axis=1).max())
            repredicted.append(
                np.linalg.norm(five_points_from_68(points)[:2] - CELEBA_ANCHORS_3[:2], axis=1).max()
            )
    return {"carried": np.array(carried), "repredicted": np.array(repredicted)}


@pytest.mark.realfaces
def test_aligned_real_faces_carry_both_eyes_within_3_px_of_the_template(eye_errors):
    errors = eye_errors["carried"]
    assert len(errors) == 43
    assert errors.max() <= EYE_TOLERANCE_PX and errors.mean() < 1.0, np.round(np.sort(errors), 2)


# Re-predicting on the crop adds dlib's own error (about 1 px here) to the alignment's.
@pytest.mark.realfaces
def test_eyes_re_predicted_on_aligned_real_faces_sit_on_the_template(eye_errors):
    errors = eye_errors["repredicted"]
    assert errors.mean() < 1.5 and (errors <= EYE_TOLERANCE_PX).mean() >= 0.9, np.round(np.sort(errors), 2)
    assert errors.max() <= 2 * EYE_TOLERANCE_PX, np.round(np.sort(errors), 2)


@pytest.mark.realfaces
def test_celebas_own_three_point_fit_keeps_the_mouth_nearer_its_anchor(testdata):
    faces = load_xml_annotations(testdata / "testing_with_face_landmarks.xml")
    mouth = {method: [] for method in ("eyes", "celeba")}
    for face in faces:
        for method in mouth:
            five = align_face_with_landmarks(
                face.image, five_points=five_points_from_68(face.points), method=method
            ).five
            mouth[method].append(np.linalg.norm(five[3:].mean(axis=0) - CELEBA_ANCHORS_3[2]))
    assert np.mean(mouth["celeba"]) < np.mean(mouth["eyes"]), mouth


@pytest.mark.realfaces
def test_a_photo_is_aligned_from_its_largest_detected_face(testdata):
    aligned = align_face_with_landmarks(testdata / "Tom_Cruise_avp_2014_4.jpg")
    assert aligned.image.shape == (*CELEBA_SIZE, 3)
    assert aligned.source == LandmarkSource.DETECTOR
    np.testing.assert_allclose(five_points_from_68(aligned.points), aligned.five, atol=1e-3)
    np.testing.assert_allclose(aligned.five[:2], CELEBA_ANCHORS_3[:2], atol=EYE_TOLERANCE_PX)
    repredicted, _ = landmarks_for_image(aligned.image)
    assert np.linalg.norm(repredicted - aligned.points, axis=1).mean() < EYE_TOLERANCE_PX


@pytest.mark.realfaces
def test_a_photo_without_a_face_raises_no_face_found_naming_it(testdata):
    with pytest.raises(NoFaceFound, match=r"dogs\.jpg.*frontal, well-lit face"):
        align_face(testdata / "dogs.jpg")
