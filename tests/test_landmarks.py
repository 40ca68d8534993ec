"""Specification of dmmlib.landmarks: dlib's 68 points from a five-point box or the detector, and their cache."""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import dmmlib.landmarks
from dmmlib.landmarks import cache as landmarks_cache
from dmmlib.landmarks import extract
from dmmlib.landmarks.cache import NO_FACE, cached_dataset_landmarks, mean_shape_for_no_face
from dmmlib.landmarks.dlib_xml import AnnotatedFace, load_xml_annotations
from dmmlib.landmarks.extract import (
    NoFaceFound,
    box_from_five_points,
    calibrate_five_point_box,
    detect_faces,
    landmarks_for_image,
    load_image,
    model_path,
    predict_landmarks,
)
from dmmlib.landmarks.schema import FLIP_PERMUTATION, LandmarkSource, flip_pixels
from dmmlib.landmarks.shape import (
    MEAN_SHAPE_68,
    apply_transform,
    compute_mean_shape,
    five_points_from_68,
    place_mean_shape,
    similarity_transform,
)
from dmmlib.suite.paths import shared_testdata

XMLS = ("training_with_face_landmarks.xml", "testing_with_face_landmarks.xml")
#: Five points of an aligned CelebA face (pixels), for tests that need a plausible face frame.
CELEBA_FIVE = np.array([[70, 111], [108, 111], [89, 134], [72, 152], [106, 152]], dtype=np.float32)


@pytest.fixture(scope="module")
def testdata() -> Path:
    folder = shared_testdata()
    if not (folder / XMLS[0]).is_file():
        pytest.skip(
            f"real face photos not found in {folder} (set DMM_SHARED_TESTDATA or see DESIGN.md section 6)"
        )
    return folder


@pytest.fixture(scope="module")
def annotated(testdata: Path) -> list[AnnotatedFace]:
    return [face for name in XMLS for face in load_xml_annotations(testdata / name)]


@pytest.fixture(scope="module")
def aligned_crops(annotated) -> list[tuple[np.ndarray, np.ndarray]]:
    """CelebA-like 178 x 218 crops of six real faces (CelebA's own three-point fit), with their five points carried
    into the crop."""
    from dmmlib.align import align_face_with_landmarks

    crops = []
    for face in annotated[::7]:
        aligned = align_face_with_landmarks(
            face.image, five_points=five_points_from_68(face.points), method="celeba"
        )
        crops.append((aligned.image, aligned.five))
    return crops


def iou(a, b) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0]) + 1
    height = min(a[3], b[3]) - max(a[1], b[1]) + 1
    inter = max(0, width) * max(0, height)

    def area(r):
        return (r[2] - r[0] + 1) * (r[3] - r[1] + 1)

    return inter / (area(a) + area(b) - inter)


# --- the model file -------------------------------------------------------------------------------------------


def test_model_is_found_inside_face_recognition_models_without_importing_it():
    path = model_path()
    assert path.is_file() and path.name == "shape_predictor_68_face_landmarks.dat"
    assert "face_recognition_models" not in __import__("sys").modules


def test_missing_model_package_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="pip install face-recognition-models"):
        model_path()


# --- geometry without the model -------------------------------------------------------------------------------


def test_five_points_follow_celeba_order_with_left_on_the_image_left():
    five = five_points_from_68(MEAN_SHAPE_68)
    assert five.shape == (5, 2)
    np.testing.assert_allclose(five[0], MEAN_SHAPE_68[36:42].mean(axis=0), atol=1e-6)
    np.testing.assert_allclose(five[1], MEAN_SHAPE_68[42:48].mean(axis=0), atol=1e-6)
    np.testing.assert_allclose(five[2:], MEAN_SHAPE_68[[30, 48, 54]], atol=1e-6)
    assert five[0, 0] < five[1, 0] and five[3, 0] < five[4, 0]


def test_five_points_work_on_batches():
    batch = np.stack([MEAN_SHAPE_68, MEAN_SHAPE_68 + 1])
    assert five_points_from_68(batch).shape == (2, 5, 2)


def test_similarity_transform_recovers_a_known_rotation_scale_and_shift():
    angle, scale, shift = 0.3, 2.5, np.array([10.0, -4.0])
    matrix = np.array(
        [
            [scale * np.cos(angle), -scale * np.sin(angle), shift[0]],
            [scale * np.sin(angle), scale * np.cos(angle), shift[1]],
        ]
    )
    src = MEAN_SHAPE_68.astype(np.float64)
    np.testing.assert_allclose(similarity_transform(src, apply_transform(matrix, src)), matrix, atol=1e-4)


def test_similarity_transform_never_reflects():
    mirrored = MEAN_SHAPE_68 * np.array([-1.0, 1.0])
    assert np.linalg.det(similarity_transform(MEAN_SHAPE_68, mirrored)[:, :2]) > 0


def test_an_integer_weight_counts_like_a_repeated_point():
    src = np.array([[0.0, 0.0], [4.0, 0.0], [2.0, 5.0]])
    dst = np.array([[1.0, 1.0], [6.0, 2.0], [2.0, 7.0]])
    repeated = similarity_transform(np.vstack([src, src[:1]]), np.vstack([dst, dst[:1]]))
    np.testing.assert_allclose(similarity_transform(src, dst, weights=np.array([2.0, 1.0, 1.0])), repeated)


def test_heavily_weighted_points_are_matched_almost_exactly():
    src = np.array([[0.0, 0.0], [4.0, 0.0], [2.0, 5.0]])
    dst = np.array([[1.0, 1.0], [5.0, 1.0], [3.0, 9.0]])  # the third point does not fit a similarity
    fitted = apply_transform(similarity_transform(src, dst, weights=np.array([1e6, 1e6, 1.0])), src)
    np.testing.assert_allclose(fitted[:2], dst[:2], atol=1e-4)


def test_bad_weights_are_refused_naming_them():
    with pytest.raises(ValueError, match="weights"):
        similarity_transform(MEAN_SHAPE_68, MEAN_SHAPE_68, weights=np.zeros(68))


def test_mean_shape_is_in_the_unit_eye_frame_and_left_right_symmetric():
    np.testing.assert_allclose(five_points_from_68(MEAN_SHAPE_68)[:2], [[-0.5, 0.0], [0.5, 0.0]], atol=1e-4)
    mirrored = MEAN_SHAPE_68[FLIP_PERMUTATION] * np.array([-1.0, 1.0])
    np.testing.assert_allclose(mirrored, MEAN_SHAPE_68, atol=1e-4)


def test_mean_shape_is_placed_by_five_points():
    five = np.array([[70, 111], [108, 111], [89, 134], [72, 152], [106, 152]], dtype=np.float32)
    placed = place_mean_shape(five)
    assert placed.shape == (68, 2)
    np.testing.assert_allclose(five_points_from_68(placed), five, atol=4.0)


def test_five_point_box_scales_and_moves_with_the_face():
    five = np.array([[70, 111], [108, 111], [89, 134], [72, 152], [106, 152]], dtype=np.float64)
    left, top, right, bottom = box_from_five_points(five)
    assert left < 70 and right > 108 and top < 111 and bottom > 152
    bigger = box_from_five_points(five * 2 + 50)
    np.testing.assert_allclose(bigger, np.array([left, top, right, bottom]) * 2 + 50, atol=3)


def test_five_point_box_rejects_points_in_the_wrong_order():
    upside_down = np.array([[70, 152], [108, 152], [89, 134], [72, 111], [106, 111]], dtype=np.float64)
    with pytest.raises(ValueError, match="lefteye, righteye, nose, leftmouth, rightmouth"):
        box_from_five_points(upside_down)


def test_calibration_recovers_the_constants_that_made_the_boxes():
    rng = np.random.default_rng(0)
    fives = np.array([[70, 111], [108, 111], [89, 134], [72, 152], [106, 152]]) * rng.uniform(
        0.5, 3, (20, 1, 1)
    )
    fives = fives + rng.uniform(0, 100, (20, 1, 2))
    boxes = np.array([box_from_five_points(f) for f in fives])
    fitted = calibrate_five_point_box(fives, boxes)
    assert fitted["BOX_SCALE"] == pytest.approx(extract.BOX_SCALE, rel=0.02)
    assert fitted["BOX_SHIFT_Y"] == pytest.approx(extract.BOX_SHIFT_Y, abs=0.01)


def test_images_must_be_uint8_rgb():
    with pytest.raises(ValueError, match="uint8"):
        load_image(np.zeros((10, 10, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        load_image(np.zeros((10, 10, 4), dtype=np.uint8))
    with pytest.raises(FileNotFoundError, match="nowhere.jpg"):
        load_image("nowhere.jpg")
    assert load_image(np.zeros((4, 5), dtype=np.uint8)).shape == (4, 5, 3)


def test_predict_refuses_an_empty_box():
    with pytest.raises(ValueError, match="box"):
        predict_landmarks(np.zeros((50, 50, 3), dtype=np.uint8), (30, 30, 10, 40))


def test_no_face_found_is_a_value_error():
    assert issubclass(NoFaceFound, ValueError)


def test_fast_path_that_loses_the_face_falls_back_to_the_mean_shape(monkeypatch):
    five = np.array([[70, 111], [108, 111], [89, 134], [72, 152], [106, 152]], dtype=np.float32)
    monkeypatch.setattr(extract, "predict_landmarks", lambda image, box: np.zeros((68, 2), np.float32))
    monkeypatch.setattr(extract, "detect_faces", lambda image, upsample=0: [])
    points, source = landmarks_for_image(np.zeros((218, 178, 3), np.uint8), five)
    assert source == LandmarkSource.MEAN_SHAPE
    np.testing.assert_allclose(points, place_mean_shape(five))


def test_images_without_a_face_get_the_mean_shape_at_the_mean_five_points_of_the_others():
    faces = np.stack([place_mean_shape(CELEBA_FIVE + shift) for shift in (-4.0, 4.0)])
    points = np.concatenate([faces, np.full((1, 68, 2), np.nan, np.float32)])
    sources = np.array([LandmarkSource.DETECTOR, LandmarkSource.DETECTOR, NO_FACE], dtype=np.int8)
    filled, filled_sources = mean_shape_for_no_face(points, sources)
    np.testing.assert_allclose(filled[2], place_mean_shape(CELEBA_FIVE), atol=1e-3)
    assert filled_sources.tolist() == [LandmarkSource.DETECTOR, LandmarkSource.DETECTOR, LandmarkSource.MEAN_SHAPE]
    assert np.isnan(points[2]).all() and sources[2] == NO_FACE, "the inputs are left as they were"


def test_without_any_face_the_placeholders_stay_nan_but_are_marked_mean_shape():
    filled, sources = mean_shape_for_no_face(np.full((2, 68, 2), np.nan), np.full(2, NO_FACE))
    assert np.isnan(filled).all() and (sources == LandmarkSource.MEAN_SHAPE).all()


# --- real faces ----------------------------------------------------------------------------------------------


@pytest.mark.realfaces
def test_mean_shape_table_matches_its_recomputation_from_the_xml(annotated):
    recomputed = compute_mean_shape(np.stack([face.points for face in annotated]))
    np.testing.assert_allclose(MEAN_SHAPE_68, recomputed, atol=1e-4)


@pytest.mark.realfaces
def test_predictor_reproduces_dlibs_published_points_inside_the_annotated_boxes(annotated):
    errors = [
        np.linalg.norm(predict_landmarks(face.image, face.box) - face.points, axis=1).mean()
        for face in annotated
    ]
    assert len(errors) == 43
    assert max(errors) < 1.5, f"mean error per face (px): {np.round(errors, 2)}"


@pytest.mark.realfaces
def test_detector_finds_every_annotated_face_when_upsampled_once(annotated):
    found: dict[Path, list] = {}
    missed = []
    for face in annotated:
        boxes = found.setdefault(face.image, detect_faces(face.image, upsample=1))
        if max((iou(face.box, b) for b in boxes), default=0.0) <= 0.5:
            missed.append((face.image.name, face.box))
    assert not missed, f"annotated faces without a detector box of IoU > 0.5: {missed}"


@pytest.mark.realfaces
def test_predictions_on_a_mirrored_face_are_the_flip_permutation_of_the_originals(annotated):
    errors = []
    for face in annotated:
        image = load_image(face.image)
        width = image.shape[1]
        left, top, right, bottom = face.box
        mirrored = predict_landmarks(
            np.ascontiguousarray(image[:, ::-1]), (width - 1 - right, top, width - 1 - left, bottom)
        )
        original = predict_landmarks(image, face.box)
        errors.append(np.linalg.norm(mirrored - flip_pixels(original, width), axis=1).mean())
    assert np.mean(errors) < 1.0 and max(errors) < 4.0, f"mean error per face (px): {np.round(errors, 2)}"


@pytest.mark.realfaces
def test_five_point_box_and_detector_agree_on_aligned_faces(aligned_crops):
    for crop, five in aligned_crops:
        fast, fast_source = landmarks_for_image(crop, five)
        slow, slow_source = landmarks_for_image(crop)
        assert (fast_source, slow_source) == (LandmarkSource.FIVE_POINT_BOX, LandmarkSource.DETECTOR)
        assert np.linalg.norm(fast - slow, axis=1).mean() < 2.0


@pytest.mark.realfaces
def test_image_without_a_face_and_without_five_points_raises_no_face_found(testdata):
    with pytest.raises(NoFaceFound, match="dogs.jpg"):
        landmarks_for_image(testdata / "dogs.jpg")


# --- the dataset cache ------------------------------------------------------------------------------------------


@pytest.fixture
def crop_files(aligned_crops, tmp_path) -> tuple[list[Path], np.ndarray]:
    folder = tmp_path / "images"
    folder.mkdir()
    paths = []
    for i, (crop, _) in enumerate(aligned_crops):
        paths.append(folder / f"{i:06d}.png")
        Image.fromarray(crop).save(paths[-1])
    return paths, np.stack([five for _, five in aligned_crops])


@pytest.mark.realfaces
def test_cache_records_points_and_sources_per_image(crop_files, tmp_path):
    paths, fives = crop_files
    points, sources = cached_dataset_landmarks(paths, fives, tmp_path / "cache", progress=False)
    assert points.shape == (len(paths), 68, 2) and points.dtype == np.float32
    assert sources.dtype == np.int8 and (sources == LandmarkSource.FIVE_POINT_BOX).all()
    np.testing.assert_array_equal(points[0], landmarks_for_image(paths[0], fives[0])[0])


@pytest.mark.realfaces
def test_cache_is_reused_for_the_same_list_without_recomputing(crop_files, tmp_path, monkeypatch):
    paths, fives = crop_files
    first = cached_dataset_landmarks(paths, fives, tmp_path, progress=False)
    [cache_file] = tmp_path.glob("landmarks68-*.npz")
    stamp = cache_file.stat().st_mtime_ns

    def no_extraction(*args, **kwargs):
        raise AssertionError("the cache should have been reused")

    monkeypatch.setattr(landmarks_cache, "_extract", no_extraction)
    second = cached_dataset_landmarks([str(p) for p in paths], fives, tmp_path, progress=False)
    np.testing.assert_array_equal(first[0], second[0])
    assert cache_file.stat().st_mtime_ns == stamp


@pytest.mark.realfaces
def test_a_different_list_gets_its_own_cache(crop_files, tmp_path):
    paths, fives = crop_files
    cached_dataset_landmarks(paths, fives, tmp_path, progress=False)
    points, _ = cached_dataset_landmarks(paths[:3], fives[:3], tmp_path, progress=False)
    assert len(points) == 3 and len(list(tmp_path.glob("landmarks68-*.npz"))) == 2


@pytest.mark.realfaces
def test_a_cache_that_belongs_to_another_list_is_refused_or_rebuilt(crop_files, tmp_path):
    paths, fives = crop_files
    cached_dataset_landmarks(paths[:3], fives[:3], tmp_path, progress=False)
    [other] = tmp_path.glob("landmarks68-*.npz")
    key = landmarks_cache.cache_key([str(p) for p in paths], fives)
    other.rename(landmarks_cache.cache_path(tmp_path, key))
    with pytest.raises(ValueError, match="on_mismatch='rebuild'"):
        cached_dataset_landmarks(paths, fives, tmp_path, progress=False)
    points, _ = cached_dataset_landmarks(paths, fives, tmp_path, progress=False, on_mismatch="rebuild")
    assert len(points) == len(paths)
    assert len(cached_dataset_landmarks(paths, fives, tmp_path, progress=False)[0]) == len(paths)


@pytest.mark.realfaces
def test_a_write_that_fails_midway_leaves_no_cache_file(crop_files, tmp_path, monkeypatch):
    paths, fives = crop_files

    def crash_midway(handle, **arrays):
        handle.write(b"PK\x03\x04 half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(landmarks_cache.np, "savez", crash_midway)
    with pytest.raises(KeyboardInterrupt):
        cached_dataset_landmarks(paths, fives, tmp_path / "cache", progress=False)
    assert list((tmp_path / "cache").iterdir()) == []


@pytest.mark.realfaces
def test_an_interrupted_extraction_leaves_nothing_and_restarts_cleanly(crop_files, tmp_path, monkeypatch):
    paths, fives = crop_files
    calls = []
    real = extract.landmarks_for_image

    def interrupted(image, five_points=None):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(image, five_points)

    monkeypatch.setattr(extract, "landmarks_for_image", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cached_dataset_landmarks(paths, fives, tmp_path / "cache", progress=False)
    assert not (tmp_path / "cache").exists() or list((tmp_path / "cache").iterdir()) == []
    monkeypatch.setattr(extract, "landmarks_for_image", real)
    points, _ = cached_dataset_landmarks(paths, fives, tmp_path / "cache", progress=False)
    assert np.isfinite(points).all()


@pytest.mark.realfaces
def test_parallel_workers_give_the_serial_result(crop_files, tmp_path):
    paths, fives = crop_files
    serial = cached_dataset_landmarks(paths, fives, tmp_path / "serial", workers=1, progress=False)
    parallel = cached_dataset_landmarks(paths, fives, tmp_path / "parallel", workers=2, progress=False)
    np.testing.assert_array_equal(serial[0], parallel[0])
    np.testing.assert_array_equal(serial[1], parallel[1])


@pytest.mark.realfaces
def test_images_inside_a_zip_give_the_same_points_as_files(crop_files, tmp_path):
    paths, fives = crop_files
    archive = tmp_path / "img_align_celeba.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in paths:
            zf.write(path, f"img_align_celeba/{path.name}")
    members = [f"img_align_celeba/{p.name}" for p in paths]
    from_zip = cached_dataset_landmarks((archive, members), fives, tmp_path / "z", progress=False)
    from_files = cached_dataset_landmarks(paths, fives, tmp_path / "f", progress=False)
    np.testing.assert_array_equal(from_zip[0], from_files[0])


@pytest.mark.realfaces
def test_without_five_points_a_faceless_image_is_recorded_not_raised(testdata, crop_files, tmp_path):
    paths, _ = crop_files
    dogs = tmp_path / "dogs.jpg"
    Image.open(testdata / "dogs.jpg").resize((225, 229)).save(dogs)
    points, sources = cached_dataset_landmarks([paths[0], dogs], None, tmp_path / "c", progress=False)
    assert sources.tolist() == [LandmarkSource.DETECTOR, NO_FACE]
    assert np.isfinite(points[0]).all() and np.isnan(points[1]).all()


def test_five_points_must_match_the_image_count(tmp_path):
    with pytest.raises(ValueError, match=r"\(2, 5, 2\)"):
        cached_dataset_landmarks(["a.jpg", "b.jpg"], np.zeros((3, 5, 2)), tmp_path, progress=False)


def test_an_unreadable_image_is_named_in_the_error(tmp_path):
    with pytest.raises(ValueError, match="missing.jpg"):
        cached_dataset_landmarks([tmp_path / "missing.jpg"], None, tmp_path, progress=False)


def test_the_package_names_the_public_entry_points_of_its_modules():
    assert dmmlib.landmarks.cached_dataset_landmarks is cached_dataset_landmarks
    assert dmmlib.landmarks.predict_landmarks is predict_landmarks
    assert dmmlib.landmarks.NoFaceFound is NoFaceFound
