"""Prediction on a user's photo: alignment, Eq. 5 with the run's thresholds, clear errors for bad uploads."""

from __future__ import annotations

import io

import numpy as np
import pytest
import skimage.data
import torch
from PIL import Image

import dmmlib.landmarks.extract  # noqa: F401  (landmarks.extract below)
from dmmlib import align, landmarks, predict
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


# --- photos as people take them ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def face_photo():
    path = paths.shared_testdata() / "Tom_Cruise_avp_2014_4.jpg"
    if not path.is_file():
        pytest.skip(f"real test photos not found at {path.parent}")
    return path


@pytest.fixture(scope="module")
def upright(face_photo):
    """The photo as stored (upright, 565 x 800), aligned: the reference the other copies must match."""
    return align.align_face_with_landmarks(predict.load_photo(face_photo))


def crop_distance(a: align.AlignedFace, b: align.AlignedFace) -> float:
    """Mean distance (px of the 178 x 218 crop) between two alignments' 68 points."""
    return float(np.linalg.norm(a.points - b.points, axis=1).mean())


@pytest.mark.realfaces
def test_a_photo_stored_sideways_with_an_exif_orientation_tag_aligns_like_the_upright_one(face_photo, upright, tmp_path):
    with Image.open(face_photo) as image:
        sideways = image.transpose(Image.Transpose.ROTATE_90)  # the pixels as a phone held sideways stores them
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: "rotate 90 degrees clockwise to view"
    sideways.save(tmp_path / "sideways.jpg", quality=95, exif=exif)
    pixels = predict.load_photo(tmp_path / "sideways.jpg")
    assert pixels.shape == (800, 565, 3), "shown upright, as a photo viewer shows it"
    assert crop_distance(align.align_face_with_landmarks(pixels), upright) < 1.5


@pytest.mark.realfaces
def test_a_16_bit_png_is_scaled_to_8_bits_not_clipped_and_aligns(face_photo, upright, tmp_path):
    with Image.open(face_photo) as image:
        grey = np.asarray(image.convert("L"))
    Image.fromarray(grey.astype(np.uint16) * 257).save(tmp_path / "deep.png")
    with Image.open(tmp_path / "deep.png") as saved:
        assert saved.mode == "I;16"
    pixels = predict.load_photo(tmp_path / "deep.png")
    np.testing.assert_array_equal(pixels[..., 0], grey)  # 65535 -> 255, not everything above 255 -> 255
    assert crop_distance(align.align_face_with_landmarks(pixels), upright) < 2.0


@pytest.mark.realfaces
def test_a_large_photo_is_searched_on_a_reduced_copy_and_aligned_from_the_original(face_photo, upright, tmp_path,
                                                                                   monkeypatch):  # fmt: skip
    with Image.open(face_photo) as image:
        image.resize((565 * 4, 800 * 4), Image.Resampling.BICUBIC).save(tmp_path / "large.jpg", quality=92)
    searched = []
    detect = landmarks.extract.detect_faces
    monkeypatch.setattr(landmarks.extract, "detect_faces",
                        lambda image, upsample=0: searched.append(np.shape(image)) or detect(image, upsample))
    aligned = align.align_face_with_landmarks(predict.load_photo(tmp_path / "large.jpg"))
    assert searched and all(max(shape[:2]) <= landmarks.extract.DETECT_MAX_SIDE for shape in searched)
    assert crop_distance(aligned, upright) < 2.0
    assert box_iou(np.array(aligned.source_box) / 4, upright.source_box) > 0.6, "the box is in the original's pixels"


def box_iou(a, b) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(width, 0) * max(height, 0)
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_a_heic_photo_is_refused_naming_the_file_and_the_formats_that_work(tmp_path):
    heic = tmp_path / "IMG_0001.HEIC"
    heic.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200))  # an iPhone photo's start
    with pytest.raises(ValueError, match=r"IMG_0001.HEIC: not a readable image .*Readable formats: JPEG, PNG.*"
                                         r"HEIC/HEIF photos .* are not supported: PIL cannot open them"):  # fmt: skip
        predict.load_photo(heic)


def test_an_uploaded_heic_photo_is_recognised_by_its_bytes():
    with pytest.raises(ValueError, match=r"not an image PIL can read .*HEIC/HEIF photos .* are not supported"):
        predict.load_photo(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200))


def test_transparent_pixels_lie_over_white():
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[:2, :, :] = (10, 20, 30, 255)  # top half opaque, bottom half fully transparent black
    pixels = predict.load_photo(Image.fromarray(rgba, "RGBA"))
    assert (pixels[:2] == (10, 20, 30)).all() and (pixels[2:] == 255).all()


@pytest.mark.parametrize("mode", ["P", "CMYK", "1", "LA", "L"])
def test_palette_cmyk_one_bit_and_grey_images_become_8_bit_rgb(mode):
    source = Image.fromarray(skimage.data.astronaut()[::8, ::8])
    image = source.convert(mode)
    pixels = predict.load_photo(image)
    assert pixels.dtype == np.uint8 and pixels.shape == (64, 64, 3)
    np.testing.assert_array_equal(pixels, np.asarray(image.convert("RGB")))
